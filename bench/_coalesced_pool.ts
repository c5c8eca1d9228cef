/**
 * A minimal coalesced-message baseline: `submit()` only appends to a buffer;
 * at the end of the tick the buffer is split evenly over the workers, one
 * message per worker, and each worker answers with one message. Results
 * land in `done` in the order each batch returns. The message is a plain
 * `Array` of arguments (structured clone, like any job arguments), or with
 * `typed` a moved `Float64Array` (numbers only: a lower bound for messages).
 * Tiny `add1` jobs only; written to measure the design, not to be used.
 *
 * @module
 */

/** A fixed pool that sends each tick's jobs as one message per worker. */
export class CoalescedPool {
  /** Results, as batches come back. */
  done: number[] = [];
  readonly #workers: Worker[] = [];
  #buffer: number[] = [];
  #scheduled = false;
  #submitted = 0;
  #completed = 0;
  #waiters: (() => void)[] = [];
  readonly #flush = () => this.#send();

  readonly #typed: boolean;

  constructor(size: number, typed = false) {
    this.#typed = typed;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./_coalesced_worker.ts", import.meta.url), {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<number[] | Float64Array>) =>
        this.#receive(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        throw new Error(`Coalesced worker failed: ${event.message}`);
      };
      this.#workers.push(worker);
    }
  }

  /** Queues one `add1(x)` job for the end of this tick. */
  submit(x: number): void {
    this.#buffer.push(x);
    this.#submitted++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Resolves once every submitted job has a result in `done`. */
  wait(): Promise<void> {
    if (this.#completed === this.#submitted) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops the workers. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }

  #send(): void {
    this.#scheduled = false;
    const buffer = this.#buffer;
    this.#buffer = [];
    const n = buffer.length;
    const workers = this.#workers.length;
    let start = 0;
    for (let w = 0; w < workers && start < n; w++) {
      const end = start + Math.ceil((n - start) / (workers - w));
      if (this.#typed) {
        const values = new Float64Array(end - start);
        for (let i = start; i < end; i++) values[i - start] = buffer[i]!;
        this.#workers[w]!.postMessage(values, [values.buffer]);
      } else {
        this.#workers[w]!.postMessage(start === 0 && end === n ? buffer : buffer.slice(start, end));
      }
      start = end;
    }
  }

  #receive(values: number[] | Float64Array): void {
    const done = this.done;
    for (let i = 0; i < values.length; i++) done.push(values[i]!);
    this.#completed += values.length;
    if (this.#completed === this.#submitted && this.#waiters.length !== 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter();
    }
  }
}
