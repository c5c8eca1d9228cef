/**
 * A quick A/B of the throughput target: `n` tiny jobs submitted at once and
 * all results drained, fastpool's `submit` against the coalesced baseline,
 * timed in alternation (25 rounds, the first 5 dropped), medians and ratio;
 * and fastpool's `submit` of an arrow written in the call (a new function
 * value per job), to compare with its `submit` of one function value.
 * For checking a change to the submit path in a minute, not for the tables.
 *
 *   deno run -A bench/throughput_pair.ts [n]
 *   bun bench/throughput_pair.ts [n]
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { CoalescedPool } from "./_coalesced_pool.ts";
import { args, exit, runtime } from "./_env.ts";
import {
  add1Inline,
  expectedSum,
  tinyCoalesced,
  tinySubmit,
  tinySubmitArrowInCall,
} from "./_designs.ts";

const n = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 100_000);
const ROUNDS = 25;
const DROPPED = 5;

const pool = new Pool({ maxChildren: 2, minChildren: 2 });
const coalesced = new CoalescedPool(2, false);
await pool.run(add1Inline, 0);
const ours: number[] = [];
const theirs: number[] = [];
const arrows: number[] = [];
const timed = async (fn: () => Promise<number>, into: number[], round: number) => {
  const t0 = performance.now();
  const sum = await fn();
  if (round >= DROPPED) into.push(performance.now() - t0);
  if (sum !== expectedSum(n)) throw new Error(`wrong sum ${sum}`);
};
for (let round = 0; round < ROUNDS; round++) {
  await timed(() => tinySubmit(pool, n), ours, round);
  await timed(() => tinyCoalesced(coalesced, n), theirs, round);
  await timed(() => tinySubmitArrowInCall(pool, n), arrows, round);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `${runtime}, n=${n}: fastpool submit ${median(ours).toFixed(2)} ms, coalesced ${
    median(theirs).toFixed(2)
  } ms, ratio ${(median(ours) / median(theirs)).toFixed(2)}; submit of an arrow in the call ${
    median(arrows).toFixed(2)
  } ms (${(median(arrows) / median(ours)).toFixed(2)}× one function value)`,
);
await pool.shutdown();
coalesced.close();
exit(0);
