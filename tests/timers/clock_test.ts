import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { systemClock } from "../../src/timers/clock.ts";
import { isBun } from "../_util.ts";

/** Resolves with `value` once the real timer fires. */
function after<T>(
  ms: number,
  value: T,
  options?: { unref?: boolean },
): Promise<T> {
  return new Promise((resolve) => systemClock.setTimer(() => resolve(value), ms, options));
}

describe("systemClock", () => {
  it("systemClock.now() never goes backwards", () => {
    let last = systemClock.now();
    for (let i = 0; i < 10_000; i++) {
      const now = systemClock.now();
      assert.ok(now >= last);
      last = now;
    }
  });

  it("systemClock.setTimer() calls back once, not before its delay", async () => {
    const start = systemClock.now();
    let calls = 0;
    await new Promise<void>((resolve) => {
      systemClock.setTimer(() => {
        calls++;
        resolve();
      }, 5);
    });
    // Timers and performance.now() may round differently: allow 1 ms.
    assert.ok(systemClock.now() - start >= 4);
    await after(10, null);
    assert.equal(calls, 1);
  });

  it("systemClock.clearTimer() stops a pending timer", async () => {
    const order: string[] = [];
    systemClock.setTimer(() => order.push("short"), 1);
    const cleared = systemClock.setTimer(() => order.push("cleared"), 2);
    systemClock.clearTimer(cleared);
    order.push(await after(10, "long"));
    assert.deepEqual(order, ["short", "long"]);
  });

  it("systemClock.clearTimer() ignores fired and unknown ids", async () => {
    let id: unknown;
    await new Promise<void>((resolve) => {
      id = systemClock.setTimer(resolve, 0);
    });
    assert.doesNotThrow(() => systemClock.clearTimer(id));
    assert.doesNotThrow(() => systemClock.clearTimer(undefined));
    assert.doesNotThrow(() => systemClock.clearTimer(123_456_789));
    // and the clock goes on: a timer set afterwards fires.
    assert.equal(await after(1, "still fires"), "still fires");
  });

  it("systemClock.setTimer() with { unref: true } still fires while the program runs", async () => {
    // The ref'd timer keeps the event loop alive while we wait.
    const keeper = systemClock.setTimer(() => {}, 60_000);
    try {
      assert.equal(await after(1, "fired", { unref: true }), "fired");
    } finally {
      systemClock.clearTimer(keeper);
    }
  });

  it("systemClock.clearTimer() clears an unref'd timer cleanly", async () => {
    let fired = false;
    const id = systemClock.setTimer(() => fired = true, 1, { unref: true });
    systemClock.clearTimer(id);
    await after(10, null);
    assert.equal(fired, false);
  });

  it("systemClock timers that are unref'd or cleared let the program end", async () => {
    const url = new URL("../../src/timers/clock.ts", import.meta.url).href;
    const code = [
      `import { systemClock } from ${JSON.stringify(url)};`,
      `systemClock.setTimer(() => console.log("unref fired"), 60_000, { unref: true });`,
      `const cleared = systemClock.setTimer(() => console.log("ref fired"), 60_000);`,
      `systemClock.clearTimer(cleared);`,
      `const both = systemClock.setTimer(() => console.log("both fired"), 60_000, { unref: true });`,
      `systemClock.clearTimer(both);`,
      `console.log("end");`,
    ].join("\n");
    const args = isBun ? ["-e", code] : ["eval", "--no-config", code];
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on(
      "data",
      (chunk: string) => stdout += chunk,
    );
    child.stderr.setEncoding("utf8").on(
      "data",
      (chunk: string) => stderr += chunk,
    );
    // If a timer held the program open, this would wait for it (and the test
    // would time out) instead of resolving.
    const code_ = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    assert.equal(stderr, "");
    assert.equal(code_, 0);
    assert.equal(stdout, "end\n");
  });
});
