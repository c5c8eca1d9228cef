/**
 * Taking back batches a worker holds behind the job it is running and has
 * not started (one compare-and-swap on each batch's claim word decides:
 * `protocol/claims.ts`). Two uses:
 *
 * - work stealing: when a worker is idle and the queue is empty, the newest
 *   such batch of another worker (or of one that has been starting for a
 *   second, even its only batch) goes back to the front of the queue, for
 *   the idle worker;
 * - cancelling: `cancel()`, `shutdown(timeout, { soon: true })` and `terminate()` treat
 *   the jobs of every batch not started as queued, so they are cancelled
 *   rather than run or failed.
 *
 * Batches are taken newest first, so the answers of what a worker does run
 * still come in the order the pool expects; batches with moved buffers are
 * never offered (a job's time limit is looked at where it is sent next). A
 * batch of an exclusive job is alone on its worker, so it is never stolen,
 * only cancelled.
 *
 * @module
 */

import { now } from "../_now.ts";
import { claimWord, isUnclaimed, stealClaim } from "../protocol/claims.ts";
import { CLAIM_RING } from "../protocol/messages.ts";
import type { Job } from "./job.ts";
import type { JobQueue } from "./job_queue.ts";
import type { StatsRecorder } from "./stats.ts";
import type { WorkerSlot } from "./worker_slot.ts";

/**
 * If a slot is idle, takes back the newest batch another slot holds but has
 * not started, and queues it at the front; returns whether it did.
 */
export function stealForIdle(
  slots: readonly WorkerSlot[],
  queue: JobQueue,
  stats: StatsRecorder,
): boolean {
  if (!slots.some(isIdle)) return false;
  for (const victim of slots) {
    if (!holdsBehind(victim) && !startsSlowlyWith(victim)) continue;
    const items = takeBack(victim, queue, 1);
    if (items === 0) continue; // started already
    // A worker still starting with nothing left holds no program open (Bun; Deno cannot unref).
    if (!victim.ready && victim.inflightItems === 0) victim.hold(false);
    stats.stolen += items;
    return true;
  }
  return false;
}

/**
 * Whether `slot` holds a batch an idle worker may take back: one behind
 * other work (a lone batch is about to start where it is). A batch of
 * numbers moved a copy of them: taken back, its jobs are copied again from
 * their own items.
 */
export function holdsBehind(slot: WorkerSlot): boolean {
  const last = slot.retractable.at(-1);
  return last !== undefined && !slot.dead && slot.inflight.length > last.entries;
}

/**
 * How long (ms) a worker may take to start before an idle worker takes the
 * jobs it was sent: far beyond a normal start (tens of ms), so a pool's
 * first jobs stay where they were sent while its workers come up.
 */
export const SLOW_START_MS = 1000;

/**
 * Whether `slot`'s worker has been starting for `SLOW_START_MS` or more and
 * holds a batch: an idle worker takes it, lone or not, since a start may
 * take far longer (an import or `setup()` that waits; on Deno a thread
 * starved on a loaded machine), up to `startTimeout`, which these jobs
 * would otherwise wait out (found by a hostile tester: 60 s, while another
 * worker idled). Not an exclusive job: alone on its worker, it is never
 * stolen (a job with a signal, a stream, a `./threadpool` request: they
 * wait for its start). `HeldBehind` looks again while such a worker starts.
 */
export function startsSlowlyWith(slot: WorkerSlot): boolean {
  return holdsWhileStarting(slot) && now() - slot.madeAt >= SLOW_START_MS;
}

/**
 * Whether `slot` is still starting and holds jobs an idle worker may take
 * once it has been starting for `SLOW_START_MS` (an idle worker stays for
 * them, past its `idleTimeout`).
 */
export function holdsWhileStarting(slot: WorkerSlot): boolean {
  return !slot.ready && !slot.dead && !slot.exclusive && slot.retractable.length !== 0;
}

