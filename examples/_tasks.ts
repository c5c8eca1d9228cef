/**
 * The task module of the examples: plain exported functions. A pool made with
 * `new Pool({ module: new URL("./_tasks.ts", import.meta.url) })` imports it
 * in every worker, and `Pool<typeof import("./_tasks.ts")>` type-checks the
 * names, arguments and results.
 *
 * @module
 */

import { threadName } from "node:worker_threads";

/** A half-open range of integers, `[from, to)`. */
export interface Range {
  from: number;
  to: number;
}

/** How many primes a range holds. */
export interface RangeCount extends Range {
  primes: number;
}

/** Whether `n` is prime, by trial division: slow on purpose, so it is real CPU work. */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) {
    if (n % d === 0) return false;
  }
  return true;
}

/** Counts the primes in `[from, to)`. */
export function countPrimes(range: Range): RangeCount {
  let primes = 0;
  for (let n = range.from; n < range.to; n++) {
    if (isPrime(n)) primes++;
  }
  return { from: range.from, to: range.to, primes };
}

/** Splits `[0, limit)` into `parts` ranges of about equal length. */
export function splitRange(limit: number, parts: number): Range[] {
  const ranges: Range[] = [];
  for (let i = 0; i < parts; i++) {
    ranges.push({
      from: Math.floor((limit * i) / parts),
      to: Math.floor((limit * (i + 1)) / parts),
    });
  }
  return ranges;
}

/** The `n`th Fibonacci number, the slow recursive way. */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** Waits `ms` milliseconds, then returns `value`: a stand-in for I/O-bound work. */
export async function sleepy<T>(ms: number, value: T): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
}

/** Yields the primes in `[from, to)` one by one, as they are found. */
export function* primesIn(from: number, to: number): Generator<number> {
  for (let n = from; n < to; n++) {
    if (isPrime(n)) yield n;
  }
}

/**
 * The name of the worker running this job: `self.name`, which Bun 1.4 leaves
 * unset in a web Worker; there, `node:worker_threads` has it as `threadName`.
 */
export function whoAmI(): string {
  return (globalThis as { name?: string }).name || threadName || "(unnamed)";
}
