/**
 * The worker's table of tasks, by the index the pool gave each: inline
 * sources compiled once, exports of the pool's task module or of another
 * module imported once each. A task that cannot be had becomes one that
 * fails every job with the reason.
 *
 * The pool tells every worker of every task; a worker imports a module only
 * when a job it runs names one of its exports (`load`), so a module that
 * never finishes loading, or crashes the worker later, touches only the
 * workers that run its tasks. An import that has not finished within the
 * pool's `startTimeout` fails the module's tasks.
 *
 * @module
 */

import type { TaskSpec } from "../protocol/messages.ts";
import { settlesWithin, systemClock } from "../timers/clock.ts";
import { type Compiled, compileTask } from "./compile.ts";
import { type Loaded, loadModule } from "./load.ts";
import { taskModuleNow } from "./lifecycle.ts";

/** The tasks, by index; an export not imported yet is a stand-in until `load`. */
export const tasks: Compiled[] = [];
/** Exports not imported yet, by index. */
const unloaded = new Map<number, { module: string | null; name: string }>();
const imports = new Map<string, Promise<Loaded>>();
/** The pool's `startTimeout`: how long an import may take. */
let importLimit = Infinity;

/** Sets how long an import may take (the pool's `startTimeout`, sent at `init`). */
export function limitImports(ms: number): void {
  importLimit = ms;
}

/** Adds the tasks of a `run` message at their indices; exports wait for `load`. */
export function define(specs: [index: number, spec: TaskSpec][]): void {
  for (const [index, spec] of specs) {
    if (spec.kind === "source") tasks[index] = compileTask(spec.source, spec.sloppy === true);
    else if (spec.kind === "failed") tasks[index] = compileTask.failing(new Error(spec.message));
    else {
      tasks[index] = NOT_LOADED;
      unloaded.set(index, spec);
    }
  }
}

/** Whether some defined task is an export not imported yet. */
export function someUnloaded(): boolean {
  return unloaded.size !== 0;
}

/** Whether task `index` is an export not imported yet. */
export function isUnloaded(index: number): boolean {
  return unloaded.has(index);
}

/** Imports task `index`'s module if it is an export not imported yet. */
export async function load(index: number): Promise<void> {
  const spec = unloaded.get(index);
  if (spec === undefined) return;
  const task = await importTask(spec.module, spec.name);
  unloaded.delete(index);
  tasks[index] = task;
}

/** Stands in for an export until `load`; never called. */
const NOT_LOADED = compileTask.failing(new Error("fastpool: a task ran before its module loaded"));

async function importTask(module: string | null, name: string): Promise<Compiled> {
  let where = module;
  let namespace: Record<string, unknown>;
  try {
    if (module === null) {
      const taskModule = taskModuleNow();
      if (!taskModule) {
        throw new TypeError(`Cannot run task "${name}": the pool has no "module" option`);
      }
      const loaded = await taskModule;
      namespace = loaded.ns;
      // The URL names the module that was meant (a cluster node started
      // with the wrong one is told apart this way).
      where = `the pool's task module ${loaded.url}`;
    } else {
      let loading = imports.get(module);
      if (!loading) imports.set(module, loading = loadWithin(module));
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

/** Imports `module`, failing if it has not loaded within the pool's `startTimeout`. */
async function loadWithin(module: string): Promise<Loaded> {
  const loading = loadModule(module);
  if (!await settlesWithin(systemClock, loading, importLimit)) {
    throw new Error(
      `Cannot import task module "${module}": it did not load within ${importLimit} ms (startTimeout)`,
    );
  }
  return loading;
}
