/**
 * Watching a running pool (issue 12): `stats()`, events, back-pressure.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { Histogram } from "../../src/pool/stats.ts";
import { WorkerCrashedError } from "../../src/errors.ts";
import { gate, waitAtGate } from "../_gate.ts";
import { fixture } from "../_util.ts";
import type * as Tasks from "../fixtures/tasks.ts";

/** Busy-waits `ms` milliseconds, then returns it: a job of known length. */
const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
  return ms;
};

const crash = () => {
  (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(1);
};

describe("Histogram", () => {
  it("Histogram percentiles are within 2.2% of the true ones on a known distribution", () => {
    const histogram = new Histogram();
    // 1,000 samples: 0.01 ms … 10 ms, spread evenly on a log scale.
    const samples = Array.from({ length: 1000 }, (_, i) => 0.01 * 1000 ** (i / 999));
    for (const sample of samples) histogram.add(sample);
    const summary = histogram.summary();
    const sorted = [...samples].sort((a, b) => a - b);
    for (const [q, key] of [[0.5, "p50"], [0.9, "p90"], [0.99, "p99"]] as const) {
      const truth = sorted[Math.ceil(q * sorted.length) - 1]!;
      const error = Math.abs(summary[key] - truth) / truth;
      assert.ok(error <= 0.022 + 1e-9, `${key}: ${summary[key]} vs ${truth} (${error})`);
    }
    assert.equal(summary.count, 1000);
    assert.equal(summary.min, samples[0]);
    assert.equal(summary.max, samples[999]);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    assert.ok(Math.abs(summary.mean - mean) < 1e-9);
  });

  it("Histogram adds n samples at once, and reports zeros while empty", () => {
    const histogram = new Histogram();
    assert.deepEqual(histogram.summary(), {
      count: 0,
      min: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      max: 0,
    });
    histogram.add(2, 99);
    histogram.add(100, 1);
    const summary = histogram.summary();
    assert.equal(summary.count, 100);
    assert.ok(Math.abs(summary.p50 - 2) / 2 <= 0.022);
    assert.ok(Math.abs(summary.p99 - 2) / 2 <= 0.022);
    assert.equal(summary.max, 100);
  });

  it("Histogram's mean stays between min and max, whatever the rounding of its sum", () => {
    const histogram = new Histogram();
    histogram.add(44.119749999999996, 3);
    const { min, mean, max } = histogram.summary();
    // Before: 44.11974999999999, below min.
    assert.ok(min <= mean && mean <= max, `${min} <= ${mean} <= ${max}`);
  });
});

describe("Pool.stats()", () => {
  it("Pool.stats() adds up to the jobs run: done, failed, cancelled, queued, running", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const g = gate();
    const held = pool.run(waitAtGate, g.memory, "held");
    await g.started();
    pool.map((n: number) => n, [1, 2, 3, 4]);
    pool.submit(() => {
      throw new RangeError("no");
    });
    const cancelled = pool.submit((n: number) => n, 5);
    let stats;
    try {
      assert.equal(pool.cancel(cancelled), true);
      stats = pool.stats();
    } finally {
      g.open(); // an assertion that fails must not leave the job blocked
    }
    assert.deepEqual(stats.jobs, {
      submitted: 7,
      done: 0,
      failed: 0,
      cancelled: 1,
      queued: 5,
      running: 1,
      sharedLane: 0,
      stolen: 0,
    });
    // `started` counts the worker's "ready" message, which may still be on its way.
    assert.deepEqual({ ...stats.workers, started: 1 }, {
      alive: 1,
      busy: 1,
      idle: 0,
      started: 1,
      exited: 0,
      crashed: 0,
    });
    await held;
    await pool.wait();
    stats = pool.stats();
    assert.deepEqual(stats.jobs, {
      submitted: 7,
      done: 5,
      failed: 1,
      cancelled: 1,
      queued: 0,
      running: 0,
      sharedLane: 0,
      stolen: 0,
    });
    assert.equal(stats.runTime.count, 6, "every job that ran was timed");
    assert.equal(stats.waitTime.count, 6, "every job that was sent was timed");
    assert.ok(stats.utilization >= 0 && stats.utilization <= 1);
    assert.deepEqual(Object.keys(stats.tasks).sort(), ["(inline)", "waitAtGate"].sort());
  });

  it("Pool.stats() times jobs of known length, per task", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const lengths = [...Array(20).fill(1), ...Array(10).fill(4)];
    await Promise.all(lengths.map((ms) => pool.run(busy, ms)));
    const { runTime, tasks } = pool.stats();
    assert.equal(runTime.count, 30);
    // A job's time includes the call around it; the clock may also run late under load.
    // Each job takes at least its length (a loaded machine may stretch it, so only the lower
    // bounds are checked; the Histogram tests above check the error bound exactly).
    const atLeast = (value: number, ms: number) => value >= ms * 0.978;
    assert.ok(atLeast(runTime.min, 1), `min ${runTime.min}`);
    assert.ok(atLeast(runTime.p50, 1), `p50 ${runTime.p50}`);
    assert.ok(atLeast(runTime.p90, 4), `p90 ${runTime.p90}`);
    assert.ok(runTime.p50 <= runTime.p90 && runTime.p90 <= runTime.max);
    assert.equal(tasks.busy?.runTime.count, 30);
  });

  it("Pool.stats() counts two functions of the same source as one task, under the first one's name", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const first = (n: number) => n + 1;
    const twin = (n: number) => n + 1;
    const other = (n: number) => n + 2;
    const results = await Promise.all([pool.run(first, 1), pool.run(twin, 2), pool.run(other, 3)]);
    assert.deepEqual(results, [2, 3, 5]);
    const { tasks } = pool.stats();
    assert.deepEqual(Object.keys(tasks).sort(), ["first", "other"]);
    assert.equal(tasks.first?.runTime.count, 2);
  });

  it("Pool.stats() adds up different tasks that share a name, so the tasks sum to the whole", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const counts = [3, 5, 4];
    const tasks = [(n: number) => n + 1, (n: number) => n * 2, (n: number) => n - 1];
    for (let k = 0; k < tasks.length; k++) {
      for (let i = 0; i < counts[k]!; i++) await pool.run(tasks[k]!, i);
    }
    function echo(n: number) {
      return n;
    }
    function echoToo(n: number) {
      return -n;
    }
    Object.defineProperty(echoToo, "name", { value: "echo" });
    await Promise.all([pool.run(echo, 1), pool.run(echoToo, 2), pool.run(echoToo, 3)]);
    const stats = pool.stats();
    assert.deepEqual(Object.keys(stats.tasks).sort(), ["(inline)", "echo"]);
    assert.equal(stats.tasks["(inline)"]?.runTime.count, 12);
    assert.equal(stats.tasks["(inline)"]?.waitTime.count, 12);
    assert.equal(stats.tasks.echo?.runTime.count, 3);
    assert.equal(stats.runTime.count, 15);
    const inline = stats.tasks["(inline)"]!.runTime;
    assert.ok(inline.min <= inline.p50 && inline.p50 <= inline.max);
  });

  it("Pool.stats() counts a stream whose consumer left as cancelled, one read to its end as done", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    function* endless() {
      for (let i = 0;; i++) yield i;
    }
    async function* slowly() {
      for (let i = 0;; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield i;
      }
    }
    for (const task of [endless, slowly]) {
      for await (const n of pool.stream(task)) if (n === 3) break;
    }
    const values: number[] = [];
    for await (
      const n of pool.stream(function* () {
        yield* [1, 2];
      })
    ) values.push(n);
    assert.deepEqual(values, [1, 2]);
    await pool.wait();
    const { jobs, runTime } = pool.stats();
    assert.equal(jobs.cancelled, 2);
    assert.equal(jobs.done, 1);
    assert.equal(jobs.submitted, jobs.done + jobs.failed + jobs.cancelled);
    // Before: 3, the streams left (cancelled) timed as if their answers had ended them.
    assert.equal(runTime.count, jobs.done + jobs.failed);
  });

  it("Pool.stats({ reset: true }) starts counting afresh", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    pool.map((n: number) => n, [1, 2, 3]);
    await pool.wait();
    assert.equal(pool.stats({ reset: true }).jobs.done, 3);
    const after = pool.stats();
    assert.deepEqual(after.jobs, {
      submitted: 0,
      done: 0,
      failed: 0,
      cancelled: 0,
      queued: 0,
      running: 0,
      sharedLane: 0,
      stolen: 0,
    });
    assert.equal(after.runTime.count, 0);
    assert.equal(after.workers.started, 0);
    await pool.run((n: number) => n, 1);
    assert.equal(pool.stats().jobs.submitted, 1);
  });

  it("Pool.stats({ reset: true }) with jobs in flight: they count as submitted after it, so the sum holds", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const held = gate();
    const first = pool.run(waitAtGate, held.memory, "held");
    pool.map((n: number) => n, [1, 2, 3]);
    await held.started();
    const sum = ({ jobs }: ReturnType<typeof pool.stats>) =>
      jobs.done + jobs.failed + jobs.cancelled + jobs.queued + jobs.running;
    assert.equal(pool.stats({ reset: true }).jobs.submitted, 4);
    const during = pool.stats();
    assert.equal(during.jobs.submitted, 4, "the four in flight");
    assert.equal(sum(during), 4);
    held.open();
    assert.equal(await first, "held");
    await pool.wait();
    const after = pool.stats();
    assert.equal(after.jobs.done, 4);
    assert.equal(after.jobs.submitted, sum(after));
  });

  it("Pool.stats() after a reset counts no run time of a job that failed before it and answered after", async () => {
    await using pool = new Pool({ maxChildren: 1, abortGrace: 10_000 });
    const held = gate();
    const timed = pool.exec(waitAtGate, [held.memory, "late"], { timeout: 20 });
    // Handled before any wait: on a loaded machine its limit may pass before this thread resumes.
    const failed = assert.rejects(timed, { name: "TaskTimeoutError" });
    await held.started();
    await failed;
    assert.equal(pool.stats({ reset: true }).jobs.failed, 1);
    held.open(); // the task answers within its grace; the worker then takes the next job
    assert.equal(await pool.run((n: number) => n, 7), 7);
    const { jobs, runTime, tasks } = pool.stats();
    assert.equal(jobs.done, 1);
    assert.equal(jobs.failed, 0);
    // Before: 2, the late answer's time counted in the new window.
    assert.equal(runTime.count, jobs.done + jobs.failed);
    assert.equal(tasks.waitAtGate?.runTime.count ?? 0, 0);
  });

  it("Pool.stats() counts no run time of a job that answered past its time limit (it fails as timed out)", async () => {
    for (const concurrentTasksPerWorker of [1, 2]) {
      await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker });
      await pool.run(() => 0);
      pool.stats({ reset: true });
      const held = gate();
      const timed = pool.exec(
        async (memory: Int32Array, ms: number) => {
          Atomics.store(memory, 0, 1);
          Atomics.notify(memory, 0);
          const end = performance.now() + ms;
          while (performance.now() < end) {
            // spin past the limit
          }
          await null;
          return ms;
        },
        [held.memory, 100],
        { timeout: 30 },
      );
      await held.started();
      busy(250); // its answer arrives while this thread is held: read before its timer runs
      await assert.rejects(timed, { name: "TaskTimeoutError" });
      await pool.wait();
      const { jobs, runTime } = pool.stats();
      assert.equal(jobs.failed, 1);
      // Before: 1, a sample of about 100 ms.
      assert.equal(
        runTime.count,
        jobs.done,
        `concurrentTasksPerWorker ${concurrentTasksPerWorker}`,
      );
    }
  });

  it("Pool.stats() utilization counts the time of jobs that failed by their time limit or a crash", async () => {
    for (const how of ["timeout", "crash"]) {
      await using pool = new Pool({ maxChildren: 1, abortGrace: 0 });
      await pool.run(() => 0);
      pool.stats({ reset: true });
      const job = how === "timeout"
        ? pool.exec(busy, [2_000], { timeout: 100 })
        : pool.run((ms: number) => {
          const end = performance.now() + ms;
          while (performance.now() < end) {
            // spin, then end the worker
          }
          (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(1);
        }, 100);
      await assert.rejects(job, {
        name: how === "timeout" ? "TaskTimeoutError" : "WorkerCrashedError",
      });
      const { utilization, runTime } = pool.stats();
      assert.equal(runTime.count, 0);
      // Before: 0, as if the worker had been idle all along.
      assert.ok(utilization > 0.3, `${how}: utilization ${utilization}`);
    }
  });

  it("Pool.stats({ reset: true }) during a long job counts only its time after the reset in utilization", async () => {
    for (const how of ["answered", "crashed"]) {
      await using pool = new Pool({ maxChildren: 4 });
      const held = gate();
      const job = pool.run(
        (memory: Int32Array, how: string) => {
          const end = performance.now() + 300;
          while (performance.now() < end) {
            // busy before the reset
          }
          Atomics.add(memory, 0, 1);
          Atomics.notify(memory, 0);
          Atomics.wait(memory, 1, 0);
          if (how === "crashed") {
            (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(1);
          }
          return how;
        },
        held.memory,
        how,
      ).catch((error: Error) => error.name);
      await held.started();
      pool.stats({ reset: true });
      held.open();
      assert.equal(await job, how === "answered" ? how : "WorkerCrashedError");
      // One of 4 workers busy for the whole window at most: ≤ 0.25 (before: 1, its
      // 300 ms before the reset counted in a window of a few ms).
      const { utilization } = pool.stats();
      assert.ok(utilization <= 0.3, `${how}: utilization ${utilization}`);
    }
  });

  it("Pool.stats({ reset: true }) sampled while jobs run counts each job's time in the window it ran in", async () => {
    await using pool = new Pool({ maxChildren: 1, idleTimeout: Infinity });
    await pool.run(() => 1);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const job = (flag: Int32Array, k: number) => {
      const spin = (ms: number) => {
        const end = performance.now() + ms;
        while (performance.now() < end) {
          // busy
        }
      };
      spin(90);
      Atomics.store(flag, 0, k);
      Atomics.notify(flag, 0);
      spin(10);
      return k;
    };
    const n = 6;
    const jobs = Array.from({ length: n }, (_, k) => pool.run(job, flag, k + 1));
    pool.stats({ reset: true });
    const samples: number[] = [];
    for (let k = 1; k <= n; k++) {
      const wait = Atomics.waitAsync(flag, 0, k - 1);
      if (wait.async) await wait.value;
      samples.push(pool.stats({ reset: true }).utilization);
    }
    await Promise.all(jobs);
    // The worker was busy throughout. Before: about 0.1 (each job's time before a
    // reset was counted in no window once answers were cut to the new one).
    // (A window of no time, two resets in one clock reading as this thread wakes late, reads 0.)
    const read = samples.slice(1).filter((sample) => sample > 0);
    const mean = read.reduce((a, b) => a + b, 0) / read.length;
    assert.ok(read.length > 0 && mean > 0.6, `samples ${samples}`);
  });

  it("Pool.stats() counts the proxy() calls of its tick, as pending does", async () => {
    await using pool = new Pool<typeof Tasks>({ module: fixture("tasks.ts"), maxChildren: 1 });
    const call = pool.proxy().double(2);
    // Before: 0 until something else (pool.pending) decided the tick's calls.
    assert.equal(pool.stats().jobs.submitted, 1);
    assert.equal(pool.pending, 1);
    assert.equal(await call, 4);
  });

  it("Pool cancelledCallback is told of a stream whose consumer left before it started, as stats count it", async () => {
    const cancelled: number[] = [];
    await using pool = new Pool({
      maxChildren: 1,
      cancelledCallback: (id) => cancelled.push(id),
    });
    const held = gate();
    const first = pool.run(waitAtGate, held.memory, "held");
    await held.started();
    const stream = pool.stream(function* () {
      yield 1;
    });
    await stream.return!(undefined); // it never ran
    held.open();
    assert.equal(await first, "held");
    await pool.wait();
    const { jobs } = pool.stats();
    assert.equal(jobs.cancelled, 1);
    // Before: [], though stats counted it cancelled.
    assert.equal(cancelled.length, 1);
    // One that ran and was left counts as cancelled, but is no cancel "before it ran".
    for await (
      const n of pool.stream(function* () {
        for (let i = 0;; i++) yield i;
      })
    ) if (n === 3) break;
    await pool.wait();
    assert.equal(pool.stats().jobs.cancelled, 2);
    assert.equal(cancelled.length, 1);
  });

  it("Pool.stats() refuses unknown options", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    assert.throws(() => pool.stats({ rest: true } as never), /did you mean "reset"\?/);
  });
});

