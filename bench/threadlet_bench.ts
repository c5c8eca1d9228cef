/**
 * threadlet's benchmarks, timing only (peak memory is in `mitata.ts`, which
 * runs each case in a fresh process): "submit", a million `submit` calls to
 * a one-worker pool (only the calls are timed), and "e2e[N]", a million jobs
 * to N workers with the results consumed as they come, by
 * `doneCount.acquire()` + `done.shift()` and by `asCompleted()`; the plain
 * pool, awaiting each `run()` in order, is e2e's baseline.
 *
 *   deno bench -A bench/threadlet_bench.ts     (BENCH_QUICK=1: 100,000 jobs)
 *
 * @module
 */

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
import { checked, closeOnUnload, SLOW } from "./_bench_util.ts";
import { check, poolSize, quick } from "./_env.ts";
import { PlainTask } from "./_plain_pool.ts";

const N = quick ? 100_000 : 1_000_000;
const CHUNK = 10_000;
const EXPECTED = expectedSum(N);
const WORKERS = quick ? [1, 2] : [1, 2, 4];

const one = createFastpool(1);
const pools = new Map<number, FastPool>(WORKERS.map((w) => [w, w === 1 ? one : createFastpool(w)]));
const plain = new PlainPool(poolSize);
await Promise.all([...pools.values()].map((pool) => pool.run(add1Inline, 0)));
await plain.run(PlainTask.add1, 0);
closeOnUnload(...[...pools.values()].map((pool) => () => pool.terminate()), () => plain.close());

let checkedSubmit = false;
Deno.bench({
  name: "fastpool submit x1M, 1 worker (submit calls only)",
  group: "submit",
  ...SLOW,
  async fn(b) {
    b.start();
    for (let i = 0; i < N; i++) one.submit(add1Inline, i);
    b.end();
    await one.wait();
    const sum = sumDone(one);
    while (one.doneCount.tryAcquire());
    if (!checkedSubmit) {
      check(sum, EXPECTED, "submit");
      checkedSubmit = true;
    }
  },
});

for (const [workers, pool] of pools) {
  const group = `e2e[${workers}]`;
  Deno.bench({
    name: `fastpool e2e[${workers}] doneCount.acquire() + done.shift()`,
    group,
    ...SLOW,
    fn: checked(
      async () => {
        const producer = produce(N, CHUNK, (i) => pool.submit(add1Inline, i));
        const sum = await consumeAcquire(pool, N);
        await producer.done;
        return sum;
      },
      EXPECTED,
      "e2e acquire",
    ),
  });
  Deno.bench({
    name: `fastpool e2e[${workers}] asCompleted()`,
    group,
    ...SLOW,
    fn: checked(
      async () => {
        const producer = produce(N, CHUNK, (i) => pool.submit(add1Inline, i));
        const sum = await consumeAsCompleted(pool, N, producer);
        await producer.done;
        return sum;
      },
      EXPECTED,
      "e2e asCompleted",
    ),
  });
  if (workers === poolSize) {
    Deno.bench({
      name: `plain pool e2e[${workers}] await each run() in order`,
      group,
      baseline: true,
      ...SLOW,
      fn: checked(
        async () => {
          const promises: Promise<number>[] = [];
          const producer = produce(N, CHUNK, (i) => promises.push(plain.run(PlainTask.add1, i)));
          const sum = await consumeInOrder(promises, N, producer);
          await producer.done;
          return sum;
        },
        EXPECTED,
        "e2e plain",
      ),
    });
  }
}
