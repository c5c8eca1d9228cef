/**
 * Two versions of fastpool side by side in one process: results that move
 * buffers with `transfer()`. 2,000 `run()`s of a task returning a moved
 * 8 KiB `Float64Array`, and 2,000 returning `{ id, data }` with the array
 * inside moved, awaited together, through the `mod.ts` of
 * checkout A and of checkout B (2 workers each), in alternating rounds (24,
 * the first 4 dropped, the order swapped every round). Prints each one's
 * median ms and B ÷ A. It weighed a design where, before a batch holding
 * objects is posted, each `transfer()`ed result is first copied moving its
 * buffers (so one that cannot be cloned detaches no other's, on Deno), kept
 * in a commit of its own and reverted (see bench/README.md):
 *
 *   git worktree add /tmp/trial <that commit>
 *   deno run -A bench/transfer_ab.ts ./mod.ts /tmp/trial/mod.ts
 *   bun bench/transfer_ab.ts ./mod.ts /tmp/trial/mod.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { checkoutPools, type PoolLike } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";
import { transfer } from "../mod.ts";

const { paths, pools } = await checkoutPools("transfer_ab.ts");
const ROUNDS = 24;
const DROPPED = 4;
const JOBS = 2_000;
const ids = Array.from({ length: JOBS }, (_, i) => i);
// Inline tasks: `transfer` is in scope in the worker as it is here.
const kinds = {
  array: (i: number) => transfer(new Float64Array(1024).fill(i)),
  wrapped: (i: number) => {
    const data = new Float64Array(1024).fill(i);
    return transfer({ id: i, data }, [data.buffer]);
  },
};
type Kind = keyof typeof kinds;
const times: Record<Kind, number[][]> = { array: [[], []], wrapped: [[], []] };

/** ms of `JOBS` `run()`s of `kind` on `pool`, awaited together. */
async function round(pool: PoolLike, kind: Kind): Promise<number> {
  const task = kinds[kind] as unknown as (x: number) => number;
  const start = performance.now();
  await Promise.all(ids.map((i) => pool.run(task, i)));
  return performance.now() - start;
}

for (const pool of pools) await round(pool, "wrapped");
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
console.log(`${runtime}: ${JOBS} run()s + Promise.all, medians of ${ROUNDS - DROPPED} rounds each`);
console.log("| checkout | transfer(Float64Array), ms | transfer({ id, data }), ms |");
console.log("| --- | --- | --- |");
paths.forEach((path, k) => {
  const cells = (Object.keys(kinds) as Kind[]).map((kind) => median(times[kind][k]!).toFixed(1));
  console.log(`| ${"AB"[k]} ${path} | ${cells.join(" | ")} |`);
});
const ratios = (Object.keys(kinds) as Kind[]).map((kind) =>
  `${kind} ${(median(times[kind][1]!) / median(times[kind][0]!)).toFixed(3)}`
);
console.log(`B ÷ A, medians: ${ratios.join(", ")}`);
exit(0);
