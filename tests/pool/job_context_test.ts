/**
 * `jobContext()` in a task (issues 12 and 13): progress to `onProgress` and
 * the `progress` event, the job's signal on abort and timeout, and
 * `abortGrace` keeping or replacing the worker.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import type { PoolEventMap } from "../../src/pool/pool.ts";
import { jobContext } from "../../src/worker/mod.ts";
import { transfer } from "../../src/protocol/codec.ts";
import type * as Tasks from "../fixtures/job_context_tasks.ts";
import { FakeClock } from "../_fake_clock.ts";
import type { Clock } from "../../src/timers/clock.ts";
import { fixture, untilMarked } from "../_util.ts";

const tasks = fixture("job_context_tasks.ts");

/** Shared words a fixture task writes: 0 STARTED, 1 SEEN, 2 DONE, 3 ANSWERED (its answer posted). */
function memory(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(16));
}

/** Resolves with the next event of `type`. */
function next<K extends keyof PoolEventMap>(
  pool: Pool<typeof Tasks>,
  type: K,
): Promise<PoolEventMap[K]> {
  return new Promise((resolve) => pool.addEventListener(type, resolve, { once: true }));
}

describe("jobContext()", () => {
  it("jobContext() throws outside a job, saying what to do", () => {
    assert.throws(() => jobContext(), /called outside a job.*call it inside a task/);
  });

  it("jobContext().progress() reaches onProgress and the progress event, in order", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    const seen: unknown[] = [];
    const events: [number, unknown][] = [];
    pool.addEventListener(
      "progress",
      (event) => events.push([event.detail.id, event.detail.value]),
    );
    const result = await pool.exec("reportEach", [50], { onProgress: (value) => seen.push(value) });
    assert.equal(result, 50);
    const expected = Array.from({ length: 50 }, (_, i) => i);
    assert.deepEqual(seen, expected);
    assert.deepEqual(events.map(([, value]) => value), expected);
    assert.equal(new Set(events.map(([id]) => id)).size, 1);
  });

  it("jobContext().progress(transfer(buffer)) moves the buffer, which arrives whole", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    const seen: unknown[] = [];
    const moved = await pool.exec("reportMoved", [], { onProgress: (value) => seen.push(value) });
    assert.equal(moved, 0);
    assert.deepEqual(seen, [new Uint8Array([1, 2, 3])]);
  });

  it("jobContext().progress() values of a tight loop all arrive, in order, objects among them, before the result", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    const seen: unknown[] = [];
    let settled = false;
    const job = pool.exec("reportMixed", [20_000], {
      onProgress: (value) => {
        assert.equal(settled, false, "a value after the result");
        seen.push(value);
      },
    });
    assert.equal(await job.finally(() => settled = true), 20_000);
    assert.deepEqual(seen.slice(0, 3), [1, { two: 2 }, 3]);
    assert.equal(seen.length, 20_000);
    for (let i = 2; i < seen.length; i++) assert.equal(seen[i], i + 1);
  });

  it("jobContext().progress() sends each value at once, while the task still runs (one that then blocks its thread waiting for it)", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    const memory = new Int32Array(new SharedArrayBuffer(4));
    const answer = await pool.exec("reportThenBlock", [memory], {
      onProgress: (value) => {
        if (value !== "ready") return;
        Atomics.store(memory, 0, 1);
        Atomics.notify(memory, 0);
      },
    });
    assert.equal(answer, "seen");
  });

  it("jobContext() kept across awaits reports in order, with the job's id", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    const ids: number[] = [];
    const values: unknown[] = [];
    pool.addEventListener("progress", (event) => {
      ids.push(event.detail.id);
      values.push(event.detail.value);
    });
    const id = pool.submit("reportAsync", 5);
    await pool.wait();
    assert.deepEqual(values, [0, 1, 2, 3, 4].map((step) => ({ step })));
    assert.deepEqual(ids, [id, id, id, id, id]);
    assert.deepEqual([...pool.done], [5]);
  });

  it("jobContext().id is the job's id, also for map items and numbers", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, resultId: true });
    const first = pool.submit("idOf");
    pool.map(task(), Array.from({ length: 40 }, (_, i) => i));
    await pool.wait();
    for (const [id, result] of pool.done as Iterable<[number, number]>) assert.equal(result, id);
    assert.equal(pool.done.length, 41);
    assert.equal((pool.done.shift() as [number, number])[0], first);
    function task() {
      // An inline task over numbers (the Float64Array fast path): the global jobContext.
      return (_n: number) =>
        (globalThis as unknown as { jobContext(): { id: number } }).jobContext().id;
    }
  });

  it("jobContext() in a stream()'s synchronous generator gives its own context at every step, also after waiting for credit", async () => {
    // A window of 4: the worker waits for credit every 4 values. Before, jobContext() threw
    // from the first wait on (in a window of 2,048 by default, from value 2,049).
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, streamWindow: 4 });
    const seen: string[] = [];
    for await (const value of pool.stream("contextEachStep", 20)) seen.push(value);
    assert.equal(seen.length, 20);
    assert.match(seen[0]!, /^\d+:true$/);
    assert.deepEqual(new Set(seen), new Set([seen[0]]), "one id and one signal at every step");
  });

  it("jobContext() after the task's first await throws, saying why", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    await assert.rejects(pool.run("contextAfterAwait"), /outside a job.*before its first await/);
  });

  it("jobContext() in a microtask a map item left behind throws, for numbers and other values", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    const numbers = Array.from({ length: 1000 }, (_, i) => i);
    for (const items of [numbers, numbers.map((n) => ({ n }))]) {
      pool.map("leaveMicrotask", items);
      await pool.wait();
      assert.equal(pool.done.length, 1000);
      assert.equal(pool.done.at(999), 999);
      // The next job runs on the same worker, after that microtask.
      assert.equal(await pool.run("leftOverOutcome"), "threw");
      pool.done.clear();
    }
  });

  it("jobContext() after the first await throws with several jobs per worker too", async () => {
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      concurrentTasksPerWorker: 4,
      module: tasks,
    });
    pool.map("contextAfterAwait", [undefined, undefined]);
    await pool.wait();
    assert.deepEqual([...pool.done], []);
    assert.equal(pool.failed.length, 2);
    for (const error of pool.failed) {
      assert.match((error as Error).message, /outside a job.*before its first await/);
    }
  });

  it("jobContext().progress() of a value that cannot be cloned throws in the task", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    await assert.rejects(pool.run("reportFunction"), (error: Error) => {
      assert.equal(error.name, "TypeError");
      assert.match(error.message, /Cannot send progress of job \d+: the value cannot be cloned/);
      return true;
    });
    assert.equal(await pool.run("idOf") > 0, true);
  });

  it("progress sent after the job returned is dropped", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
    const values: unknown[] = [];
    pool.addEventListener("progress", (event) => values.push(event.detail.value));
    const shared = memory();
    const seen: unknown[] = [];
    assert.equal(
      await pool.exec("reportAfterReturn", [shared], { onProgress: (v) => seen.push(v) }),
      "returned",
    );
    await untilMarked(shared, 2);
    await pool.run("idOf"); // a round trip after the late call
    assert.deepEqual(values, []);
    assert.deepEqual(seen, []);
  });

  it("an onProgress or progress listener that throws is reported, and the job goes on", async () => {
    const reported: unknown[] = [];
    const global = globalThis as { reportError?: ((error: unknown) => void) | undefined };
    const original = global.reportError;
    global.reportError = (error) => reported.push(error);
    try {
      await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks });
      pool.addEventListener("progress", () => {
        throw new Error("listener broke");
      });
      const result = await pool.exec("reportEach", [2], {
        onProgress: () => {
          throw new Error("onProgress broke");
        },
      });
      assert.equal(result, 2);
      assert.equal(await pool.run("idOf") > 0, true);
    } finally {
      global.reportError = original;
    }
    assert.equal(reported.length, 4);
    assert.deepEqual(
      reported.map((error) => (error as Error).message).sort(),
      ["listener broke", "listener broke", "onProgress broke", "onProgress broke"],
    );
  });

  it("exec() checks onProgress and the pool checks abortGrace", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    await assert.rejects(
      pool.exec((n: number) => n, [1], { onProgress: 1 as never }),
      { name: "TypeError", message: /"onProgress" must be a function/ },
    );
    assert.throws(() => new Pool({ abortGrace: -1 }), RangeError);
    assert.throws(() => new Pool({ abortGrace: "1" as never }), TypeError);
    assert.throws(() => new Pool({ grace: 1 } as never), /did you mean "abortGrace"/);
  });
});

