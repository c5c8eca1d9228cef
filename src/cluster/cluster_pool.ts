/**
 * `ClusterPool`: `Pool`'s API for named tasks, run by nodes on other
 * machines through BullMQ. Items are kept in batches (one per `map`, or per
 * run of `submit`s of one task and destination), cut into chunks sized from
 * measured run time, and each chunk is one BullMQ job. A chunk's result
 * ends its items here, once: results of a chunk that ran twice (after a
 * stalled node, or a Redis restart) find its items already ended.
 *
 * ```
 *  submit/map ─► batch ─► backlog ─cut─► chunk ─addBulk─► Redis ─► node
 *                                         ▲ sent, active        │
 *  done/failed/promises ◄── completed/failed event ◄────────────┘
 * ```
 *
 * This file is the API; the way of items through Redis is `_producer.ts`,
 * sending and Redis outages `_delivery.ts`.
 *
 * @module
 */

import type { Deque } from "../deque.ts";
import { PoolClosedError } from "../errors.ts";
import { checkBoolean, checkOptionsObject, checkTimeout, invalid } from "../_checks.ts";
import { checkOptionNames } from "../_option_names.ts";
import { systemClock, type TimerId } from "../timers/clock.ts";
import type {
  DoneTarget,
  JobId,
  MapItem,
  RunResult,
  ShutdownOptions,
  TaskArgs,
  TaskFunction,
  TaskName,
  TaskResult,
} from "../pool/types.ts";
import type { Semaphore } from "../sync/semaphore.ts";
import type { AnyFunction } from "../task.ts";
import {
  Batch,
  checkDone,
  checkExec,
  checkTask,
  type Deferred,
  type DoneSink,
  Sink,
} from "./_batch.ts";
import { ChunkProducer } from "./_producer.ts";
import { completedEntries, CompletedTaker } from "../pool/completed.ts";
import { abortWith } from "../pool/job.ts";
import { isAsyncOnly } from "../pool/arguments.ts";
import { SHUTDOWN_OPTION_NAMES } from "../pool/exec_checks.ts";
import { collector, fixItems, readItems, readItemsAsync } from "./_items.ts";
import { Results } from "./_results.ts";
import { ItemSizes } from "./_sizes.ts";
import { fixArgs, type JsonSize } from "./_wire.ts";
import {
  type ClusterExecOptions,
  type ClusterPoolOptions,
  resolveClusterOptions,
  type ResolvedClusterOptions,
} from "./options.ts";

/**
 * `Pool`'s API for a task module's named tasks, run by nodes (see
 * {@linkcode serve}) on any number of machines through BullMQ on Redis. A
 * `map` or a run of `submit`s travels in chunks sized from measured run time,
 * so a tiny item costs far less than a BullMQ job. Nothing connects until
 * the first submit; `shutdown()` (or `await using`) closes the connections.
 *
 * Execution is at least once (a chunk whose node died runs again on
 * another), accounting exactly once (each item ends once here: in `done`,
 * `failed`, its promise or its callback). Arguments and results are JSON-safe
 * values; anything else is a `TypeError` at submit time.
 *
 * `"error"` events (`CustomEvent`, `detail` a {@linkcode RedisUnavailableError})
 * report a Redis outage; an `"online"` event its end.
 *
 * @typeParam M The task module's type (`typeof import("./tasks.ts")`), so
 * names, arguments and results are type-checked as with `Pool`.
 *
 * @example An inline function is refused: a queue never carries code
 * ```ts
 * import { ClusterPool } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * type Tasks = { double(n: number): number };
 * await using pool = new ClusterPool<Tasks>({ connection: "redis://127.0.0.1:6379", queue: "jobs" });
 * // @ts-expect-error: only names of the task module's exports are tasks
 * assert.throws(() => pool.submit((n: number) => n * 2, 21), TypeError);
 * assert.throws(() => pool.submit("double", 10n as unknown as number), /not JSON-safe/);
 * assert.equal(pool.pending, 0); // nothing was queued, nothing connected
 * ```
 *
 * @example Usage (needs Redis and a node serving the queue)
 * ```ts ignore
 * import { ClusterPool } from "@fastpool/fastpool/cluster";
 *
 * await using pool = new ClusterPool<typeof import("./tasks.ts")>({
 *   connection: "redis://127.0.0.1:6379",
 *   queue: "tasks",
 * });
 * pool.map("fib", [20, 21, 22]);
 * for await (const result of pool.asCompleted()) console.log(result);
 * console.log(await pool.run("fib", 30));
 * ```
 */
