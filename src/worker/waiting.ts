/**
 * The worker between batches: it counts the messages it received, to
 * compare with the pool's `TO_WORKER` doorbell, and once out of work it
 * spins for a bounded time before parking in its event loop, listening on
 * its shared lane (`protocol/lane.ts`) meanwhile.
 *
 * @module
 */

import { atomicLoad } from "../protocol/atomics.ts";
import { LANE_SPIN_MS, SPIN_MS, Status } from "../protocol/messages.ts";
import { lane, status } from "./outbox.ts";
import { now } from "../_now.ts";

/** Messages received from the pool, to compare with its `TO_WORKER` doorbell. */
let received = 0;

/** The entry of a job that came on the shared lane, refilled per job. */
const laneEntry: unknown[] = [];
/** When `spinForWork` last read the clock, or -1 if it did not spin. */
let lookedAt = -1;

/** A message from the pool arrived. */
export function messageReceived(): void {
  received = (received + 1) | 0;
}

/**
 * How long to spin for work: not at all while asynchronous jobs run (the
 * spin would hold back their answers), `LANE_SPIN_MS` after a lone job (the
 * pool then likely awaits one job at a time), else `SPIN_MS`.
 */
export function spinMs(lone: boolean, asyncRunning: boolean): number {
  if (asyncRunning) return 0;
  return lone ? LANE_SPIN_MS : SPIN_MS;
}

/**
 * Out of work: watch the doorbell for `ms` before parking, so a job the
 * pool sends right after our results is picked up without a thread wake-up
 * (the message itself is then waiting in the event loop), and listen on the
 * shared lane meanwhile: returns the entry of a job that came on it
 * (`[id, task, mode, count, values…]`), to run, or null. No spin at all
 * when the doorbell says a message is already waiting.
 */
export function spinForWork(ms: number): unknown[] | null {
  lane?.listen();
  lookedAt = -1;
  if (atomicLoad(status, Status.TO_WORKER) === received) {
    let at = now();
    const until = at + (lane === null ? Math.min(ms, SPIN_MS) : ms);
    while (
      atomicLoad(status, Status.TO_WORKER) === received && !lane?.requested &&
      (at = now()) < until
    );
    lookedAt = at;
  }
  if (lane === null || lane.stopListening()) return null;
  return lane.takeRequest(laneEntry);
}

/**
 * When the last {@linkcode spinForWork} last read the clock (within one
 * look of a lane request it returned), or undefined if it did not spin: a
 * lane job's start time that costs no clock reading of its own.
 */
export function lastLook(): number | undefined {
  return lookedAt >= 0 ? lookedAt : undefined;
}
