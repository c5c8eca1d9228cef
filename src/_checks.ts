/**
 * Argument checks, value descriptions and global error reporting, shared by
 * every layer so that every "received …" message reads alike and a word such
 * as "timeout" means one thing everywhere. A leaf: it imports nothing.
 *
 * Messages have one shape: `Cannot <action>: "<name>" must be <expected>,
 * received <description>`; a value of the wrong type is a `TypeError`, a
 * number out of range a `RangeError`.
 *
 * @module
 */

/**
 * How a value reads in an error message: strings quoted (cut at 40
 * characters), other primitives as written (`5`, `true`, `null`, `7n`),
 * `a function` or `function fib`, `an array`, `an object` for a plain object,
 * `an instance of Map` for anything else. Never throws, whatever the value
 * does when read.
 */
export function describe(value: unknown): string {
  try {
    switch (typeof value) {
      case "string":
        return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
      case "bigint":
        return `${value}n`;
      case "function":
        return value.name ? `function ${value.name}` : "a function";
      case "object":
        return value === null ? "null" : describeObject(value);
      default:
        return String(value);
    }
  } catch {
    return "an unreadable value";
  }
}

/**
 * What a thrown value says, for a message that wraps it: its `message` when
 * that is a string (an `Error`), else `it threw ` and {@linkcode describe} of
 * the value (`it threw null`). Never throws.
 */
export function thrownMessage(thrown: unknown): string {
  try {
    const message = typeof thrown === "object" && thrown !== null
      ? (thrown as { message?: unknown }).message
      : undefined;
    if (typeof message === "string") return message;
  } catch {
    // Its message getter threw: describe the value instead.
  }
  return `it threw ${describe(thrown)}`;
}

function describeObject(value: object): string {
  if (Array.isArray(value)) return "an array";
  const prototype = Object.getPrototypeOf(value);
  if (prototype === null || prototype === Object.prototype) return "an object";
  const name = prototype.constructor?.name;
  return typeof name === "string" && name !== "" ? `an instance of ${name}` : "an object";
}

/**
 * Checks an options argument: an object that is not an array, nor one of a
 * built-in kind (a `Map`, an `AbortSignal`, a `URL`, a `MessagePort`…: its
 * class the runtime's own): passed where options go
 * (`exec(task, args, controller.signal)`, `new Pool(new URL(…))`), its
 * fields are no own ones, and every option would quietly take its default.
 * A plain object, one without a prototype, a module namespace and an
 * instance of a class of the program's own pass.
 *
 * @param options The argument.
 * @param action What the caller was doing, for the message: `"run job"`.
 * @param expected What it must be, for a value that is no object: `an object`.
 * @throws {TypeError} Naming what was received.
 */
export function checkOptionsObject(
  options: unknown,
  action: string,
  expected = "an object",
): asserts options is object {
  if (typeof options !== "object" || options === null) {
    throw invalid(TypeError, action, "options", expected, options);
  }
  let builtIn: boolean;
  try {
    const prototype = Object.getPrototypeOf(options);
    if (prototype === Object.prototype || prototype === null) return; // the usual case, at once
    if (Array.isArray(options)) throw invalid(TypeError, action, "options", expected, options);
    builtIn = isNativeClass(prototype?.constructor);
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith(`Cannot ${action}:`)) throw error;
    // A revoked Proxy, or one whose trap throws.
    throw new TypeError(`Cannot ${action}: "options" could not be read (${thrownMessage(error)})`, {
      cause: error,
    });
  }
  if (builtIn) throw invalid(TypeError, action, "options", "a plain object of options", options);
}

/**
 * Whether `value` is a class of the runtime's own, not `Object`: the
 * engine's (`Map`, another realm's too) or a global one written in
 * JavaScript (Deno's `MessagePort`, `Headers`, `AbortSignal`).
 */
function isNativeClass(value: unknown): boolean {
  if (typeof value !== "function" || value.name === "Object") return false;
  // A global with a tag of its own (Deno's web classes), not a program's class made global.
  if (
    (globalThis as Record<string, unknown>)[value.name] === value &&
    Object.prototype.toString.call(value.prototype) !== "[object Object]"
  ) return true;
  return /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(value));
}

/** The error for argument `name` of `action` that is not `expected`. */
export function invalid(
  ErrorClass: typeof TypeError | typeof RangeError,
  action: string,
  name: string,
  expected: string,
  value: unknown,
): Error {
  return new ErrorClass(
    `Cannot ${action}: "${name}" must be ${expected}, received ${describe(value)}`,
  );
}

/** Checks a boolean. */
export function checkBoolean(value: unknown, name: string, action: string): void {
  if (typeof value !== "boolean") throw invalid(TypeError, action, name, "a boolean", value);
}

/** Checks a safe integer `>= min` (and `<= max`). */
export function checkInteger(
  value: unknown,
  name: string,
  action: string,
  min = -Infinity,
  max = Infinity,
): void {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max) {
    return;
  }
  // Past 2^53 integers are not exact: counts built on one would be wrong, silently.
  const unsafe = Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
  const expected = unsafe
    ? "a safe integer (at most Number.MAX_SAFE_INTEGER in size)"
    : min === -Infinity
    ? "an integer"
    : max === Infinity
    ? `an integer >= ${min}`
    : `an integer from ${min} to ${max}`;
  throw invalid(typeof value === "number" ? RangeError : TypeError, action, name, expected, value);
}

/**
 * Checks a duration in ms that must end (a delay, an interval, a grace): a
 * finite number `>= 0`, or with `positive` `> 0`.
 */
export function checkDuration(
  value: unknown,
  name: string,
  action: string,
  positive = false,
): void {
  if (typeof value === "number" && (positive ? value > 0 : value >= 0) && value !== Infinity) {
    return;
  }
  throw invalid(
    typeof value === "number" ? RangeError : TypeError,
    action,
    name,
    positive ? "a positive finite number of milliseconds" : "a finite number of milliseconds >= 0",
    value,
  );
}

/**
 * Checks an `AbortSignal`: one of the runtime's own, whose `aborted` can be
 * read (an object made from its prototype passes `instanceof` and throws
 * there).
 */
export function checkSignal(value: unknown, name: string, action: string): void {
  if (value instanceof AbortSignal) {
    try {
      void value.aborted;
      return;
    } catch {
      // Not a signal the runtime made: refused below.
    }
  }
  throw invalid(TypeError, action, name, "an AbortSignal", value);
}

/**
 * Checks a timeout in ms: a number `>= 0`, where `Infinity` means no limit.
 * Every `timeout` of the package takes this meaning.
 */
export function checkTimeout(value: unknown, name: string, action: string): void {
  if (typeof value === "number" && value >= 0) return;
  throw invalid(
    typeof value === "number" ? RangeError : TypeError,
    action,
    name,
    "a number of milliseconds >= 0 (Infinity: no limit)",
    value,
  );
}

/** Checks a function (or, with `orNull`, `null`). */
export function checkFunction(value: unknown, name: string, action: string, orNull = false): void {
  if (typeof value === "function" || (orNull && value === null)) return;
  throw invalid(TypeError, action, name, orNull ? "a function or null" : "a function", value);
}

/**
 * Reports an error no caller can catch (a user callback threw) through the
 * global `reportError()`, looked up at call time (tests may replace it), or
 * by rethrowing it in a microtask where there is none.
 */
export function reportGlobally(error: unknown): void {
  const { reportError } = globalThis as { reportError?: (error: unknown) => void };
  if (typeof reportError === "function") reportError(error);
  else {
    queueMicrotask(() => {
      throw error;
    });
  }
}
