/**
 * Two versions of fastpool side by side in one process: sequential round
 * trips (`await pool.run(x => x + 1, x)`, one at a time, 2 workers each)
 * through the `mod.ts` of checkout A and of checkout B, in alternating
 * chunks of 3,000 trips (60 chunks each, the order swapped every chunk),
 * after 30,000 warm-up trips each. Prints each one's quartiles of a chunk's
 * mean µs per trip, and B ÷ A.
 *
 * One process and alternating chunks make the comparison fair on a noisy
 * machine, where separate runs of `lane_pair.ts` differ by more than a small
 * change does. Make A a worktree of the commit before the change:
 *
 *   git worktree add /tmp/before HEAD~1
 *   deno run -A bench/round_trip_ab.ts /tmp/before/mod.ts ./mod.ts
 *   bun bench/round_trip_ab.ts /tmp/before/mod.ts ./mod.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { checkoutPools } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";

const { paths, pools } = await checkoutPools("round_trip_ab.ts");
const CHUNK = 3_000;
const CHUNKS = 60;
const add1 = (x: number): number => x + 1;

for (const pool of pools) {
  let x = 0;
  for (let i = 0; i < 30_000; i++) x = await pool.run(add1, x);
}
const chunks: number[][] = [[], []];
for (let round = 0; round < CHUNKS; round++) {
  for (let k = 0; k < 2; k++) {
    const which = round % 2 === 0 ? k : 1 - k;
    const pool = pools[which]!;
    let x = 0;
    const start = performance.now();
    for (let i = 0; i < CHUNK; i++) x = await pool.run(add1, x);
    chunks[which]!.push((performance.now() - start) * 1000 / CHUNK);
    if (x !== CHUNK) throw new Error(`wrong result ${x}`);
  }
}
for (const pool of pools) await pool.shutdown();

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;
console.log(`${runtime}: µs per round trip, a chunk's mean, over ${CHUNKS} chunks each`);
console.log("| checkout | p25 | median | p75 |");
console.log("| --- | --- | --- | --- |");
paths.forEach((path, k) => {
  const xs = chunks[k]!;
  console.log(
    `| ${"AB"[k]} ${path} | ${quantile(xs, 0.25).toFixed(3)} | ${quantile(xs, 0.5).toFixed(3)} | ${
      quantile(xs, 0.75).toFixed(3)
    } |`,
  );
});
console.log(
  `B ÷ A, medians: ${(quantile(chunks[1]!, 0.5) / quantile(chunks[0]!, 0.5)).toFixed(2)}`,
);
exit(0);
