/**
 * A slot: the pool's wrapper around one `Worker`, with the jobs in flight on
 * it, in the order the worker will answer them.
 *
 * @module
 */

import { now } from "../_now.ts";
import { Deque } from "../deque.ts";
import { decodeError, describeThrown } from "../protocol/codec.ts";
import { Lane } from "../protocol/lane.ts";
import {
  type FromWorker,
  laneWord,
  laneWords,
  SPIN_MS,
  Status,
  statusWords,
  stoppedAt,
  stoppedCountAt,
  stoppedRing,
  type ToWorker,
  type WorkerNotice,
} from "../protocol/messages.ts";
import { hasSharedMemory, sharedOrPlain } from "../sync/_memory.ts";
import { fromWire } from "../sync/wire.ts";
import type { Job } from "./job.ts";
import { StoppedRing, Yields } from "./stopped_ring.ts";

/** What a slot reports to its pool. */
export interface SlotHost {
  onMessage(slot: WorkerSlot, message: FromWorker): void;
  onCrash(slot: WorkerSlot, cause: unknown): void;
  /** A message of the worker's this thread could not read (`messageerror`). */
  onUnreadable(slot: WorkerSlot): void;
}

interface RefWorker extends Worker {
  ref?(): void;
  unref?(): void;
}

/** Stands in for a `Worker` the runtime refused to make (see `WorkerSlot.refused`). */
const NO_WORKER = {
  onmessage: null,
  postMessage() {},
  terminate() {},
} as unknown as RefWorker;

/** An ended worker's error handler: handled, and nothing more (see `WorkerSlot.terminate()`). */
const preventDefault = (event: Event) => event.preventDefault();

/** A batch sent with a claim word (see `WorkerSlot.retractable`). */
export interface ClaimedBatch {
  /** Its claim word. */
  readonly word: number;
  /** How many entries of `inflight` it is (the last ones, when it is the newest). */
  readonly entries: number;
  /** How many jobs, each `map` item counted. */
  readonly items: number;
}

/** How far a worker got with a job in flight (see `WorkerSlot.progressOf`). */
export type JobProgress = "waiting" | "running" | "finished";

