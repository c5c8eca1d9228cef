/**
 * The targets of the benchmark runner, as data: each is a ratio between two
 * measurements of the same run (same runtime, same machine), a goal, and
 * whether it was met. `TARGETS` lists them; `targetTable()` prints them.
 *
 * @module
 */

import { peers } from "./_designs.ts";
import { count, fmt, table } from "./_measure.ts";
import {
  childResults,
  log,
  perJob,
  QUEUED_N,
  results,
  type Row,
  shared,
  SIZES,
} from "./_runner.ts";

/** A target as the table shows it: what was compared, the ratio and the goal. */
interface Measured {
  ours: string;
  theirs: string;
  ratio: number;
}

/** One target: its name, its goal (`≥ 10`, `≤ 1`) and how it is measured. */
export interface Target {
  name: string;
  goal: { at: "≥" | "≤"; value: number };
  measure(): Measured;
}

/** A row's µs per job (or per round trip), as the table shows it. */
function us(row: Row | undefined, unit = "µs/job"): string {
  return row?.timing
    ? `${fmt(perJob(row))} ${unit}${row.note ? ` (n=${count(row.n)})` : ""}`
    : row?.note
    ? "not measured"
    : "–";
}

/** The median ms of a row, or NaN. */
const ms = (key: string): number => results.get(key)?.timing?.median ?? NaN;

const atLeast = (value: number) => ({ at: "≥" as const, value });
const atMost = (value: number) => ({ at: "≤" as const, value });

/** Every target, in the order of the table. */
export const TARGETS: Target[] = [
  ...["submit + wait()", "run + Promise.all"].flatMap((api) =>
    ["poolifier-web-worker", "piscina"].map((peer): Target => ({
      name: `throughput ${count(SIZES[0]!)}: fastpool ${api} vs ${peer} (speedup)`,
      goal: atLeast(10),
      measure() {
        const ours = results.get(`tp:${SIZES[0]}:fastpool:${api}`);
        const theirs = results.get(`tp:${SIZES[0]}:${peer}:run + Promise.all`);
        return {
          ours: us(ours),
          theirs: `${peer}: ${theirs ? us(theirs) : "not run here"}`,
          ratio: perJob(theirs) / perJob(ours),
        };
      },
    }))
  ),
  ...SIZES.flatMap((n): Target[] => [
    {
      name: `throughput ${count(n)}: fastpool submit vs coalesced (Array) (time ratio)`,
      goal: atMost(1),
      measure() {
        const ours = results.get(`tp:${n}:fastpool:submit + wait()`);
        const coalesced = results.get(`tp:${n}:coalesced (Array):submit + wait()`);
        return {
          ours: us(ours),
          theirs: `coalesced: ${us(coalesced)}`,
          ratio: perJob(ours) / perJob(coalesced),
        };
      },
    },
    {
      name: `throughput ${count(n)}: fastpool submit vs SAB floor (time ratio, aim)`,
      goal: atMost(3),
      measure() {
        const ours = results.get(`tp:${n}:fastpool:submit + wait()`);
        const floor = results.get(`tp:${n}:SAB ring (floor):indices via SAB`);
        return {
          ours: us(ours),
          theirs: `floor: ${us(floor)}`,
          ratio: perJob(ours) / perJob(floor),
        };
      },
    },
  ]),
  {
    name: "latency: fastpool round trip vs best npm peer's (time ratio)",
    goal: atMost(0.5),
    measure() {
      const ours = results.get("lat:fastpool");
      let best: Row | undefined;
      for (const peer of peers) {
        const row = results.get(`lat:peer:${peer.name}`);
        if (row?.timing && (!best || perJob(row) < perJob(best))) best = row;
      }
      return {
        ours: us(ours, "µs"),
        theirs: best ? `${best.design}: ${us(best, "µs")}` : "no peer ran",
        ratio: perJob(ours) / perJob(best),
      };
    },
  },
  {
    name: "latency: fastpool round trip (shared lane) vs the SAB ring floor (time ratio)",
    goal: atMost(3),
    measure() {
      const ours = results.get("lat:fastpool");
      const floor = results.get("lat:sab");
      return {
        ours: us(ours, "µs"),
        theirs: `floor: ${us(floor, "µs")}`,
        ratio: perJob(ours) / perJob(floor),
      };
    },
  },
  {
    name: "CPU: fastpool 2 workers vs 1 (speedup)",
    goal: atLeast(1.8),
    measure: () => ({
      ours: `2 w: ${fmt(ms("cpu:fastpool:2"))} ms`,
      theirs: `1 w: ${fmt(ms("cpu:fastpool:1"))} ms`,
      ratio: ms("cpu:fastpool:1") / ms("cpu:fastpool:2"),
    }),
  },
  {
    name: "CPU: fastpool 2 workers vs plain pool 2 workers (time ratio, separate runs)",
    goal: atMost(1),
    measure: () => ({
      ours: `${fmt(ms("cpu:fastpool:2"))} ms`,
      theirs: `plain: ${fmt(ms("cpu:plain:2"))} ms`,
      ratio: ms("cpu:fastpool:2") / ms("cpu:plain:2"),
    }),
  },
  {
    name: "CPU: fastpool 2 workers vs plain pool 2 workers (median ratio, alternating rounds)",
    goal: atMost(1),
    measure: () => ({
      ours: `${fmt(shared.cpuPaired?.a.median ?? NaN)} ms`,
      theirs: `plain: ${fmt(shared.cpuPaired?.b.median ?? NaN)} ms`,
      ratio: shared.cpuPaired?.ratio ?? NaN,
    }),
  },
  {
    name: "ex_simple_sum: fastpool map vs plain loop (time ratio)",
    goal: atMost(20),
    measure: () => ({
      ours: `${fmt(ms("sum:map"))} ms`,
      theirs: `loop: ${fmt(ms("sum:loop"))} ms`,
      ratio: ms("sum:map") / ms("sum:loop"),
    }),
  },
  ...["fastpool-submit", "fastpool-run", "fastpool-map"].map((design): Target => ({
    name: `memory ${count(QUEUED_N)} queued: ${design} vs plain pool (peak RSS growth ratio)`,
    goal: atMost(1),
    measure() {
      const ours = childResults.get(`mem:${design}`)?.peak ?? NaN;
      const plain = childResults.get("mem:plain-run")?.peak ?? NaN;
      return { ours: `${fmt(ours)} MiB`, theirs: `plain: ${fmt(plain)} MiB`, ratio: ours / plain };
    },
  })),
];

/** Prints the targets with this run's ratios: PASS, MISS, or n/a where a side was not measured. */
export function targetTable(): void {
  const rows = TARGETS.map(({ name, goal, measure }) => {
    const { ours, theirs, ratio } = measure();
    const met = goal.at === "≥" ? ratio >= goal.value : ratio <= goal.value;
    const result = ratio === ratio ? (met ? "PASS" : "MISS") : "n/a";
    const shown = ratio === ratio ? ratio.toPrecision(4) : "–";
    return [name, ours, theirs, shown, `${goal.at} ${goal.value}`, result];
  });
  log("### Targets (ratios from this run, same runtime)");
  log();
  log(table(["target", "fastpool", "compared with", "ratio", "goal", "result"], rows, 3));
  log();
}
