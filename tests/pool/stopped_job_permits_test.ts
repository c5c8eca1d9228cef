/**
 * A job the pool has failed early (its timeout passed, or it was aborted)
 * takes no permit afterwards, though its task runs on within `abortGrace`:
 * a caller that frees the resource on seeing the failure must not hand it
 * to the failed job, whose worker may then be replaced holding it.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import type { PoolOptions } from "../../src/pool/options.ts";
import { Lock } from "../../src/sync/lock.ts";
import type * as Tasks from "../fixtures/stopped_job_tasks.ts";
import { fixture, untilMarked } from "../_util.ts";

const tasks = fixture("stopped_job_tasks.ts");

/** A pool of one worker, started, over the fixture's tasks. */
function onePool(options: PoolOptions): Pool<typeof Tasks> {
  return new Pool<typeof Tasks>({ module: tasks, maxChildren: 1, minChildren: 1, ...options });
}

/** A job of `name` waits for a Lock this thread holds, and fails; this thread then releases it. */
async function releasedOnFailure(
  name: "takesLockSync" | "takesLockWithSignal" | "takesLockTry",
  fail: "timeout" | "abort",
): Promise<{ outcome: number; free: boolean }> {
  // A long grace: a worker slow to answer is never replaced before it marks its outcome.
  await using pool = onePool({ abortGrace: 10_000 });
  const lock = new Lock();
  assert.equal(lock.tryAcquire(), true);
  const memory = new Int32Array(new SharedArrayBuffer(12));
  const controller = new AbortController();
  const job = pool.exec(name, [lock, memory], {
    ...(fail === "timeout" ? { timeout: 100 } : { signal: controller.signal }),
  });
  await untilMarked(memory, 0);
  if (fail === "abort") controller.abort(new Error("stop"));
  await assert.rejects(
    job,
    fail === "timeout" ? { name: "TaskTimeoutError" } : { message: "stop" },
  );
  lock.release(); // the job failed: the lock is this thread's to free
  Atomics.store(memory, 2, 1);
  Atomics.notify(memory, 2);
  const outcome = await untilMarked(memory, 1);
  return { outcome, free: lock.tryAcquire() };
}

