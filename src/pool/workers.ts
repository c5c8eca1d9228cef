/**
 * The pool's workers: started on demand and up to `minChildren`, kept for
 * `idleTimeout` once idle, retired (with their teardown) on shutdown, resize
 * and recycling, and started again after a back-off when they fail to start.
 *
 * ```
 *  spawn ─▶ starting ─(ready)─▶ running ⇄ idle ─(idleTimeout, resize, shutdown, recycle)─▶ retiring ─▶ gone
 *                                   └──────────────(crash, timeout, abort, terminate)─────────────────▶ gone
 * ```
 *
 * `Workers` owns the slot list, the `closing` flag, the back-off and the
 * retirements; the dispatch loop asks it for workers and tells it when one
 * ran out of work. Which worker gets a batch is `dispatch.ts`'s business.
 *
 * @module
 */

import { reportGlobally, thrownMessage } from "../_checks.ts";
import { PROTOCOL_VERSION } from "../protocol/messages.ts";
import { toWire } from "../sync/wire.ts";
import { type Clock, systemClock, type TimerId } from "../timers/clock.ts";
import type { ResolvedOptions } from "./options.ts";
import { HELD_LOOK_MS, HeldBehind } from "./held_behind.ts";
import { holdsWhileStarting } from "./stealing.ts";
import { Retirements } from "./retirement.ts";
import type { StatsRecorder } from "./stats.ts";
import { type SlotHost, WorkerSlot } from "./worker_slot.ts";
import { queueMicrotask } from "../_event_loop.ts";

/** Workers that fail to start this many times in a row fail the queued jobs. */
export const MAX_START_FAILURES = 3;
/** The first wait before starting a worker again after one failed to start. */
const START_BACKOFF_MS = 50;
/** The longest wait between start attempts while started workers run the queue. */
const MAX_START_BACKOFF_MS = 5_000;

/**
 * Why a worker left, as `workerexit` events say: `idle` (`idleTimeout`
 * passed, above `minChildren`), `resize` (`resize()` lowered
 * `maxChildren`), `recycle` (`recycle()`, `maxJobsPerWorker`,
 * `maxWorkerMemory`), `crash` (it died, or did not start), `timeout` (a
 * job's time limit passed and its task had not ended within `abortGrace`,
 * or the worker held its thread or an import past it), `abort` (the same
 * for a job's signal), `terminate`, and `shutdown` (the pool shut down;
 * after a `shutdown(timeout)` that timed out, also a worker that runs out
 * of jobs before the others).
 *
 * @example Usage
 * ```ts
 * import { Pool, type WorkerExitReason } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool({ maxChildren: 1 });
 * const reasons: WorkerExitReason[] = [];
 * pool.addEventListener("workerexit", (event) => reasons.push(event.detail.reason));
 * await pool.run((n: number) => n, 1);
 * await pool.shutdown();
 * assert.deepEqual(reasons, ["shutdown"]);
 * ```
 */
export type WorkerExitReason =
  | "idle"
  | "resize"
  | "recycle"
  | "crash"
  | "timeout"
  | "abort"
  | "terminate"
  | "shutdown";

/**
 * A task module's worker hook, as `error` events name the one that threw
 * (`event.detail.during`): `setup` as the worker started (or retired while
 * starting), `teardown` as it retired.
 *
 * @example Usage
 * ```ts
 * import { Pool, type WorkerHook } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const module = "data:text/javascript,export function teardown() { throw new RangeError('flush failed') }";
 * const pool = new Pool({ module, maxChildren: 1 });
 * const hooks: (WorkerHook | undefined)[] = [];
 * pool.addEventListener("error", (event) => hooks.push(event.detail.during));
 * await pool.run((n: number) => n, 1);
 * await pool.shutdown();
 * assert.deepEqual(hooks, ["teardown"]);
 * ```
 */
export type WorkerHook = "setup" | "teardown";

