/**
 * Turns a task's source or export into a callable, once per worker.
 *
 * @module
 */

import { thrownMessage } from "../_checks.ts";

/** What kind of function a task is, decided once when it is compiled. */
export const TaskKind = { PLAIN: 0, GENERATOR: 1, ASYNC_GENERATOR: 2 } as const;

/** A task ready to call. */
export interface Compiled {
  readonly fn: (...args: unknown[]) => unknown;
  readonly kind: number;
  /**
   * Whether a call may return a promise: an `async` function, or one that
   * returned a thenable before. With several jobs at once per worker, such a
   * call is timed from its start (its synchronous part counts).
   */
  pends: boolean;
  /** Adds a hint to an error the task threw, where one helps. */
  explain(error: unknown): unknown;
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;
const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

/** How a function expression starts (an arrow, `function`, their `async` forms); else it is a method. */
const EXPRESSION_START =
  /^(?:async\b\s*)?(?:function\b|\(|[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*\s*=>)/u;

/** A relative specifier: `./x`, `../x`, `.` or `..`. */
const RELATIVE_SPECIFIER = /^\.{1,2}(?:\/|$)/;

const IMPORT_META_HINT =
  ' (an inline task is compiled in a worker, outside any module, so it has no import.meta: build the URL in the caller, e.g. new URL("./x.ts", import.meta.url).href, and pass it as an argument)';

const FREE_VARIABLE_HINT =
  " (an inline task runs in a worker and cannot see the caller's variables: pass values as arguments, or import() modules by absolute specifier)";

/**
 * Provides `value` as the global `name` of this worker, unless one exists:
 * inline tasks are evaluated in the worker's global scope, so a function the
 * caller imported under that name (`jobContext`, `transfer`) works in one.
 */
export function provideToInlineTasks(name: string, value: unknown): void {
  if (name in globalThis) return;
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}

/**
 * Compiles an inline task from its source text: in strict mode, as every
 * function written in a module is, unless it was a `sloppy` one (made by
 * `new Function`, or in a script).
 */
export function compileTask(source: string, sloppy = false): Compiled {
  let fn: unknown;
  try {
    fn = evaluate(source, sloppy);
  } catch (error) {
    const hint = /\bimport\s*\.\s*meta\b/.test(source) ? IMPORT_META_HINT : "";
    return compileTask.failing(
      new TypeError(`Cannot compile inline task: ${thrownMessage(error)}${hint}`, {
        cause: error,
      }),
    );
  }
  if (typeof fn !== "function") {
    return compileTask.failing(
      new TypeError("Cannot compile inline task: source is not a function"),
    );
  }
  return compileTask.of(fn as (...args: unknown[]) => unknown, true, unresolvedImports(source));
}

/**
 * Wraps a function. For an inline task (`inline`), errors get hints: the
 * free-variable hint on ReferenceErrors, and an explanation when one of its
 * `unresolvedImports` (see {@linkcode unresolvedImports}) failed to resolve.
 */
compileTask.of = function of(
  fn: (...args: unknown[]) => unknown,
  inline: boolean,
  unresolvedImports: readonly string[] = [],
): Compiled {
  const kind = fn instanceof AsyncGeneratorFunction
    ? TaskKind.ASYNC_GENERATOR
    : fn instanceof GeneratorFunction
    ? TaskKind.GENERATOR
    : TaskKind.PLAIN;
  const explain = !inline
    ? same
    : unresolvedImports.length === 0
    ? explainInline
    : (error: unknown) => explainImport(error, unresolvedImports) ?? explainInline(error);
  return { fn, kind, pends: fn instanceof AsyncFunction, explain };
};

/** A task that fails every job with `error` (e.g. a missing export). */
compileTask.failing = function failing(error: unknown): Compiled {
  return {
    fn: () => {
      throw error;
    },
    kind: TaskKind.PLAIN,
    pends: false,
    explain: same,
  };
};

function same(error: unknown): unknown {
  return error;
}

function explainInline(error: unknown): unknown {
  try {
    addHint(error);
  } catch {
    // A thrown value whose getters throw: `encodeError` says so.
  }
  return error;
}

function addHint(error: unknown): void {
  if (
    error instanceof ReferenceError && / is not defined$/.test(error.message)
  ) {
    // Read before the message changes: the engines write the stack's first
    // line from the message when the stack is first read, so it would
    // already hold the hint, and the replace below would add it twice.
    const stack = error.stack;
    error.message += FREE_VARIABLE_HINT;
    if (typeof stack === "string" && !stack.includes(FREE_VARIABLE_HINT)) {
      error.stack = stack.replace(/ is not defined\b/, ` is not defined${FREE_VARIABLE_HINT}`);
    }
  }
}

/**
 * The bare (`"marked"`) and relative (`"./x.ts"`, `".."`) specifiers, not
 * `"/x"` or a URL such as `npm:marked` or `node:fs`, that an inline task's
 * source passes to `import()` as string literals. In a worker they resolve
 * against the file that evaluated the task, fastpool's own `compile.ts`, so
 * they fail with messages about fastpool's files ("Import "marked" not a
 * dependency", "Module not found …/src/worker/x.ts"), or, where they resolve
 * (a Bun builtin such as "fs", a file of fastpool's), work as they are.
 */
function unresolvedImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/\bimport\s*\(\s*(["'`])([^"'`\s]+)\1\s*[,)]/g)) {
    const specifier = match[2]!;
    if (!/^(?:\/|[a-z][a-z0-9+.-]*:)/i.test(specifier)) found.push(specifier);
  }
  return found;
}

/**
 * When an inline task's `import()` of a bare specifier failed, the error to
 * report instead: what happened, and what to do. `undefined` for any other
 * error. The runtimes' messages name the specifier in quotes.
 */
function explainImport(error: unknown, specifiers: readonly string[]): Error | undefined {
  let message: unknown;
  try {
    message = typeof error === "object" && error !== null
      ? (error as { message?: unknown }).message
      : undefined;
  } catch {
    return undefined;
  }
  if (typeof message !== "string") return undefined;
  const specifier = specifiers.find((name) =>
    message.includes(`"${name}"`) || message.includes(`'${name}'`) ||
    // Deno names a relative one as it resolved it, here.
    RELATIVE_SPECIFIER.test(name) && message.includes(new URL(name, import.meta.url).href)
  );
  if (specifier === undefined) return undefined;
  if (RELATIVE_SPECIFIER.test(specifier)) {
    return new TypeError(
      `Cannot import "${specifier}" in an inline task: a relative specifier resolves against fastpool's own worker file, not your module; resolve it in the caller (new URL("${specifier}", import.meta.url).href) and pass that as an argument, or use a task module (task(url, name), or the pool's "module" option)`,
      { cause: error },
    );
  }
  return new TypeError(
    `Cannot import "${specifier}" in an inline task: a bare specifier does not resolve from a worker, which cannot see your program's imports or packages; import it in a task module (task(url, name), or the pool's "module" option) or use an absolute specifier (an "npm:", "https:" or "file:" URL)`,
    { cause: error },
  );
}

/**
 * Evaluates a function's source: arrow functions, `function` declarations,
 * generators and async forms parse as an expression; method shorthand
 * (`fib(n) { ... }`, also a private `#fib(n) { ... }`, which needs no `#`
 * outside its class) parses inside an object literal. A source that parses
 * neither way fails with the error of the way its start says it is meant.
 */
function evaluate(source: string, sloppy: boolean): unknown {
  if (sloppy) return parse(source, false);
  try {
    return parse(source, true);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // Only sloppy code parses so (an arrow from a script, whose strictness
    // the pool cannot read: `static` as a name, `with`): as it was written.
    try {
      return parse(source, false);
    } catch {
      throw error;
    }
  }
}

/**
 * Names the code an inline task compiles to in stack traces: without it, Bun
 * files its frames under this file, at the task's own line and column (a
 * frame "compile.ts:3:21" pointing at a comment), and Deno calls it
 * `<anonymous>` inside an `eval` here.
 */
const SOURCE_URL = "\n//# sourceURL=fastpool:inline-task";

/** `evaluate` in one mode, strict or sloppy. */
function parse(source: string, strict: boolean): unknown {
  // Strict: inside a function called without `this`, so an arrow's `this` is
  // undefined, as at a module's top level (an indirect eval's is the global).
  // (Not for a source that names `arguments`: an arrow would see the wrapper's,
  // where a module's throws; its `this` is then the global, as before.)
  const wrap = !strict
    ? (expression: string) => expression
    : /\barguments\b/.test(source)
    ? (expression: string) => `"use strict";${expression}`
    : (expression: string) =>
      `"use strict";(function () { return ${expression}; }).call(undefined)`;
  const globalEval = eval;
  try {
    // deno-lint-ignore no-eval
    return globalEval(wrap(`(${source}\n)`) + SOURCE_URL);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    let holder: object;
    try {
      // Bun writes `async#m` and `async* #m`.
      const method = source.replace(/^((?:async\s*)?(?:\*\s*)?)#/, "$1");
      // deno-lint-ignore no-eval
      holder = globalEval(wrap(`({${method}\n})`) + SOURCE_URL) as object;
    } catch (second) {
      throw EXPRESSION_START.test(source) ? error : second;
    }
    const key = Reflect.ownKeys(holder)[0]; // a string, number or Symbol key
    return key === undefined ? undefined : Object.getOwnPropertyDescriptor(holder, key)!.value;
  }
}
