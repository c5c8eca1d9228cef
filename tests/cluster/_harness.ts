/**
 * Real parts for the cluster tests: a `redis-server` of their own on a free
 * loopback port in a temporary directory, and nodes as child processes of
 * Deno and Bun. Everything started here is stopped by the test that started
 * it (`await using`), so Deno's sanitizers stay on.
 *
 * `REDIS_URL` points the tests at a server of the user's instead (each test
 * then uses queues of its own; a restart test is skipped).
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { Queue, QueueEvents, RedisConnection } from "bullmq";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { isBun } from "../_util.ts";

export const root: string = fileURLToPath(new URL("../../", import.meta.url));
export const tasksPath: string = join(root, "tests/fixtures/cluster_tasks.ts");
export const tasksUrl: string = new URL("../fixtures/cluster_tasks.ts", import.meta.url).href;
const nodeEntry = join(root, "src/cluster/node.ts");

/** Why the cluster tests cannot run here, or `undefined` if they can. */
export function redisMissing(): string | undefined {
  if (process.env.REDIS_URL) return undefined;
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  if (found.error === undefined && found.status === 0) return undefined;
  return "redis-server is not installed (apt-get install redis-server), or set REDIS_URL";
}

/**
 * `it`'s options for a test that needs Redis: skipped with one line saying
 * how to install it, outside CI; in CI (`CI` set) a missing server fails.
 */
export function needsRedis(timeout: number): { timeout: number; skip?: string } {
  const missing = process.env.CI ? undefined : redisMissing();
  if (missing === undefined) return { timeout };
  const noted = globalThis as { fastpoolRedisSkipNoted?: boolean };
  if (!noted.fastpoolRedisSkipNoted) {
    noted.fastpoolRedisSkipNoted = true;
    // deno-lint-ignore no-console
    console.warn(`tests/cluster: skipping the tests that need Redis: ${missing}`);
  }
  return { timeout, skip: missing };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose output lines can be awaited. */
export class Child implements AsyncDisposable {
  readonly process: ChildProcess;
  output = "";
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #waiters: { pattern: RegExp; resolve(match: RegExpMatchArray): void }[] = [];

  constructor(command: string, args: string[], env: Record<string, string> = {}) {
    this.process = spawn(command, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (chunk: string) => {
      this.output += chunk;
      this.#waiters = this.#waiters.filter(({ pattern, resolve }) => {
        const match = this.output.match(pattern);
        if (match) resolve(match);
        return !match;
      });
    };
    this.process.stdout!.setEncoding("utf8").on("data", onData);
    this.process.stderr!.setEncoding("utf8").on("data", onData);
    this.exited = new Promise((resolve, reject) => {
      this.process.on("error", reject);
      this.process.on("close", (code, signal) => resolve({ code, signal }));
    });
  }

  /** Resolves once the output matches `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    const match = this.output.match(pattern);
    if (match) return Promise.resolve(match);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ pattern, resolve });
      this.exited.then(({ code, signal }) =>
        reject(
          new Error(
            `process ended (code ${code}, signal ${signal}) before printing ${pattern}:\n${this.output}`,
          ),
        )
      );
    });
  }

  /**
   * Freezes the process (SIGSTOP) or lets it go on (SIGCONT), sent with
   * `kill`: Deno's `node:child_process` `kill("SIGCONT")` left it stopped.
   */
  pause(): void {
    spawnSync("kill", ["-STOP", String(this.process.pid)]);
  }

  /** Lets a paused process go on (see `pause`). */
  resume(): void {
    spawnSync("kill", ["-CONT", String(this.process.pid)]);
  }

  /** Sends `signal` and awaits the exit. */
  async stop(
    signal: NodeJS.Signals = "SIGTERM",
  ): Promise<{ code: number | null; signal: string | null }> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill(signal);
    }
    return await this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop("SIGKILL");
  }
}

/** A Redis server for one test. */
export class Redis implements AsyncDisposable {
  #child: Child | null = null;
  readonly url: string;
  readonly port: number;
  readonly own: boolean;
  #dir: string | null = null;
  #password: string | undefined;

  private constructor(url: string, port: number, own: boolean) {
    this.url = url;
    this.port = port;
    this.own = own;
  }

