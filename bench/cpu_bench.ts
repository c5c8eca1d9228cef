/**
 * CPU scaling: 32 × naive `fib(27)` submitted at once, on the main thread
 * (baseline), and on fastpool and the plain pool with 1 and 2 workers.
 *
 *   deno bench -A bench/cpu_bench.ts     (BENCH_QUICK=1: fib(25))
 *
 * @module
 */

import { createFastpool, fastpoolRun, fibAll, plainRun } from "./_designs.ts";
import { checked, closeOnUnload, MACRO } from "./_bench_util.ts";
import { quick } from "./_env.ts";
import { fib, FIB_27, FIB_N } from "./_tasks.ts";

const JOBS = 32;
const N = quick ? 25 : FIB_N;
const EXPECTED = JOBS * (quick ? 75025 : FIB_27);
const group = `${JOBS} x fib(${N})`;

const fast1 = createFastpool(1);
const fast2 = createFastpool(2);
const plain1 = plainRun(1);
const plain2 = plainRun(2);
const runs = [fastpoolRun(fast1, "fastpool, 1 worker"), fastpoolRun(fast2, "fastpool, 2 workers")];
await Promise.all([...runs, plain1, plain2].map((pool) => fibAll(pool, 4, 20)));
closeOnUnload(
  () => fast1.terminate(),
  () => fast2.terminate(),
  () => plain1.close(),
  () => plain2.close(),
);

Deno.bench({
  name: "main thread",
  group,
  baseline: true,
  ...MACRO,
  fn: checked(
    () => {
      let sum = 0;
      for (let i = 0; i < JOBS; i++) sum += fib(N);
      return sum;
    },
    EXPECTED,
    "main thread",
  ),
});
for (
  const [name, pool] of [["fastpool, 1 worker", runs[0]!], ["fastpool, 2 workers", runs[1]!], [
    "plain pool, 1 worker",
    plain1,
  ], ["plain pool, 2 workers", plain2]] as const
) {
  Deno.bench({ name, group, ...MACRO, fn: checked(() => fibAll(pool, JOBS, N), EXPECTED, name) });
}
