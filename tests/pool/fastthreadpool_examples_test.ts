/**
 * fastthreadpool's README examples (`shared/seeds/fastthreadpool-readme-v2.txt`),
 * in their TypeScript form.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { FakeClock } from "../_fake_clock.ts";

const worker = (item: number) => item * 2;

describe("fastthreadpool README examples", () => {
  it("pool.map(worker, iterable); pool.shutdown(): results in done", async () => {
    const pool = new Pool();
    pool.map(worker, [1, 2, 3]);
    await pool.shutdown();
    assert.deepEqual([...pool.done].sort(), [2, 4, 6]);
    assert.equal(pool.failed.length, 0);
  });

  it("pool.map(worker, iterable, done_cb): the callback gets every result, failures go to failed", async () => {
    const pool = new Pool();
    const seen: unknown[] = [];
    pool.map(
      (item: number) => {
        if (item === 2) throw new Error("two");
        return item;
      },
      [1, 2, 3],
      (result) => seen.push(result),
    );
    await pool.shutdown();
    assert.deepEqual(seen.sort(), [1, 3]);
    assert.equal(pool.done.length, 0);
    assert.equal((pool.failed.at(0) as Error).message, "two");
  });

  it("Pool(result_id=True); submit(worker, foo1): entries are [jobId, result]", async () => {
    const pool = new Pool({ resultId: true });
    const jobId1 = pool.submit(worker, 21);
    await pool.shutdown();
    assert.deepEqual([...pool.done], [[jobId1, 42]]);
  });

  it("the more complex example: submit ×100, submitFirst, cancel(id), submitLater, schedule, cancel(null, true)", async () => {
    const clock = new FakeClock();
    const pool = new Pool({ resultId: true, maxChildren: 2, clock });
    let jobId = 0;
    for (let i = 0; i < 100; i++) {
      jobId = pool.submit((foo: string, n: number) => `${foo}:${n}`, "foo1", i);
    }
    const firstId = pool.submitFirst((foo: string) => foo, "foo2");
    assert.equal(pool.cancel(jobId), true, "the job with i = 99 is cancelled");
    pool.submitLater(100, (foo: string) => foo, "foo3");
    pool.schedule(1000, (foo: string) => foo, "foo4");
    assert.equal(pool.delayed.length, 1);
    assert.equal(pool.scheduled.length, 1);
    await pool.wait();
    clock.tick(1000); // time.sleep(1.0): the delayed job fires at 100 ms, the scheduled one at 1 s
    await pool.wait();
    assert.equal(pool.delayed.length, 0);
    assert.equal(pool.cancel(null, true), true);
    assert.equal(pool.scheduled.length, 0);
    assert.equal(await pool.shutdown(), true);
    const results = new Map([...pool.done].map((entry) => entry as [number, string]));
    assert.equal(results.size, 99 + 1 + 1 + 1);
    assert.equal(results.get(firstId), "foo2");
    assert.ok(!results.has(jobId));
    assert.deepEqual([...results.values()].filter((v) => !v.startsWith("foo1")).sort(), [
      "foo2",
      "foo3",
      "foo4",
    ]);
  });

  it("ex_simple_sum: a million integers mapped and summed", async () => {
    await using pool = new Pool();
    let sum = 0;
    pool.map(
      (n: number) => n,
      Array.from({ length: 1_000_000 }, (_, i) => i),
      (n) => sum += n as number,
    );
    await pool.wait();
    assert.equal(sum, 499_999_500_000);
  });
});
