/**
 * Faults with several jobs in flight per worker (`concurrentTasksPerWorker:
 * 4`): a crash fails exactly the jobs that were running and reruns the rest;
 * a job that times out or is aborted and ignores its signal past
 * `abortGrace` takes its worker down and the other jobs running there fail
 * with `WorkerCrashedError`; start failures back off as with one lane; every
 * job ends exactly once.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { PoolClosedError, WorkerCrashedError } from "../../src/errors.ts";
import type * as Tasks from "../fixtures/concurrency_tasks.ts";
import { FakeClock } from "../_fake_clock.ts";
import { fixture, within } from "../_util.ts";
import { transfer } from "../../src/protocol/codec.ts";
import { tally } from "./_faults.ts";

const tasks = fixture("concurrency_tasks.ts");

function shared(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(12));
}

async function reach(memory: Int32Array, word: number, count: number): Promise<void> {
  while (true) {
    const seen = Atomics.load(memory, word);
    if (seen >= count) return;
    const result = Atomics.waitAsync(memory, word, seen);
    if (result.async) await result.value;
  }
}

/** Records how each job id ended, through the pool's callbacks. */
describe("Pool faults with concurrentTasksPerWorker: 4", () => {
  it("a crash fails the jobs running on the worker and reruns the rest, each once", async () => {
    const { ends, options } = tally({ results: true });
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      concurrentTasksPerWorker: 4,
      ...options,
    });
    const errors: unknown[] = [];
    pool.addEventListener("error", (event) => errors.push(event.detail.error));
    const memory = shared();
    const a = pool.submit("held", memory, "a");
    const b = pool.submit("held", memory, "b");
    const crash = pool.submit("exitWhenAll", memory, 3);
    const after = [1, 2, 3, 4, 5].map((n) => pool.submit("double", n));
    await pool.wait();
    for (const id of [a, b, crash]) assert.deepEqual(ends.get(id), ["failed:WorkerCrashedError"]);
    for (const [i, id] of after.entries()) assert.deepEqual(ends.get(id), [`done:${(i + 1) * 2}`]);
    assert.equal(ends.size, 8);
    assert.equal(errors.length, 1);
    assert.equal(await pool.run("double", 21), 42);
  });

  it("a timed-out job that ignores its signal past abortGrace takes its worker; the others running there fail", async () => {
    const clock = new FakeClock();
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      concurrentTasksPerWorker: 4,
      abortGrace: 20,
      clock,
    });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    assert.equal(await pool.run("double", 1), 2); // a started worker first
    const memory = shared();
    const other = pool.run("held", memory, "other");
    await reach(memory, 0, 1);
    const stubborn = pool.exec("heldStubborn", [memory, "x"], { timeout: 10 });
    await reach(memory, 0, 2);
    clock.tick(10);
    await assert.rejects(stubborn, { name: "TaskTimeoutError" });
    await assert.rejects(other, (error: unknown) => {
      assert.ok(error instanceof WorkerCrashedError);
      assert.match(
        String((error.cause as Error).message),
        /timed out and did not end within abortGrace/,
      );
      return true;
    });
    await reach(memory, 2, 1); // it saw its signal, and went on
    assert.deepEqual(exits, ["timeout"]);
    assert.equal(await pool.run("double", 2), 4);
    assert.deepEqual([pool.pending, pool.busy], [0, 0]);
  });

  it("an aborted job that ignores its signal past abortGrace takes its worker; queued jobs still run", async () => {
    const { ends, options } = tally({ results: true });
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      concurrentTasksPerWorker: 4,
      // The first queued "double" goes to the worker's free lane: its answer must be read
      // before the grace ends, or it counts as lost with the worker (it may have run, so it
      // fails rather than running twice). A loaded machine can take over 20 ms for that.
      abortGrace: 250,
      ...options,
    });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const memory = shared();
    const controller = new AbortController();
    const held = [pool.submit("held", memory, 1), pool.submit("held", memory, 2)];
    const aborted = pool.exec("heldStubborn", [memory, 3], { signal: controller.signal });
    await reach(memory, 0, 3);
    const queued = [4, 5, 6, 7].map((n) => pool.submit("double", n));
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    await pool.wait();
    for (const id of held) assert.deepEqual(ends.get(id), ["failed:WorkerCrashedError"]);
    for (const [i, id] of queued.entries()) assert.deepEqual(ends.get(id), [`done:${(i + 4) * 2}`]);
    assert.deepEqual(exits, ["abort"]);
  });

  it("workers that fail to start fail the queued jobs after three tries, as with one lane", async () => {
    await using pool = new Pool({
      maxChildren: 1,
      module: fixture("faults_throw_at_import.ts"),
      concurrentTasksPerWorker: 4,
    });
    const jobs = [1, 2, 3, 4, 5, 6].map(() => pool.run("ok"));
    for (const job of jobs) await assert.rejects(job, /workers failed to start 3 times in a row/);
    assert.deepEqual([pool.pending, pool.alive], [0, 0]);
  });

  it("terminate() fails every job running on a worker and cancels the queued ones", async () => {
    const { ends, options } = tally({ results: true });
    const pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      concurrentTasksPerWorker: 4,
      ...options,
    });
    const memory = shared();
    const running = [1, 2, 3, 4].map((n) => pool.submit("held", memory, n));
    await reach(memory, 0, 4);
    const running2 = pool.run("held", memory, 5).catch((error) => error);
    pool.terminate();
    for (const id of running) assert.deepEqual(ends.get(id), ["failed:PoolClosedError"]);
    assert.ok((await running2) instanceof PoolClosedError);
    assert.deepEqual([pool.pending, pool.alive], [0, 0]);
  });

  it("a job that answered asynchronously, its answer lost with its worker, ends once: again, or failed if it moved buffers", async () => {
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 2 });
    // Fails its worker after answering, before the worker sends the answer: the
    // failing microtask is queued ahead of the worker's send.
    const answerThenFail = (bytes: ArrayBuffer | number) => {
      const answer = Promise.resolve(typeof bytes === "number" ? bytes : bytes.byteLength);
      answer.then(() =>
        queueMicrotask(() => {
          throw new Error("failed after answering");
        })
      );
      return answer;
    };
    const moved = pool.exec(answerThenFail, [transfer(new ArrayBuffer(8))]);
    // Before: it ended nowhere (pending for good, its worker idle).
    await assert.rejects(
      within(moved, 4_000).then((ended) => ended || assert.fail("the job never ended")),
      /Cannot run job \d+ again: what it moved with transfer\(\) went with worker/,
    );
    // One that moved nothing goes again; its answer lost twice, it fails.
    await assert.rejects(pool.exec(answerThenFail, [8]), WorkerCrashedError);
    assert.equal(pool.pending, 0);
    assert.equal(await pool.exec((n: number) => n + 1, [1]), 2); // the pool keeps working
  });

  it("shutdown() lets every running job finish", async () => {
    const pool = new Pool<typeof Tasks>({
      maxChildren: 2,
      module: tasks,
      concurrentTasksPerWorker: 4,
    });
    const memory = shared();
    const jobs = Array.from({ length: 12 }, (_, n) => pool.run("held", memory, n));
    await reach(memory, 0, 8);
    const closing = pool.shutdown();
    Atomics.store(memory, 1, 1);
    assert.deepEqual(await Promise.all(jobs), Array.from({ length: 12 }, (_, n) => n));
    assert.equal(await closing, true);
    assert.equal(pool.alive, 0);
  });
});
