/**
 * The wire protocol between the pool (main thread) and its workers: tagged
 * unions, integer ids, and flat arrays for everything that travels per job.
 *
 * A `run` message carries a batch of jobs as one flat array, written and
 * read in `job_batch.ts` (its layout is drawn there).
 *
 * A `results` message answers in dispatch order, as `[tag, value]` pairs (or
 * `[RETURNS, n, r1 … rn]` for a run of returns); the pool knows which job
 * each answer belongs to from the order alone.
 *
 * @module
 */

/** Bumped whenever a message changes shape. */
export const PROTOCOL_VERSION = 18;

/** How a job's values are read; see `job_batch.ts`. */
export const Mode = { CALL: 0, MAP: 1, STREAM: 2, MAP_F64: 3 } as const;

// `results.data` is laid out, written and read in `result_batch.ts`; `run.jobs` in `job_batch.ts`.

/**
 * How a worker finds a task's function: compiled from its source, an
 * export (of the pool's task module when `module` is null), or none: an
 * export of a `module` the pool no longer imports (it blocked workers'
 * threads), whose every job fails with an `Error` of `message`.
 */
export type TaskSpec =
  /** An inline function's source; `sloppy` for a sloppy-mode `function` (else it is compiled strict). */
  | { kind: "source"; source: string; sloppy?: boolean }
  | { kind: "export"; module: string | null; name: string }
  | { kind: "failed"; module: string; message: string };

/** Messages from the pool to a worker. */
export type ToWorker =
  | {
    type: "init";
    version: number;
    /**
     * What every message the worker posts from now on carries as `key`, so
     * the pool tells its worker's messages from those a task posts itself
     * with `self.postMessage`, whatever their shape.
     */
    key: number;
    name: string;
    module: string | null;
    status: SharedArrayBuffer;
    /** The shared lane's memory (`lane.ts`), or null when the pool sends every job as a message. */
    lane: SharedArrayBuffer | null;
    /** `concurrentTasksPerWorker`: how many asynchronous jobs may run at once. */
    concurrency: number;
    /** `streamWindow`: how many values a stream job may send ahead of its consumer. */
    streamWindow: number;
    /** The pool's `workerData`, the argument of the task module's `setup()`. */
    workerData: unknown;
    /** `maxWorkerMemory` in bytes; 0 when unbounded. */
    maxMemory: number;
    /** `startTimeout`: how long importing a task module may take (`Infinity`: no limit). */
    startTimeout: number;
  }
  | {
    type: "run";
    jobs: unknown[];
    /**
     * The tasks of this batch the worker has not been sent yet, by index:
     * a worker learns only the tasks it runs (a pool that has seen 40,000
     * inline sources sends a fresh worker none of those it does not run).
     */
    tasks: [index: number, spec: TaskSpec][] | null;
    /**
     * The status word through which the worker claims this batch before it
     * starts it (`claims.ts`), so an idle worker may be given it instead; -1:
     * the batch is not offered to others, the worker runs it as it comes.
     */
    claim: number;
  }
  | { type: "credit"; id: number; n: number }
  | { type: "stop"; id: number }
  /**
   * Job `id` was aborted or timed out on the pool's side (it has already
   * failed there): abort its `jobContext().signal` with `reason` (an encoded
   * error), or skip it if it has not started.
   */
  | { type: "abort"; id: number; reason: unknown }
  /** The worker retires: run the task module's `teardown()`, then answer `retired`. */
  | { type: "retire" };

/**
 * Which part of a worker's start failed: `init` (a pool of another version),
 * its task module's `import`, or its `setup()`.
 */
export type StartStep = "init" | "import" | "setup";

