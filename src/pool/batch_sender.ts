/**
 * Sending a batch: queued jobs go to one worker in one `run` message (see
 * `protocol/job_batch.ts`), within the worker's `maxJobsPerWorker` budget;
 * or one lone job goes on an idle worker's shared lane (`protocol/lane.ts`).
 * A job that moves buffers, or holds the worker alone, travels alone; a
 * batch that `postMessage` refuses is sent again job by job, so only the
 * jobs that cannot be cloned fail.
 *
 * @module
 */

import { PoolClosedError } from "../errors.ts";
import { claimWord, offerClaim, releaseClaim } from "../protocol/claims.ts";
import { writeJob } from "../protocol/job_batch.ts";
import { CLAIM_RING, Mode, type TaskSpec } from "../protocol/messages.ts";
import type { Clock } from "../timers/clock.ts";
import { uncloneable } from "./arguments.ts";
import type { Job } from "./job.ts";
import { poolMade } from "./own_errors.ts";
import type { ImportWatch } from "./import_watch.ts";
import type { JobEnds } from "./job_ends.ts";
import type { JobQueue } from "./job_queue.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Recovery } from "./recovery.ts";
import type { StatsRecorder } from "./stats.ts";
import type { TaskRegistry } from "./task_registry.ts";
import type { WorkerSlot } from "./worker_slot.ts";
import type { Workers } from "./workers.ts";

/** Sends batches of one pool's queued jobs to its workers. */
export class BatchSender {
  readonly #options: ResolvedOptions;
  readonly #clock: Clock;
  readonly #queue: JobQueue;
  readonly #ends: JobEnds;
  readonly #stats: StatsRecorder;
  readonly #tasks: TaskRegistry;
  readonly #workers: Workers;
  readonly #recovery: Recovery;
  readonly #imports: ImportWatch;
  readonly #changed: () => void;
  /** How many jobs of a task a worker may hold (the dispatch loop's `capOf`). */
  readonly #capOf: (task: number) => number;

  constructor(
    options: ResolvedOptions,
    clock: Clock,
    queue: JobQueue,
    ends: JobEnds,
    stats: StatsRecorder,
    tasks: TaskRegistry,
    workers: Workers,
    recovery: Recovery,
    imports: ImportWatch,
    changed: () => void,
    capOf: (task: number) => number,
  ) {
    this.#options = options;
    this.#clock = clock;
    this.#queue = queue;
    this.#ends = ends;
    this.#stats = stats;
    this.#tasks = tasks;
    this.#workers = workers;
    this.#recovery = recovery;
    this.#imports = imports;
    this.#changed = changed;
    this.#capOf = capOf;
  }

