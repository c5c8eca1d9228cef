/**
 * `new ClusterPool(options)`: the options, their defaults and their checks.
 * Options that mean the same as `Pool`'s keep `Pool`'s names.
 *
 * @module
 */

import type { LogLevel } from "../pool/options.ts";
import {
  checkBoolean,
  checkDuration,
  checkInteger,
  checkOptionsObject,
  checkTimeout,
} from "../_checks.ts";
import { checkOptionNames, refuseNulls } from "../_option_names.ts";
import { describe } from "../_checks.ts";
import { type RedisConnection, type RedisOptions, redisOptions } from "./connection.ts";

/**
 * How long BullMQ waits before retrying a failed chunk: a fixed delay in ms,
 * or BullMQ's `{ type: "fixed" | "exponential", delay }`.
 *
 * @example Usage
 * ```ts
 * import type { Backoff } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * const backoff: Backoff = { type: "exponential", delay: 100 }; // 100, 200, 400 ms…
 * assert.equal(backoff.type, "exponential");
 * ```
 */
export type Backoff = number | { type: "fixed" | "exponential"; delay: number };

/**
 * Options of `new ClusterPool()`. Time is in milliseconds.
 *
 * @example Usage
 * ```ts
 * import { ClusterPool, type ClusterPoolOptions } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * const options: ClusterPoolOptions = {
 *   connection: "redis://127.0.0.1:6379",
 *   queue: "fib",
 *   resultId: true,
 *   attempts: 3,
 *   backoff: { type: "exponential", delay: 100 },
 * };
 * await using pool = new ClusterPool(options); // connects on the first submit
 * assert.equal(pool.pending, 0);
 * ```
 */
export interface ClusterPoolOptions {
  /** Redis: a `redis://` or `rediss://` URL (user, password and db in it), or an object. */
  connection: string | RedisConnection;
  /** The BullMQ queue name; nodes serving the same name take its chunks. */
  queue: string;
  /** Called with every result of an item that has no callback of its own. */
  doneCallback?: ((result: unknown, jobId: number) => void) | undefined;
  /** Called with every failure; failures then skip `failed`. */
  failedCallback?: ((error: unknown, jobId: number) => void) | undefined;
  /** Called with the id of every item cancelled before it ran. */
  cancelledCallback?: ((jobId: number) => void) | undefined;
  /** Logs every failure, and every Redis outage, with `console` at this level. */
  logLevel?: LogLevel | undefined;
  /**
   * Entries of `done` are `[jobId, result]` and of `failed` `[jobId, error]`.
   *
   * @default {false}
   */
  resultId?: boolean | undefined;
  /**
   * Most items queued (on the producer, or in Redis and not yet taken by a
   * node); one more is refused with `QueueFullError`.
   *
   * @default {Infinity}
   */
  maxQueue?: number | undefined;
  /**
   * Milliseconds an item may run on its node; past it the item fails with
   * `TaskTimeoutError` and the node's worker is replaced.
   */
  taskTimeout?: number | undefined;
  /**
   * BullMQ `attempts` of each chunk: items that failed are run again, after
   * `backoff`, until this many attempts; then they fail with their last error.
   *
   * @default {1}
   */
  attempts?: number | undefined;
  /** BullMQ `backoff` between attempts. */
  backoff?: Backoff | undefined;
  /**
   * Milliseconds of work a chunk aims at, on one node's workers, once a
   * task's run time is measured.
   *
   * @default {50}
   */
  chunkTime?: number | undefined;
  /**
   * Most items in one chunk (one BullMQ job).
   *
   * @default {20000}
   */
  maxChunk?: number | undefined;
  /**
   * Milliseconds Redis may stay unreachable while items are pending; past it
   * every pending item fails with `RedisUnavailableError`. `Infinity` waits
   * for Redis however long it takes.
   *
   * @default {30000}
   */
  offlineTimeout?: number | undefined;
  /**
   * Milliseconds between checks of the chunks out: a chunk Redis no longer
   * knows on two checks in a row (its completion event was lost, e.g.
   * trimmed from the events stream while this producer lagged) is added
   * again, so it runs again rather than never ending.
   *
   * @default {5000}
   */
  sweepInterval?: number | undefined;
}

/**
 * Options of {@linkcode ClusterPool.exec}: `Pool.exec`'s that apply across
 * machines. (`transfer`, `first`, `priority` and `onProgress` do not; passed
 * anyway, each is a `TypeError`.)
 *
 * @example Usage
 * ```ts
 * import type { ClusterExecOptions } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * const options: ClusterExecOptions = { timeout: 5_000, signal: new AbortController().signal };
 * assert.equal(options.timeout, 5_000);
 * ```
 */
export interface ClusterExecOptions {
  /**
   * Aborting cancels the item if queued (its chunk is removed from Redis);
   * a running one keeps running on its node, and its result is dropped.
   */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds the item may run on its node, then `TaskTimeoutError`.
   * `0` or `Infinity`: no limit, not even the pool's `taskTimeout`.
   */
  timeout?: number | undefined;
}

