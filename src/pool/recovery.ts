/**
 * What the pool does when a job or a worker goes wrong: a worker that
 * crashes or fails to start, a job that times out or is aborted while it
 * runs (its task is told and has `abortGrace` to end), and the jobs a lost
 * worker held, sent again or failed. Which in-flight job a crash blames is
 * `crash.ts`'s pure verdict; this file acts on it.
 *
 * ```
 *  crash ──────▶ culprit fails (WorkerCrashedError), the rest go again, a new worker starts
 *  no start ───▶ jobs go again after a back-off; 3 in a row fail what is queued
 *  timeout ────▶ job fails (TaskTimeoutError) ─▶ "abort" to the task ─▶ grace ─▶ replace
 *  abort ──────▶ job fails (the reason) ──────▶ "abort" to the task ─▶ grace ─▶ replace
 * ```
 *
 * @module
 */

import { reportGlobally } from "../_checks.ts";
import { TaskTimeoutError, WorkerCrashedError } from "../errors.ts";
import { describeThrown, encodeError, frameless } from "../protocol/codec.ts";
import { laneWord, Mode } from "../protocol/messages.ts";
import { toWire } from "../sync/wire.ts";
import { type Clock, systemClock } from "../timers/clock.ts";
import { judgeCrash, splitRunning, splitStarted } from "./crash.ts";
import type { Job } from "./job.ts";
import { poolMade } from "./own_errors.ts";
import type { JobEnds } from "./job_ends.ts";
import type { JobQueue } from "./job_queue.ts";
import type { ResolvedOptions } from "./options.ts";
import type { StatsRecorder } from "./stats.ts";
import { WorkerSlot } from "./worker_slot.ts";
import type { WorkerExitReason, WorkerHook, Workers } from "./workers.ts";

/** What recovery needs from the dispatch loop. */
export interface RecoveryHost {
  /** Dispatches a pool event (queued like a user callback). */
  emit(type: string, detail: unknown): void;
  /** A step of bookkeeping ended (see `DispatchLoop.changed`). */
  changed(): void;
  /** Sends what is queued now. */
  flush(): void;
  /** Sends what is queued at the end of this tick. */
  scheduleFlush(): void;
  /** Ends every queued job, each id through `end`; returns how many. */
  endQueued(end: (job: Job, id: number) => void): number;
}

/** Crash, start-failure, timeout and abort handling for one pool. */
export class Recovery {
  readonly #options: ResolvedOptions;
  readonly #clock: Clock;
  readonly #queue: JobQueue;
  readonly #ends: JobEnds;
  readonly #workers: Workers;
  readonly #stats: StatsRecorder;
  /** Jobs moved once off a worker that did not start them (see #stuck), by the id that waited. */
  readonly #movedStuck = new Set<number>();
  readonly #host: RecoveryHost;

  constructor(
    options: ResolvedOptions,
    clock: Clock,
    queue: JobQueue,
    ends: JobEnds,
    workers: Workers,
    stats: StatsRecorder,
    host: RecoveryHost,
  ) {
    this.#options = options;
    this.#clock = clock;
    this.#queue = queue;
    this.#ends = ends;
    this.#workers = workers;
    this.#stats = stats;
    this.#host = host;
  }

  /**
   * Running `job` fails early with `reason` (`why`: it was aborted, or timed
   * out), `n` of its jobs with it. Its worker learns it first, through shared
   * memory, so the job takes no permit a caller frees on seeing the failure
   * (`WorkerSlot.stopped`); then its promise rejects, and `#stopRunning`.
   */
  failRunning(job: Job, reason: unknown, why: WorkerExitReason, n = 1): void {
    job.ended = true;
    job.slot!.stopped(job);
    this.#ends.failed(job, job.id, reason, n);
    this.#stopRunning(job, reason, why);
  }

