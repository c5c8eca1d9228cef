/**
 * `pool.collect()` (results in input order) and `pool.proxy()` (issue 13,
 * part 6).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { gate, waitAtGate } from "../_gate.ts";
import { fixture, within } from "../_util.ts";
import { transfer } from "../../src/protocol/codec.ts";

type Tasks = typeof import("../fixtures/tasks.ts");

/**
 * `map` or `collect` of an identity task over an async source (a union of
 * the two methods is not callable: both are overloaded).
 */
function mapOrCollect(
  pool: Pool,
  method: "map" | "collect",
  source: AsyncIterable<number>,
): Promise<unknown> {
  const same = (n: number) => n;
  return method === "map" ? pool.map(same, source) : pool.collect(same, source);
}

describe("Pool.collect()", () => {
  it("Pool.collect() resolves to the results in input order, numbers and others", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    const numbers = Array.from({ length: 20_000 }, (_, i) => i);
    assert.deepEqual(await pool.collect((n: number) => n * 2, numbers), numbers.map((n) => n * 2));
    const words = numbers.slice(0, 5_000).map((n) => `w${n}`);
    assert.deepEqual(
      await pool.collect((s: string) => s.toUpperCase(), words),
      words.map((s) => s.toUpperCase()),
    );
    assert.deepEqual(await pool.collect((n: number) => n, []), []);
    assert.equal(pool.done.length, 0, "nothing went to done");
  });

  it("Pool.collect() rejects with the first failed item's error once every item has ended", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    const ran = new Int32Array(new SharedArrayBuffer(4));
    const items = Array.from({ length: 100 }, (_, i) => [ran, i] as const);
    await assert.rejects(
      pool.collect(([counter, i]: readonly [Int32Array, number]) => {
        Atomics.add(counter, 0, 1);
        if (i === 40 || i === 70) throw new RangeError(`item ${i}`);
        return i;
      }, items),
      { name: "RangeError", message: "item 40" },
    );
    assert.equal(Atomics.load(ran, 0), 100, "every item ran before the rejection");
    assert.equal(pool.failed.length, 0, "failures did not go to failed");
  });

  it("Pool.collect() gives a generator task's values per item", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const values = await pool.collect(function* (n: number) {
      for (let i = 0; i < n; i++) yield i;
    }, [0, 1, 3]);
    assert.deepEqual(values, [[], [0], [0, 1, 2]]);
  });

  it("Pool.collect() rejects bad input, and cancelled items reject it", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    await assert.rejects(pool.collect((n: number) => n, 5 as never), {
      name: "TypeError",
      message: 'Cannot collect: "iterable" must be iterable, received 5',
    });
    const collected = pool.collect((n: number) => n, [1, 2, 3]);
    assert.equal(pool.cancel(), true);
    await assert.rejects(collected, { name: "AbortError" });
    assert.deepEqual(await pool.collect((n: number) => n + 1, [1, 2]), [2, 3]);
  });

  it("Pool.collect() keeps each result in place when reading its input submits jobs", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const double = (n: number) => n * 2;
    function* submitting(): Generator<number> {
      for (let i = 0; i < 3; i++) {
        pool.submit(double, 100 + i); // a job that takes an id while collect() reads
        yield i;
      }
    }
    // Before: [null, null, null, 0, 2, 4], the ids taken meanwhile shifting every index.
    assert.deepEqual(await pool.collect(double, submitting()), [0, 2, 4]);
    assert.equal(await pool.wait(), true);
    assert.deepEqual((pool.done.drain() as number[]).sort((a, b) => a - b), [200, 202, 204]);
    const getters = [0, 1, 2];
    for (const i of getters) {
      Object.defineProperty(getters, i, {
        get() {
          pool.submit(double, i);
          return i;
        },
      });
    }
    assert.deepEqual(await pool.collect((n: number) => n * 10, getters), [0, 10, 20]);
  });

  it("Pool.map() and Pool.collect() name an iterable that breaks the iterator protocol, and read an array through its own iterator", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const id = (x: unknown) => x;
    const noNext = { [Symbol.iterator]: () => ({}) } as unknown as Iterable<number>;
    const badResult = { [Symbol.iterator]: () => ({ next: () => 5 }) } as unknown as Iterable<
      number
    >;
    // Before: the engine's words ("iterable is not iterable", "undefined is not a function").
    assert.throws(() => pool.map(id, noNext), {
      name: "TypeError",
      message:
        `Cannot map: "iterable"'s [Symbol.iterator]() gave an object, not an iterator (an object with a next() method)`,
    });
    await assert.rejects(pool.collect(id, badResult), {
      name: "TypeError",
      message: `Cannot collect: "iterable"'s next() gave 5, not an iterator result`,
    });
    // Before: read by index, [1, 2, 3].
    const own = Object.assign([1, 2, 3], {
      *[Symbol.iterator]() {
        yield "only this";
      },
    });
    assert.deepEqual(await pool.collect(id, own), ["only this"]);
    let closed = 0;
    let read = 0;
    const endless: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next: () => {
          if (++read > 1_000) throw new Error("read too far"); // a guard: never reached
          return { done: false, value: 1 };
        },
        return: () => ({ done: true, value: closed++ }),
      }),
    };
    const small = new Pool({ maxChildren: 1, maxQueue: 3 });
    assert.throws(() => small.map(id, endless), { name: "QueueFullError" });
    assert.equal(closed, 1, "the endless iterator was closed");
    assert.equal(read, 4, "room for 3, and one more read to know");
    await small.shutdown();
    assert.equal(pool.stats().jobs.failed, 0);
  });

  it("Pool.collect() over an async source keeps each result in place when reading an item submits jobs", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const double = (n: number) => n * 2;
    // The item's getter first runs as it is read for its job, once the chunk's first index is known.
    const item = (v: number) => {
      let submitted = false;
      return {
        get v() {
          if (!submitted) pool.submit(double, 100 + v);
          submitted = true;
          return v;
        },
      };
    };
    async function* source(): AsyncGenerator<unknown> {
      yield item(0);
      yield item(1);
      yield "two";
    }
    // Before: [null, { v: 1 }, "two"], the first item's result lost to the id its getter took.
    assert.deepEqual(await pool.collect((x: unknown) => x, source()), [{ v: 0 }, { v: 1 }, "two"]);
    assert.equal(await pool.wait(), true);
    assert.deepEqual((pool.done.drain() as number[]).sort((a, b) => a - b), [200, 202]);
  });

  it("Pool.collect() over numbers runs the items after one that answers with a promise, once the numbers before it went", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const items = Array.from({ length: 40 }, (_, i) => i); // one Float64Array (MIN_F64_ITEMS)
    // Item 5 awaits a timer: the first five results go meanwhile, moving the array they share.
    const late = (n: number) =>
      n === 5 ? new Promise<number>((resolve) => setTimeout(() => resolve(n * 2), 50)) : n * 2;
    // Sent with the items, a generator's values leave a flush timer that fires during item 5's wait.
    const yielded = pool.submit(async function* () {
      yield 1;
    });
    // Before: the worker read the rest from the moved array and died; the items failed.
    const collected = await pool.collect(late, items);
    await yielded;
    assert.deepEqual(collected, items.map((n) => n * 2));
    assert.equal(pool.stats().workers.crashed, 0);
  });
});

