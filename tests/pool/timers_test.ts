import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { PoolClosedError, QueueFullError } from "../../src/errors.ts";
import { FakeClock, laggingClock } from "../_fake_clock.ts";
import { gate as makeGate, waitAtGate } from "../_gate.ts";
import { within } from "../_util.ts";
import { systemClock } from "../../src/timers/clock.ts";

const echo = (value: string) => value;

/** Collects results sent to a `done` callback, and wakes a waiter at each one. */
function collector() {
  const values: unknown[] = [];
  let wake: (() => void) | null = null;
  return {
    values,
    done: (value: unknown) => {
      values.push(value);
      wake?.();
    },
    /** Resolves once `n` results have arrived. */
    async count(n: number): Promise<void> {
      while (values.length < n) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

describe("Pool delayed jobs", () => {
  it("Pool.submitLater() queues the job only when the delay has passed", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, clock });
    const handle = pool.submitLater(100, echo, "late");
    assert.equal(handle.kind, "delayed");
    assert.equal(handle.due, 100);
    assert.deepEqual(pool.delayed, [handle]);
    assert.deepEqual(pool.scheduled, []);
    clock.tick(99);
    assert.equal(pool.pending, 0);
    assert.equal(handle.fired, 0);
    clock.tick(1);
    assert.equal(handle.fired, 1);
    assert.equal(handle.active, false);
    assert.deepEqual(pool.delayed, []);
    assert.equal(pool.pending, 1);
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], ["late"]);
  });

  it("Pool.submitLater() puts the job at the front of the queue when it fires", async () => {
    const clock = new FakeClock();
    const gate = makeGate();
    await using pool = new Pool({ maxChildren: 1, clock });
    pool.submit(waitAtGate, gate.memory, "running");
    await gate.started(1);
    pool.submit(echo, "a");
    pool.submit(echo, "b");
    pool.submitLater(10, echo, "delayed");
    clock.tick(10);
    gate.open();
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], ["running", "delayed", "a", "b"]);
  });

  it("Pool.submitDoneLater() sends the result to its own callback", async () => {
    const clock = new FakeClock();
    const results = collector();
    await using pool = new Pool({ maxChildren: 1, clock });
    pool.submitDoneLater(5, (n: number) => n * 2, results.done, 21);
    pool.submitDoneLater(5, (n: number) => n * 3, false, 1);
    clock.tick(5);
    assert.equal(await pool.wait(), true);
    assert.deepEqual(results.values, [42]);
    assert.equal(pool.done.length, 0);
  });

  it("TimerHandle.cancel() stops a delayed job before it fires", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, clock });
    const kept = pool.submitLater(10, echo, "kept");
    const dropped = pool.submitLater(10, echo, "dropped");
    assert.equal(dropped.cancel(), true);
    assert.equal(dropped.cancel(), false);
    assert.equal(dropped.cancelled, true);
    assert.deepEqual(pool.delayed, [kept]);
    clock.tick(10);
    assert.equal(kept.cancel(), false, "a fired handle cannot be cancelled");
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], ["kept"]);
    assert.equal(dropped.fired, 0);
  });

  it("Pool.submitLater() fails the job with QueueFullError when it fires into a full queue", async () => {
    const clock = new FakeClock();
    const gate = makeGate();
    await using pool = new Pool({ maxChildren: 1, maxQueue: 1, clock });
    pool.submit(waitAtGate, gate.memory, "running");
    await gate.started(1);
    pool.submit(echo, "queued");
    pool.submitLater(10, echo, "delayed");
    clock.tick(10);
    gate.open();
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], ["running", "queued"]);
    assert.equal(pool.failed.length, 1);
    assert.ok(pool.failed.at(0) instanceof QueueFullError);
  });

  it("Pool.submitLater() refuses a bad delay or task at once, not when it fires", async () => {
    await using pool = new Pool({ maxChildren: 1, clock: new FakeClock() });
    assert.throws(() => pool.submitLater(-1, echo, "x"), {
      name: "RangeError",
      message: /"delay"/,
    });
    assert.throws(() => pool.submitLater(Infinity, echo, "x"), {
      name: "RangeError",
      message: /"delay"/,
    });
    // @ts-expect-error: the delay must be a number
    assert.throws(() => pool.submitLater("5", echo, "x"), {
      name: "TypeError",
      message: /"delay"/,
    });
    // @ts-expect-error: a number is not a task
    assert.throws(() => pool.submitLater(5, 42), {
      name: "TypeError",
      message: /"task"/,
    });
    assert.throws(
      () => pool.submitDoneLater(5, echo, "yes" as unknown as boolean, "x"),
      {
        name: "TypeError",
        message: /"done"/,
      },
    );
    assert.deepEqual(pool.delayed, []);
  });
});