/** One worker and its in-flight jobs. */
export class WorkerSlot {
  /** Jobs sent and not yet answered, oldest (running) first. */
  readonly inflight: Deque<Job> = new Deque();
  /** Jobs in flight, counting each job of a `map` slice. */
  inflightItems = 0;
  /** Jobs this slot has seen end (wrapping like `Status.STARTED`). */
  endedItems = 0;
  /** `results` messages read from the worker (wrapping like `Status.TO_MAIN`). */
  answers = 0;
  /** Batches sent since its last `results` message (see `canClaim`). */
  sentSinceAnswer = 0;
  /**
   * Shared with the worker; see `Status` (and its lane table, with several
   * lanes). Where shared memory does not exist, the worker has a copy and
   * the pool never sees it change (see {@linkcode statusShared}).
   */
  readonly status: Int32Array;
  /** `concurrentTasksPerWorker`: jobs it runs at once (above 1, its lane table has a word each). */
  readonly lanes: number;
  /** Whether `status` is shared with the worker. */
  readonly statusShared: boolean = hasSharedMemory;
  /** The worker's `STARTED` count when the pool ended it (`terminate()`), which then stays. */
  #startedAtEnd: number | undefined;
  /** The shared lane for lone small jobs (`protocol/lane.ts`), or null when jobs go as messages only. */
  readonly lane: Lane | null;
  /**
   * Jobs that went asynchronous (`Tag.LATER`) and have not answered yet, by
   * id, with their entries: with `concurrentTasksPerWorker` above 1 only.
   */
  readonly later: Map<number, Job> = new Map();
  /**
   * The batches last sent with a claim word, oldest first, that the worker
   * may not have started yet: the pool may take them back, newest first,
   * for an idle worker or to cancel their jobs (`protocol/claims.ts`, see
   * `stealing.ts`). Emptied once anything else is sent; at most
   * `CLAIM_RING` (an older one's word was reused, so it has started).
   */
  readonly retractable: ClaimedBatch[] = [];
  /** Claimable batches sent so far: the next one's claim word follows from it. */
  claims = 0;
  /** The pool's tasks this worker has been sent, by index: 1 if sent (see `knows`). */
  #known = new Uint8Array(16);
  /** The worker answered `ready`. */
  ready = false;
  /**
   * Sent in `init`; every message of the worker's protocol carries it, so a
   * message a task posts itself is told apart whatever its shape. Not a
   * secret: it keeps a task's own messages from being read as the pool's.
   */
  readonly key: number = 1 + Math.floor(Math.random() * 0x7ffffffe);
  /**
   * Its task module exports `teardown()`, run when it retires normally.
   * Until `ready` says, true if the pool has a task module: a worker still
   * starting may have run `setup()` already.
   */
  hasTeardown = false;
  /** Retires to be replaced (`maxJobsPerWorker`, `maxWorkerMemory`, `recycle()`); `retiring` too. */
  recycling = false;
  /** Jobs sent to it so far, each `map` item counted (for `maxJobsPerWorker`). */
  sentItems = 0;
  /**
   * Runs one exclusive job, or is to be replaced unless an aborted job ends
   * within `abortGrace` (see `stopping`): nothing more is sent to it
   * meanwhile.
   */
  exclusive = false;
  /**
   * Jobs aborted or timed out that it still holds, their tasks told to stop
   * (`Recovery.failRunning`): once none is left and it runs no exclusive job,
   * it takes jobs again, in its free lanes too.
   */
  readonly stopping: Set<Job> = new Set();
  /** Asked to leave once its in-flight jobs end (`resize`, `shutdown`). */
  retiring = false;
  /** Terminated, or crashed. */
  dead = false;
  /** The idle timer, armed when it went idle above `minChildren` (see `Workers.idle`). */
  idleTimer: unknown = undefined;
  /** When (clock ms) it last went idle, or -1 while it has work. */
  idleSince = -1;
  /** When (clock ms) it last turned busy (see {@linkcode unreportedBusyMs}). */
  busySince = 0;
  /** The time its answers reported, or a stats reset counted, of its jobs since `busySince` (ms). */
  answeredSince = 0;
  /** What a stats reset counted of its running jobs' time that no answer has reported yet (ms). */
  credited = 0;
  /** The timer of its exclusive job's timeout, while that job runs. */
  timeoutTimer: unknown = undefined;
  /** Fails the start of a worker that is not ready within `startTimeout`. */
  startTimer: unknown = undefined;
  /** Looks for an import that blocks its thread, while it has work (`import_watch.ts`). */
  importTimer: unknown = undefined;
  /** The look at the jobs it holds behind the one it runs (see `held_behind.ts`). */
  heldTimer: unknown = undefined;
  /** Its `STARTED` count at that look. */
  heldSeen = 0;
  /** The `Status.LOADING` word the last look of `importTimer` saw, or 0. */
  importSeen = 0;
  /** When (system clock ms) a look first saw `importSeen`. */
  importSeenAt = 0;
  /** The module the job of `importSeen` needs, as the look found it, or null. */
  importModule: string | null = null;
  /** Ends an import whose job was cancelled or aborted meanwhile (`ImportWatch.abandoned`). */
  abandonTimer: unknown = undefined;
  /** The `Status.LOADING` word `abandonTimer` watches. */
  abandonWord = 0;
  /** When (clock ms) the worker answered `ready`. */
  readyAt = 0;
  /** When the worker was made (`performance.now()`): its start has `startTimeout` from here. */
  readonly madeAt: number = now();
  readonly #worker: RefWorker;
  /** Its `close` listener (see `terminate()`). */
  #onClose: ((event: Event) => void) | undefined;
  #referenced = true;
  /** A message that is not the pool's came and was reported. */
  #warned = false;
  /** The worker took `init` (`accepted`): every message of its runtime carries the key now. */
  #accepted = false;
  /**
   * What `new Worker()` threw, if it did (Deno's permissions beyond the
   * program's own): the slot has no thread, and its start fails.
   */
  readonly refused: unknown = undefined;

