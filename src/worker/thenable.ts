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

/** The intrinsic, taken at load: it checks that its receiver is a real promise. */
const promiseThen = Promise.prototype.then;

/**
 * Runs `onFulfilled` or `onRejected` once `value`, a task's thenable,
 * settles, and returns the promise of what it returns. `value.then` is not
 * called with them: a `then` of its own (or a `constructor` getter) that
 * calls both, or one twice, would answer twice for the job (and free its
 * lane twice), one that throws would escape into the worker. A plain native
 * promise is followed by the intrinsic `then` (it checks the receiver, so a
 * Proxy passing for one is refused); anything else through a promise of the
 * worker's own, whose resolving functions settle once, and a throw before
 * they do rejects (two more microtasks a job).
 */
export function whenSettled<T>(
  value: PromiseLike<unknown>,
  onFulfilled: (value: unknown) => T,
  onRejected: (reason: unknown) => T,
): Promise<T> {
  if (isPlainPromise(value)) {
    try {
      return Reflect.apply(promiseThen, value, [onFulfilled, onRejected]) as Promise<T>;
    } catch {
      // Not a promise after all (a Proxy of one): followed as any thenable.
    }
  }
  const own = new Promise((resolve) => resolve(value));
  return Reflect.apply(promiseThen, own, [onFulfilled, onRejected]) as Promise<T>;
}

/** A native promise with no `then` or `constructor` of its own; never throws. */
function isPlainPromise(value: object): boolean {
  try {
    return Object.getPrototypeOf(value) === Promise.prototype && !Object.hasOwn(value, "then") &&
      !Object.hasOwn(value, "constructor");
  } catch {
    return false;
  }
}
