/**
 * One memory-sensitive measurement in a fresh process, so one design's
 * garbage never pollutes another's figures. `bench/mitata.ts` starts it as
 *
 *   deno run -A --v8-flags=--expose-gc bench/_child.ts <what> <design> <n> <workers>
 *   bun bench/_child.ts <what> <design> <n> <workers>
 *
 * and reads the JSON it prints last. Memory is RSS in MiB, as growth over
 * the RSS once the pool is started and warm; the peak is the kernel's
 * `VmHWM`, reset just before the measured part.
 *
 * - `queued`: `n` tiny jobs submitted at once; RSS right after submitting
 *   (the jobs are queued), and the peak until all results are in.
 * - `submit`: threadlet's "submit": `n` submits to a pool; the time of the
 *   submit calls, then (untimed) until all are done; the peak of both.
 * - `e2e`: threadlet's "e2e[N]": `n` jobs submitted in chunks of 10,000 (one
 *   chunk per macrotask) while the results are consumed as they come.
 *
 * @module
 */

// deno-lint-ignore-file no-console
import {
  add1Inline,
  consumeAcquire,
  consumeAsCompleted,
  consumeInOrder,
  createFastpool,
  expectedSum,
  type FastPool,
  PlainPool,
  produce,
  sumDone,
} from "./_designs.ts";
import { args, check, exit, gc, nextTask, peakRss, resetPeakRss, rss } from "./_env.ts";
import { CoalescedPool } from "./_coalesced_pool.ts";
import { PlainTask } from "./_plain_pool.ts";

const [what, design, nText, workersText] = args;
const n = Number(nText);
const workers = Number(workersText);
const MiB = 2 ** 20;
const CHUNK = 10_000;

/** What the child prints. */
export interface ChildResult {
  /** Time of the measured part, ms. */
  ms: number;
  /** `submit`, `queued`: time of the submit calls alone, ms. */
  submitMs?: number;
  /** `submit`, `queued`: RSS growth right after submitting, MiB. */
  afterSubmit?: number;
  /** Peak RSS growth, MiB. */
  peak: number;
  /** RSS growth at the end, results still held, MiB. */
  end: number;
}

interface Subject {
  /** Submits job `i` (`add1(i)`). */
  submit(i: number): void;
  /** Resolves with the sum of all results once every submitted job is done. */
  finish(): Promise<number>;
  close(): void;
}

/** Awaits and sums the promises, and empties the array for the next round. */
async function sumAll(promises: Promise<number>[]): Promise<number> {
  const results = await Promise.all(promises);
  promises.length = 0;
  return results.reduce((a, b) => a + b, 0);
}

function subject(name: string): Subject {
  if (name.startsWith("fastpool")) {
    const pool = createFastpool(workers);
    if (name === "fastpool-run") {
      const promises: Promise<number>[] = [];
      return {
        submit: (i) => void promises.push(pool.run(add1Inline, i)),
        finish: () => sumAll(promises),
        close: () => pool.terminate(),
      };
    }
    if (name === "fastpool-map") {
      const items: number[] = [];
      return {
        submit: (i) => void items.push(i),
        finish: async () => {
          pool.map(add1Inline, items);
          items.length = 0;
          await pool.wait();
          return sumDone(pool);
        },
        close: () => pool.terminate(),
      };
    }
    return {
      submit: (i) => void pool.submit(add1Inline, i),
      finish: async () => {
        await pool.wait();
        return sumDone(pool);
      },
      close: () => pool.terminate(),
    };
  }
  if (name === "plain-run") {
    const pool = new PlainPool(workers);
    const promises: Promise<number>[] = [];
    return {
      submit: (i) => void promises.push(pool.run(PlainTask.add1, i)),
      finish: () => sumAll(promises),
      close: () => pool.close(),
    };
  }
  if (name === "coalesced-submit") {
    const pool = new CoalescedPool(workers);
    return {
      submit: (i) => pool.submit(i),
      finish: async () => {
        await pool.wait();
        const done = pool.done;
        pool.done = [];
        return done.reduce((a, b) => a + b, 0);
      },
      close: () => pool.close(),
    };
  }
  throw new TypeError(`Unknown design ${name}`);
}

async function warm(s: Subject): Promise<void> {
  for (let i = 0; i < 1000; i++) s.submit(i);
  check(await s.finish(), expectedSum(1000), "warm-up");
}

/** Fresh subject, warmed, collected; returns it with the baseline RSS. */
async function start(name: string): Promise<[Subject, number]> {
  // A separate warm-up pool, so the measured one starts with empty queues but
  // the code is compiled and the runtime's worker machinery is loaded.
  const warmup = subject(name);
  await warm(warmup);
  warmup.close();
  const s = subject(name);
  s.submit(0);
  check(await s.finish(), 1, "first job");
  await nextTask();
  gc?.();
  const base = rss();
  resetPeakRss();
  return [s, base];
}

function mib(bytes: number): number {
  return Math.round(bytes / MiB * 10) / 10;
}

/**
 * `n` jobs submitted in one loop, then all results: the loop's time and the
 * RSS growth right after it ("submit", "queued"), the peak and the end.
 */
async function submitAll(): Promise<ChildResult> {
  const [s, base] = await start(design!);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) s.submit(i);
  const submitMs = performance.now() - t0;
  const afterSubmit = rss() - base;
  const sum = await s.finish();
  const ms = performance.now() - t0;
  check(sum, expectedSum(n), `${design} sum`);
  const peak = (peakRss() ?? rss()) - base;
  const end = rss() - base;
  s.close();
  return { ms, submitMs, afterSubmit: mib(afterSubmit), peak: mib(peak), end: mib(end) };
}

async function e2e(): Promise<ChildResult> {
  let sum = 0;
  let base = 0;
  let t0 = 0;
  let close: () => void;
  if (design === "plain-await") {
    const pool = new PlainPool(workers);
    await pool.run(PlainTask.add1, 0);
    await nextTask();
    gc?.();
    base = rss();
    resetPeakRss();
    t0 = performance.now();
    const promises: Promise<number>[] = [];
    const producer = produce(n, CHUNK, (i) => promises.push(pool.run(PlainTask.add1, i)));
    sum = await consumeInOrder(promises, n, producer);
    await producer.done;
    close = () => pool.close();
  } else {
    const pool: FastPool = createFastpool(workers);
    await pool.run(add1Inline, 0);
    for (let i = 0; i < 1000; i++) pool.submit(add1Inline, i);
    await pool.wait();
    sumDone(pool);
    while (pool.doneCount.tryAcquire());
    await nextTask();
    gc?.();
    base = rss();
    resetPeakRss();
    t0 = performance.now();
    const producer = produce(n, CHUNK, (i) => pool.submit(add1Inline, i));
    if (design === "fastpool-acquire") sum = await consumeAcquire(pool, n);
    else if (design === "fastpool-ascompleted") sum = await consumeAsCompleted(pool, n, producer);
    else {
      throw new TypeError(`Unknown design ${design}`);
    }
    await producer.done;
    close = () => pool.terminate();
  }
  const ms = performance.now() - t0;
  check(sum, expectedSum(n), `${design} sum`);
  const peak = (peakRss() ?? rss()) - base;
  const end = rss() - base;
  close();
  return { ms, peak: mib(peak), end: mib(end) };
}

if (import.meta.main) {
  try {
    const result = what === "queued" || what === "submit" ? await submitAll() : await e2e();
    console.log(JSON.stringify(result));
    exit(0);
  } catch (error) {
    console.error(error);
    exit(1);
  }
}
