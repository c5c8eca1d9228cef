/**
 * What the hostile soak (`hostile_soak_test.ts`) found, reduced: each test
 * here fails until its bug is fixed.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { transfer } from "../../src/protocol/codec.ts";

describe("Pool: a batch that cannot be sent", () => {
  it("a job that moved a buffer still runs when a batch-mate's argument cannot be cloned", async () => {
    // Both leave at the end of this tick in one `run` message, which
    // postMessage refuses (a function cannot be cloned); the pool then sends
    // them one by one so that only the bad one fails. On Deno 2.9.6 the
    // refused postMessage has already detached the moved buffer, and the
    // innocent job fails with "an argument cannot be cloned (ArrayBuffer at
    // index 0 is already detached)".
    await using pool = new Pool({ maxChildren: 1 });
    // Once a job time is measured, one batch may hold several jobs.
    pool.map((n: number) => n, [1, 2, 3]);
    await pool.wait();
    const bad = pool.run((x: unknown) => typeof x, { f: () => 1 });
    const moved = pool.run((a: Uint8Array) => a.length, transfer(new Uint8Array(8)));
    await assert.rejects(bad, /cannot be cloned/);
    assert.equal(await moved, 8);
  });
});
