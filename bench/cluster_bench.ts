/**
 * The cluster, side by side with what it is measured against, in one run:
 *
 * 1. Tiny items (`inc`, `x => x + 1` as a named task): 1,000,000 through
 *    `ClusterPool.map` on 2 local nodes (child processes, 1 worker each),
 *    against one BullMQ job per item (the anchor, on 2,000 jobs: `addBulk`,
 *    a plain BullMQ `Worker` in this process with concurrency 16, completion
 *    counted from `QueueEvents`) and against a local `Pool.map` of 2 workers.
 * 2. CPU-bound items (`fib(25)`): 2 nodes × 1 worker against a local Pool of 2.
 * 3. Latency of one `await cluster.run()` round trip against one bare BullMQ
 *    job (`add` + `waitUntilFinished`, plain worker in this process).
 * 4. The scaling model's inputs: Redis commands and Redis CPU time (from
 *    `INFO commandstats`) per chunk and per plain BullMQ job, and
 *    `redis-benchmark`'s operations per second on this machine.
 *
 *     deno run -A bench/cluster_bench.ts
 *     bun bench/cluster_bench.ts
 *
 * Starts its own `redis-server` (or uses `REDIS_URL`). `--quick` runs
 * smaller sizes.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a benchmark prints its table
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import process from "node:process";
import { Queue, QueueEvents, Worker } from "bullmq";
import { ClusterPool } from "../src/cluster/mod.ts";
import { Pool } from "../src/pool/pool.ts";
import { queueName, Redis, startNode, tasksUrl, thisRuntime } from "../tests/cluster/_harness.ts";

type Tasks = typeof import("../tests/fixtures/cluster_tasks.ts");

const quick = process.argv.includes("--quick") ||
  (globalThis as { Deno?: { args: string[] } }).Deno?.args.includes("--quick") === true;
const TINY = quick ? 200_000 : 1_000_000;
const ANCHOR_JOBS = quick ? 500 : 2_000;
const FIB_N = 25;
const FIB_ITEMS = quick ? 300 : 1_500;
const LATENCY_RUNS = quick ? 50 : 200;
const SAMPLES = quick ? 1 : 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const version = (globalThis as { Bun?: { version: string } }).Bun?.version ??
  (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno;

await using redis = await Redis.start();
const url = new URL(redis.url);
const connection = { host: url.hostname, port: Number(url.port || 6379) };
console.log(
  `cluster bench: ${thisRuntime} ${version}, ${
    cpus()[0]?.model ?? "cpu"
  } × ${navigator.hardwareConcurrency}, Redis at ${redis.url} (${redisVersion()}), ${SAMPLES} sample(s), medians`,
);

const queue = queueName("bench");
await using _a = await startNode(redis, queue, { maxChildren: 1 });
await using _b = await startNode(redis, queue, { maxChildren: 1 });
const cluster = new ClusterPool<Tasks>({ connection: redis.url, queue });
const local = new Pool<Tasks>({ module: tasksUrl, maxChildren: 2, minChildren: 2 });

// ------------------------------------------------------------ tiny items
const items = Array.from({ length: TINY }, (_, i) => i);
async function mapOn(pool: ClusterPool<Tasks> | Pool<Tasks>): Promise<number> {
  const t0 = performance.now();
  (pool as ClusterPool<Tasks>).map("inc", items);
  await pool.wait();
  const ms = performance.now() - t0;
  if (pool.done.length !== TINY) throw new Error(`${pool.done.length} results of ${TINY}`);
  let sum = 0;
  for (const value of pool.done) sum += value as number;
  if (sum !== (TINY * (TINY + 1)) / 2) throw new Error(`wrong results: sum ${sum}`);
  pool.done.clear();
  while (pool.doneCount.tryAcquire());
  return ms;
}
await mapOn(cluster); // warm-up: the probe, chunk sizes, JIT
await mapOn(local);
// Chunks completed while sampling, counted from the queue's events.
const watch = new QueueEvents(queue, { connection });
await watch.waitUntilReady();
let chunks = 0;
const countChunk = () => void chunks++;
watch.on("completed", countChunk);
const clusterMs: number[] = [];
const localMs: number[] = [];
// Alternating, so a neighbour's load falls on both sides alike; Redis's
// counters cover the cluster's samples only (nothing else uses it then).
const redisWork: Stats = { calls: 0, scripts: 0, cpu: 0 };
const itemsBefore = itemsRun();
for (let s = 0; s < SAMPLES; s++) {
  const a = await redisStats();
  clusterMs.push(await mapOn(cluster));
  const b = await redisStats();
  redisWork.calls += b.calls - a.calls;
  redisWork.scripts += b.scripts - a.scripts;
  redisWork.cpu += b.cpu - a.cpu;
  localMs.push(await mapOn(local));
}
const before: Stats = { calls: 0, scripts: 0, cpu: 0 };
const after = redisWork;
const clusterItems = itemsRun() - itemsBefore;
watch.off("completed", countChunk);
await watch.close();
const clusterUs = (median(clusterMs) * 1000) / TINY;
const localUs = (median(localMs) * 1000) / TINY;
const perChunk = perUnit(before, after, Math.max(1, chunks));

// The anchor: one BullMQ job per item (after the cluster's samples: the
// stats above are the cluster's alone).
const anchor = await oneJobPerItem(ANCHOR_JOBS);

// --------------------------------------------------------------- CPU-bound
const fibItems = Array.from({ length: FIB_ITEMS }, () => FIB_N);
async function fibOn(pool: ClusterPool<Tasks> | Pool<Tasks>): Promise<number> {
  const t0 = performance.now();
  (pool as ClusterPool<Tasks>).map("fib", fibItems);
  await pool.wait();
  const ms = performance.now() - t0;
  if (pool.done.length !== FIB_ITEMS || pool.done.at(0) !== 75025) throw new Error("fib results");
  pool.done.clear();
  while (pool.doneCount.tryAcquire());
  return ms;
}
await fibOn(cluster); // warm-up: measures fib's run time for chunk sizes
const fibCluster: number[] = [];
const fibLocal: number[] = [];
for (let s = 0; s < SAMPLES; s++) {
  fibLocal.push(await fibOn(local));
  fibCluster.push(await fibOn(cluster));
}
const fibRatio = median(fibLocal) / median(fibCluster);

// ----------------------------------------------------------------- latency
const runUs: number[] = [];
for (let i = 0; i < LATENCY_RUNS; i++) {
  const t0 = performance.now();
  if ((await cluster.run("inc", i)) !== i + 1) throw new Error("run result");
  runUs.push((performance.now() - t0) * 1000);
}
const bare = await bareJobLatency(LATENCY_RUNS);

const opsPerSecond = redisBenchmark();
await cluster.shutdown();
await local.shutdown();

const rows: string[][] = [
  [
    `ClusterPool.map ${count(TINY)} × inc, 2 nodes × 1 worker`,
    `${fmt(clusterUs)} µs/item`,
    `target ≤ 2 µs: ${clusterUs <= 2 ? "met" : "missed"}`,
  ],
  [
    `one BullMQ job per item (${count(ANCHOR_JOBS)} jobs, worker concurrency 16)`,
    `${fmt(anchor.us)} µs/job`,
    `ClusterPool: ${fmt(anchor.us / clusterUs)}× cheaper per item (target ≥ 250×)`,
  ],
  [
    `local Pool.map ${count(TINY)} × inc, 2 workers`,
    `${fmt(localUs)} µs/item`,
    `ClusterPool: ${fmt(clusterUs / localUs)}× local's cost (target ≤ 10×)`,
  ],
  [
    `fib(${FIB_N}) × ${count(FIB_ITEMS)}: ClusterPool 2 nodes × 1 / local Pool of 2`,
    `${fmt(median(fibCluster))} ms / ${fmt(median(fibLocal))} ms`,
    `${fmt(fibRatio)}× local throughput (target ≥ 0.9×)`,
  ],
  [
    `latency: await cluster.run("inc"), ${LATENCY_RUNS} runs`,
    `${fmt(median(runUs))} µs`,
    `bare BullMQ job (add + waitUntilFinished): ${fmt(bare)} µs`,
  ],
  [
    `Redis per chunk (${count(chunks)} chunks, ${
      count(Math.round(clusterItems / Math.max(1, chunks)))
    } items each)`,
    `${fmt(perChunk.calls)} commands (${fmt(perChunk.scripts)} scripts), ${
      fmt(perChunk.usec)
    } µs Redis CPU`,
    `Redis saturates at ~${count(Math.round(1e6 / perChunk.usec))} chunks/s`,
  ],
  [
    "Redis per plain BullMQ job",
    `${fmt(anchor.stats.calls)} commands (${fmt(anchor.stats.scripts)} scripts), ${
      fmt(anchor.stats.usec)
    } µs Redis CPU`,
    `Redis saturates at ~${count(Math.round(1e6 / anchor.stats.usec))} jobs/s`,
  ],
  ["redis-benchmark -q -t set,get,lpush,zadd", opsPerSecond, "requests per second"],
];
console.log(table(["scenario", "figure", "ratio / note"], rows));

// ------------------------------------------------------------------ helpers

function itemsRun(): number {
  let n = 0;
  for (const items of cluster.nodes.values()) n += items;
  return n;
}

/** µs per job for `n` one-item BullMQ jobs, and Redis's work per job. */
async function oneJobPerItem(n: number): Promise<{ us: number; stats: PerUnit }> {
  const name = queueName("anchor");
  const q = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const worker = new Worker(name, (job) => Promise.resolve(job.data.x + 1), {
    connection,
    concurrency: 16,
  });
  await Promise.all([events.waitUntilReady(), worker.waitUntilReady(), q.waitUntilReady()]);
  const samples: number[] = [];
  let stats: PerUnit = { calls: 0, scripts: 0, usec: 0 };
  try {
    for (let s = 0; s <= SAMPLES; s++) {
      const statsBefore = await redisStats();
      let seen = 0;
      const allDone = new Promise<void>((resolve) => {
        const onDone = () => {
          if (++seen === n) {
            events.off("completed", onDone);
            resolve();
          }
        };
        events.on("completed", onDone);
      });
      const t0 = performance.now();
      await q.addBulk(
        Array.from({ length: n }, (_, i) => ({
          name: "inc",
          data: { x: i },
          opts: { removeOnComplete: true },
        })),
      );
      await allDone;
      const us = ((performance.now() - t0) * 1000) / n;
      if (s > 0) samples.push(us); // the first warms up
      stats = perUnit(statsBefore, await redisStats(), n);
    }
  } finally {
    await worker.close();
    await events.close();
    await q.close();
  }
  return { us: median(samples), stats };
}

