/**
 * Quick start: a pool, inline tasks, and the three ways to get results:
 * `run()` promises, the `done` queue with `doneCount`, and `asCompleted()`.
 *
 *     deno run -A examples/quick_start.ts
 *     bun examples/quick_start.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";

// One worker per CPU core, started on demand. `await using` shuts the pool
// down at the end of the scope.
await using pool = new Pool();

// 1. `run()`: one job, one promise. An inline task runs in a worker, so it
// must be self-contained: its arguments come in, its result goes out.
const sum = await pool.run((a: number, b: number) => a + b, 2, 3);
console.log(`run: 2 + 3 = ${sum}`);

// 2. `submit()`: results go to the `done` queue; `doneCount` is released once
// per result, so waiting for one never polls.
for (let i = 1; i <= 5; i++) pool.submit((n: number) => n * n, i);
const squares: number[] = [];
for (let i = 0; i < 5; i++) {
  await pool.doneCount.acquire();
  squares.push(pool.done.shift() as number);
}
console.log(`submit: squares of 1..5 = ${squares.sort((a, b) => a - b).join(", ")}`);

// 3. `map()`: one job per item, sent to the workers in batches.
// `asCompleted()` yields the results as they arrive, until the pool is idle.
pool.map((word: string) => word.toUpperCase(), ["thread", "pool", "for", "deno", "and", "bun"]);
const words: string[] = [];
for await (const word of pool.asCompleted()) words.push(word as string);
console.log(`map: ${words.length} words upper-cased: ${words.sort().join(" ")}`);

// 4. An error thrown in a task arrives as itself, with its class and message.
try {
  await pool.run((n: number) => {
    if (n < 0) throw new RangeError(`expected a positive number, received ${n}`);
    return Math.sqrt(n);
  }, -1);
} catch (error) {
  console.log(`run: failed with ${(error as Error).name}: ${(error as Error).message}`);
}

console.log("quick start: done");
