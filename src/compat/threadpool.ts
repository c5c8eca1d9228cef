/**
 * Christopher Arndt's `threadpool` on fastpool: work requests go in with
 * {@linkcode ThreadPool.putRequest}, and {@linkcode ThreadPool.poll} or
 * {@linkcode ThreadPool.wait} hands each result to the request's callback on
 * the main thread. It is built on `Pool`: the `ThreadPool` keeps the request
 * queue and the result queue, and the pool's workers run the requests.
 *
 * | threadpool | fastpool |
 * |---|---|
 * | `ThreadPool(num_workers, q_size, resq_size)` | `new ThreadPool(numWorkers, { qSize, resqSize })` |
 * | `WorkRequest(callable_, args, kwds, requestID, callback, exc_callback)` | `new WorkRequest(callable, { args, requestID, callback, excCallback })` |
 * | `makeRequests(callable_, args_list, callback, exc_callback)` | `makeRequests(callable, argsList, callback, excCallback)` |
 * | `pool.putRequest(request)` | `pool.putRequest(request)` |
 * | `pool.poll(block=False)` | `await pool.poll(block = false)` |
 * | `pool.wait()` | `await pool.wait()` |
 * | `pool.createWorkers(n)` | `pool.createWorkers(n)` |
 * | `pool.dismissWorkers(n, do_join)` | `pool.dismissWorkers(n)`, `await pool.dismissWorkers(n, true)` |
 * | `pool.joinAllDismissedWorkers()` | `await pool.joinAllDismissedWorkers()` |
 * | `len(pool.workers)`, `len(pool.dismissedWorkers)` | `pool.workers`, `pool.dismissedWorkers` |
 * | `NoResultsPending`, `NoWorkersAvailable` | `NoResultsPending`, `NoWorkersAvailable` |
 *
 * Differences, in TypeScript idiom: a callable is any fastpool task (an
 * inline function, a `task()` reference, or an export name of `module`), and
 * there are no keyword arguments; `putRequest` never blocks (a full queue
 * throws `QueueFullError`, like `put(block=False)`); the pool never keeps a
 * program alive once idle, as the original's daemon threads; `shutdown()`
 * (or `await using`) ends it early.
 *
 * @example Usage
 * ```ts
 * import { makeRequests, ThreadPool, type WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const results = new Map<unknown, unknown>();
 * await using pool = new ThreadPool(2);
 * const square = (n: number) => n * n;
 * for (const request of makeRequests(square, [1, 2, 3], (req: WorkRequest, result: unknown) => {
 *   results.set(req.args[0], result);
 * })) {
 *   pool.putRequest(request);
 * }
 * await pool.wait();
 * assert.deepEqual([...results].sort(), [[1, 1], [2, 4], [3, 9]]);
 * ```
 *
 * @module
 */

import { Deque } from "../deque.ts";
import { PoolClosedError, QueueFullError } from "../errors.ts";
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkOptionsObject,
  checkTimeout,
  describe,
} from "../_checks.ts";
import { Pool } from "../pool/pool.ts";
import { renameJob } from "../pool/own_errors.ts";
import type { Clock } from "../timers/clock.ts";
import { type AnyFunction, isTaskRef, type TaskRef } from "../task.ts";
import type { RunResult, TaskArgs, TaskFunction } from "../pool/types.ts";
import { checkOptionNames } from "../_option_names.ts";

export {
  /**
   * Thrown by {@linkcode ThreadPool.putRequest} once the pool is shut down.
   *
   * @example Usage
   * ```ts
   * import { PoolClosedError, ThreadPool, WorkRequest } from "@fastpool/fastpool/threadpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new ThreadPool(0);
   * await pool.shutdown();
   * assert.throws(() => pool.putRequest(new WorkRequest(() => 1)), PoolClosedError);
   * ```
   */
  PoolClosedError,
  /**
   * Thrown by {@linkcode ThreadPool.putRequest} when `qSize` requests already
   * wait for a worker, as the original's `put(block=False)` raises `Queue.Full`.
   *
   * @example Usage
   * ```ts
   * import { QueueFullError, ThreadPool, WorkRequest } from "@fastpool/fastpool/threadpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new ThreadPool(0, { qSize: 1 });
   * pool.putRequest(new WorkRequest(() => 1));
   * assert.throws(() => pool.putRequest(new WorkRequest(() => 2)), QueueFullError);
   * ```
   */
  QueueFullError,
};

/**
 * What a request runs: an inline function, a `task()` reference, or an export name of the pool's `module`.
 *
 * @example Usage
 * ```ts
 * import { task } from "@fastpool/fastpool";
 * import { type Callable, WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const callables: Callable[] = [
 *   (n: number) => n * 2,
 *   task("https://example.com/tasks.ts", "double"),
 *   "double",
 * ];
 * const requests = callables.map((callable) => new WorkRequest(callable, { args: [21] }));
 * assert.deepEqual(requests.map((request) => request.callable), callables);
 * ```
 */