describe("Pool.proxy()", () => {
  it("Pool.proxy() runs the module's exports, and streams a generator export", async () => {
    await using pool = new Pool<Tasks>({ maxChildren: 1, module: fixture("tasks.ts") });
    const tasks = pool.proxy();
    assert.equal(await tasks.double(21), 42);
    assert.equal(await tasks.add(2, 3), 5);
    assert.equal(await tasks.later("x"), "x");
    const counted: number[] = [];
    for await (const n of tasks.count(3)) counted.push(n);
    assert.deepEqual(counted, [0, 1, 2]);
    await assert.rejects(tasks.fail("no"), /no/);
    assert.equal((tasks as unknown as { then?: unknown }).then, undefined, "not a thenable");
  });

  it("Pool.proxy() call of a generator export, iterated with await using, stops its stream at the scope's end", async () => {
    await using pool = new Pool<Tasks>({ maxChildren: 1, module: fixture("tasks.ts") });
    const tasks = pool.proxy();
    {
      await using values = tasks.count(1e9);
      assert.deepEqual(await values.next(), { value: 0, done: false });
    }
    // Before: a TypeError at the declaration, the stream running on.
    assert.equal(await pool.wait(10_000), true, "the stream stopped");
  });

  it("Pool.proxy() call counted by pending, needsDrain and stats() in its tick still streams when iterated then", async () => {
    const pool = new Pool<Tasks>({ maxChildren: 1, module: fixture("tasks.ts") });
    const tasks = pool.proxy();
    const values = tasks.count(1e9);
    assert.equal(pool.pending, 1);
    assert.equal(pool.needsDrain, false);
    const { jobs } = pool.stats();
    assert.deepEqual([jobs.submitted, jobs.queued], [1, 1]);
    const first = values.next();
    // Before: each read decided it, so it ran as a run() of a billion values and never yielded.
    const streamed = await within(first, 10_000);
    if (!streamed) pool.terminate();
    assert.equal(streamed, true, "it streamed");
    assert.deepEqual(await first, { value: 0, done: false });
    assert.equal(pool.pending, 1, "the stream, counted once");
    await values.return?.(undefined);
    assert.equal(await pool.shutdown(10_000), true);
  });

  it("Pool pending counts no proxy() call the pool will refuse: past maxQueue, or on a closed pool", async () => {
    const pool = new Pool<Tasks>({ maxChildren: 1, maxQueue: 2, module: fixture("tasks.ts") });
    const tasks = pool.proxy();
    const held = gate();
    const first = pool.run(waitAtGate, held.memory, "held");
    await held.started();
    const calls = [1, 2, 3, 4].map((n) => tasks.double(n));
    // Before: 5, though at most 3 can be pending; two calls are refused with QueueFullError.
    assert.equal(pool.pending, 3);
    assert.deepEqual([pool.stats().jobs.queued, pool.needsDrain], [2, true]);
    held.open();
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(settled.map((result) => result.status), [
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
    ]);
    assert.equal(await first, "held");
    const closing = pool.shutdown();
    const refused = tasks.double(5);
    assert.equal(pool.pending, 0, "a call on a closed pool");
    await assert.rejects(refused, { name: "PoolClosedError" });
    assert.equal(await closing, true);
  });

  it("Pool.proxy() calls made together run together, awaited or not, and have the methods their types promise", async () => {
    await using pool = new Pool<Tasks>({ maxChildren: 2, module: fixture("tasks.ts") });
    const tasks = pool.proxy();
    const held = gate();
    const a = tasks.atGate(held.memory, "a");
    const b = tasks.atGate(held.memory, "b");
    await held.started(2); // both run, though neither is awaited yet
    held.open();
    assert.deepEqual([await a, await b], ["a", "b"]);
    assert.equal(await tasks.double(2).finally(() => {}), 4);
    assert.equal(await tasks.fail("x").catch((error: Error) => error.message), "x");
    const counting = tasks.count(3);
    assert.deepEqual(await counting.next(), { value: 0, done: false });
    assert.deepEqual(await counting.return?.(undefined), { value: undefined, done: true });
    // Iterated after the tick that made it: its job ran, and gives its values at once.
    const late = tasks.count(2);
    assert.deepEqual(await late, [0, 1]);
    const values: number[] = [];
    for await (const n of late) values.push(n);
    assert.deepEqual(values, [0, 1]);
    assert.equal(String(tasks), "[object TaskProxy]");
    // Iterated, then awaited: one job, not two; awaiting it says why.
    const both = tasks.count(2);
    assert.deepEqual(await both.next(), { value: 0, done: false });
    await assert.rejects(async () => await both, /is being iterated/);
    assert.deepEqual(await both.next(), { value: 1, done: false });
    // throw() stops the stream's task, as return() does, and rejects.
    const thrown = tasks.count(1_000_000);
    await thrown.next();
    await assert.rejects(async () => await thrown.throw?.(new Error("stop")), /stop/);
    await pool.wait();
    assert.equal(pool.pending, 0, "no stream left running");
  });

  it("Pool.proxy() generator call the pool refuses ends with that error alone: no job runs for it", async () => {
    const pool = new Pool<Tasks>({ maxChildren: 1, maxQueue: 1, module: fixture("tasks.ts") });
    const tasks = pool.proxy();
    const g = gate();
    try {
      pool.submitDone(waitAtGate, false, g.memory, 0);
      await g.started();
      pool.submit("count", 2); // the queue is full
      let refused: unknown;
      try {
        tasks.count(3)[Symbol.asyncIterator]();
      } catch (error) {
        refused = error;
        assert.equal(pool.cancel(), true); // room again, in the same tick
      }
      assert.equal((refused as Error)?.name, "QueueFullError");
      g.open();
      await new Promise((resolve) => setTimeout(resolve, 0)); // past the end of the call's tick
      assert.equal(await pool.wait(), true);
      // Before: the call ran anyway at the end of its tick, as a run() nobody held.
      assert.equal(pool.stats().jobs.submitted, 2);
      await pool.shutdown();
      // Refused by a closed pool: before, the hidden run() rejected unhandled.
      assert.throws(() => tasks.count(1)[Symbol.asyncIterator](), { name: "PoolClosedError" });
      // next() returns a promise, as an async iterator's: it rejects, never throws.
      const call = tasks.count(1);
      const first = call.next();
      assert.ok(first instanceof Promise);
      await assert.rejects(first, { name: "PoolClosedError" });
      assert.deepEqual(await call.next(), { value: undefined, done: true });
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(pool.stats().jobs.submitted, 2);
    } finally {
      g.open();
      pool.terminate();
    }
  });

  it("Pool.proxy() calls made before shutdown(), cancel() or wait() in the same tick are jobs to them, as run()s are", async () => {
    {
      const pool = new Pool<Tasks>({ maxChildren: 1, module: fixture("tasks.ts") });
      const tasks = pool.proxy();
      const call = tasks.double(21);
      const closing = pool.shutdown(); // "queued jobs still run"
      assert.equal(await call, 42);
      assert.equal(await closing, true);
    }
    {
      await using pool = new Pool<Tasks>({ maxChildren: 1, module: fixture("tasks.ts") });
      const tasks = pool.proxy();
      const call = tasks.double(1);
      assert.equal(pool.pending, 1);
      assert.equal(pool.cancel(), true);
      await assert.rejects(call, { name: "AbortError" });
      const next = tasks.double(2);
      assert.equal(await pool.wait(), true);
      assert.equal(pool.stats().jobs.done, 1, "wait() waited for it");
      assert.equal(await next, 4);
    }
    {
      // Only what is decided by then: a call iterated in its tick still streams.
      await using pool = new Pool<Tasks>({ maxChildren: 1, module: fixture("tasks.ts") });
      const tasks = pool.proxy();
      const counted: number[] = [];
      for await (const n of tasks.count(3)) counted.push(n);
      assert.deepEqual(counted, [0, 1, 2]);
    }
  });

  it("Pool.proxy() needs a task module", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    assert.throws(() => pool.proxy(), { name: "TypeError", message: /no "module" option/ });
  });
});

