/**
 * A chunk's size budget in characters: what the items of a batch write as
 * JSON, recorded sparsely, and how many of them from a cut point fit in a
 * chunk.
 *
 * Chunks are sized by run time and count (see `_sizer.ts`); without a size
 * budget, items each well within `MAX_JSON_CHARS` went together:
 * 5 items of 110M characters made one chunk that `JSON.stringify` could not
 * write ("Invalid string length" on Deno, a Redis protocol error on Bun),
 * and 16 of 30M one add Redis took more than 10 s to answer (the producer
 * then counted Redis as away, and failed every item at `offlineTimeout`).
 *
 * ```
 * item    0    1  …  146    147  …  200   201   202  …
 * chars   28   28 …  28     28   …  28    16 Mi 28   …
 * marks              ▲ 4,116            ▲ 16 Mi + 1,512: a chunk
 *                                         stops before 201 if that passes its budget
 * ```
 *
 * @module
 */

/**
 * Most characters of item JSON one chunk carries as counted: 2^22 (4 Mi),
 * unless one item alone counts more (a chunk carries at least one). Strings
 * shorter than 22 Mi characters are counted at their length, unread (see
 * `jsonLength`), and JSON may write up to six characters for each (a
 * control character as `\u0001`): a chunk then writes at most 24 Mi. Far
 * past what chunks of ordinary items reach (20,000 numbers: ~0.6 Mi), and
 * small enough that an add of two such chunks (see `Delivery`) is one
 * string far below V8's limit (2^29 - 24 characters; ioredis writes a
 * pipeline as one string) and is answered well within the 10 s after which
 * Redis counts as away. (With 2^25, chunks of 124 strings of 1 Mi control
 * characters each wrote 186 Mi, and Redis took longer than that to answer.)
 */
export const CHUNK_CHARS = 2 ** 22;

/**
 * Items are recorded one by one from this many characters up (a string of
 * 4 Ki); smaller ones as runs that add up to it. So a chunk's count is off
 * by less than this at each end, and a `map` of numbers records one mark
 * per ~146 items: small items stay as cheap as before.
 */
export const MARK_CHARS = 4096;

/** What the items of one batch write as JSON, sparsely. */
export class ItemSizes {
  /**
   * Flat pairs `index, chars`, by index: item `index` ends a run of items
   * (since the previous mark) that write `chars` characters in all.
   */
  readonly #marks: number[] = [];
  /** Characters of the items since the last mark. */
  #run = 0;

  /** Item `index` (after every item before it) writes about `chars` characters. */
  add(index: number, chars: number): void {
    if ((this.#run += chars) < MARK_CHARS) return;
    this.#marks.push(index, this.#run);
    this.#run = 0;
  }

  /**
   * How many of the `count` items from item `from` on fit in `budget`
   * characters: at least 1, stopping before the item whose mark passes it.
   */
  fit(from: number, count: number, budget: number): number {
    const marks = this.#marks;
    const end = from + count;
    let total = 0;
    for (let k = this.#first(from); k < marks.length && marks[k]! < end; k += 2) {
      total += marks[k + 1]!;
      if (total > budget) return Math.max(1, marks[k]! - from);
    }
    return count;
  }

  /** About how many characters the `count` items from item `from` on write. */
  chars(from: number, count: number): number {
    const marks = this.#marks;
    const end = from + count;
    let total = 0;
    for (let k = this.#first(from); k < marks.length && marks[k]! < end; k += 2) {
      total += marks[k + 1]!;
    }
    return total;
  }

  /** The place in `#marks` of the first mark at or after item `from` (binary search). */
  #first(from: number): number {
    const marks = this.#marks;
    let low = 0;
    let high = marks.length / 2;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (marks[2 * middle]! < from) low = middle + 1;
      else high = middle;
    }
    return 2 * low;
  }
}
