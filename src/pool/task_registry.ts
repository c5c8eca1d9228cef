/**
 * The pool's table of tasks. Each distinct task (inline source, pool-module
 * name, or module export) gets a small integer once; jobs carry only that
 * integer, and each worker receives a task's definition once.
 *
 * @module
 */

import type { TaskSpec } from "../protocol/messages.ts";
import { isTaskRef } from "../task.ts";
import { describe } from "../_checks.ts";

/** No task yet: matches nothing a caller can pass. */
const NONE = Symbol("no task");

const NATIVE_SOURCE = /\{\s*\[native code\]\s*\}\s*$/;

/**
 * Append-only: a worker that knows the first `n` specs needs only the rest.
 * (A spec is replaced only when its module failed, `failModule`: workers
 * that know the old one keep it.)
 */
export class TaskRegistry {
  /** Every task's definition, by index. */
  readonly specs: TaskSpec[] = [];
  /** Every task's name for `pool.stats()`, by index: an export's name, or an inline function's. */
  readonly names: string[] = [];
  #byFunction = new WeakMap<object, number>();
  /** Inline functions' indices by source text (a function made again has a new identity); names and references are in `#byKey`. */
  #bySource = new Map<string, number>();
  #byKey = new Map<string, number>();
  /** The pool's task module (`module` option), as an absolute URL, or null. */
  #module: string | null;
  /** The names the task module exports, once a worker has loaded it and said (see {@linkcode learnExports}). */
  #exports: Set<string> | null = null;
  /** Some task is a `task()` reference: workers import modules for jobs (see `import_watch.ts`). */
  imports = false;
  /** Modules whose import blocked workers' threads, with the message their tasks fail with. */
  readonly #failedModules = new Map<string, string>();
  #lastTask: unknown = NONE;
  #lastIndex = -1;

  constructor(module: string | null) {
    this.#module = module;
  }

  /**
   * The export names of the pool's task module, as a worker found them: from
   * then on a name no worker has found is refused at once. Each worker's are
   * added (a worker started after the file was edited may find more); whether
   * one is a function may change, so that is the worker's to say.
   */
  learnExports(names: readonly string[]): void {
    if (this.#exports === null) this.#exports = new Set(names);
    else for (const name of names) this.#exports.add(name);
  }

  /** Workers are replaced (`recycle()`): they may load an edited module, so its names are unknown again. */
  forgetExports(): void {
    this.#exports = null;
  }

  /**
   * The index of `task`, registering it on first sight.
   *
   * @throws {TypeError} If `task` is not a function, name or `task()` ref,
   * or is a native, bound or class function, or a name with no pool module.
   */
  indexOf(task: unknown): number {
    // Submits come in runs of the same task: remember the last one.
    if (task === this.#lastTask) return this.#lastIndex;
    if (typeof task === "function") {
      const index = this.#byFunction.get(task) ?? this.#addFunction(task);
      this.#lastTask = task;
      this.#lastIndex = index;
      return index;
    }
    if (typeof task === "string") {
      if (task === "") throw new TypeError(`Cannot submit job: "task" is an empty name`);
      if (task === "setup" || task === "teardown") throw hookNotTask(task);
      if (this.#module === null) {
        throw new TypeError(
          `Cannot submit job: task "${task}" is a name, but the pool has no "module" option`,
        );
      }
      if (this.#exports !== null && !this.#exports.has(task)) {
        // Worded as the worker words it (a job sent before the names were known fails so).
        throw new TypeError(
          `Cannot run task "${task}": the pool's task module ${this.#module} has no such export`,
        );
      }
      return this.#add(`n:${task}`, { kind: "export", module: null, name: task });
    }
    if (isTaskRef(task)) {
      // Read once: a hand-made reference's getters could answer otherwise later.
      const { module: given, name } = task;
      const key = `e:${given}#${name}`;
      const known = this.#byKey.get(key);
      if (known !== undefined) return known;
      checkRef(given, name); // one made by hand, not by task()
      const module = new URL(given).href; // as task() makes it: one by hand may not be
      if ((name === "setup" || name === "teardown") && sameModule(module, this.#module)) {
        throw hookNotTask(name);
      }
      this.imports = true;
      const failed = this.#failedModules.get(module);
      return this.#add(
        key,
        failed === undefined
          ? { kind: "export", module, name }
          : { kind: "failed", module, message: failed },
        name,
      );
    }
    throw new TypeError(
      `Cannot submit job: "task" must be a function, an export name or a task() reference, received ${
        describe(task)
      }`,
    );
  }

  #addFunction(fn: object): number {
    const source = Function.prototype.toString.call(fn);
    // A function made afresh for each submit (an arrow written in the call,
    // in a loop) has the source of one seen and checked before: its index.
    // (Its strictness is taken as that one's: the same text made both in a
    // module and by sloppy code is left aside.)
    const known = this.#bySource.get(source);
    if (known !== undefined) return known;
    if (NATIVE_SOURCE.test(source)) {
      // A Proxy of a function shows the same source: it cannot be told apart.
      let name: unknown;
      try {
        name = (fn as { name?: unknown }).name;
      } catch {
        // A Proxy whose trap throws: a Proxy it is.
      }
      const what = typeof name === "string" && name.startsWith("bound ")
        ? "a bound function"
        : "a native function (or a Proxy)";
      throw new TypeError(
        `Cannot submit job: "task" is ${what}, whose source cannot be sent to a worker; pass a plain function, or a task() reference`,
      );
    }
    if (isClass(source)) {
      throw new TypeError(`Cannot submit job: "task" is a class, not a function`);
    }
    if (isAccessor(source)) {
      throw new TypeError(
        `Cannot submit job: "task" is a getter or setter, not a function a worker can call; pass a plain function or method`,
      );
    }
    let name: unknown;
    try {
      name = (fn as { name?: unknown }).name;
    } catch {
      // Its own getter threw: it goes as "(inline)".
    }
    const sloppy = isSloppy(fn, source);
    const index = this.#push(
      sloppy ? { kind: "source", source, sloppy } : { kind: "source", source },
      (typeof name === "string" && name) || "(inline)",
    );
    this.#byFunction.set(fn, index);
    this.#bySource.set(source, index);
    return index;
  }

