/**
 * Faults: `shutdown()`, `terminate()` and `cancel()` racing with running and
 * queued jobs. Every job ends exactly once.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { PoolClosedError } from "../../src/errors.ts";
import { gate, waitAtGate } from "../_gate.ts";
import { promiseState } from "../_util.ts";
import { identity, tally } from "./_faults.ts";

describe("Pool shutdown, terminate and cancel racing with jobs", () => {
  it("Pool.terminate() while jobs run, wait and arrive ends every job exactly once", async () => {
    const t = tally();
    const pool = new Pool({ maxChildren: 2, ...t.options });
    const g = gate();
    try {
      const ids = [pool.submit(waitAtGate, g.memory, "a"), pool.submit(waitAtGate, g.memory, "b")];
      await g.started(2);
      for (let i = 0; i < 10; i++) ids.push(pool.submit(identity, i));
      const first = ids.at(-1)! + 1;
      assert.equal(pool.map(identity, [1, 2, 3]), 3);
      ids.push(first, first + 1, first + 2);
      const promise = pool.run(identity, 99);
      pool.terminate();
      assert.throws(() => pool.submit(identity, 1), PoolClosedError);
      await assert.rejects(pool.run(identity, 1), PoolClosedError);
      await assert.rejects(promise, PoolClosedError);
      t.exactlyOnce([...ids, first + 3]);
      assert.deepEqual(ids.slice(0, 2).map((id) => t.how(id)), [
        "failed:PoolClosedError",
        "failed:PoolClosedError",
      ]);
      assert.ok(ids.slice(2).every((id) => t.how(id) === "cancelled"));
      assert.deepEqual([pool.alive, pool.busy, pool.pending, pool.jobs.length], [0, 0, 0, 0]);
    } finally {
      g.open();
    }
  });

  it("Pool.terminate() during shutdown() fails the running jobs and lets the shutdown resolve", async () => {
    const t = tally();
    const pool = new Pool({ maxChildren: 1, ...t.options });
    const g = gate();
    try {
      const running = pool.submit(waitAtGate, g.memory, "x");
      await g.started();
      const queued = [pool.submit(identity, 1), pool.submit(identity, 2)];
      const closing = pool.shutdown();
      assert.equal(await promiseState(closing), "pending");
      pool.terminate();
      assert.equal(await closing, true);
      t.exactlyOnce([running, ...queued]);
      assert.equal(t.how(running), "failed:PoolClosedError");
      assert.deepEqual(queued.map((id) => t.how(id)), ["cancelled", "cancelled"]);
      assert.deepEqual([pool.alive, pool.pending], [0, 0]);
    } finally {
      g.open();
    }
  });

  it("Pool.shutdown() with soon while a map is spread over workers cancels only its queued items", async () => {
    const t = tally();
    const pool = new Pool({ maxChildren: 2, ...t.options });
    const first = pool.submit(identity, 0);
    await pool.wait();
    const start = first + 1;
    const n = pool.map(
      identity,
      Array.from({ length: 50_000 }, (_, i) => i),
      t.options.doneCallback,
    );
    await Promise.resolve(); // the end-of-tick flush has sent what fits
    const queued = new Set<number>();
    for (const job of pool.jobs) queued.add(job.id);
    assert.ok(queued.size > 0 && queued.size < n, `${queued.size} of ${n} still queued`);
    assert.equal(await pool.shutdown(undefined, { soon: true }), true);
    const ids = Array.from({ length: n }, (_, i) => start + i);
    t.exactlyOnce([first, ...ids]);
    // Items sent to a worker ran, unless it had not started their batch: then it was taken back.
    for (const id of ids) {
      if (queued.has(id)) assert.equal(t.how(id), "cancelled", `job ${id}`);
      else assert.ok(["done", "cancelled"].includes(t.how(id)!), `job ${id}`);
    }
    assert.deepEqual([pool.alive, pool.pending], [0, 0]);
  });

  it("Pool.cancel() in the tick of submission cancels every job; after dispatch those not started", async () => {
    const t = tally();
    await using pool = new Pool({ maxChildren: 1, ...t.options });
    const ids = Array.from({ length: 100 }, (_, i) => pool.submit(identity, i));
    assert.equal(pool.cancel(), true);
    assert.equal(pool.pending, 0);
    await pool.wait();
    assert.ok(ids.every((id) => t.how(id) === "cancelled"));
    const g = gate();
    try {
      const gated = pool.submit(waitAtGate, g.memory, 0);
      await g.started();
      const more = Array.from({ length: 100 }, (_, i) => pool.submit(identity, i));
      await Promise.resolve(); // the end-of-tick flush has sent what fits
      const queued = new Set<number>();
      for (const job of pool.jobs) queued.add(job.id);
      assert.equal(pool.cancel(gated), false, "a running job cannot be cancelled");
      pool.cancel();
      g.open();
      await pool.wait();
      t.exactlyOnce([...ids, gated, ...more]);
      // Queued, or held by the worker behind the gated job: none had started.
      for (const id of more) assert.equal(t.how(id), "cancelled");
      assert.equal(t.how(gated), "done");
    } finally {
      g.open();
    }
  });
});
