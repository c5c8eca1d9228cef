/**
 * Lone jobs on the workers' shared lanes (`protocol/lane.ts`), the pool's
 * side: when the queue holds one job expected to take less than the spin,
 * offer it to an idle worker that listens, spin for its answer, and read it
 * as a one-answer `results` message would be read, with no message either
 * way. An answer not back within `SPIN_MS` comes as a message instead.
 *
 * @module
 */

import { SPIN_MS } from "../protocol/messages.ts";
import { Tag } from "../protocol/result_batch.ts";
import type { Answers } from "./answers.ts";
import type { BatchSender } from "./batch_sender.ts";
import type { JobQueue } from "./job_queue.ts";
import type { WorkerSlot } from "./worker_slot.ts";
import type { Workers } from "./workers.ts";

/** Sends one pool's lone jobs on its workers' shared lanes. */
export class LaneTrips {
  readonly #queue: JobQueue;
  readonly #answers: Answers;
  readonly #sender: BatchSender;
  readonly #workers: Workers;
  /** The answer read from a lane, as a one-answer result batch. */
  readonly #answer: unknown[] = [Tag.RETURN, undefined];

  constructor(queue: JobQueue, answers: Answers, sender: BatchSender, workers: Workers) {
    this.#queue = queue;
    this.#answers = answers;
    this.#sender = sender;
    this.#workers = workers;
  }

  /**
   * Sends the queue's lone job on a lane if it is expected to be quick and a
   * worker takes it; returns whether one did (it answered, or will answer
   * by message). False: send it as a message.
   */
  send(): boolean {
    const front = this.#queue.front()!;
    if (!(this.#answers.msFor(front.task) < SPIN_MS / 2)) return false;
    for (const slot of this.#workers.slots) {
      if (!takesLaneJob(slot, front.task) || !this.#sender.offerLane(slot)) continue;
      const lane = slot.lane!;
      if (lane.awaitAnswer(SPIN_MS)) {
        const answer = this.#answer;
        answer[1] = lane.answer();
        this.#answers.read(slot, answer, 1, lane.answerMs);
        answer[1] = undefined;
        if (slot.inflightItems === 0) this.#workers.idle(slot);
      }
      return true;
    }
    return false;
  }
}

/** Whether `slot` may take a lane job of task `task` now: idle, ready, knowing the task, listening. */
function takesLaneJob(slot: WorkerSlot, task: number): boolean {
  return slot.inflightItems === 0 && slot.ready && slot.usable && slot.knows(task) &&
    slot.lane!.listening;
}
