/**
 * The source of main-thread time. The pool and the scheduler read time and set
 * timers only through a {@linkcode Clock}, so tests can drive a fake one
 * instead of sleeping.
 *
 * @module
 */

import { clearTimeout, setTimeout } from "../_event_loop.ts";
import { now } from "../_now.ts";

/**
 * An opaque handle returned by {@linkcode Clock.setTimer}.
 *
 * @example Usage
 * ```ts
 * import { systemClock, type TimerId } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * let fired = false;
 * const id: TimerId = systemClock.setTimer(() => {
 *   fired = true;
 * }, 0);
 * systemClock.clearTimer(id);
 * // A later timer fires after the cleared one would have.
 * await new Promise<void>((resolve) => systemClock.setTimer(resolve, 1));
 * assert.equal(fired, false);
 * ```
 */
export type TimerId = unknown;

/**
 * Options for {@linkcode Clock.setTimer}.
 *
 * @example Usage
 * ```ts
 * import { type SetTimerOptions, systemClock } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const options: SetTimerOptions = { unref: true };
 * let fired = false;
 * systemClock.setTimer(() => {
 *   fired = true;
 * }, 1, options);
 * // The unref'd timer still fires while something else keeps the program alive.
 * await new Promise<void>((resolve) => systemClock.setTimer(resolve, 5));
 * assert.equal(fired, true);
 * ```
 */
export interface SetTimerOptions {
  /**
   * When true, the timer does not keep the program alive by itself
   * (`Deno.unrefTimer` on Deno, `Timeout.unref()` on Bun).
   *
   * @default {false}
   */
  unref?: boolean;
}

/**
 * Time in milliseconds and one-shot timers on the main thread.
 *
 * @example Usage
 * ```ts
 * import type { Clock, TimerId } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * // A clock that moves only when told to, as tests pass in place of `systemClock`.
 * class ManualClock implements Clock {
 *   #time = 0;
 *   #timers = new Map<TimerId, { due: number; callback: () => void }>();
 *   now(): number {
 *     return this.#time;
 *   }
 *   setTimer(callback: () => void, ms: number): TimerId {
 *     const id = Symbol("timer");
 *     this.#timers.set(id, { due: this.#time + ms, callback });
 *     return id;
 *   }
 *   clearTimer(id: TimerId): void {
 *     this.#timers.delete(id);
 *   }
 *   advance(ms: number): void {
 *     this.#time += ms;
 *     for (const [id, { due, callback }] of this.#timers) {
 *       if (due > this.#time) continue;
 *       this.#timers.delete(id);
 *       callback();
 *     }
 *   }
 * }
 *
 * const clock = new ManualClock();
 * let fired = 0;
 * clock.setTimer(() => fired++, 100);
 * clock.clearTimer(clock.setTimer(() => fired++, 50));
 * clock.advance(99);
 * assert.equal(fired, 0);
 * clock.advance(1);
 * assert.equal(fired, 1);
 * assert.equal(clock.now(), 100);
 * ```
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  now(): number;
  /**
   * Calls `callback` once, `ms` milliseconds from now: later, never before
   * `setTimer` returns (the pool arms the next look of a job's time limit
   * from inside one). `ms` may be any number of milliseconds ≥ 0, past
   * `setTimeout`'s 2^31 − 1 too (`pool.wait(ms)`, `asCompleted(ms)` and job
   * limits pass theirs as given; {@linkcode systemClock} waits them out).
   */
  setTimer(callback: () => void, ms: number, options?: SetTimerOptions): TimerId;
  /** Cancels a timer; unknown or fired ids are ignored. */
  clearTimer(id: TimerId): void;
}

interface DenoTimers {
  unrefTimer(id: number): void;
}

const denoTimers = (globalThis as { Deno?: DenoTimers }).Deno;

/**
 * The real clock: `performance.now()` and `setTimeout`.
 *
 * @example Usage
 * ```ts
 * import { systemClock } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const start = systemClock.now();
 * await new Promise<void>((resolve) => systemClock.setTimer(resolve, 5));
 * assert.ok(systemClock.now() - start >= 4);
 * ```
 */
export const systemClock: Clock = {
  now, // performance.now as it was at load: a user's fake timers cannot freeze the pool's clock
  setTimer(callback, ms, options) {
    if (ms > MAX_DELAY) return new LongTimer(callback, ms, options?.unref === true);
    const id = setTimeout(callback, ms);
    if (options?.unref) unrefTimer(id);
    return id;
  },
  clearTimer(id) {
    if (id instanceof LongTimer) id.clear();
    else clearTimeout(id as ReturnType<typeof setTimeout>);
  },
};

