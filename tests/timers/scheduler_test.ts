import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock, laggingClock } from "../_fake_clock.ts";
import type { Clock, SetTimerOptions } from "../../src/timers/clock.ts";
import { Scheduler, type TimerHandle } from "../../src/timers/scheduler.ts";

/** A scheduler on a fake clock that collects what `fire`/`isBusy` throw. */
function setup(clock: Clock = new FakeClock()) {
  const errors: unknown[] = [];
  const scheduler = new Scheduler(clock, {
    onError: (error) => errors.push(error),
  });
  return { scheduler, errors };
}

/** A fake clock that records every `setTimer` call. */
function spyClock(fake: FakeClock) {
  const calls: { ms: number; options: SetTimerOptions | undefined }[] = [];
  const clock: Clock = {
    now: () => fake.now(),
    setTimer(callback, ms, options) {
      calls.push({ ms, options });
      return fake.setTimer(callback, ms, options);
    },
    clearTimer: (id) => fake.clearTimer(id),
  };
  return { clock, calls };
}

/**
 * A fake clock with the quirks a user's clock may have: with `eager`, it
 * runs a 0 ms timer within `setTimer()`; `refuse.set` and `refuse.clear`
 * make the next that many `setTimer()` / `clearTimer()` calls throw.
 */
function quirkyClock(fake: FakeClock, eager = false) {
  const refuse = { set: 0, clear: 0 };
  const clock: Clock = {
    now: () => fake.now(),
    setTimer(callback, ms, options) {
      if (refuse.set > 0) {
        refuse.set--;
        throw new Error("clock refused");
      }
      if (!eager || ms > 0) return fake.setTimer(callback, ms, options);
      callback();
      return -1;
    },
    clearTimer(id) {
      if (refuse.clear > 0) {
        refuse.clear--;
        throw new Error("clock refused to clear");
      }
      if (id !== -1) fake.clearTimer(id);
    },
  };
  return { clock, refuse };
}

