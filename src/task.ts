/**
 * Task references: a named export of any module, usable wherever a task is.
 *
 * @module
 */

import { describe } from "./_checks.ts";

/**
 * Any function: what an inline task or a task module's export may be.
 *
 * @example Usage
 * ```ts
 * import type { AnyFunction } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const double: AnyFunction = (n: number) => n * 2;
 * assert.equal(double(21), 42);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/**
 * A reference to the export `name` of the module at `module`, made by
 * {@linkcode task}.
 *
 * @typeParam F The export's function type, for type-checked arguments and
 * results.
 *
 * @example Usage
 * ```ts
 * import { task, type TaskRef } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const fib: TaskRef<(n: number) => number> = task("https://example.com/tasks.ts", "fib");
 * assert.equal(fib.module, "https://example.com/tasks.ts");
 * assert.equal(fib.name, "fib");
 * assert.equal(fib.signature, undefined); // for the type checker only
 * ```
 */
export interface TaskRef<F extends AnyFunction = AnyFunction> {
  /** The module's absolute URL. */
  readonly module: string;
  /** The export's name. */
  readonly name: string;
  /** Carries `F` for the type checker only; never set at run time. */
  readonly signature?: F;
}

/**
 * Refers to the export `exportName` of the module at `moduleUrl`. Workers
 * import the module once, on first use. Usable with every `Pool` method,
 * `go` and `spawn`.
 *
 * @typeParam F The export's type, e.g. `typeof import("./tasks.ts").fib`.
 * @param moduleUrl The module, as an absolute URL (e.g.
 * `new URL("./tasks.ts", import.meta.url)`).
 * @param exportName The export to call.
 * @returns The reference.
 * @throws {TypeError} If `moduleUrl` is not an absolute URL or `exportName` is
 * not a non-empty string.
 *
 * @example Usage
 * ```ts
 * import { task } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * const ref = task<(n: number) => number>("https://example.com/tasks.ts", "fib");
 * assert.equal(ref.module, "https://example.com/tasks.ts");
 * assert.equal(ref.name, "fib");
 * ```
 */
export function task<F extends AnyFunction = AnyFunction>(
  moduleUrl: string | URL,
  exportName = "default",
): TaskRef<F> {
  let module: string;
  try {
    module = new URL(moduleUrl).href;
  } catch {
    throw new TypeError(
      `Cannot create task: "moduleUrl" must be an absolute URL, received ${
        typeof moduleUrl === "string" ? JSON.stringify(moduleUrl) : describe(moduleUrl)
      }`,
    );
  }
  if (typeof exportName !== "string" || exportName === "") {
    throw new TypeError(
      `Cannot create task: "exportName" must be a non-empty string, received ${
        describe(exportName)
      }`,
    );
  }
  return Object.freeze({ module, name: exportName });
}

/** Whether `value` is a {@linkcode TaskRef}. */
export function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === "object" && value !== null &&
    typeof (value as TaskRef).module === "string" &&
    typeof (value as TaskRef).name === "string";
}