export class ClusterPool<M extends object = Record<string, AnyFunction>> extends EventTarget
  implements AsyncDisposable {
  readonly #options: ResolvedClusterOptions;
  readonly #results: Results;
  readonly #producer: ChunkProducer;
  readonly #defaultSink: number;
  /** A shutdown timed out and dropped the items still pending. */
  #dropped = false;

  /**
   * Creates a cluster pool. It does not connect: the first submit does.
   *
   * @throws {TypeError | RangeError} If an option is missing, unknown, or has the wrong type or range.
   */
  constructor(options: ClusterPoolOptions) {
    super();
    this.#options = resolveClusterOptions(options);
    this.#results = new Results(this.#options);
    this.#defaultSink = this.#options.doneCallback ? Sink.CALLBACK : Sink.DONE;
    this.#producer = new ChunkProducer(
      this.#options,
      this.#results,
      (event) => this.dispatchEvent(event),
    );
  }

  /** The BullMQ queue name. */
  get queue(): string {
    return this.#options.queue;
  }

  // ---------------------------------------------------------------- submit

  /**
   * Queues one item of `task` (a name exported by the nodes' module); its
   * result goes to `done` (or `doneCallback`). Items queued in one tick
   * leave together at its end, in chunks.
   *
   * @returns The item's id.
   * @throws {PoolClosedError} After `shutdown()`.
   * @throws {QueueFullError} When `maxQueue` items are queued.
   * @throws {TypeError} If `task` is not a name (an inline function is refused), or an argument is not JSON-safe.
   */
  submit<T extends TaskName<M>>(task: T, ...args: TaskArgs<TaskFunction<M, T>>): JobId {
    this.#checkOpen();
    checkTask(task, "submit job");
    const [sink, callback] = this.#byDefault();
    return this.#producer.add(task, args, sink, callback, null);
  }

  /** Where a job's results go by default (and with `done` true): `doneCallback`, or `done`. */
  #byDefault(): DoneSink {
    return [this.#defaultSink, this.#options.doneCallback ?? null];
  }

  /**
   * Like `submit`, with `done`: a callback `(result, jobId)`, `true` (to
   * `done`, or to `doneCallback` if the pool has one) or `false` (discarded).
   */
  submitDone<T extends TaskName<M>>(
    task: T,
    done: DoneTarget<TaskResult<TaskFunction<M, T>>>,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): JobId {
    const [sink, callback] = checkDone(done, this.#byDefault());
    this.#checkOpen();
    checkTask(task, "submit job");
    return this.#producer.add(task, args, sink, callback, null);
  }

  /**
   * Queues one item per element of `iterable` (each is the one argument),
   * checked for JSON safety now. The iterable is read no further than
   * `maxQueue` has room for, plus one: an endless one meets `QueueFullError`.
   *
   * @param done As in `submitDone`; by default `true`: `doneCallback` if the pool has one, else `done`.
   * @returns How many items were queued; their ids are consecutive.
   * @throws {QueueFullError} If `iterable` holds more items than `maxQueue` has room for (none is queued).
   * @throws {TypeError} If `iterable` is neither iterable nor async iterable, or an item is not JSON-safe.
   *
   * @example An endless iterable meets maxQueue
   * ```ts
   * import { ClusterPool } from "@fastpool/fastpool/cluster";
   * import { QueueFullError } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * function* naturals() {
   *   for (let n = 0;; n++) yield n;
   * }
   * type Tasks = { double(n: number): number };
   * await using pool = new ClusterPool<Tasks>({ connection: "redis://127.0.0.1:6379", queue: "jobs", maxQueue: 100 });
   * assert.throws(() => pool.map("double", naturals()), QueueFullError);
   * assert.equal(pool.pending, 0); // nothing was queued, nothing connected
   * ```
   */
  map<T extends TaskName<M>>(
    task: T,
    iterable: Iterable<MapItem<TaskFunction<M, T>>>,
    done?: DoneTarget<TaskResult<TaskFunction<M, T>>>,
  ): number;
  /**
   * Like `map` over an iterable, for an `AsyncIterable`: it is read (no
   * further than `maxQueue` has room for, plus one), then its items are
   * queued together; resolves to how many.
   */
  map<T extends TaskName<M>>(
    task: T,
    iterable: AsyncIterable<MapItem<TaskFunction<M, T>>>,
    done?: DoneTarget<TaskResult<TaskFunction<M, T>>>,
  ): Promise<number>;
  /**
   * `map` over a source typed as either kind: a number for an `Iterable`
   * (one that is both is read as one), a promise for an `AsyncIterable`.
   */
  map<T extends TaskName<M>>(
    task: T,
    iterable: Iterable<MapItem<TaskFunction<M, T>>> | AsyncIterable<MapItem<TaskFunction<M, T>>>,
    done?: DoneTarget<TaskResult<TaskFunction<M, T>>>,
  ): number | Promise<number>;
  map<T extends TaskName<M>>(
    task: T,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    done?: DoneTarget<TaskResult<TaskFunction<M, T>>>,
  ): number | Promise<number> {
    const [sink, callback] = done === undefined
      ? this.#byDefault()
      : checkDone(done, this.#byDefault());
    if (isAsyncOnly(iterable)) {
      return this.#readAsync(task, iterable, "map").then((items) =>
        this.#queueItems(task, items, "map", sink, callback, null)
      );
    }
    return this.#queueItems(task, this.#read(task, iterable, "map"), "map", sink, callback, null);
  }

  /**
   * Like `map`, with the same chunks, resolving to the results in input
   * order. If items fail, the promise rejects with the error of the first
   * failed item (by input order), once every item has ended; a generator
   * task's item is the array of its values. The results do not go to
   * `done` or `failed`. `iterable` may be async; it is read first, and the
   * whole of it refused with `QueueFullError` if `maxQueue` has no room for
   * all its items (none is queued).
   *
   * @returns The results, in the order of `iterable`.
   *
   * @example Refused as a whole when the queue has no room
   * ```ts
   * import { ClusterPool } from "@fastpool/fastpool/cluster";
   * import { QueueFullError } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * type Tasks = { double(n: number): number };
   * await using pool = new ClusterPool<Tasks>({ connection: "redis://127.0.0.1:6379", queue: "jobs", maxQueue: 2 });
   * await assert.rejects(pool.collect("double", [1, 2, 3]), QueueFullError);
   * assert.deepEqual(await pool.collect("double", []), []);
   * assert.equal(pool.pending, 0); // nothing was queued, nothing connected
   * ```
   *
   * @example Usage (needs Redis and a node serving the queue)
   * ```ts ignore
   * import { ClusterPool } from "@fastpool/fastpool/cluster";
   *
   * await using pool = new ClusterPool<typeof import("./tasks.ts")>({
   *   connection: "redis://127.0.0.1:6379",
   *   queue: "tasks",
   * });
   * console.log(await pool.collect("fib", [20, 21, 22])); // [6765, 10946, 17711]
   * ```
   */
  async collect<T extends TaskName<M>>(
    task: T,
    iterable:
      | Iterable<MapItem<TaskFunction<M, T>>>
      | AsyncIterable<MapItem<TaskFunction<M, T>>>,
  ): Promise<RunResult<TaskFunction<M, T>>[]> {
    const items = isAsyncOnly(iterable)
      ? await this.#readAsync(task, iterable, "collect")
      : this.#read(task, iterable, "collect");
    let deferreds!: Deferred[];
    const results = new Promise<unknown[]>((resolve, reject) => {
      deferreds = collector(items.length, resolve, reject);
    });
    this.#queueItems(task, items, "collect", Sink.PROMISES, null, deferreds);
    return await results as RunResult<TaskFunction<M, T>>[];
  }

  /** The items of a sync `iterable` for `map` or `collect`, no more than the queue has room for. */
  #read(task: unknown, iterable: unknown, what: string): unknown[] {
    this.#checkOpen();
    checkTask(task, what);
    return readItems(iterable, this.#producer.room, this.#options.maxQueue, what);
  }

  /** The items of an async `source`, as {@linkcode #read}. */
  async #readAsync(
    task: unknown,
    source: AsyncIterable<unknown>,
    what: string,
  ): Promise<unknown[]> {
    this.#checkOpen();
    checkTask(task, what);
    // A shutdown() meanwhile stops the read, even one the source never answers.
    const checkOpen = () => this.#checkOpen();
    const { room, closing } = this.#producer;
    return await readItemsAsync(source, room, this.#options.maxQueue, closing, checkOpen, what);
  }

  /** Fixes `items` for the wire and queues them as one batch; returns how many. */
  #queueItems(
    task: unknown,
    items: unknown[],
    what: string,
    sink: number,
    callback: ((value: unknown, id: number) => void) | null,
    deferreds: Deferred[] | null,
  ): number {
    const sizes = fixItems(items, what);
    this.#checkOpen(); // a getter may have shut the pool down
    const n = items.length;
    if (n === 0) return 0;
    this.#producer.checkRoom(n); // reading and the getters may have queued items
    const firstId = this.#producer.takeIds(n);
    const batch = new Batch(
      task as string,
      true,
      items,
      firstId,
      sink,
      callback,
      deferreds,
      this.#options.taskTimeout,
      sizes,
    );
    this.#producer.enqueue(batch, n);
    return n;
  }

  /**
   * Runs one item; the promise settles with it (it is not put in
   * `done`/`failed`). A generator task resolves with all its values.
   */
  run<T extends TaskName<M>>(
    task: T,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): Promise<RunResult<TaskFunction<M, T>>> {
    let deferred!: Deferred;
    const promise = new Promise<RunResult<TaskFunction<M, T>>>((resolve, reject) => {
      deferred = { resolve: resolve as (value: unknown) => void, reject };
    });
    try {
      this.#checkOpen();
      checkTask(task, "submit job");
      this.#producer.add(task, args, Sink.PROMISES, null, deferred);
    } catch (error) {
      return Promise.reject(error);
    }
    return promise;
  }

  /**
   * `run` with options: `signal` (abort: a queued item is cancelled and its
   * chunk removed from Redis; a running one keeps running on its node, and
   * its result is dropped) and `timeout` (ms on its node, then
   * `TaskTimeoutError`). `transfer` and `first` do not apply across machines.
   */
  exec<T extends TaskName<M>>(
    task: T,
    args: Readonly<TaskArgs<TaskFunction<M, T>>>,
    given: ClusterExecOptions = {},
  ): Promise<RunResult<TaskFunction<M, T>>> {
    let options: ClusterExecOptions;
    let item: unknown;
    const size: JsonSize = { chars: 0 };
    try {
      this.#checkOpen();
      checkTask(task, "run job");
      options = checkExec(args, given);
      item = fixArgs(args as readonly unknown[], "run job", size);
      this.#checkOpen(); // a getter may have shut the pool down
      this.#producer.checkRoom(1);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let deferred!: Deferred;
    const promise = new Promise<RunResult<TaskFunction<M, T>>>((resolve, reject) => {
      deferred = { resolve: resolve as (value: unknown) => void, reject };
    });
    // None given: the pool's taskTimeout; 0 or Infinity lift it (a chunk's 0 is no limit), as on Pool.
    const timeout = options.timeout === undefined
      ? this.#options.taskTimeout
      : options.timeout === Infinity
      ? 0
      : options.timeout;
    const sizes = new ItemSizes();
    sizes.add(0, size.chars);
    const batch = new Batch(
      task,
      (args as readonly unknown[]).length === 1,
      [item],
      this.#producer.takeIds(1),
      Sink.PROMISES,
      null,
      [deferred],
      timeout,
      sizes,
    );
    if (signal) {
      // An argument's getter, run by `fixArgs`, may have aborted it: as if aborted before the call.
      if (signal.aborted) return Promise.reject(signal.reason);
      abortWith(deferred, signal, () => this.#producer.abortItem(batch, 0, signal.reason));
    }
    this.#producer.enqueue(batch, 1);
    return promise;
  }

  // ----------------------------------------------------------- results, state

  /** Results of items, in the order they arrived (`[jobId, result]` with `resultId`). */
  get done(): Deque<unknown> {
    return this.#results.done;
  }

  /** Errors of failed items (`[jobId, error]` with `resultId`). */
  get failed(): Deque<unknown> {
    return this.#results.failed;
  }

  /** Released once per entry added to `done`. */
  get doneCount(): Semaphore {
    return this.#results.doneCount;
  }

  /** Released once per entry added to `failed`. */
  get failedCount(): Semaphore {
    return this.#results.failedCount;
  }

  /** Items submitted and not ended yet (queued, in Redis, or running on a node). */
  get pending(): number {
    return this.#producer.pending;
  }

  /** Items queued here or in Redis, not yet taken by a node. */
  get queued(): number {
    return this.#producer.queued;
  }

  /**
   * The nodes that returned chunks to this pool, by id (as a node prints it
   * when it starts), with how many items each ran.
   */
  get nodes(): ReadonlyMap<string, number> {
    return this.#producer.nodes;
  }

  /** Chunks in Redis or running on a node. */
  get chunks(): number {
    return this.#producer.chunks;
  }

  /**
   * Iterates `done`, then `failed` entries as they arrive (failures are
   * yielded, not thrown), taking them out of the queues and their counters.
   *
   * @param wait `undefined`: until nothing is pending and both queues are
   * drained; `false`: only the entries there at this call; a number: at
   * most that many ms from this call, also in the middle of a backlog
   * (nothing is taken after it). The iterator's `return()` ends it at once,
   * also while a `next()` waits (that `next()` then gives `done`).
   */
  asCompleted(wait?: number | false): AsyncIterableIterator<unknown> {
    // Checked at the call, not at the first next() an async generator would wait for.
    if (wait !== undefined && wait !== false) checkTimeout(wait, "wait", "iterate results");
    const results = this.#results;
    return completedEntries(new CompletedTaker(results, wait === false), wait, systemClock, {
      pending: () => this.#producer.pending,
      changed: () => results.changed(),
      wake: () => results.commit(),
    });
  }

  // --------------------------------------------------------------- lifecycle

  /**
   * Resolves `true` once nothing is pending, or `false` at the timeout.
   *
   * @param timeout Milliseconds to wait at most; none by default.
   */
  async wait(timeout?: number): Promise<boolean> {
    if (timeout !== undefined) checkTimeout(timeout, "timeout", "wait");
    let timer: TimerId | undefined;
    let expired = false;
    const deadline = timeout === undefined || timeout === Infinity
      ? undefined
      : new Promise<void>((resolve) => {
        timer = systemClock.setTimer(() => {
          expired = true;
          resolve();
        }, timeout);
      });
    try {
      while (this.#producer.pending !== 0) {
        if (expired) return false;
        await this.#results.changed(deadline);
      }
      return true;
    } finally {
      systemClock.clearTimer(timer);
    }
  }

  /**
   * Cancels queued items: no `jobId` (or `null`) all of them, `false` none,
   * an id that item if no node has taken it. Their chunks are removed from
   * Redis; a chunk a node took meanwhile runs, and its cancelled items'
   * results are dropped. Promises reject with an `AbortError`.
   *
   * @returns Whether anything matched.
   */
  cancel(jobId: JobId | null | false = null): boolean {
    if (jobId === false) return false;
    if (jobId !== null && !Number.isInteger(jobId)) {
      throw invalid(TypeError, "cancel job", "jobId", "an integer, null or false", jobId);
    }
    return this.#producer.cancel(jobId);
  }

  /**
   * Takes no new items; queued ones still run (with `soon`, they are
   * cancelled); then closes the Redis connections.
   *
   * @returns `false` if items were still pending at the timeout (they are then dropped), or
   *   another shutdown's timeout dropped them.
   */
  async shutdown(timeout?: number, options: ShutdownOptions = {}): Promise<boolean> {
    if (timeout !== undefined) checkTimeout(timeout, "timeout", "shut down pool");
    // Pool's checks, before anything changes: a bad call leaves the pool as it was.
    checkOptionsObject(options, "shut down pool");
    checkOptionNames(options, SHUTDOWN_OPTION_NAMES, "shut down pool");
    if (options.soon !== undefined) checkBoolean(options.soon, "soon", "shut down pool");
    this.#producer.shutDown();
    if (options.soon) this.cancel();
    // A shutdown(timeout) beside this one may drop the items this one waits for.
    const idle = await this.wait(timeout) && !this.#dropped;
    if (!idle) {
      this.#dropped = true;
      this.#producer.abandon(() => new PoolClosedError("Job abandoned: the pool shut down"));
    }
    await this.#producer.close();
    return idle;
  }

  /** `await using pool = new ClusterPool(...)` shuts it down at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  // ------------------------------------------------------------- internals

  #checkOpen(): void {
    if (this.#producer.closed) throw new PoolClosedError("Cannot submit job: pool is closed");
  }
}