describe("Pool.map() and Pool.collect() over an AsyncIterable", () => {
  async function* upTo(n: number, onItem?: () => void) {
    for (let i = 0; i < n; i++) {
      onItem?.();
      yield i;
    }
  }

  it("Pool.map() reads an async source and resolves to how many it queued", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    assert.equal(await pool.map((n: number) => n + 1, upTo(3000)), 3000);
    await pool.wait();
    const done = pool.done.drain() as number[];
    assert.equal(done.length, 3000);
    assert.equal(done.reduce((a, b) => a + b, 0), (3000 * 3001) / 2);
  });

  it("Pool.map() runs what it has read while an async source goes quiet, and when it fails", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    let fail!: (error: Error) => void;
    const read: number[] = [];
    async function* quietThenFailing() {
      for (let i = 1; i <= 4; i++) { // the fourth item is the first of a chunk of four
        read.push(i);
        yield i;
      }
      await new Promise((_, reject) => fail = reject); // a socket with no traffic, then reset
    }
    const mapped = pool.map((n: number) => n * 10, quietThenFailing());
    for (let i = 0; i < 4; i++) await pool.doneCount.acquire(); // all four ran: none waits for more
    assert.deepEqual(read, [1, 2, 3, 4]);
    assert.deepEqual((pool.done.drain() as number[]).sort((a, b) => a - b), [10, 20, 30, 40]);
    fail(new Error("connection reset"));
    await assert.rejects(mapped, /connection reset/);

    // A source that fails right after its items: they run, then map() rejects.
    async function* failing() {
      for (let i = 1; i <= 6; i++) yield i;
      throw new Error("broken");
    }
    await assert.rejects(pool.map((n: number) => n, failing()), /broken/);
    assert.equal(await pool.wait(), true);
    assert.deepEqual((pool.done.drain() as number[]).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6]);
    assert.equal(pool.stats().jobs.submitted, 10);
  });

  it("Pool.map() and Pool.collect() reject, as for await does, a source whose next() gives no iterator result; the items read before run", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    for (const bad of [5, null, undefined]) {
      let reads = 0;
      const source = {
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.resolve(++reads <= 2 ? { value: reads, done: false } : bad),
        }),
      };
      const error = {
        name: "TypeError",
        message: /^Cannot map: the source's next\(\) gave .+, not an iterator result$/,
      };
      await assert.rejects(pool.map((n: number) => n * 10, source as AsyncIterable<number>), error);
      assert.equal(reads, 3, "nothing read after it");
      assert.equal(await pool.wait(), true);
      assert.deepEqual((pool.done.drain() as number[]).sort((a, b) => a - b), [10, 20]);
      reads = 0;
      await assert.rejects(pool.collect((n: number) => n, source as AsyncIterable<number>), {
        ...error,
        message: /^Cannot collect: the source's next\(\) gave/,
      });
      assert.equal(await pool.wait(), true);
    }
    assert.equal(pool.pending, 0);
    assert.equal(pool.stats().jobs.submitted, 12);
  });

  it("Pool.map() and Pool.collect() refuse, naming it, a source whose [Symbol.asyncIterator]() gives no object; the pool keeps working", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    for (const bad of [undefined, 5, {}]) {
      const source = { [Symbol.asyncIterator]: () => bad } as unknown as AsyncIterable<number>;
      for (const method of ["map", "collect"] as const) {
        // Before: "Cannot read properties of undefined (reading 'next')".
        await assert.rejects(mapOrCollect(pool, method, source), {
          name: "TypeError",
          message: new RegExp(
            `^Cannot ${method}: the source's \\[Symbol.asyncIterator\\]\\(\\) gave .+, not an iterator \\(an object with a next\\(\\) method\\)$`,
          ),
        });
      }
    }
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    assert.equal(pool.stats().jobs.submitted, 1);
  });

  it("Pool.map() and Pool.collect() take a source whose next() answers with a plain iterator result or a thenable, as for await does", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const answering = (
      wrap: (result: IteratorResult<number>) => unknown,
    ): AsyncIterable<number> => ({
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return {
          // Before: "promise.then is not a function" for a plain result.
          next: () => wrap(i < 3 ? { value: i++, done: false } : { value: undefined, done: true }),
        } as AsyncIterator<number>;
      },
    });
    const plain = answering((result) => result);
    const thenable = answering((result) => ({
      then: (resolve: (r: unknown) => void) => resolve(result),
    }));
    for (const source of [plain, thenable]) {
      assert.deepEqual(await pool.collect((n: number) => n * 2, source), [0, 2, 4]);
      assert.equal(await pool.map((n: number) => n * 2, source), 3);
      assert.equal(await pool.wait(), true);
      assert.deepEqual((pool.done.drain() as number[]).sort((a, b) => a - b), [0, 2, 4]);
    }
  });

  it("Pool.map() queues what it read from a quiet async source once the queue has room", async () => {
    await using pool = new Pool({ maxChildren: 1, highWaterMark: 2 });
    const g = gate();
    const gated = pool.run(waitAtGate, g.memory, "gated"); // the worker is busy
    await g.started();
    pool.submit((n: number) => n, 0);
    let release!: () => void;
    const quiet = new Promise<void>((resolve) => release = resolve);
    async function* source() {
      yield "first"; // queued: the queue is at its mark
      yield "second"; // read at once; then the source keeps its next item waiting
      await quiet;
    }
    const mapped = pool.map((s: string) => s, source());
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual([...pool.jobs].map((job) => job.args[0]), [0, "first"], "still full");
    g.open();
    assert.equal(await gated, "gated");
    // "second" runs once there is room, while the source stays quiet.
    for (let i = 0; i < 3; i++) await pool.doneCount.acquire();
    assert.deepEqual(pool.done.drain(), [0, "first", "second"]);
    release();
    assert.equal(await mapped, 2);
  });

  it("Pool.map() refuses a transfer()ed item of a slow async source as of a fast one", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    for (const slow of [false, true]) {
      const source = async function* () {
        yield 1;
        const buffer = new ArrayBuffer(8);
        yield transfer(buffer, [buffer]);
        if (slow) await new Promise((resolve) => setTimeout(resolve, 10)); // quiet for a turn
        yield 2;
      };
      await assert.rejects(pool.map((x: unknown) => x, source()), /cannot be transfer\(\)ed/);
    }
    assert.equal(await pool.wait(), true);
    const { jobs } = pool.stats();
    assert.deepEqual(
      [jobs.submitted, jobs.done],
      [2, 2],
      "the first item of each ran; none was lost",
    );
  });

  it("Pool.collect() keeps an async source's order", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    const results = await pool.collect((n: number) => n * 3, upTo(5000));
    assert.deepEqual(results, Array.from({ length: 5000 }, (_, i) => i * 3));
  });

  it("Pool.map() reads an async source with back-pressure: the queue stays near the high-water mark", async () => {
    await using pool = new Pool({ maxChildren: 1, highWaterMark: 200 });
    let produced = 0;
    let most = 0;
    let mostAhead = 0;
    // Each time the source is asked for an item, see how much waits in the
    // queue, and how much was read but not queued yet.
    const onItem = () => {
      mostAhead = Math.max(mostAhead, produced - (pool.pending + pool.done.length));
      produced++;
      most = Math.max(most, pool.jobs.length);
    };
    const queued = pool.map((n: number) => {
      const end = performance.now() + 0.01;
      while (performance.now() < end) {
        // a job of ~10 µs
      }
      return n;
    }, upTo(20_000, onItem));
    assert.equal(await queued, 20_000);
    await pool.wait();
    assert.equal(produced, 20_000);
    assert.ok(most <= 200, `at most ${most} queued`);
    // Before: up to 1,024 (a whole chunk) read ahead of the queue.
    assert.ok(mostAhead <= 200, `at most ${mostAhead} read and not queued`);
    assert.equal(pool.done.length, 20_000);
  });

  it("Pool.map() and Pool.collect() over an async source stay under maxQueue: every item runs", async () => {
    await using pool = new Pool({ maxChildren: 1, maxQueue: 50 });
    let most = 0;
    const onItem = () => most = Math.max(most, pool.jobs.length);
    assert.equal(await pool.map((n: number) => n, upTo(3000, onItem)), 3000);
    const results = await pool.collect((n: number) => n * 2, upTo(3000, onItem));
    assert.deepEqual(results, Array.from({ length: 3000 }, (_, i) => i * 2));
    await pool.wait();
    assert.equal(pool.done.length, 3000);
    assert.ok(most <= 50, `at most ${most} queued`);
  });

  it("Pool.map() over an async source: terminate() while it waits for room stops the source and rejects; nothing more is read", async () => {
    const pool = new Pool({ maxChildren: 1, highWaterMark: 10 });
    const held = gate();
    const holding = pool.run(waitAtGate, held.memory, "held").catch((error) => error);
    await held.started();
    let pulled = 0;
    let stopped = 0;
    async function* endless() {
      try {
        for (let i = 0;; i++) {
          pulled++;
          yield i;
        }
      } finally {
        stopped++;
      }
    }
    const full = new Promise((resolve) => pool.addEventListener("full", resolve, { once: true }));
    const mapped = pool.map((n: number) => n, endless());
    await full; // the queue is at its mark: the reader waits for room
    const before = pulled;
    pool.terminate();
    await assert.rejects(mapped, {
      name: "PoolClosedError",
      message:
        /^Cannot map: the pool closed while its source was read; \d+ of its items had been queued \(they end as the pool's queued jobs do\), and reading stopped: the \d+ read since, and any after, were not submitted$/,
    });
    assert.equal(pulled, before, "nothing read after the pool closed");
    assert.equal(stopped, 1, "the source was told to stop");
    assert.equal((await holding as Error).name, "PoolClosedError");
  });

  it("Pool.collect() over an async source whose read never settles rejects once the pool shuts down", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    let stopped = 0;
    let given = 0;
    const stuck: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          given < 3 ? Promise.resolve({ value: given++, done: false }) : new Promise(() => {}),
        return: () => {
          stopped++;
          return Promise.resolve({ value: undefined, done: true });
        },
      }),
    };
    const collected = pool.collect((n: number) => n, stuck);
    assert.equal(await pool.shutdown(), true);
    await assert.rejects(collected, {
      name: "PoolClosedError",
      message:
        /^Cannot collect: the pool closed while its source was read; \d+ of its items had been queued/,
    });
    assert.equal(stopped, 1);
  });

  it("Pool.map() over an async source whose read never settles still ends at a close that follows a shutdown() and clear() in one tick", async () => {
    for (const method of ["map", "collect"] as const) {
      const pool = new Pool({ maxChildren: 1 });
      let stopped = 0;
      let given = 0;
      const stuck: AsyncIterable<number> = {
        [Symbol.asyncIterator]: () => ({
          next: () =>
            given++ === 0 ? Promise.resolve({ value: 1, done: false }) : new Promise(() => {}),
          return: () => {
            stopped++;
            return Promise.resolve({ value: undefined, done: true });
          },
        }),
      };
      const reading = mapOrCollect(pool, method, stuck);
      while (given < 2) await new Promise((resolve) => setTimeout(resolve, 0));
      void pool.shutdown();
      pool.clear(); // open again: the read goes on
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(stopped, 0, "still reading");
      // Before: once reopened, the read was awaited bare; no later close ended it.
      pool.terminate();
      await assert.rejects(reading, { name: "PoolClosedError" });
      assert.equal(stopped, 1);
    }
  });

  it("Pool.map() over an async source whose next() shuts the pool down and later rejects: map() rejects, and that rejection is handled", async () => {
    for (const method of ["map", "collect"] as const) {
      const pool = new Pool({ maxChildren: 1 });
      let reads = 0;
      let fail!: (error: Error) => void;
      const failing = new Promise<never>((_, reject) => fail = reject);
      failing.catch(() => {}); // the read below is the pool's to handle, not this one
      const source: AsyncIterable<number> = {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            if (++reads === 1) return Promise.resolve({ value: 1, done: false });
            void pool.shutdown(); // the application closes the pool; its connection fails after
            return failing.then(() => ({ value: 0, done: false }));
          },
        }),
      };
      // Before: the read went unhandled once the pool was closed; its rejection ended the program.
      await assert.rejects(mapOrCollect(pool, method, source), { name: "PoolClosedError" });
      fail(new Error("connection closed"));
      // An unhandled rejection of the read would fail the test from here.
      await new Promise((resolve) => setTimeout(resolve, 0));
      await pool.shutdown();
    }
  });

  it("Pool.collect() rejects with an async source's error", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    async function* broken() {
      yield 1;
      throw new URIError("source broke");
    }
    await assert.rejects(pool.collect((n: number) => n, broken()), URIError);
    await assert.rejects(pool.map((n: number) => n, broken()), URIError);
    await pool.wait();
  });
});
