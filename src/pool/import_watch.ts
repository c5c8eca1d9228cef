/**
 * The pool's side of `startTimeout` for the `task()` modules a worker
 * imports for its jobs. A worker fails an import that takes longer, on its
 * own clock; an import that blocks the worker's thread (a synchronous loop
 * at a module's top level) stops that clock too, and a job with no time
 * limit of its own would wait for ever. So while a worker has work, or
 * names a job in `Status.LOADING`, and the pool has `task()` references, the
 * pool looks at that word every quarter of `startTimeout`: a job named there
 * past `startTimeout` and half as long again (at least 500 ms more: the
 * worker's own limit had that long to act) is blocked. The jobs importing
 * for it fail and the worker is replaced; a module that has blocked two
 * workers fails its tasks at once from then on, on every new worker:
 * retried, it would block each in turn (on Deno, `terminate()` cannot stop a
 * thread in a loop: each would spin on). One strike is not enough, as
 * whatever else holds the thread during an import (a timer a finished job
 * left) looks the same from here.
 *
 * ```
 *  work sent ─▶ look every startTimeout/4 ─▶ same job importing past the limit?
 *                      ▲          │ no                         │ yes
 *                      └──────────┘          its jobs fail, the worker is replaced;
 *                                            a second worker blocked: the module fails
 * ```
 *
 * A worker with other jobs running asynchronously (`concurrentTasksPerWorker`)
 * is left to them: one of those may be what blocks its thread, and the
 * import would then end with it. Where shared memory does not exist the
 * pool cannot see `Status.LOADING`: only the worker's own limit holds.
 *
 * An import whose job is cancelled or aborted meanwhile serves nobody, and
 * is treated as that job running: if the worker still imports for it
 * `abortGrace` later, and holds no job needing the same module, it is
 * replaced (`abandoned`); the jobs sent to it meanwhile go again, rather
 * than wait up to `startTimeout` for an import nobody wants.
 *
 * @module
 */

import { systemClock } from "../timers/clock.ts";
import type { Job } from "./job.ts";
import type { TaskRegistry } from "./task_registry.ts";
import { WorkerSlot } from "./worker_slot.ts";

/** A worker blocked importing for job `word`'s entry: fail those jobs with `error`, replace it. */
export type ImportStuck = (slot: WorkerSlot, word: number, error: Error) => void;

/**
 * A worker still imports for a job that ended before it started: replace
 * it, the jobs it holds (none started) sent again. Returns false, leaving
 * it for a later look, if it has started or answered one meanwhile (the
 * import has ended then) or holds one that moved buffers.
 */
export type ImportAbandoned = (slot: WorkerSlot) => boolean;

/** Watches the imports of one pool's workers (see the module doc). */
export class ImportWatch {
  readonly #limit: number;
  readonly #every: number;
  readonly #after: number;
  readonly #tasks: TaskRegistry;
  readonly #stuck: ImportStuck;
  readonly #grace: number;
  readonly #abandoned: ImportAbandoned;
  /** Workers each module has blocked so far. */
  readonly #strikes = new Map<string, number>();

  /**
   * `limit` is the pool's `startTimeout` (`Infinity`: no watch), `grace`
   * its `abortGrace` (`Infinity`: an abandoned import runs to its end).
   */
  constructor(
    limit: number,
    grace: number,
    tasks: TaskRegistry,
    stuck: ImportStuck,
    abandoned: ImportAbandoned,
  ) {
    this.#limit = limit;
    this.#every = Math.max(1, limit / 4);
    this.#after = limit + Math.max(limit / 2, 500);
    this.#grace = grace;
    this.#tasks = tasks;
    this.#stuck = stuck;
    this.#abandoned = abandoned;
  }

  /** The job `slot` imports a module for now, if it holds it (call before taking jobs back). */
  importingFor(slot: WorkerSlot): Job | undefined {
    const word = slot.loading();
    if (word === 0) return undefined;
    for (const job of slot.inflight) if (WorkerSlot.loadsFor(job, word)) return job;
    return undefined;
  }

