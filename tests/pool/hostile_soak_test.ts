/**
 * Hostile soak (issue 16, "Done when"): jobs that return, throw (several
 * classes, with causes), crash their worker (`process.exit`, a throwing
 * timer) and run async; `exec()`s with `AbortSignal`s aborted while queued,
 * while running, and shared by many jobs, and with timeouts; user callbacks
 * (`doneCallback`, `failedCallback`, `cancelledCallback`, a `submitDone`
 * callback) that re-enter the pool: submit more jobs, cancel queued ones,
 * abort signals, `resize()` up and down, and (rarely, with few jobs pending)
 * cancel everything queued, `clear()`, `shutdown()` then `clear()`, and
 * `terminate()` then `clear()` (jobs running then fail with
 * `PoolClosedError`, and the pool goes on); `resize()` and
 * `cancel(id)` from the main loop; `map` (of objects and of numbers),
 * `submit`, `submitFirst`, `submitDone` (to a callback, to `done`, discarded),
 * `run` and `exec`, and buffers moved with `transfer()` (a job whose worker
 * died before it answered fails saying its buffer went with the worker). Every job id must end exactly once (done, failed or
 * cancelled), and the live heap must stay flat.
 *
 * `pool.recycle()` is in the mix too, from the loop and from callbacks:
 * every worker is replaced once idle, and no job may notice.
 *
 * `SOAK_JOBS` (default 30,000: a few seconds, for CI) sets the number of
 * jobs and `SOAK_SEED` the PRNG's seed. The seed fixes every decision of the
 * main loop, and each re-entering callback decides from a hash of the seed
 * and the id it reports; what the workers' timing changes (which job is
 * still queued when a cancel comes) is not fixed by it. The 10,000,000-job
 * soak, by hand (not in CI), with the heap measured after full collections:
 *
 * ```sh
 * SOAK_JOBS=10000000 deno test -A --no-check --v8-flags=--expose-gc tests/pool/hostile_soak_test.ts
 * SOAK_JOBS=10000000 bun test tests/pool/hostile_soak_test.ts
 * ```
 *
 * Without a way to force a collection (`deno test` without
 * `--v8-flags=--expose-gc`), the heap is sampled and printed but not judged.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Pool } from "../../src/pool/pool.ts";
import { PoolClosedError, TaskTimeoutError, WorkerCrashedError } from "../../src/errors.ts";
import { transfer } from "../../src/protocol/codec.ts";
import { fixture, within } from "../_util.ts";
import { DEFAULT_ABORT_GRACE } from "../../src/pool/options.ts";
import { Kind, PACK } from "../fixtures/hostile_soak.ts";

type SoakTasks = typeof import("../fixtures/hostile_soak.ts");

function env(name: string): string | undefined {
  const deno = (globalThis as { Deno?: { env: { get(name: string): string | undefined } } }).Deno;
  if (deno) return deno.env.get(name);
  return process.env[name];
}

const JOBS = Number(env("SOAK_JOBS") ?? 30_000);
/** Runs awaited one at a time after each sample, while the pool is quiet. */
const LONE_RUNS = 50;
const SEED = Number(env("SOAK_SEED") ?? 0x16_5eed);
/** Jobs the main loop submits in one go. */
const CHUNK = 1_000;
/** Most jobs not yet ended before the main loop waits for half of them. */
const WINDOW = 8_000;
/**
 * The rate of each rare event that costs a worker (a crash, a timeout, an
 * abort while running) or reshapes the pool: 1 in 20,000 jobs at scale (500
 * of each in 10M jobs), and at least about 10 of each in a short run.
 */
const RARE = Math.max(1 / 20_000, 10 / JOBS);
/**
 * A callback does something to the whole pool (cancel everything queued,
 * `clear()`, `terminate()`) only while at most this many jobs are pending,
 * so that a short run is not mostly cancelled jobs.
 */
const BLAST = Math.max(200, Math.min(5_000, Math.floor(JOBS / 200)));
/** Heap samples over the run, each at a quiet moment (nothing pending), after a full GC. */
const SAMPLES = 20;
/** The first samples are warm-up (compiled code, pool structures at their size), not judged. */
const WARM_UP = 5;
/**
 * How much the live heap may grow from its lowest point after the warm-up
 * to the end (mean of the last 3 samples). Generous: a quiet pool's heap
 * moves by a few MiB with the number of live workers, the size its deques
 * and queue arrays reached, and what the collector leaves. A leak of `b`
 * bytes per job adds about `b` × 0.7 × `SOAK_JOBS` over the judged span
 * (samples 6 to 20): at 10M jobs, 16 MiB is about 2.4 bytes per job (a
 * retained closure, promise or result is 50+), so any per-job leak fails; at
 * the CI default of 30,000 it only catches leaks above about 800 bytes per
 * job. (Bun counts the ledger's typed arrays in `heapUsed`; they are
 * allocated before the first sample.)
 */
const GROWTH_BOUND = 16 * 2 ** 20;
/** The main loop reports its progress every this many ms (long runs only). */
const REPORT_MS = 30_000;

