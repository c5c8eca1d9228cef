/**
 * Clear errors and a quiet console (issue 16, item 15): a worker that cannot
 * start says why in the error's own message, and failures the pool handles
 * print nothing to stderr.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Pool } from "../../src/pool/pool.ts";
import { run, withThisRuntime } from "../_child.ts";
import { fixture } from "../_util.ts";

describe("Pool: clear start-up errors and a quiet console", () => {
  it("Pool start-up failure: the worker's error says which task module could not be imported and why", async () => {
    for (
      const [name, why] of [
        ["faults_throw_at_import.ts", /^faults fixture: this module throws at import$/],
        ["faults_missing_module.ts", /faults_missing_module\.ts/],
      ] as const
    ) {
      await using pool = new Pool({ maxChildren: 1, module: fixture(name) });
      await assert.rejects(pool.run("ok"), (error: Error) => {
        const cause = error.cause as Error;
        const prefix = `Cannot import task module ${fixture(name).href}: `;
        assert.ok(cause.message.startsWith(prefix), cause.message);
        assert.match(cause.message.slice(prefix.length), why);
        assert.doesNotMatch(cause.message, /data:|blob:/, "no trace of the import wrapper");
        return true;
      });
    }
  });

  // A child process with several crashes and start-up failures: bounded generously.
  it("Pool prints nothing to stderr for the crashes and start-up failures it handles", {
    timeout: 60_000,
  }, async () => {
    const program = fileURLToPath(fixture("quiet_failures_program.ts"));
    const exit = await run(...withThisRuntime(program));
    const output = `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`;
    assert.equal(exit.code, 0, output);
    assert.match(exit.stdout, /^a timer throws: failed WorkerCrashedError, then done 1$/m, output);
    assert.match(exit.stdout, /^module faults_missing_module\.ts: failed Error$/m, output);
    assert.match(exit.stdout, /all handled\n$/, output);
    assert.equal(exit.stderr, "", output);
  });
});
