/**
 * The demo: count the primes below a limit by trial division, split into 64
 * ranges, first on the main thread and then on a pool with one worker per CPU
 * core; check both counts agree and print the speedup.
 *
 *     deno run -A examples/demo.ts
 *     bun examples/demo.ts
 *
 * `DEMO_SIZE=small` shrinks the work (the test suite runs it that way).
 *
 * @module
 */

// deno-lint-ignore-file no-console
import process from "node:process";
import { Pool } from "../mod.ts";
import { Progress, write } from "./_progress.ts";
import { countPrimes, type RangeCount, splitRange } from "./_tasks.ts";

const LIMIT = process.env.DEMO_SIZE === "small" ? 400_000 : 16_000_000;
const PARTS = 64;
const ranges = splitRange(LIMIT, PARTS);
const runtime = process.versions.bun
  ? `bun ${process.versions.bun}`
  : `deno ${process.versions.deno}`;

// The pool: one worker per CPU core by default. Its workers import
// `_tasks.ts`, and the type argument makes "countPrimes" a checked name.
await using pool = new Pool<typeof import("./_tasks.ts")>({
  module: new URL("./_tasks.ts", import.meta.url),
});
const workers = pool.maxChildren;

write(
  `Counting primes below ${LIMIT.toLocaleString("en-US")} in ${PARTS} ranges, ` +
    `on ${runtime} with ${workers} CPU cores\n`,
);

// 1. The main thread, one range after another.
let start = performance.now();
let bar = new Progress("main thread", PARTS);
let mainTotal = 0;
for (const range of ranges) {
  mainTotal += countPrimes(range).primes;
  bar.tick();
}
const mainSeconds = (performance.now() - start) / 1000;
bar.end(`${mainTotal} primes in ${mainSeconds.toFixed(2)} s`);

// 2. The pool: `map` queues one job per range; results arrive as they finish,
// in any order, and `asCompleted()` hands them over until the pool is idle.
start = performance.now();
bar = new Progress(`pool (${workers})`, PARTS);
let poolTotal = 0;
let results = 0;
pool.map("countPrimes", ranges);
for await (const result of pool.asCompleted()) {
  if (result instanceof Error) throw result;
  poolTotal += (result as RangeCount).primes;
  results++;
  bar.tick();
}
const poolSeconds = (performance.now() - start) / 1000;
bar.end(`${poolTotal} primes in ${poolSeconds.toFixed(2)} s`);

if (results !== PARTS || poolTotal !== mainTotal) {
  console.error(
    `Mismatch: main thread ${mainTotal} primes, pool ${poolTotal} primes in ${results} results`,
  );
  process.exit(1);
}
write(
  `Both agree: ${mainTotal} primes below ${LIMIT.toLocaleString("en-US")}\n` +
    `main thread ${mainSeconds.toFixed(2)} s, pool (${workers} workers) ${
      poolSeconds.toFixed(2)
    } s: ` +
    `${speedup(mainSeconds / poolSeconds)}\n`,
);

function speedup(ratio: number): string {
  return ratio >= 1
    ? `${ratio.toFixed(2)}x faster`
    : `${(1 / ratio).toFixed(2)}x slower (too little work to pay for starting workers)`;
}