describe("Scheduler.later()", () => {
  it("Scheduler.later() fires once at clock.now() + delay", () => {
    const clock = new FakeClock(1000);
    const { scheduler } = setup(clock);
    const times: number[] = [];
    const handle = scheduler.later(50, () => times.push(clock.now()));
    assert.equal(handle.kind, "delayed");
    assert.equal(handle.due, 1050);
    assert.equal(handle.active, true);
    clock.tick(49);
    assert.deepEqual(times, []);
    clock.tick(1);
    assert.deepEqual(times, [1050]);
    clock.tick(1000);
    assert.deepEqual(times, [1050]);
    assert.equal(handle.fired, 1);
    assert.equal(handle.skipped, 0);
    assert.equal(handle.active, false);
    assert.equal(handle.cancelled, false);
    assert.equal(clock.pendingTimers, 0);
  });

  it("Scheduler.later() passes the handle to fire() and drops it from delayed first", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    let seen: TimerHandle | undefined;
    let activeInside: boolean | undefined;
    let listedInside: ReadonlyArray<TimerHandle> | undefined;
    let cancelInside: boolean | undefined;
    const handle = scheduler.later(5, (h) => {
      seen = h;
      activeInside = h.active;
      listedInside = scheduler.delayed;
      cancelInside = h.cancel();
    });
    clock.tick(5);
    assert.equal(seen, handle);
    assert.equal(activeInside, false);
    assert.deepEqual(listedInside, []);
    assert.equal(cancelInside, false);
    assert.equal(handle.cancelled, false);
  });

  it("Scheduler handles are read-only at run time: a write throws and changes nothing", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const fired: string[] = [];
    const first = scheduler.later(10, () => fired.push("first"));
    scheduler.later(20, () => fired.push("second"));
    const writable = first as unknown as Record<string, unknown>;
    // Before: each write went through to the heap entry (an index of 5 lost the first timer).
    for (const [name, value] of [["index", 5], ["cancelled", true], ["due", 99], ["fired", 3]]) {
      assert.throws(() => writable[name as string] = value, TypeError);
    }
    assert.deepEqual([first.due, first.active, first.cancelled, first.fired], [10, true, false, 0]);
    assert.equal(scheduler.delayed[0], first, "listed as the same object");
    assert.throws(() => Object.defineProperty(first, "due", { value: 1 }), TypeError);
    assert.equal(first.due, 10);
    // Its facts still show, as when they were fields.
    assert.deepEqual(JSON.parse(JSON.stringify(first)), {
      id: first.id,
      kind: "delayed",
      due: 10,
      active: true,
      cancelled: false,
      fired: 0,
      skipped: 0,
    });
    clock.tick(20);
    assert.deepEqual(fired, ["first", "second"]);
    assert.equal(first.fired, 1);
  });

  it("Scheduler.later() fires in due order, ties in creation order", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const order: string[] = [];
    scheduler.later(30, () => order.push("c"));
    scheduler.later(10, () => order.push("a1"));
    scheduler.later(20, () => order.push("b"));
    scheduler.later(10, () => order.push("a2"));
    scheduler.later(0, () => order.push("zero"));
    clock.tick(100);
    assert.deepEqual(order, ["zero", "a1", "a2", "b", "c"]);
  });

  it("Scheduler.later() fires many handles due together in one timer callback", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const order: number[] = [];
    for (let i = 0; i < 100; i++) scheduler.later(7, () => order.push(i));
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.next(), true);
    assert.equal(order.length, 100);
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    assert.equal(clock.pendingTimers, 0);
  });

  it("Scheduler.later() keeps one clock timer, re-armed for an earlier handle", () => {
    const fake = new FakeClock();
    const { clock, calls } = spyClock(fake);
    const { scheduler } = setup(clock);
    scheduler.later(100, () => {});
    scheduler.later(200, () => {});
    assert.deepEqual(calls.map((call) => call.ms), [100]);
    scheduler.later(10, () => {});
    assert.deepEqual(calls.map((call) => call.ms), [100, 10]);
    assert.equal(fake.pendingTimers, 1);
    fake.tick(10);
    assert.deepEqual(calls.map((call) => call.ms), [100, 10, 90]);
    assert.equal(fake.pendingTimers, 1);
  });

  it("Scheduler.later() from inside fire() waits for the next timer callback, even with delay 0", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const order: string[] = [];
    scheduler.later(10, () => {
      order.push("outer");
      scheduler.later(0, () => order.push("inner"));
    });
    scheduler.later(10, () => order.push("sibling"));
    assert.equal(clock.next(), true);
    assert.deepEqual(order, ["outer", "sibling"]);
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.next(), true);
    assert.deepEqual(order, ["outer", "sibling", "inner"]);
    assert.equal(clock.now(), 10);
  });

  it("Scheduler.later() waits out delays longer than one setTimeout allows", () => {
    const fake = new FakeClock();
    const { clock, calls } = spyClock(fake);
    const { scheduler } = setup(clock);
    const max = 2 ** 31 - 1;
    const delay = 3 * max + 5;
    const times: number[] = [];
    scheduler.later(delay, () => times.push(fake.now()));
    fake.tick(delay - 1);
    assert.deepEqual(times, []);
    fake.tick(1);
    assert.deepEqual(times, [delay]);
    assert.ok(calls.every((call) => call.ms <= max));
    assert.deepEqual(calls.map((call) => call.ms), [max, max, max, 5]);
  });

  it("Scheduler.later() sets no timer ahead of its due time for a fractional delay", () => {
    const fake = new FakeClock();
    const { clock, calls } = spyClock(fake);
    const { scheduler } = setup(clock);
    const times: number[] = [];
    scheduler.later(2.5, () => times.push(fake.now()));
    assert.deepEqual(calls.map((call) => call.ms), [3]);
    fake.tick(3);
    assert.deepEqual(times, [3]);
  });
});

