/**
 * What an idle pool costs: a pool of 2 workers runs 100,000 tiny jobs and a
 * few round trips (so every spin path has run), then sits idle with its
 * workers alive while the process's CPU time is read over 2 s
 * (`process.cpuUsage()`, main thread and workers together), twice in a row,
 * against the same process idle before it made the pool (the runtime's own
 * cost). Spinning is bounded (a worker 50 µs after work, 250 µs after a
 * lone job; the main thread 50 µs for an answer due soon); what the first
 * window adds is the engines collecting the work's garbage.
 *
 *   deno run -A bench/idle_cpu.ts
 *   bun bench/idle_cpu.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import process from "node:process";
import { Pool } from "../mod.ts";
import { exit, runtime } from "./_env.ts";

const IDLE_MS = 2_000;
const add1 = (x: number): number => x + 1;

/** CPU ms the whole process used over `IDLE_MS` of waiting, and the wall time. */
async function idle(): Promise<{ cpuMs: number; wall: number }> {
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const wall = performance.now() - t0;
  const used = process.cpuUsage(before);
  return { cpuMs: (used.user + used.system) / 1000, wall };
}

const bare = await idle();
const pool = new Pool({ maxChildren: 2, minChildren: 2, idleTimeout: 60_000 });
for (let i = 0; i < 100_000; i++) pool.submit(add1, i);
await pool.wait();
pool.done.drain();
for (let i = 0; i < 1_000; i++) await pool.run(add1, i);
const first = await idle();
const second = await idle();
console.log(
  `${runtime}: CPU over ${IDLE_MS / 1000} s idle: the bare process ${
    bare.cpuMs.toFixed(1)
  } ms; with an idle pool of ${pool.alive} workers, the first ${IDLE_MS / 1000} s after its work ${
    first.cpuMs.toFixed(1)
  } ms, the next ${second.cpuMs.toFixed(1)} ms (${
    (100 * second.cpuMs / second.wall).toFixed(2)
  }% of one core)`,
);
await pool.shutdown();
exit(0);
