/**
 * What crosses threads beside plain data: errors, which structured clone
 * would flatten, and values marked with `transfer()`.
 *
 * @module
 */

import { describe } from "../_checks.ts";

const ERROR_KEY = "__fastpoolError";
const TRANSFER_BRAND = Symbol.for("fastpool.transfer");
/**
 * Errors nested deeper than this (by `cause`, `errors` or fields) cross as a
 * string saying so: structured clone copies a chain recursively, and Deno's
 * runs out of stack at a few thousand (the whole error would be lost).
 */
const MAX_CAUSE_DEPTH = 100;

/** An error as it crosses threads. */
export interface EncodedError {
  [ERROR_KEY]: true;
  name: string;
  message: string;
  stack: string | undefined;
  dom: boolean;
  hasCause: boolean;
  cause: unknown;
  errors: unknown[] | undefined;
  props: Record<string, unknown> | undefined;
  /** The built-in class it is or extends (`TypeError` for `class E extends TypeError`). */
  base?: string;
  /** A `SuppressedError`'s `error` and `suppressed`, encoded. */
  suppressed?: [unknown, unknown] | undefined;
  /** Its number in the encoding, which an {@linkcode ErrorRef} to it names. */
  id?: number;
  /**
   * Rebuilt as a plain `Error` (some of it could not be read): its `errors`,
   * `error` and `suppressed`, if any, become own fields of that error.
   */
  plain?: boolean;
}

/** `SuppressedError` (explicit resource management), where the runtime has it. */
type SuppressedErrorConstructor = new (
  error: unknown,
  suppressed: unknown,
  message?: string,
) => Error & { error: unknown; suppressed: unknown };
const SuppressedErrorClass = (globalThis as { SuppressedError?: SuppressedErrorConstructor })
  .SuppressedError;

const BUILTINS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
};
// A trap or a bad module in a task's WebAssembly: their classes are not globals.
if (typeof WebAssembly !== "undefined") {
  BUILTINS["WebAssembly.CompileError"] = WebAssembly.CompileError as ErrorConstructor;
  BUILTINS["WebAssembly.LinkError"] = WebAssembly.LinkError as ErrorConstructor;
  BUILTINS["WebAssembly.RuntimeError"] = WebAssembly.RuntimeError as ErrorConstructor;
}

/**
 * Each built-in class's prototype, to find the one an error's class extends;
 * with the lookup kept at load, so a task that replaces `Map.prototype.get` or
 * `Object.getPrototypeOf` in its worker cannot change later errors' classes.
 */
const BUILTIN_PROTOTYPES: readonly object[] = Object.values(BUILTINS).map((c) => c.prototype);
const BUILTIN_NAMES: readonly string[] = Object.keys(BUILTINS);
const prototypeOf = Object.getPrototypeOf;

/** The built-in class `error` is an instance of, however far down its class extends it. */
function builtinBase(error: Error): string {
  for (let p = prototypeOf(error); p !== null; p = prototypeOf(p)) {
    for (let i = 0; i < BUILTIN_PROTOTYPES.length; i++) {
      if (BUILTIN_PROTOTYPES[i] === p) return BUILTIN_NAMES[i]!;
    }
  }
  return "Error";
}

/** One encoding: the number of each error met so far, and how deep it is now. */
interface Encoding {
  readonly ids: Map<Error, number>;
  depth: number;
  readonly toWire: ToWire;
  /** What the error is, for a message saying it could not be read: "the error the task threw". */
  readonly origin: string;
}

/**
 * `sync/wire.ts`'s `toWire`, which this layer may not import: the wire form
 * of a value that is or holds a Semaphore or Lock, `undefined` for others.
 */
export type ToWire = (value: unknown) => unknown;

/** For a thread that sends no Semaphore or Lock: every value as it is. */
const noWire: ToWire = () => undefined;

