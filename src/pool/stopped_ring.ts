/**
 * The pool's side of a worker's stopped ring (`stoppedAt` in
 * `protocol/messages.ts`): which job each word names, and which word a newly
 * failed job takes.
 *
 * @module
 */

import { laneWord } from "../protocol/messages.ts";

/**
 * How freely a job's mark may give way to another's when the ring is full:
 * `ENDED` (its answer read, or it finished with its answer unread: only a
 * wait it left behind is at stake), `HELD` (it waits behind others on its
 * worker), `RUNS`.
 */
export const Yields = { RUNS: 0, HELD: 1, ENDED: 2 } as const;

/** The pool's view of the words `at` … `at + size - 1` of a worker's status memory. */
export class StoppedRing<J extends { readonly id: number } & object> {
  readonly #status: Int32Array;
  readonly #at: number;
  readonly #countAt: number;
  /**
   * The job each word was last given to (the worker zeroes a word once that
   * job's abort arrives), held weakly: a job gone is one that ended, and its
   * arguments are not kept for the life of the worker.
   */
  readonly #marked: (WeakRef<J> | undefined)[];
  #next = 0;

  /** The ring is words `at` … `at + size - 1`; `countAt` counts those that are not 0. */
  constructor(status: Int32Array, at: number, size: number, countAt: number) {
    this.#status = status;
    this.#at = at;
    this.#countAt = countAt;
    this.#marked = new Array(size).fill(undefined);
  }

  /**
   * Names `job` in a free word. With none free (the worker's thread has not
   * read that many aborts), it takes the word of the job that yields most
   * (`yields`): one that ended, then one held behind others; never a running
   * one's while the ring has more words than the worker has lanes.
   */
  mark(job: J, yields: (job: J) => number): void {
    const word = laneWord(job.id);
    const status = this.#status;
    const marked = this.#marked;
    let taken = -1;
    let most: number = Yields.RUNS;
    for (let i = 0; i < marked.length; i++) {
      if (Atomics.compareExchange(status, this.#at + i, 0, word) === 0) {
        Atomics.add(status, this.#countAt, 1);
        marked[i] = new WeakRef(job);
        return;
      }
      const held = marked[i]?.deref();
      const rank = held === undefined ? Yields.ENDED : yields(held);
      if (rank > most) {
        taken = i;
        most = rank;
      }
    }
    if (taken < 0) taken = this.#next++ % marked.length;
    // The worker zeroes a word only while it still names the old job: it cannot undo this.
    // It may have zeroed it just now (that job's abort arrived): then the word is new again.
    if (Atomics.exchange(status, this.#at + taken, word) === 0) {
      Atomics.add(status, this.#countAt, 1);
    }
    marked[taken] = new WeakRef(job);
  }
}
