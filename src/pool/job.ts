/**
 * One queued or running entry of work. A `Job` is one job, or a slice of a
 * `map` call (`count` jobs with consecutive ids, one item each).
 *
 * @module
 */

import { Mode } from "../protocol/messages.ts";
import type { CollectTarget } from "./collector.ts";
import type { ResultStream } from "./result_stream.ts";
import type { WorkerSlot } from "./worker_slot.ts";

/** The kinds of {@linkcode Destination}: where a job's results go. */
export const Sink = {
  /** To `pool.done` (and `doneCount`). */
  DONE: 0,
  /** Nowhere: the caller asked for none. */
  DISCARD: 1,
  /** To a `(result, jobId) => void` callback. */
  CALLBACK: 2,
  /** To a {@linkcode Deferred} (`run`, `exec`). */
  PROMISE: 3,
  /** To a `ResultStream` (`stream`). */
  STREAM: 4,
  /** To one {@linkcode Deferred} per job, parallel to `job.args` (merged one-argument `run()`s). */
  PROMISES: 5,
  /** To a `CollectTarget`: results by input index (`collect`). */
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

/** Where a job's results go: one case per {@linkcode Sink}, each with what it needs. */
export type Destination =
  | { readonly kind: typeof Sink.DONE }
  | { readonly kind: typeof Sink.DISCARD }
  | {
    readonly kind: typeof Sink.CALLBACK;
    readonly callback: (result: unknown, id: number) => void;
  }
  | { readonly kind: typeof Sink.PROMISE; readonly deferred: Deferred }
  | { readonly kind: typeof Sink.PROMISES; readonly deferreds: Deferred[] }
  | { readonly kind: typeof Sink.STREAM; readonly stream: ResultStream<unknown> }
  | { readonly kind: typeof Sink.COLLECT; readonly collect: CollectTarget };

/** Results to `pool.done`: one object for every pool, so the hot path compares identity. */
export const TO_DONE: Destination = Object.freeze({ kind: Sink.DONE });
/** Results nowhere. */
export const TO_DISCARD: Destination = Object.freeze({ kind: Sink.DISCARD });

/**
 * What `Results` reads to report the end of job `id`: the destination of
 * its entry, and where the job sits in it. A job that never reached the
 * queue (a timer's refused submit) has one without being an entry.
 */
export type Addressed = Pick<Job, "dest" | "id" | "offset">;

/**
 * Whether a job sent to `dest` hands the reason it was cancelled or failed
 * for to someone (a promise, a stream, `collect()`); results bound for
 * `done`, a callback or nowhere do not.
 */
export function takesReason(dest: Destination): boolean {
  const kind = dest.kind;
  return kind === Sink.PROMISE || kind === Sink.PROMISES || kind === Sink.STREAM ||
    kind === Sink.COLLECT;
}

/** The {@linkcode Deferred} of job `id`, if its destination is a promise. */
export function deferredOf(job: Addressed, id: number): Deferred | undefined {
  const dest = job.dest;
  if (dest.kind === Sink.PROMISE) return dest.deferred;
  if (dest.kind === Sink.PROMISES) return dest.deferreds[job.offset + id - job.id];
  return undefined;
}

/**
 * How an entry is run, decided before it is queued and shared by every part
 * cut from it: `part()` copies the reference, so no field can be forgotten.
 */
export interface JobPolicy {
  /** Travels alone, to an idle worker (a signal, a stream, a timeout on one lane). */
  readonly exclusive: boolean;
  /** Milliseconds each job may run, or 0 for no limit. */
  readonly timeout: number;
  /** Higher runs first; equal priorities keep their order. */
  readonly priority: number;
  /**
   * Has a signal and shares its worker (several lanes): travels in a batch
   * of its own, which the pool may take back until its worker starts it.
   */
  readonly abortable?: boolean;
}

/** The policy of a plain job: shares its worker, no time limit, priority 0. */
export const PLAIN: JobPolicy = Object.freeze({ exclusive: false, timeout: 0, priority: 0 });

/** What a {@linkcode Job} is made of; see the factories below. */
interface JobInit {
  id: number;
  task: number;
  mode: number;
  args: unknown[] | Float64Array;
  offset: number;
  count: number;
  dest: Destination;
  transfer: Transferable[] | null;
  policy: JobPolicy;
}

/** A queued or in-flight job. Fields are public for the pool's hot path. */
export class Job {
  /** Id of the first (usually only) job of this entry. */
  id: number;
  /** Index into the pool's task table. */
  readonly task: number;
  /** How the worker reads `args`: a protocol `Mode`. */
  readonly mode: number;
  /** The arguments, or a `map`'s items (a Float64Array when they are all numbers). */
  readonly args: unknown[] | Float64Array;
  /** For a `map` slice: where its items start in `args`. */
  offset: number;
  /** How many jobs this entry holds: 1, or a `map` slice's length. */
  count: number;
  /** Where its results go. */
  readonly dest: Destination;
  /** What to move, not copy, with the arguments. */
  readonly transfer: Transferable[] | null;
  /** How it is run (see {@linkcode JobPolicy}). */
  readonly policy: JobPolicy;
  /** Items of this entry that have ended (while in flight). */
  next = 0;
  /**
   * Has ended (done, failed or cancelled), possibly early (aborted, timed
   * out): anything that arrives for it later is dropped.
   */
  ended = false;
  /** The worker running it, once dispatched. */
  slot: WorkerSlot | null = null;
  /** A `map`-style entry whose items are all numbers: they travel as a Float64Array. */
  numeric = false;
  /** When (clock ms) it was queued, for `stats().waitTime`; -1 once counted. */
  queuedAt = 0;
  /** Its timeout's timer while it runs, then its abort grace's, if any. */
  timer: { clear(): void } | undefined = undefined;
  /**
   * Items of this entry running asynchronously on a worker with
   * `concurrentTasksPerWorker` above 1: answered out of order, later.
   */
  later = 0;
  /**
   * The id of the job of this entry whose values (a generator's) have reached
   * the pool, or -1: that job can never run again, even if its worker dies
   * before its end arrives (its values would come twice).
   */
  yieldedId = -1;
  /**
   * An abortable job's claim: the number of the claimable batch it travels
   * alone in (see `protocol/claims.ts`), or -1 if it has none.
   */
  claim = -1;
  /**
   * Was in flight on a worker that crashed where the pool cannot see which
   * job it ran (no shared memory): each of its jobs goes alone to an idle
   * worker, so the next crash names its job.
   */
  suspect = false;
  /**
   * How often its answer was lost with a crashed worker after it went
   * `LATER` (several lanes): it goes again with the others, and fails the
   * second time (its answer may be what kills the worker).
   */
  answersLost = 0;
  /**
   * Was queued at the front (`first`, or sent back after its worker left):
   * jobs queued later without `first` stay behind it, whatever their
   * priority.
   */
  front = false;
  /**
   * In the pool's queue (`JobQueue`). Cleared when it is taken or taken out;
   * one taken out of the middle of its band may wait there, so marked, until
   * it reaches the band's front.
   */
  queued = false;

  constructor(init: JobInit) {
    this.id = init.id;
    this.task = init.task;
    this.mode = init.mode;
    this.args = init.args;
    this.offset = init.offset;
    this.count = init.count;
    this.dest = init.dest;
    this.transfer = init.transfer;
    this.policy = init.policy;
  }

  /** Travels alone, to an idle worker (its policy's, or as a suspect). */
  get exclusive(): boolean {
    return this.policy.exclusive || this.suspect;
  }

  /** Milliseconds each job may run, or 0 (its policy's). */
  get timeout(): number {
    return this.policy.timeout;
  }

  /** Travels in a batch of its own that may be taken back (its policy's). */
  get abortable(): boolean {
    return this.policy.abortable === true;
  }

  /** Its priority (its policy's). */
  get priority(): number {
    return this.policy.priority;
  }

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
    const part = new Job({
      id: this.id + from,
      task: this.task,
      mode: this.mode,
      args: this.args,
      offset: this.offset + from,
      count: n,
      dest: this.dest,
      transfer: null,
      policy: this.policy,
    });
    part.numeric = this.numeric;
    part.queuedAt = this.queuedAt;
    part.yieldedId = this.yieldedId;
    part.suspect = this.suspect;
    part.answersLost = this.answersLost;
    part.front = this.front;
    return part;
  }

  /** What of this entry has not been answered yet, to send again. */
  unanswered(): Job {
    if (this.next === 0) return this;
    return this.part(this.next, this.count - this.next);
  }
}

