/**
 * What ending a large queue at once costs the main thread: `cancel()`,
 * `terminate()`, `shutdown(undefined, { soon: true })` and `clear()` of a
 * pool holding 200,000 queued `map` items, and `cancel()` of 200,000 queued
 * `run()`s (whose promises are rejected). Each case on a fresh pool of one
 * warm worker; the time of the call alone, in ms.
 *
 *   deno run -A bench/cancel_cost.ts
 *   bun bench/cancel_cost.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { exit, runtime } from "./_env.ts";

const N = 200_000;
const add1 = (x: number): number => x + 1;
const items = Array.from({ length: N }, (_, i) => i);

async function warmPool(): Promise<Pool> {
  const pool = new Pool({ maxChildren: 1, minChildren: 1 });
  await pool.run(add1, 0);
  return pool;
}

/** Times `end` on a pool whose queue holds `fill`'s jobs; returns ms and how many were cancelled. */
async function time(
  fill: (pool: Pool) => Promise<unknown>[],
  end: (pool: Pool) => unknown,
): Promise<[number, number]> {
  const pool = await warmPool();
  const promises = fill(pool);
  // Handled before they reject: Deno's cost for rejections nobody handles yet grows with the
  // square of their number (200,000 `run()`s took minutes), which is not the pool's.
  const settled = Promise.allSettled(promises);
  const start = performance.now();
  end(pool);
  const ms = performance.now() - start;
  await settled;
  const { cancelled } = pool.stats().jobs;
  pool.terminate();
  return [ms, cancelled];
}

const mapped = (pool: Pool) => {
  pool.map(add1, items);
  return [];
};
const runs = (pool: Pool) => items.map((i) => pool.run(add1, i));
const cases: [string, (pool: Pool) => Promise<unknown>[], (pool: Pool) => unknown][] = [
  ["cancel() of queued map items", mapped, (pool) => pool.cancel()],
  ["terminate() with queued map items", mapped, (pool) => pool.terminate()],
  [
    "shutdown(undefined, { soon: true }) with queued map items",
    mapped,
    (pool) => pool.shutdown(undefined, { soon: true }),
  ],
  ["clear() of queued map items", mapped, (pool) => pool.clear()],
  ["cancel() of queued run()s", runs, (pool) => pool.cancel()],
];
console.log(`${runtime}: ending ${N.toLocaleString("en")} queued jobs at once, 1 worker`);
console.log("| call | ms | jobs cancelled |");
console.log("| --- | --- | --- |");
for (const [name, fill, end] of cases) {
  const [ms, cancelled] = await time(fill, end);
  console.log(`| ${name} | ${ms.toFixed(1)} | ${cancelled.toLocaleString("en")} |`);
}
exit(0);
