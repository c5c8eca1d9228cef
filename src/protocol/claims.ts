/**
 * Claims: who runs a batch that its worker has not started yet, both ends.
 * A batch sent with a claim word (`run.claim`, one of the slot's
 * `CLAIM_RING` words from `Status.CLAIMS`) is the worker's only once it
 * claims it, and until then the pool may take it back to give an idle
 * worker. One compare-and-swap on the word decides, so a batch is never run
 * twice nor lost:
 *
 * ```
 *  FREE ─ pool sends a batch with it ─▶ SENT ─ worker reaches it, CAS ─▶ FREE     (it runs the batch)
 *                                        SENT ─ pool steals it, CAS ──▶ STOLEN
 *                                        STOLEN ─ worker reaches it ──▶ FREE      (it skips the batch)
 * ```
 *
 * The pool reuses a word only once it is FREE again (a stolen batch the
 * worker has not reached yet keeps its word), and takes back only the last
 * batch it sent a worker, so the worker's answers, which follow the order of
 * what it ran, still line up.
 *
 * @module
 */

import { atomicCompareExchange, atomicLoad, atomicStore } from "./atomics.ts";
import { CLAIM_RING, Status } from "./messages.ts";

const FREE = 0;
const SENT = 1;
const STOLEN = 2;

/**
 * The pool's side: marks claim word `word` for a batch about to be sent;
 * false if the word is still in use (send the batch with claim -1 then).
 */
export function offerClaim(status: Int32Array, word: number): boolean {
  if (!isClaimFree(status, word)) return false;
  atomicStore(status, word, SENT);
  return true;
}

/** The pool's side: whether claim word `word` may be offered for a new batch. */
export function isClaimFree(status: Int32Array, word: number): boolean {
  return atomicLoad(status, word) === FREE;
}

/** The pool's side: takes back the batch of claim word `word`; true if the worker had not claimed it. */
export function stealClaim(status: Int32Array, word: number): boolean {
  return atomicCompareExchange(status, word, SENT, STOLEN) === SENT;
}

/** The pool's side: whether the batch of claim word `word` is still the pool's to take back. */
export function isUnclaimed(status: Int32Array, word: number): boolean {
  return atomicLoad(status, word) === SENT;
}

/**
 * The worker's side: claims the batch of claim word `word` (-1: a batch sent
 * without one, always the worker's); false if the pool took it back (skip it
 * then, answering nothing). Either way the word is free again.
 */
export function claim(status: Int32Array, word: number): boolean {
  if (word < 0) return true;
  if (atomicCompareExchange(status, word, SENT, FREE) !== STOLEN) return true;
  atomicStore(status, word, FREE);
  return false;
}

/** The pool's side: frees claim word `word` of a batch that was never sent (after `stealClaim`). */
export function releaseClaim(status: Int32Array, word: number): void {
  atomicStore(status, word, FREE);
}

/** The claim word for the `n`-th claimable batch of a slot. */
export function claimWord(n: number): number {
  return Status.CLAIMS + n % CLAIM_RING;
}
