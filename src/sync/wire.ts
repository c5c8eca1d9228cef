/**
 * How a {@linkcode Semaphore} or {@linkcode Lock} crosses threads, as a job
 * argument, a result or in `workerData`, at any depth inside arrays, plain
 * objects, Maps, Sets and class instances. Their state is `#private` and
 * would not survive a structured clone, so the sender sends
 * {@linkcode toWire}'s form, which carries only the `SharedArrayBuffer`
 * (shared, not copied), and the receiver revives it with {@linkcode fromWire}.
 *
 * ```
 *  lock                  → { __fastpoolShared: "Lock", buffer }
 *  { jobs: [sem], n: 1 } → { __fastpoolShared: "Nested",
 *                            value: { jobs: [{ __fastpoolShared: "Semaphore", buffer }], n: 1 } }
 *  new Map([[sem, 1]])   → { __fastpoolShared: "Nested",
 *                            value: Map { { __fastpoolShared: "Semaphore", buffer } => 1 } }
 *  { __fastpoolShared: 1 } → { __fastpoolShared: "Data", value: { __fastpoolShared: 1 } }
 *  anything else         → undefined: sent as it is
 * ```
 *
 * Plain data that carries the key itself (`Data`) is wrapped, at the top or
 * inside a `Nested` value, so the receiver never reads it as a wire form.
 *
 * What is walked is what structured clone copies member by member: arrays,
 * plain objects, Maps (keys and values), Sets, and class instances (any other
 * object whose tag is `[object Object]`), which a clone copies as plain
 * objects of their own enumerable fields, and so arrive here too: plain, with
 * their primitives working. Shared references and cycles keep their shape,
 * and a primitive met twice arrives as one object. Built-in and platform
 * objects (Date, RegExp, buffers and typed arrays, Blob, MessagePort,
 * streams...) name themselves in their tag and are sent as they are, never
 * walked (so is a class instance that sets its own `Symbol.toStringTag`).
 * An Error's clone keeps only its name, message, stack and (Deno) cause, so
 * a primitive inside one (its `cause`, an AggregateError's `errors`, its own
 * fields) is refused with a `TypeError` that names the Error, thrown when
 * the wire form is cloned (see {@linkcode toWire}).
 *
 * A Semaphore or Lock of another copy of the package (another version or
 * URL, loaded beside this one) is known by its mark (`SHARED_MARK`) and
 * crosses as this copy's do, arriving as one of this copy's.
 *
 * Only objects are looked into, so a primitive argument costs one `typeof`.
 * A value holding no primitive is sent as it is, not copied; the receiver
 * walks only a value marked `Nested`.
 *
 * @module
 */

import { Lock } from "./lock.ts";
import { isShareRefusal, shareRefusal } from "./_thread_memory.ts";
import { Semaphore } from "./semaphore.ts";
import {
  ARRAY,
  ERROR,
  errorsIfNoShared,
  holdsSharedIn,
  isContainer,
  isRefusal,
  type Kind,
  kindOf,
  MAP,
  mapEntries,
  newWalk,
  OTHER,
  refuseInErrors,
  SET,
  setValues,
  SHARED,
  sharedKind,
} from "./_walk.ts";

/** The key that marks a wire form. */
const KEY = "__fastpoolShared";

/** The structured-clone-safe form of a Semaphore or Lock. */
export interface SharedWire {
  /** Which class to revive. */
  readonly __fastpoolShared: "Semaphore" | "Lock";
  /** The memory of the primitive. */
  readonly buffer: SharedArrayBuffer;
}

/**
 * An array, plain object, Map, Set or class instance holding Semaphores or
 * Locks somewhere inside: a copy of it in which each is replaced by its
 * {@linkcode SharedWire}.
 */
export interface NestedWire {
  /** Marks a value to walk on arrival. */
  readonly __fastpoolShared: "Nested";
  /** The copy. */
  readonly value: unknown;
}

/** Plain data that has the wire forms' key of its own: taken as it is. */
export interface DataWire {
  /** Marks data that only looks like a wire form. */
  readonly __fastpoolShared: "Data";
  /** The data. */
  readonly value: unknown;
}

