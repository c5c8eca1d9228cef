/**
 * Scheduling that follows the work: each task's jobs are sized from that
 * task's own measured time, so slow jobs of a new task spread over the
 * workers even after the pool has measured tiny jobs of another.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { gate, waitAtGate } from "../_gate.ts";
import { within } from "../_util.ts";

const tiny = (x: number) => x + 1;

/** A pool of `n` workers, all started. */
async function startedPool(n: number): Promise<Pool> {
  const pool = new Pool({ maxChildren: n, minChildren: n });
  while (pool.stats().workers.started < n) {
    await new Promise((resolve) => pool.addEventListener("workerstart", resolve, { once: true }));
  }
  return pool;
}

describe("Pool scheduling by task", () => {
  it("after many tiny jobs, jobs of an unmeasured task go one per worker", async () => {
    await using pool = await startedPool(2);
    for (let i = 0; i < 500; i++) pool.submit(tiny, i);
    assert.equal(await pool.wait(), true);
    assert.equal(pool.done.drain().length, 500);
    // Sized from the tiny jobs, both would go to one worker in one batch; sized from their own
    // (unknown) cost, each worker gets one. Both are sent in the same flush, before either runs.
    const door = gate();
    const slow = [pool.run(waitAtGate, door.memory, "a"), pool.run(waitAtGate, door.memory, "b")];
    try {
      await door.started(1);
      assert.equal(pool.busy, 2, "each worker holds one of the slow jobs");
    } finally {
      door.open();
    }
    assert.deepEqual(await Promise.all(slow), ["a", "b"]);
  });

  it("a batch of tiny jobs stops where a job of an unmeasured task begins", async () => {
    await using pool = await startedPool(2);
    for (let i = 0; i < 500; i++) pool.submit(tiny, i);
    assert.equal(await pool.wait(), true);
    pool.done.drain();
    // Tiny jobs first, then two slow ones, all in one tick: the slow ones must not ride in the
    // tiny jobs' batch to one worker.
    for (let i = 0; i < 100; i++) pool.submit(tiny, i);
    const door = gate();
    const slow = [pool.run(waitAtGate, door.memory, 1), pool.run(waitAtGate, door.memory, 2)];
    try {
      // Bounded, so that a regression fails instead of hanging: both would then sit on one
      // worker, the second behind the first, which waits at the closed gate.
      assert.equal(await within(door.started(2), 10_000), true, "both slow jobs run at once");
      assert.equal(pool.busy, 2);
    } finally {
      door.open();
    }
    assert.deepEqual(await Promise.all(slow), [1, 2]);
    assert.equal(await pool.wait(), true);
    assert.equal(pool.done.length, 100);
  });
});
