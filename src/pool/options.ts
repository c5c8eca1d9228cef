/**
 * `new Pool(options)`: the options, their defaults, and their checks.
 *
 * @module
 */

import type { Clock } from "../timers/clock.ts";
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkOptionsObject,
  checkTimeout,
  describe,
  invalid,
  thrownMessage,
} from "../_checks.ts";
import { checkOptionNames, closestName, refuseNulls } from "../_option_names.ts";
import { hasSharedMemory } from "../sync/_memory.ts";
import { toWire } from "../sync/wire.ts";
import { STREAM_WINDOW } from "../protocol/messages.ts";

/** The action every error of the Pool constructor names. */
const CREATE = "create pool";
/** Levels of nesting `workerData` must have spare: the `init` message holds it a few deeper. */
const WORKER_DATA_MARGIN = 16;

/**
 * A level of `console` to log failures at.
 *
 * @example Usage
 * ```ts
 * import { type LogLevel, Pool } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const logLevel: LogLevel = "warn";
 * const logged: unknown[][] = [];
 * const warn = console.warn;
 * console.warn = (...args: unknown[]) => logged.push(args);
 * try {
 *   await using pool = new Pool({ maxChildren: 1, logLevel });
 *   pool.submit(() => {
 *     throw new Error("boom");
 *   });
 *   await pool.wait();
 * } finally {
 *   console.warn = warn;
 * }
 * assert.equal(logged.length, 1);
 * assert.match(String(logged[0]?.[0]), /job 1 failed/);
 * ```
 */
export type LogLevel = "error" | "warn" | "info" | "debug";

/**
 * Options of `new Pool()`. Time is in milliseconds.
 *
 * @example Usage
 * ```ts
 * import { Pool, type PoolOptions } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const options: PoolOptions = { maxChildren: 2, maxQueue: 100 };
 * await using pool = new Pool(options);
 * assert.equal(pool.maxChildren, 2);
 * assert.equal(pool.alive, 0); // workers start on demand
 * ```
 */
