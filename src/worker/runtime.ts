/**
 * The worker side: the entry every pool worker runs. It imports the pool's
 * task module, compiles inline tasks once, runs batches of jobs in order, and
 * answers with batched results.
 *
 * This file holds the job loop: messages in, batches run in order (the hot
 * loops for `map` slices and numbers), the running job's context and the
 * lanes of `concurrentTasksPerWorker`. The rest is beside it:
 *
 * | piece | file |
 * | --- | --- |
 * | the worker's scope, uncaught errors, ending itself | `scope.ts` |
 * | init, `setup`/`teardown`, memory checks | `lifecycle.ts` |
 * | answers on their way out, the shared status memory | `outbox.ts` |
 * | the task table (compiled sources, imported exports) | `task_table.ts` |
 * | between batches: the doorbell spin, the shared lane | `waiting.ts` |
 * | generator and `stream()` jobs | `streams.ts` |
 *
 * The worker side imports only `protocol/` and `sync/`, never pool code.
 *
 * A task imports `jobContext` from `mod.ts` beside it (the
 * `@fastpool/fastpool/worker` entry), not from here. Imported anywhere but a
 * worker (the main thread, a doc test), or in a worker another copy of it
 * already runs, this file does nothing (`runsThisWorker`).
 *
 * @module
 */

import { atomicAdd, atomicCompareExchange, atomicLoad, atomicStore } from "../protocol/atomics.ts";
import {
  assertNever,
  laneWord,
  Mode,
  Status,
  stoppedAt,
  stoppedCountAt,
  stoppedRing,
  type ToWorker,
} from "../protocol/messages.ts";
import { claim } from "../protocol/claims.ts";
import { decodeError, isTransferred, transfer } from "../protocol/codec.ts";
import { fromDouble, JOB_HEADER, JobHeader, readJobHeader, TIMED } from "../protocol/job_batch.ts";
import {
  guardBlockingWaits,
  guardSignals,
  guardTakes,
  onWaitsEnded,
  serveAgain,
  waitsOn,
} from "../sync/_thread_memory.ts";
import { fromWire, toWire } from "../sync/wire.ts";
import { type Compiled, provideToInlineTasks, TaskKind } from "./compile.ts";
import { installJobContext, type JobContext, jobContext, LiveContext } from "./job_context.ts";
import { acceptsVersion, checkMemory, retire, start, whenStarted } from "./lifecycle.ts";
import {
  answerEarly,
  answerLane,
  attachStatus,
  beginBatch,
  flush,
  flushSoon,
  lane,
  markReady,
  maybeFlush,
  out,
  progressSent,
  pushReturn,
  pushThrow,
  slowSoFar,
  status,
} from "./outbox.ts";
import {
  isCrashed,
  nameThisWorker,
  post,
  runsThisWorker,
  scope,
  setPostKey,
  watchOwnEnd,
} from "./scope.ts";
import {
  creditStream,
  runAsyncGenerator,
  runStream,
  setStreamWindow,
  stopStream,
} from "./streams.ts";
import { define, isUnloaded, limitImports, load, someUnloaded, tasks } from "./task_table.ts";
import { isThenable, whenSettled } from "./thenable.ts";
import { lastLook, messageReceived, spinForWork, spinMs } from "./waiting.ts";
import { now } from "../_now.ts";
import { queueMicrotask } from "../_event_loop.ts";

/** How many quick jobs run between two looks at the clock. */
const CLOCK_EVERY = 64;
/**
 * `Reflect.apply` as it was at load: a task that replaces
 * `Function.prototype.apply` (or `Reflect.apply`) must not change what later
 * jobs on its worker return.
 */
const applyTask = Reflect.apply;

/** Thrown out of the job loops when the pool has ended this worker; `drain` stops there. */
const ENDED = Symbol("ended by the pool");

/**
 * Counts a job as started (`Status.STARTED`, by compare-and-swap), unless
 * the pool has ended this worker: the pool then changed the word to a value
 * the count never takes next (`WorkerSlot.terminate()`), the swap fails, and
 * this throws `ENDED`: the job does not run. So every job that runs is in
 * the count the pool took when it ended the worker, and is never sent again,
 * even by a worker that `terminate()` did not stop at once (Deno's, while it
 * still starts).
 */
function startJob(): void {
  if (isCrashed()) throw ENDED; // a task ended this worker (a browser's `self.close()` returns)
  const next = (startedJobs + 1) | 0;
  if (atomicCompareExchange(status, Status.STARTED, startedJobs, next) !== startedJobs) throw ENDED;
  startedJobs = next;
}

/**
 * Stops a task's `acquireSync()` once the pool has ended this worker (see
 * `Status.ENDED`), or failed the job that calls it (its stopped ring: `stoppedAt`).
 */
