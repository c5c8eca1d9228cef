/**
 * How many items go in the next chunk of a task: a pure decision from what
 * nodes reported about earlier chunks, as the local pool sizes its batches.
 *
 * - Nothing known yet about a task: one small probe chunk goes out, and the
 *   rest of that task's items wait for its report (one round trip).
 * - Known: a chunk holds about `chunkTime` ms of work for one node's workers,
 *   at most `maxChunk` items, and no more than an even share of what is left
 *   across the nodes seen, so the last chunks do not leave nodes idle.
 *
 * @module
 */

/** Items in the probe chunk of a task not measured yet. */
export const PROBE_ITEMS = 16;

/** The estimate when a probe ends without a measurement (e.g. its chunk failed). */
const FALLBACK_ITEM_MS = 1;

/** Chunk sizes from measured run time. */
export class ChunkSizer {
  readonly #chunkTime: number;
  readonly #maxChunk: number;
  /** Milliseconds of one worker's time per item, by task. */
  readonly #itemMs = new Map<string, number>();
  /** How many items the estimate stands on (capped, so it keeps adapting). */
  readonly #weight = new Map<string, number>();
  readonly #probing = new Set<string>();
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
    const itemMs = this.#itemMs.get(task);
    if (itemMs === undefined) {
      if (this.#probing.has(task)) return 0;
      this.#probing.add(task);
      return Math.min(remaining, PROBE_ITEMS);
    }
    const byTime = Math.floor((this.#chunkTime * this.#workers) / Math.max(itemMs, 1e-6));
    const share = Math.ceil(remaining / Math.max(nodes, 1));
    return Math.max(1, Math.min(remaining, this.#maxChunk, byTime, share));
  }

  /** A node ran `count` items of `task` in `ms` ms on `workers` workers. */
  report(task: string, count: number, ms: number, workers: number): void {
    this.#probing.delete(task);
    if (!(count > 0) || !(ms >= 0) || !(workers >= 1)) return;
    this.#workers = workers;
    const itemMs = (ms * Math.min(workers, count)) / count;
    // Weighted by items: a big chunk's measure outweighs a small probe's,
    // whose fixed costs make items look slower than they are.
    const old = this.#itemMs.get(task) ?? 0;
    const weight = Math.min(this.#weight.get(task) ?? 0, 3 * count);
    this.#itemMs.set(task, (old * weight + itemMs * count) / (weight + count));
    this.#weight.set(task, weight + count);
  }

  /** A chunk of `task` ended without a report: a waiting probe stops waiting. */
  forget(task: string): void {
    if (this.#probing.delete(task) && !this.#itemMs.has(task)) {
      this.#itemMs.set(task, FALLBACK_ITEM_MS);
    }
  }

  /** Whether `task` has a probe out. */
  probing(task: string): boolean {
    return this.#probing.has(task);
  }
}
