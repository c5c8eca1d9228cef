/**
 * What `asCompleted()` takes, for `Pool` and `ClusterPool` alike: entries of
 * `done` first, then of `failed`, each taken with its counter's permit.
 *
 * @module
 */

import type { Deque } from "../deque.ts";
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
 * (`wait` false), only as many as the queues held when it was made: the
 * ones there then, at their fronts (entries are taken in order), and none
 * that arrived after.
 */
export class CompletedTaker {
  readonly #queues: ResultQueues;
  #doneLeft: number;
  #failedLeft: number;

  constructor(queues: ResultQueues, onlyNow: boolean) {
    this.#queues = queues;
    this.#doneLeft = onlyNow ? queues.done.length : Infinity;
    this.#failedLeft = onlyNow ? queues.failed.length : Infinity;
  }

  /** The next entry, `done` before `failed`, or {@linkcode NOTHING}. */
  take(): unknown {
    const { done, failed } = this.#queues;
    if (this.#doneLeft > 0 && done.length !== 0) {
      this.#doneLeft--;
      this.#queues.doneCount.tryAcquire();
      return done.shift();
    }
    if (this.#failedLeft > 0 && failed.length !== 0) {
      this.#failedLeft--;
      this.#queues.failedCount.tryAcquire();
      return failed.shift();
    }
    return NOTHING;
  }
}
