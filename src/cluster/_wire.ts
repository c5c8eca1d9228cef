/**
 * What crosses Redis between a producer and a node: a chunk's data (one
 * BullMQ job) and its result (the job's return value), both JSON. Both ends
 * live here, with the check that keeps everything else out: only JSON-safe
 * values cross, so nothing is ever deserialised into code.
 *
 * ```
 * producer ── ChunkData { task, one, items, timeout } ──► BullMQ job ──► node
 * producer ◄── ChunkResult { values, undef, errors, ms } ── "completed" event
 * ```
 *
 * @module
 */

import { describe } from "../_checks.ts";
import { decodeError, describeThrown, encodeError } from "../protocol/codec.ts";
import { PoolClosedError, TaskTimeoutError, WorkerCrashedError } from "../errors.ts";
import { isPoolMade } from "../pool/own_errors.ts";
import { checkArgCount } from "../pool/submitter.ts";

/** The format of {@linkcode ChunkData} and {@linkcode ChunkResult}; a node refuses others. */
export const WIRE_VERSION = 1;

/** A chunk of items of one task: the data of one BullMQ job. */
export interface ChunkData {
  v: number;
  /** The task: an export name of the node's module. */
  task: string;
  /** `true`: each item is the task's one argument; `false`: an array of arguments. */
  one: boolean;
  items: unknown[];
  /** Milliseconds each item may run on its node; 0 for no limit. */
  timeout: number;
  /** Outcomes saved by earlier attempts (BullMQ retries), and the items still to run. */
  prior?: ChunkResult;
  left?: number[];
}

/**
 * `data` with no items: what a chunk a node had taken becomes when the
 * producer gives its items up (a shutdown's timeout), so that if that node
 * dies, the node BullMQ hands the chunk to runs nothing for nobody.
 */
export function emptied(data: ChunkData): ChunkData {
  return { v: data.v, task: data.task, one: data.one, items: [], timeout: data.timeout };
}

/** What a node returns for a chunk: one outcome per item, by index. */
export interface ChunkResult {
  v: number;
  /** Per item: its result, `null` for a failure or an `undefined` result. */
  values: unknown[];
  /** Indices whose result is `undefined` (JSON has no `undefined`). */
  undef: number[];
  /** A generator's `undefined` values, `[index, place]`: `null` in `values` (a node before 2026-12-04 sends none). */
  undefYields?: [number, number][];
  /** `[index, encoded error]` of items that failed. */
  errors: [number, unknown][];
  /** Whether the task is a generator: each value is then the array of what it yielded. */
  gen: boolean;
  /** The node that ran it, its workers, and the milliseconds the chunk took there. */
  node: string;
  workers: number;
  ms: number;
  /** The characters of JSON its results and failures wrote (a node before 2026-12-07 sends none). */
  chars?: number;
}

/**
 * What one chunk's results write as JSON together, held to `limit`
 * ({@linkcode MAX_RESULT_CHARS}): a result that would pass it fails (unless
 * it is the first), so the others still go back.
 *
 * @example Usage
 * ```ts
 * import { ResultBudget } from "./_wire.ts";
 * import assert from "node:assert/strict";
 *
 * const budget = new ResultBudget(100);
 * assert.equal(budget.take("x".repeat(90), 90), undefined);
 * assert.match(budget.take("y".repeat(20), 20)!, /passes 100 characters of JSON/);
 * assert.equal(budget.take(1, 10), undefined); // what fits still goes
 * ```
 */
export class ResultBudget {
  #chars: number;
  readonly #limit: number;

  /** A budget of `limit` characters, `spent` of them already (an earlier attempt's results). */
  constructor(limit: number = MAX_RESULT_CHARS, spent = 0) {
    this.#limit = limit;
    this.#chars = spent;
  }

  /** The characters counted so far. */
  get spent(): number {
    return this.#chars;
  }

