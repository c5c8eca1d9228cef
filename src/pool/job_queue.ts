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

/** The entries of one priority (or those queued at the front), in order. */
interface Band {
  readonly priority: number;
  readonly entries: Deque<Job>;
  /** Entries taken out but still in `entries` (marked, see `Job.queued`). */
  dead: number;
}

/**
 * The queue holds more live entries than this before `removeId` gets an
 * index by id: below it a scan is as quick, and a round trip's one entry
 * pays nothing for an index.
 */
const INDEX_FROM = 32;
/** A band is rebuilt without its marked entries once it holds this many, and they are half of it. */
const COMPACT_FROM = 64;

/**
 * Queued jobs, in the order they will be sent: the entries queued at the
 * front (`first`, or sent back after their worker left), then one band per
 * priority, highest first, each in order of arrival. Queueing is a push at
 * either end of a band, whatever the queue holds.
 *
 * An entry taken out of the middle of a band (an aborted `exec`, a
 * `cancel(id)`, a stream left) is marked and left there until it reaches
 * the band's front, so taking it out is O(1): `remove` reads the mark, and
 * `removeId` finds an entry by id once the queue is long (one-job entries in
 * a map, the others by binary search over their id ranges). Cutting a job
 * out of the middle of a `map` entry (or of a run of one-argument submits)
 * inserts the part before it into its band: a binary search for the place
 * (a band other than the front one is in id order), then a shift of the
 * entries on the nearer side.
 */
export class JobQueue {
  /** Entries queued at the front; jobs queued later without `first` stay behind them. */
  readonly #front: Band = { priority: Infinity, entries: new Deque(), dead: 0 };
  /** The other bands, highest priority first; the band of priority 0 stays, others go once empty. */
  readonly #bands: Band[] = [];
  /** The band of priority 0: every plain submit's. */
  readonly #zero: Band = { priority: 0, entries: new Deque(), dead: 0 };
  /** Live (not marked) entries. */
  #live = 0;
  /**
   * With more than `INDEX_FROM` live entries: one-job entries by id, and the
   * entries of several jobs sorted by first id (their ranges never overlap).
   * `null` below.
   */
  #single: Map<number, Job> | null = null;
  #several: Job[] | null = null;
  /**
   * Entries of `#several` before this index have left from its front (as
   * workers take them), cut off in bulk once they are half of it: a
   * `splice(0, 1)` per entry taken moved every other one.
   */
  #severalFrom = 0;
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

  constructor() {
    this.#bands.push(this.#zero);
  }

  /** Whether nothing is queued. */
  get empty(): boolean {
    return this.#live === 0;
  }

  /** The next entry to send. */
  front(): Job | undefined {
    return this.#headBand()?.entries.at(0);
  }

