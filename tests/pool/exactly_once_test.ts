/**
 * Every job ends exactly once under hostile use (issue 16): callbacks that
 * re-enter the pool, aborts shared by many jobs, crashes at the worst
 * moment, counters near their limit, moved buffers.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { WorkerCrashedError } from "../../src/errors.ts";
import { transfer } from "../../src/protocol/codec.ts";
import { MAX_COUNT } from "../../src/sync/_layout.ts";
import { gate, waitAtGate } from "../_gate.ts";
import { fixture, promiseState } from "../_util.ts";
import { FakeClock } from "../_fake_clock.ts";
import process from "node:process";

/** Records how each job id ended, and checks each ended exactly once. */
function ledger() {
  const ends = new Map<number, string[]>();
  const note = (id: number, how: string) => {
    const seen = ends.get(id);
    if (seen) seen.push(how);
    else ends.set(id, [how]);
  };
  return {
    ends,
    note,
    /** Ids that ended more than once, with how. */
    twice(): string[] {
      return [...ends].filter(([, how]) => how.length > 1).map(([id, how]) =>
        `${id}: ${how.join(", ")}`
      );
    },
  };
}

const exit = (n: number) => {
  if (n < 0) (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(1);
  return n;
};

describe("Pool: exactly once when callbacks re-enter the pool", () => {
  for (
    const [kind, items] of [
      ["numbers", Array.from({ length: 5000 }, (_, i) => i)],
      ["strings", Array.from({ length: 5000 }, (_, i) => `s${i}`)],
      ["objects", Array.from({ length: 5000 }, (_, i) => ({ i }))],
    ] as const
  ) {
    it(`terminate() inside doneCallback during a map of ${kind} ends every job once`, async () => {
      const book = ledger();
      const pool: Pool = new Pool({
        maxChildren: 2,
        doneCallback: (_value, id) => {
          book.note(id, "done");
          if (book.ends.size === 10) pool.terminate();
        },
        failedCallback: (_error, id) => book.note(id, "failed"),
        cancelledCallback: (id) => book.note(id, "cancelled"),
      });
      pool.map((x: unknown) => x, items as readonly unknown[]);
      assert.equal(await pool.wait(), true);
      assert.deepEqual(book.twice(), []);
      assert.equal(book.ends.size, 5000, "every job ended");
    });
  }

  it("terminate() inside failedCallback during crash recovery ends every job once", async () => {
    const book = ledger();
    const pool: Pool = new Pool({
      maxChildren: 2,
      doneCallback: (_value, id) => book.note(id, "done"),
      failedCallback: (_error, id) => {
        book.note(id, "failed");
        pool.terminate();
      },
      cancelledCallback: (id) => book.note(id, "cancelled"),
    });
    const items = Array.from({ length: 2000 }, (_, i) => (i === 700 ? -1 : i));
    pool.map(exit, items);
    assert.equal(await pool.wait(), true);
    assert.deepEqual(book.twice(), []);
    assert.equal(book.ends.size, 2000, "every job ended");
  });

  it("terminate() inside failedCallback while a batch is re-sent one by one ends every job once", async () => {
    const book = ledger();
    const pool: Pool = new Pool({
      maxChildren: 1,
      doneCallback: (_value, id) => book.note(id, "done"),
      failedCallback: (_error, id) => {
        book.note(id, "failed");
        pool.terminate();
      },
      cancelledCallback: (id) => book.note(id, "cancelled"),
    });
    for (let i = 0; i < 500; i++) {
      pool.submit((x: unknown) => typeof x, i % 100 === 50 ? { f: () => 1 } : { i });
    }
    assert.equal(await pool.wait(), true);
    assert.deepEqual(book.twice(), []);
    assert.equal(book.ends.size, 500, "every job ended");
  });

  it("shutdown(); clear(); run() while a job runs: the new run settles", async () => {
    const pool = new Pool({ maxChildren: 1 });
    const g = gate();
    const running = pool.run(waitAtGate, g.memory, "first");
    await g.started();
    const closing = pool.shutdown();
    pool.clear();
    const again = pool.run((n: number) => n + 1, 41);
    g.open();
    assert.equal(await running, "first");
    assert.equal(await again, 42);
    assert.equal(await closing, true);
    assert.equal(await pool.run((n: number) => n + 2, 40), 42, "the cleared pool still works");
    await pool.shutdown();
  });
});

describe("Pool: crashes while running are not start failures", () => {
  it("jobs after crashing ones on a fresh worker still run", async () => {
    const book = ledger();
    await using pool = new Pool({
      maxChildren: 1,
      doneCallback: (_value, id) => book.note(id, "done"),
      failedCallback: (error, id) => book.note(id, `failed:${(error as Error).name}`),
    });
    const ids = [-1, -2, -3, 1, 2, 3].map((n) => pool.submit(exit, n));
    assert.equal(await pool.wait(), true);
    assert.deepEqual(book.twice(), []);
    const how = ids.map((id) => book.ends.get(id)?.[0]);
    assert.deepEqual(how.slice(0, 3), Array(3).fill("failed:WorkerCrashedError"));
    assert.deepEqual(how.slice(3), ["done", "done", "done"]);
  });
});

describe("Pool: aborts", () => {
  it("one signal shared by many queued exec()s cancels the queued ones without new workers", async () => {
    const cancelled: number[] = [];
    await using pool = new Pool({ maxChildren: 1, cancelledCallback: (id) => cancelled.push(id) });
    const g = gate();
    const controller = new AbortController();
    const jobs = [pool.exec(waitAtGate, [g.memory, 0], { signal: controller.signal })];
    await g.started();
    for (let i = 1; i < 300; i++) {
      jobs.push(pool.exec((n: number) => n, [i], { signal: controller.signal }));
    }
    const reason = new Error("stop them all");
    controller.abort(reason);
    g.open();
    const settled = await Promise.allSettled(jobs);
    assert.ok(settled.every((s) => s.status === "rejected" && s.reason === reason));
    assert.equal(cancelled.length, 299, "the queued jobs were cancelled");
    assert.equal(await pool.run((n: number) => n * 2, 21), 42);
  });
});

describe("Pool: counters of a long-running service", () => {
  it("doneCount saturates at its maximum instead of throwing", async () => {
    const pool = new Pool({ maxChildren: 1 });
    pool.doneCount.release(MAX_COUNT - 3);
    for (let i = 0; i < 10; i++) pool.submit((n: number) => n, i);
    assert.equal(await pool.wait(), true);
    assert.equal(pool.doneCount.value, MAX_COUNT);
    assert.equal(pool.done.length, 10);
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    pool.terminate();
  });

  it("clear() zeroes saturated counters in one step, not one tryAcquire() per permit", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    pool.doneCount.release(MAX_COUNT);
    pool.failedCount.release(MAX_COUNT - 1);
    let calls = 0;
    for (const counter of [pool.doneCount, pool.failedCount]) {
      const tryAcquire = counter.tryAcquire.bind(counter);
      counter.tryAcquire = () => (calls++, tryAcquire());
    }
    pool.clear(); // before: 2^31 calls, seconds of a blocked thread
    assert.equal(calls, 0);
    assert.equal(pool.doneCount.value, 0);
    assert.equal(pool.failedCount.value, 0);
    pool.submit((n: number) => n, 1);
    assert.equal(await pool.doneCount.acquire({ timeout: 10_000 }), true, "counting goes on");
  });
});

