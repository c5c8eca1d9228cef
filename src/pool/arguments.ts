/**
 * Arguments and destinations made ready for the queue: buffers to move are
 * detached at the call, `map` items copied (numbers into one Float64Array),
 * shared primitives unwrapped, and `done` read into a `Destination`.
 *
 * @module
 */

import { describe, invalid, thrownMessage } from "../_checks.ts";
import { cloneFailure, isTransferred } from "../protocol/codec.ts";
import { toWire } from "../sync/wire.ts";
import { type Destination, Sink, TO_DISCARD } from "./job.ts";

/**
 * Moves what is to be transferred into a copy of `args` now, so the caller's
 * buffers are detached at the call, as `postMessage` would leave them, and a
 * write to one after `run()` returns cannot reach the job. Costs one
 * structured clone of the arguments on this thread (moved buffers are not
 * copied). (Streams, which Bun cannot move at all, are refused before:
 * `transfer()` and `exec`'s checks.)
 *
 * @throws {TypeError} If an argument cannot be cloned: the clone checks them all now.
 */
export function detachNow(args: unknown[], moving: Transferable[]): [unknown[], Transferable[]] {
  // The same buffer named twice moves once (Bun refuses a list that repeats one).
  const transfer = new Set(moving).size === moving.length ? moving : [...new Set(moving)];
  try {
    return structuredClone([args, transfer], { transfer }) as [unknown[], Transferable[]];
  } catch (error) {
    // The clone checked every argument: one cannot cross to a worker.
    throw new TypeError(`Cannot submit job: ${uncloneable(args, 0, args.length, error)}`, {
      cause: error,
    });
  }
}

/**
 * Which of `values[from]` … `values[from + count - 1]` a structured clone
 * refused with `error`, what it is and why: "argument 2 (a symbol) cannot be
 * cloned (…)", or, if it is a job's `only` argument (a `map` item), "its
 * argument (…)". Clones each alone: for messages on the slow path only.
 */
export function uncloneable(
  values: ArrayLike<unknown>,
  from: number,
  count: number,
  error: unknown,
  only = false,
): string {
  for (let i = 0; i < count; i++) {
    const value = values[from + i];
    try {
      structuredClone(value);
    } catch (own) {
      // A buffer moved with transfer(), which Deno's failed clone of the
      // whole detached anyway: not what failed it.
      if (/detached/i.test(thrownMessage(own))) continue;
      const which = only ? "its argument" : `argument ${i + 1}`;
      return `${which} (${describe(value)}) cannot be cloned (${cloneFailure(value, own)})`;
    }
  }
  return `an argument cannot be cloned (${thrownMessage(error)})`;
}

const arrayValues = Array.prototype[Symbol.iterator];

/**
 * `map()`'s items, copied so that later changes to the input do not reach
 * queued jobs: an array of numbers becomes one Float64Array (they travel as
 * one); objects are checked and shared primitives unwrapped. `null` if there
 * are more than `room`: no more than one item past it is read (the
 * iterator is then closed), so an endless iterable ends.
 */
export function mapItems(
  iterable: Iterable<unknown>,
  room: number,
  action: string,
): unknown[] | Float64Array | null {
  room = Math.max(room, 0); // jobs taken back from workers may fill the queue past maxQueue
  // An array is read by index, unless it has an iterator of its own.
  const source = Array.isArray(iterable) && iterable[Symbol.iterator] === arrayValues
    ? iterable
    : readAtMost(iterable, room, action);
  if (source === null || source.length > room) return null;
  let numeric = true;
  for (let i = 0; i < source.length; i++) {
    if (typeof source[i] !== "number") {
      numeric = false;
      break;
    }
  }
  if (numeric) return numbersOf(source as number[]);
  const items = source === iterable ? source.slice() : source;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item === "object" && item !== null) {
      if (isTransferred(item)) {
        throw new TypeError(
          "Cannot map: items cannot be transfer()ed; submit them one by one instead",
        );
      }
      const wire = toWire(item);
      if (wire !== undefined) items[i] = wire;
    }
  }
  return items;
}

/**
 * `numbers` as one Float64Array. By index, as its length was checked,
 * unless it iterates as arrays do (the engines' fast copy): an array with
 * an iterator of its own could go on for ever.
 */
