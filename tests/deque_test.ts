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

describe("Deque.drain() and iteration", () => {
  it("Deque.drain() returns the elements in order and empties the deque, across the ring's wrap", () => {
    for (const size of [0, 1, 15, 16, 17, 1000]) {
      const queue = new Deque<number>();
      // Move the head so the contents wrap around the end of the buffer.
      for (let i = 0; i < 10; i++) queue.push(-1);
      for (let i = 0; i < 10; i++) queue.shift();
      for (let i = 0; i < size; i++) queue.push(i);
      assert.deepEqual([...queue], Array.from({ length: size }, (_, i) => i), `iterate ${size}`);
      assert.deepEqual(queue.drain(), Array.from({ length: size }, (_, i) => i), `drain ${size}`);
      assert.equal(queue.length, 0);
      queue.push(7);
      assert.deepEqual(queue.drain(), [7], "usable after drain");
    }
  });

  it("Deque iterators are independent and iterable themselves", () => {
    const queue = new Deque([1, 2, 3]);
    const a = queue[Symbol.iterator]();
    const b = queue[Symbol.iterator]();
    assert.deepEqual(a.next(), { value: 1, done: false });
    assert.deepEqual([...b], [1, 2, 3]);
    assert.deepEqual([...a], [2, 3]);
    assert.deepEqual(a.next(), { value: undefined, done: true });
  });
});

describe("Deque indices and counts that are not integers", () => {
  /** [a, b, c, d] with the head moved off slot 0, as a pool's queue is. */
  function abcd(): Deque<string> {
    const queue = new Deque<string>(["x", "y", "a", "b", "c", "d"]);
    queue.shift();
    queue.shift();
    return queue;
  }

  it("Deque.at() truncates the index and reads NaN as 0, as Array.prototype.at", () => {
    const array = ["a", "b", "c", "d"];
    const queue = abcd();
    for (const index of [NaN, -0.5, 0.5, 1.5, -1.5, -3.9, 3.5, -4.5, Infinity, -Infinity, -0]) {
      assert.equal(queue.at(index), array.at(index), `at(${index})`);
    }
  });

  it("Deque.removeAt() throws a RangeError for NaN or a fraction, and removes nothing", () => {
    const queue = abcd();
    for (const index of [NaN, 1.5, -0.5]) {
      assert.throws(() => queue.removeAt(index), {
        name: "RangeError",
        message: `Cannot remove from deque: "index" must be an integer, received ${index}`,
      });
    }
    assert.throws(() => queue.removeAt("1" as unknown as number), TypeError);
    assert.deepEqual([...queue], ["a", "b", "c", "d"]);
    assert.equal(queue.removeAt(-1), undefined);
    assert.equal(queue.removeAt(3), "d");
  });

  it("Deque.pushAll() throws a RangeError for a bad start or count, and appends nothing", () => {
    const cases: [number, number, string][] = [
      [0, 1.5, '"count" must be an integer from 0 to 3, received 1.5'],
      [0, NaN, '"count" must be an integer from 0 to 3, received NaN'],
      [0, -2, '"count" must be an integer from 0 to 3, received -2'],
      [0, 10, '"count" must be an integer from 0 to 3, received 10'],
      [2, 2, '"count" must be an integer from 0 to 1, received 2'],
      [-1, 1, '"start" must be an integer from 0 to 3, received -1'],
      [0.5, 1, '"start" must be an integer from 0 to 3, received 0.5'],
      [4, 0, '"start" must be an integer from 0 to 3, received 4'],
    ];
    for (const [start, count, message] of cases) {
      const queue = abcd();
      assert.throws(() => queue.pushAll(["p", "q", "r"], start, count), {
        name: "RangeError",
        message: `Cannot push to deque: ${message}`,
      }, `pushAll(_, ${start}, ${count})`);
      assert.equal(queue.length, 4);
      queue.push("z");
      assert.deepEqual([...queue], ["a", "b", "c", "d", "z"]);
    }
    const queue = abcd();
    queue.pushAll(["p", "q", "r"], 3);
    queue.pushAll(["p", "q", "r"], 1, 2);
    assert.deepEqual([...queue], ["a", "b", "c", "d", "q", "r"]);
  });
});