/**
 * An error's own field as it crosses: an error encoded (its class kept; one
 * met before in this encoding, as a reference to it), a value structured
 * clone can copy as it is, and anything else as a string that says what it
 * was, so the error itself still arrives.
 */
function encodeField(value: unknown, encoding: Encoding, mayBox = true): unknown {
  if (typeof value !== "object" || value === null) {
    return typeof value === "function" || typeof value === "symbol"
      ? `[cannot be sent: ${describe(value)}]`
      : value;
  }
  try {
    if (value instanceof Error) {
      const id = encoding.ids.get(value);
      if (id !== undefined) return { [ERROR_KEY]: "ref", id } satisfies ErrorRef;
      if (encoding.depth > MAX_CAUSE_DEPTH) {
        return `[cannot be sent: an error nested more than ${MAX_CAUSE_DEPTH} deep]`;
      }
      return encodeErrorIn(value, encoding); // never throws
    }
    if (isTransferred(value)) return escaped(value.value); // copied: only a result moves
    if (holdsError(value)) {
      return mayBox
        ? boxed(value, encoding)
        : `[cannot be sent: ${describe(value)} nested too deep]`;
    }
    structuredClone(value);
    const shared = sharedIn(value, encoding.toWire);
    if (shared === undefined) return escaped(value);
    return mayBox && isBoxable(value) ? boxed(value, encoding) : `[cannot be sent: ${shared}]`;
  } catch {
    return `[cannot be sent: ${describe(value)}]`; // a revoked Proxy throws at instanceof
  }
}

/**
 * What `value` is, if it is or holds a Semaphore or Lock (a clone would
 * make an empty object of it, and no thrown value carries one working).
 */
function sharedIn(value: object, toWire: ToWire): string | undefined {
  let kind: unknown;
  try {
    kind = (toWire(value) as { __fastpoolShared?: unknown } | undefined)?.__fastpoolShared;
  } catch {
    kind = "Nested"; // this thread cannot share one (no SharedArrayBuffer): it holds one
  }
  if (kind === undefined || kind === "Data") return undefined;
  return kind === "Nested" ? `${describe(value)} holding a Semaphore or Lock` : `a ${kind}`;
}

/**
 * Plain objects and arrays that hold errors (`throw { error, context }`,
 * `e.details = [cause]`), as they cross: a copy whose errors are encoded, so
 * they keep their class, fields and cause as a thrown error does. The copy of
 * each object is made once, so shared parts and cycles stay so (structured
 * clone keeps them), also through an error (`e.context.self = e`).
 */
interface ErrorBox {
  [ERROR_KEY]: "box";
  value: unknown;
}

/** How deep plain objects and arrays are copied into an {@linkcode ErrorBox}, and looked through. */
const MAX_BOX_DEPTH = 100;
/** The most objects looked through for an error below a plain object or array. */
const MAX_BOX_OBJECTS = 10_000;

/** Whether `value` is a plain object or an array (what an {@linkcode ErrorBox} copies). Never throws. */
function isPlainContainer(value: unknown): value is object {
  if (typeof value !== "object" || value === null) return false;
  try {
    if (Array.isArray(value)) return true;
    const prototype = prototypeOf(value);
    return prototype === Object.prototype || prototype === null;
  } catch {
    return false; // a Proxy whose traps throw
  }
}

/** Whether `value`, a plain object or array, holds an error (up to 10,000 objects, 100 deep). Never throws. */
function holdsError(value: unknown): boolean {
  // One with the encoder's own key goes as data, wrapped (`escaped`), errors and all.
  if (!isPlainContainer(value) || hasErrorKey(value)) return false;
  const seen = new Set<object>();
  const look = (node: unknown, depth: number): boolean => {
    if (typeof node !== "object" || node === null || seen.has(node)) return false;
    if (node instanceof Error) return true;
    if (depth > MAX_BOX_DEPTH || seen.size >= MAX_BOX_OBJECTS || !isPlainContainer(node)) {
      return false;
    }
    seen.add(node);
    for (const key of Object.keys(node)) {
      if (look((node as Record<string, unknown>)[key], depth + 1)) return true;
    }
    return false;
  };
  try {
    return look(value, 0);
  } catch {
    return false; // a getter that throws: the value goes as it is, and fails to clone
  }
}

