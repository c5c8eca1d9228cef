/**
 * What a user's first calls see: each measure runs in a new process, N times
 * (default 5), and the medians are reported beside the same measure's fifth
 * run in that process (warm). Measures:
 *
 * - `map`: `map(x => x + 1, 1,000,000 numbers)` + `wait()`, then reading
 *   `done` with `drain()`; the first run and the fifth.
 * - `run`: 100,000 `run()`s + `Promise.all`; µs per job, first and fifth.
 * - `trip`: 1,000 sequential `await run()` round trips; µs each, first
 *   thousand and fifth.
 * - `stream`: `for await` over `stream()` of a generator of 200,000
 *   numbers; ms, first and fifth.
 * - `start`: from `new Pool()` to the first result of a tiny job.
 *
 *   deno run -A bench/fresh.ts [processes] [measure…]
 *   bun bench/fresh.ts [processes] [measure…]
 *
 * (A child runs `bench/fresh.ts --child <measure>` and prints one JSON line.)
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { args, exit, runChild, runtime, runtimeVersion } from "./_env.ts";
import { table } from "./_measure.ts";

const add1 = (x: number): number => x + 1;
const MAP_N = 1_000_000;
const RUN_N = 100_000;
const TRIPS = 1_000;
const STREAM_N = 200_000;
function* numbers(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}
const REPEATS = 5;

/** One child's figures: the first run and the fifth, in the measure's unit. */
interface Fresh {
  first: number;
  fifth: number;
}

async function measure(what: string): Promise<Fresh> {
  if (what === "start") {
    const t0 = performance.now();
    const pool = new Pool({ maxChildren: 2 });
    await pool.run(add1, 1);
    const first = performance.now() - t0;
    await pool.shutdown();
    const t1 = performance.now();
    const again = new Pool({ maxChildren: 2 });
    await again.run(add1, 1);
    const fifth = performance.now() - t1; // a second pool in the same process: warm code
    await again.shutdown();
    return { first, fifth };
  }
  const pool = new Pool({ maxChildren: 2 });
  const times: number[] = [];
  try {
    if (what === "map") {
      const items = Array.from({ length: MAP_N }, (_, i) => i);
      for (let round = 0; round < REPEATS; round++) {
        const t0 = performance.now();
        pool.map(add1, items);
        await pool.wait();
        const values = pool.done.drain() as number[];
        times.push(performance.now() - t0);
        if (values.length !== MAP_N) throw new Error(`map gave ${values.length} results`);
      }
    } else if (what === "run") {
      for (let round = 0; round < REPEATS; round++) {
        const t0 = performance.now();
        const all: Promise<number>[] = [];
        for (let i = 0; i < RUN_N; i++) all.push(pool.run(add1, i));
        await Promise.all(all);
        times.push((performance.now() - t0) * 1000 / RUN_N);
      }
    } else if (what === "trip") {
      for (let round = 0; round < REPEATS; round++) {
        const t0 = performance.now();
        for (let i = 0; i < TRIPS; i++) await pool.run(add1, i);
        times.push((performance.now() - t0) * 1000 / TRIPS);
      }
    } else if (what === "stream") {
      for (let round = 0; round < REPEATS; round++) {
        const t0 = performance.now();
        let sum = 0;
        for await (const value of pool.stream(numbers, STREAM_N)) sum += value;
        times.push(performance.now() - t0);
        if (sum !== STREAM_N * (STREAM_N - 1) / 2) throw new Error(`stream summed to ${sum}`);
      }
    } else throw new Error(`unknown measure ${what}`);
  } finally {
    await pool.shutdown();
  }
  return { first: times[0]!, fifth: times[REPEATS - 1]! };
}

const MEASURES: [string, string][] = [
  ["start", "new Pool() to the first result, ms (fifth: a second pool in the process)"],
  ["map", `map of ${MAP_N.toLocaleString("en")} numbers + wait() + done.drain(), ms`],
  ["run", `${RUN_N.toLocaleString("en")} run() + Promise.all, µs/job`],
  ["trip", `${TRIPS.toLocaleString("en")} sequential await run(), µs/round trip`],
  ["stream", `for await over stream() of ${STREAM_N.toLocaleString("en")} numbers, ms`],
];

if (args[0] === "--child") {
  console.log(JSON.stringify(await measure(args[1]!)));
  exit(0);
}

const processes = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rows: string[][] = [];
const named = MEASURES.filter(([what]) => args.includes(what));
for (const [what, label] of named.length !== 0 ? named : MEASURES) {
  const runs: Fresh[] = [];
  for (let i = 0; i < processes; i++) {
    runs.push(await runChild(new URL(import.meta.url), ["--child", what]) as Fresh);
  }
  const first = median(runs.map((r) => r.first));
  const fifth = median(runs.map((r) => r.fifth));
  rows.push([label, first.toFixed(2), fifth.toFixed(2), `${(first / fifth).toFixed(2)}×`]);
}
console.log(
  `fresh processes on ${runtime} ${runtimeVersion}: medians of ${processes} processes each`,
);
console.log();
console.log(table(["measure", "first run", "fifth run", "first ÷ fifth"], rows));
exit(0);
