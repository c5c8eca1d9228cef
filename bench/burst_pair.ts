/**
 * Scheduling when job cost changes: on 2 workers, 500 quick jobs (so the
 * pool has measured quick jobs), then a burst of slow jobs, timed; against
 * the same burst on a fresh pool whose workers are started but have run
 * nothing. Three bursts: 6 synchronous jobs of 40 ms (ideal 120 ms: 3 per
 * worker) and 8 asynchronous jobs that each wait 100 ms (ideal 400 ms with
 * one job per worker at a time), each after tiny jobs of another task; and
 * the same 8 after 500 quick calls of their own task (`sleep(0)`: a task
 * whose cost depends on its arguments). Medians of 5 rounds.
 *
 *   deno run -A bench/burst_pair.ts
 *   bun bench/burst_pair.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { exit, runtime } from "./_env.ts";

const ROUNDS = 5;
const tiny = (x: number): number => x + 1;
const spin = (ms: number): number => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: a CPU-bound job
  }
  return ms;
};
const sleep = async (ms: number): Promise<number> => {
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
};

type Step = (pool: Pool) => Promise<unknown>;

/** 500 quick calls of `task`, so the pool measures it quick. */
const warmUp = <A>(task: (x: A) => unknown, x: A): Step => async (pool) => {
  for (let i = 0; i < 500; i++) pool.submit(task, x);
  await pool.wait();
  pool.done.drain();
};

const sleeps: Step = (pool) => Promise.all(Array.from({ length: 8 }, () => pool.run(sleep, 100)));
const bursts: [string, Step, Step][] = [
  [
    "6 × 40 ms sync, after 500 tiny jobs",
    warmUp(tiny, 1),
    (pool) => Promise.all(Array.from({ length: 6 }, () => pool.run(spin, 40))),
  ],
  ["8 × 100 ms async, after 500 tiny jobs", warmUp(tiny, 1), sleeps],
  ["8 × 100 ms async, after 500 quick calls of their own task", warmUp(sleep, 0), sleeps],
];

async function started(): Promise<Pool> {
  const pool = new Pool({ maxChildren: 2, minChildren: 2 });
  while (pool.stats().workers.started < 2) {
    await new Promise((resolve) => pool.addEventListener("workerstart", resolve, { once: true }));
  }
  return pool;
}

async function timed(burst: Step, warm: Step | null): Promise<number> {
  const pool = await started();
  try {
    if (warm !== null) await warm(pool);
    const t0 = performance.now();
    await burst(pool);
    return performance.now() - t0;
  } finally {
    await pool.shutdown();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [name, warm, burst] of bursts) {
  const after: number[] = [];
  const fresh: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    after.push(await timed(burst, warm));
    fresh.push(await timed(burst, null));
  }
  const a = median(after);
  const f = median(fresh);
  console.log(
    `${runtime}, 2 workers, ${name}: ${a.toFixed(1)} ms, on a fresh pool ${
      f.toFixed(1)
    } ms, ratio ${(a / f).toFixed(2)}`,
  );
}
exit(0);
