/**
 * The errors of built-in classes the pool makes itself about a job, with
 * its id in the message ("Cannot run job 8: workers failed to start …",
 * "Cannot send job 8: …"), as against a task's own errors of those classes,
 * which may read the same: `./cluster` names the producer's item id in the
 * pool's, and leaves a task's as it was thrown.
 *
 * @module
 */

const made = new WeakSet<object>();

/** Marks `error` as made by the pool; returns it. */
export function poolMade<E extends object>(error: E): E {
  made.add(error);
  return error;
}

/** Whether the pool made `error` (see {@linkcode poolMade}). */
export function isPoolMade(error: unknown): boolean {
  return typeof error === "object" && error !== null && made.has(error);
}
