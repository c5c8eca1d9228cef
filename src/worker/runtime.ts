/**
 * The worker side: the entry every pool worker runs. It imports the pool's
 * task module, compiles inline tasks once, runs batches of jobs in order, and
 * answers with batched results.
 *
 * It imports only `protocol/` and `sync/`, never pool code.
 *
 * It is also the `@fastpool/fastpool/worker` entry a task imports
 * `jobContext` from: imported anywhere but a worker (the main thread, a doc
 * test), it does nothing.
 *
 * @module
 */

import {
  assertNever,
  type FromWorker,
  Mode,
  PROTOCOL_VERSION,
  SPIN_MS,
  Status,
  STREAM_WINDOW,
  type TaskSpec,
  type ToWorker,
  type WorkerNotice,
} from "../protocol/messages.ts";
import { decodeError, describeThrown, encodeError } from "../protocol/codec.ts";
import { JobHeader, readJobHeader } from "../protocol/job_batch.ts";
import { ResultWriter } from "../protocol/result_batch.ts";
import { fromWire, toWire } from "../sync/wire.ts";
import { type Compiled, compileTask, TaskKind } from "./compile.ts";
import { installJobContext, type JobContext, LiveContext } from "./job_context.ts";
import { type Loaded, loadModule } from "./load.ts";
import { workerMemory } from "./memory.ts";

export { type JobContext, jobContext } from "./job_context.ts";

