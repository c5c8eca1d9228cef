/**
 * Soak (issue 6): many tiny jobs with random throws, random worker deaths
 * (`process.exit`, a throwing timer), random cancels (`cancel(id)`, aborted
 * signals) and resizes. Every job id ends exactly once (done, failed or
 * cancelled), and the counters return to rest.
 *
 * `SOAK_JOBS` (default 100,000) sets the number of jobs and `SOAK_SEED` the
 * PRNG's seed, so a run can be repeated:
 * `SOAK_JOBS=2000000 deno test -A --no-check tests/pool/soak_test.ts`.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { WorkerCrashedError } from "../../src/errors.ts";
import { fixture } from "../_util.ts";
import { Kind } from "../fixtures/faults_soak.ts";

type SoakTasks = typeof import("../fixtures/faults_soak.ts");

function env(name: string): string | undefined {
  const deno = (globalThis as { Deno?: { env: { get(name: string): string | undefined } } }).Deno;
  if (deno) return deno.env.get(name);
  return (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process
    .env[name];
}

const JOBS = Number(env("SOAK_JOBS") ?? 100_000);
const SEED = Number(env("SOAK_SEED") ?? 0x5eed);
/** Jobs submitted in one tick. */
const CHUNK = 2_000;
/** Most jobs submitted and not yet ended before the test waits. */
const WINDOW = 40_000;

