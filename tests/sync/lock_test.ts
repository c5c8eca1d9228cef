import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Lock } from "../../src/sync/lock.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import { toWire } from "../../src/sync/wire.ts";
import { promiseState } from "../_util.ts";
import { ask, opsWorker, started } from "./_ops.ts";

describe("Lock", () => {
  it("new Lock() starts unlocked", () => {
    const lock = new Lock();
    assert.equal(lock.locked, false);
    assert.equal(lock.value, 1);
    assert.ok(lock.buffer instanceof SharedArrayBuffer);
  });

  it("Lock.acquire() takes a free lock at once and waits while it is held", async () => {
    const lock = new Lock();
    assert.equal(await lock.acquire(), true);
    assert.equal(lock.locked, true);
    assert.equal(lock.value, 0);
    const waiting = lock.acquire();
    assert.equal(await promiseState(waiting), "pending");
    lock.release();
    assert.equal(await waiting, true);
    assert.equal(lock.locked, true);
  });

  it("Lock.acquire() resolves false after its timeout", async () => {
    const lock = new Lock();
    lock.tryAcquire();
    assert.equal(await lock.acquire({ timeout: 2 }), false);
    assert.equal(lock.locked, true);
    lock.release();
    assert.equal(lock.locked, false);
  });

  it("Lock.acquire() rejects with the reason when its signal aborts", async () => {
    const lock = new Lock();
    lock.tryAcquire();
    const controller = new AbortController();
    const waiting = lock.acquire({ signal: controller.signal });
    controller.abort("enough");
    await assert.rejects(waiting, (reason) => reason === "enough");
    lock.release();
    assert.equal(lock.locked, false);
  });

  it("Lock.acquire() rejects on bad options, naming the lock", async () => {
    await assert.rejects(new Lock().acquire({ timeout: -5 }), {
      name: "RangeError",
      message:
        'Cannot acquire lock: "timeout" must be a number of milliseconds >= 0 (Infinity: no limit), received -5',
    });
  });

  it("Lock.tryAcquire() takes the lock only while it is free", () => {
    const lock = new Lock();
    assert.equal(lock.tryAcquire(), true);
    assert.equal(lock.tryAcquire(), false);
    lock.release();
    assert.equal(lock.tryAcquire(), true);
  });

  it("Lock.acquireSync() takes a free lock, or returns false at its timeout", () => {
    const lock = new Lock();
    assert.equal(lock.acquireSync(), true);
    assert.equal(lock.acquireSync(0), false);
    assert.equal(lock.acquireSync(1), false);
    assert.throws(() => lock.acquireSync(-1), RangeError);
  });

  it("Lock.acquireSync() in a worker waits for a release() of the main thread", async () => {
    using worker = opsWorker();
    const lock = new Lock();
    lock.tryAcquire();
    const ctl = new Int32Array(new SharedArrayBuffer(4));
    const answer = ask(worker, {
      op: "acquireSync",
      target: toWire(lock),
      ctl: ctl.buffer,
    });
    await started(ctl);
    assert.equal(await promiseState(answer), "pending");
    lock.release();
    assert.deepEqual(await answer, { result: true });
    assert.equal(lock.locked, true);
  });

  it("Lock.release() from another thread unlocks: a lock has no owner", async () => {
    using worker = opsWorker();
    const lock = new Lock();
    await lock.acquire();
    const waiting = lock.acquire();
    assert.deepEqual(
      await ask(worker, { op: "release", target: toWire(lock) }),
      { result: null },
    );
    assert.equal(await waiting, true);
  });

  it("Lock.release() throws a RangeError while unlocked", () => {
    const lock = new Lock();
    assert.throws(() => lock.release(), {
      name: "RangeError",
      message: "Cannot release lock: it is not locked",
    });
    assert.equal(lock.value, 1);
  });

  it("Semaphore.from() a locked Lock's memory: release(2) says it would pass the limit, not that it is unlocked", () => {
    const lock = new Lock();
    assert.equal(lock.tryAcquire(), true);
    assert.throws(() => Semaphore.from(lock.buffer).release(2), {
      name: "RangeError",
      message: 'Cannot release lock: "n" would raise the value past 1, received 2 with value 0',
    });
    assert.equal(lock.locked, true);
  });

  it("Lock.release(n) takes only n = 1: a lock has one permit", () => {
    const lock = new Lock();
    lock.tryAcquire();
    for (const n of [2, 0, -1, 1.5]) {
      assert.throws(() => lock.release(n), {
        name: "RangeError",
        message: `Cannot release lock: "n" must be 1, received ${n}`,
      });
    }
    assert.throws(() => lock.release("1" as unknown as number), { name: "TypeError" });
    assert.equal(lock.locked, true, "nothing was released");
    lock.release(1);
    assert.equal(lock.locked, false);
  });

  it("Lock.acquirePermit() returns a permit that using unlocks once", async () => {
    const lock = new Lock();
    let permit;
    {
      using held = await lock.acquirePermit();
      permit = held;
      assert.equal(lock.locked, true);
    }
    assert.equal(lock.locked, false);
    assert.equal(permit.released, true);
    permit.release();
    assert.equal(lock.value, 1, "a second release of the permit did nothing");
  });

  it("Lock.acquirePermit() rejects with a TimeoutError after its timeout", async () => {
    const lock = new Lock();
    lock.tryAcquire();
    await assert.rejects(lock.acquirePermit({ timeout: 1 }), {
      name: "TimeoutError",
      message: "Cannot acquire lock: timed out after 1 ms",
    });
    assert.equal(lock.locked, true);
  });

  it("Lock.from() attaches to the same lock", async () => {
    const lock = new Lock();
    const view = Lock.from(lock.buffer);
    assert.equal(view.buffer, lock.buffer);
    await view.acquire();
    assert.equal(lock.locked, true);
    const waiting = lock.acquire();
    assert.equal(await promiseState(waiting), "pending");
    view.release();
    assert.equal(await waiting, true);
  });

  it("Lock.from() throws on a semaphore's memory or a foreign buffer", () => {
    assert.throws(() => Lock.from(new Semaphore(1).buffer), {
      name: "TypeError",
      message: `Cannot attach lock: "buffer" is a semaphore's memory, use Semaphore.from()`,
    });
    assert.throws(() => Lock.from(new SharedArrayBuffer(3)), {
      name: "TypeError",
      message: 'Cannot attach lock: "buffer" must be 24 bytes long, received 3',
    });
    assert.throws(() => Lock.from("buffer" as never), {
      name: "TypeError",
      message: 'Cannot attach lock: "buffer" must be a SharedArrayBuffer, received "buffer"',
    });
  });
});
