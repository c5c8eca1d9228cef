/**
 * What `ClusterPool.cancel(id)` one item at a time costs, against one
 * `cancel()` of the same items at once, in one run (its own `redis-server`):
 *
 * 1. **Backlog**: a `map` of `n` items with no node yet (the task's probe
 *    chunk waits in Redis, the rest here), cancelled newest first.
 * 2. **A chunk in Redis**: the same after a node ran the task and left, so
 *    the sizer cut large chunks that no node takes, cancelled oldest first.
 *
 * Each case is timed on a fresh pool and queue; the table gives ms for the
 * whole run of cancels and µs per item, and one by one ÷ all at once.
 *
 *   deno run -A bench/cluster_cancel.ts [n]
 *   bun bench/cluster_cancel.ts [n]
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a benchmark prints its table
import process from "node:process";
import { Queue } from "bullmq";
import { ClusterPool } from "../src/cluster/mod.ts";
import { queueName, Redis, startNode } from "../tests/cluster/_harness.ts";
import { runtime } from "./_env.ts";

type Tasks = typeof import("../tests/fixtures/cluster_tasks.ts");

const n = Number(process.argv.at(-1)) > 0 ? Number(process.argv.at(-1)) : 20_000;

await using redis = await Redis.start();

/** A pool on a fresh queue holding `n` queued items; `taught`: a node ran the task first. */
async function queuedPool(
  taught: boolean,
): Promise<{ pool: ClusterPool<Tasks>; first: number; inRedis: number }> {
  const queue = queueName("cancel-bench");
  const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
  let ran = 0; // ids count up from 1 per pool: the map's are the n after these
  if (taught) {
    await using _node = await startNode(redis, queue, {});
    for (let round = 0; round < 5; round++, ran += 2_000) {
      await Promise.all(Array.from({ length: 2_000 }, (_, i) => pool.run("inc", i)));
    }
  }
  pool.map("inc", Array.from({ length: n }, (_, i) => i));
  const url = new URL(redis.url);
  const raw = new Queue(queue, { connection: { host: url.hostname, port: Number(url.port) } });
  try {
    // The chunks cut now reach Redis; wait until they are all there.
    let inRedis = 0;
    for (let tries = 0; tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const jobs = await raw.getWaiting();
      const now = jobs.reduce((sum, job) => sum + (job.data.items as unknown[]).length, 0);
      if (now === inRedis && now > 0) break;
      inRedis = now;
    }
    return { pool, first: ran + 1, inRedis };
  } finally {
    await raw.close();
  }
}

const rows: string[][] = [];
for (
  const [name, taught, newestFirst] of [
    ["backlog, newest first", false, true],
    ["a chunk in Redis, oldest first", true, false],
  ] as const
) {
  const times: number[] = [];
  let inRedis = 0;
  for (const oneByOne of [true, false]) {
    const queued = await queuedPool(taught);
    inRedis = queued.inRedis;
    const { pool, first } = queued;
    const t0 = performance.now();
    if (oneByOne) {
      for (let k = 0; k < n; k++) pool.cancel(newestFirst ? first + n - 1 - k : first + k);
    } else {
      pool.cancel();
    }
    times.push(performance.now() - t0);
    if (pool.pending !== 0) throw new Error(`${pool.pending} items still pending`);
    await pool.shutdown(2_000);
  }
  const [one, all] = times as [number, number];
  rows.push([
    `${name} (${inRedis.toLocaleString("en")} in Redis)`,
    one.toFixed(1),
    ((one * 1000) / n).toFixed(2),
    all.toFixed(1),
    (one / all).toFixed(1),
  ]);
}

console.log(`${runtime}: cancel ${n.toLocaleString("en")} queued ClusterPool items\n`);
console.log("| case | one by one, ms | µs/item | all at once, ms | ÷ |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
