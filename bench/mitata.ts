/**
 * The cross-runtime benchmark runner (issue 5): every scenario, every design
 * side by side in one run, then a ratio table against the targets.
 *
 *   deno run -A bench/mitata.ts [--quick]
 *   bun bench/mitata.ts [--quick]
 *
 * (`BENCH_QUICK=1` is the same as `--quick`.) Timing is mitata's `measure`
 * (see `_measure.ts`); memory figures come from fresh child processes
 * (`_child.ts`). Designs: fastpool; a plain one-`postMessage`-per-job pool,
 * a coalesced-message pool and a SharedArrayBuffer-ring floor, all in
 * `bench/`; the npm peers that run on this runtime.
 *
 * @module
 */

// deno-lint-ignore-file no-console
import {
  add1Inline,
  CoalescedPool,
  createFastpool,
  expectedSum,
  fastpoolRun,
  fibAll,
  type Peer,
  peers,
  plainRun,
  roundTrips,
  type RunPool,
  SabRing,
  sumDone,
  tinyCoalesced,
  tinyMap,
  tinyRunAll,
  tinySubmit,
} from "./_designs.ts";
import {
  args,
  cpuModel,
  exit,
  loadAverage,
  poolSize,
  quick,
  runChild,
  runtime,
  runtimeVersion,
} from "./_env.ts";
import type { ChildResult } from "./_child.ts";
import {
  CALL_BUDGET_MS,
  count,
  fmt,
  paired,
  type PairedTiming,
  table,
  time,
  type Timing,
} from "./_measure.ts";
import { fib, FIB_27, FIB_N } from "./_tasks.ts";

const SIZES = quick ? [20_000, 200_000] : [100_000, 1_000_000];
const ROUND_TRIPS = quick ? 1_000 : 10_000;
const FIB_JOBS = 32;
const FIB_ARG = quick ? 25 : FIB_N;
const FIB_VALUE = quick ? 75025 : FIB_27;
const MAP_FIB_ARG = 20;
const SUM_ITEMS = quick ? 100_000 : 1_000_000;
const THREADLET_N = quick ? 100_000 : 1_000_000;
const THREADLET_WORKERS = quick ? [1, 2] : [1, 2, 4];
const QUEUED_N = quick ? 20_000 : 100_000;

/** One measured (or skipped) line of a scenario. */
interface Row {
  design: string;
  api: string;
  /** Jobs (or round trips) per call. */
  n: number;
  timing?: Timing;
  note?: string;
}

const log = (line = "") => console.log(line);
const results = new Map<string, Row>();

/** µs per job (or per round trip) of a row, or NaN. */
function perJob(row: Row | undefined): number {
  return row?.timing ? row.timing.median * 1000 / row.n : NaN;
}

