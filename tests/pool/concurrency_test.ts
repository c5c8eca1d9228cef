/**
 * `concurrentTasksPerWorker` (issue 13, part 3): a worker runs several async
 * jobs at once; answers come out of order; batching, timeouts, aborts and
 * `jobContext()` stay per job. Overlap is shown by shared counters, never by
 * timing.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { jobIds } from "../../src/pool/submitter.ts";
import type * as Tasks from "../fixtures/concurrency_tasks.ts";
import { FakeClock } from "../_fake_clock.ts";
import { fixture, promiseState, within } from "../_util.ts";
import { run, withThisRuntime } from "../_child.ts";
import { fileURLToPath } from "node:url";

const tasks = fixture("concurrency_tasks.ts");

function shared(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(12));
}

/** Resolves once `memory[word]` reaches `count`. */
async function reach(memory: Int32Array, word: number, count: number): Promise<void> {
  while (true) {
    const seen = Atomics.load(memory, word);
    if (seen >= count) return;
    const result = Atomics.waitAsync(memory, word, seen);
    if (result.async) await result.value;
  }
}

function open(memory: Int32Array): void {
  Atomics.store(memory, 1, 1);
}

function pool(options: ConstructorParameters<typeof Pool<typeof Tasks>>[0] = {}) {
  return new Pool<typeof Tasks>({
    maxChildren: 1,
    module: tasks,
    concurrentTasksPerWorker: 4,
    ...options,
  });
}

