/**
 * The worker's table of tasks, by the index the pool gave each: inline
 * sources compiled once, exports of the pool's task module or of another
 * module imported once each. A task that cannot be had becomes one that
 * fails every job with the reason.
 *
 * @module
 */

import type { TaskSpec } from "../protocol/messages.ts";
import { type Compiled, compileTask } from "./compile.ts";
import { type Loaded, loadModule } from "./load.ts";
import { taskModuleNow } from "./lifecycle.ts";

/** The tasks, by index. */
export const tasks: Compiled[] = [];
const imports = new Map<string, Promise<Loaded>>();

/** Adds the tasks of a `run` message, from index `base` on. */
export async function define(base: number, specs: TaskSpec[]): Promise<void> {
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
      const taskModule = taskModuleNow();
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
