/**
 * The result batch: the flat `data` array of a `results` message, both ends.
 * The worker writes it with a {@linkcode ResultWriter}, the pool reads it with
 * {@linkcode readResults}; nothing else knows its layout.
 *
 * Answers come in the order the jobs were sent, so an entry names no job: the
 * pool knows whose answer it is from the order alone.
 *
 * ```
 *  data: [ tag, value,  tag, value, … ]
 *  [RETURN, v]  [THROW, e]  [YIELD, v]  [END, 0]  [SKIPPED, 0]  [LATER, 0]
 *  [RETURNS, n, r1 … rn]     n jobs in a row returned primitives r1 … rn
 *  [F64RETURNS, f64]         f64.length jobs in a row returned numbers (a moved Float64Array)
 *  [FOR, id, TOOK, ms, RETURN, v]   job id, which went LATER, answered out of order
 *  [FOR, id, TOOK, ms, THROW, e]    after running ms milliseconds
 *  [TOOK, ms]  (alone)              the next job, one with a time limit, ran ms milliseconds
 * ```
 *
 * `e` is an error as `codec.ts` encodes it; the reader decodes it. Values
 * holding a Semaphore or Lock travel in their wire form, and the message
 * lists their indices in `shared` (the writer is given `toWire`, the pool's
 * slot revives them before reading), because this file imports nothing of
 * `sync/`.
 *
 * @module
 */

import {
  cloneFailure,
  decodeError,
  describeThrown,
  encodeError,
  holdsTransferMark,
  isTransferred,
} from "./codec.ts";
import type { FromWorker } from "./messages.ts";
import { now } from "../_now.ts";

/** The tag of each entry of `results.data`; see the module doc. */
export const Tag = {
  /** The job returned `value`; it has ended. */
  RETURN: 0,
  /** A generator job yielded `value`; it goes on. */
  YIELD: 1,
  /** The job threw `value` (an encoded error); it has ended. */
  THROW: 2,
  /** A generator job finished; `value` is unused. */
  END: 3,
  /** The job was skipped before it started (cancelled); `value` is unused. */
  SKIPPED: 4,
  /**
   * `value` jobs in a row returned; their results follow it: `[RETURNS, n,
   * r1 … rn]`. The common case of quick jobs, at one value per job.
   */
  RETURNS: 5,
  /**
   * Like `RETURNS` for numbers: `[F64RETURNS, r]`, where `r` is a moved
   * `Float64Array` of the results of `r.length` jobs in a row.
   */
  F64RETURNS: 6,
  /**
   * The job went asynchronous on a worker that runs several at once
   * (`concurrentTasksPerWorker`): it holds its place in the order, and its
   * answer comes later, out of order, as `[FOR, id, TOOK, ms]` followed by
   * its `[RETURN | THROW, value]`. `value` is unused.
   */
  LATER: 7,
  /** `[FOR, id]`: the answer that follows is job `id`'s, which went `LATER`. */
  FOR: 8,
  /**
   * `[TOOK, ms]`, right after a `FOR`: how long that job ran, from its start
   * to its answer (the message's own `ms` covers whatever ran meanwhile).
   * Alone, before a job's answer in order: how long that job ran (a job
   * with a time limit; see `ResultWriter.timeNext`). `ms` stays 0 when the
   * answer did not follow in the same message, or the job went `LATER`.
   */
  TOOK: 9,
} as const;

/** The `results` message. */
type Results = Extract<FromWorker, { type: "results" }>;

/** How `ResultWriter.#replaceUncloneable` judges each value, by how often `post` refused the batch. */
const Check = {
  /** Cloned as deep as the message holds it (it then goes as that copy). */
  IN_MESSAGE: 0,
  /** Cloned `DEPTH_MARGIN` levels deeper than that. */
  WITH_MARGIN: 1,
  /** None: every value that is not a primitive fails. */
  ALL: 2,
} as const;
type Check = typeof Check[keyof typeof Check];

