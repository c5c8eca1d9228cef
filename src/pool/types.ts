/**
 * The types of `Pool`'s API: task forms, their arguments and results, and
 * the options of its methods.
 *
 * @module
 */

import type { AnyFunction, TaskRef } from "../task.ts";

/**
 * A job's id: a number unique for the pool's life.
 *
 * @example Usage
 * ```ts
 * import { type JobId, Pool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1, resultId: true });
 * const id: JobId = pool.submit((n: number) => n + 1, 1);
 * await pool.wait();
 * assert.deepEqual([...pool.done], [[id, 2]]);
 * ```
 */
export type JobId = number;

/**
 * What receives a job's results: a callback, `true` (to `done`, or to the
 * pool's `doneCallback` if it has one) or `false` (discarded). `R` is the
 * result's type; the pool's methods set it from the task, so a callback may
 * annotate its parameter with the task's result type.
 *
 * @example Usage
 * ```ts
 * import { type DoneTarget, Pool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * const results: unknown[] = [];
 * const target: DoneTarget = (result) => {
 *   results.push(result);
 * };
 * pool.submitDone((n: number) => n * 2, target, 21);
 * await pool.wait();
 * assert.deepEqual(results, [42]);
 * assert.equal(pool.done.length, 0); // the callback took it instead
 * ```
 */
export type DoneTarget<R = unknown> = ((result: R, jobId: JobId) => void) | boolean;

/**
 * The names of `M`'s exports that are functions.
 *
 * @example Usage
 * ```ts
 * import type { TaskName } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * type Tasks = { fib(n: number): number; version: string };
 * const name: TaskName<Tasks> = "fib";
 * assert.equal(name, "fib");
 * // @ts-expect-error: `version` is not a function
 * const notATask: TaskName<Tasks> = "version";
 * assert.equal(notATask, "version");
 * ```
 */
export type TaskName<M> =
  & { [K in keyof M]: M[K] extends AnyFunction ? K : never }[keyof M]
  & string;

/**
 * Anything a pool accepts as a task, given its task module's type `M`.
 *
 * @example Usage
 * ```ts
 * import { type Task, task } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * type Tasks = { fib(n: number): number };
 * function describeTask(t: Task<Tasks>): string {
 *   if (typeof t === "string") return `export ${t}`;
 *   return typeof t === "function" ? "inline" : `${t.name} of ${t.module}`;
 * }
 * assert.equal(describeTask("fib"), "export fib");
 * assert.equal(describeTask((n: number) => n), "inline");
 * assert.equal(describeTask(task("https://example.com/t.ts", "fib")), "fib of https://example.com/t.ts");
 * ```
 */
export type Task<M> = TaskName<M> | AnyFunction | TaskRef;

/**
 * The function behind a task.
 *
 * @example Usage
 * ```ts
 * import type { TaskFunction, TaskRef } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * type Tasks = { fib(n: number): number };
 * const byName: TaskFunction<Tasks, "fib"> = (n) => (n < 2 ? n : byName(n - 1) + byName(n - 2));
 * const byRef: TaskFunction<Tasks, TaskRef<(s: string) => number>> = (s) => s.length;
 * assert.equal(byName(10), 55);
 * assert.equal(byRef("four"), 4);
 * ```
 */
export type TaskFunction<M, T> = T extends string ? (T extends keyof M ? M[T] : never)
  : T extends TaskRef<infer F> ? F
  : T;

/**
 * A task's parameters.
 *
 * @example Usage
 * ```ts
 * import { Pool, type TaskArgs } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const add = (a: number, b: number) => a + b;
 * const args: TaskArgs<typeof add> = [2, 3];
 * await using pool = new Pool({ maxChildren: 1 });
 * assert.equal(await pool.run(add, ...args), 5);
 * ```
 */
export type TaskArgs<F> = F extends (...args: infer A) => unknown ? A : unknown[];