  /** Counts `value`, of `counted` characters; why it does not fit, or `undefined`. */
  take(value: unknown, counted: number): string | undefined {
    let chars = counted;
    if (counted > MEASURED_RESULT_CHARS) {
      try {
        chars = JSON.stringify(value).length;
      } catch (error) {
        return `JSON cannot write it (${describeThrown(error)})`;
      }
    }
    if (this.#chars !== 0 && this.#chars + chars > this.#limit) {
      return `with the results before it in its chunk it passes ${
        this.#limit.toLocaleString("en")
      } characters of JSON (${
        chars.toLocaleString("en")
      } of its own); results that large are better sent another way`;
    }
    this.#chars += chars;
    return undefined;
  }
}

/**
 * Why `value` is not a {@linkcode ChunkResult} of `n` items that can be read
 * without a throw, or `undefined` if it is one: every index it names is an
 * item of the chunk, a generator's values are arrays, and its counts are
 * numbers. A node of another make, or a hand-written result, must fail its
 * chunk, not the reader (on the producer, a throw there stops the events
 * of every later chunk).
 *
 * @example Usage
 * ```ts
 * import { resultProblem, WIRE_VERSION } from "./_wire.ts";
 * import assert from "node:assert/strict";
 *
 * const result = { v: WIRE_VERSION, values: [2, null], undef: [], errors: [[1, "boom"]], gen: false, node: "n1", workers: 2, ms: 3 };
 * assert.equal(resultProblem(result, 2), undefined);
 * assert.equal(resultProblem({ ...result, errors: 5 }, 2), "errors is not an array");
 * assert.equal(resultProblem({ ...result, undef: [2] }, 2), "undef names no item of the chunk (2)");
 * ```
 */
export function resultProblem(value: unknown, n: number): string | undefined {
  if (typeof value !== "object" || value === null) return `it is ${describe(value)}`;
  const result = value as Record<keyof ChunkResult, unknown>;
  if (result.v !== WIRE_VERSION) return `its version is ${describe(result.v)}, not ${WIRE_VERSION}`;
  const { values, undef, errors, undefYields } = result;
  if (!Array.isArray(values) || values.length !== n) return `values is not an array of ${n}`;
  const isItem = (k: unknown) => Number.isInteger(k) && (k as number) >= 0 && (k as number) < n;
  if (!Array.isArray(undef)) return "undef is not an array";
  const stray = undef.findIndex((k) => !isItem(k));
  if (stray >= 0) return `undef names no item of the chunk (${describe(undef[stray])})`;
  if (!Array.isArray(errors)) return "errors is not an array";
  for (const entry of errors) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isItem(entry[0])) {
      return `errors holds ${describe(entry)}, not [item, error]`;
    }
  }
  if (typeof result.gen !== "boolean") return "gen is not a boolean";
  if (result.gen) {
    const ended = new Set<unknown>([...undef, ...errors.map((entry) => entry[0])]);
    const notArray = values.findIndex((yielded, k) => !ended.has(k) && !Array.isArray(yielded));
    if (notArray >= 0) return `the values of item ${notArray} of a generator are not an array`;
  }
  if (undefYields !== undefined) {
    if (!Array.isArray(undefYields)) return "undefYields is not an array";
    for (const entry of undefYields) {
      const yielded = Array.isArray(entry) && isItem(entry[0]) ? values[entry[0]] : undefined;
      if (
        !Array.isArray(yielded) || !Number.isInteger(entry[1]) || entry[1] < 0 ||
        entry[1] >= yielded.length
      ) {
        return `undefYields holds ${describe(entry)}, no value of the chunk`;
      }
    }
  }
  if (typeof result.node !== "string") return "node is not a string";
  if (!(typeof result.ms === "number" && result.ms >= 0)) return "ms is not a number >= 0";
  if (!(Number.isInteger(result.workers) && (result.workers as number) > 0)) {
    return "workers is not a positive integer";
  }
  return undefined;
}

