/**
 * `serve()`: a node. A BullMQ `Worker` takes chunks from the queue and runs
 * their items on a local fastpool `Pool`, so every core of the machine works
 * at fastpool's per-item cost; each chunk's outcomes go back as the job's
 * return value.
 *
 * @module
 */

import { type Job, Worker } from "bullmq";
import { Pool } from "../pool/pool.ts";
import { resolveMaxChildren } from "../pool/options.ts";
import { checkInteger, checkOptionsObject, describe } from "../_checks.ts";
import { MAX_DELAY } from "../timers/clock.ts";
import {
  type ChunkData,
  type ChunkResult,
  encodeFailure,
  jsonProblem,
  type JsonSize,
  MAX_JSON_CHARS,
  MAX_RESULT_CHARS,
  ResultBudget,
  resultProblem,
  VALUE_CHARS,
  WIRE_VERSION,
} from "./_wire.ts";
import { checkDatabase, type RedisConnection, redisOptions } from "./connection.ts";
import { SILENT_MS } from "./_link.ts";
import { saveForRetry } from "./_retry.ts";
import { checkKnown, checkQueueName } from "./options.ts";

/**
 * Options of {@linkcode serve}.
 *
 * @example Usage
 * ```ts
 * import type { ServeOptions } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * const options: ServeOptions = {
 *   connection: "redis://127.0.0.1:6379",
 *   queue: "tasks",
 *   module: new URL("./tasks.ts", import.meta.url),
 *   maxChildren: 4,
 * };
 * assert.equal(options.maxChildren, 4);
 * ```
 */
