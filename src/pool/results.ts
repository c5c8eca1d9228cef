/**
 * Where results and failures go: `done`, `failed`, their counting semaphores,
 * callbacks, promises and streams. The pool calls it once per job outcome and
 * `commit()` once per message, so semaphores are released in bulk.
 *
 * User callbacks (`doneCallback`, `failedCallback`, `cancelledCallback`, a
 * `submitDone` callback) never run in the middle of the pool's bookkeeping:
 * an outcome only queues its call, and `commit()`, which the pool calls once
 * its state is whole again, makes the calls. A callback may then re-enter the
 * pool (`terminate()`, `clear()`, `submit()`) without the pool going on with
 * state that the callback just changed; see `tests/pool/exactly_once_test.ts`.
 *
 * @module
 */

import { Deque } from "../deque.ts";
import { MAX_COUNT } from "../sync/_layout.ts";
import { Semaphore, takeAll } from "../sync/semaphore.ts";
import { reportGlobally } from "../_checks.ts";
import type { Clock } from "../timers/clock.ts";
import { completedEntries, CompletedTaker } from "./completed.ts";
import { type Addressed, deferredOf, type Job, Sink } from "./job.ts";
import type { ResolvedOptions } from "./options.ts";
import type { StatsRecorder } from "./stats.ts";

/** The second argument of a queued call that takes one argument (`cancelledCallback(id)`). */
const NO_ARGUMENT = Symbol("no argument");

/** The pool's results side. */
export class Results {
  /** Results of jobs (or `[jobId, result]` with `resultId`). */
  readonly done: Deque<unknown> = new Deque();
  /** Errors of failed jobs (or `[jobId, error]` with `resultId`). */
  readonly failed: Deque<unknown> = new Deque();
  /** Released once per entry added to `done`. */
  readonly doneCount: Semaphore = new Semaphore(0);
  /** Released once per entry added to `failed`. */
  readonly failedCount: Semaphore = new Semaphore(0);
  #addedDone = 0;
  #addedFailed = 0;
  /** Calls not made yet, three entries each: callback, first argument, second argument. */
  #calls: unknown[] = [];
  #calling = false;
  #listeners: (() => void)[] = [];
  readonly #options: ResolvedOptions;
  readonly #stats: StatsRecorder;

  constructor(options: ResolvedOptions, stats: StatsRecorder) {
    this.#options = options;
    this.#stats = stats;
  }

  /**
   * Queues `callback(a, b)` (or `callback(a)` when `b` is omitted) to run at
   * the next `commit()`, with the user callbacks: for the pool's events.
   */
  later(callback: (a: unknown, b?: unknown) => void, a: unknown, b: unknown = NO_ARGUMENT): void {
    this.#calls.push(callback, a, b);
  }

  /** Whether `commit()` is making the queued calls now (a callback re-entered the pool). */
  get calling(): boolean {
    return this.#calling;
  }

  /** Whether callbacks or events wait for the next `commit()`. */
  get callsWaiting(): boolean {
    return this.#calls.length !== 0;
  }

  /** A job returned or yielded `value`. */
  value(job: Job, id: number, value: unknown, yielded: boolean): void {
    if (!yielded) this.#stats.done++;
    this.#value(job, id, value, yielded);
  }

  #value(job: Job, id: number, value: unknown, yielded: boolean): void {
    const dest = job.dest;
    switch (dest.kind) {
      case Sink.DONE:
        this.done.push(this.#options.resultId ? [id, value] : value);
        this.#addedDone++;
        break;
      case Sink.CALLBACK:
        this.#calls.push(dest.callback, value, id);
        break;
      case Sink.PROMISE:
      case Sink.PROMISES: {
        const deferred = deferredOf(job, id)!;
        if (yielded) (deferred.values ??= []).push(value);
        else deferred.resolve(value);
        break;
      }
      case Sink.STREAM:
        dest.stream.push(value);
        if (!yielded) dest.stream.close();
        break;
      case Sink.COLLECT: {
        const { collector, firstId, firstIndex } = dest.collect;
        collector.value(id - firstId + firstIndex, value, yielded);
        break;
      }
    }
  }

  /** Jobs `id` … `id + n - 1` of `job` returned `data[at]` … `data[at + n - 1]`. */
  values(job: Job, id: number, data: ArrayLike<unknown>, at: number, n: number): void {
    this.#stats.done += n;
    const dest = job.dest;
    if (dest.kind === Sink.DONE) {
      const done = this.done;
      if (this.#options.resultId) {
        for (let k = 0; k < n; k++) done.push([id + k, data[at + k]]);
      } else {
        done.pushAll(data, at, n);
      }
      this.#addedDone += n;
    } else if (dest.kind === Sink.COLLECT) {
      const { collector, firstId, firstIndex } = dest.collect;
      collector.valueRun(id - firstId + firstIndex, data, at, n);
    } else if (dest.kind === Sink.PROMISES) {
      const deferreds = dest.deferreds;
      const base = job.offset + id - job.id;
      for (let k = 0; k < n; k++) deferreds[base + k]!.resolve(data[at + k]);
    } else if (dest.kind !== Sink.DISCARD) {
      for (let k = 0; k < n; k++) this.#value(job, id + k, data[at + k], false);
    }
  }

