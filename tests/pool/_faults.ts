/**
 * Helpers of the fault tests (`faults_*_test.ts`, `concurrent_faults_test.ts`):
 * jobs that crash, spin or exit, a clock that records its timers, and a
 * tally of how each job ended.
 *
 * Jobs that block a worker (at a gate, or in a loop on shared memory) are
 * always released at the end of their test: on Deno 2.9.6 `Worker.terminate()`
 * does not stop a thread stuck in synchronous code (denoland/deno#14003), and
 * a thread left spinning would eat a core for the rest of the run.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SetTimerOptions, TimerId } from "../../src/timers/clock.ts";
import { FakeClock } from "../_fake_clock.ts";

export const identity = (n: number) => n;
export const workerName = () => (globalThis as { name?: string }).name;

/** A job that marks itself started, waits at the gate, then ends its worker. */
export const exitAfterGate = (memory: Int32Array) => {
  Atomics.add(memory, 0, 1);
  Atomics.notify(memory, 0);
  Atomics.wait(memory, 1, 0);
  (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(1);
};

/** A synchronous loop that ends only when the test stores 1 in `memory[0]`. */
export const spinUntilReleased = (memory: Int32Array) => {
  while (Atomics.load(memory, 0) === 0) {
    // spin
  }
  return "released";
};

/** A {@linkcode FakeClock} that records every delay and lets a test await the next `setTimer`. */
export class WatchedClock extends FakeClock {
  readonly delays: number[] = [];
  #waiters: (() => void)[] = [];

  override setTimer(callback: () => void, ms: number, options?: SetTimerOptions): TimerId {
    this.delays.push(ms);
    const id = super.setTimer(callback, ms, options);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
    return id;
  }

  /** Resolves at the next `setTimer`. */
  timerSet(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves once more than `count` timers have been set (at once if they have). */
  async timersPast(count: number): Promise<void> {
    while (this.delays.length <= count) await this.timerSet();
  }
}

/**
 * Counts the ids each job ended with, through the pool's callbacks (`done`,
 * or `done:<result>` with `results`, `failed:<error name>`, `cancelled`).
 */
export function tally(options: { results?: boolean } = {}) {
  const ends = new Map<number, string[]>();
  const note = (id: number, how: string) => {
    const seen = ends.get(id);
    if (seen) seen.push(how);
    else ends.set(id, [how]);
  };
  return {
    ends,
    options: {
      doneCallback: (result: unknown, id: number) =>
        note(id, options.results ? `done:${result}` : "done"),
      failedCallback: (error: unknown, id: number) => note(id, `failed:${(error as Error).name}`),
      cancelledCallback: (id: number) => note(id, "cancelled"),
    },
    /** Asserts every id in `ids` ended exactly once, and nothing else ended. */
    exactlyOnce(ids: number[]) {
      for (const id of ids) {
        assert.equal(
          ends.get(id)?.length,
          1,
          `job ${id} ended ${JSON.stringify(ends.get(id) ?? [])}`,
        );
      }
      assert.equal(ends.size, ids.length, "only submitted jobs ended");
    },
    how(id: number): string | undefined {
      return ends.get(id)?.[0];
    },
  };
}

export interface Crash {
  what: string;
  task: () => unknown;
  cause: RegExp;
  deno?: boolean;
}

export const crashes: Crash[] = [
  {
    what: "an uncaught error in a timer",
    task: () =>
      new Promise(() => {
        setTimeout(() => {
          throw new Error("boom in a timer");
        }, 0);
      }),
    cause: /boom in a timer/,
  },
  {
    what: "an unhandled rejection",
    task: () => {
      void Promise.reject(new Error("nobody caught me"));
      return new Promise(() => {});
    },
    cause: /nobody caught me/,
  },
  {
    what: "process.exit()",
    task: () =>
      (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(3),
    cause: /exit\(3\)|code 3/,
  },
  {
    what: "Deno.exit()",
    task: () => (globalThis as unknown as { Deno: { exit(code: number): never } }).Deno.exit(4),
    cause: /Deno\.exit\(4\)/,
    deno: true,
  },
  {
    what: "self.close()",
    task: () => new Promise(() => (globalThis as unknown as { close(): void }).close()),
    cause: /self\.close\(\)/,
    deno: true,
  },
];
