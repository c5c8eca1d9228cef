/**
 * The two checkouts an A/B bench compares in one process (`round_trip_ab.ts`,
 * `run_ab.ts`, `map_ab.ts`): the `mod.ts` paths given on the command line, and a pool of
 * 2 started workers from each.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { args, exit } from "./_env.ts";

/** What the A/B benches use of a pool, whichever checkout it comes from. */
export interface PoolLike {
  run(task: (x: number) => number, x: number): Promise<number>;
  map(task: (x: never) => unknown, items: Iterable<unknown>, done: boolean): number;
  submitDone(task: (x: never) => unknown, done: boolean, arg: unknown): number;
  wait(): Promise<boolean>;
  shutdown(): Promise<unknown>;
}

/**
 * The two `mod.ts` paths of the command line, and a pool of 2 started
 * workers from each (with `options` besides); exits with a usage line
 * naming `bench` without two.
 */
export async function checkoutPools(
  bench: string,
  options: Record<string, unknown> = {},
): Promise<{ paths: string[]; pools: PoolLike[] }> {
  const paths = args.filter((arg) => !arg.startsWith("-"));
  if (paths.length !== 2) {
    // deno-lint-ignore no-console
    console.error(`usage: ${bench} <A/mod.ts> <B/mod.ts>`);
    exit(2);
  }
  const pools: PoolLike[] = [];
  for (const path of paths) {
    const { Pool } = await import(pathToFileURL(resolve(path)).href);
    pools.push(new Pool({ maxChildren: 2, minChildren: 2, ...options }) as PoolLike);
  }
  return { paths, pools };
}

/**
 * Times `round(pool, kind)` for every kind on both checkouts' pools in
 * alternating rounds (`rounds`, the first `dropped` not counted, the order
 * swapped every round), after one warm-up round of `warmUp` each; shuts the
 * pools down, then prints `title`, a table of each one's median ms per kind
 * (headed by `columns`), and B ÷ A.
 */
export async function compareCheckouts<Kind extends string>(
  { paths, pools }: { paths: string[]; pools: PoolLike[] },
  kinds: readonly Kind[],
  round: (pool: PoolLike, kind: Kind) => Promise<number>,
  { warmUp, rounds = 24, dropped = 4, title, columns }: {
    warmUp: Kind;
    rounds?: number;
    dropped?: number;
    title: string;
    columns: readonly string[];
  },
): Promise<void> {
  const times = kinds.map(() => [[], []] as number[][]);
  for (const pool of pools) await round(pool, warmUp);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < kinds.length; j++) {
      for (let k = 0; k < 2; k++) {
        const which = r % 2 === 0 ? k : 1 - k;
        const ms = await round(pools[which]!, kinds[j]!);
        if (r >= dropped) times[j]![which]!.push(ms);
      }
    }
  }
  for (const pool of pools) await pool.shutdown();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  // deno-lint-ignore no-console
  const print = console.log;
  print(`${title}, medians of ${rounds - dropped} rounds each`);
  print(`| checkout | ${columns.join(" | ")} |`);
  print(`| --- |${" --- |".repeat(columns.length)}`);
  paths.forEach((path, k) => {
    const cells = times.map((byCheckout) => median(byCheckout[k]!).toFixed(1));
    print(`| ${"AB"[k]} ${path} | ${cells.join(" | ")} |`);
  });
  const ratios = kinds.map((kind, j) =>
    `${kind} ${(median(times[j]![1]!) / median(times[j]![0]!)).toFixed(3)}`
  );
  print(`B ÷ A, medians: ${ratios.join(", ")}`);
}