describe("Pool: moved buffers", () => {
  it("transfer() detaches the buffer at the call", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const buffer = new Uint8Array([1, 2, 3]);
    const sum = pool.run((a: Uint8Array) => a.reduce((x, y) => x + y, 0), transfer(buffer));
    assert.equal(buffer.byteLength, 0, "detached at once");
    assert.equal(await sum, 6);
  });

  it("exec() with a transfer list detaches at the call", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const buffer = new ArrayBuffer(4);
    new Uint8Array(buffer).set([1, 2, 3, 4]);
    const sum = pool.exec(
      (b: ArrayBuffer) => new Uint8Array(b).reduce((x, y) => x + y, 0),
      [buffer],
      { transfer: [buffer] },
    );
    assert.equal(buffer.byteLength, 0, "detached at once");
    assert.equal(await sum, 10);
  });

  it("a job whose moved buffer went with a crashed worker fails saying so", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const crashing = (memory: Int32Array, crash: boolean) => {
      if (!crash) return 0;
      Atomics.add(memory, 0, 1);
      Atomics.notify(memory, 0);
      Atomics.wait(memory, 1, 0);
      (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(1);
    };
    const length = (a: Uint8Array) => a.length;
    const g = gate();
    // Once each task's time is measured, a worker may hold several of its jobs: both jobs
    // below then leave at the end of this tick for the one worker (the moved one in a
    // message of its own).
    assert.equal(await pool.run(crashing, g.memory, false), 0);
    assert.equal(await pool.run(length, transfer(new Uint8Array(4))), 4);
    const crash = pool.run(crashing, g.memory, true);
    const moved = pool.run(length, transfer(new Uint8Array(8)));
    await g.started();
    let queued, state;
    try {
      queued = pool.jobs.length;
      state = await promiseState(moved);
    } finally {
      g.open(); // a failed assertion must not leave the job blocked
    }
    assert.equal(queued, 0, "both were sent");
    assert.equal(state, "pending");
    await assert.rejects(crash, WorkerCrashedError);
    await assert.rejects(moved, /transfer\(\)ed|moved/);
  });
});

