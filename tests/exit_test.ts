/**
 * A program that never calls `shutdown()` ends by itself soon after its last
 * job (issues 2 and 7). Each fixture runs in a child process of the runtime
 * running the tests; a hung child is killed and fails the test.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { fixture, isBun } from "./_util.ts";

const KILL_AFTER_MS = 20_000;
const MARKER = "last job done";

interface Exit {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the marker line to the exit, or NaN without it. */
  afterMarker: number;
}

/** Runs a fixture with the current runtime and times its exit from the marker line. */
function runFixture(name: string): Promise<Exit> {
  const file = fileURLToPath(fixture(name));
  const [command, args] = isBun
    ? [process.execPath, [file]]
    : [(globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath(), [
      "run",
      "-A",
      file,
    ]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let markerAt = NaN;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (Number.isNaN(markerAt) && stdout.includes(MARKER)) markerAt = performance.now();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
    const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // "exit", not "close": the time of the exit itself is what is measured.
    let exited = NaN;
    child.on("exit", () => exited = performance.now());
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, afterMarker: exited - markerAt });
    });
  });
}

describe("exit without shutdown()", () => {
  for (
    const [name, what] of [
      ["exit_no_shutdown.ts", "run() and submit() + wait()"],
      ["exit_no_shutdown_busy.ts", "a task module, map, a failure, a stream and an abort"],
    ]
  ) {
    it(`Pool: a program that never calls shutdown() exits by itself after ${what}`, {
      timeout: KILL_AFTER_MS + 10_000,
    }, async () => {
      const exit = await runFixture(name!);
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
