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
});