  /**
   * A running job has just failed early (aborted or timed out). Its worker is
   * told, so the task's `jobContext().signal` aborts with `reason`; if the
   * task has not ended `abortGrace` ms later (at once with 0; an answer it,
   * or a job before it, posted in time counts, though this thread was too
   * busy to read it), the worker is replaced. Until then the job
   * stays in flight on its slot, ended: the worker takes nothing more while
   * it held the slot alone (`exclusive`), and whatever the task then answers
   * is dropped.
   *
   * ```
   *  abort/timeout ─▶ job fails ─▶ "abort" msg ─▶ task answers ──▶ slot idle, worker kept
   *                                      └──── abortGrace ms ──▶ worker replaced (abort/timeout)
   * ```
   */
  #stopRunning(job: Job, reason: unknown, why: WorkerExitReason): void {
    const slot = job.slot!;
    this.clearJobTimer(job);
    const grace = this.#options.abortGrace;
    // With abortGrace 0 and several lanes, at once: its other lanes would
    // start more jobs while this thread waited for its answers, to fail as
    // started. (On one lane the job holds its worker: see `expire`.)
    if (slot.dead || (grace === 0 && this.#options.concurrentTasksPerWorker > 1)) {
      this.replace(slot, why);
      return;
    }
    // A worker still starting gets the abort after the job's batch, so it
    // skips the job; the main thread may also see the job start before it
    // has read the worker's "ready" message.
    if (grace > 0) {
      if (job.mode === Mode.STREAM) slot.stopStreamSoon(job); // stopped at its next `yield`
      try {
        const encoded = encodeError(reason, toWire, "the abort reason");
        // One the worker could not read (on Deno, nested about 2,700 levels deep
        // or more) would be lost there: the task never told, an innocent job failed.
        if (typeof encoded === "object" && encoded !== null) structuredClone(encoded);
        slot.send({ type: "abort", id: job.id, reason: encoded });
      } catch {
        // A reason that cannot be cloned (a symbol, an object with a
        // method): the task's signal aborts with a string saying what it was.
        const stand = `[cannot be sent: ${describeThrown(reason)}]`;
        try {
          slot.send({ type: "abort", id: job.id, reason: stand });
        } catch {
          this.replace(slot, why); // it cannot be told at all
          return;
        }
      }
    }
    // No new job until the task has ended: replaced after abortGrace, it
    // would fail a job it took meanwhile in a free lane (several lanes).
    slot.exclusive = true;
    slot.stopping.add(job);
    let unread: UnreadAnswers | undefined; // those posted when the grace ran out
    const expire = () => {
      job.timer = undefined;
      if (slot.dead || job.slot !== slot || !slot.holds(job)) return;
      // The task may have ended in time, its answer unread because this
      // thread was busy: the answers posted by then are read first (on one
      // lane with abortGrace 0 too: those of the jobs a timed job's worker
      // sent as it started it, which would otherwise fail as started).
      unread ??= new UnreadAnswers(slot);
      if (unread.waitFor(job, expire)) return;
      this.replace(slot, why);
    };
    // Real time, not the pool's clock: the grace is the task's, and a
    // test's fake clock cannot reach the worker's thread.
    if (grace > 0) job.timer = new JobTimer(systemClock, expire, grace);
    else expire(); // once the answers posted so far are read
  }

  /**
   * After `slot`'s answers were read: the aborted jobs that answered have
   * left it; once none is left and it runs no exclusive job, it takes jobs
   * again, in its free lanes too, while its other jobs run on.
   */
  stoppedJobsLeft(slot: WorkerSlot): void {
    for (const job of slot.stopping) if (!slot.holds(job)) slot.stopping.delete(job);
    if (slot.stopping.size !== 0 || slot.dead) return;
    for (const job of slot.inflight) if (job.exclusive && !job.ended) return;
    for (const job of slot.later.values()) if (job.exclusive && !job.ended) return;
    slot.exclusive = false;
  }

  /** Clears `job`'s timer (its timeout or its abort grace), if it has one. */
  clearJobTimer(job: Job): void {
    const timer = job.timer;
    if (timer === undefined) return;
    timer.clear();
    job.timer = undefined;
  }