  /** Generator job `id` finished. */
  end(job: Job, id: number): void {
    const dest = job.dest;
    if (dest.kind === Sink.STREAM && dest.stream.left) {
      this.#stats.cancelled++; // its consumer left: the task stopped when asked
      return;
    }
    this.#stats.done++;
    if (dest.kind === Sink.PROMISE || dest.kind === Sink.PROMISES) {
      const deferred = deferredOf(job, id)!;
      deferred.resolve(deferred.values ?? []);
    } else if (dest.kind === Sink.STREAM) {
      dest.stream.close();
    } else if (dest.kind === Sink.COLLECT) {
      const { collector, firstId, firstIndex } = dest.collect;
      collector.end(id - firstId + firstIndex);
    }
  }

  /** A job failed with `error`. */
  failure(job: Addressed, id: number, error: unknown): void {
    const dest = job.dest;
    if (dest.kind === Sink.STREAM && dest.stream.left) {
      this.#stats.cancelled++; // its consumer left: nobody is told of the failure
      return;
    }
    this.#stats.failed++;
    if (dest.kind === Sink.PROMISE || dest.kind === Sink.PROMISES) {
      deferredOf(job, id)!.reject(error);
      return;
    }
    if (dest.kind === Sink.STREAM) {
      dest.stream.fail(error);
      return;
    }
    if (dest.kind === Sink.COLLECT) {
      const { collector, firstId, firstIndex } = dest.collect;
      collector.failure(id - firstId + firstIndex, error);
      return;
    }
    const { logLevel, failedCallback, resultId } = this.#options;
    if (logLevel !== undefined) {
      // deno-lint-ignore no-console
      console[logLevel](`fastpool: job ${id} failed:`, error);
    }
    if (failedCallback) {
      this.#calls.push(failedCallback, error, id);
    } else {
      this.failed.push(resultId ? [id, error] : error);
      this.#addedFailed++;
    }
  }

  /** A job was cancelled before it ran; promises and streams reject with `reason`. */
  cancelled(job: Job, id: number, reason: unknown): void {
    this.#stats.cancelled++;
    const dest = job.dest;
    if (dest.kind === Sink.PROMISE || dest.kind === Sink.PROMISES) {
      deferredOf(job, id)!.reject(reason);
    } else if (dest.kind === Sink.STREAM) dest.stream.fail(reason);
    else if (dest.kind === Sink.COLLECT) {
      const { collector, firstId, firstIndex } = dest.collect;
      collector.failure(id - firstId + firstIndex, reason);
    }
    const callback = this.#options.cancelledCallback;
    if (callback) this.#calls.push(callback, id, NO_ARGUMENT);
  }

  /**
   * Stream `id` ended unreported, its consumer gone (see `JobEnds.dropped`):
   * a cancel, told to `cancelledCallback` if it had not started.
   */
  left(id: number, started: boolean): void {
    this.#stats.cancelled++;
    const callback = this.#options.cancelledCallback;
    if (callback && !started) this.#calls.push(callback, id, NO_ARGUMENT);
  }

  /** `pool.asCompleted(wait)` (see `completedEntries`). */
  completed(
    wait: number | false | undefined,
    clock: Clock,
    pending: () => number,
  ): AsyncIterableIterator<unknown> {
    return completedEntries(new CompletedTaker(this, wait === false), wait, clock, {
      pending,
      changed: () => this.changed(),
      wake: () => this.notify(),
    });
  }

  /**
   * Releases the counters for what was added, wakes listeners and makes the
   * queued callback calls. The pool calls it when its bookkeeping is done; a
   * call made by a callback (which re-entered the pool) only adds to the
   * calls that the outer one is making, in order.
   */
  commit(): void {
    if (this.#addedDone !== 0) {
      releaseSaturating(this.doneCount, this.#addedDone);
      this.#addedDone = 0;
    }
    if (this.#addedFailed !== 0) {
      releaseSaturating(this.failedCount, this.#addedFailed);
      this.#addedFailed = 0;
    }
    this.notify();
    if (this.#calls.length !== 0 && !this.#calling) this.#makeCalls();
  }

  #makeCalls(): void {
    this.#calling = true;
    const calls = this.#calls;
    try {
      // `calls` may grow while this runs: a callback's own outcomes join the end.
      for (let i = 0; i < calls.length; i += 3) {
        const callback = calls[i] as (a: unknown, b?: unknown) => void;
        const a = calls[i + 1];
        const b = calls[i + 2];
        calls[i + 1] = calls[i + 2] = undefined; // let results go as soon as they are handed over
        try {
          if (b === NO_ARGUMENT) callback(a);
          else callback(a, b);
        } catch (error) {
          reportGlobally(error);
        }
      }
    } finally {
      calls.length = 0;
      this.#calling = false;
    }
  }

  /** Wakes everything waiting in {@linkcode changed}. */
  notify(): void {
    if (this.#listeners.length === 0) return;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }

  /** Resolves at the next `commit()` or `notify()`. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#listeners.push(resolve));
  }

  /** Empties `done` and `failed` and zeroes their counters. */
  clear(): void {
    this.done.clear();
    this.failed.clear();
    // Results added since the last commit are gone too: their permits must not come later.
    this.#addedDone = this.#addedFailed = 0;
    takeAll(this.doneCount); // at once: saturated, a counter holds 2^30 - 1
    takeAll(this.failedCount);
  }
}

/**
 * Releases `n` permits of a result counter, stopping at its maximum. The
 * counters are released once per result and taken only by users who wait
 * on them, so a service that reads `done` with `shift()`, or uses callbacks,
 * would otherwise reach the maximum (2³⁰ − 1) after about a billion results
 * and then throw from every release. A saturated counter stays at its
 * maximum: it still says "at least this many results wait".
 */
function releaseSaturating(counter: Semaphore, n: number): void {
  const room = MAX_COUNT - counter.value;
  if (room > 0) counter.release(n < room ? n : room);
}
