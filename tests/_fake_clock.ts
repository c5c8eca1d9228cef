/**
 * A {@linkcode Clock} that only moves when a test moves it: the idea of std's
 * `FakeTime`, injected instead of installed. Time starts at 0 (or the given
 * start) and advances only through {@linkcode FakeClock.tick},
 * {@linkcode FakeClock.next} and {@linkcode FakeClock.runAll}, which run the
 * timers that come due, synchronously, in due order.
 *
 * ```ts ignore
 * const clock = new FakeClock();
 * const scheduler = new Scheduler(clock); // or anything else that takes a Clock
 * scheduler.later(100, () => console.log(clock.now()));
 * clock.tick(99); // nothing yet
 * clock.tick(1); // logs 100
 * ```
 *
 * @module
 */

import type { Clock, SetTimerOptions, TimerId } from "../src/timers/clock.ts";

interface FakeTimer {
  due: number;
  callback: () => void;
}

/**
 * A manual clock for tests.
 *
 * - Timers due at the same time run in the order they were set.
 * - While a timer runs, `now()` is its due time.
 * - A timer set by a callback runs in the same `tick()` if it falls within it.
 * - A callback that throws stops the advance: the error propagates out of
 *   `tick()`/`next()`/`runAll()`, the timer is gone, and time stays at its
 *   due time.
 * - `setTimer`'s `unref` option is accepted and ignored.
 */
export class FakeClock implements Clock {
  #now: number;
  #timers = new Map<number, FakeTimer>();
  #nextId = 1;
  #running = false;

  /**
   * Creates a clock with no timers.
   *
   * @param start The initial `now()`, in ms.
   */
  constructor(start = 0) {
    this.#now = start;
  }

  /** The current fake time in ms. */
  now(): number {
    return this.#now;
  }

  /**
   * Sets a timer due `ms` from now; a negative or `NaN` `ms` counts as 0, as
   * with `setTimeout`.
   *
   * @returns A numeric id for {@linkcode FakeClock.clearTimer}.
   */
  setTimer(
    callback: () => void,
    ms: number,
    _options?: SetTimerOptions,
  ): TimerId {
    const id = this.#nextId++;
    this.#timers.set(id, { due: this.#now + (ms > 0 ? ms : 0), callback });
    return id;
  }

  /** Removes a pending timer; unknown or already-run ids are ignored. */
  clearTimer(id: TimerId): void {
    this.#timers.delete(id as number);
  }

  /** How many timers are set and have neither run nor been cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Advances time by `ms`, running every timer that comes due on the way (also
   * those set by callbacks meanwhile), each at its due time; then `now()` is
   * the old `now()` plus `ms`.
   *
   * @throws {RangeError} If `ms` is negative or not finite.
   * @throws {Error} If called from inside a timer callback.
   */
  tick(ms: number): void {
    if (!(ms >= 0 && ms !== Infinity)) {
      throw new RangeError(
        `Cannot advance fake clock: "ms" must be a finite number >= 0, received ${ms}`,
      );
    }
    const target = this.#now + ms;
    this.#advance(() => {
      for (;;) {
        const [id, timer] = this.#earliest() ?? [];
        if (timer === undefined || timer.due > target) break;
        this.#fire(id!, timer);
      }
    });
    this.#now = target;
  }

  /**
   * Runs the one earliest timer, first advancing time to its due time if that
   * is in the future.
   *
   * @returns `false` (and time unchanged) if no timer was pending.
   */
  next(): boolean {
    const [id, timer] = this.#earliest() ?? [];
    if (timer === undefined) return false;
    this.#advance(() => this.#fire(id!, timer));
    return true;
  }

  /**
   * Runs timers, advancing time, until none is left.
   *
   * @param limit The most timers to run.
   * @returns How many timers ran.
   * @throws {RangeError} If timers are still pending after `limit` runs (an
   * interval that never stops, say).
   */
  runAll(limit = 10_000): number {
    let count = 0;
    while (this.#timers.size > 0) {
      if (count === limit) {
        throw new RangeError(
          `Cannot run all timers: ${this.#timers.size} still pending after ${limit} runs`,
        );
      }
      this.next();
      count++;
    }
    return count;
  }

  #advance(run: () => void): void {
    if (this.#running) {
      throw new Error("Cannot advance fake clock: a timer callback is running");
    }
    this.#running = true;
    try {
      run();
    } finally {
      this.#running = false;
    }
  }

  #fire(id: number, timer: FakeTimer): void {
    this.#timers.delete(id);
    if (timer.due > this.#now) this.#now = timer.due;
    timer.callback();
  }

  /** The earliest timer; the first set among equals (a Map keeps insertion order). */
  #earliest(): [number, FakeTimer] | undefined {
    let earliest: [number, FakeTimer] | undefined;
    for (const entry of this.#timers) {
      if (earliest === undefined || entry[1].due < earliest[1].due) {
        earliest = entry;
      }
    }
    return earliest;
  }
}

/** A clock over `fake` whose timers fire `lag.ms` late, as a busy event loop's do. */
export function laggingClock(fake: FakeClock, lag: { ms: number }): Clock {
  return {
    now: () => fake.now(),
    setTimer: (callback, ms, options) => fake.setTimer(callback, ms + lag.ms, options),
    clearTimer: (id) => fake.clearTimer(id),
  };
}
