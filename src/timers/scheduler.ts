/**
 * The timer engine behind delayed jobs (`submitLater`) and scheduled jobs
 * (`schedule`): a main-thread {@linkcode Scheduler} that calls back at given
 * times and knows nothing of pools or workers. It reads time and sets timers
 * only through a {@linkcode Clock}, so tests drive it with a fake one.
 *
 * @module
 */

import { checkDuration, checkFunction, reportGlobally } from "../_checks.ts";
import type { Clock, SetTimerOptions, TimerId } from "./clock.ts";
import { IndexedHeap } from "./_heap.ts";

/** The action every argument error of a scheduler names. */
const SCHEDULE = "schedule job";

/**
 * Which kind of timer a {@linkcode TimerHandle} is.
 *
 * @example Usage
 * ```ts
 * import { Pool, type TimerKind } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * const kinds: TimerKind[] = [
 *   pool.submitLater(60_000, () => "later").kind,
 *   pool.schedule(60_000, () => "every minute").kind,
 * ];
 * assert.deepEqual(kinds, ["delayed", "scheduled"]);
 * assert.equal(pool.cancel(null, true), true); // cancels both timers
 * ```
 */
export type TimerKind = "delayed" | "scheduled";

/**
 * One delayed or scheduled timer of a {@linkcode Scheduler}.
 *
 * A handle is **active** (live) from its creation until it is cancelled or, for
 * a delayed one, until it fires. Only active handles are listed by
 * {@linkcode Scheduler.delayed} and {@linkcode Scheduler.scheduled}.
 *
 * @example Usage
 * ```ts
 * import { Scheduler } from "./scheduler.ts";
 * import { systemClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 *
 * const scheduler = new Scheduler(systemClock);
 * const handle = scheduler.later(60_000, () => {});
 * assert.equal(handle.kind, "delayed");
 * assert.equal(handle.active, true);
 * assert.equal(handle.cancel(), true);
 * assert.equal(handle.cancelled, true);
 * assert.equal(handle.cancel(), false);
 * ```
 */
export interface TimerHandle {
  /** Unique among the handles of one scheduler; increases with each handle. */
  readonly id: number;
  /** `"delayed"` (fires once) or `"scheduled"` (fires every interval). */
  readonly kind: TimerKind;
  /**
   * The clock time (ms) at which the handle is next due. Inside `fire` of a
   * scheduled handle it is already the next tick's. Once the handle is no
   * longer active it keeps its last value.
   */
  readonly due: number;
  /** Whether the handle may still fire: neither cancelled nor (delayed) fired. */
  readonly active: boolean;
  /**
   * Whether it was stopped while it was active: by {@linkcode TimerHandle.cancel},
   * or by the pool's `cancel(…, true)`, `shutdown()` or `terminate()`.
   */
  readonly cancelled: boolean;
  /** How many times `fire` was called: 0 or 1 for a delayed handle. */
  readonly fired: number;
  /**
   * How many ticks of a scheduled handle did not call `fire`: those missed
   * because the timer ran late past them, plus those where `isBusy` returned
   * true (or threw). Always 0 for a delayed handle.
   */
  readonly skipped: number;
  /**
   * Stops the handle: it never fires again, even from a timer callback that is
   * already queued.
   *
   * @returns `true` if the handle was active, `false` if it had already fired
   * (delayed) or been cancelled.
   */
  cancel(): boolean;
}

/** Options for {@linkcode Scheduler}. */
export interface SchedulerOptions {
  /**
   * When true, the scheduler's clock timer does not keep the program alive
   * (it is set with `{ unref: true }`), for a pool that must not hold a
   * program open.
   *
   * @default {false}
   */
  unref?: boolean;
  /**
   * Called with whatever `fire` or `isBusy` throws; the scheduler keeps going
   * either way. The default hands the error to the global `reportError()`, or,
   * where there is none, rethrows it from a microtask.
   */
  onError?: (error: unknown) => void;
}

/** What a timer calls when it is due; it receives its own handle. */
type Fire = (handle: TimerHandle) => void;
/** Asked at each tick of a scheduled handle; `true` skips the tick. */
type IsBusy = (handle: TimerHandle) => boolean;

