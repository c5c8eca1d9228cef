/** Recycling: maxJobsPerWorker is a hard limit, recycle() replaces every worker, no job lost or run twice. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import type * as Tasks from "../fixtures/held_past_batch_tasks.ts";
import { FakeClock } from "../_fake_clock.ts";
import { fixture } from "../_util.ts";

const nameOf = () => (globalThis as { name?: string }).name ?? "";

/**
 * Notes its worker's number in word 2 and that it started in word 0, then
 * blocks its worker until word 1 is set; returns its worker's name.
 */
const heldOnItsWorker = (memory: Int32Array): string => {
  const name = (globalThis as { name?: string }).name ?? "";
  Atomics.store(memory, 2, Number(name.slice(name.lastIndexOf("-") + 1)));
  Atomics.store(memory, 0, 1);
  Atomics.notify(memory, 0);
  Atomics.wait(memory, 1, 0);
  return name;
};

/** Resolves once word `word` of `memory` is no longer 0, woken by Atomics.notify. */
async function marked(memory: Int32Array, word: number): Promise<void> {
  while (Atomics.load(memory, word) === 0) {
    const result = Atomics.waitAsync(memory, word, 0);
    if (result.async) await result.value;
  }
}

/** Sets word `word` of `memory` and wakes its waiters. */
function release(memory: Int32Array, word: number): void {
  Atomics.store(memory, word, 1);
  Atomics.notify(memory, word);
}