function numbersOf(numbers: number[]): Float64Array {
  if (numbers[Symbol.iterator] === arrayValues) return new Float64Array(numbers);
  const values = new Float64Array(numbers.length);
  for (let i = 0; i < values.length; i++) values[i] = numbers[i]!;
  return values;
}

/**
 * The items of `iterable`, or `null` once there are more than `room`. The
 * engines' iterators are read with `for … of`; others are checked as they
 * are read, so that one that breaks the iterator protocol is named, not
 * reported in the engine's words ("iterable is not iterable").
 */
function readAtMost(iterable: Iterable<unknown>, room: number, action: string): unknown[] | null {
  const own = !BUILT_IN_ITERATORS.has(iterable[Symbol.iterator]);
  const source = own ? checkedIterable(iterable, action) : iterable;
  if (room === Infinity) return [...source];
  const items: unknown[] = [];
  for (const item of source) {
    if (items.length >= room) return null; // leaving the loop closes the iterator
    items.push(item);
  }
  return items;
}

/** The `[Symbol.iterator]` methods of the engine's own iterables, whose iterators keep the protocol. */
const BUILT_IN_ITERATORS = new Set<unknown>([
  arrayValues,
  Set.prototype[Symbol.iterator],
  Map.prototype[Symbol.iterator],
  String.prototype[Symbol.iterator],
  Object.getPrototypeOf(Uint8Array.prototype)[Symbol.iterator], // every typed array's
  Object.getPrototypeOf(Object.getPrototypeOf(arrayValues.call([])))[Symbol.iterator], // generators', iterators'
]);

/**
 * `iterable`'s iterator as an iterable whose every step is checked: an
 * iterator without `next()`, or a `next()` that gives no object, is a
 * `TypeError` naming it.
 */
function checkedIterable(iterable: Iterable<unknown>, action: string): Iterable<unknown> {
  const iterator: unknown = iterable[Symbol.iterator]();
  const next = (iterator as Partial<Iterator<unknown>> | null)?.next;
  if (
    (typeof iterator !== "object" && typeof iterator !== "function") || iterator === null ||
    typeof next !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action}: "iterable"'s [Symbol.iterator]() gave ${
        describe(iterator)
      }, not an iterator (an object with a next() method)`,
    );
  }
  const checked: Iterator<unknown> = {
    next() {
      const result: unknown = next.call(iterator);
      if (typeof result === "object" && result !== null) return result as IteratorResult<unknown>;
      throw new TypeError(
        `Cannot ${action}: "iterable"'s next() gave ${describe(result)}, not an iterator result`,
      );
    },
    return(value?: unknown) {
      const stop = (iterator as Iterator<unknown>).return;
      return typeof stop === "function"
        ? stop.call(iterator, value)
        : { done: true, value: undefined };
    },
  };
  return { [Symbol.iterator]: () => checked };
}

/** The most items an async source's chunk holds; see `Submitter.mapAsync`. */
export const ASYNC_CHUNK = 1024;

/** Whether `iterable` can only be read asynchronously (an array is read as it is). */
export function isAsyncOnly(iterable: unknown): iterable is AsyncIterable<unknown> {
  return typeof iterable === "object" && iterable !== null &&
    typeof (iterable as Partial<Iterable<unknown>>)[Symbol.iterator] !== "function" &&
    typeof (iterable as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === "function";
}

/**
 * What merged one-argument `run()`s give `add()` as their destination: each
 * job's own promise, kept beside its argument in the open entry. The open
 * entry of runs is found by this object's identity.
 */
export const RUNS: unique symbol = Symbol("runs");

/**
 * `done` of `submitDone`, `map` and friends: `true` (`byDefault`: the pool's
 * `doneCallback` if it has one, else `pool.done`, as fastthreadpool's
 * done_callback receives every result), `false` (nowhere), or a callback.
 */
export function checkDone(done: unknown, byDefault: Destination): Destination {
  if (done === true) return byDefault;
  if (done === false) return TO_DISCARD;
  if (typeof done === "function") {
    return { kind: Sink.CALLBACK, callback: done as (result: unknown, id: number) => void };
  }
  throw invalid(TypeError, "submit job", "done", "a function or a boolean", done);
}