export interface PoolOptions {
  /**
   * Most workers. `> 0`: that many; `<= 0`: CPU cores plus the value. A
   * worker still running its task module's `teardown()` on the way out
   * counts: its replacement starts once it has gone.
   *
   * @default {navigator.hardwareConcurrency}
   */
  maxChildren?: number | undefined;
  /**
   * Workers started at once and kept while idle; equal to `maxChildren`
   * makes a fixed, eager pool.
   *
   * @default {0}
   */
  minChildren?: number | undefined;
  /**
   * Worker names are `${childNamePrefix}-${n}` (`self.name` in the worker).
   *
   * @default {"ThreadPool"}
   */
  childNamePrefix?: string | undefined;
  /** Called on the main thread with every result of a job that has no callback of its own. */
  doneCallback?: ((result: unknown, jobId: number) => void) | undefined;
  /**
   * Called on the main thread with every failure of a job whose results go to
   * `done`, `doneCallback` or a callback of its own; failures then skip
   * `failed`. A `run()`, `exec()`, `stream()` or `collect()` failure goes to
   * its promise or stream alone: the caller has it.
   */
  failedCallback?: ((error: unknown, jobId: number) => void) | undefined;
  /**
   * Called on the main thread with the id of every job cancelled before it
   * ran: by `cancel()`, `clear()` and the like, or a `stream()` whose
   * consumer left before it started.
   */
  cancelledCallback?: ((jobId: number) => void) | undefined;
  /** Logs with `console` at this level every failure `failedCallback` would get. */
  logLevel?: LogLevel | undefined;
  /**
   * Entries of `done` are `[jobId, result]` and of `failed` `[jobId, error]`.
   *
   * @default {false}
   */
  resultId?: boolean | undefined;
  /** The task module every worker imports; tasks may then be its export names. */
  module?: string | URL | undefined;
  /**
   * Milliseconds an idle worker above `minChildren` lives before it exits;
   * `Infinity`: it stays until `shutdown()` (on Deno it then keeps a program
   * alive, as `minChildren` workers do).
   *
   * @default {1000}
   */
  idleTimeout?: number | undefined;
  /**
   * Most queued jobs; one more is refused with `QueueFullError`.
   *
   * @default {Infinity}
   */
  maxQueue?: number | undefined;
  /**
   * Milliseconds a job may run; past it the job fails with `TaskTimeoutError`
   * and its worker is replaced. Jobs then travel one at a time, so the clock
   * starts when the job does: a worker's start-up (its module's import,
   * `setup()`) is not counted, `startTimeout` bounds it (with
   * `concurrentTasksPerWorker` above 1, a job behind synchronous ones on its
   * worker starts its clock when the worker reaches it, as the pool sees
   * every sixteenth of the limit). A job that ended past its limit before
   * the pool could look (this thread busy, or behind on messages) fails all
   * the same: its worker timed it. On Deno
   * 2.9.6 a terminated worker stuck in a synchronous endless loop keeps
   * spinning (the runtime cannot interrupt it), so a job that may run away
   * should `await` now and then. `0` or `Infinity`: no limit (the default).
   */
  taskTimeout?: number | undefined;
  /**
   * Milliseconds a running job that was aborted (`exec`'s `signal`) or timed
   * out (`timeout`, `taskTimeout`) has to end once its
   * `jobContext().signal` aborts: a task that returns or throws in time keeps
   * its worker (what it returns is dropped); one that does not has its worker
   * replaced, as with `0`. The job's promise rejects at once either way; the
   * worker takes no other job until the task ends or the grace passes
   * (`Infinity`: until the task ends, however long). A job cancelled or
   * aborted while its worker imports its `task()` module counts as running:
   * a worker still importing for it then, with no other job of that module,
   * is replaced, and the jobs sent to it go again (one running other jobs
   * beside it, with `concurrentTasksPerWorker`, once they have ended).
   *
   * @default {250}
   *
   * @example A task that honours its signal keeps its worker
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1, abortGrace: 1_000 });
   * assert.equal(await pool.run((n: number) => n, 0), 0); // the worker is up
   * const exits: string[] = [];
   * pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
   * const job = pool.exec(async () => {
   *   // Inline tasks see `jobContext` as a global of the worker.
   *   const { signal } = (globalThis as unknown as {
   *     jobContext(): { signal: AbortSignal };
   *   }).jobContext();
   *   await new Promise((resolve) => signal.addEventListener("abort", resolve));
   *   return "stopped";
   * }, [], { timeout: 100 });
   * await assert.rejects(job, { name: "TaskTimeoutError" });
   * assert.equal(await pool.run((n: number) => n + 1, 1), 2);
   * assert.deepEqual(exits, []); // the same worker ran both
   * ```
   */
  abortGrace?: number | undefined;
  /**
   * Milliseconds a worker may take to start (its task module imported, its
   * `setup()` done) before its start counts as failed: it is ended with an
   * `error` event, and the pool retries with a back-off, then fails the
   * queued jobs, as for a module that does not import. Above 0; `Infinity`
   * waits for ever (a module whose top-level `await`, or a `setup()` that
   * never settles then holds its jobs for ever, and a `shutdown(timeout)`
   * that answers `false` leaves them so, keeping the program alive:
   * `terminate()` ends them). It also bounds the import of a module that a
   * `task()` names, which a worker imports when it first runs one of its
   * exports: still unfinished by then, that module's jobs fail on that worker
   * with an `Error` saying so, and the worker goes on.
   *
   * @default {60000}
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * // A module that downloads a lot at its first import may need longer.
   * await using pool = new Pool({ maxChildren: 1, startTimeout: 120_000 });
   * assert.equal(await pool.run((n: number) => n, 1), 1);
   * ```
   */
  startTimeout?: number | undefined;
  /**
   * How many jobs one worker runs at once: a job whose task returns a
   * promise no longer holds its worker, which starts the next job while it
   * waits (up to this many in flight), interleaved at their `await`s.
   * Synchronous tasks and generators run one at a time as ever. With more
   * than 1, jobs with a timeout or signal share workers too (each has its own
   * timer, counted from when its worker reaches it; a job with a signal
   * travels in a batch of its own, so aborted before its worker starts it, it
   * is cancelled), and a worker replaced for one job fails the others it was
   * running with `WorkerCrashedError`.
   *
   * @default {1}
   *
   * @example Four async jobs on one worker run at once
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 4 });
   * const counter = new Int32Array(new SharedArrayBuffer(4));
   * // Each job counts itself in, then waits until all four have: only
   * // possible if the four run at the same time on the one worker.
   * const job = async (shared: Int32Array) => {
   *   Atomics.add(shared, 0, 1);
   *   while (Atomics.load(shared, 0) < 4) await new Promise((r) => setTimeout(r, 1));
   *   return "met";
   * };
   * const results = await Promise.all([1, 2, 3, 4].map(() => pool.run(job, counter)));
   * assert.deepEqual(results, ["met", "met", "met", "met"]);
   * ```
   */
  concurrentTasksPerWorker?: number | undefined;
  /**
   * Whether a lone small job may travel on a worker's shared lane: when a
   * job is the only one queued, an idle worker is listening, and its
   * arguments and result are numbers, booleans, `null`, `undefined` or
   * strings of at most 256 UTF-16 units, the pool writes it into memory
   * shared with that worker and reads the answer back from it, with no
   * message either way (a sequential `await pool.run(...)` of a tiny job
   * then costs a few µs instead of tens). Anything else, and every job when
   * this is `false`, travels as a message. Where `SharedArrayBuffer` does
   * not exist, the pool uses messages only; `pool.sharedLane` says which.
   *
   * @default {true}
   *
   * @example Messages only
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1, sharedLane: false });
   * assert.equal(pool.sharedLane, false);
   * assert.equal(await pool.run((n: number) => n + 1, 1), 2);
   * ```
   */
  sharedLane?: boolean | undefined;
  /**
   * How many values a `stream()` job may send ahead of its consumer: the
   * worker pauses its generator once that many are unread, and goes on as
   * the consumer takes them (it is granted more per half window taken). A
   * larger window keeps a fast generator from waiting on the consumer's
   * grants; a smaller one bounds the memory of large values (2,048 values
   * of 1 MB each is 2 GB in flight).
   *
   * @default {2048}
   *
   * @example A window of 4 values for large chunks
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1, streamWindow: 4 });
   * const sizes: number[] = [];
   * for await (
   *   const chunk of pool.stream(function* () {
   *     for (let i = 0; i < 8; i++) yield new Uint8Array(1 << 20);
   *   })
   * ) sizes.push(chunk.length);
   * assert.deepEqual(sizes, Array(8).fill(1 << 20));
   * ```
   */
  streamWindow?: number | undefined;
  /**
   * Any structured-cloneable value, given to the task module's
   * `setup(workerData)` in every worker before its first job (a `Semaphore`
   * or `Lock` in it arrives working, as in a job's arguments). A `setup()`
   * that throws or rejects is a start failure, as an import that fails.
   * The module's `teardown()` runs when a worker retires normally (idle,
   * resize, recycle, shutdown), for at most 5 s; not after a crash or
   * `terminate()`.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * // No "." in a data: module: Bun 1.4 would read it as CommonJS.
   * const tasks = "data:text/javascript," + encodeURIComponent(
   *   "let greeting; export function setup({ greeting: text }) { greeting = text; }" +
   *     "export const greet = (name) => `${greeting}, ${name}`;",
   * );
   * await using pool = new Pool<{ greet(name: string): string }>({
   *   maxChildren: 1,
   *   module: tasks,
   *   workerData: { greeting: "Hello" },
   * });
   * assert.equal(await pool.run("greet", "Ada"), "Hello, Ada");
   * ```
   */
  workerData?: unknown | undefined;
  /**
   * Most jobs one worker runs (each `map` item counts): past it, the worker
   * finishes what it holds, runs `teardown()`, and a fresh one takes its
   * place (`workerexit` reason `recycle`). A hard limit: the pool never
   * sends a worker more than the rest of its budget.
   *
   * @default {Infinity}
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1, maxJobsPerWorker: 2 });
   * const names = await Promise.all(
   *   [1, 2, 3, 4].map(() => pool.run(() => (globalThis as { name?: string }).name)),
   * );
   * assert.equal(new Set(names).size, 2); // two workers, two jobs each
   * ```
   */
  maxJobsPerWorker?: number | undefined;
  /**
   * Bytes of JavaScript heap a worker may use (`heapUsed` as
   * `Deno.memoryUsage()` or, on Bun, `process.memoryUsage()` reports it
   * inside the worker). Checked between batches, so one job may pass it
   * (with several lanes, every job already sent to the worker); a worker
   * over it is recycled once idle, as with `maxJobsPerWorker`. It does not
   * see memory outside the heap: `ArrayBuffer` contents, WebAssembly
   * memory, the runtime's native allocations. Nor can it stop one job that
   * runs the heap out: on Deno that ends the whole program (V8's
   * out-of-memory is fatal to the process, and Deno's workers have no heap
   * limit of their own); on Bun a buffer the job cannot allocate fails it
   * with a `RangeError` where the process's memory is capped, but a heap
   * of objects or strings that outgrows it can end the process too.
   *
   * @default {Infinity}
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@fastpool/fastpool";
   * import assert from "node:assert/strict";
   *
   * await using pool = new Pool({ maxChildren: 1, maxWorkerMemory: 256 * 1024 ** 2 });
   * assert.equal(await pool.run(() => "fits"), "fits");
   * ```
   */
  maxWorkerMemory?: number | undefined;
  /**
   * Deno only: the permissions of the pool's workers, `"inherit"` (the
   * default, the program's own), `"none"`, or Deno's permission object
   * (`{ read: ["./data"], net: false, ... }`). Deno 2.9.6 needs the
   * `--unstable-worker-options` flag (or `"unstable": ["worker-options"]` in
   * deno.json) for it: without, Deno itself ends the program at the first
   * worker with "Unstable API 'Worker.deno.permissions'. The
   * `--unstable-worker-options` flag must be provided." (a program cannot
   * see the flag to check it first). A value Deno would refuse, or a name
   * it does not know (a typo would leave that permission the program's
   * own), is a `TypeError` at `new Pool()`; permissions beyond the program's own
   * fail each worker's start (Deno's `new Worker()` throws), as a task
   * module that does not import would. On Bun the option is a `TypeError`.
   */
  permissions?: "inherit" | "none" | Record<string, unknown> | undefined;
  /**
   * Bun only: start workers in Bun's `smol` mode (smaller heap, more
   * frequent garbage collection). Ignored on Deno, where it has no
   * equivalent.
   *
   * @default {false}
   */
  smol?: boolean | undefined;
  /**
   * Bun only: the environment variables the workers see
   * (`process.env`/`Bun.env`), instead of the program's. A `TypeError` on
   * Deno, whose workers share the process environment (restrict it with
   * `permissions: { env: false, read: "inherit", … }`: a permission left out
   * of the object is denied).
   */
  env?: Record<string, string> | undefined;
  /**
   * The queue length at which `pool.needsDrain` turns true and a `full`
   * event fires (`drain` once it falls back under); `Infinity`: never
   * (unless `maxQueue`), as `maxQueue` takes it.
   *
   * @default {maxChildren × 1024, or maxQueue if lower}
   */
  highWaterMark?: number | undefined;
  /**
   * The worker entry, for bundled builds that move it; by default the pool
   * finds `src/worker/runtime` next to itself.
   */
  workerUrl?: string | URL | undefined;
  /**
   * The clock for idle timeouts, timers and timeouts (tests pass a fake one).
   * Its `now()` must give a finite number (`new Pool()` checks it, and
   * refuses one that does not). If its `setTimer` throws, the call that
   * needed the timer (`submitLater`, `schedule`, …) throws that error and
   * keeps nothing (a job the clock ran before it threw has run); if it
   * throws while the timers re-arm after a run, the error is reported (as a
   * throwing timer callback's is) and the timers wait for the next one made.
   * A `clearTimer` that throws fails the call that cancelled; timers go on.
   * A job's time limit, armed as the job is sent, takes real time when the
   * clock's `setTimer` throws, and a `clearTimer` that throws as its answer
   * is read is reported: no job is left without its limit or failed for it.
   * `terminate()`, `shutdown()`, `resize()` and `recycle()` finish their work
   * all the same and then throw it; where no call is left to fail (an idle worker leaving, a `wait()`
   * that has answered), it is reported, as a throwing timer callback's is,
   * and so is a `setTimer` that throws for an idle worker's timeout.
   *
   * @default {systemClock}
   */
  clock?: Clock | undefined;
}