interface WorkerScope {
  postMessage(message: FromWorker | WorkerNotice, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
  addEventListener(type: "error" | "unhandledrejection", listener: (event: Event) => void): void;
  close?: () => void;
}

const scope = globalThis as unknown as WorkerScope;
/**
 * Whether this module runs in a worker. Imported elsewhere (for
 * `jobContext`, or by a doc test) it must not take over the thread's error
 * events or its `Deno.exit`. Bun has no `WorkerGlobalScope`; it says
 * `Bun.isMainThread`.
 */
const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope ===
    "function"
  ? globalThis instanceof
    (globalThis as unknown as { WorkerGlobalScope: abstract new () => unknown }).WorkerGlobalScope
  : (globalThis as { Bun?: { isMainThread?: boolean } }).Bun?.isMainThread === false;
/**
 * The pool's own ends of the worker's messaging, taken before any task runs.
 * A task may call or replace `self.postMessage`, set `self.onmessage` or add
 * message listeners of its own: the pool listens with `addEventListener`, so
 * a task's `onmessage` is one more listener and never replaces the pool's,
 * and it posts through this copy. (What a task posts reaches the pool's slot,
 * which ignores and reports messages that are not the pool's.)
 */
const post: WorkerScope["postMessage"] = inWorker ? scope.postMessage.bind(scope) : () => {};
/** The worker's own `close` (Deno), before `reportOwnExit` wraps it. */
const closeSelf = typeof scope.close === "function" ? scope.close.bind(scope) : undefined;

/** Results are sent at the end of each batch, or sooner once this old (ms). */
const FLUSH_AFTER_MS = 2;
/** Jobs this slow (ms each, on average) answer before the last job of a message; see `answerEarly`. */
const EARLY_ANSWER_MS = 0.1;
/** How many quick jobs run between two looks at the clock. */
const CLOCK_EVERY = 64;
/**
 * Argument arrays reused for jobs of up to 4 arguments: `fn.apply` copies
 * them into the call, so no job ever sees another's array. Filled with
 * `null`, not `undefined` or numbers: V8 would otherwise store them as
 * double arrays, and every integer argument would reach the task boxed as a
 * double (fib(27) ran 2.4 times slower that way).
 */
const REUSED_ARGS: unknown[][] = [[], [null], [null, null], [null, null, null], [
  null,
  null,
  null,
  null,
]];

const tasks: Compiled[] = [];
const imports = new Map<string, Promise<Loaded>>();
let taskModule: Promise<Loaded> | null = null;
let started: Promise<boolean> = Promise.resolve(true);
/** Shared with the pool: how many jobs this worker has started. */
let status: Int32Array<ArrayBufferLike> = new Int32Array(Status.WORDS);
let startedJobs = 0;
/** An error escaped every job (see `onUncaught`): the worker says nothing more. */
let crashed = false;
/** Messages received from the pool, to compare with its `TO_WORKER` doorbell. */
let received = 0;

const inbox: (ToWorker & { type: "run" })[] = [];
let draining = false;
/** Stream jobs stopped (`return()`) before they started: skipped when reached. */
const skipped = new Set<number>();

/** The answers of the jobs run since the last `results` message. */
const out = new ResultWriter(toWire);
let batchStart = 0;
let sinceClock = 0;

/** The stream job running now, paced by credits from the pool. */
let stream: { id: number; credit: number; stopped: boolean; wake: (() => void) | null } | null =
  null;

/**
 * The job being called synchronously now (its id), or 0: set before each
 * call of a task, cleared before the worker awaits. `jobContext()` reads it.
 */
let currentJob = 0;
/** The context `jobContext()` made during the current synchronous call, if any. */
let made: LiveContext | null = null;
/** Contexts of jobs that went asynchronous and still run, by job id: aborts find them here. */
const live = new Map<number, LiveContext>();

if (inWorker) {
  reportOwnExit();
  scope.addEventListener("error", (event) => {
    const { error, message } = event as ErrorEvent;
    onUncaught(event, error ?? new Error(message));
  });
  scope.addEventListener("unhandledrejection", (event) => {
    onUncaught(event, (event as PromiseRejectionEvent).reason);
  });
  installJobContext(contextNow);
}

/** The resolver behind `jobContext()`: the running job's context, made on first use. */
function contextNow(): JobContext | undefined {
  if (currentJob === 0) return undefined;
  if (made !== null) {
    if (made.id === currentJob) return made;
    made.ended = true; // a job that ended synchronously
  }
  return made = new LiveContext(currentJob, sendProgress);
}

function sendProgress(id: number, value: unknown): void {
  post({ type: "progress", id, value });
}

/**
 * Called where a job's call returned a promise and the worker is about to
 * await it: no job runs synchronously any more, and a context the job made
 * stays reachable for aborts until the promise settles.
 */
function track(pending: Promise<void>): Promise<void> {
  currentJob = 0;
  const context = made;
  if (context === null) return pending;
  made = null;
  live.set(context.id, context);
  return pending.finally(() => {
    context.ended = true;
    live.delete(context.id);
  });
}

/** `concurrentTasksPerWorker`; above 1, asynchronous jobs run side by side. */
let concurrency = 1;
/** Free lanes of the shared lane table (see `Status.WORDS`). */
const freeLanes: number[] = [];
/** Wakes the job loop waiting for a free lane. */
let laneFree: (() => void) | null = null;
/** An answer of an asynchronous job waits to be flushed while the loop is idle. */
let flushQueued = false;

function setConcurrency(n: number | undefined): void {
  concurrency = n !== undefined && n > 1 ? n : 1;
  for (let lane = concurrency - 1; lane >= 0 && concurrency > 1; lane--) freeLanes.push(lane);
}

/**
 * The pending result of job `id` of a plain task: with one lane, the loop
 * awaits it (the promise returned); with several, the job takes a lane and
 * answers later (`LATER`, then `FOR`), and the loop goes on at once, or once
 * a lane is free if all are taken.
 */
function pendingResult(task: Compiled, result: unknown, id: number): Promise<void> | undefined {
  if (concurrency === 1) return track(settle(task, result)!);
  const lane = freeLanes.pop()!;
  Atomics.store(status, Status.WORDS + lane, id | 0);
  out.later();
  const context = made;
  made = null;
  if (context !== null) live.set(id, context);
  const end = () => {
    Atomics.store(status, Status.WORDS + lane, 0);
    freeLanes.push(lane);
    if (context !== null) {
      context.ended = true;
      live.delete(id);
    }
  };
  Promise.resolve(result).then(
    (value) => {
      end();
      out.laterReturned(id, value);
      laterAnswered();
    },
    (error) => {
      end();
      out.laterThrew(id, task.explain(error));
      laterAnswered();
    },
  );
  if (freeLanes.length !== 0) return undefined;
  currentJob = 0;
  return new Promise<void>((resolve) => laneFree = resolve);
}

/**
 * An asynchronous job answered: wake the loop waiting for a lane, or else
 * flush once the current microtasks are done (the loop is parked or
 * awaiting something else; answers that settle together go together).
 */
function laterAnswered(): void {
  if (laneFree !== null) {
    const wake = laneFree;
    laneFree = null;
    wake();
  } else if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(() => {
      flushQueued = false;
      flush();
    });
  }
}

