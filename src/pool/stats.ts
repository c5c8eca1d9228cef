/**
 * `pool.stats()`: counts of jobs and workers, and histograms of run and wait
 * times, overall and per task.
 *
 * Times come from what the engine already measures, never a clock read per
 * tiny job on the main thread:
 * - run time: each `results` message says how long its worker ran and how
 *   many jobs ended in it; every one of those jobs counts as that mean. A
 *   job slow enough to be answered on its own (≥ 0.1 ms) is timed alone.
 * - wait time: one clock read when a queue entry is made (a `map`, or a run
 *   of submits in one tick, is one entry) and one per batch sent; every job
 *   of the entry counts as the entry's wait.
 *
 * The histograms have 16 buckets per doubling from 1 µs to ~3 days, so a
 * reported percentile is within 2.2% of the sample it stands for (the
 * bucket's geometric middle); `min`, `max` and `mean` are exact.
 *
 * @module
 */

/**
 * A summary of times, in ms: see {@linkcode PoolStats}.
 *
 * @example Usage
 * ```ts
 * import { Pool, type PoolStats, type StatsOptions, type TimeSummary } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * await pool.run((n: number) => n, 1);
 * const options: StatsOptions = { reset: true };
 * const stats: PoolStats = pool.stats(options);
 * const runTime: TimeSummary = stats.runTime;
 * assert.equal(stats.jobs.done, 1);
 * assert.equal(runTime.count, 1);
 * assert.ok(runTime.min <= runTime.p50 && runTime.p50 <= runTime.max);
 * assert.equal(pool.stats().jobs.done, 0); // counted afresh
 * ```
 */
export interface TimeSummary {
  /** How many samples. */
  count: number;
  /** The smallest sample. */
  min: number;
  /** The mean. */
  mean: number;
  /** The median. */
  p50: number;
  /** The 90th percentile. */
  p90: number;
  /** The 99th percentile. */
  p99: number;
  /** The largest sample. */
  max: number;
}

/** Buckets per doubling. */
const STEPS = 16;
/** The smallest time told apart, in ms (1 µs); anything below counts as this. */
const FLOOR_MS = 1e-3;
/** Doublings above the floor covered (2^38 µs ≈ 3.2 days). */
const DOUBLINGS = 38;
const BUCKETS = STEPS * DOUBLINGS + 1;

/** A log-bucketed histogram of times in ms. */
export class Histogram {
  #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Adds `n` samples of `ms` each. */
  add(ms: number, n = 1): void {
    if (!(ms >= 0) || n <= 0) return;
    const at = ms <= FLOOR_MS
      ? 0
      : Math.min(BUCKETS - 1, Math.ceil(Math.log2(ms / FLOOR_MS) * STEPS));
    this.#counts[at]! += n;
    this.#count += n;
    this.#sum += ms * n;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** The summary; all zero while empty. */
  summary(): TimeSummary {
    const count = this.#count;
    if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count,
      min: this.#min,
      mean: Math.min(this.#max, Math.max(this.#min, this.#sum / count)), // rounding may step out
      p50: this.#quantile(0.5),
      p90: this.#quantile(0.9),
      p99: this.#quantile(0.99),
      max: this.#max,
    };
  }

  /** The value below which a fraction `q` of the samples lies, clamped to [min, max]. */
  #quantile(q: number): number {
    const rank = q * this.#count;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        // Bucket i holds (FLOOR · 2^((i-1)/STEPS), FLOOR · 2^(i/STEPS)]: report its geometric middle.
        const middle = i === 0 ? FLOOR_MS : FLOOR_MS * 2 ** ((i - 0.5) / STEPS);
        return Math.min(this.#max, Math.max(this.#min, middle));
      }
    }
    return this.#max;
  }
}

/** Run and wait times of one task, or of all. */
export class TaskTimes {
  /** Queued → started. */
  readonly waitTime: Histogram = new Histogram();
  /** Started → ended. */
  readonly runTime: Histogram = new Histogram();
}