describe("Pool events", () => {
  it("Pool events come in order for a scripted run: start, crash, respawn, idle, shutdown", async () => {
    const pool = new Pool({ maxChildren: 1 });
    const seen: string[] = [];
    for (const type of ["ready", "workerstart", "workerexit", "error", "idle"] as const) {
      pool.addEventListener(type, (event) => {
        const detail = event.detail as { name?: string; reason?: string; error?: unknown } | null;
        const parts = [type, detail?.name, detail?.reason].filter((part) => part !== undefined);
        seen.push(parts.join(" "));
      });
    }
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    await assert.rejects(pool.run(crash), WorkerCrashedError);
    assert.equal(await pool.run((n: number) => n + 1, 2), 3);
    await pool.wait();
    await pool.shutdown();
    assert.deepEqual(seen, [
      "workerstart ThreadPool-1",
      "ready",
      "idle",
      "error ThreadPool-1",
      "workerexit ThreadPool-1 crash",
      "idle",
      "workerstart ThreadPool-2",
      "idle",
      "workerexit ThreadPool-2 shutdown",
    ]);
    const stats = pool.stats();
    assert.deepEqual(stats.workers, {
      alive: 0,
      busy: 0,
      idle: 0,
      started: 2,
      exited: 2,
      crashed: 1,
    });
  });

  it("Pool workerexit says why: idle, resize, terminate, timeout, abort", async () => {
    const reasons: string[] = [];
    const pool = new Pool({ maxChildren: 2, minChildren: 0, idleTimeout: 0, abortGrace: 0 });
    pool.addEventListener("workerexit", (event) => reasons.push(event.detail.reason));
    await pool.run((n: number) => n, 1);
    await new Promise<void>((resolve) =>
      pool.addEventListener("workerexit", () => resolve(), { once: true })
    );
    const g = gate();
    await assert.rejects(pool.exec(waitAtGate, [g.memory, 0], { timeout: 10 }), /timed out/);
    g.open();
    const controller = new AbortController();
    const g2 = gate();
    const aborted = pool.exec(waitAtGate, [g2.memory, 0], { signal: controller.signal });
    await g2.started();
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    g2.open();
    const g3 = gate();
    const running = pool.run(waitAtGate, g3.memory, 3);
    await g3.started();
    pool.resize(1);
    pool.resize(2);
    pool.terminate();
    g3.open();
    await assert.rejects(running);
    assert.deepEqual(reasons, ["idle", "timeout", "abort", "terminate"]);
  });

  it("Pool: a listener that throws is reported, and the pool goes on", async () => {
    const reported: unknown[] = [];
    const global = globalThis as { reportError?: ((error: unknown) => void) | undefined };
    const original = global.reportError;
    global.reportError = (error) => reported.push(error);
    try {
      await using pool = new Pool({ maxChildren: 1 });
      pool.addEventListener("idle", () => {
        throw new Error("listener broke");
      });
      assert.equal(await pool.run((n: number) => n * 2, 2), 4);
      await pool.wait();
      assert.equal(await pool.run((n: number) => n * 2, 3), 6);
      await pool.wait();
    } finally {
      global.reportError = original;
    }
    assert.ok(reported.length >= 1);
    assert.match(String(reported[0]), /listener broke/);
  });
});

