/**
 * Streaming: `pool.stream()` runs a generator task and hands over its values
 * as the worker yields them. The worker runs only a small window ahead of the
 * consumer, and leaving the loop early (`break`) stops the task.
 *
 *     deno run -A examples/streaming.ts
 *     bun examples/streaming.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";

await using pool = new Pool<typeof import("./_tasks.ts")>({
  module: new URL("./_tasks.ts", import.meta.url),
});

// A generator export of the task module: the primes below 100, one by one.
const primes: number[] = [];
for await (const prime of pool.stream("primesIn", 0, 100)) primes.push(prime);
console.log(`stream("primesIn", 0, 100): ${primes.length} primes, ${primes.join(" ")}`);

// An inline, endless async generator: take what is needed, then break; the
// task is stopped in its worker.
const ticks: string[] = [];
for await (
  const tick of pool.stream(async function* (label: string) {
    for (let i = 0;; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield `${label} ${i}`;
    }
  }, "tick")
) {
  ticks.push(tick);
  if (ticks.length === 5) break;
}
console.log(`stream(endless generator), first 5 then break: ${ticks.join(", ")}`);

// The worker is free again at once.
console.log(`after break: run() still works: ${await pool.run((n: number) => n + 1, 41)}`);
console.log("streaming: done");
