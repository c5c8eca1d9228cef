/**
 * fastthreadpool's README examples, in TypeScript: the same calls in
 * camelCase, time in milliseconds, and `await` where Python blocks.
 *
 *     deno run -A examples/fastthreadpool_tour.ts
 *     bun examples/fastthreadpool_tour.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";

// The worker functions: inline tasks, so each is self-contained.
const worker = (item: unknown, i?: number) =>
  i === undefined ? `worker(${item})` : `worker(${item}, ${i})`;
const delayedWorker = (item: string) => `delayed_worker(${item})`;
const scheduledWorker = (item: string) => `scheduled_worker(${item})`;
const iterable = ["a", "b", "c", "d"];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

{
  // pool = fastthreadpool.Pool()
  // pool.map(worker, iterable)
  // pool.shutdown()
  const pool = new Pool();
  pool.map(worker, iterable);
  await pool.shutdown();
  console.log(`1. map → done: ${[...pool.done].sort().join(", ")}; failed: ${pool.failed.length}`);
}

{
  // pool = fastthreadpool.Pool()
  // pool.map(worker, iterable, done_cb)
  // pool.shutdown()
  const seen: string[] = [];
  const doneCb = (result: unknown) => seen.push(result as string);
  const pool = new Pool();
  pool.map(worker, iterable, doneCb);
  await pool.shutdown();
  console.log(
    `2. map with a done callback: called ${seen.length} times; done holds ${pool.done.length}`,
  );
}

{
  // pool = fastthreadpool.Pool(result_id = True)
  // job_id1 = pool.submit(worker, foo1)
  // pool.shutdown()
  const pool = new Pool({ resultId: true });
  const jobId1 = pool.submit(worker, "foo1");
  await pool.shutdown();
  const [id, result] = pool.done.shift() as [number, string];
  console.log(
    `3. resultId: submit() returned ${jobId1}; done holds [${id}, ${JSON.stringify(result)}]`,
  );
}

{
  // The "more complex example", with short delays so it runs in a moment:
  // submit_later(0.1) → submitLater(20), schedule(1.0) → schedule(30),
  // time.sleep(1.0) → await sleep(100).
  const pool = new Pool({ resultId: true });
  let jobid = 0;
  for (let i = 0; i < 100; i++) jobid = pool.submit(worker, "foo1", i);
  pool.submitFirst(worker, "foo2");
  const cancelled = pool.cancel(jobid);
  pool.submitLater(20, delayedWorker, "foo3");
  pool.schedule(30, scheduledWorker, "foo4");
  console.log(
    `4. submitted 100 + 1 first; cancel(${jobid}) → ${cancelled}; ${pool.delayed.length} delayed, ${pool.scheduled.length} scheduled`,
  );
  await sleep(100);
  pool.cancel(null, true);
  await pool.shutdown();
  const results = [...pool.done].map((entry) => (entry as [number, string])[1]);
  const count = (prefix: string) => results.filter((r) => r.startsWith(prefix)).length;
  console.log(
    `   after 100 ms, cancel(null, true) and shutdown(): ${count("worker(foo1")} foo1 jobs, ` +
      `${count("worker(foo2")} foo2, ${count("delayed_worker")} delayed, ` +
      `${count("scheduled_worker") > 0 ? "some" : "no"} scheduled runs; ` +
      `${pool.delayed.length} delayed and ${pool.scheduled.length} scheduled left`,
  );
}

console.log("fastthreadpool tour: done");
