/**
 * Every pool the benchmarks compare, behind one small interface (`RunPool`:
 * a promise per job), plus the batch-style designs that have no promise per
 * job (fastpool's `submit`/`map`, the coalesced baselines, the SAB ring).
 *
 * Peers are imported lazily, so a peer that fails to load or run on this
 * runtime is reported as such and the rest still run.
 *
 * @module
 */

import { Pool } from "../mod.ts";
import { CoalescedPool } from "./_coalesced_pool.ts";
import { nextTask, runtime } from "./_env.ts";
import { PlainPool, PlainTask } from "./_plain_pool.ts";
import { SabRing } from "./_sab_ring.ts";

/** The tasks every design runs. */
export type TaskName = "add1" | "fib";

/** A pool with a promise per job. */
export interface RunPool {
  readonly name: string;
  run(task: TaskName, x: number): Promise<number>;
  close(): Promise<void>;
}

/** The tiny task as fastpool users write it: an inline function. */
export const add1Inline = (x: number): number => x + 1;

/** fastpool's pool type over the shared task module. */
export type FastPool = Pool<typeof import("./_tasks.ts")>;

/** A fixed, eager fastpool pool of `size` workers, with `_tasks.ts` as its task module (`sharedLane` as given). */
export function createFastpool(size: number, sharedLane = true): FastPool {
  return new Pool<typeof import("./_tasks.ts")>({
    maxChildren: size,
    minChildren: size,
    module: new URL("./_tasks.ts", import.meta.url),
    sharedLane,
  });
}

/** fastpool's `run()`: `add1` inline, `fib` by its export name. */
export function fastpoolRun(pool: FastPool, name = "fastpool"): RunPool {
  return {
    name,
    run: (task, x) => task === "add1" ? pool.run(add1Inline, x) : pool.run("fib", x),
    close: async () => {
      await pool.shutdown();
    },
  };
}

/** The plain one-message-per-job pool. */
export function plainRun(size: number): RunPool {
  const pool = new PlainPool(size);
  return {
    name: "plain pool",
    run: (task, x) => pool.run(PlainTask[task], x),
    close: () => {
      pool.close();
      return Promise.resolve();
    },
  };
}

/** A peer from npm: how to create it here, or why it is left out. */
export interface Peer {
  readonly name: string;
  /** Why it does not run on this runtime (checked on Deno 2.9.6 / Bun 1.4.4), or `null`. */
  readonly skip: string | null;
  create(size: number): Promise<RunPool>;
}

const here = (file: string) => new URL(file, import.meta.url);

/** piscina, tinypool, workerpool and poolifier-web-worker, with each one's documented worker-file API. */
export const peers: Peer[] = [
  {
    name: "poolifier-web-worker",
    skip: null,
    async create(size) {
      const { FixedThreadPool } = await import("poolifier-web-worker");
      const pool = new FixedThreadPool<number, number>(size, here("./_poolifier_worker.ts"), {
        errorEventHandler: (event: ErrorEvent) => {
          throw new Error(`poolifier worker error: ${event.message}`);
        },
      });
      return {
        name: "poolifier-web-worker",
        run: (task, x) => pool.execute(x, task),
        close: () => pool.destroy(),
      };
    },
  },
  {
    name: "piscina",
    skip: null,
    async create(size) {
      const { Piscina } = await import("piscina");
      const pool = new Piscina({
        filename: here("./_peer_worker.ts").href,
        minThreads: size,
        maxThreads: size,
      });
      return {
        name: "piscina",
        run: (task, x) => pool.run(x, { name: task }),
        close: () => pool.destroy(),
      };
    },
  },
  {
    name: "tinypool",
    skip: runtime === "deno"
      ? "on Deno 2.9.6 a burst of 1,000 runs right after creation never settled (single runs work, ~80 µs each)"
      : null,
    async create(size) {
      const { default: Tinypool } = await import("tinypool");
      const pool = new Tinypool({
        filename: here("./_peer_worker.ts").href,
        minThreads: size,
        maxThreads: size,
      });
      return {
        name: "tinypool",
        run: (task, x) => pool.run(x, { name: task }),
        close: () => pool.destroy(),
      };
    },
  },
  {
    name: "workerpool",
    skip: null,
    async create(size) {
      const { default: workerpool } = await import("workerpool");
      // On Bun 1.4.4 its worker_threads workers ("thread", "auto") never answer; web Workers do.
      const pool = workerpool.pool(here("./_workerpool_worker.ts").pathname, {
        minWorkers: size,
        maxWorkers: size,
        workerType: runtime === "bun" ? "web" : "thread",
      });
      return {
        name: "workerpool",
        run: (task, x) => pool.exec(task, [x]) as Promise<number>,
        close: async () => {
          await pool.terminate();
        },
      };
    },
  },
];

