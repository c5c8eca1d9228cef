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