/**
 * The wire form of `value` if it is, or holds, a Semaphore or Lock.
 *
 * @param value Any job argument or result.
 * @returns Its {@linkcode SharedWire} or {@linkcode NestedWire} (or
 * {@linkcode DataWire} for data with the key of those), or `undefined` when
 * it holds no Semaphore or Lock (send it as it is). One inside an Error (its
 * `cause`, an AggregateError's `errors`, a field) cannot arrive working: the
 * form returned then throws a `TypeError` that says so when it is cloned, so
 * each sender fails that job alone, as it does for any value that cannot be
 * cloned (a worker sending a result cannot take a throw here).
 * @throws {TypeError} If it holds one and this thread has no
 * `SharedArrayBuffer`.
 *
 * @example Usage
 * ```ts
 * import { Lock, Semaphore } from "@fastpool/fastpool";
 * import { fromWire, toWire } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * const lock = new Lock();
 * const wire = toWire(lock);
 * assert.equal(wire?.__fastpoolShared, "Lock");
 * assert.equal(toWire(42), undefined);
 * assert.equal(toWire({ n: 1 }), undefined);
 * const revived = fromWire(structuredClone(wire)) as Lock;
 * assert.equal(revived.tryAcquire(), true);
 * assert.equal(lock.locked, true);
 *
 * const nested = fromWire(structuredClone(toWire({ locks: [lock] }))) as { locks: Lock[] };
 * assert.ok(nested.locks[0] instanceof Lock);
 * const map = fromWire(structuredClone(toWire(new Map([["sem", new Semaphore(2)]]))));
 * assert.equal((map as Map<string, Semaphore>).get("sem")?.value, 2);
 * const refused = toWire(new Error("failed", { cause: lock }));
 * assert.throws(() => structuredClone(refused), /inside an Error's cause/);
 *
 * const lookalike = { __fastpoolShared: "Lock" };
 * assert.deepEqual(fromWire(structuredClone(toWire(lookalike))), lookalike);
 * ```
 */
export function toWire(value: unknown): SharedWire | NestedWire | DataWire | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  let container: boolean;
  try {
    container = isContainer(value);
  } catch {
    // A revoked Proxy throws here: the structured clone will throw too,
    // where the caller reports values that cannot be sent.
    return undefined;
  }
  // Arrays and plain objects, by far the most common, take the short way.
  if (!container) return otherToWire(value);
  try {
    return wireAfterWalk(value, errorsIfNoShared(value as Record<string, unknown>));
  } catch (error) {
    return unsent(error);
  }
}

/** {@linkcode toWire} of an object that is neither an array nor a plain object. */
function otherToWire(value: object): SharedWire | NestedWire | DataWire | undefined {
  let kind: Kind;
  try {
    kind = kindOf(value);
  } catch {
    return undefined; // as in toWire
  }
  if (kind === SHARED) return wireOf(value); // throws where memory cannot be shared
  if (kind === OTHER) return ownKeyWire(value);
  try {
    const walk = newWalk();
    return wireAfterWalk(value, holdsSharedIn(value, kind, walk) ? undefined : walk.errors);
  } catch (error) {
    return unsent(error);
  }
}

/**
 * What {@linkcode toWire} sends of `value` once walked: `errors` is
 * `undefined` if it holds a primitive, else the Errors met in it (or `null`).
 */
function wireAfterWalk(
  value: object,
  errors: object[] | null | undefined,
): NestedWire | DataWire | undefined {
  if (errors === undefined) return { __fastpoolShared: "Nested", value: copyWithWires(value) };
  if (errors !== null) refuseInErrors(errors);
  return (value as Record<string, unknown>)[KEY] === undefined
    ? undefined
    : { [KEY]: "Data", value };
}

/**
 * An object the walk does not look into (one with a tag of its own) that
 * has the wire forms' key: data, which the other side must not revive.
 */
function ownKeyWire(value: object): DataWire | undefined {
  try {
    return (value as Record<string, unknown>)[KEY] === undefined
      ? undefined
      : { [KEY]: "Data", value };
  } catch {
    return undefined; // a getter that throws: so will the clone
  }
}

