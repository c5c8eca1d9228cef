/**
 * Priority (issue 12, part 4): higher runs first, equal priorities keep
 * FIFO order, `submitFirst` still means the very front.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { gate, waitAtGate } from "../_gate.ts";

const name = (value: string) => value;

describe("Pool priorities", () => {
  it("Pool.exec({ priority }) and submitPriority() run higher priorities first, FIFO within one", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const g = gate();
    const held = pool.run(waitAtGate, g.memory, "held");
    await g.started(); // everything below waits behind the held job
    const order: string[] = [];
    const runs = [
      pool.exec(name, ["p0 a"]),
      pool.exec(name, ["p2 a"], { priority: 2 }),
      pool.exec(name, ["p-1 a"], { priority: -1 }),
      pool.exec(name, ["p2 b"], { priority: 2 }),
      pool.exec(name, ["p0 b"]),
      pool.exec(name, ["p9"], { priority: 9 }),
      pool.exec(name, ["front"], { first: true }),
      pool.exec(name, ["p-1 b"], { priority: -1 }),
    ].map((run) => run.then((value) => order.push(value)));
    pool.submitPriority(1, name, "p1 submit");
    pool.submit(name, "p0 submit");
    g.open();
    await held;
    await Promise.all(runs);
    await pool.wait();
    assert.deepEqual(order, ["front", "p9", "p2 a", "p2 b", "p0 a", "p0 b", "p-1 a", "p-1 b"]);
    assert.deepEqual([...pool.done], ["p1 submit", "p0 submit"]);
  });

  it("Pool jobs queued with first stay ahead of later jobs, whatever their priority and whatever else is queued", async () => {
    for (const queuedBefore of [[], ["x"]]) {
      await using pool = new Pool({ maxChildren: 1 });
      const g = gate();
      const held = pool.run(waitAtGate, g.memory, "held");
      await g.started(); // everything below waits behind the held job
      const runs = [
        ...queuedBefore.map((value) => pool.run(name, value)),
        pool.exec(name, ["first -5"], { first: true, priority: -5 }),
        pool.run(name, "p0"),
        pool.exec(name, ["p3"], { priority: 3 }),
        pool.exec(name, ["first 0"], { first: true }),
      ];
      const queued = [...pool.jobs].map((job) => job.args[0]);
      g.open();
      await held;
      await Promise.all(runs);
      // Before: without "x" queued, p0 and p3 went ahead of "first -5".
      assert.deepEqual(queued, ["first 0", "first -5", "p3", ...queuedBefore, "p0"]);
    }
  });

  it("Pool priorities are checked", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    await assert.rejects(pool.exec(name, ["x"], { priority: "high" as never }), TypeError);
    await assert.rejects(pool.exec(name, ["x"], { priority: NaN }), RangeError);
    assert.throws(() => pool.submitPriority(Infinity, name, "x"), RangeError);
    assert.equal(pool.pending, 0, "nothing was queued");
    assert.equal(await pool.exec(name, ["ok"], { priority: 1.5 }), "ok");
  });
});
