/**
 * The clock the wire formats' spins and the worker's job timings read:
 * `performance.now` as it was when fastpool loaded. A task runs in its
 * worker's global scope and may replace or freeze `performance.now` (fake-timer
 * libraries do); a spin bounded by a clock that no longer moves would never
 * end, and an idle worker would hold a core at 100% for good (hostile probing
 * found exactly that).
 *
 * @example Usage
 * ```ts
 * import { now } from "./_now.ts";
 * import assert from "node:assert/strict";
 *
 * const before = now();
 * const original = performance.now;
 * performance.now = () => 0; // a task freezing the clock
 * try {
 *   assert.ok(now() >= before);
 * } finally {
 *   performance.now = original;
 * }
 * ```
 *
 * @module
 */

/** `performance.now()` as it was at load, bound to `performance`. */
export const now: () => number = performance.now.bind(performance);
