/**
 * A worker the pool has ended runs nothing more, even if it goes on: Deno's
 * `terminate()` of a worker still starting lets it start and read what it
 * was sent. Driven here by hand with a raw worker, which the test ends as
 * `WorkerSlot.terminate()` does (`Status.ENDED`, and the `STARTED` count
 * taken and closed) between two jobs of one batch.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeJob } from "../../src/protocol/job_batch.ts";
import { PROTOCOL_VERSION, Status } from "../../src/protocol/messages.ts";
import { defaultWorkerUrl } from "../../src/pool/worker_url.ts";
import { endStarted } from "../../src/pool/worker_slot.ts";
import { outgoingJob } from "../protocol/_jobs.ts";

/** Resolves once `memory[word]` is no longer `from` (woken by `Atomics.notify`). */
async function changed(memory: Int32Array, word: number, from: number): Promise<void> {
  while (Atomics.load(memory, word) === from) {
    const wait = Atomics.waitAsync(memory, word, from);
    if (wait.async) await wait.value;
  }
}

describe("a worker the pool ended", () => {
  it("runs no job it reaches after the pool ended it; the count the pool took holds every job that ran", async () => {
    const worker = new Worker(defaultWorkerUrl(), { type: "module" });
    try {
      const ready = new Promise<void>((resolve) => {
        worker.onmessage = (event) => {
          if (event.data?.type === "ready") resolve();
        };
      });
      const status = new Int32Array(new SharedArrayBuffer(4 * Status.WORDS));
      worker.postMessage({
        type: "init",
        version: PROTOCOL_VERSION,
        key: 1,
        name: "ended",
        module: null,
        status: status.buffer,
        lane: null,
        concurrency: 1,
        streamWindow: 16,
        workerData: undefined,
        maxMemory: 0,
        startTimeout: Infinity,
      });
      await ready;
      // Word 0: the first job started; 1: lets it go on; 2: the second job ran; 3: the first returns.
      const memory = new Int32Array(new SharedArrayBuffer(16));
      const jobs: unknown[] = [];
      writeJob(jobs, [], outgoingJob({ id: 1, task: 0, args: [memory] }));
      writeJob(jobs, [], outgoingJob({ id: 2, task: 1, args: [memory] }));
      worker.postMessage({
        type: "run",
        jobs,
        tasks: [
          [0, {
            kind: "source",
            source:
              "(m) => { Atomics.store(m, 0, 1); Atomics.notify(m, 0); Atomics.wait(m, 1, 0); Atomics.store(m, 3, 1); Atomics.notify(m, 3); }",
          }],
          [1, {
            kind: "source",
            source: "(m) => { Atomics.store(m, 2, 1); Atomics.notify(m, 2); }",
          }],
        ],
        claim: -1,
      });
      await changed(memory, 0, 0); // the first job runs
      // The pool ends the worker, which goes on (as one terminate() has not stopped yet).
      Atomics.store(status, Status.ENDED, 1);
      assert.equal(endStarted(status), 1, "the first job is counted started");
      Atomics.store(memory, 1, 1);
      Atomics.notify(memory, 1);
      await changed(memory, 3, 0); // the first job returns; the second comes next
      // Had the second job run, it would have set word 2 at once, well within this.
      const ran = Atomics.waitAsync(memory, 2, 0, 500);
      assert.equal(ran.async ? await ran.value : ran.value, "timed-out", "the second job ran");
    } finally {
      worker.terminate();
    }
  });
});
