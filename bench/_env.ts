/**
 * What the benchmarks need to know about the runtime they run on: its name
 * and version, the CPU, quick mode, a garbage collector if one is exposed,
 * memory readings, and starting a fresh child process of the same runtime.
 *
 * Works unchanged on Deno and Bun (`node:` built-ins both provide).
 *
 * @module
 */

import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";

interface BunGlobal {
  version: string;
  gc(force: boolean): void;
}

const bun = (globalThis as { Bun?: BunGlobal }).Bun;

/** `"deno"` or `"bun"`. */
export const runtime: "deno" | "bun" = bun ? "bun" : "deno";

/** The runtime's version, e.g. `2.9.6`. */
export const runtimeVersion: string = bun ? bun.version : Deno.version.deno;

/** Command-line arguments after the script. */
export const args: string[] = bun ? process.argv.slice(2) : Deno.args;

/** Reads an environment variable, or `undefined`. */
export function env(name: string): string | undefined {
  return process.env[name];
}

/** Quick mode: `--quick` or `BENCH_QUICK=1`; smaller sizes, fewer samples. */
export const quick: boolean = args.includes("--quick") || env("BENCH_QUICK") === "1";

/** Pool size for every design: the number of cores, as the runtime reports it. */
export const poolSize: number = Math.max(1, navigator.hardwareConcurrency || 1);

/** The CPU model from `/proc/cpuinfo`, or what the OS module says. */
export function cpuModel(): string {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const match = /^model name\s*:\s*(.+)$/m.exec(info);
    if (match) return match[1]!.trim();
  } catch {
    // not Linux
  }
  return "unknown CPU";
}

/** A full garbage collection, or `undefined` when the runtime exposes none (Deno without `--expose-gc`). */
export const gc: (() => void) | undefined = bun
  ? () => bun.gc(true)
  : typeof (globalThis as { gc?: () => void }).gc === "function"
  ? () => (globalThis as unknown as { gc: () => void }).gc()
  : undefined;

/** The 1-minute load average (other processes share the cores), or `"?"`. */
export function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ")[0]!;
  } catch {
    return "?";
  }
}

/** Resident set size now, in bytes. */
export function rss(): number {
  return process.memoryUsage().rss;
}

/**
 * Resets the kernel's peak-RSS mark (`VmHWM`) to the current RSS, so a
 * later {@linkcode peakRss} reports the peak since now. Linux only.
 *
 * @returns Whether the reset worked.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** The peak RSS (`VmHWM`) in bytes, or `undefined` off Linux. */
export function peakRss(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `script` (a URL next to the caller) in a fresh process of this
 * runtime with `scriptArgs`, and returns the last line of its stdout parsed
 * as JSON. A failing child rejects with its stderr.
 */
export function runChild(script: URL, scriptArgs: string[], timeoutMs = 120_000): Promise<unknown> {
  const exe = process.execPath;
  const path = script.pathname;
  const argv = runtime === "bun"
    ? [path, ...scriptArgs]
    : ["run", "-A", "--v8-flags=--expose-gc", path, ...scriptArgs];
  return new Promise((resolve, reject) => {
    execFile(exe, argv, {
      timeout: timeoutMs,
      maxBuffer: 1 << 24,
      env: { ...process.env, NO_COLOR: "1" },
    }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`Child ${path} ${scriptArgs.join(" ")} failed: ${error.message}\n${stderr}`),
        );
        return;
      }
      const lines = String(stdout).trim().split("\n");
      try {
        resolve(JSON.parse(lines[lines.length - 1]!));
      } catch (cause) {
        reject(new Error(`Child ${path} printed no JSON: ${stdout}\n${stderr}`, { cause }));
      }
    });
  });
}

/** Resolves after the current macrotask: lets messages and timers in. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Rejects with a timeout error if `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Throws if `actual` is not `expected`: every scenario checks its result once. */
export function check(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, got ${actual}`);
}

/** Exits the process now (after a runner is done, so no worker keeps it alive). */
export function exit(code = 0): never {
  if (bun) process.exit(code);
  Deno.exit(code);
}
