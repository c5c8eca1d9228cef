/**
 * `Pool`: the public facade. It keeps the queue (`jobs`), the slots (one per
 * worker) and the results, and moves jobs between them: submits queue jobs,
 * a flush at the end of the tick sends them in batches (see `dispatch.ts`),
 * and each `results` message ends jobs in the order they were sent.
 *
 * @module
 */

import { Deque } from "../deque.ts";
import { PoolClosedError, QueueFullError, TaskTimeoutError, WorkerCrashedError } from "../errors.ts";
import { decodeError, isTransferred } from "../protocol/codec.ts";
import { assertNever, type FromWorker, Mode, PROTOCOL_VERSION, Status, Tag, type TaskSpec } from "../protocol/messages.ts";
import type { Semaphore } from "../sync/semaphore.ts";
import { toWire } from "../sync/wire.ts";
import { type Clock, systemClock } from "../timers/clock.ts";
import { Scheduler, type TimerHandle } from "../timers/scheduler.ts";
import type { AnyFunction, TaskRef } from "../task.ts";
import { capacity, chooseSlot } from "./dispatch.ts";
import { type Deferred, Job, type QueuedJob, Sink } from "./job.ts";
import { checkDuration, type PoolOptions, resolveMaxChildren, resolveOptions, type ResolvedOptions } from "./options.ts";
import { ResultStream } from "./result_stream.ts";
import { Results } from "./results.ts";
import { TaskRegistry } from "./task_registry.ts";
import { type SlotHost, WorkerSlot } from "./worker_slot.ts";
import { defaultWorkerUrl } from "./worker_url.ts";

/** A job's id: a number unique for the pool's life. */
export type JobId = number;

/** What receives a job's results: a callback, `true` (to `done`) or `false` (discarded). */
export type DoneTarget = ((result: unknown, jobId: JobId) => void) | boolean;

/** The names of `M`'s exports that are functions. */
export type TaskName<M> = { [K in keyof M]: M[K] extends AnyFunction ? K : never }[keyof M] & string;

/** Anything a pool accepts as a task, given its task module's type `M`. */
export type Task<M> = TaskName<M> | AnyFunction | TaskRef;

/** The function behind a task. */
export type TaskFunction<M, T> = T extends string ? (T extends keyof M ? M[T] : never)
  : T extends TaskRef<infer F> ? F
  : T;

/** A task's parameters. */
export type TaskArgs<F> = F extends (...args: infer A) => unknown ? A : unknown[];

/** One result of a task: what it returns (awaited), or each value a generator yields. */
export type TaskResult<F> = F extends (...args: never[]) => infer R
  ? R extends Generator<infer Y, unknown, unknown> | AsyncGenerator<infer Y, unknown, unknown> ? Y
  : Awaited<R>
  : unknown;

/** What `run()` resolves with: the result, or all of a generator's values as an array. */
export type RunResult<F> = F extends (...args: never[]) => infer R
  ? R extends Generator<infer Y, unknown, unknown> | AsyncGenerator<infer Y, unknown, unknown> ? Y[]
  : Awaited<R>
  : unknown;

/** Options of {@linkcode Pool.exec}. */
export interface ExecOptions {
  /** Aborting cancels the job if queued, or replaces its worker if running; the promise rejects with the reason. */
  signal?: AbortSignal;
  /** Values to move, not copy, with the arguments. */
  transfer?: Transferable[];
  /** Milliseconds the job may run; past it, it fails with `TaskTimeoutError` and its worker is replaced. */
  timeout?: number;
  /**
   * Queue the job at the front.
   *
   * @default {false}
   */
  first?: boolean;
}

/** Options of {@linkcode Pool.shutdown}. */
export interface ShutdownOptions {
  /**
   * Cancel queued jobs instead of running them.
   *
   * @default {false}
   */
  soon?: boolean;
}

/** A read-only view of a queue. */
export interface ReadonlyDeque<T> extends Iterable<T> {
  /** How many entries it holds. */
  readonly length: number;
  /** The entry at `index` from the front (negative: from the back). */
  at(index: number): T | undefined;
}

