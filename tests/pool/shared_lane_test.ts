/**
 * The shared lane (issue 15): a lone tiny job travels through memory shared
 * with an idle, listening worker instead of a message. These tests make sure
 * a job did take the lane (`stats().jobs.sharedLane` counts it) and check
 * that everything a message-path job does, a lane job does too: results of
 * every kind, errors intact, crashes, timeouts and aborts, each job ending
 * exactly once; and that `sharedLane: false` sends every job as a message.
 *
 * Whether a worker listens at the moment of a job depends on timing (it
 * listens for a bounded time after its last job), so a scenario that must
 * run on the lane is tried until it did, a bounded number of times.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { TaskTimeoutError, WorkerCrashedError } from "../../src/errors.ts";
import { LANE_MAX_STRING } from "../../src/protocol/lane.ts";
import type * as Tasks from "../fixtures/lane_tasks.ts";
import { fixture, within } from "../_util.ts";

/** How many times a scenario is tried before the test says the lane was never taken. */
const TRIES = 200;

/** Plain values back as they came: its answers can take the lane. */
const same = (...args: unknown[]) => args.length === 1 ? args[0] : args;

const tasks = fixture("lane_tasks.ts");

/** Lane jobs so far. */
function laneJobs(pool: Pool<typeof Tasks>): number {
  return pool.stats().jobs.sharedLane;
}

/**
 * Runs `run` until `streak` runs in a row came back on the lane, and at
 * least `least` runs (at most `10 × TRIES`).
 */
async function untilOnLane(
  pool: Pool<typeof Tasks>,
  run: () => Promise<unknown>,
  streak: number,
  least = 0,
): Promise<void> {
  for (let k = 0, inRow = 0; k < 10 * TRIES && (k < least || inRow < streak); k++) {
    const before = laneJobs(pool);
    await run();
    inRow = laneJobs(pool) > before ? inRow + 1 : 0;
  }
}

/**
 * Runs `scenario`, which starts one lone job of `task`, right after a streak
 * of quick jobs of the same task that took the lane (so the pool's estimate
 * of the task's time, a moving average, is tiny, and the worker, warm, is
 * listening), until the scenario's job took the lane too; returns what the
 * scenario returned then.
 */
async function onLane<T>(
  pool: Pool<typeof Tasks>,
  task: "kinds" | typeof same,
  scenario: () => Promise<T>,
): Promise<T> {
  const quick = () => task === "kinds" ? pool.run("kinds", 0) : pool.run(task, 0);
  for (let i = 0; i < TRIES; i++) {
    // A slow job before (a throw, a timeout, a new worker's first jobs) raised the
    // estimate: quick jobs bring it down.
    await untilOnLane(pool, quick, 5);
    const before = laneJobs(pool);
    const outcome = await scenario();
    if (laneJobs(pool) > before) return outcome;
  }
  assert.fail(`no job took the shared lane in ${TRIES} tries`);
}

