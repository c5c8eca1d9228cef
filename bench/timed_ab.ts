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
 * `--limit=ms` sets another `taskTimeout` and `--items=n` another `map`
 * length: a short limit makes each timed job's timer look often at the jobs
 * ahead of it (`TIMED_CAP` in `src/pool/dispatch_loop.ts`):
 *
 *   bun bench/timed_ab.ts /tmp/ffd1307/mod.ts ./mod.ts --limit=1000 --items=100000
 *
 * @module
 */

import { checkoutPools, compareCheckouts, type PoolLike } from "./_checkouts.ts";
import { args, exit, runtime } from "./_env.ts";

/** The value of flag `--name=value`, or `fallback`. */
const flag = (name: string, fallback: number): number => {
  const given = args.find((arg) => arg.startsWith(`--${name}=`));
  return given === undefined ? fallback : Number(given.slice(name.length + 3));
};
const limit = flag("limit", 60_000);
const items = flag("items", 20_000);
const checkouts = await checkoutPools("timed_ab.ts", { taskTimeout: limit });
const numbers = Array.from({ length: items }, (_, i) => i);
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
  title: `${runtime}: jobs with taskTimeout ${limit}`,
  columns: [`map of ${items}, ms`, "2,000 run(), ms"],
});
exit(0);
