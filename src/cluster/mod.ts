/**
 * `@fastpool/fastpool/cluster`: the same `Pool` API beyond one machine, on
 * BullMQ and Redis.
 *
 * - {@linkcode ClusterPool}, the producer: `Pool`'s methods for named tasks
 *   (`submit`, `submitDone`, `map`, `run`, `exec`, `asCompleted()`, `done` /
 *   `failed`, `wait()`, `cancel()`, `shutdown()`). Code written against
 *   `Pool<typeof import("./tasks.ts")>` moves here by changing its constructor.
 * - {@linkcode serve}, a node: takes chunks of items from the queue and runs
 *   them on a local `Pool`, using every core. `src/cluster/node.ts` is its
 *   command line: `deno run -A …/cluster/node.ts --redis URL --queue NAME
 *   --module ./tasks.ts` (or `bun …/cluster/node.ts …`).
 *
 * A `map` or a run of `submit`s travels in chunks (one BullMQ job each)
 * sized from measured run time, so a tiny item costs far less than a BullMQ
 * job. Execution is at least once (BullMQ hands a dead node's chunk to
 * another), accounting exactly once (each item ends once on the producer).
 * Only JSON-safe values cross; only export names are tasks: a queue never
 * carries code.
 *
 * @example Usage
 * ```ts
 * import { ClusterPool } from "@fastpool/fastpool/cluster";
 * import assert from "node:assert/strict";
 *
 * // Changing the constructor line is all it takes to move named tasks
 * // from `new Pool({ module })` to the cluster; nothing connects yet.
 * await using pool = new ClusterPool<{ fib(n: number): number }>({
 *   connection: "redis://127.0.0.1:6379",
 *   queue: "fib",
 * });
 * assert.throws(() => pool.map("fib", [1, Symbol("x") as unknown as number]), /item 1 is not JSON-safe/);
 * assert.equal(pool.pending, 0);
 * ```
 *
 * @module
 */

export { ClusterPool } from "./cluster_pool.ts";
export { type ClusterNode, serve, type ServeOptions } from "./serve.ts";
export type { Backoff, ClusterExecOptions, ClusterPoolOptions } from "./options.ts";
export type { RedisConnection } from "./connection.ts";
export { RedisUnavailableError } from "./errors.ts";