describe("Scheduler heap", () => {
  it("Scheduler fires like a sorted list through random later(), cancel() and tick()", () => {
    // A seeded generator: the same run every time.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const fired: number[] = [];
    const live = new Map<number, { due: number; handle: TimerHandle }>();
    const expected: number[] = [];
    for (let round = 0; round < 300; round++) {
      const op = random(10);
      if (op < 6) {
        const handle = scheduler.later(random(60), (h) => fired.push(h.id));
        live.set(handle.id, { due: handle.due, handle });
      } else if (op < 8 && live.size > 0) {
        const ids = [...live.keys()];
        const id = ids[random(ids.length)]!;
        assert.equal(live.get(id)!.handle.cancel(), true);
        live.delete(id);
      } else {
        const target = clock.now() + random(20);
        const due = [...live.entries()]
          .filter(([, entry]) => entry.due <= target)
          .sort(([a, x], [b, y]) => x.due - y.due || a - b)
          .map(([id]) => id);
        for (const id of due) live.delete(id);
        expected.push(...due);
        clock.tick(target - clock.now());
        assert.deepEqual(fired, expected);
      }
      assert.deepEqual(scheduler.delayed.map((h) => h.id), [...live.keys()]);
      assert.equal(clock.pendingTimers, live.size > 0 ? 1 : 0);
    }
    assert.ok(expected.length > 50);
  });

  it("Scheduler arms the clock timer once per run, whatever fire() schedules", () => {
    const fake = new FakeClock();
    const { clock, calls } = spyClock(fake);
    const { scheduler } = setup(clock);
    scheduler.later(10, () => {
      for (let i = 5; i > 0; i--) scheduler.later(i, () => {});
    });
    fake.next();
    assert.deepEqual(calls.map((call) => call.ms), [10, 1]);
    scheduler.cancelAll();
  });
});