export interface ServeOptions {
  /** Redis: a `redis://` or `rediss://` URL, or an object (as for `ClusterPool`). */
  connection: string | RedisConnection;
  /** The BullMQ queue name the producers use. */
  queue: string;
  /** The task module, an absolute URL: its exports are the tasks. */
  module: string | URL;
  /**
   * Workers of the local pool. `> 0`: that many; `<= 0`: CPU cores plus the value.
   *
   * @default {navigator.hardwareConcurrency}
   */
  maxChildren?: number | undefined;
  /**
   * Chunks this node runs at once (BullMQ `concurrency`): while one
   * finishes and goes back, the next keeps the workers busy.
   *
   * @default {2}
   */
  concurrency?: number | undefined;
  /**
   * BullMQ `lockDuration`: ms a chunk stays locked to this node without a
   * renewal; a node that dies loses its chunks to others after about the
   * longer of this and `stalledInterval`, plus `stalledInterval` (BullMQ's
   * check marks a chunk on a pass after its lock expired and hands it over on
   * the next).
   * A node too busy to renew it meanwhile (writing hundreds of MB of results
   * back) loses the chunk too: keep it well above that.
   * At most `2 ** 31 - 1` (BullMQ's timers take no longer delay).
   *
   * @default {30000}
   */
  lockDuration?: number | undefined;
  /**
   * BullMQ `stalledInterval`: ms between checks for chunks of dead nodes
   * (see `lockDuration`). At most `2 ** 31 - 1`.
   *
   * @default {30000}
   */
  stalledInterval?: number | undefined;
  /**
   * BullMQ `maxStalledCount`: times a chunk may be handed back after its
   * node died before it fails (`0`: it fails the first time).
   *
   * @default {1}
   */
  maxStalledCount?: number | undefined;
  /**
   * Called with the errors BullMQ reports while the node runs; without it
   * they are dropped. Most are the Redis connection's (unreachable, refused
   * credentials): the client retries, and the node takes work once Redis
   * answers. Some are a chunk's own, e.g. its lock lost while the node was
   * too slow to renew it: its result is dropped, and the chunk runs again
   * elsewhere or fails as `maxStalledCount` says.
   */
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * A running node: `close()` stops taking chunks, finishes the ones in hand
 * and closes the local pool and the Redis connections.
 *
 * @example Usage
 * ```ts
 * import type { ClusterNode } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * const closed: string[] = [];
 * const node: ClusterNode = { id: "n1", workers: 2, close: async () => void closed.push("n1") };
 * await node.close();
 * assert.deepEqual(closed, ["n1"]);
 * ```
 */
export interface ClusterNode {
  /** This node's name, as producers see it in results. */
  readonly id: string;
  /** Workers of its local pool. */
  readonly workers: number;
  /** Graceful stop: no new chunks; those in hand finish and go back. */
  close(): Promise<void>;
}

const KNOWN = [
  "connection",
  "queue",
  "module",
  "maxChildren",
  "concurrency",
  "lockDuration",
  "stalledInterval",
  "maxStalledCount",
  "onError",
];

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;
const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;

/**
 * Starts a node: imports `module` once on this thread (to check task names
 * and kinds, and fail now if it cannot load), starts a local `Pool` of
 * `maxChildren` workers on it, and takes chunks of `queue` from Redis.
 * Resolves once it is ready to take work.
 *
 * A task name must be an own export of the module that is a function;
 * anything else (`"constructor"`, `"__proto__"`, a missing name) fails that
 * item with the local pool's `TypeError`, as on `Pool`.
 *
 * @param options Where Redis is, the queue, the task module and the pool size.
 * @returns The running node.
 * @throws {TypeError | RangeError} For a bad option; rejects if the module cannot be imported.
 *
 * @example A bad option is refused before anything starts
 * ```ts
 * import { serve } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   serve({ connection: "redis://127.0.0.1:6379", queue: "tasks", module: "./tasks.ts" }),
 *   /"module" must be an absolute URL/,
 * );
 * ```
 *
 * @example Usage (needs Redis)
 * ```ts ignore
 * import { serve } from "@fastpool/fastpool/cluster";
 *
 * const node = await serve({
 *   connection: "redis://127.0.0.1:6379",
 *   queue: "tasks",
 *   module: new URL("./tasks.ts", import.meta.url),
 * });
 * Deno.addSignalListener("SIGTERM", () => node.close());
 * ```
 */
export async function serve(options: ServeOptions): Promise<ClusterNode> {
  const what = "serve queue";
  checkOptionsObject(options, what);
  checkKnown(options, KNOWN, what);
  const redis = redisOptions(options.connection, what);
  const queue = checkQueueName(options.queue, what);
  const module = toModuleUrl(options.module, what);
  const workers = resolveMaxChildren(options.maxChildren, what);
  const concurrency = positive(options.concurrency, 2, "concurrency", what);
  // BullMQ waits these out with setTimeout, which fires at once past 2 ** 31 - 1 ms.
  const lockDuration = positive(options.lockDuration, 30_000, "lockDuration", what, MAX_DELAY);
  const stalledInterval = positive(
    options.stalledInterval,
    30_000,
    "stalledInterval",
    what,
    MAX_DELAY,
  );
  // 0: a chunk whose node died fails at once (BullMQ's meaning).
  const maxStalledCount = positive(
    options.maxStalledCount,
    1,
    "maxStalledCount",
    what,
    Infinity,
    0,
  );
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(
      `Cannot ${what}: "onError" must be a function, received ${describe(onError)}`,
    );
  }

  const { ns: namespace } = await importTasks(module);
  await checkDatabase(redis, what, (error) => onError?.(error));
  /** Whether export `name` is a generator function: its values then travel as one array. */
  const generators = new Map<string, boolean>();
  const isGenerator = (name: string): boolean => {
    let generator = generators.get(name);
    if (generator === undefined) {
      const fn = Object.hasOwn(namespace, name) ? namespace[name] : undefined;
      generator = fn instanceof GeneratorFunction || fn instanceof AsyncGeneratorFunction;
      generators.set(name, generator);
    }
    return generator;
  };

