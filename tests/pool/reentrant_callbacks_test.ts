/**
 * User callbacks that re-enter the pool while it ends jobs: a cancelled
 * callback that opens a terminated or shutting-down pool again and submits,
 * a done callback that cancels or resizes and then submits (found by a
 * probe that called back into the pool from every hook).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { within } from "../_util.ts";

const triple = (x: number) => x * 3;

/** Past the bounds of the waits below (Bun's default is 5 s). */
const LONG = { timeout: 30_000 };

/** A pool whose first cancelled callback clears it and submits `triple(7)`; the submit's id. */
function reopenedOnCancel(): { pool: Pool; submitted: Promise<number> } {
  let submitted!: (id: number) => void;
  let reentered = false;
  const pool: Pool = new Pool({
    maxChildren: 2,
    cancelledCallback: () => {
      if (reentered) return;
      reentered = true;
      pool.clear(); // opens the pool again
      submitted(pool.submit(triple, 7));
    },
  });
  return { pool, submitted: new Promise((resolve) => submitted = resolve) };
}

describe("Pool callbacks that re-enter it", () => {
  it(
    "a cancelled callback of terminate() that clears and submits: the job runs",
    LONG,
    async () => {
      const { pool, submitted } = reopenedOnCancel();
      await using _ = pool;
      await pool.run(triple, 1); // a worker is up
      pool.submit(triple, 2);
      pool.submit(triple, 3);
      pool.terminate();
      const id = await submitted;
      // Before: terminate() stopped the workers after the callback had opened the pool
      // again, and the job waited for ever (wait() timed out with one pending).
      assert.equal(await pool.wait(10_000), true, `job ${id}, submitted in the callback`);
      assert.equal(pool.pending, 0);
      assert.equal(pool.done.pop(), 21);
      assert.equal(pool.closed, false);
      assert.equal(await pool.run(triple, 5), 15);
    },
  );

  it(
    "a cancelled callback of shutdown({ soon }) that clears: the pool stays open",
    LONG,
    async () => {
      const { pool, submitted } = reopenedOnCancel();
      await using _ = pool;
      await pool.run(triple, 1);
      pool.submit(triple, 2);
      pool.submit(triple, 3);
      const shutdown = pool.shutdown(10_000, { soon: true });
      await submitted;
      assert.equal(await shutdown, true);
      // Before: the shutdown, overtaken, retired the workers of the reopened pool, and
      // the next run() never settled.
      assert.equal(pool.closed, false);
      const later = pool.run(triple, 5);
      assert.equal(await within(later, 10_000), true, "a run() after the shutdown");
      assert.equal(await later, 15);
    },
  );

  it(
    "a cancelled callback of clear() that terminates: the running job's failure stays in failed, the pool closed",
    LONG,
    async () => {
      let terminated = false;
      const pool: Pool = new Pool({
        maxChildren: 1,
        resultId: true,
        cancelledCallback: () => {
          if (terminated) return;
          terminated = true;
          pool.terminate();
        },
      });
      await using _ = pool;
      const gate = new Int32Array(new SharedArrayBuffer(4));
      const started = pool.submit((g: Int32Array) => {
        Atomics.store(g, 0, 1);
        Atomics.notify(g, 0);
        return new Promise(() => {}); // runs until terminated
      }, gate);
      pool.submit(triple, 2); // queued behind it: cancelled by clear()
      while (Atomics.load(gate, 0) === 0) await Atomics.waitAsync(gate, 0, 0).value;
      pool.clear();
      // Before: clear() went on after the callback: it emptied failed and opened the pool again.
      assert.equal(terminated, true);
      assert.equal(pool.closed, true);
      const failed = pool.failed.drain() as [number, Error][];
      assert.deepEqual(failed.map(([id, error]) => [id, error.name]), [[
        started,
        "PoolClosedError",
      ]]);
      assert.equal(pool.failedCount.value, 1);
    },
  );

  it(
    "a cancelled callback of cancel(null, true) that delays a job: that job is not among the timers cancelled",
    LONG,
    async () => {
      let later: Promise<number> | undefined;
      const pool: Pool = new Pool({
        maxChildren: 1,
        cancelledCallback: () => {
          later ??= new Promise((resolve) => pool.submitDoneLater(1, triple, resolve, 5));
        },
      });
      await using _ = pool;
      await pool.run(triple, 1);
      pool.submitLater(60_000, triple, 2); // a timer before: cancelled
      const gate = new Int32Array(new SharedArrayBuffer(4));
      pool.submit((g: Int32Array) => Atomics.wait(g, 0, 0, 10_000), gate); // holds the worker
      pool.submit(triple, 3); // queued: cancelled
      assert.equal(pool.cancel(null, true), true);
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      // Before: the callback's timer was made mid-cancel and cancelled with the others.
      assert.equal(pool.delayed.length, 1);
      assert.equal(await within(later!, 10_000), true, "the delayed job ran");
      assert.equal(await later, 15);
    },
  );

  for (const call of ["cancel", "resize", "clear"] as const) {
    it(`wait() waits for a job a done callback submits after ${call}()`, LONG, async () => {
      let calls = 0;
      const results: unknown[] = [];
      const pool: Pool = new Pool({
        maxChildren: 1,
        doneCallback: (result) => {
          results.push(result);
          if (calls++ !== 0) return;
          if (call === "cancel") pool.cancel();
          else if (call === "resize") pool.resize(1);
          else pool.clear();
          pool.submit(triple, 9);
        },
      });
      await using _ = pool;
      pool.submit(triple, 1);
      // Before: the call's own bookkeeping found nothing pending and woke wait()
      // before the callback went on to submit.
      assert.equal(await pool.wait(), true);
      assert.equal(pool.pending, 0);
      assert.deepEqual(results, [3, 27]);
    });
  }

  it("the idle event fires once nothing is pending after a callback cancelled the rest", async () => {
    const pool: Pool = new Pool({ maxChildren: 1, doneCallback: () => pool.cancel() });
    await using _ = pool;
    const idle = new Promise<void>((resolve) => pool.addEventListener("idle", () => resolve()));
    pool.map(triple, [1, 2, 3, 4], true);
    assert.equal(await within(idle, 10_000), true, "the idle event");
    assert.equal(pool.pending, 0);
  });
});