export type Callable = AnyFunction | TaskRef | string;

/**
 * The arguments a request's callable takes: checked against a function or a
 * `task()` reference, anything for an export name.
 *
 * @example Usage
 * ```ts
 * import { type RequestArgs, WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const add = (a: number, b: number) => a + b;
 * const args: RequestArgs<typeof add> = [1, 2]; // ["1", "2"] would not type-check
 * assert.deepEqual(new WorkRequest(add, { args }).args, [1, 2]);
 * ```
 */
export type RequestArgs<C> = C extends string ? readonly unknown[]
  : Readonly<TaskArgs<TaskFunction<Record<never, never>, C>>>;

/**
 * What a request's callable gives its callback: its result (a generator's
 * values as an array), or `unknown` for an export name or any callable.
 *
 * @example Usage
 * ```ts
 * import type { RequestResult } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const square = (n: number) => n * n;
 * const result: RequestResult<typeof square> = 4; // a number
 * assert.equal(result, 4);
 * ```
 */
export type RequestResult<C> = Callable extends C ? unknown
  : C extends string ? unknown
  : RunResult<TaskFunction<Record<never, never>, C>>;

/**
 * Called in `poll()` with a request and its result, typed by the request's
 * callable `C` (a callback for one kind of request still fits any request's
 * field, as a method would).
 *
 * @example Usage
 * ```ts
 * import { type RequestCallback, ThreadPool, WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const results: unknown[] = [];
 * const callback: RequestCallback = (request, result) => {
 *   results.push([request.requestID, result]);
 * };
 * await using pool = new ThreadPool(1);
 * pool.putRequest(new WorkRequest((n: number) => n * 2, { args: [21], requestID: "a", callback }));
 * await pool.wait();
 * assert.deepEqual(results, [["a", 42]]);
 * ```
 */
export type RequestCallback<C extends Callable = Callable> = {
  call(request: WorkRequest<C>, result: RequestResult<C>): void;
}["call"];

/**
 * Called in `poll()` with a request and the error its job threw (typed by
 * the request's callable `C`, as {@linkcode RequestCallback}). The pool's
 * own errors name the request by its `requestID` ("Worker ThreadPool-1 died
 * while running request 7"), their `jobId` field the inner pool's job.
 *
 * @example Usage
 * ```ts
 * import { type ExceptionCallback, ThreadPool, WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const errors: unknown[] = [];
 * const excCallback: ExceptionCallback = (request, error) => {
 *   errors.push([request.exception, error instanceof RangeError]);
 * };
 * await using pool = new ThreadPool(1);
 * const fail = () => {
 *   throw new RangeError("out of range");
 * };
 * pool.putRequest(new WorkRequest(fail, { excCallback }));
 * await pool.wait();
 * assert.deepEqual(errors, [[true, true]]);
 * ```
 */
export type ExceptionCallback<C extends Callable = Callable> = {
  call(request: WorkRequest<C>, error: unknown): void;
}["call"];

/**
 * Thrown (as a rejection) by {@linkcode ThreadPool.poll} when no request is
 * pending: every request put has been processed.
 *
 * @example Usage
 * ```ts
 * import { NoResultsPending, ThreadPool } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ThreadPool(0);
 * await assert.rejects(pool.poll(), NoResultsPending);
 * ```
 */
export class NoResultsPending extends Error {
  /** Creates the error. */
  constructor(
    message = "Cannot poll for results: no requests are pending",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "NoResultsPending";
  }
}

/**
 * Thrown (as a rejection) by a blocking {@linkcode ThreadPool.poll} (and so by
 * {@linkcode ThreadPool.wait}) when requests are pending but the pool has no
 * workers to process them.
 *
 * @example Usage
 * ```ts
 * import { NoWorkersAvailable, ThreadPool, WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ThreadPool(0);
 * pool.putRequest(new WorkRequest(() => 1));
 * await assert.rejects(pool.wait(), NoWorkersAvailable);
 * ```
 */
export class NoWorkersAvailable extends Error {
  /** Creates the error. */
  constructor(
    message = "Cannot wait for results: requests are pending but the pool has no workers",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "NoWorkersAvailable";
  }
}

/**
 * Options of {@linkcode WorkRequest}.
 *
 * @example Usage
 * ```ts
 * import { WorkRequest, type WorkRequestOptions } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const options: WorkRequestOptions = { args: [1, 2], requestID: "sum", excCallback: null };
 * const request = new WorkRequest((a: number, b: number) => a + b, options);
 * assert.deepEqual(request.args, [1, 2]);
 * assert.equal(request.requestID, "sum");
 * assert.equal(request.callback, null);
 * assert.equal(request.excCallback, null); // errors go to `callback`
 * ```
 */
