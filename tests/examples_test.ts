/**
 * Runs every example (`examples/*.ts`, except `_`-prefixed helpers) in a child
 * process of the runtime running the tests, and checks it exits by itself,
 * with code 0, after printing its expected line.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { run, withThisRuntime } from "./_child.ts";

const examplesDir = fileURLToPath(new URL("../examples/", import.meta.url));
const repoDir = fileURLToPath(new URL("../", import.meta.url));
const KILL_AFTER_MS = 60_000;

/** A line each example prints once it has done its work. */
const expected: Record<string, RegExp> = {
  "abort.ts": /^abort: done$/m,
  "as_completed.ts": /^as completed: 3 done, 1 failed$/m,
  "cluster.ts": /^cluster: (done|skipped: .*)$/m,
  "backpressure.ts": /^back-pressure: 100000 lines, 700000 words, at most (\d{1,4}|10000) queued$/m,
  "demo.ts": /^main thread [\d.]+ s, pool \(\d+ workers\) [\d.]+ s: [\d.]+x (faster|slower)/m,
  "fastthreadpool_tour.ts": /^fastthreadpool tour: done$/m,
  "quick_start.ts": /^quick start: done$/m,
  "streaming.ts": /^streaming: done$/m,
  "task_module.ts": /^task module: done$/m,
};

const examples = readdirSync(examplesDir)
  .filter((name) => name.endsWith(".ts") && !name.startsWith("_"))
  .sort();

describe("examples", () => {
  it("examples: every example has an expected line", () => {
    assert.deepEqual(examples, Object.keys(expected).sort());
  });

  for (const name of examples) {
    it(`examples/${name} runs, prints its result and exits by itself`, {
      timeout: KILL_AFTER_MS + 30_000,
    }, async () => {
      const exit = await run(...withThisRuntime(examplesDir + name), {
        cwd: repoDir,
        env: { DEMO_SIZE: "small" },
        killAfter: KILL_AFTER_MS,
      });
      const output = `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`;
      assert.equal(exit.signal, null, `killed after ${KILL_AFTER_MS} ms\n${output}`);
      assert.equal(exit.code, 0, output);
      const line = expected[name];
      if (line) assert.match(exit.stdout, line, output);
    });
  }
});
