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
    assert.equal(
      toWire({ __fastpoolShared: "Lock", buffer: new Lock().buffer }),
      undefined,
    );
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
    assert.equal(toWire(sem)?.buffer, sem.buffer);
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
