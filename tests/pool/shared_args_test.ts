import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { Lock } from "../../src/sync/lock.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import { transfer } from "../../src/protocol/codec.ts";
import { fixture } from "../_util.ts";

describe("Pool and shared primitives", () => {
  it("Pool.run() gives a job a working Semaphore over the same memory", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const ready = new Semaphore(0);
    const job = pool.run((sem: Semaphore) => {
      sem.release(2);
      return sem.value;
    }, ready);
    assert.equal(await ready.acquire(), true);
    assert.equal(await ready.acquire(), true);
    assert.ok([0, 1, 2].includes(await job), "the job saw the same count");
    assert.equal(ready.value, 0);
  });

  it("Pool jobs on two workers keep a non-atomic counter exact under a shared Lock", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    const lock = new Lock();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const bump = (l: Lock, c: Int32Array, n: number) => {
      for (let i = 0; i < n; i++) {
        l.acquireSync();
        const seen = c[0]!;
        c[0] = seen + 1;
        l.release();
      }
      return l.locked;
    };
    const runs = [pool.run(bump, lock, counter, 20_000), pool.run(bump, lock, counter, 20_000)];
    for (let i = 0; i < 20_000; i++) {
      await lock.acquire();
      counter[0] = counter[0]! + 1;
      lock.release();
    }
    await Promise.all(runs);
    assert.equal(counter[0], 60_000);
    assert.equal(lock.locked, false);
  });

  it("Pool.map() revives Semaphores among the items", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    const sems = [new Semaphore(0), new Semaphore(0)];
    pool.map((sem: Semaphore) => sem.release(), sems, false);
    await Promise.all(sems.map((sem) => sem.acquire()));
    await pool.wait();
    assert.deepEqual(sems.map((sem) => sem.value), [0, 0]);
  });

  it("Pool jobs take and give plain data that has the wire forms' own key as data", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const echo = (value: unknown) => value;
    const lookalikes = [
      { __fastpoolShared: "Nested", value: 5 },
      { __fastpoolShared: "Lock", buffer: new SharedArrayBuffer(16) },
      { __fastpoolShared: "Semaphore", buffer: 1 },
    ];
    for (const lookalike of lookalikes) {
      assert.deepEqual(await pool.run(echo, lookalike), lookalike); // one argument
      assert.deepEqual(await pool.exec(echo, [lookalike]), lookalike);
      assert.deepEqual(await pool.run((_: number, v: unknown) => v, 0, lookalike), lookalike);
    }
    pool.map(echo, lookalikes);
    await pool.wait();
    assert.deepEqual(pool.done.drain(), lookalikes);
    // Beside a real primitive, and inside a transfer()ed argument.
    const sem = new Semaphore(2);
    const [kind, value] = await pool.run(
      (arg: { __fastpoolShared: string; sem: Semaphore }) => [arg.__fastpoolShared, arg.sem.value],
      { __fastpoolShared: "Lock", sem },
    );
    assert.deepEqual([kind, value], ["Lock", 2]);
    const buffer = new ArrayBuffer(8);
    const moved = await pool.run(
      (
        arg: { __fastpoolShared: string; value: ArrayBuffer },
      ) => [arg.__fastpoolShared, arg.value.byteLength],
      transfer({ __fastpoolShared: "Nested", value: buffer }, [buffer]),
    );
    assert.deepEqual(moved, ["Nested", 8]);
    assert.equal(buffer.byteLength, 0, "moved");
    assert.equal(
      await pool.run((arg: { sem: Semaphore }) => arg.sem.value, transfer({ sem }, [])),
      2,
      "a Semaphore inside a transfer()ed argument arrives working",
    );
  });

  it("a workerUrl that loads but is not the worker entry fails the starts, saying so", async () => {
    const workerUrl = fixture("not_a_worker_entry.ts");
    await using pool = new Pool({ maxChildren: 1, workerUrl, startTimeout: 200 });
    // Deno: the module never answers (startTimeout); Bun: its worker exits with code 0.
    await assert.rejects(
      pool.run((n: number) => n, 1),
      /workers failed to start 3 times in a row, last: .*(is workerUrl file:.*not_a_worker_entry\.ts fastpool's worker entry\?|exited with code 0 before it was ready \(is the worker's URL fastpool's worker entry\?\))$/,
    );
  });

  it("a worker entry that throws before init fails its starts at once, with its error", async () => {
    const workerUrl = fixture("throwing_worker_entry.ts");
    // Before, on Deno: the report was dropped as "not the pool's", the worker closed
    // itself, and each start failed only at startTimeout (here an hour: the test hung).
    await using pool = new Pool({ maxChildren: 1, workerUrl, startTimeout: 3_600_000 });
    await assert.rejects(
      pool.run((n: number) => n, 1),
      /workers failed to start 3 times in a row, last: .*the worker entry broke before init/,
    );
  });

  it("Pool option workerUrl points the pool at its worker entry", async () => {
    const workerUrl = new URL("../../src/worker/runtime.ts", import.meta.url);
    await using pool = new Pool({ maxChildren: 1, workerUrl });
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    assert.throws(() => new Pool({ workerUrl: "runtime.ts" }), {
      name: "TypeError",
      message: /"workerUrl"/,
    });
  });
});