const MAX_START_FAILURES = 3;
const START_BACKOFF_MS = 50;

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
export class Pool<M extends object = Record<string, AnyFunction>> implements AsyncDisposable {
  readonly #options: ResolvedOptions;
  readonly #clock: Clock;
  readonly #tasks: TaskRegistry;
  readonly #queue = new Deque<Job>();
  readonly #results: Results;
  readonly #scheduler: Scheduler;
  readonly #slots: WorkerSlot[] = [];
  readonly #workerUrl: URL;
  readonly #host: SlotHost = {
    onMessage: (slot, message) => this.#onMessage(slot, message),
    onCrash: (slot, cause) => this.#onCrash(slot, cause),
  };
  #nextId = 1;
  #nextSlot = 1;
  #queuedItems = 0;
  #pending = 0;
  #msPerJob = NaN;
  #flushQueued = false;
  #closed = false;
  #closing = false;
  #idleWaiters: (() => void)[] = [];
  #startFailures = 0;
  #backoff: unknown = undefined;
  readonly #flushNow = () => this.#flush();

  /**
   * Creates a pool. Workers start on demand, up to `maxChildren`;
   * `minChildren` of them start at once.
   *
   * @throws {TypeError | RangeError} If an option has the wrong type or range.
   */
  constructor(options: PoolOptions = {}) {
    this.#options = resolveOptions(options);
    this.#clock = options.clock ?? systemClock;
    this.#tasks = new TaskRegistry(this.#options.module !== null);
    this.#results = new Results(this.#options);
    this.#scheduler = new Scheduler(this.#clock);
    this.#workerUrl = this.#options.workerUrl ?? defaultWorkerUrl();
    this.#keepMinimum();
  }

  // ---------------------------------------------------------------- submit

  /**
   * Queues a job at the back; its result goes to `done` (or `doneCallback`).
   *
   * @returns The job's id.
   * @throws {PoolClosedError} After `shutdown()` or `terminate()`.
   * @throws {QueueFullError} When `maxQueue` jobs are queued.
   * @throws {TypeError} If `task` is not a task.
   */
  submit<T extends Task<M>>(task: T, ...args: TaskArgs<TaskFunction<M, T>>): JobId {
    return this.#submit(task, args, this.#defaultDone(), false);
  }

  /**
   * Like `submit`, with `done`: a callback `(result, jobId)`, `true` (to
   * `done`) or `false` (discarded).
   */
  submitDone<T extends Task<M>>(task: T, done: DoneTarget, ...args: TaskArgs<TaskFunction<M, T>>): JobId {
    return this.#submit(task, args, checkDone(done), false);
  }

  /** Like `submit`, at the front of the queue. */
  submitFirst<T extends Task<M>>(task: T, ...args: TaskArgs<TaskFunction<M, T>>): JobId {
    return this.#submit(task, args, this.#defaultDone(), true);
  }

  /** Like `submitDone`, at the front of the queue. */
  submitDoneFirst<T extends Task<M>>(task: T, done: DoneTarget, ...args: TaskArgs<TaskFunction<M, T>>): JobId {
    return this.#submit(task, args, checkDone(done), true);
  }

  /**
   * After `delay` ms, queues a job at the front.
   *
   * @returns A handle whose `cancel()` stops it before it fires.
   */
  submitLater<T extends Task<M>>(delay: number, task: T, ...args: TaskArgs<TaskFunction<M, T>>): TimerHandle {
    return this.#later(delay, task, args, this.#defaultDone());
  }

  /** Like `submitLater`, with a `done` target as in `submitDone`. */
  submitDoneLater<T extends Task<M>>(
    delay: number,
    task: T,
    done: DoneTarget,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): TimerHandle {
    return this.#later(delay, task, args, checkDone(done));
  }

  /**
   * Queues a job every `interval` ms on a fixed grid (no drift). A tick is
   * skipped while the previous run is still pending, and missed ticks are
   * skipped, not bunched.
   */
  schedule<T extends Task<M>>(interval: number, task: T, ...args: TaskArgs<TaskFunction<M, T>>): TimerHandle {
    return this.#every(interval, task, args, this.#defaultDone());
  }

  /** Like `schedule`, with a `done` target as in `submitDone`. */
  scheduleDone<T extends Task<M>>(
    interval: number,
    task: T,
    done: DoneTarget,
    ...args: TaskArgs<TaskFunction<M, T>>
  ): TimerHandle {
    return this.#every(interval, task, args, checkDone(done));
  }

  /**
   * Queues one job per item of `iterable` (each item is the one argument).
   * Items travel in chunks sized from the measured job time.
   *
   * @param done As in `submitDone`.
   * @returns How many jobs were queued; their ids are consecutive.
   */
  map<T extends Task<M>>(task: T, iterable: Iterable<TaskArgs<TaskFunction<M, T>>[0]>, done: DoneTarget = true): number {
    const [sink, target] = checkDone(done);
    this.#checkOpen();
    const index = this.#tasks.indexOf(task);
    if (iterable === null || typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
      throw new TypeError(`Cannot map: "iterable" must be iterable, received ${typeof iterable}`);
    }
    const items: unknown[] = [];
    for (const item of iterable as Iterable<unknown>) {
      if (typeof item === "object" && item !== null) {
        if (isTransferred(item)) {
          throw new TypeError("Cannot map: items cannot be transfer()ed; submit them one by one instead");
        }
        items.push(toWire(item) ?? item);
      } else {
        items.push(item);
      }
    }
    const n = items.length;
    if (n === 0) return 0;
    if (this.#queuedItems + n > this.#options.maxQueue) throw new QueueFullError(this.#options.maxQueue);
    const job = new Job(this.#nextId, index, Mode.MAP, items, 0, n, sink, target, null);
    this.#nextId += n;
    this.#enqueue(job, false);
    return n;
  }

  /**
   * Runs one job; the promise settles with it (it is not put in
   * `done`/`failed`). A generator task resolves with all its values.
   */
  run<T extends Task<M>>(task: T, ...args: TaskArgs<TaskFunction<M, T>>): Promise<RunResult<TaskFunction<M, T>>> {
    return this.exec(task, args);
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
  exec<T extends Task<M>>(
    task: T,
    args: TaskArgs<TaskFunction<M, T>>,
    options: ExecOptions = {},
  ): Promise<RunResult<TaskFunction<M, T>>> {
    const { signal, timeout, first = false } = options;
    if (!Array.isArray(args)) {
      return Promise.reject(new TypeError(`Cannot run job: "args" must be an array, received ${typeof args}`));
    }
    if (timeout !== undefined) checkDuration(timeout, "timeout", "run job");
    if (signal?.aborted) return Promise.reject(signal.reason);
    let resolve!: (value: RunResult<TaskFunction<M, T>>) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<RunResult<TaskFunction<M, T>>>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const deferred: Deferred = { resolve: resolve as (value: unknown) => void, reject, values: null };
    let job: Job;
    try {
      job = this.#submitJob(task, [...args], Sink.PROMISE, deferred, first);
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.transfer) job.transfer = [...(job.transfer ?? []), ...options.transfer];
    if (timeout !== undefined && timeout > 0) {
      job.exclusive = true;
      job.timeout = timeout;
    }
    if (signal) {
      job.exclusive = true;
      const onAbort = () => this.#abort(job, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      deferred.resolve = (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value as RunResult<TaskFunction<M, T>>);
      };
      deferred.reject = (reason) => {
        signal.removeEventListener("abort", onAbort);
        reject(reason);
      };
    }
    return promise;
  }

  /**
   * Runs a generator task and iterates its values as they are yielded. The
   * worker runs at most a small window ahead of the consumer; `return()`
   * (e.g. `break`) stops the task.
   */
  stream<T extends Task<M>>(task: T, ...args: TaskArgs<TaskFunction<M, T>>): AsyncIterableIterator<TaskResult<TaskFunction<M, T>>> {
    let job: Job | undefined;
    const stream = new ResultStream<TaskResult<TaskFunction<M, T>>>({
      credit: (n) => {
        if (job?.slot && !job.slot.dead) job.slot.send({ type: "credit", id: job.id, n });
      },
      stop: () => {
        if (!job || job.ended) return;
        if (job.slot === null) this.#dropQueued(job);
        else if (!job.slot.dead) job.slot.send({ type: "stop", id: job.id });
      },
    });
    job = this.#submitJob(task, args, Sink.STREAM, stream, false);
    job.mode = Mode.STREAM;
    job.exclusive = true;
    return stream;
  }

  // ----------------------------------------------------------- results, state

  /** Results of jobs, in the order they arrived (`[jobId, result]` with `resultId`). */
  get done(): Deque<unknown> {
    return this.#results.done;
  }

  /** Errors of failed jobs (`[jobId, error]` with `resultId`). */
  get failed(): Deque<unknown> {
    return this.#results.failed;
  }

  /** Released once per entry added to `done`: `await doneCount.acquire()`, then `done.shift()`. */
  get doneCount(): Semaphore {
    return this.#results.doneCount;
  }

  /** Released once per entry added to `failed`. */
  get failedCount(): Semaphore {
    return this.#results.failedCount;
  }

  /** Queued jobs, not yet sent to a worker. Read it; change it through `cancel()`. */
  get jobs(): ReadonlyDeque<QueuedJob> {
    return this.#queue;
  }

  /** Live workers. */
  get alive(): number {
    return this.#slots.length;
  }

  /** Workers running a job. */
  get busy(): number {
    let busy = 0;
    for (const slot of this.#slots) if (slot.inflightItems !== 0) busy++;
    return busy;
  }

  /** Queued plus running jobs. */
  get pending(): number {
    return this.#pending;
  }

  /** Live delayed jobs (`submitLater`). */
  get delayed(): readonly TimerHandle[] {
    return this.#scheduler.delayed;
  }

  /** Live scheduled jobs (`schedule`). */
  get scheduled(): readonly TimerHandle[] {
    return this.#scheduler.scheduled;
  }

  /** The most workers, after `resize`. */
  get maxChildren(): number {
    return this.#options.maxChildren;
  }

  /**
   * Iterates `done`, then `failed` entries as they arrive (failures are
   * yielded, not thrown), taking them out of the queues and their counters.
   *
   * @param wait `undefined`: until the pool is idle and both queues are
   * drained; `false`: only what is there now; a number: at most that many ms.
   */
  async *asCompleted(wait?: number | false): AsyncIterableIterator<unknown> {
    if (wait !== undefined && wait !== false) checkDuration(wait, "wait", "iterate results");
    const results = this.#results;
    const { done, failed } = results;
    let timer: unknown;
    let expired = false;
    const deadline = typeof wait === "number"
      ? new Promise<void>((resolve) => {
        timer = this.#clock.setTimer(() => {
          expired = true;
          resolve();
        }, wait);
      })
      : undefined;
    try {
      while (true) {
        while (done.length !== 0 || failed.length !== 0) {
          if (done.length !== 0) {
            const value = done.shift();
            results.doneCount.tryAcquire();
            yield value;
          } else {
            const error = failed.shift();
            results.failedCount.tryAcquire();
            yield error;
          }
        }
        if (wait === false || expired || this.#pending === 0) return;
        await (deadline ? Promise.race([results.changed(), deadline]) : results.changed());
      }
    } finally {
      if (timer !== undefined) this.#clock.clearTimer(timer);
    }
  }

  // --------------------------------------------------------------- lifecycle

  /**
   * Resolves `true` once nothing is pending, or `false` at the timeout.
   *
   * @param timeout Milliseconds to wait at most; none by default.
   */
  wait(timeout?: number): Promise<boolean> {
    if (timeout !== undefined) checkDuration(timeout, "timeout", "wait");
    if (this.#pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: unknown;
      const idle = () => {
        if (timer !== undefined) this.#clock.clearTimer(timer);
        resolve(true);
      };
      this.#idleWaiters.push(idle);
      if (timeout !== undefined) {
        timer = this.#clock.setTimer(() => {
          const i = this.#idleWaiters.indexOf(idle);
          if (i !== -1) this.#idleWaiters.splice(i, 1);
          resolve(false);
        }, timeout);
      }
    });
  }

  /**
   * Takes no new jobs; queued jobs still run (with `soon`, they are
   * cancelled); timers are cancelled; workers exit once idle.
   *
   * @returns `false` if jobs were still running at the timeout.
   */
  async shutdown(timeout?: number, options: ShutdownOptions = {}): Promise<boolean> {
    if (timeout !== undefined) checkDuration(timeout, "timeout", "shut down pool");
    this.#closed = true;
    this.#scheduler.cancelAll();
    if (options.soon) this.#cancelQueued(new PoolClosedError("Job cancelled: the pool shut down"));
    const idle = await this.wait(timeout);
    this.#closing = true;
    this.#clearBackoff();
    for (const slot of [...this.#slots]) if (slot.inflightItems === 0) this.#retire(slot);
    return idle;
  }

  /** Stops now: running jobs fail with `PoolClosedError`, queued ones are cancelled. */
  terminate(): void {
    this.#closed = true;
    this.#closing = true;
    this.#scheduler.cancelAll();
    this.#clearBackoff();
    this.#cancelQueued(new PoolClosedError("Job cancelled: the pool was terminated"));
    for (const slot of [...this.#slots]) {
      this.#removeSlot(slot);
      for (const job of slot.inflight) {
        if (job.ended) continue;
        for (let i = job.next; i < job.count; i++) {
          const id = job.id + i;
          this.#results.failure(job, id, new PoolClosedError(`Job ${id} was running when the pool was terminated`));
          this.#pending--;
        }
        job.ended = true;
      }
    }
    this.#afterChange();
  }

  /**
   * Cancels queued jobs: no `jobId` (or `null`) all of them, `false` none,
   * an id that job if still queued. `timers: true` also cancels every
   * delayed and scheduled job.
   *
   * @returns Whether anything matched.
   */
  cancel(jobId: JobId | null | false = null, timers = false): boolean {
    let matched = false;
    if (jobId === null) {
      matched = this.#cancelQueued(cancellation()) > 0;
    } else if (jobId !== false) {
      matched = this.#cancelOne(jobId);
    }
    if (timers && this.#scheduler.cancelAll() > 0) matched = true;
    return matched;
  }

  /** Empties `jobs`, `done` and `failed`, zeroes the counters; a shut-down pool accepts work again. */
  clear(): void {
    this.#cancelQueued(cancellation());
    this.#results.clear();
    this.#closed = false;
    this.#closing = false;
    this.#keepMinimum();
  }

  /**
   * Changes `maxChildren` (with fastthreadpool's arithmetic). Idle workers
   * above it leave now; busy ones finish their jobs first.
   */
  resize(maxChildren: number): void {
    const max = resolveMaxChildren(maxChildren, "resize pool");
    this.#options.maxChildren = max;
    if (this.#options.minChildren > max) this.#options.minChildren = max;
    let excess = this.#slots.filter((slot) => !slot.retiring).length - max;
    for (const slot of [...this.#slots]) {
      if (excess <= 0) break;
      if (!slot.retiring && slot.inflightItems === 0) {
        this.#retire(slot);
        excess--;
      }
    }
    for (let i = this.#slots.length - 1; i >= 0 && excess > 0; i--) {
      const slot = this.#slots[i]!;
      if (!slot.retiring) {
        slot.retiring = true;
        excess--;
      }
    }
    this.#keepMinimum();
    this.#flush();
  }

  /** `await using pool = new Pool()` shuts it down at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  // ------------------------------------------------------------- internals

  #defaultDone(): [number, unknown] {
    const callback = this.#options.doneCallback;
    return callback ? [Sink.CALLBACK, callback] : [Sink.DONE, null];
  }

  #checkOpen(): void {
    if (this.#closed) throw new PoolClosedError("Cannot submit job: pool is closed");
  }

  #submit(task: unknown, args: unknown[], [sink, target]: [number, unknown], first: boolean): JobId {
    return this.#submitJob(task, args, sink, target, first).id;
  }

  #submitJob(task: unknown, args: unknown[], sink: number, target: unknown, first: boolean): Job {
    this.#checkOpen();
    if (this.#queuedItems >= this.#options.maxQueue) throw new QueueFullError(this.#options.maxQueue);
    const index = this.#tasks.indexOf(task);
    let transfer: Transferable[] | null = null;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg === "object" && arg !== null) {
        if (isTransferred(arg)) {
          args[i] = arg.value;
          transfer = transfer ? transfer.concat(arg.list) : arg.list;
        } else {
          const wire = toWire(arg);
          if (wire !== undefined) args[i] = wire;
        }
      }
    }
    const job = new Job(this.#nextId++, index, Mode.CALL, args, 0, 1, sink, target, transfer);
    this.#enqueue(job, first);
    return job;
  }

  #enqueue(job: Job, first: boolean): void {
    if (this.#options.taskTimeout > 0) {
      job.exclusive = true;
      job.timeout = this.#options.taskTimeout;
    }
    if (first) this.#queue.unshift(job);
    else this.#queue.push(job);
    this.#queuedItems += job.count;
    this.#pending += job.count;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushNow);
    }
  }

  #later(delay: number, task: unknown, args: unknown[], [sink, target]: [number, unknown]): TimerHandle {
    this.#checkTimerJob(task, args, false);
    return this.#scheduler.later(delay, () => {
      if (!this.#closed) this.#submitFromTimer(task, args, sink, target, true);
    });
  }

  #every(interval: number, task: unknown, args: unknown[], [sink, target]: [number, unknown]): TimerHandle {
    this.#checkTimerJob(task, args, true);
    let last: Job | undefined;
    return this.#scheduler.every(
      interval,
      () => {
        if (!this.#closed) last = this.#submitFromTimer(task, args, sink, target, false) ?? last;
      },
      () => last !== undefined && !this.#hasEnded(last),
    );
  }

  /** Refuses a bad timer job now, not when the timer fires. */
  #checkTimerJob(task: unknown, args: unknown[], repeating: boolean): void {
    this.#checkOpen();
    this.#tasks.indexOf(task);
    if (repeating && args.some(isTransferred)) {
      throw new TypeError(
        "Cannot schedule job: its arguments cannot be transfer()ed, since a moved buffer is empty for every later run",
      );
    }
  }

  /**
   * Queues a job for a timer. A refusal (e.g. `QueueFullError`) cannot be
   * thrown to anyone, so it becomes that job's failure.
   */
  #submitFromTimer(task: unknown, args: unknown[], sink: number, target: unknown, first: boolean): Job | undefined {
    try {
      return this.#submitJob(task, [...args], sink, target, first);
    } catch (error) {
      const id = this.#nextId++;
      this.#results.failure(new Job(id, -1, Mode.CALL, [], 0, 1, sink, target, null), id, error);
      this.#afterChange();
      return undefined;
    }
  }

  /** Whether a job submitted earlier has ended (no longer queued nor in flight). */
  #hasEnded(job: Job): boolean {
    if (job.ended) return true;
    if (job.slot === null) return !this.#queueHas(job);
    return job.slot.dead || !slotHas(job.slot, job);
  }

  #queueHas(job: Job): boolean {
    for (const queued of this.#queue) if (queued === job) return true;
    return false;
  }

  /** Sends queued jobs to workers with room, and starts workers if needed. */
  #flush(): void {
    this.#flushQueued = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    const cap = capacity(this.#msPerJob);
    while (queue.length !== 0) {
      const slot = chooseSlot(this.#slots, cap, queue.at(0)!.exclusive);
      if (!slot) break;
      this.#send(slot, cap);
    }
    if (queue.length !== 0) this.#grow();
  }

  #grow(): void {
    if (this.#closing || this.#backoff !== undefined) return;
    const room = this.#options.maxChildren - this.#slots.length;
    const wanted = Math.min(room, this.#queuedItems);
    for (let i = 0; i < wanted; i++) this.#spawn();
    if (wanted > 0) this.#flush();
  }

  #keepMinimum(): void {
    if (this.#closing || this.#backoff !== undefined) return;
    while (this.#slots.length < this.#options.minChildren) {
      const slot = this.#spawn();
      this.#slotIdle(slot);
    }
  }

  #spawn(): WorkerSlot {
    const id = this.#nextSlot++;
    const name = `${this.#options.childNamePrefix}-${id}`;
    const slot = new WorkerSlot(id, this.#workerUrl, name, this.#host);
    const status = slot.status.buffer as SharedArrayBuffer;
    slot.send({ type: "init", version: PROTOCOL_VERSION, name, module: this.#options.module, status });
    this.#slots.push(slot);
    return slot;
  }

  /** Sends one batch to `slot`: queued jobs up to its room. */
  #send(slot: WorkerSlot, cap: number): void {
    const queue = this.#queue;
    const data: unknown[] = [];
    const firstEntry = slot.inflight.length;
    let transfer: Transferable[] | null = null;
    let items = 0;
    const room = cap - slot.inflightItems;
    let timed: Job | null = null;
    while (queue.length !== 0 && items < room) {
      let job = queue.at(0)!;
      if (job.exclusive && (items !== 0 || slot.inflightItems !== 0)) break;
      const limit = job.exclusive ? 1 : room - items;
      if (job.count > limit) job = job.take(limit);
      else queue.shift();
      encode(job, data);
      job.slot = slot;
      slot.inflight.push(job);
      items += job.count;
      if (job.transfer) transfer = transfer ? transfer.concat(job.transfer) : job.transfer;
      if (job.exclusive) {
        slot.exclusive = true;
        if (job.timeout > 0) timed = job;
        break;
      }
    }
    this.#queuedItems -= items;
    slot.inflightItems += items;
    this.#wake(slot);
    const specs = this.#tasks.specs;
    const taskBase = slot.knownTasks;
    const tasks = specs.length > taskBase ? specs.slice(taskBase) : null;
    slot.knownTasks = specs.length;
    try {
      slot.send({ type: "run", jobs: data, taskBase, tasks }, transfer ?? undefined);
    } catch (error) {
      this.#sendOneByOne(slot, firstEntry, taskBase, tasks, error);
    }
    if (timed) this.#armTimeout(slot, timed);
  }

  /**
   * `postMessage` refused a batch (a value that cannot be cloned): send its
   * jobs one by one, so only the bad ones fail.
   */
  #sendOneByOne(
    slot: WorkerSlot,
    firstEntry: number,
    taskBase: number,
    tasks: TaskSpec[] | null,
    batchError: unknown,
  ): void {
    const unsent: Job[] = [];
    while (slot.inflight.length > firstEntry) unsent.unshift(slot.inflight.pop()!);
    for (const job of unsent) slot.inflightItems -= job.count;
    slot.exclusive = false;
    let pendingTasks = tasks;
    for (const entry of unsent) {
      const units = entry.mode === Mode.MAP ? splitItems(entry) : [entry];
      for (const job of units) {
        const data: unknown[] = [];
        encode(job, data);
        try {
          slot.send({ type: "run", jobs: data, taskBase, tasks: pendingTasks }, job.transfer ?? undefined);
          pendingTasks = null;
          slot.inflight.push(job);
          slot.inflightItems += job.count;
          if (job.exclusive) slot.exclusive = true;
        } catch (error) {
          job.ended = true;
          this.#pending--;
          this.#results.failure(
            job,
            job.id,
            new TypeError(`Cannot send job ${job.id}: an argument cannot be cloned (${(error as Error).message})`, {
              cause: error === batchError ? error : batchError,
            }),
          );
        }
      }
    }
    if (pendingTasks) slot.knownTasks = taskBase;
    if (slot.inflightItems === 0) this.#slotIdle(slot);
    this.#afterChange();
  }

  #armTimeout(slot: WorkerSlot, job: Job): void {
    const timeout = job.timeout;
    this.#clock.setTimer(() => {
      if (job.ended || job.slot !== slot || slot.dead || !slotHas(slot, job)) return;
      job.ended = true;
      this.#pending--;
      this.#results.failure(job, job.id, new TaskTimeoutError(job.id, timeout));
      this.#replace(slot);
    }, timeout);
  }

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    switch (message.type) {
      case "results":
        this.#onResults(slot, message.data, message.jobs, message.ms);
        break;
      case "ready":
        slot.ready = true;
        this.#startFailures = 0;
        break;
      case "fatal":
        this.#onStartFailure(slot, decodeError(message.error));
        break;
      case "exit":
        this.#onCrash(slot, new Error(`Worker ended itself: ${message.how}`));
        break;
      default:
        assertNever(message);
    }
  }

  /** Ends jobs in the order they were sent; see `protocol/messages.ts`. */
  #onResults(slot: WorkerSlot, data: unknown[], jobs: number, ms: number): void {
    if (jobs > 0) {
      const sample = ms / jobs;
      this.#msPerJob = this.#msPerJob === this.#msPerJob ? 0.7 * this.#msPerJob + 0.3 * sample : sample;
    }
    const results = this.#results;
    const inflight = slot.inflight;
    let job = inflight.at(0)!;
    for (let i = 0; i < data.length; i += 2) {
      const tag = data[i];
      if (tag === Tag.YIELD) {
        if (!job.ended) results.value(job, job.id + job.next, data[i + 1], true);
        continue;
      }
      let items = 1;
      if (!job.ended) {
        const id = job.id + job.next;
        switch (tag) {
          case Tag.RETURN:
            results.value(job, id, data[i + 1], false);
            break;
          case Tag.THROW:
            results.failure(job, id, decodeError(data[i + 1]));
            break;
          case Tag.END:
            results.end(job);
            break;
          default: // Tag.SKIPPED: a job asked back before it started
            items = job.count - job.next;
            this.#pending += items;
            this.#requeue([job]);
        }
        this.#pending -= items;
      } else if (tag === Tag.SKIPPED) {
        items = job.count - job.next;
      }
      slot.inflightItems -= items;
      slot.endedItems = (slot.endedItems + items) | 0;
      job.next += items;
      if (job.next >= job.count) {
        inflight.shift();
        job = inflight.at(0)!;
      }
    }
    if (slot.inflightItems === 0) {
      slot.exclusive = false;
      this.#slotIdle(slot);
    }
    this.#flush();
    this.#afterChange();
  }

  /** Commits results and, once nothing is pending, wakes `wait()`ers. */
  #afterChange(): void {
    this.#results.commit();
    if (this.#pending === 0 && this.#idleWaiters.length !== 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  #wake(slot: WorkerSlot): void {
    if (slot.idleTimer !== undefined) {
      this.#clock.clearTimer(slot.idleTimer);
      slot.idleTimer = undefined;
    }
    slot.hold(true);
  }

  #slotIdle(slot: WorkerSlot): void {
    slot.hold(false);
    if (slot.retiring || this.#closing) {
      this.#retire(slot);
      return;
    }
    if (slot.idleTimer === undefined && this.#slots.length > this.#options.minChildren) {
      slot.idleTimer = this.#clock.setTimer(() => {
        slot.idleTimer = undefined;
        if (slot.inflightItems === 0 && !slot.dead && this.#slots.length > this.#options.minChildren) {
          this.#retire(slot);
        }
      }, this.#options.idleTimeout, { unref: true });
    }
  }

  #retire(slot: WorkerSlot): void {
    this.#removeSlot(slot);
  }

  #removeSlot(slot: WorkerSlot): void {
    if (slot.idleTimer !== undefined) {
      this.#clock.clearTimer(slot.idleTimer);
      slot.idleTimer = undefined;
    }
    if (!slot.dead) slot.terminate();
    const i = this.#slots.indexOf(slot);
    if (i !== -1) this.#slots.splice(i, 1);
  }

  /** Kills a worker whose running job was abandoned, and requeues the rest of its jobs. */
  #replace(slot: WorkerSlot): void {
    this.#removeSlot(slot);
    const rest = [...slot.inflight].filter((job) => !job.ended);
    this.#requeue(rest.map((job) => unstarted(job)));
    this.#keepMinimum();
    this.#flush();
    this.#afterChange();
  }

  /**
   * A worker died. The job it was running (its status memory tells which)
   * fails with `WorkerCrashedError`; jobs it finished but had not reported,
   * and jobs it had not started, go back to the front of the queue.
   */
  #onCrash(slot: WorkerSlot, cause: unknown): void {
    if (!slot.ready) {
      this.#onStartFailure(slot, cause);
      return;
    }
    this.#removeSlot(slot);
    const unreported = (Atomics.load(slot.status, Status.STARTED) - slot.endedItems) | 0;
    const again: Job[] = [];
    let position = 0;
    for (const job of slot.inflight) {
      const remaining = job.count - job.next;
      const culprit = unreported - position - 1; // index of the crashed job in this entry
      if (!job.ended) {
        if (culprit >= 0 && culprit < remaining) {
          if (culprit > 0) again.push(part(job, job.next, culprit));
          const id = job.id + job.next + culprit;
          this.#pending--;
          this.#results.failure(job, id, new WorkerCrashedError(slot.id, id, { cause }));
          if (culprit + 1 < remaining) again.push(part(job, job.next + culprit + 1, remaining - culprit - 1));
        } else {
          again.push(part(job, job.next, remaining));
        }
      }
      position += remaining;
    }
    this.#requeue(again);
    this.#keepMinimum();
    this.#flush();
    this.#afterChange();
  }

  /** A worker failed to start (e.g. the task module did not import). */
  #onStartFailure(slot: WorkerSlot, cause: unknown): void {
    this.#removeSlot(slot);
    this.#requeue([...slot.inflight].filter((job) => !job.ended).map(unstarted));
    if (++this.#startFailures >= MAX_START_FAILURES) {
      this.#startFailures = 0;
      const message = `workers failed to start ${MAX_START_FAILURES} times in a row`;
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
        for (let i = 0; i < job.count; i++) {
          const id = job.id + i;
          this.#results.failure(job, id, new Error(`Cannot run job ${id}: ${message}`, { cause }));
        }
        this.#pending -= job.count;
      }
      this.#queuedItems = 0;
    } else {
      const delay = START_BACKOFF_MS * 2 ** (this.#startFailures - 1);
      this.#clearBackoff();
      this.#backoff = this.#clock.setTimer(() => {
        this.#backoff = undefined;
        this.#keepMinimum();
        this.#flush();
      }, delay);
    }
    this.#afterChange();
  }

  #clearBackoff(): void {
    if (this.#backoff !== undefined) {
      this.#clock.clearTimer(this.#backoff);
      this.#backoff = undefined;
    }
  }

  /** Puts jobs back at the front of the queue, in their order. */
  #requeue(jobs: Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      job.slot = null;
      job.next = 0;
      this.#queue.unshift(job);
      this.#queuedItems += job.count;
    }
  }

  #abort(job: Job, reason: unknown): void {
    if (job.ended) return;
    if (job.slot === null) {
      this.#dropQueued(job);
      this.#results.cancelled(job, job.id, reason);
    } else {
      job.ended = true;
      this.#pending -= job.count - job.next;
      this.#results.failure(job, job.id, reason);
      this.#replace(job.slot);
    }
    this.#afterChange();
  }

  /** Takes a queued job out of the queue without reporting it. */
  #dropQueued(job: Job): void {
    const queue = this.#queue;
    for (let i = 0; i < queue.length; i++) {
      if (queue.at(i) === job) {
        queue.removeAt(i);
        job.ended = true;
        this.#queuedItems -= job.count;
        this.#pending -= job.count;
        this.#afterChange();
        return;
      }
    }
  }

  #cancelQueued(reason: unknown): number {
    let cancelled = 0;
    for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
      job.ended = true;
      for (let i = 0; i < job.count; i++) this.#results.cancelled(job, job.id + i, reason);
      cancelled += job.count;
    }
    this.#queuedItems = 0;
    this.#pending -= cancelled;
    this.#afterChange();
    return cancelled;
  }

  #cancelOne(id: JobId): boolean {
    const queue = this.#queue;
    for (let i = 0; i < queue.length; i++) {
      const job = queue.at(i)!;
      const k = id - job.id;
      if (k < 0 || k >= job.count) continue;
      if (job.count === 1) {
        queue.removeAt(i);
        job.ended = true;
      } else if (k === 0) {
        job.take(1);
      } else if (k === job.count - 1) {
        job.count--;
      } else {
        const head = job.take(k);
        job.take(1);
        queue.insert(i, head);
      }
      this.#queuedItems--;
      this.#pending--;
      this.#results.cancelled(job, id, cancellation());
      this.#afterChange();
      return true;
    }
    return false;
  }
}