/**
 * {@linkcode toWire} for a value sent to a thread that has no
 * `SharedArrayBuffer` (the pool on a page without cross-origin isolation):
 * one holding a Semaphore or Lock could not arrive working there, so its
 * clone throws a `TypeError` that says why, and its sender fails that job
 * alone, as for any value that cannot be cloned.
 *
 * @example Usage
 * ```ts
 * import { Lock } from "@fastpool/fastpool";
 * import { toWireToUnshared } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toWireToUnshared({ n: 1 }), undefined);
 * const wire = toWireToUnshared({ lock: new Lock() });
 * assert.throws(() => structuredClone(wire), /no SharedArrayBuffer/);
 * ```
 */
export function toWireToUnshared(value: unknown): SharedWire | NestedWire | DataWire | undefined {
  let wire: SharedWire | NestedWire | DataWire | undefined;
  let kind: string | undefined;
  try {
    wire = toWire(value);
    if (wire === undefined || wire.__fastpoolShared === "Data") return wire;
    kind = wire.__fastpoolShared;
  } catch (error) {
    // This thread has no shared memory either (a browser's worker of such a
    // page): its primitives refuse to be shared. The job fails, the worker lives.
    if (!isShareRefusal(error)) throw error;
    kind = sharedKind(value as object) ?? "Nested";
  }
  const what = kind === "Nested" ? "a value holding a Semaphore or Lock" : `a ${kind}`;
  const refusal = new TypeError(
    `Cannot send ${what} to the pool: its thread has no SharedArrayBuffer (a page without cross-origin isolation), where it could not work`,
  );
  return refusedWire(refusal);
}

/** What {@linkcode toWire} does when its walk or copy threw `error`. */
function unsent(error: unknown): NestedWire | undefined {
  // A primitive nested in it cannot be shared here: refused, as one alone
  // is, not sent as the empty object a clone would make of it.
  if (isShareRefusal(error)) throw error;
  if (isRefusal(error)) return refusedWire(error as TypeError);
  // A getter or Proxy trap threw: the clone will throw too (see above).
  return undefined;
}

/**
 * Revives what {@linkcode toWire} made into Semaphores and Locks over the
 * same memory; any other value is returned as it is.
 *
 * @param value A job argument or result as it arrived.
 * @returns The revived primitive, the value with its primitives revived, or
 * `value` unchanged.
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
  const kind = (value as Partial<SharedWire | NestedWire | DataWire>).__fastpoolShared;
  if (kind === undefined) return value;
  if (kind === "Nested") return reviveInside((value as NestedWire).value);
  if (kind === "Data") return (value as DataWire).value;
  return revive(value as object) ?? value;
}

/** A Semaphore or Lock's wire form; `undefined` for anything else. */
function wireOf(value: object): SharedWire | undefined {
  const kind = sharedKind(value);
  if (kind === undefined) return undefined;
  let buffer: SharedArrayBuffer;
  try {
    buffer = (value as Semaphore | Lock).buffer;
  } catch (error) {
    // Another copy's primitive refused (a task module bundled with its own
    // copy, in a thread without shared memory): refused here as ours is, not
    // left to the clone, which would make an empty object of it.
    throw isShareRefusal(error) ? error : shareRefusal(error);
  }
  return { __fastpoolShared: kind, buffer };
}

/** The primitive a wire form describes; `undefined` for anything else. */
function revive(value: object): Semaphore | Lock | undefined {
  const kind = (value as Partial<SharedWire>).__fastpoolShared;
  if (kind === "Semaphore") return Semaphore.from((value as SharedWire).buffer);
  if (kind === "Lock") return Lock.from((value as SharedWire).buffer);
  return undefined;
}

/** A wire form whose clone throws `refusal`: see {@linkcode toWire}. */
function refusedWire(refusal: TypeError): NestedWire {
  return {
    __fastpoolShared: "Nested",
    get value(): never {
      throw refusal;
    },
  };
}

/**
 * A copy of `root` with each Semaphore and Lock replaced by its wire form.
 * Every array, plain object, Map, Set and class instance inside is copied
 * once (an instance as a plain object, as a clone copies it), so shared
 * references and cycles keep their shape, as structured clone keeps them;
 * one with the wire forms' key is sent inside a {@linkcode DataWire}. Each
 * primitive has one wire form, so one met twice arrives as one object.
 */
