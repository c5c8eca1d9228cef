import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Deque, frontIndex, ringCapacity } from "../src/deque.ts";

describe("Deque", () => {
  it("new Deque() refuses items that are not iterable with a TypeError naming the argument", () => {
    // Before, for…of threw the engine's words: "number is not iterable" (Bun), "items is not iterable" (Deno).
    const cases: [unknown, string][] = [
      [5, "5"],
      [true, "true"],
      [{ length: 2 }, "an object"],
      [new WeakMap(), "an instance of WeakMap"],
      [() => [1], "a function"],
    ];
    for (const [items, received] of cases) {
      assert.throws(() => new Deque(items as Iterable<unknown>), {
        name: "TypeError",
        message: `Cannot create deque: "items" must be an iterable, received ${received}`,
      }, `new Deque(${received})`);
    }
    assert.deepEqual([...new Deque(null)], [], "null: empty, as new Set(null)");
    assert.deepEqual([...new Deque(undefined)], []);
    assert.deepEqual([...new Deque("ab")], ["a", "b"], "a string is iterable");
    assert.deepEqual([...new Deque(new Set([1, 2]).values())], [1, 2]);
  });

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

  it("frontIndex() counts the elements given up, less those put at the front", () => {
    const queue = new Deque(["a", "b", "c", "d", "e"]);
    assert.equal(frontIndex(queue), 0);
    queue.shift();
    queue.removeAt(1);
    queue.removeAt(-1);
    queue.pop();
    assert.equal(frontIndex(queue), 4);
    assert.deepEqual([...queue], ["b"]);
    queue.unshift("y");
    queue.insert(0, "x");
    queue.insert(1, "z"); // not at the front: not counted
    assert.equal(frontIndex(queue), 2);
    assert.deepEqual(queue.drain(), ["x", "z", "y", "b"]);
    assert.equal(frontIndex(queue), 6);
    queue.push("f");
    queue.clear();
    assert.equal(frontIndex(queue), 7);
  });

  it("Deque.removeAt() and insert() keep the order", () => {
    const q = new Deque<number>([0, 1, 2, 3, 4, 5, 6]);
    assert.equal(q.removeAt(1), 1);
    assert.equal(q.removeAt(4), 5);
    assert.equal(q.removeAt(9), undefined);
    // Positions past 2^53 are out of range too, as for at() (3fe2fc5 refused them).
    assert.equal(q.removeAt(2 ** 53), undefined);
    assert.equal(q.removeAt(-1e300), undefined);
    assert.deepEqual([...q], [0, 2, 3, 4, 6]);
    q.insert(2, 99);
    q.insert(0, -1);
    q.insert(q.length, 100);
    assert.deepEqual([...q], [-1, 0, 2, 99, 3, 4, 6, 100]);
    assert.throws(() => q.insert(20, 1), {
      name: "RangeError",
      message: /^Cannot insert into deque: "index" must be an integer from 0 to 8, received 20$/,
    });
    // A string is the wrong type, said as such (before: a RangeError saying "received 1").
    // @ts-expect-error: the index must be a number
    assert.throws(() => q.insert("1", 1), { name: "TypeError", message: /received "1"$/ });
    assert.equal(q.length, 8);
  });

  it("Deque.pushAll() appends a range of an array-like, growing as needed", () => {
    const q = new Deque<number>([1]);
    q.shift();
    q.pushAll([9, 9, 2, 3], 2);
    q.pushAll(new Float64Array(40).fill(7), 0, 30);
    assert.equal(q.length, 32);
    assert.deepEqual([...q].slice(0, 3), [2, 3, 7]);
    assert.equal(q.at(-1), 7);
    // A source without a length is named (before: "count" … received NaN).
    for (const items of [5, new Set([4]), null, { length: NaN }, { length: -1 }, { length: 1.5 }]) {
      // @ts-expect-error: the source must be array-like
      assert.throws(() => q.pushAll(items), {
        name: "TypeError",
        message: /^Cannot push to deque: "items" must be array-like/,
      });
    }
    assert.equal(q.length, 32);
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

describe("Deque memory", () => {
  it("Deque gives back its ring's room once mostly empty, keeping order through shift, pop and removeAt", () => {
    const queue = new Deque<number>();
    for (let i = 0; i < 100_000; i++) queue.push(i);
    const full = ringCapacity(queue);
    assert.ok(full >= 100_000);
    for (let i = 0; i < 99_000; i++) assert.equal(queue.shift(), i);
    assert.ok(ringCapacity(queue) <= 8192, `capacity ${ringCapacity(queue)} for 1,000 elements`);
    assert.equal(queue.pop(), 99_999);
    assert.equal(queue.removeAt(0), 99_000);
    assert.deepEqual([...queue], Array.from({ length: 998 }, (_, i) => 99_001 + i));
    while (queue.length !== 0) queue.pop();
    assert.ok(ringCapacity(queue) <= 4096, `capacity ${ringCapacity(queue)} when empty`);
    queue.push(1);
    assert.deepEqual([...queue], [1]);
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
    assert.equal(queue.removeAt(3), "d");
  });

  it("Deque.removeAt() counts a negative index from the back, as at() and splice() do", () => {
    // Before, removeAt(-1) returned undefined and removed nothing, while at(-1) read the last.
    for (const index of [-1, -2, -3, -4, -5, -9, 0, 3, 4]) {
      const queue = abcd();
      const array = ["a", "b", "c", "d"];
      const expected = queue.at(index);
      assert.equal(expected, array.at(index), `at(${index})`);
      assert.equal(queue.removeAt(index), expected, `removeAt(${index})`);
      if (expected !== undefined) array.splice(index, 1);
      assert.deepEqual([...queue], array, `after removeAt(${index})`);
    }
    // Across the ring's wrap: the back is found from the head, not from slot 0.
    const queue = new Deque<number>();
    for (let i = 0; i < 12; i++) queue.push(i);
    for (let i = 0; i < 10; i++) queue.shift();
    for (let i = 12; i < 24; i++) queue.push(i); // wraps past the end of the buffer
    assert.equal(queue.removeAt(-1), 23);
    assert.equal(queue.removeAt(-queue.length), 10);
    assert.equal(queue.removeAt(-2), 21);
    assert.deepEqual([...queue], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22]);
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