/**
 * The loop got a lane back: answers of slow jobs go now (as `answerEarly`
 * judges), so a long synchronous job next does not hold them back.
 */
function afterLane(): void {
  if (
    concurrency > 1 && out.jobs !== 0 &&
    performance.now() - batchStart >= EARLY_ANSWER_MS * out.jobs
  ) {
    flush();
  } else maybeFlush();
}

/** The pool aborted job `id`: abort its signal if it runs, skip it if it has not started. */
function abortJob(id: number, reason: unknown): void {
  const context = live.get(id) ?? (made?.id === id ? made : undefined);
  if (context !== undefined) context.abort(decodeError(reason));
  else if (currentJob !== id && draining) skipped.add(id);
}

scope.addEventListener("message", (event) => {
  if (crashed) return;
  received = (received + 1) | 0;
  const msg = event.data;
  switch (msg.type) {
    case "init":
      if (msg.version !== PROTOCOL_VERSION) {
        // A pool of another fastpool version loaded this worker module.
        post({
          type: "fatal",
          error: encodeError(
            new Error(
              `Cannot start worker: the pool speaks fastpool protocol version ${
                String(msg.version)
              }, this worker ${PROTOCOL_VERSION}; "workerUrl" must be the worker module of the same fastpool version`,
            ),
          ),
        });
        started = Promise.resolve(false);
        break;
      }
      status = new Int32Array(msg.status);
      setConcurrency(msg.concurrency);
      nameThisWorker(msg.name);
      maxMemory = msg.maxMemory;
      started = init(msg.module, msg.workerData);
      break;
    case "run":
      inbox.push(msg);
      if (!draining) void drain();
      break;
    case "credit":
      if (stream?.id === msg.id) {
        stream.credit += msg.n;
        stream.wake?.();
      }
      break;
    case "stop":
      if (stream?.id === msg.id) {
        stream.stopped = true;
        stream.wake?.();
      } else {
        skipped.add(msg.id);
      }
      break;
    case "abort":
      abortJob(msg.id, msg.reason);
      break;
    case "retire":
      void retire();
      break;
    default:
      assertNever(msg);
  }
});

/**
 * An error no job caught (thrown from a timer, a promise nobody awaited)
 * leaves the worker in a state nobody knows, so the worker reports it and
 * stops; the pool fails the running job with `WorkerCrashedError` (its
 * `cause` this error) and replaces the worker. The worker reports it itself,
 * as a message, and cancels the event, because Deno prints "error: Uncaught
 * (in worker …)" to stderr for every error a worker leaves unhandled, even
 * one the pool handles on its side (checked on Deno 2.9.6; Bun prints
 * nothing, and sends the pool its error event too, which then finds the
 * worker gone).
 */
function onUncaught(event: Event, error: unknown): void {
  event.preventDefault();
  if (crashed) return;
  crashed = true;
  try {
    post({ type: "uncaught", error: encodeError(error) });
  } catch {
    // A thrown value that cannot be cloned: its description then.
    post({ type: "uncaught", error: encodeError(new Error(describeThrown(error))) });
  }
  closeSelf?.(); // Deno; on Bun the pool terminates the worker
}

/**
 * Deno gives the pool no event when a worker ends itself (`self.close()`,
 * `Deno.exit()`): say so first, so the pool can fail or requeue its jobs.
 */
function reportOwnExit(): void {
  const global = globalThis as {
    close?: () => void;
    Deno?: { exit?: (code?: number) => never };
    process?: { exit?: (code?: number) => never };
  };
  const wrap = <F extends (...args: never[]) => unknown>(
    fn: F,
    describe: (...args: Parameters<F>) => string,
  ): F =>
    ((...args: Parameters<F>) => {
      try {
        post({ type: "exit", how: describe(...args) });
      } catch {
        // Nothing more can be said.
      }
      return fn(...args);
    }) as F;
  if (typeof global.close === "function") {
    global.close = wrap(global.close, () => "it called self.close()");
  }
  const deno = global.Deno;
  if (deno && typeof deno.exit === "function") {
    const exit = deno.exit.bind(deno);
    try {
      deno.exit = wrap(exit, (code?: number) => `it called Deno.exit(${code ?? ""})`);
    } catch {
      // Read-only in some versions: then only the pool's timeouts notice.
    }
  }
}