function stopIfEnded(): void {
  if (atomicLoad(status, Status.ENDED) !== 0) {
    throw new Error("acquireSync() stopped waiting: the pool ended this worker");
  }
  // Only a job's synchronous call is surely its own: code after an await may be anyone's.
  const job = currentJob;
  if (job !== 0 && stoppedByPool(job)) {
    throw new Error(
      `acquireSync() stopped waiting: job ${job} has failed (its time limit passed, or it was aborted)`,
    );
  }
}

/**
 * Whether a task's `tryAcquire()` must give back what it took: the pool has
 * ended this worker, or failed the job whose synchronous call this is.
 */
function syncCallStopped(): boolean {
  return atomicLoad(status, Status.ENDED) !== 0 || (currentJob !== 0 && stoppedByPool(currentJob));
}

/** Whether the pool has failed running job `id` early; its "abort" message may not be here yet. */
function stoppedByPool(id: number): boolean {
  if (atomicLoad(status, stoppedCount) === 0) return false; // no job is marked
  const word = laneWord(id);
  for (let at = stoppedFrom; at < stoppedTo; at++) {
    if (atomicLoad(status, at) === word) return true;
  }
  return false;
}

/**
 * The pool's abort of job `id` has arrived: its word in the stopped ring is
 * free again (the pool writes only into free words, see `WorkerSlot.stopped`).
 */
function unmarkStopped(id: number): void {
  const word = laneWord(id);
  for (let at = stoppedFrom; at < stoppedTo; at++) {
    if (atomicCompareExchange(status, at, word, 0) !== word) continue;
    atomicAdd(status, stoppedCount, -1);
    return;
  }
}

/** Whether `signal` is a job's whose abort is on its way (see `guardSignals`). */
function abortOnItsWay(signal: AbortSignal): boolean {
  const context = contextOf(signal);
  return context !== undefined && stoppedByPool(context.id);
}

/** The context whose signal is `signal`, among those an abort can still reach. */
function contextOf(signal: AbortSignal): LiveContext | undefined {
  if (made !== null && made.owns(signal)) return made;
  for (const context of live.values()) if (context.owns(signal)) return context;
  for (const context of endedWithSignal.values()) if (context.owns(signal)) return context;
  return undefined;
}
/**
 * Argument arrays reused for jobs of up to 4 arguments: `applyTask` copies
 * them into the call, so no job ever sees another's array. Filled with
 * `null`, not `undefined` or numbers: V8 would otherwise store them as
 * double arrays, and every integer argument would reach the task boxed as a
 * double (fib(27) ran 2.4 times slower that way).
 */
const REUSED_ARGS: unknown[][] = [[], [null], [null, null], [null, null, null], [
  null,
  null,
  null,
  null,
]];

/**
 * Empties argument array `args` of `n` once its job's call has returned (the
 * call has its own copy): a reused one kept the last job's arguments, a
 * moved buffer among them, in an idle worker until a later job of as many
 * arguments came.
 */
function dropArgs(args: unknown[], n: number): void {
  for (let k = 0; k < n; k++) args[k] = null;
}

/** Jobs started, as `Status.STARTED` holds it (wrapping at 2^32). */
let startedJobs = 0;

const inbox: ((ToWorker & { type: "run" }) | typeof UNREADABLE)[] = [];
let draining = false;
/**
 * Where a message of the pool's that the runtime could not read stood in
 * the inbox (see {@linkcode onMessageError}).
 */
const UNREADABLE = Symbol("unreadable");
/** A message could not be read: this worker runs no more batches (see `stopReading`). */
let readNoMore = false;
/** Stream jobs stopped (`return()`) before they started: skipped when reached. */
const skipped = new Set<number>();

let sinceClock = 0;

/**
 * The job being called synchronously now (its id), or 0: set before each
 * call of a task, cleared before the worker awaits. `jobContext()` reads it.
 */
let currentJob = 0;
/** The context `jobContext()` made during the current synchronous call, if any. */
let made: LiveContext | null = null;
/** Contexts of jobs that went asynchronous and still run, by job id: aborts find them here. */
const live = new Map<number, LiveContext>();
/**
 * Contexts of the last `KEPT_ENDED` jobs that ended here leaving a
 * `Semaphore` or `Lock` wait given their signal: the pool may have failed
 * such a job, or fail it yet, its answer not read; that wait must then take
 * no permit and end with the abort.
 */
const endedWithSignal = new Map<number, LiveContext>();
const KEPT_ENDED = 256;
/** No wait holds `signal` any more: an ended job's context kept for its waits goes. */
function waitsEndedFor(signal: AbortSignal): void {
  for (const context of endedWithSignal.values()) {
    if (context.owns(signal)) return void endedWithSignal.delete(context.id);
  }
}

/**
 * Job `context.id` has ended. If a wait given its signal is left, its
 * context stays (`endedWithSignal`) until its abort or the wait's end: only
 * such a wait needs an ended job's context.
 */
