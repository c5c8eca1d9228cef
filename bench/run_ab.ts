/**
 * Two versions of fastpool side by side in one process: 100,000 tiny
 * `run()`s at once and `Promise.all` (2 workers each), through the `mod.ts`
 * of checkout A and of checkout B, in alternating rounds (40, the first 4
 * dropped, the order swapped every round), with the inline baseline of
 * `run_pair.ts` (a promise resolved on the main thread per job) in each
 * round. Prints each one's median µs per job, the calls' share of it, and
 * B ÷ A.
 *
 * Separate runs of `run_pair.ts` differ by 10–20% on this machine, more than
 * a small change to the `run()` path does. Make A a worktree of the commit
 * before the change:
 *
 *   git worktree add /tmp/before HEAD~1
 *   deno run -A bench/run_ab.ts /tmp/before/mod.ts ./mod.ts
 *   bun bench/run_ab.ts /tmp/before/mod.ts ./mod.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { checkoutPools, type PoolLike } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";

const { paths, pools } = await checkoutPools("run_ab.ts");
const N = 100_000;
const ROUNDS = 40;
const DROPPED = 4;
const add1 = (x: number): number => x + 1;

for (const pool of pools) await pool.run(add1, 0);
const calls: number[][] = [[], []];
const totals: number[][] = [[], []];
const inline: number[] = [];

/** One round of `pool`'s: ms of the `run()` calls, and ms until all settled. */
async function round(pool: PoolLike): Promise<[number, number]> {
  const start = performance.now();
  const runs = new Array<Promise<number>>(N);
  for (let i = 0; i < N; i++) runs[i] = pool.run(add1, i);
  const called = performance.now();
  const results = await Promise.all(runs);
  if (results[N - 1] !== N) throw new Error(`wrong result ${results[N - 1]}`);
  return [called - start, performance.now() - start];
}

for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < 2; k++) {
    const which = r % 2 === 0 ? k : 1 - k;
    const [called, total] = await round(pools[which]!);
    if (r < DROPPED) continue;
    calls[which]!.push(called);
    totals[which]!.push(total);
  }
  const start = performance.now();
  const promises = new Array<Promise<number>>(N);
  for (let i = 0; i < N; i++) promises[i] = new Promise((resolve) => resolve(add1(i)));
  await Promise.all(promises);
  if (r >= DROPPED) inline.push(performance.now() - start);
}
for (const pool of pools) await pool.shutdown();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const us = (ms: number) => (ms * 1000 / N).toFixed(3);
console.log(
  `${runtime}: ${N.toLocaleString("en")} run() + Promise.all, medians of ${
    ROUNDS - DROPPED
  } rounds each`,
);
console.log("| checkout | µs/job | of it, the calls | × inline |");
console.log("| --- | --- | --- | --- |");
paths.forEach((path, k) => {
  const total = median(totals[k]!);
  console.log(
    `| ${"AB"[k]} ${path} | ${us(total)} | ${us(median(calls[k]!))} | ${
      (total / median(inline)).toFixed(2)
    } |`,
  );
});
console.log(`inline promises: ${us(median(inline))} µs/job`);
console.log(`B ÷ A, medians: ${(median(totals[1]!) / median(totals[0]!)).toFixed(3)}`);
exit(0);