/**
 * Characters from which a string is one a refused post may be refused for:
 * it never joins a run of returns, and fails alone once nothing else is
 * left to blame (`Check.ALL`).
 */
const LONG_STRING = 1 << 20;

/** Levels of nesting a value must have spare, once `post` refused a batch that cloned. */
const DEPTH_MARGIN = 64;

/** How the worker posts a `results` message. */
export type PostResults = (message: FromWorker, transfer: Transferable[]) => void;

/**
 * The worker's side: collects the answers of a batch's jobs in order, then
 * sends them as one `results` message ({@linkcode flush}). One per worker.
 */
export class ResultWriter {
  #data: unknown[] = [];
  /** Where the open `RETURNS` run's header is in `#data`, and where the run ends. */
  #runAt = -1;
  #runEnd = -1;
  /** What tasks asked to move with their results (`transfer()`). */
  #transfer: Transferable[] = [];
  /** The values whose `transfer()` marks filled `#transfer`, if any. */
  #carriers: Set<unknown> | null = null;
  /** The Float64Arrays of `F64RETURNS` runs, moved back unless the batch may fail to clone. */
  #ownBuffers: ArrayBuffer[] = [];
  /**
   * The batch holds an object, function or symbol result, or a thrown
   * value, which may fail to clone. A failed `postMessage` may already have
   * detached what it was to move (Deno does), so our own buffers are then
   * copied, not moved.
   */
  #risky = false;
  /** Indices in `#data` of values in wire form, if any. */
  #shared: number[] | null = null;
  #jobs = 0;
  /** Where the open `[TOOK, ms]` of the job `timeNext` named is in `#data` (-1: none), and its start. */
  #tookAt = -1;
  #timedFrom = 0;
  /**
   * A value the running generator yielded could not be cloned: the error
   * (encoded) its job fails with once the generator ends; until then what
   * it yields is dropped. Null while nothing failed.
   */
  #generatorFailure: unknown = null;
  readonly #toWire: (value: unknown) => unknown;

  /**
   * @param toWire The wire form of a value holding a Semaphore or Lock, or
   * `undefined` for a value sent as it is (`sync/wire.ts`).
   */
  constructor(toWire: (value: unknown) => unknown = () => undefined) {
    this.#toWire = toWire;
  }

  /** Nothing to send. */
  get empty(): boolean {
    const length = this.#data.length;
    return length === 0 || (length === 2 && this.#tookAt === 0); // an open `TOOK` alone says nothing
  }

  /**
   * A value the running generator yielded could not be sent: the generator
   * should stop, and its job fails as it ends (what it yields meanwhile is
   * dropped).
   */
  get generatorFailed(): boolean {
    return this.#generatorFailure !== null;
  }

  /** Jobs answered so far (each job of a run counted; `LATER` counts none). */
  get jobs(): number {
    return this.#jobs;
  }

  /**
   * The next job answered in order (one with a time limit) starts now: its
   * answer, written next, follows `[TOOK, ms]`, its time from now to then.
   * (A hot run of primitives never waits on this: the `TOOK` ends the run,
   * so only a run's first value, and the answers of other kinds, look.)
   */
  timeNext(): void {
    this.#tookAt = this.#data.length;
    this.#data.push(Tag.TOOK, 0);
    this.#timedFrom = now();
  }

  /** The job `timeNext` named answers now: its time goes into its `TOOK`. */
  #took(): void {
    this.#data[this.#tookAt + 1] = now() - this.#timedFrom;
    this.#tookAt = -1;
  }

