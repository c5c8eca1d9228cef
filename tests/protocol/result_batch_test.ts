/** The result batch without a worker: what a ResultWriter sends, readResults() reads back. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { transfer } from "../../mod.ts";
import { readResults, type ResultVisitor, ResultWriter } from "../../src/protocol/result_batch.ts";
import type { FromWorker } from "../../src/protocol/messages.ts";

type Results = Extract<FromWorker, { type: "results" }>;

/** Flushes `writer` into one message and receives it as the pool would (cloned, moved). */
function send(writer: ResultWriter, ms = 1): { message: Results; moved: Transferable[] } {
  let sent: { message: Results; moved: Transferable[] } | undefined;
  writer.flush(ms, (message, moved) => {
    sent = { message: structuredClone(message as Results, { transfer: moved }), moved };
  });
  return sent!;
}

/** Every visitor call, in order. */
function read(data: unknown[]): unknown[][] {
  const calls: unknown[][] = [];
  const visitor: ResultVisitor = {
    returns: (values, at, n) => calls.push(["returns", Array.from(values).slice(at, at + n)]),
    returned: (value) => calls.push(["returned", value]),
    yielded: (value) => calls.push(["yielded", value]),
    threw: (error) => calls.push(["threw", error]),
    ended: () => calls.push(["ended"]),
    skipped: () => calls.push(["skipped"]),
    later: () => calls.push(["later"]),
    answered: (id, threw, value, ms) => calls.push(["answered", id, threw, value, ms]),
    took: (ms) => calls.push(["took", ms]),
  };
  readResults(data, visitor);
  return calls;
}