/** Arrays and objects nested deeper than this do not cross (Deno's `JSON.stringify` stops near 3,600). */
export const MAX_JSON_DEPTH = 2_000;

/**
 * Most arrays and objects one value may write as JSON, where an object met
 * twice is written twice: a value whose shared parts expand past it
 * (`{ l: x, r: x }` forty levels deep is 2^40) would take JSON, and the
 * check, for ever.
 */
export const MAX_JSON_OBJECTS = 1_000_000;

/**
 * Most characters of strings (keys included) one value may write as JSON:
 * 2^27, a string held twice written twice (see {@linkcode jsonLength}).
 * Far beyond what a queue should carry, and below where it breaks: Redis
 * takes at most 512 MB in one value, and on Deno 2.9.6 `JSON.stringify` of
 * one string of 300 MB that came from a worker thread ends the whole
 * process ("Fatal process out of memory: Zone"), the node and, in turn,
 * each node its chunk goes to.
 */
export const MAX_JSON_CHARS = 2 ** 27;

/**
 * One check: the objects on the path to this one, and those found safe
 * with what they write.
 */
interface JsonWalk {
  readonly seen: unknown[];
  readonly safe: Map<object, Written>;
  /** Arrays and objects written so far. */
  written: number;
  /** Characters of strings written so far. */
  chars: number;
  /** Array elements and object properties written so far (for {@linkcode jsonChars}). */
  values: number;
}

/** What a value writes as JSON: arrays and objects, characters of strings, elements and properties. */
type Written = readonly [written: number, chars: number, values: number];

function newWalk(): JsonWalk {
  return { seen: [], safe: new Map(), written: 0, chars: 0, values: 0 };
}

/**
 * Characters JSON may write for one value besides its strings' own: a
 * number's digits (24 at most, `-2.2250738585072014e-308`), or a string's
 * quotes; a key's quotes and colon; a comma.
 */
export const VALUE_CHARS = 28;

/**
 * About how many characters JSON writes for what `walk` checked, never
 * fewer but for escapes in strings short enough to count unread (see
 * {@linkcode jsonLength}): its strings, {@linkcode VALUE_CHARS} a value
 * and two an array or object. What a chunk's size budget counts.
 */
function jsonChars(walk: JsonWalk): number {
  return walk.chars + VALUE_CHARS * (walk.values + 1) + 2 * walk.written;
}

/**
 * Where {@linkcode fixValue} and {@linkcode fixArgs} put about how many
 * characters JSON writes for what they fixed (see {@linkcode jsonChars}):
 * one object the caller keeps, so small items cost no allocation.
 */
export interface JsonSize {
  chars: number;
}

/**
 * Why `value` cannot cross as JSON, or `undefined` if it can. JSON-safe:
 * `null`, booleans, finite numbers, strings, arrays of JSON-safe values, and
 * plain objects (prototype `Object.prototype` or `null`) whose values are
 * JSON-safe or `undefined` (such a property is left out, as JSON does), in
 * all no more than {@linkcode MAX_JSON_OBJECTS} arrays and objects as
 * written. Each object is read once: its shared parts cost their size.
 */
export function jsonProblem(value: unknown, size?: JsonSize): string | undefined {
  const walk = newWalk();
  const problem = walkJson(value, "", walk);
  if (size !== undefined) size.chars = jsonChars(walk);
  return problem;
}

/**
 * Most characters of JSON the results of one chunk write together, past
 * the first: 2^28. They travel as one value (BullMQ's return value), which
 * `JSON.stringify` cannot write past about 2^29 characters, and Redis
 * takes at most 512 MB of; a chunk whose results each fit
 * {@linkcode MAX_JSON_CHARS} may not.
 */
export const MAX_RESULT_CHARS = 2 ** 28;

/**
 * Counted sizes (see {@linkcode jsonProblem}'s `size`) past which a result's
 * size is measured by writing it: escapes in its strings may write up to
 * six times what was counted.
 */
