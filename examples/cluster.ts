/**
 * Beyond one machine: the task module's named tasks on a `ClusterPool`,
 * through BullMQ on Redis. The producer's code is `Pool`'s; only the
 * constructor line changes.
 *
 *     REDIS_URL=redis://127.0.0.1:6379 deno run -A examples/cluster.ts
 *     REDIS_URL=redis://127.0.0.1:6379 bun examples/cluster.ts
 *
 * On real machines, each runs a node on the command line instead of the
 * `serve()` below:
 *
 *     deno run -A jsr:@fastpool/fastpool/cluster/node --redis redis://10.0.0.5:6379 --queue primes --module ./_tasks.ts
 *     bun <checkout>/src/cluster/node.ts --redis redis://10.0.0.5:6379 --queue primes --module ./_tasks.ts
 *
 * Without `REDIS_URL`, this demo starts a throwaway `redis-server` if one is
 * installed (and says so and stops if not).
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { ClusterPool, serve } from "../src/cluster/mod.ts";
import { type RangeCount, splitRange } from "./_tasks.ts";

const redis = await redisForThisDemo();
if (redis === undefined) {
  console.log("cluster: skipped: no Redis (apt-get install redis-server, or set REDIS_URL)");
  process.exit(0);
}
const queue = `examples-${crypto.randomUUID().slice(0, 8)}`;

// A node: a BullMQ worker whose chunks run on a local Pool of 2 workers.
const node = await serve({
  connection: redis.url,
  queue,
  module: new URL("./_tasks.ts", import.meta.url),
  maxChildren: 2,
});

{
  // Was: new Pool<typeof import("./_tasks.ts")>({ module: new URL("./_tasks.ts", import.meta.url) })
  await using pool = new ClusterPool<typeof import("./_tasks.ts")>({
    connection: redis.url,
    queue,
  });

  // run(): one item there and back.
  console.log(`run("fib", 25) = ${await pool.run("fib", 25)}`);

  // map(): 100,000 items travel as a few chunks, not 100,000 BullMQ jobs.
  const t0 = performance.now();
  pool.map("isPrime", Array.from({ length: 100_000 }, (_, i) => i));
  let primes = 0;
  for await (const isPrime of pool.asCompleted()) if (isPrime === true) primes++;
  console.log(`${primes} primes below 100,000 in ${(performance.now() - t0).toFixed(0)} ms`);

  // submit() with objects (JSON-safe values cross), results in done.
  for (const range of splitRange(200_000, 4)) pool.submit("countPrimes", range);
  await pool.wait();
  const counts = [...pool.done] as RangeCount[];
  console.log(`countPrimes over 4 ranges: ${counts.reduce((sum, c) => sum + c.primes, 0)}`);

  // A queue never carries code: an inline function is refused at once.
  try {
    // @ts-expect-error: only the module's export names are tasks
    pool.submit((n: number) => n * 2, 21);
  } catch (error) {
    console.log(`inline function refused: ${(error as Error).constructor.name}`);
  }
}

await node.close();
await redis.stop();
console.log("cluster: done");

/** `REDIS_URL`, or a throwaway `redis-server` on a free port, or nothing. */
async function redisForThisDemo(): Promise<
  { url: string; stop(): Promise<void> } | undefined
> {
  const url = process.env.REDIS_URL;
  if (url) return { url, stop: async () => {} };
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 6379));
    });
  });
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "ignore"] });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const ready = await new Promise<boolean>((resolve) => {
    child.on("error", () => resolve(false));
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("Ready to accept connections")) resolve(true);
    });
    child.on("close", () => resolve(false));
  });
  if (!ready) return undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
