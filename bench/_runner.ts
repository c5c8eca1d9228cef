/**
 * What every scenario of the benchmark runner shares: the sizes, a row of
 * a result table, timing a design at a size (`sized`), printing a table
 * (`print`, which also keeps the rows for the charts), peers, fresh-process
 * measurements (`child`), and the results by key that the targets read.
 *
 * @module
 */

// deno-lint-ignore-file no-console
import type { Peer, RunPool } from "./_designs.ts";
import { poolSize, quick, runChild } from "./_env.ts";
import type { ChildResult } from "./_child.ts";
import {
  CALL_BUDGET_MS,
  count,
  fmt,
  type PairedTiming,
  table,
  time,
  type Timing,
} from "./_measure.ts";
import { FIB_27, FIB_N } from "./_tasks.ts";

export const SIZES = quick ? [20_000, 200_000] : [100_000, 1_000_000];
export const ROUND_TRIPS = quick ? 1_000 : 10_000;
export const FIB_JOBS = 32;
export const FIB_ARG = quick ? 25 : FIB_N;
export const FIB_VALUE = quick ? 75025 : FIB_27;
export const MAP_FIB_ARG = 20;
export const SUM_ITEMS = quick ? 100_000 : 1_000_000;
export const THREADLET_N = quick ? 100_000 : 1_000_000;
export const THREADLET_WORKERS = quick ? [1, 2] : [1, 2, 4];
export const QUEUED_N = quick ? 20_000 : 100_000;

/** One measured (or skipped) line of a scenario. */
export interface Row {
  design: string;
  api: string;
  /** Jobs (or round trips) per call. */
  n: number;
  timing?: Timing;
  note?: string;
}

/** A scenario's table as printed, for its chart. */
export interface Chart {
  title: string;
  unit: string;
  rows: Row[];
}

/** The tables printed so far, in order. */
export const charts: Chart[] = [];

/** Results one scenario leaves for the targets beyond its rows. */
export const shared: { cpuPaired?: PairedTiming } = {};

/** Prints a line of the report. */
export const log = (line = ""): void => console.log(line);
/** Every measured row, by key (`tp:100000:fastpool:submit + wait()`), for the targets. */
export const results: Map<string, Row> = new Map();

/** µs per job (or per round trip) of a row, or NaN. */
export function perJob(row: Row | undefined): number {
  return row?.timing ? row.timing.median * 1000 / row.n : NaN;
}

/** Prints a scenario's table, and keeps its rows for the charts. */
export function print(title: string, rows: Row[], unit = "µs/job", reference?: Row): void {
  charts.push({ title, unit, rows: [...rows] });
  log(`### ${title}`);
  log();
  const ref = perJob(reference);
  log(table(
    [
      "design",
      "API",
      "n",
      "median ms",
      "min ms",
      "samples",
      unit,
      reference ? `× ${reference.design} ${reference.api}` : "note",
    ],
    rows.map((row) => {
      const per = perJob(row);
      const versus = reference ? (row.timing ? `${fmt(per / ref)}×` : "–") : "";
      const note = row.note ? (reference ? `${versus} (${row.note})` : row.note) : versus;
      return [
        row.design,
        row.api,
        count(row.n),
        row.timing ? fmt(row.timing.median) : "–",
        row.timing ? fmt(row.timing.min) : "–",
        row.timing ? String(row.timing.samples) : "–",
        row.timing ? fmt(per) : "–",
        note,
      ];
    }),
    2,
  ));
  log();
}

/** Measures `fn(n)`; slower designs get a smaller `n` so one call stays near the budget. */
export async function sized(
  key: string,
  design: string,
  api: string,
  n: number,
  fn: (n: number) => Promise<number>,
  expected: (n: number) => number,
  estimateUs: number,
  rows: Row[],
  { shrink = true, maxSamples = 10 } = {},
): Promise<number> {
  const row: Row = { design, api, n };
  const estimateMs = estimateUs * n / 1000;
  if (estimateUs === estimateUs && estimateMs > CALL_BUDGET_MS) {
    if (!shrink) {
      row.note = `skipped: ~${
        fmt(estimateMs / 1000)
      } s per call at this size (from the smaller size)`;
      rows.push(row);
      results.set(key, row);
      return estimateUs;
    }
    const step = n >= 100_000 ? 10_000 : 1_000;
    row.n = Math.max(step, Math.floor(CALL_BUDGET_MS * 1000 / estimateUs / step) * step);
    row.note = `n cut to ${count(row.n)} to keep one call near ${CALL_BUDGET_MS} ms`;
  }
  try {
    row.timing = await time(
      () => fn(row.n),
      expected(row.n),
      `${design} ${api} n=${row.n}`,
      maxSamples,
    );
  } catch (error) {
    row.note = `failed: ${String((error as Error).message ?? error).split("\n")[0]}`;
  }
  rows.push(row);
  results.set(key, row);
  return perJob(row);
}

/** A short timed call to estimate µs per job before the real sizes (also warms up). */
export async function calibrate(fn: (n: number) => Promise<number>, n: number): Promise<number> {
  await fn(Math.min(n, 200));
  const t0 = performance.now();
  await fn(n);
  return (performance.now() - t0) * 1000 / n;
}

/** Runs `body` on a peer's pool, or notes why it did not run. */
export async function withPeer<T>(
  peer: Peer,
  rows: Row[],
  api: string,
  n: number,
  body: (pool: RunPool) => Promise<T>,
): Promise<void> {
  if (peer.skip) {
    rows.push({ design: peer.name, api, n, note: `not run: ${peer.skip}` });
    return;
  }
  let pool: RunPool | undefined;
  try {
    pool = await peer.create(poolSize);
    await body(pool);
  } catch (error) {
    rows.push({
      design: peer.name,
      api,
      n,
      note: `failed: ${String((error as Error).message ?? error).split("\n")[0]}`,
    });
  } finally {
    await pool?.close().catch(() => {});
  }
}

/** Results of the scenarios run in fresh processes, by key. */
export const childResults: Map<string, ChildResult> = new Map();

/** Runs one measurement in a fresh child process (`_child.ts`). */
export async function child(
  key: string,
  what: string,
  design: string,
  n: number,
  workers: number,
): Promise<ChildResult | string> {
  try {
    const result = await runChild(new URL("./_child.ts", import.meta.url), [
      what,
      design,
      String(n),
      String(workers),
    ]) as ChildResult;
    childResults.set(key, result);
    return result;
  } catch (error) {
    return `failed: ${String((error as Error).message).split("\n")[0]}`;
  }
}