describe("recycling", () => {
  it("no worker runs more than maxJobsPerWorker jobs; each job ends once", async () => {
    await using pool = new Pool({ maxChildren: 2, maxJobsPerWorker: 7, resultId: true });
    const reasons: string[] = [];
    pool.addEventListener("workerexit", (event) => reasons.push(event.detail.reason));
    pool.map(
      (n: number) => [n, (globalThis as { name?: string }).name],
      Array.from({ length: 100 }, (_, i) => i),
    );
    await pool.wait();
    const perWorker = new Map<string, number>();
    const seen = new Set<number>();
    for (const [, [n, name]] of pool.done as Iterable<[number, [number, string]]>) {
      assert.ok(!seen.has(n));
      seen.add(n);
      perWorker.set(name, (perWorker.get(name) ?? 0) + 1);
    }
    assert.equal(seen.size, 100);
    assert.equal(pool.failed.length, 0);
    for (const count of perWorker.values()) assert.ok(count <= 7, `a worker ran ${count} jobs`);
    assert.ok(reasons.filter((r) => r === "recycle").length >= 13);
  });

  // A hundred workers start and leave: bounded generously (Bun's default bound is 5 s), since
  // a loaded machine starts workers slowly.
  it("100,000 jobs with maxJobsPerWorker 1000: every job exactly once", {
    timeout: 60_000,
  }, async () => {
    await using pool = new Pool({ maxChildren: 2, maxJobsPerWorker: 1000 });
    const n = 100_000;
    pool.map((x: number) => x, Array.from({ length: n }, (_, i) => i));
    await pool.wait();
    const values = pool.done.drain() as number[];
    assert.equal(values.length, n);
    assert.equal(new Set(values).size, n);
    assert.equal(pool.failed.length, 0);
  });

  it("recycle() replaces every worker once it has finished what it holds", async () => {
    await using pool = new Pool({ maxChildren: 2, minChildren: 2 });
    const before = new Set(await Promise.all([pool.run(nameOf), pool.run(nameOf)]));
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const held = pool.run((g: Int32Array) => {
      Atomics.wait(g, 0, 0, 10_000);
      return "finished";
    }, gate);
    const recycled = pool.recycle();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    assert.equal(await held, "finished");
    await recycled;
    const after = await pool.run(nameOf);
    assert.ok(!before.has(after));
  });

  it("recycle() while shutdown() waits starts workers only for the jobs left, none to keep minChildren", async () => {
    const pool = new Pool({ maxChildren: 2, minChildren: 2 });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const memory = new Int32Array(new SharedArrayBuffer(12));
    const held = pool.run(heldOnItsWorker, memory);
    await marked(memory, 0);
    assert.equal(pool.alive, 2);
    const closed = pool.shutdown();
    const recycled = pool.recycle();
    release(memory, 1);
    assert.match(await held, /-\d+$/);
    await recycled;
    assert.equal(await closed, true);
    // Before: four exits, two of fresh workers started only to be shut down unused.
    assert.deepEqual(exits, ["recycle", "recycle"]);
  });

  it("recycle() while shutdown() waits for queued jobs: a fresh worker runs them", async () => {
    const pool = new Pool({ maxChildren: 1, minChildren: 1 });
    const memory = new Int32Array(new SharedArrayBuffer(12));
    const held = pool.run(heldOnItsWorker, memory);
    const queued = [1, 2, 3].map((n) => pool.run((x: number) => x * 2, n));
    await marked(memory, 0);
    const closed = pool.shutdown();
    const recycled = pool.recycle();
    release(memory, 1);
    await held;
    assert.deepEqual(await Promise.all(queued), [2, 4, 6]);
    await recycled;
    assert.equal(await closed, true);
  });

  it("a worker over maxWorkerMemory is replaced between jobs; no job is lost", async () => {
    // Every worker's heap is over one byte, so each finishes its batch and retires.
    await using pool = new Pool({ maxChildren: 1, maxWorkerMemory: 1 });
    const reasons: string[] = [];
    pool.addEventListener("workerexit", (event) => reasons.push(event.detail.reason));
    const names = [];
    for (let i = 0; i < 3; i++) names.push(await pool.run(nameOf));
    assert.equal(new Set(names).size, 3);
    await pool.shutdown();
    assert.equal(reasons.filter((r) => r === "recycle").length, 3);
  });

  it("a worker over maxWorkerMemory after a slow async job gets no job after it (the answer left mid-batch)", async () => {
    await using pool = new Pool({ maxChildren: 1, maxWorkerMemory: 1 });
    const slowName = async () => {
      await new Promise((resolve) => setTimeout(resolve, 10)); // past the worker's 2 ms flush
      return (globalThis as { name?: string }).name;
    };
    const names = [];
    for (let i = 0; i < 3; i++) names.push(await pool.run(slowName));
    assert.equal(new Set(names).size, 3, names.join(", "));
  });

  it("maxJobsPerWorker and maxWorkerMemory are checked", () => {
    assert.throws(() => new Pool({ maxJobsPerWorker: 0 }), RangeError);
    assert.throws(() => new Pool({ maxWorkerMemory: "1" as never }), TypeError);
  });

  it("Pool option maxWorkerMemory: a worker over it when a resize() down asked it to leave is still recycled once idle after a resize() back up", async () => {
    // Every worker's heap is over one byte: each says so at the end of its first batch,
    // which ends while its job runs on (a lane of two left free).
    await using pool = new Pool<typeof Tasks>({
      module: fixture("held_past_batch_tasks.ts"),
      maxChildren: 2,
      minChildren: 2,
      concurrentTasksPerWorker: 2,
      maxWorkerMemory: 1,
    });
    await new Promise((resolve) => pool.addEventListener("ready", resolve, { once: true }));
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => {
      exits.push(`${event.detail.id} ${event.detail.reason}`);
    });
    const reported: string[] = [];
    const { promise: bothReported, resolve } = Promise.withResolvers<void>();
    pool.addEventListener("progress", (event) => {
      if (reported.push(event.detail.value as string) === 2) resolve();
    });
    const shared = new Int32Array(new SharedArrayBuffer(4));
    // One job to each worker, sent at the end of this tick's microtasks: no message from a
    // worker is read before resize(1).
    const jobs = [];
    for (const busy of [1, 2]) {
      jobs.push(pool.exec("heldPastBatch", [shared]));
      for (let i = 0; i < 10 && pool.busy < busy; i++) await Promise.resolve();
      assert.equal(pool.busy, busy);
    }
    pool.resize(1); // both busy: one is asked to leave once idle
    // Each job's progress comes after its worker's overMemory message, which thus
    // arrived while one worker was asked to leave.
    await bothReported;
    assert.deepEqual(reported.sort(), ["ThreadPool-1", "ThreadPool-2"]);
    pool.resize(2); // wanted again, but still over maxWorkerMemory
    release(shared, 0);
    assert.deepEqual((await Promise.all(jobs)).sort(), ["ThreadPool-1", "ThreadPool-2"]);
    assert.equal(await pool.shutdown(), true);
    // Before: the overMemory of the worker asked to leave was dropped; it stayed, taking
    // more jobs for ever, and left only at shutdown ("shutdown").
    assert.deepEqual(exits.filter((exit) => /^[12] /.test(exit)).sort(), [
      "1 recycle",
      "2 recycle",
    ]);
  });

  it("Pool.resize() down while every worker is busy keeps minChildren: an idle worker does not leave for idleness while the one asked to leave still counts", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 3, minChildren: 2, idleTimeout: 50, clock });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => {
      exits.push(`${event.detail.id} ${event.detail.reason}`);
    });
    const memories = [0, 1, 2].map(() => new Int32Array(new SharedArrayBuffer(12)));
    const jobs = memories.map((memory) => pool.run(heldOnItsWorker, memory));
    // All three block their threads at once: one worker each.
    await Promise.all(memories.map((memory) => marked(memory, 0)));
    pool.resize(2); // every worker busy: ThreadPool-3, the last, is asked to leave once idle
    const first = memories.findIndex((memory) => Atomics.load(memory, 2) === 1);
    release(memories[first]!, 1);
    assert.equal(await jobs[first], "ThreadPool-1"); // it is idle now
    clock.tick(50); // its idleTimeout passes
    for (const memory of memories) release(memory, 1);
    await Promise.all(jobs);
    // Before: ThreadPool-1 left for idleness too ("1 idle"), leaving one worker for good.
    // The first to go idle leaves in the place of ThreadPool-3, which then stays.
    assert.deepEqual(exits, ["1 resize"]);
    assert.equal(pool.alive, 2);
  });
});