  /** `slot` ran out of its `maxJobsPerWorker` budget: it is recycled once idle. */
  #spent(slot: WorkerSlot): number {
    this.#workers.recycleOnceIdle(slot);
    return 0;
  }

  /**
   * Offers the queue's front job, a lone job, to `slot`'s shared lane (see
   * `protocol/lane.ts`): true if the worker, idle and listening, took it.
   * It is then in flight like a job sent in a batch, and its answer comes
   * on the lane or, if the pool stops waiting for it, as a message.
   */
  offerLane(slot: WorkerSlot): boolean {
    const queue = this.#queue;
    if (slot.sentItems >= this.#options.maxJobsPerWorker || !slot.lane!.offer(queue.front()!)) {
      return false;
    }
    const job = queue.take(1);
    job.claim = -1; // a lane job starts at once: nothing to take back
    this.#stats.sharedLane++;
    slot.retractable.length = 0; // a lone job follows: those batches cannot be taken back
    const now = this.#clock.now();
    this.#countWait(job, now);
    job.slot = slot;
    slot.inflight.push(job);
    this.#sent(slot, 1, now);
    if (job.exclusive) slot.exclusive = true;
    if (job.timeout > 0) this.#recovery.armTimeout(slot, job);
    return true;
  }

  /** `items` more jobs went to `slot`: in flight, spent from its budget, and it is busy. */
  #sent(slot: WorkerSlot, items: number, now: number): void {
    this.#sending(slot, items, now);
    this.#checkBudget(slot);
  }

  /** `items` more jobs go to `slot` at `now`: in flight and counted against its budget; it is busy. */
  #sending(slot: WorkerSlot, items: number, now: number): void {
    if (slot.inflightItems === 0) {
      slot.busySince = now;
      slot.answeredSince = slot.credited = 0;
    }
    slot.inflightItems += items;
    slot.sentItems += items;
    this.#workers.sentWork(slot);
    this.#imports.sent(slot);
  }

  /** Recycles `slot` once idle if the jobs sent to it used up its `maxJobsPerWorker`. */
  #checkBudget(slot: WorkerSlot): void {
    if (slot.sentItems >= this.#options.maxJobsPerWorker) this.#spent(slot);
  }

  /** Counts how long `job` waited in the queue, once (sent again after a crash, it does not wait twice). */
  #countWait(job: Job, now: number): void {
    if (job.queuedAt >= 0) {
      this.#stats.waited(job.task, now - job.queuedAt, job.count);
      job.queuedAt = -1;
    }
  }

  /** Sends one batch of at most `room` queued jobs to `slot`. Returns how many. */
  send(slot: WorkerSlot, room: number): number {
    // `maxJobsPerWorker` is a hard limit: never more than the rest of the budget.
    const budget = this.#options.maxJobsPerWorker;
    if (budget !== Infinity) room = Math.min(room, budget - slot.sentItems);
    if (room <= 0) return this.#spent(slot);
    const queue = this.#queue;
    const data: unknown[] = [];
    const firstEntry = slot.inflight.length;
    const transfer: Transferable[] = [];
    let items = 0;
    /** A job moves buffers of its own (not only the copies `writeJob` makes). */
    let moved = false;
    let timed: Job | null = null;
    /** Timed jobs sharing the worker, armed once sent. */
    let shared: Job[] | null = null;
    /** The batch holds a job with no time limit. */
    let untimed = false;
    /** A job alone in this batch whose claim is its own (see `takeBackAlone`). */
    let alone: Job | null = null;
    const now = this.#clock.now();
    let task = queue.front()!.task;
    /** The tasks of this batch the worker has not been sent: they go with it. */
    let tasks: [number, TaskSpec][] | null = null;
    while (!queue.empty && items < room) {
      const front = queue.front()!;
      const exclusive = front.exclusive;
      if (exclusive && (items !== 0 || slot.inflightItems !== 0)) break;
      if (front.abortable && items !== 0) break; // in a batch of its own
      // A job that moves buffers travels in a message of its own: a batch
      // that postMessage refuses has already detached what it was to move
      // (Deno), and the job could not be sent again.
      const moves = front.transfer !== null && front.transfer.length !== 0;
      if (moves && items !== 0) break;
      // A job with a time limit never rides behind one without in a batch:
      // blocked, that one would hold it, its clock never started, where its
      // own batch may still go to another worker (stolen, or to one the
      // held-behind watch starts).
      if (untimed && front.timeout > 0) break;
      // A job of another task that may be slower (a smaller cap) starts a batch of its own,
      // sized by its own estimate: a burst of slow jobs never rides on tiny jobs' batch.
      if (items !== 0 && front.task !== task) {
        const cap = this.#capOf(front.task) - slot.inflightItems;
        if (cap < room) {
          if (items >= cap) break;
          room = cap;
        }
        task = front.task;
      }
      const job = queue.take(exclusive || front.timeout > 0 || front.abortable ? 1 : room - items);
      if (!slot.knows(job.task)) {
        slot.learn(job.task);
        (tasks ??= []).push([job.task, this.#tasks.specs[job.task]!]);
      }
      this.#countWait(job, now);
      writeJob(data, transfer, job);
      job.slot = slot;
      slot.inflight.push(job);
      items += job.count;
      if (job.timeout === 0) untimed = true;
      else if (!exclusive) (shared ??= []).push(job);
      // An abortable job, or one that has its worker to itself and moves
      // buffers (a signal's on one lane, never stolen), has a claim of its
      // own: aborted before its worker starts it, it is cancelled, not run
      // after its promise rejected.
      if (job.abortable || (exclusive && moves)) {
        alone = job; // the batch ends with it
        job.claim = -1;
      }
      if (exclusive) {
        // Its worker takes nothing more until it ends, and its limit runs
        // from now, whether or not it moves buffers.
        slot.exclusive = true;
        if (job.timeout > 0) timed = job;
      }
      if (moves) moved = true;
      if (moves || exclusive || alone !== null) break;
    }
    // Its budget is judged once the batch went: refused, only what goes one by one counts.
    this.#sending(slot, items, now);
    // A batch with nothing of the caller's moved may be taken back until its
    // worker starts it (the numbers it moves are copies; its jobs' time
    // limits are looked at where they are sent next). An exclusive job (a
    // signal's, a stream's) too: aborted or cancelled while its worker still
    // starts, it is cancelled, not run after its promise rejected. Alone on
    // its worker, it is never stolen. An abortable job that shares its worker
    // travels alone too, and keeps its claim: it may be taken back from
    // behind later batches (`takeBackAlone`), also with moved buffers (then
    // only to cancel it: never stolen).
    let claim = -1;
    const retractable = slot.retractable;
    const stealable = !moved;
    if ((stealable || alone !== null) && slot.statusShared) {
      const word = claimWord(slot.claims);
      if (offerClaim(slot.status, word)) {
        claim = word;
        if (alone !== null) alone.claim = slot.claims;
        slot.claims++;
        if (stealable) {
          if (retractable.length === CLAIM_RING) retractable.shift(); // its word was reused: it started
          retractable.push({
            word,
            entries: slot.inflight.length - firstEntry,
            items,
          });
        }
      }
    }
    if (claim < 0 || !stealable) retractable.length = 0; // a batch no idle worker may take follows them
    try {
      slot.send({ type: "run", jobs: data, tasks, claim }, transfer);
      slot.sentSinceAnswer++;
    } catch (error) {
      if (claim >= 0) {
        retractable.length = 0;
        releaseClaim(slot.status, claim); // never sent
        if (alone !== null) alone.claim = -1;
      }
      this.#sendOneByOne(slot, firstEntry, tasks, error);
      return items; // what went is armed there: a map item goes as a new entry
    }
    this.#checkBudget(slot);
    if (timed) this.#recovery.armTimeout(slot, timed);
    if (shared !== null) {
      for (const job of shared) {
        if (job.slot === slot && !job.ended) this.#recovery.armTimeout(slot, job);
      }
    }
    return items;
  }

  /**
   * `postMessage` refused a batch (a value that cannot be cloned): send its
   * jobs one by one, so only the bad ones fail.
   */
  #sendOneByOne(
    slot: WorkerSlot,
    firstEntry: number,
    tasks: [number, TaskSpec][] | null,
    batchError: unknown,
  ): void {
    const unsent: Job[] = [];
    while (slot.inflight.length > firstEntry) unsent.unshift(slot.inflight.pop()!);
    for (const job of unsent) {
      slot.inflightItems -= job.count;
      slot.sentItems -= job.count; // counted again as each goes
    }
    slot.exclusive = false;
    let pendingTasks = tasks;
    for (const entry of unsent) {
      const units = entry.mode === Mode.MAP
        ? Array.from({ length: entry.count }, (_, i) => entry.part(i, 1))
        : [entry];
      for (const job of units) {
        if (slot.dead) {
          this.#notSent(job);
          continue;
        }
        const data: unknown[] = [];
        const transfer: Transferable[] = [];
        writeJob(data, transfer, job);
        job.slot = slot; // a map item's part is a new entry: its timer checks whose it is
        // In flight before the copy, as in `send`: a getter's terminate() ends it there.
        slot.inflight.push(job);
        slot.inflightItems += job.count;
        slot.sentItems += job.count;
        try {
          slot.send(
            { type: "run", jobs: data, tasks: pendingTasks, claim: -1 },
            transfer,
          );
          pendingTasks = null;
          if (job.exclusive) slot.exclusive = true;
          if (job.timeout > 0) this.#recovery.armTimeout(slot, job);
        } catch (error) {
          slot.inflight.pop();
          slot.inflightItems -= job.count;
          slot.sentItems -= job.count;
          if (job.ended) continue;
          job.ended = true;
          const message = job.mode === Mode.MAP
            ? `Cannot send job ${job.id}: ${
              uncloneable(job.args, job.offset, job.count, error, true)
            }`
            : `Cannot send job ${job.id}: ${uncloneable(job.args, 0, job.args.length, error)}`;
          this.#ends.failed(job, job.id, poolMade(new TypeError(message, { cause: batchError })));
        }
      }
    }
    // Nothing went: the worker still lacks them.
    if (pendingTasks && !slot.dead) {
      for (const [index] of pendingTasks) {
        slot.learn(index, false);
      }
    }
    if (!slot.dead) this.#checkBudget(slot);
    if (slot.inflightItems === 0 && !slot.dead) this.#workers.idle(slot);
    this.#changed();
  }

  /**
   * `job` was not sent: its worker died as an earlier message was copied (an
   * argument's getter ran `terminate()`, say). Cancelled as the queue is if
   * the pool is closing, else queued again.
   */
  #notSent(job: Job): void {
    if (!this.#workers.closing) return this.#queue.requeue([job]);
    job.ended = true;
    for (let i = job.next; i < job.count; i++) {
      this.#ends.cancelled(
        job,
        job.id + i,
        new PoolClosedError("Job cancelled: the pool was terminated"),
      );
    }
  }
}
