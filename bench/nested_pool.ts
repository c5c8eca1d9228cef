/**
 * A pool made inside a task (nested in a pool's worker): ms to its first
 * `run()` and its second, beside a plain `Worker` made there, three rounds
 * each on fresh outer workers. Run: `deno run -A bench/nested_pool.ts`,
 * `bun bench/nested_pool.ts`.
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool } from "../mod.ts";
import { runtime } from "./_env.ts";
import type * as Tasks from "./_nested_tasks.ts";

const module = new URL("./_nested_tasks.ts", import.meta.url);
for (let round = 1; round <= 3; round++) {
  await using outer = new Pool<typeof Tasks>({ module, maxChildren: 1 });
  const [first, second] = await outer.run("innerPool");
  const plain = await outer.run("innerWorker");
  console.log(
    `${runtime} round ${round}: pool in a task, first run() ${first.toFixed(1)} ms, second ${
      second.toFixed(1)
    } ms; plain Worker in a task, first answer ${plain.toFixed(1)} ms`,
  );
}
