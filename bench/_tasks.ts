/**
 * The task functions every design in the benchmarks runs, in one place so
 * all workers (ours, the baselines' and the peers') run the same code.
 *
 * @module
 */

/** The tiny job: one addition. */
export function add1(x: number): number {
  return x + 1;
}

/** Naive recursive Fibonacci: CPU-bound work with no allocation. */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** `fib(27)`, the CPU-scaling job. */
export const FIB_N = 27;
/** `fib(27)`'s value, to check results once. */
export const FIB_27 = 196418;
