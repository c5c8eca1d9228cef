/**
 * How a {@linkcode Semaphore} or {@linkcode Lock} crosses threads as a job
 * argument. Their state is `#private` and would not survive a structured
 * clone, so the pool sends {@linkcode toWire}'s form, which carries only the
 * `SharedArrayBuffer` (shared, not copied), and the worker revives it with
 * {@linkcode fromWire}.
 *
 * @module
 */

import { Lock } from "./lock.ts";
import { Semaphore } from "./semaphore.ts";

/** The structured-clone-safe form of a Semaphore or Lock. */
export interface SharedWire {
  /** Which class to revive. */
  readonly __fastpoolShared: "Semaphore" | "Lock";
  /** The memory of the primitive. */
  readonly buffer: SharedArrayBuffer;
}

/**
 * The wire form of `value` if it is a Semaphore or Lock.
 *
 * @param value Any job argument.
 * @returns Its {@linkcode SharedWire}, or `undefined` for anything else.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@fastpool/fastpool";
 * import { fromWire, toWire } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * const lock = new Lock();
 * const wire = toWire(lock);
 * assert.equal(wire?.__fastpoolShared, "Lock");
 * assert.equal(toWire(42), undefined);
 * const revived = fromWire(structuredClone(wire)) as Lock;
 * assert.equal(revived.tryAcquire(), true);
 * assert.equal(lock.locked, true);
 * ```
 */
export function toWire(value: unknown): SharedWire | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (value instanceof Semaphore) {
    return { __fastpoolShared: "Semaphore", buffer: value.buffer };
  }
  if (value instanceof Lock) {
    return { __fastpoolShared: "Lock", buffer: value.buffer };
  }
  return undefined;
}

/**
 * Revives a {@linkcode SharedWire} into a Semaphore or Lock over the same
 * memory; any other value is returned as it is.
 *
 * @param value A job argument as it arrived in the worker.
 * @returns The revived primitive, or `value` unchanged.
 * @throws {TypeError} If a wire form carries no semaphore memory.
 *
 * @example Usage
 * ```ts
 * import { Semaphore } from "@fastpool/fastpool";
 * import { fromWire, toWire } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * const sem = new Semaphore(3);
 * const revived = fromWire(toWire(sem));
 * assert.ok(revived instanceof Semaphore);
 * assert.equal(revived.value, 3);
 * assert.equal(fromWire("text"), "text");
 * ```
 */
export function fromWire(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const kind = (value as Partial<SharedWire>).__fastpoolShared;
  if (kind === "Semaphore") return Semaphore.from((value as SharedWire).buffer);
  if (kind === "Lock") return Lock.from((value as SharedWire).buffer);
  return value;
}