/** The longest delay `setTimeout` takes; a longer one would fire at once. */
export const MAX_DELAY = 2 ** 31 - 1;

/**
 * A timer longer than `setTimeout` allows: it re-arms in steps of
 * `MAX_DELAY` until its time comes. `Infinity` (no limit) never fires and
 * holds no timer at all.
 */
class LongTimer {
  #id: ReturnType<typeof setTimeout> | undefined;

  constructor(callback: () => void, ms: number, unref: boolean) {
    if (ms === Infinity) return;
    const due = now() + ms;
    const arm = () => {
      const left = due - now();
      this.#id = setTimeout(left > MAX_DELAY ? arm : callback, Math.min(left, MAX_DELAY));
      if (unref) unrefTimer(this.#id);
    };
    arm();
  }

  clear(): void {
    if (this.#id !== undefined) clearTimeout(this.#id);
    this.#id = undefined;
  }
}

function unrefTimer(id: ReturnType<typeof setTimeout>): void {
  if (typeof id === "number") denoTimers?.unrefTimer(id);
  else (id as { unref?: () => void }).unref?.();
}

/**
 * Whether `promise` settles within `ms` on `clock` (what `@std/async`'s
 * `deadline` does, answering `false` instead of throwing); `Infinity` waits
 * as long as it takes. Its timer is cleared either way.
 *
 * @example Usage
 * ```ts
 * import { settlesWithin, systemClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await settlesWithin(systemClock, Promise.resolve(), 1_000), true);
 * assert.equal(await settlesWithin(systemClock, new Promise(() => {}), 5), false);
 * ```
 */
export function settlesWithin(
  clock: Clock,
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  const settled = promise.then(() => true, () => true);
  if (ms === Infinity) return settled;
  return new Promise((resolve, reject) => {
    const timer = clock.setTimer(() => resolve(false), Math.max(0, ms));
    settled.then(() => {
      try {
        clock.clearTimer(timer);
      } catch (error) {
        return reject(error); // a custom clock's: the caller's to throw, not an unhandled one
      }
      resolve(true);
    });
  });
}

/**
 * A pool's view of a user's clock whose `clearTimer` may throw. Such a throw
 * fails the call that cancelled, as it comes, except within
 * {@linkcode FailSafeClock.whole}: a pool that stops (`terminate()`,
 * `shutdown()`, a worker's removal) must not stop halfway (`terminate()`
 * had left its running jobs pending for good), so there the first error is
 * kept and thrown once every step is done.
 *
 * @example Usage
 * ```ts
 * import { FailSafeClock, systemClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 *
 * const clock = new FailSafeClock({
 *   ...systemClock,
 *   clearTimer() {
 *     throw new Error("clearTimer broke");
 *   },
 * });
 * const steps: string[] = [];
 * assert.throws(() => clock.clearTimer(clock.setTimer(() => {}, 1)), /clearTimer broke/);
 * assert.throws(() =>
 *   clock.whole(() => {
 *     clock.clearTimer(undefined); // kept
 *     steps.push("went on");
 *   }), /clearTimer broke/);
 * assert.deepEqual(steps, ["went on"]);
 * ```
 */
export class FailSafeClock implements Clock {
  readonly #clock: Clock;
  /** Within `whole()`: the first error kept, if any. */
  #kept: { error?: unknown; thrown: boolean } | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  setTimer(callback: () => void, ms: number, options?: SetTimerOptions): TimerId {
    return this.#clock.setTimer(callback, ms, options);
  }

  clearTimer(id: TimerId): void {
    const kept = this.#kept;
    if (kept === undefined) return this.#clock.clearTimer(id);
    try {
      this.#clock.clearTimer(id);
    } catch (error) {
      if (!kept.thrown) Object.assign(kept, { error, thrown: true });
    }
  }

  /**
   * Runs `steps` with every `clearTimer` failure kept, then throws the first
   * (a `whole()` within another leaves it to the outer one).
   */
  whole<T>(steps: () => T): T {
    if (this.#kept !== undefined) return steps();
    const kept: { error?: unknown; thrown: boolean } = this.#kept = { thrown: false };
    try {
      const result = steps();
      if (kept.thrown) throw kept.error;
      return result;
    } finally {
      this.#kept = undefined;
    }
  }
}