function endContext(context: LiveContext): void {
  context.ended = true;
  live.delete(context.id);
  if (context.aborted || !context.signalTaken || !waitsOn(context.signal)) return;
  endedWithSignal.set(context.id, context);
  if (endedWithSignal.size > KEPT_ENDED) {
    const oldest = endedWithSignal.keys().next().value!;
    endedWithSignal.delete(oldest);
    // Its waits are no longer told apart: one passed over for its abort wants a permit again.
    if (stoppedByPool(oldest)) serveAgain();
  }
}

if (runsThisWorker) {
  watchOwnEnd(flush);
  installJobContext(contextNow);
  provideToInlineTasks("jobContext", jobContext);
  provideToInlineTasks("transfer", transfer);
}

/** The resolver behind `jobContext()`: the running job's context, made on first use. */
function contextNow(): JobContext | undefined {
  if (currentJob === 0) return undefined;
  if (made !== null) {
    if (made.id === currentJob) return made;
    endContext(made); // a job that ended synchronously
  }
  return made = new LiveContext(currentJob, sendProgress);
}

function sendProgress(id: number, value: unknown): void {
  // Moved, as a result is, if marked with transfer().
  let moved: Transferable[] = [];
  if (isTransferred(value)) {
    moved = value.list;
    value = value.value;
  }
  // A Semaphore or Lock in it arrives working, as in a result: the pool revives
  // what is marked shared, and takes anything else as it is.
  const wire = toWire(value);
  post(
    wire === undefined
      ? { type: "progress", id, value }
      : { type: "progress", id, value: wire, shared: true },
    moved,
  );
  progressSent();
}

/**
 * Called where a job's call returned a promise and the worker is about to
 * await it: no job runs synchronously any more, and a context the job made
 * stays reachable for aborts until the promise settles.
 */
function track(pending: Promise<void>): Promise<void> {
  const context = takeMade(currentJob);
  currentJob = 0;
  if (context === null) return pending;
  live.set(context.id, context);
  return untilSettled(pending, context);
}

/**
 * Awaits `pending`, then ends `context`. With `await`, not `then` or
 * `finally`: a task that replaces those (or `Symbol.species`) in its worker
 * must not stop the jobs after it from ending.
 */
async function untilSettled(pending: Promise<void>, context: LiveContext): Promise<void> {
  try {
    await pending;
  } finally {
    endContext(context);
  }
}

/**
 * Runs `step` as job `id`: a stream's synchronous generator, stepped in its
 * call and again each time credit comes. It has no `await` to call
 * `jobContext()` before, so `jobContext()` gives it its context there too
 * (the one `call` made at its start, never another job's).
 */
function asJob(id: number, step: () => boolean): boolean {
  if (currentJob === id) return step(); // its first steps, in its call
  const running = currentJob;
  const kept = made;
  currentJob = id;
  made = live.get(id) ?? null;
  try {
    return step();
  } finally {
    currentJob = running;
    made = kept;
  }
}

/**
 * The context job `id` made in its synchronous call, taken out of `made`;
 * `null` if it made none. One left there by an earlier job, which ended
 * synchronously, ends now: it must not answer for `id` (its signal would
 * abort when `id` is aborted).
 */
function takeMade(id: number): LiveContext | null {
  const context = made;
  made = null;
  if (context === null || context.id === id) return context;
  endContext(context);
  return null;
}

/** `concurrentTasksPerWorker`; above 1, asynchronous jobs run side by side. */
let concurrency = 1;
/** The stopped ring's words in the status memory (see `stoppedAt`), and its count's. */
let stoppedFrom = 0;
let stoppedTo = 0;
let stoppedCount = 0;
/** Free lanes of the shared lane table (see `Status.WORDS`). */
const freeLanes: number[] = [];
/** Wakes the job loop waiting for a free lane. */
let laneFree: (() => void) | null = null;
/**
 * The loop was woken for a free lane and has not gone on yet: it sends what
 * is answered meanwhile itself (`afterLane`, the flush timer of its next
 * park, or its batch's end), not a message per wake.
 */
let woken = false;
/** An answer of an asynchronous job waits to be flushed while the loop is idle. */
let flushQueued = false;
/**
 * With several lanes, when the job being called was called, if its task
 * `pends` (its run time starts there).
 */
let callStarted = 0;

function setConcurrency(n: number | undefined): void {
  concurrency = n !== undefined && n > 1 ? n : 1;
  stoppedFrom = stoppedAt(concurrency);
  stoppedTo = stoppedFrom + stoppedRing(concurrency);
  stoppedCount = stoppedCountAt(concurrency);
  for (let lane = concurrency - 1; lane >= 0 && concurrency > 1; lane--) freeLanes.push(lane);
}

/**
 * The pending result of job `id` of a plain task: with one lane, the loop
 * awaits it (the promise returned); with several, the job takes a lane and
 * answers later (`LATER`, then `FOR`), and the loop goes on at once, or once
 * a lane is free if all are taken.
 */