/** mulberry32: a small seeded PRNG, floats in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A float in [0, 1) from the seed and `x` (splitmix-style mixing): decisions made in callbacks. */
function hash01(x: number): number {
  let t = (x ^ SEED) >>> 0;
  t = Math.imul(t ^ (t >>> 16), 0x7feb352d);
  t = Math.imul(t ^ (t >>> 15), 0x846ca68b);
  t ^= t >>> 16;
  return (t >>> 0) / 4294967296;
}

/** How a job ended; one byte per job id in the ledger. */
const Outcome = {
  DONE: 1,
  /** Its task threw (or rejected). */
  THROWN: 2,
  /** `WorkerCrashedError`. */
  CRASHED: 3,
  /** `TaskTimeoutError`. */
  TIMED_OUT: 4,
  /** Its `exec()` signal was aborted while it ran. */
  ABORTED: 5,
  /** Its argument could not be cloned. */
  UNSENDABLE: 6,
  CANCELLED: 7,
  /** Ended with no report: `submitDone(task, false)` that did not fail (counted at the end). */
  DISCARDED: 8,
  /** `PoolClosedError`: it ran when a callback called `terminate()`. */
  TERMINATED: 9,
  /** It moved a buffer with `transfer()` to a worker that died before answering it. */
  MOVED_AWAY: 10,
} as const;
const OUTCOME_NAMES = [
  "",
  "done",
  "thrown",
  "crashed",
  "timed out",
  "aborted while running",
  "unsendable",
  "cancelled",
  "discarded",
  "terminated",
  "moved away",
];

/** What the ledger knows of a job beside its kind; one byte per job id. */
const Flag = {
  /** Settles a `run()`/`exec()` promise: the promise is its ending. */
  PROMISE: 1,
  /** `submitDone(task, false)`: success is not reported. */
  DISCARD: 2,
  /** `cancelledCallback` saw this promise job: its promise must reject as cancelled. */
  CANCEL_SEEN: 4,
  /** `exec()` with a `timeout`. */
  TIMEOUT: 8,
  /** `exec()` with a `signal`. */
  SIGNAL: 16,
  /** An argument that cannot be cloned. */
  UNSENDABLE: 32,
  /** A `HANG` job whose signal is aborted once it runs. */
  ABORT_AT_START: 64,
  /** Moved a buffer with `transfer()`. */
  MOVED: 128,
} as const;

function runtime(): string {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  if (bun) return `bun ${bun.version}`;
  return `deno ${
    (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno
  }`;
}