/**
 * Takes back every batch `slot` has not started, or only its newest
 * `most`, and queues their jobs at the front in order; returns how many
 * jobs it queued (each `map` item counted). A job that has ended already
 * (one that failed while it waited there) leaves the slot, not queued.
 */
export function takeBack(slot: WorkerSlot, queue: JobQueue, most = Infinity): number {
  const retractable = slot.retractable;
  if (slot.dead) {
    retractable.length = 0;
    return 0;
  }
  const taken: Job[] = [];
  let items = 0;
  for (let n = 0; n < most && retractable.length !== 0; n++) {
    const batch = retractable.pop()!;
    if (!stealClaim(slot.status, batch.word)) {
      retractable.length = 0; // the worker started it, and so every batch before it
      break;
    }
    for (let i = 0; i < batch.entries; i++) taken.push(slot.inflight.pop()!);
    items += batch.items;
  }
  if (items === 0) return 0;
  slot.inflightItems -= items;
  slot.sentItems -= items;
  const live: Job[] = [];
  for (let i = taken.length - 1; i >= 0; i--) {
    const job = taken[i]!;
    if (job.ended) {
      job.slot = null;
      items -= job.count;
    } else live.push(job);
  }
  queue.requeue(live);
  return items;
}

/**
 * Takes back abortable `job`, alone in a batch of its own, wherever that
 * batch sits among those `slot` holds, if its worker has not started it:
 * true if so. The worker skips a batch taken back, answering nothing, so the
 * answers of the others still line up once its entry leaves `inflight`. The
 * job is out of the slot, not queued: the caller ends it.
 */
export function takeBackAlone(slot: WorkerSlot, job: Job): boolean {
  const n = job.claim;
  // Claimed batches later than CLAIM_RING: its word was free for reuse, so it started.
  if (n < 0 || slot.dead || slot.claims - n > CLAIM_RING) return false;
  const word = claimWord(n);
  if (!stealClaim(slot.status, word)) return false;
  job.claim = -1;
  const retractable = slot.retractable;
  const record = retractable.findIndex((batch) => batch.word === word);
  if (record >= 0) retractable.splice(record, 1);
  for (let i = slot.inflight.length - 1; i >= 0; i--) {
    if (slot.inflight.at(i) === job) {
      slot.inflight.removeAt(i);
      break;
    }
  }
  slot.inflightItems -= job.count;
  slot.sentItems -= job.count;
  job.slot = null;
  job.timer?.clear();
  job.timer = undefined;
  return true;
}

/**
 * How many jobs `slot` holds that it has not started and that `takeBack`
 * would queue again now (each `map` item counted).
 */
export function unstartedItems(slot: WorkerSlot): number {
  let items = 0;
  for (const [job] of unstarted(slot)) if (!job.ended) items += job.count;
  return items;
}

/**
 * The batch of `slot` not started yet that holds job `id`, counted from the
 * newest (1: the newest); 0 if none does.
 */
export function retractableDepth(slot: WorkerSlot, id: number): number {
  for (const [job, depth] of unstarted(slot)) {
    if (id >= job.id && id < job.id + job.count) return depth;
  }
  return 0;
}

/**
 * The entries of the batches `slot` holds and has not started, newest first,
 * each with its batch's depth from the newest (1: the newest).
 */
function* unstarted(slot: WorkerSlot): Generator<[Job, number]> {
  if (slot.dead) return;
  const retractable = slot.retractable;
  let entry = slot.inflight.length;
  for (let depth = 1; depth <= retractable.length; depth++) {
    const batch = retractable[retractable.length - depth]!;
    if (!isUnclaimed(slot.status, batch.word)) return; // started, and every batch before it
    for (let i = 0; i < batch.entries; i++) {
      if (entry === 0) return; // an older record, of a batch answered already
      yield [slot.inflight.at(--entry)!, depth];
    }
  }
}

function isIdle(slot: WorkerSlot): boolean {
  return slot.inflightItems === 0 && slot.ready && slot.usable;
}