/** Options after defaults and checks. */
export interface ResolvedOptions {
  readonly maxChildren: number;
  readonly minChildren: number;
  readonly childNamePrefix: string;
  readonly doneCallback: ((result: unknown, jobId: number) => void) | undefined;
  readonly failedCallback: ((error: unknown, jobId: number) => void) | undefined;
  readonly cancelledCallback: ((jobId: number) => void) | undefined;
  readonly logLevel: LogLevel | undefined;
  readonly resultId: boolean;
  readonly module: string | null;
  readonly idleTimeout: number;
  readonly maxQueue: number;
  readonly taskTimeout: number;
  readonly abortGrace: number;
  readonly startTimeout: number;
  readonly concurrentTasksPerWorker: number;
  /** `sharedLane`, and `SharedArrayBuffer` exists. */
  readonly sharedLane: boolean;
  readonly streamWindow: number;
  readonly workerData: unknown;
  readonly maxJobsPerWorker: number;
  readonly maxWorkerMemory: number;
  /** Passed to every `new Worker()` (permissions, smol, env). */
  readonly workerOptions: WorkerOptions;
  /** `undefined`: `maxChildren` × 1024, following `resize()`. */
  readonly highWaterMark: number | undefined;
  readonly workerUrl: URL | undefined;
}

