/**
 * A soak of generator jobs, where values and ends travel separately: streams
 * read to the end or left early, generators submitted to `done` and run to
 * an array, yielding now and then a value that cannot be cloned or throwing
 * midway, beside async plain jobs answered out of order (two lanes per
 * worker), the odd worker that exits, time limits and aborts (workers
 * replaced), recycling, resizing and cancelled jobs. Every value names its job and its
 * place, so a value that reaches the wrong job, or comes twice, is seen;
 * every job must end exactly once, and the pool must keep answering.
 *
 * `GENERATOR_SOAK_JOBS` (default 3,000) sets the number of jobs,
 * `GENERATOR_SOAK_SEED` the PRNG's seed.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { env, seededRandom } from "../_util.ts";

const JOBS = Number(env("GENERATOR_SOAK_JOBS") ?? 3_000);
const SEED = Number(env("GENERATOR_SOAK_SEED") ?? 0x6e50a);

/**
 * What a generator job does: `count` values `tag * 1000 + i`, and at `at`,
 * `how`: yields a value that cannot be cloned (1), throws (2) or ends its
 * worker (3).
 */
interface Plan {
  tag: number;
  count: number;
  /** 0: nothing; 1, 2, 3: see {@linkcode Plan}. */
  how: number;
  at: number;
  /** Awaits before every value (an async generator). */
  slow: boolean;
}

/** The generator of a plan (sync or async), as the worker runs it. */
function* planned(plan: Plan): Generator<unknown> {
  for (let i = 0; i < plan.count; i++) {
    if (i === plan.at && plan.how === 1) yield () => "cannot be cloned";
    if (i === plan.at && plan.how === 2) throw new RangeError(`job ${plan.tag} threw at ${i}`);
    if (i === plan.at && plan.how === 3) {
      (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(5);
    }
    yield plan.tag * 1000 + i;
  }
}

async function* plannedAsync(plan: Plan): AsyncGenerator<unknown> {
  for (let i = 0; i < plan.count; i++) {
    // Mostly a microtask; now and then a timer, so the worker's loop and its timers run.
    if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 0));
    else await null;
    if (i === plan.at && plan.how === 1) yield Symbol("cannot be cloned");
    if (i === plan.at && plan.how === 2) throw new RangeError(`job ${plan.tag} threw at ${i}`);
    if (i === plan.at && plan.how === 3) {
      (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(5);
    }
    yield plan.tag * 1000 + i;
  }
}

/** A plain async job answered later, out of order (several lanes), or a worker that exits. */
async function plain(tag: number, exit: boolean): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, tag % 3));
  if (exit) (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(7);
  return tag * 2;
}

/** The values a plan's consumer must see before its end, and how it ends. */
function expected(plan: Plan): { values: number[]; error: RegExp | null } {
  const upTo = plan.how === 0 ? plan.count : Math.min(plan.at, plan.count);
  const values = Array.from({ length: upTo }, (_, i) => plan.tag * 1000 + i);
  if (plan.how === 0 || plan.at >= plan.count) return { values, error: null };
  return {
    values,
    error: plan.how === 1
      ? /a value it yielded cannot be cloned/
      : plan.how === 2
      ? new RegExp(`threw at ${plan.at}`)
      : /died while running job/,
  };
}

