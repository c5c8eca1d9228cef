/**
 * fastpool: a low-overhead thread pool for Deno and Bun, on web-standard
 * module workers.
 *
 * - {@linkcode Pool}: submit jobs (inline functions, task-module exports, or
 *   {@linkcode task} references), collect results from `done`/`failed`,
 *   `run()` promises, `stream()`s or {@linkcode Pool.asCompleted}.
 * - {@linkcode Semaphore} and {@linkcode Lock} on `SharedArrayBuffer`: the same
 *   primitive on the main thread and in workers.
 * - {@linkcode go} and {@linkcode spawn}: a job on a shared default pool, or in
 *   a worker of its own.
 *
 * @example Usage
 * ```ts
 * import { Pool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool();
 * pool.map((n: number) => n * 2, [1, 2, 3]);
 * const results: unknown[] = [];
 * for await (const result of pool.asCompleted()) results.push(result);
 * assert.deepEqual(results.sort(), [2, 4, 6]);
 * ```
 *
 * @module
 */

export { Deque } from "./src/deque.ts";
export {
  PoolClosedError,
  QueueFullError,
  TaskTimeoutError,
  WorkerCrashedError,
  type WorkerCrashedOptions,
} from "./src/errors.ts";
export { transfer } from "./src/protocol/codec.ts";
export { task } from "./src/task.ts";
export type { AnyFunction, TaskRef } from "./src/task.ts";
export { Pool } from "./src/pool/pool.ts";
export { setDefaultWorkerUrl } from "./src/pool/worker_url.ts";
export type {
  DoneTarget,
  ExecOptions,
  GeneratorLike,
  JobId,
  JobsDeque,
  MapItem,
  ReadonlyDeque,
  RunResult,
  ShutdownOptions,
  Task,
  TaskArgs,
  TaskFunction,
  TaskName,
  TaskResult,
} from "./src/pool/types.ts";
export type { QueuedJob } from "./src/pool/job.ts";
export type { LogLevel, PoolOptions } from "./src/pool/options.ts";
export type { PoolEventMap } from "./src/pool/pool.ts";
export type { TaskProxy } from "./src/pool/proxy.ts";
export type { PoolStats, StatsOptions, TimeSummary } from "./src/pool/stats.ts";
export type { WorkerExitReason, WorkerHook } from "./src/pool/dispatch_loop.ts";
export { type AcquireOptions, type Permit, Semaphore } from "./src/sync/semaphore.ts";
export { Lock } from "./src/sync/lock.ts";
export { type Clock, type SetTimerOptions, systemClock, type TimerId } from "./src/timers/clock.ts";
export type { TimerHandle, TimerKind } from "./src/timers/scheduler.ts";
export * from "./src/threadlet.ts";