describe("A failed job takes no permit", () => {
  it("Lock.acquireSync() in a job whose timeout passed throws when the lock is released, instead of taking it", async () => {
    // Before: 1, the task took the lock and its worker was replaced holding it.
    assert.deepEqual(await releasedOnFailure("takesLockSync", "timeout"), {
      outcome: 2,
      free: true,
    });
  });

  it("Lock.acquireSync() in an aborted job throws when the lock is released, instead of taking it", async () => {
    assert.deepEqual(await releasedOnFailure("takesLockSync", "abort"), { outcome: 2, free: true });
  });

  for (const fail of ["timeout", "abort"] as const) {
    it(`Lock.tryAcquire() in the synchronous call of a job failed by ${fail} finds the lock its caller released taken`, async () => {
      // Before: 1, the task took the lock and its worker was replaced holding it.
      assert.deepEqual(await releasedOnFailure("takesLockTry", fail), { outcome: 4, free: true });
    });
  }

  it("Lock.acquire() given jobContext().signal in a job whose timeout passed rejects, though the release wakes it before the abort arrives", async () => {
    // Before (Deno, most runs): 1, the release woke the wait before the abort message came.
    assert.deepEqual(await releasedOnFailure("takesLockWithSignal", "timeout"), {
      outcome: 3,
      free: true,
    });
  });

  for (const n of [2, 6]) {
    it(`Lock.acquire() given jobContext().signal in ${n} jobs of one worker (${n} lanes) aborted together rejects in each`, async () => {
      await using pool = onePool({ concurrentTasksPerWorker: n, abortGrace: 300 });
      const lock = new Lock();
      assert.equal(lock.tryAcquire(), true);
      const memories = Array.from({ length: n }, () => new Int32Array(new SharedArrayBuffer(8)));
      const controller = new AbortController();
      const jobs = memories.map((memory) =>
        pool.exec("takesLockWithSignal", [lock, memory], { signal: controller.signal })
      );
      for (const memory of memories) await untilMarked(memory, 0);
      controller.abort(new Error("stop"));
      lock.release(); // at once: before the worker can have read any abort
      for (const job of jobs) await assert.rejects(job, { message: "stop" });
      // Before (Deno, most runs): a job took the lock, its mark overwritten by later ones'
      // (one word, then a ring of four).
      const outcomes = await Promise.all(memories.map((memory) => untilMarked(memory, 1)));
      assert.deepEqual(outcomes, memories.map(() => 3));
      assert.equal(lock.tryAcquire(), true);
    });
  }

  it("Lock.acquireSync() in code of a later job takes a free lock, after a failed job ended within abortGrace", async () => {
    await using pool = onePool({ abortGrace: 2_000 });
    await assert.rejects(pool.exec("endsLate", [200], { timeout: 50 }), {
      name: "TaskTimeoutError",
    });
    // Sent once the late job has ended (its worker took nothing meanwhile): the worker was kept.
    const lock = new Lock();
    const memory = new Int32Array(new SharedArrayBuffer(8));
    assert.equal(await pool.exec("leavesTimerThatTakesLock", [lock, memory]), "left a timer");
    // Before: 2, the timer's acquireSync() taken for the failed job's, which the worker had awaited last.
    assert.equal(await untilMarked(memory, 1), 1);
    assert.equal(lock.locked, true);
  });

  it("Semaphore.acquire() a failed job left waiting with its signal ends with its abort, though the job ended first", async () => {
    await using pool = onePool({ abortGrace: 10_000 });
    await assert.rejects(pool.exec("leavesLocalWait", [150], { timeout: 50 }), {
      name: "TaskTimeoutError",
    });
    // Sent once the failed job ended; its abort came before: its wait has left the queue.
    // Before: false, the wait queued for ever, the permit free but held back from every later job.
    assert.equal(await pool.exec("localPermitFree", []), true);
  });

  it("Lock.acquire() given jobContext().signal, left behind by a job aborted once it had ended (its answer unread), rejects when the lock is released", async () => {
    await using pool = onePool({ abortGrace: 10_000 });
    const lock = new Lock();
    assert.equal(lock.tryAcquire(), true);
    const memory = new Int32Array(new SharedArrayBuffer(16));
    const controller = new AbortController();
    const job = pool.exec("leavesLockWait", [lock, memory], { signal: controller.signal });
    await untilMarked(memory, 0);
    // From here this thread stays busy until the job has ended and posted its answer: the
    // answer unread, the abort fails the job.
    Atomics.store(memory, 3, 1);
    Atomics.notify(memory, 3);
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(memory, 2) === 0 && performance.now() < giveUp);
    assert.equal(Atomics.load(memory, 2), 1, "the job ended");
    controller.abort(new Error("stop"));
    await assert.rejects(job, { message: "stop" });
    lock.release();
    // Before (most runs): 1, the wait took the lock, its job's context gone when the abort came.
    assert.equal(await untilMarked(memory, 1), 3);
    assert.equal(lock.tryAcquire(), true);
  });

  /**
   * On a worker of four lanes, three jobs wait for a Lock this thread holds
   * (with their signals), `ended` jobs end at once (their answers unread:
   * this thread is busy), and one blocks in `acquireSync()`; one abort
   * fails them all, then this thread releases the lock. Returns who took it.
   */
  async function failedTogether(ended: number) {
    await using pool = onePool({ concurrentTasksPerWorker: 4, abortGrace: 10_000 });
    const lock = new Lock();
    const jobs = 3 + ended + 1;
    const memory = new Int32Array(new SharedArrayBuffer(8 * jobs));
    // Known to end quickly, the task's jobs are sent ahead, beside and behind running ones.
    const warm = { signal: new AbortController().signal };
    for (let k = 0; k < 200; k++) await pool.exec("laneJob", [lock, memory, 0, "ends"], warm);
    memory.fill(0);
    assert.equal(lock.tryAcquire(), true);
    const controller = new AbortController();
    const hows = [
      ...Array<"waits">(3).fill("waits"),
      ...Array<"ends">(ended).fill("ends"),
      "blocks" as const,
    ];
    const outcomes = hows.map((how, i) =>
      pool.exec("laneJob", [lock, memory, i, how], { signal: controller.signal }).then(
        () => "done",
        (error: Error) => error.message,
      )
    );
    // Sent in a microtask.
    for (let k = 0; k < 100 && pool.stats().jobs.queued !== 0; k++) await Promise.resolve();
    const ran = () => hows.every((_, i) => Atomics.load(memory, 2 * i) === 1);
    const giveUp = performance.now() + 10_000; // busy: no answer is read
    while (!ran() && performance.now() < giveUp);
    const allRan = ran();
    controller.abort(new Error("stop"));
    lock.release();
    assert.ok(allRan, "every job ran");
    assert.deepEqual(await Promise.all(outcomes), hows.map(() => "stop"));
    const waited = hows.flatMap((how, i) => how === "ends" ? [] : [untilMarked(memory, 2 * i + 1)]);
    const took = (await Promise.all(waited)).filter((outcome) => outcome === 1).length;
    return { took, free: lock.tryAcquire(), started: pool.stats().workers.started };
  }

  it("Lock waits of failed jobs take no permit, though more of their worker's jobs failed than it has lanes (their answers unread)", async () => {
    // Before: a ring of four overrun, a job took the lock (3 of 3 rounds on Deno, Bun with 2 or 4).
    assert.deepEqual(await failedTogether(4), { took: 0, free: true, started: 1 });
  });

  it("Lock.acquire() given jobContext().signal in an aborted job rejects when the lock is released", async () => {
    assert.deepEqual(await releasedOnFailure("takesLockWithSignal", "abort"), {
      outcome: 3,
      free: true,
    });
  });
});
