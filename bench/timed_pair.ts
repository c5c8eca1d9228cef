/**
 * What a time limit costs tiny jobs: the same work on two pools of this
 * checkout, one with `taskTimeout: 60000` (never reached) and one without,
 * side by side in one process. A `map` of 20,000 numbers and 2,000 `run()`s
 * awaited together, 2 workers each, in alternating rounds (12, the first 2
 * dropped, the order swapped every round). Prints the medians and timed ÷
 * untimed:
 *
 *   deno run -A bench/timed_pair.ts
 *   bun bench/timed_pair.ts
 *
 * A timed job's worker sends the answers before it as it starts it and its
 * own answer alone, and a worker holds at most `TIMED_CAP` timed jobs: a
 * message or two per job where untimed tiny jobs share one per batch.
 *
 * @module
 */

import { Pool } from "../mod.ts";
import { exit, runtime } from "./_env.ts";

const numbers = Array.from({ length: 20_000 }, (_, i) => i);
const double = (x: number) => x * 2;
type Kind = "map" | "run";

/** ms of one round of `kind` on `pool`, until every job has ended. */
async function round(pool: Pool, kind: Kind): Promise<number> {
  const start = performance.now();
  if (kind === "map") {
    pool.map(double, numbers, false);
    await pool.wait();
  } else {
    await Promise.all(numbers.slice(0, 2_000).map((x) => pool.run(double, x)));
  }
  return performance.now() - start;
}

const pools = {
  untimed: new Pool({ maxChildren: 2, minChildren: 2 }),
  timed: new Pool({ maxChildren: 2, minChildren: 2, taskTimeout: 60_000 }),
};
const samples: Record<string, number[]> = {};
for (let r = 0; r < 12; r++) {
  const order = r % 2 === 0 ? ["timed", "untimed"] as const : ["untimed", "timed"] as const;
  for (const name of order) {
    for (const kind of ["map", "run"] as const) {
      const ms = await round(pools[name], kind);
      if (r >= 2) (samples[`${name} ${kind}`] ??= []).push(ms);
    }
  }
}
const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
// deno-lint-ignore no-console
console.log(`${runtime}: tiny jobs with and without taskTimeout (medians of 10 rounds)`);
for (const kind of ["map", "run"] as const) {
  const untimed = median(samples[`untimed ${kind}`]!);
  const timed = median(samples[`timed ${kind}`]!);
  const what = kind === "map" ? "map of 20,000" : "2,000 run()";
  // deno-lint-ignore no-console
  console.log(
    `${what}: untimed ${untimed.toFixed(1)} ms, timed ${timed.toFixed(1)} ms, timed ÷ untimed ${
      (timed / untimed).toFixed(1)
    }`,
  );
}
await Promise.all([pools.untimed.shutdown(), pools.timed.shutdown()]);
exit(0);
