/**
 * What `asCompleted()` takes, for `Pool` and `ClusterPool` alike: entries of
 * `done` first, then of `failed`, each taken with its counter's permit.
 *
 * @module
 */

import { type Deque, frontIndex } from "../deque.ts";
import type { Semaphore } from "../sync/semaphore.ts";

/** A pool's result queues and their counters. */
export interface ResultQueues {
  readonly done: Deque<unknown>;
  readonly failed: Deque<unknown>;
  readonly doneCount: Semaphore;
  readonly failedCount: Semaphore;
}

/** {@linkcode CompletedTaker.take} found nothing to take. */
export const NOTHING: unique symbol = Symbol("nothing");

/**
 * Takes entries for one `asCompleted(wait)` iterator. With `onlyNow`
 * (`wait` false), only those the queues held when it was made, counted
 * with each queue's `frontIndex`: though others (another iterator, a
 * `done.shift()`) take some meanwhile, it never takes one that came after
 * (unless put among them with `insert` or `unshift`; one taken from the
 * middle or back may have been a later one: then one of those there at the
 * call stays in the queue).
 */
export class CompletedTaker {
  readonly #queues: ResultQueues;
  readonly #doneEnd: number;
  readonly #failedEnd: number;

  constructor(queues: ResultQueues, onlyNow: boolean) {
    this.#queues = queues;
    const { done, failed } = queues;
    this.#doneEnd = onlyNow ? frontIndex(done) + done.length : Infinity;
    this.#failedEnd = onlyNow ? frontIndex(failed) + failed.length : Infinity;
  }

  /** The next entry, `done` before `failed`, or {@linkcode NOTHING}. */
  take(): unknown {
    const { done, failed } = this.#queues;
    if (done.length !== 0 && frontIndex(done) < this.#doneEnd) {
      this.#queues.doneCount.tryAcquire();
      return done.shift();
    }
    if (failed.length !== 0 && frontIndex(failed) < this.#failedEnd) {
      this.#queues.failedCount.tryAcquire();
      return failed.shift();
    }
    return NOTHING;
  }
}