/** Every name `PoolOptions` holds; the type check below keeps the list whole. */
export const POOL_OPTION_NAMES = [
  "maxChildren",
  "minChildren",
  "childNamePrefix",
  "doneCallback",
  "failedCallback",
  "cancelledCallback",
  "logLevel",
  "resultId",
  "module",
  "idleTimeout",
  "maxQueue",
  "taskTimeout",
  "abortGrace",
  "startTimeout",
  "concurrentTasksPerWorker",
  "sharedLane",
  "streamWindow",
  "workerData",
  "maxJobsPerWorker",
  "maxWorkerMemory",
  "permissions",
  "smol",
  "env",
  "highWaterMark",
  "workerUrl",
  "clock",
] as const satisfies readonly (keyof PoolOptions)[];
const _everyPoolOption: Exclude<keyof PoolOptions, typeof POOL_OPTION_NAMES[number]> extends never
  ? true
  : never = true;

/** The default `abortGrace` (ms). */
export const DEFAULT_ABORT_GRACE = 250;

/**
 * The default `startTimeout` (ms): far beyond a normal start, so only a
 * module or `setup()` that never finishes reaches it.
 */
export const DEFAULT_START_TIMEOUT = 60_000;

/** The default `idleTimeout`: short, so an idle pool never holds a program open for long. */
export const DEFAULT_IDLE_TIMEOUT = 1000;