export interface WorkRequestOptions<C extends Callable = Callable> {
  /**
   * The arguments the callable is called with.
   *
   * @default {[]}
   */
  args?: RequestArgs<C> | undefined;
  /**
   * Identifies the request among the pending ones (any value, compared as a
   * `Map` key).
   *
   * Without one, the request gets the next number of a counter shared by all
   * requests (1, 2, 3, …) that skips every number then in use as the
   * `requestID` of a request pending in any {@linkcode ThreadPool} (put and
   * not yet handled by `poll()`), so it never collides with a number you chose
   * for a request already put. The number is taken when the request is
   * created: a number you give a request created afterwards is not avoided.
   *
   * @default {the next number not in use}
   */
  requestID?: unknown;
  /**
   * Receives the result in `poll()`; also the error when `excCallback` is
   * `null`.
   */
  callback?: RequestCallback<C> | null | undefined;
  /**
   * Receives the error in `poll()` when the job throws; `null` sends it to
   * `callback` instead.
   *
   * @default {a handler that logs the request and error with console.error}
   */
  excCallback?: ExceptionCallback<C> | null | undefined;
}

let nextRequestId = 1;

/**
 * How many pools hold a pending request under each numeric `requestID`, for
 * automatic ids to skip: a user may have put request 3 while the counter is
 * at 2. Only numbers are kept, since only they can equal an automatic id.
 */
const pendingNumbers = new Map<number, number>();

/** One pool no longer holds a pending request under `id`. */
function releaseNumber(id: unknown): void {
  if (typeof id !== "number") return;
  const count = pendingNumbers.get(id) ?? 0;
  if (count > 1) pendingNumbers.set(id, count - 1);
  else pendingNumbers.delete(id);
}

/** The next automatic `requestID`: the counter's next number not pending anywhere. */
function automaticRequestId(): number {
  while (pendingNumbers.has(nextRequestId)) nextRequestId++;
  return nextRequestId++;
}

/**
 * One call to run in the pool, with the callbacks that receive its outcome.
 *
 * @example Usage
 * ```ts
 * import { WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const request = new WorkRequest((a: number, b: number) => a + b, { args: [1, 2], requestID: "sum" });
 * assert.equal(request.requestID, "sum");
 * assert.deepEqual(request.args, [1, 2]);
 * assert.equal(request.exception, false);
 * assert.equal(typeof new WorkRequest(() => 0).requestID, "number");
 * ```
 */
export class WorkRequest<C extends Callable = Callable> {
  /** What the request runs. */
  readonly callable: C;
  /** Its arguments. */
  readonly args: RequestArgs<C>;
  /**
   * Its id among the pending requests: the one given, or else a number not in
   * use by a pending request when it was created (see
   * {@linkcode WorkRequestOptions.requestID}). A pool reads it once, in
   * `putRequest()`: changed afterwards (it is `readonly` in the types only),
   * the request stays pending under the id it was put with, and its
   * callbacks see the new value.
   */
  readonly requestID: unknown;
  /** Receives the result (and the error when `excCallback` is `null`). */
  callback: RequestCallback<C> | null;
  /** Receives the error when the job throws. */
  excCallback: ExceptionCallback<C> | null;
  /**
   * Set once the request's job has thrown. A failed request cannot be put
   * again. `poll()` routes each result by how that run ended, not by this
   * field, which the user (or another pool running the same request) may
   * change.
   */
  exception = false;

  /**
   * Creates a request.
   *
   * @param callable An inline function, a `task()` reference, or an export name of the pool's `module`.
   * @param options `args`, `requestID`, `callback` and `excCallback`.
   * @throws {TypeError} If `callable`, `args` or a callback has the wrong type.
   */
  constructor(callable: C, options: WorkRequestOptions<C> = {}) {
    const kind = typeof callable;
    if (kind !== "function" && kind !== "string" && !isTaskRef(callable)) {
      throw new TypeError(
        `Cannot create request: "callable" must be a function, a task() reference or an export name, received ${
          describe(callable)
        }`,
      );
    }
    checkOptionsObject(options, "create request");
    checkOptionNames(options, ["args", "requestID", "callback", "excCallback"], "create request");
    const { args = [] as readonly unknown[], callback = null } = options;
    if (!Array.isArray(args)) {
      throw new TypeError(
        `Cannot create request: "args" must be an array, received ${describe(args)}`,
      );
    }
    const excCallback = options.excCallback === undefined ? logException : options.excCallback;
    checkFunction(callback, "callback", "create request", true);
    checkFunction(excCallback, "excCallback", "create request", true);
    this.callable = callable;
    this.args = args as readonly unknown[] as RequestArgs<C>;
    this.requestID = options.requestID === undefined ? automaticRequestId() : options.requestID;
    this.callback = callback;
    this.excCallback = excCallback;
  }

