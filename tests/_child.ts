/**
 * Child processes for tests: run a program, collect its output, and kill it
 * if it hangs, so a hung child fails its test instead of the whole run.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { isBun } from "./_util.ts";

/** How a child process ended. */
export interface Exit {
  code: number | null;
  /** The signal that ended it (`SIGKILL` when it hung past `killAfter`). */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the first stdout that contained `marker` to the exit; NaN without it. */
  afterMarker: number;
}

/** Options of {@linkcode run}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Kill the child after this many ms. */
  killAfter?: number;
  /** A string on stdout from which `afterMarker` is timed. */
  marker?: string;
}

/** Runs `command` with `args`; resolves once it has exited and its output is closed. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<Exit> {
  const { cwd, env = {}, killAfter = 30_000, marker } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let markerAt = NaN;
    let exitedAt = NaN;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (marker !== undefined && Number.isNaN(markerAt) && stdout.includes(marker)) {
        markerAt = performance.now();
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfter);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // "exit", not "close", is the moment the process ended.
    child.on("exit", () => exitedAt = performance.now());
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, afterMarker: exitedAt - markerAt });
    });
  });
}

/** The command and arguments that run `file` with the runtime running the tests. */
export function withThisRuntime(file: string): [string, string[]] {
  if (isBun) return [process.execPath, [file]];
  const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno;
  return [deno.execPath(), ["run", "-A", file]];
}