  /**
   * `module`'s import blocked workers' threads (see `import_watch.ts`): its
   * tasks, known or to come, fail with an `Error` of `message` on the
   * workers that start from now on, without importing it.
   */
  failModule(module: string, message: string): void {
    this.#failedModules.set(module, message);
    const failed: TaskSpec = { kind: "failed", module, message };
    for (let i = 0; i < this.specs.length; i++) {
      const spec = this.specs[i]!;
      if (spec.kind === "export" && spec.module === module) this.specs[i] = failed;
    }
  }

  /** The message `module`'s tasks fail with (see `failModule`), if they do. */
  failedMessage(module: string): string | undefined {
    return this.#failedModules.get(module);
  }

  /** The module task `index` is an export of, if it is one of a `task()` reference. */
  moduleOf(index: number): string | null {
    const spec = this.specs[index];
    return spec === undefined || spec.kind === "source" ? null : spec.module;
  }

  #add(key: string, spec: TaskSpec, name = spec.kind === "export" ? spec.name : ""): number {
    let index = this.#byKey.get(key);
    if (index === undefined) {
      index = this.#push(spec, name);
      this.#byKey.set(key, index);
    }
    return index;
  }

  /** A new task's index. */
  #push(spec: TaskSpec, name: string): number {
    this.specs.push(spec);
    this.names.push(name);
    return this.specs.length - 1;
  }
}

/**
 * Whether `href` may name the module `module` does: the same path, whatever
 * the query, hash or percent-encoding (Bun loads such spellings as one).
 */
function sameModule(href: string, module: string | null): boolean {
  if (module === null) return false;
  const path = (url: string) => {
    const { protocol, host, pathname } = new URL(url);
    try {
      return `${protocol}//${host}${decodeURIComponent(pathname)}`;
    } catch {
      return `${protocol}//${host}${pathname}`; // a lone % : as it is
    }
  };
  return path(href) === path(module);
}

/** The error for a job of a worker hook, `setup` or `teardown`, of the pool's task module. */
function hookNotTask(name: string): TypeError {
  return new TypeError(
    `Cannot submit job: "${name}" is the task module's worker hook, run by each worker when it starts or leaves, not a task`,
  );
}

/**
 * What follows the word `word` at the start of `source`, past spaces and
 * comments; `undefined` if `source` does not start with that word (alone:
 * `getX` does not start with `get`).
 */
function afterWord(source: string, word: string): string | undefined {
  if (
    !source.startsWith(word) || /[\p{ID_Continue}$\u200c\u200d]/u.test(source[word.length] ?? "")
  ) {
    return undefined;
  }
  let rest = source.slice(word.length);
  for (;;) {
    const trimmed = rest.trimStart();
    if (trimmed.startsWith("/*")) {
      const end = trimmed.indexOf("*/");
      rest = end < 0 ? "" : trimmed.slice(end + 2);
    } else if (trimmed.startsWith("//")) {
      const end = trimmed.indexOf("\n");
      rest = end < 0 ? "" : trimmed.slice(end + 1);
    } else return trimmed;
  }
}

/**
 * Whether `source` is an accessor's, `get name() {…}` or `set [key](v) {…}`:
 * not a method named `get` (`get (x) {…}`), nor an arrow of a parameter
 * named `get` (`get => …`).
 */
function isAccessor(source: string): boolean {
  const rest = afterWord(source, "get") ?? afterWord(source, "set");
  return rest !== undefined && rest !== "" && !/^[(=]/.test(rest);
}

/** Whether `source` is a class's (not a method named `class`, `class (x) {…}`). */
function isClass(source: string): boolean {
  const rest = afterWord(source, "class");
  return rest !== undefined && !rest.startsWith("(");
}

/**
 * Whether `fn`, whose source is `source`, is a sloppy-mode `function` (made
 * by `new Function`, or in a script that is not a module): only a plain
 * `function` can be, and reading its `caller` then gives `null` (or its
 * caller), where a strict one throws. Functions written in a module are
 * strict, and are compiled so in the worker.
 */
function isSloppy(fn: object, source: string): boolean {
  if (!source.startsWith("function")) return false; // arrows, methods, async and generators
  try {
    return (fn as { caller?: unknown }).caller !== undefined;
  } catch {
    return false;
  }
}

/**
 * A task reference made by hand must be what `task()` makes: a worker
 * imports its `module` as it is, so a relative one would be resolved against
 * the worker's own URL (Deno) or the working directory (Bun).
 */

function checkRef(module: unknown, name: unknown): void {
  let absolute = typeof module === "string";
  try {
    new URL(module as string);
  } catch {
    absolute = false;
  }
  if (!absolute || typeof name !== "string" || name === "") {
    const wrong = absolute
      ? `"name" is not a non-empty string`
      : `"module" is not an absolute URL (${JSON.stringify(String(module))})`;
    throw new TypeError(
      `Cannot submit job: "task" is a task reference whose ${wrong}; make it with task(new URL("./tasks.ts", import.meta.url), "name")`,
    );
  }
}
