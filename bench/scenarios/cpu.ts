/**
 * Scenario 3, CPU scaling: naive fib on 1 and 2 workers against the main thread and the plain pool, and fastpool against the plain pool in alternating rounds.
 *
 * @module
 */

import { createFastpool, fastpoolRun, fibAll, plainRun } from "../_designs.ts";
import { fmt, paired } from "../_measure.ts";
import { fib } from "../_tasks.ts";
import {
  FIB_ARG,
  FIB_JOBS,
  FIB_VALUE,
  log,
  print,
  results,
  type Row,
  shared,
  sized,
} from "../_runner.ts";

/** Runs the scenario and prints its table. */
export async function cpuScaling(): Promise<void> {
  const rows: Row[] = [];
  const expected = FIB_JOBS * FIB_VALUE;
  await sized(
    "cpu:main",
    "main thread",
    "loop",
    FIB_JOBS,
    (jobs) => {
      let sum = 0;
      for (let i = 0; i < jobs; i++) sum += fib(FIB_ARG);
      return Promise.resolve(sum);
    },
    () => expected,
    NaN,
    rows,
    { shrink: false },
  );
  for (const workers of [1, 2]) {
    const pool = createFastpool(workers);
    const run = fastpoolRun(pool, `fastpool, ${workers} worker${workers > 1 ? "s" : ""}`);
    await fibAll(run, workers * 2, FIB_ARG);
    await sized(
      `cpu:fastpool:${workers}`,
      run.name,
      "run + Promise.all",
      FIB_JOBS,
      (jobs) => fibAll(run, jobs, FIB_ARG),
      () => expected,
      NaN,
      rows,
      { shrink: false },
    );
    await pool.shutdown();
  }
  for (const workers of [1, 2]) {
    const pool = plainRun(workers);
    await fibAll(pool, workers * 2, FIB_ARG);
    await sized(
      `cpu:plain:${workers}`,
      `plain pool, ${workers} worker${workers > 1 ? "s" : ""}`,
      "run + Promise.all",
      FIB_JOBS,
      (jobs) => fibAll(pool, jobs, FIB_ARG),
      () => expected,
      NaN,
      rows,
      { shrink: false },
    );
    await pool.close();
  }
  print(
    `3. CPU scaling: ${FIB_JOBS} × naive fib(${FIB_ARG}), all at once`,
    rows,
    "µs/job",
    results.get("cpu:main"),
  );
  // The target compares fastpool with the plain pool within a few percent,
  // less than the drift between the separate runs above: time them in
  // alternation as well, both pools alive.
  const pool = createFastpool(2);
  const ours = fastpoolRun(pool);
  const plain = plainRun(2);
  try {
    const cpuPaired = shared.cpuPaired = await paired(
      () => fibAll(ours, FIB_JOBS, FIB_ARG),
      () => fibAll(plain, FIB_JOBS, FIB_ARG),
      expected,
      "fib, fastpool vs plain pool, 2 workers",
    );
    log(
      `Alternating, ${cpuPaired.a.samples} rounds each: fastpool 2 workers ${
        fmt(cpuPaired.a.median)
      } ms, plain pool 2 workers ${fmt(cpuPaired.b.median)} ms (medians); median ratio ${
        cpuPaired.ratio.toFixed(3)
      }.`,
    );
    log();
  } finally {
    await pool.shutdown();
    await plain.close();
  }
}
