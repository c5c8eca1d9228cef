/**
 * Items the producer gave up while a node ran their chunk (a shutdown's
 * timeout, every item cancelled or aborted) are not retried when they fail:
 * BullMQ's `attempts` would run them again for nobody. Each test counts the
 * runs of one item in a file, and lets it fail (`_gated_tasks.ts`) only once
 * the producer has given it up.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterPool, serve } from "../../src/cluster/mod.ts";
import { saveForRetry } from "../../src/cluster/_retry.ts";
import { type ChunkData, emptied, WIRE_VERSION } from "../../src/cluster/_wire.ts";
import { type Child, needsRedis, queueName, Redis, startNode, watchQueue } from "./_harness.ts";

type Gated = typeof import("./_gated_tasks.ts");

const gatedUrl = new URL("./_gated_tasks.ts", import.meta.url).href;
const ATTEMPTS = { attempts: 5, backoff: { type: "fixed" as const, delay: 100 } };

/** A directory for one test's files: `runs` (one line per run) and `gate` (created to fail). */
async function files(): Promise<AsyncDisposable & { runs: string; gate: string }> {
  const dir = await mkdtemp(join(tmpdir(), "fastpool-giveup-"));
  const runs = join(dir, "runs");
  await writeFile(runs, "");
  return {
    runs,
    gate: join(dir, "gate"),
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The ioredis command object BullMQ's clients send. */
interface Command {
  args: unknown[];
}

/**
 * Holds the first command of any BullMQ client in this process that writes
 * a chunk's data for a retry (it carries `"left":`), until `release()`.
 * `reached` resolves once it is held: the node has decided to retry and not
 * written yet. The clients' class is found through `client`, a client of it.
 */
function holdRetryWrite(client: object) {
  const proto = Object.getPrototypeOf(client) as {
    sendCommand(command: Command, stream?: unknown): unknown;
  };
  const send = proto.sendCommand;
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let reached!: () => void;
  const held = new Promise<void>((resolve) => reached = resolve);
  let holding = true;
  proto.sendCommand = function (this: unknown, command: Command, stream?: unknown) {
    const forRetry = command.args.some((arg) => typeof arg === "string" && arg.includes('"left":'));
    if (!holding || !forRetry) return send.call(this, command, stream);
    holding = false;
    reached();
    return released.then(() => send.call(this, command, stream));
  };
  return {
    reached: held,
    release,
    [Symbol.dispose]() {
      release();
      proto.sendCommand = send;
    },
  };
}

/** Sends `flag` (`-STOP`, `-CONT`) to `child`, as `Redis.pause()` does. */
function signal(child: Child, flag: string): void {
  spawnSync("kill", [flag, String(child.process.pid)]);
}

/** Waits, blocking this thread (no event reaches the pool meanwhile), until `file` holds `text`. */
function blockUntilWritten(file: string, text: string): void {
  const deadline = Date.now() + 20_000;
  while (!readFileSync(file, "utf8").includes(text)) {
    if (Date.now() > deadline) throw new Error(`${file} never held ${JSON.stringify(text)}`);
  }
}

/** Lets the gated item fail, and checks it ran once: its node retried nothing. */
async function failsAndRanOnce(
  watched: Awaited<ReturnType<typeof watchQueue>>,
  paths: { runs: string; gate: string },
): Promise<void> {
  const completed = watched.next("completed");
  await writeFile(paths.gate, "");
  await completed; // with its failures (reported by its last attempt, if retried)
  assert.equal(await readFile(paths.runs, "utf8"), "run\n");
}

describe("ClusterPool: items given up while their node runs them are not retried", () => {
  it(
    "serve(): a shutdown(timeout) between a node's retry check and its write leaves the items given up",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("give-up-race");
      await using paths = await files();
      await using watched = await watchQueue(redis, queue);
      using hold = holdRetryWrite(await watched.raw.client);
      const node = await serve({ connection: redis.url, queue, module: gatedUrl, maxChildren: 1 });
      try {
        const pool = new ClusterPool<Gated>({ connection: redis.url, queue, ...ATTEMPTS });
        const active = watched.next("active");
        pool.run("markThenFailAtGate", paths.runs, "run", paths.gate).catch(() => {});
        const key = await active;
        await writeFile(paths.gate, "");
        await hold.reached; // the item failed, and the node is about to write its retry
        assert.equal(await pool.shutdown(100), false);
        assert.deepEqual((await watched.raw.getJob(key))?.data.items, [], "emptied by the give-up");
        const completed = watched.next("completed");
        hold.release();
        // Before: the node's write put the items back, and BullMQ ran them 4 more times.
        await completed; // with its failures (reported by its last attempt, if retried)
        assert.equal(await readFile(paths.runs, "utf8"), "run\n");
      } finally {
        hold.release();
        await node.close();
      }
    },
  );

  it(
    "ClusterPool.exec(): an item aborted while a node runs it is not retried when it fails",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("abort-taken");
      await using paths = await files();
      await using watched = await watchQueue(redis, queue);
      const node = await serve({ connection: redis.url, queue, module: gatedUrl, maxChildren: 1 });
      try {
        const pool = new ClusterPool<Gated>({ connection: redis.url, queue, ...ATTEMPTS });
        const controller = new AbortController();
        const active = watched.next("active");
        const result = pool.exec("markThenFailAtGate", [paths.runs, "run", paths.gate], {
          signal: controller.signal,
        });
        await active;
        const reason = new Error("stop it");
        controller.abort(reason);
        await assert.rejects(result, reason);
        // Idle; it closes once the chunk is emptied in Redis (a node holds it).
        assert.equal(await pool.shutdown(), true);
        await failsAndRanOnce(watched, paths); // before: BullMQ ran the aborted item 4 more times
      } finally {
        await node.close();
      }
    },
  );

  it(
    "ClusterPool.cancel(): an item whose chunk a node took unheard of is not retried when it fails",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const queue = queueName("cancel-taken");
      await using paths = await files();
      await using watched = await watchQueue(redis, queue);
      await using node = await startNode(redis, queue, { module: "tests/cluster/_gated_tasks.ts" });
      const pool = new ClusterPool<Gated>({ connection: redis.url, queue, ...ATTEMPTS });
      signal(node, "-STOP"); // takes nothing until the chunk is in Redis
      const waiting = watched.next("waiting");
      const result = pool.run("markThenFailAtGate", paths.runs, "run", paths.gate);
      result.catch(() => {});
      await waiting;
      signal(node, "-CONT");
      // The node takes the chunk; this producer hears of it only after the cancel.
      blockUntilWritten(paths.runs, "run\n");
      assert.equal(pool.cancel(), true);
      await assert.rejects(result, { name: "AbortError" });
      assert.equal(await pool.shutdown(), true);
      await failsAndRanOnce(watched, paths); // before: BullMQ ran the cancelled item 4 more times
    },
  );

  it(
    "saveForRetry() writes a chunk's retry unless Redis has it emptied, or no more",
    needsRedis(30_000),
    async () => {
      await using redis = await Redis.start();
      await using watched = await watchQueue(redis, queueName("save-for-retry"));
      const chunk = (items: unknown[]): ChunkData => ({
        v: WIRE_VERSION,
        task: "mark",
        one: true,
        items,
        timeout: 0,
      });
      const retry = (data: ChunkData): ChunkData => ({ ...data, left: [0] });
      const { raw } = watched;
      // As JSON: node:assert's deepEqual recurses past Deno's stack on the deep item.
      const dataOf = async (id: string) => JSON.stringify((await raw.getJob(id))?.data);
      // Items of any depth, even one that holds an empty "items" of its own.
      for (const items of [[1], [{ items: [] }], [{ items: [] }, nested(1100)]]) {
        const job = await raw.add("mark", chunk(items));
        assert.equal(await saveForRetry(raw, job.id!, retry(chunk(items))), true);
        assert.equal(await dataOf(job.id!), JSON.stringify(retry(chunk(items))));
      }
      const given = await raw.add("mark", emptied(chunk([1])));
      assert.equal(await saveForRetry(raw, given.id!, retry(chunk([1]))), false);
      assert.equal(await dataOf(given.id!), JSON.stringify(emptied(chunk([1]))), "left emptied");
      assert.equal(await saveForRetry(raw, "gone", retry(chunk([1]))), false);
      assert.equal(await raw.getJob("gone"), undefined, "not made up");
    },
  );
});

/** An array nested `depth` deep: deeper than Redis' cjson decodes (1,000). */
function nested(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}
