/**
 * Test helpers shared by every suite; they run under `deno test` and `bun test`.
 *
 * @module
 */

/** What a promise has done so far. */
export type PromiseState = "pending" | "fulfilled" | "rejected";

/**
 * Reports whether `promise` has settled, without waiting for it: a microtask
 * probe, the idea of asyncutil's `peekPromiseState`. A promise that settles in
 * a later task is still `"pending"` here.
 */
export async function promiseState(promise: Promise<unknown>): Promise<PromiseState> {
  const pending = {};
  try {
    const winner = await Promise.race([promise, Promise.resolve(pending)]);
    return winner === pending ? "pending" : "fulfilled";
  } catch {
    return "rejected";
  }
}

/** Whether this test runs under Bun (otherwise Deno). */
export const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** A URL of a file in `tests/fixtures/`. */
export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}

/**
 * Whether `promise` settles within `ms` (what `@std/async`'s `deadline`
 * does, answering `false` instead of throwing). A bound on a wait, so that
 * a regression fails a test instead of hanging it; never a wait for time to
 * pass. Its timer is cleared either way.
 */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once `memory[word]` is no longer 0 (a task's mark), and with its
 * value: woken by `Atomics.notify`, never polling.
 */
export async function untilMarked(memory: Int32Array, word: number): Promise<number> {
  while (true) {
    const seen = Atomics.load(memory, word);
    if (seen !== 0) return seen;
    const result = Atomics.waitAsync(memory, word, 0);
    if (result.async) await result.value;
  }
}

/** An environment variable, on Deno or Bun; `undefined` when unset. */
export function env(name: string): string | undefined {
  const deno = (globalThis as { Deno?: { env: { get(name: string): string | undefined } } }).Deno;
  if (deno) return deno.env.get(name);
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[
    name
  ];
}

/** A seeded PRNG (xorshift32) giving numbers in [0, 1), so a soak can be run again as it was. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}
