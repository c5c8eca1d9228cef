/**
 * Faults: jobs that time out (`taskTimeout`, `exec` timeout) and jobs aborted by
 * their signal, queued or running. Every job ends exactly once, and the pool keeps
 * working (helpers in `_faults.ts`).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { TaskTimeoutError } from "../../src/errors.ts";
import { CLAIM_RING } from "../../src/protocol/messages.ts";
import { FakeClock } from "../_fake_clock.ts";
import { gate, measureGateQuick, waitAtGate } from "../_gate.ts";
import { promiseState, within } from "../_util.ts";
import { identity, spinUntilReleased, tally, WatchedClock, workerName } from "./_faults.ts";

/**
 * Shared words for tasks that leave their worker's thread held after they
 * return: word 0 the test sets to release them, word 1 counts the threads held.
 */
function holder() {
  const memory = new Int32Array(new SharedArrayBuffer(8));
  return {
    memory,
    /** Resolves once `count` threads are held. */
    async held(count: number): Promise<void> {
      while (true) {
        const seen = Atomics.load(memory, 1);
        if (seen >= count) return;
        const result = Atomics.waitAsync(memory, 1, seen);
        if (result.async) await result.value;
      }
    },
    release(): void {
      Atomics.store(memory, 0, 1);
      Atomics.notify(memory, 0);
    },
  };
}

/** Options of the pools whose workers' threads a task leaves held: a wait of 2000 ms (startTimeout). */
const heldOptions = { taskTimeout: 100, startTimeout: 2_000, idleTimeout: 600_000 };

/** Ticks `clock` 100 ms a turn (real turns: messages get through) until `done()`, 100 times at most. */
async function passUntil(clock: FakeClock, done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    clock.tick(100);
  }
}

/**
 * Returns, leaving a timer that holds its worker's thread until released (see
 * `holder`); with a `gate`, once it opens (see `_gate.ts`).
 */
const leavesThreadHeld = (memory: Int32Array, gate?: Int32Array): string => {
  if (gate !== undefined) {
    Atomics.add(gate, 0, 1);
    Atomics.notify(gate, 0);
    Atomics.wait(gate, 1, 0);
  }
  setTimeout(() => {
    Atomics.add(memory, 1, 1);
    Atomics.notify(memory, 1);
    Atomics.wait(memory, 0, 0);
  }, 0);
  return "returned";
};

/**
 * A pool of one worker that waits in `setup()` until `release()`, whose jobs
 * (`run`) have a time limit of 100 ms, as `taskTimeout` or as `exec()`'s.
 */
function heldInSetup(limit: "taskTimeout" | "exec") {
  const clock = new WatchedClock();
  const holdSetup = new Int32Array(new SharedArrayBuffer(4));
  const pool = new Pool<typeof import("../fixtures/hooks_tasks.ts")>({
    maxChildren: 1,
    module: new URL("../fixtures/hooks_tasks.ts", import.meta.url),
    workerData: { counts: new Int32Array(new SharedArrayBuffer(8)), holdSetup },
    taskTimeout: limit === "taskTimeout" ? 100 : undefined,
    clock,
  });
  return {
    pool,
    clock,
    run: (task: "echo" | "mark", args: unknown[]): Promise<unknown> =>
      limit === "taskTimeout"
        ? pool.run(task, ...(args as [never, never]))
        : pool.exec(task, args as [never, never], { timeout: 100 }),
    /** Resolves once the job is sent to the starting worker (its limit's timer is set). */
    async sent(): Promise<void> {
      while (!clock.delays.some((ms) => ms <= 100)) await clock.timerSet();
    },
    release(): void {
      Atomics.store(holdSetup, 0, 1);
      Atomics.notify(holdSetup, 0);
    },
  };
}

/**
 * Runs `ms` (past its limit, in the tests that use it), marking `memory`:
 * word 0 once it started, word 2 counts the answers posted (bumped by a
 * timer, a later turn than its answer). With `promised`, it returns its
 * result as a promise, after its synchronous run.
 */
const runsThenMarks = (
  memory: Int32Array,
  ms: number,
  promised = false,
): string | Promise<string> => {
  Atomics.store(memory, 0, 1);
  Atomics.notify(memory, 0);
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
  setTimeout(() => Atomics.add(memory, 2, 1), 0);
  return promised ? Promise.resolve("late") : "late";
};

