/**
 * A program that never calls `shutdown()` ends by itself soon after its last
 * job (issues 2 and 7). Each fixture runs in a child process of the runtime
 * running the tests; a hung child is killed and fails the test.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { fixture, isBun } from "./_util.ts";
import { run, withThisRuntime } from "./_child.ts";

const KILL_AFTER_MS = 20_000;
const MARKER = "last job done";

describe("exit without shutdown()", () => {
  for (
    const [name, what] of [
      ["exit_no_shutdown.ts", "run() and submit() + wait()"],
      ["exit_no_shutdown_busy.ts", "a task module, map, a failure, a stream and an abort"],
      ["exit_terminate_parked.ts", "terminate() while its worker waits in acquireSync()"],
      ["exit_worker_entry.ts", "importing the ./worker entry on the main thread"],
      ["exit_as_completed.ts", "leaving an asCompleted(60_000) iterator at its first result"],
    ]
  ) {
    it(`Pool: a program that never calls shutdown() exits by itself after ${what}`, {
      timeout: KILL_AFTER_MS + 10_000,
    }, async () => {
      const exit = await run(...withThisRuntime(fileURLToPath(fixture(name!))), {
        killAfter: KILL_AFTER_MS,
        marker: MARKER,
      });
      const output = `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`;
      assert.equal(
        exit.signal,
        null,
        `still running ${KILL_AFTER_MS} ms after start, killed\n${output}`,
      );
      assert.equal(exit.code, 0, output);
      assert.match(exit.stdout, new RegExp(`^${MARKER}`, "m"), output);
      // deno-lint-ignore no-console
      console.log(
        `${isBun ? "bun" : "deno"}: ${name} exited ${
          exit.afterMarker.toFixed(0)
        } ms after its last line`,
      );
    });
  }
});