/**
 * The longest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days); a
 * longer one would fire at once. Entries due later wake up at this distance and
 * re-arm.
 */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * What users hold of a {@linkcode Timer}: its facts read-only at run time
 * too (getters, the object frozen), so no write to a handle can move its
 * heap entry or fake its state; `toJSON()` and the runtimes' inspect hooks
 * show them.
 */
class Handle implements TimerHandle {
  readonly #timer: Timer;

  constructor(timer: Timer) {
    this.#timer = timer;
    Object.freeze(this); // no field can be added or redefined over a getter
  }

  /** Its facts as a plain object: for `JSON.stringify`, logs and inspection. */
  toJSON(): Omit<TimerHandle, "cancel"> {
    const { id, kind, due, active, cancelled, fired, skipped } = this;
    return { id, kind, due, active, cancelled, fired, skipped };
  }

  /** How `console.log` shows it on Deno. */
  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    return `TimerHandle ${inspect(this.toJSON(), options)}`;
  }

  /** How `console.log` shows it on Bun (and Node). */
  [Symbol.for("nodejs.util.inspect.custom")](): unknown {
    return this.toJSON();
  }

  get id(): number {
    return this.#timer.id;
  }

  get kind(): TimerKind {
    return this.#timer.kind;
  }

  get due(): number {
    return this.#timer.due;
  }

  get active(): boolean {
    return this.#timer.index >= 0;
  }

  get cancelled(): boolean {
    return this.#timer.cancelled;
  }

  get fired(): number {
    return this.#timer.fired;
  }

  get skipped(): number {
    return this.#timer.skipped;
  }

  cancel(): boolean {
    return this.#timer.remove(this.#timer);
  }
}

/** A scheduler's heap entry (not exported: users hold its {@linkcode Handle}). */
class Timer {
  /** Position in the scheduler's heap; -1 once fired or cancelled. */
  index = -1;
  cancelled = false;
  fired = 0;
  skipped = 0;
  /**
   * For a scheduled handle: `due === start + tick * interval`, wherever the
   * grid is representable (see `Scheduler.#nextTick`).
   */
  tick = 1;

  constructor(
    readonly id: number,
    readonly kind: TimerKind,
    public due: number,
    readonly start: number,
    readonly interval: number,
    readonly fire: Fire,
    readonly isBusy: IsBusy | undefined,
    readonly remove: (timer: Timer) => boolean,
  ) {}

  /** The handle users hold, made once: `pool.delayed` lists the same object. */
  readonly handle: TimerHandle = new Handle(this);
}

/**
 * Runs callbacks later ({@linkcode Scheduler.later}) or every interval on a
 * fixed grid ({@linkcode Scheduler.every}), on the main thread.
 *
 * Design: every live handle sits in one binary min-heap ordered by due time
 * (ties: creation order), and the scheduler keeps at most **one** clock timer,
 * armed for the earliest entry. A pool may hold thousands of delayed jobs;
 * one timer costs one `setTimeout` per wake-up however many are pending, fires
 * entries due together in a defined order, and lets `cancelAll()` release the
 * program by clearing a single timer.
 *
 * ```text
 *   heap[0]  earliest due  <- the one clock timer is armed for it (or earlier)
 *   heap[i]  due <= due of heap[2i+1] and heap[2i+2]
 * ```
 *
 * The timer keeps the program alive while any handle is active, unless the
 * scheduler was created with `{ unref: true }`.
 *
 * @example Usage
 * ```ts
 * import { Scheduler } from "./scheduler.ts";
 * import { systemClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 *
 * const scheduler = new Scheduler(systemClock);
 * const order: string[] = [];
 * await new Promise<void>((resolve) => {
 *   scheduler.later(1, () => order.push("first"));
 *   scheduler.later(1, () => {
 *     order.push("second");
 *     resolve();
 *   });
 * });
 * assert.deepEqual(order, ["first", "second"]);
 * assert.equal(scheduler.delayed.length, 0);
 * ```
 */
