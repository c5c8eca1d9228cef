/**
 * One queued or running entry of work. A `Job` is one job, or a slice of a
 * `map` call (`count` jobs with consecutive ids, one item each).
 *
 * @module
 */

import type { WorkerSlot } from "./worker_slot.ts";

/** Where a job's results go. */
export const Sink = {
  /** To `pool.done` (and `doneCount`). */
  DONE: 0,
  /** Nowhere: the caller asked for none. */
  DISCARD: 1,
  /** To `job.target`, a `(result, jobId) => void` callback. */
  CALLBACK: 2,
  /** To `job.target`, a {@linkcode Deferred} (`run`, `exec`). */
  PROMISE: 3,
  /** To `job.target`, a `ResultStream` (`stream`). */
  STREAM: 4,
  /**
   * To one {@linkcode Deferred} per job: `job.target` is an array of them,
   * parallel to `job.args` (one-argument `run()`s merged into one entry).
   */
  PROMISES: 5,
  /** To `job.target`, a `CollectTarget`: results by input index (`collect`). */
  COLLECT: 6,
} as const;

/** The settling side of a `run()` promise; collects a generator's values. */
export interface Deferred {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
  values?: unknown[] | null;
  /** `exec`'s `onProgress`: the job's `jobContext().progress()` values. */
  onProgress?: ((value: unknown) => void) | undefined;
}

/**
 * Where the results of a job go, as its entry holds it: all that `Results`
 * reads to report an end. A job that never reached the queue (a timer's
 * refused submit) has one without being an entry.
 */
export type Destination = Pick<Job, "sink" | "target" | "id" | "offset">;

/** The {@linkcode Deferred} of job `id`, which `job` (a `PROMISE` or `PROMISES` entry) holds. */
export function deferredOf(job: Destination, id: number): Deferred {
  return job.sink === Sink.PROMISE
    ? job.target as Deferred
    : (job.target as Deferred[])[job.offset + id - job.id]!;
}

/** A queued or in-flight job. Fields are public for the pool's hot path. */
export class Job {
  /** Items of this entry that have ended (while in flight). */
  next = 0;
  /**
   * Has ended (done, failed or cancelled), possibly early (aborted, timed
   * out): anything that arrives for it later is dropped.
   */
  ended = false;
  /** The worker running it, once dispatched. */
  slot: WorkerSlot | null = null;
  /** Travels alone, to an idle worker (signal, stream, timeout). */
  exclusive = false;
  /** Milliseconds it may run, or 0 for no limit. */
  timeout = 0;
  /** A `map`-style entry whose items are all numbers: they travel as a Float64Array. */
  numeric = false;
  /** When (clock ms) it was queued, for `stats().waitTime`; -1 once counted. */
  queuedAt = 0;
  /** Higher runs first; equal priorities keep their order. */
  priority = 0;
  /** Its timeout's timer while it runs, then its abort grace's, if any. */
  timer: unknown = undefined;
  /**
   * Items of this entry running asynchronously on a worker with
   * `concurrentTasksPerWorker` above 1: answered out of order, later.
   */
  later = 0;

  constructor(
    /** Id of the first (usually only) job of this entry. */
    public id: number,
    /** Index into the pool's task table. */
    public task: number,
    /** How the worker reads `args`: a protocol `Mode`. */
    public mode: number,
    /** The arguments, or a `map`'s items (a Float64Array when they are all numbers). */
    public args: unknown[] | Float64Array,
    /** For a `map` slice: where its items start in `args`. */
    public offset: number,
    /** How many jobs this entry holds: 1, or a `map` slice's length. */
    public count: number,
    /** A {@linkcode Sink}. */
    public sink: number,
    /** The callback, `Deferred` or stream behind `sink`. */
    public target: unknown,
    /** What to move, not copy, with the arguments. */
    public transfer: Transferable[] | null,
  ) {}

  /** Cuts the first `n` jobs off a `map` entry into an entry of their own. */
  take(n: number): Job {
    const slice = this.part(0, n);
    this.id += n;
    this.offset += n;
    this.count -= n;
    return slice;
  }

  /** The jobs `from` … `from + n - 1` of this entry (a `map` slice), as an entry of their own. */
  part(from: number, n: number): Job {
    const part = new Job(
      this.id + from,
      this.task,
      this.mode,
      this.args,
      this.offset + from,
      n,
      this.sink,
      this.target,
      null,
    );
    part.numeric = this.numeric;
    part.exclusive = this.exclusive;
    part.timeout = this.timeout;
    part.queuedAt = this.queuedAt;
    part.priority = this.priority;
    return part;
  }

  /** What of this entry has not been answered yet, to send again. */
  unanswered(): Job {
    if (this.next === 0) return this;
    return this.part(this.next, this.count - this.next);
  }
}

/**
 * A queued job as users see it in `pool.jobs`.
 *
 * @example Usage
 * ```ts
 * import { Pool, type QueuedJob } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * pool.submit((s: string) => s, "a");
 * pool.map((n: number) => n * 2, [1, 2, 3]);
 * // Jobs wait in `jobs` until the end of this tick sends them out.
 * const queued: QueuedJob[] = [...pool.jobs];
 * assert.deepEqual(queued.map(({ id, args }) => [id, args]), [[1, ["a"]], [2, [1]], [3, [2]], [4, [3]]]);
 * pool.cancel();
 * ```
 */
export interface QueuedJob {
  /** The job's id. */
  readonly id: number;
  /** Its arguments, as they will be sent. */
  readonly args: readonly unknown[];
}
