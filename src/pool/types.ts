/**
 * The types of `Pool`'s API: task forms, their arguments and results, and
 * the options of its methods.
 *
 * @module
 */

import type { AnyFunction, TaskRef } from "../task.ts";

/** A job's id: a number unique for the pool's life. */
export type JobId = number;

/** What receives a job's results: a callback, `true` (to `done`) or `false` (discarded). */
export type DoneTarget = ((result: unknown, jobId: JobId) => void) | boolean;

/** The names of `M`'s exports that are functions. */
export type TaskName<M> =
  & { [K in keyof M]: M[K] extends AnyFunction ? K : never }[keyof M]
  & string;

/** Anything a pool accepts as a task, given its task module's type `M`. */
export type Task<M> = TaskName<M> | AnyFunction | TaskRef;

/** The function behind a task. */
export type TaskFunction<M, T> = T extends string ? (T extends keyof M ? M[T] : never)
  : T extends TaskRef<infer F> ? F
  : T;

/** A task's parameters. */
export type TaskArgs<F> = F extends (...args: infer A) => unknown ? A : unknown[];

/** One result of a task: what it returns (awaited), or each value a generator yields. */
export type TaskResult<F> = F extends (...args: never[]) => infer R
  ? R extends Generator<infer Y, unknown, unknown> | AsyncGenerator<infer Y, unknown, unknown> ? Y
  : Awaited<R>
  : unknown;

/** What `run()` resolves with: the result, or all of a generator's values as an array. */
export type RunResult<F> = F extends (...args: never[]) => infer R
  ? R extends Generator<infer Y, unknown, unknown> | AsyncGenerator<infer Y, unknown, unknown> ? Y[]
  : Awaited<R>
  : unknown;

/** Options of {@linkcode Pool.exec}. */
export interface ExecOptions {
  /**
   * Aborting cancels the job if queued, or replaces its worker if running;
   * the promise rejects with the reason. (On Deno, see `taskTimeout` about
   * synchronous endless loops.)
   */
  signal?: AbortSignal;
  /** Values to move, not copy, with the arguments. */
  transfer?: Transferable[];
  /** Milliseconds the job may run; past it, it fails with `TaskTimeoutError` and its worker is replaced. */
  timeout?: number;
  /**
   * Queue the job at the front.
   *
   * @default {false}
   */
  first?: boolean;
}

/** Options of {@linkcode Pool.shutdown}. */
export interface ShutdownOptions {
  /**
   * Cancel queued jobs instead of running them.
   *
   * @default {false}
   */
  soon?: boolean;
}

/** A read-only view of a queue. */
export interface ReadonlyDeque<T> extends Iterable<T> {
  /** How many entries it holds. */
  readonly length: number;
  /** The entry at `index` from the front (negative: from the back). */
  at(index: number): T | undefined;
}
