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

// deno-lint-ignore-file no-console
import { checkoutPools, type PoolLike } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";

const { paths, pools } = await checkoutPools("map_ab.ts");
const ROUNDS = 24;
const DROPPED = 4;
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
const times: Record<Kind, number[][]> = {
  numbers: [[], []],
  strings: [[], []],
  generators: [[], []],
};

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

for (const pool of pools) await round(pool, "strings");
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of Object.keys(kinds) as Kind[]) {
    for (let k = 0; k < 2; k++) {
      const which = r % 2 === 0 ? k : 1 - k;
      const ms = await round(pools[which]!, kind);
      if (r >= DROPPED) times[kind][which]!.push(ms);
    }
  }
}
for (const pool of pools) await pool.shutdown();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`${runtime}: map or submitDone + wait(), medians of ${ROUNDS - DROPPED} rounds each`);
console.log(
  "| checkout | map 1,000,000 numbers, ms | map 200,000 strings, ms | 2,000 async generator submits × 10 values, ms |",
);
console.log("| --- | --- | --- | --- |");
paths.forEach((path, k) => {
  const cells = (Object.keys(kinds) as Kind[]).map((kind) => median(times[kind][k]!).toFixed(1));
  console.log(`| ${"AB"[k]} ${path} | ${cells.join(" | ")} |`);
});
const ratios = (Object.keys(kinds) as Kind[]).map((kind) =>
  `${kind} ${(median(times[kind][1]!) / median(times[kind][0]!)).toFixed(3)}`
);
console.log(`B ÷ A, medians: ${ratios.join(", ")}`);
exit(0);
