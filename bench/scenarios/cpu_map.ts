/**
 * Scenario 3b, CPU with integer `map` items: they travel as one Float64Array and must reach the task as integers.
 *
 * @module
 */

import { createFastpool, sumDone } from "../_designs.ts";
import { quick } from "../_env.ts";
import { count } from "../_measure.ts";
import { fib } from "../_tasks.ts";
import { MAP_FIB_ARG, print, results, type Row, sized } from "../_runner.ts";

/**
 * `map` of many medium jobs with integer items, which travel as one
 * Float64Array: they must reach the task as integers, or engines run it on
 * their slower floating-point paths (fib(20) ran 1.7 times slower on Deno).
 */
/** Runs the scenario and prints its table. */
export async function cpuMap(): Promise<void> {
  const rows: Row[] = [];
  const n = quick ? 1_000 : 4_000;
  const items = Array.from({ length: n }, () => MAP_FIB_ARG);
  const expected = n * fib(MAP_FIB_ARG);
  await sized(
    "cpumap:main",
    "main thread",
    "loop",
    n,
    () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += fib(items[i]!);
      return Promise.resolve(sum);
    },
    () => expected,
    NaN,
    rows,
    { shrink: false },
  );
  const pool = createFastpool(2);
  try {
    const mapAll = async () => {
      pool.map("fib", items);
      await pool.wait();
      return sumDone(pool);
    };
    await mapAll();
    await sized(
      "cpumap:fastpool",
      "fastpool, 2 workers",
      "map + wait()",
      n,
      mapAll,
      () => expected,
      NaN,
      rows,
      { shrink: false },
    );
  } finally {
    await pool.shutdown();
  }
  print(
    `3b. CPU, integer map items: ${count(n)} × fib(${MAP_FIB_ARG}) via map()`,
    rows,
    "µs/job",
    results.get("cpumap:main"),
  );
}