/** mulberry32: a small seeded PRNG, floats in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const Outcome = { DONE: 1, FAILED: 2, CANCELLED: 3 } as const;

function runtime(): string {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  if (bun) return `bun ${bun.version}`;
  return `deno ${
    (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno
  }`;
}

describe("Pool soak", () => {
  it(
    `Pool ends each of ${JOBS} jobs exactly once through random throws, worker deaths, cancels and resizes`,
    {
      timeout: Math.max(60_000, JOBS / 10),
    },
    async () => {
      assert.ok(
        Number.isInteger(JOBS) && JOBS > 0,
        `SOAK_JOBS must be a positive integer, received ${env("SOAK_JOBS")}`,
      );
      const started = performance.now();
      const random = prng(SEED);
      const capacity = JOBS + 1;
      /** Per job id: how many times it ended, how, and its kind. */
      const endings = new Uint8Array(capacity);
      const outcome = new Uint8Array(capacity);
      const kinds = new Uint8Array(capacity);
      /** Ids whose cancelledCallback ran: for run()/exec() jobs the promise is what counts. */
      const cancelledFlag = new Uint8Array(capacity);
      const isPromiseJob = new Uint8Array(capacity);
      const problems: string[] = [];
      const stats = {
        done: 0,
        failed: 0,
        cancelled: 0,
        thrown: 0,
        crashed: 0,
        abortedRunning: 0,
        refusedAtOnce: 0,
        resizes: 0,
      };
      let ended = 0;
      let submitted = 0;
      let wake: (() => void) | null = null;
      let wakeAt = 0;

      const end = (id: number, how: number) => {
        if (id < 1 || id >= capacity) {
          problems.push(`unknown job id ${id}`);
          return;
        }
        if (endings[id]! > 0) problems.push(`job ${id} ended again (${outcome[id]} then ${how})`);
        endings[id] = endings[id]! + 1;
        outcome[id] = how;
        ended++;
        if (how === Outcome.DONE) stats.done++;
        else if (how === Outcome.FAILED) stats.failed++;
        else stats.cancelled++;
        if (wake && ended >= wakeAt) {
          const resolve = wake;
          wake = null;
          resolve();
        }
      };
      const failure = (error: unknown, id: number) => {
        if (error instanceof WorkerCrashedError) {
          stats.crashed++;
          if (kinds[id] !== Kind.EXIT && kinds[id] !== Kind.TIMER_THROW) {
            problems.push(`job ${id} of kind ${kinds[id]} failed with ${error.message}`);
          }
        } else if (error instanceof RangeError) {
          stats.thrown++;
          if (kinds[id] !== Kind.THROW) {
            problems.push(`job ${id} of kind ${kinds[id]} threw ${error.message}`);
          }
        } else {
          problems.push(`job ${id} failed with ${String(error)}`);
        }
        end(id, Outcome.FAILED);
      };
      const done = (result: unknown, id: number) => {
        if (result !== id * 2) problems.push(`job ${id} returned ${String(result)}`);
        end(id, Outcome.DONE);
      };
      const waitEnded = (target: number) =>
        ended >= target ? Promise.resolve() : new Promise<void>((resolve) => {
          wake = resolve;
          wakeAt = target;
        });

      await using pool = new Pool<SoakTasks>({
        module: fixture("faults_soak.ts"),
        maxChildren: 2,
        minChildren: 1,
        doneCallback: done,
        failedCallback: failure,
        cancelledCallback: (id) => {
          if (id >= 1 && id < capacity && isPromiseJob[id]) cancelledFlag[id] = 1;
          else end(id, Outcome.CANCELLED);
        },
      });

      const pickKind = (): number => {
        const r = random();
        if (r < 0.02) return Kind.THROW;
        if (r < 0.02 + 0.00005) return Kind.EXIT;
        if (r < 0.02 + 0.0001) return Kind.TIMER_THROW;
        if (r < 0.07) return Kind.ASYNC;
        return Kind.OK;
      };
      /** Ends a run()/exec() job when its promise settles; `reason` is its signal's abort reason, if any. */
      const settle = (id: number, promise: Promise<unknown>, reason: unknown) =>
        promise.then(
          (value) => done(value, id),
          (error: unknown) => {
            if (error === reason && cancelledFlag[id]) {
              end(id, Outcome.CANCELLED);
            } else if (error === reason) {
              stats.abortedRunning++;
              end(id, Outcome.FAILED);
            } else {
              failure(error, id);
            }
          },
        );

      let nextId = 1;
      const promises: Promise<void>[] = [];
      let aborters: [AbortController, Error][] = [];
      let aborting: [AbortController, Error][] = [];
      const chunks = Math.ceil(JOBS / CHUNK);
      for (let chunk = 0; chunk < chunks; chunk++) {
        const size = Math.min(CHUNK, JOBS - chunk * CHUNK);
        const firstId = nextId;
        const form = random();
        if (form < 0.25) {
          // One map for the whole chunk.
          const items: [number, number][] = [];
          for (let k = 0; k < size; k++) {
            const id = nextId + k;
            kinds[id] = pickKind();
            items.push([kinds[id]!, id]);
          }
          assert.equal(pool.map("workItem", items, done), size);
          nextId += size;
        } else if (form < 0.5) {
          // One-argument submits and a few runs: they join open queue entries, and their
          // numbers travel as Float64Arrays.
          for (let k = 0; k < size; k++) {
            const id = nextId++;
            kinds[id] = pickKind();
            const packed = kinds[id]! + 8 * id;
            if (random() < 0.01) {
              isPromiseJob[id] = 1;
              promises.push(settle(id, pool.run("workPacked", packed), undefined));
            } else {
              assert.equal(pool.submit("workPacked", packed), id);
            }
          }
        } else {
          for (let k = 0; k < size; k++) {
            const id = nextId++;
            const r = random();
            if (r < 0.01) {
              kinds[id] = pickKind();
              isPromiseJob[id] = 1;
              promises.push(settle(id, pool.run("work", kinds[id]!, id), undefined));
            } else if (r < 0.012) {
              // An aborted signal: refused at once, and no id is used.
              const reason = new Error("aborted before submit");
              promises.push(
                pool.exec("work", [Kind.OK, id], { signal: AbortSignal.abort(reason) }).then(
                  () => void problems.push("an exec() with an aborted signal ran"),
                  (error: unknown) =>
                    void (error === reason ? stats.refusedAtOnce++ : problems.push(String(error))),
                ),
              );
              nextId--;
              k--;
            } else if (r < 0.014) {
              // A signal aborted a little later: the job is queued, running or done by then.
              kinds[id] = random() < 0.5 ? Kind.OK : Kind.ASYNC;
              isPromiseJob[id] = 1;
              const controller = new AbortController();
              const reason = new Error(`job ${id} aborted`);
              aborters.push([controller, reason]);
              promises.push(
                settle(
                  id,
                  pool.exec("work", [kinds[id]!, id], { signal: controller.signal }),
                  reason,
                ),
              );
            } else {
              kinds[id] = pickKind();
              assert.equal(pool.submit("work", kinds[id]!, id), id);
            }
          }
        }
        submitted = nextId - 1;
        // Cancel a few jobs of this chunk by id; those already sent are not touched.
        if (random() < 0.3) {
          for (let n = 1 + Math.floor(random() * 5); n > 0; n--) {
            const id = firstId + Math.floor(random() * (nextId - firstId));
            if (!isPromiseJob[id]) pool.cancel(id);
          }
        }
        // Abort the signals of a few chunks ago: by now their jobs are queued, running or done.
        if (chunk % 4 === 3) {
          for (const [controller, reason] of aborting) controller.abort(reason);
          aborting = aborters;
          aborters = [];
        }
        if (chunk === Math.floor(chunks / 3)) {
          pool.resize(1);
          stats.resizes++;
        } else if (chunk === Math.floor((2 * chunks) / 3)) {
          pool.resize(3);
          stats.resizes++;
        }
        if (submitted - ended > WINDOW) await waitEnded(submitted - WINDOW / 2);
        else if (chunk % 4 === 3) await new Promise<void>((resolve) => setTimeout(resolve, 0)); // let results in
      }
      for (const [controller, reason] of [...aborting, ...aborters]) controller.abort(reason);
      assert.equal(await pool.wait(), true);
      await Promise.all(promises);
      const wall = (performance.now() - started) / 1000;

      // deno-lint-ignore no-console
      console.log(
        `soak on ${runtime()}: ${submitted} jobs (seed ${SEED}) in ${wall.toFixed(2)} s: ` +
          `${stats.done} done, ${stats.failed} failed (${stats.thrown} threw, ${stats.crashed} in worker deaths, ` +
          `${stats.abortedRunning} aborted while running), ${stats.cancelled} cancelled; ` +
          `${stats.refusedAtOnce} exec() refused at once (aborted signal), ${stats.resizes} resizes; ` +
          `workers at rest: ${pool.alive} of ${pool.maxChildren}`,
      );

      assert.deepEqual(problems.slice(0, 10), []);
      assert.equal(submitted, JOBS);
      for (let id = 1; id <= submitted; id++) {
        if (endings[id] !== 1) assert.fail(`job ${id} ended ${endings[id]} times`);
      }
      assert.equal(ended, submitted);
      assert.equal(stats.done + stats.failed + stats.cancelled, JOBS);
      let deaths = 0;
      for (let id = 1; id <= submitted; id++) {
        if (
          (kinds[id] === Kind.EXIT || kinds[id] === Kind.TIMER_THROW) &&
          outcome[id] !== Outcome.CANCELLED
        ) deaths++;
      }
      assert.equal(stats.crashed, deaths, "one WorkerCrashedError per job that killed its worker");
      assert.ok(
        stats.crashed > 0 && stats.thrown > 0 && stats.cancelled > 0,
        "every kind of fault happened",
      );
      assert.deepEqual([pool.pending, pool.busy, pool.jobs.length], [0, 0, 0]);
      assert.ok(pool.alive >= 1 && pool.alive <= pool.maxChildren, `${pool.alive} workers at rest`);
      assert.equal(pool.maxChildren, 3);
    },
  );
});
