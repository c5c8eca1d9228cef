/**
 * Where every job ends. Each end is counted out of `pending` and reported to
 * `Results` here, and nowhere else: "every submitted job ends exactly once"
 * is one count going up at submit and down at one of these methods.
 *
 * ```
 *  submit ─▶ added(n) ─▶ pending ─▶ returned / returnedMany / failed / cancelled / streamEnded / dropped
 * ```
 *
 * Whether an entry of several jobs (a `map` chunk) is over, `job.ended`, is
 * the caller's to say: it knows which of the entry's jobs have answered.
 *
 * @module
 */

import type { Job } from "./job.ts";
import type { Results } from "./results.ts";
import type { StatsRecorder } from "./stats.ts";

/** Counts jobs in and out, and reports each end. */
export class JobEnds {
  #pending = 0;
  readonly #results: Results;
  readonly #stats: StatsRecorder;

  constructor(results: Results, stats: StatsRecorder) {
    this.#results = results;
    this.#stats = stats;
  }

  /** Queued plus running jobs. */
  get pending(): number {
    return this.#pending;
  }

  /** `n` jobs were submitted. */
  added(n: number): void {
    this.#pending += n;
  }

  /** Job `id` of `job` returned `value`. */
  returned(job: Job, id: number, value: unknown): void {
    this.#pending--;
    this.#results.value(job, id, value, false);
  }

  /** `n` jobs of `job` from `id` on returned `values[at …]`. */
  returnedMany(job: Job, id: number, values: ArrayLike<unknown>, at: number, n: number): void {
    this.#pending -= n;
    this.#results.values(job, id, values, at, n);
  }

  /**
   * Job `id` of `job` failed with `error`. `n` > 1 when one failure ends
   * several (an aborted entry whose rest had not answered).
   */
  failed(job: Job, id: number, error: unknown, n = 1): void {
    this.#pending -= n;
    this.#results.failure(job, id, error);
  }

  /** Job `id` of `job` was cancelled before it ran (`n` > 1: with the rest of its entry). */
  cancelled(job: Job, id: number, reason: unknown, n = 1): void {
    this.#pending -= n;
    this.#results.cancelled(job, id, reason);
  }

  /** The stream `id` of `job` ended (its generator returned). */
  streamEnded(job: Job, id: number): void {
    this.#pending--;
    this.#results.end(job, id);
  }

  /**
   * Stream `id` ends unreported: its consumer left. It counts as
   * cancelled, and is reported to `cancelledCallback` if it had not started.
   */
  dropped(id: number, started: boolean): void {
    this.#pending--;
    this.#results.left(id, started);
  }
}
