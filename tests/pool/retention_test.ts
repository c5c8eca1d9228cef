/**
 * What a pool keeps once a job has ended: neither thread holds its
 * arguments, its callback or its moved buffers (found by a hostile tester
 * with weak references and forced collections; each case kept one job's
 * worth for as long as the worker lived, or until a later job came).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { TaskTimeoutError, WorkerCrashedError } from "../../src/errors.ts";
import { jobContext } from "../../src/worker/mod.ts";
import { transfer } from "../../src/protocol/codec.ts";

/** A full collection, where the runtime offers one to scripts (Deno: `--v8-flags=--expose-gc`). */
const gc = (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc.bind(null, true) ??
  (globalThis as { gc?: () => void }).gc;
const skip = gc ? false : "needs a forced collection: deno test --v8-flags=--expose-gc";

/**
 * The pause before the `i`th look: none for the first few, then 5 ms, then
 * 50 ms, about a second in all. Bun scans the stack conservatively (a value a
 * recent turn held may stay for a few), and a timed-out job is held until
 * its worker's late answer, which a loaded machine (a full `bun test` run)
 * delays; a value truly kept stays past them all.
 */
const pauseBefore = (i: number) => i < 4 ? 0 : i < 20 ? 5 : 50;
const LOOKS = 40;

/** Whether `ref` still reaches its object after collections a pause apart. */
async function stillHeld(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < LOOKS; i++) {
    await new Promise((resolve) => setTimeout(resolve, pauseBefore(i)));
    gc!();
    if (i >= 3 && ref.deref() === undefined) return false;
  }
  return true;
}

/**
 * A worker's answer to the same question about what the last job left in
 * `globalThis.kept` (a task module-free check: inline tasks run in the
 * worker's global scope; it cannot reach `pauseBefore`, so spells it out).
 */
function keptInWorker(): Promise<boolean> {
  const g = globalThis as {
    kept?: WeakRef<object>;
    gc?: () => void;
    Bun?: { gc(full: boolean): void };
  };
  const collect = () => g.Bun ? g.Bun.gc(true) : g.gc!();
  return (async () => {
    for (let i = 0; i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, i < 4 ? 0 : i < 20 ? 5 : 50));
      collect();
      if (i >= 3 && g.kept?.deref() === undefined) return false;
    }
    return true;
  })();
}

/**
 * Sends a job of a fresh argument through `send`, keeping only a weak
 * reference to it: made here, not in the test's async frame (V8 keeps what
 * an async function's registers held across its awaits). `ended` is the
 * job's error, kept as a user may keep it (`pool.failed` does).
 */
function sent(send: (argument: { data: number[] }) => Promise<unknown>): {
  ended: Promise<unknown>;
  ref: WeakRef<object>;
} {
  const argument = { data: [1, 2, 3] };
  return { ended: send(argument).catch((error) => error), ref: new WeakRef(argument) };
}

describe("Pool: nothing of a job is kept once it has ended", { skip }, () => {
  it("a worker lets go of a moved buffer a job took", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const length = await pool.exec((buffer: ArrayBuffer) => {
      (globalThis as { kept?: WeakRef<object> }).kept = new WeakRef(buffer);
      return buffer.byteLength;
    }, [transfer(new ArrayBuffer(1 << 20))]);
    assert.equal(length, 1 << 20);
    assert.equal(await pool.run(keptInWorker), false, "the worker still holds the buffer");
  });

  it("a worker lets go of the arguments of a job of two, and of a timed one", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const keep = (value: { n: number }, _more?: number) => {
      (globalThis as { kept?: WeakRef<object> }).kept = new WeakRef(value);
      return value.n;
    };
    assert.equal(await pool.run(keep, { n: 1 }, 2), 1);
    assert.equal(await pool.run(keptInWorker), false, "kept after run(task, a, b)");
    assert.equal(await pool.exec(keep, [{ n: 3 }], { timeout: 60_000 }), 3);
    assert.equal(await pool.run(keptInWorker), false, "kept after a timed exec()");
  });

  it("the pool lets go of a job that timed out, its worker kept", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const { ended, ref } = sent(
      (argument) =>
        pool.exec(
          async (value: { data: number[] }) => {
            const { signal } = jobContext();
            await new Promise((resolve) => signal.addEventListener("abort", resolve));
            return value.data.length;
          },
          [argument],
          { timeout: 20 },
        ),
    );
    const error = await ended; // kept all along, as pool.failed would
    assert.ok(error instanceof TaskTimeoutError);
    assert.equal(await pool.run(() => "alive"), "alive");
    assert.equal(pool.stats().workers.started, 1);
    assert.equal(await stillHeld(ref), false, "the pool still holds the job's argument");
    assert.match(error.message, /timed out after 20 ms/);
  });

  it("the pool lets go of a submitDone() callback once its jobs have ended", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    let results: number[] | null = [];
    let callback: ((n: number) => void) | null = (n: number) => results!.push(n);
    const ref = new WeakRef(callback);
    pool.submitDone((n: number) => n * 2, callback, 21);
    callback = null;
    await pool.wait();
    assert.deepEqual(results, [42]);
    results = null;
    assert.equal(await stillHeld(ref), false, "the pool still holds the callback");
  });

  it("the pool lets go of the job a crashed worker was running", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const { ended, ref } = sent((argument) =>
      pool.run((_value: { data: number[] }) => {
        setTimeout(() => {
          throw new Error("dies outside its job");
        });
        return new Promise(() => {});
      }, argument)
    );
    const error = await ended;
    assert.ok(error instanceof WorkerCrashedError);
    assert.equal(await stillHeld(ref), false, "the pool still holds the job's argument");
    assert.match(error.message, /died while running job/); // the error is kept all along
  });
});