/**
 * Whether `value`, holding a Semaphore or Lock, is copied into an
 * {@linkcode ErrorBox} to keep its other fields: a plain object or array,
 * not data with the encoder's own key (that goes whole, as data, or not at all).
 */
function isBoxable(value: unknown): value is object {
  return isPlainContainer(value) && !hasErrorKey(value);
}

/** `value` (a plain object or array holding an error) as an {@linkcode ErrorBox}. Never throws. */
function boxed(value: object, encoding: Encoding): ErrorBox {
  const copies = new Map<object, unknown>();
  const copy = (node: unknown, depth: number): unknown => {
    // Data with the encoder's key, and what lies past the depth limit, are not boxed
    // again (a box made there would not see this one's copies: a long cycle would
    // never end): they go as they are, or as a string if they cannot.
    if (hasErrorKey(node)) return encodeField(node, encoding, false);
    if (isTransferred(node)) return copy(node.value, depth); // copied: only a result moves
    if (!isPlainContainer(node) || depth > MAX_BOX_DEPTH) {
      return encodeField(node, encoding, depth <= MAX_BOX_DEPTH);
    }
    const made = copies.get(node);
    if (made !== undefined) return made;
    const isArray = Array.isArray(node);
    const into: Record<string, unknown> = isArray ? [] as unknown as Record<string, unknown> : {};
    copies.set(node, into);
    let keys: string[] = [];
    try {
      keys = Object.keys(node);
    } catch {
      // its keys cannot be read: an empty copy
    }
    for (const key of keys) {
      let field: unknown;
      try {
        field = (node as Record<string, unknown>)[key];
      } catch (failure) {
        into[key] = `[cannot be sent: reading it threw ${describeThrown(failure)}]`;
        continue;
      }
      into[key] = copy(field, depth + 1);
    }
    // Holes at its end have no key: its length says they are there.
    if (isArray) {
      try {
        (into as unknown as unknown[]).length = (node as unknown[]).length;
      } catch {
        // a Proxy's length that cannot be read: the keys copied
      }
    }
    return into;
  };
  return { [ERROR_KEY]: "box", value: copy(value, 0) };
}

/** Rebuilds the errors inside an {@linkcode ErrorBox}'s value, in place, in the order they were encoded. */
function unbox(value: unknown, made: Map<number, Error>): unknown {
  const seen = new Set<object>();
  const walk = (node: unknown, depth: number): void => {
    if (typeof node !== "object" || node === null || seen.has(node) || depth > MAX_BOX_DEPTH) {
      return;
    }
    seen.add(node);
    const fields = node as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const field = fields[key];
      if (typeof field !== "object" || field === null) continue;
      if (hasErrorKey(field)) fields[key] = decodeIn(field, made);
      else walk(field, depth + 1);
    }
  };
  walk(value, 0);
  return value;
}

/**
 * An error met before in the same encoding: one it is inside of (a cycle,
 * `e.cause = e`) or one met on another branch (`a.x = b; a.y = b`), sent
 * once, so an error graph costs its size, not its number of paths.
 */
interface ErrorRef {
  [ERROR_KEY]: "ref";
  id: number;
}

