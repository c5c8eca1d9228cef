/**
 * Turning calls into queued jobs: ids, the checks every submit makes
 * (closed pool, `maxQueue`, a known task), arguments prepared for the wire
 * (moved buffers detached now, shared primitives unwrapped), one-argument
 * submits joining the queue's open entry, `map` items copied, async sources
 * read with back-pressure, and jobs that timers queue.
 *
 * @module
 */

import { describe } from "../_checks.ts";
import { itemsPastRoom, PoolClosedError, QueueFullError } from "../errors.ts";
import { isTransferred } from "../protocol/codec.ts";
import { hasSharedMemory } from "../sync/_memory.ts";
import { toWire } from "../sync/wire.ts";
import type { Scheduler, TimerHandle } from "../timers/scheduler.ts";
import { ASYNC_CHUNK, detachNow, isAsyncOnly, mapItems, RUNS } from "./arguments.ts";
import { Collector } from "./collector.ts";
import type { DispatchLoop } from "./dispatch_loop.ts";
import {
  abortWith,
  callJob,
  type Deferred,
  type Destination,
  type Job,
  type JobPolicy,
  mapJob,
  PLAIN,
  Sink,
  streamJob,
  TO_DONE,
} from "./job.ts";
import type { JobEnds } from "./job_ends.ts";
import type { JobQueue } from "./job_queue.ts";
import type { ResolvedOptions } from "./options.ts";
import { ResultStream } from "./result_stream.ts";
import { CLOSED, Closing, iteratorResult, sourceIterator, stopSource } from "./source_reads.ts";
import type { Results } from "./results.ts";
import type { TaskRegistry } from "./task_registry.ts";
import type { ExecOptions, JobId } from "./types.ts";
import { clearTimeout, setTimeout } from "../_event_loop.ts";

/**
 * Where the job ids of pools made from now on start. Tests move it near 2^32
 * to run jobs across where an id's low 32 bits wrap.
 */
export const jobIds = { first: 1 };

/**
 * The most arguments one job takes: an engine passes only so many to one
 * call, fewer on a worker's stack (Deno failed at 200,000 on the main thread
 * with "Maximum call stack size exceeded", which named nothing).
 */
const MAX_JOB_ARGS = 65_536;

/** Throws the `RangeError` of a job of more than `MAX_JOB_ARGS` arguments (also `ClusterPool`'s). */
export function checkArgCount(count: number): void {
  if (count > MAX_JOB_ARGS) {
    throw new RangeError(
      `Cannot submit job: ${count} arguments, more than the ${MAX_JOB_ARGS} a job takes (a worker's call could not pass them); pass them as one array`,
    );
  }
}

/** Queues the jobs of one pool. */
export class Submitter {
  #nextId = jobIds.first;
  #closed = false;
  readonly #options: ResolvedOptions;
  readonly #tasks: TaskRegistry;
  readonly #loop: DispatchLoop;
  readonly #queue: JobQueue;
  readonly #ends: JobEnds;
  readonly #results: Results;
  readonly #scheduler: Scheduler;
  /** Where results go when the caller names no destination: `doneCallback`, or `done`. */
  readonly defaultTarget: Destination;
  /**
   * How a job runs unless its call says otherwise: with `taskTimeout`, each
   * job has that limit (and shares its worker, with a timer of its own,
   * unless `#timedAlone`).
   */
  readonly #policy: JobPolicy;

  constructor(
    options: ResolvedOptions,
    tasks: TaskRegistry,
    loop: DispatchLoop,
    results: Results,
    scheduler: Scheduler,
  ) {
    this.#options = options;
    this.#tasks = tasks;
    this.#loop = loop;
    this.#queue = loop.queue;
    this.#ends = loop.ends;
    this.#results = results;
    this.#scheduler = scheduler;
    const callback = options.doneCallback;
    this.defaultTarget = callback ? { kind: Sink.CALLBACK, callback } : TO_DONE;
    this.#timedAlone = options.concurrentTasksPerWorker === 1 &&
      (!hasSharedMemory || options.abortGrace === Infinity);
    this.#policy = options.taskTimeout > 0
      ? {
        exclusive: this.#timedAlone,
        timeout: options.taskTimeout,
        priority: 0,
      }
      : PLAIN;
  }

