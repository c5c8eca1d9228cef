/**
 * What `asCompleted()` takes, for `Pool` and `ClusterPool` alike: entries of
 * `done` first, then of `failed`, each taken with its counter's permit.
 *
 * @module
 */

import { type Deque, frontIndex } from "../deque.ts";
import type { Semaphore } from "../sync/semaphore.ts";
import type { Clock } from "../timers/clock.ts";

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

/** What an `asCompleted()` iterator waits on, of its pool. */
export interface CompletedWaits {
  /** How many jobs have not ended. */
  pending(): number;
  /** Resolves at the pool's next change of results, or at `wake()`. */
  changed(): Promise<void>;
  /** Resolves every `changed()` now. */
  wake(): void;
}

/**
 * `asCompleted(wait)`: the entries `taker` takes, as they arrive; it ends
 * once nothing is pending and nothing is left to take, with `wait` false
 * once what was there at the call is taken, or `wait` ms after the call
 * (also in the middle of a backlog: nothing is taken after it). Its
 * `return()` ends it at once, also while a `next()` waits (that `next()`
 * then gives `done`): an async generator's own `return()` would wait for
 * that `next()`, for ever if no result came.
 */
export function completedEntries(
  taker: CompletedTaker,
  wait: number | false | undefined,
  clock: Clock,
  waits: CompletedWaits,
): AsyncIterableIterator<unknown> {
  const stop = { stopped: false };
  const entries = takeAsTheyCome(taker, wait, clock, waits, stop);
  const stopping = (): void => {
    stop.stopped = true;
    waits.wake(); // a next() waiting wakes, sees `stopped` and ends
  };
  // On the engine's async iterator prototype, as an async generator is:
  // `Symbol.asyncIterator`, and `Symbol.asyncDispose` for `await using`.
  const iterator: AsyncIterableIterator<unknown> = Object.assign(Object.create(ASYNC_ITERATOR), {
    next: () => entries.next(),
    return: (value?: unknown) => {
      stopping();
      return entries.return(value as undefined);
    },
    throw: (error?: unknown) => {
      stopping();
      return entries.throw(error);
    },
  });
  return iterator;
}

/** `%AsyncIteratorPrototype%`: what every async generator inherits from. */
const ASYNC_ITERATOR: object = Object.getPrototypeOf(
  Object.getPrototypeOf(async function* () {}).prototype,
);

async function* takeAsTheyCome(
  taker: CompletedTaker,
  wait: number | false | undefined,
  clock: Clock,
  waits: CompletedWaits,
  stop: { stopped: boolean },
): AsyncGenerator<unknown, void, undefined> {
  let timer: unknown;
  let expired = false;
  // The deadline wakes the loop the way a result does; racing a promise
  // that lives as long as the loop would keep one reaction per wake-up. Its
  // timer is set only while the loop waits: an iterator left at a `yield`
  // never reaches its `finally`, and a timer set for all of `wait` held it
  // (and what it yielded) until then. Unref'd: the deadline must not hold
  // the program (the jobs it waits for do). A consumer that never lets a
  // timer run still stops at `end`.
  const end = typeof wait === "number" ? clock.now() + wait : Infinity;
  const expire = () => {
    expired = true;
    waits.wake();
  };
  const over = () => stop.stopped || expired || (end !== Infinity && clock.now() >= end);
  try {
    while (!over()) {
      const entry = taker.take();
      if (entry !== NOTHING) {
        yield entry;
        continue;
      }
      if (wait === false || waits.pending() === 0) return;
      if (end !== Infinity) timer = clock.setTimer(expire, end - clock.now(), { unref: true });
      await waits.changed();
      if (timer !== undefined) {
        clock.clearTimer(timer);
        timer = undefined;
      }
    }
  } finally {
    if (timer !== undefined) clock.clearTimer(timer);
  }
}