  /**
   * `job`, which `slot` was importing a module for (`importingFor`), may
   * have just ended before it started (cancelled or aborted): if so, and
   * the import goes on `abortGrace` from now, the worker is replaced (see
   * the module doc).
   */
  abandoned(slot: WorkerSlot, job: Job | undefined): void {
    if (job === undefined || !job.ended || slot.dead || this.#grace === Infinity) return;
    const word = slot.loading();
    if (!WorkerSlot.loadsFor(job, word)) return;
    if (slot.abandonTimer !== undefined) {
      if (slot.abandonWord === word) return; // watched already
      // The import an earlier look waits for has ended: this one is watched instead.
      systemClock.clearTimer(slot.abandonTimer);
    }
    slot.abandonWord = word;
    const module = this.#tasks.moduleOf(job.task);
    const look = () => {
      slot.abandonTimer = undefined;
      if (slot.dead || slot.loading() !== word) return; // the import has ended
      if (!othersRun(slot, word) && !this.#needed(slot, module) && this.#abandoned(slot)) return;
      // Jobs running beside it, or one it holds needs the module: look again later.
      slot.abandonTimer = systemClock.setTimer(look, Math.max(this.#grace, 1), { unref: true });
    };
    // Real time, as a running job's abortGrace.
    slot.abandonTimer = systemClock.setTimer(look, this.#grace, { unref: true });
  }

  /** Whether a job `slot` holds, not ended, needs `module`: the import then serves it. */
  #needed(slot: WorkerSlot, module: string | null): boolean {
    for (const job of slot.inflight) {
      if (!job.ended && this.#tasks.moduleOf(job.task) === module) return true;
    }
    return false;
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
    if (slot.abandonTimer !== undefined) {
      systemClock.clearTimer(slot.abandonTimer);
      slot.abandonTimer = undefined;
    }
    slot.abandonWord = 0;
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
    if (slot.dead) return;
    const word = slot.loading();
    // Idle: the next send watches again. A worker still importing for a job
    // taken back from it (aborted before it started) looks idle, and is not.
    if (word === 0 && slot.inflightItems === 0) return;
    const now = systemClock.now();
    if (word === 0 || word !== slot.importSeen) {
      slot.importSeen = word;
      slot.importSeenAt = now;
      slot.importModule = word === 0 ? null : this.#moduleFor(slot, word);
    } else if (now - slot.importSeenAt >= this.#after && !othersRun(slot, word)) {
      // The worker's own limit would have failed it by now, had its thread run.
      this.#stuck(slot, word, this.#blocked(slot.importModule));
      return;
    }
    this.#arm(slot);
  }

  /** The module the job of `word` on `slot` imports, or null if that job is gone. */
  #moduleFor(slot: WorkerSlot, word: number): string | null {
    for (const job of slot.inflight) {
      if (WorkerSlot.loadsFor(job, word)) return this.#tasks.moduleOf(job.task);
    }
    return null;
  }

  /** The error of the jobs importing `module`, which fails for good once it blocked two workers. */
  #blocked(module: string | null): Error {
    const failed = module === null ? undefined : this.#tasks.failedMessage(module);
    if (failed !== undefined) return new Error(failed); // another worker's watch failed it
    let message = `Cannot import ${
      module === null ? "a task module" : `task module "${module}"`
    }: its import blocked a worker's thread past startTimeout (${this.#limit} ms); the worker was replaced`;
    if (module === null) return new Error(message);
    const strikes = (this.#strikes.get(module) ?? 0) + 1;
    this.#strikes.set(module, strikes);
    if (strikes >= 2) {
      message += `; it has blocked ${strikes} workers, so its tasks fail in this pool from now on`;
      this.#tasks.failModule(module, message);
    }
    return new Error(message);
  }
}

/** Whether `slot` runs a job asynchronously other than job `word`'s. */
function othersRun(slot: WorkerSlot, word: number): boolean {
  for (const running of slot.runningLanes()) if (running !== word) return true;
  return false;
}
