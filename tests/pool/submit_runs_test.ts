/**
 * Runs of `submit()`s: consecutive one-argument submits of one task join one
 * open queue entry, which any other change to the queue closes; a long run is
 * sent before the tick ends, so workers start while the caller still submits.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { PoolClosedError } from "../../src/errors.ts";
import { EARLY_FLUSH_MIN } from "../../src/pool/dispatch.ts";
import { gate } from "../_gate.ts";

const twice = (n: number) => n * 2;
const same = (n: unknown) => n;

describe("Pool submit runs", () => {
  it("Pool.submit() runs keep ids and order when other calls come between them", async () => {
    await using pool = new Pool({ maxChildren: 1, resultId: true });
    const seen: [unknown, number][] = [];
    const a = pool.submit(twice, 1);
    pool.submit(twice, 2);
    pool.submitDone(twice, (value, id) => seen.push([value, id]), 3); // another destination
    pool.submit(twice, 4);
    pool.submit(same, 5); // another task
    pool.map(twice, [6, 7]);
    pool.submit(twice, 8);
    pool.submit(twice, 9);
    assert.equal(pool.cancel(a + 7), true); // 8, from the middle of a run
    pool.submit(twice, 10);
    pool.submitFirst(twice, 0);
    pool.submit(twice, 11);
    assert.deepEqual(
      [...pool.jobs].map(({ id, args }) => [id - a, args[0]]),
      [[10, 0], [0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7], [8, 9], [9, 10], [11, 11]],
    );
    await pool.wait();
    assert.deepEqual(
      [...pool.done].map((entry) => {
        const [id, value] = entry as [number, number];
        return [id - a, value];
      }),
      [[10, 0], [0, 2], [1, 4], [3, 8], [4, 5], [5, 12], [6, 14], [8, 18], [9, 20], [11, 22]],
    );
    assert.deepEqual(seen, [[6, a + 2]]);
    assert.equal(pool.failed.length, 0);
  });

  it("Pool.submit() runs mix numbers, strings and shared values, each arriving as sent", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const values: unknown[] = [1, "two", null, 3.5, cell, undefined, true];
    for (const value of values) pool.submit(same, value);
    await pool.wait();
    const done = [...pool.done];
    assert.equal(done.length, values.length);
    assert.deepEqual(done.slice(0, 4), [1, "two", null, 3.5]);
    const back = done[4] as Int32Array;
    assert.ok(back.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(done.slice(5), [undefined, true]);
  });

  it("Pool.submit() runs keep consecutive ids when a bad submit comes between", async () => {
    await using pool = new Pool({ maxChildren: 1, resultId: true });
    const a = pool.submit(twice, 1);
    // @ts-expect-error: a number is not a task
    assert.throws(() => pool.submit(42, 2), { name: "TypeError" });
    const b = pool.submit(twice, 3);
    assert.equal(b, a + 1);
    await pool.wait();
    assert.deepEqual([...pool.done], [[a, 2], [b, 6]]);
  });

  it("Pool.submit() refuses work once shutdown() starts, even inside a run", async () => {
    const pool = new Pool({ maxChildren: 1 });
    pool.submit(twice, 1);
    const closing = pool.shutdown();
    assert.throws(() => pool.submit(twice, 2), PoolClosedError);
    assert.equal(await closing, true);
    assert.deepEqual([...pool.done], [2]);
  });

  it("Pool.submit() honours maxQueue inside a run", async () => {
    await using pool = new Pool({ maxChildren: 1, maxQueue: 3 });
    for (let i = 0; i < 3; i++) pool.submit(twice, i);
    assert.throws(() => pool.submit(twice, 3), { name: "QueueFullError" });
    await pool.wait();
    assert.deepEqual([...pool.done], [0, 2, 4]);
  });

  it("Pool.submit() sends a long run before the tick ends: workers start while the caller submits", async () => {
    await using pool = new Pool({ maxChildren: 2, minChildren: 2 });
    const started = new Int32Array(new SharedArrayBuffer(4));
    const count = (cell: Int32Array) => Atomics.add(cell, 0, 1) + 1;
    const n = EARLY_FLUSH_MIN * 2;
    for (let i = 0; i < n; i++) pool.submit(count, started);
    // Still in the tick that submitted: no flush at its end has run yet.
    const deadline = performance.now() + 30_000;
    while (Atomics.load(started, 0) === 0 && performance.now() < deadline);
    assert.ok(Atomics.load(started, 0) > 0, "a worker ran a job before the submitting tick ended");
    await pool.wait();
    assert.equal(pool.done.length, n);
    assert.equal(Atomics.load(started, 0), n);
  });
});

describe("Pool run() runs", () => {
  it("Pool.run() of many one-argument jobs in one tick: each promise settles with its own job", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    const triple = (n: number) => {
      if (n % 50 === 7) throw new RangeError(`bad ${n}`);
      return n % 2 === 0 ? n * 3 : `${n * 3}`;
    };
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, n) => pool.run(triple, n)),
    );
    results.forEach((result, n) => {
      if (n % 50 === 7) {
        assert.equal(result.status, "rejected");
        const error = (result as PromiseRejectedResult).reason;
        assert.ok(error instanceof RangeError);
        assert.equal(error.message, `bad ${n}`);
      } else {
        assert.deepEqual(result, { status: "fulfilled", value: n % 2 === 0 ? n * 3 : `${n * 3}` });
      }
    });
    assert.deepEqual([pool.pending, pool.done.length, pool.failed.length], [0, 0, 0]);
  });

  it("Pool.run() of one-argument generator and async tasks resolves each job with its own values", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    const pairs = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        pool.run(function* (k: number) {
          yield k;
          yield -k;
        }, n)),
    );
    assert.deepEqual(pairs, Array.from({ length: 40 }, (_, n) => [n, -n]));
    const later = await Promise.all(
      Array.from(
        { length: 40 },
        (_, n) => pool.run(async (k: number) => await Promise.resolve(k * 2), n),
      ),
    );
    assert.deepEqual(later, Array.from({ length: 40 }, (_, n) => n * 2));
  });

  it("Pool.cancel() rejects queued one-argument run() promises alone; the pool goes on", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const queued = [1, 2, 3].map((n) => pool.run(twice, n));
    assert.equal(pool.cancel(), true);
    for (const job of queued) await assert.rejects(job, { name: "AbortError" });
    assert.equal(await pool.run(twice, 4), 8);
    assert.equal(pool.pending, 0);
  });

  it("Pool.cancel() and terminate() reject the run()s they end with one error they share", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const reasons = (jobs: Promise<unknown>[]) =>
      Promise.all(
        jobs.map((job) => job.then(() => assert.fail("not cancelled"), (error) => error)),
      );
    const toCancel = [1, 2, 3].map((n) => pool.run(twice, n));
    pool.cancel();
    const cancelled = await reasons(toCancel);
    assert.equal(cancelled[0].name, "AbortError");
    assert.ok(cancelled.every((error) => error === cancelled[0]), "one AbortError for the call");
    const toClose = [1, 2, 3].map((n) => pool.run(twice, n));
    const withDone = pool.submit(twice, 4); // to done: no error is made for it
    pool.terminate();
    const closed = await reasons(toClose);
    assert.ok(closed[0] instanceof PoolClosedError);
    assert.ok(closed.every((error) => error === closed[0]), "one PoolClosedError for the call");
    assert.equal(pool.stats().jobs.cancelled, 7);
    assert.equal(pool.failed.length, 0, `job ${withDone}, cancelled, reports no error`);
  });
});

describe("Pool answers of slow jobs", () => {
  it("Pool: a worker answers slow jobs before the last job of a batch, so its next work can be sent meanwhile", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    // A job of about 1 ms, or one that blocks at a gate.
    const job = (step: { memory: Int32Array | null }) => {
      if (step.memory === null) {
        const until = performance.now() + 1;
        while (performance.now() < until);
        return "slow";
      }
      Atomics.add(step.memory, 0, 1);
      Atomics.notify(step.memory, 0);
      Atomics.wait(step.memory, 1, 0);
      return "gated";
    };
    // Two rounds measure the job time, so the next two jobs travel in one batch.
    for (let i = 0; i < 2; i++) {
      await Promise.all([0, 1].map(() => pool.run(job, { memory: null })));
    }
    const g = gate();
    const first = pool.run(job, { memory: null });
    const second = pool.run(job, { memory: g.memory });
    // The second job blocks its worker until the gate opens: the first job's
    // answer must arrive before that, or this await never ends.
    assert.equal(await first, "slow");
    await g.started();
    g.open();
    assert.equal(await second, "gated");
  });
});
