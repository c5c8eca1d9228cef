/**
 * Items that must end once however they are cancelled or aborted, found by
 * hostile probing: a task's probe chunk taken back from Redis, an `exec`
 * signal that aborts after a node took the item, a chunk cancelled while it
 * was still being added, an argument changed after its submit, and chunks
 * given up at a shutdown's timeout.
 */
import { describe, it } from "node:test";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { ClusterPool, serve } from "../../src/cluster/mod.ts";
import { PROBE_ITEMS } from "../../src/cluster/_sizer.ts";
import { type ChunkResult, WIRE_VERSION } from "../../src/cluster/_wire.ts";
import { redisOptions } from "../../src/cluster/connection.ts";
import { Worker } from "bullmq";
import {
  bounded,
  needsRedis,
  queueName,
  Redis,
  startNode,
  tasksUrl,
  watchQueue,
} from "./_harness.ts";
import { within } from "../_util.ts";

type Tasks = typeof import("../fixtures/cluster_tasks.ts");

/** An encoded error (the codec's wire form) with a cause chain `depth` long. */
function deepCause(depth: number): unknown {
  let error: unknown = { __fastpoolError: true, name: "Error", message: "leaf", hasCause: false };
  for (let i = 0; i < depth; i++) {
    error = { __fastpoolError: true, name: "Error", message: "m", hasCause: true, cause: error };
  }
  return error;
}