export class Scheduler {
  #clock: Clock;
  #timerOptions: SetTimerOptions | undefined;
  #onError: ((error: unknown) => void) | undefined;
  #remove = (timer: Timer): boolean => this.#cancel(timer);
  #heap = new IndexedHeap<Timer>();
  /**
   * The handles in the heap, by kind, in creation order (ids rise), and the
   * array `delayed` / `scheduled` gives until one is added or leaves: a read
   * costs nothing then, and a copy, never a sort, after a change. (Not
   * frozen: `Object.freeze` of 30,000 handles takes 15 ms on Bun.)
   */
  #live: Record<TimerKind, Map<number, Timer>> = { delayed: new Map(), scheduled: new Map() };
  #lists: Record<TimerKind, readonly TimerHandle[] | null> = { delayed: null, scheduled: null };
  #nextId = 1;
  /** The armed clock timer, if any, and the time it was armed for. */
  #timer: TimerId | undefined;
  #timerDue = Infinity;
  /** Bumped whenever the timer is replaced or cleared: a stale callback sees a different value. */
  #generation = 0;
  /** True while a timer callback fires handles; it arms the timer once at its end. */
  #running = false;
  /** Runs of the clock timer so far: `#arm` tells by it that one ran within `setTimer()`. */
  #runs = 0;

  /**
   * Creates a scheduler with no handles and no clock timer.
   *
   * @param clock Where time and timers come from: `systemClock`, or a fake one in tests.
   * @param options `unref` and `onError`; see {@linkcode SchedulerOptions}.
   */
  constructor(clock: Clock, options?: SchedulerOptions) {
    this.#clock = clock;
    this.#timerOptions = options?.unref ? { unref: true } : undefined;
    this.#onError = options?.onError;
  }

  /**
   * Calls `fire` once, `delay` ms from now (at `clock.now() + delay`). After
   * that the handle is no longer active and leaves {@linkcode Scheduler.delayed}.
   *
   * Handles due at the same time fire in the order they were created. A handle
   * created from inside a `fire` callback waits for the next timer callback,
   * even with `delay` 0, so a chain of them cannot starve the event loop.
   *
   * @param delay Milliseconds to wait; a finite number `>= 0`.
   * @param fire Called with the handle when it is due. If it throws, the error
   * goes to `onError` (see {@linkcode SchedulerOptions}).
   * @returns The handle, active until it fires or is cancelled.
   * @throws {TypeError} If `delay` is not a number or `fire` not a function.
   * @throws {RangeError} If `delay` is negative, `NaN` or infinite.
   *
   * @example Usage
   * ```ts
   * import { Scheduler, type TimerHandle } from "./scheduler.ts";
   * import { systemClock } from "./clock.ts";
   * import assert from "node:assert/strict";
   *
   * const scheduler = new Scheduler(systemClock);
   * const start = systemClock.now();
   * const handle = await new Promise<TimerHandle>((resolve) => {
   *   scheduler.later(1, resolve);
   * });
   * assert.equal(handle.fired, 1);
   * assert.equal(handle.active, false);
   * assert.ok(handle.due >= start + 1);
   * assert.deepEqual(scheduler.delayed, []);
   * ```
   */
  later(delay: number, fire: (handle: TimerHandle) => void): TimerHandle {
    checkDuration(delay, "delay", SCHEDULE);
    checkFunction(fire, "fire", SCHEDULE);
    const now = this.#clock.now();
    const due = now + delay;
    const timer = new Timer(
      this.#nextId++,
      "delayed",
      due,
      now,
      delay,
      fire,
      undefined,
      this.#remove,
    );
    this.#push(timer);
    return timer.handle;
  }

