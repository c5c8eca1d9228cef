/**
 * Workers on their way out after a normal retirement (idle, resize,
 * recycle, shutdown): each runs its task module's `teardown()` before it is
 * ended, bounded by {@linkcode TEARDOWN_TIMEOUT_MS}. A worker that crashed,
 * timed out or was aborted, and every worker at `terminate()`, is ended at
 * once instead, without a teardown.
 *
 * ```text
 *   retire ─▶ "retire" msg ─▶ teardown() ─▶ "retired" ─▶ terminated
 *                 └──────── 5 s, or a crash ───────────▶ terminated, reported
 * ```
 *
 * @module
 */

import { systemClock, type TimerId } from "../timers/clock.ts";
import type { WorkerSlot } from "./worker_slot.ts";

/** How long a retiring worker's `teardown()` may take before the worker is ended anyway. */
export const TEARDOWN_TIMEOUT_MS = 5_000;

/** The retiring workers of one pool. */
export class Retirements {
  readonly #leaving = new Map<WorkerSlot, TimerId>();
  readonly #report: (slot: WorkerSlot, error: unknown) => void;
  readonly #changed: () => void;

  /**
   * @param report Called with a teardown's failure (it threw, timed out, or
   * its worker crashed).
   * @param changed Called once a retiring worker has gone.
   */
  constructor(report: (slot: WorkerSlot, error: unknown) => void, changed: () => void) {
    this.#report = report;
    this.#changed = changed;
  }

  /** How many workers are still running their teardown. */
  get size(): number {
    return this.#leaving.size;
  }

  /** Whether `slot` is running its teardown. */
  has(slot: WorkerSlot): boolean {
    return this.#leaving.has(slot);
  }

  /**
   * Retires a worker the pool no longer lists: it runs `teardown()` if its
   * task module has one, else it is ended now.
   */
  start(slot: WorkerSlot, name: string): void {
    if (slot.dead) return;
    // A worker still starting gets the message after its setup() (or its failure).
    if (!slot.hasTeardown) return slot.terminate();
    try {
      slot.send({ type: "retire" });
    } catch {
      return slot.terminate();
    }
    // Real time, as for a job's abort grace: the teardown runs in the worker.
    const timer = systemClock.setTimer(() => {
      this.finish(
        slot,
        new Error(`teardown() of worker ${name} did not end within ${TEARDOWN_TIMEOUT_MS} ms`),
      );
    }, TEARDOWN_TIMEOUT_MS);
    this.#leaving.set(slot, timer);
    slot.hold(true); // the program waits for the teardown
  }

  /** The teardown ended (`error` if it failed), or the worker crashed: it goes. */
  finish(slot: WorkerSlot, error: unknown): void {
    const timer = this.#leaving.get(slot);
    if (timer === undefined) return;
    systemClock.clearTimer(timer);
    this.#leaving.delete(slot);
    if (!slot.dead) slot.terminate();
    if (error !== null && error !== undefined) this.#report(slot, error);
    this.#changed();
  }

  /** `terminate()`: every retiring worker is ended now, its teardown cut short. */
  endAll(): void {
    for (const [slot, timer] of this.#leaving) {
      systemClock.clearTimer(timer);
      if (!slot.dead) slot.terminate();
    }
    this.#leaving.clear();
  }
}
