/**
 * Faults with real parts: a node SIGKILLed in the middle of a chunk, a node
 * started late, a node stopped gracefully, and Redis restarted (empty) in
 * the middle of a run. Execution is at least once; every item must still
 * end exactly once on the producer, with the result a local run gives.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ClusterPool, RedisUnavailableError, serve } from "../../src/cluster/mod.ts";
import { WIRE_VERSION } from "../../src/cluster/_wire.ts";
import { withThisRuntime } from "../_child.ts";
import { fixture, within } from "../_util.ts";
import {
  bounded,
  Child,
  leftGracefully,
  needsRedis,
  otherRuntime,
  queueName,
  Redis,
  RedisRelay,
  startNode,
  tasksUrl,
  thisRuntime,
  watchQueue,
  withRedisClient,
} from "./_harness.ts";

type Tasks = typeof import("../fixtures/cluster_tasks.ts");

/** Checks `done` holds `[id, result]` for ids 1 … n once each, as `expected(id)`. */
function checkOnce(done: Iterable<unknown>, n: number, expected: (id: number) => number): void {
  const seen = new Uint8Array(n + 1);
  let count = 0;
  for (const entry of done) {
    const [id, value] = entry as [number, number];
    assert.ok(id >= 1 && id <= n, `id ${id} out of range`);
    assert.equal(seen[id], 0, `item ${id} ended twice`);
    seen[id] = 1;
    assert.equal(value, expected(id), `item ${id}`);
    count++;
  }
  assert.equal(count, n, "every item ended once");
}

/** The node program of tests/fixtures/cluster_away_node_program.ts on `queue`, once it is ready. */
async function awayNode(redis: Redis, queue: string): Promise<Child> {
  const [command, args] = withThisRuntime(fileURLToPath(fixture("cluster_away_node_program.ts")));
  const program = new Child(command, [...args, redis.url, queue]);
  await program.waitFor(/node ready/);
  return program;
}

/** Submits `sleep(ms)` to `pool` and resolves once a node runs it (its result is not awaited). */
async function sleepOnNode(
  redis: Redis,
  queue: string,
  pool: ClusterPool<Tasks>,
  ms: number,
): Promise<void> {
  await using watched = await watchQueue(redis, queue);
  const active = watched.next("active");
  void pool.run("sleep", ms).catch(() => {});
  await active;
}

/**
 * A node program (`awayNode`) running a chunk of `sleep(ms)` for a pool of
 * this test's, and `call`, a Redis command on a client of this test's
 * (the one `CLIENT KILL` spares). Disposing stops the watcher, the pool and
 * the program.
 */
async function chunkOnAwayNode(redis: Redis, queue: string, ms: number) {
  const program = await awayNode(redis, queue);
  const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
  const watched = await watchQueue(redis, queue);
  const active = watched.next("active");
  const result = pool.run("sleep", ms);
  result.catch(() => {}); // the caller asserts its outcome
  await active;
  const client = await watched.raw.client as unknown as {
    call(...args: string[]): Promise<unknown>;
  };
  return {
    program,
    result,
    call: (...args: string[]) => client.call(...args),
    async [Symbol.asyncDispose]() {
      try {
        await watched[Symbol.asyncDispose]();
        await bounded(pool)[Symbol.asyncDispose]();
      } finally {
        await program[Symbol.asyncDispose]();
      }
    },
  };
}

