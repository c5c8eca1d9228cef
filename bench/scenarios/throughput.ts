/**
 * Scenario 1, throughput: tiny jobs submitted at once, all results collected, every design side by side.
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
  SabRing,
  tinyCoalesced,
  tinyMap,
  tinyRunAll,
  tinySubmit,
} from "../_designs.ts";
import { poolSize, quick } from "../_env.ts";
import { count } from "../_measure.ts";
import { calibrate, print, results, type Row, sized, SIZES, withPeer } from "../_runner.ts";

/** Runs the scenario and prints its table. */
export async function throughput(): Promise<void> {
  const bySize = new Map<number, Row[]>(SIZES.map((n) => [n, []]));
  const calN = quick ? 2_000 : 5_000;
  const sizes = async (
    name: string,
    api: string,
    fn: (n: number) => Promise<number>,
    estimate0: number,
    expected: (n: number) => number = expectedSum,
  ) => {
    let estimate = estimate0;
    for (const [i, n] of SIZES.entries()) {
      estimate = await sized(
        `tp:${n}:${name}:${api}`,
        name,
        api,
        n,
        fn,
        expected,
        estimate,
        bySize.get(n)!,
        { shrink: i === 0, maxSamples: 50 },
      );
    }
  };

  {
    const pool = createFastpool(poolSize);
    await pool.run(add1Inline, 0);
    await sizes(
      "fastpool",
      "submit + wait()",
      (n) => tinySubmit(pool, n),
      await calibrate((n) => tinySubmit(pool, n), calN),
    );
    await sizes(
      "fastpool",
      "run + Promise.all",
      (n) => tinyRunAll(fastpoolRun(pool), n),
      await calibrate((n) => tinyRunAll(fastpoolRun(pool), n), calN),
    );
    const items = Array.from({ length: SIZES[SIZES.length - 1]! }, (_, i) => i);
    const mapN = (n: number) => tinyMap(pool, n === items.length ? items : items.slice(0, n));
    await sizes("fastpool", "map + wait()", mapN, await calibrate(mapN, calN));
    await pool.shutdown();
  }
  {
    const pool = plainRun(poolSize);
    await sizes(
      "plain pool",
      "run + Promise.all",
      (n) => tinyRunAll(pool, n),
      await calibrate((n) => tinyRunAll(pool, n), calN),
    );
    await pool.close();
  }
  for (const typed of [false, true]) {
    const pool = new CoalescedPool(poolSize, typed);
    const name = typed ? "coalesced (Float64Array)" : "coalesced (Array)";
    await sizes(
      name,
      "submit + wait()",
      (n) => tinyCoalesced(pool, n),
      await calibrate((n) => tinyCoalesced(pool, n), calN),
    );
    pool.close();
  }
  {
    const ring = new SabRing(poolSize, SIZES[SIZES.length - 1]!);
    await ring.ready;
    await sizes(
      "SAB ring (floor)",
      "indices via SAB",
      (n) => ring.sum(n),
      await calibrate((n) => ring.sum(n), calN),
    );
    ring.close();
  }
  for (const peer of peers) {
    await withPeer(peer, bySize.get(SIZES[0]!)!, "run + Promise.all", SIZES[0]!, async (pool) => {
      await pool.run("add1", 0);
      const estimate = await calibrate((n) => tinyRunAll(pool, n), quick ? 1_000 : 2_000);
      await sizes(peer.name, "run + Promise.all", (n) => tinyRunAll(pool, n), estimate);
    });
  }
  for (const n of SIZES) {
    const rows = bySize.get(n)!;
    print(
      `1. Throughput: ${
        count(n)
      } tiny jobs (x => x + 1) submitted at once, all results collected, ${poolSize} workers`,
      rows,
      "µs/job",
      results.get(`tp:${n}:fastpool:submit + wait()`),
    );
  }
}
