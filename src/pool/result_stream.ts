/**
 * `pool.stream()`: a generator task's values as an async iterator, paced by
 * credits so the worker runs at most a window (`streamWindow`) of values ahead.
 *
 * @module
 */

import { Deque } from "../deque.ts";

/** How the stream talks back to the pool. */
export interface StreamControl {
  /** The consumer took `n` values: the worker may produce `n` more. */
  credit(n: number): void;
  /** The consumer stopped early: stop the task. */
  stop(): void;
}

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

/**
 * An async iterator over one job's yielded values. `next()` calls made
 * before earlier ones settle wait in order, as an async generator's do.
 */
export class ResultStream<T> implements AsyncIterableIterator<T>, AsyncDisposable {
  #buffer = new Deque<T>();
  /** `next()` calls waiting for a value, oldest first (only while the buffer is empty). */
  #waiters: Waiter<T>[] = [];
  #closed = false;
  #left = false;
  #failed = false;
  #error: unknown;
  #consumed = 0;
  #control: StreamControl;
  /** Credit is granted once this many values were taken: half the window. */
  #grantEvery: number;

  /** `window`: how many values the worker may send ahead (`streamWindow`). */
  constructor(control: StreamControl, window: number) {
    this.#control = control;
    this.#grantEvery = Math.max(1, window >> 1);
  }

  /** Whether the consumer left (`return()`, `break`) before the job ended: it then counts as cancelled. */
  get left(): boolean {
    return this.#left;
  }

  /** A value arrived from the worker. */
  push(value: T): void {
    if (this.#closed) return;
    if (this.#waiters.length === 0) {
      this.#buffer.push(value);
    } else {
      this.#taken();
      this.#waiters.shift()!.resolve({ value, done: false });
    }
  }

  /** The job ended: the iterator finishes once the buffer is drained. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endWaiters();
  }

  /** The job failed: the error is thrown once the buffer is drained. */
  fail(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failed = true;
    this.#error = error;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#failed = false; // thrown once, to the oldest; the others end
      waiter.reject(error);
      this.#endWaiters();
    }
  }

  /** The next value. */
  next(): Promise<IteratorResult<T>> {
    if (this.#buffer.length !== 0) {
      const value = this.#buffer.shift() as T;
      this.#taken();
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) {
      if (this.#failed) {
        this.#failed = false;
        return Promise.reject(this.#error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Stops the task (if still running) and ends the iteration; a `next()`
   * still waiting settles as done. Resolves to `{ value, done: true }`
   * once `value` settles, as an async generator's `return(value)` does.
   */
  return(value?: unknown): Promise<IteratorResult<T>> {
    this.#leave();
    return Promise.resolve(value).then((settled) => ({ value: settled, done: true }));
  }

  /**
   * Stops the task as `return()` does (an error cannot be thrown into a
   * task on another thread) and rejects with `error`, as a finished async
   * generator's `throw(error)` does.
   */
  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.#leave();
    return Promise.reject(error);
  }

  /** Returns itself. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** For `await using`: at the scope's end, `return()` (the task stops if it still runs). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** The consumer leaves: the task is stopped if it still runs, and nothing more is yielded. */
  #leave(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#left = true;
      this.#control.stop();
    }
    this.#failed = false;
    this.#buffer.clear();
    this.#endWaiters();
  }

  /** Settles every waiting `next()` as done. */
  #endWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve({ value: undefined, done: true });
  }

  #taken(): void {
    if (++this.#consumed >= this.#grantEvery && !this.#closed) {
      this.#control.credit(this.#consumed);
      this.#consumed = 0;
    }
  }
}
