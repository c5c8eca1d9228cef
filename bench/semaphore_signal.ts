/**
 * Many `acquire()` waiters sharing one `AbortSignal` (an app-wide shutdown
 * signal, say), against the same waiters with no signal, in one run: the
 * time to queue `n` waiters, to serve them all with one `release(n)`, and
 * to reject them all with one `abort()`. A signal's waiters should cost
 * about what waiters without one do, not grow with the square of `n`.
 *
 *   deno run -A bench/semaphore_signal.ts [n]
 *   bun bench/semaphore_signal.ts [n]
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a benchmark prints its table
import process from "node:process";
import { Semaphore } from "../mod.ts";
import { runtime } from "./_env.ts";

const n = Number(process.argv.at(-1)) > 0 ? Number(process.argv.at(-1)) : 20_000;

/** ms to queue `n` waiters, and to end them all with `end`. */
async function time(
  signal: AbortSignal | undefined,
  end: (sem: Semaphore) => void,
): Promise<[number, number]> {
  const sem = new Semaphore(0);
  const t0 = performance.now();
  const waiting = Array.from({ length: n }, () => sem.acquire({ signal }).catch(() => false));
  const t1 = performance.now();
  end(sem);
  await Promise.all(waiting);
  return [t1 - t0, performance.now() - t1];
}

const rows: [string, number, number][] = [];
const [plainQueue, plainServe] = await time(undefined, (sem) => sem.release(n));
rows.push(["no signal, release(n)", plainQueue, plainServe]);
const [sharedQueue, sharedServe] = await time(
  new AbortController().signal,
  (sem) => sem.release(n),
);
rows.push(["one shared signal, release(n)", sharedQueue, sharedServe]);
const controller = new AbortController();
const [abortQueue, abortEnd] = await time(controller.signal, () => controller.abort());
rows.push(["one shared signal, abort()", abortQueue, abortEnd]);

console.log(`${runtime}, ${n.toLocaleString("en")} waiters\n`);
console.log("| case | queue (ms) | end all (ms) |");
console.log("| --- | --- | --- |");
for (const [name, queued, ended] of rows) {
  console.log(`| ${name} | ${queued.toFixed(1)} | ${ended.toFixed(1)} |`);
}
