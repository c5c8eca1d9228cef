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

/** A pool of `n` workers, all started, of `lanes` jobs at once each. */
async function startedPool(n: number, lanes = 1): Promise<Pool> {
  const pool = new Pool({ maxChildren: n, minChildren: n, concurrentTasksPerWorker: lanes });
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

  it("calls with a signal of a task measured quick run at once on the idle workers' lanes", async () => {
    // Without one, such a burst goes to one worker in one batch (sized by the task's quick
    // calls), and once it starts the batch the rest wait for its lanes: the README's advice.
    const waitAtGateAsync = async (memory: Int32Array, value: unknown): Promise<unknown> => {
      Atomics.add(memory, 0, 1);
      Atomics.notify(memory, 0);
      const wait = Atomics.waitAsync(memory, 1, 0);
      if (wait.async) await wait.value;
      return value;
    };
    await using pool = await startedPool(2, 2);
    const open = gate();
    open.open();
    for (let i = 0; i < 40; i++) await pool.run(waitAtGateAsync, open.memory, i);
    const door = gate();
    const { signal } = new AbortController();
    const calls = [1, 2, 3, 4].map((n) => pool.exec(waitAtGateAsync, [door.memory, n], { signal }));
    try {
      // Bounded, so that a regression fails instead of hanging.
      assert.equal(await within(door.started(4), 10_000), true, "the four calls run at once");
      assert.equal(pool.busy, 2, "two calls on each worker");
    } finally {
      door.open();
    }
    assert.deepEqual(await Promise.all(calls), [1, 2, 3, 4]);
  });
});
