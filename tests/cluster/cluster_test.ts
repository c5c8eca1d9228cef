/**
 * ClusterPool against a real Redis and real nodes (child processes of Deno
 * and Bun): the same named-task program gives the same results as on `Pool`;
 * retries, timeouts, cancel and shutdown.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClusterPool, RedisUnavailableError, serve } from "../../src/cluster/mod.ts";
import { Pool } from "../../src/pool/pool.ts";
import { QueueFullError, TaskTimeoutError } from "../../src/errors.ts";
import { PROBE_ITEMS } from "../../src/cluster/_sizer.ts";
import { MAX_JSON_CHARS } from "../../src/cluster/_wire.ts";
import {
  bounded,
  needsRedis,
  otherRuntime,
  queueName,
  Redis,
  startNode,
  tasksUrl,
  thisRuntime,
  watchQueue,
  withRedisClient,
} from "./_harness.ts";

type Tasks = typeof import("../fixtures/cluster_tasks.ts");

/** What both pools answer to: the named-task part of Pool's API. */
interface PoolLike {
  map(task: string, items: unknown[]): number;
  submit(task: string, ...args: unknown[]): number;
  run(task: string, ...args: unknown[]): Promise<unknown>;
  exec(task: string, args: unknown[], options?: { timeout?: number }): Promise<unknown>;
  asCompleted(): AsyncIterable<unknown>;
}

function show(value: unknown): string {
  if (value instanceof Error) {
    const cause = value.cause instanceof Error ? value.cause.message : String(value.cause);
    return `${value.constructor.name}(${value.message}; cause ${cause})`;
  }
  return JSON.stringify(value) ?? "undefined";
}

/** One program, written once against Pool's API. */
async function program(pool: PoolLike): Promise<unknown> {
  pool.map("inc", Array.from({ length: 2000 }, (_, i) => i));
  for (let i = 0; i < 50; i++) pool.submit("add", i, 2 * i);
  pool.submit("describePoint", { x: 1, y: 2 });
  pool.submit("count", 3); // a generator: one entry per value
  pool.submit("noop", 1); // undefined
  pool.submit("evenOnly", 3); // a failure, yielded by asCompleted()
  pool.submit("nope", 1); // not an export
  pool.submit("constructor", 1); // not an own export
  pool.submit("__proto__", 1);
  pool.submit("toString", 1);
  pool.submit("version"); // an export, but not a function
  const completed: string[] = [];
  for await (const entry of pool.asCompleted()) completed.push(show(entry));
  completed.sort();
  const odd: Error = await pool.run("evenOnly", 5).then(() => new Error("no error"), (e) => e);
  const quota: Error & { details?: unknown; retryAfter?: unknown } = await pool
    .run("failWithDetails").then(() => new Error("no error"), (e) => e);
  return {
    completed: completed.map((line) => line.replace(/file:\/\/\S+/, "MODULE")),
    run: await pool.run("fib", 15),
    generator: await pool.run("count", 4),
    exec: await pool.exec("add", [2, 3], { timeout: 10_000 }),
    object: await pool.run("describePoint", { x: 3, y: 4 }),
    undefinedResult: await pool.run("noop", 1),
    gaps: await pool.run("withGaps"), // [1, undefined, 3]
    quota: [quota instanceof RangeError, quota.name, quota.details, quota.retryAfter],
    odd: [
      odd.constructor.name,
      odd.message,
      (odd.cause as Error).message,
      /evenOnly/.test(odd.stack ?? ""),
    ],
  };
}

/** 0 … n-1, from an async source. */
async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

