/**
 * The shared-memory floor for tiny jobs: job indices go through a
 * `SharedArrayBuffer` ring, arguments and results sit in shared
 * `Float64Array`s, and no message is posted per job or per batch. Workers
 * spin briefly before sleeping; the main thread never blocks (it spins a
 * bounded time in `roundTrip`, otherwise awaits `Atomics.waitAsync`).
 * Tiny `add1` jobs only; written to measure the floor, not to be used.
 *
 * ```
 *   ring:  ... | claimed (free again) | published, unclaimed | free ...
 *                                     HEAD ≤                  TAIL ≤ HEAD + RING_SIZE
 * ```
 *
 * @module
 */

import { Ctl, RING_SIZE, type SabInit } from "./_sab_layout.ts";

/** A fixed pool of `size` workers fed through one shared ring. */
export class SabRing {
  readonly #ctl = new Int32Array(new SharedArrayBuffer(Ctl.WORDS * 4));
  readonly #ring = new Int32Array(new SharedArrayBuffer(RING_SIZE * 4));
  readonly #input: Float64Array;
  readonly #output: Float64Array;
  readonly #workers: Worker[] = [];
  /** Resolves once every worker has its memory. */
  readonly ready: Promise<void>;

  constructor(size: number, maxJobs: number) {
    this.#input = new Float64Array(new SharedArrayBuffer(maxJobs * 8));
    this.#output = new Float64Array(new SharedArrayBuffer(maxJobs * 8));
    const init: SabInit = {
      control: this.#ctl.buffer as SharedArrayBuffer,
      ring: this.#ring.buffer as SharedArrayBuffer,
      input: this.#input.buffer as SharedArrayBuffer,
      output: this.#output.buffer as SharedArrayBuffer,
    };
    const ready: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./_sab_worker.ts", import.meta.url), { type: "module" });
      ready.push(new Promise((resolve) => worker.onmessage = () => resolve()));
      worker.postMessage(init);
      this.#workers.push(worker);
    }
    this.ready = Promise.all(ready).then(() => {});
  }

  /** Runs `add1(i)` for `i` in `0 … n-1` and resolves with the sum of the results. */
  async sum(n: number): Promise<number> {
    const ctl = this.#ctl;
    const input = this.#input;
    for (let i = 0; i < n; i++) input[i] = i;
    const start = Atomics.load(ctl, Ctl.TAIL);
    let tail = start;
    let next = 0;
    while (next < n) {
      // An entry is free once claimed (HEAD passed it); see the worker.
      const free = RING_SIZE - (tail - Atomics.load(ctl, Ctl.HEAD));
      if (free === 0) {
        await this.#waitDone(tail - RING_SIZE / 2);
        continue;
      }
      const count = Math.min(free, n - next);
      tail = this.#publish(tail, next, count);
      next += count;
    }
    await this.#waitDone(start + n);
    let sum = 0;
    const output = this.#output;
    for (let i = 0; i < n; i++) sum += output[i]!;
    return sum;
  }

  /**
   * One job, then wait for it: spin up to `spinMs` on the main thread
   * (checking the DONE word), then sleep in `Atomics.waitAsync`.
   */
  async roundTrip(x: number, spinMs: number): Promise<number> {
    const ctl = this.#ctl;
    this.#input[0] = x;
    const tail = Atomics.load(ctl, Ctl.TAIL);
    this.#publish(tail, 0, 1);
    const target = tail + 1;
    const until = performance.now() + spinMs;
    let spins = 0;
    while (Atomics.load(ctl, Ctl.DONE) < target) {
      if ((++spins & 63) === 0 && performance.now() > until) {
        await this.#waitDone(target);
        break;
      }
    }
    return this.#output[0]!;
  }

  /** Stops the workers (wakes sleepers first, so `terminate` finds none blocked). */
  close(): void {
    Atomics.store(this.#ctl, Ctl.STOP, 1);
    Atomics.notify(this.#ctl, Ctl.TAIL);
    for (const worker of this.#workers) worker.terminate();
  }

  /** Writes indices `first … first+count-1` at `tail` and publishes them. */
  #publish(tail: number, first: number, count: number): number {
    const ring = this.#ring;
    const mask = RING_SIZE - 1;
    for (let k = 0; k < count; k++) ring[(tail + k) & mask] = first + k;
    const ctl = this.#ctl;
    Atomics.store(ctl, Ctl.TAIL, tail + count);
    if (Atomics.load(ctl, Ctl.SLEEPERS) !== 0) Atomics.notify(ctl, Ctl.TAIL);
    return tail + count;
  }

  /** Resolves once DONE reaches `target`; a worker wakes us through WAKE_AT/SIGNAL. */
  async #waitDone(target: number): Promise<void> {
    const ctl = this.#ctl;
    while (Atomics.load(ctl, Ctl.DONE) < target) {
      const signal = Atomics.load(ctl, Ctl.SIGNAL);
      Atomics.store(ctl, Ctl.WAKE_AT, target);
      if (Atomics.load(ctl, Ctl.DONE) >= target) break;
      const result = Atomics.waitAsync(ctl, Ctl.SIGNAL, signal);
      if (result.async) await result.value;
    }
  }
}