describe("ClusterPool faults", () => {
  it(
    "ClusterPool: items a shutdown gave up while their node ran them are not retried when they fail",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("given-up-retry");
      const dir = await mkdtemp(join(tmpdir(), "fastpool-given-up-"));
      try {
        const file = join(dir, "runs");
        await writeFile(file, "");
        await using watched = await watchQueue(redis, queue);
        const pool = new ClusterPool<Tasks>({
          connection: redis.url,
          queue,
          attempts: 10,
          backoff: { type: "fixed", delay: 100 },
        });
        await using _node = await startNode(redis, queue);
        const active = watched.next("active");
        pool.submit("markThenFail", file, "run", 500);
        await active;
        assert.equal(await pool.shutdown(100), false); // given up while it runs
        // Its node finishes it once, with its failure, instead of BullMQ retrying it 9 times.
        assert.ok(await within(watched.nextCompleted(), 20_000), "the chunk did not complete");
        assert.equal(await readFile(file, "utf8"), "run\n");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    "ClusterPool: a node paused past its chunk's lock takes the chunk again and ends it once, though its first run goes on",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("paused-node");
      await using watched = await watchQueue(redis, queue);
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      await using _pool = bounded(pool);
      // One worker: the chunk's second run waits behind its first, past the first's end.
      await using node = await startNode(redis, queue, {
        lockDuration: 1000,
        stalledInterval: 500,
      });
      const active = watched.next("active");
      const result = pool.collect("sleep", [600, 600, 600, 600]);
      const jobId = await active;
      node.pause();
      try {
        // Its lock lapses while it is paused: Redis expires the key (no event says so here).
        await withRedisClient(redis, async (client) => {
          while (await client.call("EXISTS", `bull:${queue}:${jobId}:lock`) === 1) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        });
      } finally {
        node.resume();
      }
      // Once going on, the node hands the chunk back (stalled once) and takes it again.
      assert.deepEqual(await result, [600, 600, 600, 600], node.output);
      assert.equal(pool.failed.length, 0);
    },
  );

  it(
    "ClusterPool: items a shutdown gave up, in a chunk whose node then died, run on no node later",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("given-up");
      const locks = { lockDuration: 1000, stalledInterval: 500 };
      await using watched = await watchQueue(redis, queue);
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      await using victim = await startNode(redis, queue, {
        ...locks,
        env: { CLUSTER_TEST_STALL: "1" },
      });
      pool.submit("step", 1);
      await victim.waitFor(/holding a chunk/);
      assert.equal((await victim.stop("SIGKILL")).signal, "SIGKILL");
      assert.equal(await pool.shutdown(200), false); // the item is given up
      assert.match(String([...pool.failed][0]), /PoolClosedError: Job abandoned/);
      // BullMQ hands the dead node's chunk to the next node once its lock expires.
      const completed = watched.nextCompleted();
      await using next = await startNode(redis, queue, locks);
      assert.ok(await within(completed, 20_000), `not handed over within 20 s\n${next.output}`);
      const { returnvalue } = await completed;
      const result = typeof returnvalue === "string" ? JSON.parse(returnvalue) : returnvalue;
      assert.deepEqual(result.values, [], "the given-up item ran");
    },
  );

  it(
    "ClusterPool: 3 nodes, 200,000-item map and a stream of submits, one node SIGKILLed mid-chunk, one started late: every item once",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("kill");
      // Short locks, so the dead node's chunks go back within about a second.
      const locks = { lockDuration: 1000, stalledInterval: 500 };
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue, resultId: true });
      await using _pool = bounded(pool);
      const mapped = 200_000;
      // The victim starts alone, takes the first chunk and never finishes it.
      await using victim = await startNode(redis, queue, {
        ...locks,
        runtime: thisRuntime,
        env: { CLUSTER_TEST_STALL: "1" },
      });
      assert.equal(pool.map("step", Array.from({ length: mapped }, (_, i) => i)), mapped);
      await victim.waitFor(/holding a chunk/);
      await using steady = await startNode(redis, queue, { ...locks, runtime: otherRuntime });
      const killed = await victim.stop("SIGKILL"); // mid-chunk
      assert.equal(killed.signal, "SIGKILL");
      // A node started late joins the run; then the steady one leaves
      // gracefully, so what is left, and the submits, are the late node's.
      await using late = await startNode(redis, queue, { ...locks, runtime: thisRuntime });
      assert.ok(leftGracefully(steady, await steady.stop("SIGTERM")), steady.output);
      const submitted = 20_000;
      for (let tick = 0; tick < 20; tick++) {
        for (let k = 0; k < submitted / 20; k++) pool.submit("step", mapped + tick * 1000 + k);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      assert.equal(await pool.wait(), true);
      assert.equal(pool.failed.length, 0, String([...pool.failed][0]));
      // Ids are 1-based and consecutive: item i (0-based) is id i + 1.
      checkOnce(pool.done, mapped + submitted, (id) => (id - 1) * 2 + 1);
      assert.ok((pool.nodes.get(late.id) ?? 0) >= submitted, "the late node ran the submits");
      assert.ok(!pool.nodes.has(victim.id), "the killed node returned nothing");
      assert.ok(leftGracefully(late, await late.stop("SIGINT")), late.output);
    },
  );

  it(
    "serve(): a chunk whose earlier attempt's result is malformed fails alone, and the node goes on",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("bad-prior");
      await using watched = await watchQueue(redis, queue);
      await using node = await startNode(redis, queue, {});
      const failed = watched.next("failed");
      // Another writer's chunk: before, reading its `prior` threw in a callback and ended the node.
      await watched.raw.add("inc", {
        v: WIRE_VERSION,
        task: "inc",
        one: true,
        items: [1],
        timeout: 0,
        prior: { v: WIRE_VERSION, values: null, undef: [], errors: [] },
      });
      assert.equal(await within(failed, 20_000), true, "the chunk failed");
      const failedChunk = (await watched.raw.getFailed())[0];
      assert.match(
        failedChunk?.failedReason ?? "",
        /earlier attempt's result has an unknown format/,
      );
      await using pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      const answer = pool.run("inc", 41);
      assert.equal(await within(answer, 20_000), true, `the node still serves:\n${node.output}`);
      assert.equal(await answer, 42);
    },
  );

  it(
    "serve(): a node closed as soon as it is ready lets its program exit at once, not after BullMQ's stalled-check sleep",
    needsRedis(120_000),
    async () => {
      await using redis = await Redis.start();
      const program = fileURLToPath(fixture("cluster_close_at_once_program.ts"));
      // A race: before, on Bun, 2 to 4 closes in 10 left BullMQ's next stalled-check sleep
      // (30 s) behind, and the program waited for it.
      for (let i = 0; i < 5; i++) {
        const [command, args] = withThisRuntime(program);
        await using node = new Child(command, [
          ...args,
          redis.url,
          queueName(`close-at-once-${i}`),
        ]);
        await node.waitFor(/node closed/);
        assert.ok(await within(node.exited, 10_000), `program ${i} exited:\n${node.output}`);
      }
    },
  );

  it(
    "serve(): a node closed while Redis is away leaves, and its program exits",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not stopping someone else's server");
      await using program = await awayNode(redis, queueName("away-node"));
      await redis.stop();
      await program.waitFor(/node closed/);
      // Before: BullMQ's lock renewal and stalled check, which its close() stops
      // only once Redis answers, kept the program alive for ever.
      const exited = await within(program.exited, 15_000);
      assert.ok(exited, `the program exited by itself:\n${program.output}`);
    },
  );

  it(
    "serve(): a node closed while Redis is away, with a chunk running, leaves when Redis comes back before it ends",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not stopping someone else's server");
      const queue = queueName("away-back");
      await using program = await awayNode(redis, queue);
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      await using _pool = bounded(pool);
      await sleepOnNode(redis, queue, pool, 1500); // Redis loses it: never reported
      await redis.stop();
      await program.waitFor(/node closing/);
      await redis.restart(); // back before the chunk ends
      // Before: once the chunk ended, BullMQ retried its report on a client cut
      // under it, without delay, for ever: a spinning thread that never exited.
      const exited = await within(program.exited, 20_000);
      assert.ok(exited, `the program exited by itself:\n${program.output}`);
      assert.match(program.output, /node closed/);
    },
  );

  it(
    "serve(): a node closed just after Redis came back, its clients not reconnected yet, leaves at once",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not stopping someone else's server");
      let refused = 0;
      let enough!: () => void;
      const away = new Promise<void>((resolve) => enough = resolve);
      const node = await serve({
        connection: redis.url,
        queue: queueName("back-close"),
        module: tasksUrl,
        maxChildren: 1,
        // Eight failed tries (four of each client): the next waits 500 ms or more.
        onError: () => ++refused === 8 && enough(),
      });
      await redis.stop();
      await away;
      await redis.restart();
      // Before: 10 s (SILENT_MS): BullMQ's close() cut the blocking client while it
      // waited to reconnect, and an ioredis client cut then never ends.
      assert.equal(await within(node.close(), 5_000), true, "closed within 5 s");
    },
  );

  it(
    "serve(): a node closed while Redis hangs (connections open, no answers) leaves once its work is done",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not stopping someone else's server");
      const queue = queueName("away-hung");
      await using program = await awayNode(redis, queue);
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue });
      await using _pool = bounded(pool);
      await sleepOnNode(redis, queue, pool, 300);
      redis.pause();
      program.process.kill("SIGTERM");
      // Before: close() waited for ever for a report a frozen Redis never took.
      // Now: the chunk's 300 ms, then SILENT_MS (10 s) without the report.
      const exited = await within(program.exited, 30_000);
      redis.resume();
      assert.ok(exited, `the program exited by itself:\n${program.output}`);
      assert.match(program.output, /node closed/);
    },
  );

  it(
    "serve(): a node closing with a chunk running whose connection is cut for a moment reports the chunk",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not cutting someone else's clients");
      await using running = await chunkOnAwayNode(redis, queueName("away-blip"), 1500);
      const { program, result } = running;
      program.process.kill("SIGTERM");
      await program.waitFor(/node closing/);
      // Every connection but this one (the node's, the pool's) is cut; Redis stays up.
      await running.call("CLIENT", "KILL", "TYPE", "normal");
      // Before: the first "close" counted as Redis away: the node left without
      // reporting, and the chunk waited for its lock to expire (30 s) and another node.
      assert.ok(await within(result, 10_000), `reported by the closing node:\n${program.output}`);
      assert.equal(await result, 1500);
      assert.ok(await within(program.exited, 15_000), `exited:\n${program.output}`);
      assert.match(program.output, /node closed/);
    },
  );

  it(
    "serve(): a node closed with a chunk running, its connection refused for longer than 3 s, reports the chunk once it is back before the chunk ends",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not cutting someone else's clients");
      await using running = await chunkOnAwayNode(redis, queueName("away-long"), 6_000);
      const { program, result } = running;
      // Every connection but this one is cut, and refused while only this one is allowed;
      // Redis keeps its data. The node closes at its second connection error.
      await running.call("CONFIG", "SET", "maxclients", "1");
      await running.call("CLIENT", "KILL", "TYPE", "normal");
      await program.waitFor(/node closing/);
      await new Promise((resolve) => setTimeout(resolve, 3_500)); // refused longer than AWAY_MS
      await running.call("CONFIG", "SET", "maxclients", "10000");
      // Before: the node judged Redis away 3 s after close(), dropped the result and left;
      // the chunk waited for its lock to expire (30 s) and another node.
      assert.ok(await within(result, 15_000), `reported by the closing node:\n${program.output}`);
      assert.equal(await result, 6_000);
      assert.ok(await within(program.exited, 15_000), `exited:\n${program.output}`);
    },
  );

  it(
    "ClusterPool with Redis hanging (connections open, no answers): pending items fail at offlineTimeout, and shutdown(timeout) returns",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not pausing someone else's server");
      const queue = queueName("hung-producer");
      // One pool looks at its chunk often (and so notices), one never does before
      // it shuts down, and one adds its next chunk while Redis hangs.
      const looking = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        offlineTimeout: 300,
        sweepInterval: 100,
      });
      const closing = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        sweepInterval: 60_000,
      });
      const adding = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        offlineTimeout: 300,
        sweepInterval: 60_000,
      });
      const outcome = (promise: Promise<unknown>) => promise.then(() => "done", (error) => error);
      const items = new Map<ClusterPool<Tasks>, Promise<unknown>>();
      {
        await using watched = await watchQueue(redis, queue);
        for (const pool of [looking, closing, adding]) { // each chunk in Redis; no node takes it
          const waiting = watched.next("waiting");
          items.set(pool, outcome(pool.run("inc", 1)));
          await waiting;
        }
      }
      redis.pause();
      try {
        // Before: nothing said Redis was away (no error, no close), so the items
        // waited for ever, and shutdown() waited for ever for the answer to QUIT.
        const added = outcome(adding.run("fib", 2)); // a task of its own: not held behind inc's probe
        const shutDown = closing.shutdown(200);
        for (const [what, item] of [["looked at", items.get(looking)!], ["being added", added]]) {
          assert.ok(await within(item as Promise<unknown>, 20_000), `the item ${what} failed`);
          const error = await item;
          assert.ok(error instanceof RedisUnavailableError, `${what}: ${error}`);
        }
        assert.ok(await within(looking.shutdown(), 5_000), "shut down once offline");
        assert.ok(await within(adding.shutdown(), 5_000), "shut down once offline");
        assert.ok(await within(shutDown, 20_000), "shutdown(200) returned");
        assert.equal(await shutDown, false, "an item was still pending at the timeout");
        assert.equal((await items.get(closing) as Error).name, "PoolClosedError");
      } finally {
        redis.resume();
      }
    },
  );

  it(
    "ClusterPool: an item given up while Redis was down from the start is not added once it is back",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not stopping someone else's server");
      const queue = queueName("given-up");
      await redis.stop();
      await using pool = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        offlineTimeout: 300,
      });
      await assert.rejects(pool.run("inc", 1), RedisUnavailableError);
      await redis.restart();
      await using _node = await startNode(redis, queue, {});
      assert.equal(await pool.run("inc", 2), 3);
      const events = await withRedisClient(
        redis,
        (client) => client.xrange(`bull:${queue}:events`, "-", "+"),
      );
      const added = events.filter(([, fields]) => fields[1] === "added").length;
      // Before: the first item's chunk, failed at offlineTimeout, was added (and run) once
      // the connection it waited for opened.
      assert.equal(added, 1, "only the second item's chunk reached Redis");
    },
  );

  it(
    "ClusterPool with Redis hanging from the start (database 0 and one to check): items fail at offlineTimeout, and the pool shuts down",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not pausing someone else's server");
      redis.pause();
      try {
        const pools = ["", "/3"].map((db) =>
          new ClusterPool<Tasks>({
            connection: redis.url + db,
            queue: queueName("hung-start"),
            offlineTimeout: 300,
          })
        );
        const errors = pools.map((pool) =>
          new Promise((resolve) => {
            pool.addEventListener("error", (event) => resolve((event as CustomEvent).detail), {
              once: true,
            });
          })
        );
        const items = pools.map((pool) => pool.run("inc", 1).catch((error) => error));
        for (const item of items) {
          // Before: the open waited for ever, with no error event and no offlineTimeout.
          assert.ok(await within(item, 20_000), "the item failed");
          assert.ok((await item) instanceof RedisUnavailableError, String(await item));
        }
        for (const error of errors) assert.ok((await error) instanceof RedisUnavailableError);
        for (const pool of pools) assert.ok(await within(pool.shutdown(), 5_000), "shut down");
      } finally {
        redis.resume();
      }
    },
  );

  it(
    "ClusterPool: a chunk whose add went unanswered is added again after Redis hangs once more while the pool looks its chunks up, then restarts empty",
    // Two SILENT_MS (10 s) outages.
    needsRedis(90_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not pausing someone else's server");
      const queue = queueName("unsent-flap");
      const pool = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        offlineTimeout: 60_000,
        sweepInterval: 60_000,
      });
      await using _pool = bounded(pool);
      const next = (type: "error" | "online") =>
        new Promise<void>((resolve) =>
          pool.addEventListener(type, () => resolve(), { once: true })
        );
      const outcome = (promise: Promise<unknown>) =>
        promise.then((value) => value, (error) => error);
      let looked: Promise<unknown>;
      {
        await using watched = await watchQueue(redis, queue);
        const waiting = watched.next("waiting");
        looked = outcome(pool.run("inc", 1)); // in Redis, no node: looked up when Redis is back
        await waiting;
      }
      redis.pause();
      const silent = next("error");
      // A task of its own (not held behind inc's probe): sent at once, unanswered.
      const unanswered = outcome(pool.run("fib", 10));
      await silent;
      // Redis answers the add ("online") and hangs again before the chunk in
      // Redis is looked up: that lookup goes unanswered too.
      const looking = new Promise<void>((resolve) =>
        pool.addEventListener("online", () => {
          redis.pause();
          resolve();
        }, { once: true })
      );
      const silentAgain = next("error");
      redis.resume();
      await looking;
      await silentAgain;
      const back = next("online");
      await redis.restart("SIGKILL"); // empty: both chunks lost
      await back;
      await using _node = await startNode(redis, queue);
      // Before: the unanswered chunk was dropped from the ones to send again when
      // the lookup failed, and no pass or sweep ever added it: its item never ended.
      assert.ok(await within(unanswered, 20_000), "the unanswered chunk's item ended");
      assert.equal(await unanswered, 55);
      assert.equal(await looked, 2);
      assert.equal(await pool.wait(), true);
      assert.equal(pool.pending, 0);
    },
  );

  it(
    "ClusterPool: a program whose pool gave up a chunk while Redis was away shuts down and exits",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not stopping someone else's server");
      const queue = queueName("away-close");
      const [command, args] = withThisRuntime(
        fileURLToPath(fixture("cluster_away_close_program.ts")),
      );
      await using program = new Child(command, [...args, redis.url, queue]);
      {
        await using watched = await watchQueue(redis, queue);
        const waiting = watched.next("waiting");
        await program.waitFor(/submitted/);
        await waiting; // its chunk is in Redis, and no node takes it
      }
      await redis.stop();
      // The item fails at offlineTimeout and its chunk's withdrawal waits for Redis.
      await program.waitFor(/item: RedisUnavailableError/);
      // Before: shutdown() took ~20 s (BullMQ's QUIT queued behind the withdrawal),
      // then the closed pool's client reconnected for ever and the program never exited.
      const exited = await within(program.exited, 15_000);
      assert.ok(exited, `the program exited by itself:\n${program.output}`);
      assert.match(program.output, /shut down in \d+ ms/);
    },
  );

  it(
    "ClusterPool: Redis restarted empty mid-run: an error event, then every item once when it is back",
    // Chunks lost in the restart go again after two sweeps that miss them; with the default
    // 5 s sweeps a loaded run took 11-68 s: 1 s sweeps here, and room for a loaded machine.
    needsRedis(120_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not restarting someone else's server");
      const queue = queueName("restart");
      await using _node = await startNode(redis, queue, { runtime: otherRuntime, maxChildren: 2 });
      const pool = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        resultId: true,
        chunkTime: 20,
        sweepInterval: 1_000,
      });
      await using _pool = bounded(pool);
      const errors: unknown[] = [];
      let online!: () => void;
      const back = new Promise<void>((resolve) => online = resolve);
      pool.addEventListener("error", (event) => errors.push((event as CustomEvent).detail));
      pool.addEventListener("online", () => online());
      const n = 400;
      pool.map("later", Array.from({ length: n }, (_, i) => i));
      await pool.doneCount.acquire(); // the run is under way
      await redis.restart(); // empty: chunks in Redis and in flight are lost
      await back;
      assert.equal(await pool.wait(), true);
      assert.ok(errors[0] instanceof RedisUnavailableError, String(errors[0]));
      assert.equal(pool.failed.length, 0, String([...pool.failed][0]));
      checkOnce(pool.done, n, (id) => (id - 1) * 2);
      // Usable again: a new run after the restart.
      assert.equal(await pool.run("inc", 41), 42);
    },
  );

  it(
    "ClusterPool: an add Redis refuses (out of memory) fails its chunk, and the rest of the map still ends",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not changing someone else's server");
      const queue = queueName("refused-add");
      await using watched = await watchQueue(redis, queue);
      const admin = await watched.raw.client as unknown as {
        config(...args: string[]): Promise<unknown>;
      };
      await using _node = await startNode(redis, queue, { runtime: otherRuntime });
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue, resultId: true });
      await using _pool = bounded(pool);
      assert.equal(await pool.run("inc", 1), 2); // connected
      await admin.config("SET", "maxmemory", "1"); // every write refused
      const n = 1000;
      pool.map("noop", Array.from({ length: n }, (_, i) => i)); // unmeasured: a probe chunk first
      await pool.failedCount.acquire(); // the first add was refused
      await admin.config("SET", "maxmemory", "0");
      assert.equal(await pool.wait(), true, "every item ends"); // before: the rest stayed pending
      const ids = new Set<number>();
      for (const [id] of pool.done as Iterable<[number, unknown]>) ids.add(id);
      for (const [id, error] of pool.failed as Iterable<[number, Error]>) {
        assert.match(error.message, /^Cannot add a chunk to Redis: OOM/);
        assert.equal((error as { command?: unknown }).command, undefined, "not Redis's error");
        ids.add(id);
      }
      assert.equal(ids.size, n);
      assert.equal(pool.done.length + pool.failed.length, n, "each once");
      assert.equal(await pool.run("inc", 41), 42);
    },
  );

  it(
    "ClusterPool: a running chunk whose node loses its lock while Redis refuses writes (out of memory) fails at offlineTimeout",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not changing someone else's server");
      const queue = queueName("stuck-oom");
      await using watched = await watchQueue(redis, queue);
      const admin = await watched.raw.client as unknown as {
        config(...args: string[]): Promise<unknown>;
      };
      await using _node = await startNode(redis, queue, {
        runtime: otherRuntime,
        lockDuration: 1_000,
        stalledInterval: 500,
      });
      const pool = new ClusterPool<Tasks>({
        connection: redis.url,
        queue,
        offlineTimeout: 1_500,
        sweepInterval: 200,
      });
      await using _pool = bounded(pool);
      const errors: Error[] = [];
      pool.addEventListener("error", (event) => errors.push((event as CustomEvent).detail));
      assert.equal(await pool.run("inc", 1), 2); // connected
      for (const outage of [1, 2]) {
        const active = watched.next("active");
        const item = pool.run("sleep", 6_000);
        await active;
        await admin.config("SET", "maxmemory", "1"); // every write refused: the lock is not renewed
        // Before: pending for as long as Redis stayed full, with no event.
        let bound: ReturnType<typeof setTimeout> | undefined;
        const outcome = await Promise.race([
          item.then(() => "resolved", (error: Error) => error),
          new Promise((resolve) => bound = setTimeout(resolve, 15_000, "pending after 15 s")),
        ]);
        clearTimeout(bound);
        await admin.config("SET", "maxmemory", "0");
        assert.match(
          String((outcome as Error).message ?? outcome),
          /^Cannot end a chunk: Redis refuses writes \(OOM .*its items fail if it does not within 1500 ms \(offlineTimeout\)$/,
        );
        // One event an outage, and its own error (the second outage had neither, first).
        assert.equal(errors.length, outage, String(errors));
        assert.equal(errors.at(-1), outcome);
        assert.equal(await pool.run("inc", 41), 42, "the pool goes on once Redis takes writes");
      }
    },
  );

  it(
    "a node told to stop while Redis is down leaves at once, closed, on both runtimes",
    needsRedis(60_000),
    async (t) => {
      await using redis = await Redis.start();
      if (!redis.own) return t.skip("REDIS_URL is set: not stopping someone else's server");
      const queue = queueName("stop-redis-down");
      await using here = await startNode(redis, queue, { runtime: thisRuntime });
      await using there = await startNode(redis, queue, { runtime: otherRuntime });
      await redis.stop();
      // BullMQ's own close would wait for Redis to come back.
      assert.ok(leftGracefully(here, await here.stop("SIGTERM")), here.output);
      assert.ok(leftGracefully(there, await there.stop("SIGTERM")), there.output);
    },
  );
});