/** The largest `streamWindow`: a bound on what one stream may hold in flight. */
const MAX_STREAM_WINDOW = 1 << 20;
/** The most `concurrentTasksPerWorker`: each async job in flight holds a word of shared memory. */
export const MAX_CONCURRENCY = 1024;

const LOG_LEVELS = ["error", "warn", "info", "debug"];

/** The number of CPU cores, as the runtime reports it (at least 1). */
export function cpuCount(): number {
  const cores = globalThis.navigator?.hardwareConcurrency;
  return typeof cores === "number" && cores > 0 ? cores : 1;
}

/**
 * `maxChildren` as fastthreadpool reads it: `> 0` is absolute, `<= 0` is
 * added to the number of cores.
 *
 * @throws {RangeError} If the result is below 1 or the value is not an integer.
 */
export function resolveMaxChildren(
  value: number | undefined,
  what = "create pool",
  name = "maxChildren",
): number {
  const cores = cpuCount();
  if (value === undefined) return cores;
  checkInteger(value, name, what);
  const resolved = value > 0 ? value : cores + value;
  if (resolved < 1) {
    throw new RangeError(
      `Cannot ${what}: "${name}" of ${value} leaves ${resolved} workers on ${cores} cores; it must leave at least 1`,
    );
  }
  return resolved;
}

