/**
 * Faults: a bounded queue (`maxQueue`) refuses work past its limit with
 * `QueueFullError`, and the pool keeps working.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { QueueFullError } from "../../src/errors.ts";
import { CLAIM_RING } from "../../src/protocol/messages.ts";
import { FakeClock } from "../_fake_clock.ts";
import { gate, measureGateQuick, waitAtGate } from "../_gate.ts";
import { identity } from "./_faults.ts";

describe("Pool option maxQueue", () => {
  it("Pool refuses the job that would overflow the queue with QueueFullError: submit throws, exec rejects, map is refused whole", async () => {
    await using pool = new Pool({ maxChildren: 1, maxQueue: 3 });
    const g = gate();
    try {
      pool.submitDone(waitAtGate, false, g.memory, 0);
      await g.started();
      for (let i = 0; i < 3; i++) pool.submit(identity, i);
      assert.throws(() => pool.submit(identity, 3), (error: unknown) => {
        assert.ok(error instanceof QueueFullError);
        assert.equal(error.maxQueue, 3);
        assert.match(error.message, /queue is full \(maxQueue is 3\)/);
        return true;
      });
      assert.throws(() => pool.submitFirst(identity, 3), QueueFullError);
      await assert.rejects(pool.run(identity, 3), QueueFullError);
      assert.throws(() => pool.map(identity, [3]), QueueFullError);
      assert.equal(pool.jobs.length, 3);
      assert.equal(pool.cancel(pool.jobs.at(0)!.id), true);
      assert.throws(
        () => pool.map(identity, [3, 4]),
        QueueFullError,
        "a map that does not fit is refused whole",
      );
      assert.equal(pool.map(identity, [3]), 1);
      assert.equal(pool.pending, 4);
      g.open();
      await pool.wait();
      assert.deepEqual([...pool.done], [1, 2, 3]);
    } finally {
      g.open();
    }
  });

  it("Pool option maxQueue: map() and collect() of more items than the queue has room for say so, on an empty queue too", async () => {
    await using pool = new Pool({ maxChildren: 1, maxQueue: 3 });
    const message = (action: string) =>
      `Cannot ${action}: the input holds more items than the queue has room for (3; maxQueue is 3), so none of them was queued`;
    // Before: "queue is full", with nothing queued.
    assert.throws(() => pool.map(identity, [1, 2, 3, 4, 5]), {
      name: "QueueFullError",
      message: message("map"),
    });
    await assert.rejects(pool.collect(identity, [1, 2, 3, 4]), {
      name: "QueueFullError",
      message: message("collect"),
    });
    assert.equal(pool.jobs.length, 0);
    assert.deepEqual(await pool.collect(identity, [1, 2, 3]), [1, 2, 3]);
  });

  it("Pool option maxQueue: map() and collect() of an endless iterable are refused after reading one item past the room", async () => {
    await using pool = new Pool({ maxChildren: 1, maxQueue: 10 });
    let read = 0;
    let closed = 0;
    function* endless(): Generator<number> {
      try {
        while (true) yield read++; // before: read until memory ran out
      } finally {
        closed++;
      }
    }
    assert.throws(() => pool.map(identity, endless()), QueueFullError);
    assert.equal(read, 11, "the room (10) and one item more");
    assert.equal(closed, 1, "the generator was closed");
    await assert.rejects(pool.collect(identity, endless()), QueueFullError);
    assert.equal(closed, 2);
    assert.equal(pool.pending, 0);
    assert.equal(pool.map(identity, endless().take(10)), 10, "ten fit");
    assert.equal(await pool.wait(), true);
    assert.equal(pool.done.length, 10);
  });

  it("Pool.map() reads an array with an endless iterator of its own as for … of does, and stops one item past maxQueue", async () => {
    await using pool = new Pool({ maxChildren: 1, maxQueue: 10 });
    const numbers = [1, 2, 3];
    let read = 0;
    numbers[Symbol.iterator] = function* () {
      for (;;) {
        if (++read > 100_000) throw new Error("read too far"); // a guard: never reached
        yield 0;
      }
    };
    await assert.rejects(pool.collect(identity, numbers), { name: "QueueFullError" });
    assert.equal(read, 11, "room for 10, and one more read to know");
    assert.equal(pool.pending, 0);
  });

  it("Pool option maxQueue: the queue never holds more than maxQueue jobs, whatever the mix of submits", async () => {
    const maxQueue = 50;
    let ended = 0;
    let cancelled = 0;
    await using pool = new Pool({
      maxChildren: 1,
      maxQueue,
      doneCallback: () => ended++,
      cancelledCallback: () => cancelled++,
    });
    const g = gate();
    try {
      pool.submitDone(waitAtGate, false, g.memory, 0);
      await g.started();
      let seed = 42;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      let accepted = 0;
      let refused = 0;
      const promises: Promise<unknown>[] = [];
      for (let attempt = 0; attempt < 500; attempt++) {
        const pick = random();
        try {
          if (pick < 0.3) {
            pool.submit(identity, attempt);
            accepted++;
          } else if (pick < 0.5) {
            pool.submitFirst(identity, attempt);
            accepted++;
          } else if (pick < 0.8) {
            const n = 1 + Math.floor(random() * 10);
            accepted += pool.map(identity, Array.from({ length: n }, (_, i) => i), () => ended++);
          } else {
            promises.push(pool.run(identity, attempt).then(() => ended++));
            accepted++;
          }
        } catch (error) {
          assert.ok(error instanceof QueueFullError, String(error));
          refused++;
        }
        if (pick >= 0.95 && pool.jobs.length > 0) pool.cancel(pool.jobs.at(0)!.id);
        assert.ok(pool.jobs.length <= maxQueue, `queue holds ${pool.jobs.length} jobs`);
      }
      g.open();
      const runs = await Promise.allSettled(promises);
      for (const run of runs) {
        if (run.status === "rejected" && run.reason instanceof QueueFullError) {
          refused++;
          accepted--;
        } else if (run.status === "rejected") {
          assert.equal((run.reason as Error).name, "AbortError", "a cancelled run() rejects");
        }
      }
      assert.ok(refused > 0, "the bound was reached");
      assert.ok(cancelled > 0, "some were cancelled");
      await pool.wait();
      assert.equal(ended + cancelled, accepted, "every accepted job ran or was cancelled");
      assert.equal(pool.pending, 0);
    } finally {
      g.open();
    }
  });

  it("Pool option maxQueue counts the jobs that would wait behind a slow job: with every worker busy, one submit a tick is refused past maxQueue, and cancel() takes them all", async () => {
    const cancelled: number[] = [];
    await using pool = new Pool({
      maxChildren: 1,
      maxQueue: 3,
      cancelledCallback: (id) => cancelled.push(id),
    });
    const g = gate();
    try {
      assert.equal(await pool.run(identity, 0), 0); // measured: tiny
      const slow = pool.run(waitAtGate, g.memory, "slow"); // a task of unknown cost holds the worker
      await g.started();
      let accepted = 0;
      let refused = 0;
      for (let tick = 0; tick < 10; tick++) {
        for (let i = 0; i < 3; i++) {
          try {
            pool.submit(identity, i);
            accepted++;
          } catch (error) {
            assert.ok(error instanceof QueueFullError);
            refused++;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 0)); // a turn: the queue is sent
      }
      // Before: 30 accepted, sent to the busy worker a batch a tick, where maxQueue did not see them.
      assert.deepEqual([accepted, refused], [3, 27]);
      assert.deepEqual(
        [pool.jobs.length, pool.stats().jobs.queued, pool.stats().jobs.running],
        [3, 3, 1],
      );
      assert.equal(pool.cancel(), true);
      assert.equal(cancelled.length, 3);
      g.open();
      assert.equal(await slow, "slow");
      assert.equal(await pool.wait(), true);
      assert.equal(pool.stats().jobs.done, 2);
    } finally {
      g.open();
    }
  });

  it("Pool: a worker held inside a job of a task measured tiny takes no more batches than it has claim words for; the rest stay queued, and cancel() takes back every one", async () => {
    const cancelled: number[] = [];
    await using pool = new Pool({
      maxChildren: 1,
      minChildren: 1,
      cancelledCallback: (id) => cancelled.push(id),
    });
    // Both measured over many jobs: one first call (a cold compile, 0.5–80 ms under load) would
    // cap identity's batches below the ring, or call it slow, and the ring would go untested.
    await measureGateQuick(pool);
    pool.map(identity, Array.from({ length: 2_000 }, (_, i) => i), false);
    assert.ok(await pool.wait(10_000), "the measuring jobs ended");
    const g = gate();
    try {
      const held = pool.run(waitAtGate, g.memory, "held"); // this time it does not return
      await g.started();
      const ticks = 2 * CLAIM_RING;
      for (let tick = 0; tick < ticks; tick++) {
        pool.submit(identity, tick); // a batch a tick, sent behind the held job
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      // Before: every batch went, the ring of claim words wrapped, and the worker's
      // batches could be neither cancelled nor counted as queued (they were "running").
      assert.equal(pool.jobs.length, ticks - CLAIM_RING, "past the ring, they wait in the queue");
      assert.equal(pool.stats().jobs.queued, ticks);
      assert.equal(pool.cancel(), true);
      assert.equal(cancelled.length, ticks, "every job not started was taken back");
      g.open();
      assert.equal(await held, "held");
      assert.equal(await pool.wait(), true);
      assert.equal(pool.stats().jobs.queued, 0);
      assert.equal(await pool.run(identity, 7), 7, "the worker goes on");
    } finally {
      g.open();
    }
  });

  it("Pool.submitLater() fails a job that finds the queue full when its timer fires", async () => {
    const failures: [unknown, number][] = [];
    const clock = new FakeClock();
    await using pool = new Pool({
      maxChildren: 1,
      maxQueue: 1,
      clock,
      failedCallback: (error, id) => failures.push([error, id]),
    });
    const g = gate();
    try {
      pool.submitDone(waitAtGate, false, g.memory, 0);
      await g.started();
      pool.submit(identity, 1);
      pool.submitLater(10, identity, 2);
      clock.tick(10);
      assert.equal(failures.length, 1);
      assert.ok(failures[0]![0] instanceof QueueFullError);
      g.open();
      await pool.wait();
      assert.deepEqual([...pool.done], [1]);
    } finally {
      g.open();
    }
  });
});
