/**
 * Work stealing: when a worker is idle and the queue is empty, the last
 * batch another worker holds behind the job it is running goes back to the
 * front of the queue, for the idle worker, if that worker has not started it
 * (one compare-and-swap on its claim word decides: `protocol/claims.ts`).
 * Only a worker's last batch is taken, so the answers of what it did run
 * still come in the order the pool expects; batches with timers, moved
 * buffers or an exclusive job are never offered.
 *
 * @module
 */

import { stealClaim } from "../protocol/claims.ts";
import type { Job } from "./job.ts";
import type { JobQueue } from "./job_queue.ts";
import type { StatsRecorder } from "./stats.ts";
import type { WorkerSlot } from "./worker_slot.ts";

/**
 * If a slot is idle, takes back one batch another slot holds but has not
 * started, and queues it at the front; returns whether it did.
 */
export function stealForIdle(
  slots: readonly WorkerSlot[],
  queue: JobQueue,
  stats: StatsRecorder,
): boolean {
  if (!slots.some(isIdle)) return false;
  for (const victim of slots) {
    const last = victim.stealable;
    // Only a batch queued behind other work: a lone batch is about to start where it is.
    if (last === null || victim.dead || victim.inflight.length <= last.entries) continue;
    victim.stealable = null;
    if (!stealClaim(victim.status, last.word)) continue; // started already
    const taken: Job[] = [];
    for (let i = 0; i < last.entries; i++) taken.push(victim.inflight.pop()!);
    taken.reverse();
    victim.inflightItems -= last.items;
    victim.sentItems -= last.items;
    stats.stolen += last.items;
    queue.requeue(taken);
    return true;
  }
  return false;
}

function isIdle(slot: WorkerSlot): boolean {
  return slot.inflightItems === 0 && slot.ready && slot.usable;
}