/** One call of `task` with `args` (`submit`, `exec`, a timer's job). */
export function callJob(
  id: number,
  task: number,
  args: unknown[],
  dest: Destination,
  transfer: Transferable[] | null,
  policy: JobPolicy,
): Job {
  return new Job({ id, task, mode: Mode.CALL, args, offset: 0, count: 1, dest, transfer, policy });
}

/** `count` calls of `task`, one item of `items` each, ids from `id` on (`map`, merged submits). */
export function mapJob(
  id: number,
  task: number,
  items: unknown[] | Float64Array,
  count: number,
  dest: Destination,
  policy: JobPolicy,
): Job {
  const job = new Job({
    id,
    task,
    mode: Mode.MAP,
    args: items,
    offset: 0,
    count,
    dest,
    transfer: null,
    policy,
  });
  job.numeric = items instanceof Float64Array ||
    (count === 1 && typeof (items as unknown[])[0] === "number");
  return job;
}

/** A generator job whose values `stream` yields, alone on its worker (`stream()`). */
export function streamJob(
  id: number,
  task: number,
  args: unknown[],
  stream: ResultStream<unknown>,
  transfer: Transferable[] | null,
  timeout: number,
): Job {
  return new Job({
    id,
    task,
    mode: Mode.STREAM,
    args,
    offset: 0,
    count: 1,
    dest: { kind: Sink.STREAM, stream },
    transfer,
    policy: timeout === 0 ? STREAMING : { exclusive: true, timeout, priority: 0 },
  });
}

const STREAMING: JobPolicy = Object.freeze({ exclusive: true, timeout: 0, priority: 0 });

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

/**
 * Wires `signal` to a job's promise: `onAbort` runs if the signal aborts
 * before `deferred` settles, and the listener is removed once it settles.
 */
export function abortWith(
  deferred: { resolve(value: unknown): void; reject(reason: unknown): void },
  signal: AbortSignal,
  onAbort: () => void,
): void {
  signal.addEventListener("abort", onAbort, { once: true });
  const { resolve, reject } = deferred;
  deferred.resolve = (value) => {
    signal.removeEventListener("abort", onAbort);
    resolve(value);
  };
  deferred.reject = (reason) => {
    signal.removeEventListener("abort", onAbort);
    reject(reason);
  };
}
