/**
 * What the hostile soak (`hostile_soak_test.ts`) found, reduced to
 * regression tests. Both failed on Deno 2.9.6 before 9e8ab42 (a job that
 * moves buffers travels in a message of its own; an uncloneable argument of
 * such a job is refused at the call).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { transfer } from "../../src/protocol/codec.ts";

describe("Pool: arguments that cannot be cloned, beside moved buffers", () => {
  it("a job that moved a buffer still runs when a batch-mate's argument cannot be cloned", async () => {
    // Both leave at the end of this tick. Before 9e8ab42 they went in one
    // `run` message, which postMessage refuses (a function cannot be
    // cloned), and the pool then sent them one by one so that only the bad
    // one failed; but on Deno 2.9.6 the refused postMessage had already
    // detached the moved buffer, and the innocent job failed with "an
    // argument cannot be cloned (ArrayBuffer at index 0 is already
    // detached)".
    await using pool = new Pool({ maxChildren: 1 });
    // Once a job time is measured, one batch may hold several jobs.
    pool.map((n: number) => n, [1, 2, 3]);
    await pool.wait();
    const bad = pool.run((x: unknown) => typeof x, { f: () => 1 });
    const moved = pool.run((a: Uint8Array) => a.length, transfer(new Uint8Array(8)));
    await assert.rejects(bad, /cannot be cloned/);
    assert.equal(await moved, 8);
  });

  it("a job that moves a buffer and has an argument that cannot be cloned fails naming that argument", async () => {
    // `transfer()` detaches at the call with a structuredClone. Before
    // 9e8ab42, when that threw (the function), the pool kept the original
    // arguments, which on Deno 2.9.6 the failed clone had detached all the
    // same: the job failed with "ArrayBuffer at index 0 is already
    // detached", hiding the real cause (on Bun: "The object can not be
    // cloned.").
    await using pool = new Pool({ maxChildren: 1 });
    const job = pool.run(
      (a: Uint8Array, _o: unknown) => a.length,
      transfer(new Uint8Array(8)),
      { f: () => 1 },
    );
    await assert.rejects(job, (error: Error) => {
      assert.match(error.message, /^Cannot submit job: argument 2 \(an object\) cannot be cloned/);
      assert.doesNotMatch(error.message, /detached/);
      return true;
    });
  });
});
