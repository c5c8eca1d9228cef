/**
 * `Pool`: the public facade. It keeps the queue (`jobs`), the slots (one per
 * worker) and the results, and moves jobs between them: submits queue jobs,
 * a flush at the end of the tick sends them in batches (see `dispatch.ts`),
 * and each `results` message ends jobs in the order they were sent.
 *
 * @module
 */

import type { Deque } from "../deque.ts";
import { PoolClosedError } from "../errors.ts";
import type { Semaphore } from "../sync/semaphore.ts";
import { type Clock, FailSafeClock, settlesWithin, systemClock } from "../timers/clock.ts";
import {
  checkBoolean,
  checkOptionsObject,
  checkTimeout,
  invalid,
  reportGlobally,
} from "../_checks.ts";
import { Scheduler, type TimerHandle } from "../timers/scheduler.ts";
import type { AnyFunction } from "../task.ts";
import { DispatchLoop } from "./dispatch_loop.ts";
import { type PoolStats, type StatsOptions, StatsRecorder } from "./stats.ts";
import { JobsView } from "./job_queue.ts";
import { unstartedItems } from "./stealing.ts";
import type {
  DoneTarget,
  ExecOptions,
  JobId,
  JobsDeque,
  MapItem,
  RunResult,
  ShutdownOptions,
  Task,
  TaskArgs,
  TaskFunction,
  TaskResult,
} from "./types.ts";
import type { Deferred, Destination, QueuedJob } from "./job.ts";
import {
  type PoolOptions,
  type ResolvedOptions,
  resolveMaxChildren,
  resolveOptions,
} from "./options.ts";
import { makeProxy, type ProxiedPool, type TaskProxy, UndecidedCalls } from "./proxy.ts";
import { Results } from "./results.ts";
import { TaskRegistry } from "./task_registry.ts";
import { checkDone, isAsyncOnly } from "./arguments.ts";
import { Submitter } from "./submitter.ts";
import { GuardedListeners, type PoolEventMap } from "./events.ts";
import { cancellation, checkExec, checkPriority, SHUTDOWN_OPTION_NAMES } from "./exec_checks.ts";
import { defaultWorkerUrl } from "./worker_url.ts";
import { checkOptionNames } from "../_option_names.ts";

/**
 * A pool of module workers running jobs: inline functions, exports of a task
 * module, or `task()` references. See the package docs for the full tour.
 *
 * @typeParam M The task module's type (`typeof import("./tasks.ts")`), so
 * names, arguments and results are type-checked.
 *
 * @example Usage
 * ```ts
 * import { Pool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 2 });
 * for (let i = 0; i < 10; i++) pool.submit((n: number) => n * n, i);
 * assert.equal(await pool.wait(), true);
 * assert.deepEqual([...pool.done].sort((a, b) => Number(a) - Number(b)), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
 * assert.equal(await pool.run((a: number, b: number) => a + b, 2, 3), 5);
 * ```
 */