/** Median µs of one `add` + `waitUntilFinished` with a plain worker. */
async function bareJobLatency(n: number): Promise<number> {
  const name = queueName("bare");
  const q = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const worker = new Worker(name, (job) => Promise.resolve(job.data.x + 1), { connection });
  await Promise.all([events.waitUntilReady(), worker.waitUntilReady(), q.waitUntilReady()]);
  const us: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      // Kept on completion: with removeOnComplete, waitUntilFinished can find
      // the job gone ("Missing key … isFinished") when it finishes first.
      const job = await q.add("inc", { x: i });
      if ((await job.waitUntilFinished(events)) !== i + 1) throw new Error("bare result");
      us.push((performance.now() - t0) * 1000);
    }
  } finally {
    await worker.close();
    await events.close();
    await q.obliterate({ force: true });
    await q.close();
  }
  return median(us);
}

/** Redis's own counters: commands run (those scripts run included), scripts, CPU seconds. */
interface Stats {
  calls: number;
  scripts: number;
  cpu: number;
}

interface PerUnit {
  calls: number;
  scripts: number;
  usec: number;
}

async function redisStats(): Promise<Stats> {
  const q = new Queue("stats", { connection });
  try {
    const client = (await q.client) as unknown as { info(section: string): Promise<string> };
    const text = `${await client.info("commandstats")}\n${await client.info("cpu")}`;
    let calls = 0;
    let scripts = 0;
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (m[1] === "info") continue;
      calls += Number(m[2]);
      if (/^(evalsha|eval|fcall)$/.test(m[1]!)) scripts += Number(m[2]);
    }
    const user = Number(/used_cpu_user:([\d.]+)/.exec(text)?.[1] ?? 0);
    const sys = Number(/used_cpu_sys:([\d.]+)/.exec(text)?.[1] ?? 0);
    return { calls, scripts, cpu: user + sys };
  } finally {
    await q.close();
  }
}

/** Commands, scripts and µs of Redis CPU per unit between two readings. */
function perUnit(a: Stats, b: Stats, units: number): PerUnit {
  return {
    calls: (b.calls - a.calls) / units,
    scripts: (b.scripts - a.scripts) / units,
    usec: ((b.cpu - a.cpu) * 1e6) / units,
  };
}

function redisVersion(): string {
  try {
    return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).split(" ")[2] ?? "";
  } catch {
    return "version unknown";
  }
}

function redisBenchmark(): string {
  try {
    const out = execFileSync("redis-benchmark", [
      "-h",
      connection.host,
      "-p",
      String(connection.port),
      "-q",
      "-n",
      quick ? "50000" : "200000",
      "-t",
      "set,get,lpush,zadd",
    ], { encoding: "utf8" });
    return out.split(/[\r\n]/).map((line) => line.trim())
      .filter((line) => /requests per second/.test(line))
      .map((line) => line.replace(/: ([\d.]+) requests per second.*/, " $1")).join(", ");
  } catch (error) {
    return `redis-benchmark failed: ${(error as Error).message}`;
  }
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function table(header: string[], body: string[][]): string {
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)]
    .join("\n");
}
