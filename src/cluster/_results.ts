/**
 * Where the producer's results go: `done`, `failed` and their counting
 * semaphores, callbacks and promises, with `Pool`'s meanings.
 *
 * @module
 */

import { Deque } from "../deque.ts";
import { Semaphore } from "../sync/semaphore.ts";
import { type Batch, report, Sink } from "./_batch.ts";
import type { ResolvedClusterOptions } from "./options.ts";

/** The results side of a `ClusterPool`. */
export class Results {
  /** Results (or `[jobId, result]` with `resultId`). */
  readonly done: Deque<unknown> = new Deque();
  /** Errors of failed items (or `[jobId, error]` with `resultId`). */
  readonly failed: Deque<unknown> = new Deque();
  /** Released once per entry added to `done`. */
  readonly doneCount: Semaphore = new Semaphore(0);
  /** Released once per entry added to `failed`. */
  readonly failedCount: Semaphore = new Semaphore(0);
  readonly #options: ResolvedClusterOptions;
  readonly #listeners = new Set<() => void>();

  constructor(options: ResolvedClusterOptions) {
    this.#options = options;
  }

  /** The common case: `count` plain values straight into `done`. */
  all(values: ArrayLike<unknown>, count: number): void {
    this.done.pushAll(values, 0, count);
    this.doneCount.release(count);
  }

  /** Item `index` of `batch` returned (or yielded) `value`. */
  value(batch: Batch, index: number, value: unknown): void {
    const id = batch.firstId + index;
    switch (batch.sink) {
      case Sink.DONE:
        this.done.push(this.#options.resultId ? [id, value] : value);
        this.doneCount.release();
        break;
      case Sink.CALLBACK:
        report(batch.callback!, value, id);
        break;
      case Sink.PROMISES:
        batch.deferreds![index]!.resolve(value);
        break;
    }
  }

  /** Item `index` of `batch` failed with `error`. */
  failure(batch: Batch, index: number, error: unknown): void {
    const id = batch.firstId + index;
    if (batch.sink === Sink.PROMISES) {
      batch.deferreds![index]!.reject(error);
      return;
    }
    const { logLevel, failedCallback, resultId } = this.#options;
    if (logLevel !== undefined) {
      // deno-lint-ignore no-console
      console[logLevel](`fastpool: job ${id} failed:`, error);
    }
    if (failedCallback) {
      report(failedCallback, error, id);
    } else {
      this.failed.push(resultId ? [id, error] : error);
      this.failedCount.release();
    }
  }

  /** How many {@linkcode changed} calls wait now. */
  get waiting(): number {
    return this.#listeners.size;
  }

  /** Wakes everything waiting in {@linkcode changed}. */
  commit(): void {
    if (this.#listeners.size === 0) return;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }

  /**
   * Resolves at the next {@linkcode commit}, or once `until` resolves: a
   * wait that gives up leaves nothing behind (a producer polling `wait(ms)`
   * while no result comes would otherwise keep every one).
   */
  changed(until?: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      this.#listeners.add(resolve);
      until?.then(() => {
        this.#listeners.delete(resolve);
        resolve();
      });
    });
  }
}
