/**
 * The job batch: the flat `jobs` array of a `run` message, both ends. The
 * pool writes it with {@linkcode writeJob}, the worker reads it with
 * {@linkcode readJobHeader}; nothing else knows its layout.
 *
 * A batch is one flat array, because cloning a number inside an array costs
 * ~0.01 µs while cloning one small object costs 1–3 µs:
 *
 * ```
 *  jobs: [ id, task, mode, n, v1 … vn,   id, task, mode, n, v1 … vn, … ]
 *          └─ header (JOB_HEADER) ─┘
 *  mode CALL:    v1 … vn are the arguments of one job
 *  mode MAP:     v1 … vn are n jobs (ids id … id+n-1), each called with one argument
 *  mode STREAM:  like CALL; yielded values are sent as they come, paced by credits
 *  mode MAP_F64: like MAP for numbers: one value, a moved Float64Array of the n items
 *  + TIMED:      added to the mode of a job with a time limit: its answer says how long it ran
 * ```
 *
 * Values travel as they are given; the worker revives Semaphores and Locks in
 * them (`sync/wire.ts`), which this file does not know about.
 *
 * @module
 */

import { Mode } from "./messages.ts";

/** Number of header words before each job's values. */
export const JOB_HEADER = 4;

/**
 * Added to the mode word of an entry whose job has a time limit: the worker
 * writes how long it ran before its answer (`[TOOK, ms]`, `result_batch.ts`),
 * so the pool can judge it also when it reads the answer late.
 */
export const TIMED = 8;

/** A numeric `map` slice this long or longer travels as a Float64Array. */
export const MIN_F64_ITEMS = 16;

/**
 * What {@linkcode writeJob} reads of a job: the pool's `Job` has these
 * fields, and this file knows nothing more of it.
 */
export interface OutgoingJob {
  /** Id of the first (usually only) job of the entry. */
  readonly id: number;
  /** Index into the pool's task table (the worker's `tasks`). */
  readonly task: number;
  /** A {@linkcode Mode}; `MAP_F64` is chosen here, never given. */
  readonly mode: number;
  /** The arguments (`CALL`, `STREAM`: all of them), or a `map`'s items. */
  readonly args: ArrayLike<unknown>;
  /** For a `map` slice: where its items start in `args`. */
  readonly offset: number;
  /** How many jobs the entry holds: 1, or a `map` slice's length. */
  readonly count: number;
  /** A `map` entry whose items are all numbers (then `args` may be a Float64Array). */
  readonly numeric: boolean;
  /** What to move, not copy, with the arguments. */
  readonly transfer: readonly Transferable[] | null;
  /** Its time limit (ms), 0 for none: a timed entry is marked {@linkcode TIMED}. */
  readonly timeout: number;
}

/**
 * Appends a job's header and values to a batch, and what it moves to
 * `transfer`. A numeric `map` slice of {@linkcode MIN_F64_ITEMS} or more
 * goes as one Float64Array copy of its items, moved.
 */
export function writeJob(data: unknown[], transfer: Transferable[], job: OutgoingJob): void {
  if (job.transfer) { for (const item of job.transfer) transfer.push(item); }
  const args = job.args;
  if (job.mode === Mode.MAP) {
    if (job.numeric && job.count >= MIN_F64_ITEMS) {
      let values: Float64Array;
      if (args instanceof Float64Array) values = args.slice(job.offset, job.offset + job.count);
      else {
        values = new Float64Array(job.count);
        for (let i = 0, at = job.offset; i < values.length; i++, at++) {
          values[i] = args[at] as number;
        }
      }
      data.push(job.id, job.task, Mode.MAP_F64, job.count, values);
      transfer.push(values.buffer as ArrayBuffer);
      return;
    }
    // A timed item travels as an entry of its own (the worker runs it as a call).
    const timed = job.timeout > 0 && job.count === 1;
    data.push(job.id, job.task, timed ? Mode.MAP + TIMED : Mode.MAP, job.count);
    for (let i = job.offset, end = job.offset + job.count; i < end; i++) data.push(args[i]);
  } else {
    data.push(job.id, job.task, job.timeout > 0 ? job.mode + TIMED : job.mode, args.length);
    for (let i = 0; i < args.length; i++) data.push(args[i]);
  }
}

/**
 * One job entry of a batch, as {@linkcode readJobHeader} read it. The worker
 * keeps one and refills it per entry, so reading allocates nothing.
 */
export class JobHeader {
  /** Id of the entry's first job; a `map` entry's jobs follow it. */
  id = 0;
  /** Index into the worker's task table. */
  task = 0;
  /** A {@linkcode Mode}. */
  mode = 0;
  /** The job has a time limit (its mode was marked {@linkcode TIMED}). */
  timed = false;
  /** `CALL`, `STREAM`: the number of arguments; `MAP`, `MAP_F64`: the number of jobs. */
  count = 0;
  /**
   * Where the values start in the batch: `CALL`, `STREAM`, `MAP`: `count`
   * values from here; `MAP_F64`: one Float64Array of `count` items, here.
   */
  values = 0;
}

/**
 * Reads the header of the entry at `at` of a batch into `header`; returns
 * where the next entry starts (the batch's length after the last).
 */
export function readJobHeader(data: readonly unknown[], at: number, header: JobHeader): number {
  const word = data[at + 2] as number;
  const mode = word & (TIMED - 1);
  const count = data[at + 3] as number;
  header.id = data[at] as number;
  header.task = data[at + 1] as number;
  header.mode = mode;
  header.timed = word >= TIMED;
  header.count = count;
  header.values = at + JOB_HEADER;
  return at + JOB_HEADER + (mode === Mode.MAP_F64 ? 1 : count);
}

/**
 * A number read from a Float64Array (a `MAP_F64` item, a shared lane's
 * value), as a task should get it: an integer as an integer, not as a
 * double, which would send the task down its engine's slower floating-point
 * paths (`map` of fib(20) ran 1.7 times slower on Deno, 1.2 on Bun, that
 * way). -0 stays -0.
 */
export function fromDouble(x: number): number {
  return x === (x | 0) && (x !== 0 || 1 / x > 0) ? x | 0 : x;
}
