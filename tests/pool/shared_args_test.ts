import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { Lock } from "../../src/sync/lock.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import { transfer } from "../../src/protocol/codec.ts";
import { fixture, promiseState } from "../_util.ts";
import { run, withThisRuntime } from "../_child.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as HookTasks from "../fixtures/hooks_tasks.ts";

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

  it("Pool.run() gives a job working Semaphores held in a Map and a Set, used across threads", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const started = new Semaphore(0);
    const go = new Semaphore(0);
    const gates = {
      byName: new Map<string, Semaphore>([["started", started]]),
      byKey: new Map<Semaphore, string>([[go, "go"]]),
      members: new Set([go]),
    };
    const job = pool.run((arg: typeof gates) => {
      arg.byName.get("started")!.release();
      const [go] = [...arg.members];
      const taken = go!.acquireSync(60_000); // blocks this worker until the main thread releases
      return [taken, arg.byKey.get(go!), go!.value];
    }, gates);
    assert.equal(await started.acquire({ timeout: 60_000 }), true, "the job released it");
    assert.equal(await promiseState(job), "pending", "the job waits on the Set's Semaphore");
    go.release();
    assert.deepEqual(await job, [true, "go", 0], "one Semaphore, as a Map key and a Set member");
    assert.equal(go.value, 0, "the job took the main thread's permit");
    // Two arguments, and a map() item.
    const two = await pool.run(
      (a: Map<string, Semaphore>, b: Set<Semaphore>) => [a.get("s")!.release(), [...b][0]!.value],
      new Map([["s", started]]),
      new Set([started]),
    );
    assert.deepEqual(two, [undefined, 1]);
    pool.map((items: Set<Semaphore>) => [...items][0]!.release(), [new Set([go])], false);
    assert.equal(await go.acquire({ timeout: 60_000 }), true);
  });

  it("Pool.run() gives the main thread working Semaphores a task returns in a Map or a Set", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const sem = new Semaphore(0);
    const url = new URL("../../src/sync/semaphore.ts", import.meta.url).href;
    const back = await pool.run(
      async (arg: { sem: Semaphore; url: string }) => {
        const { Semaphore } = await import(arg.url);
        return new Map<string, unknown>([
          ["theirs", new Set([arg.sem])],
          ["mine", new Semaphore(2)],
        ]);
      },
      { sem, url },
    );
    const [theirs] = [...(back.get("theirs") as Set<Semaphore>)];
    assert.ok(theirs instanceof Semaphore);
    theirs.release();
    assert.equal(sem.value, 1, "the main thread's own memory");
    const mine = back.get("mine") as Semaphore;
    assert.ok(mine instanceof Semaphore);
    assert.equal(mine.tryAcquire(), true);
    assert.equal(mine.value, 1);
  });

  it("Pool jobs given a class instance holding a Lock get a plain object with a working Lock", async () => {
    class Counter {
      constructor(readonly lock: Lock, readonly cells: Int32Array) {}
      bump(): void {
        this.cells[0] = this.cells[0]! + 1;
      }
    }
    await using pool = new Pool({ maxChildren: 2 });
    const counter = new Counter(new Lock(), new Int32Array(new SharedArrayBuffer(4)));
    const bump = (c: { lock: Lock; cells: Int32Array }, n: number) => {
      for (let i = 0; i < n; i++) {
        c.lock.acquireSync();
        const seen = c.cells[0]!;
        c.cells[0] = seen + 1;
        c.lock.release();
      }
      return Object.getPrototypeOf(c) === Object.prototype; // plain, as a clone makes it
    };
    const runs = [pool.run(bump, counter, 20_000), pool.run(bump, counter, 20_000)];
    for (let i = 0; i < 20_000; i++) {
      await counter.lock.acquire();
      counter.bump();
      counter.lock.release();
    }
    assert.deepEqual(await Promise.all(runs), [true, true]);
    assert.equal(counter.cells[0], 60_000);
    assert.equal(counter.lock.locked, false);
  });

  it("Pool option workerData: a class instance holding a Lock reaches setup() with a working Lock", async () => {
    const lock = new Lock();
    class Data {
      readonly counts = new Int32Array(new SharedArrayBuffer(8));
      constructor(readonly lock: Lock) {}
    }
    await using pool = new Pool<typeof HookTasks>({
      maxChildren: 1,
      module: fixture("hooks_tasks.ts"),
      workerData: new Data(lock),
    });
    assert.deepEqual(await pool.run("lockInSetup"), [true, true]);
    assert.equal(lock.locked, true, "setup()'s Lock is the main thread's");
  });

  it("Pool jobs fail with a TypeError naming it when a Semaphore sits in an Error, as an argument or a result", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const sem = new Semaphore(1);
    await assert.rejects(
      pool.run((error: Error) => error.message, new Error("failed", { cause: sem })),
      {
        name: "TypeError",
        message:
          /^Cannot send job \d+: its argument \(.+\) cannot be cloned \(.*Cannot send a Semaphore inside an Error's cause: /,
      },
    );
    await assert.rejects(
      pool.run((arg: { sem: Semaphore }) => new AggregateError([arg.sem], "all"), { sem }),
      {
        name: "TypeError",
        message:
          /^Cannot send job result: its result cannot be cloned \(.*Cannot send a Semaphore inside an AggregateError's errors: /,
      },
    );
    // The worker lives on: only those jobs failed.
    assert.equal(await pool.run((arg: { sem: Semaphore }) => arg.sem.value, { sem }), 1);
    assert.equal(pool.stats().workers.crashed, 0);
  });

  it("Pool jobs send working Locks through jobContext().progress(), alone or nested", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const lock = new Lock();
    type Global = { jobContext(): { progress(value: unknown): void } };
    const seen: unknown[] = [];
    await pool.exec(
      (l: Lock) => {
        const { progress } = (globalThis as unknown as Global).jobContext();
        progress(l);
        progress({ lock: l });
        progress(new Map([["lock", l]]));
        return l.tryAcquire();
      },
      [lock],
      { onProgress: (value) => seen.push(value) },
    );
    // Before: each arrived as the empty object a clone makes of a Lock.
    const [alone, inObject, inMap] = seen as [Lock, { lock: Lock }, Map<string, Lock>];
    for (const arrived of [alone, inObject.lock, inMap.get("lock")]) {
      assert.ok(arrived instanceof Lock);
      assert.equal(arrived.locked, true, "the same memory: the task holds it");
    }
    lock.release();
  });

  it("Pool jobs take and send, as data, an object with the wire forms' key that the walk does not enter (one with a tag of its own)", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    class Reading {
      get [Symbol.toStringTag]() {
        return "Reading";
      }
      __fastpoolShared = "Lock"; // a user's field that happens to have this name
      buffer = 1;
    }
    // Before: the worker took it for a Lock's wire form and failed the job ("Cannot attach").
    assert.deepEqual(
      await pool.run((r: Reading) => [r.__fastpoolShared, r.buffer], new Reading()),
      ["Lock", 1],
    );
    type Global = { jobContext(): { progress(value: unknown): void } };
    const seen: unknown[] = [];
    const sent = await pool.exec(
      (kind: string) => {
        class Sent {
          get [Symbol.toStringTag]() {
            return "Sent";
          }
          __fastpoolShared = kind;
          value = 5;
        }
        (globalThis as unknown as Global).jobContext().progress(new Sent());
        return "sent";
      },
      ["Data"],
      { onProgress: (value) => seen.push(value) },
    );
    // Before (8bd4426): the pool revived it as a wire form: 5 alone, or, as "Lock", the worker replaced.
    assert.equal(sent, "sent");
    assert.deepEqual(seen, [{ __fastpoolShared: "Data", value: 5 }]);
    assert.equal(pool.stats().workers.crashed, 0);
  });

  it("Pool jobs that throw a Lock, bare or inside what they throw, fail with a string in its place saying so", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const lock = new Lock();
    const thrown = (how: string) =>
      pool.run(
        (l: Lock, way: string) => {
          if (way === "cause") throw new Error("failed", { cause: l });
          if (way === "field") throw Object.assign(new RangeError("failed"), { lock: l });
          if (way === "errors") throw new AggregateError([l], "all failed");
          if (way === "object") throw { lock: l, why: "busy", code: 7, deep: [{ l }] };
          if (way === "ring") {
            // A cycle longer than the copy's depth limit, the Lock on its first object.
            const first: { i: number; lock?: Lock; next?: object } = { i: 0, lock: l };
            let last = first;
            for (let i = 1; i < 150; i++) last = (last.next = { i }) as typeof first;
            last.next = first;
            throw first;
          }
          if (way === "keyed") throw { __fastpoolError: "mine", lock: l };
          if (way === "fieldObject") {
            throw Object.assign(new Error("failed"), { context: { lock: l, why: "busy" } });
          }
          throw l;
        },
        lock,
        how,
      ).then(() => assert.fail("it threw"), (error: unknown) => error);
    // Before: an empty object in its place, with no word of why.
    assert.equal(((await thrown("cause")) as Error).cause, "[cannot be sent: a Lock]");
    const field = (await thrown("field")) as RangeError & { lock: unknown };
    assert.ok(field instanceof RangeError);
    assert.equal(field.lock, "[cannot be sent: a Lock]");
    assert.deepEqual(((await thrown("errors")) as AggregateError).errors, [
      "[cannot be sent: a Lock]",
    ]);
    // A plain object keeps its other fields (before: one string in place of the whole object).
    assert.deepEqual(await thrown("object"), {
      lock: "[cannot be sent: a Lock]",
      why: "busy",
      code: 7,
      deep: [{ l: "[cannot be sent: a Lock]" }],
    });
    // Before: on Deno a TypeError (the stack overflowed copying the ring), on Bun a chain of
    // about 15,000 objects. It is copied to the depth limit, the rest said in a string.
    const ring = (await thrown("ring")) as { i: number; lock: unknown; next: unknown };
    assert.deepEqual([ring.i, ring.lock], [0, "[cannot be sent: a Lock]"]);
    let objects = 0;
    for (let at: unknown = ring; typeof at === "object" && objects < 1000; objects++) {
      at = (at as { next: unknown }).next;
    }
    assert.ok(objects > 100 && objects < 150, `${objects} objects`);
    // Data with the encoder's own key goes whole or not at all (before: in the encoder's
    // envelope, the Lock as {}).
    assert.match(
      String(await thrown("keyed")),
      /^\[cannot be sent: .+ holding a Semaphore or Lock\]$/,
    );
    assert.deepEqual(((await thrown("fieldObject")) as Error & { context: unknown }).context, {
      lock: "[cannot be sent: a Lock]",
      why: "busy",
    });
    assert.equal(await thrown("bare"), "[cannot be sent: a Lock]");
    assert.equal(pool.stats().workers.crashed, 0);
    assert.equal(lock.locked, false);
  });

  it("Pool without SharedArrayBuffer refuses a Semaphore in a Map, a Set or a class instance, as in a plain object", async () => {
    // A program of its own: it deletes the global before loading fastpool.
    const dir = mkdtempSync(join(tmpdir(), "fastpool-no-sab-"));
    try {
      const file = join(dir, "program.mjs");
      writeFileSync(
        file,
        `delete globalThis.SharedArrayBuffer;
const { Pool, Semaphore } = await import(${JSON.stringify(import.meta.resolve("../../mod.ts"))});
const pool = new Pool({ maxChildren: 1 });
const sem = new Semaphore(1);
class Box { constructor(sem) { this.sem = sem; } }
const forms = { plain: { sem }, mapValue: new Map([["k", sem]]), mapKey: new Map([[sem, 1]]),
  set: new Set([sem]), instance: new Box(sem), deep: [{ m: new Map([["s", new Set([[sem]])]]) }] };
const seen = {};
for (const [name, value] of Object.entries(forms)) {
  seen[name] = await pool.run((v) => typeof v, value).then(() => "sent", (e) => e.message);
}
await pool.terminate();
console.log(JSON.stringify(seen));
globalThis.process.exit(0);
`,
      );
      const [command, args] = withThisRuntime(file);
      const exit = await run(command, args, { killAfter: 60_000 });
      assert.equal(exit.code, 0, exit.stderr);
      const seen = JSON.parse(exit.stdout.trim().split("\n").at(-1)!);
      const refused =
        "Cannot share a Semaphore or Lock with another thread: SharedArrayBuffer is not available here (a browser page must be cross-origin isolated)";
      assert.deepEqual(seen, {
        plain: refused,
        mapValue: refused, // before: each of these arrived as an empty object
        mapKey: refused,
        set: refused,
        instance: refused,
        deep: refused,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