/** Sets `self.name` where the runtime did not (Bun ignores the Worker's `name` option). */
function nameThisWorker(name: string): void {
  if ((globalThis as { name?: unknown }).name !== name) {
    Object.defineProperty(globalThis, "name", { value: name, configurable: true, writable: true });
  }
}

/**
 * Imports the task module and runs its `setup(workerData)`; a throw or
 * rejection of either is a start failure (`fatal`).
 */
async function init(module: string | null, workerData: unknown): Promise<boolean> {
  let teardown = false;
  if (module !== null) {
    taskModule = loadModule(module);
    try {
      const { ns } = await taskModule;
      if (typeof ns.setup === "function") await ns.setup(workerData);
      teardown = typeof ns.teardown === "function";
    } catch (error) {
      post({ type: "fatal", error: encodeError(error) });
      return false;
    }
  }
  post({ type: "ready", version: PROTOCOL_VERSION, teardown });
  return true;
}

/** Runs the task module's `teardown()` and says so; the pool then ends the worker. */
async function retire(): Promise<void> {
  let error: unknown = null;
  try {
    if (!await started) return void post({ type: "retired", error: null });
    const ns = taskModule === null ? null : (await taskModule).ns;
    if (typeof ns?.teardown === "function") await ns.teardown();
  } catch (thrown) {
    error = encodeError(thrown);
  }
  post({ type: "retired", error });
}

/** `maxWorkerMemory`: 0 for unbounded. */
let maxMemory = 0;
let overMemorySaid = false;

/**
 * At the end of each batch: tells the pool once when this worker's memory passed
 * `maxWorkerMemory`, so that it is recycled when idle.
 */
function checkMemory(): void {
  if (maxMemory === 0 || overMemorySaid) return;
  const bytes = workerMemory();
  if (bytes > maxMemory) {
    overMemorySaid = true;
    post({ type: "overMemory", bytes });
  }
}

async function drain(): Promise<void> {
  draining = true;
  try {
    if (!await started) return;
    for (let msg = inbox.shift(); msg !== undefined; msg = inbox.shift()) {
      if (msg.tasks) await define(msg.taskBase, msg.tasks);
      await runJobs(msg.jobs);
    }
    spinForWork();
  } finally {
    draining = false;
    // Every job received has started: ids left were stopped or aborted after they ended.
    skipped.clear();
  }
}

async function define(base: number, specs: TaskSpec[]): Promise<void> {
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    tasks[base + i] = spec.kind === "source"
      ? compileTask(spec.source)
      : await importTask(spec.module, spec.name);
  }
}

async function importTask(module: string | null, name: string): Promise<Compiled> {
  const where = module ?? "the pool's task module";
  let namespace: Record<string, unknown>;
  try {
    if (module === null) {
      if (!taskModule) {
        throw new TypeError(`Cannot run task "${name}": the pool has no "module" option`);
      }
      namespace = (await taskModule).ns;
    } else {
      let loading = imports.get(module);
      if (!loading) imports.set(module, loading = loadModule(module));
      namespace = (await loading).ns;
    }
  } catch (error) {
    return compileTask.failing(error);
  }
  const fn = namespace[name];
  if (typeof fn !== "function") {
    return compileTask.failing(
      new TypeError(
        `Cannot run task "${name}": ${where} ${
          fn === undefined ? "has no such export" : "exports it, but not as a function"
        }`,
      ),
    );
  }
  return compileTask.of(fn as (...args: unknown[]) => unknown, false);
}

/** The entry `runJobs` reads now; refilled per entry (`drain` runs one batch at a time). */
const header = new JobHeader();

async function runJobs(jobs: unknown[]): Promise<void> {
  batchStart = performance.now();
  let next = 0;
  while (next < jobs.length) {
    next = readJobHeader(jobs, next, header);
    const id = header.id;
    const task = tasks[header.task]!;
    const mode = header.mode;
    const n = header.count;
    const i = header.values;
    if (mode === Mode.MAP_F64) {
      const values = jobs[i] as Float64Array;
      if (task.kind === TaskKind.PLAIN) await runNumbers(task, values, id);
      else await runEach(task, values, 0, n, id);
      continue;
    }
    if (mode === Mode.MAP) {
      if (task.kind === TaskKind.PLAIN) {
        await runItems(task, jobs, i, n, id, next === jobs.length);
      } else await runEach(task, jobs, i, n, id);
    } else if (skipped.size !== 0 && skipped.delete(id)) {
      Atomics.store(status, Status.STARTED, ++startedJobs);
      out.skipped();
    } else {
      Atomics.store(status, Status.STARTED, ++startedJobs);
      const args = n < REUSED_ARGS.length ? REUSED_ARGS[n]! : new Array(n);
      for (let k = 0; k < n; k++) args[k] = fromWire(jobs[i + k]);
      currentJob = id;
      const pending = call(task, args, mode, id);
      if (pending) {
        await track(pending);
        afterLane();
      } else if (++sinceClock >= CLOCK_EVERY) maybeFlush();
    }
  }
  endCalls();
  // Before the answers, so the pool sends this worker nothing after them.
  checkMemory();
  flush();
}

