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

// deno-lint-ignore-file no-console
import { checkoutPools, type PoolLike } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";

const { paths, pools } = await checkoutPools("lanes_ab.ts", { concurrentTasksPerWorker: 4 });
const ROUNDS = 24;
const DROPPED = 4;
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
const times: Record<Kind, number[][]> = { microtask: [[], []], mixed: [[], []], timer: [[], []] };

/** ms of one `map` of `kind` on `pool`, until `wait()` resolves. */
async function round(pool: PoolLike, kind: Kind): Promise<number> {
  const { items, task } = kinds[kind];
  const start = performance.now();
  pool.map(task as (x: never) => unknown, items, false);
  await pool.wait();
  return performance.now() - start;
}

for (const pool of pools) await round(pool, "mixed");
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
console.log(
  `${runtime}: map + wait(), concurrentTasksPerWorker 4, medians of ${
    ROUNDS - DROPPED
  } rounds each`,
);
console.log(
  "| checkout | 100,000 async (microtask), ms | 100,000, every 4th a promise, ms | 2,000 on a timer, ms |",
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
