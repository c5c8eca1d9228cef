/**
 * The shared lane without a worker: both ends of `protocol/lane.ts` on one
 * thread, over one buffer, through every hand-off the module doc draws.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fitsLane, Lane, LANE_MAX_ARGS, LANE_MAX_STRING } from "../../src/protocol/lane.ts";
import { type OutgoingJob, TIMED } from "../../src/protocol/job_batch.ts";
import { Mode } from "../../src/protocol/messages.ts";
import { outgoingJob } from "./_jobs.ts";

/** A job of id 7, task 3 (numbers the round trips below look for). */
function job(fields: Partial<OutgoingJob>): OutgoingJob {
  return outgoingJob({ id: 7, task: 3, ...fields });
}

/** The pool's end and the worker's end of one lane. */
function pair(): { pool: Lane; worker: Lane } {
  const pool = new Lane();
  return { pool, worker: new Lane(pool.buffer) };
}

describe("shared lane", () => {
  it("carries a request and its answer across both ends, values intact", () => {
    const { pool, worker } = pair();
    const long = "x".repeat(LANE_MAX_STRING);
    const values = [
      [1, -0, NaN, 2 ** 40],
      [Infinity, 0.5, -7, 2 ** 31],
      ["", "héllo ✓ 😀", long, null],
      [true, false, undefined, null],
    ];
    for (const args of values) {
      worker.listen();
      assert.equal(pool.listening, true);
      assert.equal(pool.offer(job({ args, id: 2 ** 33 + 5 })), true);
      assert.equal(worker.requested, true);
      const entry = worker.takeRequest([]);
      assert.deepEqual(entry, [2 ** 33 + 5, 3, Mode.CALL, args.length, ...args]);
      assert.ok(Object.is(entry[5], args[1]), "-0 stays -0");
      assert.equal(pool.listening, false, "a worker that took a request no longer listens");
      for (const answer of args) {
        assert.equal(worker.answerWith(answer, 0.25), true);
        assert.equal(pool.awaitAnswer(0), true);
        assert.ok(Object.is(pool.answer(), answer));
        assert.equal(pool.answerMs, 0.25);
        // It answered, so it listens again; each answer here needs a request first.
        assert.equal(pool.offer(job({ args: [] })), true);
        worker.takeRequest([]);
      }
      worker.answerByMessage();
      assert.equal(pool.awaitAnswer(0), false);
    }
  });

  it("gives integers back as integers, other numbers as they were", () => {
    const { pool, worker } = pair();
    worker.listen();
    assert.equal(pool.offer(job({ mode: Mode.MAP, args: [9, 41, 8], offset: 1 })), true);
    const entry = worker.takeRequest([]);
    assert.deepEqual(entry, [7, 3, Mode.MAP, 1, 41], "a one-item map entry carries its item");
    assert.ok(Number.isInteger(entry[4]));
    assert.equal(worker.answerWith(1.5, 0), true);
    assert.equal(pool.awaitAnswer(0), true);
    assert.equal(pool.answer(), 1.5);
  });

  it("marks the request of a job with a time limit as a batch does (TIMED)", () => {
    const { pool, worker } = pair();
    worker.listen();
    assert.equal(pool.offer(job({ args: [1], timeout: 50 })), true);
    assert.deepEqual(worker.takeRequest([]), [7, 3, Mode.CALL + TIMED, 1, 1]);
  });

  it("refuses what does not fit, and offers nothing to a worker that does not listen", () => {
    const { pool, worker } = pair();
    assert.equal(pool.offer(job({ args: [1] })), false, "not listening");
    worker.listen();
    const refused: Partial<OutgoingJob>[] = [
      { args: [{}] },
      { args: [[1]] },
      { args: [1n] },
      { args: ["x".repeat(LANE_MAX_STRING + 1)] },
      { args: Array(LANE_MAX_ARGS + 1).fill(0) },
      { args: [Symbol("s")] },
      { mode: Mode.MAP, args: [1, 2], count: 2 },
      { mode: Mode.STREAM, args: [1] },
      { args: [1], transfer: [] },
    ];
    for (const fields of refused) assert.equal(pool.offer(job(fields)), false);
    assert.equal(worker.requested, false, "a refused offer leaves no request");
    assert.equal(pool.offer(job({ args: Array(LANE_MAX_ARGS).fill(0) })), true);
    assert.equal(fitsLane(() => 1), false);
    assert.equal(fitsLane(null), true);
  });

  it("a worker that stops listening after a request came takes it; before, it shuts the lane", () => {
    const { pool, worker } = pair();
    worker.listen();
    assert.equal(worker.stopListening(), true);
    assert.equal(pool.offer(job({ args: [1] })), false, "shut");
    worker.listen();
    assert.equal(pool.offer(job({ args: [1] })), true);
    worker.listen(); // listening again (its spin starts over) keeps the request
    assert.equal(worker.requested, true);
    assert.equal(worker.stopListening(), false, "a request came: take it");
    assert.deepEqual(worker.takeRequest([]), [7, 3, Mode.CALL, 1, 1]);
  });

  it("a pool that stops waiting gets the answer by message, never twice", () => {
    const { pool, worker } = pair();
    worker.listen();
    assert.equal(pool.offer(job({ args: [1] })), true);
    worker.takeRequest([]);
    assert.equal(pool.awaitAnswer(0), false, "no answer within the spin");
    assert.equal(worker.answerWith(2, 0), false, "the answer must go as a message");
    assert.equal(pool.awaitAnswer(0), false);
  });

  it("an answer that does not fit goes by message, and the pool stops waiting at once", () => {
    const { pool, worker } = pair();
    worker.listen();
    assert.equal(pool.offer(job({ args: [1] })), true);
    worker.takeRequest([]);
    assert.equal(worker.answerWith({ big: true }, 0), false);
    const started = performance.now();
    assert.equal(pool.awaitAnswer(1_000), false);
    assert.ok(performance.now() - started < 500, "it did not spin for its whole bound");
  });
});
