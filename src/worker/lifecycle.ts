/**
 * A worker's life as the pool sees it: `init` (its protocol version
 * checked, the task module imported and its `setup(workerData)` run, then
 * `ready`), the memory check of `maxWorkerMemory`, and `retire` (the
 * module's `teardown()`, then `retired`).
 *
 * @module
 */

import { PROTOCOL_VERSION, type StartStep } from "../protocol/messages.ts";
import { describeThrown, encodeError } from "../protocol/codec.ts";
import { toWire } from "../sync/wire.ts";
import { type Loaded, loadModule } from "./load.ts";
import { workerMemory } from "./memory.ts";
import { post } from "./scope.ts";
import { describe } from "../_checks.ts";
import { now } from "../_now.ts";
import { setTimeout } from "../_event_loop.ts";

let taskModule: Promise<Loaded> | null = null;
let started: Promise<boolean> = Promise.resolve(true);
/** `maxWorkerMemory`: 0 for unbounded. */
let maxMemory = 0;
let overMemorySaid = false;

/** The pool's task module, loading or loaded; `null` without a `module` option. */
export function taskModuleNow(): Promise<Loaded> | null {
  return taskModule;
}

/** Resolves true once the worker has started, false if it failed to. */
export function whenStarted(): Promise<boolean> {
  return started;
}

/**
 * Whether a pool speaking protocol `version` may use this worker. If not,
 * says so (`fatal`, a start failure naming both versions) and never starts.
 */
export function acceptsVersion(version: unknown): boolean {
  if (version === PROTOCOL_VERSION) return true;
  // A pool of another fastpool version loaded this worker module.
  post({
    type: "fatal",
    error: encodeError(
      new Error(
        `Cannot start worker: the pool speaks fastpool protocol version ${
          String(version)
        }, this worker ${PROTOCOL_VERSION}; "workerUrl" must be the worker module of the same fastpool version`,
      ),
    ),
    step: "init",
  });
  started = Promise.resolve(false);
  return false;
}

/**
 * Starts the worker: its module and `setup()`, bounded by `maxMemory` bytes
 * (0: none); `markReady` runs just before it says it is ready.
 */
export function start(
  module: string | null,
  workerData: unknown,
  memoryLimit: number,
  markReady: () => void,
): void {
  maxMemory = memoryLimit;
  started = init(module, workerData, markReady);
}

/**
 * Imports the task module and runs its `setup(workerData)`; a throw or
 * rejection of either is a start failure (`fatal`).
 */
async function init(
  module: string | null,
  workerData: unknown,
  markReady: () => void,
): Promise<boolean> {
  let teardown = false;
  let exports: string[] | null = null;
  if (module !== null) {
    taskModule = loadModule(module);
    let step: StartStep = "import";
    try {
      const { ns } = await taskModule;
      exports = Object.keys(ns);
      for (const hook of ["setup", "teardown"]) {
        if (ns[hook] !== undefined && typeof ns[hook] !== "function") {
          throw new TypeError(
            `the task module's "${hook}" export is ${
              describe(ns[hook])
            }, not a function: it names a worker hook (rename it, or make it the hook)`,
          );
        }
      }
      step = "setup";
      if (typeof ns.setup === "function") await ns.setup(workerData);
      teardown = typeof ns.teardown === "function";
      // Two turns of the event loop: a rejection the module or setup() left unhandled
      // ends the worker now, a start failure, rather than the first job it runs. Under
      // load Deno reported it after one turn's timer now and then (4 in 450 workers on
      // two busy cores, none in 450 after two turns).
      await new Promise((resolve) => setTimeout(resolve, 0));
      await new Promise((resolve) => setTimeout(resolve, 0));
    } catch (error) {
      postFailure(step, step === "setup" ? "setup()" : "the task module's import", error);
      return false;
    }
  }
  markReady();
  post({ type: "ready", version: PROTOCOL_VERSION, teardown, exports });
  return true;
}

/** Runs the task module's `teardown()` and says so; the pool then ends the worker. */
export async function retire(): Promise<void> {
  try {
    if (!await started) return void post({ type: "retired", threw: false, error: null });
    const ns = taskModule === null ? null : (await taskModule).ns;
    if (typeof ns?.teardown === "function") await ns.teardown();
  } catch (thrown) {
    // Whatever it threw, `null` and `undefined` too, is a failure.
    return postFailure("teardown", "teardown()", thrown);
  }
  post({ type: "retired", threw: false, error: null });
}

/**
 * Posts a start failure (`fatal`, at `step`) or a failed teardown
 * (`retired`) with what `hook` threw, or, if that cannot be cloned, an error
 * saying what it was.
 */
function postFailure(step: StartStep | "teardown", hook: string, thrown: unknown): void {
  let error = encodeError(thrown, toWire, `the error ${hook} threw`);
  try {
    structuredClone(error);
  } catch (why) {
    error = encodeError(
      new TypeError(`${hook} threw ${describeThrown(thrown)}, which cannot be cloned`, {
        cause: why,
      }),
      toWire,
    );
  }
  post(
    step === "teardown" ? { type: "retired", threw: true, error } : { type: "fatal", error, step },
  );
}

/** When `checkMemory` last read the memory (`now()`). */
let memoryReadAt = -Infinity;

/**
 * At the end of each batch: tells the pool once when this worker's memory passed
 * `maxWorkerMemory`, so that it is recycled when idle.
 */
export function checkMemory(): void {
  if (maxMemory === 0 || overMemorySaid) return;
  memoryReadAt = now();
  const bytes = workerMemory();
  if (bytes > maxMemory) {
    overMemorySaid = true;
    post({ type: "overMemory", bytes });
  }
}

/**
 * Before answers leave mid-batch (a slow job's): `checkMemory`, unless it
 * ran within `ms` (a reading costs a Deno worker ~12 µs; quick async jobs
 * flush each answer).
 */
export function checkMemorySince(ms: number, now: number): void {
  if (maxMemory !== 0 && !overMemorySaid && now - memoryReadAt >= ms) checkMemory();
}