describe("Pool scheduled jobs", () => {
  it("Pool.schedule() submits a job at every tick of its grid", async () => {
    const clock = new FakeClock(1000);
    await using pool = new Pool({ maxChildren: 1, clock });
    const handle = pool.schedule(100, echo, "tick");
    assert.equal(handle.kind, "scheduled");
    assert.deepEqual(pool.scheduled, [handle]);
    assert.deepEqual(pool.delayed, []);
    const dues: number[] = [];
    for (let k = 1; k <= 3; k++) {
      clock.tick(99);
      assert.equal(handle.fired, k - 1);
      clock.tick(1);
      assert.equal(handle.fired, k);
      dues.push(handle.due);
      assert.equal(await pool.wait(), true);
    }
    assert.deepEqual(dues, [1200, 1300, 1400]);
    assert.deepEqual([...pool.done], ["tick", "tick", "tick"]);
    assert.equal(handle.skipped, 0);
    assert.equal(handle.cancel(), true);
    assert.deepEqual(pool.scheduled, []);
  });

  it("Pool.scheduleDone() keeps its grid when timers run late: no drift", async () => {
    const fake = new FakeClock();
    const lag = { ms: 30 };
    const results = collector();
    await using pool = new Pool({
      maxChildren: 1,
      clock: laggingClock(fake, lag),
    });
    const handle = pool.scheduleDone(100, () => "tick", results.done);
    const firedAt: number[] = [];
    for (let k = 1; k <= 4; k++) {
      // The timer set for tick k fires 30 ms late; the next one is still due on the grid.
      fake.next();
      firedAt.push(fake.now());
      assert.equal(handle.fired, k);
      assert.equal(handle.due, (k + 1) * 100);
      await results.count(k);
    }
    assert.deepEqual(firedAt, [130, 230, 330, 430]);
    assert.equal(handle.skipped, 0);
    handle.cancel();
  });

  it("Pool.schedule() skips missed ticks instead of bunching them", async () => {
    const fake = new FakeClock();
    // The event loop stalls: the timer set for the tick at 100 runs at 350.
    await using pool = new Pool({
      maxChildren: 1,
      clock: laggingClock(fake, { ms: 250 }),
    });
    const handle = pool.schedule(100, echo, "tick");
    assert.equal(handle.due, 100);
    fake.next();
    assert.equal(fake.now(), 350);
    assert.equal(handle.fired, 1, "one job for the ticks at 100, 200 and 300");
    assert.equal(handle.skipped, 2);
    assert.equal(
      handle.due,
      400,
      "the next tick is the next grid point in the future",
    );
    assert.equal(pool.pending, 1);
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], ["tick"]);
    handle.cancel();
  });

  it("Pool.schedule() skips a tick while the previous run is still pending", async () => {
    const clock = new FakeClock();
    const gate = makeGate();
    await using pool = new Pool({ maxChildren: 1, clock });
    const handle = pool.schedule(100, waitAtGate, gate.memory, "tick");
    clock.tick(100);
    assert.equal(handle.fired, 1);
    await gate.started(1);
    clock.tick(100);
    clock.tick(100);
    assert.equal(handle.fired, 1);
    assert.equal(handle.skipped, 2);
    assert.equal(pool.pending, 1, "no second run was queued behind the first");
    gate.open();
    assert.equal(await pool.wait(), true);
    clock.tick(100);
    assert.equal(handle.fired, 2);
    assert.equal(handle.due, 500);
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], ["tick", "tick"]);
    handle.cancel();
  });

  it("Pool.schedule() refuses an interval that is not positive", async () => {
    await using pool = new Pool({ maxChildren: 1, clock: new FakeClock() });
    assert.throws(() => pool.schedule(0, echo, "x"), {
      name: "RangeError",
      message: /"interval"/,
    });
    assert.throws(() => pool.scheduleDone(NaN, echo, true, "x"), {
      name: "RangeError",
      message: /"interval"/,
    });
    assert.deepEqual(pool.scheduled, []);
  });
});

