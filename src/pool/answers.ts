/**
 * Reading what workers answer: a `results` message ends the jobs it
 * answers, in the order they were sent (see `protocol/result_batch.ts`), and
 * measures the time a job takes, which sizes the next batches; `progress`
 * messages go to the job's `onProgress` and the pool's `progress` event.
 *
 * ```
 *  results msg ─▶ readResults ─▶ returns / returned / threw / ended / skipped / yielded / later / answered
 *                                   └─▶ JobEnds (each job ends once) ─▶ Results
 * ```
 *
 * @module
 */

import { TaskTimeoutError } from "../errors.ts";
import { readResults, type ResultVisitor, Tag } from "../protocol/result_batch.ts";
import { fromWire } from "../sync/wire.ts";
import { deferredOf, type Job, Sink } from "./job.ts";
import type { JobEnds } from "./job_ends.ts";
import type { JobQueue } from "./job_queue.ts";
import type { Recovery } from "./recovery.ts";
import type { Results } from "./results.ts";
import type { StatsRecorder } from "./stats.ts";
import type { WorkerSlot } from "./worker_slot.ts";
import type { Workers } from "./workers.ts";

/** How much of a faster sample's difference the estimate takes (see `#measure`). */
const FASTER_WEIGHT = 0.8;
/** How much of a slower sample's difference the estimate takes. */
const SLOWER_WEIGHT = 0.3;

/** Reads the answers of one pool's workers. */
export class Answers {
  /**
   * Measured ms per job (EWMA) by task index; missing until the task's first
   * answer. One figure per task, so a burst of slow jobs of one task is not
   * sized from another task's tiny ones.
   */
  readonly #byTask: number[] = [];
  /** The task whose estimate the message being read has updated already. */
  #measured = -1;
  readonly #queue: JobQueue;
  readonly #ends: JobEnds;
  readonly #results: Results;
  readonly #stats: StatsRecorder;
  readonly #workers: Workers;
  readonly #recovery: Recovery;
  readonly #host: { emit(type: string, detail: unknown): void };

  constructor(
    queue: JobQueue,
    ends: JobEnds,
    results: Results,
    stats: StatsRecorder,
    workers: Workers,
    recovery: Recovery,
    host: { emit(type: string, detail: unknown): void },
  ) {
    this.#queue = queue;
    this.#ends = ends;
    this.#results = results;
    this.#stats = stats;
    this.#workers = workers;
    this.#recovery = recovery;
    this.#host = host;
  }

  /** The measured time of one job of task `task` (ms, a moving average); NaN until its first answer. */
  msFor(task: number): number {
    const ms = this.#byTask[task];
    return ms === undefined ? NaN : ms;
  }

  /**
   * Folds this message's mean time per job into the estimate of `task`, once
   * per message: quickly when jobs got faster (a new worker's code warming
   * up: its first answers are slow, and an estimate that fell only 30% per
   * answer kept batches small for dozens of round trips), slowly when they
   * got slower (one slow answer does not shrink every batch after it).
   */
  #measure(task: number): void {
    if (task === this.#measured || this.#jobs === 0) return;
    this.#measured = task;
    this.#fold(task, this.#sample);
  }

