/**
 * A mutual-exclusion lock in a `SharedArrayBuffer`: a {@linkcode Semaphore}
 * whose memory is marked with a limit of one permit.
 *
 * @module
 */

import { invalid } from "../_checks.ts";
import { allocate, isLockMemory, refuse, SHARED_MARK } from "./_layout.ts";
import { type AcquireOptions, type Permit, type Semaphore, semaphoreOver } from "./semaphore.ts";

let attaching: SharedArrayBuffer | undefined;

/**
 * A lock on shared memory, usable from every thread. It has no owner: any
 * thread may release it, but releasing it while unlocked throws, because the
 * limit of one permit is kept in its memory and checked atomically. Waiting
 * and fairness are those of {@linkcode Semaphore}.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const lock = new Lock();
 * assert.equal(await lock.acquire(), true);
 * assert.equal(lock.locked, true);
 * assert.equal(lock.tryAcquire(), false);
 * lock.release();
 * assert.throws(() => lock.release(), RangeError);
 * {
 *   using _held = await lock.acquirePermit();
 *   assert.equal(lock.locked, true);
 * }
 * assert.equal(lock.locked, false);
 * ```
 */
export class Lock {
  #semaphore: Semaphore;

  static {
    Object.defineProperty(this.prototype, SHARED_MARK, { value: "Lock" });
  }

  /** Allocates the shared memory of an unlocked lock. */
  constructor() {
    const buffer = attaching;
    attaching = undefined;
    // Attached memory was checked by Lock.from(); a new lock's is its own.
    this.#semaphore = semaphoreOver(buffer ?? allocate(1, 1));
  }

  /**
   * Attaches to the memory of a Lock made in any thread.
   *
   * @param buffer The {@linkcode Lock.buffer} of the original.
   * @returns A Lock over the same memory as the original.
   * @throws {TypeError} If `buffer` is not a lock's memory.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * const view = Lock.from(lock.buffer);
   * assert.equal(lock.tryAcquire(), true);
   * assert.equal(view.locked, true);
   * view.release();
   * assert.equal(lock.locked, false);
   * ```
   */
  static from(buffer: SharedArrayBuffer): Lock {
    const reason = refuse(buffer);
    if (reason) throw new TypeError(`Cannot attach lock: "buffer" ${reason}`);
    if (!isLockMemory(buffer)) {
      throw new TypeError(
        `Cannot attach lock: "buffer" is a semaphore's memory, use Semaphore.from()`,
      );
    }
    attaching = buffer;
    return new Lock();
  }

  /**
   * The shared memory; pass it to {@linkcode Lock.from}.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * const same = Lock.from(lock.buffer);
   * assert.equal(same.tryAcquire(), true);
   * assert.equal(lock.locked, true);
   * ```
   */
  get buffer(): SharedArrayBuffer {
    return this.#semaphore.buffer;
  }

  /**
   * Whether the lock is held now.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert.equal(lock.locked, false);
   * lock.tryAcquire();
   * assert.equal(lock.locked, true);
   * ```
   */
  get locked(): boolean {
    return this.#semaphore.locked;
  }

  /**
   * `1` while unlocked, `0` while locked.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert.equal(lock.value, 1);
   * lock.tryAcquire();
   * assert.equal(lock.value, 0);
   * ```
   */
  get value(): number {
    return this.#semaphore.value;
  }

  /**
   * Takes the lock, waiting while it is held, without blocking the thread.
   *
   * @param options `timeout` in ms, and a `signal`; if it aborts, or is
   * already aborted, the promise rejects with its reason.
   * @returns `true` once taken, `false` if the timeout passed first. It
   * rejects with a `TypeError` if an option has the wrong type, a
   * `RangeError` if `timeout` is negative or NaN.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert.equal(await lock.acquire(), true);
   * const next = lock.acquire();
   * lock.release();
   * assert.equal(await next, true);
   * assert.equal(await lock.acquire({ timeout: 0 }), false);
   * ```
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#semaphore.acquire(options);
  }

  /**
   * Takes the lock if it is free now, never ahead of a pending `acquire()`
   * of this object. In a pool's worker it takes nothing in the synchronous
   * call of a job the pool has failed (its time limit passed, or it was
   * aborted), nor once the pool has ended the worker.
   *
   * @returns Whether the lock was taken.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert.equal(lock.tryAcquire(), true);
   * assert.equal(lock.tryAcquire(), false);
   * ```
   */
  tryAcquire(): boolean {
    return this.#semaphore.tryAcquire();
  }

  /**
   * Takes the lock, blocking the thread in `Atomics.wait`: for workers.
   *
   * @param timeout Most ms to block; `0` never blocks.
   * @returns `true` once taken, `false` if the timeout passed first.
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
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * assert.equal(lock.acquireSync(0), true); // 0: never blocks
   * assert.equal(lock.acquireSync(0), false);
   * ```
   */
  acquireSync(timeout: number = Infinity): boolean {
    return this.#semaphore.acquireSync(timeout);
  }

  /**
   * Unlocks, from any thread. `n` is there for the shape `Semaphore` shares
   * (API.md's `release(n = 1)`); a lock has one permit, so it must be 1.
   *
   * @param n How many permits: 1.
   * @throws {RangeError} If the lock is not locked, or `n` is another number.
   * @throws {TypeError} If `n` is not a number.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * lock.tryAcquire();
   * lock.release();
   * assert.equal(lock.locked, false);
   * assert.throws(() => lock.release(), RangeError); // not locked
   * assert.throws(() => lock.release(2), RangeError); // one permit only
   * ```
   */
  release(n = 1): void {
    if (n !== 1) {
      throw invalid(typeof n === "number" ? RangeError : TypeError, "release lock", "n", "1", n);
    }
    this.#semaphore.release();
  }

  /**
   * Takes the lock and returns a permit that `using` unlocks at scope end.
   *
   * @param options As for {@linkcode Lock.acquire}.
   * @returns The permit, once the lock is taken.
   * @throws {DOMException} Named `TimeoutError`, if `timeout` passed first.
   *
   * @example Usage
   * ```ts
   * import { Lock } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const lock = new Lock();
   * {
   *   using _permit = await lock.acquirePermit();
   *   assert.equal(lock.locked, true);
   * }
   * assert.equal(lock.locked, false);
   * ```
   */
  acquirePermit(options?: AcquireOptions): Promise<Permit> {
    return this.#semaphore.acquirePermit(options);
  }
}