describe("Pool option concurrentTasksPerWorker", () => {
  it("runs four async jobs at once on one worker: all have started before any ends", async () => {
    await using p = pool();
    const memory = shared();
    const results = await Promise.all([1, 2, 3, 4].map(() => p.exec("meet", [memory, 4])));
    assert.deepEqual(results, [4, 4, 4, 4]);
    assert.equal(p.stats().workers.started, 1);
  });

  it("runs map items and one-argument run()s side by side, with results in place", async () => {
    await using p = pool({ concurrentTasksPerWorker: 8 });
    const memory = shared();
    const met = await Promise.all(Array.from({ length: 8 }, () => p.run("meet", memory, 8)));
    assert.deepEqual(met, Array(8).fill(8));
    const items = Array.from({ length: 300 }, (_, i) => i);
    assert.deepEqual(await p.collect("double", items), items.map((n) => n * 2));
    const numbers = await Promise.all(items.map((n) => p.run("double", n)));
    assert.deepEqual(numbers, items.map((n) => n * 2));
  });

  it("never runs more than the option's number of jobs at once", async () => {
    await using p = pool({ concurrentTasksPerWorker: 3 });
    const memory = new Int32Array(new SharedArrayBuffer(20));
    await Promise.all(Array.from({ length: 10 }, () => p.run("overlap", memory, 5)));
    assert.equal(Atomics.load(memory, 4), 3);
    assert.equal(Atomics.load(memory, 3), 0);
  });

  it("answers a quick job while a slow one on the same worker still runs", async () => {
    await using p = pool();
    const memory = shared();
    const slow = p.run("held", memory, "slow");
    await reach(memory, 0, 1);
    assert.equal(await p.run("double", 21), 42);
    await assert.rejects(p.run("failLater", "bad"), RangeError);
    assert.equal(await promiseState(slow), "pending");
    open(memory);
    assert.equal(await slow, "slow");
  });

  it("times each of the async jobs it runs at once on its own, in stats()", async () => {
    await using p = pool();
    // An async function: its first call is timed from its start. (A function that returns a
    // promise is known as one only after that call, timed from its return: a thread descheduled
    // between its setTimeout() and its return took up to 6 ms off the 50 ms job on Bun, 2 in 56.)
    const wait = async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    };
    const lengths = [50, 100, 150, 200];
    assert.deepEqual(await Promise.all(lengths.map((ms) => p.run(wait, ms))), lengths);
    const { runTime } = p.stats();
    assert.equal(runTime.count, 4);
    // Each ran its own length at least (a loaded machine may stretch it;
    // the histogram's error bound is 2%): not the time between the worker's
    // messages, which is what a job answered among others used to get.
    assert.ok(runTime.min >= 50 * 0.95, `min ${runTime.min}`);
    assert.ok(runTime.max >= 200 * 0.95, `max ${runTime.max}`);
  });

  it("counts an async job's synchronous part, before its first await, in its run time", async () => {
    await using p = pool();
    // 30 ms of work before the first await, then nothing to wait for.
    const busyFirst = async (ms: number, _tag = 0) => {
      const start = performance.now();
      while (performance.now() - start < ms) {
        // busy
      }
      await null;
      return ms;
    };
    // One argument, two (the general path), and a map of numbers (their own loop).
    assert.equal(await p.run(busyFirst, 30), 30);
    assert.equal(await p.run(busyFirst, 30, 1), 30);
    p.map(busyFirst, [30, 30]);
    await p.wait();
    const { runTime } = p.stats();
    assert.equal(runTime.count, 4);
    assert.ok(runTime.min >= 30 * 0.98, `min ${runTime.min}`);
    // Not an async function: once it returned a promise, the worker knows
    // (its first call is timed from its return).
    const busyThen = (ms: number) => {
      const start = performance.now();
      while (performance.now() - start < ms) {
        // busy
      }
      return Promise.resolve(ms);
    };
    for (let i = 0; i < 3; i++) assert.equal(await p.run(busyThen, 30), 30);
    const then = p.stats().tasks.busyThen!.runTime;
    assert.equal(then.count, 3);
    assert.ok(then.max >= 30 * 0.98, `max ${then.max}`);
  });

  it("synchronous tasks run as before, one at a time", async () => {
    await using p = pool();
    p.map("doubleSync", Array.from({ length: 1000 }, (_, i) => i));
    await p.wait();
    assert.equal(p.done.length, 1000);
    assert.deepEqual([...p.done].slice(0, 3), [0, 2, 4]);
  });

  it("jobContext() is per job: each concurrent job reports its own id to its own onProgress", async () => {
    await using p = pool();
    const seen = new Map<number, unknown[]>();
    const runs = [0, 1, 2, 3].map(async () => {
      const values: unknown[] = [];
      const id = await p.exec("reportOwn", [5], { onProgress: (value) => values.push(value) });
      seen.set(id, values);
    });
    await Promise.all(runs);
    assert.equal(seen.size, 4);
    for (const [id, values] of seen) {
      assert.deepEqual(values, [0, 1, 2, 3, 4].map((i) => [id, i]));
    }
  });

  it("times out one job of several in flight; it honours its signal and the others and the worker go on", async () => {
    const clock = new FakeClock();
    await using p = pool({ abortGrace: 10_000, clock });
    const exits: string[] = [];
    p.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const memory = shared();
    assert.equal(await p.run("double", 1), 2); // a started worker first (see job_context_test.ts)
    const others = [p.run("held", memory, 1), p.run("held", memory, 2)];
    await reach(memory, 0, 2);
    const timed = p.exec("heldAbortable", [memory, 3], { timeout: 20 });
    await reach(memory, 0, 3);
    clock.tick(20);
    await assert.rejects(timed, { name: "TaskTimeoutError" });
    await reach(memory, 2, 1);
    open(memory);
    assert.deepEqual(await Promise.all(others), [1, 2]);
    assert.deepEqual(exits, []);
  });

  it("taskTimeout times out each job on its own, with jobs still sharing the worker", async () => {
    const clock = new FakeClock();
    await using p = pool({ taskTimeout: 30, abortGrace: 10_000, clock });
    const memory = shared();
    const met = await Promise.all([1, 2, 3, 4].map(() => p.run("meet", memory, 4)));
    assert.deepEqual(met, [4, 4, 4, 4]);
    const stuck = shared();
    const jobs = [p.run("heldAbortable", stuck, 1), p.run("heldAbortable", stuck, 2)];
    await reach(stuck, 0, 2);
    clock.tick(30);
    for (const job of jobs) await assert.rejects(job, { name: "TaskTimeoutError" });
    await reach(stuck, 2, 2);
    assert.equal(await p.run("double", 4), 8);
    assert.equal(p.stats().workers.started, 1);
  });

  it("aborts one job of several in flight; it honours its signal and the worker is kept", async () => {
    await using p = pool({ abortGrace: 10_000 });
    const exits: string[] = [];
    p.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const memory = shared();
    const controller = new AbortController();
    const other = p.run("held", memory, "other");
    const aborted = p.exec("heldAbortable", [memory, "aborted"], { signal: controller.signal });
    await reach(memory, 0, 2);
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    await reach(memory, 2, 1);
    open(memory);
    assert.equal(await other, "other");
    assert.deepEqual(exits, []);
  });

  it("takes new jobs in its free lanes again once an aborted job has ended, while others still run", async () => {
    await using p = pool({ abortGrace: 10_000 });
    const memory = shared();
    const controller = new AbortController();
    const other = p.run("held", memory, "other"); // runs on, its gate closed
    const aborted = p.exec("heldAbortable", [memory, "aborted"], { signal: controller.signal });
    await reach(memory, 0, 2);
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    await reach(memory, 2, 1); // it honoured its signal and ended
    // Before: the worker took nothing more until every other job on it had ended.
    const next = p.run("double", 21);
    assert.equal(await within(next, 10_000), true, "a new job ran beside the held one");
    assert.equal(await next, 42);
    assert.equal(await promiseState(other), "pending");
    open(memory);
    assert.equal(await other, "other");
    assert.equal(p.stats().workers.started, 1);
  });

  // A child process, 2.1 s on a loaded machine: a limit of its own, not bun test's 5 s default.
  it(
    "a worker replaced for an abort past abortGrace fails the jobs it had finished unreported: none runs twice",
    {
      timeout: 60_000,
    },
    async () => {
      const program = fileURLToPath(fixture("replaced_rerun_program.ts"));
      const exit = await run(...withThisRuntime(program));
      assert.equal(exit.code, 0, exit.stderr);
      const rounds = exit.stdout.trim().split("\n").map((line) => JSON.parse(line));
      assert.equal(rounds.length, 10);
      for (const { aborted, runs, ends } of rounds) {
        assert.equal(aborted, "gone");
        assert.deepEqual(runs, [1, 1], "each quick job ran once");
        // The blocker fails; the third job, not started, ran on the new worker; the
        // first fails, unless its answer came back before the worker was ended.
        assert.equal(ends.length, 3);
        assert.equal(ends[0], "WorkerCrashedError");
        assert.equal(ends[2], "done 1");
      }
    },
  );

  it("answers what is done while every lane waits on a job still running", async () => {
    const done: number[] = [];
    let quickDone!: () => void;
    const quick = new Promise<void>((resolve) => quickDone = resolve);
    await using pool = new Pool({
      maxChildren: 1,
      concurrentTasksPerWorker: 2,
      doneCallback: (value) => {
        done.push(value as number);
        if (done.length === 3) quickDone();
      },
    });
    const gate = shared();
    // A number returns at once; the gate waits, without holding the thread, until it opens.
    const task = (x: number | Int32Array) =>
      typeof x === "number" ? x * 2 : (async () => {
        const wait = Atomics.waitAsync(x, 0, 0);
        if (wait.async) await wait.value;
        return -1;
      })();
    pool.map(task, [1, gate, 2, 3, gate, 4], true);
    try {
      // Both lanes wait at the gate; the last item waits for a lane. Before, the
      // answers of 1, 2 and 3 (and the gated jobs' LATER) waited in the worker too.
      assert.equal(await within(quick, 4_000), true, `answers that came: ${done}`);
      assert.deepEqual(done, [2, 4, 6]);
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    }
    assert.equal(await pool.wait(), true);
    assert.deepEqual(done.sort((a, b) => a - b), [-1, -1, 2, 4, 6, 8]);
  });

  it("checks its value", () => {
    assert.throws(() => new Pool({ concurrentTasksPerWorker: 0 }), RangeError);
    assert.throws(() => new Pool({ concurrentTasksPerWorker: 1.5 }), RangeError);
    assert.throws(() => new Pool({ concurrentTasksPerWorker: "2" as never }), TypeError);
    assert.throws(
      () => new Pool({ concurrency: 2 } as never),
      /did you mean "concurrentTasksPerWorker"/,
    );
  });
});

