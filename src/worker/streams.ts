/**
 * Generator jobs: an async generator's values collected into its job's
 * answer, and a `stream()` job's values sent as they come, at most the
 * pool's `streamWindow` ahead of what its consumer took (the pool's
 * `credit` messages), until it ends or its consumer stops it (`stop`).
 *
 * @module
 */

import { atomicCompareExchange, atomicLoad } from "../protocol/atomics.ts";
import { laneWord, Status, STREAM_WINDOW } from "../protocol/messages.ts";
import { type Compiled, TaskKind } from "./compile.ts";
import { flush, flushSoon, maybeFlush, out, pushThrow, status } from "./outbox.ts";
import { now } from "../_now.ts";

/**
 * A producer this slow (ms per value) has each value sent at once: a
 * message costs the main thread less than the wait for the next value.
 */
const SLOW_STEP_MS = 0.05;

/** How many values a stream may send ahead of its consumer: the pool's `streamWindow`. */
let windowSize = STREAM_WINDOW;

/** Takes the pool's `streamWindow` (from its `init`, checked by the pool). */
export function setStreamWindow(n: number): void {
  windowSize = n;
}

/** A stream job: its id, its credit from the pool, and whether it was stopped. */
interface StreamState {
  id: number;
  /** Its id as `Status.STOPPING` names it. */
  word: number;
  credit: number;
  stopped: boolean;
  wake: (() => void) | null;
}

/** The stream job running now, paced by credits from the pool. */
let stream: StreamState | null = null;

/**
 * Whether the stream's consumer left (or it was aborted or timed out): by
 * the `stop` message, or, read between values without a turn of the event
 * loop, by `Status.STOPPING`, which is then cleared.
 */
function stopAsked(state: StreamState): boolean {
  if (state.stopped) return true;
  if (atomicLoad(status, Status.STOPPING) !== state.word) return false;
  atomicCompareExchange(status, Status.STOPPING, state.word, 0);
  state.stopped = true;
  return true;
}

/** The consumer of stream `id` took `n` values. */
export function creditStream(id: number, n: number): void {
  if (stream?.id === id) {
    stream.credit += n;
    stream.wake?.();
  }
}

/** The consumer of stream `id` left. Returns false if it is not running (not started yet). */
export function stopStream(id: number): boolean {
  if (stream?.id !== id) return false;
  stream.stopped = true;
  stream.wake?.();
  return true;
}

/** An async generator job: its values, then its end, in its job's answers. */
export async function runAsyncGenerator(
  task: Compiled,
  values: AsyncIterable<unknown>,
): Promise<void> {
  try {
    for await (const value of values) {
      out.yielded(value);
      maybeFlush();
      // The generator may now await something: its values go meanwhile, and
      // stay its results if it then times out or its worker dies.
      flushSoon();
      if (out.generatorFailed) break; // a value could not be sent: the job fails as it stops
    }
    out.ended();
  } catch (error) {
    pushThrow(task, error);
  }
}

/**
 * A generator job whose values are sent as they come, at most a window
 * ahead. Values of a fast producer travel together: a value waits for the
 * next ones unless it is the first, the producer took `SLOW_STEP_MS` or
 * more to make it, the consumer's credit is used up, or the values waiting
 * are `FLUSH_AFTER_MS` old (`maybeFlush`, and a timer while the generator
 * awaits). So one message carries up to a window of values, and a slow
 * producer's values still go one by one, at once. A value made quickly
 * before a long synchronous step of its generator waits for that step.
 *
 * A synchronous generator is stepped without an `await` per value (it
 * cannot await anything, so nothing else runs between its values anyway):
 * the worker returns to its event loop only to wait for credit, and steps
 * it again through `asJob`, which makes it the running job (`jobContext()`).
 */
export async function runStream(
  task: Compiled,
  iterator: Iterator<unknown> | AsyncIterator<unknown>,
  id: number,
  asJob: (id: number, step: () => boolean) => boolean,
): Promise<void> {
  const state: StreamState = {
    id,
    word: laneWord(id),
    credit: windowSize,
    stopped: false,
    wake: null,
  };
  stream = state;
  const sync = task.kind === TaskKind.GENERATOR;
  let first = true;
  try {
    while (true) {
      // Values go out before the credit runs dry, so a value that could not be sent
      // (the job fails as it stops; no credit will come) is known before waiting.
      while (state.credit <= 0 && !state.stopped && !out.generatorFailed) {
        await new Promise<void>((resolve) => state.wake = resolve);
        state.wake = null;
      }
      if (stopAsked(state) || out.generatorFailed) {
        await iterator.return?.();
        break;
      }
      if (sync) {
        if (asJob(id, () => stepSync(iterator as Iterator<unknown>, state, first))) break;
        first = false;
        continue;
      }
      const began = now();
      const step = await iterator.next();
      if (step.done) break;
      state.credit--;
      out.yielded(step.value);
      if (first || state.credit === 0 || now() - began >= SLOW_STEP_MS) {
        first = false;
        flush();
      } else {
        maybeFlush();
        flushSoon(); // the generator may now await something: the values go meanwhile
      }
    }
    out.ended();
  } catch (error) {
    pushThrow(task, error);
  } finally {
    stream = null;
    atomicCompareExchange(status, Status.STOPPING, state.word, 0); // asked as it ended
  }
}

/**
 * Steps a synchronous generator until its credit is used up (its values
 * then go) or it is stopped (`stopAsked`, one read of shared memory per
 * value), with one clock reading per value; returns true once it is done.
 * The same rules as `runStream`'s: the first value and a slow step's go at
 * once, the rest when `FLUSH_AFTER_MS` old.
 */
function stepSync(
  iterator: Iterator<unknown>,
  state: StreamState,
  first: boolean,
): boolean {
  let last = now();
  // A value that could not be sent stops it, and so does its consumer's leaving
  // (`runStream` then ends the generator).
  while (state.credit > 0 && !out.generatorFailed && !stopAsked(state)) {
    const step = iterator.next();
    if (step.done) return true;
    state.credit--;
    out.yielded(step.value);
    const at = now();
    if (first || state.credit === 0 || at - last >= SLOW_STEP_MS) {
      first = false;
      flush();
    } else maybeFlush(at);
    last = at;
  }
  return false;
}
