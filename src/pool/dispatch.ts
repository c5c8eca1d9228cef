/**
 * Dispatch decisions, pure: how many jobs a worker may have in flight, and
 * which worker gets the next batch. No I/O, no state of its own.
 *
 * Jobs travel in batches sized so that one batch is about `BATCH_MS` of work,
 * from the measured time per job: tiny jobs go thousands at a time, slow ones
 * one or two at a time, so the last jobs spread evenly over the workers.
 *
 * @module
 */

import type { WorkerSlot } from "./worker_slot.ts";

/** The work one batch aims to hold, in ms. */
export const BATCH_MS = 2;
/** The most jobs in one batch. */
export const MAX_BATCH = 16384;
/** Jobs at least this slow (ms) go one at a time per worker. */
export const SLOW_JOB_MS = 10;

/**
 * How many jobs a worker may have in flight: two batches (one running, one
 * waiting, so the worker never waits for the main thread), one job when jobs
 * are slow or their cost is still unknown (`msPerJob` NaN).
 */
export function capacity(msPerJob: number): number {
  if (!(msPerJob < SLOW_JOB_MS)) return 1;
  const batch = Math.min(MAX_BATCH, Math.max(1, Math.floor(BATCH_MS / Math.max(msPerJob, 1e-4))));
  return 2 * batch;
}

/**
 * The usable slot with the fewest jobs in flight and room for more, or
 * `undefined` when all are full. An exclusive job needs an empty slot.
 */
export function chooseSlot(
  slots: readonly WorkerSlot[],
  cap: number,
  exclusive: boolean,
): WorkerSlot | undefined {
  let best: WorkerSlot | undefined;
  for (const slot of slots) {
    if (!slot.usable) continue;
    const load = slot.inflightItems;
    if (exclusive ? load !== 0 : load >= cap) continue;
    if (best === undefined || load < best.inflightItems) best = slot;
  }
  return best;
}
