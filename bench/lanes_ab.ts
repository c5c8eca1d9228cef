/**
 * Two versions of fastpool side by side in one process: async jobs with
 * `concurrentTasksPerWorker: 4`, where the worker parks once every lane is
 * taken. A `map` of 100,000 numbers through an `async` task (each settles
 * in a microtask), one of 100,000 where every fourth item answers with a
 * promise and the rest at once, and one of 2,000 whose promises settle on a
 * timer (`setTimeout(…, 0)`), results discarded, then `wait()`, through the
 * `mod.ts` of checkout A and of checkout B (2 workers each), in alternating
 * rounds (24, the first 4 dropped, the order swapped every round). Prints
 * each one's median ms and B ÷ A:
 *
 *   git worktree add /tmp/before HEAD~1
 *   deno run -A bench/lanes_ab.ts /tmp/before/mod.ts ./mod.ts
 *   bun bench/lanes_ab.ts /tmp/before/mod.ts ./mod.ts
 *
 * @module
 */

import { checkoutPools, compareCheckouts, type PoolLike } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";

const checkouts = await checkoutPools("lanes_ab.ts", { concurrentTasksPerWorker: 4 });
const numbers = Array.from({ length: 100_000 }, (_, i) => i);
const kinds = {
  microtask: { items: numbers, task: async (x: number) => await x + 1 },
  mixed: {
    items: numbers,
    task: (x: number) => x % 4 === 0 ? Promise.resolve(x + 1) : x + 1,
  },
  timer: {
    items: numbers.slice(0, 2_000),
    task: (x: number) => new Promise((resolve) => setTimeout(resolve, 0, x + 1)),
  },
};
type Kind = keyof typeof kinds;

/** ms of one `map` of `kind` on `pool`, until `wait()` resolves. */
async function round(pool: PoolLike, kind: Kind): Promise<number> {
  const { items, task } = kinds[kind];
  const start = performance.now();
  pool.map(task as (x: never) => unknown, items, false);
  await pool.wait();
  return performance.now() - start;
}

await compareCheckouts(checkouts, Object.keys(kinds) as Kind[], round, {
  warmUp: "mixed",
  title: `${runtime}: map + wait(), concurrentTasksPerWorker 4`,
  columns: [
    "100,000 async (microtask), ms",
    "100,000, every 4th a promise, ms",
    "2,000 on a timer, ms",
  ],
});
exit(0);