describe("ClusterPool with nodes", () => {
  it(
    "ClusterPool and serve() connect with a password; a wrong one is a RedisUnavailableError",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start({ password: "s3cret pass" });
      if (!redis.own) return t.skip("REDIS_URL is set: not starting a server with a password");
      const queue = queueName("auth");
      const secret = `redis://:${encodeURIComponent("s3cret pass")}@127.0.0.1:${redis.port}`;
      const node = await serve({ connection: secret, queue, module: tasksUrl, maxChildren: 1 });
      try {
        {
          const connection = { host: "127.0.0.1", port: redis.port, password: "s3cret pass" };
          await using pool = new ClusterPool<Tasks>({ connection, queue });
          assert.equal(await pool.run("inc", 1), 2);
        }
        const wrong = `redis://:wrong@127.0.0.1:${redis.port}`;
        const pool = new ClusterPool<Tasks>({ connection: wrong, queue, offlineTimeout: 0 });
        const error = await pool.run("inc", 1).catch((e) => e);
        assert.ok(error instanceof RedisUnavailableError, String(error));
        assert.match(error.message, /WRONGPASS|NOAUTH|invalid password/i);
        assert.doesNotMatch(error.message, /wrong@/);
        await pool.shutdown();
      } finally {
        await node.close();
      }
    },
  );

  it(
    "ClusterPool and serve() refuse a database Redis does not have, writing nothing to database 0",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: its server's databases are not known");
      const queue = queueName("no-db");
      const missing = `${redis.url}/99`; // a server has 16 unless configured
      const refused = { name: "RangeError", message: /has no database 99 \(ERR DB index/ };
      await assert.rejects(serve({ connection: missing, queue, module: tasksUrl }), refused);
      const pool = new ClusterPool<Tasks>({ connection: missing, queue });
      try {
        await assert.rejects(pool.run("inc", 1), refused);
        await assert.rejects(pool.run("inc", 2), refused); // for good, at once
        assert.equal(pool.failedCount.value, 0);
        pool.submit("inc", 3);
        await pool.failedCount.acquire();
        assert.match(String((pool.failed.shift() as Error).message), /has no database 99/);
      } finally {
        assert.equal(await pool.shutdown(5000), true);
      }
      assert.equal(await withRedisClient(redis, (client) => client.dbsize()), 0);
    },
  );

  it(
    "ClusterPool: a SELECT refused for another reason than the number (NOPERM) is not taken for a missing database",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not adding a user to someone else's server");
      await withRedisClient(
        redis,
        (client) =>
          client.call("ACL", "SETUSER", "limited", "on", ">pw", "~*", "&*", "+@all", "-select"),
      );
      const connection = `redis://limited:pw@127.0.0.1:${redis.port}/3`;
      await using pool = new ClusterPool<Tasks>({
        connection,
        queue: queueName("noperm"),
        offlineTimeout: 0,
      });
      const error = await pool.run("inc", 1).catch((e) => e);
      // Before: "has no database 3 (NOPERM …)", a RangeError, for good.
      assert.ok(error instanceof RedisUnavailableError, String(error));
      assert.match(error.message, /NOPERM/);
      assert.doesNotMatch(error.message, /has no database/);
    },
  );

  it(
    "ClusterPool's item run by a node started with another module fails naming that module",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("wrong-module");
      const other = new URL("../fixtures/tasks.ts", import.meta.url).href;
      const node = await serve({ connection: redis.url, queue, module: other, maxChildren: 1 });
      try {
        await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
        await assert.rejects(pool.run("inc", 1), {
          name: "TypeError",
          message:
            /^Cannot run task "inc": the pool's task module file:.*\/fixtures\/tasks\.ts has no such export$/,
        });
      } finally {
        await node.close();
      }
    },
  );

  it(
    `ClusterPool gives Pool's results for the same named-task program (a node on ${thisRuntime}, then one on ${otherRuntime})`,
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("parity");
      let local: unknown;
      {
        await using pool = new Pool<Tasks>({ module: tasksUrl, maxChildren: 2 });
        local = await program(pool as unknown as PoolLike);
      }
      // One runtime's node at a time: two nodes at once need not both take chunks
      // (one of them ran them all in 1 of 16 Bun runs).
      for (const runtime of [thisRuntime, otherRuntime]) {
        await using node = await startNode(redis, queue, { runtime });
        await using cluster = new ClusterPool<Tasks>({ connection: redis.url, queue });
        const remote = await program(cluster as unknown as PoolLike);
        assert.deepEqual(remote, local, `a node on ${runtime}`);
        assert.equal(cluster.pending, 0);
        assert.deepEqual(
          [...cluster.nodes.keys()],
          [node.id],
          `the ${runtime} node ran the chunks`,
        );
      }
    },
  );

  it(
    "ClusterPool.asCompleted(false) takes only the entries there at the call; asCompleted(ms) stops in the middle of a backlog",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("as-completed");
      await using _node = await startNode(redis, queue, {});
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      pool.map("inc", [1, 2]);
      assert.equal(await pool.wait(), true);
      const iterator = pool.asCompleted(false);
      pool.map("inc", [3, 4, 5]);
      assert.equal(await pool.wait(), true); // in done before the iterator's first step
      const now: unknown[] = [];
      for await (const entry of iterator) now.push(entry);
      assert.deepEqual(now.sort(), [2, 3]);
      assert.equal(pool.done.length, 3);
      // A consumer that holds the thread 100 ms an entry: no timer runs meanwhile.
      const seen: unknown[] = [];
      for await (const entry of pool.asCompleted(150)) {
        seen.push(entry);
        const until = performance.now() + 100;
        while (performance.now() < until) {
          // consuming
        }
      }
      assert.ok(seen.length >= 1 && seen.length < 3, `stopped at its deadline: ${seen.length}`);
      assert.equal(pool.done.length, 3 - seen.length);
    },
  );

  it(
    "ClusterPool sends a task's other items to idle nodes while its probe chunk runs on past its time",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("slow-probe");
      // One chunk at a time per node, on one worker: the probe holds its node.
      await using _a = await startNode(redis, queue, { concurrency: 1 });
      await using _b = await startNode(redis, queue, { concurrency: 1 });
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue, chunkTime: 20 });
      const settled: number[] = [];
      // The first PROBE_ITEMS items are the probe: 16 × 150 ms on one node.
      const n = PROBE_ITEMS + 2;
      const runs = Array.from(
        { length: n },
        (_, i) => pool.run("later", i, 150).then((value) => (settled.push(i), value)),
      );
      assert.deepEqual(await Promise.all(runs), Array.from({ length: n }, (_, i) => 2 * i));
      // Before, the last two waited for the probe's report (2.4 s), the other node idle.
      assert.ok(
        settled.indexOf(n - 1) < settled.indexOf(0),
        `the last items ended first on the other node: ${settled.join(" ")}`,
      );
      assert.equal(pool.nodes.size, 2, "both nodes ran chunks");
    },
  );

  it(
    "ClusterPool: attempts/backoff retry failed items on BullMQ; exhausted ones fail with the last error; taskTimeout",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("retry");
      await using _a = await startNode(redis, queue, { runtime: thisRuntime });
      await using _b = await startNode(redis, queue, { runtime: otherRuntime });
      {
        await using pool = new ClusterPool<Tasks>({
          connection: redis.url,
          queue,
          attempts: 3,
          backoff: { type: "fixed", delay: 10 },
          resultId: true,
        });
        // `flaky` fails the first time each worker sees a key: with two
        // one-worker nodes, the third attempt at the latest succeeds.
        const [a, b] = await Promise.all([pool.run("flaky", "a"), pool.run("flaky", "b")]);
        assert.equal(a, "ok a");
        assert.equal(b, "ok b");
        const ids = pool.map("evenOnly", [2, 3, 4]);
        assert.equal(ids, 3);
        await pool.wait();
        assert.deepEqual(([...pool.done] as [number, number][]).map(([, v]) => v).sort(), [2, 4]);
        const [, error] = [...pool.failed][0] as [number, RangeError];
        assert.ok(error instanceof RangeError);
        assert.equal(error.message, "odd: 3");
        assert.equal((error.cause as Error).message, "cause of 3");
      }
      {
        await using pool = new ClusterPool<Tasks>({
          connection: redis.url,
          queue,
          taskTimeout: 200,
        });
        const slow = pool.run("sleep", 60_000);
        await assert.rejects(
          slow,
          (error: Error) => error instanceof TaskTimeoutError && error.timeout === 200,
        );
        const ok = await pool.exec("sleep", [1], { timeout: 10_000 });
        assert.equal(ok, 1, "a per-call timeout overrides taskTimeout");
        // 0 and Infinity lift taskTimeout, as on Pool.
        assert.equal(await pool.exec("sleep", [400], { timeout: 0 }), 400);
        assert.equal(await pool.exec("sleep", [400], { timeout: Infinity }), 400);
      }
      {
        await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
        const error = await pool.exec("sleep", [60_000], { timeout: 150 }).catch((e) => e);
        assert.ok(error instanceof TaskTimeoutError);
        assert.equal(error.timeout, 150);
        const bad = await pool.run("badResult", 1).catch((e) => e);
        assert.ok(bad instanceof TypeError);
        assert.match(
          bad.message,
          /Cannot return result: it is not JSON-safe \(it is an instance of Map\)/,
        );
        // Past MAX_JSON_CHARS (on Deno, a string of 300 MB from a worker ended the node).
        const huge = await pool.run("bigString", MAX_JSON_CHARS + 1).catch((e) => e);
        assert.ok(huge instanceof TypeError);
        assert.match(huge.message, /it writes more than 134,217,728 characters of strings/);
        // A failure's strings are cut (on Deno, an error of 300 MB ended the node; on Bun,
        // Redis refused it and the item failed with its protocol error instead).
        const long = await pool.run("throwLong", 1_000_000).catch((e) => e);
        assert.ok(long instanceof RangeError, String(long).slice(0, 200));
        assert.match(long.message, /^y{16384}… \[983,616 characters cut\]$/);
        assert.ok(long.stack!.length < 2 ** 16, `a stack of ${long.stack!.length}`);
        assert.equal(await pool.run("inc", 1), 2, "the node goes on");
      }
    },
  );

  it(
    "ClusterPool.cancel() while chunks are queued and running: every item ends once",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("cancel");
      await using _node = await startNode(redis, queue, { concurrency: 1 });
      const cancelled: number[] = [];
      await using pool = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        chunkTime: 5,
        cancelledCallback: (id) => cancelled.push(id),
      });
      const n = 60;
      const outcomes = new Map<number, string>();
      const promises = Array.from({ length: n }, (_, i) =>
        pool.run("later", i, 10).then(
          (value) => outcomes.set(i, `done ${value}`),
          (error: Error) => outcomes.set(i, error.name),
        ));
      // The probe chunk's results arrive together: by then later chunks are
      // in Redis (one running) and the rest still here.
      await promises[0];
      assert.ok(pool.queued > 0, "items still queued");
      assert.equal(pool.cancel(), true);
      assert.equal(pool.queued, 0);
      await Promise.all(promises);
      assert.equal(await pool.wait(), true);
      assert.equal(outcomes.size, n);
      let done = 0;
      for (const [i, outcome] of outcomes) {
        if (outcome === "AbortError") continue;
        assert.equal(outcome, `done ${2 * i}`);
        done++;
      }
      assert.equal(cancelled.length, n - done, "each cancelled item reported once");
      assert.equal(new Set(cancelled).size, cancelled.length);
      assert.ok(
        done >= 16 && cancelled.length >= 16,
        `${done} done, ${cancelled.length} cancelled`,
      );
      assert.equal(pool.cancel(), false, "nothing left to cancel");

      // exec()'s signal: queued behind a running item, then aborted.
      const busy = pool.run("later", 1, 200);
      const controller = new AbortController();
      const aborted = pool.exec("later", [2, 1], { signal: controller.signal });
      controller.abort(new Error("no longer needed"));
      await assert.rejects(aborted, /no longer needed/);
      assert.equal(await busy, 2);
      assert.equal(await pool.wait(), true);
      assert.equal(pool.pending, 0);
      await assert.rejects(
        pool.exec("inc", [1], { signal: AbortSignal.abort(new Error("already")) }),
        /already/,
      );
      // Aborted by an argument's getter as the call copies it (the check of the arguments
      // read it once before): before, the item ran to its end.
      const during = new AbortController();
      let reads = 0;
      const argument = {
        get n() {
          if (++reads === 2) during.abort(new Error("aborted while copied"));
          return 1;
        },
      };
      await assert.rejects(
        pool.exec("inc", [argument as unknown as number], { signal: during.signal }),
        /aborted while copied/,
      );
      assert.equal(pool.pending, 0);
    },
  );

  it(
    "ClusterPool.shutdown() runs queued items, or with { soon } cancels them, then refuses submits",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("shutdown");
      await using _node = await startNode(redis, queue, { runtime: otherRuntime });
      {
        const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
        pool.map("later", [1, 2, 3, 4]);
        assert.equal(await pool.shutdown(), true);
        assert.deepEqual([...pool.done].sort(), [2, 4, 6, 8]);
        assert.throws(() => pool.submit("inc", 1), /pool is closed/);
      }
      {
        const cancelled: number[] = [];
        const pool = new ClusterPool<Tasks>({
          connection: redis.url,
          queue,
          chunkTime: 5,
          cancelledCallback: (id) => cancelled.push(id),
          resultId: true,
        });
        const n = pool.map("later", Array.from({ length: 60 }, (_, i) => i));
        await pool.doneCount.acquire();
        assert.equal(await pool.shutdown(undefined, { soon: true }), true);
        const done = [...pool.done] as [number, number][];
        assert.equal(done.length + cancelled.length, n);
        assert.ok(cancelled.length > 0);
        for (const [id, value] of done) assert.equal(value, 2 * (id - 1));
        assert.equal(new Set([...done.map(([id]) => id), ...cancelled]).size, n);
      }
    },
  );

  it(
    "ClusterPool: done true goes to doneCallback when the pool has one, as every result without a callback of its own",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("done-true");
      await using _node = await startNode(redis, queue, {});
      const seen: unknown[] = [];
      await using pool = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        doneCallback: (value) => seen.push(value),
      });
      pool.submitDone("inc", true, 1); // before: to done, past doneCallback
      pool.map("inc", [2, 3], true);
      pool.map("inc", [4]);
      pool.submitDone("inc", false, 5);
      assert.equal(await pool.wait(20_000), true);
      assert.deepEqual(seen.sort(), [2, 3, 4, 5]);
      assert.equal(pool.done.length, 0);
    },
  );

  it(
    "ClusterPool.map() takes an async iterable: reads it, queues its items and resolves to their count; past maxQueue, QueueFullError",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("map-async");
      await using _node = await startNode(redis, queue, {});
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue, maxQueue: 10 });
      // Before: TypeError "must be iterable, received object".
      assert.equal(await pool.map("inc", numbers(5)), 5);
      assert.equal(await pool.wait(20_000), true);
      assert.deepEqual([...pool.done].sort(), [1, 2, 3, 4, 5]);
      let read = 0;
      let closed = false;
      async function* endless(): AsyncGenerator<number> {
        try {
          for (;;) {
            if (++read > 1000) throw new Error("read too far");
            yield read;
          }
        } finally {
          closed = true;
        }
      }
      await assert.rejects(pool.map("inc", endless()), QueueFullError);
      assert.equal(read, 11, "read no further than the room in the queue, plus one");
      assert.ok(closed, "the source is closed");
      assert.equal(pool.pending, 0);
      assert.throws(() => pool.map("inc", 5 as never), {
        name: "TypeError",
        message: 'Cannot map: "iterable" must be iterable or async iterable, received 5',
      });
      assert.throws(() => pool.map("inc", {} as never), /async iterable, received an object$/);
    },
  );

  it(
    "ClusterPool.collect() resolves to the results in input order, or rejects with the first failure by input order once every item has ended",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("collect");
      await using _node = await startNode(redis, queue, {});
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue, maxQueue: 100 });
      assert.deepEqual(await pool.collect("inc", [1, 2, 3]), [2, 3, 4]); // before: not a function
      assert.deepEqual(await pool.collect("count", [2, 0, 3]), [[0, 1], [], [0, 1, 2]]);
      assert.deepEqual(await pool.collect("inc", numbers(4)), [1, 2, 3, 4]);
      assert.deepEqual(await pool.collect("inc", []), []);
      const failure = await pool.collect("evenOnly", [2, 5, 4, 3]).then(() => null, (e) => e);
      assert.ok(failure instanceof RangeError);
      assert.equal(failure.message, "odd: 5");
      assert.equal(pool.pending, 0, "every item had ended");
      const many = Array.from({ length: 101 }, (_, i) => i);
      await assert.rejects(pool.collect("inc", many), QueueFullError);
      await assert.rejects(pool.collect("inc", numbers(101)), QueueFullError);
      assert.equal(pool.pending, 0, "refused as a whole: none queued");
      assert.equal(pool.done.length + pool.failed.length, 0, "results go to the promise only");
    },
  );

  it(
    "ClusterPool.map() and run() send items that together pass CHUNK_CHARS of JSON in separate chunks",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("chunk-chars");
      await using watched = await watchQueue(redis, queue);
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      await using _pool = bounded(pool); // before, with no node, the items stayed pending
      // Each of these writes more than CHUNK_CHARS: each goes in a chunk of
      // its own. No node
      // runs: the first chunk of a task (its probe) is looked at in Redis.
      const big = "x".repeat(2 ** 24) as unknown as number;
      const itemsIn = async (id: string) => (await watched.raw.getJob(id))?.data.items.length;
      let added = watched.next("waiting");
      pool.map("inc", [big, big, big]);
      assert.equal(await itemsIn(await added), 1, "map()"); // before: 3 (5 × 110M failed)
      added = watched.next("waiting");
      const runs = [0, 1, 2].map(() => pool.run("fib", big).catch((error) => error));
      assert.equal(await itemsIn(await added), 1, "run()s that share a batch");
      assert.equal(pool.queued, 6);
      assert.equal(pool.chunks, 2);
      assert.equal(pool.cancel(), true);
      for (const error of await Promise.all(runs)) assert.equal(error.name, "AbortError");
    },
  );
});