/** A full garbage collection, where the runtime offers one to scripts. */
const gc: (() => void) | undefined =
  (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc.bind(null, true) ??
    (globalThis as { gc?: () => void }).gc;

const MiB = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

describe("Pool hostile soak", () => {
  it(
    `Pool ends each of ${JOBS} jobs exactly once under throws, crashes, aborts, timeouts, re-entering callbacks and resizes, with flat memory`,
    { timeout: Math.max(60_000, JOBS / 10) },
    async () => {
      assert.ok(
        Number.isInteger(JOBS) && JOBS >= 1_000,
        `SOAK_JOBS must be an integer of at least 1000, received ${env("SOAK_JOBS")}`,
      );
      // deno-lint-ignore no-console
      console.log(
        `hostile soak on ${runtime()}: ${JOBS} jobs, seed ${SEED} (SOAK_SEED=${SEED} repeats it)` +
          (gc ? "" : "; no forced GC, so the heap is not judged"),
      );
      const started = performance.now();
      const random = prng(SEED);
      const capacity = JOBS + 1;
      // The ledger: four bytes per job id, allocated before the first heap sample.
      const endings = new Uint8Array(capacity);
      const outcome = new Uint8Array(capacity);
      const kinds = new Uint8Array(capacity);
      const flags = new Uint8Array(capacity);
      // Written once, so their pages are resident before the first sample and rss means something.
      for (const bytes of [endings, outcome, kinds, flags]) bytes.fill(1).fill(0);
      const counts = new Array<number>(OUTCOME_NAMES.length).fill(0);
      const problems: string[] = [];
      let problemCount = 0;
      const problem = (text: string) => {
        problemCount++;
        if (problems.length < 20) problems.push(text);
      };
      const stats = {
        reentrantSubmits: 0,
        reentrantCancels: 0,
        cancelAlls: 0,
        clears: 0,
        shutdownClears: 0,
        terminateClears: 0,
        reentrantResizes: 0,
        reentrantRecycles: 0,
        reentrantAborts: 0,
        mainResizes: 0,
        mainRecycles: 0,
        mainCancels: 0,
        refusedAtOnce: 0,
        sharedSignals: 0,
        dequeResults: 0,
      };
      /** The next job id the pool will give. */
      let nextId = 1;
      let ended = 0;
      let discards = 0;
      let discardsEnded = 0;
      /** Jobs submitted that will report their end (all but discarded successes). */
      const outstanding = () => nextId - 1 - ended - (discards - discardsEnded);
      let waitFor: (() => boolean) | null = null;
      let wake: (() => void) | null = null;
      /** Resolves once `condition()` holds; checked at every job's end. */
      const until = (condition: () => boolean): Promise<void> => {
        if (condition()) return Promise.resolve();
        return new Promise<void>((resolve) => {
          waitFor = condition;
          wake = resolve;
        });
      };

      const end = (id: number, how: number) => {
        if (!(id >= 1 && id < nextId)) {
          problem(`unknown job id ${id} ended (${OUTCOME_NAMES[how]})`);
          return;
        }
        if (endings[id] !== 0) {
          problem(
            `job ${id} (kind ${kinds[id]}, flags ${flags[id]}) ended again: ` +
              `${OUTCOME_NAMES[outcome[id]!]} then ${OUTCOME_NAMES[how]}`,
          );
          if (endings[id]! < 255) endings[id]!++;
          return;
        }
        endings[id] = 1;
        outcome[id] = how;
        counts[how]!++;
        ended++;
        if (flags[id]! & Flag.DISCARD) discardsEnded++;
        if (waitFor !== null && waitFor()) {
          const resolve = wake!;
          waitFor = wake = null;
          resolve();
        }
      };

      const done = (value: unknown, id: number) => {
        const kind = kinds[id];
        if (flags[id]! & Flag.DISCARD) problem(`discarded job ${id} reported its result`);
        if (kind === Kind.OK || kind === Kind.ASYNC) {
          if (value !== id * 2) problem(`job ${id} (kind ${kind}) returned ${String(value)}`);
        } else if (kind === Kind.OBJECT) {
          const object = value as { n?: unknown; s?: unknown } | null;
          if (object?.n !== id || object.s !== `s${id}`) {
            problem(`job ${id} returned ${JSON.stringify(value)}`);
          }
        } else {
          problem(`job ${id} of kind ${kind} returned ${String(value)}`);
        }
        end(id, Outcome.DONE);
      };

      /** Whether `error` is what job `id`'s kind throws (class, message, cause chain). */
      const thrownRight = (error: unknown, id: number): boolean => {
        const e = error as Error & { cause?: unknown };
        const cause = e?.cause as (Error & { cause?: unknown; n?: unknown }) | undefined;
        switch (kinds[id]) {
          case Kind.THROW_TYPE:
            return e instanceof TypeError && e.message === `job ${id}: type` &&
              cause instanceof RangeError && cause.message === `job ${id}: inner` &&
              cause.cause === id;
          case Kind.THROW_RANGE:
            return e instanceof RangeError && e.message === `job ${id}: range`;
          case Kind.THROW_CUSTOM:
            return e instanceof Error && e.name === "SoakError" &&
              e.message === `job ${id}: custom` && cause instanceof TypeError &&
              cause.message === `job ${id}: why`;
          case Kind.ASYNC_THROW:
            return e instanceof RangeError && e.message === `job ${id}: async` &&
              cause?.n === id;
          default:
            return false;
        }
      };

      const failure = (error: unknown, id: number) => {
        const kind = kinds[id];
        const f = flags[id]!;
        if (error instanceof WorkerCrashedError) {
          if (kind !== Kind.EXIT && kind !== Kind.TIMER_THROW) {
            problem(`job ${id} of kind ${kind} failed with ${error.message}`);
          }
          end(id, Outcome.CRASHED);
        } else if (error instanceof TaskTimeoutError) {
          if (!(f & Flag.TIMEOUT) || kind !== Kind.HANG || error.jobId !== id) {
            problem(`job ${id} of kind ${kind} (flags ${f}) failed with ${error.message}`);
          }
          end(id, Outcome.TIMED_OUT);
        } else if (error instanceof PoolClosedError) {
          if (stats.terminateClears === 0) problem(`job ${id} failed with ${error.message}`);
          end(id, Outcome.TERMINATED);
        } else if (
          f & Flag.MOVED && error instanceof Error && /transfer\(\)/.test(error.message) &&
          error.message.includes(`job ${id} `)
        ) {
          end(id, Outcome.MOVED_AWAY);
        } else if (f & Flag.UNSENDABLE) {
          if (!(error instanceof TypeError && /cannot be cloned/.test(error.message))) {
            problem(`unsendable job ${id} failed with ${String(error)}`);
          }
          end(id, Outcome.UNSENDABLE);
        } else {
          if (!thrownRight(error, id)) {
            problem(`job ${id} of kind ${kind} failed with ${String(error)}`);
          }
          end(id, Outcome.THROWN);
        }
      };

      /**
       * Makes a `run()`/`exec()` job with `call` and ends it when its promise settles. `reason`: its
       * signal's abort reason; `started`: the HANG job's shared flag, released when it ends.
       */
      const settle = (
        id: number,
        call: () => Promise<unknown>,
        reason?: unknown,
        started?: Int32Array,
      ) => {
        // Marked before the call: a callback that re-enters may cancel it at once.
        flags[id] = flags[id]! | Flag.PROMISE;
        const promise = call();
        const release = () => {
          if (started) {
            Atomics.store(started, 0, 2); // lets its watcher go (see `whenRunning`)
            Atomics.notify(started, 0);
          }
        };
        promise.then(
          (value) => {
            release();
            if (flags[id]! & Flag.CANCEL_SEEN) problem(`job ${id} was cancelled, then it ran`);
            done(value, id);
          },
          (error: unknown) => {
            release();
            const cancelledByCancel = error instanceof DOMException &&
              error.name === "AbortError";
            if (flags[id]! & Flag.CANCEL_SEEN) {
              // By an abort, by cancel(), by clear() (DOMException) or by terminate().
              if (error !== reason && !cancelledByCancel && !(error instanceof PoolClosedError)) {
                problem(`job ${id} was cancelled, then failed with ${String(error)}`);
              }
              end(id, Outcome.CANCELLED);
            } else if (error === reason && reason !== undefined) {
              end(id, Outcome.ABORTED);
            } else if (cancelledByCancel) {
              problem(`job ${id} rejected as cancelled without cancelledCallback`);
              end(id, Outcome.CANCELLED);
            } else {
              failure(error, id);
            }
          },
        );
      };

      /** Calls `then` once job `started` runs (the HANG task sets it), unless it ended first. */
      const whenRunning = (started: Int32Array, then: () => void) => {
        const wait = Atomics.waitAsync(started, 0, 0);
        const check = () => {
          if (Atomics.load(started, 0) === 1) then();
        };
        if (wait.async) wait.value.then(check);
        else check();
      };

      const pickKind = (r: number): number => {
        if (r < 0.006) return Kind.THROW_TYPE;
        if (r < 0.012) return Kind.THROW_RANGE;
        if (r < 0.016) return Kind.THROW_CUSTOM;
        if (r < 0.02) return Kind.ASYNC_THROW;
        if (r < 0.02 + RARE) return Kind.EXIT;
        if (r < 0.02 + 2 * RARE) return Kind.TIMER_THROW;
        if (r < 0.07) return Kind.ASYNC;
        if (r < 0.09) return Kind.OBJECT;
        return Kind.OK;
      };
      /** A kind that neither crashes nor hangs: for exec()s with signals and timeouts. */
      const safeKind = (r: number): number =>
        r < 0.6 ? Kind.OK : r < 0.8 ? Kind.ASYNC : r < 0.9 ? Kind.OBJECT : Kind.THROW_RANGE;

      // ------------------------------------------------------------- the pool

      /** A `submitDone` callback of its own, which re-enters the pool too. */
      const ownDone = (value: unknown, id: number) => {
        done(value, id);
        reenter(id, 1);
      };
      /** Signals of `exec()`s, aborted a few chunks after (or by a callback, earlier). */
      let aborters: [AbortController, Error][] = [];
      let aborting: [AbortController, Error][] = [];

      /** Submits job `id` from a callback, in a form chosen from `r`. */
      const submitFrom = (id: number, kind: number, r: number) => {
        kinds[id] = kind;
        if (r < 0.4) {
          if (pool.submit("work", kind, id) !== id) problem(`reentrant submit: not id ${id}`);
        } else if (r < 0.6) {
          if (pool.submitDone("work", ownDone, kind, id) !== id) {
            problem(`reentrant submitDone: not id ${id}`);
          }
        } else if (r < 0.75) {
          settle(id, () => pool.run("workPacked", kind + PACK * id));
        } else {
          if (pool.submitFirst("workPacked", kind + PACK * id) !== id) {
            problem(`reentrant submitFirst: not id ${id}`);
          }
        }
      };

      /**
       * What a callback reporting job `id` does to the pool, decided by a
       * hash of the seed and `id` (and `salt`, one per callback).
       */
      const reenter = (id: number, salt: number) => {
        const h = hash01(id * 4 + salt);
        if (h < 0.003) {
          // Submit 1 to 4 more jobs, or a map of them.
          const r = prng(id ^ SEED);
          const n = 1 + Math.floor(r() * 4);
          if (nextId + n - 1 > JOBS) return;
          stats.reentrantSubmits += n;
          if (r() < 0.25) {
            const items: [number, number][] = [];
            for (let k = 0; k < n; k++) {
              const job = nextId + k;
              kinds[job] = pickKind(r());
              items.push([kinds[job]!, job]);
            }
            nextId += n;
            if (pool.map("workItem", items) !== n) problem("reentrant map: not all queued");
          } else {
            for (let k = 0; k < n; k++) submitFrom(nextId++, pickKind(r()), r());
          }
        } else if (h < 0.005) {
          // Cancel one of the last jobs submitted, if it is still queued.
          const target = nextId - 1 - Math.floor(hash01(id * 4 + 3) * 200);
          if (target >= 1 && pool.cancel(target)) stats.reentrantCancels++;
        } else if (h < 0.008) {
          // Abort a signal of an exec() not long submitted: queued, running or done.
          const aborter = aborting.pop() ?? aborters.pop();
          if (aborter) {
            aborter[0].abort(aborter[1]);
            stats.reentrantAborts++;
          }
        } else if (h < 0.008 + RARE) {
          pool.resize(1 + Math.floor(hash01(id * 4 + 3) * 4));
          stats.reentrantResizes++;
        } else if (h < 0.008 + 2 * RARE) {
          // Every worker is replaced once it has finished what it holds; no job may notice.
          void pool.recycle();
          stats.reentrantRecycles++;
        }
        if (armed !== null && pool.pending <= BLAST) {
          const what = armed;
          armed = null;
          whole(what);
        }
      };

      /**
       * Something the main loop asks the next callback to do to the whole
       * pool (see {@linkcode whole}), or nothing.
       */
      let armed: number | null = null;
      /** Takes what `done` holds, as the reader would: before `clear()` empties it. */
      let owed = 0;
      const drainDone = () => {
        for (let entry; (entry = pool.done.shift() as [number, unknown] | undefined);) {
          // The reader may hold the permit of this entry already: it then finds `done` empty.
          if (!pool.doneCount.tryAcquire()) owed++;
          stats.dequeResults++;
          done(entry[1], entry[0]);
        }
      };
      /**
       * From a callback: 0, cancel everything queued; 1, `clear()`; 2,
       * `shutdown()` then `clear()`; 3, `terminate()` then `clear()`.
       */
      const whole = (what: number) => {
        switch (what) {
          case 0:
            pool.cancel();
            stats.cancelAlls++;
            break;
          case 1:
            drainDone();
            pool.clear();
            stats.clears++;
            break;
          case 2:
            drainDone();
            void pool.shutdown();
            pool.clear();
            stats.shutdownClears++;
            break;
          default:
            stats.terminateClears++; // before: the failures it makes are reported in this call
            drainDone();
            pool.terminate();
            pool.clear();
        }
      };

      await using pool: Pool<SoakTasks> = new Pool<SoakTasks>({
        module: fixture("hostile_soak.ts"),
        maxChildren: 2,
        minChildren: 1,
        resultId: true,
        doneCallback: (value, id) => {
          done(value, id);
          reenter(id, 0);
        },
        failedCallback: (error, id) => {
          failure(error, id);
          reenter(id, 1);
        },
        cancelledCallback: (id) => {
          if (!(id >= 1 && id < nextId)) {
            problem(`cancelledCallback for unknown job id ${id}`);
          } else if (flags[id]! & Flag.PROMISE) {
            if (flags[id]! & Flag.CANCEL_SEEN) problem(`job ${id} cancelled twice`);
            if (endings[id] !== 0) problem(`job ${id} cancelled after it ended`);
            flags[id] = flags[id]! | Flag.CANCEL_SEEN;
          } else {
            end(id, Outcome.CANCELLED);
          }
          reenter(id, 2);
        },
      });

      /**
       * The rare jobs that cost a worker or fail alone, submitted together
       * every few chunks (so each kind happens, whatever the seed): a HANG
       * job with a timeout it reaches, one whose signal is aborted once it
       * runs, one signal shared by a HANG job and the jobs queued after it,
       * and an argument that cannot be cloned.
       */
      const rareJobs = () => {
        if (nextId > JOBS) return;
        {
          // A timeout it reaches: its worker is replaced.
          const id = nextId++;
          kinds[id] = Kind.HANG;
          flags[id] = Flag.TIMEOUT;
          settle(id, () => pool.exec("work", [Kind.HANG, id], { timeout: 10 }));
        }
        if (nextId > JOBS) return;
        {
          // A signal aborted once the job runs (the task says so over shared memory).
          // The long timeout only keeps a lost abort from hanging the soak.
          const id = nextId++;
          kinds[id] = Kind.HANG;
          flags[id] = Flag.SIGNAL | Flag.TIMEOUT | Flag.ABORT_AT_START;
          const controller = new AbortController();
          const reason = new Error(`job ${id} aborted while running`);
          const running = new Int32Array(new SharedArrayBuffer(4));
          settle(
            id,
            () =>
              pool.exec("work", [Kind.HANG, id, running], {
                signal: controller.signal,
                timeout: 60_000,
              }),
            reason,
            running,
          );
          whenRunning(running, () => controller.abort(reason));
        }
        if (nextId > JOBS) return;
        {
          // One signal shared by a HANG job and the 5 to 60 jobs queued after it, aborted
          // once the HANG job runs: the queued ones are cancelled, the running ones fail.
          const n = Math.min(6 + Math.floor(random() * 55), JOBS + 1 - nextId);
          const controller = new AbortController();
          const reason = new Error(`shared signal ${stats.sharedSignals} aborted`);
          const signal = controller.signal;
          stats.sharedSignals++;
          const running = new Int32Array(new SharedArrayBuffer(4));
          // The HANG job's long timeout only keeps a lost abort from hanging the soak.
          const hang = nextId++;
          kinds[hang] = Kind.HANG;
          flags[hang] = Flag.SIGNAL | Flag.TIMEOUT | Flag.ABORT_AT_START;
          settle(
            hang,
            () => pool.exec("work", [Kind.HANG, hang, running], { signal, timeout: 60_000 }),
            reason,
            running,
          );
          for (let k = 1; k < n; k++) {
            const job = nextId++;
            kinds[job] = safeKind(random());
            flags[job] = Flag.SIGNAL;
            settle(job, () => pool.exec("work", [kinds[job]!, job], { signal }), reason);
          }
          whenRunning(running, () => controller.abort(reason));
        }
        if (nextId > JOBS) return;
        {
          // An argument that cannot be cloned: this job fails, its batch-mates go.
          const id = nextId++;
          kinds[id] = Kind.OK;
          flags[id] = Flag.UNSENDABLE;
          if (pool.submit("work", Kind.OK, id, { f: () => id }) !== id) {
            problem(`submit: not id ${id}`);
          }
        }
      };

      // Results sent to `done` (`submitDone(task, true)`, `resultId`): taken as `doneCount` says.
      const stopReading = new AbortController();
      const reader = (async () => {
        while (true) {
          try {
            await pool.doneCount.acquire({ signal: stopReading.signal });
          } catch {
            return;
          }
          const entry = pool.done.shift() as [number, unknown] | undefined;
          if (entry === undefined) {
            if (owed > 0) owed--;
            else problem("doneCount was released with done empty");
            continue;
          }
          stats.dequeResults++;
          done(entry[1], entry[0]);
        }
      })();

      const samples: { jobs: number; heap: number; rss: number }[] = [];
      let lastReport = performance.now();
      const report = (what: string) => {
        const s = (performance.now() - started) / 1000;
        // deno-lint-ignore no-console
        console.log(
          `  ${what}: ${nextId - 1} jobs submitted, ${ended} ended in ${s.toFixed(1)} s ` +
            `(${Math.round(ended / s)} jobs/s); heap ${
              MiB(samples.at(-1)?.heap ?? 0)
            } MiB at the last sample; ${pool.alive} workers`,
        );
      };
      /** Waits until nothing is pending and every promise and `done` entry is read. */
      const quiet = async () => {
        assert.equal(await pool.wait(), true);
        await until(() => outstanding() === 0);
      };
      const sample = () => {
        gc?.();
        const { heapUsed, rss } = process.memoryUsage();
        samples.push({ jobs: nextId - 1, heap: heapUsed, rss });
      };

      try {
        let nextSample = Math.floor(JOBS / SAMPLES);
        let chunk = 0;
        /** Every this many chunks, the next callback does something to the whole pool. */
        const wholeEvery = Math.max(2, Math.floor(JOBS / CHUNK / 100));
        let wholeCount = 0;
        /** Every this many chunks, the rare jobs (see `rareJobs`): 1 in 20,000 jobs at scale. */
        const rareEvery = Math.max(1, Math.round(1 / (RARE * CHUNK)));
        while (nextId <= JOBS) {
          if (chunk % rareEvery === 0) rareJobs();
          const firstId = nextId;
          const limit = Math.min(JOBS + 1, nextId + CHUNK);
          const form = random();
          if (form < 0.15) {
            // One map of [kind, id] items, to doneCallback, to a callback of its own, to `done`,
            // or discarded.
            const to = random();
            const target = to < 0.7 ? undefined : to < 0.85 ? ownDone : to < 0.95;
            const items: [number, number][] = [];
            for (let id = nextId; id < limit; id++) {
              kinds[id] = pickKind(random());
              if (target === false) flags[id] = Flag.DISCARD;
              items.push([kinds[id]!, id]);
            }
            if (target === false) discards += items.length;
            nextId = limit;
            assert.equal(pool.map("workItem", items, target), items.length);
          } else if (form < 0.3) {
            // One map of numbers: it travels as Float64Arrays.
            const items: number[] = [];
            for (let id = nextId; id < limit; id++) {
              kinds[id] = pickKind(random());
              items.push(kinds[id]! + PACK * id);
            }
            nextId = limit;
            assert.equal(pool.map("workPacked", items), items.length);
          } else if (form < 0.5) {
            // One-argument submits and a few runs: they join open queue entries.
            while (nextId < limit) {
              const id = nextId++;
              kinds[id] = pickKind(random());
              const packed = kinds[id]! + PACK * id;
              if (random() < 0.02) settle(id, () => pool.run("workPacked", packed));
              else if (pool.submit("workPacked", packed) !== id) problem(`submit: not id ${id}`);
            }
          } else {
            while (nextId < limit) {
              const id = nextId;
              let r = random();
              if (r < 0.01) {
                nextId++;
                kinds[id] = pickKind(random());
                settle(id, () => pool.run("work", kinds[id]!, id));
                continue;
              }
              if ((r -= 0.01) < 0.002) {
                // An aborted signal: refused at once, and no id is used.
                const reason = new Error("aborted before submit");
                pool.exec("work", [Kind.OK, id], { signal: AbortSignal.abort(reason) }).then(
                  () => problem("an exec() with an aborted signal ran"),
                  (error: unknown) =>
                    error === reason ? stats.refusedAtOnce++ : problem(String(error)),
                );
                continue;
              }
              if ((r -= 0.002) < 0.01) {
                // A signal aborted a few chunks later: queued, running or done by then.
                nextId++;
                kinds[id] = safeKind(random());
                flags[id] = Flag.SIGNAL;
                const controller = new AbortController();
                const reason = new Error(`job ${id} aborted`);
                aborters.push([controller, reason]);
                const first = random() < 0.2;
                settle(
                  id,
                  () => pool.exec("work", [kinds[id]!, id], { signal: controller.signal, first }),
                  reason,
                );
                continue;
              }
              if ((r -= 0.01) < 0.005) {
                // A timeout it does not reach.
                nextId++;
                kinds[id] = safeKind(random());
                flags[id] = Flag.TIMEOUT;
                settle(id, () => pool.exec("work", [kinds[id]!, id], { timeout: 60_000 }));
                continue;
              }
              r -= 0.005;
              nextId++;
              kinds[id] = pickKind(random());
              const kind = kinds[id]!;
              if (r < 0.005) {
                // A buffer moved to the worker: if the worker dies before the job answers, the
                // job cannot be sent again, and fails saying so.
                flags[id] = Flag.MOVED;
                const bytes = new Uint8Array(4);
                new DataView(bytes.buffer).setUint32(0, id, true);
                const got = r < 0.004
                  ? pool.submit("moved", transfer(bytes), kind, id)
                  : (settle(id, () => pool.run("moved", transfer(bytes), kind, id)), id);
                if (got !== id) problem(`submit: id ${got}, expected ${id}`);
                if (bytes.byteLength !== 0) problem(`job ${id}: the moved buffer is not detached`);
                continue;
              }
              r -= 0.005;
              let got: number;
              if (r < 0.02) got = pool.submitDone("work", ownDone, kind, id);
              else if ((r -= 0.02) < 0.02) got = pool.submitDone("work", true, kind, id);
              else if ((r -= 0.02) < 0.005) {
                flags[id] = Flag.DISCARD;
                discards++;
                got = pool.submitDone("work", false, kind, id);
              } else if ((r -= 0.005) < 0.005) got = pool.submitFirst("work", kind, id);
              else got = pool.submit("work", kind, id);
              if (got !== id) problem(`submit: id ${got}, expected ${id}`);
            }
          }
          // Cancel a few jobs of this chunk by id; those already sent are not touched.
          if (random() < 0.3) {
            for (let n = 1 + Math.floor(random() * 5); n > 0; n--) {
              if (pool.cancel(firstId + Math.floor(random() * (nextId - firstId)))) {
                stats.mainCancels++;
              }
            }
          }
          // Abort the signals of a few chunks ago: by now their jobs are queued, running or done.
          if (chunk % 4 === 3) {
            for (const [controller, reason] of aborting) controller.abort(reason);
            aborting = aborters;
            aborters = [];
          }
          if (random() < Math.max(0.05, 10 / (JOBS / CHUNK))) {
            pool.resize(1 + Math.floor(random() * 4));
            stats.mainResizes++;
          }
          if (random() < Math.max(0.03, 6 / (JOBS / CHUNK))) {
            void pool.recycle();
            stats.mainRecycles++;
          }
          if (chunk % wholeEvery === wholeEvery - 1) armed = wholeCount++ % 4;
          chunk++;
          if (nextId - 1 >= nextSample || nextId > JOBS) {
            // The signals left are aborted after their jobs ended (which must change nothing):
            // until then, callbacks may abort them.
            await quiet();
            for (const [controller, reason] of [...aborting, ...aborters]) {
              controller.abort(reason);
            }
            aborting = [];
            aborters = [];
            sample();
            nextSample += Math.floor(JOBS / SAMPLES);
            // Runs awaited one at a time on the quiet pool: lone jobs, which may take a
            // worker's shared lane. One number each: a worker listens on its lane after a
            // lone job of at most one value (with two, `work(kind, n)`, the lane was taken
            // only while an earlier one-value job had left it listening: 0 of 1,000 once).
            for (let k = 0; k < LONE_RUNS && nextId <= JOBS; k++) {
              const id = nextId++;
              kinds[id] = pickKind(random());
              let ended: Promise<unknown> = Promise.resolve();
              settle(id, () => {
                const promise = pool.run("workPacked", kinds[id]! + PACK * id);
                ended = promise.catch(() => {});
                return promise;
              });
              await ended;
            }
          } else if (outstanding() > WINDOW) {
            await until(() => outstanding() <= WINDOW / 2);
          }
          if (performance.now() - lastReport > REPORT_MS) {
            lastReport = performance.now();
            report("progress");
          }
        }
        await quiet();
      } finally {
        stopReading.abort();
        await reader;
      }
      const wall = (performance.now() - started) / 1000;

      let silent = 0;
      /** How the jobs of exec()s with signals ended. */
      const signalled = new Array<number>(OUTCOME_NAMES.length).fill(0);
      for (let id = 1; id < nextId; id++) {
        const f = flags[id]!;
        if (endings[id] === 0 && f & Flag.DISCARD) {
          endings[id] = 1;
          outcome[id] = Outcome.DISCARDED;
          counts[Outcome.DISCARDED]!++;
          silent++;
        }
        if (endings[id] !== 1) {
          problem(`job ${id} (kind ${kinds[id]}, flags ${f}) ended ${endings[id]} times`);
        }
        if (f & Flag.SIGNAL) signalled[outcome[id]!]!++;
        if (f & Flag.CANCEL_SEEN && outcome[id] !== Outcome.CANCELLED) {
          problem(`job ${id}: cancelledCallback, but it ended ${OUTCOME_NAMES[outcome[id]!]}`);
        }
        if (
          (kinds[id] === Kind.EXIT || kinds[id] === Kind.TIMER_THROW) &&
          outcome[id] !== Outcome.CRASHED && outcome[id] !== Outcome.CANCELLED &&
          outcome[id] !== Outcome.TERMINATED
        ) problem(`job ${id} of kind ${kinds[id]} ended ${OUTCOME_NAMES[outcome[id]!]}`);
        if (
          f & Flag.ABORT_AT_START && outcome[id] !== Outcome.ABORTED &&
          outcome[id] !== Outcome.CANCELLED && outcome[id] !== Outcome.TERMINATED
        ) problem(`job ${id}, aborted once running, ended ${OUTCOME_NAMES[outcome[id]!]}`);
      }

      const judged = samples.slice(WARM_UP);
      const low = Math.min(...judged.map((s) => s.heap));
      const last = samples.slice(-3);
      const end3 = last.reduce((sum, s) => sum + s.heap, 0) / last.length;
      const growth = end3 - low;
      const span = samples.at(-1)!.jobs - judged[0]!.jobs;
      // deno-lint-ignore no-console
      console.log(
        `hostile soak on ${runtime()}: ${nextId - 1} jobs (seed ${SEED}) in ${wall.toFixed(1)} s ` +
          `(${Math.round((nextId - 1) / wall)} jobs/s)\n` +
          `  outcomes: ${
            counts.map((n, i) => i === 0 ? "" : `${n} ${OUTCOME_NAMES[i]}`).filter(Boolean).join(
              ", ",
            )
          }\n` +
          `  ${stats.reentrantSubmits} jobs submitted by callbacks, ${stats.reentrantCancels} ` +
          `cancelled by callbacks, ${stats.cancelAlls} cancel() of all queued, ` +
          `${stats.reentrantAborts} signals aborted by callbacks, ${stats.clears} clear(), ` +
          `${stats.shutdownClears} shutdown() + clear(), ${stats.terminateClears} terminate() + ` +
          `clear() in callbacks, ${stats.reentrantResizes} resizes in callbacks and ${stats.mainResizes} in the loop, ` +
          `${stats.reentrantRecycles} recycle() in callbacks and ${stats.mainRecycles} in the loop, ` +
          `${stats.mainCancels} cancel(id) in the loop, ${stats.sharedSignals} shared signals, ` +
          `${stats.refusedAtOnce} exec() refused at once, ${stats.dequeResults} results read ` +
          `from done, ${pool.stats().jobs.sharedLane} jobs on shared lanes, ${pool.stats().jobs.stolen} stolen; ` +
          `workers at rest: ` +
          `${pool.alive} of ${pool.maxChildren}\n` +
          `  exec()s with signals: ${
            signalled.map((n, i) => n ? `${n} ${OUTCOME_NAMES[i]}` : "").filter(Boolean).join(", ")
          }\n` +
          `  heapUsed (MiB) after ${gc ? "a full GC" : "no forced GC"} at ${
            samples.map((s) => `${s.jobs}: ${MiB(s.heap)}`).join(", ")
          }\n` +
          `  rss (MiB): ${samples.map((s) => MiB(s.rss)).join(", ")}\n` +
          `  growth from the lowest judged sample to the last 3: ${MiB(growth)} MiB over ` +
          `${span} jobs (${(growth / span).toFixed(2)} bytes/job; bound ${MiB(GROWTH_BOUND)} MiB)` +
          (problemCount ? `\n  ${problemCount} problems` : ""),
      );

      assert.deepEqual(problems, []);
      assert.equal(nextId - 1, JOBS);
      assert.equal(ended + silent, JOBS);
      assert.equal(counts.reduce((a, b) => a + b, 0), JOBS);
      for (
        const how of [
          Outcome.DONE,
          Outcome.THROWN,
          Outcome.CRASHED,
          Outcome.TIMED_OUT,
          Outcome.ABORTED,
          Outcome.UNSENDABLE,
          Outcome.CANCELLED,
        ]
      ) assert.ok(counts[how]! > 0, `some job ended ${OUTCOME_NAMES[how]}`);
      assert.ok(stats.reentrantSubmits > 0 && stats.reentrantCancels > 0, "callbacks re-entered");
      assert.ok(stats.reentrantResizes > 0, "callbacks resized the pool");
      assert.ok(stats.mainRecycles > 0, "the loop recycled the workers");
      assert.ok(pool.stats().jobs.sharedLane > 0, "lone runs took the shared lane");
      assert.ok(
        stats.cancelAlls > 0 && stats.clears > 0 && stats.shutdownClears > 0 &&
          stats.terminateClears > 0,
        "callbacks cancelled all, cleared, shut down and terminated",
      );
      assert.ok(stats.reentrantAborts > 0, "callbacks aborted signals");
      assert.deepEqual([pool.pending, pool.busy, pool.jobs.length], [0, 0, 0]);
      // A worker a resize retired while it was finishing an aborted job is still alive though
      // nothing is pending: it leaves with a `workerexit` once its task returns or its
      // abortGrace passes. Wait for those exits (bounded), then no worker is over the limit.
      const lingering = pool.alive - pool.maxChildren;
      await workersLeave(pool, DEFAULT_ABORT_GRACE + 5_000);
      assert.ok(
        pool.alive <= pool.maxChildren,
        `${pool.alive} workers at rest, ${pool.maxChildren} allowed (${lingering} over at first)`,
      );
      if (gc) {
        assert.ok(
          growth < GROWTH_BOUND,
          `the live heap grew ${MiB(growth)} MiB over ${span} jobs (bound ${MiB(GROWTH_BOUND)})`,
        );
      }
    },
  );
});

/**
 * Resolves once `pool.alive <= pool.maxChildren`, checked at every
 * `workerexit`, or after `ms` (the caller then asserts, so a worker that
 * never leaves fails the test instead of hanging it).
 */
async function workersLeave(pool: Pool<SoakTasks>, ms: number): Promise<void> {
  let check = () => {};
  const left = new Promise<void>((resolve) => {
    check = () => {
      if (pool.alive <= pool.maxChildren) resolve();
    };
  });
  pool.addEventListener("workerexit", check);
  check();
  try {
    await within(left, ms);
  } finally {
    pool.removeEventListener("workerexit", check);
  }
}
