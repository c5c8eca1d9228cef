/**
 * `jobContext()`: what a running task can learn about its job (its id, an
 * abort signal) and do (report progress). The worker runtime keeps the id of
 * the job it is calling; a context is made only when a task asks for one, so
 * tasks that never call `jobContext()` pay nothing.
 *
 * It imports nothing of the pool's. The runtime registers its resolver on
 * `globalThis` under a `Symbol.for` key, so a task module that imports
 * another copy of this file (another version or URL of the package) still
 * finds the running worker's jobs.
 *
 * @module
 */

import { cloneFailure } from "../protocol/codec.ts";

/**
 * The job a task is running for, as `jobContext()` returns it.
 *
 * @example Usage
 * ```ts
 * import { type JobContext, jobContext } from "@fastpool/fastpool/worker";
 * import assert from "node:assert/strict";
 *
 * // Outside a job (here, on the main thread) there is no context.
 * let context: JobContext | undefined;
 * assert.throws(() => context = jobContext(), /outside a job/);
 * assert.equal(context, undefined);
 * ```
 */
export interface JobContext {
  /** The job's id, as the pool returned it (`submit`) or reports it. */
  readonly id: number;
  /**
   * Aborted when the job is aborted (`exec`'s `signal`) or its `timeout` or
   * the pool's `taskTimeout` passes, with the error the job failed with as
   * its `reason`. A task that then returns or throws within the pool's
   * `abortGrace` keeps its worker; what it returns is dropped.
   */
  readonly signal: AbortSignal;
  /**
   * Sends `value` (structured-cloned, or moved if marked with `transfer()`;
   * a Semaphore or Lock in it, alone or at any depth, arrives working) to the
   * main thread, to `exec`'s `onProgress` and the pool's `progress` event, in
   * order. Values sent after the job ended, or that arrive after it ended, are
   * dropped.
   *
   * @throws {TypeError} If `value` cannot be cloned.
   */
  progress(value: unknown): void;
}

/** Where the running worker's resolver lives, shared by every copy of this module. */
const RESOLVER = Symbol.for("@fastpool/fastpool/jobContext");

type Resolver = () => JobContext | undefined;

/**
 * The context of the job running now, in a pool worker. Call it
 * synchronously, at the start of the task (before its first `await`), and
 * keep what it returns: after an `await` the worker may be running another
 * job (with `concurrentTasksPerWorker` above 1), so it throws there. A
 * `stream()`'s synchronous generator may call it at any step. Inside
 * an inline task the worker also provides `jobContext` (and `transfer`) as a
 * global, so an inline task may call it when the caller imported it under
 * that name.
 *
 * @returns The running job's id, abort signal and progress sender.
 * @throws {Error} Outside a job: on the main thread, or in a worker after the
 * task's first `await`, from a timer, or between jobs.
 *
 * @example Outside a job it throws
 * ```ts
 * import { jobContext } from "@fastpool/fastpool/worker";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => jobContext(), /called outside a job/);
 * ```
 */
export function jobContext(): JobContext {
  const resolve = (globalThis as { [RESOLVER]?: Resolver })[RESOLVER];
  const context = resolve?.();
  if (context !== undefined) return context;
  throw new Error(
    resolve === undefined
      ? "Cannot get job context: jobContext() was called outside a job (not in a pool worker); call it inside a task"
      : "Cannot get job context: jobContext() was called outside a job (no job is running synchronously now); call it at the start of the task, before its first await, and keep what it returns",
  );
}

/** Makes `resolve` the answer of `jobContext()` in this worker; for the runtime. */
export function installJobContext(resolve: Resolver): void {
  Object.defineProperty(globalThis, RESOLVER, { value: resolve, configurable: true });
}

/** One job's context, made on the first `jobContext()` call of that job. */
export class LiveContext implements JobContext {
  readonly #controller = new AbortController();
  readonly #send: (id: number, value: unknown) => void;
  /** The job ended: progress is no longer sent. */
  ended = false;
  /** The task took `signal`: a wait given it may outlive the job. */
  signalTaken = false;

  constructor(readonly id: number, send: (id: number, value: unknown) => void) {
    this.#send = send;
  }

  get signal(): AbortSignal {
    this.signalTaken = true;
    return this.#controller.signal;
  }

  /** Whether `signal` is this job's. */
  owns(signal: AbortSignal): boolean {
    return this.#controller.signal === signal;
  }

  /** Whether the pool aborted the job. */
  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** An own arrow function, so `const { progress } = jobContext()` works. */
  readonly progress = (value: unknown): void => {
    if (this.ended) return;
    try {
      this.#send(this.id, value);
    } catch (error) {
      throw new TypeError(
        `Cannot send progress of job ${this.id}: the value cannot be cloned (${
          cloneFailure(value, error)
        })`,
        { cause: error },
      );
    }
  };

  /** The pool aborted the job. */
  abort(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }
}
