/**
 * The shared lane: one job at a time between the pool and one worker through
 * a `SharedArrayBuffer`, with no message either way, for a job whose
 * arguments and result are primitives: numbers, booleans, `null`,
 * `undefined`, or strings of at most {@linkcode LANE_MAX_STRING} UTF-16
 * units. Both ends read and write it here; nothing else knows its layout.
 *
 * A worker listens on its lane only while it spins for work after a batch;
 * the pool spins for the answer only briefly. Whoever stops waiting says so
 * with a compare-and-swap, so a request is never lost and an answer never
 * read twice: the job then takes the message path.
 *
 * ```
 *  words (Int32)     IN | OUT | TASK  MODE  COUNT  KIND0 … KIND4     (KIND4: the answer)
 *                    (IN, OUT and the rest 128 bytes apart: each spin reads a line of its own)
 *  numbers (Float64) MS  ID  V0 … V4     (a value: a number, or a string's length)
 *  chars (Uint16)    LANE_MAX_STRING units for each of V0 … V4
 *
 *  IN  (pool ─▶ worker)  OFF ─ worker spins ─▶ LISTENING ─ pool CAS ─▶ REQUEST ─ worker takes ─▶ OFF
 *                        LISTENING ─ worker CAS ─▶ OFF   (it stops spinning; fails if a request came)
 *                        OFF ─ worker answers on the lane ─▶ LISTENING   (it spins right after)
 *  OUT (worker ─▶ pool)  pool sets WAITING before its request
 *                        WAITING ─ worker CAS ─▶ ANSWERED     (the pool reads it, sets IDLE)
 *                        WAITING ─ pool CAS ──▶ BY_MESSAGE    (it stopped spinning; fails if answered)
 *                        WAITING ─ worker ────▶ BY_MESSAGE    (an answer that does not fit)
 *  BY_MESSAGE: the answer comes in a `results` message, in order with the worker's others.
 * ```
 *
 * A request is one entry of a job batch (`job_batch.ts`): the worker reads
 * it back as `[id, task, mode, count, values…]` and runs it like any batch.
 *
 * @module
 */

import { atomicCompareExchange, atomicLoad, atomicStore } from "./atomics.ts";
import { fromDouble, JOB_HEADER, type OutgoingJob, TIMED } from "./job_batch.ts";
import { Mode } from "./messages.ts";
import { now } from "../_now.ts";

/** The most arguments a job on the lane may have. */
export const LANE_MAX_ARGS = 4;
/** The longest string (UTF-16 units) an argument or answer on the lane may be. */
export const LANE_MAX_STRING = 256;

/** States of the `IN` word. */
const In = { OFF: 0, LISTENING: 1, REQUEST: 2 } as const;
/** States of the `OUT` word. */
const Out = { IDLE: 0, WAITING: 1, ANSWERED: 2, BY_MESSAGE: 3 } as const;
/** How a value is held: its kind word, then the number (or string length) beside it. */
const Kind = { UNDEFINED: 0, NULL: 1, FALSE: 2, TRUE: 3, NUMBER: 4, STRING: 5 } as const;

/**
 * Words between the two handshake words and the data: 128 bytes, two cache
 * lines (and the pair an adjacent-line prefetcher fetches together), so the
 * side that spins on one word never holds the line the other side writes.
 */
const APART = 32;
const IN = 0;
const OUT = APART;
const TASK = 2 * APART;
const MODE = TASK + 1;
const COUNT = TASK + 2;
const KIND = TASK + 3;
/** Value slots: the arguments, then the answer. */
const VALUES = LANE_MAX_ARGS + 1;
const ANSWER = LANE_MAX_ARGS;
/** Rounded up to an even count, so the numbers that follow are 8-byte aligned. */
const WORDS = ((KIND + VALUES + 1) >> 1) << 1;
const MS = 0;
/** The job's id: a double, since ids outgrow 32 bits over a pool's life. */
const ID = 1;
const VALUE = 2;
const NUMBERS = VALUE + VALUES;

/** The size in bytes of one lane's memory. */
export const LANE_BYTES = WORDS * 4 + NUMBERS * 8 + VALUES * LANE_MAX_STRING * 2;

/** Whether `value` can travel on the lane. */
export function fitsLane(value: unknown): boolean {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return true;
    case "string":
      return value.length <= LANE_MAX_STRING;
    default:
      return value === null;
  }
}

/** One lane, over memory shared by the pool and one worker. */
export class Lane {
  readonly #words: Int32Array;
  readonly #numbers: Float64Array;
  readonly #chars: Uint16Array;