/**
 * The item `map()` and `collect()` pass to a task as its one argument: its
 * first parameter. A task that needs two or more arguments cannot take them
 * from one item, so its item type is `never`: the call does not type-check.
 *
 * @example Usage
 * ```ts
 * import type { MapItem } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const square = (n: number) => n * n;
 * const scale = (n: number, by = 2) => n * by;
 * const add = (a: number, b: number) => a + b;
 * const items: MapItem<typeof square>[] = [1, 2, 3]; // number[]
 * const scaled: MapItem<typeof scale>[] = [1, 2]; // number[]: `by` is optional
 * const none: MapItem<typeof add>[] = []; // never[]: `add` needs two arguments
 * assert.deepEqual([items, scaled, none], [[1, 2, 3], [1, 2], []]);
 * ```
 */
export type MapItem<F> = TaskArgs<F> extends readonly [unknown, unknown, ...unknown[]] ? never
  : TaskArgs<F>[0];

/**
 * What a generator function returns, as it may be declared: `Generator`,
 * `AsyncGenerator`, or `IterableIterator` / `AsyncIterableIterator` of `Y`
 * (`never` as the type it takes in: any generator's `next()` fits). A task is
 * run as a generator by its kind (`function*`), so a plain function declared
 * to return one of these has its jobs fail: its result does not clone.
 *
 * @example Usage
 * ```ts
 * import type { GeneratorLike } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * function* count(n: number): IterableIterator<number> {
 *   for (let i = 0; i < n; i++) yield i;
 * }
 * const made: GeneratorLike<number> = count(3); // so `run(count, 3)` is a number[]
 * assert.equal(typeof made.next, "function");
 * ```
 */
export type GeneratorLike<Y> =
  | IterableIterator<Y, unknown, never>
  | AsyncIterableIterator<Y, unknown, never>;

/**
 * One result of a task: what it returns (awaited), or each value a generator yields.
 *
 * @example Usage
 * ```ts
 * import { Pool, type TaskResult } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * function* count(n: number) {
 *   for (let i = 0; i < n; i++) yield i;
 * }
 * await using pool = new Pool({ maxChildren: 1 });
 * const values: TaskResult<typeof count>[] = []; // number[]
 * for await (const value of pool.stream(count, 3)) values.push(value);
 * assert.deepEqual(values, [0, 1, 2]);
 * ```
 */
export type TaskResult<F> = F extends (...args: never[]) => infer R
  ? R extends GeneratorLike<infer Y> ? Y
  : Awaited<R>
  : unknown;

/**
 * What `run()` resolves with: the result, or all of a generator's values as an array.
 *
 * @example Usage
 * ```ts
 * import { Pool, type RunResult } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * function* count(n: number) {
 *   for (let i = 0; i < n; i++) yield i;
 * }
 * await using pool = new Pool({ maxChildren: 1 });
 * const values: RunResult<typeof count> = await pool.run(count, 3); // number[]
 * assert.deepEqual(values, [0, 1, 2]);
 * ```
 */
export type RunResult<F> = F extends (...args: never[]) => infer R
  ? R extends GeneratorLike<infer Y> ? Y[]
  : Awaited<R>
  : unknown;

/**
 * Options of {@linkcode Pool.exec}.
 *
 * @example Usage
 * ```ts
 * import { type ExecOptions, Pool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * const options: ExecOptions = { timeout: 5_000, first: true };
 * assert.equal(await pool.exec((n: number) => n * 2, [21], options), 42);
 * ```
 */
export interface ExecOptions {
  /**
   * Aborting cancels the job if queued; if it runs, the promise rejects with
   * the reason at once, the task's `jobContext().signal` aborts, and its
   * worker is replaced unless the task ends within the pool's `abortGrace`.
   * (On Deno, see `taskTimeout` about synchronous endless loops.)
   */
  signal?: AbortSignal | undefined;
  /**
   * Called on the main thread with each value the task reports with
   * `jobContext().progress(value)`, in order, never after the job ended. One
   * that throws is reported (`reportError`) and the job goes on.
   */
  onProgress?: ((value: unknown) => void) | undefined;
  /**
   * Values to move, not copy, with the arguments. On Deno a job refused at
   * the call (an argument that cannot be cloned) has moved them too (see
   * `transfer()`).
   */
  transfer?: Transferable[] | undefined;
  /**
   * Milliseconds the job may run; past it, it fails with `TaskTimeoutError`
   * and its task's signal aborts (see the pool's `abortGrace`). `0` or
   * `Infinity`: no limit, not even the pool's `taskTimeout`.
   */
  timeout?: number | undefined;
  /**
   * Queue the job at the front.
   *
   * @default {false}
   */
  first?: boolean | undefined;
  /**
   * Higher runs first; equal priorities keep FIFO order. `first` still
   * means the very front: a job queued with it stays ahead of every job
   * queued later without it, whatever their priorities.
   *
   * @default {0}
   */
  priority?: number | undefined;
}

