/**
 * A binary min-heap of entries ordered by `(due, id)` that keeps each
 * entry's position in its `index` field, so an entry can be removed or
 * moved in O(log n) from a handle alone. The scheduler keeps its live
 * timers in one.
 *
 * ```
 *   entries[0]  earliest due
 *   entries[i]  due <= due of entries[2i+1] and entries[2i+2]
 * ```
 *
 * @module
 */

/** What the heap orders and tracks: `index` is -1 while the entry is out of it. */
export interface HeapEntry {
  due: number;
  id: number;
  index: number;
}

/** A min-heap by `(due, id)` over entries that know their index. */
export class IndexedHeap<T extends HeapEntry> {
  /** The entries in heap order; read it, never write it. */
  readonly entries: T[] = [];

  /** The entry due first, if any. */
  get first(): T | undefined {
    return this.entries[0];
  }

  /** Adds an entry that is not in the heap. */
  push(entry: T): void {
    this.#siftUp(entry, this.entries.length);
  }

  /** Removes the entry at `index`; its `index` becomes -1. */
  removeAt(index: number): void {
    const entries = this.entries;
    const removed = entries[index]!;
    removed.index = -1;
    const last = entries.pop()!;
    if (last === removed) return;
    // `last` fills the hole; it may belong above or below it.
    if (index > 0 && before(last, entries[(index - 1) >> 1]!)) this.#siftUp(last, index);
    else this.#siftDown(last, index);
  }

  /** Moves the first entry to its place after its `due` grew. */
  firstMovedLater(): void {
    const first = this.entries[0];
    if (first !== undefined) this.#siftDown(first, 0);
  }

  /** Empties the heap, marking every entry out of it; returns how many there were. */
  clear(): number {
    const entries = this.entries;
    for (const entry of entries) entry.index = -1;
    const count = entries.length;
    entries.length = 0;
    return count;
  }

  #siftUp(entry: T, index: number): void {
    const entries = this.entries;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = entries[parentIndex]!;
      if (!before(entry, parent)) break;
      entries[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    entries[index] = entry;
    entry.index = index;
  }

  #siftDown(entry: T, index: number): void {
    const entries = this.entries;
    const length = entries.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && before(entries[right]!, entries[child]!)) child = right;
      const next = entries[child]!;
      if (!before(next, entry)) break;
      entries[index] = next;
      next.index = index;
      index = child;
    }
    entries[index] = entry;
    entry.index = index;
  }
}

function before(a: HeapEntry, b: HeapEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.id < b.id);
}
