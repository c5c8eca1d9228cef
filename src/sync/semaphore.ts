/**
 * A counting semaphore in a `SharedArrayBuffer`, usable from every thread.
 *
 * Permits live in one shared word, STATE (see `_layout.ts`), with a WAITING
 * bit beside the count. A thread that finds no permit queues its `acquire()`
 * calls in a FIFO, one per thread and `SharedArrayBuffer` object (shared by
 * every Semaphore of the thread over it), and keeps one `Atomics.waitAsync`
 * on STATE to hear of releases by other threads; a release in the same
 * thread serves that FIFO at once, with no round trip. `acquireSync()` sleeps
 * in `Atomics.wait`.
 *
 * Why no wake-up is lost (every Atomics operation is sequentially
 * consistent, and only compareExchange changes STATE):
 *
 * ```
 *   waiter                               releaser
 *   1. take: count c > 0 ? c - 1         a. STATE s -> (s & COUNT_MASK) + n
 *   2. count 0: set WAITING                 (clears WAITING)
 *   3. sleep while STATE === WAITING     b. serve this thread's FIFO
 *      (any wake-up: back to 1)          c. if s had WAITING: notify all
 * ```
 * A waiter sleeps only if STATE === WAITING at (3), checked atomically with
 * joining the wait list. Only a release (a) clears WAITING, and it then
 * notifies (c): if (a) came before (3), STATE !== WAITING and the waiter does
 * not sleep; if after, the waiter is in the list and is woken. Notifying all
 * means no wake-up is absorbed by a waiter that no longer wants a permit
 * (timed out, aborted, served by its own thread): every waiter still waiting
 * goes back to (1) and sets WAITING again. Permits move only by
 * compareExchange on STATE, so a race neither creates nor destroys one. With
 * nobody waiting, acquire and release cost one compareExchange each.
 *
 * Until its `buffer` is read (which `toWire` and `from` need), a Semaphore's
 * memory cannot be reached by another thread, so it uses plain reads and
 * writes: the memory then has one agent, and program order is enough. Reading
 * `buffer` switches it, for good, to the protocol above.
 *
 * @module
 */

import { checkInteger, checkOptionsObject, checkSignal, checkTimeout } from "../_checks.ts";
import { checkOptionNames } from "../_option_names.ts";
import { type Memory, memoryOf } from "./_thread_memory.ts";
import { allocate, MAX_COUNT, refuse, SHARED_MARK } from "./_layout.ts";

/**
 * Options of {@linkcode Semaphore.acquire}.
 *
 * @example Usage
 * ```ts
 * import { type AcquireOptions, Semaphore } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const sem = new Semaphore(0);
 * const now: AcquireOptions = { timeout: 0 };
 * assert.equal(await sem.acquire(now), false);
 * const controller = new AbortController();
 * const waiting = sem.acquire({ signal: controller.signal });
 * controller.abort(new Error("no longer needed"));
 * await assert.rejects(waiting, /no longer needed/);
 * ```
 */
export interface AcquireOptions {
  /**
   * Most milliseconds to wait; then the promise resolves `false`. `0` never
   * waits. Above 2³¹−1 ms (setTimeout's limit) it waits without a limit.
   * It is the global `setTimeout` at the call, so fake timers drive it.
   *
   * @default {Infinity}
   */
  timeout?: number | undefined;
  /** Stops the wait when aborted: the promise rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/**
 * One acquired permit; `using` releases it at scope end. Releasing it a
 * second time does nothing.
 *
 * @example Usage
 * ```ts
 * import { type Permit, Semaphore } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const sem = new Semaphore(1);
 * {
 *   using permit: Permit = await sem.acquirePermit();
 *   assert.equal(permit.released, false);
 *   assert.equal(sem.value, 0);
 * }
 * assert.equal(sem.value, 1);
 * const permit = await sem.acquirePermit();
 * permit.release();
 * permit.release(); // does nothing
 * assert.equal(permit.released, true);
 * assert.equal(sem.value, 1);
 * ```
 */
export interface Permit extends Disposable {
  /** Whether this permit was given back. */
  readonly released: boolean;
  /** Gives the permit back, once; later calls do nothing. */
  release(): void;
}

const TRUE = Promise.resolve(true);
const FALSE = Promise.resolve(false);
let attaching: SharedArrayBuffer | undefined;

/**
 * A Semaphore over `buffer`, unchecked: a checked one's (`Semaphore.from`)
 * or, for a `Lock`, memory it has just allocated, which is plain memory
 * where shared memory does not exist (a lock then works in its own thread).
 */
export function semaphoreOver(buffer: SharedArrayBuffer): Semaphore {
  attaching = buffer;
  return new Semaphore();
}

/** Set by `Semaphore`'s static block, which alone reads its memory: see {@linkcode takeAll}. */
let takeAllOf: (semaphore: Semaphore) => number;

/**
 * A counting semaphore on shared memory: `new Semaphore(n)` in one thread,
 * {@linkcode Semaphore.from} on its {@linkcode Semaphore.buffer} in another
 * (a Semaphore passed as a job argument arrives attached). The `acquire()`
 * calls of one thread are served first come, first served (through every
 * Semaphore of that memory the thread holds, however it arrived), and a
 * `release()` serves its own thread's waiters before other threads'. Like
 * Python's, it may be released above its initial value.
 *
 * @example Usage
 * ```ts
 * import { Semaphore } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const sem = new Semaphore(2);
 * assert.equal(await sem.acquire(), true);
 * assert.equal(sem.tryAcquire(), true);
 * assert.equal(sem.locked, true);
 * sem.release(2);
 * {
 *   using _permit = await sem.acquirePermit();
 *   assert.equal(sem.value, 1);
 * }
 * assert.equal(sem.value, 2);
 * ```
 */
export class Semaphore {
  #memory: Memory;

