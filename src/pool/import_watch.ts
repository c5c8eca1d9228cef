/**
 * The pool's side of `startTimeout` for the `task()` modules a worker
 * imports for its jobs. A worker fails an import that takes longer, on its
 * own clock; an import that blocks the worker's thread (a synchronous loop
 * at a module's top level) stops that clock too, and a job with no time
 * limit of its own would wait for ever. So while a worker has work and the
 * pool has `task()` references, the pool looks at the job the worker names
 * in `Status.LOADING` every quarter of `startTimeout`: one named for 1.5 ×
 * `startTimeout` (the worker's own limit had half as long again to act) is
 * blocked, and fails. So do the module's other tasks from then on, on every
 * worker that starts: retried, it would block each new worker in turn (on
 * Deno, `terminate()` cannot stop a thread in a loop: each would spin on).
 *
 * ```
 *  work sent ─▶ look every startTimeout/4 ─▶ same job loading for 1.5 × startTimeout?
 *                      ▲          │ no                         │ yes
 *                      └──────────┘               its jobs fail, the worker is replaced
 * ```
 *
 * A worker with other jobs running asynchronously (`concurrentTasksPerWorker`)
 * is left to them: one of those may be what blocks its thread, and the
 * import would then end with it. Where shared memory does not exist the
 * pool cannot see `Status.LOADING`: only the worker's own limit holds.
 *
 * @module
 */

import { systemClock } from "../timers/clock.ts";
import type { TaskRegistry } from "./task_registry.ts";
import { WorkerSlot } from "./worker_slot.ts";

/** A worker blocked importing for job `word`'s entry: fail those jobs with `error`, replace it. */
export type ImportStuck = (slot: WorkerSlot, word: number, error: Error) => void;

/** Watches the imports of one pool's workers (see the module doc). */
export class ImportWatch {
  readonly #limit: number;
  readonly #every: number;
  readonly #after: number;
  readonly #tasks: TaskRegistry;
  readonly #stuck: ImportStuck;

  /** `limit` is the pool's `startTimeout` (`Infinity`: no watch). */
  constructor(limit: number, tasks: TaskRegistry, stuck: ImportStuck) {
    this.#limit = limit;
    this.#every = Math.max(1, limit / 4);
    this.#after = limit * 1.5;
    this.#tasks = tasks;
    this.#stuck = stuck;
  }

  /** Work goes to `slot`: its imports are watched until it has none. */
  sent(slot: WorkerSlot): void {
    if (slot.importTimer !== undefined || !this.#tasks.imports) return;
    if (this.#limit === Infinity || !slot.statusShared) return;
    slot.importSeen = 0;
    this.#arm(slot);
  }

  /** `slot` leaves the pool: its watch ends. */
  leaving(slot: WorkerSlot): void {
    if (slot.importTimer === undefined) return;
    systemClock.clearTimer(slot.importTimer);
    slot.importTimer = undefined;
  }

  #arm(slot: WorkerSlot): void {
    // Real time, as the start timer: a guard against a broken module, not a
    // timer of the pool's that a test's fake clock drives; and unref'd.
    slot.importTimer = systemClock.setTimer(() => this.#look(slot), this.#every, { unref: true });
  }

  #look(slot: WorkerSlot): void {
    slot.importTimer = undefined;
    if (slot.dead || slot.inflightItems === 0) return; // the next send watches again
    const word = slot.loading();
    const now = systemClock.now();
    if (word === 0 || word !== slot.importSeen) {
      slot.importSeen = word;
      slot.importSeenAt = now;
    } else if (now - slot.importSeenAt >= this.#after && !othersRun(slot, word)) {
      // The worker's own limit would have failed it by now, had its thread run.
      this.#stuck(slot, word, this.#fail(slot, word));
      return;
    }
    this.#arm(slot);
  }

  /** The error of the jobs that import for job `word`'s entry; their module's tasks fail from now on. */
  #fail(slot: WorkerSlot, word: number): Error {
    let module: string | null = null;
    for (const job of slot.inflight) {
      if (!WorkerSlot.loadsFor(job, word)) continue;
      const spec = this.#tasks.specs[job.task];
      if (spec?.kind === "export") module = spec.module;
      break;
    }
    const message = `Cannot import task module${
      module === null ? "" : ` "${module}"`
    }: its import blocked a worker's thread past startTimeout (${this.#limit} ms); the worker was replaced, and the module's tasks fail in this pool`;
    if (module !== null) this.#tasks.failModule(module, message);
    return new Error(message);
  }
}

/** Whether `slot` runs a job asynchronously other than job `word`'s. */
function othersRun(slot: WorkerSlot, word: number): boolean {
  for (const running of slot.runningLanes()) if (running !== word) return true;
  return false;
}