/**
 * Options of {@linkcode Pool.shutdown}.
 *
 * @example Usage
 * ```ts
 * import { Pool, type ShutdownOptions } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const cancelled: number[] = [];
 * const pool = new Pool({ maxChildren: 1, cancelledCallback: (id) => cancelled.push(id) });
 * pool.submit(() => "never run");
 * const options: ShutdownOptions = { soon: true };
 * assert.equal(await pool.shutdown(undefined, options), true);
 * assert.equal(cancelled.length, 1);
 * assert.equal(pool.done.length, 0);
 * ```
 */
export interface ShutdownOptions {
  /**
   * Cancel queued jobs instead of running them.
   *
   * @default {false}
   */
  soon?: boolean | undefined;
}

/**
 * A read-only view of a queue.
 *
 * @example Usage
 * ```ts
 * import { Pool, type QueuedJob, type ReadonlyDeque } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * const last = pool.submit(() => "a");
 * const first = pool.submitFirst(() => "b");
 * // Jobs wait in `jobs` until the end of this tick sends them out.
 * const jobs: ReadonlyDeque<QueuedJob> = pool.jobs;
 * assert.equal(jobs.length, 2);
 * assert.equal(jobs.at(0)?.id, first);
 * assert.equal(jobs.at(-1)?.id, last);
 * assert.deepEqual([...jobs].map((job) => job.id), [first, last]);
 * pool.cancel();
 * ```
 */
export interface ReadonlyDeque<T> extends Iterable<T> {
  /** How many entries it holds. */
  readonly length: number;
  /** The entry at `index` from the front (negative: from the back). */
  at(index: number): T | undefined;
}

/**
 * `pool.jobs`: the queued jobs, front first: those not yet sent to a
 * worker. Taking a job out of it cancels that job (it ends once, cancelled,
 * like `pool.cancel(id)`); jobs are added with `submit()` and
 * `submitFirst()`, so `push` and `unshift` throw. Iterating it gives the
 * jobs queued when the loop began, each once, skipping those taken out
 * meanwhile. `clear()` and `drain()` also take back the jobs a busy worker
 * was sent but has not started (`stats().jobs.queued` counts them too), so
 * `drain()` may return more jobs than `length` said.
 *
 * @example Usage
 * ```ts
 * import { Pool, type JobsDeque, type QueuedJob } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const cancelled: number[] = [];
 * await using pool = new Pool({ maxChildren: 1, cancelledCallback: (id) => cancelled.push(id) });
 * const ids = [pool.submit(() => "a"), pool.submit(() => "b"), pool.submit(() => "c")];
 * // Jobs wait in `jobs` until the end of this tick sends them out.
 * const jobs: JobsDeque<QueuedJob> = pool.jobs;
 * assert.equal(jobs.shift()?.id, ids[0]); // out of the queue: cancelled
 * assert.equal(jobs.pop()?.id, ids[2]);
 * assert.equal(jobs.length, 1);
 * jobs.clear(); // as pool.cancel()
 * assert.deepEqual(cancelled, [ids[0], ids[2], ids[1]]);
 * assert.throws(() => jobs.push(undefined as never), TypeError);
 * ```
 */
export interface JobsDeque<T> extends ReadonlyDeque<T> {
  /** Takes the front job out, cancelled; `undefined` if none is queued. */
  shift(): T | undefined;
  /** Takes the back job out, cancelled; `undefined` if none is queued. */
  pop(): T | undefined;
  /** Cancels every queued job, and those a busy worker holds unstarted (as `pool.cancel()`). */
  clear(): void;
  /** Cancels every queued job, and those a busy worker holds unstarted, and returns them, front first. */
  drain(): T[];
  /** Throws a `TypeError`: jobs are added with `submit()`. */
  push(job: never): never;
  /** Throws a `TypeError`: jobs are added at the front with `submitFirst()`. */
  unshift(job: never): never;
}
