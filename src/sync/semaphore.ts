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

import { checkInteger, checkSignal, checkTimeout, invalid } from "../_checks.ts";
import { checkOptionNames } from "../_option_names.ts";
import { hasSharedMemory } from "./_memory.ts";
import {
  allocate,
  bornHere,
  COUNT_MASK,
  hasMemoryId,
  LIMIT,
  MAX_COUNT,
  memoryId,
  refuse,
  sameMemory,
  STATE,
  WAITING,
} from "./_layout.ts";

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

/** The errors `share()` threw: a value holding a primitive cannot be sent, wherever it sits. */
const shareRefusals = new WeakSet<object>();

/** Whether `error` says a Semaphore or Lock cannot leave this thread (no shared memory). */
export function isShareRefusal(error: unknown): boolean {
  return typeof error === "object" && error !== null && shareRefusals.has(error);
}

/**
 * A Semaphore over `buffer`, unchecked: a checked one's (`Semaphore.from`)
 * or, for a `Lock`, memory it has just allocated, which is plain memory
 * where shared memory does not exist (a lock then works in its own thread).
 */
export function semaphoreOver(buffer: SharedArrayBuffer): Semaphore {
  attaching = buffer;
  return new Semaphore();
}
/**
 * This thread's view of each shared memory, by the memory's id, not by
 * buffer object: every clone of a buffer (each message that carries it) is a
 * new object, and all must share one FIFO of this thread's waiters. Held
 * weakly: a view no Semaphore and no waiter needs is dropped. A memory made
 * here joins when it is first shared (until then no clone of it exists), so
 * making semaphores that never leave the thread costs no entry.
 */
const memories = new Map<number, WeakRef<Memory>>();
const forget = new FinalizationRegistry<number>((id) => {
  if (memories.get(id)?.deref() === undefined) memories.delete(id);
});

/** This thread's view of the memory `buffer` holds. */
function memoryOf(buffer: SharedArrayBuffer): Memory {
  const slots = new Int32Array(buffer);
  if (!hasMemoryId(slots)) return new Memory(buffer); // never shared: no other view of it exists
  const known = memories.get(memoryId(slots))?.deref();
  if (known !== undefined && known.isMemoryOf(slots)) return known;
  const memory = new Memory(buffer);
  if (known === undefined) memory.register();
  return memory;
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
   * @returns `true` once acquired, `false` if the timeout passed first.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If `timeout` is negative or NaN.
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
   * `acquire()` of this thread.
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
    return memory.idle && memory.take();
  }

  /**
   * Acquires a permit, blocking the thread in `Atomics.wait`: for workers.
   * It does not queue behind this thread's pending `acquire()` calls.
   *
   * @param timeout Most ms to block; `0` never blocks.
   * @returns `true` once acquired, `false` if the timeout passed first.
   * @throws {TypeError} If this thread may not block (use `acquire()`), or
   * `timeout` is not a number.
   * @throws {RangeError} If `timeout` is negative or NaN.
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
    const { timeout = Infinity, signal } = readOptions(options, `acquire ${this.#noun}`);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const memory = this.#memory;
    if (memory.idle && memory.take()) return TRUE;
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

interface Waiter {
  resolve(acquired: boolean): void;
  reject(reason: unknown): void;
  prev: Waiter | undefined;
  next: Waiter | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
}

const MAX_DELAY = 0x7fff_ffff;

let checkStillWanted: () => void = () => {};

/**
 * Sets the check `acquireSync()` makes between two of its waits: a pool's
 * worker installs one that throws once the pool has ended it, so a task
 * parked in `acquireSync()` does not outlive `terminate()` (on Deno, a
 * terminated worker stops only when its JavaScript returns to the event
 * loop). Internal: for `worker/runtime.ts`.
 *
 * @param check Throws to stop the wait.
 *
 * @example Usage
 * ```ts
 * import { guardBlockingWaits, Semaphore } from "./semaphore.ts";
 * import assert from "node:assert/strict";
 *
 * let looks = 0;
 * guardBlockingWaits(() => void looks++);
 * assert.equal(new Semaphore(0).acquireSync(250), false); // waits of 100 ms at most
 * assert.ok(looks >= 2, "it looked between its waits");
 * guardBlockingWaits(() => {});
 * ```
 */
export function guardBlockingWaits(check: () => void): void {
  checkStillWanted = check;
}
/** The longest one `Atomics.wait` of `acquireSync()` lasts before it looks again. */
const BLOCK_SLICE_MS = 100;

/**
 * Takes every free permit of `semaphore` in one step, as many `tryAcquire()`
 * calls would (none while this thread's `acquire()` calls wait): the pool's
 * `clear()` zeroes its result counters with it. Returns how many it took.
 */
export function takeAll(semaphore: Semaphore): number {
  return takeAllOf(semaphore);
}

/**
 * This thread's side of one memory: the permit operations, in plain or
 * atomic form, and the FIFO of this thread's `acquire()` calls with the one
 * `Atomics.waitAsync` that watches STATE for them.
 */
