/**
 * A job's body runs at most once, around a job its worker may be ended for
 * (one that ignores its abort or its time limit): the jobs that share its
 * worker are neither run again nor failed once they have finished, and a
 * job that has its worker to itself keeps it, also when it moves buffers.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { transfer } from "../../src/protocol/codec.ts";
import { TaskTimeoutError } from "../../src/errors.ts";
import { FakeClock } from "../_fake_clock.ts";
import { gate, measureGateQuick, waitAtGate } from "../_gate.ts";
import { promiseState, within } from "../_util.ts";

/** Counts its runs in `runs[slot]`, then returns `slot`. */
const counted = (runs: Int32Array, slot: number): number => {
  Atomics.add(runs, slot, 1);
  return slot;
};

describe("Pool: a job's body runs at most once", () => {
  it("Pool.exec() option signal with transfer on one lane: the job has its worker to itself, nothing is sent behind it", async () => {
    await using pool = new Pool({ maxChildren: 1, abortGrace: 0 });
    const runs = new Int32Array(new SharedArrayBuffer(16));
    for (let i = 0; i < 20; i++) await pool.run(counted, runs, 0); // measured quick
    runs.fill(0);
    const buffer = new ArrayBuffer(8);
    const controller = new AbortController();
    const alone = pool.exec(counted, [runs, 0], { signal: controller.signal, transfer: [buffer] });
    const after = [1, 2, 3].map((n) => pool.run(counted, runs, n));
    for (let i = 0; i < 10; i++) await Promise.resolve(); // its batch goes
    // Before: they went behind it (it moved a buffer, so it never marked its
    // worker taken), ran, and went again (ran twice) when its abort replaced
    // the worker with their answers unread.
    assert.equal(pool.stats().jobs.queued, 3, "the jobs after it wait in the queue");
    // This thread stays busy until it has run: its answer stays unread.
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(runs, 0) === 0 && performance.now() < giveUp);
    controller.abort(new Error("stop"));
    await assert.rejects(alone, { message: "stop" });
    assert.deepEqual(await Promise.all(after), [1, 2, 3]);
    assert.deepEqual([...runs], [1, 1, 1, 1], "each ran once");
  });

  it("Pool.exec() option signal with transfer on one lane, aborted before its starting worker reached it: cancelled, never run", async () => {
    const holdSetup = new Int32Array(new SharedArrayBuffer(4));
    const counts = new Int32Array(new SharedArrayBuffer(8));
    await using pool = new Pool<typeof import("../fixtures/hooks_tasks.ts")>({
      maxChildren: 1,
      module: new URL("../fixtures/hooks_tasks.ts", import.meta.url),
      workerData: { counts, holdSetup },
    });
    const ran = new Int32Array(new SharedArrayBuffer(4));
    const buffer = new ArrayBuffer(8);
    const controller = new AbortController();
    const job = pool.exec("mark", [ran, buffer], {
      signal: controller.signal,
      transfer: [buffer],
    });
    for (let i = 0; i < 10; i++) await Promise.resolve(); // sent to the worker, in its setup()
    assert.equal(pool.stats().jobs.queued, 0, "sent");
    controller.abort(new Error("stop"));
    await assert.rejects(job, { message: "stop" });
    Atomics.store(holdSetup, 0, 1);
    Atomics.notify(holdSetup, 0);
    assert.equal(await pool.run("echo", 1), 1);
    // Before: it had no claim to be taken back by (it moved a buffer): it ran, failed.
    assert.equal(Atomics.load(ran, 0), 0, "never ran");
    assert.deepEqual([pool.stats().jobs.cancelled, pool.stats().jobs.failed], [1, 0]);
  });

  /** Ways to start a job that has its worker to itself and moves a buffer: it waits at `memory`'s gate. */
  const aloneMoving: [string, (pool: Pool, memory: Int32Array) => Promise<unknown>][] = [
    ["exec() with a signal, on one lane", (pool, memory) => {
      const buffer = new ArrayBuffer(8);
      const { signal } = new AbortController();
      return pool.exec(waitAtGate, [memory, buffer], { signal, transfer: [buffer] });
    }],
    ["stream() of an argument moved by transfer()", (pool, memory) => {
      const stream = pool.stream(
        function* (buffer: ArrayBuffer, memory: Int32Array) {
          Atomics.add(memory, 0, 1);
          Atomics.notify(memory, 0);
          Atomics.wait(memory, 1, 0);
          yield buffer.byteLength;
        },
        transfer(new ArrayBuffer(8)),
        memory,
      );
      return stream.next();
    }],
  ];

  for (const [kind, start] of aloneMoving) {
    it(`Pool option taskTimeout on a job that has its worker to itself and moves buffers (${kind}): its limit runs`, async () => {
      const clock = new FakeClock();
      await using pool = new Pool({
        maxChildren: 1,
        taskTimeout: 100,
        abortGrace: Infinity,
        clock,
      });
      const g = gate();
      try {
        const job = start(pool, g.memory);
        await g.started();
        clock.tick(100);
        // Before: no timer was set for it; it waited for the task, for ever if it never ended.
        assert.equal(await promiseState(job), "rejected");
        await assert.rejects(job, TaskTimeoutError);
      } finally {
        g.open();
      }
      assert.equal(await pool.run(counted, new Int32Array(new SharedArrayBuffer(4)), 0), 0);
    });
  }

  for (const lanes of [1, 2]) {
    it(`Pool option abortGrace: a timed job that ran past its limit and ended in its grace keeps its worker; the job after it in its batch runs once (concurrentTasksPerWorker ${lanes})`, async () => {
      const clock = new FakeClock();
      await using pool = new Pool({
        maxChildren: 1,
        concurrentTasksPerWorker: lanes,
        abortGrace: 250, // real time: the test must open its gate within it (a stall past it fails it)
        clock,
      });
      const exits: unknown[] = [];
      let exited!: () => void;
      const exit = new Promise<void>((resolve) => exited = resolve);
      pool.addEventListener("workerexit", (event) => {
        exits.push(event.detail.reason);
        exited();
      });
      await measureGateQuick(pool); // one task, measured quick: the jobs below go as one batch
      const timed = gate();
      const next = gate();
      try {
        const late = pool.exec(waitAtGate, [timed.memory, "late"], { timeout: 100 });
        const after = pool.run(waitAtGate, next.memory, "after");
        await timed.started();
        clock.tick(100); // past its limit: it fails, its task is told to stop
        await assert.rejects(late, TaskTimeoutError);
        timed.open(); // it ends in its grace; the job after it starts and runs on
        await next.started();
        // Before: its answer waited behind that job; once the grace was up the
        // worker was replaced, and that job failed (several lanes) or ran
        // again (one lane). The grace passing is what is tested: a bound.
        assert.equal(await within(exit, 750), false, "its worker was not replaced");
        next.open();
        assert.equal(await after, "after");
        assert.equal(Atomics.load(next.memory, 0), 1, "the job after it ran once");
        assert.deepEqual(exits, []);
      } finally {
        timed.open();
        next.open();
      }
    });
  }

  it("Pool option abortGrace 0: the jobs a timed job's worker answered before it, unread as its limit passes, are done once", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, abortGrace: 0, taskTimeout: 100, clock });
    await measureGateQuick(pool);
    const runs = new Int32Array(new SharedArrayBuffer(4));
    assert.equal(await pool.run(counted, runs, 0), 0); // measured quick too
    const blocked = gate();
    try {
      const first = pool.run(counted, runs, 0);
      const stuck = pool.run(waitAtGate, blocked.memory, "stuck");
      for (let i = 0; i < 10; i++) await Promise.resolve(); // their batch goes
      // This thread stays busy from here until the limit passes: the answer
      // the worker sent before it started `stuck` stays unread.
      const giveUp = performance.now() + 10_000;
      while (Atomics.load(blocked.memory, 0) === 0 && performance.now() < giveUp);
      assert.equal(Atomics.load(blocked.memory, 0), 1, "`stuck` started");
      clock.tick(100);
      await assert.rejects(stuck, TaskTimeoutError);
      // Before: sent again with the replaced worker's jobs, it ran twice.
      assert.equal(await first, 0);
      assert.equal(Atomics.load(runs, 0), 2, "it ran once (after the one that measured it)");
    } finally {
      blocked.open();
    }
    assert.equal(await pool.run(counted, runs, 0), 0, "the pool goes on");
  });
});
