/**
 * Shared-memory layout of the SAB-ring floor (`_sab_ring.ts` and
 * `_sab_worker.ts`): Int32 control words, each on its own 64-byte line so
 * the main thread's and the workers' writes do not share a cache line.
 *
 * @module
 */

/** Index of each control word in the control `Int32Array`. */
export const Ctl = {
  /** Ring entries published by the main thread (monotonic). */
  TAIL: 0,
  /** Ring entries claimed by workers (monotonic; claimed by compare-exchange). */
  HEAD: 16,
  /** Jobs finished (monotonic). A ring entry is free once its job is done. */
  DONE: 32,
  /** Workers asleep in `Atomics.wait` on TAIL (the main thread notifies only then). */
  SLEEPERS: 48,
  /** When non-zero, the DONE count at which a worker must wake the main thread. */
  WAKE_AT: 64,
  /** Bumped and notified to wake the main thread (it `waitAsync`s on it). */
  SIGNAL: 80,
  /** Non-zero: workers leave their loop. */
  STOP: 96,
  /** Words in the control array. */
  WORDS: 112,
} as const;

/** Ring entries (a power of two). */
export const RING_SIZE = 1 << 16;
/** Most ring entries a worker claims at once. */
export const CLAIM = 64;
/** Spins (loads of TAIL) before a worker goes to sleep. */
export const WORKER_SPINS = 20_000;

/** What a SAB-ring worker receives once. */
export interface SabInit {
  control: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
}