  /**
   * A job with a time limit has its worker to itself on one lane where the
   * pool cannot see a job start (no shared memory: its clock would run from
   * its send, behind other jobs), or where a worker is never replaced for a
   * job that ignores its limit (`abortGrace: Infinity`: the jobs batched
   * behind it would wait for ever). Elsewhere it shares its worker.
   */
  readonly #timedAlone: boolean;

  /** The id the next job will get. */
  get nextId(): number {
    return this.#nextId;
  }

  /** Whether it refuses submits (see {@linkcode close}). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Refuses submits from now on (`shutdown`, `terminate`). */
  close(): void {
    this.#closed = true;
    this.#closing.close();
  }

  /** Takes submits again (`clear`). */
  reopen(): void {
    this.#closed = false;
    this.#closing.reopen();
  }

  /** What pending reads of async sources race (see {@linkcode mapAsync}). */
  readonly #closing = new Closing();

  /**
   * `pool.submit(task, ...args)`. The hot path: a run of one-argument
   * submits of one task joins the queue's open entry (see
   * `DispatchLoop.openEntry`); every other case, and the checks due at the
   * entry's limit, take {@linkcode add}.
   */
  submit(task: unknown, args: unknown[]): JobId {
    if (args.length === 1) {
      const arg = args[0];
      if (
        (typeof arg !== "object" || arg === null) &&
        this.#queue.tryJoin(task, this.defaultTarget, arg)
      ) {
        this.#ends.added(1);
        return this.#nextId++;
      }
    }
    return this.add(task, args, this.defaultTarget, false);
  }

