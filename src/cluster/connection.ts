/**
 * Where Redis is: a `redis://` / `rediss://` URL or an object, turned into the
 * options BullMQ hands its Redis client (ioredis).
 *
 * @module
 */

import { RedisConnection as BullConnection } from "bullmq";
import { describe, thrownMessage } from "../_checks.ts";
import { checkOptionNames } from "../_option_names.ts";

/**
 * A Redis server to connect to, as an object. `tls` is `true` or the options
 * of `node:tls` `connect()` (e.g. `{ ca, servername }`), as BullMQ takes them.
 *
 * @example Usage
 * ```ts
 * import { ClusterPool, type RedisConnection } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * const connection: RedisConnection = { host: "127.0.0.1", port: 6379, password: "secret" };
 * // The constructor does not connect: the first submit does.
 * await using pool = new ClusterPool({ connection, queue: "jobs" });
 * assert.equal(pool.queue, "jobs");
 * ```
 */
export interface RedisConnection {
  /** Host name or address. */
  host: string;
  /** TCP port. */
  port: number;
  /** ACL user name (Redis 6 and later). */
  username?: string | undefined;
  /** Password (`AUTH`). */
  password?: string | undefined;
  /** Use TLS: `true`, or `node:tls` connect options. */
  tls?: boolean | Record<string, unknown> | undefined;
  /**
   * Database number.
   *
   * @default {0}
   */
  db?: number | undefined;
}

/** The options BullMQ passes to ioredis, for one connection. */
export interface RedisOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, unknown>;
  retryStrategy: (times: number) => number;
  disconnectTimeout: number;
  [key: string]: unknown;
}

/** The names a `connection` object may hold. */
const CONNECTION_KEYS: readonly (keyof RedisConnection)[] = [
  "host",
  "port",
  "username",
  "password",
  "tls",
  "db",
];

/**
 * Ms a cut connection's socket has to close before it is destroyed. ioredis
 * waits 2 s by default, on a timer that holds the program open: a program
 * that shut its pool down while Redis was away stayed 2 s for nothing.
 */
const DISCONNECT_TIMEOUT = 200;

/** Reconnect quickly, then every 2 s: a restarted Redis is found again within 2 s. */
function retryStrategy(times: number): number {
  return Math.min(times * 100, 2000);
}

/**
 * Resolves `connection` (a URL or an object) into ioredis options.
 *
 * @throws {TypeError | RangeError} Naming what is wrong, for `what` (e.g. "create cluster pool").
 */
export function redisOptions(connection: unknown, what: string): RedisOptions {
  if (typeof connection === "string") return fromUrl(connection, what);
  if (
    typeof connection !== "object" || connection === null || Array.isArray(connection) ||
    connection instanceof URL
  ) {
    throw new TypeError(
      `Cannot ${what}: "connection" must be a redis:// or rediss:// URL or { host, port }, received ${
        connection instanceof URL ? "a URL object (pass its href, a string)" : describe(connection)
      }`,
    );
  }
  checkOptionNames(connection, CONNECTION_KEYS, what, "connection.");
  const { host, port, username, password, tls, db } = connection as Partial<RedisConnection>;
  if (typeof host !== "string" || host === "") {
    throw new TypeError(
      `Cannot ${what}: "connection.host" must be a non-empty string, received ${describe(host)}`,
    );
  }
  checkPort(port, what);
  const options: RedisOptions = {
    host,
    port: port as number,
    retryStrategy,
    disconnectTimeout: DISCONNECT_TIMEOUT,
  };
  for (const [name, value] of [["username", username], ["password", password]] as const) {
    if (value === undefined) continue;
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot ${what}: "connection.${name}" must be a string, received ${describe(value)}`,
      );
    }
    options[name] = value;
  }
  if (tls !== undefined && tls !== false) {
    if (tls !== true && (typeof tls !== "object" || tls === null)) {
      throw new TypeError(
        `Cannot ${what}: "connection.tls" must be a boolean or an object of TLS options, received ${
          describe(tls)
        }`,
      );
    }
    options.tls = tls === true ? {} : { ...tls };
  }
  if (db !== undefined) options.db = checkDb(db, what);
  return options;
}

function fromUrl(text: string, what: string): RedisOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(
      `Cannot ${what}: "connection" must be a redis:// or rediss:// URL, received ${
        JSON.stringify(text.slice(0, 80))
      }`,
    );
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(
      `Cannot ${what}: "connection" must be a redis:// or rediss:// URL, received the scheme ${url.protocol}`,
    );
  }
  const port = url.port === "" ? 6379 : Number(url.port);
  checkPort(port, what);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  const options: RedisOptions = {
    host,
    port,
    retryStrategy,
    disconnectTimeout: DISCONNECT_TIMEOUT,
  };
  if (url.username !== "") options.username = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  const path = url.pathname.replace(/^\//, "");
  if (path !== "") options.db = checkDb(Number(path), what);
  if (url.protocol === "rediss:") options.tls = { servername: host };
  return options;
}