/** The sum of `add1(i)` for `i` in `0 … n-1`: what every tiny-job run must return. */
export function expectedSum(n: number): number {
  return n * (n + 1) / 2;
}

/** Throughput, promise style: `n` runs at once, `Promise.all`, summed. */
export async function tinyRunAll(pool: RunPool, n: number): Promise<number> {
  const promises = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) promises[i] = pool.run("add1", i);
  const results = await Promise.all(promises);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += results[i]!;
  return sum;
}

/** Drains fastpool's `done` queue, summing. */
export function sumDone(pool: FastPool): number {
  const done = pool.done;
  let sum = 0;
  while (done.length !== 0) sum += done.shift() as number;
  return sum;
}

/** Throughput, fastpool `submit` per job, then `wait()`, then `done` drained. */
export async function tinySubmit(pool: FastPool, n: number): Promise<number> {
  for (let i = 0; i < n; i++) pool.submit(add1Inline, i);
  await pool.wait();
  return sumDone(pool);
}

/**
 * {@linkcode tinySubmit} with the arrow written in the call, as the README
 * writes it: a new function value each time, of one task (one source).
 */
export async function tinySubmitArrowInCall(pool: FastPool, n: number): Promise<number> {
  for (let i = 0; i < n; i++) pool.submit((x: number) => x + 1, i);
  await pool.wait();
  return sumDone(pool);
}

/** Throughput, fastpool `map` over prebuilt items, then `wait()`, then `done` drained. */
export async function tinyMap(pool: FastPool, items: number[]): Promise<number> {
  pool.map(add1Inline, items);
  await pool.wait();
  return sumDone(pool);
}

/** Throughput, coalesced baseline: `submit` per job, `wait()`, results summed. */
export async function tinyCoalesced(pool: CoalescedPool, n: number): Promise<number> {
  for (let i = 0; i < n; i++) pool.submit(i);
  await pool.wait();
  const done = pool.done;
  pool.done = [];
  let sum = 0;
  for (let i = 0; i < done.length; i++) sum += done[i]!;
  return sum;
}

/** Latency: `k` round trips, one at a time. Returns the last result. */
export async function roundTrips(pool: RunPool, k: number): Promise<number> {
  let last = 0;
  for (let i = 0; i < k; i++) last = await pool.run("add1", i);
  return last;
}

/** CPU scaling: `jobs` × `fib(n)` at once; returns their sum. */
export async function fibAll(pool: RunPool, jobs: number, n: number): Promise<number> {
  const promises: Promise<number>[] = [];
  for (let i = 0; i < jobs; i++) promises.push(pool.run("fib", n));
  let sum = 0;
  for (const value of await Promise.all(promises)) sum += value;
  return sum;
}

/** Jobs `0 … n-1` submitted in chunks, one chunk per macrotask (threadlet's "e2e" producer). */
export interface Producer {
  /** Resolves once every job is submitted. */
  readonly done: Promise<void>;
  /** Resolves when the next chunk has been submitted. */
  progress(): Promise<void>;
}

/** Starts a {@linkcode Producer} calling `submitOne(i)` for `i` in `0 … n-1`, `chunk` per macrotask. */
export function produce(n: number, chunk: number, submitOne: (i: number) => void): Producer {
  const state: { wake: (() => void) | null } = { wake: null };
  const done = (async () => {
    for (let first = 0; first < n; first += chunk) {
      for (let i = first, end = Math.min(n, first + chunk); i < end; i++) submitOne(i);
      state.wake?.();
      state.wake = null;
      await nextTask();
    }
  })();
  return { done, progress: () => new Promise<void>((resolve) => state.wake = resolve) };
}

/** e2e consumer: `n` results as they come, by `doneCount.acquire()` + `done.shift()`, summed. */
export async function consumeAcquire(pool: FastPool, n: number): Promise<number> {
  const done = pool.done;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    await pool.doneCount.acquire();
    sum += done.shift() as number;
  }
  return sum;
}

/** e2e consumer: `n` results as they come, by `asCompleted()`, summed. */
export async function consumeAsCompleted(
  pool: FastPool,
  n: number,
  producer: Producer,
): Promise<number> {
  let sum = 0;
  let count = 0;
  while (count < n) {
    for await (const value of pool.asCompleted()) {
      sum += value as number;
      count++;
    }
    // The pool went idle between two chunks: wait for the next one.
    if (count < n) await producer.progress();
  }
  return sum;
}

/** e2e consumer for a promise per job: `n` promises awaited in order, as the producer adds them. */
export async function consumeInOrder(
  promises: Promise<number>[],
  n: number,
  producer: Producer,
): Promise<number> {
  let sum = 0;
  for (let k = 0; k < n; k++) {
    while (k >= promises.length) await producer.progress();
    sum += await promises[k]!;
  }
  return sum;
}

export { CoalescedPool, PlainPool, SabRing };
