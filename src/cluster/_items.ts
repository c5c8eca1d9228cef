/**
 * The items of a `ClusterPool`'s `map` and `collect`: read from a sync or
 * async iterable no further than the queue has room for, fixed for the wire
 * and measured, and, for `collect`, gathered back in input order.
 *
 * @module
 */

import { describe } from "../_checks.ts";
import { itemsPastRoom } from "../errors.ts";
import type { Deferred } from "./_batch.ts";
import { ItemSizes } from "./_sizes.ts";
import { fixValue, type JsonSize } from "./_wire.ts";
import {
  CLOSED,
  type Closing,
  iteratorResult,
  sourceIterator,
  stopSource,
} from "../pool/source_reads.ts";

/**
 * The items of `iterable`, copied: no more than `room`. An endless or huge
 * iterable is read no further than `room + 1` items, then refused.
 *
 * @throws {TypeError} If `iterable` is not iterable (naming what it is).
 * @throws {QueueFullError} If it holds more than `room` items (`maxQueue` named).
 */
export function readItems(
  iterable: unknown,
  room: number,
  maxQueue: number,
  what: string,
): unknown[] {
  if (
    iterable === null || typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `Cannot ${what}: "iterable" must be iterable or async iterable, received ${
        describe(iterable)
      }`,
    );
  }
  if (Array.isArray(iterable)) {
    if (iterable.length > room) throw itemsPastRoom(what, room, maxQueue);
    // By index, as its length was checked: not through an iterator of its own.
    const items = new Array<unknown>(iterable.length);
    for (let i = 0; i < items.length; i++) items[i] = iterable[i];
    return items;
  }
  if (room === Infinity) return [...iterable as Iterable<unknown>];
  const items: unknown[] = [];
  for (const item of iterable as Iterable<unknown>) {
    // Leaving the loop closes the iterator (its `return()`).
    if (items.length >= room) throw itemsPastRoom(what, room, maxQueue);
    items.push(item);
  }
  return items;
}

/**
 * The items of an async `source`, as {@linkcode readItems}: read one at a
 * time, no further than `room + 1`. Each read races `closing`: once the
 * pool is shut down, the read still pending is not waited for, the source's
 * `return()` is called and `checkOpen` throws. The source's `return()` is
 * called too when it is left for too many items; a source that throws, or
 * whose `next()` gives no iterator result, ends the read with its error.
 *
 * @throws {QueueFullError} If it holds more than `room` items.
 */
export async function readItemsAsync(
  source: AsyncIterable<unknown>,
  room: number,
  maxQueue: number,
  closing: Closing,
  checkOpen: () => void,
  what: string,
): Promise<unknown[]> {
  const iterator = sourceIterator(source, what);
  const items: unknown[] = [];
  for (;;) {
    const answer = closing.closed ? CLOSED : await closing.race(iterator.next());
    if (answer !== CLOSED) {
      const next = iteratorResult(answer, what);
      if (next.done) return items;
      if (items.length < room) {
        items.push(next.value);
        continue;
      }
    }
    stopSource(iterator);
    checkOpen(); // throws once the pool is shut down
    throw itemsPastRoom(what, room, maxQueue);
  }
}

/**
 * Fixes each of `items` in place for the wire (see `fixValue`), each the
 * one argument of its item; returns what they write as JSON.
 *
 * @throws {TypeError} Naming the first item that cannot cross.
 */
export function fixItems(items: unknown[], what: string): ItemSizes {
  const sizes = new ItemSizes();
  const size: JsonSize = { chars: 0 };
  for (let i = 0; i < items.length; i++) {
    items[i] = fixValue(items[i], what, `item ${i}`, size);
    sizes.add(i, size.chars);
  }
  return sizes;
}

/**
 * One promise's ends for `n` items: it resolves with their values in input
 * order once every item has ended, or rejects with the error of the first
 * failed item by input order (as `Pool.collect`).
 */
export function collector(
  n: number,
  resolve: (values: unknown[]) => void,
  reject: (error: unknown) => void,
): Deferred[] {
  const values = new Array<unknown>(n);
  if (n === 0) resolve(values);
  let left = n;
  let firstFailed = n;
  let failure: unknown;
  const ended = (): void => {
    if (--left !== 0) return;
    if (firstFailed === n) resolve(values);
    else reject(failure);
  };
  const deferreds = new Array<Deferred>(n);
  for (let i = 0; i < n; i++) {
    deferreds[i] = {
      resolve(value) {
        values[i] = value;
        ended();
      },
      reject(error) {
        if (i < firstFailed) {
          firstFailed = i;
          failure = error;
        }
        ended();
      },
    };
  }
  return deferreds;
}