describe("Pool: asCompleted(ms)", () => {
  /** A full garbage collection, where the runtime offers one to scripts. */
  const gc = (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc.bind(null, true) ??
    (globalThis as { gc?: () => void }).gc;

  it(
    "keeps no memory per wake-up",
    { skip: gc ? false : "needs --v8-flags=--expose-gc", timeout: 60_000 },
    async () => {
      await using pool = new Pool({ maxChildren: 1 });
      const g = gate();
      const held = pool.run(waitAtGate, g.memory, "held"); // keeps the iterator waiting
      await g.started();
      const wakeUps = 200_000;
      let woken = 0;
      const iterate = (async () => {
        for await (const _ of pool.asCompleted(600_000)) woken++;
      })();
      const wakeOnce = async () => {
        // A cancelled job wakes every waiting iterator, and yields nothing.
        pool.cancel(pool.submitFirst((n: number) => n, 0));
        await null;
        await null;
      };
      let grown: number;
      try {
        for (let i = 0; i < 1000; i++) await wakeOnce();
        gc!();
        const before = process.memoryUsage().heapUsed;
        for (let i = 0; i < wakeUps; i++) await wakeOnce();
        gc!();
        grown = process.memoryUsage().heapUsed - before;
      } finally {
        g.open();
      }
      assert.equal(await held, "held");
      await iterate;
      assert.equal(woken, 0);
      assert.ok(grown < 5 * 2 ** 20, `the heap grew ${(grown / 2 ** 20).toFixed(1)} MiB`);
    },
  );
});

describe("Pool.stream(): a consumer that leaves", () => {
  /** Yields `first`, then waits for a promise that never settles. */
  const parked = async function* (first: number) {
    yield first;
    await new Promise(() => {});
    yield first + 1;
  };

  it("a generator parked in an await loses its worker after the grace, and a waiting next() ends", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, clock });
    const stream = pool.stream(parked, 1);
    assert.deepEqual(await stream.next(), { value: 1, done: false });
    const waiting = stream.next();
    assert.equal(await promiseState(waiting), "pending");
    assert.deepEqual(await stream.return!(), { value: undefined, done: true });
    assert.equal(await promiseState(waiting), "fulfilled", "the waiting next() ended");
    assert.deepEqual(await waiting, { value: undefined, done: true });
    assert.equal(pool.pending, 1, "the task still holds its worker during the grace");
    assert.equal(clock.next(), true, "the grace timer fires");
    assert.equal(pool.pending, 0);
    assert.equal(await pool.wait(), true);
    assert.equal(await pool.run((n: number) => n * 2, 21), 42, "a new worker takes jobs");
  });

  it("a stream left before its starting worker began it never runs, and shutdown() resolves", async () => {
    // The module takes a while to load: the stream waits in the starting worker.
    const pool = new Pool<{ name(): string }>({
      maxChildren: 1,
      module: fixture("slow_start_tasks.ts"),
    });
    try {
      const made = new Int32Array(new SharedArrayBuffer(4));
      const stream = pool.stream(function* (shared: Int32Array) {
        while (true) yield Atomics.add(shared, 0, 1);
      }, made);
      const first = stream.next(); // a consumer that times out leaves with a next() pending
      await new Promise((resolve) => setTimeout(resolve, 0)); // handed to the starting worker
      assert.equal(pool.stats().jobs.queued, 1);
      assert.deepEqual(await stream.return!(), { value: undefined, done: true });
      assert.deepEqual(await first, { value: undefined, done: true });
      // Before: the worker skipped it, the pool sent it again, and it ran with no consumer.
      assert.equal(await pool.wait(10_000), true, "it ended");
      assert.equal(await pool.run("name"), "ThreadPool-1", "after it, on the same worker");
      assert.equal(Atomics.load(made, 0), 0, "it never ran");
      assert.equal(pool.stats().jobs.cancelled, 1);
      assert.equal(await pool.shutdown(10_000), true);
    } finally {
      pool.terminate();
    }
  });
});