/**
 * Encodes a thrown value for `postMessage`. Errors keep their name, message,
 * stack, the built-in class they are or extend, `cause` chain, `errors`
 * (AggregateError), `error` and `suppressed` (SuppressedError) and own
 * fields; a field or cause that cannot be cloned (a function as the cause,
 * an object holding one) or that holds a Semaphore or Lock (a clone would
 * make an empty object of it) crosses as a string saying what it was, and an
 * own field that is a function (a method set on the instance) is left out.
 * Other thrown values are sent as they are, but as such a string if they
 * hold a Semaphore or Lock (which `toWire`, the sender's, tells).
 *
 * An error met twice (a cycle, or the same error in two fields) is sent once
 * and comes back as the same error; errors nested more than 100 deep come as
 * a string saying so.
 *
 * Never throws: a field whose getter throws (or a Proxy whose traps throw) is
 * left out, and the message then says which fields could not be read and
 * why, so the job fails with that error instead of the worker dying.
 */
export function encodeError(
  thrown: unknown,
  toWire: ToWire = noWire,
  origin = "the error the task threw",
): unknown {
  let isError: boolean;
  try {
    isError = thrown instanceof Error;
  } catch (error) {
    // A Proxy whose getPrototypeOf trap throws: nothing of it can be trusted.
    return encodeUnreadable(["its prototype"], error, origin);
  }
  if (isError) return encodeErrorIn(thrown as Error, { ids: new Map(), depth: 0, toWire, origin });
  // A `transfer()` marker thrown: its value, copied (only a result moves).
  const value = isTransferred(thrown) ? thrown.value : thrown;
  if (holdsError(value)) {
    return boxed(value as object, { ids: new Map(), depth: 0, toWire, origin });
  }
  const shared = typeof value === "object" && value !== null ? sharedIn(value, toWire) : undefined;
  if (shared === undefined) return escaped(value);
  // A plain object or array holding one: its other fields arrive, a string in the Semaphore's or Lock's place.
  return isBoxable(value)
    ? boxed(value, { ids: new Map(), depth: 0, toWire, origin })
    : `[cannot be sent: ${shared}]`;
}

function encodeErrorIn(error: Error, encoding: Encoding): EncodedError {
  const id = encoding.ids.size;
  encoding.ids.set(error, id);
  encoding.depth++;
  try {
    const encoded = encodeErrorFields(error, encoding);
    encoded.id = id;
    return encoded;
  } finally {
    encoding.depth--;
  }
}

/** Its fields, each met in the order `fillError` rebuilds them (refs name errors met before). */
function encodeErrorFields(error: Error, encoding: Encoding): EncodedError {
  const unreadable: string[] = [];
  let firstFailure: unknown;
  const read = (key: string): unknown => {
    try {
      return (error as unknown as Record<string, unknown>)[key];
    } catch (failure) {
      if (unreadable.length === 0) firstFailure = failure;
      unreadable.push(`"${key}"`);
      return undefined;
    }
  };
  const props: Record<string, unknown> = Object.create(null);
  let hasProps = false;
  let keys: string[] = [];
  try {
    keys = Object.keys(error);
  } catch (failure) {
    if (unreadable.length === 0) firstFailure = failure;
    unreadable.push("its own fields");
  }
  for (const key of keys) {
    if (key === "cause" || key === "message") continue; // sent on their own
    const value = read(key);
    if (typeof value === "function") continue; // a method set on the instance
    props[key] = encodeField(value, encoding);
    hasProps = true;
  }
  const name = read("name");
  const message = read("message");
  const stack = read("stack");
  let hasCause = false;
  let cause: unknown;
  try {
    hasCause = Object.hasOwn(error, "cause");
  } catch (failure) {
    if (unreadable.length === 0) firstFailure = failure;
    unreadable.push(`"cause"`);
  }
  if (hasCause) {
    const failures = unreadable.length;
    cause = read("cause");
    if (unreadable.length === failures) cause = encodeField(cause, encoding);
    else hasCause = false;
  }
  let errors: unknown[] | undefined;
  let suppressed: [unknown, unknown] | undefined;
  let dom = false;
  let base = "Error";
  try {
    dom = typeof DOMException !== "undefined" && error instanceof DOMException;
    base = builtinBase(error);
    if (error instanceof AggregateError) {
      const list = read("errors");
      if (Array.isArray(list)) errors = list.map((e) => encodeField(e, encoding));
    } else if (SuppressedErrorClass !== undefined && error instanceof SuppressedErrorClass) {
      suppressed = [
        encodeField(read("error"), encoding),
        encodeField(read("suppressed"), encoding),
      ];
    }
  } catch (failure) {
    if (unreadable.length === 0) firstFailure = failure;
    unreadable.push(`"errors"`);
  }
  const text = typeof message === "string"
    ? message
    : message === undefined || message === null
    ? ""
    : describe(message); // a message set to a number or object
  const encoded: EncodedError = {
    [ERROR_KEY]: true,
    name: typeof name === "string" ? name : "Error",
    message: text,
    stack: typeof stack === "string" ? stack : undefined,
    dom,
    hasCause,
    cause,
    errors,
    props: hasProps ? props : undefined,
    base,
    suppressed,
  };
  if (unreadable.length === 0) return encoded;
  encoded.message = `${unreadableMessage(unreadable, firstFailure, encoding.origin)}${
    text === "" ? "" : ` (its message: ${text})`
  }`;
  // The class and `dom` are kept only for what could be read in full; its
  // errors still cross (a later reference may name one of them).
  encoded.dom = false;
  encoded.plain = true;
  encoded.base = "Error";
  return encoded;
}

