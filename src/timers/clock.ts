/**
 * The source of main-thread time. The pool and the scheduler read time and set
 * timers only through a {@linkcode Clock}, so tests can drive a fake one
 * instead of sleeping.
 *
 * @module
 */

/** An opaque handle returned by {@linkcode Clock.setTimer}. */
export type TimerId = unknown;

/** Options for {@linkcode Clock.setTimer}. */
export interface SetTimerOptions {
  /**
   * When true, the timer does not keep the program alive by itself
   * (`Deno.unrefTimer` on Deno, `Timeout.unref()` on Bun).
   *
   * @default {false}
   */
  unref?: boolean;
}

/** Time in milliseconds and one-shot timers on the main thread. */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now. */
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
  now: () => performance.now(),
  setTimer(callback, ms, options) {
    const id = setTimeout(callback, ms);
    if (options?.unref) unrefTimer(id);
    return id;
  },
  clearTimer(id) {
    clearTimeout(id as ReturnType<typeof setTimeout>);
  },
};

function unrefTimer(id: ReturnType<typeof setTimeout>): void {
  if (typeof id === "number") denoTimers?.unrefTimer(id);
  else (id as { unref?: () => void }).unref?.();
}