function pendingResult(
  task: Compiled,
  result: PromiseLike<unknown>,
  id: number,
): Promise<void> | undefined {
  if (concurrency === 1) return track(settle(task, result)!);
  // Timed on its own from its call (its synchronous part included), which
  // the answers' messages cannot give: other jobs run and answer meanwhile.
  // A task first seen to return a promise was not clocked before its call,
  // unless the job is timed (`timeNext`); an untimed one is timed from here.
  const timedFrom = out.later();
  const started = timedFrom >= 0 ? timedFrom : task.pends ? callStarted : now();
  task.pends = true;
  const lane = freeLanes.pop()!;
  atomicStore(status, Status.WORDS + lane, laneWord(id));
  const context = takeMade(id);
  if (context !== null) live.set(id, context);
  const end = () => {
    atomicStore(status, Status.WORDS + lane, 0);
    freeLanes.push(lane);
    if (context !== null) endContext(context);
  };
  void whenSettled(
    result,
    (value) => {
      end();
      out.laterReturned(id, value, now() - started);
      laterAnswered();
    },
    (error) => {
      end();
      out.laterThrew(id, task.explain(error), now() - started);
      laterAnswered();
    },
  );
  if (freeLanes.length !== 0) return undefined;
  currentJob = 0;
  // Every lane is taken: the loop parks until a job ends, which may be long.
  // What is answered so far, and these jobs' LATER, goes within
  // FLUSH_AFTER_MS if it does (a message at each park would cost jobs that
  // settle at once 10%: `bench/lanes_ab.ts`).
  flushSoon();
  return new Promise<void>((resolve) => laneFree = resolve);
}

/**
 * An asynchronous job answered: wake the loop waiting for a lane, or else,
 * unless it is waking, flush once the current microtasks are done (the loop
 * is awaiting something else or its batch has ended; answers that settle
 * together go together). A message per wake cost jobs that settle at once
 * 2-3x: 4 answers a message (`bench/lanes_ab.ts`).
 */
function laterAnswered(): void {
  if (laneFree !== null) {
    const wake = laneFree;
    laneFree = null;
    woken = true;
    wake();
  } else if (!woken && !flushQueued) {
    flushQueued = true;
    queueMicrotask(() => {
      flushQueued = false;
      flush();
    });
  }
}

/**
 * The loop got a lane back, or the job it awaited ended: answers of slow
 * jobs go now (as `answerEarly` judges), so a long synchronous job next
 * does not hold them back.
 */
function afterLane(): void {
  woken = false;
  if (concurrency > 1 && slowSoFar()) flush();
  else {
    sinceClock = 0;
    maybeFlush();
  }
}

/**
 * The pool aborted job `id`: abort its signal if it runs, skip it if it has
 * not started. A `stream()` job is stopped too, as when its consumer leaves:
 * one held at a `yield` for credit that will not come ends there, within
 * `abortGrace`, and keeps its worker.
 */
function abortJob(id: number, reason: unknown): void {
  const context = live.get(id) ?? endedWithSignal.get(id) ?? (made?.id === id ? made : undefined);
  if (context !== undefined) {
    context.abort(decodeError(reason));
    if (context.ended) endedWithSignal.delete(id); // kept only for this abort (see `endContext`)
  } else if (currentJob !== id && draining) skipped.add(id);
  unmarkStopped(id); // after the abort: its waits have left the queues
  stopStream(id);
}

// Only in a worker: a listener on the main thread's scope keeps a Bun program alive.
// In the capture phase: see `scope.ts` (a task's own listeners never come first).
if (runsThisWorker) {
  scope.addEventListener("message", onMessage, { capture: true });
  scope.addEventListener("messageerror", onMessageError, { capture: true });
}

/**
 * Messages that came before `init`, handled after it. The pool sends `init`
 * first, but a `workerData` getter that calls the pool (`recycle()`) runs
 * while `init` is cloned, and its message goes first.
 */
let beforeInit: ToWorker[] | null = [];

function onMessage(event: MessageEvent<ToWorker>): void {
  // A task's own `dispatchEvent(new MessageEvent("message", …))` is not the pool's.
  if (isCrashed() || !event.isTrusted) return;
  messageReceived();
  handle(event.data);
}

/**
 * A message of the pool's that the runtime could not read: on Deno a value
 * nested about 3,000 levels deep is sent, but a worker cannot read it. Only
 * a batch's arguments go that deep, so it stands for a batch, in its place:
 * the batches before it run, then the worker stops (see `stopReading`). An
 * `init` it could not read leaves the worker unstarted (`startTimeout`).
 */
function onMessageError(event: MessageEvent): void {
  if (isCrashed() || !event.isTrusted || beforeInit !== null) return;
  messageReceived();
  inbox.push(UNREADABLE);
  if (!draining) void drain();
}

/**
 * Reached the batch it could not read: tells the pool how many jobs it has
 * started (every job before that batch), so the pool knows the jobs it
 * holds from there on were never started and sends them again, and runs
 * no more batches. Jobs still running asynchronously go on and answer.
 */