/** A thrown value none of which could be read, as an `Error` that says so. */
function encodeUnreadable(what: string[], failure: unknown, origin: string): EncodedError {
  return {
    [ERROR_KEY]: true,
    name: "Error",
    message: unreadableMessage(what, failure, origin),
    stack: undefined,
    dom: false,
    hasCause: false,
    cause: undefined,
    errors: undefined,
    props: undefined,
  };
}

function unreadableMessage(what: string[], failure: unknown, origin: string): string {
  return `Cannot read ${origin}: reading ${what.join(", ")} threw ${describeThrown(failure)}`;
}

/**
 * What a value that was thrown says about itself, for a message; never
 * throws, whatever the value does when read.
 */
export function describeThrown(value: unknown): string {
  try {
    if (value instanceof Error) {
      const { name, message } = value;
      return typeof name === "string" && typeof message === "string"
        ? `${name}: ${message}`
        : "an unreadable error";
    }
    return describe(value);
  } catch {
    return "an unreadable value";
  }
}

/**
 * Rebuilds what {@linkcode encodeError} encoded: an error of a built-in class,
 * or of a class that extends one, comes back as that built-in class, with
 * the original `name`; the stack is the worker's.
 */
export function decodeError(encoded: unknown): unknown {
  return decodeIn(encoded, new Map());
}

/** `made`: the errors rebuilt so far, by their number, that an {@linkcode ErrorRef} names. */
function decodeIn(encoded: unknown, made: Map<number, Error>): unknown {
  if (!isEncodedError(encoded)) {
    const wrapped = encoded as { [ERROR_KEY]?: unknown; value?: unknown; id?: unknown } | null;
    if (typeof wrapped !== "object" || wrapped === null) return encoded;
    const key = wrapped[ERROR_KEY];
    if (key === "data") return wrapped.value;
    if (key === "box") return unbox(wrapped.value, made);
    if (key === "ref" && typeof wrapped.id === "number") return made.get(wrapped.id) ?? encoded;
    return encoded;
  }
  const error = newError(encoded);
  if (typeof encoded.id === "number") made.set(encoded.id, error);
  fillError(error, encoded, made);
  return error;
}

/**
 * The error `make` makes, with no stack frames: its `stack` is its first
 * line, `name: message`, on both runtimes (`Error.stackTraceLimit` is 0
 * meanwhile; Bun then makes none, and a program that froze `Error` cannot
 * set it). On Deno an error keeps the closures of the frames that made it.
 */
export function frameless<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  let error: E;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return firstLineOnly(make()); // a program that froze Error (hardened JS)
  }
  try {
    error = make();
  } finally {
    Error.stackTraceLimit = limit;
  }
  return typeof error.stack === "string" ? error : firstLineOnly(error);
}