describe("Scheduler.every()", () => {
  it("Scheduler.every() fires at start + k × interval", () => {
    const clock = new FakeClock(5);
    const { scheduler } = setup(clock);
    const times: number[] = [];
    const handle = scheduler.every(10, () => times.push(clock.now()));
    assert.equal(handle.kind, "scheduled");
    assert.equal(handle.due, 15);
    clock.tick(9);
    assert.deepEqual(times, []);
    clock.tick(36);
    assert.deepEqual(times, [15, 25, 35, 45]);
    assert.equal(handle.due, 55);
    assert.equal(handle.fired, 4);
    assert.equal(handle.skipped, 0);
    assert.equal(handle.active, true);
    assert.equal(clock.pendingTimers, 1);
  });

  it("Scheduler.every() keeps a fixed grid with no drift when callbacks run late", () => {
    const fake = new FakeClock();
    const lag = { ms: 3 };
    const { scheduler } = setup(laggingClock(fake, lag));
    const times: number[] = [];
    const dues: number[] = [];
    const handle = scheduler.every(10, (h) => {
      times.push(fake.now());
      dues.push(h.due);
    });
    fake.tick(100);
    // Every run is 3 ms late, never more: the next timer aims at the grid.
    assert.deepEqual(times, [13, 23, 33, 43, 53, 63, 73, 83, 93]);
    assert.deepEqual(dues, [20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal(handle.skipped, 0);
  });

  it("Scheduler.every() skips missed ticks instead of bunching them", () => {
    const fake = new FakeClock();
    const lag = { ms: 35 };
    const { scheduler } = setup(laggingClock(fake, lag));
    const times: number[] = [];
    const handle = scheduler.every(10, () => times.push(fake.now()));
    lag.ms = 0; // only the first timer is late: ticks 10, 20, 30 and 40 are due at 45
    fake.tick(45);
    assert.deepEqual(times, [45]);
    assert.equal(handle.fired, 1);
    assert.equal(handle.skipped, 3);
    assert.equal(handle.due, 50);
    fake.tick(25);
    assert.deepEqual(times, [45, 50, 60, 70]);
    assert.equal(handle.skipped, 3);
  });

  it("Scheduler.every() is due strictly after now when a callback runs exactly on a later grid point", () => {
    const fake = new FakeClock();
    const lag = { ms: 20 };
    const { scheduler } = setup(laggingClock(fake, lag));
    const times: number[] = [];
    const handle = scheduler.every(10, () => times.push(fake.now()));
    lag.ms = 0;
    fake.tick(30);
    assert.deepEqual(times, [30]);
    assert.equal(handle.skipped, 2);
    assert.equal(handle.due, 40);
  });

  it("Scheduler.every() keeps the grid exact for fractional intervals", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const dues: number[] = [];
    const handle = scheduler.every(0.1, (h) => dues.push(h.due));
    clock.tick(1000);
    // 0.1 × k is computed afresh for every tick, so errors never add up.
    assert.equal(handle.fired + handle.skipped, 10_000);
    assert.equal(dues.at(-1), 0.1 * 10_001);
  });

  it("Scheduler.every() skips a tick while isBusy() returns true", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const times: number[] = [];
    let busy = false;
    const asked: TimerHandle[] = [];
    const handle = scheduler.every(10, () => times.push(clock.now()), (h) => {
      asked.push(h);
      return busy;
    });
    clock.tick(10);
    busy = true;
    clock.tick(20);
    busy = false;
    clock.tick(10);
    assert.deepEqual(times, [10, 40]);
    assert.equal(handle.fired, 2);
    assert.equal(handle.skipped, 2);
    assert.equal(asked.length, 4);
    assert.ok(asked.every((h) => h === handle));
  });

  it("Scheduler.every() asks isBusy() once per run, after skipping missed ticks", () => {
    const fake = new FakeClock();
    const lag = { ms: 15 }; // the first timer runs at 25
    const { scheduler } = setup(laggingClock(fake, lag));
    let asked = 0;
    const handle = scheduler.every(10, () => {}, () => {
      asked++;
      return true;
    });
    lag.ms = 0;
    fake.tick(25);
    assert.equal(asked, 1);
    assert.equal(handle.fired, 0);
    assert.equal(handle.skipped, 2);
  });

  it("Scheduler.every() keeps firing once per run after its tick passes 2 ** 53", () => {
    // A 1 ns grid after 3 hours of uptime: 1.08e16 ticks, where tick + 1 === tick.
    const fake = new FakeClock();
    const uptime = { ms: 0 };
    const clock: Clock = {
      now: () => fake.now() + uptime.ms,
      setTimer: (callback, ms, options) => fake.setTimer(callback, ms, options),
      clearTimer: (id) => fake.clearTimer(id),
    };
    const { scheduler, errors } = setup(clock);
    const handle = scheduler.every(1e-9, () => {});
    assert.equal(fake.next(), true);
    assert.equal(handle.fired, 1);
    uptime.ms = 3 * 3600e3;
    for (let run = 2; run <= 5; run++) {
      assert.equal(fake.next(), true);
      assert.equal(handle.fired, run);
      assert.ok(handle.due > clock.now(), `due ${handle.due} after now ${clock.now()}`);
    }
    assert.ok(handle.skipped > 2 ** 53 - 2e9, `skipped ${handle.skipped}`);
    assert.equal(handle.cancel(), true);
    assert.equal(fake.pendingTimers, 0);
    assert.deepEqual(errors, []);
  });

  it("Scheduler.every() keeps firing once per run for an interval of 5e-324 ms", () => {
    const clock = new FakeClock();
    const { scheduler, errors } = setup(clock);
    const dues: number[] = [];
    const handle = scheduler.every(Number.MIN_VALUE, (h) => dues.push(h.due));
    for (let run = 1; run <= 5; run++) {
      assert.equal(clock.next(), true);
      assert.equal(handle.fired, run);
      assert.ok(handle.due > clock.now() && handle.due < clock.now() + 1, `due ${handle.due}`);
    }
    assert.equal(dues.length, 5);
    assert.ok(Number.isFinite(handle.skipped));
    handle.cancel();
    assert.deepEqual(errors, []);
  });

  it("Scheduler.every() is due after now when the grid is finer than the clock's numbers", () => {
    // At 2 ** 40 ms the clock's numbers are 2 ** -12 ms apart: 1e-9 ms steps
    // round back to `now`.
    const clock = new FakeClock(2 ** 40);
    const { scheduler, errors } = setup(clock);
    const handle = scheduler.every(1e-9, () => {});
    for (let run = 1; run <= 5; run++) {
      assert.equal(clock.next(), true);
      assert.equal(handle.fired, run);
      assert.ok(handle.due > clock.now(), `due ${handle.due} after now ${clock.now()}`);
    }
    handle.cancel();
    assert.deepEqual(errors, []);
  });
});

