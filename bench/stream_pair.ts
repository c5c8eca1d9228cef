/**
 * `pool.stream()` against the same generator on the main thread, 200,000
 * values of three sizes: numbers, small records (an id and a 10-character
 * string) and records of ~1 KB (an id and a 1,000-character string),
 * consumed by a fast `for await` loop that only sums them. Alternating rounds
 * (the first dropped), medians, and the ratio main ÷ stream (1 would mean
 * streaming from a worker costs nothing); beside them, what cloning the
 * values costs by itself.
 *
 *   deno run -A bench/stream_pair.ts [n]
 *   bun bench/stream_pair.ts [n]
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { args, exit, runtime } from "./_env.ts";
import { table } from "./_measure.ts";

const n = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 200_000);
const ROUNDS = 7;

/** The producer: `count` numbers, or records with a string of `length` characters. */
function* values(count: number, length: number): Generator<number | { id: number; text: string }> {
  if (length < 0) {
    for (let id = 0; id < count; id++) yield id;
    return;
  }
  const text = "x".repeat(length);
  for (let id = 0; id < count; id++) yield { id, text };
}

async function consume(source: AsyncIterable<number | { id: number; text: string }>) {
  let sum = 0;
  for await (const value of source) sum += typeof value === "number" ? value : value.text.length;
  return sum;
}

async function* onMainThread(count: number, length: number) {
  yield* values(count, length);
}

const KINDS: [string, number][] = [["numbers", -1], ["records of ~20 B", 10], [
  "records of ~1 KB",
  1000,
]];

/**
 * What crossing threads costs these values at least: `structuredClone` (a
 * copy out and back, as a message's serializing and reading) of the values
 * in batches of 1,000; the median of 5.
 */
function cloneMs(length: number): number {
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    let batch: unknown[] = [];
    for (const value of values(n, length)) {
      batch.push(value);
      if (batch.length === 1_000) {
        structuredClone(batch);
        batch = [];
      }
    }
    structuredClone(batch);
    times.push(performance.now() - t0);
  }
  return times.sort((x, y) => x - y)[2]!;
}

const pool = new Pool({ maxChildren: 1, minChildren: 1 });
await consume(pool.stream(values, 100, 10));
const rows: string[][] = [];
for (const [label, length] of KINDS) {
  const main: number[] = [];
  const stream: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    let t0 = performance.now();
    const a = await consume(onMainThread(n, length));
    const mainMs = performance.now() - t0;
    t0 = performance.now();
    const b = await consume(pool.stream(values, n, length));
    const streamMs = performance.now() - t0;
    if (b !== a) throw new Error(`wrong sums ${a} and ${b}`);
    if (round === 0) continue;
    main.push(mainMs);
    stream.push(streamMs);
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1]!;
  const m = median(main);
  const s = median(stream);
  rows.push([label, m.toFixed(1), s.toFixed(1), (m / s).toFixed(2), cloneMs(length).toFixed(1)]);
}
await pool.shutdown();
console.log(
  `${runtime}: ${n.toLocaleString("en")} values, fast consumer, medians of ${ROUNDS} rounds`,
);
console.log();
console.log(
  table([
    "values",
    "main-thread generator ms",
    "pool.stream() ms",
    "main ÷ stream",
    "structuredClone alone ms",
  ], rows),
);
exit(0);