/** Makes `error`'s stack its first line, as the runtime writes it (`Error.prototype.toString`'s rule). */
function firstLineOnly<E extends Error>(error: E): E {
  const name = error.name === undefined ? "Error" : String(error.name);
  const message = error.message === undefined ? "" : String(error.message);
  Object.defineProperty(error, "stack", {
    value: name === "" ? message : message === "" ? name : `${name}: ${message}`,
    configurable: true,
    writable: true,
  });
  return error;
}

/**
 * The error `encoded` describes, its own `errors`, `error` and `suppressed`
 * not filled yet (see `fillError`): one of them may be the error itself.
 * One sent with no stack has none here either, but its first line, not the
 * frames of this decoding (a pool-made `TaskTimeoutError` from a Bun node
 * had them).
 */
function newError(encoded: EncodedError): Error {
  if (encoded.stack !== undefined) return madeError(encoded);
  return firstLineOnly(frameless(() => madeError(encoded))); // its name is set after it is made
}

function madeError(encoded: EncodedError): Error {
  const { name, message } = encoded;
  const base = encoded.base ?? name; // an encoder of an older version sends no base
  let error: Error;
  if (encoded.plain) {
    error = new Error(message);
  } else if (encoded.errors) {
    error = new AggregateError([], message);
  } else if (encoded.suppressed && SuppressedErrorClass !== undefined) {
    error = new SuppressedErrorClass(undefined, undefined, message);
  } else if (encoded.dom && typeof DOMException !== "undefined") {
    error = new DOMException(message, name);
  } else {
    error = new (Object.hasOwn(BUILTINS, base) ? BUILTINS[base]! : Error)(message);
  }
  if (error.name !== name) {
    Object.defineProperty(error, "name", { value: name, configurable: true, writable: true });
  }
  if (encoded.stack !== undefined) {
    Object.defineProperty(error, "stack", {
      value: encoded.stack,
      configurable: true,
      writable: true,
    });
  }
  return error;
}

/**
 * Fills what of `error` may refer to other errors, in the order the encoder
 * met them (own fields, `cause`, `errors` or `error` and `suppressed`), so
 * each reference names an error already rebuilt.
 */
function fillError(error: Error, encoded: EncodedError, made: Map<number, Error>): void {
  const own = (key: string, value: unknown, enumerable = false) =>
    // Defined, not assigned: a field named like an accessor of the class
    // (a DOMException's `code`) would otherwise throw.
    Object.defineProperty(error, key, { value, configurable: true, enumerable, writable: true });
  if (encoded.props) {
    for (const key of Object.keys(encoded.props)) {
      own(key, decodeIn(encoded.props[key], made), true);
    }
  }
  if (encoded.hasCause) own("cause", decodeIn(encoded.cause, made));
  if (Array.isArray(encoded.errors)) {
    own("errors", encoded.errors.map((each) => decodeIn(each, made)));
  } else if (Array.isArray(encoded.suppressed)) {
    own("error", decodeIn(encoded.suppressed[0], made));
    own("suppressed", decodeIn(encoded.suppressed[1], made));
  }
}

/**
 * A thrown value (or cause) that is plain data with the encoder's own key
 * (`{ __fastpoolError: true, … }`) crosses wrapped, so it is not read as an
 * encoded error on the other side.
 */
function escaped(value: unknown): unknown {
  return hasErrorKey(value) ? { [ERROR_KEY]: "data", value } : value;
}

/** Whether `value` has the encoder's key, whatever its value (`true`, `"ref"`, `"data"`). */
function hasErrorKey(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  try {
    return (value as { [ERROR_KEY]?: unknown })[ERROR_KEY] !== undefined;
  } catch {
    return false; // a Proxy whose get trap throws: not ours, and structured clone refuses it
  }
}