function stopReading(): void {
  readNoMore = true;
  flush();
  post({ type: "unreadable", started: startedJobs });
}

function handle(msg: ToWorker): void {
  if (beforeInit !== null && msg.type !== "init") return void beforeInit.push(msg);
  switch (msg.type) {
    case "init": {
      const early = beforeInit;
      if (early === null) break; // a second one is not the pool's
      beforeInit = null;
      initialise(msg);
      for (const overtaken of early) handle(overtaken);
      break;
    }
    case "run":
      inbox.push(msg);
      if (!draining) void drain();
      break;
    case "credit":
      creditStream(msg.id, msg.n);
      break;
    case "stop":
      if (!stopStream(msg.id)) skipped.add(msg.id);
      break;
    case "abort":
      abortJob(msg.id, msg.reason);
      break;
    case "retire":
      void retire();
      break;
    default:
      assertNever(msg);
  }
}

function initialise(msg: ToWorker & { type: "init" }): void {
  setPostKey(msg.key);
  if (!acceptsVersion(msg.version)) return;
  post({ type: "accepted" }); // before the task module loads: later keyless messages are a task's
  attachStatus(msg.status, msg.lane);
  guardBlockingWaits(stopIfEnded);
  guardTakes(syncCallStopped);
  guardSignals(abortOnItsWay);
  onWaitsEnded(waitsEndedFor);
  setConcurrency(msg.concurrency);
  setStreamWindow(msg.streamWindow);
  limitImports(msg.startTimeout);
  nameThisWorker(msg.name);
  start(msg.module, fromWire(msg.workerData), msg.maxMemory, markReady);
}

async function drain(): Promise<void> {
  if (readNoMore) return;
  draining = true;
  try {
    if (!await whenStarted()) return;
    let lone = false;
    for (;;) {
      for (let msg = inbox.shift(); msg !== undefined; msg = inbox.shift()) {
        if (msg === UNREADABLE) return stopReading();
        if (msg.tasks) define(msg.tasks);
        // Before the claim: while a module loads, an idle worker may take the batch.
        if (someUnloaded()) await loadTasksOf(msg.jobs);
        if (!claim(status, msg.claim)) continue; // the pool gave it to an idle worker
        await runJobs(msg.jobs);
        lone = isLone(msg.jobs);
      }
      const request = spinForWork(spinMs(lone, concurrency > 1 && freeLanes.length < concurrency));
      if (request === null) break;
      const pending = runLaneJob(request);
      if (pending !== undefined) await pending;
      lone = true;
    }
  } catch (error) {
    if (error !== ENDED) throw error;
  } finally {
    draining = false;
    // Every job received has started: ids left were stopped or aborted after they ended.
    skipped.clear();
  }
}

/** The entry `runJobs` reads now; refilled per entry (`drain` runs one batch at a time). */
const header = new JobHeader();

/**
 * The job that came on the shared lane (`[id, task, mode, count, values…]`):
 * run at once like a batch of one, and answered through the lane (or as a
 * message when its answer does not fit). Returns a promise only when the job
 * went asynchronous, so the common case, a plain task returning a value,
 * makes no promise and waits for no microtask.
 */
function runLaneJob(entry: unknown[]): Promise<void> | undefined {
  beginBatch(lastLook());
  startJob();
  const index = entry[1] as number;
  // Its module loads as part of the job (its clock runs): a lone job cannot wait unstarted.
  // Rare: a worker is sent a task with a job of it and imports its module
  // before it listens on the lane again; only a batch sent one job at a time
  // (one postMessage refused) may carry a task whose job comes later.
  if (someUnloaded() && isUnloaded(index)) {
    return loadThenCall(entry, index);
  }
  return callLaneJob(entry);
}

/** Imports lane job `entry`'s module, then runs it (awaited: see `untilSettled`). */
async function loadThenCall(entry: unknown[], index: number): Promise<void> {
  await loadFor(entry[0] as number, index);
  const pending = callLoadedLaneJob(entry);
  if (pending !== undefined) await pending;
}

/** A lane job whose module was imported first: aborted meanwhile (`abortJob`), it is skipped. */
function callLoadedLaneJob(entry: unknown[]): Promise<void> | undefined {
  if (skipped.size === 0 || !skipped.delete(entry[0] as number)) return callLaneJob(entry);
  out.skipped();
  return endLaneJob();
}

function callLaneJob(entry: unknown[]): Promise<void> | undefined {
  const id = entry[0] as number;
  const n = entry[3] as number; // a one-item MAP entry or a CALL: n arguments follow
  const args = REUSED_ARGS[n]!;
  for (let k = 0; k < n; k++) args[k] = entry[JOB_HEADER + k];
  currentJob = id;
  if ((entry[2] as number) >= TIMED) out.timeNext(); // its answer, if it goes as a message, is timed
  const pending = call(tasks[entry[1] as number]!, args, Mode.CALL, id);
  dropArgs(args, n);
  if (pending === undefined) return endLaneJob();
  return trackLaneJob(pending);
}

