/**
 * threadlet's API on fastpool: {@linkcode go} runs a job on a shared pool,
 * {@linkcode spawn} in a worker of its own, and {@linkcode executors} turns
 * threadlet's executors into `Pool` settings.
 *
 * | threadlet | fastpool |
 * |---|---|
 * | `go(f, *args)` → `Future` | `await go(f, ...args)` |
 * | `spawn(f, *args)` → `Future` | `await spawn(f, ...args)` |
 * | `Worker()` | `new Pool(executors.worker())` |
 * | `SimpleThreadPoolExecutor(n)` | `new Pool(executors.simple(n))` |
 * | `ThreadPoolExecutor(n)` | `new Pool(executors.adaptive(n, { idleTimeout }))` |
 * | `executor.submit(f, *args).result()` | `await pool.run(f, ...args)` |
 * | `with executor:` | `await using pool = new Pool(...)` |
 *
 * @module
 */

import { checkInteger, checkOptionsObject, checkTimeout, describe } from "./_checks.ts";
import { refuseNulls } from "./_option_names.ts";
import { POOL_OPTION_NAMES, type PoolOptions, resolveMaxChildren } from "./pool/options.ts";
import { Pool } from "./pool/pool.ts";
import type { RunResult, TaskArgs, TaskFunction } from "./pool/types.ts";
import { type AnyFunction, isTaskRef, type TaskRef } from "./task.ts";

/**
 * A task `go` and `spawn` accept: an inline function or a {@linkcode TaskRef} (they have no task module).
 *
 * @example Usage
 * ```ts
 * import { type FreeTask, spawn } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const double: FreeTask = (n: number) => n * 2;
 * assert.equal(await spawn(double, 21), 42);
 * ```
 */
export type FreeTask = AnyFunction | TaskRef;

/**
 * `PoolOptions` without the sizes a preset sets.
 *
 * @example Usage
 * ```ts
 * import { type ExecutorOptions, executors } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const options: ExecutorOptions = { childNamePrefix: "io", idleTimeout: 500 };
 * assert.deepEqual(executors.simple(2, options), {
 *   childNamePrefix: "io",
 *   idleTimeout: 500,
 *   maxChildren: 2,
 *   minChildren: 2,
 * });
 * ```
 */
export type ExecutorOptions = Omit<PoolOptions, "maxChildren" | "minChildren">;

/**
 * Options of {@linkcode Executors.adaptive}.
 *
 * @example Usage
 * ```ts
 * import { type AdaptiveOptions, executors } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const options: AdaptiveOptions = { minChildren: 0, idleTimeout: 250 };
 * assert.deepEqual(executors.adaptive(4, options), {
 *   minChildren: 0,
 *   idleTimeout: 250,
 *   maxChildren: 4,
 * });
 * ```
 */
export interface AdaptiveOptions extends Omit<PoolOptions, "maxChildren"> {
  /**
   * Workers kept while idle; the others leave after `idleTimeout`.
   *
   * @default {1}
   */
  minChildren?: number | undefined;
}

/**
 * The presets of {@linkcode executors}: threadlet's executors as `Pool` options.
 *
 * @example Usage
 * ```ts
 * import { type Executors, executors } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const presets: Executors = executors;
 * assert.equal(presets.worker().maxChildren, 1);
 * assert.equal(presets.simple(3).minChildren, 3);
 * assert.equal(presets.adaptive(3).minChildren, 1);
 * ```
 */
