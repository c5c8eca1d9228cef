import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type HeapEntry, IndexedHeap } from "../../src/timers/_heap.ts";

function entry(due: number, id: number): HeapEntry {
  return { due, id, index: -1 };
}

/** Takes entries out first-to-last and returns their ids. */
function drain(heap: IndexedHeap<HeapEntry>): number[] {
  const ids: number[] = [];
  for (let first = heap.first; first !== undefined; first = heap.first) {
    ids.push(first.id);
    heap.removeAt(0);
    assert.equal(first.index, -1);
  }
  return ids;
}

describe("IndexedHeap", () => {
  it("gives entries back by due time, ties in id order, whatever the push order", () => {
    const heap = new IndexedHeap<HeapEntry>();
    const dues = [5, 1, 5, 3, 0, 9, 3, 1];
    dues.forEach((due, id) => heap.push(entry(due, id)));
    assert.deepEqual(drain(heap), [4, 1, 7, 3, 6, 0, 2, 5]);
  });

  it("keeps each entry's index, so any entry can be removed from its handle", () => {
    const heap = new IndexedHeap<HeapEntry>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const live = new Set<HeapEntry>();
    for (let id = 0; id < 500; id++) {
      const added = entry(Math.floor(random() * 50), id);
      heap.push(added);
      live.add(added);
      if (random() < 0.4) {
        const victim = [...live][Math.floor(random() * live.size)]!;
        assert.equal(heap.entries[victim.index], victim);
        heap.removeAt(victim.index);
        live.delete(victim);
      }
    }
    for (const kept of live) assert.equal(heap.entries[kept.index], kept);
    const expected = [...live].sort((a, b) => a.due - b.due || a.id - b.id).map((e) => e.id);
    assert.deepEqual(drain(heap), expected);
  });

  it("firstMovedLater() re-places the first entry after its due time grew; clear() empties", () => {
    const heap = new IndexedHeap<HeapEntry>();
    const a = entry(1, 0);
    heap.push(a);
    heap.push(entry(2, 1));
    heap.push(entry(3, 2));
    a.due = 10;
    heap.firstMovedLater();
    assert.equal(heap.first!.id, 1);
    assert.equal(heap.clear(), 3);
    assert.equal(a.index, -1);
    assert.equal(heap.first, undefined);
  });
});
