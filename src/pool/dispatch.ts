/**
 * Dispatch decisions, pure: how many jobs a worker may have in flight, and
 * which worker gets the next batch. No I/O, no state of its own (a slot's
 * load may be read from its shared status word).
 *
 * Jobs travel in batches sized so that one batch is about `BATCH_MS` of work,
 * from the measured time per job: tiny jobs go thousands at a time, slow ones
 * one or two at a time, so the last jobs spread evenly over the workers.
 *
 * @module
 */

import { claimWord, isClaimFree } from "../protocol/claims.ts";
import type { WorkerSlot } from "./worker_slot.ts";

/** The work one batch aims to hold, in ms. */
export const BATCH_MS = 4;
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

/** A run of submits in one tick is sent early once it holds at least this many jobs. */
export const EARLY_FLUSH_MIN = 1024;

/**
 * How many jobs a run of `submit()`s in one tick gathers before it is sent
 * without waiting for the end of the tick, so that workers start while the
 * caller is still submitting: one batch, and at least `EARLY_FLUSH_MIN`.
 */
export function earlyFlushAt(msPerJob: number): number {
  return Math.max(EARLY_FLUSH_MIN, capacity(msPerJob) >> 1);
}

/**
 * A slot's load: its jobs in flight, or with `early` (in the middle of a
 * tick, while results wait behind the caller's loop) only those its worker
 * has not started yet, as the shared status word says.
 */
export function load(slot: WorkerSlot, early: boolean): number {
  return early ? slot.unstarted : slot.inflightItems;
}

/**
 * The usable slot with the least load (a started one before one still
 * starting, at equal load) and room for more, or `undefined` when all are full. An exclusive job needs an empty slot. A batch waits
 * for a worker that holds others only while a claim word is free for it
 * (see `canClaim`: so every batch a busy worker holds unstarted stays one
 * the pool can take back, to cancel or for an idle worker), and never
 * queues behind a job `slowAhead` says is slow: the queue keeps it, where
 * it counts against `maxQueue` and the next free worker takes it.
 */
export function chooseSlot(
  slots: readonly WorkerSlot[],
  cap: number,
  exclusive: boolean,
  early = false,
  slowAhead: (slot: WorkerSlot) => boolean = noneSlow,
): WorkerSlot | undefined {
  let best: WorkerSlot | undefined;
  let least = Infinity;
  for (const slot of slots) {
    if (!slot.usable) continue;
    if (slot.inflightItems !== 0 && (exclusive || !canClaim(slot) || slowAhead(slot))) continue;
    const used = load(slot, early);
    if (used >= cap && !exclusive) continue;
    // At equal load a started worker goes first: one still in its setup() may take long.
    if (used < least || used === least && slot.ready && !best!.ready) {
      best = slot;
      least = used;
    }
  }
  return best;
}

/** No job counts as slow (see {@linkcode chooseSlot}). */
const noneSlow = (): boolean => false;

/**
 * Batches a busy worker without shared memory may be sent past its last
 * answer: one waiting behind the one it runs. The pool cannot see whether
 * it started them nor take them back, so a job that blocks its worker
 * holds no more than that outside the queue and `maxQueue`.
 */
export const UNSEEN_BATCHES = 2;

/**
 * Whether a batch sent to `slot` now would get a claim word, or needs none:
 * the worker holds nothing else. An abortable job behind others keeps its
 * claim to be taken back unstarted (`takeBackAlone`); sent without one,
 * aborting it would fail it as running and replace the worker under the
 * jobs it runs, so it waits in the queue until a word is free (the worker
 * reaching the batch that holds one, which its next answer shows). Where
 * the pool cannot see claims (no shared memory), a busy worker takes no
 * more than `UNSEEN_BATCHES` past its last answer.
 */
export function canClaim(slot: WorkerSlot): boolean {
  if (slot.inflightItems === 0) return true;
  if (!slot.statusShared) return slot.sentSinceAnswer < UNSEEN_BATCHES;
  return isClaimFree(slot.status, claimWord(slot.claims));
}