/** Options after defaults and checks. */
export interface ResolvedClusterOptions {
  redis: RedisOptions;
  queue: string;
  doneCallback: ((result: unknown, jobId: number) => void) | undefined;
  failedCallback: ((error: unknown, jobId: number) => void) | undefined;
  cancelledCallback: ((jobId: number) => void) | undefined;
  logLevel: LogLevel | undefined;
  resultId: boolean;
  maxQueue: number;
  taskTimeout: number;
  attempts: number;
  backoff: { type: "fixed" | "exponential"; delay: number } | undefined;
  chunkTime: number;
  maxChunk: number;
  offlineTimeout: number;
  sweepInterval: number;
}

const WHAT = "create cluster pool";
const KNOWN = [
  "connection",
  "queue",
  "doneCallback",
  "failedCallback",
  "cancelledCallback",
  "logLevel",
  "resultId",
  "maxQueue",
  "taskTimeout",
  "attempts",
  "backoff",
  "chunkTime",
  "maxChunk",
  "offlineTimeout",
  "sweepInterval",
];
/** The options with a default. */
const OPTIONAL = KNOWN.filter((name) => name !== "connection" && name !== "queue");

const LOG_LEVELS = ["error", "warn", "info", "debug"];

/**
 * Applies defaults and checks every option.
 *
 * @throws {TypeError | RangeError} Naming the option.
 */
export function resolveClusterOptions(options: unknown): ResolvedClusterOptions {
  checkOptionsObject(options, WHAT, 'an object with "connection" and "queue"');
  checkKnown(options, KNOWN, WHAT);
  refuseNulls(options, OPTIONAL, WHAT); // connection and queue have no default: checked below
  const o = options as ClusterPoolOptions;
  const redis = redisOptions(o.connection, WHAT);
  const queue = checkQueueName(o.queue, WHAT);
  for (const name of ["doneCallback", "failedCallback", "cancelledCallback"] as const) {
    if (o[name] !== undefined && typeof o[name] !== "function") {
      throw new TypeError(
        `Cannot ${WHAT}: "${name}" must be a function, received ${describe(o[name])}`,
      );
    }
  }
  if (o.logLevel !== undefined && !LOG_LEVELS.includes(o.logLevel)) {
    throw new TypeError(
      `Cannot ${WHAT}: "logLevel" must be one of ${LOG_LEVELS.join(", ")}, received ${
        describe(o.logLevel)
      }`,
    );
  }
  const maxQueue = o.maxQueue ?? Infinity;
  if (maxQueue !== Infinity) checkInteger(maxQueue, "maxQueue", WHAT, 1);
  const taskTimeout = o.taskTimeout ?? 0;
  checkTimeout(taskTimeout, "taskTimeout", WHAT);
  const attempts = o.attempts ?? 1;
  checkInteger(attempts, "attempts", WHAT, 1);
  const chunkTime = o.chunkTime ?? 50;
  checkDuration(chunkTime, "chunkTime", WHAT);
  const maxChunk = o.maxChunk ?? 20_000;
  checkInteger(maxChunk, "maxChunk", WHAT, 1);
  if (o.resultId !== undefined) checkBoolean(o.resultId, "resultId", WHAT);
  const offlineTimeout = o.offlineTimeout ?? 30_000;
  if (offlineTimeout !== Infinity) checkDuration(offlineTimeout, "offlineTimeout", WHAT);
  const sweepInterval = o.sweepInterval ?? 5000;
  checkDuration(sweepInterval, "sweepInterval", WHAT);
  return {
    redis,
    queue,
    doneCallback: o.doneCallback,
    failedCallback: o.failedCallback,
    cancelledCallback: o.cancelledCallback,
    logLevel: o.logLevel,
    resultId: o.resultId === true,
    maxQueue,
    taskTimeout: taskTimeout === Infinity ? 0 : taskTimeout,
    attempts,
    backoff: resolveBackoff(o.backoff),
    chunkTime: Math.max(chunkTime, 1),
    maxChunk,
    offlineTimeout,
    sweepInterval: Math.max(sweepInterval, 10),
  };
}

function resolveBackoff(
  backoff: unknown,
): { type: "fixed" | "exponential"; delay: number } | undefined {
  if (backoff === undefined) return undefined;
  if (typeof backoff === "number") {
    checkDuration(backoff, "backoff", WHAT);
    return { type: "fixed", delay: backoff };
  }
  const { type, delay } = (backoff ?? {}) as { type?: unknown; delay?: unknown };
  if (type !== "fixed" && type !== "exponential") {
    throw new TypeError(
      `Cannot ${WHAT}: "backoff" must be a number of ms or { type: "fixed" | "exponential", delay }, received ${
        describe(backoff)
      }`,
    );
  }
  checkDuration(delay, "backoff.delay", WHAT);
  return { type, delay: delay as number };
}

/**
 * Checks a BullMQ queue name.
 *
 * @throws {TypeError} If it is not a non-empty string without `:`.
 */
export function checkQueueName(queue: unknown, what: string): string {
  if (typeof queue !== "string" || queue === "" || queue.includes(":")) {
    throw new TypeError(
      `Cannot ${what}: "queue" must be a non-empty string without ":", received ${describe(queue)}`,
    );
  }
  return queue;
}

/**
 * Refuses an option name that is not known, naming the closest known one.
 *
 * @throws {TypeError} For the first unknown name.
 */
export function checkKnown(options: object, known: readonly string[], what: string): void {
  checkOptionNames(options, known, what);
}
