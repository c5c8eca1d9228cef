/**
 * Reading 1,000,000 results out of a `Deque` (as `pool.done` holds them after
 * a large `map`): `for…of`, a `shift()` loop, and `drain()`, medians of 7
 * rounds each, a fresh deque per round.
 *
 *   deno run -A bench/drain_pair.ts
 *   bun bench/drain_pair.ts
 *
 * @module
 */

// deno-lint-ignore-file no-console
import { Deque } from "../mod.ts";
import { runtime } from "./_env.ts";

const N = 1_000_000;
const ROUNDS = 7;

function filled(): Deque<number> {
  const deque = new Deque<number>();
  for (let i = 0; i < N; i++) deque.push(i);
  return deque;
}

function timed(read: (deque: Deque<number>) => number): number {
  const deque = filled();
  const t0 = performance.now();
  const sum = read(deque);
  const ms = performance.now() - t0;
  if (sum !== (N * (N - 1)) / 2) throw new Error(`wrong sum ${sum}`);
  return ms;
}

const ways: Record<string, (deque: Deque<number>) => number> = {
  "for…of": (deque) => {
    let sum = 0;
    for (const x of deque) sum += x;
    return sum;
  },
  "shift() loop": (deque) => {
    let sum = 0;
    while (deque.length !== 0) sum += deque.shift()!;
    return sum;
  },
  "drain()": (deque) => {
    const all = deque.drain();
    let sum = 0;
    for (let i = 0; i < all.length; i++) sum += all[i]!;
    return sum;
  },
};

console.log(`${runtime}: reading ${N.toLocaleString("en")} results from a Deque`);
for (const [name, read] of Object.entries(ways)) {
  const times = Array.from({ length: ROUNDS }, () => timed(read)).sort((a, b) => a - b);
  console.log(`${name.padEnd(14)} median ${times[ROUNDS >> 1]!.toFixed(2)} ms`);
}
