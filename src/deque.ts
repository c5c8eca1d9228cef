/**
 * A double-ended queue on a growable ring buffer: O(1) at both ends, slots are
 * reused, no allocation per element once warm.
 *
 * ```
 *  capacity 8, head 6, length 4:
 *  index:  0   1   2   3   4   5   6   7
 *        [ c | d | . | . | . | . | a | b ]
 *                  ^tail           ^head      (tail = (head + length) & mask)
 * ```
 *
 * @module
 */

import { checkInteger, invalid } from "./_checks.ts";

const MIN_CAPACITY = 16;
/**
 * A ring of at least this capacity shrinks to a quarter once an eighth of it
 * or less is used: a queue that once held a million jobs does not keep 8 MB
 * of slots for the pool's life. (Smaller rings never shrink: a few KB.)
 */
const SHRINK_FROM = 4096;

/** Reads a deque's ring capacity (see {@linkcode ringCapacity}); set in the class's static block. */
let capacityOf: (deque: Deque<unknown>) => number;

/** How many slots `deque`'s ring holds, used or not. Internal, for tests: not exported by `mod.ts`. */
export function ringCapacity(deque: Deque<unknown>): number {
  return capacityOf(deque);
}

/** Reads a deque's `#front` (see {@linkcode frontIndex}); set in the class's static block. */
let frontOf: (deque: Deque<unknown>) => number;

/**
 * How many elements `deque` has given up, less those put at its front: it
 * counts up with each element taken out (`shift`, `pop`, `removeAt`, and
 * all at `drain` or `clear`) and down with each `unshift` or `insert` at 0.
 * An `asCompleted(false)` iterator takes entries of `pool.done` while this
 * is below what it was, plus the length, when the iterator was made: it
 * never takes one that arrived after (unless someone put it among them with
 * `insert` or `unshift`), whoever else takes entries meanwhile (one taken
 * from the middle or back may be a later one, and leaves one of those there
 * at the call in `done`). Internal: not exported by `mod.ts`.
 */
export function frontIndex(deque: Deque<unknown>): number {
  return frontOf(deque);
}

/**
 * A double-ended queue. `pool.done`, `pool.failed` and `pool.jobs` are
 * `Deque`s.
 *
 * @typeParam T The element type.
 *
 * @example Usage
 * ```ts
 * import { Deque } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const queue = new Deque<number>([2, 3]);
 * queue.push(4);
 * queue.unshift(1);
 * assert.equal(queue.length, 4);
 * assert.equal(queue.shift(), 1);
 * assert.equal(queue.pop(), 4);
 * assert.deepEqual([...queue], [2, 3]);
 * ```
 */
export class Deque<T> implements Iterable<T> {
  #items: (T | undefined)[];
  #mask: number;
  #head = 0;
  #length = 0;
  /** Elements given up, less those put at the front (see {@linkcode frontIndex}). */
  #front = 0;

  static {
    frontOf = (deque) => deque.#front;
    capacityOf = (deque) => deque.#mask + 1;
  }

