/**
 * Timing with mitata's `measure`, sized for macro benchmarks (one call is
 * 1 ms to a few seconds): a warm-up call, then samples until both a
 * minimum count and a minimum total time are reached, capped. The first
 * result is checked; an error or a hang fails the measurement.
 *
 * @module
 */

import { do_not_optimize, measure } from "mitata";
import { check, gc, quick, withTimeout } from "./_env.ts";

/** A measurement: times in ms. */
export interface Timing {
  median: number;
  min: number;
  samples: number;
}

/** Budget for one call in the full run, ms; designs slower than this run smaller sizes. */
export const CALL_BUDGET_MS: number = quick ? 600 : 2500;
/** A call this long is taken for a hang, ms. */
export const HANG_MS: number = quick ? 20_000 : 60_000;

/**
 * Times `fn` (which returns a checksum) with mitata. The warm-up call's
 * result must equal `expected`.
 */
export async function time(
  fn: () => Promise<number> | number,
  expected: number,
  what: string,
  maxSamples = 10,
): Promise<Timing> {
  let checked = false;
  const stats = await measure(async () => {
    const result = await withTimeout(Promise.resolve(fn()), HANG_MS, what);
    if (!checked) {
      check(result, expected, what);
      checked = true;
    }
    do_not_optimize(result);
  }, {
    min_samples: quick ? 1 : 2,
    max_samples: quick ? Math.min(3, maxSamples) : maxSamples,
    min_cpu_time: (quick ? 200 : 1200) * 1e6,
    warmup_samples: 0,
    gc: gc ?? false,
  });
  return { median: stats.p50 / 1e6, min: stats.min / 1e6, samples: stats.samples.length };
}

/** Formats a number with about three significant digits. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a >= 0.1) return x.toFixed(3);
  return x.toFixed(4);
}

/** `1000000` → `1,000,000`. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** A markdown table; the first `left` columns are left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][], left = 1): string {
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => i < left ? "---" : "---:").join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
  return lines.join("\n");
}

/** Two designs timed in alternation, and the median of their per-round time ratios. */
export interface PairedTiming {
  a: Timing;
  b: Timing;
  /** Median over rounds of `a`'s time divided by `b`'s in the same round. */
  ratio: number;
}

/**
 * Times `a` and `b` in alternating rounds (`a b`, then `b a`, ...), after a
 * warm-up call of each, so that drift in the machine's speed (other load,
 * frequency) falls on both alike. Both must return `expected`.
 */
export async function paired(
  a: () => Promise<number>,
  b: () => Promise<number>,
  expected: number,
  what: string,
  rounds: number = quick ? 5 : 21,
): Promise<PairedTiming> {
  const run = async (fn: () => Promise<number>, label: string) => {
    const t0 = performance.now();
    const result = await withTimeout(fn(), HANG_MS, `${what} (${label})`);
    const ms = performance.now() - t0;
    check(result, expected, `${what} (${label})`);
    return ms;
  };
  await run(a, "a");
  await run(b, "b");
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    gc?.();
    let ta: number;
    let tb: number;
    if (i % 2 === 0) {
      ta = await run(a, "a");
      tb = await run(b, "b");
    } else {
      tb = await run(b, "b");
      ta = await run(a, "a");
    }
    as.push(ta);
    bs.push(tb);
    ratios.push(ta / tb);
  }
  const timing = (xs: number[]): Timing => ({
    median: median(xs),
    min: Math.min(...xs),
    samples: xs.length,
  });
  return { a: timing(as), b: timing(bs), ratio: median(ratios) };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
