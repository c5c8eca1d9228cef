/**
 * Scenario 5, threadlet's benchmarks, each in a fresh process: submit cost and end-to-end time with results consumed as they come.
 *
 * @module
 */

import { poolSize } from "../_env.ts";
import type { ChildResult } from "../_child.ts";
import { count, fmt, table } from "../_measure.ts";
import { child, log, THREADLET_N, THREADLET_WORKERS } from "../_runner.ts";

/** Runs the scenario and prints its table. */
export async function threadlet(): Promise<void> {
  const n = THREADLET_N;
  const lines: string[][] = [];
  const add = (name: string, r: ChildResult | string) => {
    if (typeof r === "string") lines.push([name, "–", "–", "–", "–", r]);
    else {lines.push([
        name,
        fmt(r.ms / 1000),
        r.submitMs === undefined ? "–" : fmt(r.submitMs / 1000),
        fmt(r.peak),
        fmt(r.end),
        "",
      ]);}
  };
  add(
    "fastpool submit (1 worker): pool.submit",
    await child("tl:submit:fastpool", "submit", "fastpool-submit", n, 1),
  );
  add(
    "plain pool submit (1 worker): run",
    await child("tl:submit:plain", "submit", "plain-run", n, 1),
  );
  for (const workers of THREADLET_WORKERS) {
    add(
      `fastpool e2e[${workers}]: doneCount.acquire() + done.shift()`,
      await child(`tl:e2e:${workers}:acquire`, "e2e", "fastpool-acquire", n, workers),
    );
    add(
      `fastpool e2e[${workers}]: asCompleted()`,
      await child(`tl:e2e:${workers}:ascompleted`, "e2e", "fastpool-ascompleted", n, workers),
    );
  }
  add(
    `plain pool e2e[${poolSize}]: await each run() in order`,
    await child(`tl:e2e:${poolSize}:plain`, "e2e", "plain-await", n, poolSize),
  );
  log(`### 5. threadlet's benchmarks: ${count(n)} jobs (x => x + 1), each in a fresh process`);
  log();
  log(
    '"submit": the time of the submit calls alone, then all results; "e2e[N]": N workers, jobs submitted in chunks of 10,000 per macrotask while results are consumed as they come. Memory: RSS growth over the warm, idle pool, in MiB (peak = VmHWM).',
  );
  log();
  log(
    table(["benchmark", "time s", "submit calls s", "peak RSS MiB", "end RSS MiB", "note"], lines),
  );
  log();
}