export const MEASURED_RESULT_CHARS = 2 ** 20;

function walkJson(value: unknown, path: string, walk: JsonWalk): string | undefined {
  switch (typeof value) {
    case "string":
      return countChars(walk, jsonLength(value));
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${path || "it"} is ${value}`;
    case "undefined":
      return `${path || "it"} is undefined`;
    case "function":
      return `${path || "it"} is a function (a queue never carries code)`;
    case "bigint":
    case "symbol":
      return `${path || "it"} is a ${typeof value}`;
  }
  if (value === null) return undefined;
  const { seen, safe } = walk;
  const known = safe.get(value as object);
  if (known !== undefined) {
    walk.values += known[2];
    return count(walk, known[0]) ?? countChars(walk, known[1]);
  }
  if (seen.includes(value)) return `${path || "it"} is a cyclic reference`;
  // Deeper, this check (and JSON itself, on Deno) would run out of stack: a bare RangeError.
  if (seen.length === MAX_JSON_DEPTH) {
    return `it is nested deeper than ${MAX_JSON_DEPTH.toLocaleString("en")} levels`;
  }
  const before = walk.written;
  const charsBefore = walk.chars;
  const valuesBefore = walk.values;
  const tooMany = count(walk, 1);
  if (tooMany) return tooMany;
  seen.push(value);
  try {
    if (Array.isArray(value)) {
      walk.values += value.length;
      for (let i = 0; i < value.length; i++) {
        const problem = walkJson(value[i], `${path}[${i}]`, walk);
        if (problem) return problem;
      }
    } else {
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as object).constructor?.name ?? "a class";
        return `${path || "it"} is an instance of ${name}`;
      }
      for (const key of Object.keys(value as object)) {
        const field = (value as Record<string, unknown>)[key];
        if (field === undefined) continue;
        walk.values++;
        const problem = countChars(walk, jsonLength(key)) ??
          walkJson(field, `${path}.${key}`, walk);
        if (problem) return problem;
      }
    }
    safe.set(value as object, [
      walk.written - before,
      walk.chars - charsBefore,
      walk.values - valuesBefore,
    ]);
    return undefined;
  } finally {
    seen.pop();
  }
}

/** Counts `n` more arrays and objects written; a problem past {@linkcode MAX_JSON_OBJECTS}. */
function count(walk: JsonWalk, n: number): string | undefined {
  return past(walk.written += n, MAX_JSON_OBJECTS, "arrays and objects", "an object");
}

/** Counts `n` more characters of strings written; a problem past {@linkcode MAX_JSON_CHARS}. */
function countChars(walk: JsonWalk, n: number): string | undefined {
  return past(walk.chars += n, MAX_JSON_CHARS, "characters of strings", "a string");
}

/** The problem of a value that writes `total` of `what` as JSON, if past `limit`. */
function past(total: number, limit: number, what: string, one: string): string | undefined {
  if (total <= limit) return undefined;
  return `it writes more than ${
    limit.toLocaleString("en")
  } ${what} as JSON (${one} it holds twice is written twice)`;
}

/**
 * How many characters JSON writes for string `s`, its quotes left out. A
 * string short enough that even six characters for each of its own (a
 * control character as `\u0001`) stay within {@linkcode MAX_JSON_CHARS}
 * counts as its length, unread; a longer one is read for what JSON escapes.
 */
export function jsonLength(s: string): number {
  if (s.length <= MAX_JSON_CHARS / 6) return s.length;
  let extra = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) extra += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 1 : 5;
    else if (c === 0x22 || c === 0x5c) extra += 1;
    else if (c >= 0xd800 && c <= 0xdfff) extra += lone(s, i) ? 5 : 0;
  }
  return s.length + extra;
}

/** Whether the surrogate at `s[i]` has no partner (JSON writes it as `\udxxx`). */
function lone(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    return !(next >= 0xdc00 && next <= 0xdfff);
  }
  const before = s.charCodeAt(i - 1);
  return !(before >= 0xd800 && before <= 0xdbff);
}

/** The sentence that ends every "not JSON-safe" error. */
export const JSON_SAFE =
  "only JSON-safe values cross to a node: null, booleans, finite numbers, strings, arrays and plain objects of them";

/**
 * One value of an item (an argument, a `map` item) as it will cross, fixed
 * and checked at the submit: an object or array is copied, so a change the
 * caller makes before its chunk leaves reaches neither the item nor the
 * other items of its chunk. The value is checked, copied, and the copy
 * checked: a getter that gives one value to the check and another to the
 * copy (a `bigint`, say) cannot slip past it, and one that throws while it
 * is copied is a `TypeError` naming the value. Getters run here, once per
 * read, and never again once the value is queued.
 *
 * With `size`, it also says about how many characters JSON writes for the
 * value (see {@linkcode JsonSize}), from the check's own walk: a number or a
 * short string costs nothing more.
 *
 * @example Usage
 * ```ts
 * import { fixValue } from "./_wire.ts";
 * import assert from "node:assert/strict";
 *
 * const arg = { n: 1 };
 * const size = { chars: 0 };
 * const copy = fixValue(arg, "submit job", "argument 1", size);
 * arg.n = 2;
 * assert.deepEqual(copy, { n: 1 });
 * assert.ok(size.chars >= JSON.stringify(copy).length);
 * assert.throws(() => fixValue(10n, "submit job", "argument 1"), /argument 1 is not JSON-safe/);
 * const throwing = {
 *   get x(): never {
 *     throw new Error("no");
 *   },
 * };
 * assert.throws(() => fixValue(throwing, "submit job", "argument 1"), {
 *   name: "TypeError",
 *   message: /argument 1 cannot be read \(Error: no\)/,
 * });
 * ```
 *
 * @throws {TypeError} Naming `label` and what in it cannot cross.
 */
export function fixValue(value: unknown, what: string, label: string, size?: JsonSize): unknown {
  if (
    typeof value === "number" ? Number.isFinite(value) : (
      typeof value === "string" && value.length <= MAX_JSON_CHARS / 6
    )
  ) {
    if (size !== undefined) {
      size.chars = typeof value === "string" ? VALUE_CHARS + value.length : VALUE_CHARS;
    }
    return value;
  }
  let walk = newWalk();
  let problem: string | undefined;
  try {
    problem = walkJson(value, "", walk);
  } catch (error) {
    // A getter or a Proxy's trap threw while the value was read.
    throw new TypeError(
      `Cannot ${what}: ${label} cannot be read (${describeThrown(error)}); ${JSON_SAFE}`,
      { cause: error },
    );
  }
  if (problem === undefined && typeof value === "object" && value !== null) {
    try {
      value = structuredClone(value);
    } catch (error) {
      throw new TypeError(
        `Cannot ${what}: ${label} cannot be copied (${describeThrown(error)}); ${JSON_SAFE}`,
      );
    }
    walk = newWalk();
    problem = walkJson(value, "", walk); // what the copy's getters gave
  }
  if (problem !== undefined) {
    throw new TypeError(`Cannot ${what}: ${label} is not JSON-safe (${problem}); ${JSON_SAFE}`);
  }
  if (size !== undefined) size.chars = jsonChars(walk);
  return value;
}

/**
 * The arguments of one item, fixed and checked ({@linkcode fixValue}): the
 * one argument itself, or an array of them; with `size`, about how many
 * characters JSON writes for it.
 *
 * @throws {TypeError} Naming the argument and what in it cannot cross.
 */
export function fixArgs(args: readonly unknown[], what: string, size?: JsonSize): unknown {
  checkArgCount(args.length); // at once, as on Pool, not after a trip to a node
  if (args.length === 1) return fixValue(args[0], what, "argument 1", size);
  const fixed = new Array(args.length);
  let chars = VALUE_CHARS;
  for (let i = 0; i < args.length; i++) {
    fixed[i] = fixValue(args[i], what, `argument ${i + 1}`, size);
    if (size !== undefined) chars += size.chars;
  }
  if (size !== undefined) size.chars = chars;
  return fixed;
}

/**
 * Levels {@linkcode jsonClean} copies: a cause chain takes one per error, so
 * a chain as long as `Pool` carries between threads (100 errors) crosses to a
 * node and back whole.
 */
export const MAX_CLEAN_DEPTH = 128;

/**
 * What {@linkcode jsonClean} keeps of long strings: each at most 2^14
 * characters, and those past 2^16 in all of one value at most 256 (a
 * message and the stack that repeats it both arrive whole up to 16 Ki). A
 * failure is a diagnosis, and one thrown with a message of 300 million
 * characters ended a Deno node ("Fatal process out of memory: Zone") and,
 * on Bun, passed what Redis takes in one value. A string of 256 characters
 * or fewer (a class name, a key, the encoding's own tags) is never cut, so
 * a cut failure keeps its class; the rest of a longer one is cut, saying
 * how much.
 */
export const MAX_CLEAN_CHARS = 2 ** 16;
const MAX_CLEAN_STRING = 2 ** 14;
const SHORT_STRING = 256;
/** Arrays' items, objects' fields and containers {@linkcode jsonClean} copies from one value. */
const MAX_CLEAN_ENTRIES = 100_000;

/**
 * A copy of `value` that JSON can carry: what cannot cross becomes a string
 * describing it. For errors' `cause` and fields, so a failure always arrives:
 * past {@linkcode MAX_CLEAN_DEPTH} levels, or 100,000 arrays, objects, items
 * and fields copied (an object held twice is copied twice), the rest is a
 * string saying so, and long strings are cut (see {@linkcode MAX_CLEAN_CHARS}).
 */
export function jsonClean(value: unknown, depth = 0, copied = { n: 0, chars: 0 }): unknown {
  switch (typeof value) {
    case "string":
      return cleanString(value, copied);
    case "boolean":
    case "undefined":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
    case "function":
      return String(value).slice(0, 80);
  }
  if (value === null) return null;
  if (depth > MAX_CLEAN_DEPTH) return "[too deep]";
  if (++copied.n > MAX_CLEAN_ENTRIES) return "[too large]";
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (full(item, copied)) {
        out.push(`[${value.length - i} more items cut]`);
        break;
      }
      out.push(jsonClean(item, depth + 1, copied) ?? null);
    }
    return out;
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  const keys = Object.keys(value as object);
  const proto = Object.getPrototypeOf(value);
  // An instance of a class with no fields of its own (a Map, a Set…) would arrive as {}.
  if (keys.length === 0 && proto !== Object.prototype && proto !== null) return describe(value);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const item = (value as Record<string, unknown>)[keys[i]!];
    if (full(item, copied)) {
      out["[more fields cut]"] = keys.length - i;
      break;
    }
    out[cleanString(keys[i]!, copied)] = jsonClean(item, depth + 1, copied);
  }
  return out;
}

/**
 * Whether the entries {@linkcode jsonClean} copies are used up before
 * `item`, which a primitive takes one of (a container counts itself).
 */
function full(item: unknown, copied: { n: number }): boolean {
  if (typeof item === "object" && item !== null) return copied.n >= MAX_CLEAN_ENTRIES;
  return ++copied.n > MAX_CLEAN_ENTRIES;
}

/** `value`, cut if long (see {@linkcode MAX_CLEAN_CHARS}). */
function cleanString(value: string, copied: { chars: number }): string {
  if (value.length <= SHORT_STRING) return value;
  const room = copied.chars >= MAX_CLEAN_CHARS ? SHORT_STRING : MAX_CLEAN_STRING;
  if (value.length <= room) {
    copied.chars += value.length;
    return value;
  }
  copied.chars += room;
  return `${value.slice(0, room)}… [${(value.length - room).toLocaleString("en")} characters cut]`;
}

/**
 * The key that marks a failure as made by the node's pool: fastpool's own
 * errors (`TaskTimeoutError`, `WorkerCrashedError`, `PoolClosedError`), and
 * the built-in ones it writes about a job by its id (`isPoolMade`). Only
 * those are rebuilt, or get the producer's item id, on the producer: a
 * task's own error of the same name or words arrives as any of the task's.
 */
const OWN_ERROR_KEY = "fastpoolOwn";

/** A thrown value as JSON: `encodeError`'s shape (class, message, stack, cause), cleaned. */
export function encodeFailure(thrown: unknown): unknown {
  const encoded = jsonClean(encodeError(thrown));
  if (
    (thrown instanceof TaskTimeoutError || thrown instanceof WorkerCrashedError ||
      thrown instanceof PoolClosedError || isPoolMade(thrown)) &&
    typeof encoded === "object" && encoded !== null
  ) {
    (encoded as Record<string, unknown>)[OWN_ERROR_KEY] = true;
  }
  return encoded;
}

/**
 * The messages the node's pool writes about a job by its own (local) id, by
 * the class it throws them with: on the producer they name the item's id.
 */
const LOCAL_ID_MESSAGES: Readonly<Record<string, RegExp>> = {
  Error: /^(Cannot run job )\d+(: workers failed to start )/,
  TypeError: /^(Cannot send job )\d+(: (?:its |an )?argument )/,
  PoolClosedError: /^(Job )\d+( was running when the pool was terminated| had ended when the pool)/,
};

/**
 * Rebuilds a failure on the producer: built-in classes keep their class (as
 * with `Pool`), and fastpool's own errors are rebuilt as themselves with the
 * producer's item id (also in the messages the node's pool wrote with its
 * own job id).
 */
export function decodeFailure(encoded: unknown, itemId: number): unknown {
  const own = typeof encoded === "object" && encoded !== null &&
    (encoded as Record<string, unknown>)[OWN_ERROR_KEY] === true;
  const error = decodeError(encoded);
  if (!(error instanceof Error)) return error;
  // The stack's first line repeats the node's message: it names the same id as the message.
  const header = `${error.name}: ${error.message}`;
  const local = own && Object.hasOwn(LOCAL_ID_MESSAGES, error.name)
    ? LOCAL_ID_MESSAGES[error.name]
    : null;
  if (local?.test(error.message)) error.message = error.message.replace(local, `$1${itemId}$2`);
  let rebuilt: Error | undefined;
  const fields = error as unknown as Record<string, unknown>;
  const cause = Object.hasOwn(error, "cause") ? { cause: error.cause } : undefined;
  switch (own ? error.name : "") {
    case "TaskTimeoutError":
      rebuilt = new TaskTimeoutError(itemId, Number(fields.timeout), cause);
      break;
    case "WorkerCrashedError": {
      // The node's worker, named as the node's pool named it.
      const workerName = /^Worker (\S+) died while running job /.exec(error.message)?.[1];
      rebuilt = new WorkerCrashedError(Number(fields.slotId), itemId, { ...cause, workerName });
      break;
    }
    case "PoolClosedError":
      rebuilt = new PoolClosedError(error.message, cause);
      break;
  }
  const result = rebuilt ?? error;
  const stack = error.stack;
  if (
    typeof stack !== "string" || result === error && header === `${error.name}: ${error.message}`
  ) {
    return result;
  }
  Object.defineProperty(result, "stack", {
    value: stack.startsWith(header)
      ? `${result.name}: ${result.message}${stack.slice(header.length)}`
      : stack,
    configurable: true,
    writable: true,
  });
  return result;
}