describe("ClusterPool sweeps", () => {
  it(
    "ClusterPool: connections cut for a moment, the events one back last, Redis keeping its data: no chunk runs again, each item ends once",
    needsRedis(90_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("blip");
      await using relay = await RedisRelay.start(redis);
      await using _node = await startNode(redis, queue, {});
      const file = join(tmpdir(), `fastpool-marks-${crypto.randomUUID()}`);
      try {
        let ended = 0;
        let enough!: () => void;
        const some = new Promise<void>((resolve) => enough = resolve);
        const pool = new ClusterPool<Tasks>({
          connection: relay.url,
          queue,
          doneCallback: () => ++ended === 30 && enough(),
        });
        await using _pool = bounded(pool);
        const labels = Array.from({ length: 300 }, (_, i) => `item-${i}`);
        for (const label of labels) pool.submit("markSlowly", file, label, 10);
        await some;
        // Chunks complete while the pool is away; its queue connection comes back
        // first. Before: the chunks it no longer found were added again and ran twice.
        relay.holdEvents(3_000);
        assert.ok(await relay.cut() >= 2, "the pool's connections were cut");
        assert.equal(await pool.wait(60_000), true);
        assert.equal(ended, 300);
        const runs = new Map<string, number>();
        for (const line of (await readFile(file, "utf8")).split("\n").filter(Boolean)) {
          runs.set(line, (runs.get(line) ?? 0) + 1);
        }
        const twice = labels.filter((label) => runs.get(label) !== 1);
        assert.deepEqual(twice, [], "items that did not run exactly once");
      } finally {
        await rm(file, { force: true });
      }
    },
  );

  it(
    "ClusterPool: a chunk Redis lost (completion never seen) is added again and its item ends once",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("sweep");
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue, sweepInterval: 50 });
      await using _pool = bounded(pool);
      {
        await using watched = await watchQueue(redis, queue);
        const first = watched.next("waiting");
        const result = pool.run("inc", 41);
        // No node yet: the chunk waits in Redis. Take it away, as a lost event would.
        const key = await first;
        const again = watched.next("waiting");
        assert.equal(await watched.raw.remove(key), 1);
        // Two sweeps later the pool adds it again, under its own id.
        assert.equal(await again, key);
        await using _node = await startNode(redis, queue, {});
        assert.equal(await result, 42);
      }
      assert.equal(await pool.wait(), true);
      assert.equal(pool.pending, 0);
    },
  );

  it(
    "ClusterPool: a chunk that failed in Redis while its failed event was lost fails its item once, with the reason Redis kept",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("sweep-failed");
      const pool = new ClusterPool<Tasks>({ connection: redis.url, queue, sweepInterval: 50 });
      await using _pool = bounded(pool);
      {
        await using watched = await watchQueue(redis, queue);
        const added = watched.next("waiting");
        const result = pool.run("inc", 41).then(() => null, (error: Error) => error);
        // No node: the chunk waits in Redis. Fail it there the way BullMQ
        // keeps a failed job, but with no event, as if the stream had been
        // trimmed while the producer lagged (BullMQ 5's keys, "bull" prefix).
        const key = await added;
        // ioredis underneath; BullMQ's own type of it leaves these out.
        type Commands = Record<"hset" | "zadd" | "lrem", (...args: unknown[]) => Promise<unknown>>;
        const client = (await watched.raw.client) as unknown as Commands;
        await client.hset(`bull:${queue}:${key}`, "failedReason", "refused, event lost");
        await client.zadd(`bull:${queue}:failed`, Date.now(), key);
        await client.lrem(`bull:${queue}:wait`, 0, key);
        assert.equal(await watched.raw.getJobState(key), "failed");
        const error = await result;
        assert.ok(error instanceof Error);
        assert.equal(error.message, "Chunk of 1 items failed on its node: refused, event lost");
      }
      assert.equal(pool.pending, 0);
      assert.equal(pool.chunks, 0);
      assert.equal(await pool.wait(), true);
    },
  );
});