class Memory {
  readonly max: number;
  #slots: Int32Array;
  #shared: boolean;
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  #watching = false;
  /**
   * The waiters of each signal, in queue order, behind one `abort` listener
   * per signal: one listener each would cost the signal's whole list at
   * every add and remove (20,000 waiters on one signal: seconds; 100,000: no
   * end in sight), and one app-wide signal for many waiters is common.
   */
  readonly #bySignal = new Map<AbortSignal, Set<Waiter>>();

  constructor(buffer: SharedArrayBuffer) {
    this.#slots = new Int32Array(buffer);
    this.max = this.#slots[LIMIT] || MAX_COUNT;
    this.#shared = hasMemoryId(this.#slots) || !bornHere(buffer); // it left, or came
  }

  /** Becomes this thread's view of its memory, found by id (see `memories`). */
  register(): void {
    const id = memoryId(this.#slots);
    memories.set(id, new WeakRef(this));
    forget.register(this, id);
  }

  /** Whether `slots` views this memory (not a byte copy of it). */
  isMemoryOf(slots: Int32Array): boolean {
    return sameMemory(this.#slots, slots);
  }

  /** Whether no `acquire()` of this thread waits. */
  get idle(): boolean {
    return this.#head === undefined;
  }

  /** Switches to the atomic protocol, for good; returns the buffer. */
  share(): SharedArrayBuffer {
    if (!hasSharedMemory) {
      const error = new TypeError(
        "Cannot share a Semaphore or Lock with another thread: SharedArrayBuffer is not available here (a browser page must be cross-origin isolated)",
      );
      shareRefusals.add(error);
      throw error;
    }
    if (!this.#shared) {
      this.#shared = true;
      this.register();
      if (this.#head !== undefined) this.#watch();
    }
    return this.#slots.buffer as SharedArrayBuffer;
  }

  count(): number {
    const slots = this.#slots;
    return (this.#shared ? Atomics.load(slots, STATE) : slots[STATE]!) &
      COUNT_MASK;
  }

  /** Step 1: takes one permit if one is free. */
  take(): boolean {
    const slots = this.#slots;
    let state = slots[STATE]!; // unshared: the truth; shared: a guess for the CAS
    if (!this.#shared) {
      if ((state & COUNT_MASK) === 0) return false;
      slots[STATE] = state - 1;
      return true;
    }
    for (let exact = false;;) {
      if ((state & COUNT_MASK) === 0) {
        if (exact) return false;
        state = Atomics.load(slots, STATE);
        exact = true;
        continue;
      }
      const seen = Atomics.compareExchange(slots, STATE, state, state - 1); // keeps WAITING
      if (seen === state) return true;
      state = seen;
      exact = true;
    }
  }

  /** Step 1 for every free permit at once; returns how many it took. */
  takeAll(): number {
    const slots = this.#slots;
    let state = this.#shared ? Atomics.load(slots, STATE) : slots[STATE]!;
    while ((state & COUNT_MASK) !== 0) {
      const count = state & COUNT_MASK;
      if (!this.#shared) {
        slots[STATE] = state - count;
        return count;
      }
      const seen = Atomics.compareExchange(slots, STATE, state, state - count); // keeps WAITING
      if (seen === state) return count;
      state = seen;
    }
    return 0;
  }

  /** Steps a to c; returns -1, or the count if `n` would pass the limit. */
  give(n: number): number {
    const slots = this.#slots;
    let state = slots[STATE]!; // as in take()
    for (let exact = !this.#shared;;) {
      const count = state & COUNT_MASK;
      if (count > this.max - n) {
        if (exact) return count;
        state = Atomics.load(slots, STATE);
        exact = true;
        continue;
      }
      if (!this.#shared) {
        slots[STATE] = count + n;
        break;
      }
      const seen = Atomics.compareExchange(slots, STATE, state, count + n); // step a
      if (seen === state) break;
      state = seen;
      exact = true;
    }
    if (this.#head !== undefined) this.#serve(); // step b
    if (state & WAITING) Atomics.notify(slots, STATE); // step c
    return -1;
  }

  /**
   * `acquireSync()`: steps 1 to 3 with `Atomics.wait`, which may throw. It
   * waits at most {@linkcode BLOCK_SLICE_MS} at a time and then asks
   * {@linkcode guardBlockingWaits}' check whether its worker is still
   * wanted: Deno's `worker.terminate()` does not stop a thread that never
   * returns to its event loop, so a worker parked for good would outlive it
   * and keep the program from exiting. `action` names the call in the
   * `TypeError` of a thread that may not block (the check's own error goes
   * as it is).
   */
  block(timeout: number, action: string): boolean {
    const deadline = performance.now() + timeout;
    for (;;) {
      if (this.take()) return true; // step 1
      const left = deadline - performance.now();
      if (left <= 0) return false;
      if (this.#flag()) {
        try {
          Atomics.wait(this.#slots, STATE, WAITING, Math.min(left, BLOCK_SLICE_MS)); // step 3
        } catch (error) {
          throw new TypeError(
            `Cannot ${action} synchronously: this thread may not block, use acquire()`,
            { cause: error },
          );
        }
        checkStillWanted();
      }
    }
  }

  /** Queues a waiter; it settles once: by #serve(), its timeout or signal. */
  wait(timeout: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        prev: this.#tail,
        next: undefined,
        timer: undefined,
        signal,
      };
      if (this.#tail === undefined) this.#head = waiter;
      else this.#tail.next = waiter;
      this.#tail = waiter;
      if (timeout <= MAX_DELAY) {
        waiter.timer = setTimeout(() => {
          this.#unlink(waiter);
          resolve(false);
        }, timeout);
      }
      if (signal !== undefined) {
        const waiters = this.#bySignal.get(signal);
        if (waiters !== undefined) waiters.add(waiter);
        else {
          this.#bySignal.set(signal, new Set([waiter]));
          signal.addEventListener("abort", this.#onAbort, { once: true });
        }
      }
      // Unshared, only this thread can release, and release() serves us.
      if (this.#shared) this.#watch();
    });
  }

  /** Step 2: sets WAITING if no permit is free; true if it is set. */
  #flag(): boolean {
    const state = Atomics.load(this.#slots, STATE);
    if (state !== 0) return state === WAITING;
    return Atomics.compareExchange(this.#slots, STATE, 0, WAITING) === 0;
  }

  /** Gives free permits to the waiters in order. */
  #serve(): void {
    for (let waiter = this.#head; waiter !== undefined; waiter = this.#head) {
      const signal = waiter.signal;
      if (signal?.aborted) {
        // Aborted, and our listener not yet run: a listener before it released. It takes nothing.
        this.#unlink(waiter);
        waiter.reject(signal.reason);
        continue;
      }
      if (!this.take()) return;
      this.#unlink(waiter);
      waiter.resolve(true);
    }
  }

  /** Removes a waiter that is being settled; it holds no permit. */
  #unlink(waiter: Waiter): void {
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    const signal = waiter.signal;
    if (signal === undefined) return;
    const waiters = this.#bySignal.get(signal)!;
    waiters.delete(waiter);
    if (waiters.size === 0) {
      // Its last waiter: the signal holds on to this memory no longer.
      this.#bySignal.delete(signal);
      signal.removeEventListener("abort", this.#onAbort);
    }
  }

  /** A signal aborted: its waiters reject with its reason, in queue order. */
  #onAbort = (event: Event): void => {
    const signal = event.target as AbortSignal;
    const waiters = this.#bySignal.get(signal);
    if (waiters === undefined) return;
    this.#bySignal.delete(signal);
    for (const waiter of waiters) {
      waiter.signal = undefined; // its set is gone: #unlink leaves it be
      this.#unlink(waiter);
      waiter.reject(signal.reason);
    }
  };

  /**
   * Keeps one `Atomics.waitAsync` while there are waiters. It may outlive
   * them (a wait cannot be cancelled) until the next release that clears
   * WAITING wakes it; notifying all makes that harmless. A pending
   * `waitAsync` keeps no program alive.
   */
  /**
   * A runtime with no `Atomics.waitAsync` (some browsers): a shared
   * primitive's waiters cannot wait for another thread's release; they
   * reject saying so, and leave the queue.
   */
  #cannotWait(): void {
    this.#watching = false;
    for (let waiter = this.#head; waiter !== undefined; waiter = this.#head) {
      this.#unlink(waiter);
      waiter.reject(
        new TypeError(
          "Cannot wait for a shared Semaphore or Lock: Atomics.waitAsync is not available here; use tryAcquire(), or acquireSync() in a worker",
        ),
      );
    }
  }

  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#pump();
  }

  #pump = (): void => {
    for (;;) {
      this.#serve(); // step 1
      if (this.#head === undefined) {
        this.#watching = false;
        return;
      }
      if (!this.#flag()) continue; // step 2; a permit appeared: serve again
      if (typeof Atomics.waitAsync !== "function") return this.#cannotWait();
      const result = Atomics.waitAsync(this.#slots, STATE, WAITING); // step 3
      if (result.async) {
        result.value.then(this.#pump);
        return;
      }
    }
  };
}

const ACQUIRE_OPTION_NAMES = ["timeout", "signal"] as const satisfies readonly (
  keyof AcquireOptions
)[];

function readOptions(
  options: AcquireOptions | undefined,
  action: string,
): AcquireOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw invalid(TypeError, action, "options", "an object", options);
  }
  checkOptionNames(options, ACQUIRE_OPTION_NAMES, action);
  const { timeout, signal } = options; // read once: the checks and the wait see the same values
  if (timeout !== undefined) checkTimeout(timeout, "timeout", action);
  if (signal !== undefined) checkSignal(signal, "signal", action);
  return { timeout, signal };
}