describe("jobContext().signal and abortGrace", () => {
  it("exec() signal: the promise rejects at once, the task sees the signal, and the worker is kept", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, abortGrace: 5_000 });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const before = await pool.run("workerName");
    const shared = memory();
    const controller = new AbortController();
    const progress: unknown[] = [];
    const job = pool.exec("honourSignal", [shared], {
      signal: controller.signal,
      onProgress: (value) => progress.push(value),
    });
    await untilMarked(shared, 0);
    const reason = new DOMException("no longer needed", "AbortError");
    controller.abort(reason);
    await assert.rejects(job, (error) => error === reason);
    assert.equal(await untilMarked(shared, 1), 2); // an AbortError
    await untilMarked(shared, 2);
    assert.equal(await pool.run("workerName"), before);
    assert.deepEqual(progress, []); // "after abort" came after the job ended
    assert.deepEqual(exits, []);
  });

  it("exec() signal with a reason that cannot be cloned, or read in a worker: the task still sees its signal, and the worker is kept", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, abortGrace: 5_000 });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const before = await pool.run("workerName");
    // A reason nested 3,300 levels deep: Deno's worker could not read it (the task was never
    // told, and its worker was replaced after abortGrace, with the jobs beside it).
    let deep: unknown = null;
    for (let i = 0; i < 3_300; i++) deep = { next: deep };
    for (const reason of [Symbol("stop"), { why: "stop", toString: () => "stop" }, deep]) {
      const shared = memory();
      const controller = new AbortController();
      const job = pool.exec("honourSignal", [shared], { signal: controller.signal });
      await untilMarked(shared, 0);
      controller.abort(reason);
      await assert.rejects(job, (error) => error === reason);
      assert.equal(await untilMarked(shared, 1), 3, "its signal aborted, with a stand-in reason");
      await untilMarked(shared, 2);
    }
    assert.equal(await pool.run("workerName"), before);
    assert.deepEqual(exits, []);
  });

  it("exec() signal with a reason whose fields cannot be read: the task's reason says it is the abort reason", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, abortGrace: 5_000 });
    const shared = memory();
    const controller = new AbortController();
    const job = pool.exec("keepReason", [shared], { signal: controller.signal });
    await untilMarked(shared, 0);
    const reason = new Error("stop");
    Object.defineProperty(reason, "cause", {
      get() {
        throw new RangeError("no cause");
      },
    });
    controller.abort(reason);
    await assert.rejects(job, (error) => error === reason);
    // Before: "Cannot read the error the task threw", though the task threw nothing.
    assert.equal(
      await pool.run("lastAbortReason"),
      'Cannot read the abort reason: reading "cause" threw RangeError: no cause (its message: stop)',
    );
  });

  it("exec() timeout: the task sees a TaskTimeoutError reason and keeps its worker", async () => {
    // A fake clock: the timeout passes once the task runs, never before it starts.
    const clock = new FakeClock();
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      abortGrace: 5_000,
      clock,
    });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const before = await pool.run("workerName");
    const shared = memory();
    const job = pool.exec("honourSignal", [shared], { timeout: 20 });
    await untilMarked(shared, 0);
    clock.tick(20);
    await assert.rejects(job, { name: "TaskTimeoutError" });
    assert.equal(await untilMarked(shared, 1), 1);
    assert.equal(await pool.run("workerName"), before);
    assert.deepEqual(exits, []);
  });

  it("a progress value after the job's timeout ends the job, though this thread's timers are held back", async () => {
    // Deno reads a worker's queued messages ahead of timers: a task calling
    // progress() in a loop held back its own timeout by seconds. A clock
    // whose timers never run stands for this thread, too busy for them.
    let now = 0;
    let ids = 0;
    const held: Clock = { now: () => now, setTimer: () => ++ids, clearTimer() {} };
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      abortGrace: 5_000,
      clock: held,
    });
    await pool.run("workerName");
    const shared = memory();
    const seen: unknown[] = [];
    const job = pool.exec("reportWaitReport", [shared], {
      timeout: 20,
      onProgress(value) {
        seen.push(value);
        now += 50; // its time passes, then it reports again
        Atomics.store(shared, 0, 1);
        Atomics.notify(shared, 0);
      },
    });
    await assert.rejects(job, { name: "TaskTimeoutError" });
    assert.deepEqual(seen, ["first"]);
    Atomics.store(shared, 1, 1); // the task may end
    Atomics.notify(shared, 1);
  });

  it("taskTimeout: the task sees its signal and keeps its worker", async () => {
    const clock = new FakeClock();
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      taskTimeout: 20,
      abortGrace: 5_000,
      clock,
    });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const before = await pool.run("workerName");
    const shared = memory();
    const job = pool.run("honourSignal", shared);
    await untilMarked(shared, 0);
    clock.tick(20);
    await assert.rejects(job, { name: "TaskTimeoutError" });
    assert.equal(await untilMarked(shared, 1), 1);
    assert.equal(await pool.run("workerName"), before);
    assert.deepEqual(exits, []);
  });

  it("a task that ignores its signal past abortGrace has its worker replaced", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, abortGrace: 30 });
    const before = await pool.run("workerName");
    const shared = memory();
    const controller = new AbortController();
    const job = pool.exec("ignoreSignal", [shared], { signal: controller.signal });
    await untilMarked(shared, 0);
    const exit = next(pool, "workerexit");
    controller.abort(new Error("stop"));
    await assert.rejects(job, /stop/);
    assert.equal(await untilMarked(shared, 1), 3);
    assert.equal((await exit).detail.reason, "abort");
    assert.notEqual(await pool.run("workerName"), before);
  });

  it("a task that ends in its grace keeps its worker, though this thread was too busy to read its answer in time", async () => {
    // Deno runs a timer that is due before a message that waits: the grace's
    // end came first, and the worker was replaced, failing the job beside.
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      abortGrace: 30,
      concurrentTasksPerWorker: 2,
    });
    const before = await pool.run("workerName");
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const gate = memory();
    const beside = pool.exec("waitForGate", [gate]);
    const shared = memory();
    const controller = new AbortController();
    const job = pool.exec("honourSignal", [shared], { signal: controller.signal });
    await untilMarked(shared, 0);
    controller.abort(new Error("stop"));
    // Busy past the grace, while the task ends at once and posts its answer
    // (word 3: posted by then); then the grace's end is overdue, unread.
    const graceOver = performance.now() + 30;
    const giveUp = performance.now() + 10_000;
    while (Atomics.load(shared, 3) === 0 && performance.now() < giveUp);
    const overdue = performance.now() + 50;
    while (performance.now() < Math.max(graceOver, overdue));
    await assert.rejects(job, /stop/);
    assert.equal(Atomics.load(shared, 3), 1);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    assert.equal(await beside, "released");
    assert.equal(await pool.run("workerName"), before);
    assert.deepEqual(exits, []);
  });

  it("a timed-out task that ignores its signal has its worker replaced with reason timeout", async () => {
    const clock = new FakeClock();
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      abortGrace: 30,
      clock,
    });
    // A started worker first: with a fake clock nothing else keeps Deno's test loop busy.
    await pool.run("workerName");
    const shared = memory();
    const exit = next(pool, "workerexit");
    const job = pool.exec("ignoreSignal", [shared], { timeout: 20 });
    await untilMarked(shared, 0);
    clock.tick(20);
    await assert.rejects(job, { name: "TaskTimeoutError" });
    assert.equal((await exit).detail.reason, "timeout");
    assert.equal(await untilMarked(shared, 1), 1);
  });

  it("abortGrace 0 replaces the worker at once, as before", async () => {
    await using pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, abortGrace: 0 });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const shared = memory();
    const controller = new AbortController();
    const job = pool.exec("honourSignal", [shared], { signal: controller.signal });
    await untilMarked(shared, 0);
    controller.abort(new Error("now"));
    await assert.rejects(job, /now/);
    assert.deepEqual(exits, ["abort"]);
    assert.equal(Atomics.load(shared, 1), 0); // never told
  });

  it("a job aborted while its worker still starts is taken back and cancelled, and the worker is kept", async () => {
    // The module takes a while to load: the job waits in the starting worker.
    const slow = fixture("slow_start_tasks.ts");
    const cancelled: number[] = [];
    await using pool = new Pool<{ name(): string }>({
      maxChildren: 1,
      module: slow,
      cancelledCallback: (id) => cancelled.push(id),
    });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const controller = new AbortController();
    const job = pool.exec("name", [], { signal: controller.signal });
    // One turn: the job is handed to the starting worker (it runs nothing yet).
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(pool.jobs.length, 0, "sent");
    assert.equal(pool.stats().jobs.queued, 1, "not started: it may be taken back");
    controller.abort(new Error("not now"));
    await assert.rejects(job, /not now/);
    assert.equal(await pool.run("name"), "ThreadPool-1");
    const { jobs } = pool.stats();
    assert.deepEqual([jobs.cancelled, jobs.failed, cancelled.length], [1, 0, 1]); // before: failed
    assert.deepEqual(exits, []);
  });

  it("a job aborted while a worker without a task module still starts never runs", async () => {
    const ran = memory();
    const cancelled: number[] = [];
    await using pool = new Pool({ maxChildren: 1, cancelledCallback: (id) => cancelled.push(id) });
    const controller = new AbortController();
    const job = pool.exec((shared: Int32Array) => Atomics.add(shared, 0, 1), [ran], {
      signal: controller.signal,
    });
    // Handed to the starting worker at the end of this tick; aborted at once
    // after (it has not started: the worker is still loading).
    while (pool.jobs.length !== 0) await Promise.resolve();
    controller.abort(new Error("not now"));
    await assert.rejects(job, /not now/);
    // A job sent after it runs after it would have: it did not run.
    assert.equal(await pool.run((shared: Int32Array) => Atomics.load(shared, 0), ran), 0);
    assert.equal(cancelled.length, 1);
    assert.equal(pool.stats().jobs.failed, 0);
  });

  it("shutdown() waits for a worker in its abort grace; terminate() ends it at once", async () => {
    for (const end of ["shutdown", "terminate"] as const) {
      const pool = new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, abortGrace: 60_000 });
      const exits: string[] = [];
      pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
      const shared = memory();
      const controller = new AbortController();
      const job = pool.exec("ignoreSignal", [shared], { signal: controller.signal });
      await untilMarked(shared, 0);
      controller.abort(new Error("stop"));
      await assert.rejects(job, /stop/);
      await untilMarked(shared, 1);
      if (end === "terminate") {
        pool.terminate();
        assert.deepEqual(exits, ["terminate"]);
      } else {
        // Nothing is pending, but the worker still holds the aborted task: it
        // leaves when the grace ends (here: cut short by terminate()).
        const done = pool.shutdown();
        await Promise.resolve();
        assert.deepEqual(exits, []);
        pool.terminate();
        assert.equal(await done, true);
        assert.deepEqual(exits, ["terminate"]);
      }
      assert.equal(pool.alive, 0);
    }
  });

  it("aborting an asynchronous job that took no context never aborts an ended job's signal (several jobs per worker)", async () => {
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 2, sharedLane: false });
    type Global = { jobContext(): { signal: AbortSignal } };
    // Word 0: set by the ended job's abort listener; word 1: releases the asynchronous job.
    const words = new Int32Array(new SharedArrayBuffer(8));
    const controller = new AbortController();
    // Sent together: a job that takes its context and returns at once, then one that awaits.
    const ended = pool.run((w: Int32Array) => {
      const { signal } = (globalThis as unknown as Global).jobContext();
      signal.addEventListener("abort", () => Atomics.store(w, 0, 1));
      return "ended";
    }, words);
    const waiting = pool.exec(
      async (w: Int32Array) => {
        const wait = Atomics.waitAsync(w, 1, 0);
        if (wait.async) await wait.value;
        return "released";
      },
      [words],
      { signal: controller.signal },
    );
    assert.equal(await ended, "ended");
    controller.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    // Sent after the abort, it runs on the free lane once the worker has taken the abort in.
    const seen = await pool.run((w: Int32Array) => {
      const aborted = Atomics.load(w, 0);
      Atomics.store(w, 1, 1);
      Atomics.notify(w, 1);
      return aborted;
    }, words);
    assert.equal(seen, 0, "the ended job's signal was aborted by another job's abort");
  });

  it("an inline task can use the worker's global jobContext", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const seen: unknown[] = [];
    const result = await pool.exec(
      (n: number) => {
        const { progress, id } = (globalThis as unknown as {
          jobContext(): { progress(value: unknown): void; id: number };
        }).jobContext();
        progress(n);
        return id > 0;
      },
      [7],
      { onProgress: (value) => seen.push(value) },
    );
    assert.equal(result, true);
    assert.deepEqual(seen, [7]);
  });

  it("an inline task may call jobContext and transfer by the names its caller imported", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const seen: unknown[] = [];
    const buffer = await pool.exec(
      (n: number) => {
        jobContext().progress(n);
        return transfer(new ArrayBuffer(n)); // before: "transfer is not defined"
      },
      [8],
      { onProgress: (value) => seen.push(value) },
    );
    assert.ok(buffer instanceof ArrayBuffer);
    assert.equal(buffer.byteLength, 8);
    assert.deepEqual(seen, [8]);
  });
});
