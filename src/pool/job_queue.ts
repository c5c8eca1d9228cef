/**
 * The queue of jobs not yet sent to a worker (`pool.jobs`), counting `map`
 * items one by one.
 *
 * @module
 */

import { Deque } from "../deque.ts";
import { Mode } from "../protocol/messages.ts";
import type { Job, QueuedJob } from "./job.ts";
import type { JobsDeque } from "./types.ts";

/** Queued jobs, in the order they will be sent. */
export class JobQueue {
  /** The entries; a `map` call is one entry until it is sliced. */
  readonly entries: Deque<Job> = new Deque();
  /** Queued jobs, each `map` item counted. */
  items = 0;
  /**
   * The back entry while one-argument `submit()`s and `run()`s may still
   * join it (see `DispatchLoop.openEntry`); any other change to the queue
   * closes it.
   */
  #open: Job | null = null;
  /** What a submit must match to join the open entry: its task value (function, name or reference)... */
  #openTask: unknown = undefined;
  /** ... and its destination (a `Destination`, or `RUNS` for merged runs; compared by identity). */
  #openDone: unknown = undefined;
  /** The open entry is sent early, before the tick ends, once it holds this many jobs. */
  #openFlushAt = Infinity;
  /**
   * Submits join the open entry on the pool's fast path while it holds
   * fewer jobs than this; at it, the slow path checks `maxQueue` and flushes
   * early.
   */
  #openLimit = 0;

  /** Whether nothing is queued. */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** The next entry to send. */
  front(): Job | undefined {
    return this.entries.at(0);
  }

  /** The open entry (see `#open`), if any. */
  get open(): Job | null {
    return this.#open;
  }

  /**
   * Leaves `job`, just queued at the back, open for submits of `task` to
   * `done`; it is sent early once it holds `flushAt` jobs.
   */
  openWith(job: Job, task: unknown, done: unknown, flushAt: number): void {
    this.#open = job;
    this.#openTask = task;
    this.#openDone = done;
    this.#openFlushAt = flushAt;
  }

  /** No submit joins the open entry any more. */
  close(): void {
    this.#open = null;
  }

  /** The open entry, if a submit of `task` to `done` may join it (limits unchecked). */
  openFor(task: unknown, done: unknown): Job | null {
    return this.#openTask === task && this.#openDone === done ? this.#open : null;
  }

  /**
   * The pool's fast path: adds a job of `task` to `done` with argument
   * `arg` to the open entry if it matches and is under its limit. Returns
   * whether it did.
   */
  tryJoin(task: unknown, done: unknown, arg: unknown): boolean {
    const open = this.#open;
    if (
      open === null || open.count >= this.#openLimit || this.#openTask !== task ||
      this.#openDone !== done
    ) return false;
    this.#append(open, arg);
    return true;
  }

  /** Adds a job whose argument is `arg` to the open entry, which must be set. */
  join(arg: unknown): void {
    this.#append(this.#open!, arg);
  }

  #append(open: Job, arg: unknown): void {
    (open.args as unknown[]).push(arg);
    open.count++;
    if (typeof arg !== "number") open.numeric = false;
    this.items++;
  }

  /** Whether the open entry has grown to be sent before the tick ends. */
  get openDue(): boolean {
    return this.#open !== null && this.#open.count >= this.#openFlushAt;
  }

  /** The fast path joins the open entry while it holds fewer jobs than `limit`. */
  limitOpen(limit: number): void {
    this.#openLimit = limit;
  }

  /** The open entry is due to be sent early once it holds `count` jobs. */
  flushOpenAt(count: number): void {
    this.#openFlushAt = count;
  }

  /** The early flush's mark (see `flushOpenAt`). */
  get openFlushAt(): number {
    return this.#openFlushAt;
  }

  /**
   * Queues `job` at the very front with `first`; else after every entry of
   * its priority or higher, and after every entry queued at the front. The
   * entries queued at the front come first, then those added without
   * `first`, in order of priority; so the back entry has the lowest, and a
   * job of priority 0 behind entries of priority 0 or more (every plain
   * submit) is one push.
   */
  add(job: Job, first: boolean): void {
    this.#open = null;
    const entries = this.entries;
    if (first) {
      job.front = true;
      entries.unshift(job);
    } else if (job.priority === 0 && !((entries.at(-1)?.priority ?? 0) < 0)) entries.push(job);
    else {
      let at = entries.length;
      while (at > 0) {
        const before = entries.at(at - 1)!;
        if (before.front || before.priority >= job.priority) break;
        at--;
      }
      entries.insert(at, job);
    }
    this.items += job.count;
  }

  /** Takes at most `limit` jobs off the front: the whole entry, or a slice of a `map`. */
  take(limit: number): Job {
    this.#open = null;
    const front = this.entries.at(0)!;
    const job = front.count > limit ? front.take(limit) : this.entries.shift()!;
    this.items -= job.count;
    return job;
  }

  /** Puts entries back at the front, in their order (they were sent but never started). */
  requeue(jobs: readonly Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      job.slot = null;
      job.claim = -1; // a claim word of the worker it left, not of the next one
      job.next = 0;
      this.add(job, true);
    }
  }

  /** Takes `job` out; returns whether it was queued. */
  remove(job: Job): boolean {
    this.#open = null;
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      if (entries.at(i) === job) {
        entries.removeAt(i);
        this.items -= job.count;
        return true;
      }
    }
    return false;
  }

  /**
   * Takes the job `id` out, cutting it from the middle of a `map` entry if
   * need be.
   *
   * @returns The entry it belonged to (for its results' destination), or
   * `undefined` when no queued job has that id.
   */
  removeId(id: number): Job | undefined {
    this.#open = null;
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      const job = entries.at(i)!;
      const k = id - job.id;
      if (k < 0 || k >= job.count) continue;
      if (job.count === 1) entries.removeAt(i);
      else if (k === 0) job.take(1);
      else if (k === job.count - 1) job.count--;
      else {
        entries.insert(i, job.take(k));
        job.take(1);
      }
      this.items--;
      return job;
    }
    return undefined;
  }

  /** Empties the queue and returns what it held. */
  drain(): Job[] {
    this.#open = null;
    const jobs = [...this.entries];
    this.entries.clear();
    this.items = 0;
    return jobs;
  }
}

