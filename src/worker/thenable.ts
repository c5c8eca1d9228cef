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
// Taken at load, as the worker's other built-ins: a task may replace them.
const { apply } = Reflect;
const { getPrototypeOf } = Object;
const OwnPromise = Promise;
const promiseProto = Promise.prototype;

/**
 * Runs `onFulfilled` or `onRejected` once `value`, a task's thenable,
 * settles, and returns a promise that settles after it. `value.then` is not
 * called with them: a `then` of its own (or a `constructor` getter) that
 * calls both, or one twice, would answer twice for the job (and free its
 * lane twice), one that throws would escape into the worker. A plain native
 * promise is followed by the intrinsic `then` (it checks the receiver, so a
 * Proxy passing for one is refused); anything else through a promise of the
 * worker's own, whose resolving functions settle once, and a throw before
 * they do rejects (two more microtasks a job). Where a task replaced
 * `Promise[Symbol.species]`, `then` returns the species' object, which may
 * never settle: a promise of the worker's own stands in for it.
 */
export function whenSettled(
  value: PromiseLike<unknown>,
  onFulfilled: (value: unknown) => void,
  onRejected: (reason: unknown) => void,
): Promise<void> {
  if (isPlainPromise(value)) {
    try {
      return ownOr(value as Promise<unknown>, apply(promiseThen, value, [onFulfilled, onRejected]));
    } catch {
      // Not a promise after all (a Proxy of one: `await` then rejects, as
      // its `then` refuses it), or a species that threw before anything was
      // registered: `await` reads no species.
      return follow(value as Promise<unknown>, onFulfilled, onRejected);
    }
  }
  const own = new OwnPromise((resolve) => resolve(value));
  try {
    return ownOr(own, apply(promiseThen, own, [onFulfilled, onRejected]));
  } catch {
    return follow(own, onFulfilled, onRejected); // a species that throws
  }
}

/** `derived` if `then` made it a plain promise; else one that settles after `followed`'s callbacks ran. */
function ownOr(followed: Promise<unknown>, derived: unknown): Promise<void> {
  if (typeof derived === "object" && derived !== null && getPrototypeOf(derived) === promiseProto) {
    return derived as Promise<void>;
  }
  const ignore = () => {};
  return follow(followed, ignore, ignore); // awaited after the callbacks: they were registered first
}

/** Follows `promise` with `await`, which reads no species. */
async function follow(
  promise: Promise<unknown>,
  onFulfilled: (value: unknown) => void,
  onRejected: (reason: unknown) => void,
): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (reason) {
    return onRejected(reason);
  }
  onFulfilled(outcome);
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
