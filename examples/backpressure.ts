/**
 * Back-pressure: a producer streams the lines of a large file into the pool
 * and pauses whenever the queue reaches its high-water mark
 * (`pool.needsDrain`, then `await pool.drained()`), so memory stays flat
 * however large the file is. Results arrive through a callback and are
 * folded into a total, so nothing piles up in `done` either.
 *
 *     deno run -A examples/backpressure.ts
 *     bun examples/backpressure.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { Pool } from "../mod.ts";

const lines = process.env.DEMO_SIZE === "small" ? 100_000 : 1_000_000;
const dir = mkdtempSync(join(tmpdir(), "fastpool-lines-"));
const file = join(dir, "lines.txt");
const text: string[] = [];
for (let i = 0; i < lines; i++) text.push(`line ${i} has some words in it`);
writeFileSync(file, text.join("\n") + "\n");
text.length = 0;

let words = 0;
let mostQueued = 0;
const heap: number[] = [];
{
  await using pool = new Pool({
    maxChildren: 2,
    highWaterMark: 10_000,
    doneCallback: (count) => words += count as number,
  });
  const countWords = (line: string) => line.split(" ").length;
  let read = 0;
  for await (const line of createInterface({ input: createReadStream(file) })) {
    if (pool.needsDrain) await pool.drained();
    pool.submit(countWords, line);
    if (pool.jobs.length > mostQueued) mostQueued = pool.jobs.length;
    if (++read % (lines / 10) === 0) heap.push(process.memoryUsage().heapUsed);
  }
  await pool.wait();
}
rmSync(dir, { recursive: true });

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
console.log(`heap after each tenth of the file: ${heap.map(mib).join(", ")} MiB`);
console.log(`back-pressure: ${lines} lines, ${words} words, at most ${mostQueued} queued`);