describe("Pool timeouts", () => {
  it("Pool option taskTimeout fails a job that runs too long with TaskTimeoutError and replaces its worker", async () => {
    // A fake clock: the timeout fires when the test says so, never because a worker started slowly.
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 50, clock });
    const g = gate();
    try {
      const slow = pool.run(waitAtGate, g.memory, "late");
      const queued = pool.run(identity, 2);
      await g.started();
      clock.tick(49);
      assert.equal(await promiseState(slow), "pending");
      clock.tick(1);
      await assert.rejects(slow, (error: unknown) => {
        assert.ok(error instanceof TaskTimeoutError);
        assert.equal(error.jobId, 1);
        assert.equal(error.timeout, 50);
        assert.match(error.message, /^Job 1 timed out after 50 ms$/);
        // No frames (they would be the pool's timer code), a string on Bun too (before: none).
        assert.equal(error.stack, `TaskTimeoutError: ${error.message}`);
        return true;
      });
      assert.equal(await queued, 2);
      assert.equal(await pool.run(workerName), "ThreadPool-2");
      assert.deepEqual([pool.alive, pool.busy, pool.pending], [1, 0, 0]);
    } finally {
      g.open();
    }
  });

  it("Pool option taskTimeout fails a job that runs too long in a program whose Error cannot be changed (hardened JS)", async () => {
    const clock = new FakeClock();
    const own = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit");
    // Read-only, as Object.freeze(Error) leaves it (configurable, so the test can undo it).
    Object.defineProperty(Error, "stackTraceLimit", {
      value: Error.stackTraceLimit,
      writable: false,
      configurable: true,
    });
    try {
      await using pool = new Pool({ maxChildren: 1, taskTimeout: 50, clock });
      const g = gate();
      try {
        const slow = pool.run(waitAtGate, g.memory, "late");
        await g.started();
        clock.tick(50);
        await assert.rejects(slow, (error) => {
          assert.ok(error instanceof TaskTimeoutError);
          // Before: the pool's own timer frames (it could not turn them off).
          assert.equal(error.stack, `TaskTimeoutError: ${error.message}`);
          return true;
        });
      } finally {
        g.open();
      }
      assert.equal(await pool.run(identity, 2), 2);
    } finally {
      if (own) Object.defineProperty(Error, "stackTraceLimit", own);
      else delete (Error as { stackTraceLimit?: number }).stackTraceLimit;
    }
  });

  for (const lanes of [1, 2]) {
    it(`Pool option taskTimeout: a worker replaced for a job that ignored its limit fails none of the jobs that ended before it (concurrentTasksPerWorker ${lanes})`, async () => {
      const clock = new FakeClock();
      const exits: string[] = [];
      await using pool = new Pool({
        maxChildren: 1,
        concurrentTasksPerWorker: lanes,
        taskTimeout: 1_000,
        abortGrace: 0,
        clock,
      });
      pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
      await measureGateQuick(pool); // one task, measured quick: the jobs below go as one batch
      const open = gate();
      open.open();
      const blocked = gate();
      try {
        const before = [1, 2, 3].map((n) => pool.run(waitAtGate, open.memory, n));
        const stuck = pool.run(waitAtGate, blocked.memory, "stuck");
        const after = [4, 5].map((n) => pool.run(waitAtGate, open.memory, n));
        await blocked.started();
        clock.tick(1_001); // past the stuck job's limit: its worker is replaced at once
        await assert.rejects(stuck, TaskTimeoutError);
        // Sent as the stuck job started, their answers were not lost with its worker.
        assert.deepEqual(await Promise.all(before), [1, 2, 3]);
        assert.deepEqual(await Promise.all(after), [4, 5], "not started: they went again");
        assert.deepEqual(exits, ["timeout"]);
        const { jobs } = pool.stats();
        assert.deepEqual([jobs.failed, jobs.done], [1, jobs.submitted - 1]);
      } finally {
        blocked.open();
      }
    });
  }

  it("Pool option abortGrace Infinity: a job that ignores its time limit holds no job sent with it (on one lane it has its worker to itself)", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 2, abortGrace: Infinity, clock });
    await measureGateQuick(pool); // one task, measured quick: the jobs below may go as one batch
    const open = gate();
    open.open();
    const blocked = gate();
    try {
      const stuck = pool.exec(waitAtGate, [blocked.memory, "stuck"], { timeout: 1_000 });
      const behind = [1, 2, 3].map((n) => pool.run(waitAtGate, open.memory, n));
      await blocked.started();
      clock.tick(1_001);
      await assert.rejects(stuck, TaskTimeoutError);
      // Before, they went in its batch: never replaced, its worker never reached them.
      assert.ok(await within(Promise.all(behind), 10_000), "the jobs sent with it ran");
      assert.deepEqual(await Promise.all(behind), [1, 2, 3]);
    } finally {
      blocked.open();
    }
  });

  it("Pool option taskTimeout with concurrentTasksPerWorker above the 256 timed jobs a worker is sent at once: every lane runs one", async () => {
    const clock = new FakeClock(); // no limit passes here
    const lanes = 300;
    await using pool = new Pool({
      maxChildren: 1,
      concurrentTasksPerWorker: lanes,
      taskTimeout: 60_000,
      clock,
    });
    const held = gate();
    const waitAsyncAtGate = async (memory: Int32Array) => {
      Atomics.add(memory, 0, 1);
      Atomics.notify(memory, 0);
      const wait = Atomics.waitAsync(memory, 1, 0);
      if (wait.async) await wait.value;
      return 1;
    };
    try {
      const jobs = Array.from({ length: lanes }, () => pool.run(waitAsyncAtGate, held.memory));
      // Before, a worker was sent no timed job past 256 held: 44 waited for the first to end.
      assert.ok(await within(held.started(lanes), 10_000), "all of them run at once");
      held.open();
      assert.equal((await Promise.all(jobs)).length, lanes);
    } finally {
      held.open();
    }
  });

  it("Pool option taskTimeout: timed jobs share their worker, each with its own clock, on one lane too", async () => {
    const clock = new FakeClock(); // no limit passes here
    await using pool = new Pool({ maxChildren: 1, taskTimeout: 60_000, clock });
    await measureGateQuick(pool); // so jobs go behind a gated one
    const held = gate();
    const open = gate();
    open.open();
    try {
      const first = pool.run(waitAtGate, held.memory, "first");
      const behind = [1, 2, 3, 4, 5].map((n) => pool.run(waitAtGate, open.memory, n));
      await held.started();
      // Before, each timed job had the worker to itself: a round trip each (a
      // map of 50,000 took 4.4 s on Deno): five waited in the queue here.
      const { queued, running } = pool.stats().jobs;
      assert.deepEqual({ queued, running }, { queued: 0, running: 6 });
      held.open();
      assert.equal(await first, "first");
      assert.deepEqual(await Promise.all(behind), [1, 2, 3, 4, 5]);
    } finally {
      held.open();
    }
  });

  it("Pool option taskTimeout times out each item of a map, not only the last", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 50, clock });
    const g = gate();
    const hang = (memory: Int32Array) => {
      Atomics.add(memory, 0, 1);
      Atomics.notify(memory, 0);
      Atomics.wait(memory, 1, 0);
      return "late";
    };
    try {
      assert.equal(pool.map(hang, [g.memory, g.memory, g.memory]), 3);
      const first = 1; // a fresh pool's first job id
      for (let item = 1; item <= 3; item++) {
        await g.started(item);
        clock.tick(50);
        await pool.failedCount.acquire();
      }
      const errors = [...pool.failed] as TaskTimeoutError[];
      assert.deepEqual(errors.map((error) => error.jobId), [first, first + 1, first + 2]);
      assert.ok(errors.every((error) => error instanceof TaskTimeoutError));
      assert.equal(pool.done.length, 0);
    } finally {
      g.open();
    }
  });

  it("Pool option taskTimeout moves a job off a worker whose thread something no job owns holds, and says so", async () => {
    // The pool's clock measures the wait (a job's own time): faked, so a
    // loaded machine's slow turns fail no ordinary job here.
    const clock = new FakeClock();
    await using pool = new Pool({ ...heldOptions, maxChildren: 1, clock });
    const before = await pool.run(workerName);
    const hold = holder();
    try {
      assert.equal(await pool.run(leavesThreadHeld, hold.memory), "returned");
      await hold.held(1);
      const errors: string[] = [];
      pool.addEventListener("error", (event) => errors.push(String(event.detail.error)));
      const exits: string[] = [];
      pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
      const moved = pool.run(identity, 5);
      await passUntil(clock, () => exits.length > 0); // before: its clock restarted at each look
      assert.equal(await moved, 5);
      assert.deepEqual(exits, ["timeout"]);
      assert.equal(errors.length, 1);
      assert.match(
        errors[0]!,
        /did not start job \d+ within 2000 ms \(its time limit or startTimeout\) with nothing ahead/,
      );
      assert.notEqual(await pool.run(workerName), before);
    } finally {
      hold.release();
    }
  });

  it("Pool option taskTimeout fails a job that a second worker did not start either, with nothing ahead of it (it would go round for ever)", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ ...heldOptions, maxChildren: 2, clock });
    const hold = holder();
    try {
      // One job on each worker, each leaving its thread held.
      const g = gate();
      const held = [1, 2].map(() => pool.run(leavesThreadHeld, hold.memory, g.memory));
      await g.started(2);
      g.open();
      assert.deepEqual(await Promise.all(held), ["returned", "returned"]);
      await hold.held(2);
      const exits: string[] = [];
      pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
      const outcome = pool.run(identity, 5).then(() => "ran", (error: Error) => error);
      await passUntil(clock, () => exits.length === 2);
      assert.match(
        String(await outcome),
        /^Error: Job \d+ did not start on two workers, each given 2000 ms .*; it fails$/,
      );
      assert.deepEqual(exits, ["timeout", "timeout"]);
    } finally {
      hold.release();
    }
  });

  it("Pool.exec() option timeout stops a synchronous endless loop", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const memory = new Int32Array(new SharedArrayBuffer(4));
    try {
      await assert.rejects(
        pool.exec(spinUntilReleased, [memory], { timeout: 50 }),
        TaskTimeoutError,
      );
      assert.equal(await pool.exec(identity, [5], { timeout: 10_000 }), 5);
      assert.equal(await pool.run(workerName), "ThreadPool-2");
    } finally {
      Atomics.store(memory, 0, 1);
    }
  });

  it("Pool.exec() option timeout does not fail a job that ended in time, its answer unread while this thread was busy", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, clock });
    assert.equal(await pool.run(identity, 1), 1); // a started worker
    // word 0 started, word 1 the gate, word 2 set by a timer once its answer was posted
    const shared = new Int32Array(new SharedArrayBuffer(12));
    const endsThenMarks = (memory: Int32Array, value: string) => {
      Atomics.store(memory, 0, 1);
      Atomics.notify(memory, 0);
      Atomics.wait(memory, 1, 0);
      setTimeout(() => Atomics.store(memory, 2, 1), 0); // a later turn: after its answer
      return value;
    };
    const job = pool.exec(endsThenMarks, [shared, "in time"], { timeout: 100 });
    while (Atomics.load(shared, 0) === 0) {
      const result = Atomics.waitAsync(shared, 0, 0);
      if (result.async) await result.value;
    }
    Atomics.store(shared, 1, 1);
    Atomics.notify(shared, 1); // the job ends and posts its answer, unread: this thread stays busy
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(shared, 2) === 0 && performance.now() < giveUp);
    assert.equal(Atomics.load(shared, 2), 1, "the worker posted its answer");
    clock.tick(100);
    assert.equal(await job, "in time");
    assert.equal(clock.pendingTimers, 0);
  });

  it("Pool.exec() option timeout fails a job that ran past its limit, though its timeout's look came only once it had ended (this thread busy)", async () => {
    await using pool = new Pool({ maxChildren: 1, minChildren: 1 });
    assert.equal(await pool.run(identity, 1), 1); // a started worker
    const shared = new Int32Array(new SharedArrayBuffer(12)); // see runsThenMarks
    const job = pool.exec(runsThenMarks, [shared, 200], { timeout: 50 });
    job.catch(() => {}); // handled now: its limit may pass before this thread resumes
    const started = Atomics.waitAsync(shared, 0, 0, 10_000);
    if (started.async) await started.value;
    assert.equal(Atomics.load(shared, 0), 1, "the job started");
    // This thread stays busy until the job has ended and posted its answer:
    // its timeout's look runs only then, and finds it ended.
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(shared, 2) === 0 && performance.now() < giveUp);
    assert.equal(Atomics.load(shared, 2), 1, "the worker posted its answer");
    // Before: "late", the job done though it ran 4 × its limit.
    await assert.rejects(job, { name: "TaskTimeoutError" });
    assert.equal(await pool.run(identity, 2), 2, "the worker goes on");
  });

  it("Pool option taskTimeout fails a map item that ran past its limit with this thread busy, its result a number", async () => {
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 50 });
    assert.equal(await pool.run(identity, 1), 1); // a started worker
    const shared = new Int32Array(new SharedArrayBuffer(12));
    const runsThenMarks = (memory: Int32Array) => {
      Atomics.store(memory, 0, 1);
      Atomics.notify(memory, 0);
      const end = performance.now() + 200;
      while (performance.now() < end) {
        // runs 200 ms, past its 50 ms limit
      }
      setTimeout(() => Atomics.store(memory, 2, 1), 0); // a later turn: after its answer
      return 7; // a number: it answers among the batch's numbers
    };
    pool.map(runsThenMarks, [shared]);
    const started = Atomics.waitAsync(shared, 0, 0, 10_000);
    if (started.async) await started.value;
    assert.equal(Atomics.load(shared, 0), 1, "the job started");
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(shared, 2) === 0 && performance.now() < giveUp);
    assert.equal(await pool.wait(), true);
    // Before: done with 7.
    assert.deepEqual([pool.done.length, (pool.failed.at(0) as Error)?.name], [
      0,
      "TaskTimeoutError",
    ]);
  });

  it("Pool.exec() option timeout fails jobs that ran past their limit beside others on their worker, though their timeouts' looks came only once they had ended (this thread busy)", async () => {
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, concurrentTasksPerWorker: 3 });
    assert.equal(await pool.run(identity, 1), 1); // a started worker
    const shared = new Int32Array(new SharedArrayBuffer(12)); // see runsThenMarks
    // In one batch, each timed: two run 150 ms under a 50 ms limit, one 1 ms under a long one.
    const jobs = [150, 1, 150].map((ms) =>
      pool.exec(runsThenMarks, [shared, ms], { timeout: ms === 1 ? 60_000 : 50 })
    );
    while (Atomics.load(shared, 0) === 0) {
      const result = Atomics.waitAsync(shared, 0, 0);
      if (result.async) await result.value;
    }
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(shared, 2) < 3 && performance.now() < giveUp);
    assert.equal(Atomics.load(shared, 2), 3, "the worker posted their answers");
    const outcomes = await Promise.allSettled(jobs);
    // Before: the first "late" (its answer's message was not its alone), though it ran 3 × its limit.
    assert.deepEqual(
      outcomes.map((o) => o.status === "fulfilled" ? o.value : (o.reason as Error).name),
      ["TaskTimeoutError", "late", "TaskTimeoutError"],
    );
    assert.equal(await pool.run(identity, 2), 2, "the worker goes on");
  });

  it("Pool.exec() option timeout fails a job (several lanes) whose task returned its first promise after running past its limit, this thread busy", async () => {
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, concurrentTasksPerWorker: 2 });
    assert.equal(await pool.run(identity, 1), 1); // a started worker
    const shared = new Int32Array(new SharedArrayBuffer(12)); // see runsThenMarks
    const job = pool.exec(runsThenMarks, [shared, 200, true], { timeout: 50 });
    job.catch(() => {}); // handled now: its limit may pass before this thread resumes
    const started = Atomics.waitAsync(shared, 0, 0, 10_000);
    if (started.async) await started.value;
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(shared, 2) === 0 && performance.now() < giveUp);
    assert.equal(Atomics.load(shared, 2), 1, "the worker posted its answer");
    // Before: "late": the task not yet known to return promises, its clock started at its promise.
    await assert.rejects(job, { name: "TaskTimeoutError" });
    assert.equal(await pool.run(identity, 2), 2, "the worker goes on");
  });

  it("Pool option taskTimeout fails each map item that ran past its limit in a batch with others (several lanes), this thread busy", async () => {
    await using pool = new Pool({
      maxChildren: 1,
      minChildren: 1,
      taskTimeout: 50,
      concurrentTasksPerWorker: 2, // with one, a timed job is alone on its worker
    });
    assert.equal(await pool.run(identity, 1), 1); // a started worker
    const shared = new Int32Array(new SharedArrayBuffer(12));
    const runsThenMarks = ([memory, ms]: [Int32Array, number]) => {
      Atomics.store(memory, 0, 1);
      Atomics.notify(memory, 0);
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // runs past its limit
      }
      setTimeout(() => Atomics.add(memory, 2, 1), 0);
      return 7;
    };
    // Measured quick, so the pool sends both items in one batch (with no limit of its own: on
    // a loaded machine even a 0 ms job may wait 50 ms for its thread).
    const warmUp: [Int32Array, number] = [new Int32Array(new SharedArrayBuffer(12)), 0];
    assert.equal(await pool.exec(runsThenMarks, [warmUp], { timeout: 0 }), 7);
    pool.map(runsThenMarks, [[shared, 120], [shared, 120]]);
    while (Atomics.load(shared, 0) === 0) {
      const result = Atomics.waitAsync(shared, 0, 0);
      if (result.async) await result.value;
    }
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(shared, 2) < 2 && performance.now() < giveUp);
    assert.equal(await pool.wait(), true);
    // Before: both done with 7 (their answers came in one message).
    assert.deepEqual([pool.done.length, [...pool.failed].map((error) => (error as Error).name)], [
      0,
      ["TaskTimeoutError", "TaskTimeoutError"],
    ]);
  });

  for (const lanes of [1, 3]) {
    it(`Pool.exec() option timeout fails an async generator job that ran past its limit, its values sent before it ended, this thread busy (${lanes} lane${lanes > 1 ? "s" : ""})`, async () => {
      await using pool = new Pool({
        maxChildren: 1,
        minChildren: 1,
        concurrentTasksPerWorker: lanes,
      });
      assert.equal(await pool.run(identity, 1), 1); // a started worker
      const shared = new Int32Array(new SharedArrayBuffer(12));
      const yieldsSlowly = async function* (memory: Int32Array) {
        Atomics.store(memory, 0, 1);
        Atomics.notify(memory, 0);
        for (let i = 0; i < 3; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          yield i; // sent on its own, before the job ends
        }
        setTimeout(() => Atomics.store(memory, 2, 1), 0); // a later turn: after its answer
      };
      const job = pool.exec(yieldsSlowly, [shared], { timeout: 40 });
      job.catch(() => {}); // handled now: its limit may pass before this thread resumes
      while (Atomics.load(shared, 0) === 0) {
        const result = Atomics.waitAsync(shared, 0, 0);
        if (result.async) await result.value;
      }
      const giveUp = performance.now() + 10_000;
      while (Atomics.load(shared, 2) === 0 && performance.now() < giveUp);
      // Before: done with [0, 1, 2], its time counted from its last values only.
      await assert.rejects(job, { name: "TaskTimeoutError" });
    });
  }

  it("Pool.exec() option timeout does not fail a quick job answered beside an asynchronous one's long synchronous part (several lanes)", async () => {
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, concurrentTasksPerWorker: 3 });
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // busy
      }
      return ms;
    };
    const slowStart = async (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // 500 ms before its first await
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      return "A";
    };
    assert.equal(await pool.run(spin, 0), 0);
    assert.equal(await pool.run(slowStart, 0), "A");
    // In one batch: the async job's synchronous part, then the quick timed one.
    // (A limit of 300 ms: a main thread descheduled longer than that between the looks at the
    // job, which start its clock, would charge it its wait; 100 ms failed once under load.)
    const a = pool.run(slowStart, 500);
    const b = pool.exec(spin, [5], { timeout: 300 });
    // Before (a first version of the check): TaskTimeoutError, the message's time taken for its own.
    assert.deepEqual(await Promise.all([a, b]), ["A", 5]);
  });

  it("Pool.exec() option timeout 0 or Infinity lifts the pool's taskTimeout for that job", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 50, clock });
    for (const timeout of [0, Infinity]) {
      const g = gate();
      const job = pool.exec(waitAtGate, [g.memory, timeout], { timeout });
      await g.started();
      clock.tick(1_000);
      assert.equal(clock.pendingTimers, 0, `no timer with timeout ${timeout}`);
      assert.equal(await promiseState(job), "pending");
      g.open();
      assert.equal(await job, timeout);
    }
  });

  it("Pool option taskTimeout and exec() timeout leave no timer behind once the job ends", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 60_000, clock });
    assert.equal(await pool.run(identity, 1), 1);
    assert.equal(await pool.exec(identity, [2], { timeout: 30_000 }), 2);
    assert.equal(clock.pendingTimers, 0, "a timeout timer outlived its job");
  });

  it("Pool option taskTimeout counts the time a stream waits for its consumer; the stream ends at its yield and keeps its worker", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 50, clock });
    const exits: unknown[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail));
    const stream = pool.stream(function* () {
      for (let i = 0;; i++) yield i;
    });
    assert.deepEqual(await stream.next(), { value: 0, done: false });
    // The consumer holds back; the task waits for it, and its clock runs on.
    clock.tick(50);
    await assert.rejects(async () => {
      for await (const _ of stream) {
        // the values made ahead of the consumer, then the failure
      }
    }, TaskTimeoutError);
    // Before: the generator, held at a yield for credit, never saw the abort, and its
    // worker was replaced after abortGrace; this job then ran on ThreadPool-2.
    assert.equal(await pool.run(() => self.name), "ThreadPool-1");
    assert.deepEqual(exits, []);
  });

  it("Pool option taskTimeout with concurrentTasksPerWorker starts a job's clock when its worker reaches it", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({
      maxChildren: 1,
      minChildren: 1,
      concurrentTasksPerWorker: 2,
      taskTimeout: 1_000,
      clock,
    });
    const first = gate();
    const second = gate();
    try {
      assert.equal(await pool.run(identity, 0), 0); // a started worker
      // Sent together; `a` is synchronous, so `b` starts when it ends.
      const a = pool.run(waitAtGate, first.memory, "a");
      const b = pool.run(waitAtGate, second.memory, "b");
      await first.started();
      clock.tick(600);
      first.open();
      await second.started();
      // A timed job's worker sends what the jobs before it answered as it starts it.
      assert.equal(await a, "a");
      clock.tick(600); // 1,200 ms since both were sent, at most 600 since `b` started
      assert.equal(await promiseState(b), "pending");
      clock.tick(400); // past b's limit, counted from the last look (every 62.5 ms) that saw it wait
      await assert.rejects(b, TaskTimeoutError);
      second.open();
    } finally {
      first.open();
      second.open();
    }
  });

  it("Pool option taskTimeout and exec() timeout do not count a worker's start-up (setup()) as the job's time", async () => {
    for (const limit of ["taskTimeout", "exec"] as const) {
      const held = heldInSetup(limit);
      await using _pool = held.pool;
      try {
        const job = held.run("echo", [7]);
        await held.sent();
        held.clock.tick(1_000); // ten times its limit, all of it in setup()
        assert.equal(await promiseState(job), "pending", limit);
        held.release();
        assert.equal(await job, 7, limit);
      } finally {
        held.release();
      }
    }
  });

  it("Pool option taskTimeout and exec() timeout count from the job's start when the pool sees it start before its worker's ready message", async () => {
    for (const limit of ["taskTimeout", "exec"] as const) {
      const held = heldInSetup(limit);
      await using _pool = held.pool;
      const started = new Int32Array(new SharedArrayBuffer(4));
      try {
        const job = held.run("mark", [started, 7]);
        await held.sent();
        held.clock.tick(99); // 99 ms of setup()
        held.release();
        // The job starts; this thread does not go back to its event loop, so the worker's
        // ready message stays unread.
        while (Atomics.load(started, 0) === 0) Atomics.wait(started, 0, 0, 10);
        held.clock.tick(1); // the job has run 1 ms of its 100
        assert.equal(await job.catch(String), 7, limit);
      } finally {
        held.release();
      }
    }
  });

  it("Pool option taskTimeout ends a map item that cannot be cloned once, with concurrentTasksPerWorker", async () => {
    const clock = new FakeClock();
    const { ends, options, exactlyOnce } = tally({ results: true });
    await using pool = new Pool({
      maxChildren: 1,
      minChildren: 1,
      concurrentTasksPerWorker: 2,
      taskTimeout: 100,
      clock,
      ...options,
    });
    assert.equal(await pool.run(identity, 0), 0);
    const items = [1, 2, () => 3, 4] as unknown as number[]; // the third cannot be cloned
    assert.equal(pool.map(identity, items), 4);
    assert.equal(await pool.wait(), true);
    clock.tick(1_000); // past the limit of every item: none may end again
    exactlyOnce([2, 3, 4, 5]);
    assert.deepEqual([2, 3, 4, 5].map((id) => ends.get(id)![0]), [
      "done:1",
      "done:2",
      "failed:TypeError",
      "done:4",
    ]);
    assert.equal(pool.pending, 0);
    assert.equal(pool.stats().jobs.running, 0);
    assert.equal(clock.pendingTimers, 0, "a timeout timer outlived its job");
  });
});