/** Awaits an asynchronous lane job, then ends it (awaited: see `untilSettled`). */
async function trackLaneJob(pending: Promise<void>): Promise<void> {
  await track(pending);
  woken = false; // (it may have waited for a lane: `endLaneJob` answers)
  endLaneJob();
}

function endLaneJob(): undefined {
  endCalls();
  checkMemory();
  answerLane();
  return undefined;
}

/** Whether a batch holds one job of at most one value: the pool likely awaits it alone. */
function isLone(jobs: readonly unknown[]): boolean {
  return jobs.length <= JOB_HEADER + 1;
}

/**
 * Imports the modules whose exports a batch's jobs name and this worker has
 * not imported (see {@linkcode loadFor}).
 */
async function loadTasksOf(jobs: unknown[]): Promise<void> {
  for (let next = 0; next < jobs.length;) {
    next = readJobHeader(jobs, next, header);
    if (isUnloaded(header.task)) await loadFor(header.id, header.task);
  }
}

/**
 * Imports task `index`'s module for job `id`, naming the job in
 * `Status.LOADING` meanwhile: a module that kills its worker as it loads
 * fails that job, not the others sent with it, and one that blocks the
 * worker's thread past `startTimeout` (its own limit cannot run then) is
 * seen by the pool, which fails the job and replaces the worker.
 */
async function loadFor(id: number, index: number): Promise<void> {
  atomicStore(status, Status.LOADING, laneWord(id));
  try {
    await load(index);
  } finally {
    atomicStore(status, Status.LOADING, 0);
  }
}

/**
 * Runs a batch's jobs in order. Returns a promise only once a job makes it
 * wait; `goOn` then takes the batch up where it stopped (`paused`).
 */
function runJobs(jobs: unknown[]): Promise<void> | undefined {
  beginBatch();
  const wait = runFrom(jobs, 0);
  return wait === undefined ? undefined : batchAfter(wait);
}

/**
 * Where a batch that waits goes on: the rest of the entry it stopped in
 * (`Resume.ITEMS`: `runItems`' jobs `from` … `end - 1`; `Resume.EACH`:
 * `runEach`'s; `Resume.NEXT`: none), then its entries from `next`. One
 * batch runs at a time: set when a job makes it wait, read once it may go on.
 */
const paused = {
  kind: 0,
  task: null as unknown as Compiled,
  items: [] as ArrayLike<unknown>,
  from: 0,
  end: 0,
  idOf: 0,
  last: -1,
  jobs: [] as unknown[],
  next: 0,
  /** The job it waits for has a time limit: its answer goes as it ends (see `runFrom`). */
  timed: false,
};
const Resume = { NEXT: 0, ITEMS: 1, EACH: 2 } as const;

/**
 * Awaits what a batch waits for, then goes on with it, as often as it waits
 * again: one loop, however many times (no chain of continuations).
 */
async function batchAfter(wait: Promise<void>): Promise<void> {
  let pending: Promise<void> | undefined = wait;
  while (pending !== undefined) {
    // What its jobs answered so far goes within FLUSH_AFTER_MS, not when the
    // wait ends: a job that awaits for seconds held its neighbours' answers.
    if (!out.empty) flushSoon();
    await pending;
    if (paused.timed) {
      paused.timed = false;
      flush();
    }
    afterLane();
    pending = goOn();
  }
  paused.items = paused.jobs = []; // the batch's values are not kept past it
}

/**
 * Runs the rest of the paused entry, then of the batch, up to the next wait
 * (returned) or the batch's answers. No `await` comes between a job that
 * answered at once and their send: a microtask a task left behind (one that
 * kills the worker) runs after its answers went, not before them with the
 * last job started blamed.
 */
function goOn(): Promise<void> | undefined {
  const { kind, task, items, from, end, idOf, last, jobs, next } = paused;
  if (kind !== Resume.NEXT) {
    const wait = kind === Resume.ITEMS
      ? itemsUntilWait(task, items as unknown[], from, end, idOf, last)
      : eachUntilWait(task, items, from, end, idOf);
    if (wait !== undefined) {
      paused.jobs = jobs;
      paused.next = next;
      return wait;
    }
    endCalls();
  }
  return runFrom(jobs, next);
}

/**
 * Runs a batch's jobs from entry `next` on, then sends their answers; or,
 * once a job makes it wait, returns what it waits for (`paused` says where
 * it goes on). A task's leftover microtasks so run once the batch is
 * answered or a job waits, never between jobs that answer at once.
 */