describe("TimerHandle.cancel()", () => {
  it("TimerHandle.cancel() before the due time stops a delayed handle", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    let fired = 0;
    const handle = scheduler.later(10, () => fired++);
    assert.equal(handle.cancel(), true);
    assert.equal(handle.cancelled, true);
    assert.equal(handle.active, false);
    assert.equal(clock.pendingTimers, 0);
    clock.tick(100);
    assert.equal(fired, 0);
    assert.equal(handle.fired, 0);
  });

  it("TimerHandle.cancel() returns false the second time and after firing", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const cancelled = scheduler.every(10, () => {});
    const fired = scheduler.later(1, () => {});
    assert.equal(cancelled.cancel(), true);
    assert.equal(cancelled.cancel(), false);
    clock.tick(1);
    assert.equal(fired.cancel(), false);
    assert.equal(fired.cancelled, false);
  });

  it("TimerHandle.cancel() from inside fire() stops a scheduled handle", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const results: boolean[] = [];
    const handle = scheduler.every(10, (h) => {
      if (h.fired === 2) results.push(h.cancel());
    });
    clock.tick(100);
    assert.deepEqual(results, [true]);
    assert.equal(handle.fired, 2);
    assert.equal(handle.cancelled, true);
    assert.deepEqual(scheduler.scheduled, []);
    assert.equal(clock.pendingTimers, 0);
  });

  it("TimerHandle.cancel() from inside another fire() stops a handle due in the same run", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const order: string[] = [];
    const handles: TimerHandle[] = [];
    scheduler.later(10, () => {
      order.push("first");
      handles[0]!.cancel();
    });
    const victim = scheduler.every(10, () => order.push("victim"));
    handles.push(victim);
    const delayedVictim = scheduler.later(
      10,
      () => order.push("delayed victim"),
    );
    scheduler.later(10, () => delayedVictim.cancel());
    clock.tick(10);
    // `delayedVictim` fired before the handle that cancels it.
    assert.deepEqual(order, ["first", "delayed victim"]);
    assert.equal(victim.fired, 0);
  });

  it("TimerHandle.cancel() from inside isBusy() prevents that tick's fire()", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    let fired = 0;
    const handle = scheduler.every(10, () => fired++, (h) => {
      h.cancel();
      return false;
    });
    clock.tick(50);
    assert.equal(fired, 0);
    assert.equal(handle.skipped, 0);
    assert.equal(handle.cancelled, true);
  });

  it("TimerHandle.cancel() holds even when the clock timer was cleared too late", () => {
    // A clock whose clearTimer() is a no-op: every callback already queued
    // still runs, as when a timer is cleared after its callback was queued.
    const fake = new FakeClock();
    const leaky: Clock = {
      now: () => fake.now(),
      setTimer: (callback, ms) => fake.setTimer(callback, ms),
      clearTimer: () => {},
    };
    const { scheduler } = setup(leaky);
    let fired = 0;
    const a = scheduler.later(10, () => fired++);
    const b = scheduler.every(5, () => fired++);
    a.cancel();
    b.cancel(); // no handle left: the timer "is cleared"
    const c = scheduler.later(30, () => fired++);
    assert.equal(fake.pendingTimers, 3);
    fake.tick(29);
    // The stale callbacks did nothing: no fire, no extra timer.
    assert.equal(fired, 0);
    assert.equal(fake.pendingTimers, 1);
    fake.tick(1);
    assert.equal(fired, 1);
    assert.equal(c.fired, 1);
  });
});