describe("Pool aborts", () => {
  it("Pool.exec() option signal on a running job replaces its worker and rejects with the reason", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const g = gate();
    try {
      const controller = new AbortController();
      const running = pool.exec(waitAtGate, [g.memory, "never"], { signal: controller.signal });
      const queued = pool.run(identity, 7);
      await g.started();
      const reason = new Error("no longer needed");
      controller.abort(reason);
      await assert.rejects(running, (error) => error === reason);
      assert.equal(await queued, 7);
      assert.equal(await pool.run(workerName), "ThreadPool-2");
      assert.deepEqual([pool.alive, pool.busy, pool.pending], [1, 0, 0]);
    } finally {
      g.open();
    }
  });

  it("Pool options abortGrace and idleTimeout take Infinity: an aborted task keeps its worker however late it ends, and an idle worker stays", async () => {
    const clock = new FakeClock();
    // Before: RangeError, "must be a finite number of milliseconds".
    await using pool = new Pool({
      maxChildren: 1,
      abortGrace: Infinity,
      idleTimeout: Infinity,
      clock,
    });
    const exits: unknown[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail));
    const g = gate();
    try {
      const controller = new AbortController();
      const job = pool.exec(waitAtGate, [g.memory, "late"], { signal: controller.signal });
      await g.started();
      controller.abort(new Error("not needed"));
      await assert.rejects(job, /not needed/);
      const next = pool.run(() => self.name);
      assert.equal(await promiseState(next), "pending", "the worker waits for its aborted task");
      g.open();
      assert.equal(await next, "ThreadPool-1");
      clock.tick(1e12); // idle for ever after
      assert.equal(pool.alive, 1);
      assert.deepEqual(exits, []);
    } finally {
      g.open();
    }
  });

  it("Pool.exec() option signal on a queued job cancels it", async () => {
    const cancelled: number[] = [];
    await using pool = new Pool({ maxChildren: 1, cancelledCallback: (id) => cancelled.push(id) });
    const g = gate();
    try {
      const running = pool.run(waitAtGate, g.memory, "ran");
      await g.started();
      const controller = new AbortController();
      const queued = pool.exec(identity, [2], { signal: controller.signal });
      assert.equal(pool.pending, 2);
      controller.abort("changed my mind");
      await assert.rejects(queued, (error) => error === "changed my mind");
      assert.deepEqual(cancelled, [2]);
      assert.equal(pool.pending, 1);
      g.open();
      assert.equal(await running, "ran");
      assert.equal(await pool.run(workerName), "ThreadPool-1", "a queued abort kills no worker");
    } finally {
      g.open();
    }
  });

  it("Pool.exec() option signal on a job its worker holds behind others (concurrentTasksPerWorker) cancels it; the worker keeps the rest", async () => {
    const cases = [
      { abortGrace: 0, timeout: undefined, moves: false },
      { abortGrace: 250, timeout: undefined, moves: false },
      { abortGrace: 250, timeout: 30_000, moves: false }, // a timed job's batch
      { abortGrace: 250, timeout: undefined, moves: true }, // one that moves a buffer
    ];
    for (const { abortGrace, timeout, moves } of cases) {
      const clock = new WatchedClock();
      const cancelled: number[] = [];
      await using pool = new Pool({
        maxChildren: 1,
        minChildren: 1,
        concurrentTasksPerWorker: 3,
        abortGrace,
        cancelledCallback: (id) => cancelled.push(id),
        clock,
      });
      const g = gate();
      try {
        assert.equal(await pool.run(identity, 0), 0);
        const exits: string[] = [];
        pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
        const a = pool.run(waitAtGate, g.memory, "a"); // synchronous: holds the worker
        await g.started();
        const ran = new Int32Array(new SharedArrayBuffer(4));
        const controller = new AbortController();
        const buffer = new ArrayBuffer(8);
        const b = pool.exec(
          async (ran: Int32Array, _buffer?: ArrayBuffer) => {
            Atomics.store(ran, 0, 1);
            return await Promise.resolve("b");
          },
          moves ? [ran, buffer] : [ran],
          { signal: controller.signal, timeout, transfer: moves ? [buffer] : undefined },
        );
        // Sent after b's batch, a timed job's leaves b's no longer the last one out.
        const c = pool.exec((s: string) => s, ["c"], { timeout: 60_000 });
        while (!clock.delays.some((ms) => ms === 60_000 || ms === 60_000 / 16)) {
          await clock.timerSet();
        }
        assert.equal(pool.jobs.length, 0, "b and c went to the worker");
        controller.abort(new Error("not needed"));
        await assert.rejects(b, /not needed/);
        const what = JSON.stringify({ abortGrace, timeout, moves });
        assert.equal(cancelled.length, 1, `${what}: b was cancelled, not failed`);
        g.open();
        assert.deepEqual([await a, await c], ["a", "c"]);
        assert.equal(Atomics.load(ran, 0), 0, "b never ran");
        assert.deepEqual(exits, [], "the worker was kept");
        const { jobs } = pool.stats();
        assert.deepEqual([jobs.done, jobs.failed, jobs.cancelled], [3, 0, 1]);
      } finally {
        g.open();
      }
    }
  });

  it("Pool.exec() option signal behind more batches than the claim ring holds waits in the queue, and is cancelled there", async () => {
    const cancelled: number[] = [];
    await using pool = new Pool({
      maxChildren: 1,
      minChildren: 1,
      concurrentTasksPerWorker: 40,
      cancelledCallback: (id) => cancelled.push(id),
    });
    const g = gate();
    try {
      assert.equal(await pool.run(identity, 0), 0);
      const exits: string[] = [];
      pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
      const a = pool.run(waitAtGate, g.memory, "a"); // synchronous: holds the worker
      await g.started();
      // One batch a tick, each with a claim word, until the ring of words is spent.
      const others: Promise<unknown>[] = [];
      for (let i = 1; i <= CLAIM_RING; i++) {
        others.push(pool.run(identity, i));
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      assert.equal(pool.stats().jobs.queued, CLAIM_RING, "the worker holds them, not started");
      const ran = new Int32Array(new SharedArrayBuffer(4));
      const controller = new AbortController();
      const b = pool.exec(
        async (ran: Int32Array) => {
          Atomics.store(ran, 0, 1);
          return await Promise.resolve("b");
        },
        [ran],
        { signal: controller.signal },
      );
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(pool.jobs.length, 1, "b, with no claim word to take it back by, stayed queued");
      controller.abort(new Error("not needed"));
      await assert.rejects(b, /not needed/);
      assert.equal(cancelled.length, 1, "b was cancelled, not failed");
      g.open();
      assert.equal(await a, "a");
      assert.deepEqual(
        await Promise.all(others),
        Array.from({ length: CLAIM_RING }, (_, i) => i + 1),
      );
      assert.equal(Atomics.load(ran, 0), 0, "b never ran");
      assert.deepEqual(exits, [], "the worker was kept");
      // Once the ring has room, an abortable job goes to the worker again.
      assert.equal(await pool.exec(identity, [4], { signal: new AbortController().signal }), 4);
    } finally {
      g.open();
    }
  });

  it("Pool: a worker whose aborted job has not ended takes no new job before abortGrace replaces it (concurrentTasksPerWorker)", async () => {
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 2, abortGrace: 100 });
    assert.equal(await pool.run(identity, 0), 0);
    const exited = new Promise((resolve) => {
      pool.addEventListener("workerexit", (event) => resolve(event.detail.reason), { once: true });
    });
    const controller = new AbortController();
    const running = gate();
    const deaf = pool.exec(
      (m: Int32Array) => {
        Atomics.add(m, 0, 1);
        Atomics.notify(m, 0);
        return new Promise(() => {}); // never ends, nor hears its abort
      },
      [running.memory],
      { signal: controller.signal },
    );
    await running.started(); // aborted now, it fails as running (not cancelled)
    controller.abort(new Error("not needed"));
    await assert.rejects(deaf, /not needed/);
    const g = gate();
    try {
      // The worker has a free lane, but it is to be replaced: this job waits for the next one.
      // (Before, it started in that lane and failed with WorkerCrashedError at the replacement.)
      const next = pool.run(waitAtGate, g.memory, "next");
      assert.equal(await exited, "abort");
      g.open();
      assert.equal(await next, "next");
    } finally {
      g.open();
    }
  });

  it("Pool.exec() with an aborted signal rejects at once and queues nothing", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const reason = new Error("too late");
    const job = pool.exec(identity, [1], { signal: AbortSignal.abort(reason) });
    assert.equal(pool.pending, 0);
    await assert.rejects(job, (error) => error === reason);
    const done = new AbortController();
    assert.equal(await pool.exec(identity, [2], { signal: done.signal }), 2);
    done.abort();
    assert.equal(pool.pending, 0, "aborting after the end changes nothing");
  });

  it("Pool.exec() with an aborted signal still refuses a bad task, and a closed pool, with their own errors", async () => {
    const pool = new Pool({ maxChildren: 1 });
    const signal = AbortSignal.abort(new Error("too late"));
    // Before: the abort reason, which hid the mistake.
    await assert.rejects(pool.exec(123 as never, [] as never, { signal }), {
      name: "TypeError",
      message: /"task" must be a function, an export name or a task\(\) reference, received 123/,
    });
    await assert.rejects(pool.exec(Math.max, [1], { signal }), {
      name: "TypeError",
      message: /a native function/,
    });
    await assert.rejects(pool.exec(identity, [1], { signal }), { message: "too late" });
    assert.equal(pool.stats().jobs.submitted, 0, "none was made");
    await pool.shutdown();
    await assert.rejects(pool.exec(identity, [1], { signal }), { name: "PoolClosedError" });
  });
});