  /**
   * Calls `fire` every `interval` ms on a fixed grid: tick `k` (1, 2, ...) is
   * due at `start + k * interval`, where `start` is `clock.now()` at this call.
   * The grid never drifts, even when timer callbacks run late.
   *
   * When a timer callback runs late past several ticks, `fire` is called once
   * and the missed ticks are skipped, not bunched; the handle is then due at
   * the next grid point strictly in the future. A tick where `isBusy` returns
   * `true` (say, the previous run has not ended) is skipped too. Both count in
   * {@linkcode TimerHandle.skipped}.
   *
   * Any positive interval works, however small, and `fire` is called at most
   * once per clock timer callback. Where the grid is finer than the clock's
   * numbers can tell apart (an interval below about `clock.now() * 2 ** -52`,
   * say 1e-9 ms once `now()` is past an hour or so), the next tick cannot be
   * represented: the handle is then due one interval, or the smallest step
   * the clock's numbers allow, after the callback's `now`, and a count of
   * missed ticks too large to hold (`Infinity`) is not added to `skipped`.
   *
   * @param interval Milliseconds between ticks; a finite number `> 0`.
   * @param fire Called with the handle at each tick that is not skipped. If it
   * throws, the error goes to `onError` and the handle keeps ticking.
   * @param isBusy Asked at each due tick before `fire`; `true` skips the tick.
   * If it throws, the error goes to `onError` and the tick is skipped.
   * @returns The handle, active until it is cancelled.
   * @throws {TypeError} If `interval` is not a number, or `fire` or `isBusy`
   * not a function.
   * @throws {RangeError} If `interval` is not positive or not finite.
   *
   * @example Usage
   * ```ts
   * import { Scheduler, type TimerHandle } from "./scheduler.ts";
   * import { systemClock } from "./clock.ts";
   * import assert from "node:assert/strict";
   *
   * const scheduler = new Scheduler(systemClock);
   * const start = systemClock.now();
   * const handle = await new Promise<TimerHandle>((resolve) => {
   *   scheduler.every(1, (handle) => {
   *     if (handle.fired === 3) {
   *       handle.cancel();
   *       resolve(handle);
   *     }
   *     assert.ok(handle.due > start);
   *   });
   * });
   * assert.equal(handle.fired, 3);
   * assert.deepEqual(scheduler.scheduled, []);
   * ```
   */
  every(
    interval: number,
    fire: (handle: TimerHandle) => void,
    isBusy?: (handle: TimerHandle) => boolean,
  ): TimerHandle {
    checkDuration(interval, "interval", SCHEDULE, true);
    checkFunction(fire, "fire", SCHEDULE);
    if (isBusy !== undefined) checkFunction(isBusy, "isBusy", SCHEDULE);
    const start = this.#clock.now();
    const timer = new Timer(
      this.#nextId++,
      "scheduled",
      start + interval,
      start,
      interval,
      fire,
      isBusy,
      this.#remove,
    );
    this.#push(timer);
    return timer.handle;
  }

  /**
   * The active delayed handles (created by {@linkcode Scheduler.later}), in
   * creation order: the same array until a handle is made, fires or is
   * cancelled (read-only: do not change it).
   *
   * @example Usage
   * ```ts
   * import { Scheduler } from "./scheduler.ts";
   * import { systemClock } from "./clock.ts";
   * import assert from "node:assert/strict";
   *
   * const scheduler = new Scheduler(systemClock);
   * const a = scheduler.later(60_000, () => {});
   * const b = scheduler.later(30_000, () => {});
   * assert.deepEqual(scheduler.delayed, [a, b]);
   * a.cancel();
   * assert.deepEqual(scheduler.delayed, [b]);
   * scheduler.cancelAll();
   * ```
   */
  get delayed(): ReadonlyArray<TimerHandle> {
    return this.#list("delayed");
  }

  /**
   * The active scheduled handles (created by {@linkcode Scheduler.every}), in
   * creation order: the same array until a handle is made or cancelled
   * (read-only: do not change it).
   *
   * @example Usage
   * ```ts
   * import { Scheduler } from "./scheduler.ts";
   * import { systemClock } from "./clock.ts";
   * import assert from "node:assert/strict";
   *
   * const scheduler = new Scheduler(systemClock);
   * const handle = scheduler.every(60_000, () => {});
   * assert.deepEqual(scheduler.scheduled, [handle]);
   * handle.cancel();
   * assert.deepEqual(scheduler.scheduled, []);
   * ```
   */
  get scheduled(): ReadonlyArray<TimerHandle> {
    return this.#list("scheduled");
  }