  const runner = new Runner(module, workers, isGenerator);
  const id = `${randomId()}-${workers}w`;
  const worker: Worker = new Worker(
    queue,
    (job: Job, token?: string): Promise<ChunkResult> =>
      keepLocked(job, token, lockDuration, () => runChunk(job, runner, id, worker)),
    {
      connection: { ...redis },
      concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
      autorun: false,
    },
  );
  // Connection errors are retried by the client, a lost lock drops its
  // chunk's result; a listener keeps them from being thrown as unhandled
  // "error" events.
  worker.on("error", (error) => onError?.(error));
  /** BullMQ's Redis clients (ioredis): the blocking one (which BullMQ hands out here) and the other. */
  let clients: unknown[];
  try {
    clients = [await worker.waitUntilReady(), await worker.client];
  } catch (error) {
    await Promise.allSettled([worker.close(true), runner.pool.shutdown()]);
    throw error;
  }
  const running = worker.run().catch(() => {});
  let closing: Promise<void> | null = null;
  return {
    id,
    workers,
    close() {
      closing ??= (async () => {
        let reported = false;
        // BullMQ's close() cuts the blocking client first, and an ioredis
        // client cut while it waits to reconnect never ends (nor does the
        // close): one not connected is waited for first, as Redis is below.
        if (await isBack(clients[0] as ClientStatus, runner.pool.wait())) {
          const closed = worker.close().then(() => running).then(() => true);
          // Watched on the other client only: BullMQ's close() cuts the blocking
          // one itself, first, and then reports the chunks in hand on the other.
          const away = new Away(runner.pool.wait(), clients[1] as ClientStatus);
          reported = await Promise.race([closed, away.decided]);
          away.end();
        } else {
          worker.close(true).catch(() => {}); // its loop and timers stop; it waits for nothing
        }
        if (!reported) {
          // BullMQ's close waits for Redis to hear of the chunks in hand,
          // which an unreachable Redis does not: they finish here and the
          // node leaves without reporting them (they run on other nodes once
          // their locks expire), its connections cut.
          await runner.pool.wait();
          leaveWithoutRedis(worker, clients);
        }
        await stopStalledCheck(worker);
        await runner.pool.shutdown();
      })();
      return closing;
    },
  };
}

/**
 * Whether `client` is connected, or connects before it counts as away
 * (`Away`: once the node's own work is `done`, `AWAY_MS` without a connection).
 */
async function isBack(client: ClientStatus, done: Promise<unknown>): Promise<boolean> {
  if (client.status === "ready") return true;
  const away = new Away(done, client);
  let onReady!: () => void;
  const ready = new Promise<true>((resolve) => {
    onReady = () => resolve(true);
    client.on("ready", onReady);
  });
  try {
    return await Promise.race([ready, away.decided]);
  } finally {
    away.end();
    client.off("ready", onReady);
  }
}

/**
 * How long a node told to stop waits, once its own work is done, for its
 * connection to Redis to come back before it leaves without reporting (see
 * `close()`). BullMQ's client tries again after 1 s, then every 1 s or more:
 * a connection cut for a moment (a proxy restarted, `CLIENT KILL`) is back
 * well within it, and the report goes out.
 */
const AWAY_MS = 3_000;

/**
 * Decides that Redis is away, once the node's own work is done: its client
 * has had no connection for `AWAY_MS`, or `SILENT_MS` passed without the
 * report (a Redis that keeps its connections but does not answer never
 * closes them). `decided` then resolves to false; never, if `end()` comes
 * first.
 */
class Away {
  readonly decided: Promise<false>;
  readonly #client: ClientStatus;
  #silent: ReturnType<typeof setTimeout> | undefined;
  #cut: ReturnType<typeof setTimeout> | undefined;
  #ended = false;
  #decide!: (away: false) => void;