  /**
   * Fails `job` once it has run `job.timeout` ms. Its clock starts when it is
   * sent, or when its worker is ready if that is later: a worker's start-up
   * (its imports, `setup()`) is not the job's time, and one that never gets
   * ready is `startTimeout`'s to fail.
   * A job sent to a worker still starting, or behind others that hold its
   * worker (several lanes: the worker runs synchronous jobs one after
   * another), starts when the worker reaches it: the pool looks every
   * sixteenth of the limit, and the clock starts at the last look that found
   * it waiting (with shared memory the pool may see it start before it has
   * read the worker's "ready"). A worker importing the job's
   * `task()` module for it runs its clock (`Status.LOADING`). One that
   * finished, its answer on the way behind a later job's or unread while
   * this thread was busy, is not failed.
   */
  armTimeout(slot: WorkerSlot, job: Job): void {
    // An argument's getter, run as its message was copied, may have ended it or the pool.
    if (job.ended || job.slot !== slot || slot.dead) return;
    const timeout = job.timeout;
    const every = Math.max(1, timeout / 16);
    let from = this.#clock.now(); // when it was sent, or last seen waiting
    let unread: UnreadAnswers | undefined; // those posted when its time ran out
    let freeSince: number | undefined; // since when it waits with nothing ahead of it
    const patience = Math.max(timeout, this.#options.startTimeout);
    // The pool's clock, until it refuses a timer: real time from then on (see
    // JobTimer), the times kept so far moved onto it by `shift`.
    let clock: Clock = this.#clock;
    let shift = 0;
    const lookIn = (ms: number, now: number) => {
      const timer = new JobTimer(clock, check, ms, now);
      job.timer = timer;
      if (timer.clock !== clock) {
        shift = timer.clock.now() - this.#clock.now();
        from += shift;
        if (freeSince !== undefined) freeSince += shift;
        clock = timer.clock;
      }
    };
    const check = () => {
      job.timer = undefined;
      if (job.ended || job.slot !== slot || slot.dead) return;
      const now = clock.now();
      // A worker still starting holds its jobs waiting; with shared memory the
      // pool sees one start even before it has read the worker's "ready".
      if (!slot.ready && !slot.statusShared) {
        lookIn(every, now);
        return;
      }
      const progress = slot.progressOf(job);
      if (progress === "finished") return;
      // Not started yet, its clock starts after this; unless its worker
      // imports its task() module for it: the import is part of its time
      // (as on the shared lane), or one that never ends would hold it.
      if (progress === "waiting" && !WorkerSlot.loadsFor(job, slot.loading())) {
        // Nothing ahead of it on a worker that is ready, yet not started:
        // something holds the worker's thread (a timer or loop a task left,
        // or reading its own arguments, which may take long). Once it has
        // waited so for its limit and `startTimeout` both, it goes to a
        // fresh worker (see #stuck). (A worker's start-up is `startTimeout`'s.)
        if (slot.ready && slot.nothingAhead(job) && patience !== Infinity) {
          freeSince ??= now;
          if (now - freeSince >= patience) return this.#stuck(slot, job, patience);
        } else freeSince = undefined;
        from = now;
        lookIn(every, now);
        return;
      }
      const left = Math.max(from, slot.ready ? slot.readyAt + shift : 0) + timeout - now;
      if (left > 0) {
        lookIn(left, now);
        return;
      }
      // It may have ended in time, its answer unread while this thread was
      // busy: the answers posted by now are read first.
      unread ??= new UnreadAnswers(slot);
      if (unread.waitFor(job, check)) return;
      // No frames: they would be the pool's own timer code, of no use to a reader,
      // and on Deno they would hold the job, and its arguments, with the error.
      this.failRunning(job, frameless(() => new TaskTimeoutError(job.id, timeout)), "timeout");
      this.#host.changed();
    };
    // A worker still starting, or jobs ahead of it: it looks until it sees the job start.
    lookIn(!slot.ready || slot.heldBack(job) ? every : timeout, from);
  }

  /**
   * Whether `job`, whose answer is being read, ran past its time limit by
   * its worker's measure (`ms`, real time). Its timeout's look may have come
   * too late to see it run (this thread behind on messages: a flood of
   * another job's progress, a replaced worker's backlog), and found it
   * finished. Only on the system clock: a pool given another clock keeps
   * time by it alone.
   */
  ranPastLimit(job: Job, ms: number): boolean {
    const limit = job.timeout;
    return limit > 0 && ms > limit && this.#clock === systemClock;
  }

  /**
   * A progress message of `job` arrived: if its timer (its timeout's next
   * look, or its abort grace) is overdue, it runs now. Deno reads a worker's
   * queued messages ahead of timers, so a task calling `progress()` in a loop
   * would otherwise hold back its own timeout, and its worker's replacement,
   * by seconds.
   */
  lookIfDue(job: Job): void {
    const timer = job.timer as JobTimer | undefined;
    if (timer === undefined || timer.clock.now() < timer.at) return;
    try {
      timer.clear();
    } catch {
      return; // a clock whose clearTimer throws: the timer runs when due, as it would have
    }
    timer.run();
  }

  /**
   * `job` has waited `waited` ms on `slot` with nothing ahead of it: the
   * worker's thread is held by something no job owns, or by reading the
   * job's own arguments. The worker is replaced, said with an `error` event,
   * and its jobs, none started, go again; but a job that waited so on a
   * second worker fails (its arguments may take that long to read: it would
   * go round for ever).
   */
  #stuck(slot: WorkerSlot, job: Job, waited: number): void {
    const name = this.#workers.nameOf(slot);
    const id = job.id + job.next;
    const why =
      `with nothing ahead of it: something holds its thread (a timer or loop a task left behind, or reading the job's arguments)`;
    let error: Error;
    if (this.#movedStuck.delete(id)) {
      error = new Error(
        `Job ${id} did not start on two workers, each given ${waited} ms (its time limit or startTimeout) ${why}; it fails`,
      );
      job.ended = true;
      for (let i = job.next; i < job.count; i++) this.#ends.failed(job, job.id + i, error);
    } else {
      this.#movedStuck.add(id);
      error = new Error(
        `Worker ${name} did not start job ${id} within ${waited} ms (its time limit or startTimeout) ${why}; the worker is replaced and its jobs go again`,
      );
    }
    this.#workers.remove(slot, "timeout");
    this.#requeue(unanswered(slot), slot, null);
    slot.forgetJobs();
    this.#workers.reportError(slot, error);
    this.#workers.keepMinimum();
    this.#host.scheduleFlush();
    this.#host.changed();
  }

