/**
 * `pool.stream()` against the same generator on the main thread: 200,000
 * records of ~1 KB each, consumed by a fast `for await` loop that only
 * counts bytes. Alternating rounds (the first dropped), medians, and the
 * ratio main ÷ stream (1 would mean streaming from a worker costs nothing).
 *
 *   deno run -A bench/stream_pair.ts [n]
 *   bun bench/stream_pair.ts [n]
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { args, exit, runtime } from "./_env.ts";

const n = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 200_000);
const ROUNDS = 7;

/** The producer: records of about 1 KB (an id and a 1,000-character string). */
function* records(count: number): Generator<{ id: number; text: string }> {
  const text = "x".repeat(1000);
  for (let id = 0; id < count; id++) yield { id, text };
}

async function consume(source: AsyncIterable<{ id: number; text: string }>): Promise<number> {
  let bytes = 0;
  for await (const record of source) bytes += record.text.length;
  return bytes;
}

async function* onMainThread(count: number): AsyncGenerator<{ id: number; text: string }> {
  yield* records(count);
}

const pool = new Pool({ maxChildren: 1, minChildren: 1 });
await consume(pool.stream(records, 100));
const main: number[] = [];
const stream: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  let t0 = performance.now();
  const a = await consume(onMainThread(n));
  const mainMs = performance.now() - t0;
  t0 = performance.now();
  const b = await consume(pool.stream(records, n));
  const streamMs = performance.now() - t0;
  if (a !== n * 1000 || b !== a) throw new Error(`wrong byte counts ${a} and ${b}`);
  if (round === 0) continue;
  main.push(mainMs);
  stream.push(streamMs);
}
await pool.shutdown();
const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1]!;
const m = median(main);
const s = median(stream);
console.log(
  `${runtime}: ${n.toLocaleString("en")} records of ~1 KB, fast consumer: main-thread generator ${
    m.toFixed(1)
  } ms, pool.stream() ${s.toFixed(1)} ms, ratio main/stream ${(m / s).toFixed(2)}`,
);
exit(0);
