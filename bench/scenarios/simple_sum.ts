/**
 * Scenario 4, fastthreadpool's ex_simple_sum: integers mapped and summed, against a plain loop.
 *
 * @module
 */

import { add1Inline, createFastpool, expectedSum, tinyMap, tinySubmit } from "../_designs.ts";
import { poolSize } from "../_env.ts";
import { count } from "../_measure.ts";
import { print, results, type Row, sized, SUM_ITEMS } from "../_runner.ts";

/** Runs the scenario and prints its table. */
export async function simpleSum(): Promise<void> {
  const rows: Row[] = [];
  const n = SUM_ITEMS;
  const items = Array.from({ length: n }, (_, i) => i);
  const expected = expectedSum(n);
  await sized(
    "sum:loop",
    "plain loop",
    "sum += f(x)",
    n,
    () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += add1Inline(items[i]!);
      return Promise.resolve(sum);
    },
    () => expected,
    NaN,
    rows,
    // About 1 ms a call: many samples, or the median moves the target's ratio by ±2.
    { maxSamples: 200 },
  );
  await sized(
    "sum:loop-array",
    "plain loop",
    "results to an array, then summed",
    n,
    () => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(add1Inline(items[i]!));
      let sum = 0;
      for (let i = 0; i < n; i++) sum += out[i]!;
      return Promise.resolve(sum);
    },
    () => expected,
    NaN,
    rows,
  );
  const pool = createFastpool(poolSize);
  await pool.run(add1Inline, 0);
  await tinyMap(pool, items.slice(0, 10_000));
  await sized(
    "sum:map",
    "fastpool",
    "map + wait(), done drained",
    n,
    () => tinyMap(pool, items),
    () => expected,
    NaN,
    rows,
    { maxSamples: 40 },
  );
  await sized(
    "sum:submit",
    "fastpool",
    "submit per item + wait(), done drained",
    n,
    () => tinySubmit(pool, n),
    () => expected,
    NaN,
    rows,
  );
  await pool.shutdown();
  print(
    `4. ex_simple_sum: ${count(n)} integers mapped (x => x + 1) and summed, ${poolSize} workers`,
    rows,
    "µs/item",
    results.get("sum:loop"),
  );
}
