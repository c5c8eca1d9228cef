/**
 * Throughput of tiny jobs (`x => x + 1`) submitted at once, every result
 * collected: fastpool against the plain one-message-per-job pool, the
 * coalesced-message baselines and the SAB-ring floor; the npm peers (too
 * slow for 100,000 jobs per iteration) in a group of their own at 10,000.
 *
 *   deno bench -A bench/throughput_bench.ts     (BENCH_QUICK=1 for smaller sizes)
 *
 * @module
 */

import {
  add1Inline,
  CoalescedPool,
  createFastpool,
  expectedSum,
  fastpoolRun,
  peers,
  plainRun,
  type RunPool,
  SabRing,
  tinyCoalesced,
  tinyMap,
  tinyRunAll,
  tinySubmit,
} from "./_designs.ts";
import { checked, closeOnUnload, MACRO, SLOW } from "./_bench_util.ts";
import { poolSize, quick } from "./_env.ts";

const SMALL = quick ? 20_000 : 100_000;
const LARGE = quick ? 200_000 : 1_000_000;
const PEERS_N = quick ? 2_000 : 10_000;

const fast = createFastpool(poolSize);
const fastRun = fastpoolRun(fast);
const plain = plainRun(poolSize);
const coalesced = new CoalescedPool(poolSize);
const coalescedTyped = new CoalescedPool(poolSize, true);
const ring = new SabRing(poolSize, LARGE);
const items = Array.from({ length: LARGE }, (_, i) => i);
const peerPools: RunPool[] = [];
for (const peer of peers) {
  if (!peer.skip) peerPools.push(await peer.create(poolSize));
}
await Promise.all([
  fast.run(add1Inline, 0),
  plain.run("add1", 0),
  ring.ready,
  ...peerPools.map((p) => p.run("add1", 0)),
]);
closeOnUnload(
  () => fast.terminate(),
  () => plain.close(),
  () => coalesced.close(),
  () => coalescedTyped.close(),
  () => ring.close(),
  ...peerPools.map((p) => () => p.close()),
);

for (const n of [SMALL, LARGE]) {
  const group = `tiny jobs x${n}`;
  const opts = n === SMALL ? MACRO : SLOW;
  const expected = expectedSum(n);
  const slice = items.slice(0, n);
  Deno.bench({
    name: `fastpool submit + wait() x${n}`,
    group,
    ...opts,
    fn: checked(() => tinySubmit(fast, n), expected, "fastpool submit"),
  });
  Deno.bench({
    name: `fastpool run + Promise.all x${n}`,
    group,
    ...opts,
    fn: checked(() => tinyRunAll(fastRun, n), expected, "fastpool run"),
  });
  Deno.bench({
    name: `fastpool map + wait() x${n}`,
    group,
    ...opts,
    fn: checked(() => tinyMap(fast, slice), expected, "fastpool map"),
  });
  // The plain pool takes ~10 s per million jobs on Deno: it is the baseline at the small size only.
  if (n === SMALL) {
    Deno.bench({
      name: `plain pool run + Promise.all x${n}`,
      group,
      baseline: true,
      ...SLOW,
      fn: checked(() => tinyRunAll(plain, n), expected, "plain pool"),
    });
  }
  Deno.bench({
    name: `coalesced (Array) x${n}`,
    group,
    baseline: n !== SMALL,
    ...opts,
    fn: checked(() => tinyCoalesced(coalesced, n), expected, "coalesced"),
  });
  Deno.bench({
    name: `coalesced (Float64Array) x${n}`,
    group,
    ...opts,
    fn: checked(() => tinyCoalesced(coalescedTyped, n), expected, "coalesced typed"),
  });
  Deno.bench({
    name: `SAB ring floor x${n}`,
    group,
    ...opts,
    fn: checked(() => ring.sum(n), expected, "SAB ring"),
  });
}

{
  const group = `npm peers, tiny jobs x${PEERS_N}`;
  const expected = expectedSum(PEERS_N);
  Deno.bench({
    name: `fastpool submit + wait() x${PEERS_N}`,
    group,
    ...MACRO,
    fn: checked(() => tinySubmit(fast, PEERS_N), expected, "fastpool submit"),
  });
  Deno.bench({
    name: `fastpool run + Promise.all x${PEERS_N}`,
    group,
    ...MACRO,
    fn: checked(() => tinyRunAll(fastRun, PEERS_N), expected, "fastpool run"),
  });
  Deno.bench({
    name: `plain pool x${PEERS_N}`,
    group,
    baseline: true,
    ...MACRO,
    fn: checked(() => tinyRunAll(plain, PEERS_N), expected, "plain pool"),
  });
  for (const pool of peerPools) {
    Deno.bench({
      name: `${pool.name} x${PEERS_N}`,
      group,
      ...SLOW,
      fn: checked(() => tinyRunAll(pool, PEERS_N), expected, pool.name),
    });
  }
}