describe("ClusterPool: every item ends once, however it is taken back", () => {
  it(
    "a chunk whose result holds fewer values than items fails its items (they never ended)",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("short-result");
      // A node of another make: it answers one value for a chunk of three.
      const short: ChunkResult = {
        v: WIRE_VERSION,
        values: [1],
        undef: [],
        errors: [],
        gen: false,
        node: "short",
        workers: 1,
        ms: 1,
      };
      const node = new Worker(queue, () => Promise.resolve(short), {
        connection: { ...redisOptions(redis.url, "test") },
      });
      try {
        await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
        pool.map("inc", [1, 2, 3]);
        assert.equal(await pool.wait(20_000), true, "every item ends");
        assert.equal(pool.done.length, 0);
        assert.equal(pool.failed.length, 3);
        assert.match(String(pool.failed.at(0)), /returned an unknown result format/);
      } finally {
        await node.close();
      }
    },
  );

  it(
    "a chunk whose result is malformed past its values fails its items, with what was wrong, and later chunks still end",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("foreign-result");
      // A node of another make: right values, but each chunk's result has one field wrong
      // (the last one is right). Before: reading it threw inside the events' listener,
      // which stopped the producer hearing of any chunk ("Redis ... is unavailable").
      const wrong: Partial<Record<keyof ChunkResult, unknown>>[] = [
        { errors: 5 },
        { undef: [7] },
        { gen: true },
        { undefYields: [[0, 3]] },
        { errors: [null] },
        // Errors of another make: a field of the wrong type, and a cause chain deep
        // enough to exhaust the stack while it is read (before: the same hang).
        {
          errors: [[0, { __fastpoolError: true, name: "AggregateError", message: "x", errors: 5 }]],
        },
        { errors: [[0, deepCause(20_000)]] },
        {},
      ];
      let served = 0;
      const node = new Worker(queue, (job) => {
        const n = (job.data as { items: unknown[] }).items.length;
        const result = {
          v: WIRE_VERSION,
          values: new Array(n).fill(7),
          undef: [],
          errors: [],
          gen: false,
          node: "foreign",
          workers: 1,
          ms: 1,
          ...wrong[Math.min(served++, wrong.length - 1)],
        };
        return Promise.resolve(result);
      }, { connection: { ...redisOptions(redis.url, "test") } });
      try {
        await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
        const outages: unknown[] = [];
        pool.addEventListener("error", (event) => outages.push((event as CustomEvent).detail));
        for (let k = 0; k < wrong.length - 3; k++) {
          await assert.rejects(pool.run("inc", k), {
            name: "TypeError",
            message: /returned an unknown result format: (errors|undef|the values|undefYields)/,
          });
        }
        await assert.rejects(pool.run("inc", 0), { name: "AggregateError", message: "x" });
        await assert.rejects(pool.run("inc", 0), {
          name: "TypeError",
          message: /failed on its node, with an error this producer cannot read/,
        });
        assert.equal(await pool.run("inc", 1), 7, "a right result after them is read");
        assert.deepEqual(outages, []);
      } finally {
        await node.close();
      }
    },
  );

  it(
    "a task's probe chunk cancelled in Redis before any node took it: the task's other items still run",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("probe-cancel");
      await using watched = await watchQueue(redis, queue);
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      const waiting = watched.next("waiting");
      const n = PROBE_ITEMS + 24;
      pool.map("inc", Array.from({ length: n }, (_, i) => i));
      // Only the probe leaves; the rest waits for its measurement.
      await waiting;
      const removed = watched.next("removed");
      for (let id = 1; id <= PROBE_ITEMS; id++) assert.equal(pool.cancel(id), true);
      await removed;
      await using _node = await startNode(redis, queue, {});
      assert.equal(await pool.wait(20_000), true, "the items after the probe ran");
      assert.deepEqual(
        [...pool.done].sort((a, b) => (a as number) - (b as number)),
        Array.from({ length: n - PROBE_ITEMS }, (_, i) => PROBE_ITEMS + i + 1),
      );
      assert.equal(await pool.run("inc", 41), 42);
    },
  );

  it(
    "an item cancelled in a chunk no node took, or in the middle of its batch, never runs",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("cancel-middle");
      await using watched = await watchQueue(redis, queue);
      const file = join(tmpdir(), `fastpool-marks-${crypto.randomUUID()}`);
      try {
        await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
        const waiting = watched.next("waiting");
        const a = ["a1", "a2", "a3"].map((label) => pool.submit("mark", file, label));
        await waiting; // one chunk, the task's probe, in Redis
        const removed = watched.next("removed");
        assert.equal(pool.cancel(a[1]!), true);
        assert.equal(
          await within(removed, 10_000),
          true,
          "the chunk was taken out, to go again without a2",
        );
        const b = ["b1", "b2", "b3"].map((label) => pool.submit("mark", file, label));
        assert.equal(pool.cancel(b[1]!), true); // on the producer, between two items
        await using _node = await startNode(redis, queue, {});
        assert.equal(await pool.wait(20_000), true, "every item ends");
        assert.deepEqual([...pool.done].sort(), ["a1", "a3", "b1", "b3"]);
        assert.deepEqual(readFileSync(file, "utf8").split("\n").filter(Boolean).sort(), [
          "a1",
          "a3",
          "b1",
          "b3",
        ]);
      } finally {
        rmSync(file, { force: true });
      }
    },
  );

  it(
    "cancel() of queued items' promises rejects them all with one AbortError; cancel(id) with its own",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("cancel-shared");
      await using watched = await watchQueue(redis, queue);
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      const waiting = watched.next("waiting");
      const reasons = (promises: Promise<unknown>[]) =>
        Promise.all(promises.map((p) => p.then(() => assert.fail("it ran"), (error) => error)));
      // The first items are the task's probe chunk, in Redis; the rest here.
      const all = Array.from({ length: 40 }, (_, i) => pool.run("inc", i));
      await waiting;
      assert.equal(pool.cancel(), true);
      const shared = await reasons(all);
      assert.ok(shared[0] instanceof DOMException && shared[0].name === "AbortError");
      assert.ok(shared.every((reason) => reason === shared[0]), "one error for the call");
      const [a, b] = [pool.run("inc", 1), pool.run("inc", 2)];
      assert.equal(pool.cancel(41), true);
      assert.equal(pool.cancel(42), true);
      const [ra, rb] = await reasons([a, b]);
      assert.ok(ra instanceof DOMException && ra.name === "AbortError");
      assert.notEqual(ra, rb, "each cancel(id) call its own");
      assert.equal(pool.pending, 0);
    },
  );

  it(
    "cancel(id) one by one, in the backlog and in a queued chunk: each item ends once",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("cancel-each");
      await using watched = await watchQueue(redis, queue);
      const cancelled: number[] = [];
      await using pool = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        cancelledCallback: (id) => cancelled.push(id),
      });
      const waiting = watched.next("waiting");
      const n = 3_000;
      pool.map("inc", Array.from({ length: n }, (_, i) => i));
      await waiting; // the probe chunk is in Redis, the rest in the backlog
      // Newest first, then the probe's: each id is looked up, not searched for.
      const ids = Array.from({ length: n }, (_, i) => n - i);
      for (const id of ids) assert.equal(pool.cancel(id), true, `job ${id}`);
      for (const id of [1, n, n + 1]) assert.equal(pool.cancel(id), false, `job ${id} again`);
      assert.equal(pool.pending, 0);
      assert.deepEqual(cancelled, ids);
      await using _node = await startNode(redis, queue, {});
      assert.equal(await pool.run("inc", 41), 42);
      assert.equal(pool.done.length, 0, "no cancelled item ran");
    },
  );

  it(
    "a task's probe item aborted after a node took it: the task's next items run at once",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("probe-abort");
      await using watched = await watchQueue(redis, queue);
      await using _node = await startNode(redis, queue, { maxChildren: 2 });
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      await using _pool = bounded(pool); // the aborted item runs on for a minute
      const controller = new AbortController();
      const active = watched.next("active");
      // The task's first item, its probe: the node holds it for a minute.
      const probe = pool.exec("later", [1, 60_000], { signal: controller.signal });
      await active;
      controller.abort(new Error("no longer needed"));
      await assert.rejects(probe, /no longer needed/);
      // Before: these waited for the probe's report, a minute away.
      const next = Promise.all([2, 3, 4].map((x) => pool.run("later", x, 1)));
      assert.ok(await within(next, 20_000), "the next items ran while the probe still runs");
      assert.deepEqual(await next, [4, 6, 8]);
    },
  );

  it(
    "exec()'s signal aborting after a node took the item rejects at once; the node's result is dropped",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("abort-active");
      await using watched = await watchQueue(redis, queue);
      await using _node = await startNode(redis, queue, {});
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      const controller = new AbortController();
      const active = watched.next("active");
      const result = pool.exec("later", [1, 300], { signal: controller.signal });
      const key = await active;
      const completed = watched.next("completed");
      controller.abort(new Error("no longer needed"));
      await assert.rejects(result, /no longer needed/);
      assert.equal(pool.pending, 0);
      assert.equal(await completed, key, "the node ran it to the end");
      assert.equal(await pool.run("inc", 1), 2, "its result, when it came, ended nothing else");
      assert.equal(pool.done.length, 0);
      assert.equal(pool.chunks, 0);
    },
  );

  it(
    "a chunk cancelled while it was being added is taken out of Redis once it is in",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("cancel-adding");
      await using watched = await watchQueue(redis, queue);
      const cancelled: number[] = [];
      await using pool = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        cancelledCallback: (id) => cancelled.push(id),
      });
      const removed = watched.next("removed");
      pool.map("inc", [1, 2, 3]);
      // The end of this task cuts the chunk, which waits for the connection to open.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(pool.chunks, 1);
      assert.equal(pool.cancel(), true);
      assert.deepEqual(cancelled, [1, 2, 3]);
      assert.equal(pool.pending, 0);
      await removed;
      assert.equal((await watched.raw.getJobCounts("waiting")).waiting, 0);
      assert.equal(await pool.shutdown(), true);
    },
  );

  it(
    "shutdown(timeout) with chunks waiting in Redis and no node fails their items and takes the chunks out",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("shutdown-withdraw");
      await using watched = await watchQueue(redis, queue);
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      const waiting = watched.next("waiting");
      const run = pool.run("inc", 1).catch((error) => error);
      await waiting; // in Redis, and no node to take it
      assert.equal(await pool.shutdown(100), false);
      assert.equal((await run).name, "PoolClosedError");
      assert.equal(pool.pending, 0);
      const counts = await watched.raw.getJobCounts("wait", "prioritized", "delayed");
      assert.deepEqual(counts, { wait: 0, prioritized: 0, delayed: 0 }, "no chunk left for a node");
    },
  );

  it(
    "a shutdown() beside a shutdown(timeout) that dropped the items it waited for returns false too",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("shutdown-beside");
      await using watched = await watchQueue(redis, queue);
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      const waiting = watched.next("waiting");
      const run = pool.run("inc", 1).catch((error) => error);
      await waiting; // in Redis, and no node to take it
      assert.deepEqual(await Promise.all([pool.shutdown(), pool.shutdown(100)]), [false, false]);
      assert.equal((await run).name, "PoolClosedError");
      assert.equal(await pool.shutdown(), false, "a later shutdown() says so as well");
    },
  );

  it(
    "an argument changed after its submit, in the same tick, changes nothing that crosses",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("changed-arg");
      await using _node = await startNode(redis, queue, {});
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue, resultId: true });
      const point: { x: number; y: number; self?: unknown } = { x: 1, y: 2 };
      pool.submit("describePoint", point);
      pool.map("inc", [1, 2, 3]);
      const run = pool.exec("describePoint", [point]);
      point.x = 10;
      point.self = point; // cyclic now: not JSON-safe, but what was submitted was
      assert.equal(await pool.wait(), true);
      assert.deepEqual(pool.failed.length, 0, String([...pool.failed][0]));
      assert.deepEqual([...pool.done], [[1, { sum: 3, label: "(1, 2)" }], [2, 2], [3, 3], [4, 4]]);
      assert.deepEqual(await run, { sum: 3, label: "(1, 2)" });
    },
  );

  it(
    "a node closed with a chunk in hand reports it before it leaves, and its program goes on",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("close-in-hand");
      await using watched = await watchQueue(redis, queue);
      // A lock far longer than the test: a lost report could not be hidden by a re-run.
      const node = await serve({
        connection: redis.url,
        queue,
        module: tasksUrl,
        maxChildren: 1,
        lockDuration: 120_000,
      });
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      const active = watched.next("active");
      const result = pool.run("later", 21, 300);
      const key = await active;
      const completed = watched.next("completed");
      await node.close();
      assert.equal(await completed, key, "reported to Redis by the node that ran it");
      assert.equal(await result, 42);
      assert.deepEqual([...pool.nodes.keys()], [node.id]);
      // The closed node's client left nothing spinning: a timer still fires.
      await new Promise((resolve) => setTimeout(resolve, 10));
    },
  );

  it(
    "a chunk a node runs when Redis restarts empty is added again and waits there, queued again, until a node takes it",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not restarting someone else's server");
      const queue = queueName("restart-active");
      let took!: () => void;
      const taken = new Promise<void>((resolve) => took = resolve);
      // A node of its own make that takes one chunk and holds it, busy, through the restart.
      const holder = new Worker(queue, () => {
        took();
        return new Promise<never>(() => {});
      }, { connection: { ...redisOptions(redis.url, "test") }, concurrency: 1 });
      holder.on("error", () => {}); // the restart cuts its connections
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue, sweepInterval: 200 });
      await using _pool = bounded(pool);
      const online = new Promise<void>((resolve) =>
        pool.addEventListener("online", () => resolve(), { once: true })
      );
      const slept = pool.run("sleep", 1);
      slept.catch(() => {}); // awaited below; a failed assertion leaves it to the shutdown
      await taken;
      await redis.restart(); // empty: the chunk the holder runs is gone
      await online; // Redis no longer knows the chunk: it is added again
      {
        await using watched = await watchQueue(redis, queue);
        const key = await watched.next("waiting");
        // Before: taken out again as soon as its add answered, as a chunk whose items
        // were all cancelled (one a node runs counts none queued); unless an idle node
        // took it in that instant, its item never ended.
        assert.equal(await watched.raw.getJobState(key), "waiting");
        // Queued again until a node takes it: counted so, and in reach of cancel().
        assert.equal(pool.queued, 1);
        const readded = pool.run("sleep", 2); // the holder is busy: it waits as well
        const removed = watched.next("removed");
        assert.equal(pool.cancel(), true);
        await assert.rejects(slept, { name: "AbortError" });
        await assert.rejects(readded, { name: "AbortError" });
        assert.equal(pool.pending, 0);
        assert.equal(await removed, key, "taken out of Redis");
      }
      await holder.close(true);
      await using _node = await startNode(redis, queue);
      assert.equal(await pool.run("sleep", 1), 1);
    },
  );
});
