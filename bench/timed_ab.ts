/**
 * Two versions of fastpool side by side in one process: jobs with a time
 * limit (`taskTimeout: 60000`, never reached). A `map` of 20,000 numbers
 * and 2,000 `run()`s awaited together, through the `mod.ts` of checkout A
 * and of checkout B (2 workers each), in alternating rounds (12, the first 2
 * dropped, the order swapped every round). Prints each one's median ms and
 * B ÷ A. It weighed timed jobs sharing their worker on one lane (they had
 * it to themselves until 3166af9):
 *
 *   git worktree add /tmp/before 3166af9
 *   deno run -A bench/timed_ab.ts /tmp/before/mod.ts ./mod.ts
 *   bun bench/timed_ab.ts /tmp/before/mod.ts ./mod.ts
 *
 * @module
 */

import { checkoutPools, compareCheckouts, type PoolLike } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";

const checkouts = await checkoutPools("timed_ab.ts", { taskTimeout: 60_000 });
const numbers = Array.from({ length: 20_000 }, (_, i) => i);
const double = (x: number) => x * 2;
type Kind = "map" | "run";

/** ms of one round of `kind` on `pool`, until every job has ended. */
async function round(pool: PoolLike, kind: Kind): Promise<number> {
  const start = performance.now();
  if (kind === "map") {
    pool.map(double as (x: never) => unknown, numbers, false);
    await pool.wait();
  } else {
    await Promise.all(numbers.slice(0, 2_000).map((x) => pool.run(double, x)));
  }
  return performance.now() - start;
}

await compareCheckouts(checkouts, ["map", "run"], round, {
  warmUp: "map",
  rounds: 12,
  dropped: 2,
  title: `${runtime}: jobs with taskTimeout 60000`,
  columns: ["map of 20,000, ms", "2,000 run(), ms"],
});
exit(0);