function checkDone(done: unknown): [number, unknown] {
  if (done === true) return [Sink.DONE, null];
  if (done === false) return [Sink.DISCARD, null];
  if (typeof done === "function") return [Sink.CALLBACK, done];
  throw new TypeError(`Cannot submit job: "done" must be a function or a boolean, received ${typeof done}`);
}

function cancellation(): DOMException {
  return new DOMException("Job was cancelled", "AbortError");
}

/** Appends a job's header and values to a `run` message's flat array. */
function encode(job: Job, data: unknown[]): void {
  const args = job.args;
  if (job.mode === Mode.MAP) {
    data.push(job.id, job.task, Mode.MAP, job.count);
    for (let i = job.offset, end = job.offset + job.count; i < end; i++) data.push(args[i]);
  } else {
    data.push(job.id, job.task, job.mode, args.length);
    for (let i = 0; i < args.length; i++) data.push(args[i]);
  }
}

/** The jobs `from` … `from + n - 1` (relative to its first) of an entry, as an entry of their own. */
function part(job: Job, from: number, n: number): Job {
  if (job.mode !== Mode.MAP) return unstarted(job);
  const slice = new Job(job.id + from, job.task, Mode.MAP, job.args, job.offset + from, n, job.sink, job.target, null);
  return slice;
}

function unstarted(job: Job): Job {
  return job.next === 0 ? job : part(job, job.next, job.count - job.next);
}

function splitItems(job: Job): Job[] {
  const jobs: Job[] = [];
  for (let i = 0; i < job.count; i++) jobs.push(part(job, i, 1));
  return jobs;
}

function slotHas(slot: WorkerSlot, job: Job): boolean {
  for (const entry of slot.inflight) if (entry === job) return true;
  return false;
}
