/**
 * What a crash means for the jobs in flight on the worker that died, from its
 * status memory. Pure.
 *
 * The worker counts every job it starts (`Status.STARTED`); the pool counts
 * every job whose answer arrived (`slot.endedItems`). Answers travel in
 * batches, so the difference `unreported` says how far the worker got:
 *
 * ```
 *  in flight, in send order:  [a] [b c d] [e] [f]     (b c d: one map slice)
 *  unreported = 3:             ✓   ✓ ✗                → c crashed
 *  a, b ran but their answers were lost: run again;  c fails;  d, e, f: run again
 *  (the recovery fails instead a generator among them whose values had arrived)
 *  unreported = 0: it died between jobs (e.g. a timer of an earlier job): all run again
 * ```
 *
 * @module
 */

import { laneWord } from "../protocol/messages.ts";
import type { Job } from "./job.ts";

/** The outcome for the in-flight jobs of a crashed worker. */
export interface CrashVerdict {
  /** The job it was running, and that job's id; `null` if it died between jobs. */
  culprit: { job: Job; id: number } | null;
  /** Jobs to send again, in order. */
  again: Job[];
}

/** Splits a dead worker's in-flight jobs into the one that crashed and the rest. */
export function judgeCrash(inflight: Iterable<Job>, unreported: number): CrashVerdict {
  const verdict: CrashVerdict = { culprit: null, again: [] };
  let position = 0;
  for (const job of inflight) {
    const remaining = job.count - job.next;
    const crashed = unreported - position - 1; // its index among this entry's unanswered jobs
    position += remaining;
    if (job.ended) continue;
    if (crashed < 0 || crashed >= remaining) {
      verdict.again.push(job.unanswered());
      continue;
    }
    if (crashed > 0) verdict.again.push(job.part(job.next, crashed));
    verdict.culprit = { job, id: job.id + job.next + crashed };
    if (crashed + 1 < remaining) {
      verdict.again.push(job.part(job.next + crashed + 1, remaining - crashed - 1));
    }
  }
  return verdict;
}

/**
 * Splits the in-flight jobs of a worker the pool ended itself (a job
 * ignored its abort or time limit past `abortGrace`) into the `unreported`
 * it had started, which ran or were running, and the rest, to send again.
 * Unlike a crash, nothing here is any job's fault, and a job that ran must
 * not run again: the started ones fail.
 */
export function splitStarted(
  inflight: Iterable<Job>,
  unreported: number,
): { started: { job: Job; id: number }[]; again: Job[] } {
  const split: { started: { job: Job; id: number }[]; again: Job[] } = { started: [], again: [] };
  let position = 0;
  for (const job of inflight) {
    const remaining = job.count - job.next;
    const started = Math.max(0, Math.min(unreported - position, remaining));
    position += remaining;
    if (job.ended) continue;
    for (let i = 0; i < started; i++) split.started.push({ job, id: job.id + job.next + i });
    if (started === 0) split.again.push(job.unanswered());
    else if (started < remaining) {
      split.again.push(job.part(job.next + started, remaining - started));
    }
  }
  return split;
}

/**
 * With several lanes (`concurrentTasksPerWorker`), the jobs to send again
 * may hold jobs that were still running asynchronously when the worker died
 * (their `LATER` answer had not arrived): `running` holds their {@linkcode laneWord}s,
 * from the worker's lane table. Those fail like the culprit; the rest go
 * again. An entry without such jobs is kept as it is.
 */
export function splitRunning(
  entries: readonly Job[],
  running: ReadonlySet<number>,
): { again: Job[]; running: { job: Job; id: number }[] } {
  const split: { again: Job[]; running: { job: Job; id: number }[] } = { again: [], running: [] };
  for (const job of entries) {
    if (running.size === 0) {
      split.again.push(job);
      continue;
    }
    let from = 0;
    for (let i = 0; i < job.count; i++) {
      if (!running.has(laneWord(job.id + i))) continue;
      if (i > from) split.again.push(job.part(from, i - from));
      split.running.push({ job: job.count === 1 ? job : job.part(i, 1), id: job.id + i });
      from = i + 1;
    }
    if (from === 0) split.again.push(job);
    else if (from < job.count) split.again.push(job.part(from, job.count - from));
  }
  return split;
}