  /**
   * Cancels every active delayed and scheduled handle and clears the clock
   * timer, so the scheduler no longer keeps the program alive. The scheduler
   * stays usable.
   *
   * @returns How many handles it cancelled.
   *
   * @example Usage
   * ```ts
   * import { Scheduler } from "./scheduler.ts";
   * import { systemClock } from "./clock.ts";
   * import assert from "node:assert/strict";
   *
   * const scheduler = new Scheduler(systemClock);
   * const delayed = scheduler.later(60_000, () => {});
   * scheduler.every(60_000, () => {});
   * assert.equal(scheduler.cancelAll(), 2);
   * assert.equal(delayed.cancelled, true);
   * assert.equal(scheduler.cancelAll(), 0);
   * ```
   */
  cancelAll(): number {
    for (const timer of this.#heap.entries) timer.cancelled = true;
    const count = this.#heap.clear();
    for (const kind of ["delayed", "scheduled"] as const) {
      this.#live[kind].clear();
      this.#lists[kind] = null;
    }
    this.#clearTimer();
    return count;
  }

  #list(kind: TimerKind): readonly TimerHandle[] {
    return this.#lists[kind] ??= Array.from(this.#live[kind].values(), (timer) => timer.handle);
  }

  /** `timer` left the heap (fired, cancelled): no longer listed. */
  #left(timer: Timer): void {
    if (this.#live[timer.kind].delete(timer.id)) this.#lists[timer.kind] = null;
  }

  #cancel(timer: Timer): boolean {
    if (timer.index < 0) return false;
    this.#heap.removeAt(timer.index);
    this.#left(timer);
    timer.cancelled = true;
    // An early timer left armed only costs one spurious wake-up; an armed
    // timer with nothing to do would hold the program open.
    if (this.#heap.first === undefined) this.#clearTimer();
    return true;
  }

  /** The clock timer's callback: fires what is due, then re-arms. */
  #run(generation: number): void {
    // A timer cleared too late (its callback already queued) must do nothing.
    if (generation !== this.#generation) return;
    this.#runs++;
    this.#timer = undefined;
    this.#timerDue = Infinity;
    // One snapshot of "now" per run: a scheduled handle is re-queued strictly
    // after it, so it fires at most once per run; handles created during the
    // run (id >= limit) wait for the next run.
    const now = this.#clock.now();
    const limit = this.#nextId;
    this.#running = true;
    try {
      this.#fireDue(now, limit);
    } finally {
      this.#running = false;
    }
    try {
      this.#arm();
    } catch (error) {
      this.#report(error); // nothing armed: the next handle made arms the clock again
    }
  }