  constructor(done: Promise<unknown>, client: ClientStatus) {
    this.#client = client;
    this.decided = new Promise((resolve) => this.#decide = resolve);
    void done.then(() => {
      if (this.#ended) return;
      this.#silent = setTimeout(() => this.#decide(false), SILENT_MS);
      client.on("close", this.#look);
      client.on("ready", this.#look);
      this.#look();
    });
  }

  /** The race is over: no timer or listener is left. */
  end(): void {
    this.#ended = true;
    clearTimeout(this.#silent);
    clearTimeout(this.#cut);
    this.#client.off("close", this.#look);
    this.#client.off("ready", this.#look);
  }

  #look = (): void => {
    if (this.#ended) return;
    if (this.#client.status === "ready") {
      clearTimeout(this.#cut); // back: the report may go out yet
      this.#cut = undefined;
    } else {
      this.#cut ??= setTimeout(() => this.#decide(false), AWAY_MS);
    }
  };
}

/**
 * Cuts a BullMQ worker off a Redis that is away, when its `close()` waits for
 * Redis to hear of the chunks in hand. Through BullMQ's own connections
 * first: closing marks them so, and BullMQ then stops retrying the chunks'
 * reports (on a client cut under it, each retry fails at once and is tried
 * again without delay, for ever: a spinning thread once Redis is back). Then
 * the clients themselves (a reconnecting client never emits the "end" that
 * BullMQ's close waits for), and the timer that `close()` would stop only
 * once Redis answered: the lock renewal, which re-arms itself every half
 * `lockDuration`; left, it keeps the program alive for ever (the stalled
 * check's sleep is {@linkcode stopStalledCheck}'s, on every close). (BullMQ
 * 5.81.5's own fields; `close(true)` after `close()` does nothing, and
 * `close()` must come first: it finishes the chunks in hand.)
 */
function leaveWithoutRedis(worker: Worker, clients: unknown[]): void {
  const own = worker as unknown as {
    connection?: { close?(force: boolean): Promise<void> };
    blockingConnection?: { close?(force: boolean): Promise<void> };
    lockManager?: { close?(): unknown };
  };
  own.blockingConnection?.close?.(true).catch(() => {});
  own.connection?.close?.(true).catch(() => {});
  for (const client of clients) (client as ClientStatus).disconnect();
  void own.lockManager?.close?.();
}

/**
 * Stops BullMQ's stalled check for good once its `close()` has run. BullMQ
 * 5.81.5 arms the check's next sleep (`stalledInterval`, 30 s by default)
 * without looking whether the worker closed meanwhile: a `close()` that
 * came while a check was under way left that sleep behind, and the program
 * alive for it (on Bun, 2 to 4 closes in 10). Stopped again until the
 * check's loop has ended, for at most a second.
 */
async function stopStalledCheck(worker: Worker): Promise<void> {
  const own = worker as unknown as {
    stalledCheckerRunning?: boolean;
    stalledCheckStopper?: () => void;
  };
  for (let looks = 0; own.stalledCheckerRunning === true && looks < 100; looks++) {
    own.stalledCheckStopper?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The part of BullMQ's Redis client (ioredis) that says whether Redis answers, and cuts it. */
interface ClientStatus {
  readonly status: string;
  on(event: "close" | "ready", listener: () => void): unknown;
  off(event: "close" | "ready", listener: () => void): unknown;
  disconnect(): void;
}

/** A chunk's items on their way through the local pool's `map`. */
interface Mapped {
  first: number;
  count: number;
  settle(k: number, value: unknown, failed: boolean): void;
}

/**
 * Runs items on the node's local `Pool`. Plain one-argument items go
 * through `map` (results by callback, about 5× cheaper per item than a
 * promise per `run` here); generators, several arguments and timeouts go
 * through `run`/`exec`.
 */
class Runner {
  readonly pool: Pool;
  readonly workers: number;
  readonly isGenerator: (name: string) => boolean;
  /** Maps in flight, to route a failure (the pool's `failedCallback`) by job id. */
  readonly #mapped: Mapped[] = [];

  constructor(module: string, workers: number, isGenerator: (name: string) => boolean) {
    this.workers = workers;
    this.isGenerator = isGenerator;
    this.pool = new Pool({
      module,
      maxChildren: workers,
      minChildren: workers,
      failedCallback: (error, id) => this.#find(id)?.settle(id, error, true),
    });
  }

  /** Runs `items[indices[k]]` (or every item) and calls `settle(index, value, failed)` once per item. */
  run(
    task: string,
    one: boolean,
    items: unknown[],
    indices: number[] | null,
    timeout: number,
    settle: (index: number, value: unknown, failed: boolean) => void,
  ): Promise<void> {
    const count = indices === null ? items.length : indices.length;
    if (count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let left = count;
      const done = (index: number, value: unknown, failed: boolean) => {
        settle(index, value, failed);
        if (--left === 0) resolve();
      };
      if (one && timeout === 0 && !this.isGenerator(task)) {
        this.#map(task, indices === null ? items : indices.map((i) => items[i]), indices, done);
        return;
      }
      for (let k = 0; k < count; k++) {
        const i = indices === null ? k : indices[k]!;
        const item = items[i];
        const args = one ? [item] : item as unknown[];
        const promise = timeout > 0
          ? this.pool.exec(task, args, { timeout })
          : this.pool.run(task, ...args);
        promise.then((value) => done(i, value, false), (error) => done(i, error, true));
      }
    });
  }

  #map(
    task: string,
    values: unknown[],
    indices: number[] | null,
    done: (index: number, value: unknown, failed: boolean) => void,
  ): void {
    let left = values.length;
    const entry: Mapped = {
      first: 0,
      count: values.length,
      settle: (id, value, failed) => {
        const k = id - entry.first;
        if (--left === 0) this.#mapped.splice(this.#mapped.indexOf(entry), 1);
        done(indices === null ? k : indices[k]!, value, failed);
      },
    };
    let n: number;
    try {
      n = this.pool.map(task, values, (value, id) => entry.settle(id, value, false));
    } catch (error) {
      // A name the module lacks, refused at once once a worker has started: each
      // item fails with it, as it does when a worker finds it missing.
      for (let k = 0; k < values.length; k++) done(indices === null ? k : indices[k]!, error, true);
      return;
    }
    // Queued jobs wait in `jobs` until the end of this tick: the last n are this map's.
    entry.first = this.pool.jobs.at(-n)!.id;
    this.#mapped.push(entry);
  }

  #find(id: number): Mapped | undefined {
    for (const entry of this.#mapped) {
      if (id >= entry.first && id < entry.first + entry.count) return entry;
    }
    return undefined;
  }
}

/** What JSON writes for `values`, in characters; `MAX_RESULT_CHARS` if it cannot write them. */
function written(values: unknown[]): number {
  try {
    return JSON.stringify(values).length;
  } catch {
    return MAX_RESULT_CHARS;
  }
}

/**
 * Runs `body`, a run of chunk `job`, renewing the chunk's lock itself every
 * half `lockDuration` until it ends, beside BullMQ's own renewal. A node
 * paused past a chunk's lock (SIGSTOP, a debugger, a frozen VM) finds, once
 * it goes on, that chunk handed back, and may take it again while its first
 * run still goes, or still reports (Redis round trips after its body): BullMQ
 * keeps one renewal per job id, and the first run's end removes the
 * second's, which then stalled again and failed as a whole. (The first
 * run's result is dropped: its lock is gone, and so are its renewals.)
 */
async function keepLocked<T>(
  job: Job,
  token: string | undefined,
  lockDuration: number,
  body: () => Promise<T>,
): Promise<T> {
  const renewal = token === undefined ? undefined : setInterval(() => {
    job.extendLock(token, lockDuration).catch(() => {}); // lost: BullMQ says so at the end
  }, Math.max(1, lockDuration / 2));
  try {
    return await body();
  } finally {
    if (renewal !== undefined) clearInterval(renewal);
  }
}

/** Runs one chunk's items; BullMQ retries the failed ones while attempts remain. */
async function runChunk(
  job: Job,
  runner: Runner,
  node: string,
  worker: Worker,
): Promise<ChunkResult> {
  const started = performance.now();
  const data = job.data as ChunkData;
  if (data?.v !== WIRE_VERSION || typeof data.task !== "string" || !Array.isArray(data.items)) {
    throw new TypeError(
      `Cannot run chunk: unknown format (version ${
        describe(data?.v)
      }; this node speaks ${WIRE_VERSION})`,
    );
  }
  const n = data.items.length;
  const priorProblem = data.prior === undefined ? undefined : resultProblem(data.prior, n);
  if (priorProblem !== undefined) {
    // Written by another make or by hand: its fields are read in callbacks
    // where a throw would end the node.
    throw new TypeError(
      `Cannot run chunk: its earlier attempt's result has an unknown format (${priorProblem})`,
    );
  }
  const result: ChunkResult = data.prior ?? {
    v: WIRE_VERSION,
    values: new Array(n).fill(null),
    undef: [],
    errors: [],
    gen: false,
    node,
    workers: runner.workers,
    ms: 0,
  };
  const indices = data.left ?? null;
  const count = indices === null ? n : indices.length;
  // A name that is not a function exported by the module runs anyway: the
  // local pool fails it with its own TypeError, the same as on `Pool`.
  result.gen = runner.isGenerator(data.task);
  const errors: [number, unknown][] = [];
  const values = result.values;
  // An earlier attempt's results go back with this one's: they count first.
  const budget = new ResultBudget(
    MAX_RESULT_CHARS,
    data.prior === undefined ? 0 : written(result.values),
  );
  await runner.run(data.task, data.one, data.items, indices, data.timeout, (i, value, failed) => {
    if (failed) {
      errors.push([i, value]);
    } else if (typeof value === "number" && Number.isFinite(value)) {
      values[i] = value;
    } else if (value === undefined) {
      result.undef.push(i);
    } else {
      if (result.gen && Array.isArray(value) && value.includes(undefined)) {
        // What a generator yielded: an `undefined` value crosses as null and its place.
        value = value.map((yielded, place) => {
          if (yielded !== undefined) return yielded;
          (result.undefYields ??= []).push([i, place]);
          return null;
        });
      }
      const size: JsonSize = { chars: 0 };
      let problem: string | undefined;
      if (typeof value === "string" && value.length <= MAX_JSON_CHARS / 6) {
        size.chars = VALUE_CHARS + value.length;
      } else problem = jsonProblem(value, size);
      if (problem) {
        errors.push([i, new TypeError(`Cannot return result: it is not JSON-safe (${problem})`)]);
        return;
      }
      const over = budget.take(value, size.chars);
      if (over) errors.push([i, new TypeError(`Cannot return result: ${over}`)]);
      else values[i] = value;
    }
  });
  result.node = node;
  result.workers = runner.workers;
  result.ms = performance.now() - started;
  const attempts = job.opts.attempts ?? 1;
  // Keep what succeeded in the job, and let BullMQ retry the rest after its
  // backoff; not if the producer gave the items up (a `shutdown(timeout)`, or
  // every item cancelled or aborted) while they ran here: it emptied the
  // chunk, and the check and the write are one step in Redis, so a give-up
  // between them cannot be overwritten (see `_retry.ts`).
  if (
    errors.length !== 0 && job.attemptsMade + 1 < attempts &&
    await saveForRetry(worker, job.id!, { ...data, prior: result, left: errors.map(([i]) => i) })
  ) {
    const [, first] = errors[0]!;
    throw new Error(
      `${errors.length} of ${count} items failed (first: ${
        (first as Error)?.message ?? String(first)
      }); BullMQ retries them`,
    );
  }
  // Failures count against the chunk's budget too: many long ones passed what Redis takes.
  for (const [i, error] of errors) {
    const encoded = encodeFailure(error);
    const over = budget.take(encoded, JSON.stringify(encoded).length);
    result.errors.push([
      i,
      over === undefined ? encoded : encodeFailure(
        new TypeError(`Cannot return the task's failure (${failureLine(error)}): ${over}`),
      ),
    ]);
  }
  result.chars = budget.spent; // the producer sizes the task's next chunks by it
  return result;
}

/**
 * `import()` of a URL known only at run time, out of `deno publish`'s sight
 * (there is nothing to rewrite: the URL is absolute).
 */
// deno-lint-ignore no-eval
const importUrl = (0, eval)("(url) => import(url)") as (url: string) => Promise<unknown>;

/**
 * Imports the task module through a one-line wrapper that re-exports its
 * namespace as `ns`: a module exporting `then` would otherwise be taken for
 * a promise by `import()`, which would call that export here. Such a module
 * is refused, as the local pool refuses it.
 */
async function importTasks(url: string): Promise<{ ns: Record<string, unknown> }> {
  const source = `import * as ns from ${JSON.stringify(url)};\nexport { ns };\n`;
  const loaded = await importUrl(`data:text/javascript;base64,${btoa(source)}`) as {
    ns: Record<string, unknown>;
  };
  if (typeof loaded.ns.then === "function") {
    throw new TypeError(
      `Cannot serve queue: the task module ${url} exports "then", which makes it look like a promise to import(); rename that export`,
    );
  }
  return loaded;
}

function toModuleUrl(value: unknown, what: string): string {
  if (typeof value === "string" || value instanceof URL) {
    try {
      return new URL(value).href;
    } catch {
      // fall through
    }
  }
  throw new TypeError(
    `Cannot ${what}: "module" must be an absolute URL (e.g. new URL("./tasks.ts", import.meta.url)), received ${
      JSON.stringify(String(value))
    }`,
  );
}

function positive(
  value: unknown,
  fallback: number,
  name: string,
  what: string,
  max = Infinity,
  min = 1,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${what}: "${name}" must be a number, received ${describe(value)}`);
  }
  checkInteger(value, name, what, min, max);
  return value;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A failure's first line, `name: message`, at most 200 characters, for a message about it. */
function failureLine(error: unknown): string {
  let line: string;
  try {
    line = error instanceof Error ? `${error.name}: ${error.message}` : describe(error);
  } catch {
    line = describe(error); // a getter that throws
  }
  return line.length <= 200 ? line : `${line.slice(0, 200)}…`;
}
