/**
 * A quick A/B of the CPU target: 32 × fib(27) on fastpool and on the plain
 * pool with the same number of workers, timed in alternating rounds (see
 * `paired` in `_measure.ts`). For checking a dispatch change in a minute.
 *
 *   deno run -A bench/cpu_pair.ts [workers]
 *   bun bench/cpu_pair.ts [workers]
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { createFastpool, fastpoolRun, fibAll, plainRun } from "./_designs.ts";
import { args, exit, runtime } from "./_env.ts";
import { paired } from "./_measure.ts";
import { FIB_27, FIB_N } from "./_tasks.ts";

const workers = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 2);
const JOBS = 32;

const pool = createFastpool(workers);
const ours = fastpoolRun(pool);
const plain = plainRun(workers);
const result = await paired(
  () => fibAll(ours, JOBS, FIB_N),
  () => fibAll(plain, JOBS, FIB_N),
  JOBS * FIB_27,
  `fib, ${workers} workers`,
  31,
);
console.log(
  `${runtime}, ${workers} worker(s): fastpool ${result.a.median.toFixed(2)} ms, plain pool ${
    result.b.median.toFixed(2)
  } ms, median ratio ${result.ratio.toFixed(3)}`,
);
await pool.shutdown();
await plain.close();
exit(0);
