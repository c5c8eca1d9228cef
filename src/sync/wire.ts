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
 * Only objects are looked into, so a primitive argument costs one `typeof`.
 * A value holding no primitive is sent as it is, not copied; the receiver
 * walks only a value marked `Nested`.
 *
 * @module
 */

import { Lock } from "./lock.ts";
import { isShareRefusal, Semaphore } from "./semaphore.ts";

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
  if (kind === OTHER) return undefined;
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

/** What {@linkcode toWire} does when its walk or copy threw `error`. */
function unsent(error: unknown): NestedWire | undefined {
  // A primitive nested in it cannot be shared here: refused, as one alone
  // is, not sent as the empty object a clone would make of it.
  if (isShareRefusal(error)) throw error;
  if (refusals.has(error as object)) return refusedWire(error as TypeError);
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
  if (value instanceof Semaphore) {
    return { __fastpoolShared: "Semaphore", buffer: value.buffer };
  }
  if (value instanceof Lock) {
    return { __fastpoolShared: "Lock", buffer: value.buffer };
  }
  return undefined;
}

/** The primitive a wire form describes; `undefined` for anything else. */
function revive(value: object): Semaphore | Lock | undefined {
  const kind = (value as Partial<SharedWire>).__fastpoolShared;
  if (kind === "Semaphore") return Semaphore.from((value as SharedWire).buffer);
  if (kind === "Lock") return Lock.from((value as SharedWire).buffer);
  return undefined;
}

/** What a walk does with an object (see {@linkcode kindOf}): one of the numbers below. */
type Kind = number;
/** A built-in or platform object: sent as it is, never walked. */
const OTHER = 0;
const ARRAY = 1;
/** A plain object or a class instance: a clone copies either as a plain object. */
const PLAIN = 2;
const MAP = 3;
const SET = 4;
/** Looked into only to refuse a primitive inside: see {@linkcode refuseInErrors}. */
const ERROR = 5;
/** A Semaphore or Lock. */
const SHARED = 6;