  /** `<WorkRequest id=… args=… exception=…>`, as in the original. */
  toString(): string {
    let args: string;
    try {
      args = JSON.stringify(this.args);
    } catch {
      args = `[${this.args.length} arguments]`;
    }
    return `<WorkRequest id=${idText(this.requestID)} args=${args} exception=${this.exception}>`;
  }
}

/**
 * One item of `makeRequests()`'s `argsList`: all the arguments as an array,
 * or the first argument alone when it is not an array (an array item is
 * always spread).
 *
 * @example Usage
 * ```ts
 * import { makeRequests, type RequestItem } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const add = (a: number, b = 0) => a + b;
 * const items: RequestItem<typeof add>[] = [[1, 2], 3]; // "3" would not type-check
 * assert.deepEqual(makeRequests(add, items).map((request) => request.args), [[1, 2], [3]]);
 * ```
 */
export type RequestItem<C> =
  | RequestArgs<C>
  // One bare argument only for a callable that needs at most one.
  | (RequestArgs<C> extends readonly [unknown, unknown, ...unknown[]] ? never
    : Exclude<RequestArgs<C>[0], readonly unknown[]>);

/**
 * Makes one request per item of `argsList`, all for the same callable: an
 * array item is spread as the arguments, anything else is the one argument
 * (so pass `[[1, 2]]` for one array argument).
 *
 * @param callable What every request runs.
 * @param argsList One item per request.
 * @param callback Receives each result in `poll()`.
 * @param excCallback Receives each error; by default it is logged, and `null`
 * sends errors to `callback`.
 * @returns The requests, in the order of `argsList`.
 * @throws {TypeError} If `argsList` is not iterable or an argument has the wrong type.
 *
 * @example Usage
 * ```ts
 * import { makeRequests } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const requests = makeRequests((a: number, b = 0) => a + b, [[1, 2], 3]);
 * assert.deepEqual(requests.map((request) => request.args), [[1, 2], [3]]);
 * ```
 */
export function makeRequests<C extends Callable>(
  callable: C,
  argsList: Iterable<RequestItem<C>>,
  callback: RequestCallback<C> | null = null,
  excCallback?: ExceptionCallback<C> | null,
): WorkRequest<C>[] {
  if (
    argsList === null ||
    typeof (argsList as Iterable<unknown>)?.[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `Cannot make requests: "argsList" must be iterable, received ${describe(argsList)}`,
    );
  }
  const requests: WorkRequest<C>[] = [];
  for (const item of argsList) {
    const args: readonly unknown[] = Array.isArray(item) ? item : [item];
    requests.push(
      new WorkRequest(
        callable,
        (excCallback === undefined
          ? { args, callback }
          : { args, callback, excCallback }) as WorkRequestOptions<C>,
      ),
    );
  }
  return requests;
}

/**
 * Options of {@linkcode ThreadPool}.
 *
 * @example Usage
 * ```ts
 * import { ThreadPool, type ThreadPoolOptions, WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * const options: ThreadPoolOptions = { qSize: 2, idleTimeout: 100 };
 * const results: unknown[] = [];
 * await using pool = new ThreadPool(1, options);
 * for (const n of [1, 2]) {
 *   pool.putRequest(new WorkRequest((x: number) => x + 1, {
 *     args: [n],
 *     callback: (_request, result) => results.push(result),
 *   }));
 * }
 * await pool.wait();
 * assert.deepEqual(results.sort(), [2, 3]);
 * ```
 */
export interface ThreadPoolOptions {
  /**
   * Most requests waiting for a worker; `putRequest` beyond it throws
   * `QueueFullError`. `0`: unbounded.
   *
   * @default {0}
   */
  qSize?: number | undefined;
  /**
   * Most results waiting for `poll()`, besides one per worker: while that
   * many wait, no new request starts (as the original's workers block on a
   * full result queue). `0`: unbounded.
   *
   * @default {0}
   */
  resqSize?: number | undefined;
  /** A task module every worker imports, so callables may be its export names. */
  module?: string | URL | undefined;
  /**
   * Milliseconds an idle worker lives before it exits (it starts again on
   * demand).
   *
   * @default {1000}
   */
  idleTimeout?: number | undefined;
  /** The clock for idle timeouts (tests pass a fake one). */
  clock?: Clock | undefined;
}

