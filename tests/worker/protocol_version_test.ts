/** PROTOCOL_VERSION is checked at worker start, on both sides. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { PROTOCOL_VERSION } from "../../src/protocol/messages.ts";
import { defaultWorkerUrl } from "../../src/pool/worker_url.ts";
import { fixture } from "../_util.ts";

describe("protocol version", () => {
  it("a worker refuses an init of another version with a fatal message naming both", async () => {
    const worker = new Worker(defaultWorkerUrl(), { type: "module" });
    try {
      const answer = new Promise<{ type: string; error: { message: string } }>((resolve) => {
        worker.onmessage = (event) => resolve(event.data);
      });
      worker.postMessage({
        type: "init",
        version: PROTOCOL_VERSION + 1,
        name: "old",
        module: null,
        status: new SharedArrayBuffer(64),
        concurrency: 1,
        workerData: undefined,
        maxMemory: 0,
      });
      const message = await answer;
      assert.equal(message.type, "fatal");
      assert.match(
        message.error.message,
        new RegExp(
          `pool speaks fastpool protocol version ${
            PROTOCOL_VERSION + 1
          }, this worker ${PROTOCOL_VERSION}`,
        ),
      );
    } finally {
      worker.terminate();
    }
  });

  it("a pool whose workerUrl answers with another version fails its jobs with a clear cause", async () => {
    await using pool = new Pool({ maxChildren: 1, workerUrl: fixture("other_version_worker.ts") });
    await assert.rejects(pool.run(() => 1), (error: Error) => {
      assert.match(error.message, /workers failed to start 3 times in a row/);
      assert.match(
        (error.cause as Error).message,
        new RegExp(`it speaks fastpool protocol version 0, this pool ${PROTOCOL_VERSION}`),
      );
      return true;
    });
    assert.equal(await pool.run(() => 1).catch(() => "failed again"), "failed again");
  });

  it("a worker that answers jobs it does not hold is replaced as crashed; the program goes on", async () => {
    await using pool = new Pool({ maxChildren: 1, workerUrl: fixture("extra_answers_worker.ts") });
    const crashed = new Promise<Error>((resolve) => {
      pool.addEventListener("error", (event) => resolve(event.detail.error as Error), {
        once: true,
      });
    });
    assert.equal(await pool.run(() => 1), "first answer");
    const error = await crashed;
    assert.match(error.message, /ThreadPool-1 sent a message the pool cannot read/);
    assert.ok(error.cause instanceof TypeError, String(error.cause));
    assert.equal(pool.stats().workers.crashed, 1);
    assert.equal(await pool.run(() => 2), "first answer", "a new worker took its place");
  });
});
