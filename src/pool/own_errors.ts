/**
 * The errors of built-in classes the pool makes itself about a job, with
 * its id in the message ("Cannot run job 8: workers failed to start …",
 * "Cannot send job 8: …"), as against a task's own errors of those classes,
 * which may read the same: `./cluster` names the producer's item id in the
 * pool's, and leaves a task's as it was thrown.
 *
 * @module
 */

import { PoolClosedError, TaskTimeoutError, WorkerCrashedError } from "../errors.ts";

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

/** How the pool names a job in its messages: "job 8", "Job 8" (the first is the job's). */
const JOB_BY_ID = /\b([Jj])ob \d+\b/;

/**
 * Names `job` (a noun and an id: "request 7") instead of the pool's job id in
 * an error the pool made about a job (its own classes, and {@linkcode poolMade}
 * ones), in its message and its stack's first line, which repeats it. A
 * task's own error is left as thrown. `job` takes the first letter's case of
 * the words it replaces ("Job 8 was running …" → "Request 7 was running …").
 */
export function renameJob(error: unknown, job: string): void {
  if (
    !(error instanceof TaskTimeoutError || error instanceof WorkerCrashedError ||
      error instanceof PoolClosedError || isPoolMade(error) && error instanceof Error)
  ) {
    return;
  }
  const header = `${error.name}: ${error.message}`;
  error.message = error.message.replace(
    JOB_BY_ID,
    (_words, j: string) =>
      (j === "J" ? job.charAt(0).toUpperCase() : job.charAt(0).toLowerCase()) + job.slice(1),
  );
  const stack = error.stack;
  if (typeof stack === "string" && stack.startsWith(header)) {
    error.stack = `${error.name}: ${error.message}${stack.slice(header.length)}`;
  }
}