/**
 * One put of a request. Its `requestID` is read once, when it is put: the
 * field is writable at run time (`readonly` only in the types), and the pool
 * must find the entry again under the id it filed it under.
 */
interface Entry {
  readonly request: WorkRequest;
  readonly id: unknown;
}

/**
 * One `dismissWorkers()` call: how many workers it dismissed, and the
 * requests those workers were running (each finishes, then its worker exits).
 */
interface Dismissal {
  readonly workers: number;
  readonly requests: readonly Entry[];
}

/** A finished request: its entry, and its result or, if `failed`, its error. */
interface Outcome {
  readonly entry: Entry;
  readonly value: unknown;
  readonly failed: boolean;
}

/**
 * A pool of workers for {@linkcode WorkRequest}s: put requests in, then
 * `poll()` or `wait()` to have their results handed to their callbacks.
 *
 * Requests wait in the pool's request queue and run one per worker, in the
 * order they were put: a running request has its worker to itself, as in
 * the original each has a thread, so two requests put together run at once
 * on two workers, and one may wait for another (on a `Semaphore`, say).
 * Results wait in its result queue, in the order they ended, until `poll()`
 * takes them. A dismissed worker finishes the request it is running, then
 * exits; until then it runs beside the pool's workers, so workers created
 * meanwhile take queued requests at once.
 *
 * @example Usage
 * ```ts
 * import { ThreadPool, WorkRequest } from "@fastpool/fastpool/threadpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new ThreadPool(0);
 * pool.putRequest(new WorkRequest(() => "done"));
 * await pool.poll(); // no worker, nothing done: it returns
 * assert.equal(pool.workers, 0);
 * ```
 */
export class ThreadPool implements AsyncDisposable {
  readonly #pool: Pool;
  readonly #qSize: number;
  readonly #resqSize: number;
  /** Requests put and not yet handed to a worker. */
  readonly #queue = new Deque<Entry>();
  /** Results not yet taken by `poll()`. */
  readonly #results = new Deque<Outcome>();
  /** Requests put and not yet processed by `poll()`, by the id they were put under. */
  readonly #pending = new Map<unknown, Entry>();
  /** Shut down: the ids still pending were taken out of `pendingNumbers`. */
  #numbersReleased = false;
  /**
   * Passed to every job and never aborted: with one job per worker
   * (`concurrentTasksPerWorker: 1`), a job with a signal is exclusive, sent
   * only to a worker with nothing else in flight. Without it, the pool
   * batches quick jobs, several to one worker, where they run one after
   * the other while another worker idles (and a request waiting for the
   * one queued behind it never ends). It costs nothing measurable: 2,000
   * tiny requests through a `ThreadPool(2)` took 9–16 µs each, against
   * 19–21 µs batched (Deno 2.9.6, Bun 1.4.4, 2 CPUs), a lone job taking
   * the worker's shared lane.
   */
  readonly #alone = new AbortController().signal;
  /** Workers, dismissed ones not counted. */
  #workers: number;
  /** Requests handed to one of the `#workers` whose result has not come back, oldest first. */
  readonly #running = new Set<Entry>();
  /**
   * Requests still running on dismissed workers: each keeps its place in the
   * inner pool (sized `#workers` plus these) until it ends, and takes none of
   * the workers'.
   */
  readonly #leaving = new Set<Entry>();
  /** Dismissals without a join, not yet joined by `joinAllDismissedWorkers()`. */
  #unjoined: Dismissal[] = [];
  #closed = false;
  #listeners: (() => void)[] = [];

