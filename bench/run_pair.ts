/**
 * `run()` + `Promise.all` of 100,000 tiny jobs against the issue-15 baseline:
 * the same number of promises made and resolved on the main thread
 * (`new Promise((resolve) => resolve(x + 1))`), in alternating rounds (the
 * first 3 dropped), medians and the ratio. A third row shows the floor of
 * any pool that hands out a promise per job: promises made pending, their
 * resolvers kept, and resolved afterwards, all on the main thread.
 *
 *   deno run -A bench/run_pair.ts [n]
 *   bun bench/run_pair.ts [n]
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { args, exit, runtime } from "./_env.ts";

const n = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 100_000);
const ROUNDS = 15;
const DROPPED = 3;
const add1 = (x: number): number => x + 1;

const pool = new Pool({ maxChildren: 2, minChildren: 2 });
await pool.run(add1, 0);
const ours: number[] = [];
const inline: number[] = [];
const deferred: number[] = [];
const resolvers: ((value: number) => void)[] = [];
for (let round = 0; round < ROUNDS; round++) {
  let t0 = performance.now();
  const runs: Promise<number>[] = [];
  for (let i = 0; i < n; i++) runs.push(pool.run(add1, i));
  const a = await Promise.all(runs);
  const oursMs = performance.now() - t0;
  t0 = performance.now();
  const promises: Promise<number>[] = [];
  for (let i = 0; i < n; i++) promises.push(new Promise((resolve) => resolve(add1(i))));
  const b = await Promise.all(promises);
  const inlineMs = performance.now() - t0;
  t0 = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < n; i++) pending.push(new Promise((resolve) => resolvers[i] = resolve));
  for (let i = 0; i < n; i++) resolvers[i]!(add1(i));
  const c = await Promise.all(pending);
  const deferredMs = performance.now() - t0;
  if (a[n - 1] !== n || b[n - 1] !== n || c[n - 1] !== n) throw new Error("wrong results");
  if (round < DROPPED) continue;
  ours.push(oursMs);
  inline.push(inlineMs);
  deferred.push(deferredMs);
}
await pool.shutdown();
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const o = median(ours) * 1000 / n;
const i = median(inline) * 1000 / n;
const d = median(deferred) * 1000 / n;
console.log(
  `${runtime}, n=${n.toLocaleString("en")}: run + Promise.all ${o.toFixed(3)} µs/job, ` +
    `inline promises ${i.toFixed(3)} µs/job, ratio ${(o / i).toFixed(2)}; ` +
    `pending promises resolved later ${d.toFixed(3)} µs/job (${(d / i).toFixed(2)} × inline; ` +
    `run ÷ that ${(o / d).toFixed(2)})`,
);
exit(0);
