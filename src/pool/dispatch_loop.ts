/**
 * The dispatch loop: moves jobs from the queue to workers and answers back.
 *
 * ```
 *  submit ─▶ JobQueue ─(flush, once per tick)─▶ WorkerSlot.inflight ─(run msg)─▶ worker
 *                ▲                                      │
 *                └──── requeue (crash, skip) ◀──────────┤◀─(results msg, in send order)
 *                                                       ▼
 *                                               Results (done, failed, promises, streams)
 * ```
 *
 * The loop owns the queue and the flow: when a batch leaves, back-pressure,
 * cancelling and aborting, and the order in which bookkeeping and user
 * callbacks happen (`changed()`). The rest is in one file each:
 *
 * | piece | file |
 * | --- | --- |
 * | which worker gets a batch, and how big | `dispatch.ts` |
 * | writing a batch and sending it | `batch_sender.ts` |
 * | a lone job on a worker's shared lane | `lane_trips.ts` |
 * | an idle worker taking a batch another has not started | `stealing.ts` |
 * | reading answers | `answers.ts` |
 * | where every job ends (`pending`) | `job_ends.ts` |
 * | starting, idling, retiring workers | `workers.ts` |
 * | crashes, timeouts, aborts | `recovery.ts`, `crash.ts` |
 *
 * @module
 */

import { PoolClosedError } from "../errors.ts";
import { decodeError } from "../protocol/codec.ts";
import {
  assertNever,
  type FromWorker,
  laneWord,
  PROTOCOL_VERSION,
  SPIN_MS,
} from "../protocol/messages.ts";
import type { Clock } from "../timers/clock.ts";
import { capacity, chooseSlot, earlyFlushAt, load, SLOW_JOB_MS } from "./dispatch.ts";
import { splitRunning, splitStarted } from "./crash.ts";
import { type Job, takesReason } from "./job.ts";
import { Answers } from "./answers.ts";
import { BatchSender } from "./batch_sender.ts";
import { ImportWatch } from "./import_watch.ts";
import { JobEnds } from "./job_ends.ts";
import { JobQueue } from "./job_queue.ts";
import { LaneTrips } from "./lane_trips.ts";
import { retractableDepth, stealForIdle, takeBack, takeBackAlone } from "./stealing.ts";
import { Recovery } from "./recovery.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Results } from "./results.ts";
import type { StatsRecorder } from "./stats.ts";
import type { TaskRegistry } from "./task_registry.ts";
import type { SlotHost, WorkerSlot } from "./worker_slot.ts";
import { type WorkerExitReason, type WorkerHook, Workers } from "./workers.ts";
import { queueMicrotask } from "../_event_loop.ts";

/**
 * How long a stream's task has, once its consumer stopped, to end before its
 * worker is replaced: a generator parked in a long `await` sees the stop
 * only when it next yields.
 */
export const STREAM_STOP_GRACE_MS = 200;

export type { WorkerExitReason, WorkerHook };

/** The default `highWaterMark` per worker (`maxChildren` × this). */
export const HIGH_WATER_PER_WORKER = 1024;

/**
 * Most jobs a worker holds when a job with a time limit is sent to it (or
 * `concurrentTasksPerWorker`, if more). Each timed job's timer counts the
 * jobs ahead of it at every look (a sixteenth of its limit): a `map` of
 * 100,000 with a 1 s limit, each worker holding thousands, took 6.8 s on Bun
 * without the cap, 0.29 s with it (`bench/timed_ab.ts --limit=1000
 * --items=100000`).
 */
export const TIMED_CAP = 256;

/**
 * What the loop tells its pool: events to dispatch. They are queued like
 * user callbacks and dispatched once the bookkeeping is done.
 */
export interface LoopEvents {
  emit(type: string, detail: unknown): void;
}