  /**
   * `slot` has named the same job in `Status.LOADING` past `startTimeout`:
   * the module it imports blocks its thread (see `import_watch.ts`). The jobs
   * it imports for fail with `error` (each needs that module) and it is
   * replaced, as after a timeout.
   */
  importStuck(slot: WorkerSlot, word: number, error: Error): void {
    for (const job of slot.inflight) {
      if (job.ended || !WorkerSlot.loadsFor(job, word)) continue;
      job.ended = true;
      for (let i = job.next; i < job.count; i++) this.#ends.failed(job, job.id + i, error);
    }
    this.replace(slot, "timeout");
  }

  /**
   * Kills a worker whose running job was abandoned, and sends its other jobs
   * again. The flush waits for the end of the tick: when one `AbortSignal`
   * aborts many jobs, its listeners run one after the other, and a job sent
   * to a new worker by the first would cost that worker at the next.
   */
  replace(slot: WorkerSlot, reason: WorkerExitReason): void {
    const cause = new Error(
      `Worker ${this.#workers.nameOf(slot)} was replaced: a job it ran was ${
        reason === "timeout" ? "timed out" : "aborted"
      } and did not end within abortGrace`,
    );
    this.#endStarted(slot, reason, cause);
  }

  /**
   * Ends `slot`'s worker (`reason`) as the pool ends one: the jobs it had
   * started fail with `cause` (they ran, or ran on in another lane: sent
   * again they could run twice); the others go again. On one lane after a
   * stopped job that is only that job: it ran alone, or it had a time limit,
   * and the worker sent what the jobs before it answered as it started it
   * (read before it failed: `UnreadAnswers`).
   */
  #endStarted(slot: WorkerSlot, reason: WorkerExitReason, cause: Error): void {
    this.#workers.remove(slot, reason);
    this.#endDead(slot, cause, true);
    slot.forgetJobs();
    this.#workers.keepMinimum();
    this.#host.scheduleFlush();
    this.#host.changed();
  }

  /**
   * Kills a worker still importing a module for a job that ended before it
   * started (`ImportWatch.abandoned`), and sends the jobs it holds, none
   * started, again. One it starts all the same (the import ending just now)
   * is known from the count the worker's end takes, and fails as a replaced
   * worker's running job does: sent again, it could run twice.
   */
  replaceImporting(slot: WorkerSlot): void {
    const cause = new Error(
      `Worker ${
        this.#workers.nameOf(slot)
      } was replaced abortGrace after a job it imported a task module for was cancelled or aborted; this job started as it was replaced (the import had just ended), so it may have run`,
    );
    this.#endStarted(slot, "abort", cause);
  }

  /**
   * Puts the unfinished jobs of a worker that is gone back in the queue. Two
   * cannot go again, and fail instead: a generator whose values reached the
   * pool (they would come twice), and a job that moved buffers with
   * `transfer()` (they went with the worker), saying so.
   */
  #requeue(jobs: Job[], slot: WorkerSlot, cause: unknown): void {
    const again: Job[] = [];
    for (let job of jobs) {
      if (job.yieldedId === job.id + job.next) {
        // A generator whose values reached the pool, whose end was lost with its worker:
        // running it again would send its values twice. It fails instead.
        const id = job.yieldedId;
        const rest = job.count - job.next - 1;
        if (rest === 0) job.ended = true;
        this.#ends.failed(
          job,
          id,
          new WorkerCrashedError(slot.id, id, {
            workerName: this.#workers.nameOf(slot),
            ...(cause === null ? {} : { cause }),
          }),
        );
        if (rest === 0) continue;
        job = job.part(job.next + 1, rest);
      }
      if (job.transfer === null || job.transfer.length === 0) {
        again.push(job);
        continue;
      }
      job.ended = true;
      for (let i = job.next; i < job.count; i++) {
        const id = job.id + i;
        const error = new Error(
          `Cannot run job ${id} again: what it moved with transfer() went with worker ${
            this.#workers.nameOf(slot)
          }, which is gone`,
          cause === null ? undefined : { cause },
        );
        this.#ends.failed(job, id, error);
      }
    }
    this.#queue.requeue(again);
  }

  /**
   * This thread could not read a message of `slot`'s worker (the runtime's
   * `messageerror`: on Deno a result nested about 3,000 levels deep is sent
   * but cannot be read here, on Bun a string of 1 GiB). The answers in it,
   * of jobs that ran, are lost, so the worker is ended as `replace` ends one:
   * each job it had started fails, and none runs twice (as a crash's would,
   * whose lost answers go again: the same answer, lost again, ran them up to
   * six times and failed the jobs after them).
   */
  answersUnreadable(slot: WorkerSlot): void {
    const name = this.#workers.nameOf(slot);
    const cause = new TypeError(
      `A message from worker ${name} could not be read on the main thread (a result too large to read, or nested too deep: on Deno, about 3,000 levels); the jobs it had started fail, none is run again`,
    );
    if (this.#workers.isRetiring(slot)) return this.crashed(slot, cause); // it held no job
    this.#stats.crashed++;
    this.#workers.reportError(slot, cause);
    this.#endStarted(slot, "crash", cause);
  }

  /**
   * `slot`'s worker could not read a batch the pool sent (the runtime's
   * `messageerror`: on Deno a value nested about 3,000 levels deep is sent,
   * but a worker cannot read it) and runs no more batches; `started` is its
   * `STARTED` count at that batch's place. So every job it holds from the
   * first it had not started on was never started: each goes again alone, as
   * a suspect (the batch's other jobs among them are innocent), and the worker
   * is recycled once its running jobs end. A job that was alone in the batch
   * (a suspect, or one that always travels alone) is the one: it fails.
   */
  unreadable(slot: WorkerSlot, started: number): void {
    if (this.#workers.isRetiring(slot)) return; // in its teardown: it holds no job
    const inflight = slot.inflight;
    // Jobs it started whose answers this thread has not read yet (a lane's) stay.
    let answering = (started - slot.endedItems) | 0;
    let at = 0;
    while (answering > 0 && at < inflight.length) {
      const job = inflight.at(at++)!;
      answering -= job.count - job.next;
    }
    const unstarted: Job[] = [];
    while (inflight.length > at) {
      const job = inflight.pop()!;
      slot.inflightItems -= job.count - job.next;
      slot.sentItems -= job.count - job.next;
      if (!job.ended) unstarted.unshift(job.unanswered());
    }
    slot.retractable.length = 0; // those batches are gone
    slot.exclusive = false;
    const first = unstarted[0];
    if (first !== undefined && (first.exclusive || first.abortable) && first.count === 1) {
      unstarted.shift();
      first.ended = true;
      this.#ends.failed(
        first,
        first.id,
        poolMade(
          new TypeError(
            `Cannot send job ${first.id}: its worker could not read its arguments (on Deno, a value nested about 3,000 levels deep is sent but cannot be read in a worker)`,
          ),
        ),
      );
    }
    for (const job of unstarted) job.suspect = true;
    this.#requeue(unstarted, slot, new Error("its worker could not read the batch it was in"));
    this.#workers.recycleOnceIdle(slot);
    if (slot.inflightItems === 0 && !slot.dead) this.#workers.idle(slot);
    this.#host.flush();
    this.#host.changed();
  }

  /**
   * A worker died. The job it was running fails with `WorkerCrashedError`;
   * the others go back to the front of the queue (see `crash.ts`).
   */
  crashed(slot: WorkerSlot, cause: unknown): void {
    if (this.#workers.isRetiring(slot)) {
      // It died during its teardown: it held no job.
      this.#workers.retired(slot, true, cause);
      return;
    }
    if (!slot.ready) {
      this.startFailed(slot, cause);
      return;
    }
    this.#stats.crashed++;
    this.#workers.reportError(slot, cause);
    this.#workers.remove(slot, "crash");
    const ranOne = this.#endDead(slot, cause);
    const ranNone = !ranOne && slot.endedItems === 0 && !anyEnded(slot);
    slot.forgetJobs();
    if (ranOne) {
      // It died running a job, so it had started: that job's fault, not a
      // failed start, and the jobs behind it deserve a fresh worker.
      this.#workers.startedForGood();
    } else if (ranNone) {
      // It died before running any job (e.g. its task module throws from a
      // timer at import): count it as a failed start, so respawns back off.
      this.#countStartFailure(cause);
      return;
    }
    this.#workers.keepMinimum();
    this.#host.flush();
    this.#host.changed();
  }

  /**
   * Ends the jobs of a dead worker (see `crash.ts`): the one it was running,
   * and with several lanes those running asynchronously, fail with
   * `WorkerCrashedError` (`cause`); the rest go back to the queue. Returns
   * whether any job failed (it died running one).
   */
  #endDead(slot: WorkerSlot, cause: unknown, replaced = false): boolean {
    // Without shared memory the pool cannot see how far the worker got: it knows the
    // job it ran only when the worker held one. Otherwise none is blamed: each goes
    // again as a suspect, alone, so the next crash names its job. (The first
    // unanswered need not be the one: it may have ended, its answer still held in
    // the worker's outbox.) Dead while importing a task() module for a job, it ran
    // none: those it started had ended, their answers lost.
    // Its time on jobs no answer reported: busy all the same (`utilization`).
    this.#stats.busyMs += slot.unreportedBusyMs(this.#clock.now(), this.#stats.since);
    const loading = replaced ? 0 : slot.loading();
    const suspects = !slot.statusShared && inflightItems(slot) > 1;
    const unreported = !slot.statusShared
      ? (suspects ? 0 : 1)
      : loading !== 0
      ? 0
      : (slot.started() - slot.endedItems) | 0;
    let failed = false;
    const fail = (job: Job, id: number) => {
      if (job.count === 1) job.ended = true;
      const workerName = this.#workers.nameOf(slot);
      this.#ends.failed(job, id, new WorkerCrashedError(slot.id, id, { cause, workerName }));
      failed = true;
    };
    let resend: Job[];
    if (replaced) {
      // The pool ended it: each job it had started ran or was running, and
      // its answer, if any, went with it. Sent again, it would run twice.
      const { started, again } = splitStarted(slot.inflight, unreported);
      for (const { job, id } of started) fail(job, id);
      resend = again;
    } else {
      const { culprit, again } = judgeCrash(slot.inflight, unreported);
      if (culprit) fail(culprit.job, culprit.id);
      resend = again;
    }
    if (slot.lanes > 1) {
      const running = slot.runningLanes();
      const split = splitRunning(resend, running);
      for (const { job, id } of split.running) fail(job, id);
      // Jobs that went LATER: still running (in a lane) fail; the others had
      // answered, but the answer was lost with the worker: they go again
      // (together: they may wait for each other), unless the pool ended it
      // (they ran: see above). One whose answer is lost a second time fails:
      // its answer may be what kills the worker.
      const lost: Job[] = [];
      for (const [id, job] of slot.later) {
        if (job.ended) continue;
        if (replaced || job.answersLost !== 0 || running.has(laneWord(id))) fail(job, id);
        else {
          const again = job.count === 1 ? job : job.part(id - job.id, 1);
          again.next = 0; // unanswered again (its LATER counted it as answered)
          again.answersLost++;
          lost.push(again);
        }
      }
      for (const job of slot.later.values()) job.later = 0;
      slot.later.clear();
      resend = lost.length === 0 ? split.again : lost.concat(split.again);
    }
    if (loading !== 0) {
      // The entry whose module killed the worker as it loaded fails (each of its
      // jobs needs that module): sent again, it would kill the next worker.
      const kept: Job[] = [];
      for (const job of resend) {
        if (!WorkerSlot.loadsFor(job, loading)) kept.push(job);
        else for (let i = 0; i < job.count; i++) fail(job, job.id + i);
      }
      resend = kept;
    }
    if (!slot.statusShared && this.#options.concurrentTasksPerWorker > 1) {
      // Without shared memory, with several jobs at once, any of them may have been
      // running: sent again, it could run twice. Each fails instead.
      for (const job of resend) {
        for (let i = 0; i < job.count; i++) fail(job, job.id + i);
      }
      return failed;
    }
    if (suspects && !replaced) { for (const job of resend) job.suspect = true; }
    this.#requeue(resend, slot, cause);
    return failed;
  }

  /**
   * A worker failed to start (e.g. the task module did not import, or its
   * `setup()` threw: `during`). Try again after a back-off that doubles;
   * after a few failures in a row, fail every queued job instead of looping
   * forever.
   */
  startFailed(slot: WorkerSlot, cause: unknown, during?: WorkerHook): void {
    this.#stats.crashed++;
    this.#workers.reportError(slot, cause, during);
    this.#workers.remove(slot, "crash");
    this.#requeue(unanswered(slot), slot, cause);
    slot.forgetJobs();
    this.#countStartFailure(cause, during);
  }

  /**
   * A start refused an access the pool's own `permissions` did not grant
   * (Deno's message says to run the program with a flag it may have).
   */
  #permissionsHint(cause: unknown): string {
    const permissions = this.#options.workerOptions.deno?.permissions;
    if (permissions === undefined || permissions === "inherit" || !deniedAccess(cause)) return "";
    return ` (the pool's "permissions" limit its workers: they must allow what the task module needs, starting with reading it)`;
  }

  #countStartFailure(cause: unknown, during?: WorkerHook): void {
    const failures = this.#workers.startFailed();
    if (failures !== 0) {
      const message = messageOf(cause);
      // Named once: the worker's own message names it for a value that cannot be cloned.
      const hook = during === undefined || message.startsWith(`${during}() threw`)
        ? ""
        : `${during}() threw: `;
      const why = `workers failed to start ${failures} times in a row, last: ${hook}${message}${
        this.#permissionsHint(cause)
      }`;
      this.#host.endQueued((job, id) =>
        this.#ends.failed(job, id, poolMade(new Error(`Cannot run job ${id}: ${why}`, { cause })))
      );
    }
    this.#host.changed();
  }
}

