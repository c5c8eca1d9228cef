/**
 * Results in the order jobs finish: `asCompleted()` yields each result as it
 * arrives, and each failure as an error value (it does not throw), until the
 * pool is idle and its queues are empty.
 *
 *     deno run -A examples/as_completed.ts
 *     bun examples/as_completed.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";

await using pool = new Pool({ maxChildren: 4, resultId: true });

// Jobs that take different times; one of them fails.
const sleepThen = async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  if (ms === 30) throw new Error(`gave up after ${ms} ms`);
  return `slept ${ms} ms`;
};
const ids = new Map<number, number>();
for (const ms of [80, 10, 30, 50]) ids.set(pool.submit(sleepThen, ms), ms);
console.log(`submitted ${ids.size} jobs sleeping ${[...ids.values()].join(", ")} ms`);

// With `resultId`, entries are [jobId, result] (or [jobId, error]).
let ok = 0;
let failed = 0;
for await (const entry of pool.asCompleted()) {
  const [id, value] = entry as [number, unknown];
  if (value instanceof Error) {
    failed++;
    console.log(`  job ${id} (${ids.get(id)} ms) failed: ${value.message}`);
  } else {
    ok++;
    console.log(`  job ${id} (${ids.get(id)} ms) done: ${value}`);
  }
}
console.log(`as completed: ${ok} done, ${failed} failed`);

// asCompleted(ms) stops waiting after that many ms, even if jobs still run.
pool.submit(sleepThen, 500);
let early = 0;
for await (const _ of pool.asCompleted(20)) early++;
console.log(`asCompleted(20) with a 500 ms job running: ${early} results before it gave up`);
// `await using` shuts the pool down here: shutdown() lets the running job finish first.
