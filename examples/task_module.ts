/**
 * Tasks from a module: the pool's workers import `_tasks.ts`, and jobs name
 * its exports. `Pool<typeof import("./_tasks.ts")>` type-checks the names,
 * the arguments and the results. `task(url, name)` refers to an export of
 * any module, on any pool.
 *
 *     deno run -A examples/task_module.ts
 *     bun examples/task_module.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Pool, task } from "../mod.ts";
import type * as Tasks from "./_tasks.ts";

const tasksUrl = new URL("./_tasks.ts", import.meta.url);

// Every worker of this pool imports the task module once, when it starts.
await using pool = new Pool<typeof import("./_tasks.ts")>({ module: tasksUrl, maxChildren: 2 });

// Names are checked: "fib" takes a number and returns a number.
const fib25: number = await pool.run("fib", 25);
console.log(`run("fib", 25) = ${fib25}`);

// @ts-expect-error: "fib" takes a number, not a string
void pool.run("fib", "25").catch(() => {});

// submit() and map() take names too.
pool.submit("countPrimes", { from: 0, to: 100_000 });
pool.map("fib", [10, 20, 30]);
const results: unknown[] = [];
for await (const result of pool.asCompleted()) results.push(result);
const primes = results.find((r): r is Tasks.RangeCount => typeof r === "object");
const fibs = results.filter((r): r is number => typeof r === "number").sort((a, b) => a - b);
console.log(`submit("countPrimes"): ${primes?.primes} primes below 100,000`);
console.log(`map("fib", [10, 20, 30]) = ${fibs.join(", ")}`);

// task(): an export of any module, here on a pool without a task module.
await using plain = new Pool({ maxChildren: 1, childNamePrefix: "Plain" });
const whoAmI = task<typeof Tasks.whoAmI>(tasksUrl, "whoAmI");
console.log(`task(_tasks.ts, "whoAmI") ran in worker ${await plain.run(whoAmI)}`);

console.log("task module: done");
