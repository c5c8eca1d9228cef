/**
 * A cluster task whose items are slow from the first: `n` items of
 * `later(x, ms)` (each waits `ms`) as one `map` on 2 nodes of 1 worker each
 * (one chunk at a time per node), against the floor of `n × ms ÷ 2`. The
 * task's first chunk is its probe (16 items, on one node); how soon the
 * other node gets work decides the rest. Its own `redis-server`; each run on
 * a fresh queue, 3 runs, median.
 *
 *   deno run -A bench/cluster_slow_items.ts [n] [ms]
 *   bun bench/cluster_slow_items.ts [n] [ms]
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a benchmark prints its table
import { ClusterPool } from "../src/cluster/mod.ts";
import { queueName, Redis, startNode } from "../tests/cluster/_harness.ts";
import { args, runtime } from "./_env.ts";

type Tasks = typeof import("../tests/fixtures/cluster_tasks.ts");

const n = Number(args[0] ?? 48);
const ms = Number(args[1] ?? 100);
const NODES = 2;

await using redis = await Redis.start();

async function once(): Promise<number> {
  const queue = queueName("slow-items");
  await using _a = await startNode(redis, queue, { concurrency: 1 });
  await using _b = await startNode(redis, queue, { concurrency: 1 });
  await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => pool.run("later", i, ms)));
  return performance.now() - t0;
}

const times: number[] = [];
for (let round = 0; round < 3; round++) times.push(await once());
const median = times.sort((a, b) => a - b)[1]!;
const floor = (n * ms) / NODES;
console.log(
  `${runtime}: ${n} items of ${ms} ms, ${NODES} nodes × 1 worker: ${median.toFixed(0)} ms ` +
    `(median of 3), ${(median / floor).toFixed(2)}× the floor of ${floor.toFixed(0)} ms`,
);
