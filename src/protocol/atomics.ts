/**
 * The `Atomics` functions the wire formats use, as they were when fastpool
 * loaded. A task runs in the worker's own global scope and may replace
 * `Atomics.store` or its kin; the shared lane and claim words must not start
 * answering with stale values when it does (hostile probing found exactly
 * that). Called as plain functions, they are the same built-ins the engines
 * inline.
 *
 * @example Usage
 * ```ts
 * import { atomicLoad, atomicStore } from "./atomics.ts";
 * import assert from "node:assert/strict";
 *
 * const words = new Int32Array(new SharedArrayBuffer(8));
 * atomicStore(words, 1, 7);
 * assert.equal(atomicLoad(words, 1), 7);
 * ```
 *
 * @module
 */

/** `Atomics.load` as it was at load. */
export const atomicLoad: typeof Atomics.load = Atomics.load;
/** `Atomics.store` as it was at load. */
export const atomicStore: typeof Atomics.store = Atomics.store;
/** `Atomics.add` as it was at load. */
export const atomicAdd: typeof Atomics.add = Atomics.add;
/** `Atomics.compareExchange` as it was at load. */
export const atomicCompareExchange: typeof Atomics.compareExchange = Atomics.compareExchange;