/** Applies defaults and checks every option. */
export function resolveOptions(options: PoolOptions): ResolvedOptions {
  checkOptionsObject(options, CREATE);
  checkOptionNames(options, POOL_OPTION_NAMES, "create pool");
  // workerData is the task module's: null is a value like any other there.
  refuseNulls(options, POOL_OPTION_NAMES.filter((name) => name !== "workerData"), CREATE);
  const maxChildren = resolveMaxChildren(options.maxChildren);
  const minChildren = options.minChildren ?? 0;
  checkInteger(minChildren, "minChildren", CREATE);
  if (minChildren < 0 || minChildren > maxChildren) {
    throw new RangeError(
      `Cannot create pool: "minChildren" must be between 0 and maxChildren (${maxChildren}), received ${minChildren}`,
    );
  }
  const prefix = options.childNamePrefix ?? "ThreadPool";
  if (typeof prefix !== "string") {
    throw new TypeError(
      `Cannot create pool: "childNamePrefix" must be a string, received ${describe(prefix)}`,
    );
  }
  for (const name of ["doneCallback", "failedCallback", "cancelledCallback"] as const) {
    if (options[name] !== undefined) checkFunction(options[name], name, CREATE);
  }
  if (options.logLevel !== undefined && !LOG_LEVELS.includes(options.logLevel)) {
    throw new TypeError(
      `Cannot create pool: "logLevel" must be one of ${LOG_LEVELS.join(", ")}, received ${
        describe(options.logLevel)
      }`,
    );
  }
  const idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  checkTimeout(idleTimeout, "idleTimeout", CREATE); // Infinity: idle workers stay
  const maxQueue = options.maxQueue ?? Infinity;
  if (maxQueue !== Infinity) checkInteger(maxQueue, "maxQueue", CREATE, 1);
  const taskTimeout = options.taskTimeout ?? 0;
  checkTimeout(taskTimeout, "taskTimeout", CREATE);
  const abortGrace = options.abortGrace ?? DEFAULT_ABORT_GRACE;
  checkTimeout(abortGrace, "abortGrace", CREATE); // Infinity: the task ends when it will
  const startTimeout = options.startTimeout ?? DEFAULT_START_TIMEOUT;
  if (!(typeof startTimeout === "number" && startTimeout > 0)) {
    // Elsewhere 0 means "no limit"; here it would fail every start.
    const kind = typeof startTimeout === "number" ? RangeError : TypeError;
    const rule = "a number of milliseconds above 0 (Infinity: no limit)";
    throw invalid(kind, CREATE, "startTimeout", rule, startTimeout);
  }
  const concurrentTasksPerWorker = options.concurrentTasksPerWorker ?? 1;
  checkInteger(concurrentTasksPerWorker, "concurrentTasksPerWorker", CREATE, 1, MAX_CONCURRENCY);
  const { sharedLane, resultId, clock } = options;
  if (resultId !== undefined) checkBoolean(resultId, "resultId", CREATE);
  if (
    clock !== undefined &&
    (typeof clock !== "object" || clock === null ||
      !["now", "setTimer", "clearTimer"].every((name) =>
        typeof (clock as unknown as Record<string, unknown>)[name] === "function"
      ))
  ) {
    throw invalid(TypeError, CREATE, "clock", "a Clock: now(), setTimer() and clearTimer()", clock);
  }
  if (clock !== undefined) {
    // Timers and time limits compare its readings: NaN would make none ever due.
    const now = clock.now();
    if (!Number.isFinite(now)) {
      throw invalid(TypeError, CREATE, "clock", "a Clock whose now() gives a finite number", now);
    }
  }
  if (sharedLane !== undefined) checkBoolean(sharedLane, "sharedLane", CREATE);
  const streamWindow = options.streamWindow ?? STREAM_WINDOW;
  checkInteger(streamWindow, "streamWindow", CREATE, 1, MAX_STREAM_WINDOW);
  const { workerData } = options;
  if (workerData !== undefined) {
    try {
      // Without shared memory, as it is sent: a Semaphore or Lock in it is refused here
      // (before, each worker start failed on it, three times, then the first job). With
      // it, its getters are read once here, as a start reads them.
      // Inside a margin of levels: the `init` message holds it deeper, and on
      // Deno one the check just passed left every worker unable to read it.
      let nested: unknown = hasSharedMemory ? workerData : toWire(workerData) ?? workerData;
      for (let k = 0; k < WORKER_DATA_MARGIN; k++) nested = [nested];
      structuredClone(nested);
    } catch (error) {
      throw new TypeError(
        `Cannot create pool: "workerData" must be structured-cloneable, received ${
          describe(workerData)
        } (${thrownMessage(error)})`,
        { cause: error },
      );
    }
  }
  const maxJobsPerWorker = options.maxJobsPerWorker ?? Infinity;
  if (maxJobsPerWorker !== Infinity) checkInteger(maxJobsPerWorker, "maxJobsPerWorker", CREATE, 1);
  const maxWorkerMemory = options.maxWorkerMemory ?? Infinity;
  if (maxWorkerMemory !== Infinity) checkInteger(maxWorkerMemory, "maxWorkerMemory", CREATE, 1);
  const highWaterMark = options.highWaterMark;
  if (highWaterMark !== undefined && highWaterMark !== Infinity) {
    checkInteger(highWaterMark, "highWaterMark", CREATE, 1);
  }
  return {
    maxChildren,
    minChildren,
    childNamePrefix: prefix,
    doneCallback: options.doneCallback,
    failedCallback: options.failedCallback,
    cancelledCallback: options.cancelledCallback,
    logLevel: options.logLevel,
    resultId: resultId === true,
    module: options.module === undefined ? null : toUrl(options.module, "module").href,
    idleTimeout,
    maxQueue,
    taskTimeout: taskTimeout === Infinity ? 0 : taskTimeout,
    abortGrace,
    startTimeout,
    concurrentTasksPerWorker,
    sharedLane: sharedLane !== false && hasSharedMemory,
    streamWindow,
    workerData,
    maxJobsPerWorker,
    maxWorkerMemory,
    workerOptions: workerOptionsOf(options),
    highWaterMark,
    workerUrl: options.workerUrl === undefined ? undefined : toUrl(options.workerUrl, "workerUrl"),
  };
}