  static {
    Object.defineProperty(this.prototype, SHARED_MARK, { value: "Semaphore" });
    takeAllOf = (semaphore) => {
      const memory = semaphore.#memory;
      return memory.idle ? memory.takeAll() : 0;
    };
  }

  /**
   * Allocates the shared memory with `value` free permits.
   *
   * @param value Initial number of permits, an integer from 0 to 2³⁰−1.
   * @throws {RangeError} If `value` is not such an integer.
   */
  constructor(value = 1) {
    let buffer = attaching;
    attaching = undefined;
    if (buffer === undefined) {
      checkInteger(value, "value", "create semaphore", 0, MAX_COUNT);
      buffer = allocate(value, 0);
    }
    this.#memory = memoryOf(buffer);
  }

  /**
   * Attaches to the memory of a Semaphore (or a Lock) made in any thread.
   *
   * @param buffer The {@linkcode Semaphore.buffer} of the original.
   * @returns A Semaphore sharing its permits with the original.
   * @throws {TypeError} If `buffer` is not a semaphore's memory.
   *
   * @example Sharing with a worker
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(2);
   * // A worker gets `sem.buffer` (or `sem` itself as a job argument) and attaches:
   * const same = Semaphore.from(sem.buffer);
   * assert.equal(same.tryAcquire(), true);
   * assert.equal(sem.value, 1);
   * ```
   */
  static from(buffer: SharedArrayBuffer): Semaphore {
    const reason = refuse(buffer);
    if (reason) {
      throw new TypeError(`Cannot attach semaphore: "buffer" ${reason}`);
    }
    return semaphoreOver(buffer);
  }

  /**
   * The shared memory; pass it to {@linkcode Semaphore.from}.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(3);
   * assert.ok(sem.buffer instanceof SharedArrayBuffer);
   * assert.equal(Semaphore.from(sem.buffer).value, 3);
   * ```
   */
  get buffer(): SharedArrayBuffer {
    return this.#memory.share();
  }

  /**
   * How many permits are free now.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(2);
   * sem.tryAcquire();
   * assert.equal(sem.value, 1);
   * ```
   */
  get value(): number {
    return this.#memory.count();
  }

  /**
   * Whether no permit is free now (`value === 0`).
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(1);
   * assert.equal(sem.locked, false);
   * sem.tryAcquire();
   * assert.equal(sem.locked, true);
   * ```
   */
  get locked(): boolean {
    return this.#memory.count() === 0;
  }

  /**
   * Acquires a permit, waiting while none is free, without blocking the
   * thread: releases by other threads arrive through `Atomics.waitAsync`.
   *
   * @param options `timeout` in ms, and a `signal`; if it aborts, or is
   * already aborted, the promise rejects with its reason.
   * @returns `true` once acquired, `false` if the timeout passed first. It
   * rejects with a `TypeError` if an option has the wrong type, a
   * `RangeError` if `timeout` is negative or NaN.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(0);
   * const waiting = sem.acquire();
   * sem.release();
   * assert.equal(await waiting, true);
   * assert.equal(await sem.acquire({ timeout: 0 }), false);
   * ```
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    // Fast path: no earlier caller of this thread waits, and a permit is free.
    const memory = this.#memory;
    if (options === undefined && memory.idle && memory.take()) return TRUE;
    return this.#enqueue(options);
  }

  /**
   * Takes a permit if one is free now, never ahead of a pending
   * `acquire()` of this thread. In a pool's worker it takes nothing in the
   * synchronous call of a job the pool has failed (its time limit passed,
   * or it was aborted), nor once the pool has ended the worker.
   *
   * @returns Whether a permit was taken.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(1);
   * assert.equal(sem.tryAcquire(), true);
   * assert.equal(sem.tryAcquire(), false);
   * sem.release();
   * assert.equal(sem.tryAcquire(), true);
   * ```
   */
  tryAcquire(): boolean {
    const memory = this.#memory;
    return memory.idle && memory.tryTake();
  }