export interface Executors {
  /**
   * threadlet's `Worker`: one worker, started at once, running jobs one after
   * the other in the order they were queued.
   *
   * @param options Other pool options (`module`, callbacks, ...).
   * @returns Options for `new Pool()`.
   *
   * @example Usage
   * ```ts
   * import { executors } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(executors.worker(), { maxChildren: 1, minChildren: 1 });
   * ```
   */
  worker(options?: ExecutorOptions): PoolOptions;
  /**
   * threadlet's `SimpleThreadPoolExecutor`: `size` workers, all started up
   * front and kept until the pool shuts down.
   *
   * @param size How many workers: `> 0` that many, `<= 0` CPU cores plus the
   * value (as `maxChildren`); CPU cores by default.
   * @param options Other pool options.
   * @returns Options for `new Pool()`.
   * @throws {TypeError | RangeError} If `size` is not an integer or leaves no worker.
   *
   * @example Usage
   * ```ts
   * import { executors } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(executors.simple(4), { maxChildren: 4, minChildren: 4 });
   * ```
   */
  simple(size?: number, options?: ExecutorOptions): PoolOptions;
  /**
   * threadlet's adaptive `ThreadPoolExecutor`: `minChildren` workers (1 by
   * default) kept, more started under load up to `maxChildren`, the extra ones
   * leaving after `idleTimeout` ms idle.
   *
   * @param maxChildren The most workers, read as the `maxChildren` option;
   * CPU cores by default.
   * @param options `minChildren`, `idleTimeout` and other pool options.
   * @returns Options for `new Pool()`.
   * @throws {TypeError | RangeError} If `maxChildren` is not an integer or leaves no worker.
   *
   * @example Usage
   * ```ts
   * import { executors } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(executors.adaptive(8, { idleTimeout: 500 }), {
   *   minChildren: 1,
   *   idleTimeout: 500,
   *   maxChildren: 8,
   * });
   * ```
   */
  adaptive(maxChildren?: number, options?: AdaptiveOptions): PoolOptions;
}

/**
 * threadlet's executors as `Pool` settings: `new Pool(executors.simple(4))`.
 * See {@linkcode Executors} for each preset.
 *
 * @example Usage
 * ```ts
 * import { executors, Pool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool(executors.worker());
 * assert.equal(pool.alive, 1);
 * assert.equal(await pool.run((n: number) => n * 2, 3), 6);
 * ```
 */
export const executors: Executors = {
  worker(options) {
    const rest = presetOptions(options, ["maxChildren", "minChildren"], "worker");
    return { ...rest, maxChildren: 1, minChildren: 1 };
  },
  simple(size, options) {
    const n = resolveMaxChildren(size, "create simple executor", "size");
    const rest = presetOptions(options, ["maxChildren", "minChildren"], "simple");
    return { ...rest, maxChildren: n, minChildren: n };
  },
  adaptive(maxChildren, options) {
    const n = resolveMaxChildren(maxChildren, "create adaptive executor");
    const rest: PoolOptions = presetOptions(options, ["maxChildren"], "adaptive");
    // `minChildren: undefined` means the default (1), as for every option, not 0; null is
    // refused, as new Pool() refuses it.
    refuseNulls(rest, ["minChildren"], "create adaptive executor");
    const minChildren = rest.minChildren ?? 1;
    checkInteger(minChildren, "minChildren", "create adaptive executor", 0, n);
    return { ...rest, minChildren, maxChildren: n };
  },
};

/**
 * An executor's `options`, checked: an object (or nothing) without the sizes
 * the executor sets itself. Other names are checked by `new Pool()`.
 */
