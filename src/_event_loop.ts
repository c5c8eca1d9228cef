/**
 * The event loop's scheduling functions as they were when fastpool loaded:
 * `queueMicrotask`, `setTimeout` and `clearTimeout`. Fake-timer libraries
 * (sinon's `install()`, Jest's modern timers) replace the globals, in a
 * user's test setup or inside a task; the pool's flushes and timers, and a
 * worker's answers, must not stop with them (a job submitted under a fake
 * `queueMicrotask` was never sent, and the pool never sent another). As
 * `_now.ts` does for the clock. Timers a user asks for, such as a
 * `Semaphore` wait's `timeout`, keep the globals.
 *
 * @example Usage
 * ```ts
 * import { queueMicrotask } from "./_event_loop.ts";
 * import assert from "node:assert/strict";
 *
 * const real = globalThis.queueMicrotask;
 * globalThis.queueMicrotask = () => {}; // a fake that swallows callbacks
 * let ran = false;
 * try {
 *   queueMicrotask(() => ran = true);
 * } finally {
 *   globalThis.queueMicrotask = real;
 * }
 * await Promise.resolve();
 * assert.equal(ran, true);
 * ```
 *
 * @module
 */

/** `queueMicrotask` as it was at load. */
export const queueMicrotask: typeof globalThis.queueMicrotask = globalThis.queueMicrotask;
/** `setTimeout` as it was at load. */
export const setTimeout: typeof globalThis.setTimeout = globalThis.setTimeout;
/** `clearTimeout` as it was at load. */
export const clearTimeout: typeof globalThis.clearTimeout = globalThis.clearTimeout;
