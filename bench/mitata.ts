/**
 * The cross-runtime benchmark runner (issue 5): every scenario, every design
 * side by side in one run, then a ratio table against the targets, and one
 * SVG chart per scenario table.
 *
 *   deno run -A bench/mitata.ts [--quick] [--only=throughput,latency,…]
 *   bun bench/mitata.ts [--quick]
 *
 * (`BENCH_QUICK=1` is the same as `--quick`.) Timing is mitata's `measure`
 * (see `_measure.ts`); memory figures come from fresh child processes
 * (`_child.ts`). Designs: fastpool; a plain one-`postMessage`-per-job pool,
 * a coalesced-message pool and a SharedArrayBuffer-ring floor, all in
 * `bench/`; the npm peers that run on this runtime. Each scenario is a file
 * of `bench/scenarios/`; the targets are data in `_targets.ts`. A full run
 * writes its charts to `bench/charts/<runtime>-<scenario>.svg` (a quick run
 * to `.tmp/charts/`), which `bench/README.md` shows.
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { mkdirSync, writeFileSync } from "node:fs";
import {
  args,
  cpuModel,
  exit,
  loadAverage,
  poolSize,
  quick,
  runtime,
  runtimeVersion,
} from "./_env.ts";
import { CALL_BUDGET_MS, fmt } from "./_measure.ts";
import { charts, log } from "./_runner.ts";
import { barChart, chartName } from "./_svg.ts";
import { targetTable } from "./_targets.ts";
import { cpuScaling } from "./scenarios/cpu.ts";
import { cpuMap } from "./scenarios/cpu_map.ts";
import { latency } from "./scenarios/latency.ts";
import { memory } from "./scenarios/memory.ts";
import { simpleSum } from "./scenarios/simple_sum.ts";
import { threadlet } from "./scenarios/threadlet.ts";
import { throughput } from "./scenarios/throughput.ts";

/** Writes one SVG per scenario table printed (see `_svg.ts`). */
function writeCharts(): void {
  const dir = quick ? ".tmp/charts" : new URL("./charts", import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const chart of charts) {
    if (!chart.rows.some((row) => row.timing)) continue;
    const file = `${dir}/${runtime}-${chartName(chart)}.svg`;
    writeFileSync(file, barChart(chart, `${runtime} ${runtimeVersion}`));
    written.push(file);
  }
  log(`Charts: ${written.length} SVG files in ${dir} (${runtime}-*.svg).`);
  log();
}

// ------------------------------------------------------------------- main

if (import.meta.main) {
  const started = performance.now();
  log(`# fastpool benchmarks${quick ? " (quick)" : ""}`);
  log();
  log(`- runtime: ${runtime} ${runtimeVersion}`);
  log(`- CPU: ${cpuModel()}, ${navigator.hardwareConcurrency} cores`);
  log(`- pool size: ${poolSize} workers (every design)`);
  log(`- load average (1 min) at start: ${loadAverage()}`);
  log(
    `- timing: mitata measure, median of ${
      quick ? "1–3" : "2–10 samples (up to 50 for throughput, 200 for a 1 ms loop)"
    }${quick ? " samples" : ""} after a warm-up call; one call kept near ${CALL_BUDGET_MS} ms`,
  );
  log();
  const only = args.find((a) => a.startsWith("--only="));
  const chosen = only?.slice(7).split(",");
  const scenarios: [string, () => Promise<void>][] = [
    ["throughput", throughput],
    ["latency", latency],
    ["cpu", cpuScaling],
    ["cpumap", cpuMap],
    ["sum", simpleSum],
    ["threadlet", threadlet],
    ["memory", memory],
  ];
  try {
    for (const [name, scenario] of scenarios) {
      if (!chosen || chosen.includes(name)) await scenario();
    }
    targetTable();
    writeCharts();
    log(
      `(whole run: ${
        fmt((performance.now() - started) / 1000)
      } s; load average (1 min) at end: ${loadAverage()})`,
    );
    exit(0);
  } catch (error) {
    console.error(error);
    exit(1);
  }
}