function print(title: string, rows: Row[], unit = "µs/job", reference?: Row): void {
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
async function sized(
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
async function calibrate(fn: (n: number) => Promise<number>, n: number): Promise<number> {
  await fn(Math.min(n, 200));
  const t0 = performance.now();
  await fn(n);
  return (performance.now() - t0) * 1000 / n;
}

async function withPeer<T>(
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

// ------------------------------------------------------------- scenarios

async function throughput(): Promise<void> {
  const bySize = new Map<number, Row[]>(SIZES.map((n) => [n, []]));
  const calN = quick ? 2_000 : 5_000;
  const sizes = async (
    name: string,
    api: string,
    fn: (n: number) => Promise<number>,
    estimate0: number,
    expected: (n: number) => number = expectedSum,
  ) => {
    let estimate = estimate0;
    for (const [i, n] of SIZES.entries()) {
      estimate = await sized(
        `tp:${n}:${name}:${api}`,
        name,
        api,
        n,
        fn,
        expected,
        estimate,
        bySize.get(n)!,
        { shrink: i === 0, maxSamples: 50 },
      );
    }
  };

  {
    const pool = createFastpool(poolSize);
    await pool.run(add1Inline, 0);
    await sizes(
      "fastpool",
      "submit + wait()",
      (n) => tinySubmit(pool, n),
      await calibrate((n) => tinySubmit(pool, n), calN),
    );
    await sizes(
      "fastpool",
      "run + Promise.all",
      (n) => tinyRunAll(fastpoolRun(pool), n),
      await calibrate((n) => tinyRunAll(fastpoolRun(pool), n), calN),
    );
    const items = Array.from({ length: SIZES[SIZES.length - 1]! }, (_, i) => i);
    const mapN = (n: number) => tinyMap(pool, n === items.length ? items : items.slice(0, n));
    await sizes("fastpool", "map + wait()", mapN, await calibrate(mapN, calN));
    await pool.shutdown();
  }
  {
    const pool = plainRun(poolSize);
    await sizes(
      "plain pool",
      "run + Promise.all",
      (n) => tinyRunAll(pool, n),
      await calibrate((n) => tinyRunAll(pool, n), calN),
    );
    await pool.close();
  }
  for (const typed of [false, true]) {
    const pool = new CoalescedPool(poolSize, typed);
    const name = typed ? "coalesced (Float64Array)" : "coalesced (Array)";
    await sizes(
      name,
      "submit + wait()",
      (n) => tinyCoalesced(pool, n),
      await calibrate((n) => tinyCoalesced(pool, n), calN),
    );
    pool.close();
  }
  {
    const ring = new SabRing(poolSize, SIZES[SIZES.length - 1]!);
    await ring.ready;
    await sizes(
      "SAB ring (floor)",
      "indices via SAB",
      (n) => ring.sum(n),
      await calibrate((n) => ring.sum(n), calN),
    );
    ring.close();
  }
  for (const peer of peers) {
    await withPeer(peer, bySize.get(SIZES[0]!)!, "run + Promise.all", SIZES[0]!, async (pool) => {
      await pool.run("add1", 0);
      const estimate = await calibrate((n) => tinyRunAll(pool, n), quick ? 1_000 : 2_000);
      await sizes(peer.name, "run + Promise.all", (n) => tinyRunAll(pool, n), estimate);
    });
  }
  for (const n of SIZES) {
    const rows = bySize.get(n)!;
    print(
      `1. Throughput: ${
        count(n)
      } tiny jobs (x => x + 1) submitted at once, all results collected, ${poolSize} workers`,
      rows,
      "µs/job",
      results.get(`tp:${n}:fastpool:submit + wait()`),
    );
  }
}

async function latency(): Promise<void> {
  const rows: Row[] = [];
  const one = async (key: string, pool: RunPool, api = "await run(), one at a time") => {
    await pool.run("add1", 0);
    const estimate = await calibrate((k) => roundTrips(pool, k), 200);
    await sized(
      `lat:${key}`,
      pool.name,
      api,
      ROUND_TRIPS,
      (k) => roundTrips(pool, k),
      (k) => k,
      estimate,
      rows,
      { maxSamples: 5 },
    );
  };
  {
    const pool = createFastpool(poolSize);
    await one("fastpool", fastpoolRun(pool));
    await pool.shutdown();
  }
  {
    const pool = plainRun(poolSize);
    await one("plain", pool);
    await pool.close();
  }
  {
    const ring = new SabRing(poolSize, 16);
    await ring.ready;
    const spinning: RunPool = {
      name: "SAB ring (floor)",
      run: (_task, x) => ring.roundTrip(x, 0.2),
      close: () => Promise.resolve(ring.close()),
    };
    await one("sab", spinning, "both sides spin ≤ 0.2 ms, then sleep");
    ring.close();
  }
  for (const peer of peers) {
    await withPeer(
      peer,
      rows,
      "await run(), one at a time",
      ROUND_TRIPS,
      (pool) => one(`peer:${peer.name}`, pool),
    );
  }
  print(
    `2. Latency: ${
      count(ROUND_TRIPS)
    } sequential round trips (await pool.run(x => x + 1) one at a time), ${poolSize} workers`,
    rows,
    "µs/round trip",
    results.get("lat:fastpool"),
  );
}

async function cpuScaling(): Promise<void> {
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
    cpuPaired = await paired(
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

/** fastpool vs the plain pool on `fib`, 2 workers, timed in alternation. */
let cpuPaired: PairedTiming | undefined;

/**
 * `map` of many medium jobs with integer items, which travel as one
 * Float64Array: they must reach the task as integers, or engines run it on
 * their slower floating-point paths (fib(20) ran 1.7 times slower on Deno).
 */
async function cpuMap(): Promise<void> {
  const rows: Row[] = [];
  const n = quick ? 1_000 : 4_000;
  const items = Array.from({ length: n }, () => MAP_FIB_ARG);
  const expected = n * fib(MAP_FIB_ARG);
  await sized(
    "cpumap:main",
    "main thread",
    "loop",
    n,
    () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += fib(items[i]!);
      return Promise.resolve(sum);
    },
    () => expected,
    NaN,
    rows,
    { shrink: false },
  );
  const pool = createFastpool(2);
  try {
    const mapAll = async () => {
      pool.map("fib", items);
      await pool.wait();
      return sumDone(pool);
    };
    await mapAll();
    await sized(
      "cpumap:fastpool",
      "fastpool, 2 workers",
      "map + wait()",
      n,
      mapAll,
      () => expected,
      NaN,
      rows,
      { shrink: false },
    );
  } finally {
    await pool.shutdown();
  }
  print(
    `3b. CPU, integer map items: ${count(n)} × fib(${MAP_FIB_ARG}) via map()`,
    rows,
    "µs/job",
    results.get("cpumap:main"),
  );
}

async function simpleSum(): Promise<void> {
  const rows: Row[] = [];
  const n = SUM_ITEMS;
  const items = Array.from({ length: n }, (_, i) => i);
  const expected = expectedSum(n);
  await sized(
    "sum:loop",
    "plain loop",
    "sum += f(x)",
    n,
    () => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += add1Inline(items[i]!);
      return Promise.resolve(sum);
    },
    () => expected,
    NaN,
    rows,
    // About 1 ms a call: many samples, or the median moves the target's ratio by ±2.
    { maxSamples: 200 },
  );
  await sized(
    "sum:loop-array",
    "plain loop",
    "results to an array, then summed",
    n,
    () => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(add1Inline(items[i]!));
      let sum = 0;
      for (let i = 0; i < n; i++) sum += out[i]!;
      return Promise.resolve(sum);
    },
    () => expected,
    NaN,
    rows,
  );
  const pool = createFastpool(poolSize);
  await pool.run(add1Inline, 0);
  await tinyMap(pool, items.slice(0, 10_000));
  await sized(
    "sum:map",
    "fastpool",
    "map + wait(), done drained",
    n,
    () => tinyMap(pool, items),
    () => expected,
    NaN,
    rows,
    { maxSamples: 40 },
  );
  await sized(
    "sum:submit",
    "fastpool",
    "submit per item + wait(), done drained",
    n,
    () => tinySubmit(pool, n),
    () => expected,
    NaN,
    rows,
  );
  await pool.shutdown();
  print(
    `4. ex_simple_sum: ${count(n)} integers mapped (x => x + 1) and summed, ${poolSize} workers`,
    rows,
    "µs/item",
    results.get("sum:loop"),
  );
}

const childResults = new Map<string, ChildResult>();

async function child(
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

async function threadlet(): Promise<void> {
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

async function memory(): Promise<void> {
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

// ---------------------------------------------------------------- targets

function ratioTable(): void {
  const rows: string[][] = [];
  const goal = (
    target: string,
    ours: string,
    theirs: string,
    ratio: number,
    want: string,
    pass: (r: number) => boolean,
  ) => {
    const ok = ratio === ratio ? (pass(ratio) ? "PASS" : "MISS") : "n/a";
    rows.push([target, ours, theirs, ratio === ratio ? ratio.toPrecision(4) : "–", want, ok]);
  };
  const us = (row: Row | undefined, unit = "µs/job") =>
    row?.timing
      ? `${fmt(perJob(row))} ${unit}${row.note ? ` (n=${count(row.n)})` : ""}`
      : row?.note
      ? "not measured"
      : "–";

  const small = SIZES[0]!;
  for (const api of ["submit + wait()", "run + Promise.all"]) {
    const ours = results.get(`tp:${small}:fastpool:${api}`);
    for (const peer of ["poolifier-web-worker", "piscina"]) {
      const theirs = results.get(`tp:${small}:${peer}:run + Promise.all`);
      goal(
        `throughput ${count(small)}: fastpool ${api} vs ${peer} (speedup)`,
        us(ours),
        `${peer}: ${theirs ? us(theirs) : "not run here"}`,
        perJob(theirs) / perJob(ours),
        "≥ 10",
        (r) => r >= 10,
      );
    }
  }
  for (const n of SIZES) {
    const ours = results.get(`tp:${n}:fastpool:submit + wait()`);
    const coalesced = results.get(`tp:${n}:coalesced (Array):submit + wait()`);
    const floor = results.get(`tp:${n}:SAB ring (floor):indices via SAB`);
    goal(
      `throughput ${count(n)}: fastpool submit vs coalesced (Array) (time ratio)`,
      us(ours),
      `coalesced: ${us(coalesced)}`,
      perJob(ours) / perJob(coalesced),
      "≤ 1",
      (r) => r <= 1,
    );
    goal(
      `throughput ${count(n)}: fastpool submit vs SAB floor (time ratio, aim)`,
      us(ours),
      `floor: ${us(floor)}`,
      perJob(ours) / perJob(floor),
      "≤ 3",
      (r) => r <= 3,
    );
  }
  {
    const ours = results.get("lat:fastpool");
    let best: Row | undefined;
    for (const peer of peers) {
      const row = results.get(`lat:peer:${peer.name}`);
      if (row?.timing && (!best || perJob(row) < perJob(best))) best = row;
    }
    goal(
      "latency: fastpool round trip vs best npm peer's (time ratio)",
      us(ours, "µs"),
      best ? `${best.design}: ${us(best, "µs")}` : "no peer ran",
      perJob(ours) / perJob(best),
      "≤ 0.5",
      (r) => r <= 0.5,
    );
  }
  {
    const one = results.get("cpu:fastpool:1");
    const two = results.get("cpu:fastpool:2");
    const plain = results.get("cpu:plain:2");
    goal(
      "CPU: fastpool 2 workers vs 1 (speedup)",
      `2 w: ${fmt(two?.timing?.median ?? NaN)} ms`,
      `1 w: ${fmt(one?.timing?.median ?? NaN)} ms`,
      (one?.timing?.median ?? NaN) / (two?.timing?.median ?? NaN),
      "≥ 1.8",
      (r) => r >= 1.8,
    );
    goal(
      "CPU: fastpool 2 workers vs plain pool 2 workers (time ratio, separate runs)",
      `${fmt(two?.timing?.median ?? NaN)} ms`,
      `plain: ${fmt(plain?.timing?.median ?? NaN)} ms`,
      (two?.timing?.median ?? NaN) / (plain?.timing?.median ?? NaN),
      "≤ 1",
      (r) => r <= 1,
    );
    goal(
      "CPU: fastpool 2 workers vs plain pool 2 workers (median ratio, alternating rounds)",
      `${fmt(cpuPaired?.a.median ?? NaN)} ms`,
      `plain: ${fmt(cpuPaired?.b.median ?? NaN)} ms`,
      cpuPaired?.ratio ?? NaN,
      "≤ 1",
      (r) => r <= 1,
    );
  }
  {
    const map = results.get("sum:map");
    const loop = results.get("sum:loop");
    goal(
      "ex_simple_sum: fastpool map vs plain loop (time ratio)",
      `${fmt(map?.timing?.median ?? NaN)} ms`,
      `loop: ${fmt(loop?.timing?.median ?? NaN)} ms`,
      (map?.timing?.median ?? NaN) / (loop?.timing?.median ?? NaN),
      "≤ 20",
      (r) => r <= 20,
    );
  }
  {
    const plain = childResults.get("mem:plain-run");
    for (const design of ["fastpool-submit", "fastpool-run", "fastpool-map"]) {
      const ours = childResults.get(`mem:${design}`);
      goal(
        `memory ${count(QUEUED_N)} queued: ${design} vs plain pool (peak RSS growth ratio)`,
        `${fmt(ours?.peak ?? NaN)} MiB`,
        `plain: ${fmt(plain?.peak ?? NaN)} MiB`,
        (ours?.peak ?? NaN) / (plain?.peak ?? NaN),
        "≤ 1",
        (r) => r <= 1,
      );
    }
  }
  log("### Targets (ratios from this run, same runtime)");
  log();
  log(table(["target", "fastpool", "compared with", "ratio", "goal", "result"], rows, 3));
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
    ratioTable();
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