function runFrom(jobs: unknown[], next: number): Promise<void> | undefined {
  while (next < jobs.length) {
    next = readJobHeader(jobs, next, header);
    const id = header.id;
    const task = tasks[header.task]!;
    const mode = header.mode;
    const n = header.count;
    const i = header.values;
    let wait: Promise<void> | undefined;
    if (mode === Mode.MAP_F64) {
      const values = jobs[i] as Float64Array;
      wait = task.kind === TaskKind.PLAIN
        ? runNumbers(task, values, id)
        : runEach(task, values, 0, n, id);
    } else if (mode === Mode.MAP && !header.timed) {
      // (A job with a time limit, one per entry, runs as a call, its answer timed: `timeNext`.)
      wait = task.kind === TaskKind.PLAIN
        ? runItems(task, jobs, i, n, id, next === jobs.length)
        : runEach(task, jobs, i, n, id);
    } else if (skipped.size !== 0 && skipped.delete(id)) {
      startJob();
      out.skipped();
    } else {
      // A job with a time limit may be one its worker is ended for: what the
      // jobs before it answered goes first, or they would be lost with it
      // (and fail, though they had finished). Its own answer goes as it
      // ends, if a job follows it here: one that ran past its limit and ended
      // in its grace keeps its worker, and the job after it has not started
      // when the grace is up. (As the batch's last, it goes at the batch's
      // end, after a lone job's lane opens: see below.)
      const flushAfter = header.timed && next < jobs.length;
      if (header.timed) flush();
      startJob();
      const args = n < REUSED_ARGS.length ? REUSED_ARGS[n]! : new Array(n);
      for (let k = 0; k < n; k++) args[k] = fromWire(jobs[i + k]);
      currentJob = id;
      if (header.timed) out.timeNext();
      const pending = call(task, args, mode, id);
      if (n < REUSED_ARGS.length) dropArgs(args, n);
      if (pending) {
        paused.kind = Resume.NEXT;
        paused.timed = flushAfter;
        wait = track(pending);
      } else if (flushAfter) flush();
      else countedFlush();
    }
    if (wait !== undefined) {
      paused.jobs = jobs;
      paused.next = next;
      return wait;
    }
  }
  endCalls();
  // Before the answers, so the pool sends this worker nothing after them.
  checkMemory();
  // A lone job's pool may answer its result with the next job at once, before this
  // worker is back in its spin: it finds the lane open, the request waits there.
  if (isLone(jobs)) lane?.listen();
  flush();
  return undefined;
}

/** No job runs synchronously any more: `jobContext()` now throws, and a context made ends. */
function endCalls(): void {
  currentJob = 0;
  if (made !== null) {
    endContext(made);
    made = null;
  }
}

/**
 * `n` jobs of any task, one argument each, from `items[start]` on: the
 * general case. Returns what a job makes it wait for, if one does
 * (`paused` then says where it goes on).
 */
function runEach(
  task: Compiled,
  items: ArrayLike<unknown>,
  start: number,
  n: number,
  firstId: number,
): Promise<void> | undefined {
  const wait = eachUntilWait(task, items, start, start + n, firstId - start);
  if (wait === undefined) endCalls(); // before any await: a job's leftover microtasks run then
  return wait;
}

/** `runEach`'s jobs `from` … `end - 1` (job ids `idOf + k`), up to one that makes it wait. */
function eachUntilWait(
  task: Compiled,
  items: ArrayLike<unknown>,
  from: number,
  end: number,
  idOf: number,
): Promise<void> | undefined {
  const args = REUSED_ARGS[1]!;
  for (let k = from; k < end; k++) {
    startJob();
    args[0] = fromWire(items[k]);
    currentJob = idOf + k;
    const pending = call(task, args, Mode.CALL, idOf + k);
    args[0] = null; // (see `dropArgs`)
    if (pending) {
      pause(Resume.EACH, task, items, k + 1, end, idOf, -1);
      return track(pending);
    }
    countedFlush();
  }
  return undefined;
}

/** Records where the paused entry goes on (see `paused`). */
function pause(
  kind: number,
  task: Compiled,
  items: ArrayLike<unknown>,
  from: number,
  end: number,
  idOf: number,
  last: number,
): void {
  paused.kind = kind;
  paused.task = task;
  paused.items = items;
  paused.from = from;
  paused.end = end;
  paused.idOf = idOf;
  paused.last = last;
}

/**
 * Jobs of a plain task over numbers that arrived as a Float64Array: results
 * are written over their arguments and the array goes back, moved, as one
 * `F64RETURNS`. At the first result that is not a number (or a throw), what
 * is done so far goes as such and the rest takes the general path. Returns
 * what a job makes it wait for, if one does.
 */