function isEncodedError(value: unknown): value is EncodedError {
  return typeof value === "object" && value !== null &&
    (value as Partial<EncodedError>)[ERROR_KEY] === true;
}

/** A value marked by `transfer()`: moved, not copied, when it crosses. */
export interface Transferred {
  readonly [TRANSFER_BRAND]: true;
  readonly value: unknown;
  readonly list: Transferable[];
  /**
   * A symbol, which structured clone refuses: a mark found inside another
   * value (not a whole argument or result, where it is taken off) fails to
   * cross instead of arriving as `{ value, list }`.
   */
  readonly placed: symbol;
}

/** {@linkcode Transferred.placed}: the engines' clone error quotes it. */
const WHOLE_VALUES_ONLY = Symbol(
  "transfer() marks a whole argument or result, not a value inside one",
);

/** The most objects {@linkcode holdsTransferMark} looks through. */
const MARK_SEARCH_LIMIT = 10_000;

/**
 * Whether `value` holds a `transfer()` mark below its top (in a field or an
 * element), looked for through its own enumerable fields, arrays, Maps and
 * Sets, up to 10,000 objects. For messages on the slow path only.
 */
export function holdsTransferMark(value: unknown): boolean {
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length !== 0 && seen.size < MARK_SEARCH_LIMIT) {
    const next = stack.pop();
    if (typeof next !== "object" || next === null || seen.has(next)) continue;
    seen.add(next);
    try {
      if (next !== value && isTransferred(next)) return true;
      if (next instanceof Map) {
        for (const [key, item] of next) stack.push(key, item);
      } else if (next instanceof Set) {
        for (const item of next) stack.push(item);
      } else if (!ArrayBuffer.isView(next)) {
        for (const key of Object.keys(next)) stack.push((next as Record<string, unknown>)[key]);
      }
    } catch {
      // A getter or Proxy trap that throws: not looked through.
    }
  }
  return false;
}

/**
 * Why `value` cannot be cloned, for a message: `error`'s message, or, if
 * `value` holds a `transfer()` mark inside, that (the engine's words then
 * say nothing useful on Bun).
 */
export function cloneFailure(value: unknown, error: unknown): string {
  if (holdsTransferMark(value)) {
    return "it holds a transfer() mark inside: transfer() marks a whole argument or result; to move buffers inside a value, use transfer(value, [buffers])";
  }
  try {
    const message = (error as { message?: unknown })?.message;
    if (typeof message === "string") return message;
  } catch {
    // described below
  }
  return describeThrown(error);
}

/**
 * Marks `value` to be moved, not copied, when it crosses to or from a worker:
 * an `ArrayBuffer`, a typed array or `DataView` (its buffer moves), a
 * `MessagePort` or a stream. Use it on a job argument, or return it from a
 * task. After the move the sender's copy is detached (length 0). On Deno, a
 * job refused at the call because another argument cannot be cloned has
 * detached it too (Deno's structured clone moves the buffers before it
 * finds the value it refuses), and so has a task's result refused beside
 * another's: keep a copy if you may need it after a refusal.
 *
 * @typeParam T The value's type; the marker is typed as the value itself so it
 * fits a typed task's parameters.
 * @param value What to move.
 * @param list What to move with it, when `value` holds it rather than is it
 * (for example an object whose field is a buffer or a typed array).
 * @returns The marked value.
 * @throws {TypeError} If neither `value` nor `list` names something that can
 * be transferred, or it names a stream on a runtime that cannot move one
 * (Bun 1.4).
 *
 * @example Usage
 * ```ts
 * import { Pool, transfer } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * const bytes = new Uint8Array([1, 2, 3]);
 * const sum = await pool.run((b: Uint8Array) => b.reduce((s, x) => s + x, 0), transfer(bytes));
 * assert.equal(sum, 6);
 * assert.equal(bytes.byteLength, 0); // moved, not copied
 * ```
 */
