/**
 * Whether a task's result is a thenable, which the worker awaits.
 *
 * @module
 */

/**
 * Whether `value` has a `then` method. A getter or Proxy trap that throws
 * makes it no thenable: sending the value then fails to clone it, and that
 * job alone fails.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (typeof value !== "object" || value === null) return false;
  try {
    return typeof (value as PromiseLike<unknown>).then === "function";
  } catch {
    return false;
  }
}

/**
 * A promise of the worker's own that follows `value`, a task's thenable.
 * `Promise.resolve()` would hand back a native promise as it is, so a `then`
 * of its own (or a `constructor` getter) would get the job's callbacks: one
 * that calls both, or one twice, would answer twice for the job (and free
 * its lane twice), one that throws would escape into the worker. Here the
 * value's `then` gets resolving functions that settle once, and a throw
 * before they do rejects.
 */
export function adopt(value: PromiseLike<unknown>): Promise<unknown> {
  return new Promise((resolve) => resolve(value));
}
