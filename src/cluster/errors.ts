/**
 * The cluster's own error: Redis could not be reached for too long.
 *
 * @module
 */

/**
 * The failure of an item that was pending while Redis stayed unreachable
 * for longer than `offlineTimeout`, and the `detail` of a `ClusterPool`'s
 * `"error"` event when Redis goes away. `cause` is the Redis client's error.
 * The pool stays usable: items submitted once Redis is back run as usual.
 *
 * @example Usage
 * ```ts
 * import { RedisUnavailableError } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * const error = new RedisUnavailableError("redis://127.0.0.1:6379", { cause: new Error("ECONNREFUSED") });
 * assert.equal(error.name, "RedisUnavailableError");
 * assert.equal(error.where, "redis://127.0.0.1:6379");
 * assert.match(error.message, /Redis at redis:\/\/127\.0\.0\.1:6379 is unavailable: ECONNREFUSED/);
 * ```
 */
export class RedisUnavailableError extends Error {
  /** The server, as `redis://host:port` (never a password). */
  readonly where: string;
  /** Creates the error for the server at `where`; `cause` says why. */
  constructor(where: string, options?: ErrorOptions & { detail?: string }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`Redis at ${where} is unavailable${why}${options?.detail ?? ""}`, options);
    this.name = "RedisUnavailableError";
    this.where = where;
  }
}