/** Arrays and plain objects: the walk's fast path. */
function isContainer(value: object): value is Record<string, unknown> {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** What `value` is to a walk. May throw (a revoked Proxy, a throwing tag getter). */
function kindOf(value: object): Kind {
  if (Array.isArray(value)) return ARRAY;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return PLAIN;
  if (value instanceof Semaphore || value instanceof Lock) return SHARED;
  return kindOfOther(value);
}

const tagOf = Object.prototype.toString;

/**
 * The kind of an object that is neither an array, a plain object nor a
 * primitive. A built-in or platform object has a tag of its own (`[object
 * Date]`, `[object Blob]`...): anything else tagged `[object Object]` is an
 * ordinary object, which a clone copies field by field.
 */
function kindOfOther(value: object): Kind {
  // Typed arrays first: their tag is a getter, ~50 ns (Deno) / ~250 ns (Bun).
  if (ArrayBuffer.isView(value)) return OTHER;
  if (value instanceof Map) return MAP;
  if (value instanceof Set) return SET;
  if (value instanceof Error) return ERROR;
  return tagOf.call(value) === "[object Object]" ? PLAIN : OTHER;
}

/** The state of one walk: see {@linkcode holdsShared}. */
interface Walk {
  /** Arrays, plain objects and class instances left to scan. */
  stack: Record<string, unknown>[] | null;
  /** Maps and Sets left to scan, once `stack` is empty. */
  others: (Map<unknown, unknown> | Set<unknown>)[] | null;
  /** The Errors met, not scanned: {@linkcode refuseInErrors} looks into them. */
  errors: object[] | null;
  seen: Set<object> | null;
  walked: number;
  /** The primitive found. */
  found: object | null;
}

function newWalk(): Walk {
  return { stack: null, others: null, errors: null, seen: null, walked: 0, found: null };
}

/** Whether `value`, of `kind`, is or holds a Semaphore or Lock outside Errors. */
function holdsSharedIn(value: object, kind: Kind, walk: Walk): boolean {
  switch (kind) {
    case SHARED:
      walk.found = value;
      return true;
    case ARRAY:
    case PLAIN:
      return holdsShared(value as Record<string, unknown>, walk);
    case MAP:
    case SET:
      walk.others = [value as Map<unknown, unknown> | Set<unknown>];
      return holdsShared(undefined, walk);
    case ERROR:
      (walk.errors ??= []).push(value);
      return false;
    default:
      return false;
  }
}

/**
 * Whether a Semaphore or Lock is in `root` (an array, plain object or class
 * instance) or in `walk.others`, outside Errors, which it sets aside in
 * `walk.errors`. Depth-first without recursion (deep values cannot overflow
 * the stack). The set that guards against cycles is made only past
 * `UNGUARDED` containers: a small nested value is walked without it (a Set
 * cost ~100 ns per value, more than the walk), and a cycle is walked round at
 * most that many times before it guards the rest.
 */
function holdsShared(root: Record<string, unknown> | undefined, walk: Walk): boolean {
  for (let node = root; node !== undefined; node = walk.stack?.pop()) {
    if (Array.isArray(node) ? scanArray(node, walk) : scanObject(node, walk)) return true;
  }
  return walk.others !== null && holdsSharedInOthers(walk);
}

/** `undefined` if `root` holds a primitive; else the Errors met in it, or `null`. */
function errorsIfNoShared(root: Record<string, unknown>): object[] | null | undefined {
  const walk = newWalk();
  return holdsShared(root, walk) ? undefined : walk.errors;
}

/**
 * The rest of {@linkcode holdsShared}: the Maps and Sets it met. They wait in
 * a stack of their own, so the loop above, over arrays and plain objects (by
 * far the most common), tests for nothing else.
 */
function holdsSharedInOthers(walk: Walk): boolean {
  const others = walk.others!;
  for (let other = others.pop(); other !== undefined; other = others.pop()) {
    if (other instanceof Map ? scanMap(other, walk) : scanSet(other, walk)) return true;
    for (let node = walk.stack?.pop(); node !== undefined; node = walk.stack?.pop()) {
      if (Array.isArray(node) ? scanArray(node, walk) : scanObject(node, walk)) return true;
    }
  }
  return false;
}

// Arrays and objects are scanned in functions of their own, so each keeps
// its element access monomorphic. Measured (Deno 2.9.6 / Bun 1.4.4, fastest
// of 201 batches, each value in a fresh process): a flat object of 3 fields
// 21 / 6 ns, one holding an array and an object 70 / 45 ns, an array of
// 100,000 numbers 0.09 / 0.02 ms, a Map of 1,000 entries 3.7 / 2.5 µs, an
// array of 1,000 plain objects or class instances 50-62 / 21-27 µs, against
// 1.5 / 0.27 µs, 2.4 / 1.1 µs, 1.8 / 0.05 ms, 144 / 128 µs and 245 / 118 µs
// to clone them; a primitive argument is never walked. Walking Maps, Sets
// and class instances left the first three as they were.

function scanArray(array: unknown[], walk: Walk): boolean {
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (typeof item === "object" && item !== null && visit(item, walk)) return true;
  }
  return false;
}

function scanObject(object: Record<string, unknown>, walk: Walk): boolean {
  for (const key in object) {
    const item = object[key];
    if (typeof item === "object" && item !== null && visit(item, walk)) return true;
  }
  return false;
}

// What a clone reads of a Map or Set: its entries, not what a subclass's
// own iterators would say.
const mapKeys = Map.prototype.keys;
const mapValues = Map.prototype.values;
const mapEntries = Map.prototype.entries;
const setValues = Set.prototype.values;

function scanMap(map: Map<unknown, unknown>, walk: Walk): boolean {
  for (const key of mapKeys.call(map)) {
    if (typeof key === "object" && key !== null && visit(key, walk)) return true;
  }
  for (const item of mapValues.call(map)) {
    if (typeof item === "object" && item !== null && visit(item, walk)) return true;
  }
  return false;
}

