/**
 * Latency: sequential round trips, `await pool.run(x => x + 1)` one at a
 * time, fastpool against the plain pool (baseline), the SAB-ring floor
 * (both sides spin briefly) and the npm peers that run on this runtime.
 *
 *   deno bench -A bench/latency_bench.ts     (BENCH_QUICK=1 for fewer round trips)
 *
 * @module
 */

import {
  createFastpool,
  fastpoolRun,
  peers,
  plainRun,
  roundTrips,
  type RunPool,
  SabRing,
} from "./_designs.ts";
import { checked, closeOnUnload, SLOW } from "./_bench_util.ts";
import { poolSize, quick } from "./_env.ts";

const K = quick ? 1_000 : 10_000;
const group = `${K} sequential round trips`;

const fast = createFastpool(poolSize);
const plain = plainRun(poolSize);
const ring = new SabRing(poolSize, 16);
const spinning: RunPool = {
  name: "SAB ring floor (spin ≤ 0.2 ms)",
  run: (_task, x) => ring.roundTrip(x, 0.2),
  close: () => Promise.resolve(ring.close()),
};
const pools: RunPool[] = [fastpoolRun(fast), plain, spinning];
for (const peer of peers) {
  if (!peer.skip) pools.push(await peer.create(poolSize));
}
await ring.ready;
await Promise.all(pools.map((pool) => pool.run("add1", 0)));
closeOnUnload(...pools.map((pool) => () => pool.close()));

for (const pool of pools) {
  Deno.bench({
    name: `${pool.name} x${K}`,
    group,
    baseline: pool === plain,
    ...SLOW,
    fn: checked(() => roundTrips(pool, K), K, pool.name),
  });
}
