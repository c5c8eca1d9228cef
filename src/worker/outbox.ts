/**
 * The worker's answers on their way out: the result batch of the jobs run
 * since the last `results` message (`protocol/result_batch.ts`), when it
 * leaves (at the end of each batch, every `FLUSH_AFTER_MS`, or early for
 * slow jobs), and the status memory shared with the pool (how many jobs
 * have started, and the doorbells).
 *
 * @module
 */

import { atomicAdd, atomicStore } from "../protocol/atomics.ts";
import { Lane } from "../protocol/lane.ts";
import { Status } from "../protocol/messages.ts";
import { ResultWriter } from "../protocol/result_batch.ts";
import { toWire, toWireToUnshared } from "../sync/wire.ts";
import type { Compiled } from "./compile.ts";
import { checkMemorySince } from "./lifecycle.ts";
import { isCrashed, post } from "./scope.ts";
import { now } from "../_now.ts";
import { setTimeout } from "../_event_loop.ts";

/** Results are sent at the end of each batch, or sooner once this old (ms). */
const FLUSH_AFTER_MS = 2;
/** Jobs this slow (ms each, on average) answer before the last job of a message; see `answerEarly`. */
const EARLY_ANSWER_MS = 0.1;

/**
 * Whether the pool's thread has `SharedArrayBuffer`: without it (a page
 * without cross-origin isolation, whose status memory arrives as a copy), a
 * result holding a Semaphore or Lock fails its job with a `TypeError`, as it
 * could not work there.
 */
let poolShares = true;
/** The answers of the jobs run since the last `results` message. */
export const out: ResultWriter = new ResultWriter((value) =>
  poolShares ? toWire(value) : toWireToUnshared(value)
);
/** Shared with the pool: how many jobs this worker has started, and the doorbells. */
export let status: Int32Array<ArrayBufferLike> = new Int32Array(Status.WORDS);
let batchStart = 0;
/** A timer that sends waiting answers (see `flushSoon`), if set. */
let soon: ReturnType<typeof setTimeout> | undefined;

/** The shared lane (`protocol/lane.ts`), when the pool gave one. */
export let lane: Lane | null = null;

/** Tells the pool, in the status memory, that this worker is ready (see `Status.READY`). */
export function markReady(): void {
  atomicStore(status, Status.READY, 1);
}

/** Uses the pool's status memory and lane (from its `init`). */
export function attachStatus(
  buffer: SharedArrayBuffer,
  laneBuffer: SharedArrayBuffer | null,
): void {
  // A browser worker of a page without cross-origin isolation has no SharedArrayBuffer either.
  poolShares = typeof SharedArrayBuffer === "function" && buffer instanceof SharedArrayBuffer;
  status = new Int32Array(buffer);
  lane = laneBuffer === null ? null : new Lane(laneBuffer);
}

/**
 * Whether a job of this batch posted progress: a lane job's answer then goes
 * as a message, behind it. Read from the lane, it would end the job in the
 * pool before the progress message arrives, and the pool drops progress
 * that comes after its job ended.
 */
let progressPosted = false;

/**
 * A batch of jobs begins (at `at`, if the caller has just read the clock):
 * its answers' age counts from then.
 */
export function beginBatch(at: number = now()): void {
  batchStart = at;
  progressPosted = false;
}

/** A job posted progress (see `progressPosted`). */
export function progressSent(): void {
  progressPosted = true;
}

/** Whether the answers so far took long enough that they should not wait for the rest. */
export function slowSoFar(): boolean {
  return out.jobs !== 0 && now() - batchStart >= EARLY_ANSWER_MS * out.jobs;
}

/**
 * One job of the message is left and nothing else is `waiting`: if jobs
 * are slow, send the results so far now, so the pool can send more work
 * while that job runs and this worker never waits for it. (Tiny jobs do not
 * pay for the extra message.)
 */
export function answerEarly(waiting: boolean): void {
  if (!waiting && slowSoFar()) flush();
}

/** Sends the answers if they have waited `FLUSH_AFTER_MS` (by `at`, if the caller read the clock). */
export function maybeFlush(at: number = now()): void {
  if (at - batchStart >= FLUSH_AFTER_MS) flush();
}

/**
 * Sends the answers within `FLUSH_AFTER_MS` even if no more come: for values
 * a generator holds back while it awaits something. The timer is not cleared
 * by the flushes meanwhile: it sends what waits when it fires, if anything,
 * and the next call arms it again (at most one timer per `FLUSH_AFTER_MS`,
 * not one per message).
 */
export function flushSoon(): void {
  soon ??= setTimeout(flushLate, FLUSH_AFTER_MS);
}

function flushLate(): void {
  soon = undefined;
  flush();
}

/** Sends the answers so far as one `results` message, and rings the pool's doorbell. */
export function flush(): void {
  if (out.empty || isCrashed()) return;
  const at = now();
  // Before any answers leave, mid-batch too (a slow job's): once the pool
  // has them it may send this worker more, unless it knows it is over. (At a
  // batch's end `runJobs` has just checked.)
  checkMemorySince(FLUSH_AFTER_MS, at);
  out.flush(at - batchStart, post);
  atomicAdd(status, Status.TO_MAIN, 1);
  batchStart = at;
}

/**
 * How long a lane job ran (ms): what `answerOnLane` writes beside its
 * value. Measured on one lane job in `LANE_TIMED_EVERY` (see `answerLane`).
 */
let laneJobMs = 0;
/** Lane jobs answered so far. */
let laneJobs = 0;
/** One lane job in this many has its time measured. */
const LANE_TIMED_EVERY = 8;
/** Writes a lone answer on the lane; made once, not per job. */
const answerOnLane = (value: unknown): boolean => lane!.answerWith(value, laneJobMs);

/**
 * Answers the job that came on the lane: through the lane if the pool still
 * waits and the answer is a primitive that fits, else as a `results` message.
 *
 * The pool spins for this answer, and a clock reading costs a Deno worker
 * ~0.1 µs, as much as the rest of a tiny job's time here: so one lane job
 * in `LANE_TIMED_EVERY` is timed, and the others report that time (the pool
 * feeds it to the task's estimate, a moving average). An answer that goes
 * as a message is timed as every batch is, by `flush`.
 */
export function answerLane(): void {
  if (laneJobs++ % LANE_TIMED_EVERY === 0) laneJobMs = now() - batchStart;
  if (!progressPosted && out.takeLone(answerOnLane)) return;
  lane!.answerByMessage();
  lane!.listen(); // as for a lone job sent as a message (see runJobs)
  flush();
}

/** A job returned `value`. */
export function pushReturn(value: unknown): void {
  out.returned(value);
}

/** A job of `task` threw `error`. */
export function pushThrow(task: Compiled, error: unknown): void {
  out.threw(task.explain(error));
}
