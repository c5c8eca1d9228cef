/**
 * Every error class fastpool throws on purpose. Errors thrown by tasks are not
 * wrapped: they arrive as themselves (see `protocol/codec.ts`).
 *
 * @module
 */

/**
 * Thrown by a submit after `shutdown()` or `terminate()`, and the failure of a
 * job that was running when `terminate()` was called.
 *
 * @example Usage
 * ```ts
 * import { PoolClosedError } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const error = new PoolClosedError("Cannot submit job: pool is closed");
 * assert.equal(error.name, "PoolClosedError");
 * assert.ok(error instanceof Error);
 * ```
 */
export class PoolClosedError extends Error {
  /** Creates the error. */
  constructor(message = "Pool is closed", options?: ErrorOptions) {
    super(message, options);
    this.name = "PoolClosedError";
  }
}

/**
 * Thrown by a submit that would make the queue longer than `maxQueue`.
 *
 * @example Usage
 * ```ts
 * import { QueueFullError } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const error = new QueueFullError(10);
 * assert.equal(error.maxQueue, 10);
 * assert.match(error.message, /queue is full/);
 * ```
 */
export class QueueFullError extends Error {
  /**
   * The bound that was reached.
   *
   * @example Usage
   * ```ts
   * import { QueueFullError } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new QueueFullError(64).maxQueue, 64);
   * ```
   */
  readonly maxQueue: number;
  /** Creates the error for a queue bounded at `maxQueue`. */
  constructor(maxQueue: number, options?: ErrorOptions) {
    super(
      `Cannot submit job: queue is full (maxQueue is ${maxQueue})`,
      options,
    );
    this.name = "QueueFullError";
    this.maxQueue = maxQueue;
  }
}

/**
 * The {@linkcode QueueFullError} of a `map` or `collect` whose input holds
 * more items than the queue has room for: none of them is queued, and the
 * message says so (the queue itself may be empty). Internal: for the pools.
 *
 * @example Usage
 * ```ts
 * import { itemsPastRoom } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = itemsPastRoom("map", 3, 3);
 * assert.equal(error.maxQueue, 3);
 * assert.match(error.message, /^Cannot map: the input holds more items than the queue has room for/);
 * ```
 */
export function itemsPastRoom(action: string, room: number, maxQueue: number): QueueFullError {
  const error = new QueueFullError(maxQueue);
  error.message = `Cannot ${action}: the input holds more items than the queue has room for (${
    Math.max(0, room)
  }; maxQueue is ${maxQueue}), so none of them was queued`;
  return error;
}

/**
 * The failure of a job that ran longer than its timeout. Its worker is
 * replaced unless the task ends within `abortGrace` of its abort. One the
 * pool makes has no stack frames: they would be the pool's timer code, and
 * on Deno they would keep the job, and its arguments, alive with the error.
 *
 * @example Usage
 * ```ts
 * import { TaskTimeoutError } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const error = new TaskTimeoutError(7, 100);
 * assert.equal(error.jobId, 7);
 * assert.equal(error.timeout, 100);
 * ```
 */
export class TaskTimeoutError extends Error {
  /**
   * The job that timed out.
   *
   * @example Usage
   * ```ts
   * import { TaskTimeoutError } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new TaskTimeoutError(3, 250).jobId, 3);
   * ```
   */
  readonly jobId: number;
  /**
   * Its timeout in milliseconds.
   *
   * @example Usage
   * ```ts
   * import { TaskTimeoutError } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new TaskTimeoutError(3, 250).timeout, 250);
   * ```
   */
  readonly timeout: number;
  /** Creates the error for job `jobId` and its `timeout` in ms. */
  constructor(jobId: number, timeout: number, options?: ErrorOptions) {
    super(`Job ${jobId} timed out after ${timeout} ms`, options);
    this.name = "TaskTimeoutError";
    this.jobId = jobId;
    this.timeout = timeout;
  }
}

/**
 * Options of {@linkcode WorkerCrashedError}.
 *
 * @example Usage
 * ```ts
 * import { WorkerCrashedError, type WorkerCrashedOptions } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const options: WorkerCrashedOptions = { workerName: "img-2" };
 * assert.match(new WorkerCrashedError(2, 41, options).message, /^Worker img-2 died/);
 * ```
 */
export interface WorkerCrashedOptions extends ErrorOptions {
  /** The worker's name, for the message (its pool number otherwise). */
  workerName?: string | undefined;
}

/**
 * The failure of a job whose worker died while running it; `cause` says why.
 *
 * @example Usage
 * ```ts
 * import { WorkerCrashedError } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const error = new WorkerCrashedError(2, 41, { cause: new Error("boom") });
 * assert.equal(error.slotId, 2);
 * assert.equal(error.jobId, 41);
 * assert.equal((error.cause as Error).message, "boom");
 * ```
 */
export class WorkerCrashedError extends Error {
  /**
   * The pool's number for the worker that died.
   *
   * @example Usage
   * ```ts
   * import { WorkerCrashedError } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new WorkerCrashedError(1, 9).slotId, 1);
   * ```
   */
  readonly slotId: number;
  /**
   * The job that was running on it.
   *
   * @example Usage
   * ```ts
   * import { WorkerCrashedError } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new WorkerCrashedError(1, 9).jobId, 9);
   * ```
   */
  readonly jobId: number;
  /**
   * Creates the error for `jobId` on worker `slotId`, named in the message
   * as `options.workerName` if given (the pool gives the worker's name,
   * `${childNamePrefix}-${n}`, as its events do).
   */
  constructor(slotId: number, jobId: number, options?: WorkerCrashedOptions) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    const worker = options?.workerName ?? String(slotId);
    super(`Worker ${worker} died while running job ${jobId}${why}`, options);
    this.name = "WorkerCrashedError";
    this.slotId = slotId;
    this.jobId = jobId;
  }
}
