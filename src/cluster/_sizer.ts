/**
 * How many items go in the next chunk of a task: a pure decision from what
 * nodes reported about earlier chunks, as the local pool sizes its batches.
 *
 * - Nothing known yet about a task: one small probe chunk goes out, and the
 *   rest of that task's items wait for its report (one round trip). A probe
 *   that runs on past its time sets a floor under the task's item time: the
 *   rest go in chunks sized from it (no larger than the probe), to the nodes
 *   the probe leaves idle.
 * - Known: a chunk holds about `chunkTime` ms of work for one node's workers,
 *   at most `maxChunk` items, and no more than an even share of what is left
 *   across the nodes seen, so the last chunks do not leave nodes idle; nor
 *   more items than a quarter of a chunk's result budget holds at the
 *   largest results per item reported (results of 100 KB each would fill
 *   `MAX_RESULT_CHARS` with 2,684 items, and the rest of the chunk failed).
 *
 * @module
 */

import { MAX_RESULT_CHARS } from "./_wire.ts";

/** The characters of JSON a chunk's results are sized to write at most. */
const RESULT_SHARE = MAX_RESULT_CHARS / 4;

/** Items in the probe chunk of a task not measured yet. */
export const PROBE_ITEMS = 16;

/** The estimate when a probe ends without a measurement (e.g. its chunk failed). */
const FALLBACK_ITEM_MS = 1;

/**
 * A least-squares line through a task's reports, `ms = fixed + perItem × x`
 * with `x` the items per worker, older reports fading: a chunk's fixed cost
 * (waking workers, the Redis round trip) does not pass for item time, which
 * made small chunks look slow and kept chunks of tiny items small.
 */
class Fit {
  n = 0;
  sx = 0;
  sy = 0;
  sxx = 0;
  sxy = 0;

  add(x: number, y: number): void {
    const keep = 0.8;
    this.n = this.n * keep + 1;
    this.sx = this.sx * keep + x;
    this.sy = this.sy * keep + y;
    this.sxx = this.sxx * keep + x * x;
    this.sxy = this.sxy * keep + x * y;
  }

  /** `[fixed ms, ms per item on one worker]`. */
  line(): [number, number] {
    const d = this.n * this.sxx - this.sx * this.sx;
    if (this.n >= 2 && d > 1e-9 * this.sxx * this.n) {
      const perItem = (this.n * this.sxy - this.sx * this.sy) / d;
      const fixed = (this.sy - perItem * this.sx) / this.n;
      if (perItem > 0 && fixed >= 0) return [fixed, perItem];
    }
    return [0, this.sy / Math.max(this.sx, 1e-9)];
  }
}

/** Chunk sizes from measured run time. */
export class ChunkSizer {
  readonly #chunkTime: number;
  readonly #maxChunk: number;
  readonly #fits = new Map<string, Fit>();
  readonly #probing = new Set<string>();
  /** Probing tasks whose probe ran on past its time: ms per item at least. */
  readonly #atLeast = new Map<string, number>();
  /** The most characters of JSON an item's result of each task wrote, on average over a chunk. */
  readonly #resultChars = new Map<string, number>();
  #workers = 1;

  constructor(chunkTime: number, maxChunk: number) {
    this.#chunkTime = chunkTime;
    this.#maxChunk = maxChunk;
  }

  /**
   * The size of the next chunk of `task`, with `remaining` items waiting and
   * `nodes` nodes seen; 0 means "wait for the probe's report".
   */
  size(task: string, remaining: number, nodes: number): number {
    const fit = this.#fits.get(task);
    if (fit === undefined) {
      if (!this.#probing.has(task)) {
        this.#probing.add(task);
        return Math.min(remaining, PROBE_ITEMS);
      }
      const atLeast = this.#atLeast.get(task);
      if (atLeast === undefined) return 0;
      const byTime = Math.floor((this.#chunkTime * this.#workers) / atLeast);
      return Math.max(1, Math.min(remaining, PROBE_ITEMS, byTime));
    }
    const [fixed, perItem] = fit.line();
    const work = Math.max(this.#chunkTime - fixed, this.#chunkTime / 2);
    const byTime = Math.max(1, Math.floor((work * this.#workers) / Math.max(perItem, 1e-6)));
    const chars = this.#resultChars.get(task) ?? 0;
    const byResults = chars > 0 ? Math.max(1, Math.floor(RESULT_SHARE / chars)) : Infinity;
    const full = Math.min(this.#maxChunk, byTime, byResults);
    // The tail is shared evenly across nodes, but not cut below a quarter
    // of a full chunk, where fixed costs would dominate.
    const share = Math.max(Math.ceil(remaining / Math.max(nodes, 1)), Math.ceil(full / 4));
    return Math.max(1, Math.min(remaining, full, share));
  }

  /**
   * A chunk of `count` items of `task` has run `ms` ms on a node, no report
   * yet, while the task probes: each item takes at least `ms / count` (on
   * one worker; more workers would only raise that).
   */
  stillRunning(task: string, count: number, ms: number): void {
    if (!this.#probing.has(task) || !(count > 0) || !(ms > 0)) return;
    this.#atLeast.set(task, Math.max(this.#atLeast.get(task) ?? 0, ms / count));
  }

  /**
   * A node ran `count` items of `task` in `ms` ms on `workers` workers, and
   * their results wrote `chars` characters of JSON (unknown from a node
   * before 2026-12-07).
   */
  report(task: string, count: number, ms: number, workers: number, chars?: number): void {
    this.#probing.delete(task);
    this.#atLeast.delete(task);
    if (!(count > 0) || !(ms >= 0) || !(workers >= 1)) return;
    if (typeof chars === "number" && chars > 0) {
      this.#resultChars.set(task, Math.max(this.#resultChars.get(task) ?? 0, chars / count));
    }
    this.#workers = workers;
    let fit = this.#fits.get(task);
    if (fit === undefined) this.#fits.set(task, fit = new Fit());
    fit.add(count / Math.min(workers, count), ms);
  }

  /** A chunk of `task` ended without a report: a waiting probe stops waiting. */
  forget(task: string): void {
    this.#atLeast.delete(task);
    if (this.#probing.delete(task) && !this.#fits.has(task)) {
      const fit = new Fit();
      fit.add(1, FALLBACK_ITEM_MS);
      this.#fits.set(task, fit);
    }
  }

  /**
   * A chunk of `task` was taken back before any node ran it: a probe out is
   * no longer awaited, and the next chunk of the task probes again.
   */
  withdrawn(task: string): void {
    this.#probing.delete(task);
    this.#atLeast.delete(task);
  }

  /** Whether `task` has a probe out. */
  probing(task: string): boolean {
    return this.#probing.has(task);
  }
}