export class Pool<M extends object = Record<string, AnyFunction>> extends EventTarget
  implements AsyncDisposable {
  readonly #options: ResolvedOptions;
  readonly #tasks: TaskRegistry;
  readonly #results: Results;
  readonly #scheduler: Scheduler;
  readonly #loop: DispatchLoop;
  readonly #clock: Clock;
  readonly #jobs: JobsView;
  readonly #submitter: Submitter;
  readonly #stats: StatsRecorder;
  /** Listeners, guarded; events nobody listens to are not made. */
  readonly #listeners = new GuardedListeners();
  /** Calls of `proxy()`s not yet run: this tick's (see `UndecidedCalls`). */
  readonly #proxyCalls = new UndecidedCalls();
  /** Counts `clear()` calls: a `shutdown()` that a `clear()` overtook leaves the workers be. */
  #reopened = 0;

  /**
   * Creates a pool. Workers start on demand, up to `maxChildren`;
   * `minChildren` of them start at once.
   *
   * @throws {TypeError | RangeError} If an option has the wrong type or range.
   */
  constructor(options: PoolOptions = {}) {
    super();
    this.#options = resolveOptions(options);
    // A user's clock may throw in clearTimer: a stopping pool stops all the same (see #whole).
    this.#clock = options.clock === undefined ? systemClock : new FailSafeClock(options.clock);
    this.#tasks = new TaskRegistry(this.#options.module);
    this.#stats = new StatsRecorder(this.#clock.now(), this.#tasks.names);
    this.#results = new Results(this.#options, this.#stats);
    this.#scheduler = new Scheduler(this.#clock);
    const workerUrl = this.#options.workerUrl ?? defaultWorkerUrl();
    const dispatch = (type: unknown, detail: unknown) =>
      this.dispatchEvent(new CustomEvent(type as string, { detail }));
    this.#loop = new DispatchLoop(
      this.#options,
      this.#clock,
      this.#tasks,
      this.#results,
      workerUrl,
      this.#stats,
      {
        emit: (type, detail) => {
          if (this.#listeners.listened(type)) this.#results.later(dispatch, type, detail);
        },
      },
    );
    this.#jobs = new JobsView(
      this.#loop.queue,
      (id) => this.cancel(id),
      () => this.#loop.takeBackAll(),
    );
    this.#submitter = new Submitter(
      this.#options,
      this.#tasks,
      this.#loop,
      this.#results,
      this.#scheduler,
    );
    this.#loop.keepMinimum();
  }

  // ---------------------------------------------------------------- submit

  /**
   * Queues a job at the back; its result goes to `done` (or `doneCallback`).
   * Jobs queued in one tick leave together at its end; a long run of
   * one-argument submits of one task leaves in batches as it grows, so
   * workers start on it while the caller is still submitting.
   *
   * @returns The job's id.
   * @throws {PoolClosedError} After `shutdown()` or `terminate()`.
   * @throws {QueueFullError} When `maxQueue` jobs are queued.
   * @throws {TypeError} If `task` is not a task.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const id = pool.submit((n: number) => n * 2, 21);
   * assert.equal(typeof id, "number");
   * await pool.wait();
   * assert.deepEqual([...pool.done], [42]);
   * ```
   */
  submit<A extends unknown[], R>(task: (...args: A) => R, ...args: A): JobId;
  /** `submit` of a named task or a `task()` reference. */
  submit<T extends Task<M>>(task: T, ...args: TaskArgs<TaskFunction<M, T>>): JobId;
  submit(task: Task<M>, ...args: unknown[]): JobId {
    return this.#submitter.submit(task, args);
  }

  /**
   * Like `submit`, with `done`: a callback `(result, jobId)`, `true` (to
   * `done`, or to `doneCallback` if the pool has one: it receives every result
   * without a callback of its own) or `false` (discarded).
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const seen: unknown[] = [];
   * pool.submitDone((n: number) => n + 1, (result) => seen.push(result), 1);
   * pool.submitDone((n: number) => n + 1, false, 2); // result discarded
   * await pool.wait();
   * assert.deepEqual(seen, [2]);
   * assert.equal(pool.done.length, 0);
   * ```
   */
  submitDone<A extends unknown[], R>(
    task: (...args: A) => R,
    done: DoneTarget<TaskResult<(...args: A) => R>>,
    ...args: A
  ): JobId;
  /** `submitDone` of a named task or a `task()` reference. */
  submitDone<T extends Task<M>>(
    task: T,
    done: DoneTarget<TaskResult<TaskFunction<M, T>>>,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): JobId;
  submitDone(
    task: Task<M>,
    done: DoneTarget<unknown>,
    ...args: unknown[]
  ): JobId {
    return this.#submitter.add(task, args, this.#dest(done), false);
  }

  /**
   * Like `submit`, at the front of the queue. Jobs a worker was already
   * handed (a batch or two behind the one it runs) still run before it.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const shout = (word: string) => word;
   * await pool.run(shout, "warm"); // a started worker takes queued jobs in order
   * pool.submit(shout, "second");
   * pool.submitFirst(shout, "first");
   * await pool.wait();
   * assert.deepEqual([...pool.done], ["first", "second"]);
   * ```
   */
  submitFirst<A extends unknown[], R>(task: (...args: A) => R, ...args: A): JobId;
  /** `submitFirst` of a named task or a `task()` reference. */
  submitFirst<T extends Task<M>>(task: T, ...args: TaskArgs<TaskFunction<M, T>>): JobId;
  submitFirst(task: Task<M>, ...args: unknown[]): JobId {
    return this.#submitter.add(task, args, this.#submitter.defaultTarget, true);
  }

  /**
   * Like `submitDone`, at the front of the queue.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const order: unknown[] = [];
   * const note = (word: string) => word;
   * pool.submitDone(note, (w) => order.push(w), "later");
   * pool.submitDoneFirst(note, (w) => order.push(w), "sooner");
   * await pool.wait();
   * assert.deepEqual(order, ["sooner", "later"]);
   * ```
   */
  submitDoneFirst<A extends unknown[], R>(
    task: (...args: A) => R,
    done: DoneTarget<TaskResult<(...args: A) => R>>,
    ...args: A
  ): JobId;
  /** `submitDoneFirst` of a named task or a `task()` reference. */
  submitDoneFirst<T extends Task<M>>(
    task: T,
    done: DoneTarget<TaskResult<TaskFunction<M, T>>>,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): JobId;
  submitDoneFirst(
    task: Task<M>,
    done: DoneTarget<unknown>,
    ...args: unknown[]
  ): JobId {
    return this.#submitter.add(task, args, this.#dest(done), true);
  }

  /**
   * Queues a job by priority: ahead of every queued job of lower priority,
   * behind those of its own or higher (plain submits have priority 0). Its
   * result goes where `submit`'s does; `exec(task, args, { priority })` is
   * the same with a promise.
   *
   * @param priority A finite number; higher runs first.
   * @returns The job's id.
   * @throws {TypeError | RangeError} If `priority` is not a finite number.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const order: string[] = [];
   * const note = (name: string) => name;
   * pool.submitDone(note, (name) => order.push(name as string), "plain");
   * pool.submitPriority(5, note, "urgent");
   * pool.submitPriority(-1, note, "whenever");
   * pool.submitPriority(5, note, "urgent too");
   * await pool.wait();
   * assert.deepEqual(pool.done.length, 3);
   * assert.deepEqual([...pool.done], ["urgent", "urgent too", "whenever"]);
   * assert.deepEqual(order, ["plain"]);
   * ```
   */
  submitPriority<A extends unknown[], R>(
    priority: number,
    task: (...args: A) => R,
    ...args: A
  ): JobId;
  /** `submitPriority` of a named task or a `task()` reference. */
  submitPriority<T extends Task<M>>(
    priority: number,
    task: T,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): JobId;
  submitPriority(
    priority: number,
    task: Task<M>,
    ...args: unknown[]
  ): JobId {
    checkPriority(priority, "submit job");
    const submitter = this.#submitter;
    const policy = submitter.withPriority(priority);
    return submitter.job(task, [...args], submitter.defaultTarget, false, null, policy).id;
  }

  /**
   * After `delay` ms, queues a job at the front.
   *
   * @returns A handle whose `cancel()` stops it before it fires.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const timer = pool.submitLater(10, (n: number) => n * 3, 5);
   * assert.equal(pool.delayed.length, 1);
   * // `wait()` does not wait for timers; each result releases `doneCount` once:
   * assert.equal(await pool.doneCount.acquire({ timeout: 5000 }), true);
   * assert.deepEqual([...pool.done], [15]);
   * assert.equal(typeof timer.cancel, "function");
   * ```
   */
  submitLater<A extends unknown[], R>(
    delay: number,
    task: (...args: A) => R,
    ...args: A
  ): TimerHandle;
  /** `submitLater` of a named task or a `task()` reference. */
  submitLater<T extends Task<M>>(
    delay: number,
    task: T,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): TimerHandle;
  submitLater(
    delay: number,
    task: Task<M>,
    ...args: unknown[]
  ): TimerHandle {
    return this.#submitter.later(delay, task, args, this.#submitter.defaultTarget);
  }

  /**
   * Like `submitLater`, with a `done` target as in `submitDone`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const { promise, resolve } = Promise.withResolvers<unknown>();
   * pool.submitDoneLater(10, (n: number) => -n, resolve, 7);
   * assert.equal(await promise, -7);
   * ```
   */
  submitDoneLater<A extends unknown[], R>(
    delay: number,
    task: (...args: A) => R,
    done: DoneTarget<TaskResult<(...args: A) => R>>,
    ...args: A
  ): TimerHandle;
  /** `submitDoneLater` of a named task or a `task()` reference. */
  submitDoneLater<T extends Task<M>>(
    delay: number,
    task: T,
    done: DoneTarget<TaskResult<TaskFunction<M, T>>>,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): TimerHandle;
  submitDoneLater(
    delay: number,
    task: Task<M>,
    done: DoneTarget<unknown>,
    ...args: unknown[]
  ): TimerHandle {
    return this.#submitter.later(delay, task, args, this.#dest(done));
  }

  /**
   * Queues a job every `interval` ms on a fixed grid (no drift). A tick is
   * skipped while the previous run is still pending, and missed ticks are
   * skipped, not bunched.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const timer = pool.schedule(5, () => "tick");
   * for (let ticks = 0; ticks < 3; ticks++) {
   *   await pool.doneCount.acquire();
   *   assert.equal(pool.done.shift(), "tick");
   * }
   * timer.cancel();
   * assert.equal(pool.scheduled.length, 0);
   * ```
   */
  schedule<A extends unknown[], R>(
    interval: number,
    task: (...args: A) => R,
    ...args: A
  ): TimerHandle;
  /** `schedule` of a named task or a `task()` reference. */
  schedule<T extends Task<M>>(
    interval: number,
    task: T,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): TimerHandle;
  schedule(
    interval: number,
    task: Task<M>,
    ...args: unknown[]
  ): TimerHandle {
    return this.#submitter.every(interval, task, args, this.#submitter.defaultTarget);
  }

  /**
   * Like `schedule`, with a `done` target as in `submitDone`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * let ticks = 0;
   * const { promise, resolve } = Promise.withResolvers<void>();
   * const timer = pool.scheduleDone(5, () => 1, () => {
   *   if (++ticks === 3) resolve();
   * });
   * await promise;
   * timer.cancel();
   * assert.equal(ticks, 3);
   * ```
   */
  scheduleDone<A extends unknown[], R>(
    interval: number,
    task: (...args: A) => R,
    done: DoneTarget<TaskResult<(...args: A) => R>>,
    ...args: A
  ): TimerHandle;
  /** `scheduleDone` of a named task or a `task()` reference. */
  scheduleDone<T extends Task<M>>(
    interval: number,
    task: T,
    done: DoneTarget<TaskResult<TaskFunction<M, T>>>,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): TimerHandle;
  scheduleDone(
    interval: number,
    task: Task<M>,
    done: DoneTarget<unknown>,
    ...args: unknown[]
  ): TimerHandle {
    return this.#submitter.every(
      interval,
      task,
      args,
      this.#dest(done),
    );
  }

  /**
   * Queues one job per item of `iterable` (each item is the one argument),
   * the items `for … of` gives (an array with an iterator of its own is read
   * through it). Items travel in chunks sized from the measured job time.
   *
   * An `AsyncIterable` (a file's lines, a socket) is read with
   * back-pressure: items are queued in chunks as they come (what was read
   * is queued as soon as the source keeps the next item waiting), and
   * no more is read than the queue has room for under its high-water mark
   * (reading pauses while it is full), so at most about `highWaterMark`
   * items wait in memory; the promise resolves once
   * the source is exhausted and every item is queued (only then do
   * `pending`, `wait()` and `shutdown()` see them all: await it first). If
   * the source throws, the items read before run and the promise rejects
   * with its error; a synchronous iterable that throws queues nothing, and
   * the call throws its error.
   *
   * @param done As in `submitDone`; by default `true`: `doneCallback` if the pool has one, else `done`.
   * @returns How many jobs were queued; their ids are consecutive for a synchronous iterable.
   *
   * @example An async source
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * async function* numbers() {
   *   for (let i = 0; i < 5; i++) yield i;
   * }
   * await using pool = new Pool({ maxChildren: 2 });
   * assert.equal(await pool.map((n: number) => n * 10, numbers()), 5);
   * await pool.wait();
   * assert.deepEqual([...pool.done].sort((a, b) => Number(a) - Number(b)), [0, 10, 20, 30, 40]);
   * ```
   */
  map<I, R>(
    task: (item: I) => R,
    iterable: Iterable<I>,
    done?: DoneTarget<TaskResult<(item: I) => R>>,
  ): number;
  /**
   * Like `map` over an iterable, for an `AsyncIterable` read with
   * back-pressure; resolves to how many jobs were queued once the source is
   * exhausted.
   */
  map<I, R>(
    task: (item: I) => R,
    iterable: AsyncIterable<I>,
    done?: DoneTarget<TaskResult<(item: I) => R>>,
  ): Promise<number>;
  /**
   * `map` over a source typed as either kind: a number for an `Iterable`
   * (one that is both is read as one), a promise for an `AsyncIterable`.
   */
  map<I, R>(
    task: (item: I) => R,
    iterable: Iterable<I> | AsyncIterable<I>,
    done?: DoneTarget<TaskResult<(item: I) => R>>,
  ): number | Promise<number>;
  /** `map` of a named task or a `task()` reference. */
  map<T extends Task<M>>(
    task: T,
    iterable: Iterable<MapItem<TaskFunction<M, T>>>,
    done?: DoneTarget<TaskResult<TaskFunction<M, T>>>,
  ): number;
  /** `map` of a named task or a `task()` reference, over an `AsyncIterable`. */
  map<T extends Task<M>>(
    task: T,
    iterable: AsyncIterable<MapItem<TaskFunction<M, T>>>,
    done?: DoneTarget<TaskResult<TaskFunction<M, T>>>,
  ): Promise<number>;
  /** `map` of a named task or a `task()` reference, over a source of either kind. */
  map<T extends Task<M>>(
    task: T,
    iterable: Iterable<MapItem<TaskFunction<M, T>>> | AsyncIterable<MapItem<TaskFunction<M, T>>>,
    done?: DoneTarget<TaskResult<TaskFunction<M, T>>>,
  ): number | Promise<number>;
  map(
    task: Task<M>,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    done?: DoneTarget<unknown>,
  ): number | Promise<number> {
    const dest = done === undefined ? this.#submitter.defaultTarget : this.#dest(done);
    if (isAsyncOnly(iterable)) {
      return this.#submitter.mapAsync(task, iterable, () => dest, "map", null);
    }
    return this.#submitter.map(task, iterable, dest, "map");
  }

  /**
   * Like `map`, with the same chunking and speed, resolving to the results
   * in input order (Python's `Executor.map`). If items fail, the promise
   * rejects with the error of the first failed item (by input order), once
   * every item has ended; a generator task's item is the array of its values.
   *
   * @returns The results, in the order of `iterable`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 2 });
   * assert.deepEqual(await pool.collect((n: number) => n * n, [1, 2, 3, 4]), [1, 4, 9, 16]);
   * ```
   */
  collect<I, R>(
    task: (item: I) => R,
    iterable:
      | Iterable<I>
      | AsyncIterable<I>,
  ): Promise<RunResult<(item: I) => R>[]>;
  /** `collect` of a named task or a `task()` reference. */
  collect<T extends Task<M>>(
    task: T,
    iterable:
      | Iterable<MapItem<TaskFunction<M, T>>>
      | AsyncIterable<MapItem<TaskFunction<M, T>>>,
  ): Promise<RunResult<TaskFunction<M, T>>[]>;
  collect(
    task: Task<M>,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
  ): Promise<unknown[]> {
    return this.#submitter.collect(task, iterable);
  }

  /**
   * The task module as an object whose methods run its exports on this
   * pool, names and types checked: `await tasks.fib(30)`, and a generator
   * export's values with `for await (const x of tasks.count(3))`. A call
   * runs as a job at the end of the tick that makes it, awaited or not (so
   * calls made together run together), unless it is iterated in that tick:
   * then it streams. A `shutdown()`, `terminate()`, `cancel()`, `clear()`,
   * `wait()` or `drained()` in that tick runs the calls made before it as
   * jobs first, so it finds them as it would `run()`s; `pending`,
   * `needsDrain` and `stats()` count them as queued without deciding them
   * (those the queue has room for, on an open pool), so a producer's
   * back-pressure loop holds with calls too. A call
   * is awaited or iterated, not both (awaiting one being iterated rejects
   * with a `TypeError`: a second job would run the task twice); `throw()` on
   * it stops its task as `return()` does.
   * `toString`, `toLocaleString`, `valueOf`, `toJSON`, `constructor` and
   * `then` are not calls (nor in its type): run such an export with
   * `run(name, …)` (a task module cannot export `then`: it would be taken
   * for a promise). A pool typed without its module has a proxy with an
   * index signature, so with `noUncheckedIndexedAccess` each call needs `!`;
   * `Pool<typeof import("./tasks.ts")>` names every method.
   *
   * @throws {TypeError} If the pool has no `module`.
   *
   * @example Usage
   * ```ts ignore
   * import { Pool } from "@fastpool/fastpool";
   *
   * await using pool = new Pool<typeof import("./tasks.ts")>({
   *   module: new URL("./tasks.ts", import.meta.url),
   * });
   * const tasks = pool.proxy();
   * console.log(await tasks.fib(20));
   * for await (const n of tasks.count(3)) console.log(n);
   * ```
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const tasks = "data:text/javascript," + encodeURIComponent(
   *   "export const double = (n) => n * 2; export function* upTo(n) { for (let i = 0; i < n; i++) yield i; }",
   * );
   * await using pool = new Pool<{ double(n: number): number; upTo(n: number): Generator<number> }>({
   *   maxChildren: 1,
   *   module: tasks,
   * });
   * const proxy = pool.proxy();
   * assert.equal(await proxy.double(21), 42);
   * const seen: number[] = [];
   * for await (const n of proxy.upTo(3)) seen.push(n);
   * assert.deepEqual(seen, [0, 1, 2]);
   * ```
   */
  proxy<P extends object = M>(): TaskProxy<P> {
    if (this.#options.module === null) {
      throw new TypeError('Cannot make proxy: the pool has no "module" option');
    }
    return makeProxy<P>(this as unknown as ProxiedPool, this.#proxyCalls);
  }

  /**
   * Runs one job; the promise settles with it (it is not put in
   * `done`/`failed`). A generator task resolves with all its values.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * assert.equal(await pool.run((a: number, b: number) => a * b, 6, 7), 42);
   * await assert.rejects(pool.run(() => {
   *   throw new RangeError("too big");
   * }), RangeError);
   * ```
   */
  run<A extends unknown[], R>(
    task: (...args: A) => R,
    ...args: A
  ): Promise<RunResult<(...args: A) => R>>;
  /** `run` of a named task or a `task()` reference. */
  run<T extends Task<M>>(
    task: T,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): Promise<RunResult<TaskFunction<M, T>>>;
  run(
    task: Task<M>,
    ...args: unknown[]
  ): Promise<unknown> {
    if (args.length !== 1 || this.#options.taskTimeout > 0) return this.exec(task, args);
    // One argument: the job joins the open entry like a submit, with its
    // promise's resolvers beside its argument (Sink.PROMISES).
    // (Not Promise.withResolvers(): it costs twice as much on Deno 2.9.)
    let deferred!: Deferred;
    const promise = new Promise((resolve, reject) => {
      deferred = { resolve: resolve as (value: unknown) => void, reject };
    });
    try {
      this.#submitter.run(task, args, deferred);
    } catch (error) {
      return Promise.reject(error);
    }
    return promise;
  }

  /**
   * `run` with options: `signal`, `transfer`, `timeout` and `first`.
   *
   * @example Abort a job
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const controller = new AbortController();
   * const job = pool.exec(() => new Promise(() => {}), [], { signal: controller.signal });
   * controller.abort(new Error("no longer needed"));
   * await assert.rejects(job, /no longer needed/);
   * ```
   */
  exec<A extends unknown[], R>(
    task: (...args: A) => R,
    args: Readonly<A>,
    options?: ExecOptions,
  ): Promise<RunResult<(...args: A) => R>>;
  /** `exec` of a named task or a `task()` reference. */
  exec<T extends Task<M>>(
    task: T,
    args: Readonly<TaskArgs<TaskFunction<M, T>>>,
    options?: ExecOptions,
  ): Promise<RunResult<TaskFunction<M, T>>>;
  exec(
    task: Task<M>,
    args: readonly unknown[],
    options: ExecOptions = {},
  ): Promise<unknown> {
    const read = checkExec(args, options);
    if (read instanceof Error) return Promise.reject(read);
    return this.#submitter.exec(task, args, read);
  }

  /**
   * Runs a generator task and iterates its values as they are yielded. The
   * worker runs at most a small window ahead of the consumer; `return()`
   * (e.g. `break`, or the end of an `await using` scope holding the
   * stream) or `throw()` stops the task. Until then the stream is a
   * running job: one dropped unfinished, with more values to make than the
   * window holds, keeps its worker waiting for the consumer, and
   * `shutdown()` (also `await using`) waits for it; leave with
   * `break`/`return()`, or `terminate()`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const values: number[] = [];
   * for await (
   *   const n of pool.stream(function* (count: number) {
   *     for (let i = 0; i < count; i++) yield i * i;
   *   }, 4)
   * ) values.push(n);
   * assert.deepEqual(values, [0, 1, 4, 9]);
   * ```
   */
  stream<A extends unknown[], R>(
    task: (...args: A) => R,
    ...args: A
  ): AsyncIterableIterator<TaskResult<(...args: A) => R>> & AsyncDisposable;
  /** `stream` of a named task or a `task()` reference. */
  stream<T extends Task<M>>(
    task: T,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): AsyncIterableIterator<TaskResult<TaskFunction<M, T>>> & AsyncDisposable;
  stream(
    task: Task<M>,
    ...args: unknown[]
  ): AsyncIterableIterator<unknown> & AsyncDisposable {
    return this.#submitter.stream(task, args);
  }

  // ----------------------------------------------------------- results, state

  /**
   * Results of jobs, in the order they arrived (`[jobId, result]` with `resultId`).
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.map((n: number) => n + 1, [1, 2, 3]);
   * await pool.wait();
   * assert.deepEqual(pool.done.drain().sort(), [2, 3, 4]);
   * assert.equal(pool.done.length, 0);
   * ```
   */
  get done(): Deque<unknown> {
    return this.#results.done;
  }

  /**
   * Errors of failed jobs (`[jobId, error]` with `resultId`).
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.submit(() => {
   *   throw new TypeError("bad");
   * });
   * await pool.wait();
   * const error = pool.failed.shift();
   * assert.ok(error instanceof TypeError);
   * assert.equal(error.message, "bad");
   * ```
   */
  get failed(): Deque<unknown> {
    return this.#results.failed;
  }

  /**
   * Released once per entry added to `done`: `await doneCount.acquire()`, then `done.shift()`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.map((n: number) => n, [1, 2, 3]);
   * await pool.wait();
   * assert.equal(pool.doneCount.value, 3);
   * assert.equal(await pool.doneCount.acquire({ timeout: 0 }), true); // one permit per result
   * ```
   */
  get doneCount(): Semaphore {
    return this.#results.doneCount;
  }

  /**
   * Released once per entry added to `failed`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.submit(() => {
   *   throw new Error("no");
   * });
   * await pool.wait();
   * assert.equal(pool.failedCount.value, 1);
   * ```
   */
  get failedCount(): Semaphore {
    return this.#results.failedCount;
  }

  /**
   * Queued jobs, not yet sent to a worker (`stats().jobs.queued` also counts
   * those a worker holds and has not started). A job taken out of it
   * (`shift()`, `pop()`, `clear()`, `drain()`) is cancelled; jobs are added
   * by submitting them.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const id = pool.submit((n: number) => n, 1);
   * pool.submit((n: number) => n, 2);
   * // Until the dispatcher hands them to a worker, submitted jobs wait in `jobs`:
   * assert.deepEqual([...pool.jobs].map((job) => job.id), [id, id + 1]);
   * await pool.wait();
   * assert.equal(pool.jobs.length, 0);
   * ```
   */
  get jobs(): JobsDeque<QueuedJob> {
    return this.#jobs;
  }

  /**
   * Live workers.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 2, minChildren: 2 });
   * await new Promise((resolve) => pool.addEventListener("ready", resolve, { once: true }));
   * assert.equal(pool.alive, 2);
   * ```
   */
  get alive(): number {
    return this.#loop.slots.length;
  }

  /**
   * Whether lone small jobs may travel on the workers' shared lanes (see the
   * `sharedLane` option): false when the option is, or where
   * `SharedArrayBuffer` does not exist (a page that is not cross-origin
   * isolated); every job then travels as a message, which always works.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * assert.equal(pool.sharedLane, typeof SharedArrayBuffer === "function");
   * ```
   */
  get sharedLane(): boolean {
    return this.#options.sharedLane;
  }

  /**
   * Workers running a job that has not ended. A worker still finishing an
   * aborted or timed-out job (within `abortGrace`) is not counted, though it
   * takes no new job until that task returns (or the grace ends and it is
   * replaced); `stats().workers.idle` counts it as idle.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * assert.equal(pool.busy, 0);
   * await pool.run(() => 1);
   * assert.equal(pool.busy, 0); // nothing runs once the job is done
   * ```
   */
  get busy(): number {
    let busy = 0;
    for (const slot of this.#loop.slots) if (slot.busy) busy++;
    return busy;
  }

  /**
   * Queued plus running jobs.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.submit((n: number) => n, 1);
   * assert.equal(pool.pending, 1);
   * await pool.wait();
   * assert.equal(pool.pending, 0);
   * ```
   */
  get pending(): number {
    return this.#loop.pending + this.#undecided;
  }

  /**
   * Whether the pool refuses new jobs: from `shutdown()` or `terminate()`
   * on, until `clear()` opens it again.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ maxChildren: 1 });
   * assert.equal(pool.closed, false);
   * const closing = pool.shutdown();
   * assert.equal(pool.closed, true);
   * await closing;
   * ```
   */
  get closed(): boolean {
    return this.#submitter.closed;
  }

  /**
   * Live delayed jobs (`submitLater`), in the order they were made: the same
   * array (read-only: do not change it) until a delayed job is made, fires
   * or is cancelled, so a read costs nothing, and the first read after a
   * change a copy.
   * Jobs due at the same moment each go to the front of the queue as they
   * fire, in that order, so the one made last runs first, as `submitFirst`
   * calls do.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const timer = pool.submitLater(60_000, () => 1);
   * assert.deepEqual(pool.delayed, [timer]);
   * timer.cancel();
   * assert.equal(pool.delayed.length, 0);
   * ```
   */
  get delayed(): readonly TimerHandle[] {
    return this.#scheduler.delayed;
  }

  /**
   * Live scheduled jobs (`schedule`), in the order they were made: the same
   * array (read-only: do not change it) until a scheduled job is made or
   * cancelled.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const timer = pool.schedule(60_000, () => 1);
   * assert.deepEqual(pool.scheduled, [timer]);
   * timer.cancel();
   * assert.equal(pool.scheduled.length, 0);
   * ```
   */
  get scheduled(): readonly TimerHandle[] {
    return this.#scheduler.scheduled;
  }

  /**
   * The most workers, after `resize`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 3 });
   * assert.equal(pool.maxChildren, 3);
   * pool.resize(1);
   * assert.equal(pool.maxChildren, 1);
   * ```
   */
  get maxChildren(): number {
    return this.#loop.workers.maxChildren;
  }

  /**
   * Iterates `done`, then `failed` entries as they arrive (failures are
   * yielded, not thrown), taking them out of the queues and their counters.
   *
   * @param wait `undefined`: until the pool is idle and both queues are
   * drained; `false`: only the entries there at this call; a number: as
   * `undefined`, but at most that many ms from this call, also in the
   * middle of a backlog: nothing is taken after it (so `0` takes nothing;
   * `false` takes what is there now). The deadline does not keep the
   * program running (e.g. for an iterator left unfinished). The iterator's
   * `return()` ends it at once, also while a `next()` waits for an entry
   * (that `next()` then gives `done`). Delayed and scheduled jobs count
   * once their timer has queued them: between a schedule's ticks the pool is
   * idle, and the iterator ends; wait on `doneCount` to follow a schedule.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.map((n: number) => n * n, [1, 2, 3]);
   * const results: unknown[] = [];
   * for await (const result of pool.asCompleted()) results.push(result);
   * assert.deepEqual(results.sort(), [1, 4, 9]);
   * ```
   */
  asCompleted(wait?: number | false): AsyncIterableIterator<unknown> {
    // Checked at the call, not at the first next() an async generator would wait for.
    if (wait !== undefined && wait !== false) checkTimeout(wait, "wait", "iterate results");
    const loop = this.#loop;
    return this.#results.completed(wait, this.#clock, () => loop.pending);
  }

  // ---------------------------------------------------------- watching it

  /**
   * Counts of jobs and workers, run and wait times (overall and per task)
   * and utilization, since the pool started or the last reset. Times come
   * from the workers' batch timings: a percentile is within 2.2% of the
   * sample it stands for, and jobs answered together in one batch each
   * count as the batch's mean (see the README, "Watching a pool").
   *
   * @param options `reset: true` starts counting afresh after this reading.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.map((n: number) => n * 2, [1, 2, 3]);
   * pool.submit(() => {
   *   throw new Error("no");
   * });
   * await pool.wait();
   * const { jobs, runTime } = pool.stats();
   * assert.deepEqual(
   *   [jobs.submitted, jobs.done, jobs.failed, jobs.cancelled, jobs.queued, jobs.running],
   *   [4, 3, 1, 0, 0, 0],
   * );
   * assert.equal(runTime.count, 4);
   * ```
   */
  stats(options: StatsOptions = {}): PoolStats {
    checkOptionsObject(options, "read stats");
    checkOptionNames(options, ["reset"], "read stats");
    if (options.reset !== undefined) checkBoolean(options.reset, "reset", "read stats");
    const loop = this.#loop;
    let unstarted = 0; // jobs a worker holds and has not started: cancel() would take them back
    for (const slot of loop.slots) unstarted += unstartedItems(slot);
    const undecided = this.#undecided;
    const live = {
      queued: loop.queue.items + unstarted + undecided,
      pending: loop.pending + undecided,
      alive: loop.slots.length,
      busy: this.busy,
      maxChildren: this.#loop.workers.maxChildren,
    };
    const now = this.#clock.now();
    if (options.reset === true) {
      // The time running jobs have spent so far is this window's, not the next one's.
      for (const slot of loop.slots) this.#stats.busyMs += slot.creditBusy(now, this.#stats.since);
    }
    return this.#stats.read(now, live, options.reset === true);
  }

  /**
   * The `proxy()` calls of this tick that would run as jobs if decided now,
   * as `run()`s would: none on a closed pool, no more than the queue has room
   * for (the rest would be refused with `QueueFullError`).
   */
  get #undecided(): number {
    const waiting = this.#proxyCalls.waiting;
    if (waiting === 0 || this.#submitter.closed) return 0;
    return Math.min(waiting, Math.max(0, this.#options.maxQueue - this.#loop.queue.items));
  }

  /**
   * Whether a producer should pause: the queue holds `highWaterMark` jobs
   * (or `maxQueue`, if lower). `await pool.drained()` waits until it may go on.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1, highWaterMark: 2 });
   * for (let i = 0; i < 3; i++) pool.submit((n: number) => n, i);
   * assert.equal(pool.needsDrain, true);
   * await pool.drained();
   * assert.equal(pool.needsDrain, false);
   * ```
   */
  get needsDrain(): boolean {
    // proxy() calls of this tick count, as run()s would, though still undecided
    const loop = this.#loop;
    return loop.queue.items + this.#undecided >= loop.drainMark;
  }

  /**
   * Resolves once the queue is under the high-water mark (at once if it is).
   *
   * @example A producer with back-pressure
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 2, highWaterMark: 100 });
   * let most = 0;
   * for (let i = 0; i < 1_000; i++) {
   *   if (pool.needsDrain) await pool.drained();
   *   pool.submit((n: number) => n, i);
   *   most = Math.max(most, pool.jobs.length);
   * }
   * await pool.wait();
   * assert.ok(most <= 100);
   * assert.equal(pool.done.length, 1_000);
   * ```
   */
  drained(): Promise<void> {
    this.#proxyCalls.decide();
    return this.#loop.drained();
  }

  /**
   * Listens to the pool's events: `ready`, `workerstart`, `workerexit`,
   * `error`, `idle`, `full`, `drain`, `progress` (see {@linkcode PoolEventMap}).
   * Listeners run after the pool's bookkeeping, like callbacks; one that
   * throws is reported as an uncaught error and the pool goes on.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const seen: string[] = [];
   * pool.addEventListener("workerstart", (event) => seen.push(`start ${event.detail.name}`));
   * pool.addEventListener("idle", () => seen.push("idle"));
   * await pool.run((n: number) => n, 1);
   * await pool.wait();
   * assert.deepEqual(seen, ["start ThreadPool-1", "idle"]);
   * ```
   */
  override addEventListener<K extends keyof PoolEventMap>(
    type: K,
    listener: ((this: Pool<M>, event: PoolEventMap[K]) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Listens to any event type, untyped. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    const kind = typeof listener;
    if (listener != null && kind !== "function" && kind !== "object") {
      throw invalid(
        TypeError,
        "add event listener",
        "listener",
        "a function or an object",
        listener,
      );
    }
    super.addEventListener(type, listener && this.#listeners.guard(type, listener, this), options);
  }

  /**
   * Removes a listener added with `addEventListener`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * let starts = 0;
   * const count = () => starts++;
   * pool.addEventListener("workerstart", count);
   * await pool.run(() => 1);
   * pool.removeEventListener("workerstart", count);
   * pool.resize(2);
   * pool.map((n: number) => n, [1, 2, 3, 4]);
   * await pool.wait();
   * assert.equal(starts, 1);
   * ```
   */
  override removeEventListener<K extends keyof PoolEventMap>(
    type: K,
    listener: ((this: Pool<M>, event: PoolEventMap[K]) => void) | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Removes a listener of any event type. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    const guard = listener && this.#listeners.guardOf(type, listener);
    super.removeEventListener(type, guard ?? listener, options);
  }

  // --------------------------------------------------------------- lifecycle

  /**
   * Resolves `true` once nothing is pending, or `false` at the timeout.
   *
   * @param timeout Milliseconds to wait at most; none by default (a bad one
   * rejects, with a `RangeError` or `TypeError` naming it).
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.submit(() => 1);
   * assert.equal(await pool.wait(), true); // everything ended
   * const gate = new Int32Array(new SharedArrayBuffer(4));
   * pool.submit((g: Int32Array) => Atomics.wait(g, 0, 0, 5000), gate);
   * assert.equal(await pool.wait(10), false); // still running after 10 ms
   * Atomics.store(gate, 0, 1);
   * Atomics.notify(gate, 0);
   * assert.equal(await pool.wait(), true);
   * ```
   */
  wait(timeout?: number): Promise<boolean> {
    if (timeout !== undefined) {
      try {
        checkTimeout(timeout, "timeout", "wait");
      } catch (error) {
        return Promise.reject(error); // as shutdown() and every promise-returning call
      }
    }
    this.#proxyCalls.decide();
    return this.#idleWithin(timeout, reportGlobally); // no call is left to fail by then
  }

  /**
   * Whether the pool goes idle within `timeout`; a custom clock's
   * `clearTimer` that throws once it has is handed to `clearFailed`.
   */
  #idleWithin(
    timeout: number | undefined,
    clearFailed: (error: unknown) => void,
  ): Promise<boolean> {
    if (this.#loop.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: unknown;
      const forget = this.#loop.onIdle(() => {
        resolve(true);
        if (timer === undefined) return;
        try {
          this.#clock.clearTimer(timer);
        } catch (error) {
          clearFailed(error);
        }
      });
      if (timeout !== undefined && timeout !== Infinity) {
        timer = this.#clock.setTimer(() => {
          forget();
          resolve(false);
        }, timeout);
      }
    });
  }

  /**
   * Takes no new jobs; queued jobs still run (with `soon`, they are
   * cancelled); timers are cancelled; workers exit once idle.
   *
   * @returns `false` if jobs were still running at the timeout, or workers
   * had not left yet (a module's `teardown()` still running). A `clear()`
   * while it waits reopens the pool: it then resolves once the pool is idle
   * (`true`; `false` at the timeout), and the workers stay.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ maxChildren: 1 });
   * pool.submit((n: number) => n, 1);
   * assert.equal(await pool.shutdown(), true); // queued jobs ran first
   * assert.deepEqual([...pool.done], [1]);
   * assert.throws(() => pool.submit(() => 2), { name: "PoolClosedError" });
   * ```
   */
  async shutdown(timeout?: number, options: ShutdownOptions = {}): Promise<boolean> {
    if (timeout !== undefined) checkTimeout(timeout, "timeout", "shut down pool");
    checkOptionsObject(options, "shut down pool");
    checkOptionNames(options, SHUTDOWN_OPTION_NAMES, "shut down pool");
    if (options.soon !== undefined) checkBoolean(options.soon, "soon", "shut down pool");
    this.#proxyCalls.decide(); // calls made before it run, as run()s would
    // Before the cancellations: a cancelled callback's clear() overtakes this shutdown.
    const reopened = this.#reopened;
    this.#submitter.close();
    this.#loop.queue.close(); // submits must not join it now
    this.#loop.workers.drain(); // workers start only for the jobs left
    // A custom clock's clearTimer may throw: the shutdown goes on, and fails with it at the end.
    let clockFailure: { error: unknown } | undefined;
    try {
      this.#whole(() => {
        this.#scheduler.cancelAll();
        if (options.soon) {
          this.#loop.cancelAll(() => new PoolClosedError("Job cancelled: the pool shut down"));
        }
      });
    } catch (error) {
      clockFailure = { error };
    }
    const gone = await this.#workersGone(reopened, timeout, (error) => clockFailure ??= { error });
    if (clockFailure !== undefined) throw clockFailure.error;
    return gone;
  }

  /**
   * The rest of `shutdown()`, once nothing new is taken: waits for the jobs
   * left, then for the workers to go, within `timeout`.
   */
  async #workersGone(
    reopened: number,
    timeout: number | undefined,
    clearFailed: (error: unknown) => void,
  ): Promise<boolean> {
    let start: number;
    let idle: boolean;
    try {
      start = this.#clock.now();
      idle = await this.#idleWithin(timeout, clearFailed);
    } catch (error) {
      // A custom clock that throws: the shutdown fails with its error, but the workers still go.
      try {
        if (reopened === this.#reopened && this.#loop.pending === 0) this.#retireIdle();
        else this.#retireWhenIdle(reopened);
      } catch {
        // The clock's clearTimer too: the first error of the clock is the one to throw.
      }
      throw error;
    }
    if (reopened !== this.#reopened) return idle;
    if (!idle) {
      this.#retireWhenIdle(reopened);
      return false;
    }
    this.#retireIdle();
    // Workers still finishing an aborted job leave within `abortGrace`, and
    // a `teardown()` may take its time: the timeout bounds both.
    const left = timeout === undefined ? Infinity : timeout - (this.#clock.now() - start);
    return await settlesWithin(this.#clock, this.#loop.allGone(), left);
  }

  /**
   * A shutdown that did not wait for the jobs pending (it timed out, or its
   * clock threw): they still run, on workers that keep taking them, and the
   * workers leave once nothing is pending, unless the pool was reopened.
   */
  #retireWhenIdle(reopened: number): void {
    this.#loop.onIdle(() => {
      if (reopened !== this.#reopened) return;
      try {
        this.#retireIdle();
      } catch (error) {
        reportGlobally(error); // the clock's clearTimer: no call is left to fail
      }
    });
  }

  /** Retires the idle workers, whole (see `#whole`). */
  #retireIdle(): void {
    this.#whole(() => this.#loop.retireIdle());
  }

  /**
   * Stops now: running jobs fail with `PoolClosedError`, queued ones are cancelled.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool({ maxChildren: 1 });
   * const running = pool.run(() => new Promise(() => {})); // never settles
   * pool.terminate();
   * await assert.rejects(running);
   * assert.equal(pool.alive, 0);
   * ```
   */
  terminate(): void {
    this.#proxyCalls.decide();
    this.#submitter.close();
    this.#whole(() => {
      this.#scheduler.cancelAll();
      this.#loop.terminate(() => new PoolClosedError("Job cancelled: the pool was terminated"));
    });
  }

  /**
   * Runs the steps of a stopping pool whole: a custom clock's `clearTimer`
   * that throws among them is thrown once they are done, not halfway (see
   * `FailSafeClock`).
   */
  #whole(steps: () => void): void {
    if (this.#clock instanceof FailSafeClock) this.#clock.whole(steps);
    else steps();
  }

  /**
   * Cancels queued jobs: no `jobId` (or `null`) all of them, `false` none,
   * an id that job if still queued. `timers: true` also cancels every
   * delayed and scheduled job. A job a busy worker holds but has not
   * started counts as queued: its batch is taken back (see README,
   * "Idle workers take what others have not started").
   *
   * @returns Whether anything matched.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const id = pool.submit((n: number) => n, 1);
   * assert.equal(pool.cancel(id), true); // still queued: cancelled
   * assert.equal(pool.cancel(id), false); // nothing matches any more
   * await pool.wait();
   * assert.equal(pool.done.length, 0);
   * ```
   */
  cancel(jobId: JobId | null | false = null, timers = false): boolean {
    if (jobId !== null && jobId !== false && !Number.isInteger(jobId)) {
      const Class = typeof jobId === "number" ? RangeError : TypeError;
      throw invalid(Class, "cancel job", "jobId", "an integer, null or false", jobId);
    }
    checkBoolean(timers, "timers", "cancel job");
    this.#proxyCalls.decide();
    let matched = false;
    // One step for callbacks: a job a cancelledCallback delays is not one of the timers cancelled.
    this.#loop.asOne(() => {
      if (jobId === null) matched = this.#loop.cancelAll(cancellation) > 0;
      else if (jobId !== false) matched = this.#loop.cancelOne(jobId, cancellation);
      if (timers && this.#scheduler.cancelAll() > 0) matched = true;
    });
    return matched;
  }

  /**
   * Empties `jobs`, `done` and `failed`, zeroes the counters; a shut-down pool accepts work again.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.submit(() => 1);
   * pool.clear();
   * await pool.wait();
   * assert.equal(pool.pending, 0);
   * assert.equal(await pool.run(() => "still open"), "still open");
   * ```
   */
  clear(): void {
    this.#proxyCalls.decide();
    // One step for callbacks: a cancelledCallback that calls terminate() saw
    // the pool before it was emptied and reopened, and its failures were
    // wiped and the pool reopened after it.
    this.#loop.asOne(() => {
      this.#loop.cancelAll(cancellation);
      this.#results.clear();
      this.#reopened++;
      this.#submitter.reopen();
      this.#loop.reopen();
    });
  }

  /**
   * Changes `maxChildren` (with fastthreadpool's arithmetic). Idle workers
   * above it leave now; busy ones finish their jobs first, unless another
   * worker goes idle meanwhile: that one leaves in their place.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * pool.resize(4);
   * assert.equal(pool.maxChildren, 4);
   * assert.throws(() => pool.resize(1.5), RangeError);
   * ```
   */
  resize(maxChildren: number): void {
    if (maxChildren === undefined) {
      throw invalid(TypeError, "resize pool", "maxChildren", "an integer", maxChildren);
    }
    const size = resolveMaxChildren(maxChildren, "resize pool");
    this.#whole(() => this.#loop.resize(size)); // a clock's clearTimer fails it once it is done
  }
  /**
   * Replaces every worker with a fresh one (tinypool's `recycleWorkers()`):
   * idle workers at once, busy ones once they have finished what they hold;
   * each runs the task module's `teardown()` on the way out (`workerexit`
   * reason `recycle`). Fresh ones start at once up to `minChildren`, the
   * rest on demand, as any worker does. No job fails, is lost or runs twice
   * because of it.
   *
   * @returns A promise that resolves once every worker there was at the call
   * has gone.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1 });
   * const name = () => (globalThis as { name?: string }).name;
   * const before = await pool.run(name);
   * await pool.recycle();
   * assert.notEqual(await pool.run(name), before);
   * ```
   */
  recycle(): Promise<void> {
    this.#tasks.forgetExports(); // the new workers may load an edited task module
    let recycled!: Promise<void>;
    try {
      this.#whole(() => recycled = this.#loop.recycle());
    } catch (error) {
      return Promise.reject(error); // a clock's clearTimer, once every worker was seen to
    }
    return recycled;
  }

  /**
   * `await using pool = new Pool()` shuts it down at scope end.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * let closed: Pool;
   * {
   *   await using pool = new Pool({ maxChildren: 1 });
   *   closed = pool;
   *   pool.submit(() => 1);
   * } // shut down here: queued jobs finish first
   * assert.deepEqual([...closed.done], [1]);
   * assert.equal(closed.alive, 0);
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  // ------------------------------------------------------------- internals

  /** Where `done` sends results; `true` is the pool's default (`doneCallback`, or `done`). */
  #dest(done: unknown): Destination {
    return checkDone(done, this.#submitter.defaultTarget);
  }
}

export type { PoolEventMap };