  /** `REDIS_URL`'s server, or a new `redis-server` on a free port (with `password`, if given). */
  static async start(options: { password?: string } = {}): Promise<Redis> {
    const external = process.env.REDIS_URL;
    if (external) return new Redis(external, Number(new URL(external).port || 6379), false);
    const missing = redisMissing();
    if (missing) throw new Error(missing);
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, 0, true);
    redis.#password = options.password;
    (redis as { port: number }).port = Number(new URL(redis.url).port);
    redis.#dir = mkdtempSync(join(tmpdir(), "fastpool-redis-"));
    await redis.restart();
    return redis;
  }

  /**
   * Starts (again) the server, empty, on the same port. `SIGKILL` ends a
   * paused server too (without answering what waits).
   */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    await this.#child?.stop(signal);
    this.#paused = false;
    this.#child = new Child("redis-server", [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      this.#dir!,
      ...(this.#password === undefined ? [] : ["--requirepass", this.#password]),
    ]);
    await this.#child.waitFor(/Ready to accept connections/);
  }

  /** Stops the server (its data is lost: no persistence). */
  async stop(): Promise<void> {
    if (this.#paused) this.resume();
    await this.#child?.stop("SIGTERM");
    this.#child = null;
  }

  #paused = false;

  /**
   * Freezes the server (SIGSTOP): its connections stay open and nothing
   * answers, as behind a network that drops packets. Sent with `kill`, not
   * the child's own `kill()` (Deno's `node:child_process` then confused the
   * test's other clients).
   */
  pause(): void {
    this.#signal("-STOP");
    this.#paused = true;
  }

  /** Lets a paused server go on (SIGCONT). */
  resume(): void {
    this.#signal("-CONT");
    this.#paused = false;
  }

  #signal(flag: string): void {
    const pid = this.#child?.process.pid;
    if (pid !== undefined) spawnSync("kill", [flag, String(pid)]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The command that runs a node on `runtime`. */
function runtimeCommand(runtime: "deno" | "bun"): string {
  const local = join(root, "node_modules/.bin", runtime);
  if (runtime === (isBun ? "bun" : "deno")) return process.execPath;
  return existsSync(local) ? local : runtime;
}

/** The runtime running the tests, and the other one. */
export const thisRuntime: "deno" | "bun" = isBun ? "bun" : "deno";
export const otherRuntime: "deno" | "bun" = isBun ? "deno" : "bun";

/** Options of {@linkcode startNode}. */
export interface NodeOptions {
  runtime?: "deno" | "bun";
  maxChildren?: number;
  concurrency?: number;
  lockDuration?: number;
  stalledInterval?: number;
  env?: Record<string, string>;
  /** The task module, a path from the repository's root. */
  module?: string;
}

/** A node as a child process (the command-line entry), ready to take work. */
export async function startNode(
  redis: Redis,
  queue: string,
  options: NodeOptions = {},
): Promise<Child & { id: string }> {
  const runtime = options.runtime ?? thisRuntime;
  const args = [
    nodeEntry,
    "--redis",
    redis.url,
    "--queue",
    queue,
    "--module",
    options.module ?? "tests/fixtures/cluster_tasks.ts",
    "--max-children",
    String(options.maxChildren ?? 1),
    "--concurrency",
    String(options.concurrency ?? 2),
    "--lock-duration",
    String(options.lockDuration ?? 30_000),
    "--stalled-interval",
    String(options.stalledInterval ?? 30_000),
  ];
  const child = new Child(
    runtimeCommand(runtime),
    runtime === "deno" ? ["run", "-A", ...args] : args,
    options.env,
  ) as Child & { id: string };
  const match = await child.waitFor(/fastpool node (\S+) ready/);
  child.id = match[1]!;
  return child;
}

/** A raw BullMQ queue and its events, for tests that look into Redis; see {@linkcode watchQueue}. */
export interface WatchedQueue extends AsyncDisposable {
  readonly raw: Queue;
  /** Resolves with the id of the next job to reach `event`. */
  next(event: "waiting" | "active" | "completed" | "failed" | "removed"): Promise<string>;
  /** Resolves with the id and return value (as JSON) of the next job to complete. */
  nextCompleted(): Promise<{ jobId: string; returnvalue: unknown }>;
}

/**
 * `queue` seen from outside the pool: a raw queue, and its events from the
 * queue's start (a fresh queue), so none is missed. Both close at dispose.
 */
export async function watchQueue(redis: Redis, queue: string): Promise<WatchedQueue> {
  const url = new URL(redis.url);
  const connection = { host: url.hostname, port: Number(url.port) };
  const events = new QueueEvents(queue, { connection, lastEventId: "0-0" });
  const raw = new Queue(queue, { connection });
  await events.waitUntilReady();
  return {
    raw,
    next: (event) =>
      new Promise((resolve) =>
        events.once(event, (args: { jobId: string }) => resolve(args.jobId))
      ),
    nextCompleted: () => new Promise((resolve) => events.once("completed", resolve)),
    async [Symbol.asyncDispose]() {
      await events.close();
      await raw.close();
    },
  };
}

/** The commands the tests send through a raw client (ioredis, under BullMQ's type). */
export interface RawRedis {
  call(...args: string[]): Promise<unknown>;
  dbsize(): Promise<number>;
  xrange(key: string, start: string, end: string): Promise<[string, string[]][]>;
}

/** Runs `use` with a raw client of `redis`'s server (database 0, no user), closed after. */
export async function withRedisClient<T>(
  redis: Redis,
  use: (client: RawRedis) => Promise<T>,
): Promise<T> {
  const connection = new RedisConnection({ host: "127.0.0.1", port: redis.port }, {
    blocking: false,
  });
  try {
    return await use((await connection.client) as unknown as RawRedis);
  } finally {
    await connection.close();
  }
}

/** A queue name of its own for each test. */
export function queueName(test: string): string {
  return `fastpool-test-${test}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Disposes of a pool with a bounded shutdown, for tests whose nodes may be
 * gone when the pool is disposed (after a failed assertion).
 */
export function bounded(pool: { shutdown(timeout?: number): Promise<boolean> }): AsyncDisposable {
  return { [Symbol.asyncDispose]: async () => void await pool.shutdown(2000) };
}

/**
 * Checks that a node stopped by a signal left gracefully: it printed that
 * it closed, and exited 0. (Deno's `node:child_process` reports the signal
 * that was sent instead of the exit code, so there the line is the proof.)
 */
export function leftGracefully(node: Child, exit: { code: number | null }): boolean {
  return /: closed$/m.test(node.output) && (!isBun || exit.code === 0);
}

/**
 * A TCP relay to `redis`'s server, for a client's connections to be cut and
 * held apart from everyone else's: `cut()` has the server close each
 * connection that came through it (`CLIENT KILL`), and `holdEvents(ms)`
 * holds, for `ms` from now, what a BullMQ `QueueEvents` connection (its
 * `XREAD`) sends: one connection that comes back later than the others.
 */
export class RedisRelay implements AsyncDisposable {
  readonly #server: Server;
  readonly #redis: Redis;
  readonly #upstream = new Set<Socket>();
  #holdUntil = 0;
  readonly url: string;

  private constructor(server: Server, redis: Redis, port: number) {
    this.#server = server;
    this.#redis = redis;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(redis: Redis): Promise<RedisRelay> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const relay = new RedisRelay(server, redis, (server.address() as { port: number }).port);
    server.on("connection", (client: Socket) => relay.#pipe(client));
    return relay;
  }

  #pipe(client: Socket): void {
    const server = connect(this.#redis.port, "127.0.0.1");
    this.#upstream.add(server);
    server.pipe(client);
    let held: Buffer[] | null = null;
    client.on("data", (data: Buffer) => {
      const left = this.#holdUntil - Date.now();
      if (held === null && left > 0 && /xread/i.test(data.toString("latin1"))) {
        held = [];
        setTimeout(() => {
          for (const part of held!) server.write(part);
          held = null;
        }, left);
      }
      if (held !== null) held.push(data);
      else server.write(data);
    });
    const end = () => {
      this.#upstream.delete(server);
      server.destroy();
      client.destroy();
    };
    for (const socket of [server, client]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  }

  /** Holds an events connection's commands for `ms` from now (see the class). */
  holdEvents(ms: number): void {
    this.#holdUntil = Date.now() + ms;
  }

  /** Has the server close every connection that came through the relay; returns how many. */
  async cut(): Promise<number> {
    const ports = [...this.#upstream].map((socket) => socket.localPort).filter((port) => port);
    return await withRedisClient(this.#redis, async (client) => {
      let closed = 0;
      for (const port of ports) {
        closed += Number(await client.call("CLIENT", "KILL", "ADDR", `127.0.0.1:${port}`));
      }
      return closed;
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const socket of this.#upstream) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
