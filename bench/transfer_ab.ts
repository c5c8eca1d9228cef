/**
 * Two versions of fastpool side by side in one process: results that move
 * buffers with `transfer()`. 2,000 `run()`s of a task returning a moved
 * 8 KiB `Float64Array`, and 2,000 returning `{ id, data }` with the array
 * inside moved, awaited together, through the `mod.ts` of
 * checkout A and of checkout B (2 workers each), in alternating rounds (24,
 * the first 4 dropped, the order swapped every round). Prints each one's
 * median ms and B ÷ A. It weighed a design where, before a batch holding
 * objects is posted, each `transfer()`ed result is first copied moving its
 * buffers (so one that cannot be cloned detaches no other's, on Deno), kept
 * in a commit of its own and reverted (see bench/README.md):
 *
 *   git worktree add /tmp/trial <that commit>
 *   deno run -A bench/transfer_ab.ts ./mod.ts /tmp/trial/mod.ts
 *   bun bench/transfer_ab.ts ./mod.ts /tmp/trial/mod.ts
 *
 * @module
 */

import { checkoutPools, compareCheckouts, type PoolLike } from "./_checkouts.ts";
import { exit, runtime } from "./_env.ts";
import { transfer } from "../mod.ts";

const checkouts = await checkoutPools("transfer_ab.ts");
const JOBS = 2_000;
const ids = Array.from({ length: JOBS }, (_, i) => i);
// Inline tasks: `transfer` is in scope in the worker as it is here.
const kinds = {
  array: (i: number) => transfer(new Float64Array(1024).fill(i)),
  wrapped: (i: number) => {
    const data = new Float64Array(1024).fill(i);
    return transfer({ id: i, data }, [data.buffer]);
  },
};
type Kind = keyof typeof kinds;

/** ms of `JOBS` `run()`s of `kind` on `pool`, awaited together. */
async function round(pool: PoolLike, kind: Kind): Promise<number> {
  const task = kinds[kind] as unknown as (x: number) => number;
  const start = performance.now();
  await Promise.all(ids.map((i) => pool.run(task, i)));
  return performance.now() - start;
}

await compareCheckouts(checkouts, Object.keys(kinds) as Kind[], round, {
  warmUp: "wrapped",
  title: `${runtime}: ${JOBS} run()s + Promise.all`,
  columns: ["transfer(Float64Array), ms", "transfer({ id, data }), ms"],
});
exit(0);