  /** How many items of an async source to hold at most: the queue's room under its mark, at least 1. */
  #readRoom(): number {
    const room = this.#loop.drainMark - this.#queue.items;
    return room > 1 ? room : 1;
  }

  /** `pool.collect(task, iterable)`: the results in input order, or the first failure. */
  collect(task: unknown, iterable: Iterable<unknown> | AsyncIterable<unknown>): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const collector = new Collector(resolve, reject);
      if (isAsyncOnly(iterable)) {
        // Each chunk's first id is known once its items are read (reading may submit).
        const destAt = (firstIndex: number, firstId: number): Destination => ({
          kind: Sink.COLLECT,
          collect: { collector, firstId, firstIndex },
        });
        this.mapAsync(task, iterable, destAt, "collect", collector).then(
          () => collector.close(),
          (error) => collector.abort(error),
        );
        return;
      }
      // Its first id is known once the items are read (reading may submit).
      const destFrom = (firstId: number): Destination => ({
        kind: Sink.COLLECT,
        collect: { collector, firstId, firstIndex: 0 },
      });
      try {
        // Results arrive in later tasks, so the count may come after the jobs.
        collector.add(this.map(task, iterable, destFrom, "collect"));
        collector.close();
      } catch (error) {
        reject(error);
      }
    });
  }

  /**
   * `pool.run(task, arg)` with one argument: like {@linkcode submit}'s hot
   * path, the job joins the open entry of runs, its promise's `deferred`
   * beside its argument; anything else takes {@linkcode add}.
   */
  run(task: unknown, args: unknown[], deferred: Deferred): void {
    const arg = args[0];
    if ((typeof arg !== "object" || arg === null) && this.#queue.tryJoin(task, RUNS, arg)) {
      (this.#queue.open!.dest as { deferreds: Deferred[] }).deferreds.push(deferred);
      this.#ends.added(1);
      this.#nextId++;
      return;
    }
    this.add(task, args, RUNS, false, deferred);
  }

  /**
   * `pool.exec(task, args, options)`, its arguments checked: one job alone,
   * its promise settled by the job's end, aborted by `signal`, limited by
   * `timeout`.
   */
  exec(task: unknown, args: readonly unknown[], options: ExecOptions): Promise<unknown> {
    const { signal, timeout, first = false, priority = 0 } = options;
    if (signal?.aborted) {
      // Refused at once, no job made; a closed pool or a bad task still says so.
      try {
        this.checkOpen();
        this.#tasks.indexOf(task);
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.reject(signal.reason);
    }
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const deferred: Deferred = { resolve, reject, values: null, onProgress: options.onProgress };
    // A timed job shares its worker, with a timer of its own (see
    // BatchSender.send), unless `#timedAlone`; an abortable one, on one
    // lane, has it to itself. (A timed job that had its worker to itself
    // cost a round trip each: a map of 50,000 with taskTimeout took 4.4 s on
    // Deno, 3.7 s on Bun.)
    const alone = this.#options.concurrentTasksPerWorker === 1;
    let { exclusive, timeout: limit } = this.#policy;
    if (timeout === Infinity || timeout === 0) {
      limit = 0; // no limit, not even taskTimeout
      exclusive = false;
    } else if (timeout !== undefined) {
      limit = timeout;
      exclusive = this.#timedAlone;
    }
    if (signal && alone) exclusive = true;
    const policy: JobPolicy = {
      exclusive,
      timeout: limit,
      priority,
      abortable: !!signal && !alone,
    };
    let job: Job;
    try {
      const moved = options.transfer ? [...options.transfer] : null;
      const dest: Destination = { kind: Sink.PROMISE, deferred };
      job = this.job(task, [...args], dest, first, moved, policy);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal) {
      const abort = () => this.#loop.abort(job, signal.reason);
      // An argument's getter, run as the job was made, may have aborted it: queued, it is cancelled.
      if (signal.aborted) abort();
      else abortWith(deferred, signal, abort);
    }
    return promise;
  }

  /**
   * `pool.stream(task, ...args)`: one job alone on its worker, whose values
   * the returned stream yields with credit-based back-pressure.
   */
  stream(task: unknown, args: unknown[]): ResultStream<unknown> {
    const ready = this.#prepare(task, args, null);
    const loop = this.#loop;
    // The stream calls back only once its job is queued (below).
    const stream = new ResultStream<unknown>({
      credit: (n) => loop.credit(job, n),
      stop: () => loop.stopStream(job),
    }, this.#options.streamWindow);
    const { index, transfer } = ready;
    const job = streamJob(
      this.#nextId++,
      index,
      ready.args,
      stream,
      transfer,
      this.#policy.timeout,
    );
    loop.enqueue(job, false);
    return stream;
  }

  /** Throws `PoolClosedError` once the pool is closed. */
  checkOpen(): void {
    if (this.#closed) throw new PoolClosedError("Cannot submit job: pool is closed");
  }

  /**
   * Queues a job for `done` (a `Destination`). One argument at the
   * back of the queue joins the open entry, or opens one: no object per job,
   * and one value on the wire instead of five. A merged `run()` comes with
   * `done` = `RUNS` and its `deferred`.
   */
  add(
    task: unknown,
    args: unknown[],
    done: Destination | typeof RUNS,
    first: boolean,
    deferred?: Deferred,
  ): JobId {
    if (first || args.length !== 1 || this.#options.taskTimeout > 0) {
      return this.job(task, args, alone(done, deferred), first).id;
    }
    this.checkOpen();
    const queue = this.#queue;
    const maxQueue = this.#options.maxQueue;
    if (queue.items >= maxQueue) {
      this.#tasks.indexOf(task); // a bad task is a TypeError, full queue or not
      throw new QueueFullError(maxQueue);
    }
    let arg = args[0];
    if (typeof arg === "object" && arg !== null) {
      if (isTransferred(arg)) return this.job(task, args, alone(done, deferred), first).id;
      arg = toWire(arg) ?? arg;
      this.checkOpen(); // its getters ran: one may have closed the pool
    }
    let open = queue.openFor(task, done);
    let index = -1;
    if (open === null) {
      index = this.#tasks.indexOf(task); // throws for a bad task: before taking an id
      // An arrow written in the call is a new value each time, of one task.
      open = queue.openForIndex(index, done);
    }
    let id: JobId;
    if (open !== null) {
      id = this.#nextId++;
      queue.join(arg);
      if (open.dest.kind === Sink.PROMISES) open.dest.deferreds.push(deferred!);
      this.#ends.added(1);
      this.#loop.checkFull();
      if (queue.openDue) this.#loop.flushEarly();
    } else {
      id = this.#nextId++;
      const dest: Destination = done === RUNS
        ? { kind: Sink.PROMISES, deferreds: [deferred!] }
        : done;
      open = mapJob(id, index, [arg], 1, dest, this.#policy);
      this.#loop.openEntry(open, task, done);
    }
    if (queue.open === open) queue.limitOpen(this.#loop.openLimit(open));
    return id;
  }

  /**
   * Makes a job of a task and its arguments (moved or shared ones unwrapped)
   * and queues it. `moved` adds to what `transfer()` marked among the
   * arguments.
   */
  job(
    task: unknown,
    args: unknown[],
    dest: Destination,
    first: boolean,
    moved: Transferable[] | null = null,
    policy: JobPolicy = this.#policy,
  ): Job {
    const { index, args: ready, transfer } = this.#prepare(task, args, moved);
    const job = callJob(this.#nextId++, index, ready, dest, transfer, policy);
    this.#loop.enqueue(job, first);
    return job;
  }

  /** The base policy with `priority` (`submitPriority`). */
  withPriority(priority: number): JobPolicy {
    return priority === 0 ? this.#policy : { ...this.#policy, priority };
  }

  /**
   * The checks of a job of `task` with `args`, and its arguments made ready
   * to cross: shared primitives unwrapped in place; with buffers to move,
   * `transfer` holds a detached copy of the arguments and what moves.
   */
  #prepare(
    task: unknown,
    args: unknown[],
    moved: Transferable[] | null,
  ): { index: number; args: unknown[]; transfer: Transferable[] | null } {
    this.checkOpen();
    const index = this.#tasks.indexOf(task); // a bad task is a TypeError, full queue or not
    checkArgCount(args.length);
    if (this.#queue.items >= this.#options.maxQueue) {
      throw new QueueFullError(this.#options.maxQueue);
    }
    let transfer: Transferable[] | null = moved;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg === "object" && arg !== null) {
        if (isTransferred(arg)) {
          args[i] = toWire(arg.value) ?? arg.value;
          transfer = transfer ? transfer.concat(arg.list) : arg.list;
        } else {
          const wire = toWire(arg);
          if (wire !== undefined) args[i] = wire;
        }
      }
    }
    this.checkOpen(); // the arguments' getters ran: one may have closed the pool
    if (transfer === null) return { index, args, transfer };
    const [detached, moving] = detachNow(args, transfer);
    return { index, args: detached, transfer: moving };
  }

  later(
    delay: number,
    task: unknown,
    args: unknown[],
    dest: Destination,
  ): TimerHandle {
    this.#checkTimerJob(task, args, false);
    return this.#scheduler.later(delay, () => {
      if (!this.#closed) this.#submitFromTimer(task, args, dest, true);
    });
  }

  every(
    interval: number,
    task: unknown,
    args: unknown[],
    dest: Destination,
  ): TimerHandle {
    this.#checkTimerJob(task, args, true);
    let last: Job | undefined;
    return this.#scheduler.every(
      interval,
      () => {
        if (!this.#closed) last = this.#submitFromTimer(task, args, dest, false) ?? last;
      },
      () => last !== undefined && !last.ended,
    );
  }

  /** Refuses a bad timer job now, not when the timer fires. */
  #checkTimerJob(task: unknown, args: unknown[], repeating: boolean): void {
    this.checkOpen();
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
  #submitFromTimer(
    task: unknown,
    args: unknown[],
    dest: Destination,
    first: boolean,
  ): Job | undefined {
    try {
      return this.job(task, [...args], dest, first);
    } catch (error) {
      this.#queue.close(); // its ids must stay consecutive
      const id = this.#nextId++;
      // Never queued, so not pending: reported to its destination alone.
      this.#results.failure({ dest, id, offset: 0 }, id, error);
      this.#loop.changed();
      return undefined;
    }
  }

  /** Queues one job per item of `iterable`, results to `dest`; returns how many. */
  map(
    task: unknown,
    iterable: unknown,
    dest: Destination | ((firstId: number) => Destination),
    action: string,
  ): number {
    this.checkOpen();
    const index = this.#tasks.indexOf(task);
    if (
      iterable === null || typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(
        `Cannot ${action}: "iterable" must be iterable, received ${describe(iterable)}`,
      );
    }
    // A copy (an array's is a fast slice), so later changes to the input do not reach jobs
    // still queued; objects among the items are checked and shared primitives unwrapped.
    // No more than the queue has room for is read: an endless iterable meets maxQueue.
    const { maxQueue } = this.#options;
    const room = maxQueue - this.#queue.items;
    const items = mapItems(iterable as Iterable<unknown>, room, action);
    if (items === null) throw itemsPastRoom(action, room, maxQueue);
    this.checkOpen(); // the iterable and the items' getters ran: one may have closed the pool
    const n = items.length;
    if (n === 0) return 0;
    if (this.#queue.items + n > maxQueue) {
      throw itemsPastRoom(action, maxQueue - this.#queue.items, maxQueue);
    }
    const target = typeof dest === "function" ? dest(this.#nextId) : dest;
    const job = mapJob(this.#nextId, index, items, n, target, this.#policy);
    this.#nextId += n;
    this.#loop.enqueue(job, false);
    return n;
  }

  /**
   * Reads an async source in chunks that grow from 1 to `ASYNC_CHUNK` items
   * (so the first item starts at once), queueing each as `map` entries of
   * no more than the queue has room for under its high-water mark (and so
   * under `maxQueue`), waiting for room when there is none. Items read
   * wait for their chunk only while the source answers at once: a read
   * still pending a turn later queues what was read (a quiet socket's last
   * lines run). Once the pool closes, nothing more is read: the source's
   * `return()` is called and the promise rejects with `PoolClosedError` (a
   * read still pending is not waited for). A source that throws, or whose
   * `next()` gives no iterator result (a `TypeError`, as for `for await`),
   * ends it with its error, once the items read before it are queued.
   */
  async mapAsync(
    task: unknown,
    source: AsyncIterable<unknown>,
    destAt: (firstIndex: number, firstId: number) => Destination,
    action: string,
    collector: Collector | null,
  ): Promise<number> {
    this.checkOpen();
    this.#tasks.indexOf(task); // a bad task is refused before the source is read
    const iterator = sourceIterator(source, action);
    const loop = this.#loop;
    let queued = 0;
    let size = 1;
    let items: unknown[] = [];
    let ended = false;
    let threw = false;
    /** Queues what the queue has room for now, of the items read. */
    const queueRoom = (): void => {
      const room = loop.drainMark - this.#queue.items; // at least 1: under the mark
      const part = items.length <= room ? items : items.slice(0, room);
      const firstIndex = queued;
      const n = this.map(task, part, (firstId) => destAt(firstIndex, firstId), action); // may refuse them: they stay
      items = part === items ? [] : items.slice(room);
      collector?.add(n);
      queued += n;
    };
    const queueAll = async (): Promise<void> => {
      while (items.length !== 0) {
        // Checked again after each wait: other submits may fill the queue first.
        while (loop.needsDrain) await loop.drained();
        this.checkOpen();
        queueRoom();
      }
    };
    /** Armed while a read is pending with items read: a turn later they are queued. */
    let slowRead: ReturnType<typeof setTimeout> | undefined;
    /** A read is pending (the loop waits for the source, not for room). */
    let reading = false;
    const queueWhileWaiting = (): void => {
      slowRead = undefined;
      if (!reading || items.length === 0 || this.#closed) return;
      if (loop.needsDrain) {
        void loop.drained().then(queueWhileWaiting); // the source may stay quiet: once there is room
        return;
      }
      try {
        queueRoom();
      } catch {
        // Left to the reading loop, which meets the same refusal and reports it.
      }
    };
    try {
      while (!ended) {
        // No more than the queue has room for: items read ahead would only wait in memory.
        const most = Math.min(size, this.#readRoom());
        while (!ended && items.length < most) {
          let next: IteratorResult<unknown>;
          try {
            const read = iterator.next();
            if (items.length !== 0) slowRead ??= setTimeout(queueWhileWaiting, 0);
            reading = true;
            let answer = await this.#closing.race(read);
            while (answer === CLOSED) {
              // Throws, unless clear() opened the pool again meanwhile: then
              // the read is raced again, so a later close still ends the wait.
              this.checkOpen();
              answer = await this.#closing.race(read);
            }
            reading = false;
            next = iteratorResult(answer, action); // as for await checks it; the items read before run
            if (next.done) ended = true;
            else items.push(next.value);
          } catch (error) {
            reading = false;
            threw = !this.#closed; // the source's own error, not the pool's
            throw error;
          }
        }
        clearTimeout(slowRead);
        slowRead = undefined;
        await queueAll();
        if (size < ASYNC_CHUNK) size *= 2;
      }
      return queued;
    } catch (error) {
      clearTimeout(slowRead);
      if (threw) {
        try {
          await queueAll(); // read before the source failed: they run
        } catch {
          // The pool closed meanwhile: they were never submitted.
        }
      } else if (!ended) stopSource(iterator);
      if (this.#closed && !threw && error instanceof PoolClosedError) {
        throw new PoolClosedError(
          `Cannot ${action}: the pool closed while its source was read; ${queued} of its items had been queued (they end as the pool's queued jobs do), and reading stopped: the ${items.length} read since, and any after, were not submitted`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/** The destination of a job that cannot join an open entry: a merged run's is its own promise. */
function alone(done: Destination | typeof RUNS, deferred: Deferred | undefined): Destination {
  return done === RUNS ? { kind: Sink.PROMISE, deferred: deferred! } : done;
}
