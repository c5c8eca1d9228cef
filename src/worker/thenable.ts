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