/**
 * What `pool.stats()` returns.
 *
 * @example Usage
 * ```ts
 * import { Pool, type PoolStats, type StatsOptions, type TimeSummary } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * await pool.run((n: number) => n, 1);
 * const options: StatsOptions = { reset: true };
 * const stats: PoolStats = pool.stats(options);
 * const runTime: TimeSummary = stats.runTime;
 * assert.equal(stats.jobs.done, 1);
 * assert.equal(runTime.count, 1);
 * assert.ok(runTime.min <= runTime.p50 && runTime.p50 <= runTime.max);
 * assert.equal(pool.stats().jobs.done, 0); // counted afresh
 * ```
 */
export interface PoolStats {
  /** Jobs since the pool started or the last reset. */
  jobs: {
    /**
     * Jobs accepted (each `map` item counts); after a reset, also those
     * still queued or running at it, so `submitted = done + failed +
     * cancelled + queued + running` always holds.
     */
    submitted: number;
    /** Jobs that ended with a result. */
    done: number;
    /** Jobs that failed. */
    failed: number;
    /** Jobs cancelled before they ran, and streams whose consumer left. */
    cancelled: number;
    /**
     * Jobs not started now: in the queue (`pool.jobs`), or in batches a
     * worker, busy or starting, holds and has not started (those `cancel()`
     * takes back).
     */
    queued: number;
    /** The other jobs pending now: sent to a worker, started or batched with one that has. */
    running: number;
    /** Jobs that travelled on a worker's shared lane instead of a message (see `sharedLane`). */
    sharedLane: number;
    /**
     * Jobs an idle worker took from a busy one, or from one starting for a
     * second or more, that had not started them, counted at each move (a
     * job taken back, sent behind a busy worker again and taken again counts
     * twice).
     */
    stolen: number;
  };
  /** Workers now, and since the pool started or the last reset. */
  workers: {
    /** Live workers now. */
    alive: number;
    /** Workers running a job now. */
    busy: number;
    /** Live workers running nothing now. */
    idle: number;
    /** Workers that started. */
    started: number;
    /**
     * Workers that left, for any reason, also those that left while still
     * starting (a resize, a failed start): they never counted as `started`.
     */
    exited: number;
    /**
     * Workers that died in service: crashed, or failed to start. One that
     * fails or ends itself once it is retiring (a `setup()` it finishes
     * first, its `teardown()`) is not counted: its `error` event says so.
     */
    crashed: number;
  };
  /**
   * Time from started to ended, in ms, of the jobs their worker's answer
   * ended (done, or failed by a throw): a job failed by its time limit (early,
   * or answering past it), an abort or a crash has none, though its worker's
   * busy time counts in `utilization`.
   */
  runTime: TimeSummary;
  /**
   * Time in the pool's queue, from queued to sent to a worker, in ms; once
   * per job (a job sent again after a crash is not counted twice). A wait on
   * the worker before the job starts (behind another job of it, or an
   * import) is not in it; a job cancelled after it was sent is.
   */
  waitTime: TimeSummary;
  /** Time workers spent running jobs ÷ (wall time × `maxChildren`), from 0 to 1. */
  utilization: number;
  /** Run and wait times per task name (an export's name, or an inline function's name). */
  tasks: Record<string, { runTime: TimeSummary; waitTime: TimeSummary }>;
}

/**
 * Options of `pool.stats()`.
 *
 * @example Usage
 * ```ts
 * import { Pool, type PoolStats, type StatsOptions, type TimeSummary } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ maxChildren: 1 });
 * await pool.run((n: number) => n, 1);
 * const options: StatsOptions = { reset: true };
 * const stats: PoolStats = pool.stats(options);
 * const runTime: TimeSummary = stats.runTime;
 * assert.equal(stats.jobs.done, 1);
 * assert.equal(runTime.count, 1);
 * assert.ok(runTime.min <= runTime.p50 && runTime.p50 <= runTime.max);
 * assert.equal(pool.stats().jobs.done, 0); // counted afresh
 * ```
 */
export interface StatsOptions {
  /** Start counting afresh after this reading. */
  reset?: boolean | undefined;
}

