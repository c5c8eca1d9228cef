/**
 * Reading a user's async source (`map` and `collect` of an async iterable,
 * on a `Pool` or a `ClusterPool`) while the pool may close: each pending
 * read races the pool's closing, each answer is checked as `for await`
 * checks it, and a source left early is told so with its `return()`.
 *
 * @module
 */

import { describe } from "../_checks.ts";

/** What a read gives instead once the pool has closed: see {@linkcode Closing.race}. */
export const CLOSED: unique symbol = Symbol("closed");

/**
 * A pool's closing, which pending reads race: a source that waits for ever
 * (a quiet socket, a queue consumer) must not hold a call past `shutdown()`.
 *
 * @example Usage
 * ```ts
 * import { CLOSED, Closing } from "./source_reads.ts";
 * import assert from "node:assert/strict";
 *
 * const closing = new Closing();
 * assert.equal(await closing.race(Promise.resolve(1)), 1);
 * const never = closing.race(new Promise(() => {}));
 * closing.close();
 * assert.equal(await never, CLOSED);
 * assert.equal(await closing.race(Promise.resolve(2)), CLOSED);
 * ```
 */
export class Closing {
  /**
   * The pending races. Not one promise settled at the close, raced by each
   * read: every race would leave on it a reaction holding its result for the
   * pool's whole life.
   */
  readonly #waiters = new Set<() => void>();
  #closed = false;

  /** Whether {@linkcode close} came (and no {@linkcode reopen} since). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ends every pending race with {@linkcode CLOSED}, and every race from now on. */
  close(): void {
    this.#closed = true;
    for (const closed of this.#waiters) closed();
    this.#waiters.clear();
  }

  /** Races wait for their reads again (a pool's `clear()`). */
  reopen(): void {
    this.#closed = false;
  }

  /**
   * `read` awaited, or {@linkcode CLOSED} if {@linkcode close} comes first.
   * A plain value or a thenable is awaited as `for await` awaits what a
   * source's `next()` gives.
   */
  race<T>(read: T | PromiseLike<T>): Promise<T | typeof CLOSED> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        // Not waited for, but handled: a read that rejects later must not end the program.
        Promise.resolve(read).then(undefined, () => {});
        return resolve(CLOSED);
      }
      const closed = () => resolve(CLOSED);
      this.#waiters.add(closed);
      Promise.resolve(read).then((value) => {
        this.#waiters.delete(closed);
        resolve(value);
      }, (error: unknown) => {
        this.#waiters.delete(closed);
        reject(error);
      });
    });
  }
}

/**
 * `source`'s async iterator.
 *
 * @throws {TypeError} If `[Symbol.asyncIterator]()` gives no object with a
 * `next()` method (`action` names the call).
 */
export function sourceIterator(
  source: AsyncIterable<unknown>,
  action: string,
): AsyncIterator<unknown> {
  const iterator: unknown = source[Symbol.asyncIterator]();
  if (
    ((typeof iterator === "object" && iterator !== null) || typeof iterator === "function") &&
    typeof (iterator as { next?: unknown }).next === "function"
  ) {
    return iterator as AsyncIterator<unknown>;
  }
  throw new TypeError(
    `Cannot ${action}: the source's [Symbol.asyncIterator]() gave ${
      describe(iterator)
    }, not an iterator (an object with a next() method)`,
  );
}

/**
 * `next`, a source's `next()` answer awaited, if it is an iterator result.
 *
 * @throws {TypeError} If it is not an object, as `for await` throws (`action` names the call).
 */
export function iteratorResult(next: unknown, action: string): IteratorResult<unknown> {
  if (typeof next === "object" && next !== null) return next as IteratorResult<unknown>;
  throw new TypeError(
    `Cannot ${action}: the source's next() gave ${describe(next)}, not an iterator result`,
  );
}

/**
 * Tells a source left early that it is done with (its `return()`), not
 * waiting for it: a source that never answers must not hold the caller. A
 * `return()` that throws or rejects leaves the source as it is.
 */
export function stopSource(iterator: AsyncIterator<unknown>): void {
  try {
    iterator.return?.()?.then(undefined, () => {});
  } catch {
    // A return() that throws: the source is left as it is.
  }
}