/** Messages from a worker to the pool. */
export type FromWorker =
  /**
   * Started; `teardown`: the task module exports a `teardown()` to run at
   * retirement; `exports`: the task module's export names (null: no module).
   */
  | { type: "ready"; version: number; teardown: boolean; exports: string[] | null }
  | {
    type: "results";
    data: unknown[];
    jobs: number;
    ms: number;
    /** Indices in `data` of values in wire form, revived by the slot (`sync/wire.ts`). */
    shared?: number[];
  }
  /** The start failed (`step`: where). */
  | { type: "fatal"; error: unknown; step: StartStep }
  /** `jobContext().progress(value)` of job `id`, sent at once (before the job's answer). */
  | {
    type: "progress";
    id: number;
    value: unknown;
    /** `value` is the wire form of a Semaphore or Lock, or of a value holding one. */
    shared?: true;
  }
  | { type: "exit"; how: string }
  /** Between batches, the worker's memory passed `maxMemory`: retire it once idle. */
  | { type: "overMemory"; bytes: number }
  /** `teardown()` ended (`error`: encoded, if it threw); the worker may go. */
  | { type: "retired"; threw: boolean; error: unknown }
  /**
   * A batch could not be read here (the runtime's `messageerror`): the
   * worker runs no more batches; `started` is its `STARTED` count as it
   * reached that batch's place, every job sent before it.
   */
  | { type: "unreadable"; started: number };

/**
 * What a worker tells its slot alone, not the pool: an error that escaped
 * every job (the worker stops after it), which the slot reports as a crash,
 * as it reports the worker's `error` event; and that it took `init` (its
 * version matches and it holds the key), sent before any task code runs: from
 * then on a message without the key is a task's, even before `ready`.
 */
export type WorkerNotice = { type: "uncaught"; error: unknown } | { type: "accepted" };

/** Fails to compile when a `switch` over a union misses a case. */
export function assertNever(value: never): never {
  throw new TypeError(`Unexpected message: ${JSON.stringify(value)}`);
}

/**
 * How many values a stream job may send ahead of its consumer, unless the
 * pool's `streamWindow` says otherwise. The consumer grants credit per half
 * window taken, so the worker, with half a window still to make, rarely
 * waits for it: with 512, a fast generator of numbers stalled on each
 * credit's trip (`bench/stream_pair.ts`).
 */
export const STREAM_WINDOW = 2048;

/**
 * Words of a slot's status memory, an `Int32Array` over a `SharedArrayBuffer`
 * shared by the pool and one worker.
 *
 * ```
 *  STARTED    worker counts the jobs it starts; the pool reads it after a crash
 *  TO_WORKER  pool bumps it after each message to the worker  ┐ doorbells of the
 *  TO_MAIN    worker bumps it after each results message       ┘ spin-then-park hand-off
 *  ENDED      pool sets it when it ends the worker
 *  LOADING    worker names the job whose task() module it imports now
 *  STOPPING   pool names the stream job it stopped
 *  READY      worker sets it as it says it is ready
 *  CLAIMS …   CLAIM_RING words: who takes a batch not started yet (claims.ts)
 *  WORDS …    the lane table, with several lanes
 *  then       the stopped ring's count (stoppedCountAt), then the ring (stoppedAt,
 *             stoppedRing): running jobs the pool failed early
 * ```
 */
export const Status = {
  /**
   * Jobs the worker has started (wrapping at 2^32), each `map` item counted,
   * bumped by compare-and-swap. When the pool ends the worker it takes the
   * count and flips the word's top bit: the worker's swap for its next job
   * then fails, and that job does not run (`WorkerSlot.terminate()`).
   */
  STARTED: 0,
  /** Bumped by the pool after each message it posts to the worker. */
  TO_WORKER: 1,
  /** Bumped by the worker after each `results` message. */
  TO_MAIN: 2,
  /**
   * Set to 1 by the pool when it ends the worker: a task blocked in
   * `acquireSync()` stops waiting (on Deno, `terminate()` cannot stop a
   * thread that never returns to its event loop). That no job starts after
   * it is `STARTED`'s doing.
   */
  ENDED: 3,
  /**
   * While the worker imports a `task()` module for a job (of a batch it has
   * not claimed yet, or the lane's), that job's {@linkcode laneWord}; else
   * 0. A worker that dies then died of the import: that job fails, and no
   * job counts as running (see `Recovery`). One that names the same job past
   * `startTimeout` is blocked in the import (see `pool/import_watch.ts`).
   */
  LOADING: 4,
  /**
   * The {@linkcode laneWord} of the `stream()` job the pool last stopped
   * (its consumer left, it was aborted or timed out), which the worker then
   * sets back to 0. A synchronous generator is stepped without a turn of
   * its event loop, where the `stop` message waits: the worker looks here
   * between its values, so it stops at its next `yield`.
   */
  STOPPING: 5,
  /**
   * Set to 1 by the worker as it posts `ready`. Deno may run a due timer
   * before a waiting message: a worker whose `startTimeout` came while this
   * thread was busy is then seen to have started, and the pool reads its
   * messages before judging it (`Workers`' start timer).
   */
  READY: 6,
  /** The first of `CLAIM_RING` claim words (see `claims.ts`). */
  CLAIMS: 7,
  /**
   * Words before the lane table: with `concurrentTasksPerWorker` n above 1,
   * words WORDS … WORDS+n-1 hold the {@linkcode laneWord} of each
   * asynchronous job running now, 0 for a free lane. The worker writes a lane when its job
   * goes asynchronous and clears it before the job's answer is queued, so
   * after a crash the pool knows which jobs were still running.
   */
  WORDS: 7 + 16,
} as const;