/** The counters behind `pool.stats()`; the engine writes them, the pool reads them. */
export class StatsRecorder {
  submitted = 0;
  done = 0;
  failed = 0;
  cancelled = 0;
  /** Jobs sent on a shared lane. */
  sharedLane = 0;
  /** Jobs taken back from a worker for an idle one. */
  stolen = 0;
  started = 0;
  exited = 0;
  crashed = 0;
  /** Worker ms spent on jobs. */
  busyMs = 0;
  /** When counting began (clock ms). */
  since: number;
  all: TaskTimes = new TaskTimes();
  /**
   * By task index, `undefined` until a task is timed: the times of its name,
   * shared by every task of that name (inline functions may share one, or a
   * module export and a `task()` reference), so a pool that runs 40,000
   * anonymous inline sources keeps one pair of histograms for them, not
   * 40,000 (~10 KB each).
   */
  byTask: (TaskTimes | undefined)[] = [];
  /** The times of each task name. */
  byName: Map<string, TaskTimes> = new Map();
  /** Task names by index (the pool's registry, which grows). */
  readonly #names: readonly string[];

  constructor(now: number, names: readonly string[]) {
    this.since = now;
    this.#names = names;
  }

  /** Starts counting afresh at `now`. */
  reset(now: number): void {
    this.submitted =
      this.done =
      this.failed =
      this.cancelled =
      this.sharedLane =
      this.stolen =
        0;
    this.started = this.exited = this.crashed = 0;
    this.busyMs = 0;
    this.since = now;
    this.all = new TaskTimes();
    this.byTask = [];
    this.byName = new Map();
  }

  /** Times of task `index` (of its name). */
  task(index: number): TaskTimes {
    return this.byTask[index] ??= this.#timesOf(this.#names[index] ?? `task ${index}`);
  }

  #timesOf(name: string): TaskTimes {
    let times = this.byName.get(name);
    if (times === undefined) this.byName.set(name, times = new TaskTimes());
    return times;
  }

  /** `n` jobs of task `index` waited `ms` each. */
  waited(index: number, ms: number, n: number): void {
    this.all.waitTime.add(ms, n);
    this.task(index).waitTime.add(ms, n);
  }

  /** `n` jobs of task `index` ran `ms` each. */
  ran(index: number, ms: number, n: number): void {
    this.all.runTime.add(ms, n);
    this.task(index).runTime.add(ms, n);
  }

  /**
   * `pool.stats()`: the counters, with the pool's state `now` (`live`);
   * with `reset`, counting starts afresh after it.
   */
  read(now: number, live: LiveCounts, reset: boolean): PoolStats {
    const { queued, pending, alive, busy, maxChildren } = live;
    const wall = now - this.since;
    const tasks: PoolStats["tasks"] = {};
    for (const [name, times] of this.byName) {
      // Defined, not set: a task named "__proto__" would set the object's prototype (Bun).
      Object.defineProperty(tasks, name, {
        value: { runTime: times.runTime.summary(), waitTime: times.waitTime.summary() },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const result: PoolStats = {
      jobs: {
        // Jobs pending at a reset count as submitted after it, so the sum holds.
        submitted: this.done + this.failed + this.cancelled + pending,
        done: this.done,
        failed: this.failed,
        cancelled: this.cancelled,
        queued,
        running: pending - queued,
        sharedLane: this.sharedLane,
        stolen: this.stolen,
      },
      workers: {
        alive,
        busy,
        idle: alive - busy,
        started: this.started,
        exited: this.exited,
        crashed: this.crashed,
      },
      runTime: this.all.runTime.summary(),
      waitTime: this.all.waitTime.summary(),
      utilization: wall > 0 ? Math.min(1, this.busyMs / (wall * maxChildren)) : 0,
      tasks,
    };
    if (reset) this.reset(now);
    return result;
  }
}

/** The pool's state that `StatsRecorder.read` reports beside its counters. */
export interface LiveCounts {
  queued: number;
  pending: number;
  alive: number;
  busy: number;
  maxChildren: number;
}
