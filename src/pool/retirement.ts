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
 * A worker retired while it starts runs its teardown after its `setup()`:
 * its 5 s begin once it is ready (see {@linkcode Retirements.ready}), and
 * until then it has `startTimeout`, as any start has (5 s more if that is
 * Infinity: a shutdown must end).
 *
 * @module
 */

import { now } from "../_now.ts";
import { systemClock, type TimerId } from "../timers/clock.ts";
import type { WorkerSlot } from "./worker_slot.ts";
import type { WorkerHook } from "./workers.ts";

/** How long a retiring worker's `teardown()` may take before the worker is ended anyway. */
export const TEARDOWN_TIMEOUT_MS = 5_000;

/** The retiring workers of one pool. */
export class Retirements {
  readonly #leaving = new Map<WorkerSlot, TimerId>();
  readonly #startTimeout: number;
  readonly #report: (slot: WorkerSlot, error: unknown, during: WorkerHook | undefined) => void;
  readonly #changed: () => void;

  /**
   * @param startTimeout The pool's `startTimeout`: what a worker retired while it starts has to get ready.
   * @param report Called with a teardown's failure (it threw, timed out, or
   * its worker crashed).
   * @param changed Called once a retiring worker has gone.
   */
  constructor(
    startTimeout: number,
    report: (slot: WorkerSlot, error: unknown, during: WorkerHook | undefined) => void,
    changed: () => void,
  ) {
    this.#startTimeout = startTimeout;
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
    this.#leaving.set(slot, slot.ready ? this.#allow(slot, name) : this.#allowStart(slot, name));
    slot.hold(true); // the program waits for the teardown
  }

  /** A worker retired while it started is ready: its teardown runs now, within its allowance. */
  ready(slot: WorkerSlot, name: string): void {
    const timer = this.#leaving.get(slot);
    if (timer === undefined) return;
    systemClock.clearTimer(timer);
    this.#leaving.set(slot, this.#allow(slot, name));
  }

  /** The timer that ends `slot` if its teardown takes too long. */
  #allow(slot: WorkerSlot, name: string): TimerId {
    // Real time, as for a job's abort grace: the teardown runs in the worker.
    return systemClock.setTimer(() => {
      this.finish(
        slot,
        true,
        new Error(`teardown() of worker ${name} did not end within ${TEARDOWN_TIMEOUT_MS} ms`),
      );
    }, TEARDOWN_TIMEOUT_MS);
  }

  /**
   * The timer that ends `slot`, retired while it starts, if it does not get
   * ready within `startTimeout` of its start; with `startTimeout` Infinity,
   * within the teardown's allowance from now (a shutdown must end).
   */
  #allowStart(slot: WorkerSlot, name: string): TimerId {
    const ms = this.#startTimeout;
    const left = ms === Infinity ? TEARDOWN_TIMEOUT_MS : Math.max(0, slot.madeAt + ms - now());
    const within = ms === Infinity
      ? `${TEARDOWN_TIMEOUT_MS} ms of its retirement (startTimeout is Infinity)`
      : `${ms} ms (startTimeout)`;
    return systemClock.setTimer(() => {
      this.finish(
        slot,
        true,
        new Error(
          `Worker ${name}, retired while it started, did not start within ${within}: its task module or setup() had not finished`,
        ),
      );
    }, left);
  }

  /** The teardown ended, or failed (`failed`, with `error`), or the worker crashed: it goes. */
  finish(slot: WorkerSlot, failed: boolean, error: unknown, during?: WorkerHook): void {
    const timer = this.#leaving.get(slot);
    if (timer === undefined) return;
    systemClock.clearTimer(timer);
    this.#leaving.delete(slot);
    if (!slot.dead) slot.terminate();
    if (failed) this.#report(slot, error, during);
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
