/** Recycling: maxJobsPerWorker is a hard limit, recycle() replaces every worker, no job lost or run twice. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";

const nameOf = () => (globalThis as { name?: string }).name ?? "";

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

  it("maxJobsPerWorker and maxWorkerMemory are checked", () => {
    assert.throws(() => new Pool({ maxJobsPerWorker: 0 }), RangeError);
    assert.throws(() => new Pool({ maxWorkerMemory: "1" as never }), TypeError);
  });
});