/** What the workers need from the loop that owns them. */
export interface WorkersHost {
  /** Dispatches a pool event (queued like a user callback). */
  emit(type: string, detail: unknown): void;
  /** A step of bookkeeping ended (see `DispatchLoop.changed`). */
  changed(): void;
  /** Sends what is queued (a back-off ended, or a worker left a place). */
  flush(): void;
  /** A worker leaves: the timers of the jobs it holds are cleared. */
  leaving(slot: WorkerSlot): void;
  /** Resolves at the next change (see `Results.changed`). */
  nextChange(): Promise<void>;
  /** A worker did not start: not within `startTimeout`, or its start message could not be sent. */
  startFailed(slot: WorkerSlot, error: Error): void;
}

/** The live workers of one pool, and the rules for starting and retiring them. */
export class Workers {
  /** One per live worker, in the order they started. */
  readonly slots: WorkerSlot[] = [];
  #closing = false;
  /**
   * `shutdown()` waits for the jobs left: workers start only for them
   * (`grow`), none to keep `minChildren` (a `recycle()` meanwhile would
   * start workers only to shut them down).
   */
  #draining = false;
  /** The worker bounds: set from the options, changed only by `resize()`. */
  #max: number;
  #min: number;
  #nextSlot = 1;
  #startFailures = 0;
  #backoff: unknown = undefined;
  /** No worker starts before this time (`clock.now()`), after one failed to start. */
  #startsAfter = 0;
  /** Workers that started, ever: `ready` counts these (workers may retire before others start). */
  #everStarted = 0;
  /** A start is sending its init: user code (a `workerData` getter) may be running inside it. */
  #sendingInit = false;
  /** Starts put off to the next turn (see `#mayStartNow`): a timer is armed. */
  #startsLater = false;
  /** Workers started in this turn of the event loop. */
  #turnStarts = 0;
  readonly #options: ResolvedOptions;
  readonly #clock: Clock;
  readonly #workerUrl: URL;
  readonly #slotHost: SlotHost;
  readonly #stats: StatsRecorder;
  readonly #host: WorkersHost;
  /** Workers running their teardown on the way out. */
  readonly #retirements: Retirements;
  /** Starts a worker for jobs held behind a stuck one (see `held_behind.ts`). */
  readonly #held: HeldBehind;

