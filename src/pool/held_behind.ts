/**
 * Jobs a busy worker holds behind the job it runs. The pool sends quick
 * jobs behind others rather than start a worker for them; when the job
 * ahead runs far longer than its task's measured time (it blocks, waits on
 * something), they wait for it, unseen by the queue, while `maxChildren`
 * may allow another worker. So the pool looks, every `HELD_LOOK_MS` while
 * it is busy, at a worker it sent work to: one whose `STARTED` count has not
 * moved since the last look, holding a batch another worker may take back
 * (`holdsBehind`), makes it start one more worker, if the pool may grow and
 * none is idle. That worker, once ready, takes the batch back
 * (`stealForIdle`). The look goes on while the pool is full: room may open
 * later (`resize()`, a worker that leaves or crashes) with no job sent.
 *
 * ```
 *  work sent ─▶ look every HELD_LOOK_MS while busy ─▶ no job started since, a batch held behind, room to grow?
 *                     ▲       │ no                          │ yes
 *                     └───────┘         one more worker starts; ready, it takes the batch
 * ```
 *
 * A worker that has been starting for `SLOW_START_MS` while it holds jobs
 * is looked at the same way: each look lets an idle worker take its newest
 * batch (see `startsSlowlyWith`), or, none idle, starts one more worker if
 * no other is starting (one at a time: each start blocks this thread on
 * Deno).
 *
 * Where shared memory does not exist, no batch can be taken back: nothing
 * is watched.
 *
 * @module
 */

import { systemClock } from "../timers/clock.ts";
import { holdsBehind, startsSlowlyWith } from "./stealing.ts";
import type { WorkerSlot } from "./worker_slot.ts";

/** How often (ms) the pool looks at a busy worker that holds jobs behind the one it runs. */
export const HELD_LOOK_MS = 50;

/** Watches the busy workers of one pool while it may grow (see the module doc). */
export class HeldBehind {
  readonly #mayGrow: () => boolean;
  readonly #grow: () => void;
  readonly #rescue: () => void;

  /**
   * `mayGrow` says whether another worker may start now; `grow` starts one,
   * unless a worker is idle; `rescue` lets an idle worker take the jobs of
   * one that starts slowly, or starts one (see `startsSlowlyWith`).
   */
  constructor(mayGrow: () => boolean, grow: () => void, rescue: () => void) {
    this.#mayGrow = mayGrow;
    this.#grow = grow;
    this.#rescue = rescue;
  }

  /** Work goes to `slot`: it is watched while it is busy. */
  sent(slot: WorkerSlot): void {
    if (slot.heldTimer !== undefined || !slot.statusShared) return;
    slot.heldSeen = slot.started();
    this.#arm(slot);
  }

  /** `slot` leaves the pool: its watch ends. */
  leaving(slot: WorkerSlot): void {
    if (slot.heldTimer === undefined) return;
    systemClock.clearTimer(slot.heldTimer);
    slot.heldTimer = undefined;
  }

  #arm(slot: WorkerSlot): void {
    // Real time, unref'd, as the import watch: a guard, not a timer a test's fake clock drives.
    slot.heldTimer = systemClock.setTimer(() => this.#look(slot), HELD_LOOK_MS, { unref: true });
  }

  #look(slot: WorkerSlot): void {
    slot.heldTimer = undefined;
    if (slot.dead || slot.inflightItems === 0) return;
    if (startsSlowlyWith(slot)) this.#rescue();
    const started = slot.started();
    if (started === slot.heldSeen && holdsBehind(slot) && this.#mayGrow()) this.#grow();
    slot.heldSeen = started;
    this.#arm(slot);
  }
}