function runNumbers(
  task: Compiled,
  values: Float64Array,
  firstId: number,
): Promise<void> | undefined {
  const fn = task.fn;
  const n = values.length;
  let k = 0;
  let result: unknown;
  let threw = false;
  // Read once: the loop ends at the first promise, where `pends` may change.
  const timed = concurrency > 1 && task.pends;
  for (; k < n; k++) {
    startJob();
    currentJob = firstId + k;
    if (timed) callStarted = now();
    try {
      result = fn(fromDouble(values[k]!));
    } catch (error) {
      result = error;
      threw = true;
      break;
    }
    if (typeof result !== "number") break;
    values[k] = result;
  }
  // The rest is read now: the answers so far move `values` back to the pool
  // when they go, which may be while job k's promise is awaited.
  const rest = k + 1 < n ? Array.from(values.subarray(k + 1), fromDouble) : null;
  if (k > 0) out.returnedNumbers(values, k);
  if (k === n) {
    endCalls();
    return undefined;
  }
  // Job k is started and has its outcome in `result`; the rest have not started.
  if (threw) pushThrow(task, result);
  else if (isThenable(result)) {
    const wait = pendingResult(task, result, firstId + k);
    if (wait !== undefined) {
      const after = rest ?? [];
      pause(Resume.ITEMS, task, after, 0, after.length, firstId + k + 1, -1);
      return wait;
    }
  } else pushReturn(result);
  if (rest !== null) return runItems(task, rest, 0, rest.length, firstId + k + 1, false);
  endCalls();
  return undefined;
}

/**
 * The hot loop: `n` jobs of a plain task, one argument each (a `map` slice,
 * or consecutive `submit`s). Called directly, not through `call()`. Returns
 * what a job makes it wait for (its own promise, or a free lane), if one
 * does (`paused` then says where it goes on).
 */
function runItems(
  task: Compiled,
  jobs: unknown[],
  start: number,
  n: number,
  firstId: number,
  lastEntry: boolean,
): Promise<void> | undefined {
  const end = start + n;
  const wait = itemsUntilWait(task, jobs, start, end, firstId - start, lastEntry ? end - 1 : -1);
  if (wait === undefined) endCalls();
  return wait;
}

/**
 * `runItems`' jobs `from` … `end - 1` (job ids `idOf + k`; at `last`, the
 * batch's last job, the answers so far may go first), up to one that makes
 * it wait.
 */
function itemsUntilWait(
  task: Compiled,
  jobs: unknown[],
  from: number,
  end: number,
  idOf: number,
  last: number,
): Promise<void> | undefined {
  const fn = task.fn;
  let timed = concurrency > 1 && task.pends;
  for (let k = from; k < end; k++) {
    if (k === last) answerEarly(inbox.length !== 0);
    startJob();
    currentJob = idOf + k;
    const arg = jobs[k];
    let result: unknown;
    if (timed) callStarted = now();
    try {
      result = fn(typeof arg === "object" && arg !== null ? fromWire(arg) : arg);
    } catch (error) {
      pushThrow(task, error);
      continue;
    }
    const type = typeof result;
    if (type === "number" || type === "string" || type === "boolean" || result == null) {
      out.returnedPrimitive(result);
    } else if (isThenable(result)) {
      const wait = pendingResult(task, result, idOf + k);
      timed = concurrency > 1; // its task `pends` now
      if (wait !== undefined) {
        pause(Resume.ITEMS, task, jobs, k + 1, end, idOf, last);
        return wait;
      }
    } else {
      pushReturn(result);
    }
    countedFlush();
  }
  return undefined;
}

/** Records a plain task's result: at once, or once it settles if it is a promise. */
function settle(task: Compiled, result: unknown): Promise<void> | undefined {
  if (isThenable(result)) {
    return whenSettled(result, pushReturn, (error) => pushThrow(task, error));
  }
  pushReturn(result);
  return undefined;
}

/** Runs one job; returns a promise only when the job is asynchronous. */
function call(
  task: Compiled,
  args: unknown[],
  mode: number,
  id: number,
): Promise<void> | undefined {
  let result: unknown;
  if (concurrency > 1 && task.pends) callStarted = now();
  try {
    result = applyTask(task.fn, undefined, args);
  } catch (error) {
    pushThrow(task, error);
    return;
  }
  if (task.kind === TaskKind.PLAIN) {
    return concurrency > 1 && isThenable(result)
      ? pendingResult(task, result, id)
      : settle(task, result);
  }
  if (mode === Mode.STREAM) {
    // Made now, so it is the one `asJob` hands its later steps (see there).
    if (task.kind === TaskKind.GENERATOR) contextNow();
    return runStream(task, result as AsyncIterator<unknown>, id, asJob);
  }
  if (task.kind === TaskKind.GENERATOR) {
    try {
      for (const value of result as Iterable<unknown>) out.yielded(value);
      out.ended();
    } catch (error) {
      pushThrow(task, error);
    }
    return;
  }
  return runAsyncGenerator(task, result as AsyncIterable<unknown>);
}

/** Every `CLOCK_EVERY` quick jobs, sends the answers if they have waited long enough. */
function countedFlush(): void {
  if (++sinceClock >= CLOCK_EVERY) {
    sinceClock = 0;
    maybeFlush();
  }
}
