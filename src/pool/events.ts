/**
 * The pool's events: their types (`PoolEventMap`), and listeners guarded so
 * that one that throws is reported globally and cannot break the pool's
 * bookkeeping. Events nobody listens to are never made.
 *
 * @module
 */

import { reportGlobally } from "../_checks.ts";
import type { WorkerExitReason, WorkerHook } from "./workers.ts";

/**
 * The events of a {@linkcode Pool}, by name, as `CustomEvent`s.
 *
 * @example Usage
 * ```ts
 * import { Pool, type PoolEventMap } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1, highWaterMark: 2 });
 * const events: string[] = [];
 * const note = (event: PoolEventMap["full"] | PoolEventMap["drain"]) => events.push(event.type);
 * pool.addEventListener("full", note);
 * pool.addEventListener("drain", note);
 * pool.map((n: number) => n, [1, 2, 3]);
 * await pool.wait();
 * assert.deepEqual(events, ["full", "drain"]);
 * ```
 */
export interface PoolEventMap {
  /** `minChildren` workers (or the first) have started, counted since the pool was made; once per pool. */
  ready: CustomEvent<{ alive: number }>;
  /** A worker started (imported its module and is ready for jobs). */
  workerstart: CustomEvent<{ name: string; id: number }>;
  /** A worker left, and why. */
  workerexit: CustomEvent<{ name: string; id: number; reason: WorkerExitReason }>;
  /**
   * A worker crashed or failed to start; `during`: the task module's hook
   * that threw `error` (`setup`, or `teardown` as the worker retired), if one did.
   */
  error: CustomEvent<{ name: string; id: number; error: unknown; during?: WorkerHook }>;
  /** Nothing is queued or running any more. */
  idle: CustomEvent<null>;
  /** The queue reached the high-water mark (`highWaterMark`, or `maxQueue` if lower). */
  full: CustomEvent<{ queued: number }>;
  /** The queue fell back under the high-water mark. */
  drain: CustomEvent<{ queued: number }>;
  /**
   * A running job called `jobContext().progress(value)`; in order per job,
   * never after the job ended.
   */
  progress: CustomEvent<{ id: number; value: unknown }>;
}

/**
 * The listeners of one pool's events, each wrapped in a guard made once per
 * listener and type (so `removeEventListener` finds it).
 */
export class GuardedListeners {
  /** Event types that have had a listener. */
  readonly #listened = new Set<string>();
  readonly #guards = new WeakMap<object, Map<string, EventListener>>();

  /** Whether any listener was ever added for `type`. */
  listened(type: string): boolean {
    return this.#listened.has(type);
  }

  /** The guard to register for `listener` (called with `self` as `this`). */
  guard(type: string, listener: EventListenerOrEventListenerObject, self: unknown): EventListener {
    this.#listened.add(type);
    let byType = this.#guards.get(listener);
    if (byType === undefined) this.#guards.set(listener, byType = new Map());
    let guard = byType.get(type);
    if (guard === undefined) {
      guard = (event: Event) => {
        try {
          if (typeof listener === "function") listener.call(self, event);
          else listener.handleEvent(event);
        } catch (error) {
          reportGlobally(error);
        }
      };
      byType.set(type, guard);
    }
    return guard;
  }

  /** The guard registered for `listener`, if any. */
  guardOf(type: string, listener: EventListenerOrEventListenerObject): EventListener | undefined {
    return this.#guards.get(listener)?.get(type);
  }
}
