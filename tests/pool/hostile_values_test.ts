/**
 * Hostile values and tasks (issue 16, items 9–12): thrown values that cannot
 * be read, modules whose namespace is a thenable, tasks that use the worker's
 * own messaging, and shared primitives nested in arguments and results. Each
 * fails the job it concerns, or works, and the pool and its worker go on.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";

const workerName = () => (globalThis as { name?: string }).name;

describe("Pool: thrown values that cannot be read", () => {
  // Each task throws something whose reading throws; the worker must survive it.
  const hostile: [string, () => never][] = [
    ["a message getter that throws", () => {
      const error = new Error("unseen");
      Object.defineProperty(error, "message", {
        get() {
          throw new Error("message getter says no");
        },
      });
      throw error;
    }],
    ["a cause getter that throws", () => {
      const error = new TypeError("readable message");
      Object.defineProperty(error, "cause", {
        get() {
          throw new Error("cause getter says no");
        },
      });
      throw error;
    }],
    ["an own code getter that throws", () => {
      const error = new RangeError("readable message");
      Object.defineProperty(error, "code", {
        enumerable: true,
        get() {
          throw new Error("code getter says no");
        },
      });
      throw error;
    }],
    ["a Proxy whose get trap throws", () => {
      throw new Proxy(new Error("hidden"), {
        get() {
          throw new Error("get trap says no");
        },
      });
    }],
    ["a Proxy whose getPrototypeOf trap throws", () => {
      throw new Proxy(new Error("hidden"), {
        getPrototypeOf() {
          throw new Error("prototype trap says no");
        },
      });
    }],
  ];

  for (const [what, task] of hostile) {
    it(`Pool.run() fails only the job that throws an error with ${what}, and keeps its worker`, async () => {
      await using pool = new Pool({ maxChildren: 1 });
      const before = await pool.run(workerName);
      await assert.rejects(pool.run(task), (error: Error) => {
        assert.notEqual(error.name, "WorkerCrashedError", error.message);
        assert.match(error.message, /^Cannot read the error the task threw: reading .+ threw /);
        assert.match(error.message, /says no/, "says what the getter threw");
        if (what.includes("cause") || what.includes("code")) {
          assert.match(error.message, /\(its message: readable message\)$/, "keeps the message");
        }
        return true;
      });
      assert.equal(await pool.run(workerName), before, "the same worker runs the next job");
    });
  }

  it("Pool.map() fails only the item whose thrown error cannot be read", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const task = (n: number) => {
      if (n !== 2) return n * 10;
      const error = new Error("x");
      Object.defineProperty(error, "message", {
        get() {
          throw new Error("no");
        },
      });
      throw error;
    };
    pool.submit(task, 0);
    pool.map(task, [1, 2, 3]);
    await pool.wait();
    assert.deepEqual([...pool.done].sort(), [0, 10, 30]);
    assert.equal(pool.failed.length, 1);
    assert.match((pool.failed.shift() as Error).message, /^Cannot read the error/);
  });
});