/** Whether `error` is Deno's refusal of an access its permissions do not grant. */
function deniedAccess(error: unknown): boolean {
  try {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return name === "NotCapable" || name === "PermissionDenied" ||
      (typeof message === "string" && /Requires \S+ access/.test(message));
  } catch {
    return false;
  }
}

/** The message of an error, or the value described, to quote in another error's message. */
function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return "(a value that cannot be shown)";
  }
}

/**
 * A job's timer (`Job.timer`), due at `at` on `clock`: its timeout's next
 * look on the pool's clock, or, on the system clock, its abort grace (see
 * `failRunning`) or a wait for unread answers (`UnreadAnswers`).
 */
class JobTimer {
  readonly id: unknown;
  readonly at: number;
  /** The clock that holds the timer: the pool's, or the real one if the pool's refused it. */
  readonly clock: Clock;

  constructor(clock: Clock, readonly run: () => void, ms: number, now: number = clock.now()) {
    let id: unknown;
    try {
      id = clock.setTimer(run, ms);
    } catch (error) {
      // A user's clock that throws: no call is left to fail (timers are set as
      // jobs are sent), and without its timer a job would never end by its
      // limit. Reported, as a throwing timer callback is; real time instead.
      reportGlobally(error);
      clock = systemClock;
      now = clock.now();
      id = clock.setTimer(run, ms);
    }
    this.clock = clock;
    this.id = id;
    this.at = now + ms;
  }

