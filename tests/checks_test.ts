/**
 * The shared argument checks: one description of a value, and one meaning of
 * "timeout" (milliseconds >= 0, Infinity for no limit) everywhere.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Lock, Pool, Semaphore, systemClock } from "../mod.ts";
import { describe as describeValue } from "../src/_checks.ts";

describe("describe()", () => {
  it("describes each kind of value one way", () => {
    class Point {}
    const cases: [unknown, string][] = [
      ["text", '"text"'],
      ["x".repeat(50), JSON.stringify(`${"x".repeat(40)}…`)],
      [5, "5"],
      [NaN, "NaN"],
      [true, "true"],
      [null, "null"],
      [undefined, "undefined"],
      [7n, "7n"],
      [Symbol("s"), "Symbol(s)"],
      [function fib() {}, "function fib"],
      [() => {}, "a function"],
      [[1], "an array"],
      [{}, "an object"],
      [Object.create(null), "an object"],
      [new Map(), "an instance of Map"],
      [new Point(), "an instance of Point"],
    ];
    for (const [value, expected] of cases) assert.equal(describeValue(value), expected);
  });

  it("never throws, whatever the value does when read", () => {
    const hostile = new Proxy({}, {
      getPrototypeOf() {
        throw new Error("no");
      },
    });
    assert.equal(describeValue(hostile), "an unreadable value");
  });
});

describe("timeouts mean one thing everywhere", () => {
  it("Infinity is no limit for the pool's waits, its jobs and the shared primitives", async () => {
    await using pool = new Pool({ maxChildren: 1, taskTimeout: Infinity });
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    assert.equal(await pool.exec((n: number) => n * 2, [4], { timeout: Infinity }), 8);
    pool.submit(() => "queued");
    assert.equal(await pool.wait(Infinity), true);
    const seen: unknown[] = [];
    pool.submit(() => "again");
    for await (const result of pool.asCompleted(Infinity)) seen.push(result);
    assert.deepEqual(seen, ["queued", "again"]);
    const sem = new Semaphore(1);
    assert.equal(await sem.acquire({ timeout: Infinity }), true);
    const lock = new Lock();
    assert.equal(await lock.acquire({ timeout: Infinity }), true);
    assert.equal(await pool.shutdown(Infinity), true);
  });

  it("a negative or NaN timeout is a RangeError naming it, a string a TypeError", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    for (const bad of [-1, NaN]) {
      await assert.rejects(pool.wait(bad), {
        name: "RangeError",
        message:
          `Cannot wait: "timeout" must be a number of milliseconds >= 0 (Infinity: no limit), received ${bad}`,
      });
      await assert.rejects(pool.exec(() => 1, [], { timeout: bad }), RangeError);
      await assert.rejects(new Semaphore(1).acquire({ timeout: bad }), RangeError);
    }
    await assert.rejects(pool.wait("5" as never), TypeError);
    assert.throws(() => new Pool({ taskTimeout: -1 }), RangeError);
    assert.equal(await pool.run(() => "still working"), "still working");
  });
});

describe("systemClock", () => {
  it("a timer longer than setTimeout allows does not fire at once, and clears", async () => {
    let fired = 0;
    const long = systemClock.setTimer(() => fired++, 2 ** 31 + 10);
    const endless = systemClock.setTimer(() => fired++, Infinity);
    // Both would fire within a turn or two if the delay overflowed.
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 20));
    assert.equal(fired, 0);
    systemClock.clearTimer(long);
    systemClock.clearTimer(endless);
  });
});
