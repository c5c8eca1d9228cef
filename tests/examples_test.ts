/**
 * Runs every example (`examples/*.ts`, except `_`-prefixed helpers) in a child
 * process of the runtime running the tests, and checks it exits by itself,
 * with code 0, after printing its expected line.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { isBun } from "./_util.ts";

const examplesDir = fileURLToPath(new URL("../examples/", import.meta.url));
const repoDir = fileURLToPath(new URL("../", import.meta.url));
const KILL_AFTER_MS = 60_000;

/** A line each example prints once it has done its work. */
const expected: Record<string, RegExp> = {
  "abort.ts": /^abort: done$/m,
  "as_completed.ts": /^as completed: 3 done, 1 failed$/m,
  "demo.ts": /^main thread [\d.]+ s, pool \(\d+ workers\) [\d.]+ s: [\d.]+x (faster|slower)/m,
  "fastthreadpool_tour.ts": /^fastthreadpool tour: done$/m,
  "quick_start.ts": /^quick start: done$/m,
  "streaming.ts": /^streaming: done$/m,
  "task_module.ts": /^task module: done$/m,
};

const examples = readdirSync(examplesDir)
  .filter((name) => name.endsWith(".ts") && !name.startsWith("_"))
  .sort();

interface Exit {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs `file` with the current runtime, as `deno run -A` or `bun`. */
function runExample(file: string, env: Record<string, string>): Promise<Exit> {
  const [command, args] = isBun
    ? [process.execPath, [file]]
    : [(globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath(), [
      "run",
      "-A",
      file,
    ]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: repoDir,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
    // A hung example fails the test instead of hanging the run.
    const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe("examples", () => {
  it("examples: every example has an expected line", () => {
    assert.deepEqual(examples, Object.keys(expected).sort());
  });

  for (const name of examples) {
    it(`examples/${name} runs, prints its result and exits by itself`, {
      timeout: KILL_AFTER_MS + 30_000,
    }, async () => {
      const exit = await runExample(examplesDir + name, { DEMO_SIZE: "small" });
      const output = `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`;
      assert.equal(exit.signal, null, `killed after ${KILL_AFTER_MS} ms\n${output}`);
      assert.equal(exit.code, 0, output);
      const line = expected[name];
      if (line) assert.match(exit.stdout, line, output);
    });
  }
});
