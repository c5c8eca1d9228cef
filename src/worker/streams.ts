/**
 * Generator jobs: an async generator's values collected into its job's
 * answer, and a `stream()` job's values sent as they come, at most
 * `STREAM_WINDOW` ahead of what its consumer took (the pool's `credit`
 * messages), until it ends or its consumer stops it (`stop`).
 *
 * @module
 */

import { STREAM_WINDOW } from "../protocol/messages.ts";
import type { Compiled } from "./compile.ts";
import { flush, maybeFlush, out, pushThrow } from "./outbox.ts";

/** The stream job running now, paced by credits from the pool. */
let stream: { id: number; credit: number; stopped: boolean; wake: (() => void) | null } | null =
  null;

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
    }
    out.ended();
  } catch (error) {
    pushThrow(task, error);
  }
}

/** A generator job whose values are sent as they come, at most STREAM_WINDOW ahead. */
export async function runStream(
  task: Compiled,
  iterator: Iterator<unknown> | AsyncIterator<unknown>,
  id: number,
): Promise<void> {
  const state = { id, credit: STREAM_WINDOW, stopped: false, wake: null as (() => void) | null };
  stream = state;
  try {
    while (true) {
      while (state.credit <= 0 && !state.stopped) {
        await new Promise<void>((resolve) => state.wake = resolve);
        state.wake = null;
      }
      if (state.stopped) {
        await iterator.return?.();
        break;
      }
      const step = await iterator.next();
      if (step.done) break;
      state.credit--;
      out.yielded(step.value);
      flush();
    }
    out.ended();
  } catch (error) {
    pushThrow(task, error);
  } finally {
    stream = null;
  }
}