/** The engine behind `Pool`. */
export class DispatchLoop {
  /** Jobs not yet sent. */
  readonly queue: JobQueue = new JobQueue();
  /** Where every job ends, counted out of `pending`. */
  readonly ends: JobEnds;
  /** The live workers, started and retired by their own rules. */
  readonly workers: Workers;
  readonly #recovery: Recovery;
  readonly #imports: ImportWatch;
  readonly #answers: Answers;
  readonly #sender: BatchSender;
  /** Lone jobs on shared lanes; null with `sharedLane` off. */
  readonly #lanes: LaneTrips | null;
  readonly #options: ResolvedOptions;
  readonly #clock: Clock;
  readonly #tasks: TaskRegistry;
  readonly #results: Results;
  readonly #host: SlotHost = {
    onMessage: (slot, message) => this.#onMessage(slot, message),
    onCrash: (slot, cause) => this.#recovery.crashed(slot, cause),
    onUnreadable: (slot) => this.#recovery.answersUnreadable(slot),
  };
  /**
   * The end of a tick that queued jobs: send them, then deliver what the
   * submits announced (`full`) now rather than at the next answer, which a
   * busy worker may not send for a long time.
   */
  readonly #flushNow = () => {
    this.flush();
    this.#delivered();
  };

  /**
   * After a send that no answer prompted (the end of a tick, a timer's):
   * what it changed is delivered now, not at the next answer, which a busy
   * worker may not send for a long time: calls waiting, and `drain` with
   * `drained()` if the send took the queue under the mark.
   */
  #delivered(): void {
    if (this.#results.callsWaiting || this.#full) this.changed();
  }
  #flushQueued = false;
  /** A set: timed `wait()`s that give up leave one by one, among tens of thousands. */
  #idleWaiters = new Set<() => void>();
  /** Depth of `#dispatch` calls: `changed()` waits for the outermost to end. */
  #dispatching = 0;
  #changedLater = false;
  /** Depth of `asOne` steps: `changed()` waits for the outermost to end, as for a dispatch. */
  #holding = 0;
  /** A dispatch was asked for inside one: the outer one goes again (see `#dispatch`). */
  #dispatchAgain = false;
  readonly #stats: StatsRecorder;
  readonly #events: LoopEvents;
  /** Something was queued or ran since the last `idle` event. */
  #busySinceIdle = false;
  /** The queue reached the high-water mark and has not fallen under it since. */
  #full = false;
  #drainWaiters: (() => void)[] = [];

  constructor(
    options: ResolvedOptions,
    clock: Clock,
    tasks: TaskRegistry,
    results: Results,
    workerUrl: URL,
    stats: StatsRecorder,
    events: LoopEvents,
  ) {
    this.#stats = stats;
    this.#events = events;
    this.#options = options;
    this.#timedCap = Math.max(TIMED_CAP, options.concurrentTasksPerWorker);
    this.#clock = clock;
    this.#tasks = tasks;
    this.#results = results;
    this.ends = new JobEnds(results, stats);
    this.workers = new Workers(options, clock, workerUrl, this.#host, stats, {
      emit: (type, detail) => events.emit(type, detail),
      changed: () => this.changed(),
      flush: this.#flushNow, // from timers (a start backed off, a place freed)
      leaving: (slot) => {
        for (const job of slot.inflight) this.#recovery.clearJobTimer(job);
        for (const job of slot.later.values()) this.#recovery.clearJobTimer(job);
        this.#imports.leaving(slot);
      },
      nextChange: () => results.changed(),
      startFailed: (slot, error) => this.#recovery.startFailed(slot, error),
    });
    this.#recovery = new Recovery(options, clock, this.queue, this.ends, this.workers, stats, {
      emit: (type, detail) => events.emit(type, detail),
      changed: () => this.changed(),
      flush: () => this.flush(),
      scheduleFlush: () => this.#scheduleFlush(),
      endQueued: (end) => this.#endQueued(end),
    });
    this.#answers = new Answers(
      this.queue,
      this.ends,
      results,
      stats,
      this.workers,
      this.#recovery,
      events,
    );
    this.#imports = new ImportWatch(
      options.startTimeout,
      options.abortGrace,
      tasks,
      (slot, word, error) => this.#recovery.importStuck(slot, word, error),
      (slot) => this.#replaceImporting(slot),
    );
    this.#sender = new BatchSender(
      options,
      clock,
      this.queue,
      this.ends,
      stats,
      tasks,
      this.workers,
      this.#recovery,
      this.#imports,
      () => this.changed(),
      this.#capOf,
    );
    this.#lanes = options.sharedLane
      ? new LaneTrips(this.queue, this.#answers, this.#sender, this.workers)
      : null;
  }

  /** Queued plus in-flight jobs. */
  get pending(): number {
    return this.ends.pending;
  }

  /** One per live worker. */
  get slots(): readonly WorkerSlot[] {
    return this.workers.slots;
  }

  /** Shutting down: no worker starts, each retires as it goes idle. */
  get closing(): boolean {
    return this.workers.closing;
  }

  // ------------------------------------------------------------ jobs in

  /** Queues a job; the batch leaves at the end of this tick. */
  enqueue(job: Job, first: boolean): void {
    job.queuedAt = this.#clock.now();
    this.queue.add(job, first);
    this.ends.added(job.count);
    this.#busySinceIdle = true;
    this.checkFull();
    this.#scheduleFlush();
  }

  // ------------------------------------------------------- back-pressure

  /** The queue length at which producers should pause: `highWaterMark`, or `maxQueue` if lower. */
  get drainMark(): number {
    const options = this.#options;
    const mark = options.highWaterMark ?? this.workers.maxChildren * HIGH_WATER_PER_WORKER;
    return mark < options.maxQueue ? mark : options.maxQueue;
  }

  /** Whether the queue is at or above {@linkcode drainMark}. */
  get needsDrain(): boolean {
    return this.queue.items >= this.drainMark;
  }

  /** Resolves once the queue is under {@linkcode drainMark}. */
  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    this.checkFull(); // full, if not announced yet: then drain follows it
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * How many jobs the open entry may hold before a submit must take the
   * pool's slow path: at `openFlushAt`, at `maxQueue`, and where the queue
   * would reach the high-water mark (so `full` is announced).
   */
  openLimit(open: Job): number {
    const queue = this.queue;
    const room = open.count - queue.items;
    let limit = Math.min(queue.openFlushAt, room + this.#options.maxQueue);
    // The job that brings the queue to the mark takes the slow path, which announces `full`.
    if (!this.#full) limit = Math.min(limit, room + this.drainMark - 1);
    return limit;
  }

  /** Announces `full` when the queue reaches the high-water mark. */
  checkFull(): void {
    if (!this.#full && this.queue.items >= this.drainMark) {
      this.#full = true;
      this.#events.emit("full", { queued: this.queue.items });
      this.#scheduleFlush(); // delivers it at the end of this tick (see #flushNow)
    }
  }

  /** Announces `drain` and wakes `drained()` once the queue is under the mark again. */
  #checkDrain(): void {
    if (this.#full && this.queue.items < this.drainMark) {
      this.#full = false;
      this.#events.emit("drain", { queued: this.queue.items });
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  #scheduleFlush(): void {
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushNow);
    }
  }

  /**
   * Queues `job`, a `map`-style entry of one job so far, at the back and
   * leaves it open: until anything else changes the queue, the pool appends
   * the next one-argument submits (or runs) of the same task value and
   * destination (`doneKey`) to it (see `Submitter.submit`), so a run of them
   * travels like one `map`.
   */
  openEntry(job: Job, taskValue: unknown, doneKey: unknown): void {
    this.enqueue(job, false);
    this.queue.openWith(job, taskValue, doneKey, earlyFlushAt(this.#answers.msFor(job.task)));
  }

  /** Sends queued jobs to workers with room, and starts workers if needed. */
  flush(): void {
    this.#flushQueued = false;
    this.#dispatch(false);
  }

  /**
   * The open entry grew long within one tick: send what workers have room
   * for now, so they run while the caller goes on submitting. Answers cannot
   * be read until the tick ends, so room is judged by the jobs each worker
   * has not started yet (see `WorkerSlot.unstarted`).
   */
  flushEarly(): void {
    this.#dispatch(true);
    const open = this.queue.open;
    if (open !== null) {
      this.queue.flushOpenAt(open.count + earlyFlushAt(this.#answers.msFor(open.task)));
    }
  }

  #dispatch(early: boolean): void {
    if (this.#dispatching !== 0) {
      // Inside a dispatch: an argument's getter, run as its message is copied,
      // re-entered the pool (resize(), a submit that flushes). A message sent
      // now would pass the one being copied, whose job is already in flight
      // before it, and answers are matched in order: the outer one goes again.
      this.#dispatchAgain = true;
      return;
    }
    // Nothing queued: an idle worker may take a batch another has not started.
    if (this.queue.empty && (early || !stealForIdle(this.slots, this.queue, this.#stats))) return;
    // A batch that fails to send reports failures, and `changed()` would make
    // user callbacks that may re-enter the pool; they wait until the
    // dispatch is over (see `changed`).
    this.#dispatching++;
    try {
      let moved = this.#dispatchNow(early);
      while (this.#dispatchAgain) {
        this.#dispatchAgain = false;
        if (this.queue.empty) break;
        if (!moved) {
          // Nothing went and no worker stayed: a workerData getter retired the
          // workers as they started, or this turn's starts are spent (see
          // Workers). Again after a turn, so no loop of starts holds the thread.
          this.#clock.setTimer(this.#flushNow, 0);
          break;
        }
        moved = this.#dispatchNow(early);
      }
    } finally {
      if (--this.#dispatching === 0 && this.#changedLater) {
        this.#changedLater = false;
        this.changed();
      }
    }
  }

  /** Sends what the workers have room for, starting workers for the rest; whether anything went or started. */
  #dispatchNow(early: boolean): boolean {
    const queue = this.queue;
    if (queue.items === 1 && !early && this.#lanes?.send()) {
      this.#busySinceIdle = true;
      this.changed(); // commits an answer read from the lane, once this dispatch is over
      return true;
    }
    let last: WorkerSlot | undefined;
    let sent = 0;
    /** The expected time of what was sent (ms), to judge whether an answer is due soon. */
    let sentMs = 0;
    while (!queue.empty) {
      // Each batch is sized from its front task's own measured time (see `capOf`).
      const front = queue.front()!;
      // Timed jobs wait in the queue while a worker holds TIMED_CAP jobs (each
      // has a timer that looks at those ahead of it, `WorkerSlot.progressOf`),
      // and go once it holds half that or less: a batch each time, not a job
      // for each answer (a timed job's answer comes alone).
      let cap = this.#capOf(front.task);
      let below = cap;
      if (front.timeout > 0 && cap >= this.#timedCap) {
        cap = this.#timedCap;
        below = (cap >> 1) + 1;
      }
      const slot = chooseSlot(this.slots, below, front.exclusive, early, this.#slowAhead);
      if (!slot) break;
      const n = this.#sender.send(slot, cap - load(slot, early));
      sent += n;
      sentMs += n * this.#answers.msFor(front.task);
      last = slot;
    }
    let started = 0;
    if (!queue.empty) started = this.#grow(early);
    else if (!early && last?.ready && sentMs < SPIN_MS / 2) last.spinForAnswer();
    if (sent !== 0) this.#busySinceIdle = true;
    return sent !== 0 || started !== 0;
  }

  /** `TIMED_CAP`, or enough to fill every lane. */
  readonly #timedCap: number;

  /**
   * How many jobs of task `task` a worker may hold: about two batches of
   * `BATCH_MS`, or one at a time while its cost is unknown or slow; with
   * several lanes, at least enough to fill them.
   */
  readonly #capOf = (task: number): number =>
    Math.max(capacity(this.#answers.msFor(task)), this.#options.concurrentTasksPerWorker);

  /**
   * Whether `slot`'s worker runs, or is to run, a job that is slow or of a
   * cost still unknown: its oldest job in flight or its newest (nothing is
   * sent behind such a job, so one in between is rare). A batch sent behind
   * it would wait for it, unseen by `maxQueue`, while another worker may
   * soon be free. With several lanes the worker runs other jobs meanwhile.
   */
  readonly #slowAhead = (slot: WorkerSlot): boolean => {
    if (this.#options.concurrentTasksPerWorker !== 1) return false;
    const inflight = slot.inflight;
    return this.#isSlow(inflight.at(0)!.task) || this.#isSlow(inflight.at(-1)!.task);
  };

  /** Whether jobs of `task` are slow (`SLOW_JOB_MS` or more), or their cost is unknown. */
  #isSlow(task: number): boolean {
    return !(this.#answers.msFor(task) < SLOW_JOB_MS);
  }

  /** Starts workers up to `minChildren`. */
  keepMinimum(): void {
    this.workers.keepMinimum();
  }

  /** Open again after `clear()`: workers start on demand once more. */
  reopen(): void {
    this.workers.reopen();
  }

  // ------------------------------------------------------ ending jobs early

  /**
   * Aborts a job: out of the queue, or, if it runs, it fails now and its
   * task is told (see `Recovery.failRunning`).
   */
  abort(job: Job, reason: unknown): void {
    if (job.ended) return;
    // Held by a worker that has not started it: queued, so cancelled.
    if (job.slot !== null) this.#takeBackHolding(job.slot, job.id);
    const slot = job.slot;
    const importing = slot === null ? undefined : this.#imports.importingFor(slot);
    if (slot !== null && takeBackAlone(slot, job)) {
      // Alone in its batch, behind others its worker runs: out, never run.
      if (slot.inflightItems === 0) this.workers.idle(slot);
      this.#recovery.clearJobTimer(job); // its time limit, armed when it was sent
      job.ended = true;
      this.ends.cancelled(job, job.id, reason, job.count);
      this.#leftImporting(slot, importing);
    } else if (job.slot === null) {
      if (!this.queue.remove(job)) return;
      job.ended = true;
      this.ends.cancelled(job, job.id, reason, job.count);
    } else {
      this.#recovery.failRunning(job, reason, "abort", job.count - job.next + job.later);
    }
    this.changed();
  }

  /** The consumer of stream `job` took `n` values: its worker may produce `n` more. */
  credit(job: Job, n: number): void {
    const slot = job.slot;
    if (slot !== null && !slot.dead && !job.ended) slot.send({ type: "credit", id: job.id, n });
  }

  /**
   * The consumer of stream `job` left. A queued stream (or one its worker
   * holds and has not started: taken back) leaves the queue, unreported; a
   * running one is asked to stop, and its worker is replaced if the task has
   * not ended `STREAM_STOP_GRACE_MS` later.
   */
  stopStream(job: Job): void {
    if (job.ended) return;
    if (job.slot !== null) this.#takeBackHolding(job.slot, job.id);
    const slot = job.slot;
    if (slot === null) {
      if (!this.queue.remove(job)) return;
      job.ended = true;
      this.ends.dropped(job.id, false);
      this.changed();
      return;
    }
    if (slot.dead) return;
    slot.stopStreamSoon(job);
    slot.send({ type: "stop", id: job.id });
    // A stream travels alone, with no timeout of its own: the slot's timer is free.
    this.workers.setSlotTimer(slot, () => {
      if (job.ended || job.slot !== slot || slot.dead) return;
      job.ended = true;
      this.ends.dropped(job.id, true);
      this.#recovery.replace(slot, "abort");
    }, STREAM_STOP_GRACE_MS);
  }

  /**
   * Cancels every queued job; returns how many. The jobs share one reason,
   * made only if one of them hands it on (see `takesReason`): an error costs
   * Deno ~3 µs to make, and the queue may hold a million `map` items bound
   * for `done` (cancelling 200,000 of them took 0.5–1.1 s on Deno 2.9 with
   * an error each).
   */
  cancelAll(reason: () => unknown): number {
    this.takeBackAll();
    let made: { reason: unknown } | undefined;
    const cancelled = this.#endQueued((job, id) =>
      this.ends.cancelled(
        job,
        id,
        takesReason(job.dest) ? (made ??= { reason: reason() }).reason : undefined,
      )
    );
    this.changed();
    return cancelled;
  }

  /** Ends every queued job, each id through `end` (a `JobEnds` method); returns how many. */
  #endQueued(end: (job: Job, id: number) => void): number {
    let ended = 0;
    for (const job of this.queue.drain()) {
      job.ended = true;
      for (let i = 0; i < job.count; i++) end(job, job.id + i);
      ended += job.count;
    }
    return ended;
  }

  /** Queues again every batch a worker holds and has not started: those jobs count as queued. */
  takeBackAll(): void {
    // A copy: a slot left with nothing may leave the pool at once (see #takeBack).
    for (const slot of [...this.slots]) this.#takeBack(slot);
  }

  /**
   * Puts the batches `slot` has not started (the newest `most`) back at the
   * front of the queue, to be sent again at the end of the tick unless
   * cancelled meanwhile; returns how many jobs. A worker left with nothing
   * is idle now: no answer will say so. If it was importing a module for one
   * of them, and the caller ends that job (a cancel, an abort, `clear()`,
   * `pool.jobs.drain()`), the import is watched (`#leftImporting`).
   */
  #takeBack(slot: WorkerSlot, most?: number): number {
    const importing = this.#imports.importingFor(slot);
    const held = slot.inflightItems;
    const items = takeBack(slot, this.queue, most);
    if (slot.inflightItems === held) return 0; // it had started them
    if (importing !== undefined && importing.slot !== slot) {
      queueMicrotask(() => this.#leftImporting(slot, importing)); // once the caller has ended it
    }
    if (slot.inflightItems === 0) this.workers.idle(slot);
    if (items !== 0) this.#scheduleFlush();
    return items;
  }

  /** Takes back the batches of `slot` down to the one holding job `id`; whether one held it. */
  #takeBackHolding(slot: WorkerSlot, id: number): boolean {
    const depth = retractableDepth(slot, id);
    if (depth !== 0) this.#takeBack(slot, depth);
    return depth !== 0;
  }

  /**
   * Cancels the queued job `id` with `reason()` (made only then: a
   * DOMException costs microseconds on Deno); returns whether it was queued.
   */
  cancelOne(id: number, reason: () => unknown): boolean {
    // Not started: still queued.
    for (const slot of this.slots) if (this.#takeBackHolding(slot, id)) break;
    const job = this.queue.removeId(id);
    if (!job) return false;
    if (job.id === id && job.count === 1) job.ended = true; // a single job, now out of the queue
    this.ends.cancelled(job, id, reason());
    this.changed();
    return true;
  }

  /**
   * `job`, which `slot` was importing for (`ImportWatch.importingFor`), may
   * have ended before it started: the import is watched, unless `slot` has
   * left the pool meanwhile (taken back to nothing during a shutdown, it
   * retires: no timer may outlive its leaving).
   */
  #leftImporting(slot: WorkerSlot, job: Job | undefined): void {
    if (job !== undefined && job.ended && this.slots.includes(slot)) {
      this.#imports.abandoned(slot, job);
    }
  }

  /**
   * `slot` still imports a module for a job cancelled or aborted before it
   * started (see `ImportWatch.abandoned`): replaced like a worker whose
   * aborted job outran `abortGrace`; the jobs it holds, none started, go
   * again (`Recovery.replaceImporting`). Returns false, leaving it for a
   * later look, if it has started one or answered one unread (its import
   * has ended then), or holds one that moved buffers (they cannot go again).
   */
  #replaceImporting(slot: WorkerSlot): boolean {
    this.#takeBack(slot);
    if (slot.dead || !this.slots.includes(slot)) return true; // it left (a shutdown's)
    if (((slot.started() - slot.endedItems) | 0) !== 0) return false;
    for (const job of slot.inflight) {
      if (!job.ended && job.transfer !== null && job.transfer.length !== 0) return false;
    }
    this.#recovery.replaceImporting(slot);
    return true;
  }

  /**
   * `terminate()`: cancels every queued job with `reason()` and stops every
   * worker, whose started jobs fail with `PoolClosedError`, as one step; the
   * jobs a worker held and had not started are cancelled with the queued
   * ones (one reason for all). A callback of the cancelled jobs that
   * re-enters the pool (`clear()` and a `submit()`, say) runs once the
   * workers are stopped, not between, where the stop would close the pool
   * it had just opened again.
   */
  terminate(reason: () => unknown): void {
    let made: { reason: unknown } | undefined;
    const once = () => (made ??= { reason: reason() }).reason;
    this.asOne(() => {
      this.cancelAll(once);
      this.#terminateWorkers(once);
    });
  }

  /**
   * Runs `steps` with `changed()` (and so user callbacks) held back until the
   * last has ended: a callback that re-enters the pool sees it whole.
   */
  asOne(steps: () => void): void {
    this.#holding++;
    try {
      steps();
    } finally {
      if (--this.#holding === 0 && this.#changedLater) {
        this.#changedLater = false;
        this.changed();
      }
    }
  }

  /**
   * Stops every worker now. Their jobs that had started fail with
   * `PoolClosedError` (running, or ended with their answers not read);
   * with shared memory, those not started (behind them, or waiting for a
   * lane) are cancelled with `reason()`, as the queued ones are. Without,
   * the pool cannot tell which had started: all fail.
   */
  #terminateWorkers(reason: () => unknown): void {
    const running = (job: Job, id: number) => {
      this.ends.failed(
        job,
        id,
        new PoolClosedError(`Job ${id} was running when the pool was terminated`),
      );
    };
    this.workers.terminateAll((slot) => {
      for (const [id, job] of slot.later) {
        if (job.ended) continue;
        running(job, id);
        if (job.count === 1) job.ended = true;
      }
      slot.later.clear();
      if (!slot.statusShared) {
        for (const job of slot.inflight) {
          if (job.ended) continue;
          for (let i = job.next; i < job.count; i++) running(job, job.id + i);
          job.ended = true;
        }
        return;
      }
      // The worker's STARTED count is final now (see `WorkerSlot.terminate()`).
      const { started, again } = splitStarted(
        slot.inflight,
        (slot.started() - slot.endedItems) | 0,
      );
      // Jobs run in order: those before the last one started had ended, their
      // answers still in the worker, unless they run on in a lane.
      const lanes = slot.lanes > 1 ? slot.runningLanes() : null;
      for (let k = 0; k < started.length; k++) {
        const { job, id } = started[k]!;
        if (k === started.length - 1 || lanes?.has(laneWord(id))) running(job, id);
        else {
          this.ends.failed(
            job,
            id,
            new PoolClosedError(
              `Job ${id} had ended when the pool was terminated; its answer was lost with its worker`,
            ),
          );
        }
      }
      const waiting = lanes !== null ? splitRunning(again, lanes) : null;
      for (const { job, id } of waiting?.running ?? []) running(job, id);
      for (const job of waiting?.again ?? again) {
        for (let i = 0; i < job.count; i++) {
          this.ends.cancelled(job, job.id + i, takesReason(job.dest) ? reason() : undefined);
        }
      }
      for (const job of slot.inflight) job.ended = true;
    });
    this.changed();
  }

  /** Resolves once no worker is left while closing (see `Workers.allGone`). */
  allGone(): Promise<void> {
    return this.workers.allGone();
  }

  /** Retires every idle worker now (the rest as they go idle): for `shutdown`. */
  retireIdle(): void {
    this.workers.retireIdle();
    this.changed();
  }

  /** Applies a new `maxChildren`: idle workers above it leave now, busy ones once idle. */
  resize(maxChildren: number): void {
    this.workers.resize(maxChildren);
    this.flush();
    this.checkFull(); // the default mark follows maxChildren: smaller, it may be reached now
    this.changed();
  }

  /** Replaces every worker with a fresh one (see `Workers.recycle`). */
  recycle(): Promise<void> {
    return this.workers.recycle();
  }

  // ------------------------------------------------------------ observers

  /** Calls `waiter` once nothing is pending; returns a function that unregisters it. */
  onIdle(waiter: () => void): () => void {
    const waiters = this.#idleWaiters;
    waiters.add(waiter);
    return () => waiters.delete(waiter);
  }

  /**
   * Commits results (which makes the queued user callbacks) and, once
   * nothing is pending, wakes idle waiters. Called when a step of
   * bookkeeping is complete, so a callback that re-enters the pool finds its
   * state whole; inside a dispatch, it waits for the dispatch to end.
   */
  changed(): void {
    if (this.#dispatching !== 0 || this.#holding !== 0) {
      this.#changedLater = true;
      return;
    }
    this.#checkDrain();
    // A callback re-entered the pool (`cancel()`, `clear()`, `resize()`): its
    // outcomes join the calls being made, and whether the pool is idle is for
    // the outer `changed()` to say once they all ran, since the callback may
    // still submit.
    if (this.#results.calling) return this.#results.commit();
    this.#results.commit();
    if (this.pending === 0 && this.#busySinceIdle) {
      this.#busySinceIdle = false;
      this.#events.emit("idle", null);
      this.#results.commit(); // the event's listeners, which may submit
    }
    if (this.pending === 0 && this.#idleWaiters.size !== 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = new Set();
      let thrown: { error: unknown } | undefined;
      for (const waiter of waiters) {
        try {
          waiter();
        } catch (error) {
          thrown ??= { error }; // the others are called all the same
        }
      }
      if (thrown !== undefined) throw thrown.error;
    }
  }

  // ------------------------------------------------------------ workers

  /** Starts workers for queued jobs; how many started (and stayed). */
  #grow(early: boolean): number {
    const started = this.workers.grow(this.queue.items);
    if (started > 0) this.#dispatch(early);
    return started;
  }

  // ------------------------------------------------------------ receiving

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    switch (message.type) {
      case "results":
        slot.answers = (slot.answers + 1) | 0;
        slot.sentSinceAnswer = 0;
        this.#answers.read(slot, message.data, message.jobs, message.ms);
        if (slot.stopping.size !== 0) this.#recovery.stoppedJobsLeft(slot);
        if (slot.inflightItems === 0) this.workers.idle(slot);
        this.flush();
        this.changed();
        break;
      case "ready":
        if (message.version !== PROTOCOL_VERSION) {
          this.#recovery.startFailed(slot, versionMismatch(message.version));
          break;
        }
        slot.ready = true;
        slot.hasTeardown = message.teardown;
        // A name the task module lacks is refused at submit from now on.
        if (Array.isArray(message.exports)) this.#tasks.learnExports(message.exports);
        slot.readyAt = this.#clock.now();
        // Retired while it started (recycle, resize, shutdown): it had its
        // workerexit, and is on its way out; it never counts as started.
        if (this.workers.isRetiring(slot)) this.workers.readyToRetire(slot);
        else {
          this.workers.started(slot);
          // With nothing to do, it may take a batch a busy worker holds (see
          // `held_behind.ts`); else it is idle from now (its idle timer runs).
          if (slot.inflightItems === 0) this.flush();
          if (slot.inflightItems === 0 && !slot.dead) {
            this.workers.idle(slot);
            // Retired as it became idle (resize, recycle): its workerexit goes out now.
            if (slot.dead) this.changed();
          }
        }
        break;
      case "fatal": {
        const during = message.step === "setup" ? "setup" : undefined;
        // A worker retired while starting, whose setup() then failed: it goes, reported.
        if (this.workers.isRetiring(slot)) {
          this.workers.retired(slot, true, decodeError(message.error), during);
        } else this.#recovery.startFailed(slot, decodeError(message.error), during);
        break;
      }
      case "exit":
        this.#recovery.crashed(slot, new Error(`Worker ended itself: ${message.how}`));
        break;
      case "progress":
        this.#answers.progress(slot, message.id, message.value, message.shared === true);
        this.changed();
        break;
      case "overMemory":
        // Recycled once idle; nothing more is sent to it meanwhile. One a
        // resize asked to leave is marked too: a resize up may keep it.
        if (!slot.recycling && this.slots.includes(slot)) {
          this.workers.recycleOnceIdle(slot);
          if (slot.inflightItems === 0) this.workers.idle(slot);
          this.flush();
          this.changed();
        }
        break;
      case "unreadable":
        this.#recovery.unreadable(slot, message.started);
        break;
      case "retired":
        this.workers.retired(
          slot,
          message.threw,
          message.threw ? decodeError(message.error) : null,
          "teardown",
        );
        break;
      default:
        assertNever(message);
    }
  }
}

/** A worker module of another fastpool version answered (`workerUrl` pointing at another copy). */
function versionMismatch(theirs: unknown): Error {
  return new Error(
    `Cannot start worker: it speaks fastpool protocol version ${
      String(theirs)
    }, this pool ${PROTOCOL_VERSION}; "workerUrl" must be the worker module of the same fastpool version`,
  );
}