  /** Folds one sample (ms per job) into the estimate of `task` (see `#measure`). */
  #fold(task: number, sample: number): void {
    const previous = this.#byTask[task];
    if (previous === undefined) this.#byTask[task] = sample;
    else {
      const weight = sample < previous ? FASTER_WEIGHT : SLOWER_WEIGHT;
      this.#byTask[task] = previous + weight * (sample - previous);
    }
  }

  /**
   * `jobContext().progress(value)` of job `id`: to its `onProgress` and the
   * `progress` event, unless the job has ended (it is then dropped).
   */
  progress(slot: WorkerSlot, id: number, sent: unknown, shared: boolean): void {
    const job = runningEntry(slot, id);
    if (job === undefined) return;
    this.#recovery.lookIfDue(job); // its time or grace may be up
    if (job.ended) return;
    const value = shared ? revived(sent) : sent;
    const onProgress = deferredOf(job, id)?.onProgress;
    if (onProgress !== undefined) this.#results.later(onProgress, value);
    this.#host.emit("progress", { id, value });
  }

  /** Reads one `results` message of `slot`: ends its jobs in the order they were sent. */
  read(slot: WorkerSlot, data: unknown[], jobs: number, ms: number): void {
    // A worker that ran a job has started for good: forget earlier failures.
    if (slot.endedItems === 0) this.#workers.startedForGood();
    // Less what a stats reset already counted of it (see `WorkerSlot.creditBusy`).
    this.#stats.busyMs += slot.answered(ms);
    this.#answering = slot;
    this.#entry = slot.inflight.at(0)!;
    this.#sample = jobs > 0 ? ms / jobs : 0;
    this.#jobs = jobs;
    this.#took = -1;
    this.#measured = -1;
    readResults(data, this.#reader);
    // Not kept past the message: a dead worker's slot holds its jobs.
    this.#answering = undefined!;
    this.#entry = undefined!;
  }

  // While read() runs: whose answers, the entry they are for (answers come in the order the
  // entries were sent), and the mean time of a job of the message.
  #answering!: WorkerSlot;
  #entry!: Job;
  #sample = 0;
  #jobs = 0;
  /**
   * The time the worker measured for the next answer in order, or -1: a
   * timed job's answer says it (`[TOOK, ms]`, see `ResultWriter.timeNext`).
   */
  #took = -1;
  /** Created once, so `readResults` calls one shape of visitor. */
  readonly #reader: ResultVisitor = {
    returns: (values, at, n) => this.#onReturns(values, at, n),
    returned: (value) => this.#onAnswer(Tag.RETURN, value),
    threw: (error) => this.#onAnswer(Tag.THROW, error),
    ended: () => this.#onAnswer(Tag.END, undefined),
    skipped: () => this.#onAnswer(Tag.SKIPPED, undefined),
    yielded: (value) => {
      const job = this.#entry;
      const id = job.id + job.next;
      job.yieldedId = id;
      if (!job.ended) this.#results.value(job, id, value, true);
    },
    later: () => this.#onLater(),
    answered: (id, threw, value, ms) => this.#answerLater(id, threw, value, ms),
    took: (ms) => this.#took = ms,
  };

  /**
   * Whether `job`, answered now, ran past its time limit by its worker's
   * measure (`#took`): a late look of its timeout cannot let it end done.
   */
  #ranPastLimit(job: Job): boolean {
    return this.#took > 0 && this.#recovery.ranPastLimit(job, this.#took);
  }

  /** Job `id` of `job` answered past its time limit: it fails as its timeout would have failed it. */
  #timedOut(job: Job, id: number): void {
    this.#ends.failed(job, id, new TaskTimeoutError(id, job.timeout));
  }

  /**
   * `n` jobs of `job` ran `ms` each, for `stats()`: not one that ended early
   * (time limit, abort) or that ran past its time limit (it fails as timed
   * out, with no run time), whose end was counted then (a stats reset since
   * would count this answer's time in the new window), nor a stream whose
   * consumer left, which counts as cancelled. Called before the answer ends
   * the job.
   */
  #ran(job: Job, ms: number, n: number): void {
    if (!job.ended && !leftStream(job)) this.#stats.ran(job.task, ms, n);
  }

  /** `n` jobs in a row returned `values[at …]`, possibly over several entries. */
  #onReturns(values: ArrayLike<unknown>, at: number, n: number): void {
    const slot = this.#answering;
    let job = this.#entry;
    while (n > 0) {
      const take = Math.min(n, job.count - job.next);
      const late = !job.ended && this.#ranPastLimit(job);
      if (job.ended) {
        // dropped: it ended early
      } else if (late) {
        this.#timedOut(job, job.id + job.next);
      } else this.#ends.returnedMany(job, job.id + job.next, values, at, take);
      this.#took = -1; // it was the first job's
      if (!late) this.#ran(job, this.#sample, take);
      this.#measure(job.task);
      slot.inflightItems -= take;
      slot.endedItems = (slot.endedItems + take) | 0;
      job.next += take;
      at += take;
      n -= take;
      if (job.next >= job.count) {
        slot.inflight.shift();
        if (job.later === 0) {
          job.ended = true;
          if (job.timer !== undefined) this.#recovery.clearJobTimer(job);
        }
        job = slot.inflight.at(0)!;
      }
    }
    this.#entry = job;
  }

  /** One answer ends one job; a SKIPPED answer covers the rest of the entry. */
  #onAnswer(tag: number, value: unknown): void {
    const slot = this.#answering;
    const job = this.#entry;
    const skipped = tag === Tag.SKIPPED;
    const from = job.next;
    const items = skipped ? job.count - from : 1;
    const late = !job.ended && !skipped && this.#ranPastLimit(job);
    if (!skipped) {
      if (!late) this.#ran(job, this.#sample, 1);
      this.#measure(job.task);
    }
    if (!job.ended && !skipped) {
      const id = job.id + from;
      if (late) this.#timedOut(job, id);
      else if (tag === Tag.RETURN) this.#ends.returned(job, id, value);
      else if (tag === Tag.THROW) this.#ends.failed(job, id, value);
      else this.#ends.streamEnded(job, id); // Tag.END
    }
    this.#took = -1; // it was this job's
    slot.inflightItems -= items;
    slot.endedItems = (slot.endedItems + items) | 0;
    job.next += items;
    if (job.next >= job.count) {
      slot.inflight.shift();
      if (job.later === 0) {
        if (job.timer !== undefined) this.#recovery.clearJobTimer(job);
        if (!skipped) job.ended = true;
        else if (leftStream(job)) {
          // Skipped because its consumer left before it started: it ends here.
          if (!job.ended) this.#ends.dropped(job.id, false);
          job.ended = true;
        } else if (!job.ended) this.#queue.requeue([from === 0 ? job : job.part(from, items)]);
      }
      this.#entry = slot.inflight.at(0)!;
    }
  }

  /** The job runs on asynchronously: it answers later, by id (see #answerLater). */
  #onLater(): void {
    const slot = this.#answering;
    const job = this.#entry;
    this.#took = -1; // it answers later, with a time of its own
    slot.later.set(job.id + job.next, job);
    job.later++;
    job.next++;
    slot.endedItems = (slot.endedItems + 1) | 0; // reported as started, for crash.ts
    if (job.next >= job.count) {
      slot.inflight.shift();
      this.#entry = slot.inflight.at(0)!;
    }
  }

  /**
   * Job `id`, which went `LATER`, answered with `[tag, value]` (`RETURN` or
   * `THROW`) after running `ms`: timed alone, since the jobs that ran beside
   * it make the message's time per job meaningless for it.
   */
  #answerLater(id: number, threw: boolean, value: unknown, ms: number): void {
    const slot = this.#answering;
    const job = slot.later.get(id);
    if (job === undefined) return;
    slot.later.delete(id);
    job.later--;
    slot.inflightItems--;
    const late = !job.ended && this.#recovery.ranPastLimit(job, ms);
    if (!late) this.#ran(job, ms, 1);
    this.#fold(job.task, ms);
    if (!job.ended) {
      if (late) this.#timedOut(job, id);
      else if (threw) this.#ends.failed(job, id, value);
      else this.#ends.returned(job, id, value);
    }
    if (job.later === 0 && job.next >= job.count) {
      job.ended = true;
      if (job.timer !== undefined) this.#recovery.clearJobTimer(job);
    }
  }
}

/** The in-flight entry of `slot` whose job `id` has not been answered yet, if any. */
function runningEntry(slot: WorkerSlot, id: number): Job | undefined {
  const later = slot.later.get(id);
  if (later !== undefined) return later;
  for (const job of slot.inflight) {
    if (id >= job.id + job.next && id < job.id + job.count) return job;
  }
  return undefined;
}

/** Whether `job` is a stream whose consumer left. */
function leftStream(job: Job): boolean {
  const dest = job.dest;
  return dest.kind === Sink.STREAM && dest.stream.left;
}

/**
 * A progress value's Semaphores and Locks, working; if this thread cannot
 * attach them (it has no `SharedArrayBuffer` where the worker has), the
 * `TypeError` that says why, as the value: a progress value is never a
 * reason to fail its job or replace its worker.
 */
function revived(wire: unknown): unknown {
  try {
    return fromWire(wire);
  } catch (error) {
    return error;
  }
}