/**
 * `pool.jobs`: the queue job by job, whether a job travels alone or in a
 * `map`-style entry with others. A job taken out is cancelled through
 * `cancel` (a job id, or `null` for all), so it still ends once.
 */
export class JobsView implements JobsDeque<QueuedJob> {
  readonly #queue: JobQueue;
  readonly #cancel: (id: number | null) => unknown;
  readonly #takeBack: () => void;

  /**
   * @param cancel Cancels job `id`, or every queued job for `null` (as `pool.cancel()`).
   * @param takeBack Queues again what workers hold and have not started, which
   *   `cancel(null)` cancels too.
   */
  constructor(queue: JobQueue, cancel: (id: number | null) => unknown, takeBack: () => void) {
    this.#queue = queue;
    this.#cancel = cancel;
    this.#takeBack = takeBack;
  }

  /** Queued jobs. */
  get length(): number {
    return this.#queue.items;
  }

  /**
   * The job at `index` from the front (negative: from the back); a fraction
   * is truncated and `NaN` read as 0, as `Array.prototype.at` does. O(entries).
   */
  at(index: number): QueuedJob | undefined {
    index = Math.trunc(index) || 0;
    if (index < 0) index += this.length;
    if (!(index >= 0 && index < this.length)) return undefined;
    for (const entry of this.#queue.entries) {
      if (index < entry.count) return view(entry, index);
      index -= entry.count;
    }
    return undefined;
  }

  /** Iterates the queued jobs from the front. */
  *[Symbol.iterator](): IterableIterator<QueuedJob> {
    for (const entry of this.#queue.entries) {
      for (let k = 0; k < entry.count; k++) yield view(entry, k);
    }
  }

  /** Takes the front job out, cancelled. */
  shift(): QueuedJob | undefined {
    return this.#takeOut(this.at(0));
  }

  /** Takes the back job out, cancelled. */
  pop(): QueuedJob | undefined {
    return this.#takeOut(this.at(-1));
  }

  #takeOut(job: QueuedJob | undefined): QueuedJob | undefined {
    if (job !== undefined) this.#cancel(job.id);
    return job;
  }

  /** Cancels every queued job. */
  clear(): void {
    this.#cancel(null);
  }

  /** Cancels every queued job and returns them. */
  drain(): QueuedJob[] {
    this.#takeBack();
    const jobs = [...this];
    this.#cancel(null);
    return jobs;
  }

  /** Refused: jobs are submitted. */
  push(_job: never): never {
    throw new TypeError("Cannot push to pool.jobs: submit jobs with submit() or map()");
  }

  /** Refused: jobs are submitted. */
  unshift(_job: never): never {
    throw new TypeError("Cannot unshift to pool.jobs: submit jobs to the front with submitFirst()");
  }
}

function view(entry: Job, k: number): QueuedJob {
  const args = entry.mode === Mode.MAP ? [entry.args[entry.offset + k]] : entry.args as unknown[];
  return { id: entry.id + k, args };
}