/** No job runs synchronously any more: `jobContext()` now throws, and a context made ends. */
function endCalls(): void {
  currentJob = 0;
  if (made !== null) {
    made.ended = true;
    made = null;
  }
}

/**
 * Out of work: watch the doorbell for `SPIN_MS` before parking, so a job the
 * pool sends right after our results is picked up without a thread wake-up.
 * The message itself is then waiting in the event loop. No spin at all when
 * the doorbell says a message is already waiting there.
 */
function spinForWork(): void {
  if (Atomics.load(status, Status.TO_WORKER) !== received) return;
  const until = performance.now() + SPIN_MS;
  while (Atomics.load(status, Status.TO_WORKER) === received && performance.now() < until);
}

/** `n` jobs of any task, one argument each, from `items[start]` on: the general case. */
async function runEach(
  task: Compiled,
  items: ArrayLike<unknown>,
  start: number,
  n: number,
  firstId: number,
): Promise<void> {
  const args = REUSED_ARGS[1]!;
  for (let k = 0; k < n; k++) {
    Atomics.store(status, Status.STARTED, ++startedJobs);
    args[0] = fromWire(items[start + k]);
    currentJob = firstId + k;
    const pending = call(task, args, Mode.CALL, firstId + k);
    if (pending) {
      await track(pending);
      afterLane();
    } else if (++sinceClock >= CLOCK_EVERY) maybeFlush();
  }
}

/**
 * Jobs of a plain task over numbers that arrived as a Float64Array: results
 * are written over their arguments and the array goes back, moved, as one
 * `F64RETURNS`. At the first result that is not a number (or a throw), what
 * is done so far goes as such and the rest takes the general path.
 */
async function runNumbers(task: Compiled, values: Float64Array, firstId: number): Promise<void> {
  const fn = task.fn;
  const n = values.length;
  let k = 0;
  let result: unknown;
  let threw = false;
  for (; k < n; k++) {
    Atomics.store(status, Status.STARTED, ++startedJobs);
    currentJob = firstId + k;
    try {
      result = fn(fromDouble(values[k]!));
    } catch (error) {
      result = error;
      threw = true;
      break;
    }
    if (typeof result !== "number") break;
    values[k] = result;
  }
  if (k > 0) out.returnedNumbers(values, k);
  if (k === n) return;
  // Job k is started and has its outcome in `result`; the rest have not started.
  if (threw) pushThrow(task, result);
  else if (isThenable(result)) {
    const wait = pendingResult(task, result, firstId + k);
    if (wait !== undefined) await wait;
  } else pushReturn(result);
  if (k + 1 < n) {
    await runItems(
      task,
      Array.from(values.subarray(k + 1), fromDouble),
      0,
      n - k - 1,
      firstId + k + 1,
    );
  }
}

/**
 * A number read from a Float64Array, as the task should get it: an integer
 * as an integer, not as a double, which would send the task down its
 * engine's slower floating-point paths (`map` of fib(20) ran 1.7 times
 * slower on Deno, 1.2 on Bun, that way). -0 stays -0.
 */
function fromDouble(x: number): number {
  return x === (x | 0) && (x !== 0 || 1 / x > 0) ? x | 0 : x;
}

/**
 * The hot loop: `n` jobs of a plain task, one argument each (a `map` slice,
 * or consecutive `submit`s). Called directly, not through `call()`.
 */