  /** The queued entries, front first. */
  *inOrder(): IterableIterator<Job> {
    for (const band of [this.#front, ...this.#bands]) {
      for (const job of band.entries) if (job.queued) yield job;
    }
  }

  /** The queued entries, back first. */
  *inReverse(): IterableIterator<Job> {
    for (const band of [...this.#bands].reverse().concat(this.#front)) {
      const { entries } = band;
      for (let i = entries.length - 1; i >= 0; i--) {
        const job = entries.at(i)!;
        if (job.queued) yield job;
      }
    }
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

  /** No submit joins the open entry any more (its task and `done` are not kept either). */
  close(): void {
    this.#open = null;
    this.#openTask = this.#openDone = undefined;
  }

  /** The open entry, if a submit of `task` to `done` may join it (limits unchecked). */
  openFor(task: unknown, done: unknown): Job | null {
    return this.#openTask === task && this.#openDone === done ? this.#open : null;
  }

  /**
   * The open entry, if it runs task `index` (another function value of the
   * same source, such as an arrow written in the call) for `done`.
   */
  openForIndex(index: number, done: unknown): Job | null {
    const open = this.#open;
    return open !== null && open.task === index && this.#openDone === done ? open : null;
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
    if (open.count === 1 && this.#single !== null) this.#indexAsSeveral(open);
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
   * its priority or higher, and after every entry queued at the front: at
   * the back of its band.
   */
  add(job: Job, first: boolean): void {
    this.close();
    job.queued = true;
    if (first) {
      job.front = true;
      this.#front.entries.unshift(job);
    } else {
      (job.priority === 0 ? this.#zero : this.#bandOf(job.priority, true)!).entries.push(job);
    }
    this.items += job.count;
    this.#counted(job);
  }

  /** `job` is a new live entry: counted, and indexed (the index is made past `INDEX_FROM`). */
  #counted(job: Job): void {
    this.#live++;
    // Once made, the index holds every entry until the queue is empty.
    if (this.#single !== null) this.#index(job);
    else if (this.#live > INDEX_FROM) this.#buildIndex();
  }

  /** Takes at most `limit` jobs off the front: the whole entry, or a slice of a `map`. */
  take(limit: number): Job {
    this.close();
    const band = this.#headBand()!;
    const front = band.entries.at(0)!;
    if (front.count > limit) {
      const slice = front.take(limit);
      this.items -= slice.count;
      return slice;
    }
    band.entries.shift();
    this.#gone(front);
    this.#dropMarked(band);
    return front;
  }

  /** Puts entries back at the front, in their order (they were sent but never started). */
  requeue(jobs: readonly Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      job.slot = null;
      job.claim = -1; // a claim word of the worker it left, not of the next one
      job.next = 0;
      job.timer?.clear(); // its time limit's look at the worker it left: armed again when sent
      job.timer = undefined;
      this.add(job, true);
    }
  }

  /** Takes `job` out; returns whether it was queued. O(1). */
  remove(job: Job): boolean {
    this.close();
    if (!job.queued) return false;
    this.#takeOut(job);
    return true;
  }

  /**
   * Takes the job `id` out, cutting it from the middle of a `map` entry if
   * need be.
   *
   * @returns The entry it belonged to (for its results' destination), or
   * `undefined` when no queued job has that id.
   */
  removeId(id: number): Job | undefined {
    this.close();
    const job = this.entryOf(id);
    return job === undefined ? undefined : this.#cut(job, id);
  }

  /** Takes job `id` out of `job`, the queued entry that holds it; returns the entry. */
  #cut(job: Job, id: number): Job {
    const k = id - job.id;
    if (job.count === 1) {
      this.#takeOut(job);
      return job;
    }
    if (k === 0) job.take(1);
    else if (k === job.count - 1) job.count--;
    else {
      const before = job.take(k);
      job.take(1);
      before.queued = true;
      const band = this.#bandHolding(job);
      band.entries.insert(placeOf(band.entries, job, band !== this.#front), before);
      this.#counted(before);
    }
    this.items--;
    return job;
  }

  /** The queued entry that holds job `id`, if one does; O(log entries) once the queue is long. */
  entryOf(id: number): Job | undefined {
    const alone = this.#single?.get(id);
    if (alone !== undefined) return alone;
    const several = this.#several;
    if (several !== null) {
      const at = lastAtOrBefore(several, this.#severalFrom, id);
      const job = at < this.#severalFrom ? undefined : several[at]!;
      return job !== undefined && id < job.id + job.count ? job : undefined;
    }
    for (const job of this.inOrder()) if (id >= job.id && id < job.id + job.count) return job;
    return undefined;
  }

  /** Empties the queue and returns what it held. */
  drain(): Job[] {
    this.close();
    const jobs = [...this.inOrder()];
    for (const job of jobs) job.queued = false;
    for (const band of [this.#front, ...this.#bands]) {
      band.entries.clear();
      band.dead = 0;
    }
    this.#bands.length = 0;
    this.#bands.push(this.#zero);
    this.#live = 0;
    this.#single = this.#several = null;
    this.items = 0;
    return jobs;
  }

  /** The first band holding an entry. */
  #headBand(): Band | undefined {
    if (this.#front.entries.length !== 0) return this.#front;
    for (const band of this.#bands) if (band.entries.length !== 0) return band;
    return undefined;
  }

  /** The band of `priority` (made, in its place, with `make`). */
  #bandOf(priority: number, make: boolean): Band | undefined {
    const bands = this.#bands;
    let low = 0;
    let high = bands.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (bands[mid]!.priority > priority) low = mid + 1;
      else high = mid;
    }
    if (bands[low]?.priority === priority) return bands[low];
    if (!make) return undefined;
    const band: Band = { priority, entries: new Deque(), dead: 0 };
    bands.splice(low, 0, band);
    return band;
  }

  /** The band `job`, queued, is in. */
  #bandHolding(job: Job): Band {
    return job.front ? this.#front : this.#bandOf(job.priority, false)!;
  }

  /** `job`, queued, leaves the queue: dropped from its band's front at once, else marked there. */
  #takeOut(job: Job): void {
    const band = this.#bandHolding(job);
    this.#gone(job);
    const { entries } = band;
    if (entries.at(0) === job) {
      entries.shift();
      this.#dropMarked(band);
    } else if (entries.at(-1) === job) {
      // The back (`pool.jobs.pop()`): marked ones before it go too.
      entries.pop();
      while (band.dead !== 0 && !entries.at(-1)!.queued) {
        entries.pop();
        band.dead--;
      }
    } else if (++band.dead >= COMPACT_FROM && band.dead * 2 >= entries.length) {
      const kept = [...entries].filter((entry) => entry.queued);
      entries.clear();
      for (const entry of kept) entries.push(entry);
      band.dead = 0;
    }
  }

  /** `job` is no longer queued: counts and index. */
  #gone(job: Job): void {
    job.queued = false;
    this.items -= job.count;
    if (--this.#live === 0) this.#single = this.#several = null;
    else if (this.#single !== null) {
      if (this.#single.get(job.id) === job) this.#single.delete(job.id);
      else this.#unindexSeveral(job);
    }
  }

  /** Drops the marked entries at `band`'s front; an emptied band other than 0's goes. */
  #dropMarked(band: Band): void {
    const { entries } = band;
    while (band.dead !== 0 && entries.length !== 0 && !entries.at(0)!.queued) {
      entries.shift();
      band.dead--;
    }
    if (entries.length === 0 && band !== this.#front && band !== this.#zero) {
      this.#bands.splice(this.#bands.indexOf(band), 1);
    }
  }

  #buildIndex(): void {
    this.#single = new Map();
    this.#several = [];
    this.#severalFrom = 0;
    for (const job of this.inOrder()) this.#index(job);
  }

  #index(job: Job): void {
    if (job.count === 1 && job !== this.#open) this.#single!.set(job.id, job);
    else this.#indexAmongSeveral(job);
  }

  /** Puts `job` in `#several`, in its place by first id (most often the end). */
  #indexAmongSeveral(job: Job): void {
    const several = this.#several!;
    const last = several[several.length - 1];
    if (last === undefined || last.id < job.id) several.push(job);
    else several.splice(lastAtOrBefore(several, this.#severalFrom, job.id) + 1, 0, job);
  }

  /** Takes `job` out of `#several`: from its front by moving `#severalFrom` on, else by a cut. */
  #unindexSeveral(job: Job): void {
    const several = this.#several!;
    const from = this.#severalFrom;
    const at = lastAtOrBefore(several, from, job.id);
    if (at < from || several[at] !== job) return;
    if (at !== from) return void several.splice(at, 1);
    this.#severalFrom = from + 1;
    if (from + 1 >= 32 && (from + 1) * 2 >= several.length) {
      several.splice(0, from + 1);
      this.#severalFrom = 0;
    }
  }

  /** The open entry, indexed alone, takes its second job. */
  #indexAsSeveral(job: Job): void {
    if (this.#single!.get(job.id) === job) this.#single!.delete(job.id);
    this.#indexAmongSeveral(job);
  }
}

/**
 * The index in `sorted` (by first id, from index `from` on) of the last
 * entry whose first id is at most `id`, or `from - 1`.
 */
function lastAtOrBefore(sorted: readonly Job[], from: number, id: number): number {
  let low = from;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]!.id <= id) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

/**
 * Where `job` is in `entries`: by binary search over first ids where the
 * band is in id order (`sorted`: every band but the front one; marked
 * entries keep their ids and places), checked, and by a walk otherwise.
 */
function placeOf(entries: Deque<Job>, job: Job, sorted: boolean): number {
  if (sorted) {
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (entries.at(mid)!.id < job.id) low = mid + 1;
      else high = mid;
    }
    if (entries.at(low) === job) return low;
  }
  let at = 0;
  while (entries.at(at) !== job) at++;
  return at;
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
   * is truncated and `NaN` read as 0, as `Array.prototype.at` does. O(entries
   * between it and the nearer end): `at(0)` and `at(-1)` are quick.
   */
  at(index: number): QueuedJob | undefined {
    index = Math.trunc(index) || 0;
    if (index < 0) index += this.length;
    if (!(index >= 0 && index < this.length)) return undefined;
    const fromBack = this.length - 1 - index;
    if (fromBack < index) {
      // pop(): from the back, so the last job costs no walk over the queue.
      let back = fromBack;
      for (const entry of this.#queue.inReverse()) {
        if (back < entry.count) return view(entry, entry.count - 1 - back);
        back -= entry.count;
      }
      return undefined;
    }
    for (const entry of this.#queue.inOrder()) {
      if (index < entry.count) return view(entry, index);
      index -= entry.count;
    }
    return undefined;
  }

  /**
   * Iterates the queued jobs from the front: those queued when it began,
   * each once, in that order, skipping any taken out meanwhile (a job
   * cancelled in the loop, say, which may cut its entry in two).
   */
  *[Symbol.iterator](): IterableIterator<QueuedJob> {
    const queue = this.#queue;
    const ranges = Array.from(queue.inOrder(), (entry) => [entry.id, entry.id + entry.count]);
    let entry: Job | undefined;
    for (const [from, to] of ranges) {
      for (let id = from!; id < to!; id++) {
        if (entry === undefined || !holds(entry, id)) entry = queue.entryOf(id);
        if (entry !== undefined) yield view(entry, id - entry.id);
      }
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

/** Whether `entry` is queued and holds job `id`. */
function holds(entry: Job, id: number): boolean {
  return entry.queued && id >= entry.id && id < entry.id + entry.count;
}

function view(entry: Job, k: number): QueuedJob {
  const args = entry.mode === Mode.MAP ? [entry.args[entry.offset + k]] : entry.args as unknown[];
  return { id: entry.id + k, args };
}