describe("Pool timers and the pool's lifecycle", () => {
  it("Pool.cancel(null, true) cancels queued jobs and every delayed and scheduled job", async () => {
    const clock = new FakeClock();
    const gate = makeGate();
    await using pool = new Pool({ maxChildren: 1, clock });
    pool.submit(waitAtGate, gate.memory, "running");
    await gate.started(1);
    pool.submit(echo, "queued");
    const delayed = pool.submitLater(10, echo, "delayed");
    const scheduled = pool.schedule(10, echo, "scheduled");
    assert.equal(pool.cancel(null, true), true);
    assert.equal(delayed.cancelled, true);
    assert.equal(scheduled.cancelled, true);
    assert.deepEqual(pool.delayed, []);
    assert.deepEqual(pool.scheduled, []);
    clock.tick(100);
    gate.open();
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], ["running"]);
  });

  it("Pool.cancel(false, true) cancels only the timers; cancel(id) leaves them", async () => {
    const clock = new FakeClock();
    const gate = makeGate();
    await using pool = new Pool({ maxChildren: 1, clock });
    pool.submit(waitAtGate, gate.memory, "running");
    await gate.started(1);
    const queued = pool.submit(echo, "queued");
    const delayed = pool.submitLater(10, echo, "delayed");
    assert.equal(
      pool.cancel(queued + 100),
      false,
      "an unknown id matches nothing",
    );
    assert.equal(pool.cancel(false), false, "no ids, no timers: nothing");
    assert.deepEqual(pool.delayed, [delayed]);
    assert.equal(pool.cancel(false, true), true);
    assert.equal(pool.cancel(false, true), false, "nothing left to cancel");
    assert.equal(pool.jobs.length, 1);
    clock.tick(10);
    gate.open();
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], ["running", "queued"]);
  });

  it("Pool.shutdown() cancels delayed and scheduled jobs and leaves no timer set", async () => {
    const clock = new FakeClock();
    const pool = new Pool({ maxChildren: 1, clock });
    const delayed = pool.submitLater(10, echo, "delayed");
    const scheduled = pool.schedule(10, echo, "scheduled");
    assert.ok(clock.pendingTimers > 0);
    assert.equal(await pool.shutdown(), true);
    assert.equal(delayed.cancelled, true);
    assert.equal(scheduled.cancelled, true);
    assert.deepEqual(pool.delayed, []);
    assert.deepEqual(pool.scheduled, []);
    assert.equal(
      clock.pendingTimers,
      0,
      "nothing left to keep the program alive",
    );
    assert.throws(() => pool.submitLater(10, echo, "x"), PoolClosedError);
    assert.throws(() => pool.schedule(10, echo, "x"), PoolClosedError);
  });

  it("Pool.shutdown() clears the timers of a pool that ran delayed and scheduled jobs", async () => {
    const clock = new FakeClock();
    const pool = new Pool({ maxChildren: 2, clock });
    pool.submitLater(10, echo, "delayed");
    const scheduled = pool.schedule(10, echo, "scheduled");
    clock.tick(10);
    assert.equal(await pool.wait(), true);
    assert.equal(scheduled.fired, 1);
    assert.equal(await pool.shutdown(), true);
    assert.equal(pool.alive, 0);
    assert.equal(clock.pendingTimers, 0);
    assert.deepEqual([...pool.done].sort(), ["delayed", "scheduled"]);
  });

  it("Pool.terminate() and shutdown({ soon: true }) stop the pool when the clock's clearTimer throws, then throw its error", async () => {
    class BrokenClock extends FakeClock {
      broken = false;
      override clearTimer(id: Parameters<FakeClock["clearTimer"]>[0]): void {
        if (this.broken) throw new Error("clearTimer broke");
        super.clearTimer(id);
      }
    }
    {
      const clock = new BrokenClock();
      const pool = new Pool({ maxChildren: 1, clock });
      const running = pool.run(() => new Promise(() => {})); // never settles
      const queued = pool.run(echo, "queued");
      const timer = pool.submitLater(60_000, echo, "late");
      clock.broken = true;
      assert.throws(() => pool.terminate(), /clearTimer broke/);
      clock.broken = false;
      await assert.rejects(running, PoolClosedError);
      await assert.rejects(queued, PoolClosedError);
      assert.equal(timer.cancelled, true);
      assert.equal(pool.pending, 0);
    }
    {
      const clock = new BrokenClock();
      const pool = new Pool({ maxChildren: 1, clock });
      const queued = [pool.run(echo, "a"), pool.run(echo, "b")];
      const timer = pool.submitLater(60_000, echo, "late");
      clock.broken = true;
      const closing = pool.shutdown(undefined, { soon: true });
      clock.broken = false;
      await assert.rejects(closing, /clearTimer broke/);
      for (const job of queued) await assert.rejects(job, PoolClosedError);
      assert.equal(timer.cancelled, true);
      assert.equal(pool.alive, 0);
    }
  });

  it("Pool.terminate() and shutdown(timeout) with a clock whose clearTimer throws end every job and worker, then throw its error", async () => {
    /** The system clock, its clearTimer broken while `broken`. */
    const breakable = () => {
      const clock = {
        broken: false,
        now: () => systemClock.now(),
        setTimer: (callback: () => void, ms: number) => systemClock.setTimer(callback, ms),
        clearTimer(id: unknown) {
          if (clock.broken) throw new Error("clearTimer broke");
          systemClock.clearTimer(id);
        },
      };
      return clock;
    };
    {
      const clock = breakable();
      const pool = new Pool({ maxChildren: 2, clock });
      // Both workers went idle once: their idle timers are armed.
      assert.deepEqual(await Promise.all([pool.run(echo, "1"), pool.run(echo, "2")]), ["1", "2"]);
      const held = makeGate(); // never opened
      const running = [
        pool.run(waitAtGate, held.memory, "a"),
        pool.run(waitAtGate, held.memory, "b"),
      ];
      await held.started(2);
      clock.broken = true;
      assert.throws(() => pool.terminate(), /clearTimer broke/);
      clock.broken = false;
      // Before: the first worker's idle timer threw, and neither job ever ended.
      for (const job of running) await assert.rejects(job, PoolClosedError);
      assert.equal(pool.alive, 0);
    }
    {
      const clock = breakable();
      const pool = new Pool({ maxChildren: 1, minChildren: 1, clock });
      const held = makeGate();
      const job = pool.run(waitAtGate, held.memory, "held");
      await held.started();
      clock.broken = true;
      const closing = pool.shutdown(10_000);
      held.open();
      assert.equal(await job, "held");
      // Before: it waited out its 10 s and answered false, the clock's error lost.
      await assert.rejects(closing, /clearTimer broke/);
      clock.broken = false;
      assert.equal(pool.alive, 0);
    }
  });

  it("Pool with a clock whose clearTimer throws fails the call that cancelled, not a later shutdown; wait(Infinity) sets no timer", async () => {
    const delays: number[] = [];
    const clock = {
      broken: false,
      now: () => systemClock.now(),
      setTimer(callback: () => void, ms: number) {
        delays.push(ms);
        return systemClock.setTimer(callback, ms);
      },
      clearTimer(id: unknown) {
        if (clock.broken) throw new Error("clearTimer broke");
        systemClock.clearTimer(id);
      },
    };
    const pool = new Pool({ maxChildren: 2, clock });
    const handle = pool.submitLater(60_000, echo, "late");
    clock.broken = true;
    assert.throws(() => handle.cancel(), /clearTimer broke/);
    clock.broken = false;
    assert.equal(handle.cancelled, true);
    // Two idle workers with idle timers; resize(1) lets one go, then throws the clock's error.
    assert.deepEqual(await Promise.all([pool.run(echo, "a"), pool.run(echo, "b")]), ["a", "b"]);
    clock.broken = true;
    assert.throws(() => pool.resize(1), /clearTimer broke/);
    clock.broken = false;
    assert.equal(pool.alive, 1);
    const held = makeGate();
    const job = pool.run(waitAtGate, held.memory, "held");
    await held.started();
    // Before (since the clock's errors were kept): it threw the cancel's error, and the
    // caller's terminate() that a false calls for never came.
    assert.equal(await pool.shutdown(50), false);
    const idle = pool.wait(Infinity);
    held.open();
    assert.equal(await job, "held");
    // Before: setTimer(…, Infinity), which a clock over setTimeout runs at once: false.
    assert.equal(await idle, true);
    assert.deepEqual(delays.filter((ms) => ms === Infinity), []);
    pool.terminate();
  });

  it("Pool with a clock whose setTimer throws for an idle worker reports it, and keeps the worker", async () => {
    const reported: unknown[] = [];
    const global = globalThis as { reportError?: ((error: unknown) => void) | undefined };
    const original = global.reportError;
    global.reportError = (error) => reported.push(error);
    const clock = {
      now: () => systemClock.now(),
      setTimer(): never {
        throw new Error("setTimer broke");
      },
      clearTimer: () => {},
    };
    const pool = new Pool({ maxChildren: 1, clock });
    try {
      const exits: unknown[] = [];
      pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
      assert.equal(await pool.run(echo, "a"), "a");
      assert.equal(await pool.run(echo, "b"), "b");
      // Before: blamed on the worker ("sent a message the pool cannot read"), replaced as crashed.
      assert.deepEqual(exits, []);
      assert.equal(pool.stats().workers.crashed, 0);
      assert.ok(reported.length > 0);
      assert.match(String(reported[0]), /setTimer broke/);
    } finally {
      pool.terminate();
      global.reportError = original;
    }
  });

  it("Pool with a clock whose setTimer or clearTimer throws for a job's time limit reports it, and the limit holds on real time", async () => {
    const reported: unknown[] = [];
    const global = globalThis as { reportError?: ((error: unknown) => void) | undefined };
    const original = global.reportError;
    global.reportError = (error) => reported.push(error);
    let breakSet = 0;
    let breakClear = 0;
    const clock = {
      now: () => systemClock.now(),
      setTimer(callback: () => void, ms: number) {
        if (breakSet > 0 && breakSet-- > 0) throw new Error("setTimer broke");
        return systemClock.setTimer(callback, ms);
      },
      clearTimer(id: unknown) {
        if (breakClear > 0 && breakClear-- > 0) throw new Error("clearTimer broke");
        systemClock.clearTimer(id);
      },
    };
    const pool = new Pool({ maxChildren: 1, clock, idleTimeout: Infinity });
    try {
      assert.equal(await pool.run(echo, "warm"), "warm");
      breakSet = 2; // the first two timed jobs' timers
      const hang = () => new Promise(() => {});
      const timed = [0, 1, 2].map(() => pool.exec(hang, [], { timeout: 50 }));
      // Before: each still pending, no limit left (the first throw escaped the pool's flush).
      for (const job of timed) await assert.rejects(job, { name: "TaskTimeoutError" });
      assert.equal(reported.filter((e) => /setTimer broke/.test(String(e))).length, 2);
      breakClear = 1; // cleared as the next timed job's answer is read
      const [a, b] = [
        pool.exec(echo, ["timed"], { timeout: 5_000 }),
        pool.run(echo, "untimed"),
      ];
      // Before: the untimed one failed as crashed ("sent a message the pool cannot read").
      assert.deepEqual(await Promise.all([a, b]), ["timed", "untimed"]);
      assert.ok(reported.some((e) => /clearTimer broke/.test(String(e))));
      assert.equal(pool.stats().workers.crashed, 0);
    } finally {
      pool.terminate();
      global.reportError = original;
    }
    // A fake clock nobody moves, whose setTimer throws: the limit is kept on real time.
    global.reportError = () => {};
    const frozen = new Pool({
      maxChildren: 1,
      idleTimeout: Infinity,
      clock: {
        now: () => 0,
        setTimer(): never {
          throw new Error("setTimer broke");
        },
        clearTimer: () => {},
      },
    });
    try {
      // Before: its looks measured the frozen clock, and the job ran to its end (never, here).
      await assert.rejects(frozen.exec(() => new Promise(() => {}), [], { timeout: 50 }), {
        name: "TaskTimeoutError",
      });
    } finally {
      frozen.terminate();
      global.reportError = original;
    }
  });

  it("Pool with idleTimeout Infinity sets no idle timer on its clock", async () => {
    const delays: number[] = [];
    const clock = {
      now: () => systemClock.now(),
      setTimer(callback: () => void, ms: number) {
        delays.push(ms);
        return systemClock.setTimer(callback, ms);
      },
      clearTimer: (id: unknown) => systemClock.clearTimer(id),
    };
    const pool = new Pool({ maxChildren: 2, idleTimeout: Infinity, clock });
    assert.deepEqual(await Promise.all([pool.run(echo, "a"), pool.run(echo, "b")]), ["a", "b"]);
    // Before: setTimer(…, Infinity), which a clock over setTimeout runs after 1 ms, again and again.
    assert.deepEqual(delays.filter((ms) => ms === Infinity), []);
    assert.equal(pool.alive, 2, "idle workers stay");
    assert.equal(await pool.shutdown(), true);
  });

  it("Pool.shutdown() lets its workers go when the clock's now() throws, then throws its error", async () => {
    class BrokenClock extends FakeClock {
      broken = false;
      override now(): number {
        if (this.broken) throw new Error("now broke");
        return super.now();
      }
    }
    const clock = new BrokenClock();
    const pool = new Pool({ maxChildren: 1, minChildren: 1, clock });
    assert.equal(await pool.run(echo, "a"), "a");
    const exited = new Promise((resolve) => pool.addEventListener("workerexit", resolve));
    clock.broken = true;
    await assert.rejects(pool.shutdown(), /now broke/);
    clock.broken = false;
    // Before: the worker stayed, and kept the program alive.
    assert.equal(await within(exited, 10_000), true, "the worker left");
    assert.equal(pool.alive, 0);
    assert.throws(() => pool.submit(echo, "b"), PoolClosedError);
  });

  it("Pool.submitLater() fires on the system clock", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const result = await new Promise((resolve) =>
      pool.submitDoneLater(1, echo, resolve, "on time")
    );
    assert.equal(result, "on time");
    assert.deepEqual(pool.delayed, []);
  });
});
