/**
 * Turns a task's source or export into a callable, once per worker.
 *
 * @module
 */

/** What kind of function a task is, decided once when it is compiled. */
export const TaskKind = { PLAIN: 0, GENERATOR: 1, ASYNC_GENERATOR: 2 } as const;

/** A task ready to call. */
export interface Compiled {
  readonly fn: (...args: unknown[]) => unknown;
  readonly kind: number;
  /** Adds a hint to an error the task threw, where one helps. */
  explain(error: unknown): unknown;
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;
const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;

const FREE_VARIABLE_HINT =
  " (an inline task runs in a worker and cannot see the caller's variables: pass values as arguments, or import() modules by absolute specifier)";

/** Compiles an inline task from its source text. */
export function compileTask(source: string): Compiled {
  let fn: unknown;
  try {
    fn = evaluate(source);
  } catch (error) {
    return compileTask.failing(
      new TypeError(`Cannot compile inline task: ${(error as Error).message}`, { cause: error }),
    );
  }
  if (typeof fn !== "function") {
    return compileTask.failing(
      new TypeError("Cannot compile inline task: source is not a function"),
    );
  }
  return compileTask.of(fn as (...args: unknown[]) => unknown, true);
}

/** Wraps a function; `inline` adds the free-variable hint to ReferenceErrors. */
compileTask.of = function of(fn: (...args: unknown[]) => unknown, inline: boolean): Compiled {
  const kind = fn instanceof AsyncGeneratorFunction
    ? TaskKind.ASYNC_GENERATOR
    : fn instanceof GeneratorFunction
    ? TaskKind.GENERATOR
    : TaskKind.PLAIN;
  return { fn, kind, explain: inline ? explainInline : same };
};

/** A task that fails every job with `error` (e.g. a missing export). */
compileTask.failing = function failing(error: unknown): Compiled {
  return {
    fn: () => {
      throw error;
    },
    kind: TaskKind.PLAIN,
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
    error.message += FREE_VARIABLE_HINT;
    if (error.stack) {
      error.stack = error.stack.replace(
        / is not defined\b/,
        ` is not defined${FREE_VARIABLE_HINT}`,
      );
    }
  }
}

/**
 * Evaluates a function's source: arrow functions, `function` declarations,
 * generators and async forms parse as an expression; method shorthand
 * (`fib(n) { ... }`) parses inside an object literal.
 */
function evaluate(source: string): unknown {
  const globalEval = eval;
  try {
    // deno-lint-ignore no-eval
    return globalEval(`(${source}\n)`);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // deno-lint-ignore no-eval
    const holder = globalEval(`({${source}\n})`) as Record<string, unknown>;
    return Object.values(holder)[0];
  }
}