describe("Pool shared lane", () => {
  it("Pool sends lone tiny jobs on the shared lane, every primitive kept as it was", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    assert.equal(pool.sharedLane, true);
    const values: unknown[] = [
      0,
      -0,
      -1,
      2 ** 31,
      2 ** 53 - 1,
      0.1,
      NaN,
      -Infinity,
      "",
      "héllo ✓ 😀",
      "y".repeat(LANE_MAX_STRING),
      "z".repeat(LANE_MAX_STRING + 1), // too long: a message, the same answer
      true,
      false,
      null,
      undefined,
    ];
    for (let round = 0; round < 20; round++) {
      for (const value of values) {
        assert.ok(Object.is(await pool.run(same, value), value), String(value));
      }
      assert.deepEqual(await pool.run(same, 1, "two", true, null), [1, "two", true, null]);
      assert.deepEqual(await pool.run(same, 1, 2, 3, 4, 5), [1, 2, 3, 4, 5], "5 arguments");
    }
    const stats = pool.stats();
    assert.ok(stats.jobs.sharedLane > 0, "some jobs took the lane");
    assert.equal(stats.jobs.done, 20 * (values.length + 2));
    assert.equal(stats.runTime.count, stats.jobs.done, "lane jobs are timed too");
  });

  it("Pool times lane jobs by the ones it measures: every reported run time is a real job's", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const spin = (us: number) => {
      const start = performance.now();
      while (performance.now() - start < us / 1000) {
        // busy
      }
      return us;
    };
    // Until 16 took the lane (two timed); on a loaded machine many go as messages.
    let jobs = 0;
    while (pool.stats().jobs.sharedLane < 16 && jobs < 100 * TRIES) {
      assert.equal(await pool.run(spin, 10), 10);
      jobs++;
    }
    const stats = pool.stats();
    assert.ok(stats.jobs.sharedLane >= 16, `lane jobs: ${stats.jobs.sharedLane} of ${jobs}`);
    const runTime = stats.tasks.spin!.runTime;
    assert.equal(runTime.count, jobs, "each job counts once");
    // One lane job in eight is timed and the others report it: none reports less than a job took.
    assert.ok(runTime.min >= 0.009, `shortest run time ${runTime.min} ms`);
  });

  it("Pool option sharedLane: false sends every job as a message; a bad value is refused", async () => {
    await using pool = new Pool({ maxChildren: 1, sharedLane: false });
    assert.equal(pool.sharedLane, false);
    for (let i = 0; i < 300; i++) assert.equal(await pool.run(same, i), i);
    assert.equal(laneJobs(pool), 0);
    assert.throws(() => new Pool({ sharedLane: "yes" as never }), {
      name: "TypeError",
      message: /"sharedLane" must be a boolean, received "yes"/,
    });
  });

  it("Pool delivers a lone submit()'s result from the lane to done and doneCallback at once", async () => {
    // Nothing else happens in the pool after the job (a kept worker has no idle timer): its
    // answer, read from the lane, must still reach `done` (and `doneCount`) or the callback
    // without waiting for another event.
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, minChildren: 1 });
    const got = await onLane(pool, same, async () => {
      pool.submit(same, 41);
      assert.ok(await within(pool.doneCount.acquire(), 5_000), "doneCount was released");
      return pool.done.shift();
    });
    assert.equal(got, 41);
    let answer!: (value: unknown) => void;
    let seen = new Promise((resolve) => answer = resolve);
    await using called = new Pool<typeof Tasks>({
      maxChildren: 1,
      minChildren: 1,
      doneCallback: (r) => answer(r),
    });
    const value = await onLane(called, same, async () => {
      seen = new Promise((resolve) => answer = resolve);
      called.submit(same, 42);
      assert.ok(await within(seen, 5_000), "the doneCallback was called");
      return await seen;
    });
    assert.equal(value, 42);
  });

  it("Pool delivers the progress a lane job reported before it returned, then its result", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    let events = 0;
    pool.addEventListener("progress", () => events++);
    for (let round = 0; round < 20; round++) {
      const seen: unknown[] = [];
      const result = await onLane(pool, "kinds", () => {
        seen.length = 0;
        return pool.exec("kinds", ["progress", round], { onProgress: (value) => seen.push(value) });
      });
      assert.equal(result, "reported");
      assert.deepEqual(seen, [round], "its progress came before its result");
    }
    assert.ok(events >= 20);
  });

  it("Pool answers a lane job's object result, error and promise as messages, intact", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    const object = await onLane(pool, "kinds", () => pool.run("kinds", "object", 2));
    assert.deepEqual(object, { kind: "object", second: 2 });
    let throws = 0; // a try whose job went as a message is tried again
    const error = await onLane(pool, "kinds", () => {
      throws++;
      return pool.run("kinds", "throw").catch((e) => e);
    });
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "thrown on the lane");
    assert.match(error.stack ?? "", /thrown on the lane/);
    assert.ok(error.cause instanceof TypeError);
    assert.equal(error.cause.message, "the cause");
    assert.equal(await onLane(pool, "kinds", () => pool.run("kinds", "async")), "settled later");
    assert.equal(pool.stats().jobs.failed, throws, "each throw failed its job once");
  });

  it("Pool fails a lane job whose worker dies with WorkerCrashedError, once, and goes on", async () => {
    let failures = 0;
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      failedCallback: () => failures++,
    });
    let crashes = 0;
    const error = await onLane(pool, "kinds", () => {
      crashes++;
      return pool.run("kinds", "crash").catch((e) => e);
    });
    assert.ok(error instanceof WorkerCrashedError, String(error));
    assert.equal(await pool.run("kinds", 7), 7, "a new worker takes over");
    await pool.wait();
    assert.equal(pool.stats().workers.crashed, crashes, "one crash per crashing job");
    assert.equal(failures, 0, "a run()'s failure goes to its promise only");
  });

  it("Pool.terminate() and shutdown() while a lane job runs on end it once, as for a message job", async () => {
    const endings: [string, (pool: Pool<typeof Tasks>, stop: AbortController) => unknown][] = [
      ["terminate()", (pool) => pool.terminate()],
      ["abort, then shutdown()", (pool, stop) => {
        stop.abort(new Error("stop"));
        return pool.shutdown();
      }],
      ["shutdown(), then abort", (pool, stop) => {
        const down = pool.shutdown();
        stop.abort(new Error("stop"));
        return down;
      }],
    ];
    for (const [how, end] of endings) {
      let tookLane = false;
      for (let i = 0; i < TRIES && !tookLane; i++) {
        const pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
        for (let k = 0; k < 20; k++) await pool.run("kinds", 0);
        const before = laneJobs(pool);
        const stop = new AbortController();
        const job = pool.exec("kinds", ["wait"], { signal: stop.signal }).then(
          (value) => ({ value }),
          (error: Error) => ({ error }),
        );
        await null; // the pool has dispatched it
        tookLane = laneJobs(pool) > before;
        await end(pool, stop);
        const outcome = await job;
        assert.ok("error" in outcome, `${how}: the job failed (${JSON.stringify(outcome)})`);
        assert.equal(
          outcome.error.name,
          how === "terminate()" ? "PoolClosedError" : "Error",
          `${how}: with ${outcome.error.message}`,
        );
        const { jobs } = pool.stats();
        // Failed if it started; cancelled if its worker had not started it (a
        // message taken back; for terminate(), also one on the lane the worker
        // had not read yet: its STARTED count says so).
        assert.deepEqual([jobs.failed + jobs.cancelled, jobs.running, jobs.queued], [1, 0, 0], how);
        if (tookLane && how !== "terminate()") assert.equal(jobs.failed, 1, how);
        assert.equal(jobs.submitted, jobs.done + jobs.failed + jobs.cancelled, how);
      }
      assert.ok(tookLane, `${how}: no job took the shared lane in ${TRIES} tries`);
    }
  });

  it("Pool times out and aborts lane jobs as it does message jobs", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, abortGrace: 5_000 });
    const timedOut = await onLane(
      pool,
      "kinds",
      () => pool.exec("kinds", ["wait"], { timeout: 50 }).catch((e) => e),
    );
    assert.ok(timedOut instanceof TaskTimeoutError, String(timedOut));
    const reason = new Error("stop");
    const aborted = await onLane(pool, "kinds", () => {
      const controller = new AbortController();
      const job = pool.exec("kinds", ["wait"], { signal: controller.signal });
      queueMicrotask(() => controller.abort(reason));
      return job.catch((e) => e);
    });
    assert.equal(aborted, reason);
    assert.equal(await pool.run("kinds", 8), 8);
    await pool.wait();
    const { jobs, workers } = pool.stats();
    assert.equal(workers.crashed, 0, "the task honoured its signal: no worker was replaced");
    assert.equal(jobs.submitted, jobs.done + jobs.failed + jobs.cancelled);
  });
});
