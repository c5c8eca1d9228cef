/**
 * Semaphore and Lock on Deno and Bun:
 * `deno run -A bench/sync_mitata.ts` and `bun bench/sync_mitata.ts`.
 *
 * Uncontended pairs on the main thread (1000 per call; the summary divides)
 * against a bare `await` and async-mutex's Semaphore, on unshared memory (a
 * Semaphore whose `buffer` was never read: plain memory operations) and
 * shared memory (atomic operations, as once passed to a worker). Then the
 * main thread and two workers contend for one Lock, bumping a counter
 * non-atomically under it; the counter must come out exact.
 */
import { bench, do_not_optimize, group, run } from "mitata";
import { cpus } from "node:os";
import { Semaphore as AsyncMutexSemaphore } from "async-mutex";
import { Lock } from "../src/sync/lock.ts";
import { Semaphore } from "../src/sync/semaphore.ts";
import type { ContentionMessage } from "../tests/fixtures/sync_contention_worker.ts";

const PAIRS = 1000;
const bun = (globalThis as { Bun?: { version: string } }).Bun;
const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
const runtime = bun ? `bun ${bun.version}` : `deno ${deno?.version.deno}`;
const cpu = cpus();
const print = (line: string) =>
  (globalThis as { console: { log(s: string): void } }).console.log(line);

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Benchmark went wrong: ${what}`);
}

const unshared = new Semaphore(1);
const shared = new Semaphore(1);
check(shared.buffer instanceof SharedArrayBuffer, "no buffer");
const lock = new Lock();
const asyncMutex = new AsyncMutexSemaphore(1);

group("await acquire() + release(), 1000 pairs", () => {
  bench("bare await", async () => {
    for (let i = 0; i < PAIRS; i++) do_not_optimize(await i);
  });
  for (
    const [name, sem] of [["unshared", unshared], ["shared", shared]] as const
  ) {
    bench(`Semaphore (${name})`, async () => {
      for (let i = 0; i < PAIRS; i++) {
        do_not_optimize(await sem.acquire());
        sem.release();
      }
    });
  }
  bench("Lock (unshared)", async () => {
    for (let i = 0; i < PAIRS; i++) {
      do_not_optimize(await lock.acquire());
      lock.release();
    }
  });
  bench("async-mutex Semaphore", async () => {
    for (let i = 0; i < PAIRS; i++) {
      const [, release] = await asyncMutex.acquire();
      release();
    }
  });
});

group("tryAcquire() + release(), 1000 pairs", () => {
  for (
    const [name, sem] of [["unshared", unshared], ["shared", shared]] as const
  ) {
    bench(`Semaphore (${name}) tryAcquire`, () => {
      for (let i = 0; i < PAIRS; i++) {
        do_not_optimize(sem.tryAcquire());
        sem.release();
      }
    });
  }
});

/** Main thread and two workers, `iterations` pairs each; ns per pair. */
async function contended(iterations: number): Promise<number> {
  const target = new Lock();
  const cells = new Int32Array(new SharedArrayBuffer(12));
  const ctl = new Int32Array(new SharedArrayBuffer(12));
  const url = new URL(
    "../tests/fixtures/sync_contention_worker.ts",
    import.meta.url,
  );
  const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
  try {
    const done = workers.map((worker) =>
      new Promise<number>((resolve, reject) => {
        worker.onmessage = (event) => resolve(event.data.taken);
        worker.onerror = (event) => reject(event);
        const message: ContentionMessage = {
          kind: "Lock",
          buffer: target.buffer,
          cells: cells.buffer as SharedArrayBuffer,
          ctl: ctl.buffer as SharedArrayBuffer,
          iterations,
          mode: "sync",
          hold: 0,
        };
        worker.postMessage(message);
      })
    );
    while (Atomics.load(ctl, 0) < workers.length) {
      const result = Atomics.waitAsync(ctl, 0, Atomics.load(ctl, 0));
      if (result.async) await result.value;
    }
    const start = performance.now();
    Atomics.store(ctl, 1, 1);
    Atomics.notify(ctl, 1);
    for (let i = 0; i < iterations; i++) {
      await target.acquire();
      const count = cells[0]!;
      cells[0] = count + 1;
      target.release();
    }
    const taken = await Promise.all(done);
    const elapsed = performance.now() - start;
    check(taken.every((n) => n === iterations), "a worker missed a turn");
    check(
      cells[0] === 3 * iterations,
      `counter ${cells[0]} of ${3 * iterations}`,
    );
    check(!target.locked, "lock left locked");
    return (elapsed * 1e6) / (3 * iterations);
  } finally {
    for (const worker of workers) worker.terminate();
  }
}

print(
  `runtime: ${runtime}, cpu: ${cpu[0]?.model ?? "unknown"} x ${cpu.length}`,
);
const { benchmarks } = await run({ throw: true });

const ns = new Map<string, number>();
for (const trial of benchmarks) {
  const stats = trial.runs[0]?.stats;
  check(stats !== undefined, `${trial.alias} failed`);
  ns.set(trial.alias, stats!.avg / PAIRS);
}
const pair = (name: string) => ns.get(name)!;
const f = (x: number) => x.toFixed(1);

print("");
print(`ns per pair (${runtime}):`);
for (const [name, value] of ns) print(`  ${name.padEnd(34)} ${f(value)} ns`);
const floor = pair("bare await");
for (const name of ["Semaphore (unshared)", "Semaphore (shared)"]) {
  const ratio = pair(name) / floor;
  print(
    `target await acquire()+release() <= 1.5x bare await: ${name} ${f(pair(name))} ns / ${
      f(floor)
    } ns = ${ratio.toFixed(2)}x -> ${ratio <= 1.5 ? "met" : "missed"}`,
  );
}
const peer = pair("async-mutex Semaphore");
for (
  const name of [
    "Semaphore (unshared) tryAcquire",
    "Semaphore (shared) tryAcquire",
  ]
) {
  const speedup = peer / pair(name);
  print(
    `target tryAcquire()+release() >= 4x faster than async-mutex: ${name} ${f(pair(name))} ns vs ${
      f(peer)
    } ns = ${speedup.toFixed(2)}x faster -> ${speedup >= 4 ? "met" : "missed"}`,
  );
}

const ITERATIONS = 20_000;
const runs: number[] = [];
for (let i = 0; i < 5; i++) runs.push(await contended(ITERATIONS));
runs.sort((a, b) => a - b);
print(
  `contended Lock, main thread + 2 workers, ${ITERATIONS} pairs each, counter exact in every run: median ${
    f(runs[2]!)
  } ns per pair (runs: ${runs.map(f).join(", ")})`,
);
