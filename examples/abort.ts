/**
 * Cancelling a job with an `AbortSignal`: `exec(task, args, { signal })`.
 * A queued job is cancelled; a running one has its worker replaced (the only
 * way to stop a busy thread). Either way the promise rejects with the
 * signal's reason, and the pool goes on.
 *
 *     deno run -A examples/abort.ts
 *     bun examples/abort.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";

await using pool = new Pool({ maxChildren: 1 });

// A long CPU-bound job (up to 10 s) that yields to its worker's event loop
// every few milliseconds. Deno 2.9 cannot stop a worker stuck in a loop that
// never yields: terminate() leaves that thread running and the program alive
// (denoland/deno#35657); Bun stops it either way.
const crunch = async (seconds: number) => {
  const end = Date.now() + seconds * 1000;
  let steps = 0;
  while (Date.now() < end) {
    const slice = Date.now() + 5;
    while (Date.now() < slice) steps++;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return steps;
};

// 1. Running: abort after 50 ms; its worker is terminated and replaced.
// `AbortSignal.timeout()` aborts with a TimeoutError.
const started = performance.now();
try {
  await pool.exec(crunch, [10], { signal: AbortSignal.timeout(50) });
} catch (error) {
  const ms = Math.round(performance.now() - started);
  console.log(`running job aborted after ~${ms} ms: ${(error as Error).name}`);
}

// 2. Queued: with one worker busy, the second job waits in the queue; aborting
// it takes it out of the queue, it never runs.
const controller = new AbortController();
const slow = pool.run(async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return "slow job finished";
});
const queued = pool.exec(() => "never runs", [], { signal: controller.signal });
controller.abort(new Error("no longer needed"));
const [slowResult, queuedResult] = await Promise.allSettled([slow, queued]);
console.log(
  `queued job: ${queuedResult.status}, ${
    queuedResult.status === "rejected" ? (queuedResult.reason as Error).message : ""
  }`,
);
console.log(
  `the job ahead of it: ${
    slowResult.status === "fulfilled" ? slowResult.value : slowResult.status
  }`,
);

// 3. The pool still works.
console.log(`after the aborts: run() = ${await pool.run((a: number, b: number) => a * b, 6, 7)}`);
console.log("abort: done");