/** The runtime options of every `new Worker()`: `permissions` (Deno), `smol` and `env` (Bun). */
function workerOptionsOf(options: PoolOptions): WorkerOptions {
  const result: Record<string, unknown> = {};
  const { permissions, smol, env } = options;
  const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
  if (permissions !== undefined && permissions !== "inherit") {
    if (
      permissions !== "none" && (typeof permissions !== "object" || permissions === null)
    ) {
      throw invalid(
        TypeError,
        CREATE,
        "permissions",
        '"inherit", "none" or an object',
        permissions,
      );
    }
    if (isBun) {
      throw new TypeError(
        'Cannot create pool: "permissions" works on Deno only; Bun has no per-worker permissions',
      );
    }
    if (permissions !== "none") checkPermissions(permissions);
    result.deno = { permissions };
  }
  if (smol !== undefined) {
    checkBoolean(smol, "smol", CREATE);
    if (isBun && smol) result.smol = true;
  }
  if (env !== undefined) {
    checkStringRecord(env, "env");
    if (!isBun) {
      throw new TypeError(
        'Cannot create pool: "env" works on Bun only; Deno workers share the process environment (restrict it with permissions: { env: false, read: "inherit", net: "inherit", ... }: a permission left out of the object is denied)',
      );
    }
    result.env = env;
  }
  return result as WorkerOptions;
}