  #fireDue(now: number, limit: number): void {
    const heap = this.#heap;
    let timer: Timer | undefined;
    while ((timer = heap.first) !== undefined && timer.due <= now && timer.id < limit) {
      if (timer.kind === "delayed") {
        heap.removeAt(0);
        this.#left(timer);
        timer.fired = 1;
        this.#call(timer.fire, timer);
        continue;
      }
      // Scheduled: move to the next grid point after `now` before calling
      // out, so `fire` sees its next due time and may cancel itself.
      this.#nextTick(timer, now);
      heap.firstMovedLater();
      if (timer.isBusy !== undefined && this.#busy(timer)) {
        timer.skipped++;
        continue;
      }
      if (timer.index < 0) continue; // `isBusy` cancelled it
      timer.fired++;
      this.#call(timer.fire, timer);
    }
  }

  /**
   * Moves scheduled `timer`, due at or before `now`, to its first grid point
   * strictly after `now`, counting the ticks in between as skipped.
   *
   * The tick is computed, never counted up to, and at most one rounding step
   * follows: counting would spin for ever once the tick passes 2^53 (where
   * `tick + 1 === tick`; a 1 ns interval gets there in 2.5 hours), and for
   * ages where the grid is finer than the clock's numbers can tell apart.
   * When even the rounding step does not land after `now` (or lands on
   * `Infinity`), the grid cannot be represented there, and the handle is due
   * one interval, or one representable step if that is more, after `now`:
   * whatever the numbers, the new due time is after `now`, so the handle
   * fires at most once per run.
   */
  #nextTick(timer: Timer, now: number): void {
    const { start, interval, tick: previous } = timer;
    let tick = Math.max(previous + 1, Math.floor((now - start) / interval) + 1);
    let due = start + tick * interval;
    // The quotient may round one tick low, or the product to `now` or less.
    if (!(due > now)) due = start + ++tick * interval;
    if (!(due > now && due !== Infinity)) {
      due = now + Math.max(interval, Math.abs(now) * Number.EPSILON);
    }
    const missed = tick - previous - 1;
    // Finite, so `skipped` stays a number: 5e-324 ms divides any elapsed
    // time into `Infinity` ticks.
    if (Number.isFinite(missed)) {
      timer.skipped += missed;
      timer.tick = tick;
    }
    timer.due = due;
  }

  /** Calls `fire`; a throw is reported, never propagated. */
  #call(fire: Fire, timer: Timer): void {
    try {
      fire(timer.handle);
    } catch (error) {
      this.#report(error);
    }
  }

  /** Asks `isBusy`; a throw is reported and counts as busy. */
  #busy(timer: Timer): boolean {
    try {
      return Boolean(timer.isBusy!(timer.handle));
    } catch (error) {
      this.#report(error);
      return true;
    }
  }

  #report(error: unknown): void {
    try {
      if (this.#onError !== undefined) this.#onError(error);
      else reportGlobally(error);
    } catch (thrown) {
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }

  /**
   * Makes sure a clock timer is armed no later than the earliest entry. The
   * new clock timer is set before the old one is cleared: a clock whose
   * `setTimer` throws leaves the old one armed. One that runs the callback
   * within `setTimer` (a 0 ms timer) runs what is due, and that run arms
   * the clock for the rest.
   */
  #arm(): void {
    const first = this.#heap.first;
    if (first === undefined) return this.#clearTimer();
    if (this.#timer !== undefined && this.#timerDue <= first.due) return;
    const previous = this.#timer;
    const generation = ++this.#generation; // the previous timer's run is stale from here
    const runs = this.#runs;
    const wait = Math.min(
      MAX_TIMER_DELAY,
      Math.max(0, Math.ceil(first.due - this.#clock.now())),
    );
    let timer: TimerId;
    try {
      timer = this.#clock.setTimer(() => this.#run(generation), wait, this.#timerOptions);
    } catch (error) {
      // Nothing ran meanwhile: the previous timer stays armed, and valid again.
      if (this.#runs === runs && this.#generation === generation) this.#generation--;
      throw error;
    }
    // Unless it ran within setTimer() (that run armed the clock for the rest, or
    // reported why not), it is the armed one; then the previous one is cleared
    // (a clearTimer() that throws leaves a timer whose run is stale: harmless).
    if (this.#runs === runs && this.#generation === generation) {
      this.#timerDue = first.due;
      this.#timer = timer;
    }
    if (previous !== undefined) this.#clock.clearTimer(previous);
  }

  /** Forgets the armed clock timer, then clears it (its run is stale from here, even if that throws). */
  #clearTimer(): void {
    this.#generation++;
    const timer = this.#timer;
    if (timer === undefined) return;
    this.#timer = undefined;
    this.#timerDue = Infinity;
    this.#clock.clearTimer(timer);
  }

  /**
   * Adds `timer`, arming the clock for it if it is due first (or if no clock
   * timer is armed: an earlier `setTimer` threw). If the clock throws, the
   * call that made `timer` throws that error, and `timer` is not kept.
   */
  #push(timer: Timer): void {
    this.#heap.push(timer);
    this.#live[timer.kind].set(timer.id, timer);
    this.#lists[timer.kind] = null;
    if ((timer.index === 0 || this.#timer === undefined) && !this.#running) {
      try {
        this.#arm();
      } catch (error) {
        // Kept no longer either way: fired already if the clock ran it, then threw.
        if (timer.index >= 0) {
          this.#heap.removeAt(timer.index);
          this.#left(timer);
        }
        throw error;
      }
    }
  }
}