/** Words of the lane table of a worker of `lanes` lanes (none with one). */
export function laneWords(lanes: number): number {
  return lanes > 1 ? lanes : 0;
}

/**
 * Where the stopped ring starts in the status memory of a worker of `lanes`
 * lanes: after its lane table. Each word holds 0 (free) or the
 * {@linkcode laneWord} of a running job the pool failed early (its timeout
 * passed, or it was aborted), written by the pool into a free word before
 * the job's promise rejects, and freed by the worker once the job's "abort"
 * message has arrived. Until then a release on shared memory may wake the
 * task first: from the ring the worker knows at once that the job may take
 * no permit (`acquireSync()` throws, a waiter given the job's signal is not
 * served).
 */
export function stoppedAt(lanes: number): number {
  return stoppedCountAt(lanes) + 1;
}

/**
 * The word before the stopped ring: how many of its words are not 0. The
 * pool adds 1 as it fills a free word, the worker takes 1 as it frees one;
 * so a worker that reads 0 there, as it does at each `acquireSync()`, knows
 * no job of its is marked without reading the whole ring (17 words and more:
 * 100 ns on Deno, twice per `acquireSync()`).
 */
export function stoppedCountAt(lanes: number): number {
  return Status.WORDS + laneWords(lanes);
}

/**
 * Words of the stopped ring of a worker of `lanes` lanes: one per lane and
 * 16 more, for jobs failed whose abort the worker has not read yet though
 * they no longer run (held behind others, or ended with their answers
 * unread). A pool that finds no word free takes the word of such a job,
 * never that of a running one (`StoppedRing.mark` in `pool/stopped_ring.ts`).
 */
export function stoppedRing(lanes: number): number {
  return lanes + 16;
}

/** Words of the status memory of a worker of `lanes` lanes. */
export function statusWords(lanes: number): number {
  return stoppedAt(lanes) + stoppedRing(lanes);
}

/**
 * Job `id` in the lane table: its low 32 bits, never 0 (0 marks a free lane;
 * ids that are multiples of 2^32 take -2^31). Two ids share a word only 2^31
 * or more apart, which are never running at once.
 */
export function laneWord(id: number): number {
  return (id | 0) || -0x8000_0000;
}

/** How many claim words a slot has (`Status.CLAIMS` …): batches that may be offered at once. */
export const CLAIM_RING = Status.WORDS - Status.CLAIMS;

/**
 * How long (ms) a side that expects an answer soon spins on its doorbell
 * before it parks in the event loop. Waking a parked thread costs tens of
 * µs on an idle machine; a spinning one sees the doorbell within a µs, and
 * the message is then waiting in its event loop. Bounded, so an idle worker
 * costs no CPU once the spin ends.
 */
export const SPIN_MS = 0.05;

/**
 * How long (ms) a worker with a shared lane listens after a lone job (one
 * that came on the lane, or alone in a message): the pool is then likely
 * awaiting one job at a time, and its next job should find the lane open
 * even when this answer went as a message, whose delivery takes longer
 * than `SPIN_MS`. Bounded like `SPIN_MS`.
 */
export const LANE_SPIN_MS = 0.25;
