/**
 * Uncontended Semaphore and Lock pairs on the main thread, 1000 pairs per
 * timed run (so µs/iter reads as ns per pair), against a bare `await` (the
 * floor) and async-mutex's Semaphore. Run: `deno bench -A bench/semaphore_bench.ts`.
 *
 * "unshared": a Semaphore whose `buffer` was never read, so no other thread
 * can reach it (plain memory operations). "shared": its `buffer` was read, so
 * every operation is atomic, as after passing it to a worker.
 */
import { Semaphore as AsyncMutexSemaphore } from "async-mutex";
import { Lock } from "../src/sync/lock.ts";
import { Semaphore } from "../src/sync/semaphore.ts";

const PAIRS = 1000;
const AWAIT = "await acquire() + release(), 1000 pairs";
const TRY = "tryAcquire() + release(), 1000 pairs";

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Benchmark went wrong: ${what}`);
}

function shared(value: number): Semaphore {
  const sem = new Semaphore(value);
  check(sem.buffer instanceof SharedArrayBuffer, "no buffer");
  return sem;
}

Deno.bench({
  name: "bare await",
  group: AWAIT,
  baseline: true,
  async fn(b) {
    let sum = 0;
    b.start();
    for (let i = 0; i < PAIRS; i++) sum += await i;
    b.end();
    check(sum === (PAIRS * (PAIRS - 1)) / 2, "bare await sum");
  },
});

for (
  const [name, make] of [["unshared", (n: number) => new Semaphore(n)], [
    "shared",
    shared,
  ]] as const
) {
  Deno.bench({
    name: `Semaphore (${name})`,
    group: AWAIT,
    async fn(b) {
      const sem = make(1);
      let taken = 0;
      b.start();
      for (let i = 0; i < PAIRS; i++) {
        if (await sem.acquire()) taken++;
        sem.release();
      }
      b.end();
      check(taken === PAIRS && sem.value === 1, "Semaphore count");
    },
  });

  Deno.bench({
    name: `Semaphore (${name})`,
    group: TRY,
    fn(b) {
      const sem = make(1);
      let taken = 0;
      b.start();
      for (let i = 0; i < PAIRS; i++) {
        if (sem.tryAcquire()) taken++;
        sem.release();
      }
      b.end();
      check(taken === PAIRS && sem.value === 1, "Semaphore count");
    },
  });
}

Deno.bench({
  name: "Lock (unshared)",
  group: AWAIT,
  async fn(b) {
    const lock = new Lock();
    b.start();
    for (let i = 0; i < PAIRS; i++) {
      await lock.acquire();
      lock.release();
    }
    b.end();
    check(!lock.locked, "Lock left locked");
  },
});

for (const group of [AWAIT, TRY]) {
  Deno.bench({
    name: "async-mutex Semaphore",
    group,
    baseline: group === TRY,
    async fn(b) {
      const sem = new AsyncMutexSemaphore(1);
      b.start();
      for (let i = 0; i < PAIRS; i++) {
        const [, release] = await sem.acquire();
        release();
      }
      b.end();
      check(sem.getValue() === 1, "async-mutex count");
    },
  });
}