describe("Scheduler views and cancelAll()", () => {
  it("Scheduler.delayed and Scheduler.scheduled list active handles in creation order", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const d1 = scheduler.later(30, () => {});
    const s1 = scheduler.every(25, () => {});
    const d2 = scheduler.later(10, () => {});
    const s2 = scheduler.every(5, () => {});
    const d3 = scheduler.later(20, () => {});
    assert.deepEqual(scheduler.delayed, [d1, d2, d3]);
    assert.deepEqual(scheduler.scheduled, [s1, s2]);
    assert.deepEqual(scheduler.delayed.map((h) => h.id), [1, 3, 5]);
    clock.tick(15);
    assert.deepEqual(scheduler.delayed, [d1, d3]);
    s1.cancel();
    assert.deepEqual(scheduler.scheduled, [s2]);
  });

  it("Scheduler.delayed is the same array until a handle is made, fires or is cancelled", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const a = scheduler.later(10, () => {});
    const view = scheduler.delayed;
    assert.equal(scheduler.delayed, view, "a read without a change costs no copy");
    const b = scheduler.later(20, () => {});
    assert.deepEqual(scheduler.delayed, [a, b]);
    assert.deepEqual(view, [a], "an array read before stays as it was");
    const s = scheduler.every(5, () => {});
    assert.deepEqual(scheduler.scheduled, [s]);
    clock.tick(10); // a fires
    assert.deepEqual(scheduler.delayed, [b]);
    b.cancel();
    assert.deepEqual(scheduler.delayed, []);
    assert.deepEqual(scheduler.scheduled, [s], "a scheduled handle stays listed as it fires");
    scheduler.cancelAll();
    assert.deepEqual(scheduler.scheduled, []);
  });

  it("Scheduler.cancelAll() cancels every active handle and returns how many", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    let fired = 0;
    const done = scheduler.later(1, () => fired++);
    const stopped = scheduler.later(5, () => fired++);
    stopped.cancel();
    const handles = [
      scheduler.later(10, () => fired++),
      scheduler.later(20, () => fired++),
      scheduler.every(3, () => fired++),
    ];
    clock.tick(1);
    assert.equal(fired, 1);
    assert.equal(scheduler.cancelAll(), 3);
    assert.ok(handles.every((h) => h.cancelled && !h.active));
    assert.equal(done.cancelled, false);
    assert.deepEqual(scheduler.delayed, []);
    assert.deepEqual(scheduler.scheduled, []);
    assert.equal(clock.pendingTimers, 0);
    clock.tick(100);
    assert.equal(fired, 1);
    assert.equal(scheduler.cancelAll(), 0);
  });

  it("Scheduler.cancelAll() from inside fire() stops the rest of the run", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    const order: string[] = [];
    const counts: number[] = [];
    scheduler.later(10, () => {
      order.push("a");
      counts.push(scheduler.cancelAll());
    });
    scheduler.later(10, () => order.push("b"));
    scheduler.every(10, () => order.push("c"));
    clock.tick(100);
    assert.deepEqual(order, ["a"]);
    assert.deepEqual(counts, [2]);
    assert.equal(clock.pendingTimers, 0);
  });

  it("Scheduler keeps working after cancelAll()", () => {
    const clock = new FakeClock();
    const { scheduler } = setup(clock);
    scheduler.every(10, () => {});
    scheduler.cancelAll();
    let fired = 0;
    const handle = scheduler.later(10, () => fired++);
    clock.tick(10);
    assert.equal(fired, 1);
    assert.equal(handle.id, 2);
  });
});

describe("Scheduler options", () => {
  it("Scheduler passes { unref: true } to clock.setTimer() when asked to", () => {
    const fake = new FakeClock();
    const { clock, calls } = spyClock(fake);
    const scheduler = new Scheduler(clock, { unref: true });
    scheduler.later(10, () => {});
    scheduler.later(5, () => {});
    assert.deepEqual(calls.map((call) => call.options), [{ unref: true }, {
      unref: true,
    }]);
    scheduler.cancelAll();
  });

  it("Scheduler sets ref'd timers by default", () => {
    const fake = new FakeClock();
    const { clock, calls } = spyClock(fake);
    const scheduler = new Scheduler(clock);
    scheduler.every(10, () => {});
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.options?.unref ?? false, false);
    scheduler.cancelAll();
  });
});