function scanSet(set: Set<unknown>, walk: Walk): boolean {
  for (const item of setValues.call(set)) {
    if (typeof item === "object" && item !== null && visit(item, walk)) return true;
  }
  return false;
}

/** Whether `item` is a primitive; otherwise queues it if it is to be walked. */
function visit(item: object, walk: Walk): boolean {
  if (item instanceof Semaphore || item instanceof Lock) {
    walk.found = item;
    return true;
  }
  if (!isContainer(item)) return visitOther(item, walk);
  // firstVisit(), written out: this is the walk's hottest path.
  if (walk.seen === null && ++walk.walked > UNGUARDED) walk.seen = new Set();
  if (walk.seen !== null) {
    if (walk.seen.has(item)) return false;
    walk.seen.add(item);
  }
  (walk.stack ??= []).push(item);
  return false;
}

/** {@linkcode visit} of an object that is neither an array, a plain object nor a primitive. */
function visitOther(item: object, walk: Walk): boolean {
  const kind = kindOfOther(item);
  if (kind === OTHER) return false;
  if (kind === ERROR) {
    (walk.errors ??= []).push(item);
  } else if (firstVisit(item, walk)) {
    if (kind === PLAIN) (walk.stack ??= []).push(item as Record<string, unknown>);
    else (walk.others ??= []).push(item as Map<unknown, unknown> | Set<unknown>);
  }
  return false;
}

/** Whether `item` is to be walked: always below `UNGUARDED` containers, then once. */
function firstVisit(item: object, walk: Walk): boolean {
  if (walk.seen === null && ++walk.walked > UNGUARDED) walk.seen = new Set();
  if (walk.seen !== null) {
    if (walk.seen.has(item)) return false;
    walk.seen.add(item);
  }
  return true;
}

/** Containers {@linkcode holdsShared} walks before it guards against cycles. */
const UNGUARDED = 64;

/** The TypeErrors {@linkcode refuseInErrors} threw: passed on, not taken for a getter's. */
const refusals = new WeakSet<object>();

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
 * Throws if a Semaphore or Lock is inside one of `errors`, or inside an
 * Error inside those: in its `cause`, its `errors` (an AggregateError's) or
 * a field of its own. A clone of an Error keeps only its name, message,
 * stack and (Deno) cause, so the primitive would arrive as an empty object
 * or not at all.
 */
function refuseInErrors(errors: object[]): void {
  const checked = new Set<object>();
  for (let error = errors.pop(); error !== undefined; error = errors.pop()) {
    if (checked.has(error)) continue;
    checked.add(error);
    const fields = error as Record<string, unknown>;
    refuseIn(error, "cause", fields.cause, errors);
    refuseIn(error, "errors", fields.errors, errors);
    for (const key of Object.keys(error)) {
      if (key !== "cause" && key !== "errors") {
        refuseIn(error, `field "${key}"`, fields[key], errors);
      }
    }
  }
}

/** Throws if `value`, the `where` of `error`, holds a primitive; queues the Errors in it. */
function refuseIn(error: object, where: string, value: unknown, errors: object[]): void {
  if (typeof value !== "object" || value === null) return;
  const walk = newWalk();
  walk.errors = errors;
  if (!holdsSharedIn(value, kindOf(value), walk)) return;
  const what = walk.found instanceof Lock ? "Lock" : "Semaphore";
  const name = (error as Error).name;
  const holder = typeof name === "string" && name !== "" ? name : "Error";
  const article = /^[aeiou]/i.test(holder) ? "an" : "a";
  const refusal = new TypeError(
    `Cannot send a ${what} inside ${article} ${holder}'s ${where}: an Error is cloned without what it holds working; send the ${what} beside the Error, in an array, plain object, Map, Set or class instance`,
  );
  refusals.add(refusal);
  throw refusal;
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
