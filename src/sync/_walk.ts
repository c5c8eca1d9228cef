/**
 * The walk behind `wire.ts`: whether a value holds a {@linkcode Semaphore}
 * or {@linkcode Lock}, looking where structured clone copies member by
 * member (arrays, plain objects, Maps, Sets, class instances), and the
 * refusal of one inside an Error, whose clone would not carry it.
 *
 * ```
 *  value ─kindOf─▶ ARRAY / PLAIN ─▶ scanned on the stack ─┐
 *                  MAP / SET ─────▶ scanned after them ───┼─▶ found: a primitive
 *                  ERROR ─────────▶ set aside ─▶ refuseInErrors (throws)
 *                  OTHER (Date, buffers, streams…): never walked
 * ```
 *
 * @module
 */

import { SHARED_MARK } from "./_layout.ts";
import { Lock } from "./lock.ts";
import { Semaphore } from "./semaphore.ts";

/** What a walk does with an object (see {@linkcode kindOf}): one of the numbers below. */
export type Kind = number;
/** A built-in or platform object: sent as it is, never walked. */
export const OTHER = 0;
/** An array. */
export const ARRAY = 1;
/** A plain object or a class instance: a clone copies either as a plain object. */
export const PLAIN = 2;
/** A Map: its keys and values are walked. */
export const MAP = 3;
/** A Set. */
export const SET = 4;
/** Looked into only to refuse a primitive inside: see {@linkcode refuseInErrors}. */
export const ERROR = 5;
/** A Semaphore or Lock. */
export const SHARED = 6;

/** Arrays and plain objects: the walk's fast path. */
export function isContainer(value: object): value is Record<string, unknown> {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** What `value` is to a walk. May throw (a revoked Proxy, a throwing tag getter). */
export function kindOf(value: object): Kind {
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
  try {
    if (tagOf.call(value) !== "[object Object]") return OTHER;
    return isMarkedShared(value) ? SHARED : PLAIN; // another copy's Semaphore or Lock, or not
  } catch {
    // A Proxy in its prototype chain threw at the read: sent as it is (a
    // clone reads only its own fields), and the walk goes on beside it.
    return OTHER;
  }
}

/** Whether `value` carries the mark of a Semaphore or Lock (see `SHARED_MARK`). */
function isMarkedShared(value: object): boolean {
  const mark = (value as { [SHARED_MARK]?: unknown })[SHARED_MARK];
  return mark === "Semaphore" || mark === "Lock";
}

/**
 * `"Semaphore"` or `"Lock"` if `value` is one, made by this copy of the
 * package or another (see `SHARED_MARK`); otherwise `undefined`.
 */
export function sharedKind(value: object): "Semaphore" | "Lock" | undefined {
  if (value instanceof Semaphore) return "Semaphore";
  if (value instanceof Lock) return "Lock";
  return isMarkedShared(value)
    ? (value as { [SHARED_MARK]: "Semaphore" | "Lock" })[SHARED_MARK]
    : undefined;
}

/** The state of one walk: see {@linkcode holdsShared}. */
export interface Walk {
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

/** A walk not begun. */
export function newWalk(): Walk {
  return { stack: null, others: null, errors: null, seen: null, walked: 0, found: null };
}

/** Whether `value`, of `kind`, is or holds a Semaphore or Lock outside Errors. */
export function holdsSharedIn(value: object, kind: Kind, walk: Walk): boolean {
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
export function errorsIfNoShared(root: Record<string, unknown>): object[] | null | undefined {
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
/** `Map.prototype.entries`, as a clone reads a Map. */
export const mapEntries = Map.prototype.entries;
/** `Set.prototype.values`, as a clone reads a Set. */
export const setValues = Set.prototype.values;

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
  if (kind === SHARED) {
    walk.found = item;
    return true;
  }
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

/** Whether `error` is a refusal {@linkcode refuseInErrors} threw (not a getter's throw). */
export function isRefusal(error: unknown): boolean {
  return typeof error === "object" && error !== null && refusals.has(error);
}

/**
 * Throws if a Semaphore or Lock is inside one of `errors`, or inside an
 * Error inside those: in its `cause`, its `errors` (an AggregateError's) or
 * a field of its own. A clone of an Error keeps only its name, message,
 * stack and (Deno) cause, so the primitive would arrive as an empty object
 * or not at all.
 */
export function refuseInErrors(errors: object[]): void {
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
  const what = sharedKind(walk.found!);
  const name = (error as Error).name;
  const holder = typeof name === "string" && name !== "" ? name : "Error";
  const article = /^[aeiou]/i.test(holder) ? "an" : "a";
  const refusal = new TypeError(
    `Cannot send a ${what} inside ${article} ${holder}'s ${where}: an Error is cloned without what it holds working; send the ${what} beside the Error, in an array, plain object, Map, Set or class instance`,
  );
  refusals.add(refusal);
  throw refusal;
}