describe("Scheduler errors", () => {
  it("Scheduler reports a throwing fire() and keeps the other timers going", () => {
    const clock = new FakeClock();
    const { scheduler, errors } = setup(clock);
    const boom = new Error("boom");
    const order: string[] = [];
    scheduler.later(10, () => {
      order.push("thrower");
      throw boom;
    });
    scheduler.later(10, () => order.push("after"));
    const noisy = scheduler.every(10, () => {
      order.push("noisy");
      throw boom;
    });
    clock.tick(30);
    assert.deepEqual(order, ["thrower", "after", "noisy", "noisy", "noisy"]);
    assert.deepEqual(errors, [boom, boom, boom, boom]);
    assert.equal(noisy.fired, 3);
    assert.equal(noisy.active, true);
  });

  it("Scheduler: a clock whose setTimer() throws fails that call and keeps no handle; the others still fire", () => {
    const fake = new FakeClock();
    const { clock, refuse } = quirkyClock(fake);
    const { scheduler, errors } = setup(clock);
    const fired: string[] = [];
    scheduler.later(100, () => fired.push("A"));
    refuse.set = 1;
    assert.throws(() => scheduler.later(50, () => fired.push("refused")), /clock refused/);
    assert.equal(scheduler.delayed.length, 1, "the refused one is not kept");
    // Before: the refused handle stayed, the clock timer for A was cleared, and nothing fired.
    fake.tick(100);
    assert.deepEqual(fired, ["A"]);
    // A run that cannot arm the clock for the next handle reports it; the next handle made arms it.
    scheduler.later(100, () => {
      fired.push("B");
      refuse.set = 1;
    });
    scheduler.later(200, () => fired.push("C"));
    fake.tick(100);
    assert.deepEqual(fired, ["A", "B"]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /clock refused/);
    scheduler.later(1000, () => fired.push("D"));
    fake.tick(1000);
    assert.deepEqual(fired, ["A", "B", "C", "D"]);
    scheduler.cancelAll();
  });

  it("Scheduler works with a clock that runs a 0 ms timer within setTimer()", () => {
    const fake = new FakeClock();
    const { clock } = quirkyClock(fake, true);
    const { scheduler, errors } = setup(clock);
    const fired: string[] = [];
    scheduler.later(50, () => fired.push("later"));
    scheduler.later(0, () => fired.push("now"));
    // Before: the run within setTimer() was taken for a stale one; neither ever fired.
    assert.deepEqual(fired, ["now"]);
    fake.tick(50);
    assert.deepEqual(fired, ["now", "later"]);
    const every = scheduler.every(10, () => fired.push("every"));
    fake.tick(30);
    assert.equal(every.fired, 3);
    every.cancel();
    assert.deepEqual(errors, []);
  });

  it("Scheduler: a clock that runs a 0 ms timer within setTimer() and then cannot arm the next one reports it; the next handle arms the clock", () => {
    const fake = new FakeClock();
    const { clock, refuse } = quirkyClock(fake, true);
    const { scheduler, errors } = setup(clock);
    const fired: string[] = [];
    scheduler.later(50, () => fired.push("X"));
    // Y runs within setTimer(); re-arming for X then fails once.
    scheduler.later(0, () => {
      fired.push("Y");
      refuse.set = 1;
    });
    assert.deepEqual(fired, ["Y"]);
    assert.equal(errors.length, 1, "the run could not re-arm: reported");
    // Before: a timer that had already run was taken as armed, and the real one cleared:
    // nothing fired again, not even handles made later.
    scheduler.later(20, () => fired.push("Z"));
    fake.tick(50);
    assert.deepEqual(fired, ["Y", "Z", "X"]);
    assert.deepEqual(scheduler.delayed, []);
  });

  it("Scheduler: a clock whose clearTimer() throws once fails that call; later handles still fire", () => {
    const fake = new FakeClock();
    const { clock, refuse } = quirkyClock(fake);
    const { scheduler, errors } = setup(clock);
    const fired: string[] = [];
    const first = scheduler.later(50, () => fired.push("cancelled"));
    refuse.clear = 1;
    assert.throws(() => first.cancel(), /clock refused to clear/);
    fake.tick(60); // the timer it could not clear runs, stale
    // Before: the scheduler still took that spent timer for the armed one, due at 50;
    // nothing due after it was ever armed again.
    scheduler.later(100, () => fired.push("later"));
    scheduler.later(10, () => fired.push("sooner"));
    fake.tick(100);
    assert.deepEqual(fired, ["sooner", "later"]);
    assert.deepEqual(errors, []);
  });

  it("Scheduler reports a throwing isBusy() and skips that tick", () => {
    const clock = new FakeClock();
    const { scheduler, errors } = setup(clock);
    let fired = 0;
    const handle = scheduler.every(10, () => fired++, () => {
      throw new TypeError("busy?");
    });
    clock.tick(20);
    assert.equal(fired, 0);
    assert.equal(handle.skipped, 2);
    assert.equal(errors.length, 2);
    assert.ok(errors[0] instanceof TypeError);
  });

  it("Scheduler hands errors to the global reportError() by default", () => {
    const clock = new FakeClock();
    const scheduler = new Scheduler(clock);
    const global = globalThis as {
      reportError?: ((error: unknown) => void) | undefined;
    };
    const original = global.reportError;
    const reported: unknown[] = [];
    global.reportError = (error) => reported.push(error);
    try {
      const boom = new Error("boom");
      scheduler.later(1, () => {
        throw boom;
      });
      let fired = 0;
      scheduler.later(2, () => fired++);
      clock.tick(2);
      assert.deepEqual(reported, [boom]);
      assert.equal(fired, 1);
    } finally {
      global.reportError = original;
    }
  });

  it("Scheduler rethrows from a microtask where there is no reportError()", () => {
    const clock = new FakeClock();
    const scheduler = new Scheduler(clock);
    const global = globalThis as {
      reportError?: ((error: unknown) => void) | undefined;
      queueMicrotask: (task: () => void) => void;
    };
    const originalReport = global.reportError;
    const originalQueue = global.queueMicrotask;
    const queued: (() => void)[] = [];
    delete global.reportError;
    global.queueMicrotask = (task) => queued.push(task);
    try {
      const boom = new Error("boom");
      scheduler.later(1, () => {
        throw boom;
      });
      clock.tick(1);
      assert.equal(queued.length, 1);
      assert.throws(() => queued[0]!(), boom);
    } finally {
      global.reportError = originalReport;
      global.queueMicrotask = originalQueue;
    }
  });

  it("Scheduler survives an onError that throws", () => {
    const clock = new FakeClock();
    const thrown: unknown[] = [];
    const global = globalThis as { queueMicrotask: (task: () => void) => void };
    const originalQueue = global.queueMicrotask;
    global.queueMicrotask = (task) => {
      try {
        task();
      } catch (error) {
        thrown.push(error);
      }
    };
    try {
      const scheduler = new Scheduler(clock, {
        onError: () => {
          throw new Error("onError broke");
        },
      });
      let fired = 0;
      scheduler.later(1, () => {
        throw new Error("boom");
      });
      scheduler.later(1, () => fired++);
      clock.tick(1);
      assert.equal(fired, 1);
      assert.equal((thrown[0] as Error).message, "onError broke");
    } finally {
      global.queueMicrotask = originalQueue;
    }
  });
});