  /**
   * Creates a pool of `numWorkers` workers. Workers start when requests need
   * them and exit once idle, so the pool never keeps a program alive by
   * itself.
   *
   * @param numWorkers How many requests may run at once; 0 is allowed (see
   * {@linkcode ThreadPool.createWorkers}).
   * @param options `qSize`, `resqSize`, `module`, `idleTimeout`, `clock`.
   * @throws {TypeError | RangeError} If an argument has the wrong type or range.
   */
  constructor(numWorkers: number, options: ThreadPoolOptions = {}) {
    checkInteger(numWorkers, "numWorkers", "create thread pool", 0);
    checkOptionsObject(options, "create thread pool");
    checkOptionNames(
      options,
      ["qSize", "resqSize", "module", "idleTimeout", "clock"],
      "create thread pool",
    );
    const { qSize = 0, resqSize = 0, module, idleTimeout, clock } = options;
    checkInteger(qSize, "qSize", "create thread pool", 0);
    checkInteger(resqSize, "resqSize", "create thread pool", 0);
    this.#qSize = qSize;
    this.#resqSize = resqSize;
    this.#workers = numWorkers;
    try {
      this.#pool = new Pool({
        maxChildren: Math.max(1, numWorkers),
        concurrentTasksPerWorker: 1, // what makes `#alone` keep a worker to one request
        ...(module === undefined ? {} : { module }),
        ...(idleTimeout === undefined ? {} : { idleTimeout }),
        ...(clock === undefined ? {} : { clock }),
      });
    } catch (error) {
      // The options it hands on are checked there: the error names this call, not Pool's.
      if (error instanceof Error && error.message.startsWith("Cannot create pool:")) {
        error.message = `Cannot create thread pool:${
          error.message.slice("Cannot create pool:".length)
        }`;
      }
      throw error;
    }
  }

  /** How many workers the pool has (dismissed ones not counted). */
  get workers(): number {
    return this.#workers;
  }

  /** How many workers were dismissed without joining and not yet joined by {@linkcode ThreadPool.joinAllDismissedWorkers}. */
  get dismissedWorkers(): number {
    let workers = 0;
    for (const dismissal of this.#unjoined) workers += dismissal.workers;
    return workers;
  }

  /**
   * Adds `numWorkers` workers; queued requests start on them.
   *
   * @throws {TypeError | RangeError} If `numWorkers` is not an integer `>= 0`.
   * @throws {PoolClosedError} After `shutdown()`.
   */
  createWorkers(numWorkers: number): void {
    checkInteger(numWorkers, "numWorkers", "create workers", 0);
    if (this.#closed) {
      throw new PoolClosedError("Cannot create workers: the thread pool is shut down");
    }
    this.#workers += numWorkers;
    this.#resize();
    this.#pump();
    this.#notify();
  }

  /**
   * Dismisses up to `numWorkers` workers: idle ones first, then busy ones,
   * each of which finishes the request it is running, then exits. Requests
   * still queued wait for the remaining workers (or ones created later,
   * which take them at once).
   *
   * @param doJoin `true`: return a promise that resolves once the dismissed
   * workers are done. `false`: count them in `dismissedWorkers`, for
   * {@linkcode ThreadPool.joinAllDismissedWorkers}.
   * @throws {TypeError | RangeError} If `numWorkers` is not an integer `>= 0`.
   */
  dismissWorkers(numWorkers: number, doJoin?: false): void;
  /** Dismisses up to `numWorkers` workers and resolves once they are done. */
  dismissWorkers(numWorkers: number, doJoin: true): Promise<void>;
  /** Dismisses up to `numWorkers` workers; with `doJoin`, resolves once they are done. */
  dismissWorkers(numWorkers: number, doJoin?: boolean): Promise<void> | void;
  dismissWorkers(numWorkers: number, doJoin = false): Promise<void> | void {
    checkInteger(numWorkers, "numWorkers", "dismiss workers", 0);
    checkBoolean(doJoin, "doJoin", "dismiss workers");
    const count = Math.min(numWorkers, this.#workers);
    // Idle workers leave at once; each busy one takes a running request along.
    const busy = Math.max(0, count - (this.#workers - this.#running.size));
    const requests: Entry[] = [];
    for (const entry of this.#running) {
      if (requests.length === busy) break;
      requests.push(entry);
    }
    for (const entry of requests) {
      this.#running.delete(entry);
      this.#leaving.add(entry);
    }
    this.#workers -= count;
    this.#resize();
    this.#notify();
    if (doJoin) return this.#joined(requests);
    this.#unjoined.push({ workers: count, requests });
  }

  /**
   * Resolves once every dismissed worker has finished its last request, and
   * empties `dismissedWorkers`.
   */
  async joinAllDismissedWorkers(): Promise<void> {
    const dismissals = [...this.#unjoined]; // those made by now: later ones wait for a later join
    await this.#joined(dismissals.flatMap((dismissal) => dismissal.requests));
    this.#unjoined = this.#unjoined.filter((dismissal) => !dismissals.includes(dismissal));
  }

  /**
   * Queues a request; it runs when a worker is free.
   *
   * @throws {TypeError} If `request` is not a {@linkcode WorkRequest}, it
   * failed before (make a new one), or its `callback` or `excCallback` was
   * set to something other than a function or `null`.
   * @throws {RangeError} If a pending request has the same `requestID`.
   * @throws {QueueFullError} If `qSize` requests already wait for a worker.
   * @throws {PoolClosedError} After `shutdown()`.
   */
  putRequest(request: WorkRequest): void {
    if (!(request instanceof WorkRequest)) {
      throw new TypeError(
        `Cannot put request: "request" must be a WorkRequest, received ${describe(request)}`,
      );
    }
    if (request.exception) {
      throw new TypeError(
        `Cannot put request: "request" (requestID ${
          describe(request.requestID)
        }) failed before; make a new one`,
      );
    }
    // Writable fields, checked at creation: one set since would fail in poll(), unnamed.
    checkFunction(request.callback, "callback", "put request", true);
    checkFunction(request.excCallback, "excCallback", "put request", true);
    const id = request.requestID;
    if (this.#pending.has(id)) {
      throw new RangeError(
        `Cannot put request: a request with requestID ${describe(id)} is already pending`,
      );
    }
    if (this.#closed) {
      throw new PoolClosedError(
        "Cannot put request: the thread pool is shut down",
      );
    }
    if (this.#qSize > 0 && this.#queue.length >= this.#qSize) {
      const full = new QueueFullError(this.#qSize);
      full.message = `Cannot put request: queue is full (qSize is ${this.#qSize})`;
      throw full;
    }
    const entry: Entry = { request, id };
    this.#addPending(entry);
    this.#queue.push(entry);
    this.#pump();
  }

  /**
   * Hands every finished result to its request's callback (or the error to
   * `excCallback`), on this thread, in the order they finished.
   *
   * As in the original, it checks before each result: no request pending
   * rejects with {@linkcode NoResultsPending} (also right after the last one
   * was handled, which ends a polling loop), and with `block`, no worker left
   * rejects with {@linkcode NoWorkersAvailable}.
   *
   * @param block `false`: handle what has finished, then resolve. `true`:
   * wait for results until none is pending (so it always rejects, with one of
   * the two errors).
   * @throws {Error} What a callback throws; its request is no longer pending.
   */
  async poll(block = false): Promise<void> {
    checkBoolean(block, "block", "poll");
    for (;;) {
      if (this.#pending.size === 0) throw new NoResultsPending();
      if (block && this.#workers === 0) throw new NoWorkersAvailable();
      const outcome = this.#results.shift();
      if (outcome === undefined) {
        if (!block) return;
        await this.#changed();
        continue;
      }
      const { entry: { request }, value, failed } = outcome;
      this.#deletePending(outcome.entry);
      this.#pump();
      // Routed by how this run ended, not by `request.exception`: the user may
      // reset that, or have the request pending in another pool as well.
      // Writable fields: one set to a non-function since putRequest() is named here.
      if (failed && request.excCallback) {
        checkFunction(request.excCallback, "excCallback", "hand error to request", true);
        request.excCallback(request, value);
      } else if (request.callback) {
        checkFunction(request.callback, "callback", "hand result to request", true);
        request.callback(request, value);
      }
    }
  }

  /**
   * Handles results as they arrive (`poll(true)`) until no request is pending.
   *
   * @throws {NoWorkersAvailable} If requests are pending but no worker is left.
   */
  async wait(): Promise<void> {
    try {
      await this.poll(true);
    } catch (error) {
      if (!(error instanceof NoResultsPending)) throw error;
    }
  }

  /**
   * Ends the pool early: requests not yet started are dropped (no longer
   * pending), running ones finish (their results can still be polled), then
   * the workers exit. `putRequest` throws afterwards.
   *
   * @param timeout Most ms to wait for running requests (a request that
   * never ends would otherwise hold it, and the program, for ever, where
   * Python's daemon threads die with the program). Past it their workers
   * are stopped: those requests fail with `PoolClosedError`, for
   * `excCallback` at the next `poll()`. On Deno 2.9.6 a request stuck in
   * a synchronous endless loop keeps its thread, and the program, running
   * (the runtime cannot stop it): such a request should `await` now and
   * then.
   * @returns `false` if requests were still running at the timeout (one a
   * worker was handed but had not started, its worker still starting, is
   * dropped as the queued ones are).
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import { ThreadPool, WorkRequest } from "@fastpool/fastpool/threadpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new ThreadPool(1);
   * const running = new Semaphore(0);
   * const errors: string[] = [];
   * pool.putRequest(
   *   new WorkRequest((running: Semaphore) => {
   *     running.release();
   *     return new Promise(() => {}); // never ends
   *   }, {
   *     args: [running],
   *     excCallback: (_request, error) => errors.push((error as Error).name),
   *   }),
   * );
   * await running.acquire();
   * assert.equal(await pool.shutdown(10), false);
   * await pool.wait();
   * assert.deepEqual(errors, ["PoolClosedError"]);
   * ```
   */
  async shutdown(timeout?: number): Promise<boolean> {
    if (timeout !== undefined) checkTimeout(timeout, "timeout", "shut down thread pool");
    this.#closed = true;
    for (let entry = this.#queue.shift(); entry; entry = this.#queue.shift()) {
      this.#deletePending(entry);
    }
    let finished = await this.#pool.shutdown(timeout);
    if (!finished) {
      // Requests handed to the pool that no worker had started (one still in
      // its setup(), say) are cancelled, not failed: dropped, as the queued
      // ones. Only those that ran make it `false`.
      const failed = this.#pool.stats().jobs.failed;
      await this.#pool.terminate();
      finished = this.#pool.stats().jobs.failed === failed;
    }
    // Its results stay to poll, but it takes no request any more: their numbers need not be
    // skipped by automatic ids, and a pool dropped unpolled must leave nothing behind.
    // Once: a second shutdown() (an `await using` after an explicit one) released them
    // again, and another pool's pending request lost its claim to its number.
    if (!this.#numbersReleased) {
      for (const entry of this.#pending.values()) releaseNumber(entry.id);
      this.#numbersReleased = true;
    }
    this.#notify();
    return finished;
  }

  /** `await using pool = new ThreadPool(n)` shuts it down at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /**
   * Hands queued requests to the pool while a worker is free (and the result
   * queue has room): the pool never holds more requests than workers, with
   * the dismissed ones still running (see `#resize`), so a dismissed worker
   * leaves queued requests to the others, and each runs on a worker of its
   * own (see `#alone`), never queued behind another.
   */
  #pump(): void {
    const limit = this.#resqSize > 0 ? this.#resqSize + this.#workers : Infinity;
    while (
      this.#queue.length !== 0 && this.#running.size < this.#workers &&
      this.#running.size + this.#results.length < limit
    ) {
      const entry = this.#queue.shift()!;
      this.#running.add(entry);
      this.#run(entry.request).then(
        (value) => this.#finish(entry, value, false),
        (error) => this.#finish(entry, error, true),
      );
    }
  }

  /**
   * Runs `request` on the pool. What throws here (`args` that cannot be read,
   * a task the pool refuses) fails the request like an error of its
   * callable, as in the original, where the worker thread reads the args.
   */
  #run(request: WorkRequest): Promise<unknown> {
    const pool = this.#pool as unknown as {
      exec(task: Callable, args: unknown[], options: { signal: AbortSignal }): Promise<unknown>;
    };
    try {
      return pool.exec(request.callable, [...request.args], { signal: this.#alone });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #finish(entry: Entry, value: unknown, failed: boolean): void {
    if (!this.#running.delete(entry) && this.#leaving.delete(entry)) {
      this.#resize(); // its dismissed worker exits
    }
    if (failed && this.#closed && neverStarted(value)) {
      this.#deletePending(entry); // dropped by shutdown(), as the queued ones
      this.#notify();
      return;
    }
    if (failed) {
      entry.request.exception = true;
      // The pool's own errors name its job id, which the user never saw: name the request.
      renameJob(value, `request ${idText(entry.id)}`);
    }
    if (this.#pending.get(entry.id) === entry) {
      this.#results.push({ entry, value, failed });
    }
    this.#pump();
    this.#notify();
  }

  /** Makes `entry` pending; its id, if a number, is then skipped by automatic ids. */
  #addPending(entry: Entry): void {
    const id = entry.id;
    this.#pending.set(id, entry);
    if (typeof id === "number") pendingNumbers.set(id, (pendingNumbers.get(id) ?? 0) + 1);
  }

  /** Ends `entry`'s pending state, and frees its id for automatic ids. */
  #deletePending(entry: Entry): void {
    const id = entry.id;
    if (this.#pending.get(id) !== entry) return;
    this.#pending.delete(id);
    if (!this.#numbersReleased) releaseNumber(id);
  }

  /** Sizes the inner pool for the workers and the dismissed ones still running a request. */
  #resize(): void {
    this.#pool.resize(Math.max(1, this.#workers + this.#leaving.size));
  }

  /** Resolves once `requests`, run by dismissed workers, have all ended. */
  async #joined(requests: readonly Entry[]): Promise<void> {
    while (requests.some((entry) => this.#leaving.has(entry))) await this.#changed();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#listeners.push(resolve));
  }

  #notify(): void {
    const listeners = this.#listeners;
    if (listeners.length === 0) return;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}

/**
 * Whether `error` is the pool's cancellation of a job no worker started,
 * as `terminate()` words it (see `Pool.terminate`).
 */
function neverStarted(error: unknown): boolean {
  return error instanceof PoolClosedError && error.message.startsWith("Job cancelled: ");
}

/** The original's default `exc_callback`: print the error. */
function logException(request: WorkRequest, error: unknown): void {
  // deno-lint-ignore no-console
  console.error(`Exception in request ${idText(request.requestID)}:`, error);
}

/**
 * A `requestID` as text, as the original's `%s`: `String(id)`, or
 * {@linkcode describe} of it when that throws (a null-prototype object, a
 * `toString` that throws), so that showing an id never hides the error at hand.
 */
function idText(id: unknown): string {
  try {
    return String(id);
  } catch {
    return describe(id);
  }
}