  /**
   * Creates a deque holding `items`, in order; without them (`undefined` or
   * `null`, as `new Set()` takes), an empty one.
   *
   * @param items Any iterable: an array, a `Set`, a generator, a string.
   * @throws {TypeError} If `items` is neither iterable nor `undefined`/`null`.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual([...new Deque(new Set([1, 2]))], [1, 2]);
   * assert.equal(new Deque().length, 0);
   * assert.throws(() => new Deque(5 as unknown as number[]), {
   *   name: "TypeError",
   *   message: 'Cannot create deque: "items" must be an iterable, received 5',
   * });
   * ```
   */
  constructor(items?: Iterable<T> | null) {
    this.#items = new Array(MIN_CAPACITY);
    this.#mask = MIN_CAPACITY - 1;
    if (items === undefined || items === null) return;
    // Checked here: `for…of` would throw the engine's own words ("number is
    // not iterable" on Bun), naming neither the argument nor the class.
    if (typeof (items as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
      throw invalid(TypeError, "create deque", "items", "an iterable", items);
    }
    for (const item of items) this.push(item);
  }

  /**
   * How many elements the deque holds.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque([1, 2, 3]);
   * assert.equal(queue.length, 3);
   * queue.shift();
   * assert.equal(queue.length, 2);
   * ```
   */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends `item` at the back.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque([1]);
   * queue.push(2);
   * assert.deepEqual([...queue], [1, 2]);
   * ```
   */
  push(item: T): void {
    if (this.#length > this.#mask) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = item;
    this.#length++;
  }

  /**
   * Appends `count` items of `items` from `start` on, in order: one `push`
   * each, with the room made once.
   *
   * @param items The source.
   * @param start The first index of `items` to append.
   * @param count How many to append; by default, all from `start` on.
   *
   * @throws {RangeError} If `start` is not an integer from 0 to
   *   `items.length`, or `count` not an integer from 0 to
   *   `items.length - start`.
   * @throws {TypeError} If `items` has no numeric `length`, or `start` or
   *   `count` is not a number.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque<number>();
   * queue.pushAll([0, 1, 2, 3, 4], 1, 3);
   * assert.deepEqual([...queue], [1, 2, 3]);
   * ```
   */
  pushAll(items: ArrayLike<T>, start = 0, count?: number): void {
    // Checked before the room is made: a fraction, NaN, a negative or a count
    // past the source would corrupt the length or append holes.
    const length = (items as Partial<ArrayLike<T>> | null | undefined)?.length;
    if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
      throw invalid(
        TypeError,
        "push to deque",
        "items",
        "array-like (an array, a typed array)",
        items,
      );
    }
    checkInteger(start, "start", "push to deque", 0, length);
    count ??= length - start;
    checkInteger(count, "count", "push to deque", 0, length - start);
    while (this.#length + count > this.#mask + 1) this.#grow();
    const buffer = this.#items;
    const mask = this.#mask;
    let at = this.#head + this.#length;
    for (let i = start, end = start + count; i < end; i++) buffer[at++ & mask] = items[i];
    this.#length += count;
  }

  /**
   * Prepends `item` at the front.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque([2]);
   * queue.unshift(1);
   * assert.deepEqual([...queue], [1, 2]);
   * ```
   */
  unshift(item: T): void {
    if (this.#length > this.#mask) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = item;
    this.#length++;
    this.#front--;
  }

  /**
   * Removes and returns the front element, or `undefined` when empty.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque([1, 2]);
   * assert.equal(queue.shift(), 1);
   * assert.equal(queue.shift(), 2);
   * assert.equal(queue.shift(), undefined);
   * ```
   */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    this.#front++;
    if (this.#mask >= SHRINK_FROM - 1) this.#shrinkIfSparse();
    return item;
  }

  /**
   * Removes and returns the back element, or `undefined` when empty.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque([1, 2]);
   * assert.equal(queue.pop(), 2);
   * assert.equal(queue.pop(), 1);
   * assert.equal(queue.pop(), undefined);
   * ```
   */
  pop(): T | undefined {
    if (this.#length === 0) return undefined;
    this.#length--;
    this.#front++; // see frontIndex()
    const index = (this.#head + this.#length) & this.#mask;
    const item = this.#items[index];
    this.#items[index] = undefined;
    if (this.#mask >= SHRINK_FROM - 1) this.#shrinkIfSparse();
    return item;
  }

  /**
   * The element at `index` from the front (negative counts from the back),
   * or `undefined` when out of range. As `Array.prototype.at`, a fraction is
   * truncated toward zero and `NaN` reads as `0`.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque(["a", "b", "c"]);
   * assert.equal(queue.at(0), "a");
   * assert.equal(queue.at(-1), "c");
   * assert.equal(queue.at(3), undefined);
   * assert.equal(queue.at(-0.5), "a"); // truncated to 0, as [].at()
   * ```
   */
  at(index: number): T | undefined {
    // ToIntegerOrInfinity, as Array.prototype.at: the ring index below masks
    // with `&`, which would read a fraction or NaN as some other slot.
    index = Math.trunc(index) || 0;
    if (index < 0) index += this.#length;
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#head + index) & this.#mask];
  }

  /**
   * Removes and returns the element at `index` from the front, or `undefined`
   * when out of range. A negative `index` counts from the back, as in
   * {@linkcode Deque.at} (and `Array.prototype.splice`): `removeAt(-1)`
   * removes what `at(-1)` reads. O(n) in the distance to the nearer end.
   *
   * Unlike `at()`, it does not truncate: a fraction or `NaN` would remove
   * some element the caller did not name, so it is refused.
   *
   * @throws {RangeError} If `index` is a number but not an integer (`NaN`,
   *   `1.5`).
   * @throws {TypeError} If `index` is not a number.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque(["a", "b", "c", "d"]);
   * assert.equal(queue.removeAt(1), "b");
   * assert.equal(queue.removeAt(-1), "d"); // from the back, as at(-1)
   * assert.equal(queue.removeAt(5), undefined);
   * assert.deepEqual([...queue], ["a", "c"]);
   * ```
   */
  removeAt(index: number): T | undefined {
    // A position: any integer, past 2^53 too, is one (out of range: undefined, as at()).
    if (!Number.isInteger(index)) checkInteger(index, "index", "remove from deque");
    if (index < 0) index += this.#length;
    if (index < 0 || index >= this.#length) return undefined;
    const items = this.#items;
    const mask = this.#mask;
    const item = items[(this.#head + index) & mask];
    if (index < this.#length / 2) {
      for (let i = index; i > 0; i--) {
        items[(this.#head + i) & mask] = items[(this.#head + i - 1) & mask];
      }
      items[this.#head] = undefined;
      this.#head = (this.#head + 1) & mask;
    } else {
      for (let i = index; i < this.#length - 1; i++) {
        items[(this.#head + i) & mask] = items[(this.#head + i + 1) & mask];
      }
      items[(this.#head + this.#length - 1) & mask] = undefined;
    }
    this.#front++;
    this.#length--;
    if (this.#mask >= SHRINK_FROM - 1) this.#shrinkIfSparse();
    return item;
  }

  /**
   * Inserts `item` so that it is at `index` from the front afterwards
   * (`0` is `unshift`, `length` is `push`). O(n) in the distance to the nearer end.
   *
   * @throws {RangeError} If `index` is not an integer from 0 to `length`.
   * @throws {TypeError} If `index` is not a number.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque(["a", "c"]);
   * queue.insert(1, "b");
   * assert.deepEqual([...queue], ["a", "b", "c"]);
   * ```
   */
  insert(index: number, item: T): void {
    checkInteger(index, "index", "insert into deque", 0, this.#length);
    if (index === 0) this.#front--; // as unshift (see frontIndex)
    if (this.#length > this.#mask) this.#grow();
    const items = this.#items;
    const mask = this.#mask;
    if (index < this.#length >>> 1) {
      // The elements before it move one place toward the front.
      this.#head = (this.#head - 1) & mask;
      for (let i = 0; i < index; i++) {
        items[(this.#head + i) & mask] = items[(this.#head + i + 1) & mask];
      }
    } else {
      for (let i = this.#length; i > index; i--) {
        items[(this.#head + i) & mask] = items[(this.#head + i - 1) & mask];
      }
    }
    items[(this.#head + index) & mask] = item;
    this.#length++;
  }

  /**
   * Removes every element.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque([1, 2, 3]);
   * queue.clear();
   * assert.equal(queue.length, 0);
   * ```
   */
  clear(): void {
    this.#items = new Array(MIN_CAPACITY);
    this.#mask = MIN_CAPACITY - 1;
    this.#head = 0;
    this.#front += this.#length;
    this.#length = 0;
  }

  /**
   * Takes every element out, front to back, as an array, in one step: the
   * fast way to read `pool.done` after a large `map` (no call per element).
   *
   * @returns The elements, front first; the deque is then empty.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque<number>([1, 2, 3]);
   * assert.deepEqual(queue.drain(), [1, 2, 3]);
   * assert.equal(queue.length, 0);
   * ```
   */
  drain(): T[] {
    const items = this.#items;
    const head = this.#head;
    const end = head + this.#length;
    let out: (T | undefined)[];
    if (head === 0) {
      // Filled from the start (as `done` is by results): hand the buffer
      // over, cut to length; slicing a million elements costs Bun ~12 ms.
      out = items;
      out.length = end;
    } else if (end <= items.length) out = items.slice(head, end);
    else out = items.slice(head).concat(items.slice(0, end & this.#mask));
    this.clear();
    return out as T[];
  }

  /**
   * Iterates from front to back. A plain iterator, not a generator: reading
   * a million results this way costs a few ms, not tens.
   *
   * @example Usage
   * ```ts
   * import { Deque } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * const queue = new Deque([1, 2, 3]);
   * let sum = 0;
   * for (const n of queue) sum += n;
   * assert.equal(sum, 6);
   * assert.equal(queue.length, 3); // iterating does not remove
   * ```
   */
  [Symbol.iterator](): IterableIterator<T> {
    let i = 0;
    const next = (): IteratorResult<T> =>
      i < this.#length
        ? { value: this.#items[(this.#head + i++) & this.#mask] as T, done: false }
        : { value: undefined, done: true };
    return {
      next,
      [Symbol.iterator]() {
        return this;
      },
    };
  }

  #grow(): void {
    this.#resize(this.#items.length * 2);
  }

  #shrinkIfSparse(): void {
    if (this.#length <= (this.#mask + 1) >>> 3) this.#resize((this.#mask + 1) >>> 2);
  }

  /** Moves the elements, front first, into a ring of `capacity` (a power of two). */
  #resize(capacity: number): void {
    const old = this.#items;
    const items = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.#length; i++) {
      items[i] = old[(this.#head + i) & this.#mask];
    }
    this.#items = items;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