describe("result batch", () => {
  it("round-trips every kind of answer in order, counting jobs", () => {
    const writer = new ResultWriter();
    writer.returnedPrimitive(1);
    writer.returnedPrimitive("two");
    writer.returned({ three: 3 });
    writer.returnedPrimitive(null);
    writer.yielded(4);
    writer.ended();
    writer.skipped();
    writer.later();
    writer.threw(new RangeError("five"));
    writer.laterReturned(9, "late", 12.5);
    writer.laterThrew(10, new TypeError("later"), 3);
    const numbers = new Float64Array([6, 7, 8, 0]);
    writer.returnedNumbers(numbers, 3);
    assert.equal(writer.jobs, 4 + 1 + 1 + 1 + 1 + 1 + 3);
    const { message, moved } = send(writer, 2.5);
    assert.equal(message.jobs, 12);
    assert.equal(message.ms, 2.5);
    const calls = read(message.data);
    assert.deepEqual(calls.slice(0, 8), [
      ["returns", [1, "two"]],
      ["returned", { three: 3 }],
      ["returns", [null]],
      ["yielded", 4],
      ["ended"],
      ["skipped"],
      ["later"],
      calls[7],
    ]);
    const thrown = calls[7]![1] as Error;
    assert.ok(thrown instanceof RangeError);
    assert.equal(thrown.message, "five");
    assert.deepEqual(calls[8], ["answered", 9, false, "late", 12.5]);
    const [, id, threw, error, ms] = calls[9]!;
    assert.deepEqual([id, threw, ms], [10, true, 3]);
    assert.ok(error instanceof TypeError);
    assert.deepEqual(calls[10], ["returns", [6, 7, 8]]);
    // The batch holds a thrown error, so the numbers' buffer is copied, not moved.
    assert.deepEqual(moved, []);
  });

  it("times the answer of a job timeNext() named, and no other", () => {
    const writer = new ResultWriter();
    writer.returnedPrimitive(1);
    writer.timeNext();
    const end = performance.now() + 5;
    while (performance.now() < end) {
      // the timed job runs 5 ms
    }
    writer.laterReturned(9, "another job's", 1); // out of order: not the timed job's answer
    writer.returnedPrimitive(2); // its answer: a run of its own, behind its time
    writer.returnedPrimitive(3);
    const called = performance.now();
    writer.timeNext();
    // Went asynchronous: it answers with a time of its own, counted from its call.
    const from = writer.later();
    assert.ok(from >= called && from <= performance.now(), `its call began at ${from}`);
    assert.equal(writer.later(), -1, "no start for a job timeNext() did not name");
    writer.timeNext();
    writer.threw(new Error("timed"));
    const calls = read(send(writer).message.data);
    assert.deepEqual(calls.map((call) => call[0]), [
      "returns",
      "took",
      "answered",
      "returns",
      "took",
      "later",
      "later",
      "took",
      "threw",
    ]);
    assert.ok((calls[1]![1] as number) >= 5, `the timed job's time: ${calls[1]![1]}`);
    assert.deepEqual(calls[3], ["returns", [2, 3]]);
    assert.equal(calls[4]![1], 0, "no time for a job that went LATER");
    assert.ok((calls[7]![1] as number) < (calls[1]![1] as number), "the last job's own time");
  });

  it("carries a timed job's TOOK into the next message when its answer was not written before the flush", () => {
    const writer = new ResultWriter();
    writer.timeNext();
    assert.equal(writer.empty, true, "a TOOK alone says nothing: nothing to send");
    writer.yielded("a");
    assert.deepEqual(read(send(writer).message.data), [["took", 0], ["yielded", "a"]]);
    assert.equal(writer.empty, true);
    const end = performance.now() + 3;
    while (performance.now() < end) {
      // the job runs on
    }
    writer.ended(); // its answer, in the next message, timed from its start
    const calls = read(send(writer).message.data);
    assert.deepEqual(calls.map((call) => call[0]), ["took", "ended"]);
    assert.ok((calls[0]![1] as number) >= 3);
    assert.equal(writer.empty, true);
  });

  it("takes a timed job's lone primitive answer for the lane, its TOOK dropped", () => {
    const writer = new ResultWriter();
    writer.timeNext();
    writer.returnedPrimitive(5);
    let taken: unknown;
    assert.equal(writer.takeLone((value) => (taken = value, true)), true);
    assert.equal(taken, 5);
    assert.equal(writer.empty, true);
  });

  it("moves the numbers' buffer back when nothing in the batch may fail to clone", () => {
    const writer = new ResultWriter();
    const numbers = new Float64Array([1, 2]);
    writer.returnedNumbers(numbers, 2);
    const { moved, message } = send(writer);
    assert.deepEqual(moved, [numbers.buffer]);
    assert.equal(numbers.length, 0); // moved back, not copied
    assert.deepEqual(read(message.data), [["returns", [1, 2]]]);
  });

  it("moves what a task returned with transfer()", () => {
    const writer = new ResultWriter();
    const buffer = new ArrayBuffer(4);
    writer.returned(transfer(buffer));
    const { moved, message } = send(writer);
    assert.deepEqual(moved, [buffer]);
    assert.equal(buffer.byteLength, 0); // moved, not copied
    const [[kind, received]] = read(message.data) as [[string, ArrayBuffer]];
    assert.equal(kind, "returned");
    assert.equal(received.byteLength, 4);
  });

  it("fails only the job whose result cannot be cloned; the rest arrives", () => {
    const writer = new ResultWriter();
    writer.returnedPrimitive(1);
    writer.returned(() => "a function");
    writer.returned("fine");
    const { message } = send(writer);
    const calls = read(message.data);
    assert.deepEqual(calls[0], ["returns", [1]]);
    assert.equal(calls[1]![0], "threw");
    assert.ok(calls[1]![1] instanceof TypeError);
    assert.match(
      (calls[1]![1] as Error).message,
      /Cannot send job result: its result cannot be cloned/,
    );
    assert.deepEqual(calls[2], ["returned", "fine"]);
  });

  it("fails alone a long string a refused post is refused for (Bun, memory short); the rest arrives", () => {
    const writer = new ResultWriter();
    const long = "y".repeat(1 << 20);
    writer.returnedPrimitive(1);
    writer.returnedPrimitive(long);
    writer.returnedPrimitive(3);
    let sent: Results | undefined;
    writer.flush(1, (message) => {
      // A post that cannot copy a long string, as Bun's with its memory capped.
      if ((message as Results).data.some((value) => value === long)) {
        throw new TypeError("Type error");
      }
      sent = structuredClone(message as Results);
    });
    // Before: it rode in a run of returns, never blamed, and the last post's refusal killed the worker.
    const calls = read(sent!.data);
    assert.deepEqual(calls[0], ["returns", [1]]);
    assert.equal(calls[1]![0], "threw");
    assert.match(
      (calls[1]![1] as Error).message,
      /^Cannot send job result: its result, a string of 1048576 characters, was in a results message the runtime refused twice \(TypeError: Type error\)/,
    );
    assert.deepEqual(calls[2], ["returns", [3]]);
  });

  it("fails a generator at a value that cannot be cloned, where it ends; its later values are dropped", () => {
    const writer = new ResultWriter();
    writer.yielded(1);
    writer.yielded(() => "a function");
    writer.yielded(2);
    writer.laterReturned(7, "late", 1); // another job's answer, meanwhile
    writer.yielded(3);
    writer.threw(new RangeError("its own error, after the bad value"));
    writer.returned("next job");
    const { message } = send(writer);
    const calls = read(message.data);
    assert.deepEqual(calls[0], ["yielded", 1]);
    assert.deepEqual(calls[1], ["answered", 7, false, "late", 1]);
    assert.equal(calls[2]![0], "threw");
    assert.ok(calls[2]![1] instanceof TypeError);
    assert.match(
      (calls[2]![1] as Error).message,
      /^Cannot send job result: a value it yielded cannot be cloned \(.+\)$/,
    );
    assert.deepEqual(calls.slice(3), [["returned", "next job"]]);
    assert.equal(message.jobs, 3, "the generator, the late job, the next job");
    assert.equal(writer.generatorFailed, false, "the generator ended in this batch");
  });

  it("fails a generator that goes on after a batch with its bad value once it ends, dropping its values meanwhile", () => {
    const writer = new ResultWriter();
    writer.yielded(1);
    writer.yielded(Symbol("no"));
    const first = send(writer).message;
    assert.deepEqual(read(first.data), [["yielded", 1]]);
    assert.equal(first.jobs, 0, "the generator's job has not ended");
    assert.equal(writer.generatorFailed, true, "its runner stops it");
    writer.yielded(2);
    writer.ended();
    writer.returnedPrimitive(5);
    const second = send(writer).message;
    const calls = read(second.data);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]![0], "threw");
    assert.match((calls[0]![1] as Error).message, /a value it yielded cannot be cloned/);
    assert.deepEqual(calls[1], ["returns", [5]]);
    assert.equal(second.jobs, 2);
    assert.equal(writer.generatorFailed, false);
  });

  it("keeps the places of wire-form values when a failed generator's values are taken out", () => {
    const semaphore = { semaphore: true };
    const wire = { wire: true };
    const writer = new ResultWriter((value) => value === semaphore ? wire : undefined);
    writer.yielded(() => "a function");
    writer.yielded(semaphore);
    writer.laterReturned(4, semaphore, 1);
    writer.ended();
    const { message } = send(writer);
    assert.deepEqual(message.shared!.map((at) => message.data[at]), [wire]);
    const calls = read(message.data);
    assert.deepEqual(calls[0], ["answered", 4, false, wire, 1]);
    assert.equal(calls[1]![0], "threw");
    assert.equal(calls.length, 2);
  });

  it("starts afresh after a flush", () => {
    const writer = new ResultWriter();
    writer.returnedPrimitive(1);
    send(writer);
    assert.equal(writer.empty, true);
    assert.equal(writer.jobs, 0);
    writer.returnedPrimitive(2);
    assert.deepEqual(read(send(writer).message.data), [["returns", [2]]]);
  });

  it("names an unknown tag", () => {
    assert.throws(() => read([99, 0]), { name: "TypeError", message: /unknown tag 99 at index 0/ });
  });

  it("takeLone() hands over a lone primitive return, and leaves anything else to a message", () => {
    const writer = new ResultWriter();
    const taken: unknown[] = [];
    const take = (value: unknown) => {
      taken.push(value);
      return true;
    };
    writer.returnedPrimitive(5);
    assert.equal(writer.takeLone(take), true);
    assert.equal(writer.empty, true);
    assert.equal(writer.jobs, 0);
    writer.returned("six");
    assert.equal(writer.takeLone(take), true);
    assert.deepEqual(taken, [5, "six"]);

    writer.returnedPrimitive(7);
    assert.equal(writer.takeLone(() => false), false, "refused: the batch stays");
    writer.returnedPrimitive(8);
    assert.equal(writer.takeLone(take), false, "two jobs");
    assert.deepEqual(read(send(writer).message.data), [["returns", [7, 8]]]);
    writer.threw(new Error("no"));
    assert.equal(writer.takeLone(take), false, "a throw");
    send(writer);
    writer.returned({ object: true });
    assert.equal(writer.takeLone(take), false, "an object");
    assert.deepEqual(taken, [5, "six"]);
  });
});
