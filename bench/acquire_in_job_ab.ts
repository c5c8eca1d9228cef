/**
 * Two versions of fastpool side by side in one process: uncontended
 * `lock.acquireSync()` (or, given `--try`, `lock.tryAcquire()`) +
 * `lock.release()` pairs inside a pool job, where the worker checks at each
 * acquire whether the pool has failed the job (its stopped ring). Each checkout's pool of one worker runs a job of 200,000
 * pairs with that checkout's `Lock`, 15 times, the order swapped each round,
 * after 2 warm-up jobs each. Prints each one's median ns per pair, and B ÷ A.
 *
 * The table in `bench/README.md` compares against 1ef305a (one check per
 * acquire, reading the whole ring); HEAD~1 of the change that added this
 * bench (two checks, the whole ring each) would show a larger gain:
 *
 *   git worktree add /tmp/before 1ef305a
 *   deno run -A bench/acquire_in_job_ab.ts /tmp/before/mod.ts ./mod.ts
 *   bun bench/acquire_in_job_ab.ts /tmp/before/mod.ts ./mod.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { args, exit, runtime } from "./_env.ts";

interface LockLike {
  acquireSync(): boolean;
  tryAcquire(): boolean;
  release(): void;
}
interface PoolLike {
  run(
    task: (lock: LockLike, n: number) => number,
    lock: LockLike,
    n: number,
  ): Promise<number>;
  shutdown(): Promise<unknown>;
}

const paths = args.filter((arg) => !arg.startsWith("-"));
if (paths.length !== 2) {
  console.error("usage: acquire_in_job_ab.ts <A/mod.ts> <B/mod.ts>");
  exit(2);
}
const PAIRS = 200_000;
const ROUNDS = 15;

/** The jobs: ms for `n` pairs, timed on the worker's clock. */
const syncPairs = (lock: LockLike, n: number): number => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    lock.release();
  }
  return performance.now() - t0;
};
const tryPairs = (lock: LockLike, n: number): number => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    lock.tryAcquire();
    lock.release();
  }
  return performance.now() - t0;
};
const tries = args.includes("--try");
const pairs = tries ? tryPairs : syncPairs;

const sides: { pool: PoolLike; lock: LockLike; ns: number[] }[] = [];
for (const path of paths) {
  const { Pool, Lock } = await import(pathToFileURL(resolve(path)).href);
  const pool = new Pool({ maxChildren: 1, minChildren: 1 }) as PoolLike;
  const lock = new Lock() as LockLike;
  for (let i = 0; i < 2; i++) await pool.run(pairs, lock, PAIRS);
  sides.push({ pool, lock, ns: [] });
}
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? sides : [...sides].reverse();
  for (const side of order) {
    side.ns.push((await side.pool.run(pairs, side.lock, PAIRS)) * 1e6 / PAIRS);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const [a, b] = sides.map((side) => median(side.ns)) as [number, number];
console.log(
  `${runtime}: ${
    tries ? "tryAcquire" : "acquireSync"
  }()+release() in a job, ns per pair (median of ${ROUNDS})`,
);
console.log(`  A ${paths[0]}: ${a.toFixed(1)}`);
console.log(`  B ${paths[1]}: ${b.toFixed(1)}`);
console.log(`  B / A: ${(b / a).toFixed(2)}`);
for (const side of sides) await side.pool.shutdown();