function presetOptions(options: unknown, sizes: readonly string[], kind: string): object {
  const action = `create ${kind} executor`;
  if (options === undefined) return {};
  checkOptionsObject(options, action);
  // `worker()` takes no size: it is one worker.
  const instead = kind === "worker"
    ? "use new Pool()"
    : "pass the size as its argument, or use new Pool()";
  // Copied as new Pool() reads them: each option once, inherited ones too (a
  // class instance's getter), and own names it does not know (refused there).
  const copy: Record<string, unknown> = {};
  const given = options as Record<string, unknown>;
  for (const name of [...POOL_OPTION_NAMES, ...Object.keys(given)]) {
    if (Object.hasOwn(copy, name) || !(name in given)) continue;
    const value = given[name];
    // Defined, not assigned: an own "__proto__" (JSON.parse makes one) stays a name new Pool() refuses.
    if (!sizes.includes(name)) {
      Object.defineProperty(copy, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else if (value !== undefined) {
      throw new TypeError(`Cannot ${action}: "${name}" is the executor's to set; ${instead}`);
    }
  }
  return copy;
}

let shared: Pool | null = null;
/**
 * Shared pools being shut down by {@linkcode shutdownDefaultPool}: each until
 * the call that closed it has its answer, or a shutdown of it ends idle.
 */
const closingPools = new Set<Pool>();

/** Bun can unref an idle worker (the pool does it); Deno's web Workers cannot. */
function canUnrefWorkers(): boolean {
  const proto = (globalThis as { Worker?: { prototype?: { unref?: unknown } } })
    .Worker?.prototype;
  return typeof proto?.unref === "function";
}

/**
 * The shared pool behind {@linkcode go}, created on first use: adaptive, up to
 * one worker per CPU core, extra workers leaving after 1 s idle. It never
 * keeps a program alive once idle: where workers can be unref'd (Bun) one
 * idle worker is kept, unref'd; where they cannot (Deno) it keeps none, so
 * after 1 s idle even the last worker goes. Like every pool, it keeps each
 * distinct inline task it has run (its source goes to each new worker): a
 * program that makes task source at run time (`new Function`) should use a
 * pool of its own and close it.
 *
 * @returns The pool; {@linkcode shutdownDefaultPool} closes it, and the next
 * `go` makes a new one (as it does after the pool was closed any other way).
 *
 * @example Usage
 * ```ts
 * import { defaultPool, go, shutdownDefaultPool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await go((n: number) => n + 1, 1), 2);
 * assert.ok(defaultPool().alive >= 1);
 * await shutdownDefaultPool();
 * ```
 */
export function defaultPool(): Pool {
  if (shared === null || shared.closed) {
    shared = new Pool(
      executors.adaptive(undefined, {
        minChildren: canUnrefWorkers() ? 1 : 0,
        childNamePrefix: "go",
      }),
    );
  }
  return shared;
}

/**
 * Shuts down the shared pool of {@linkcode go}, if there is one: running jobs
 * finish, then its workers exit. The next `go` creates a new pool. A program
 * need not call it (an idle shared pool never holds it open); tests do, so
 * nothing outlives them. A call made while an earlier one still waits
 * waits for that pool too; once that call has returned (`false` at its
 * timeout), later calls no longer wait for it.
 *
 * @param timeout Milliseconds to wait for running jobs at most.
 * @returns `false` if jobs were still running at the timeout.
 *
 * @example Usage
 * ```ts
 * import { shutdownDefaultPool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await shutdownDefaultPool(), true);
 * ```
 */
export async function shutdownDefaultPool(timeout?: number): Promise<boolean> {
  if (timeout !== undefined) checkTimeout(timeout, "timeout", "shut down the default pool");
  const pool = shared;
  let closing: Promise<boolean> | undefined;
  if (pool !== null) {
    closing = pool.shutdown(timeout);
    if (!pool.closed) return await closing; // it refused: the pool stays shared
    if (shared === pool) shared = null;
    closingPools.add(pool);
  }
  try {
    // Shared pools an earlier call is still shutting down: this call waits for them too.
    const idle = await Promise.all([...closingPools].map(async (each) => {
      const done = await (each === pool ? closing! : each.shutdown(timeout));
      if (done) closingPools.delete(each);
      return done;
    }));
    return idle.every(Boolean);
  } finally {
    // This call has its answer: later calls no longer wait for the pool it closed.
    if (pool !== null) closingPools.delete(pool);
  }
}

/**
 * Runs one job on the shared default pool ({@linkcode defaultPool}) and
 * resolves with its result, as threadlet's `go(f, *args).result()`.
 *
 * @typeParam T The task's type, for type-checked arguments and result.
 * @param task An inline function or a `task()` reference.
 * @param args The job's arguments (structured clone).
 * @returns The result (a generator's values as an array); rejects with the
 * task's error. It has no time limit: for one, or a signal, use
 * `defaultPool().exec(task, args, { timeout, signal })`. Its jobs are
 * batched as any pool's: `go()` jobs that wait for each other (on a
 * `Semaphore`, a `Lock`) may wait for ever, one queued behind the other on
 * a worker; give such jobs a `signal` through `defaultPool().exec` (see
 * README, "Jobs that wait for each other").
 *
 * @example Usage
 * ```ts
 * import { go, shutdownDefaultPool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const results = await Promise.all([1, 2, 3].map((n) => go((x: number) => x * 2, n)));
 * assert.deepEqual(results, [2, 4, 6]);
 * await shutdownDefaultPool(); // only so the test leaves nothing behind
 * ```
 */
export function go<A extends unknown[], R>(
  task: (...args: A) => R,
  ...args: A
): Promise<RunResult<(...args: A) => R>>;
/** `go` of a `task()` reference. */
export function go<T extends FreeTask>(
  task: T,
  ...args: TaskArgs<TaskFunction<Record<never, never>, T>>
): Promise<RunResult<TaskFunction<Record<never, never>, T>>>;
export function go(task: FreeTask, ...args: unknown[]): Promise<unknown> {
  const refused = taskRefused("go", task);
  if (refused !== undefined) return Promise.reject(refused);
  return (defaultPool() as Pool<Record<never, never>>).exec(task, args);
}

/**
 * Why `go()` or `spawn()` refuses `task`, before any pool starts: they run
 * no pool module, so a name has nothing to name; or `undefined`.
 */
function taskRefused(action: string, task: unknown): TypeError | undefined {
  if (typeof task === "function" || isTaskRef(task)) return undefined;
  if (typeof task === "string") {
    return new TypeError(
      `Cannot ${action}: "task" must be a function or a task() reference, not a name (${
        JSON.stringify(task)
      }): use task(moduleUrl, ${JSON.stringify(task)})`,
    );
  }
  return new TypeError(
    `Cannot ${action}: "task" must be a function or a task() reference, received ${describe(task)}`,
  );
}

/**
 * Runs one job in a new worker of its own, closed once the job has ended, as
 * threadlet's `spawn(f, *args).result()`.
 *
 * @typeParam T The task's type, for type-checked arguments and result.
 * @param task An inline function or a `task()` reference.
 * @param args The job's arguments (structured clone).
 * @returns The result (a generator's values as an array); rejects with the
 * task's error. Either way the worker is gone when it settles (on Deno, a
 * thread the task left held runs on until it returns to its event loop).
 * It has no time limit: for one, or a signal, use a pool of one worker,
 * `exec(task, args, { timeout, signal })` and `shutdown()`. Until its job
 * ends its worker holds the program open, as a Python thread that is not a
 * daemon does (so does a `go()` job, for as long as it runs).
 *
 * @example Usage
 * ```ts
 * import { spawn } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await spawn((n: number) => n * 2, 21), 42);
 * await assert.rejects(spawn(() => { throw new RangeError("no") }), RangeError);
 * ```
 */
export function spawn<A extends unknown[], R>(
  task: (...args: A) => R,
  ...args: A
): Promise<RunResult<(...args: A) => R>>;
/** `spawn` of a `task()` reference. */
export function spawn<T extends FreeTask>(
  task: T,
  ...args: TaskArgs<TaskFunction<Record<never, never>, T>>
): Promise<RunResult<TaskFunction<Record<never, never>, T>>>;
export async function spawn(task: FreeTask, ...args: unknown[]): Promise<unknown> {
  const refused = taskRefused("spawn", task);
  if (refused !== undefined) throw refused;
  const pool = new Pool<Record<never, never>>({
    maxChildren: 1,
    childNamePrefix: "spawn",
  });
  try {
    return await pool.exec(task, args);
  } finally {
    await pool.shutdown();
  }
}