  constructor(
    options: ResolvedOptions,
    clock: Clock,
    workerUrl: URL,
    slotHost: SlotHost,
    stats: StatsRecorder,
    host: WorkersHost,
  ) {
    this.#options = options;
    this.#max = options.maxChildren;
    this.#min = options.minChildren;
    this.#clock = clock;
    this.#workerUrl = workerUrl;
    this.#slotHost = slotHost;
    this.#stats = stats;
    this.#host = host;
    this.#held = new HeldBehind(
      () => this.#room() > 0 && !this.#closing, // (a start backing off: `grow` waits)
      () => {
        // A worker with nothing to do, ready or starting, takes the batch (see `stealForIdle`).
        // (Idle only once ready: an idle timer shorter than its start would
        // end it first, and each look would start another.)
        if (this.slots.some((slot) => slot.inflightItems === 0 && slot.usable)) return;
        this.grow(1);
      },
      () => {
        host.flush(); // an idle worker takes its jobs (see `stealForIdle`)
        // None is idle: one more worker starts for them, unless another is starting too (each
        // look would start one more).
        if (this.slots.some((slot) => slot.inflightItems === 0 && slot.usable && slot.ready)) {
          return;
        }
        // Not while starts fail: the jobs may fail with them (MAX_START_FAILURES), and a start
        // made for them would outlive them.
        if (this.#startFailures !== 0) return;
        let starting = 0;
        for (const slot of this.slots) if (!slot.ready && !slot.dead) starting++;
        if (starting === 1) this.grow(1);
      },
    );
    this.#retirements = new Retirements(
      options.startTimeout,
      (slot, error, during) => this.reportError(slot, error, during),
      () => {
        // Its place is free: a replacement may start (see #room).
        host.changed();
        this.keepMinimum();
        host.flush();
      },
    );
  }

  /** The most workers there may be (`maxChildren`, as `resize()` last set it). */
  get maxChildren(): number {
    return this.#max;
  }

  /** Shutting down: start no workers, retire each as it goes idle. */
  get closing(): boolean {
    return this.#closing;
  }

  /** `shutdown()` has begun: no worker starts to keep `minChildren` (see `#draining`). */
  drain(): void {
    this.#draining = true;
  }

  /** Open again after `clear()`: workers start on demand once more. */
  reopen(): void {
    this.#closing = false;
    this.#draining = false;
    this.keepMinimum();
  }

  /** The name a worker was given (`childNamePrefix-id`). */
  nameOf(slot: WorkerSlot): string {
    return this.#name(slot.id);
  }

  #name(id: number): string {
    return `${this.#options.childNamePrefix}-${id}`;
  }

  /**
   * How many more workers may start: `maxChildren` counts the workers still
   * running their teardown on the way out, so a pool that recycles often
   * (`maxJobsPerWorker`) never holds more than `maxChildren` threads.
   */
  #room(): number {
    return this.#max - this.slots.length - this.#retirements.size;
  }

  /** Starts workers for up to `queued` jobs, within `maxChildren`; returns how many. */
  grow(queued: number): number {
    if (this.#closing || this.#backingOff()) return 0;
    const wanted = Math.min(this.#room(), queued);
    for (let i = 0; i < wanted; i++) {
      if (!this.#mayStartNow()) return i;
      const slot = this.#spawn();
      // User code run as it started (a workerData getter) retired it: the
      // next start waits for its exit, rather than a loop that holds the thread.
      if (this.#leftAsItStarted(slot)) return i;
    }
    return Math.max(0, wanted);
  }

  /** Starts workers up to `minChildren`, within `maxChildren`. */
  keepMinimum(): void {
    if (this.#sendingInit) {
      // Inside a start, from a workerData getter (recycle(), resize()): a start
      // here would read the getter again, and one that retires each new worker
      // would recurse until the stack overflows. After a turn instead.
      this.#startLater();
      return;
    }
    if (this.#closing || this.#draining) return;
    if (this.slots.length < this.#min && this.#backingOff()) return;
    while (this.slots.length < this.#min && this.#room() > 0 && this.#mayStartNow()) {
      const slot = this.#spawn();
      // Retired as it started, by a workerData getter: the next start waits
      // for its exit (which keeps the minimum again), not a loop of starts.
      if (this.#leftAsItStarted(slot)) return;
      // A workerData getter that calls the pool (resize() flushes the queue)
      // may have sent it work as it started: then it is not idle.
      if (slot.inflightItems === 0 && !slot.dead) this.idle(slot);
    }
  }

  /**
   * Whether another worker may start in this turn. User code run inside a
   * start (a workerData getter that resizes or recycles) can undo starts as
   * they happen, its own or others'; past twice `maxChildren` starts in one
   * turn, the rest wait for the next, so no loop of starts holds the thread.
   */
  #mayStartNow(): boolean {
    if (this.#turnStarts < 2 * Math.max(1, this.#max)) return true;
    this.#startLater();
    return false;
  }

  /** Keeps the minimum and sends the queue after a turn (once, however often asked). */
  #startLater(): void {
    if (this.#startsLater) return;
    this.#startsLater = true;
    this.#clock.setTimer(() => {
      this.#startsLater = false;
      this.keepMinimum();
      this.#host.flush();
    }, 0);
  }

  /** Whether `slot`, just started, was retired or removed meanwhile (by a workerData getter). */
  #leftAsItStarted(slot: WorkerSlot): boolean {
    return this.isRetiring(slot) || !this.slots.includes(slot);
  }

  #spawn(): WorkerSlot {
    if (this.#turnStarts++ === 0) queueMicrotask(() => this.#turnStarts = 0);
    const id = this.#nextSlot++;
    const options = this.#options;
    const name = this.#name(id);
    const concurrency = options.concurrentTasksPerWorker;
    const slot = new WorkerSlot(
      id,
      this.#workerUrl,
      name,
      this.#slotHost,
      concurrency,
      options.workerOptions,
      options.sharedLane,
    );
    // A slot whose Worker was refused has no thread to run a teardown.
    slot.hasTeardown = options.module !== null && slot.refused === undefined;
    this.slots.push(slot);
    if (slot.refused !== undefined) {
      // The runtime refused the thread (Deno: permissions beyond the program's own).
      const cause = slot.refused;
      const given = Object.keys(options.workerOptions)
        .map((key) => key === "deno" ? '"permissions"' : `"${key}"`);
      const hint = given.length === 0 ? "" : `; see the pool's ${given.join(" and ")}`;
      const why = `new Worker() threw: ${thrownMessage(cause)}${hint}`;
      return this.#failStart(slot, new Error(`Cannot start worker ${name}: ${why}`, { cause }));
    }
    const outer = this.#sendingInit; // a getter may start another worker inside this start
    this.#sendingInit = true;
    try {
      this.#sendInit(slot, name);
    } catch (error) {
      // workerData is read at each start: changed since into what cannot be
      // cloned, it fails this start (as a module that does not import).
      return this.#failStart(
        slot,
        new TypeError(
          `Cannot start worker ${name}: "workerData" cannot be cloned (${thrownMessage(error)})`,
          { cause: error },
        ),
      );
    } finally {
      this.#sendingInit = outer;
    }
    this.#armStartTimer(slot, name);
    return slot;
  }

  /** `slot`'s start failed before it began: said once the caller is done (as any failed start). */
  #failStart(slot: WorkerSlot, why: Error): WorkerSlot {
    queueMicrotask(() => {
      if (this.slots.includes(slot)) this.#host.startFailed(slot, why);
    });
    return slot;
  }

  #sendInit(slot: WorkerSlot, name: string): void {
    const options = this.#options;
    slot.send({
      type: "init",
      version: PROTOCOL_VERSION,
      key: slot.key,
      name,
      module: options.module,
      status: slot.status.buffer as SharedArrayBuffer,
      lane: slot.lane === null ? null : slot.lane.buffer,
      concurrency: options.concurrentTasksPerWorker,
      streamWindow: options.streamWindow,
      // Read at each start, as postMessage reads it; a Semaphore or Lock in
      // it arrives working, as in a job's arguments.
      workerData: toWire(options.workerData) ?? options.workerData,
      maxMemory: options.maxWorkerMemory === Infinity ? 0 : options.maxWorkerMemory,
      startTimeout: options.startTimeout,
    });
  }

  #armStartTimer(slot: WorkerSlot, name: string): void {
    // A module or setup() that never finishes would hold its jobs for ever.
    // On the system clock, as the teardown allowance is: a guard against a
    // broken module, not one of the pool's timers that tests drive.
    const startTimeout = this.#options.startTimeout;
    if (startTimeout !== Infinity) {
      let due: number | undefined; // when it first came due
      const expire = () => {
        slot.startTimer = undefined;
        if (slot.ready || slot.dead || !this.slots.includes(slot)) return;
        // Its `ready` may wait unread (this thread was busy, and Deno runs a
        // due timer before a waiting message): failed now, the jobs it ran
        // would go again. It looks again while the status memory says the
        // worker is ready (up to another startTimeout), and, where the pool
        // cannot see that memory (no SharedArrayBuffer), once, 50 ms later,
        // after the messages that were waiting have been read.
        const now = systemClock.now();
        due ??= now;
        let again = 0; // ms to the next look, or 0: it failed to start
        if (!slot.statusShared) again = now === due ? 50 : 0;
        else if (slot.saidReady() && now - due < startTimeout) again = 1;
        if (again !== 0) {
          slot.startTimer = systemClock.setTimer(expire, again, { unref: true });
          return;
        }
        const what = this.#options.module !== null
          ? "its task module or setup() had not finished"
          : this.#options.workerUrl !== undefined
          ? `it had not said it was ready: is workerUrl ${this.#options.workerUrl} fastpool's worker entry?`
          : "it had not said it was ready";
        this.#host.startFailed(
          slot,
          new Error(
            `Worker ${name} did not start within ${startTimeout} ms (startTimeout): ${what}`,
          ),
        );
      };
      slot.startTimer = systemClock.setTimer(expire, startTimeout, { unref: true });
    }
  }

  /** A worker started: `workerstart`, and `ready` once enough have. */
  started(slot: WorkerSlot): void {
    this.#clearStartTimer(slot);
    this.#stats.started++;
    this.#host.emit("workerstart", { name: this.nameOf(slot), id: slot.id });
    // Counted ever, not alive now: with maxJobsPerWorker or recycle(), workers
    // retire while others start, and `minChildren` of them may never be up at once.
    if (++this.#everStarted === Math.max(1, this.#min)) {
      this.#host.emit("ready", { alive: this.slots.length }); // once: the count only grows
    }
    this.#host.changed();
  }

  /** A worker ran out of work: it leaves (shutdown, resize, recycle) or waits `idleTimeout`. */
  idle(slot: WorkerSlot): void {
    slot.exclusive = false;
    // Checked first: clear() makes a new table even for an empty Set (V8), once per trip.
    if (slot.stopping.size !== 0) slot.stopping.clear();
    this.clearSlotTimer(slot);
    slot.hold(false);
    if (slot.retiring || this.#closing) {
      this.remove(slot, slot.recycling ? "recycle" : slot.retiring ? "resize" : "shutdown");
      this.keepMinimum(); // a fresh one in its place (recycle), or up to minChildren
      return;
    }
    // A busy worker a shrink asked to leave may run on for long (an endless
    // stream): this idle one leaves in its place, and that one stays. Not
    // one still starting: it may start slowly, and this one may take its jobs.
    // (Looked for only above maxChildren: this runs once per round trip.)
    const shrinking = this.slots.length > this.#max
      ? this.slots.find((other) => other.retiring && !other.recycling && !other.dead && other.ready)
      : undefined;
    if (shrinking !== undefined) {
      shrinking.retiring = false;
      this.remove(slot, "resize");
      return;
    }
    slot.idleSince = this.#clock.now();
    const { idleTimeout } = this.#options;
    // Infinity: idle workers stay, and no timer is set (a user's clock may not take Infinity).
    if (slot.idleTimer === undefined && this.#staying() > this.#min && idleTimeout !== Infinity) {
      try {
        this.#armIdleTimer(slot, idleTimeout);
      } catch (error) {
        // A custom clock's setTimer: reported, as a throwing timer callback's is, not blamed on
        // the worker whose message made it idle. It stays until it goes idle again.
        reportGlobally(error);
      }
    }
  }

  /**
   * The idle timer of `slot`, due in `ms`. Work sent meanwhile does not
   * clear it (a job every few µs would set and clear a timer each time):
   * when it fires, it looks at how long the worker has been idle since its
   * last job and waits again for the rest, or lets the next `idle()` arm it.
   */
  #armIdleTimer(slot: WorkerSlot, ms: number): void {
    slot.idleTimer = this.#clock.setTimer(
      () => {
        slot.idleTimer = undefined;
        if (slot.inflightItems !== 0 || slot.idleSince < 0 || this.#staying() <= this.#min) {
          return;
        }
        const left = slot.idleSince + this.#options.idleTimeout - this.#clock.now();
        if (left > 0) this.#armIdleTimer(slot, left);
        else if (this.slots.some(holdsWhileStarting)) {
          // It stays for the jobs of a worker slow to start (see `startsSlowlyWith`).
          this.#armIdleTimer(slot, Math.max(this.#options.idleTimeout, HELD_LOOK_MS));
        } else {
          // After a shutdown that timed out, a worker with nothing left leaves as part of it.
          this.remove(slot, this.#draining ? "shutdown" : "idle");
          this.#host.changed();
        }
      },
      ms,
      { unref: true },
    );
  }

  /** Workers not asked to leave: the ones `minChildren` counts while others go idle. */
  #staying(): number {
    let staying = 0;
    for (const slot of this.slots) if (!slot.retiring) staying++;
    return staying;
  }

  /** Work was sent to `slot`: it is no longer idle. */
  sentWork(slot: WorkerSlot): void {
    slot.idleSince = -1;
    slot.hold(true);
    this.#held.sent(slot);
  }

  /**
   * Takes `slot` out of the pool: a normal exit (idle, resize, recycle,
   * shutdown) runs its teardown first, any other ends it now.
   */
  remove(slot: WorkerSlot, reason: WorkerExitReason): void {
    const i = this.slots.indexOf(slot);
    if (i !== -1) {
      this.slots.splice(i, 1);
      this.#stats.exited++;
      this.#host.emit("workerexit", { name: this.nameOf(slot), id: slot.id, reason });
    }
    this.clearSlotTimer(slot);
    this.#clearStartTimer(slot);
    this.#held.leaving(slot);
    this.#host.leaving(slot);
    if (slot.idleTimer !== undefined) {
      const timer = slot.idleTimer;
      slot.idleTimer = undefined;
      this.#clearTimer(timer);
    }
    if (slot.dead) return;
    const normal = reason === "idle" || reason === "resize" || reason === "shutdown" ||
      reason === "recycle";
    if (normal) this.#retirements.start(slot, this.nameOf(slot));
    else slot.terminate();
  }

  /** A worker retired while it started is ready: its teardown's allowance begins. */
  readyToRetire(slot: WorkerSlot): void {
    this.#retirements.ready(slot, this.nameOf(slot));
  }

  /** Sets `slot`'s own timer (a stopped stream's grace), clearing any earlier one. */
  setSlotTimer(slot: WorkerSlot, callback: () => void, ms: number): void {
    this.clearSlotTimer(slot);
    slot.timeoutTimer = this.#clock.setTimer(() => {
      slot.timeoutTimer = undefined;
      callback();
    }, ms);
  }

  #clearStartTimer(slot: WorkerSlot): void {
    if (slot.startTimer !== undefined) {
      systemClock.clearTimer(slot.startTimer);
      slot.startTimer = undefined;
    }
  }

  /** Clears `slot`'s own timer, if set. */
  clearSlotTimer(slot: WorkerSlot): void {
    if (slot.timeoutTimer !== undefined) {
      const timer = slot.timeoutTimer;
      slot.timeoutTimer = undefined;
      this.#clearTimer(timer);
    }
  }

  /**
   * Clears a timer of the pool's clock. A custom clock's `clearTimer` that
   * throws must not stop a worker's removal or its jobs' ends halfway: the
   * error is kept for a stopping pool to throw at its end (`FailSafeClock`),
   * or else reported, as a throwing timer callback's is.
   */
  #clearTimer(timer: TimerId): void {
    try {
      this.#clock.clearTimer(timer);
    } catch (error) {
      reportGlobally(error);
    }
  }

  /** Retires `slot` once idle and starts a fresh one in its place (`maxJobsPerWorker`, memory). */
  recycleOnceIdle(slot: WorkerSlot): void {
    slot.retiring = true;
    slot.recycling = true;
  }

  /**
   * Retires every worker there is now, to be replaced by fresh ones (at
   * once up to `minChildren`, the rest on demand): idle ones at once, busy
   * ones once they have finished what they hold. Resolves once all of
   * them have gone (teardown included).
   */
  async recycle(): Promise<void> {
    const targets = [...this.slots];
    for (const slot of targets) {
      this.recycleOnceIdle(slot);
      if (slot.inflightItems === 0) this.remove(slot, "recycle");
    }
    this.keepMinimum();
    this.#host.flush();
    this.#host.changed();
    const present = (slot: WorkerSlot) => this.slots.includes(slot) || this.#retirements.has(slot);
    while (targets.some(present)) await this.#host.nextChange();
  }

  /**
   * Applies a new `maxChildren`: idle workers above it leave now, busy ones
   * once idle. `minChildren` holds up to it, and comes back as it grows.
   */
  resize(maxChildren: number): void {
    this.#max = maxChildren;
    this.#min = Math.min(this.#options.minChildren, maxChildren);
    // Busy workers an earlier shrink asked to leave stay, if they are wanted again.
    if (!this.#closing) {
      for (const slot of this.slots) if (!slot.recycling) slot.retiring = false;
    }
    let excess = this.slots.filter((slot) => !slot.retiring).length - maxChildren;
    for (const slot of [...this.slots]) {
      if (excess <= 0) break;
      if (!slot.retiring && slot.inflightItems === 0) {
        this.remove(slot, "resize");
        excess--;
      }
    }
    for (let i = this.slots.length - 1; i >= 0 && excess > 0; i--) {
      const slot = this.slots[i]!;
      if (!slot.retiring) {
        slot.retiring = true;
        excess--;
      }
    }
    this.keepMinimum();
  }

  /** Retires every idle worker now (the rest as they go idle): for `shutdown`. */
  retireIdle(): void {
    this.#closing = true;
    this.#clearBackoff();
    for (const slot of [...this.slots]) {
      if (slot.inflightItems === 0) this.remove(slot, "shutdown");
    }
  }

  /** Ends every worker now, teardowns included, and calls `ended` with each live one. */
  terminateAll(ended: (slot: WorkerSlot) => void): void {
    this.#closing = true;
    this.#clearBackoff();
    this.#retirements.endAll();
    for (const slot of [...this.slots]) {
      this.remove(slot, "terminate");
      ended(slot);
    }
  }

  /**
   * Resolves once no worker is left while closing, or at once if none is:
   * after `retireIdle()` with nothing pending, only workers still finishing
   * an aborted job (within `abortGrace`) or a stopped stream remain, and
   * each leaves when its task ends or its grace passes.
   */
  async allGone(): Promise<void> {
    while ((this.slots.length !== 0 || this.#retirements.size !== 0) && this.#closing) {
      await this.#host.nextChange();
    }
  }

  /** Whether `slot` is running its teardown on the way out. */
  isRetiring(slot: WorkerSlot): boolean {
    return this.#retirements.has(slot);
  }

  /** An `error` event for `slot`; `during`: the task module's hook that threw `error`, if one did. */
  reportError(slot: WorkerSlot, error: unknown, during?: WorkerHook): void {
    this.#host.emit("error", {
      name: this.nameOf(slot),
      id: slot.id,
      error,
      ...(during === undefined ? {} : { during }),
    });
  }

  /**
   * A retiring worker's teardown ended, or failed (`failed`) with `error`,
   * thrown by its task module's hook `during` if one threw it.
   */
  retired(slot: WorkerSlot, failed: boolean, error: unknown, during?: WorkerHook): void {
    this.#retirements.finish(slot, failed, error, during);
  }

  /** A worker ran a job: earlier start failures are forgotten. */
  startedForGood(): void {
    this.#startFailures = 0;
    this.#startsAfter = 0;
  }

  /**
   * A worker failed to start. The next start waits a back-off that doubles
   * with each failure in a row, up to `MAX_START_BACKOFF_MS`, until a
   * worker runs a job (`startedForGood`). Returns the failures in a row
   * once they reach `MAX_START_FAILURES` while no started worker is left to
   * run the queue (the caller then fails what is queued), else 0. The count
   * outlives that: a module that never starts fails each later start's jobs
   * at once, and the starts slow to one per `MAX_START_BACKOFF_MS`.
   */
  startFailed(): number {
    const failures = ++this.#startFailures;
    const delay = Math.min(
      START_BACKOFF_MS * 2 ** Math.min(failures - 1, 30),
      MAX_START_BACKOFF_MS,
    );
    this.#clearBackoff();
    this.#startsAfter = this.#clock.now() + delay;
    const anyStarted = this.slots.some((slot) => slot.ready && !slot.dead && !slot.retiring);
    if (failures >= MAX_START_FAILURES && !anyStarted) return failures;
    this.#backingOff(); // the queue waits for the next start
    return 0;
  }

  /**
   * Whether a start must wait for the back-off; if so, its timer is set
   * (only while some start is wanted: a pool that gave up holds no timer).
   */
  #backingOff(): boolean {
    if (this.#backoff !== undefined) return true;
    const left = this.#startsAfter - this.#clock.now();
    if (!(left > 0)) return false; // NaN from a clock gone wrong: no wait, not one for ever
    this.#backoff = this.#clock.setTimer(() => {
      this.#backoff = undefined;
      this.keepMinimum();
      this.#host.flush();
    }, left);
    return true;
  }

  #clearBackoff(): void {
    if (this.#backoff !== undefined) {
      this.#clock.clearTimer(this.#backoff);
      this.#backoff = undefined;
    }
  }
}
