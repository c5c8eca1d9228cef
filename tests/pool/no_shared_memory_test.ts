/**
 * A main thread without `SharedArrayBuffer` (a browser page that is not
 * cross-origin isolated, issue 15): the pool works on messages alone, says
 * so in `pool.sharedLane`, and refuses only what cannot work, a `Semaphore`
 * sent to a worker, with a clear error. Run in a child process that deletes
 * the global before loading fastpool (`fixtures/no_shared_memory_program.ts`).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { run, withThisRuntime } from "../_child.ts";
import { fixture } from "../_util.ts";
import { Pool } from "../../src/pool/pool.ts";
import { task } from "../../src/task.ts";

describe("Pool without shared memory", () => {
  it("Pool without SharedArrayBuffer runs jobs as messages, survives a crash, and says so", async () => {
    const [command, args] = withThisRuntime(fileURLToPath(fixture("no_shared_memory_program.ts")));
    const exit = await run(command, args, { killAfter: 60_000 });
    assert.equal(exit.code, 0, exit.stderr);
    const seen = JSON.parse(exit.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(seen, {
      sharedLane: false,
      run: 5,
      sequential: 200,
      map: [1, 16, 25, 4, "RangeError: three"].sort(),
      crash: ["WorkerCrashedError", 42, 21],
      semaphore:
        "TypeError: Cannot share a Semaphore or Lock with another thread: SharedArrayBuffer is not available here (a browser page must be cross-origin isolated)",
      nested: "TypeError",
      lock: [true, true],
      acquireSync: [
        false,
        "TypeError: Cannot acquire semaphore synchronously: no permit is free, and without SharedArrayBuffer no other thread can release one; use tryAcquire() or acquire()",
        true,
        0,
      ],
      local: true,
      doneCount: 1,
      stats: 0,
      batchCrash: [true, 59, true, 2],
      shutdown: true,
      leftStream: [true, 1], // before: sent again, it ran with no consumer for good
      asyncCrash: ["WorkerCrashedError", 1],
      replaced: ["WorkerCrashedError", 1],
      maxQueue: [true, 3, true],
      progressLock: ["done", true, 0],
      returnedLock: [[1, "TypeError: true", 3], [1, "TypeError"], 0],
      workerDataLock: "TypeError: true",
      timedBehind: [[1, 2, 3], []],
    });
  });

  it("Pool fails, and keeps the worker of, a job whose worker has no SharedArrayBuffer and returns a Semaphore or Lock it made", async () => {
    // As a browser's worker of a page that is not cross-origin isolated.
    await using pool = new Pool({
      workerUrl: fixture("unshared_worker_entry.ts"),
      maxChildren: 1,
    });
    const tasks = fixture("made_primitive_tasks.ts");
    const ran = await Promise.allSettled([
      pool.run(task(tasks, "plain"), 1),
      pool.run(task(tasks, "semaphore")),
      pool.run(task(tasks, "lockLater")),
      pool.run(task(tasks, "nested")),
      pool.run(task(tasks, "plain"), 2),
    ]);
    const seen = ran.map((r) =>
      r.status === "fulfilled"
        ? r.value
        : `${(r.reason as Error).name}: ${(r.reason as Error).message}`
          // Deno names the error a getter throws during a clone DataCloneError.
          .replace("(DataCloneError: ", "(TypeError: ")
    );
    const refused = (what: string) =>
      `TypeError: Cannot send job result: its result cannot be cloned (TypeError: Cannot send ${what} to the pool: its thread has no SharedArrayBuffer (a page without cross-origin isolation), where it could not work)`;
    // Before: each ended its worker ("Worker ThreadPool-1 died while running job 2: …").
    assert.deepEqual(seen, [
      2,
      refused("a Semaphore"),
      refused("a Lock"),
      refused("a value holding a Semaphore or Lock"),
      3,
    ]);
    assert.equal(pool.stats().workers.crashed, 0);
  });

  it("Pool without SharedArrayBuffer does not fail the start of a worker that answered while this thread was held past startTimeout", async () => {
    const [command, args] = withThisRuntime(
      fileURLToPath(fixture("blocked_start_no_shared_memory_program.ts")),
    );
    const exit = await run(command, args, { killAfter: 60_000 });
    assert.equal(exit.code, 0, exit.stderr);
    // Before, on Deno: the start failed, the job ran again (runs 2), crashed 1.
    assert.deepEqual(JSON.parse(exit.stdout.trim().split("\n").at(-1)!), {
      result: "result",
      runs: 1,
      errors: [],
      crashed: 0,
    });
  });

  it("Semaphore without Atomics.waitAsync: a shared one's acquire() rejects saying so, and no permit is lost", async () => {
    const [command, args] = withThisRuntime(fileURLToPath(fixture("no_wait_async_program.ts")));
    const exit = await run(command, args, { killAfter: 60_000 });
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual(JSON.parse(exit.stdout.trim().split("\n").at(-1)!), {
      run: 2,
      waits:
        "TypeError: Cannot wait for a shared Semaphore or Lock: Atomics.waitAsync is not available here; use tryAcquire(), or acquireSync() in a worker",
      value: 1,
      again: true,
      released: [1, true],
    });
  });
});
