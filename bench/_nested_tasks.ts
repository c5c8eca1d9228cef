/**
 * Tasks for `nested_pool.ts`: each makes something inside a pool's worker
 * and times its first and second answer there.
 *
 * @module
 */

import { Pool } from "../mod.ts";

/** A pool made in this task: ms to its first `run()`, then to its second. */
export async function innerPool(): Promise<[number, number]> {
  await using pool = new Pool({ maxChildren: 1 });
  const t0 = performance.now();
  await pool.run((x: number) => x + 1, 1);
  const t1 = performance.now();
  await pool.run((x: number) => x + 1, 2);
  return [t1 - t0, performance.now() - t1];
}

/** A plain `Worker` made in this task (no fastpool): ms to its first answer. */
export async function innerWorker(): Promise<number> {
  const source = "self.onmessage = (event) => self.postMessage(event.data + 1);";
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const t0 = performance.now();
    const answered = new Promise((resolve) => worker.onmessage = resolve);
    worker.postMessage(1);
    await answered;
    return performance.now() - t0;
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
}
