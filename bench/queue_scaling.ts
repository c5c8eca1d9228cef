/**
 * Whether the queue's operations cost the same however long the queue is:
 * each is timed per call with `n` jobs queued (all in one tick, so nothing
 * leaves for a worker meanwhile), at two sizes, and the ratio of the two
 * costs printed (about 1 when flat, about 10 when an operation walks the
 * queue). Operations:
 *
 * - `plain behind low`: plain two-argument submits behind `n` jobs of
 *   priority −1;
 * - `priorities mixed`: submits alternating priority 0 and 1;
 * - `cancel(id)`: each of `n` queued jobs cancelled by id, in random order;
 * - `cancel(id) in runs`: every other of `n` one-argument submits (which
 *   travel as runs of jobs in one entry) cancelled by id, in random order:
 *   each cuts an entry in two;
 * - `cancel(id) missing`: 1,000 cancels of ids no longer queued;
 * - `abort queued exec`: `n` queued `exec()`s aborted in random order;
 * - `jobs.pop()`: the queue emptied from the back;
 * - `jobs.shift() of maps`: a queue of two-item `map`s emptied from the
 *   front, as workers take them (entries of several jobs, indexed by first id);
 * - `delayed read`: 1,000 reads of `pool.delayed.length` with `n` delayed jobs,
 *   after a first read.
 *
 *   deno run -A bench/queue_scaling.ts [small] [large]
 *   bun bench/queue_scaling.ts [small] [large]
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { args } from "./_env.ts";

const two = (a: number, _b: number) => a;
const one = (a: number) => a;

/** `ids` in a fixed random order. */
function shuffled(ids: number[]): number[] {
  let seed = 12345;
  for (let i = ids.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}

/** Fills a fresh pool with what `op` needs for `n`, then times `op`: µs per call. */
type Operation = (pool: Pool, n: number) => { calls: number; run: () => void };

const operations: Record<string, Operation> = {
  "plain behind low": (pool, n) => {
    for (let i = 0; i < n; i++) pool.submitPriority(-1, two, i, 0);
    return {
      calls: n,
      run: () => {
        for (let i = 0; i < n; i++) pool.submit(two, i, 0);
      },
    };
  },
  "priorities mixed": (pool, n) => ({
    calls: n,
    run: () => {
      for (let i = 0; i < n / 2; i++) {
        pool.submit(two, i, 0);
        pool.submitPriority(1, two, i, 0);
      }
    },
  }),
  "cancel(id)": (pool, n) => {
    const ids = shuffled(Array.from({ length: n }, (_, i) => pool.submit(two, i, 0)));
    return { calls: n, run: () => ids.forEach((id) => pool.cancel(id)) };
  },
  "cancel(id) in runs": (pool, n) => {
    const ids = Array.from({ length: n }, (_, i) => pool.submit(one, i));
    const every = shuffled(ids.filter((_, i) => i % 2 === 1));
    return { calls: every.length, run: () => every.forEach((id) => pool.cancel(id)) };
  },
  "cancel(id) missing": (pool, n) => {
    const gone = pool.submit(two, -1, 0);
    pool.cancel(gone);
    for (let i = 0; i < n; i++) pool.submit(two, i, 0);
    return {
      calls: 1000,
      run: () => {
        for (let i = 0; i < 1000; i++) pool.cancel(gone);
      },
    };
  },
  "abort queued exec": (pool, n) => {
    const controllers = Array.from({ length: n }, () => new AbortController());
    for (const [i, controller] of controllers.entries()) {
      pool.exec(two, [i, 0], { signal: controller.signal }).catch(() => {});
    }
    const order = shuffled(controllers.map((_, i) => i));
    return { calls: n, run: () => order.forEach((i) => controllers[i]!.abort()) };
  },
  "delayed read": (pool, n) => {
    for (let i = 0; i < n; i++) pool.submitLater(1e9, two, i, 0);
    if (pool.delayed.length !== n) throw new Error("lost a timer");
    return {
      calls: 1000,
      run: () => {
        for (let i = 0; i < 1000; i++) {
          if (pool.delayed.length !== n) throw new Error("lost a timer");
        }
      },
    };
  },
  "jobs.shift() of maps": (pool, n) => {
    for (let i = 0; i < n; i += 2) pool.map(one, [i, i + 1]);
    return {
      calls: n,
      run: () => {
        for (let i = 0; i < n; i++) pool.jobs.shift();
      },
    };
  },
  "jobs.pop()": (pool, n) => {
    for (let i = 0; i < n; i++) pool.submit(two, i, 0);
    return {
      calls: n,
      run: () => {
        for (let i = 0; i < n; i++) pool.jobs.pop();
      },
    };
  },
};

function timed(op: Operation, n: number): number {
  const pool = new Pool({ maxChildren: 1 });
  try {
    const { calls, run } = op(pool, n);
    const start = performance.now();
    run();
    return (performance.now() - start) * 1000 / calls;
  } finally {
    pool.terminate();
  }
}

const [small, large] = [Number(args[0] ?? 10_000), Number(args[1] ?? 100_000)];
console.log(`| operation | µs/call, ${small} queued | µs/call, ${large} queued | ratio |`);
console.log("| --- | ---: | ---: | ---: |");
for (const [name, op] of Object.entries(operations)) {
  timed(op, 1000); // warm-up
  const a = timed(op, small);
  const b = timed(op, large);
  console.log(`| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b / a).toFixed(2)} |`);
}
