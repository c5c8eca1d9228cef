import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../_fake_clock.ts";

describe("FakeClock", () => {
  it("FakeClock.now() starts at 0 or the given start and moves only with tick()", () => {
    assert.equal(new FakeClock().now(), 0);
    const clock = new FakeClock(500);
    assert.equal(clock.now(), 500);
    assert.equal(clock.now(), 500);
    clock.tick(25);
    assert.equal(clock.now(), 525);
    clock.tick(0);
    assert.equal(clock.now(), 525);
  });

  it("FakeClock.tick() runs a timer at its due time, once", () => {
    const clock = new FakeClock();
    const times: number[] = [];
    clock.setTimer(() => times.push(clock.now()), 10);
    clock.tick(9);
    assert.deepEqual(times, []);
    assert.equal(clock.pendingTimers, 1);
    clock.tick(5);
    assert.deepEqual(times, [10]);
    assert.equal(clock.now(), 14);
    assert.equal(clock.pendingTimers, 0);
    clock.tick(100);
    assert.deepEqual(times, [10]);
  });

  it("FakeClock.tick() runs timers in due order, ties in the order they were set", () => {
    const clock = new FakeClock();
    const order: string[] = [];
    clock.setTimer(() => order.push("c"), 30);
    clock.setTimer(() => order.push("a1"), 10);
    clock.setTimer(() => order.push("b"), 20);
    clock.setTimer(() => order.push("a2"), 10);
    clock.tick(30);
    assert.deepEqual(order, ["a1", "a2", "b", "c"]);
  });

  it("FakeClock.tick() also runs timers set by callbacks that fall within the tick", () => {
    const clock = new FakeClock();
    const times: number[] = [];
    const repeat = () => {
      times.push(clock.now());
      clock.setTimer(repeat, 10);
    };
    clock.setTimer(repeat, 10);
    clock.setTimer(() => clock.setTimer(() => times.push(-clock.now()), 0), 25);
    clock.tick(45);
    assert.deepEqual(times, [10, 20, -25, 30, 40]);
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.now(), 45);
  });

  it("FakeClock.setTimer() treats a negative or NaN delay as 0", () => {
    const clock = new FakeClock(7);
    const times: number[] = [];
    clock.setTimer(() => times.push(clock.now()), -5);
    clock.setTimer(() => times.push(clock.now()), NaN);
    clock.tick(0);
    assert.deepEqual(times, [7, 7]);
  });

  it("FakeClock.clearTimer() removes a timer and ignores unknown ids", () => {
    const clock = new FakeClock();
    let fired = 0;
    const id = clock.setTimer(() => fired++, 10);
    clock.clearTimer(id);
    clock.clearTimer(id);
    clock.clearTimer(12345);
    clock.clearTimer(undefined);
    assert.equal(clock.pendingTimers, 0);
    clock.tick(20);
    assert.equal(fired, 0);
  });

  it("FakeClock.clearTimer() from a callback stops a timer due in the same tick", () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const ids: unknown[] = [];
    clock.setTimer(() => {
      order.push("first");
      clock.clearTimer(ids[0]);
    }, 5);
    ids.push(clock.setTimer(() => order.push("victim"), 5));
    clock.tick(5);
    assert.deepEqual(order, ["first"]);
  });

  it("FakeClock.setTimer() returns distinct ids", () => {
    const clock = new FakeClock();
    const ids = new Set([
      clock.setTimer(() => {}, 1),
      clock.setTimer(() => {}, 1),
    ]);
    assert.equal(ids.size, 2);
  });

  it("FakeClock.next() runs only the earliest timer and advances to it", () => {
    const clock = new FakeClock();
    const order: string[] = [];
    clock.setTimer(() => order.push("b"), 20);
    clock.setTimer(() => order.push("a"), 10);
    clock.setTimer(() => order.push("a'"), 10);
    assert.equal(clock.next(), true);
    assert.deepEqual(order, ["a"]);
    assert.equal(clock.now(), 10);
    assert.equal(clock.next(), true);
    assert.deepEqual(order, ["a", "a'"]);
    assert.equal(clock.now(), 10);
    assert.equal(clock.next(), true);
    assert.equal(clock.now(), 20);
    assert.equal(clock.next(), false);
    assert.equal(clock.now(), 20);
  });

  it("FakeClock.runAll() runs every timer, chained ones too, and counts them", () => {
    const clock = new FakeClock();
    const times: number[] = [];
    clock.setTimer(() => {
      times.push(clock.now());
      clock.setTimer(() => times.push(clock.now()), 100);
    }, 50);
    clock.setTimer(() => times.push(clock.now()), 10);
    assert.equal(clock.runAll(), 3);
    assert.deepEqual(times, [10, 50, 150]);
    assert.equal(clock.now(), 150);
    assert.equal(clock.runAll(), 0);
  });

  it("FakeClock.runAll() throws RangeError when timers never run out", () => {
    const clock = new FakeClock();
    const again = () => clock.setTimer(again, 1);
    again();
    assert.throws(() => clock.runAll(50), {
      name: "RangeError",
      message: "Cannot run all timers: 1 still pending after 50 runs",
    });
    assert.equal(clock.now(), 50);
  });

  it("FakeClock.tick() throws RangeError for a negative or non-finite ms", () => {
    const clock = new FakeClock();
    for (const bad of [-1, NaN, Infinity]) {
      assert.throws(() => clock.tick(bad), RangeError);
    }
    assert.equal(clock.now(), 0);
  });

  it("FakeClock.tick() lets a callback's error out and stops at that timer", () => {
    const clock = new FakeClock();
    const boom = new Error("boom");
    let later = 0;
    clock.setTimer(() => {
      throw boom;
    }, 10);
    clock.setTimer(() => later++, 20);
    assert.throws(() => clock.tick(30), boom);
    assert.equal(clock.now(), 10);
    assert.equal(clock.pendingTimers, 1);
    clock.tick(20);
    assert.equal(later, 1);
    assert.equal(clock.now(), 30);
  });

  it("FakeClock.tick() throws when called from a timer callback", () => {
    const clock = new FakeClock();
    let error: unknown;
    clock.setTimer(() => {
      try {
        clock.tick(1);
      } catch (e) {
        error = e;
      }
    }, 1);
    clock.tick(1);
    assert.ok(error instanceof Error);
    assert.match(error.message, /a timer callback is running/);
    assert.equal(clock.now(), 1);
    // The clock is usable again afterwards.
    clock.setTimer(() => {}, 1);
    clock.tick(1);
    assert.equal(clock.pendingTimers, 0);
  });

  it("FakeClock.setTimer() accepts and ignores the unref option", () => {
    const clock = new FakeClock();
    let fired = 0;
    clock.setTimer(() => fired++, 1, { unref: true });
    assert.equal(clock.pendingTimers, 1);
    clock.tick(1);
    assert.equal(fired, 1);
  });
});
