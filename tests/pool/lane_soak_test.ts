/**
 * A soak of lone jobs, the shared lane's traffic: one job awaited at a time,
 * most of them tiny and answered through the lane, between jobs that throw,
 * end their worker, run long, answer with objects or long strings (a
 * message), time out or are aborted (`abortGrace` 20 ms: workers replaced),
 * and bursts of `map` items, `recycle()` and `resize()` around them. Every
 * answer must be its own job's, every job must end exactly once.
 *
 * `LANE_SOAK_JOBS` (default 5,000) sets the number of lone jobs,
 * `LANE_SOAK_SEED` the PRNG's seed.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { env, seededRandom } from "../_util.ts";

const JOBS = Number(env("LANE_SOAK_JOBS") ?? 5_000);
const SEED = Number(env("LANE_SOAK_SEED") ?? 0x1a7e);

const How = { PLAIN: 0, THROW: 1, EXIT: 2, SLOW: 3, OBJECT: 4, LONG_STRING: 5 } as const;

/** `x + 1`, or what `how` says; every answer names `x`. */
function lone(x: number, how: number): unknown {
  switch (how) {
    case 1:
      throw new RangeError(`bad ${x}`);
    case 2:
      return (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(4);
    case 3: {
      const until = Date.now() + 30;
      while (Date.now() < until) {
        // longer than the pool's spin: the answer comes as a message
      }
      return x + 1;
    }
    case 4:
      return { x };
    case 5:
      return "s".repeat(300) + x;
  }
  return x + 1;
}

describe("Pool lane soak", () => {
  it(`Pool answers each of ${JOBS} lone jobs with its own answer, once, through lane and faults`, {
    timeout: 120_000,
  }, async () => {
    const random = seededRandom(SEED);
    await using pool = new Pool({ maxChildren: 2, abortGrace: 20, maxJobsPerWorker: 5_000 });
    let exits = 0;
    for (let i = 0; i < JOBS; i++) {
      const pick = random();
      const how = pick < 0.01
        ? How.THROW
        : pick < 0.012
        ? How.EXIT
        : pick < 0.014
        ? How.SLOW
        : pick < 0.02
        ? How.OBJECT
        : pick < 0.03
        ? How.LONG_STRING
        : How.PLAIN;
      if (how === How.EXIT) exits++;
      const x = i * 7;
      const mode = random();
      let job: Promise<unknown>;
      if (mode < 0.02) job = pool.exec(lone, [x, how], { timeout: 10 });
      else if (mode < 0.03) {
        const controller = new AbortController();
        job = pool.exec(lone, [x, how], { signal: controller.signal });
        queueMicrotask(() => controller.abort(new Error(`stop ${x}`)));
      } else job = pool.run(lone, x, how);
      const limited = mode < 0.03;
      await job.then(
        (value) => {
          assert.ok(how !== How.THROW && how !== How.EXIT, `job ${i} (${how}) resolved`);
          const want = how === How.OBJECT
            ? { x }
            : how === How.LONG_STRING
            ? "s".repeat(300) + x
            : x + 1;
          assert.deepEqual(value, want, `job ${i}'s answer`);
        },
        (error: Error) => {
          const expected = (how === How.THROW && error.message === `bad ${x}`) ||
            (how === How.EXIT && error.name === "WorkerCrashedError") ||
            (limited && (error.name === "TaskTimeoutError" || error.message === `stop ${x}`));
          assert.ok(expected, `job ${i} (${how}) rejected with ${error.name}: ${error.message}`);
        },
      );
      const around = random();
      if (around < 0.01) pool.map((v: number) => v * 2, Array.from({ length: 200 }, (_, k) => k));
      else if (around < 0.012) pool.recycle();
      else if (around < 0.014) pool.resize(1 + Math.floor(random() * 3));
    }
    assert.equal(await pool.wait(), true);
    const { jobs, workers } = pool.stats();
    assert.equal(jobs.submitted, jobs.done + jobs.failed + jobs.cancelled, JSON.stringify(jobs));
    assert.deepEqual([jobs.queued, jobs.running], [0, 0]);
    assert.ok(jobs.sharedLane > 0, "lone jobs took the lane");
    assert.ok(workers.crashed <= exits, `crashes ${workers.crashed}, exits asked ${exits}`);
  });
});