  /** A job returned `value`. */
  returned(value: unknown): void {
    if (this.#tookAt >= 0) this.#took();
    this.#push(Tag.RETURN, value);
    this.#jobs++;
  }

  /**
   * A job returned a primitive (a number, string, boolean, `null` or
   * `undefined`; always cloneable): it extends the run of returns at the end,
   * or starts one.
   */
  returnedPrimitive(value: unknown): void {
    // A long string goes as an entry of its own, which fails alone if the
    // runtime cannot copy it (Bun's post refuses one when memory is short).
    if (typeof value === "string" && value.length >= LONG_STRING) return this.returned(value);
    const data = this.#data;
    if (this.#runEnd === data.length) {
      (data[this.#runAt + 1] as number)++;
    } else {
      if (this.#tookAt >= 0) this.#took();
      this.#runAt = data.length;
      data.push(Tag.RETURNS, 1);
    }
    data.push(value);
    this.#runEnd = data.length;
    this.#jobs++;
  }

  /**
   * The first `n` jobs of a numeric `map` slice returned numbers, written
   * over their arguments in `values`: sent as one `F64RETURNS`, moving
   * `values`' buffer back when it is safe.
   */
  returnedNumbers(values: Float64Array, n: number): void {
    if (this.#tookAt >= 0) this.#took();
    this.#data.push(Tag.F64RETURNS, n === values.length ? values : values.subarray(0, n));
    this.#ownBuffers.push(values.buffer as ArrayBuffer);
    this.#jobs += n;
  }

  /** A generator job yielded `value`. */
  yielded(value: unknown): void {
    if (this.#generatorFailure === null) this.#push(Tag.YIELD, value);
  }

  /** A job threw `error` (sent encoded; a thrown value that is no Error as it is). */
  threw(error: unknown): void {
    if (this.#tookAt >= 0) this.#took();
    // A generator that failed to send a value ends with that failure, whatever it threw.
    const failure = this.#generatorFailure;
    this.#generatorFailure = null;
    this.#thrown(failure ?? encodeError(error, this.#toWire));
  }

  #thrown(encoded: unknown): void {
    this.#risky = true;
    this.#data.push(Tag.THROW, encoded);
    this.#jobs++;
  }

  /** A generator job finished. */
  ended(): void {
    const failure = this.#generatorFailure;
    if (failure !== null) {
      this.#generatorFailure = null;
      return this.#thrown(failure);
    }
    if (this.#tookAt >= 0) this.#took();
    this.#data.push(Tag.END, 0);
    this.#jobs++;
  }

  /** A job was skipped before it started (stopped or aborted while queued in the worker). */
  skipped(): void {
    this.#tookAt = -1;
    this.#data.push(Tag.SKIPPED, 0);
    this.#jobs++;
  }

  /**
   * A job went asynchronous: it answers later, with `laterReturned` or
   * `laterThrew`, and a time of its own. Returns when its call began if
   * `timeNext` named it (its time must count from there, its synchronous
   * part included), else -1.
   */
  later(): number {
    const from = this.#tookAt >= 0 ? this.#timedFrom : -1;
    this.#tookAt = -1;
    this.#data.push(Tag.LATER, 0);
    return from;
  }

  /** Job `id`, which went `later()`, returned `value` after running `ms` milliseconds. */
  laterReturned(id: number, value: unknown, ms: number): void {
    this.#data.push(Tag.FOR, id, Tag.TOOK, ms);
    this.#push(Tag.RETURN, value); // out of order: never the answer `timeNext` awaits
    this.#jobs++;
  }

  /** Job `id`, which went `later()`, threw `error` after running `ms` milliseconds. */
  laterThrew(id: number, error: unknown, ms: number): void {
    this.#data.push(Tag.FOR, id, Tag.TOOK, ms);
    this.#thrown(encodeError(error, this.#toWire)); // another job's: never the end of a generator running meanwhile
  }

  /**
   * Sends what was written as one `results` message (`ms`: the time it
   * covers) and starts a new batch. If `post` refuses it (a value that
   * cannot be cloned), those values' jobs fail alone and the rest is sent
   * again, copied. Never throws for a value a job gave.
   */
  flush(ms: number, post: PostResults): void {
    const message: Results = { type: "results", data: this.#data, jobs: this.#jobs, ms };
    if (this.#shared !== null) message.shared = this.#shared;
    const own = this.#ownBuffers;
    const moved = this.#transfer;
    const transfer = this.#risky || own.length === 0
      ? moved
      : moved.length === 0
      ? own
      : moved.concat(own);
    let failures: Set<object> | undefined; // made only on these slow paths, not per message
    if (this.#risky && moved.length !== 0) {
      // A refused post may detach what it was to move (Deno does), failing the
      // jobs that moved it: the values that might refuse are tried first.
      this.#replaceUncloneable(undefined, Check.IN_MESSAGE, failures ??= new Set(), this.#carriers);
    }
    try {
      post(message, transfer);
    } catch (error) {
      this.#replaceUncloneable(error, Check.IN_MESSAGE, failures ??= new Set());
      if (!this.#postAgain(message, post)) {
        // Refused again: a value cloned alone but not in the message (at the
        // edge of the engine's depth limit, which depends on the stack: Deno's
        // post has less of it than a clone here).
        this.#replaceUncloneable(error, Check.WITH_MARGIN, failures);
        if (!this.#postAgain(message, post)) {
          this.#replaceUncloneable(error, Check.ALL, failures);
          this.#postAgain(message, post, true);
        }
      }
    }
    this.#reset();
  }

  /** Posts what is written now, copied; returns false if `post` refused it, unless `last`. */
  #postAgain(message: Results, post: PostResults, last = false): boolean {
    message.data = this.#data;
    message.jobs = this.#jobs;
    if (this.#shared !== null) message.shared = this.#shared;
    else delete message.shared;
    try {
      post(message, []); // copied, not moved, on this slow path
      return true;
    } catch (error) {
      if (last) throw error; // only primitives and encoded errors are left: not a job's fault
      return false;
    }
  }

  /**
   * If what was written is one job's return of a primitive (`[RETURN, v]`
   * or `[RETURNS, 1, v]`), takes it out and calls `take(v)`: if that
   * returns true (the value went another way, the shared lane), the batch is
   * empty again; otherwise it stays as it was. Returns what `take` returned,
   * or false.
   */
  takeLone(take: (value: unknown) => boolean): boolean {
    const data = this.#data;
    // A timed job's `TOOK` before it is not needed there: the pool waits for that answer.
    const at = data[0] === Tag.TOOK ? 2 : 0;
    let value: unknown;
    if (data.length === at + 3 && data[at] === Tag.RETURNS) value = data[at + 2];
    else if (data.length === at + 2 && data[at] === Tag.RETURN && !this.#risky) {
      value = data[at + 1];
    } else return false;
    if (!take(value)) return false;
    data.length = 0; // never posted: kept
    this.#runAt = this.#runEnd = -1;
    this.#jobs = 0;
    return true;
  }

  #reset(): void {
    this.#data = [];
    this.#runAt = this.#runEnd = -1;
    this.#transfer = [];
    this.#carriers = null;
    this.#ownBuffers = [];
    this.#risky = false;
    this.#shared = null;
    this.#jobs = 0;
    if (this.#tookAt >= 0) {
      // Sent before its job answered (a generator's values, a progress flush): its
      // `TOOK` went as 0, and opens the next batch, the time still counted from its start.
      this.#tookAt = 0;
      this.#data.push(Tag.TOOK, 0);
    }
  }

  #push(tag: number, value: unknown): void {
    const type = typeof value;
    if (type === "object" ? value !== null : type === "function" || type === "symbol") {
      this.#risky = true;
    }
    if (type !== "object" || value === null) {
      this.#data.push(tag, value);
      return;
    }
    let carries = false;
    if (isTransferred(value)) {
      for (const item of value.list) this.#transfer.push(item);
      value = value.value;
      carries = true;
    }
    // A Semaphore or Lock, alone or inside, goes as its wire form; the pool
    // revives the values at the indices listed in `shared`.
    const wire = this.#toWire(value);
    if (wire !== undefined) {
      (this.#shared ??= []).push(this.#data.length + 1);
      value = wire;
    }
    if (carries) (this.#carriers ??= new Set()).add(value);
    this.#data.push(tag, value);
  }

  /**
   * `postMessage` refused the batch: fail the jobs of the values that cannot
   * be cloned, alone, so the rest of the batch still arrives. Each value is
   * cloned as deep in a message as it will be sent, and the clone takes its
   * place (a getter read again by the next `post` might answer otherwise).
   * After a second refusal (`Check.WITH_MARGIN`), the values that do not
   * clone 64 levels deeper than that fail; after a third (`Check.ALL`), every
   * value that is not a primitive fails (`cause`: the first refusal). The
   * `failures` written already stay. Before a post that moves buffers
   * (`cause` undefined: nothing refused yet), the values that carry them are
   * `skipped`.
   */
  #replaceUncloneable(
    cause: unknown,
    check: Check,
    failures: Set<object>,
    skipped: Set<unknown> | null = null,
  ): void {
    const all = check === Check.ALL;
    for (let i = 0; i < this.#data.length; i += 2) {
      const data = this.#data; // a failed generator's entries may be taken out
      const tag = data[i];
      if (tag === Tag.RETURNS) {
        i += data[i + 1] as number; // a run holds primitives only: all cloneable
        continue;
      }
      if (tag === Tag.F64RETURNS) continue; // numbers, and not moved (see `#risky`)
      const value = data[i + 1];
      const long = typeof value === "string" && value.length >= LONG_STRING;
      if (
        typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol" &&
        !(all && long)
      ) {
        continue;
      }
      if (value === null || failures.has(value as object) || skipped?.has(value)) continue;
      let why: unknown = cause;
      if (check === Check.IN_MESSAGE) {
        try {
          // message → data → value: as deep as `post` meets it.
          data[i + 1] = structuredClone({ data: [value] }).data[0];
          continue;
        } catch (error) {
          why = error;
        }
      } else if (check === Check.WITH_MARGIN) {
        let nested: unknown = value;
        for (let k = 0; k < DEPTH_MARGIN; k++) nested = [nested];
        try {
          structuredClone({ data: [nested] });
          continue;
        } catch (error) {
          why = error;
        }
      }
      const what = (tag === Tag.THROW
        ? "the error it threw"
        : tag === Tag.YIELD
        ? "a value it yielded"
        : "its result") + (long ? `, a string of ${(value as string).length} characters,` : "");
      const failure = encodeError(
        new TypeError(
          all
            ? `Cannot send job result: ${what} was in a results message the runtime refused twice (${
              describeThrown(why)
            })`
            : `Cannot send job result: ${what} cannot be cloned (${
              holdsTransferMark(value) ? cloneFailure(value, why) : describeThrown(why)
            })${tag === Tag.RETURN && isIterator(value) ? RETURNED_ITERATOR : ""}`,
          cause === undefined ? undefined : { cause },
        ),
        this.#toWire,
      ) as object;
      failures.add(failure);
      if (tag === Tag.YIELD) {
        this.#failGenerator(i, failure);
        i -= 2; // what followed the value now starts at `i`
      } else {
        data[i] = Tag.THROW;
        data[i + 1] = failure;
      }
    }
  }

  /**
   * The value at entry `at` of a running generator could not be cloned: that
   * value and the generator's later ones are taken out, and its job fails
   * with `failure` where the generator ends (its `END` or `THROW`), or, if
   * that is not written yet, when it ends (`#generatorFailure`), so the job
   * ends once the worker is done with it. Answers of jobs that went `LATER`
   * stay, and so do the places of wire-form values in `shared`.
   */
  #failGenerator(at: number, failure: unknown): void {
    const data = this.#data;
    const wire = new Set(this.#shared);
    const shared = this.#shared?.filter((index) => index < at) ?? [];
    const kept = data.slice(0, at);
    let ended = false;
    for (let i = at; i < data.length;) {
      const tag = data[i];
      const size = tag === Tag.RETURNS ? 2 + (data[i + 1] as number) : tag === Tag.FOR ? 6 : 2;
      if (!ended && tag === Tag.YIELD) {
        // dropped
      } else if (!ended && (tag === Tag.END || tag === Tag.THROW)) {
        kept.push(Tag.THROW, failure);
        ended = true;
      } else {
        for (let k = i; k < i + size; k++) {
          if (wire.has(k)) shared.push(kept.length);
          kept.push(data[k]);
        }
      }
      i += size;
    }
    this.#data = kept;
    this.#shared = shared.length !== 0 ? shared : null;
    if (!ended) this.#generatorFailure = failure;
  }
}

/**
 * What {@linkcode readResults} tells, entry by entry, in order. The pool has
 * one, created once, so the reader's calls stay monomorphic.
 */
export interface ResultVisitor {
  /** `n` jobs in a row returned `values[at]` … `values[at + n - 1]` (`RETURNS`, `F64RETURNS`). */
  returns(values: ArrayLike<unknown>, at: number, n: number): void;
  /** The next job returned `value`. */
  returned(value: unknown): void;
  /** The next job, a generator, yielded `value`; it goes on. */
  yielded(value: unknown): void;
  /** The next job threw `error` (decoded). */
  threw(error: unknown): void;
  /** The next job, a generator, finished. */
  ended(): void;
  /** The next job was skipped before it started. */
  skipped(): void;
  /** The next job went asynchronous: it answers later, by id. */
  later(): void;
  /**
   * Job `id`, which went `later()`, returned `value`, or threw it (decoded)
   * if `threw`, after running `ms` milliseconds.
   */
  answered(id: number, threw: boolean, value: unknown, ms: number): void;
  /** The next job's answer, if the next entry is one, came after it ran `ms` milliseconds (0: unknown). */
  took(ms: number): void;
}

/**
 * Reads a `results` message's `data`, calling `visitor` once per entry, in
 * order. Allocates nothing of its own per entry (a thrown error is decoded).
 *
 * @throws {TypeError} At an entry of no known tag, naming it.
 */
export function readResults(data: readonly unknown[], visitor: ResultVisitor): void {
  for (let i = 0; i < data.length; i += 2) {
    const tag = data[i];
    switch (tag) {
      case Tag.RETURNS: {
        const n = data[i + 1] as number;
        visitor.returns(data, i + 2, n);
        i += n;
        break;
      }
      case Tag.F64RETURNS: {
        const values = data[i + 1] as Float64Array;
        visitor.returns(values, 0, values.length);
        break;
      }
      case Tag.RETURN:
        visitor.returned(data[i + 1]);
        break;
      case Tag.YIELD:
        visitor.yielded(data[i + 1]);
        break;
      case Tag.THROW:
        visitor.threw(decodeError(data[i + 1]));
        break;
      case Tag.END:
        visitor.ended();
        break;
      case Tag.SKIPPED:
        visitor.skipped();
        break;
      case Tag.LATER:
        visitor.later();
        break;
      case Tag.FOR: {
        // [FOR, id, TOOK, ms, RETURN | THROW, value]
        const threw = data[i + 4] === Tag.THROW;
        const value = data[i + 5];
        const ms = data[i + 3] as number;
        visitor.answered(data[i + 1] as number, threw, threw ? decodeError(value) : value, ms);
        i += 4; // its time and the pair that answered
        break;
      }
      case Tag.TOOK:
        visitor.took(data[i + 1] as number);
        break;
      default:
        throw new TypeError(`Cannot read results: unknown tag ${String(tag)} at index ${i}`);
    }
  }
}

/**
 * Said of a returned iterator that could not be cloned: a task is a
 * generator task by its kind (`function*`), whatever its declared return type.
 */
const RETURNED_ITERATOR =
  ": the task returned an iterator, and only a generator function (function* or async function*) is run as a generator task; make it one, e.g. `function* (n) { yield* make(n); }` (`async function*` for an async iterator)";

/** Whether `value` looks like an iterator (a `next()` method), read without letting a getter throw. */
function isIterator(value: unknown): boolean {
  try {
    return typeof (value as { next?: unknown }).next === "function";
  } catch {
    return false;
  }
}
