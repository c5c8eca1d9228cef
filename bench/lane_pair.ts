/**
 * Sequential round trips (`await pool.run(x => x + 1, x)`, one at a time)
 * with the shared lane on, with it off (`sharedLane: false`, every job a
 * message), and through the SAB ring baseline (`_sab_ring.ts`, the floor),
 * in alternating rounds of `n` trips in one process (the first round of
 * each dropped). Prints each one's mean and median µs per round trip over
 * the rounds, and the ratios to the ring.
 *
 * The mean is what a loop of round trips costs; the median is a typical trip
 * (the mean also holds the rare trips where a thread was descheduled, or the
 * worker had stopped listening and the job went as a message).
 *
 *   deno run -A bench/lane_pair.ts [n]
 *   bun bench/lane_pair.ts [n]
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { SabRing } from "./_sab_ring.ts";
import { args, exit, runtime } from "./_env.ts";

const n = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 10_000);
const ROUNDS = 6;
const add1 = (x: number): number => x + 1;

type Trip = (x: number) => Promise<number>;

/** `n` round trips; the per-trip times (ms) go into `into`. Returns the total ms. */
async function trips(trip: Trip, into: number[]): Promise<number> {
  let x = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    x = await trip(x);
    into.push(performance.now() - t);
  }
  const total = performance.now() - start;
  if (x !== n) throw new Error(`wrong result ${x}`);
  return total;
}

const lane = new Pool({ maxChildren: 2, minChildren: 2 });
const messages = new Pool({ maxChildren: 2, minChildren: 2, sharedLane: false });
const ring = new SabRing(2, 16);
await ring.ready;
const designs: { name: string; trip: Trip; totals: number[]; each: number[] }[] = [
  { name: "lane", trip: (x) => lane.run(add1, x), totals: [], each: [] },
  { name: "messages", trip: (x) => messages.run(add1, x), totals: [], each: [] },
  { name: "SAB ring", trip: (x) => ring.roundTrip(x, 0.2), totals: [], each: [] },
];
for (let round = 0; round < ROUNDS; round++) {
  for (const design of designs) {
    const each: number[] = [];
    const total = await trips(design.trip, each);
    if (round === 0) continue;
    design.totals.push(total);
    design.each.push(...each);
  }
}
const laneShare = lane.stats().jobs.sharedLane / lane.stats().jobs.done;
await lane.shutdown();
await messages.shutdown();
ring.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const floor = designs[2]!;
const floorMean = median(floor.totals) * 1000 / n;
const floorMedian = median(floor.each) * 1000;
console.log(
  `${runtime}, ${ROUNDS - 1} rounds of ${n.toLocaleString("en")} sequential round trips, 2 workers`,
);
console.log("| design | mean µs/trip | median µs/trip | mean ÷ ring | median ÷ ring |");
console.log("| --- | --- | --- | --- | --- |");
for (const design of designs) {
  const mean = median(design.totals) * 1000 / n;
  const typical = median(design.each) * 1000;
  console.log(
    `| ${design.name} | ${mean.toFixed(2)} | ${typical.toFixed(2)} | ${
      (mean / floorMean).toFixed(1)
    } | ${(typical / floorMedian).toFixed(1)} |`,
  );
}
console.log(`jobs that took the lane: ${(laneShare * 100).toFixed(1)}%`);
exit(0);