  clear(): void {
    try {
      this.clock.clearTimer(this.id);
    } catch (error) {
      // Cleared as a job's answer is read: reported, not taken for the worker's fault.
      reportGlobally(error);
    }
  }
}

/**
 * The answers a worker had posted when a job's time (or grace) ran out,
 * which this thread may not have read yet: Deno runs a due timer before a
 * waiting message. Until they are read, the job's check looks again 1 ms
 * later, on real time (a test's fake clock cannot reach the worker).
 */
class UnreadAnswers {
  readonly #slot: WorkerSlot;
  readonly #posted: number;

  constructor(slot: WorkerSlot) {
    this.#slot = slot;
    this.#posted = slot.postedAnswers();
  }

  /** If some of those answers are still unread, arms `job`'s timer to run `look` again; whether it did. */
  waitFor(job: Job, look: () => void): boolean {
    if (((this.#slot.answers - this.#posted) | 0) >= 0) return false;
    job.timer = new JobTimer(systemClock, look, 1);
    return true;
  }
}

/** Whether a job in flight on `slot` has ended (aborted or timed out, in its grace). */
function anyEnded(slot: WorkerSlot): boolean {
  for (const job of slot.inflight) if (job.ended) return true;
  for (const job of slot.later.values()) if (job.ended) return true;
  return false;
}

/** The jobs in flight on `slot` that have not ended, as entries to send again. */
function unanswered(slot: WorkerSlot): Job[] {
  return [...slot.inflight].filter((job) => !job.ended).map((job) => job.unanswered());
}

/** The jobs in flight on `slot` not answered yet, each `map` item counted. */
function inflightItems(slot: WorkerSlot): number {
  let items = 0;
  for (const job of slot.inflight) if (!job.ended) items += job.count - job.next;
  return items;
}
