import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Deque } from "../src/deque.ts";

describe("Deque", () => {
  it("Deque.push() and shift() are first in, first out across growth", () => {
    const q = new Deque<number>();
    for (let i = 0; i < 100; i++) q.push(i);
    assert.equal(q.length, 100);
    for (let i = 0; i < 100; i++) assert.equal(q.shift(), i);
    assert.equal(q.shift(), undefined);
    assert.equal(q.length, 0);
  });

  it("Deque.unshift() and pop() work at both ends while wrapped", () => {
    const q = new Deque<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    for (let i = 0; i < 5; i++) q.shift();
    for (let i = 0; i < 20; i++) q.unshift(-i);
    assert.equal(q.length, 25);
    assert.equal(q.at(0), -19);
    assert.equal(q.at(-1), 9);
    assert.equal(q.pop(), 9);
    assert.deepEqual([...q].slice(-4), [5, 6, 7, 8]);
  });

  it("Deque.removeAt() and insert() keep the order", () => {
    const q = new Deque<number>([0, 1, 2, 3, 4, 5, 6]);
    assert.equal(q.removeAt(1), 1);
    assert.equal(q.removeAt(4), 5);
    assert.equal(q.removeAt(9), undefined);
    assert.deepEqual([...q], [0, 2, 3, 4, 6]);
    q.insert(2, 99);
    q.insert(0, -1);
    q.insert(q.length, 100);
    assert.deepEqual([...q], [-1, 0, 2, 99, 3, 4, 6, 100]);
    assert.throws(() => q.insert(20, 1), RangeError);
  });

  it("Deque.pushAll() appends a range of an array-like, growing as needed", () => {
    const q = new Deque<number>([1]);
    q.shift();
    q.pushAll([9, 9, 2, 3], 2);
    q.pushAll(new Float64Array(40).fill(7), 0, 30);
    assert.equal(q.length, 32);
    assert.deepEqual([...q].slice(0, 3), [2, 3, 7]);
    assert.equal(q.at(-1), 7);
  });

  it("Deque.clear() empties it and it is usable after", () => {
    const q = new Deque<string>(["a", "b"]);
    q.clear();
    assert.equal(q.length, 0);
    assert.deepEqual([...q], []);
    q.push("c");
    assert.deepEqual([...q], ["c"]);
  });
});
