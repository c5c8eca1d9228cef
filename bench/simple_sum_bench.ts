/**
 * fastthreadpool's `ex_simple_sum`: a million integers mapped (`x => x + 1`)
 * and summed, by a plain loop (baseline), by `pool.map` with `done` drained,
 * and by one `pool.submit` per item.
 *
 *   deno bench -A bench/simple_sum_bench.ts     (BENCH_QUICK=1: 100,000 items)
 *
 * @module
 */

import { add1Inline, createFastpool, expectedSum, tinyMap, tinySubmit } from "./_designs.ts";
import { checked, closeOnUnload, MACRO } from "./_bench_util.ts";
import { poolSize, quick } from "./_env.ts";

const N = quick ? 100_000 : 1_000_000;
const EXPECTED = expectedSum(N);
const group = `ex_simple_sum x${N}`;
const items = Array.from({ length: N }, (_, i) => i);

const pool = createFastpool(poolSize);
await tinyMap(pool, items.slice(0, 10_000));
closeOnUnload(() => pool.terminate());

Deno.bench({
  name: "plain loop",
  group,
  baseline: true,
  fn: checked(
    () => {
      let sum = 0;
      for (let i = 0; i < N; i++) sum += add1Inline(items[i]!);
      return sum;
    },
    EXPECTED,
    "plain loop",
  ),
});
Deno.bench({
  name: "plain loop, results to an array",
  group,
  fn: checked(
    () => {
      const out: number[] = [];
      for (let i = 0; i < N; i++) out.push(add1Inline(items[i]!));
      let sum = 0;
      for (let i = 0; i < N; i++) sum += out[i]!;
      return sum;
    },
    EXPECTED,
    "plain loop, array",
  ),
});
Deno.bench({
  name: "fastpool map + wait(), done drained",
  group,
  ...MACRO,
  fn: checked(() => tinyMap(pool, items), EXPECTED, "map"),
});
Deno.bench({
  name: "fastpool submit per item + wait(), done drained",
  group,
  ...MACRO,
  fn: checked(() => tinySubmit(pool, N), EXPECTED, "submit"),
});
