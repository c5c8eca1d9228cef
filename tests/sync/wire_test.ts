import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Lock } from "../../src/sync/lock.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import { fromWire, type SharedWire, toWire } from "../../src/sync/wire.ts";
import { ask, opsWorker } from "./_ops.ts";

describe("wire", () => {
  it("toWire() returns undefined for anything but a Semaphore or Lock", () => {
    for (
      const value of [
        undefined,
        null,
        0,
        "Lock",
        true,
        1n,
        Symbol("s"),
        () => 1,
      ]
    ) {
      assert.equal(toWire(value), undefined);
    }
    assert.equal(toWire({}), undefined);
    assert.equal(toWire(new SharedArrayBuffer(12)), undefined);
  });

  it("toWire() wraps plain data that has the wire forms' key, so fromWire() gives it back as data", () => {
    const lock = new Lock();
    for (
      const lookalike of [
        { __fastpoolShared: "Lock", buffer: lock.buffer },
        { __fastpoolShared: "Nested", value: 5 },
        { __fastpoolShared: "Data", value: 6 },
        { __fastpoolShared: 0 },
      ]
    ) {
      const wire = toWire(lookalike);
      assert.equal(wire?.__fastpoolShared, "Data");
      assert.deepEqual(fromWire(structuredClone(wire)), lookalike);
    }
    // Inside a value that holds a primitive, at the top and deeper, shared and cyclic.
    const inner: Record<string, unknown> = { __fastpoolShared: "Lock", buffer: 2 };
    inner.self = inner;
    const outer = { __fastpoolShared: "Semaphore", lock, list: [inner, inner] };
    const back = fromWire(structuredClone(toWire(outer))) as typeof outer & {
      list: (typeof inner)[];
    };
    assert.equal(back.__fastpoolShared, "Semaphore");
    assert.ok(back.lock instanceof Lock);
    const [first, second] = back.list;
    assert.equal(first?.__fastpoolShared, "Lock");
    assert.equal(first?.buffer, 2);
    assert.equal(first, second, "a shared reference stays shared");
    assert.equal(first?.self, first, "a cycle stays a cycle");
  });

  it("toWire() gives the kind and the shared memory", () => {
    const sem = new Semaphore(2);
    const lock = new Lock();
    assert.deepEqual(toWire(sem), {
      __fastpoolShared: "Semaphore",
      buffer: sem.buffer,
    });
    assert.deepEqual(toWire(lock), {
      __fastpoolShared: "Lock",
      buffer: lock.buffer,
    });
    assert.equal((toWire(sem) as SharedWire).buffer, sem.buffer);
  });

  it("fromWire() returns any other value unchanged", () => {
    const object = { __fastpoolShared: "Pool", buffer: 1 };
    for (const value of [undefined, null, 42, "x", object, [1, 2]]) {
      assert.equal(fromWire(value), value);
    }
  });

  it("fromWire() revives a wire form over the same memory", () => {
    const sem = new Semaphore(3);
    const revived = fromWire(structuredClone(toWire(sem)));
    assert.ok(revived instanceof Semaphore);
    assert.equal(revived.tryAcquire(), true);
    assert.equal(sem.value, 2);
    const lock = new Lock();
    const wire: SharedWire = { __fastpoolShared: "Lock", buffer: lock.buffer };
    const revivedLock = fromWire(wire);
    assert.ok(revivedLock instanceof Lock);
    assert.equal(revivedLock.tryAcquire(), true);
    assert.equal(lock.locked, true);
  });

  it("fromWire() throws a TypeError on a wire form without semaphore memory", () => {
    assert.throws(
      () =>
        fromWire({
          __fastpoolShared: "Semaphore",
          buffer: new ArrayBuffer(12),
        }),
      TypeError,
    );
    assert.throws(
      () => fromWire({ __fastpoolShared: "Lock", buffer: new Semaphore().buffer }),
      TypeError,
    );
  });

  it("toWire() leaves values that hold no primitive alone, cycles and typed arrays included", () => {
    const cyclic: Record<string, unknown> = { n: 1, list: [1, "a", null, { x: 2 }] };
    cyclic.self = cyclic;
    (cyclic.list as unknown[]).push(cyclic);
    assert.equal(toWire(cyclic), undefined);
    assert.equal(toWire([[[[]]]]), undefined);
    assert.equal(toWire(new Float64Array(8)), undefined);
    // Only arrays and plain objects are walked: a Map or class instance is sent as it is.
    assert.equal(toWire(new Map([[1, new Lock()]])), undefined);
    let deep: unknown[] = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(toWire(deep), undefined, "no recursion: deep values do not overflow the stack");
  });

  it("toWire() and fromWire() carry primitives at any depth, keeping shared references and cycles", () => {
    const lock = new Lock();
    const sem = new Semaphore(4);
    const shared = { sem };
    const value: Record<string, unknown> = {
      a: [1, { lock }],
      b: shared,
      c: shared,
      bytes: new Uint8Array([1, 2]),
      ["__proto__"]: 5, // a computed key: an own field, not the prototype
    };
    value.self = value;
    const wire = toWire(value);
    assert.equal(wire?.__fastpoolShared, "Nested");
    assert.equal(
      ((value.a as unknown[])[1] as { lock: Lock }).lock,
      lock,
      "the original is not changed",
    );
    const back = fromWire(structuredClone(wire)) as typeof value & {
      a: [number, { lock: Lock }];
      b: { sem: Semaphore };
      c: { sem: Semaphore };
      bytes: Uint8Array;
    };
    assert.ok(back.a[1].lock instanceof Lock);
    assert.equal(back.a[1].lock.tryAcquire(), true);
    assert.equal(lock.locked, true, "the same memory");
    assert.ok(back.b.sem instanceof Semaphore);
    assert.equal(back.b, back.c, "a shared reference stays shared");
    assert.equal(back.self, back, "a cycle stays a cycle");
    assert.deepEqual([...back.bytes], [1, 2]);
    assert.equal(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, 5);
    assert.equal(back.b.sem.value, 4);
  });

  it("toWire() and fromWire() carry a Semaphore and a Lock through postMessage", async () => {
    using worker = opsWorker();
    const sem = new Semaphore(4);
    const lock = new Lock();
    assert.deepEqual(
      await ask(worker, { op: "describe", target: toWire(sem) }),
      {
        result: { kind: "Semaphore", value: 4, shared: true },
      },
    );
    assert.deepEqual(
      await ask(worker, { op: "describe", target: toWire(lock) }),
      {
        result: { kind: "Lock", value: 1, shared: true },
      },
    );
    assert.deepEqual(
      await ask(worker, { op: "tryAcquire", target: toWire(lock) }),
      { result: true },
    );
    assert.equal(lock.locked, true, "the worker took the main thread's lock");
    assert.deepEqual(
      await ask(worker, { op: "acquire", target: toWire(sem) }),
      { result: true },
    );
    assert.equal(sem.value, 3);
    assert.deepEqual(await ask(worker, { op: "describe", target: 7 }), {
      result: { kind: "number" },
    });
  });
});