describe("Pool back-pressure", () => {
  it("Pool full and drain events, needsDrain and drained() follow the high-water mark", async () => {
    await using pool = new Pool({ maxChildren: 1, highWaterMark: 10 });
    const events: string[] = [];
    pool.addEventListener("full", (event) => events.push(`full ${event.detail.queued}`));
    pool.addEventListener("drain", (event) => events.push(`drain ${event.detail.queued < 10}`));
    const g = gate();
    const held = pool.run(waitAtGate, g.memory, 0);
    await g.started();
    let before, after;
    let drained: Promise<void>;
    try {
      for (let i = 0; i < 9; i++) pool.submit((n: number) => n, i);
      before = pool.needsDrain;
      pool.submit((n: number) => n, 9);
      after = pool.needsDrain;
      pool.submit((n: number) => n, 10);
      drained = pool.drained();
    } finally {
      g.open();
    }
    assert.equal(before, false);
    assert.equal(after, true);
    await held;
    await drained;
    assert.equal(pool.needsDrain, false);
    await pool.wait();
    assert.deepEqual(events, ["full 10", "drain true"]);
  });

  it("Pool.resize() down announces full when the default high-water mark falls to the queue, and drain after", async () => {
    await using pool = new Pool({ maxChildren: 2 }); // mark: 2 × 1,024
    const events: string[] = [];
    pool.addEventListener("full", (event) => events.push(`full ${event.detail.queued}`));
    pool.addEventListener("drain", () => events.push("drain"));
    const g = gate();
    const held = [0, 1].map((n) => pool.exec(waitAtGate, [g.memory, n], { timeout: 60_000 }));
    try {
      await g.started(2); // both workers held
      pool.map((n: number) => n, Array.from({ length: 1_500 }, (_, i) => i), false);
      assert.equal(pool.needsDrain, false);
      pool.resize(1); // mark: 1,024
      assert.equal(pool.needsDrain, true);
      assert.deepEqual(events, ["full 1500"]);
    } finally {
      g.open();
    }
    assert.deepEqual(await Promise.all(held), [0, 1]);
    await pool.wait();
    assert.deepEqual(events, ["full 1500", "drain"]);
  });

  it("Pool announces full when exactly highWaterMark jobs are queued, by the end of the tick, while its worker is still busy", async () => {
    for (const oneTickEach of [false, true]) {
      await using pool = new Pool({ maxChildren: 1, highWaterMark: 4 });
      await pool.run((n: number) => n, 0); // known to be quick: the submits join one entry
      const g = gate();
      const held = pool.exec(waitAtGate, [g.memory, "held"], { timeout: 60_000 }); // its own worker
      await g.started();
      const full = new Promise((resolve) =>
        pool.addEventListener("full", (event) => resolve(event.detail.queued), { once: true })
      );
      for (let i = 0; i < 4; i++) {
        pool.submit((n: number) => n, i);
        // A turn of the event loop between submits, not a wait for time.
        if (oneTickEach) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      assert.equal(await full, 4, "announced with no answer from the held worker");
      g.open();
      assert.equal(await held, "held");
      await pool.wait();
    }
  });

  it("Pool.shutdown(timeout) that times out leaves the queued jobs to run; the workers leave once they are done", async () => {
    const pool = new Pool({ maxChildren: 1 });
    const g = gate();
    // Each has its worker to itself: one runs, two wait in the queue.
    const jobs = [0, 1, 2].map((n) => pool.exec(waitAtGate, [g.memory, n], { timeout: 60_000 }));
    await g.started();
    const gone = new Promise((resolve) =>
      pool.addEventListener("workerexit", (event) => resolve(event.detail.reason))
    );
    assert.equal(await pool.shutdown(20), false, "busy at the timeout"); // a bound, not a wait for time
    g.open();
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2]);
    assert.equal(await gone, "shutdown");
    assert.equal(pool.alive, 0);
  });

  it("Pool: a producer that honours needsDrain keeps the queue bounded", async () => {
    await using pool = new Pool({ maxChildren: 2, highWaterMark: 500 });
    let most = 0;
    let sum = 0;
    pool.addEventListener("idle", () => {});
    const total = 50_000;
    for (let i = 0; i < total; i++) {
      if (pool.needsDrain) await pool.drained();
      pool.submitDone((n: number) => n, (value) => sum += value as number, i);
      if (pool.jobs.length > most) most = pool.jobs.length;
    }
    await pool.wait();
    assert.ok(most <= 500, `the queue held ${most}`);
    assert.equal(sum, (total * (total - 1)) / 2);
  });

  it("Pool: a producer that honours needsDrain keeps the queue bounded with proxy() calls too", async () => {
    await using pool = new Pool<typeof Tasks>({
      module: fixture("tasks.ts"),
      maxChildren: 1,
      highWaterMark: 10,
      maxQueue: 50,
    });
    const tasks = pool.proxy();
    const calls: Promise<number>[] = [];
    let pauses = 0;
    for (let i = 0; i < 500; i++) {
      if (pool.needsDrain) {
        pauses++;
        await pool.drained();
      }
      calls.push(tasks.double(i));
    }
    // Before: needsDrain never saw the calls of its tick; 450 failed with QueueFullError.
    const results = await Promise.all(calls);
    assert.deepEqual(results, Array.from({ length: 500 }, (_, i) => 2 * i));
    assert.ok(pauses > 0);
  });

  it("Pool highWaterMark is checked; Infinity, as maxQueue takes it, never asks to pause", async () => {
    assert.throws(() => new Pool({ highWaterMark: 0 }), RangeError);
    assert.throws(() => new Pool({ highWaterMark: "10" as never }), TypeError);
    // Before: a RangeError.
    await using pool = new Pool({ maxChildren: 1, highWaterMark: Infinity });
    for (let i = 0; i < 5_000; i++) pool.submit((n: number) => n, i);
    assert.equal(pool.needsDrain, false);
    await pool.wait();
    assert.equal(pool.done.length, 5_000);
  });
});