describe("Pool generator soak", () => {
  it(
    `Pool ends each of ${JOBS} generator, stream and async jobs exactly once, every value to its own job`,
    {
      timeout: 120_000,
    },
    async () => {
      const random = seededRandom(SEED);
      const streamsEnded: Promise<void>[] = [];
      const checks: Promise<void>[] = [];
      const submitted = new Map<number, Plan>();
      const cancelled = new Set<number>();
      let exits = 0;
      await using pool = new Pool({
        abortGrace: 20,
        maxChildren: 2,
        concurrentTasksPerWorker: 2,
        streamWindow: 8,
        resultId: true,
      });
      for (let tag = 1; tag <= JOBS; tag++) {
        const plan: Plan = {
          tag,
          count: 1 + Math.floor(random() * 40),
          how: random() < 0.15 ? 1 : random() < 0.15 ? 2 : random() < 0.03 ? 3 : 0,
          at: Math.floor(random() * 40),
          slow: random() < 0.3,
        };
        const { values, error } = expected(plan);
        if (plan.how === 3 && plan.at < plan.count) exits++; // if it runs, its worker ends once
        const pick = random();
        if (pick < 0.35) {
          // A stream, read to its end or left after `leaveAt` values.
          const leaveAt = random() < 0.3 ? Math.floor(random() * plan.count) : Infinity;
          const stream = plan.slow ? pool.stream(plannedAsync, plan) : pool.stream(planned, plan);
          streamsEnded.push((async () => {
            const seen: unknown[] = [];
            try {
              for await (const value of stream) {
                seen.push(value);
                if (seen.length >= leaveAt) break;
              }
              if (leaveAt === Infinity) {
                assert.equal(error, null, `stream ${tag} ended without its error`);
              }
            } catch (thrown) {
              assert.ok(error !== null && error.test((thrown as Error).message), String(thrown));
            }
            assert.deepEqual(seen, values.slice(0, seen.length), `stream ${tag}'s values`);
            // A worker that ends takes the values it had not sent yet with it.
            if (leaveAt === Infinity && plan.how !== 3) {
              assert.equal(seen.length, values.length, `stream ${tag}`);
            }
          })());
        } else if (pick < 0.6) {
          // A generator to `done`: its values there under its id, its failure in `failed`.
          const id = plan.slow ? pool.submit(plannedAsync, plan) : pool.submit(planned, plan);
          submitted.set(id, plan);
        } else if (pick < 0.85) {
          // A generator run to an array of its values, or its error; now and then with a
          // time limit or a signal that aborts it (its worker, not listening, is replaced).
          const limit = random();
          const controller = new AbortController();
          const job = limit < 0.06
            ? pool.exec(plannedAsync, [plan], { timeout: 1 + Math.floor(random() * 10) })
            : limit < 0.12
            ? pool.exec(plannedAsync, [plan], { signal: controller.signal })
            : plan.slow
            ? pool.run(plannedAsync, plan)
            : pool.run(planned, plan);
          if (limit >= 0.06 && limit < 0.12) {
            setTimeout(() => controller.abort(new Error(`stop ${tag}`)), Math.floor(random() * 10));
          }
          checks.push(job.then(
            (all) => {
              assert.equal(error, null, `run ${tag} resolved past its error`);
              assert.deepEqual(all, values, `run ${tag}'s values`);
            },
            (thrown: Error) => {
              if (thrown.name === "WorkerCrashedError") return; // a batch-mate's worker exited
              if (thrown.name === "TaskTimeoutError" && limit < 0.06) return;
              if (thrown.message === `stop ${tag}`) return;
              assert.ok(error !== null && error.test(thrown.message), String(thrown));
            },
          ));
        } else {
          const exit = random() < 0.02;
          if (exit) exits++;
          checks.push(
            pool.run(plain, tag, exit).then(
              (value) => assert.equal(value, tag * 2, `plain ${tag}`),
              (thrown: Error) => assert.equal(thrown.name, "WorkerCrashedError", String(thrown)),
            ),
          );
        }
        // Now and then: a worker replaced once idle, the pool resized, a submitted generator
        // cancelled while it may still be queued.
        const now = random();
        if (now < 0.01) pool.recycle();
        else if (now < 0.02) pool.resize(1 + Math.floor(random() * 3));
        else if (now < 0.05 && submitted.size !== 0) {
          const ids = [...submitted.keys()];
          const id = ids[Math.floor(random() * ids.length)]!;
          if (pool.cancel(id)) cancelled.add(id);
        }
        if (tag % 200 === 0) await Promise.all(checks.splice(0));
      }
      await Promise.all(checks);
      await Promise.all(streamsEnded);
      assert.equal(await pool.wait(), true);

      // Generators submitted to done: each id's values in order, a correct prefix, and a failure
      // only for those that fail (once), unless their worker exited under them.
      const byId = new Map<number, unknown[]>();
      for (const [id, value] of pool.done.drain() as [number, unknown][]) {
        let values = byId.get(id);
        if (!values) byId.set(id, values = []);
        values.push(value);
      }
      const failedIds = new Map<number, number>();
      for (const [id, thrown] of pool.failed.drain() as [number, Error][]) {
        failedIds.set(id, (failedIds.get(id) ?? 0) + 1);
        const plan = submitted.get(id);
        assert.ok(plan, `a failure for job ${id}, which was not a submitted generator`);
        const { error } = expected(plan);
        assert.ok(
          thrown.name === "WorkerCrashedError" || (error !== null && error.test(thrown.message)),
          `job ${id}: ${thrown}`,
        );
      }
      for (const [id, plan] of submitted) {
        const { values, error } = expected(plan);
        const seen = byId.get(id) ?? [];
        if (cancelled.has(id)) {
          assert.deepEqual([seen.length, failedIds.has(id)], [0, false], `job ${id} was cancelled`);
          continue;
        }
        assert.deepEqual(seen, values.slice(0, seen.length), `job ${id}'s values in done`);
        assert.ok((failedIds.get(id) ?? 0) <= 1, `job ${id} failed twice`);
        if (error !== null && !failedIds.has(id)) assert.fail(`job ${id} did not fail`);
        if (error === null && !failedIds.has(id)) {
          assert.equal(
            seen.length,
            values.length,
            `job ${id}`,
          );
        }
      }
      for (const id of byId.keys()) assert.ok(submitted.has(id), `values in done for job ${id}`);
      const { jobs, workers } = pool.stats();
      assert.equal(jobs.submitted, jobs.done + jobs.failed + jobs.cancelled, JSON.stringify(jobs));
      assert.deepEqual([jobs.queued, jobs.running], [0, 0]);
      assert.ok(workers.crashed <= exits, `crashes ${workers.crashed}, exits asked ${exits}`);
      assert.equal(await pool.run((x: number) => x + 1, 1), 2, "the pool still answers");
    },
  );
});