describe("Pool job ids past 2^32, with several lanes", () => {
  // A lane held the job's `id | 0`, and 0 marks a free lane: job 2^32 looked
  // finished while it ran. Where ids start is moved for these tests only.
  async function from<T>(first: number, test: () => Promise<T>): Promise<T> {
    const before = jobIds.first;
    jobIds.first = first;
    try {
      return await test();
    } finally {
      jobIds.first = before;
    }
  }

  it("times out job 2^32 like its neighbours (it never ended)", () =>
    from(2 ** 32 - 1, async () => {
      const clock = new FakeClock();
      const p = pool({ taskTimeout: 30, abortGrace: 10_000, clock });
      try {
        assert.equal(await p.run("double", 1), 2); // job 2^32 - 1: a started worker
        const stuck = shared();
        const jobs = [p.run("heldAbortable", stuck, 1), p.run("heldAbortable", stuck, 2)];
        await reach(stuck, 0, 2);
        clock.tick(30);
        assert.ok(await within(Promise.allSettled(jobs), 10_000), "jobs 2^32 and 2^32 + 1 end");
        for (const job of jobs) await assert.rejects(job, { name: "TaskTimeoutError" });
        assert.equal(p.pending, 0);
      } finally {
        await p.terminate();
      }
    }));

  it("fails job 2^32, running when its worker died, and does not run it again", () =>
    from(2 ** 32, async () => {
      await using p = pool();
      const memory = shared();
      const held = p.run("held", memory, "ran twice"); // job 2^32, in a lane
      await reach(memory, 0, 1);
      const exit = p.run("exitWhenAll", memory, 2); // counts itself in, then ends the worker
      await assert.rejects(exit, { name: "WorkerCrashedError" });
      open(memory); // a second run of job 2^32 would now end with its value
      await assert.rejects(held, { name: "WorkerCrashedError" });
      assert.equal(Atomics.load(memory, 0), 2, "each job started once");
    }));
});