async function runItems(
  task: Compiled,
  jobs: unknown[],
  start: number,
  n: number,
  firstId: number,
  lastEntry = false,
): Promise<void> {
  const fn = task.fn;
  const last = lastEntry ? start + n - 1 : -1;
  const idOf = firstId - start;
  for (let k = start, end = start + n; k < end; k++) {
    if (k === last) answerEarly();
    Atomics.store(status, Status.STARTED, ++startedJobs);
    currentJob = idOf + k;
    const arg = jobs[k];
    let result: unknown;
    try {
      result = fn(typeof arg === "object" && arg !== null ? fromWire(arg) : arg);
    } catch (error) {
      pushThrow(task, error);
      continue;
    }
    const type = typeof result;
    if (type === "number" || type === "string" || type === "boolean" || result == null) {
      out.returnedPrimitive(result);
    } else if (isThenable(result)) {
      const wait = pendingResult(task, result, idOf + k);
      if (wait !== undefined) {
        await wait;
        afterLane();
        continue;
      }
    } else {
      pushReturn(result);
    }
    if (++sinceClock >= CLOCK_EVERY) maybeFlush();
  }
}

/** Records a plain task's result: at once, or once it settles if it is a promise. */
function settle(task: Compiled, result: unknown): Promise<void> | undefined {
  if (isThenable(result)) {
    return Promise.resolve(result).then(pushReturn, (error) => pushThrow(task, error));
  }
  pushReturn(result);
  return undefined;
}

/** Runs one job; returns a promise only when the job is asynchronous. */
function call(
  task: Compiled,
  args: unknown[],
  mode: number,
  id: number,
): Promise<void> | undefined {
  let result: unknown;
  try {
    result = task.fn.apply(undefined, args);
  } catch (error) {
    pushThrow(task, error);
    return;
  }
  if (task.kind === TaskKind.PLAIN) {
    return concurrency > 1 && isThenable(result)
      ? pendingResult(task, result, id)
      : settle(task, result);
  }
  if (mode === Mode.STREAM) {
    return runStream(task, result as AsyncIterator<unknown>, id);
  }
  if (task.kind === TaskKind.GENERATOR) {
    try {
      for (const value of result as Iterable<unknown>) out.yielded(value);
      out.ended();
    } catch (error) {
      pushThrow(task, error);
    }
    return;
  }
  return runAsyncGenerator(task, result as AsyncIterable<unknown>);
}

async function runAsyncGenerator(task: Compiled, values: AsyncIterable<unknown>): Promise<void> {
  try {
    for await (const value of values) {
      out.yielded(value);
      maybeFlush();
    }
    out.ended();
  } catch (error) {
    pushThrow(task, error);
  }
}

/** A generator job whose values are sent as they come, at most STREAM_WINDOW ahead. */
async function runStream(
  task: Compiled,
  iterator: Iterator<unknown> | AsyncIterator<unknown>,
  id: number,
): Promise<void> {
  const state = { id, credit: STREAM_WINDOW, stopped: false, wake: null as (() => void) | null };
  stream = state;
  try {
    while (true) {
      while (state.credit <= 0 && !state.stopped) {
        await new Promise<void>((resolve) => state.wake = resolve);
        state.wake = null;
      }
      if (state.stopped) {
        await iterator.return?.();
        break;
      }
      const step = await iterator.next();
      if (step.done) break;
      state.credit--;
      out.yielded(step.value);
      flush();
    }
    out.ended();
  } catch (error) {
    pushThrow(task, error);
  } finally {
    stream = null;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (typeof value !== "object" || value === null) return false;
  try {
    return typeof (value as PromiseLike<unknown>).then === "function";
  } catch {
    // A getter or Proxy trap that throws: not a thenable. Sending the value
    // then fails to clone it, and that job alone fails.
    return false;
  }
}

function pushReturn(value: unknown): void {
  out.returned(value);
}

function pushThrow(task: Compiled, error: unknown): void {
  out.threw(task.explain(error));
}

/**
 * One job of the message is left and nothing else is waiting: if jobs are
 * slow, send the results so far now, so the pool can send more work while
 * that job runs and this worker never waits for it. (Tiny jobs do not pay
 * for the extra message.)
 */
function answerEarly(): void {
  if (
    out.jobs !== 0 && inbox.length === 0 &&
    performance.now() - batchStart >= EARLY_ANSWER_MS * out.jobs
  ) {
    flush();
  }
}

function maybeFlush(): void {
  sinceClock = 0;
  if (performance.now() - batchStart >= FLUSH_AFTER_MS) flush();
}

function flush(): void {
  if (out.empty || crashed) return;
  const now = performance.now();
  out.flush(now - batchStart, post);
  Atomics.add(status, Status.TO_MAIN, 1);
  batchStart = now;
}