describe("Scheduler argument checks", () => {
  const { scheduler } = setup();
  const noop = () => {};

  it("Scheduler.every() throws RangeError for an interval that is not positive and finite", () => {
    assert.throws(() => scheduler.every(0, noop), {
      name: "RangeError",
      message:
        'Cannot schedule job: "interval" must be a positive finite number of milliseconds, received 0',
    });
    for (const bad of [-1, NaN, Infinity, -Infinity]) {
      assert.throws(() => scheduler.every(bad, noop), {
        name: "RangeError",
        message:
          `Cannot schedule job: "interval" must be a positive finite number of milliseconds, received ${bad}`,
      });
    }
  });

  it("Scheduler.later() throws RangeError for a delay that is negative or not finite", () => {
    assert.throws(() => scheduler.later(-1, noop), {
      name: "RangeError",
      message:
        'Cannot schedule job: "delay" must be a finite number of milliseconds >= 0, received -1',
    });
    for (const bad of [NaN, Infinity, -0.5]) {
      assert.throws(() => scheduler.later(bad, noop), RangeError);
    }
  });

  it("Scheduler.later() and Scheduler.every() throw TypeError for a time that is not a number", () => {
    assert.throws(() => scheduler.later("5" as unknown as number, noop), {
      name: "TypeError",
      message:
        'Cannot schedule job: "delay" must be a finite number of milliseconds >= 0, received "5"',
    });
    assert.throws(() => scheduler.every(10n as unknown as number, noop), {
      name: "TypeError",
      message:
        'Cannot schedule job: "interval" must be a positive finite number of milliseconds, received 10n',
    });
    assert.throws(
      () => scheduler.every(undefined as unknown as number, noop),
      TypeError,
    );
  });

  it("Scheduler.later() and Scheduler.every() throw TypeError for callbacks that are not functions", () => {
    assert.throws(() => scheduler.later(1, null as unknown as () => void), {
      name: "TypeError",
      message: 'Cannot schedule job: "fire" must be a function, received null',
    });
    assert.throws(() => scheduler.every(1, {} as unknown as () => void), {
      name: "TypeError",
      message: 'Cannot schedule job: "fire" must be a function, received an object',
    });
    assert.throws(
      () => scheduler.every(1, noop, true as unknown as () => boolean),
      {
        name: "TypeError",
        message: 'Cannot schedule job: "isBusy" must be a function, received true',
      },
    );
  });

  it("Scheduler creates no handle for bad arguments", () => {
    assert.throws(() => scheduler.later(-1, noop));
    assert.deepEqual(scheduler.delayed, []);
    assert.deepEqual(scheduler.scheduled, []);
    const handle = scheduler.later(0, noop);
    assert.equal(handle.id, 1);
    handle.cancel();
  });
});