/** Deno's worker permission names (`Deno.PermissionOptionsObject`). */
const PERMISSION_NAMES = ["env", "ffi", "import", "net", "read", "run", "sys", "write"];
/** Those whose lists may hold `URL`s as well as strings. */
const PERMISSION_URLS = ["ffi", "read", "run", "write"];

/**
 * Checks Deno's permission object here, as Deno itself would only at the
 * first worker (a throw there, in the dispatch): each value `"inherit"`, a
 * boolean, a list of strings (or URLs, where Deno takes them), or
 * `undefined`/`null` (left to Deno's default). A name Deno does not know is
 * refused too, though Deno ignores it: misspelt, the permission it meant
 * would silently stay the program's own. (`hrtime`, Deno 1's, which Deno 2
 * ignores, is let through.)
 */
function checkPermissions(permissions: Record<string, unknown>): void {
  for (const name of reading("its names", () => Object.keys(permissions))) {
    if (PERMISSION_NAMES.includes(name) || name === "hrtime") continue;
    const closest = closestName(name, PERMISSION_NAMES);
    throw new TypeError(
      `Cannot create pool: "permissions" has no permission "${name}"; ${
        closest === undefined
          ? `Deno's are ${PERMISSION_NAMES.join(", ")}`
          : `did you mean "${closest}"?`
      }`,
    );
  }
  // Read as Deno reads them: inherited values and non-enumerable ones too.
  for (const name of PERMISSION_NAMES) {
    const urls = PERMISSION_URLS.includes(name);
    const value = reading(name, () => permissions[name]);
    if (reading(name, () => isPermissionValue(value, urls))) continue;
    const expected = `"inherit", a boolean or an array of strings${urls ? " or URLs" : ""}`;
    throw invalid(TypeError, CREATE, `permissions.${name}`, expected, value);
  }
}

/** `read()`'s result; a throw of a getter or Proxy in it, named as part of "permissions". */
function reading<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new TypeError(
      `Cannot create pool: "permissions" could not be read (${what}: ${thrownMessage(error)})`,
      { cause: error },
    );
  }
}

function isPermissionValue(value: unknown, urls: boolean): boolean {
  if (value === undefined || value === null || value === "inherit") return true;
  if (typeof value === "boolean") return true;
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) { // holes included
    const entry = value[i];
    if (typeof entry !== "string" && !(urls && entry instanceof URL)) return false;
  }
  return true;
}

/**
 * Checks a plain object (its prototype `Object.prototype` or `null`, so not a
 * `Map`, `Headers` or `URLSearchParams`, whose entries are not own fields)
 * whose own fields are strings, naming the first that is not.
 */
function checkStringRecord(value: unknown, name: string): void {
  let plain = false;
  try {
    const prototype = typeof value === "object" && value !== null && !Array.isArray(value)
      ? Object.getPrototypeOf(value)
      : undefined;
    plain = prototype === Object.prototype || prototype === null;
  } catch {
    // a Proxy whose trap throws: not plain
  }
  if (!plain) throw invalid(TypeError, CREATE, name, "a plain object of strings", value);
  let keys: string[];
  try {
    keys = Object.keys(value as object);
  } catch (error) {
    throw new TypeError(
      `Cannot create pool: reading "${name}"'s fields threw: ${thrownMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  for (const key of keys) {
    let field: unknown;
    try {
      field = (value as Record<string, unknown>)[key];
    } catch (error) {
      throw new TypeError(
        `Cannot create pool: reading "${name}.${key}" threw: ${thrownMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    if (typeof field !== "string") {
      throw invalid(TypeError, CREATE, `${name}.${key}`, "a string", field);
    }
  }
}

function toUrl(value: string | URL, name: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new TypeError(
      `Cannot create pool: "${name}" must be an absolute URL (e.g. new URL("./tasks.ts", import.meta.url)), received ${
        typeof value === "string" ? JSON.stringify(value) : describe(value)
      }`,
    );
  }
}
