/**
 * Scenario 2, latency: sequential round trips (`await pool.run(x => x + 1)` one at a time),
 * fastpool with its shared lane and without (`sharedLane: false`: every job a message).
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
} from "../_designs.ts";
import { poolSize } from "../_env.ts";
import { count } from "../_measure.ts";
import { calibrate, print, results, ROUND_TRIPS, type Row, sized, withPeer } from "../_runner.ts";

/** Runs the scenario and prints its table. */
export async function latency(): Promise<void> {
  const rows: Row[] = [];
  const one = async (key: string, pool: RunPool, api = "await run(), one at a time") => {
    await pool.run("add1", 0);
    const estimate = await calibrate((k) => roundTrips(pool, k), 200);
    await sized(
      `lat:${key}`,
      pool.name,
      api,
      ROUND_TRIPS,
      (k) => roundTrips(pool, k),
      (k) => k,
      estimate,
      rows,
      { maxSamples: 5 },
    );
  };
  {
    const pool = createFastpool(poolSize);
    await one("fastpool", fastpoolRun(pool));
    await pool.shutdown();
  }
  {
    const pool = createFastpool(poolSize, false);
    await one("fastpool-messages", fastpoolRun(pool, "fastpool, sharedLane: false"));
    await pool.shutdown();
  }
  {
    const pool = plainRun(poolSize);
    await one("plain", pool);
    await pool.close();
  }
  {
    const ring = new SabRing(poolSize, 16);
    await ring.ready;
    const spinning: RunPool = {
      name: "SAB ring (floor)",
      run: (_task, x) => ring.roundTrip(x, 0.2),
      close: () => Promise.resolve(ring.close()),
    };
    await one("sab", spinning, "both sides spin ≤ 0.2 ms, then sleep");
    ring.close();
  }
  for (const peer of peers) {
    await withPeer(
      peer,
      rows,
      "await run(), one at a time",
      ROUND_TRIPS,
      (pool) => one(`peer:${peer.name}`, pool),
    );
  }
  print(
    `2. Latency: ${
      count(ROUND_TRIPS)
    } sequential round trips (await pool.run(x => x + 1) one at a time), ${poolSize} workers`,
    rows,
    "µs/round trip",
    results.get("lat:fastpool"),
  );
}