export function transfer<T>(value: T, list?: readonly (Transferable | ArrayBufferView)[]): T {
  const moved: Transferable[] = [];
  if (list === undefined) {
    moved.push(transferableIn(value, "value"));
  } else {
    if (!Array.isArray(list)) {
      throw new TypeError(
        `Cannot transfer value: "list" must be an array of what to move, received ${
          describe(list)
        }`,
      );
    }
    for (let i = 0; i < list.length; i++) moved.push(transferableIn(list[i], `list[${i}]`));
  }
  return {
    [TRANSFER_BRAND]: true,
    value,
    list: moved,
    placed: WHOLE_VALUES_ONLY,
  } satisfies Transferred as unknown as T;
}

/** What moves to move `value` (a view's buffer), or a `TypeError` naming `what`. */
function transferableIn(value: unknown, what: string): Transferable {
  checkStreamMoves(value, "transfer value");
  const own = transferableOf(value);
  if (own !== undefined) return own;
  const shared = typeof SharedArrayBuffer !== "undefined" &&
    (value instanceof SharedArrayBuffer ||
      (ArrayBuffer.isView(value) && value.buffer instanceof SharedArrayBuffer));
  throw new TypeError(
    shared
      ? `Cannot transfer ${what}: it is (a view of) a SharedArrayBuffer, which is shared, not moved; pass it without transfer()`
      : `Cannot transfer ${what}: expected an ArrayBuffer, typed array, MessagePort or stream, received ${
        describe(value)
      }`,
  );
}

/** Whether `value` was made by {@linkcode transfer}. */
export function isTransferred(value: unknown): value is Transferred {
  if (typeof value !== "object" || value === null) return false;
  try {
    return (value as Partial<Transferred>)[TRANSFER_BRAND] === true;
  } catch {
    return false; // a Proxy whose get trap throws is not ours
  }
}

function transferableOf(value: unknown): Transferable | undefined {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) {
    return value.buffer instanceof ArrayBuffer ? value.buffer : undefined; // a SharedArrayBuffer is not moved
  }
  if (typeof MessagePort !== "undefined" && value instanceof MessagePort) return value;
  if (isStream(value)) return value as unknown as Transferable;
  return undefined;
}

function isStream(value: unknown): boolean {
  return (typeof ReadableStream !== "undefined" && value instanceof ReadableStream) ||
    (typeof WritableStream !== "undefined" && value instanceof WritableStream) ||
    (typeof TransformStream !== "undefined" && value instanceof TransformStream);
}

let streamsMove: boolean | undefined;

/**
 * Whether this runtime's `postMessage` can move a stream: Deno's can, Bun
 * 1.4's refuses any ("Found invalid value in transferList"). Tried once.
 */
function canMoveStreams(): boolean {
  if (streamsMove === undefined) {
    try {
      const stream = new ReadableStream();
      structuredClone(stream, { transfer: [stream as unknown as Transferable] });
      streamsMove = true;
    } catch {
      streamsMove = false;
    }
  }
  return streamsMove;
}

/**
 * Refuses a stream to move where the runtime cannot move one (Bun).
 *
 * @throws {TypeError} If `value` is a stream and this runtime cannot move it.
 *
 * @example Usage
 * ```ts
 * import { checkStreamMoves } from "./codec.ts";
 *
 * checkStreamMoves(new ArrayBuffer(8), "run job"); // not a stream: nothing to check
 * ```
 */
export function checkStreamMoves(value: unknown, action: string): void {
  if (isStream(value) && !canMoveStreams()) {
    throw new TypeError(
      `Cannot ${action}: this runtime cannot move a stream between threads (Bun's postMessage refuses streams); send its chunks, or a MessagePort`,
    );
  }
}

/** Whether `value` itself can be in a transfer list (not a view: its buffer can). */
export function isTransferable(value: unknown): value is Transferable {
  return !ArrayBuffer.isView(value) && transferableOf(value) !== undefined;
}
