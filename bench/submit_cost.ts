/**
 * The caller's side of a run of submits, alone: ns per `pool.submit(task, x)`
 * call, against the coalesced baseline's `submit(x)` (a push into an array),
 * in runs of 1,000 (below the early-send threshold, so no batch leaves during
 * the loop), cancelled or drained between rounds and not timed. A third
 * column submits an arrow written in the call, so made afresh each time (the
 * pool knows it by its source text).
 *
 *   deno run -A bench/submit_cost.ts
 *   bun bench/submit_cost.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { CoalescedPool } from "./_coalesced_pool.ts";
import { runtime } from "./_env.ts";

const RUN = 1_000;
const ROUNDS = 3_000;
const WARMUP = 500;

const add1 = (x: number): number => x + 1;
const pool = new Pool({ maxChildren: 1, minChildren: 1 });
const coalesced = new CoalescedPool(1, false);
await pool.run(add1, 0);
let ours = 0;
let theirs = 0;
let fresh = 0;
for (let round = 0; round < ROUNDS; round++) {
  const t0 = performance.now();
  for (let i = 0; i < RUN; i++) pool.submit(add1, i);
  const t1 = performance.now();
  for (let i = 0; i < RUN; i++) coalesced.submit(i);
  const t2 = performance.now();
  pool.cancel();
  for (let i = 0; i < RUN; i++) pool.submit((x: number) => x + 1, i);
  const t3 = performance.now();
  if (round >= WARMUP) {
    ours += t1 - t0;
    theirs += t2 - t1;
    fresh += t3 - t2;
  }
  pool.cancel();
  await coalesced.wait();
  coalesced.done = [];
}
const ns = (ms: number) => (ms * 1e6 / (ROUNDS - WARMUP) / RUN).toFixed(1);
console.log(
  `${runtime}: fastpool submit() ${ns(ours)} ns/call, coalesced submit() ${
    ns(theirs)
  } ns/call, fastpool submit() of an arrow made in the call ${ns(fresh)} ns/call`,
);
await pool.shutdown();
coalesced.close();