function checkPort(port: unknown, what: string): void {
  if (typeof port !== "number") {
    throw new TypeError(
      `Cannot ${what}: "connection.port" must be a port number, received ${describe(port)}`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Cannot ${what}: "connection.port" must be an integer from 1 to 65535, received ${port}`,
    );
  }
}

function checkDb(db: unknown, what: string): number {
  if (typeof db !== "number" || !Number.isSafeInteger(db) || db < 0) {
    throw new RangeError(
      `Cannot ${what}: the database must be ${
        Number.isInteger(db) && !Number.isSafeInteger(db) ? "a safe integer" : "an integer"
      } >= 0, received ${String(db)}`,
    );
  }
  return db;
}

/** `host:port` of resolved options, for messages (never the password). */
export function where(options: RedisOptions): string {
  return `${options.tls ? "rediss" : "redis"}://${options.host}:${options.port}`;
}

/**
 * Resolves once Redis has database `options.db` (at once for database 0,
 * which every server has); rejects with a `RangeError` naming it if Redis
 * refuses it. ioredis reports a refused `SELECT` (a number past the server's
 * `databases`) only as an "error" event and goes on in database 0, where the
 * queue would mix with whatever lives there: a connection of its own asks
 * before BullMQ writes anything (any other failure of that `SELECT` is
 * rejected as it is). While Redis is unreachable it waits, its
 * connection errors going to `onError`; `cut` receives a function that ends
 * the wait for good (a close meanwhile; nothing is left waiting on this).
 */
export async function checkDatabase(
  options: RedisOptions,
  what: string,
  onError: (error: unknown) => void,
  cut: (end: () => void) => void = () => {},
): Promise<void> {
  const db = options.db;
  if (db === undefined || db === 0) return;
  // No retry limit: an outage during the check is waited out, not taken as an answer.
  const probe = new BullConnection({ ...options, maxRetriesPerRequest: null }, {
    blocking: false,
    skipVersionCheck: true,
  });
  // Its own SELECT's failure is the answer below, not a connection error.
  probe.on("error", (error: unknown) => {
    if ((error as { command?: { name?: unknown } })?.command?.name !== "select") onError(error);
  });
  cut(() => void probe.close(true).catch(() => {}));
  try {
    // ioredis underneath (BullMQ's client type lists only the commands it uses).
    const client = (await probe.client) as unknown as { select(db: number): Promise<unknown> };
    const refused = await client.select(db).then(() => undefined, (error: unknown) => error);
    if (refused === undefined) return;
    // Only Redis's answer about the number refuses it; any other failure (an
    // outage, BUSY, LOADING, NOPERM) is a connection's, to be tried again.
    if (!/^ERR (?:DB index is out of range|invalid DB index)/.test(thrownMessage(refused))) {
      throw refused;
    }
    throw new RangeError(
      `Cannot ${what}: Redis at ${where(options)} has no database ${db} (${
        thrownMessage(refused)
      })`,
      { cause: refused },
    );
  } finally {
    await probe.close().catch(() => {});
  }
}