function copyWithWires(root: object): unknown {
  const sentAs = new Map<object, unknown>();
  const work: [object, object][] = [];
  const errors: object[] = [];
  const copyOf = (value: unknown): unknown => {
    if (typeof value !== "object" || value === null) return value;
    let sent = sentAs.get(value);
    if (sent !== undefined) return sent;
    const kind = kindOf(value);
    if (kind === SHARED) {
      sent = wireOf(value);
    } else if (kind === OTHER || kind === ERROR) {
      if (kind === ERROR) errors.push(value);
      return value;
    } else {
      // A null prototype: an own "__proto__" key stays a key.
      const copy = kind === ARRAY
        ? new Array((value as unknown[]).length)
        : kind === MAP
        ? new Map()
        : kind === SET
        ? new Set()
        : Object.create(null);
      work.push([value, copy]);
      sent = (value as Record<string, unknown>)[KEY] === undefined
        ? copy
        : { [KEY]: "Data", value: copy };
    }
    sentAs.set(value, sent);
    return sent;
  };
  const top = copyOf(root);
  for (let pair = work.pop(); pair !== undefined; pair = work.pop()) {
    const [from, to] = pair;
    if (to instanceof Map) {
      for (const [key, item] of mapEntries.call(from as Map<unknown, unknown>)) {
        to.set(copyOf(key), copyOf(item));
      }
    } else if (to instanceof Set) {
      for (const item of setValues.call(from as Set<unknown>)) to.add(copyOf(item));
    } else {
      const fields = from as Record<string, unknown>;
      const copy = to as Record<string, unknown>;
      for (const key of Object.keys(fields)) copy[key] = copyOf(fields[key]);
    }
  }
  if (errors.length > 0) refuseInErrors(errors);
  return top;
}

/**
 * Revives, in place, every wire form inside `wired` (a clone: ours to
 * change), and unwraps each {@linkcode DataWire}. A Map or Set that holds
 * one is refilled in its order.
 */
function reviveInside(wired: unknown): unknown {
  // What each object of the clone becomes: a wire form its primitive (one
  // per wire form), a DataWire its data, a container itself (walked once).
  const becomes = new Map<object, unknown>();
  const work: object[] = [];
  const arrive = (item: unknown): unknown => {
    if (typeof item !== "object" || item === null) return item;
    let now = becomes.get(item);
    if (now !== undefined) return now;
    if ((item as Partial<DataWire>)[KEY] === "Data") {
      // Every reference to such data reaches it through its wrapper.
      now = (item as DataWire).value;
      if (typeof now === "object" && now !== null && isWalked(now)) work.push(now);
    } else {
      now = revive(item);
      if (now === undefined) {
        if (!isWalked(item)) return item;
        now = item;
        work.push(item);
      }
    }
    becomes.set(item, now);
    return now;
  };
  const root = arrive(wired);
  for (let node = work.pop(); node !== undefined; node = work.pop()) {
    if (node instanceof Map) {
      let changed = false;
      const entries = Array.from(node, ([key, item]): [unknown, unknown] => {
        const pair: [unknown, unknown] = [arrive(key), arrive(item)];
        if (pair[0] !== key || pair[1] !== item) changed = true;
        return pair;
      });
      if (!changed) continue;
      node.clear();
      for (const [key, item] of entries) node.set(key, item);
    } else if (node instanceof Set) {
      let changed = false;
      const items = Array.from(node, (item) => {
        const now = arrive(item);
        if (now !== item) changed = true;
        return now;
      });
      if (!changed) continue;
      node.clear();
      for (const item of items) node.add(item);
    } else {
      const fields = node as Record<string, unknown>;
      for (const key of Object.keys(fields)) {
        const item = fields[key];
        if (typeof item !== "object" || item === null) continue;
        const now = arrive(item);
        if (now !== item) fields[key] = now;
      }
    }
  }
  return root;
}

/** What {@linkcode reviveInside} walks in a clone: arrays, plain objects (class instances arrive as such), Maps and Sets. */
function isWalked(value: object): boolean {
  return isContainer(value) || value instanceof Map || value instanceof Set;
}
