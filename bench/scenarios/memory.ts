/**
 * Scenario 6, memory: jobs queued at once, each design in a fresh process.
 *
 * @module
 */

import { poolSize } from "../_env.ts";
import { count, fmt, table } from "../_measure.ts";
import { child, log, QUEUED_N } from "../_runner.ts";

/** Runs the scenario and prints its table. */
export async function memory(): Promise<void> {
  const n = QUEUED_N;
  const lines: string[][] = [];
  const designs: [string, string][] = [
    ["fastpool-submit", "fastpool: submit + wait()"],
    ["fastpool-run", "fastpool: run + Promise.all"],
    ["fastpool-map", "fastpool: map + wait()"],
    ["plain-run", "plain pool: run + Promise.all"],
    ["coalesced-submit", "coalesced (Array): submit + wait()"],
  ];
  for (const [design, name] of designs) {
    const r = await child(`mem:${design}`, "queued", design, n, poolSize);
    if (typeof r === "string") lines.push([name, "–", "–", "–", "–", r]);
    else lines.push([name, fmt(r.afterSubmit ?? NaN), fmt(r.peak), fmt(r.end), fmt(r.ms), ""]);
  }
  log(
    `### 6. Memory: ${
      count(n)
    } tiny jobs queued at once, ${poolSize} workers, each design in a fresh process`,
  );
  log();
  log(
    "RSS growth in MiB over the warm, idle pool: right after the submit loop (jobs queued), the peak until all results are in (VmHWM), and at the end (results held).",
  );
  log();
  log(table(["design", "after submit MiB", "peak MiB", "end MiB", "total ms", "note"], lines));
  log();
}
