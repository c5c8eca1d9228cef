/**
 * Helpers for the `deno bench` files: a bench body whose result is checked
 * on its first call (an error fails the bench), iteration counts sized for
 * macro benchmarks, and closing pools when the bench module unloads.
 *
 * @module
 */

import { check, quick } from "./_env.ts";

/** Iterations (and warm-ups) for a bench whose call takes ~0.1–1 s. */
export const MACRO = quick ? { n: 2, warmup: 1 } : { n: 5, warmup: 1 };
/** Iterations (and warm-ups) for a bench whose call takes seconds. */
export const SLOW = quick ? { n: 1, warmup: 1 } : { n: 3, warmup: 1 };

/** A bench body: runs `fn`, checks its result the first time, keeps it from being optimized away. */
export function checked(
  fn: () => Promise<number> | number,
  expected: number,
  what: string,
): () => Promise<void> {
  let first = true;
  return async () => {
    const result = await fn();
    if (first) {
      check(result, expected, what);
      first = false;
    }
  };
}

/**
 * Closes pools when the bench module unloads (after its last bench).
 * `deno bench` ends even while workers live, but closing them is cleaner.
 */
export function closeOnUnload(...closers: (() => unknown)[]): void {
  addEventListener("unload", () => {
    for (const close of closers) void close();
  });
}