  constructor(
    readonly id: number,
    url: URL,
    name: string,
    host: SlotHost,
    lanes = 1,
    options: WorkerOptions = {},
    sharedLane = false,
  ) {
    this.lanes = lanes;
    this.status = new Int32Array(sharedOrPlain(statusWords(lanes) * 4));
    this.#stoppedRing = this.statusShared
      ? new StoppedRing(this.status, stoppedAt(lanes), stoppedRing(lanes), stoppedCountAt(lanes))
      : null;
    this.lane = sharedLane ? new Lane() : null;
    let worker: RefWorker;
    try {
      worker = new Worker(url, { ...options, type: "module", name });
    } catch (error) {
      this.refused = error;
      this.#worker = NO_WORKER;
      return;
    }
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<FromWorker | WorkerNotice>) => {
      if (this.dead) return;
      const message = event.data;
      if (!this.#isOurs(message)) {
        this.#ignore(name);
        return;
      }
      if (message.type === "uncaught") {
        host.onCrash(this, decodeError(message.error));
        return;
      }
      if (message.type === "accepted") {
        this.#accepted = true;
        return;
      }
      try {
        if (message.type === "results" && message.shared !== undefined) {
          // Semaphores and Locks in results, sent in wire form.
          for (const i of message.shared) message.data[i] = fromWire(message.data[i]);
        }
        host.onMessage(this, message);
      } catch (error) {
        // A message of the protocol that does not fit what the pool sent (answers for
        // jobs it does not hold): a fault of the worker's, not a reason to end the
        // program, which Deno does for an error thrown here. The worker is replaced and
        // its jobs end as a crashed worker's do, once.
        host.onCrash(
          this,
          new Error(
            `Worker ${name} sent a message the pool cannot read (${describeThrown(error)})`,
            { cause: error },
          ),
        );
      }
    };
    // Always handled, even after terminate(): an unhandled worker error
    // would end the whole program on Deno.
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      if (!this.dead) host.onCrash(this, errorOf(event));
    };
    worker.onmessageerror = () => {
      // Answers this thread cannot read: Deno's of a value nested about 3,000
      // levels deep, Bun's of a string of 1 GiB.
      if (!this.dead) host.onUnreadable(this);
    };
    // Bun reports a worker that exited (process.exit) with a close event.
    worker.addEventListener(
      "close",
      this.#onClose = (event) => {
        if (!this.dead) {
          const code = (event as Event & { code?: number }).code;
          // Before it was ready, with code 0: a module that ran and ended, not the worker entry.
          const why = this.ready || this.#accepted || code !== 0
            ? ""
            : " before it was ready (is the worker's URL fastpool's worker entry?)";
          host.onCrash(this, new Error(`Worker exited with code ${code ?? "unknown"}${why}`));
        }
      },
    );
  }

  /**
   * Whether `message` is the worker's, in the protocol: it carries the key.
   * Until the worker says it took `init` (`accepted`, before any task code
   * runs), a `ready` or `fatal` without it is the answer of a worker module
   * of another protocol version, which says so; and an `uncaught` or `exit`
   * with key 0 is the worker runtime's report of an error or exit that came
   * before `init` gave it the key. After `accepted`, such a message is a
   * task module's own (`self.postMessage({ type: "ready" })` at its top
   * level or in `setup()`), and ignored as any other.
   */
  #isOurs(message: unknown): message is FromWorker | WorkerNotice {
    if (!isWorkerMessage(message)) return false;
    const key = (message as { key?: unknown }).key;
    if (key === this.key) return true;
    if (this.ready || this.#accepted) return false;
    const type = message.type;
    return type === "ready" || type === "fatal" ||
      (key === 0 && (type === "uncaught" || type === "exit"));
  }

  /**
   * A message that is not the pool's: a task called `self.postMessage`. It
   * is dropped, and reported once per worker, since the pool cannot know
   * what it meant.
   */
  #ignore(name: string): void {
    if (this.#warned) return;
    this.#warned = true;
    // deno-lint-ignore no-console
    console.warn(
      `fastpool: worker ${name} posted a message that is not the pool's, ignored (did a task call postMessage?); further ones from this worker are ignored silently`,
    );
  }

  /** Sends a message; throws what `postMessage` throws (e.g. DataCloneError). */
  send(message: ToWorker, transfer?: Transferable[]): void {
    if (transfer && transfer.length > 0) this.#worker.postMessage(message, transfer);
    else this.#worker.postMessage(message);
    Atomics.add(this.status, Status.TO_WORKER, 1); // the doorbell of a spinning worker
  }

  /**
   * Waits, spinning for at most `SPIN_MS`, for the worker's next results
   * message to be posted; for answers expected within microseconds, which
   * would otherwise cost a wake-up of the parked main thread.
   */
  spinForAnswer(): void {
    if (!this.statusShared) return;
    const status = this.status;
    const answers = this.answers;
    if (Atomics.load(status, Status.TO_MAIN) !== answers) return; // one waits already
    const until = now() + SPIN_MS;
    while (Atomics.load(status, Status.TO_MAIN) === answers && now() < until);
  }

  /**
   * The `results` messages the worker has posted (`Status.TO_MAIN`, wrapping
   * like {@linkcode answers}); without shared memory, those read.
   */
  /**
   * Whether the worker has said it is ready, by the status memory: its
   * `ready` message may still wait unread (see `Status.READY`).
   */
  saidReady(): boolean {
    return this.statusShared && Atomics.load(this.status, Status.READY) === 1;
  }

  postedAnswers(): number {
    return this.statusShared ? Atomics.load(this.status, Status.TO_MAIN) : this.answers;
  }

  /**
   * Jobs in flight that the worker has not started yet, from the shared
   * `STARTED` count: the load that matters while answers wait unread.
   */
  get unstarted(): number {
    if (!this.statusShared) return this.inflightItems; // it cannot say: assume none started
    return this.inflightItems - ((this.started() - this.endedItems) | 0);
  }

  /**
   * Whether it runs a job that has not ended. A worker still finishing an
   * aborted or timed-out job (within `abortGrace`) is not busy: that job has
   * ended, though the slot takes no new work until the task returns.
   */
  get busy(): boolean {
    if (this.inflightItems === 0) return false;
    for (const job of this.inflight) if (!job.ended) return true;
    for (const job of this.later.values()) if (!job.ended) return true;
    return false;
  }

  /**
   * How far the worker got with `job`, an entry of one job in flight here:
   * `waiting` behind other jobs, `running`, or `finished` with its answer not
   * read yet. Jobs start in `inflight` order, counted by the shared `STARTED`
   * word; one that went on asynchronously (`LATER`) has left `inflight` and
   * runs while its lane holds its id. Without shared memory the pool cannot
   * see: `running`.
   */
  progressOf(job: Job): JobProgress {
    if (!this.statusShared) return "running";
    const inLane = () => this.runningLanes().has(laneWord(job.id));
    if (job.later !== 0) return inLane() ? "running" : "finished";
    let ahead = 0; // jobs before it not answered yet
    for (const entry of this.inflight) {
      if (entry === job) break;
      ahead += entry.count - entry.next;
    }
    const started = (this.started() - this.endedItems) | 0;
    if (started <= ahead) return "waiting";
    // A later job started: this one ended, unless it runs on in a lane.
    return started === ahead + 1 || inLane() ? "running" : "finished";
  }

  /**
   * Whether jobs ahead of `job` (in flight here) hold it back: one the worker
   * has not started or runs synchronously, i.e. not in a lane (a finished one
   * whose answer is unread counts too: the pool cannot tell them apart).
   */
  heldBack(job: Job): boolean {
    if (!this.statusShared) return false;
    let lanes: Set<number> | null = null;
    for (const entry of this.inflight) {
      if (entry === job) return false;
      lanes ??= this.runningLanes();
      if (entry.count - entry.next > lanes.size) return true;
      for (let k = entry.next; k < entry.count; k++) {
        if (!lanes.has(laneWord(entry.id + k))) return true;
      }
    }
    return false;
  }

  /**
   * Whether nothing runs on the worker that `job` could be waiting for: it is
   * the oldest job in flight, and no job runs on asynchronously.
   */
  nothingAhead(job: Job): boolean {
    return this.inflight.at(0) === job && this.later.size === 0;
  }

  /**
   * The {@linkcode laneWord}s of the asynchronous jobs the worker is running,
   * from its lane table. Without shared memory the table is never written:
   * every job that went on asynchronously and has not answered counts as
   * running (after a crash it fails; sent again, it could run twice).
   */
  runningLanes(): Set<number> {
    const running = new Set<number>();
    if (!this.statusShared) {
      for (const id of this.later.keys()) running.add(laneWord(id));
      return running;
    }
    for (let i = Status.WORDS, end = i + laneWords(this.lanes); i < end; i++) {
      const id = Atomics.load(this.status, i);
      if (id !== 0) running.add(id);
    }
    return running;
  }

  /** Whether this worker has been sent task `index`. */
  knows(index: number): boolean {
    return this.#known[index] === 1;
  }

  /** Task `index` is sent to this worker (`true`), or was not after all (`false`). */
  learn(index: number, sent = true): void {
    if (index >= this.#known.length) {
      const grown = new Uint8Array(Math.max(index + 1, this.#known.length * 2));
      grown.set(this.#known);
      this.#known = grown;
    }
    this.#known[index] = sent ? 1 : 0;
  }

  /** Whether the slot can take work at all. */
  get usable(): boolean {
    return !this.dead && !this.retiring && !this.exclusive;
  }

  /**
   * Lets the program end while this worker idles (Bun, where a web Worker
   * can be unref'd), or holds it while the worker has work.
   */
  hold(busy: boolean): void {
    if (busy === this.#referenced) return;
    this.#referenced = busy;
    if (busy) this.#worker.ref?.();
    else this.#worker.unref?.();
  }

  /**
   * The jobs the worker has started (`Status.STARTED`, wrapping at 2^32);
   * once the pool ended it, the count it had then: it starts none after.
   */
  started(): number {
    return this.#startedAtEnd ?? Atomics.load(this.status, Status.STARTED);
  }

  /**
   * Asks the worker to stop `stream()` job `job` before its next value, not
   * only by message (`Status.STOPPING`): a synchronous generator's worker
   * reads no message until its window of values is used up.
   */
  stopStreamSoon(job: Job): void {
    if (this.statusShared) Atomics.store(this.status, Status.STOPPING, laneWord(job.id));
  }

  /**
   * The {@linkcode laneWord} of the job whose `task()` module the worker is
   * importing (`Status.LOADING`), or 0.
   */
  loading(): number {
    return this.statusShared ? Atomics.load(this.status, Status.LOADING) : 0;
  }

  /** Whether `loading` (see {@linkcode loading}) names one of `job`'s ids. */
  static loadsFor(job: Job, loading: number): boolean {
    if (loading === 0) return false;
    for (let i = 0; i < job.count; i++) if (laneWord(job.id + i) === loading) return true;
    return false;
  }

  /**
   * Tells the worker, through shared memory, that its running `job` has
   * failed early (see `stoppedAt`): before the job's promise rejects,
   * so no permit a caller then releases goes to that job. The mark takes a
   * free word of the ring, which the worker frees once the job's abort has
   * arrived (see `StoppedRing.mark` for a full ring).
   */
  stopped(job: Job): void {
    this.#stoppedRing?.mark(job, this.#yields);
  }

  readonly #stoppedRing: StoppedRing<Job> | null;

  /** Whether `job` is still in flight here (not answered yet): in `inflight`, or in `later`. */
  holds(job: Job): boolean {
    if (this.later.get(job.id) === job) return true;
    for (const entry of this.inflight) if (entry === job) return true;
    return false;
  }

  /** How freely `job`'s mark gives way to another's (see `Yields`). */
  #yields = (job: Job): number => {
    if (!this.holds(job)) return Yields.ENDED; // answered
    const progress = this.progressOf(job);
    return progress === "finished"
      ? Yields.ENDED
      : progress === "waiting"
      ? Yields.HELD
      : Yields.RUNS;
  };

  /**
   * The time it spent on jobs that no answer reported, since `since` (ms,
   * by the pool's clock at `now`): the busy time of a worker that ends with
   * jobs unanswered (crashed, or replaced past `abortGrace`), for
   * `utilization` (its answers cover the time from `busySince` on).
   */
  unreportedBusyMs(now: number, since: number): number {
    if (this.inflightItems === 0) return 0;
    return Math.max(0, now - Math.max(this.busySince + this.answeredSince, since));
  }

  /**
   * A stats reset at `now` ends the window that began at `since`: the time
   * its running jobs have spent so far, unreported, is counted there, and
   * taken off the answers that report it later; returns it (ms).
   */
  creditBusy(now: number, since: number): number {
    const ms = this.unreportedBusyMs(now, since);
    this.answeredSince += ms;
    this.credited += ms;
    return ms;
  }

  /** An answer reported `ms` of its jobs' time: what of it no stats reset counted yet. */
  answered(ms: number): number {
    const counted = Math.min(ms, this.credited);
    this.credited -= counted;
    this.answeredSince += ms - counted;
    return ms - counted;
  }

  /**
   * Lets go of the jobs it held, once the pool has ended or sent them
   * elsewhere (it is dead): an error made while it ended may keep this slot
   * through its stack (Deno keeps the frames' closures), and a user may keep
   * that error for long.
   */
  forgetJobs(): void {
    this.inflight.clear();
    this.inflightItems = 0;
    this.later.clear();
  }

  /** Stops the worker now. */
  terminate(): void {
    this.dead = true;
    if (this.statusShared) {
      Atomics.store(this.status, Status.ENDED, 1); // see Status.ENDED
      this.#startedAtEnd = endStarted(this.status);
    }
    // The runtime may keep the Worker a while: its listeners must not keep
    // this slot, and so its jobs' arguments, alive. An error is still handled:
    // unhandled, it would end the whole program on Deno.
    const worker = this.#worker;
    worker.onmessage = worker.onmessageerror = null;
    worker.onerror = preventDefault;
    if (this.#onClose !== undefined) worker.removeEventListener("close", this.#onClose);
    worker.terminate();
  }
}

const MESSAGE_TYPES = new Set([
  "results",
  "ready",
  "fatal",
  "exit",
  "uncaught",
  "accepted",
  "progress",
  "overMemory",
  "retired",
  "unreadable",
]);

/**
 * Whether `value` has the shape of a message from the worker's runtime. A
 * task can post anything (`self.postMessage("…")`); the pool acts only on
 * its own messages.
 */
function isWorkerMessage(value: unknown): value is FromWorker | WorkerNotice {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  if (type === "results") return Array.isArray((value as { data?: unknown }).data);
  return typeof type === "string" && MESSAGE_TYPES.has(type);
}

function errorOf(event: ErrorEvent): unknown {
  if (event.error !== undefined && event.error !== null) return event.error;
  return new Error(event.message || "Uncaught error in worker");
}

/**
 * Ends a worker's `STARTED` count and returns it: the word is set to a value
 * the count never reaches next (its top bit flipped), so the worker's
 * compare-and-swap for its next job fails and that job does not run. Every
 * job the worker starts is thus in the count returned, or never runs, even
 * on a worker that `terminate()` does not stop at once (Deno's, while it
 * still starts; any thread until the engine's interrupt lands).
 */
export function endStarted(status: Int32Array): number {
  let seen = Atomics.load(status, Status.STARTED);
  for (;;) {
    const was = Atomics.compareExchange(status, Status.STARTED, seen, seen ^ 0x8000_0000);
    if (was === seen) return seen;
    seen = was;
  }
}