  /**
   * Acquires a permit, blocking the thread in `Atomics.wait`: for workers.
   * It does not queue behind this thread's pending `acquire()` calls.
   *
   * @param timeout Most ms to block; `0` never blocks.
   * @returns `true` once acquired, `false` if the timeout passed first.
   * @throws {TypeError} If this thread may not block (use `acquire()`), if
   * none is free where there is no `SharedArrayBuffer` (no other thread
   * could free one), or if `timeout` is not a number.
   * @throws {RangeError} If `timeout` is negative or NaN.
   * @throws {Error} In a pool's worker, "acquireSync() stopped waiting",
   * once the pool has ended the worker, or failed the job whose synchronous
   * call this is (its time limit passed, or it was aborted): it takes no
   * permit then.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(1);
   * assert.equal(sem.acquireSync(0), true); // 0: never blocks
   * assert.equal(sem.acquireSync(0), false);
   * ```
   */
  acquireSync(timeout: number = Infinity): boolean {
    const action = `acquire ${this.#noun}`;
    checkTimeout(timeout, "timeout", action);
    return this.#memory.block(timeout, action);
  }

  /**
   * Gives back `n` permits, from any thread: this thread's waiters first,
   * then other threads'.
   *
   * @param n How many, a positive integer.
   * @throws {RangeError} If `n` is not one, or the value would pass its
   * limit (2³⁰−1; 1 for a Lock's memory: releasing an unlocked Lock).
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(0);
   * sem.release(2);
   * assert.equal(sem.value, 2);
   * assert.throws(() => sem.release(0), RangeError);
   * ```
   */
  release(n = 1): void {
    if (n !== 1) checkInteger(n, "n", `release ${this.#noun}`, 1, MAX_COUNT);
    const count = this.#memory.give(n);
    if (count < 0) return;
    const max = this.#memory.max;
    if (max === 1 && count === 1) throw new RangeError("Cannot release lock: it is not locked");
    throw new RangeError(
      `Cannot release ${this.#noun}: "n" would raise the value past ${max}, received ${n} with value ${count}`,
    );
  }

  /**
   * Acquires a permit that `using` gives back at scope end.
   *
   * @param options As for {@linkcode Semaphore.acquire}.
   * @returns The permit, once acquired.
   * @throws {DOMException} Named `TimeoutError`, if `timeout` passed first.
   *
   * @example Usage
   * ```ts
   * import { Semaphore } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const sem = new Semaphore(1);
   * {
   *   using _permit = await sem.acquirePermit({ timeout: 1000 });
   *   assert.equal(sem.locked, true);
   * }
   * assert.equal(sem.locked, false);
   * ```
   */
  async acquirePermit(options?: AcquireOptions): Promise<Permit> {
    if (await this.acquire(options)) return new OnePermit(this);
    const message = `Cannot acquire ${this.#noun}: timed out after ${options?.timeout} ms`;
    throw new DOMException(message, "TimeoutError");
  }

  get #noun(): string {
    return this.#memory.max === 1 ? "lock" : "semaphore";
  }

  #enqueue(options: AcquireOptions | undefined): Promise<boolean> {
    let read: AcquireOptions;
    try {
      read = readOptions(options, `acquire ${this.#noun}`);
    } catch (error) {
      return Promise.reject(error); // as every promise-returning call of fastpool's
    }
    const { timeout = Infinity, signal } = read;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const memory = this.#memory;
    // A signal whose abort is on its way (its job failed) takes no free permit: it waits for that.
    if (memory.idle && memory.takeFor(signal)) return TRUE;
    if (timeout === 0) return FALSE;
    return memory.wait(timeout, signal);
  }
}

class OnePermit implements Permit {
  #owner: Semaphore | undefined;

  constructor(owner: Semaphore) {
    this.#owner = owner;
  }

  get released(): boolean {
    return this.#owner === undefined;
  }

  release(): void {
    const owner = this.#owner;
    this.#owner = undefined;
    owner?.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
/**
 * Takes every free permit of `semaphore` in one step, as many `tryAcquire()`
 * calls would (none while this thread's `acquire()` calls wait): the pool's
 * `clear()` zeroes its result counters with it. Returns how many it took.
 */
export function takeAll(semaphore: Semaphore): number {
  return takeAllOf(semaphore);
}

const ACQUIRE_OPTION_NAMES = ["timeout", "signal"] as const satisfies readonly (
  keyof AcquireOptions
)[];

function readOptions(
  options: AcquireOptions | undefined,
  action: string,
): AcquireOptions {
  if (options === undefined) return {};
  checkOptionsObject(options, action);
  checkOptionNames(options, ACQUIRE_OPTION_NAMES, action);
  const { timeout, signal } = options; // read once: the checks and the wait see the same values
  if (timeout !== undefined) checkTimeout(timeout, "timeout", action);
  if (signal !== undefined) checkSignal(signal, "signal", action);
  return { timeout, signal };
}