  /** @param buffer {@linkcode LANE_BYTES} of shared memory, or a new one. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(LANE_BYTES)) {
    this.#words = new Int32Array(buffer, 0, WORDS);
    this.#numbers = new Float64Array(buffer, WORDS * 4, NUMBERS);
    this.#chars = new Uint16Array(buffer, WORDS * 4 + NUMBERS * 8, VALUES * LANE_MAX_STRING);
  }

  // ------------------------------------------------------------ the pool's side

  /** Whether the worker listens now (a hint: `offer` decides). */
  get listening(): boolean {
    return atomicLoad(this.#words, IN) === In.LISTENING;
  }

  /**
   * Offers `job` (a single job: a one-item `MAP` entry or a `CALL` of at
   * most {@linkcode LANE_MAX_ARGS} arguments) to the worker: true if it took
   * the request, false if the job does not fit or the worker is not
   * listening (send it as a message then).
   */
  offer(job: OutgoingJob): boolean {
    const words = this.#words;
    if (atomicLoad(words, IN) !== In.LISTENING || job.transfer !== null) return false;
    const args = job.args;
    let count: number;
    let from: number;
    if (job.mode === Mode.MAP) {
      if (job.count !== 1) return false;
      count = 1;
      from = job.offset;
    } else if (job.mode === Mode.CALL) {
      count = args.length;
      from = 0;
      if (count > LANE_MAX_ARGS) return false;
    } else return false;
    for (let i = 0; i < count; i++) if (!fitsLane(args[from + i])) return false;
    for (let i = 0; i < count; i++) this.#write(i, args[from + i]);
    this.#numbers[ID] = job.id;
    words[TASK] = job.task;
    words[MODE] = job.timeout > 0 ? job.mode + TIMED : job.mode; // as in a batch (job_batch.ts)
    words[COUNT] = count;
    atomicStore(words, OUT, Out.WAITING);
    return atomicCompareExchange(words, IN, In.LISTENING, In.REQUEST) === In.LISTENING;
  }

  /**
   * After an accepted offer: spins at most `ms` for the answer. True if it
   * is here ({@linkcode answer} reads it); false if it will come as a
   * `results` message instead.
   */
  awaitAnswer(ms: number): boolean {
    const words = this.#words;
    let out = atomicLoad(words, OUT);
    if (out === Out.WAITING) {
      const until = now() + ms;
      do out = atomicLoad(words, OUT); while (out === Out.WAITING && now() < until);
      if (out === Out.WAITING) {
        out = atomicCompareExchange(words, OUT, Out.WAITING, Out.BY_MESSAGE);
        if (out === Out.WAITING) return false;
      }
    }
    return out === Out.ANSWERED;
  }

  /** The answer {@linkcode awaitAnswer} found; the lane is free again. */
  answer(): unknown {
    const value = this.#read(ANSWER);
    atomicStore(this.#words, OUT, Out.IDLE);
    return value;
  }

  /** How long (ms) the answered job ran. */
  get answerMs(): number {
    return this.#numbers[MS]!;
  }

  // ---------------------------------------------------------- the worker's side

  /** The worker spins for work: the pool may offer a job now (a request already made stays). */
  listen(): void {
    atomicCompareExchange(this.#words, IN, In.OFF, In.LISTENING);
  }

  /** Whether a request waits (seen while listening). */
  get requested(): boolean {
    return atomicLoad(this.#words, IN) === In.REQUEST;
  }

  /** Stops listening; false if a request came first (take it, then). */
  stopListening(): boolean {
    return atomicCompareExchange(this.#words, IN, In.LISTENING, In.OFF) !== In.REQUEST;
  }

  /**
   * Reads the waiting request into `into` as one job-batch entry
   * (`[id, task, mode, count, values…]`) and returns it; the worker no
   * longer listens.
   */
  takeRequest(into: unknown[]): unknown[] {
    const words = this.#words;
    const count = words[COUNT]!;
    into.length = JOB_HEADER + count;
    into[0] = this.#numbers[ID];
    into[1] = words[TASK];
    into[2] = words[MODE];
    into[3] = count;
    for (let i = 0; i < count; i++) into[JOB_HEADER + i] = this.#read(i);
    atomicStore(words, IN, In.OFF);
    return into;
  }

  /**
   * Answers the request with `value`, which took `ms`: true if the pool
   * still waits and the value fits; otherwise false, and the pool knows to
   * read the answer from a `results` message.
   */
  answerWith(value: unknown, ms: number): boolean {
    if (fitsLane(value) && atomicLoad(this.#words, OUT) === Out.WAITING) {
      this.#write(ANSWER, value);
      this.#numbers[MS] = ms;
      // Listening again before the pool can read the answer: its next job,
      // offered within a µs, must not find the lane shut while the worker
      // walks back to its spin (which then takes the request).
      atomicStore(this.#words, IN, In.LISTENING);
      const was = atomicCompareExchange(this.#words, OUT, Out.WAITING, Out.ANSWERED);
      if (was === Out.WAITING) return true;
    }
    this.answerByMessage();
    return false;
  }

  /** The answer will come as a `results` message: the pool stops spinning for it. */
  answerByMessage(): void {
    atomicCompareExchange(this.#words, OUT, Out.WAITING, Out.BY_MESSAGE);
  }

  // ------------------------------------------------------------------ values

  #write(slot: number, value: unknown): void {
    const words = this.#words;
    switch (typeof value) {
      case "number":
        words[KIND + slot] = Kind.NUMBER;
        this.#numbers[VALUE + slot] = value;
        return;
      case "boolean":
        words[KIND + slot] = value ? Kind.TRUE : Kind.FALSE;
        return;
      case "string": {
        words[KIND + slot] = Kind.STRING;
        this.#numbers[VALUE + slot] = value.length;
        const chars = this.#chars;
        const at = slot * LANE_MAX_STRING;
        for (let i = 0; i < value.length; i++) chars[at + i] = value.charCodeAt(i);
        return;
      }
      default:
        words[KIND + slot] = value === null ? Kind.NULL : Kind.UNDEFINED;
    }
  }

  #read(slot: number): unknown {
    switch (this.#words[KIND + slot]) {
      case Kind.NUMBER:
        return fromDouble(this.#numbers[VALUE + slot]!);
      case Kind.TRUE:
        return true;
      case Kind.FALSE:
        return false;
      case Kind.NULL:
        return null;
      case Kind.STRING: {
        const at = slot * LANE_MAX_STRING;
        const units = this.#chars.subarray(at, at + this.#numbers[VALUE + slot]!);
        return String.fromCharCode.apply(null, units as unknown as number[]);
      }
      default:
        return undefined;
    }
  }
}
