/**
 * What the pool does while it sends: `postMessage` copies arguments, and a
 * getter of one runs pool code in the middle of a send (found by reading
 * the dispatch). Also a batch refused and sent again item by item, whose
 * items keep their time limit, and `drained()` at the flush that empties
 * the queue.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { run, withThisRuntime } from "../_child.ts";
import { fixture, within } from "../_util.ts";
import { fileURLToPath } from "node:url";

/** Warms `pool` with `f` so that its jobs travel several to a message. */
async function warm(pool: Pool, f: (x: never) => unknown): Promise<void> {
  pool.map(f as (x: number) => unknown, Array.from({ length: 500 }, (_, i) => i), false);
  await pool.wait();
}

/** Past the bounds of the waits below (Bun's default is 5 s). */
const LONG = { timeout: 30_000 };

describe("Pool while it sends", () => {
  it(
    "items of a refused map batch, sent one by one, keep their taskTimeout (several jobs per worker)",
    LONG,
    async () => {
      await using pool = new Pool({
        maxChildren: 1,
        taskTimeout: 1000,
        concurrentTasksPerWorker: 2,
      });
      const f = (x: unknown) => x === -1 ? new Promise(() => {}) : "ok"; // -1 never settles
      await warm(pool, f);
      // Only this map's items count (under load, a warm-up item may pass its limit).
      pool.failed.clear();
      pool.map(f, [() => 1, -1, 2], true); // a function cannot be cloned: sent again one by one
      // Before: the item that never settles ran on past its time limit, for ever.
      assert.equal(await pool.wait(20_000), true, "every item ended");
      const errors = [...pool.failed].map((error) => (error as Error).name).sort();
      assert.deepEqual(errors, ["TaskTimeoutError", "TypeError"]);
    },
  );

  it(
    "a getter that resizes the pool as its job is sent: each job gets its own result",
    LONG,
    async () => {
      await using pool = new Pool({ maxChildren: 1 });
      const f = (o: unknown) => `A (${typeof o})`;
      const g = (s: string) => `C (${s})`;
      await pool.collect(f, Array.from({ length: 300 }, (_, i) => i));
      await pool.collect(g, Array.from({ length: 300 }, (_, i) => String(i)));
      let reads = 0;
      let c: Promise<string> | undefined;
      const argument = {
        get x() {
          if (reads++ === 1) { // the second read: inside postMessage of A's batch
            c = pool.run(g, "c");
            pool.resize(1); // flushes now
          }
          return 1;
        },
      };
      const a = await pool.run(f, argument);
      // Before: C's message passed A's, and each got the other's result.
      assert.deepEqual([a, await c], ["A (object)", "C (c)"]);
    },
  );

  it(
    "a getter that terminates the pool while a refused batch is sent again: every job ends once",
    LONG,
    async () => {
      const pool = new Pool({ maxChildren: 1 });
      const f = (o: unknown) => typeof o;
      await warm(pool, f);
      let reads = 0;
      const terminates = {
        get x() {
          if (reads++ === 1) pool.terminate();
          return 1;
        },
      };
      const outcomes = [pool.run(f, { bad: () => 1 }), pool.run(f, terminates), pool.run(f, 3)]
        .map((job) => job.then(() => "done", (e: Error) => e.name));
      const all = Promise.all(outcomes);
      // Before: the jobs after the getter's were sent to the ended worker and never ended.
      assert.equal(await within(all, 20_000), true, "every job ended");
      assert.equal((await all)[0], "TypeError");
      assert.deepEqual((await all).slice(1), ["PoolClosedError", "PoolClosedError"]);
      assert.equal(pool.pending, 0);
      const { jobs } = pool.stats();
      assert.equal(jobs.submitted, jobs.done + jobs.failed + jobs.cancelled);
    },
  );

  it(
    "a timed job whose getter terminates the pool leaves no timer: the program exits at once",
    LONG,
    async () => {
      const [command, args] = withThisRuntime(
        fileURLToPath(fixture("getter_terminates_program.ts")),
      );
      // Before: the job's 60 s timer was armed after terminate() and held the program.
      const exit = await run(command, args, { killAfter: 20_000 });
      assert.equal(exit.signal, null, `the program exited by itself: ${exit.stderr}`);
      assert.match(exit.stdout, /job: PoolClosedError, pending 0/);
    },
  );

  it(
    "drained() resolves at the flush that takes the queue under the mark, with the worker busy",
    LONG,
    async () => {
      await using pool = new Pool({ maxChildren: 1, highWaterMark: 1 });
      const events: string[] = [];
      pool.addEventListener("full", () => events.push("full"));
      pool.addEventListener("drain", () => events.push("drain"));
      await pool.run(() => 0); // one job reaches the mark of 1, and the flush takes it under
      pool.submit(() => new Promise(() => {})); // holds the worker for good
      // Before: drained() waited for an answer that never came; later, the drain event did
      // (it was counted once here, as the first run's came with its answer).
      assert.equal(await within(pool.drained(), 20_000), true);
      assert.deepEqual(events, ["full", "drain", "full", "drain"]);
      pool.terminate();
    },
  );

  it("exec() whose signal an argument's getter aborts as the job is made is cancelled, not run", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const controller = new AbortController();
    const argument = {
      get n() {
        controller.abort(new Error("aborted while copied"));
        return 1;
      },
    };
    let ran = false;
    pool.addEventListener("workerstart", () => ran = true);
    // Before: the abort event had fired before exec() listened for it, and the job ran to its end.
    const job = pool.exec((a: { n: number }) => a.n, [argument], { signal: controller.signal });
    await assert.rejects(job, /aborted while copied/);
    assert.deepEqual(
      [pool.stats().jobs.cancelled, pool.stats().jobs.done, pool.pending, ran],
      [1, 0, 0, false],
    );
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
  });

  it("a getter that clears the pool during a one-by-one resend leaves failedCount at failed.length", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const f = (o: unknown) => typeof o;
    await warm(pool, f);
    let reads = 0;
    const clears = {
      get x() {
        if (reads++ === 1) pool.clear(); // its second read: inside postMessage
        return 1;
      },
    };
    pool.map(f, [{ bad: () => 1 }, clears, 3], true); // a function cannot be cloned
    await pool.wait();
    // Before: the first item's failure, added but not yet counted, was counted after
    // clear() had emptied `failed`: failedCount said 1 of an empty deque.
    assert.equal(pool.failedCount.value, pool.failed.length);
    assert.equal(pool.doneCount.value, pool.done.length);
  });

  it("items of a refused batch that could not be cloned do not use up maxJobsPerWorker", async () => {
    await using pool = new Pool({ maxChildren: 1, maxJobsPerWorker: 6 });
    const where = (_: unknown) => (globalThis as { name?: string }).name;
    const bad = { bad: () => 1 }; // a function cannot be cloned: the batch goes one by one
    const good = Array.from({ length: 6 }, (_, i) => ({ i }));
    pool.map(where, [bad, bad, bad, ...good], true);
    await pool.wait();
    assert.equal(pool.failed.length, 3);
    // Before: the three refused items counted, and the worker left after 3 of its 6 jobs.
    assert.equal(new Set(pool.done).size, 1, `one worker ran the 6 jobs: ${[...pool.done]}`);
  });
});
