/**
 * `pool.collect()`: the results of a `map` in input order, as one promise.
 * One `Collector` per call; each queue entry of the call points at it with
 * the input index of its first job, so results land by index however the
 * entries are sliced, retried or answered.
 *
 * ```
 *  collect(task, [a, b, c, d])   ids 7…10 → indexes 0…3
 *  answers in any batch order:   values[id - firstId + firstIndex] = result
 *  every item ended (done, failed or cancelled) → resolve(values), or
 *  reject with the first failed item's error (by input index)
 * ```
 *
 * An async source arrives in chunks: each chunk's entry has its own
 * `firstId` and `firstIndex`, and the collector settles once the source is
 * closed and every item it gave has ended.
 *
 * @module
 */

/** Where one `collect()` call's results go. */
export class Collector {
  /** Results by input index; a generator task's entry is the array of its values. */
  readonly values: unknown[] = [];
  #left = 0;
  #closed = false;
  #failedAt = Infinity;
  #error: unknown = undefined;
  readonly #resolve: (values: unknown[]) => void;
  readonly #reject: (error: unknown) => void;

  constructor(resolve: (values: unknown[]) => void, reject: (error: unknown) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** `count` more items were queued (before any of them can end), after those queued before. */
  add(count: number): void {
    this.#left += count;
    // Their places, filled now: results land out of order (two workers), and
    // an array written with holes stays slow to read (5× on Bun).
    const values = this.values;
    for (let i = 0; i < count; i++) values.push(undefined);
  }

  /** No more items will come: settle once the ones queued have ended. */
  close(): void {
    this.#closed = true;
    if (this.#left === 0) this.#settle();
  }

  /** The source failed: reject now (items still queued end unseen). */
  abort(error: unknown): void {
    this.#failedAt = -1;
    this.#error = error;
    this.#closed = true;
    this.#settle();
  }

  /** Item `index` returned `value` (`yielded`: one of a generator's values; it goes on). */
  value(index: number, value: unknown, yielded: boolean): void {
    if (yielded) {
      const so = this.values[index];
      if (Array.isArray(so)) so.push(value);
      else this.values[index] = [value];
      return;
    }
    this.values[index] = value;
    this.#ended();
  }

  /** Items `index` … `index + n - 1` returned `data[at]` … `data[at + n - 1]`. */
  valueRun(index: number, data: ArrayLike<unknown>, at: number, n: number): void {
    const values = this.values;
    for (let k = 0; k < n; k++) values[index + k] = data[at + k];
    this.#left -= n - 1;
    this.#ended();
  }

  /** A generator item finished: its entry is its values (none yet: an empty array). */
  end(index: number): void {
    if (!Array.isArray(this.values[index])) this.values[index] = [];
    this.#ended();
  }

  /** Item `index` failed, or was cancelled, with `error`. */
  failure(index: number, error: unknown): void {
    if (index < this.#failedAt) {
      this.#failedAt = index;
      this.#error = error;
    }
    this.#ended();
  }

  #ended(): void {
    if (--this.#left === 0 && this.#closed) this.#settle();
  }

  #settle(): void {
    if (this.#failedAt === Infinity) this.#resolve(this.values);
    else this.#reject(this.#error);
  }
}

/** A queue entry's view of its collector: the input index of the entry's first job. */
export interface CollectTarget {
  readonly collector: Collector;
  /** The id of the entry's first job; job `id` is item `id - firstId + firstIndex`. */
  readonly firstId: number;
  /** The input index of the entry's first job. */
  readonly firstIndex: number;
}
