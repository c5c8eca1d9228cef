/**
 * Two versions of fastpool side by side in one process: the workers' hot
 * loops. A `map` of 1,000,000 numbers (they travel as a `Float64Array`), one
 * of 200,000 short strings (one job each in the general loop), and 2,000
 * `submitDone`s of an async generator task of 10 values each, results
 * discarded, then `wait()`, through the `mod.ts` of checkout A and of
 * checkout B (2 workers each), in alternating rounds (24, the first 4
 * dropped, the order swapped every round). Prints each one's median ms and
 * B ÷ A. Make A a worktree of the commit before a change to the worker:
 *
 *   git worktree add /tmp/before HEAD~1
 *   deno run -A bench/map_ab.ts /tmp/before/mod.ts ./mod.ts
 *   bun bench/map_ab.ts /tmp/before/mod.ts ./mod.ts
 *
 * @module
 */

import { checkoutPools, compareCheckouts, type PoolLike } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";

const checkouts = await checkoutPools("map_ab.ts");
const numbers = Array.from({ length: 1_000_000 }, (_, i) => i);
const strings = Array.from({ length: 200_000 }, (_, i) => `s${i}`);
const generators = Array.from({ length: 2_000 }, () => 10);
const kinds = {
  numbers: { items: numbers as unknown[], task: (x: number) => x + 1 },
  strings: { items: strings as unknown[], task: (s: string) => s.length },
  generators: {
    items: generators as unknown[],
    task: async function* (n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
  },
};
type Kind = keyof typeof kinds;

/** ms of one `map` of `kind` on `pool`, until `wait()` resolves. */
async function round(pool: PoolLike, kind: Kind): Promise<number> {
  const { items, task } = kinds[kind];
  const start = performance.now();
  if (kind === "generators") {
    for (const item of items) pool.submitDone(task as (x: never) => unknown, false, item);
  } else pool.map(task as (x: never) => unknown, items, false);
  await pool.wait();
  return performance.now() - start;
}

await compareCheckouts(checkouts, Object.keys(kinds) as Kind[], round, {
  warmUp: "strings",
  title: `${runtime}: map or submitDone + wait()`,
  columns: [
    "map 1,000,000 numbers, ms",
    "map 200,000 strings, ms",
    "2,000 async generator submits × 10 values, ms",
  ],
});
exit(0);
