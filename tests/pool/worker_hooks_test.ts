/**
 * setup(workerData) and teardown() of a task module: once per worker,
 * before its first job and when it retires normally; never after a crash or
 * terminate().
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Lock } from "../../src/sync/lock.ts";
import { Pool } from "../../mod.ts";
import type { PoolEventMap, PoolOptions } from "../../mod.ts";
import type * as Tasks from "../fixtures/hooks_tasks.ts";
import { MAX_START_FAILURES } from "../../src/pool/workers.ts";
import { TEARDOWN_TIMEOUT_MS } from "../../src/pool/retirement.ts";
import { gate, waitAtGate } from "../_gate.ts";
import { WatchedClock } from "./_faults.ts";
import { fixture, within } from "../_util.ts";

const tasks = fixture("hooks_tasks.ts");

/** Setups, teardowns ended, teardowns begun (see the fixture). */
function counts(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(12));
}

/** A pool of the hooks module, counting into `data.counts`, with `options` on top. */
function hooksPool(data: Tasks.HooksData, options: PoolOptions = {}): Pool<typeof Tasks> {
  return new Pool<typeof Tasks>({ maxChildren: 1, module: tasks, workerData: data, ...options });
}

/** Resolves once word `word` of `memory` is at least `n`, woken by Atomics.notify. */
async function atLeast(memory: Int32Array, word: number, n: number): Promise<void> {
  for (let seen = Atomics.load(memory, word); seen < n; seen = Atomics.load(memory, word)) {
    const result = Atomics.waitAsync(memory, word, seen);
    if (result.async) await result.value;
  }
}

describe("setup() and teardown()", () => {
  it("setup(workerData) runs once per worker before its first job; teardown() at shutdown", async () => {
    const shared = counts();
    const pool = hooksPool({ counts: shared }, { maxChildren: 2, minChildren: 2 });
    // Both started first: an idle worker takes the jobs of one slow to start.
    await new Promise((resolve) => pool.addEventListener("ready", resolve, { once: true }));
    const names = await Promise.all(Array.from({ length: 20 }, () => pool.run("name")));
    assert.deepEqual([...new Set(names)].sort(), ["ThreadPool-1", "ThreadPool-2"]);
    assert.equal(Atomics.load(shared, 0), 2);
    assert.equal(Atomics.load(shared, 1), 0);
    assert.equal(await pool.shutdown(), true);
    assert.equal(Atomics.load(shared, 1), 2); // shutdown() waited for both teardowns
    assert.equal(pool.alive, 0);
  });

  it("ready fires once minChildren workers have started, though the first retired before the next came up", async () => {
    const hold = new Int32Array(new SharedArrayBuffer(8));
    const pool = hooksPool({ counts: counts(), holdSecondSetup: hold }, {
      maxChildren: 2,
      minChildren: 2,
      maxJobsPerWorker: 1,
    });
    const events: string[] = [];
    const ready = new Promise((resolve) => pool.addEventListener("ready", resolve, { once: true }));
    pool.addEventListener("workerstart", () => events.push("workerstart"));
    pool.addEventListener("ready", () => events.push("ready"));
    pool.addEventListener("workerexit", () => events.push("workerexit"));
    // One worker is held in its setup(); the other runs a job (sent once it is up, so
    // not to the held one) and retires, and its replacement starts: two have started,
    // never two at once.
    await new Promise((resolve) => pool.addEventListener("workerstart", resolve, { once: true }));
    assert.equal(await pool.run("echo", 1), 1);
    assert.equal(await within(ready, 10_000), true, "ready"); // before: not while one was held
    assert.deepEqual(events.slice(0, 4), ["workerstart", "workerexit", "workerstart", "ready"]);
    Atomics.store(hold, 0, 1);
    Atomics.notify(hold, 0);
    assert.equal(await pool.shutdown(), true);
    assert.equal(events.filter((type) => type === "ready").length, 1);
  });

  it("a task module's setup or teardown export that is not a function fails the worker's start, naming it", async () => {
    const module = "data:text/javascript," + encodeURIComponent("export const setup = 42;");
    await using pool = new Pool({ maxChildren: 1, module, startTimeout: 5_000 });
    // Before: ignored without a word.
    await assert.rejects(
      pool.run("x" as never),
      /the task module's "setup" export is 42, not a function/,
    );
  });

  it("setup and teardown are worker hooks, refused as task names", async () => {
    const pool = hooksPool({ counts: counts() });
    await using _ = pool;
    for (const name of ["setup", "teardown"] as const) {
      // Before: run as a job (teardown() in the middle of a worker's life, then again).
      assert.throws(() => pool.submit(name, { counts: counts() }), {
        name: "TypeError",
        message: new RegExp(`"${name}" is the task module's worker hook`),
      });
    }
    assert.equal(await pool.run("echo", 2), 2);
  });

  it("a worker still starting at shutdown() gets its teardown() after its setup()", async () => {
    for (let round = 0; round < 5; round++) {
      const shared = counts();
      const pool = hooksPool({ counts: shared }, { maxChildren: 2, minChildren: 2 });
      assert.equal(await pool.shutdown(), true);
      // Each worker that ran setup() also ran teardown(), however far it had started.
      assert.equal(Atomics.load(shared, 1), Atomics.load(shared, 0));
    }
  });

  it("a worker retired for idleness runs teardown()", async () => {
    const shared = counts();
    await using pool = hooksPool({ counts: shared }, { idleTimeout: 10 });
    const exited = new Promise<PoolEventMap["workerexit"]>((resolve) =>
      pool.addEventListener("workerexit", resolve, { once: true })
    );
    assert.equal(await pool.run("echo", 1), 1);
    assert.equal((await exited).detail.reason, "idle");
    await atLeast(shared, 1, 1);
    assert.equal(Atomics.load(shared, 0), 1);
  });

  it("terminate() runs no teardown", async () => {
    const shared = counts();
    const pool = hooksPool({ counts: shared }, { maxChildren: 2 });
    await Promise.all([pool.run("echo", 1), pool.run("echo", 2)]);
    pool.terminate();
    assert.equal(pool.alive, 0);
    assert.equal(Atomics.load(shared, 1), 0);
  });

  it("a setup() that throws is a start failure with its error, for every job", async () => {
    await using pool = hooksPool({ counts: counts(), failSetup: true });
    const errors: unknown[] = [];
    const hooks: unknown[] = [];
    pool.addEventListener("error", (event) => {
      errors.push(event.detail.error);
      hooks.push(event.detail.during);
    });
    // Before: "… last: setup refused …", not saying which part of the start threw it.
    await assert.rejects(
      pool.run("echo", 1),
      /failed to start 3 times in a row, last: setup\(\) threw: .*setup refused/,
    );
    assert.ok(errors.length >= 1);
    assert.ok(errors.every((error) => error instanceof RangeError));
    assert.ok(hooks.every((hook) => hook === "setup"), String(hooks));
    // Every later job ends too, the same way: nothing hangs on a pool that cannot start.
    await assert.rejects(pool.run("echo", 2), /setup refused/);
  });

  it("a rejection setup() leaves unhandled is a start failure, not the crash of each job", async () => {
    await using pool = hooksPool({ counts: counts(), rejectUnhandled: true });
    pool.addEventListener("error", () => {}); // the start failures
    const jobs = Array.from({ length: 4 }, (_, i) => pool.run("echo", i).catch((error) => error));
    const errors = await Promise.all(jobs);
    for (const error of errors) {
      // Before: each job started, and failed with WorkerCrashedError as its worker died.
      assert.match(String(error), /failed to start.*left unhandled by setup/);
    }
    assert.equal(pool.stats().workers.started, 0);
    assert.equal(pool.stats().workers.crashed, MAX_START_FAILURES);
  });

  it("workers whose setup() throws beside one that started leave the queue to it: no job fails", async () => {
    const starts = new Int32Array(new SharedArrayBuffer(4));
    await using pool = hooksPool({ counts: counts(), starts }, { maxChildren: 2 });
    let failedStarts = 0;
    const { promise: enoughFailures, resolve } = Promise.withResolvers<void>();
    pool.addEventListener("error", (event) => {
      assert.match(String(event.detail.error), /setup refused after the first worker/);
      if (++failedStarts === MAX_START_FAILURES) resolve();
    });
    assert.equal(await pool.run("echo", "first"), "first");
    // The started worker is held by a job of its own, so the others queue,
    // and the pool starts a second worker for them, again and again.
    const held = gate();
    const holding = pool.exec(waitAtGate, [held.memory, "held"], { timeout: 60_000 });
    const queued = [1, 2, 3, 4, 5].map((n) => pool.run("echo", n));
    await held.started();
    await enoughFailures;
    assert.equal(pool.stats().jobs.queued, 5, "the queue is still there");
    held.open();
    assert.deepEqual(await Promise.all([holding, ...queued]), ["held", 1, 2, 3, 4, 5]);
    assert.equal(pool.stats().jobs.failed, 0);
  });

  it("workers running their teardown count against maxChildren: a recycled worker's replacement starts once it has gone", async () => {
    const shared = counts();
    const release = new Int32Array(new SharedArrayBuffer(4));
    await using pool = hooksPool(
      { counts: shared, holdTeardown: release },
      { maxChildren: 2, maxJobsPerWorker: 1 },
    );
    const jobs = [1, 2, 3, 4].map((n) => pool.run("echo", n));
    await atLeast(shared, 2, 2); // the first two workers ran a job each and hold their teardown
    assert.equal(pool.alive, 0, "no replacement beside two workers in teardown");
    assert.equal(Atomics.load(shared, 0), 2, "two setups");
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    assert.deepEqual(await Promise.all(jobs), [1, 2, 3, 4]);
    assert.equal(Atomics.load(shared, 0), 4);
  });

  it("a worker recycled while its setup() runs has its workerexit, and no workerstart after it", async () => {
    const hold = new Int32Array(new SharedArrayBuffer(4));
    await using pool = hooksPool({ counts: counts(), holdSetup: hold }, { minChildren: 1 });
    const events: string[] = [];
    pool.addEventListener("workerstart", (event) => events.push(`start ${event.detail.id}`));
    pool.addEventListener("workerexit", (event) => {
      events.push(`exit ${event.detail.id} ${event.detail.reason}`);
    });
    const recycled = pool.recycle(); // worker 1 is still in its setup()
    Atomics.store(hold, 0, 1);
    Atomics.notify(hold, 0);
    await recycled; // worker 1 has gone, its teardown run
    assert.equal(await pool.run("echo", 1), 1);
    assert.deepEqual(events, ["exit 1 recycle", "start 2"]);
    assert.deepEqual(
      [pool.stats().workers.started, pool.stats().workers.exited, pool.alive],
      [1, 1, 1],
    );
  });

  it("shutdown(timeout) answers false at its timeout while a teardown() still runs; the worker leaves once it ends", async () => {
    const clock = new WatchedClock();
    const release = new Int32Array(new SharedArrayBuffer(4));
    const pool = hooksPool({ counts: counts(), holdTeardown: release }, { clock });
    assert.equal(await pool.run("echo", 1), 1);
    const timerSet = clock.timerSet();
    const answer = pool.shutdown(100);
    await timerSet; // the timeout's, on the pool's clock
    clock.tick(100);
    assert.equal(await answer, false);
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    assert.equal(await pool.shutdown(), true);
  });

  it("a setup() that never settles is a start failure after startTimeout; its jobs fail instead of waiting for ever", async () => {
    await using pool = hooksPool({ counts: counts(), hangSetup: true }, { startTimeout: 50 });
    const errors: string[] = [];
    pool.addEventListener("error", (event) => errors.push(String(event.detail.error)));
    // Three starts of 50 ms and the back-offs between them: a bound, not a wait for time.
    const error = await pool.run("echo", 1).then(() => null, (thrown: Error) => thrown);
    assert.ok(error instanceof Error);
    assert.match(error.message, /workers failed to start 3 times in a row/);
    assert.match(error.message, /did not start within 50 ms \(startTimeout\)/);
    assert.equal(errors.length, MAX_START_FAILURES);
  });

  // A time limit is what this is about: the worker is still in setup() when the teardown
  // allowance (5 s) has passed. Bounded above it (Bun's default bound is 5 s).
  it(
    "Pool.shutdown() waits for a setup() still running past the teardown allowance, then runs teardown() once; no error",
    {
      timeout: 20_000,
    },
    async () => {
      const shared = counts();
      const hold = new Int32Array(new SharedArrayBuffer(4));
      const pool = hooksPool({ counts: shared, holdSetup: hold }, { minChildren: 1 });
      const errors: unknown[] = [];
      const { promise: failed, resolve } = Promise.withResolvers<void>();
      pool.addEventListener("error", (event) => {
        errors.push(event.detail.error);
        resolve();
      });
      const answer = pool.shutdown(); // worker 1 is still starting: its setup() is held
      // Before: it was ended once TEARDOWN_TIMEOUT_MS had passed, reported as
      // "teardown() of worker ThreadPool-1 did not end within 5000 ms".
      assert.equal(await within(failed, TEARDOWN_TIMEOUT_MS + 500), false, String(errors[0]));
      Atomics.store(hold, 0, 1);
      Atomics.notify(hold, 0);
      assert.equal(await answer, true);
      // One setup(), then one teardown() begun and ended.
      assert.deepEqual([...shared], [1, 1, 1]);
      assert.deepEqual(errors, []);
      assert.equal(pool.alive, 0);
    },
  );

  // Before, the worker was ended after the teardown allowance (5 s): bounded above it.
  it(
    "Pool.shutdown() of a worker whose setup() never settles ends it after startTimeout, with an error saying it did not start",
    {
      timeout: 20_000,
    },
    async () => {
      const shared = counts();
      const pool = hooksPool({ counts: shared, hangSetup: true }, {
        minChildren: 1,
        startTimeout: 200,
      });
      const errors: PoolEventMap["error"][] = [];
      pool.addEventListener("error", (event) => errors.push(event));
      // At once: worker 1 is starting, well within its startTimeout. It settles.
      await pool.shutdown();
      assert.equal(pool.alive, 0);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.detail.name, "ThreadPool-1");
      // Before: "teardown() of worker ThreadPool-1 did not end within 5000 ms", a teardown never begun.
      assert.equal(
        (errors[0]!.detail.error as Error).message,
        "Worker ThreadPool-1, retired while it started, did not start within 200 ms (startTimeout): its task module or setup() had not finished",
      );
      assert.deepEqual([Atomics.load(shared, 0), Atomics.load(shared, 2)], [0, 0]);
    },
  );

  it(
    "Pool.shutdown() of a worker whose setup() never settles, with startTimeout Infinity, ends it 5 s later, saying so",
    { timeout: 20_000 },
    async () => {
      const shared = counts();
      const pool = hooksPool({ counts: shared, hangSetup: true }, {
        minChildren: 1,
        startTimeout: Infinity,
      });
      const errors: PoolEventMap["error"][] = [];
      pool.addEventListener("error", (event) => errors.push(event));
      await pool.shutdown(); // before: never settled
      assert.equal(pool.alive, 0);
      assert.equal(errors.length, 1);
      assert.equal(
        (errors[0]!.detail.error as Error).message,
        "Worker ThreadPool-1, retired while it started, did not start within 5000 ms of its retirement (startTimeout is Infinity): its task module or setup() had not finished",
      );
    },
  );

  /** The `error` events of a pool whose teardown() fails as `failTeardown` says, after one job and shutdown(). */
  async function teardownErrors(
    failTeardown: NonNullable<Tasks.HooksData["failTeardown"]>,
  ): Promise<PoolEventMap["error"][]> {
    const pool = hooksPool({ counts: counts(), failTeardown });
    const errors: PoolEventMap["error"][] = [];
    pool.addEventListener("error", (event) => errors.push(event));
    assert.equal(await pool.run("echo", 1), 1);
    assert.equal(await pool.shutdown(), true);
    assert.equal(pool.alive, 0);
    return errors;
  }

  it("a teardown() that throws is reported as an error event; the worker still goes", async () => {
    const errors = await teardownErrors(true);
    assert.equal(errors.length, 1);
    assert.match(String((errors[0]!.detail.error as Error).message), /teardown broke/);
    assert.equal(errors[0]!.detail.name, "ThreadPool-1");
    assert.equal(errors[0]!.detail.during, "teardown"); // before: only the stack said so
  });

  for (const thrown of ["undefined", "null"] as const) {
    it(`a teardown() that throws ${thrown} is reported as an error event holding it; the worker still goes`, async () => {
      const errors = await teardownErrors(thrown);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.detail.error, thrown === "null" ? null : undefined);
    });
  }

  it("a teardown() or setup() that throws what cannot be cloned is reported saying which hook threw what", async () => {
    {
      const errors = await teardownErrors("symbol");
      assert.equal(errors.length, 1);
      const error = errors[0]!.detail.error as Error;
      assert.ok(error instanceof TypeError, String(error));
      assert.match(
        error.message,
        /^teardown\(\) threw Symbol\(teardown's symbol\), which cannot be cloned$/,
      );
    }
    await using pool = hooksPool({ counts: counts(), failSetup: "symbol" });
    await assert.rejects(pool.run("echo", 1), {
      message:
        /failed to start 3 times in a row, last: setup\(\) threw Symbol\(setup's symbol\), which cannot be cloned/,
    });
  });

  it("setup(workerData) receives a Lock in workerData working, sharing the original's memory", async () => {
    const lock = new Lock();
    await using pool = hooksPool({ counts: counts(), lock });
    assert.deepEqual(await pool.run("lockInSetup"), [true, true]);
    assert.equal(lock.locked, true, "the worker took the main thread's lock");
    assert.deepEqual(await pool.run("lockInSetup"), [true, false]);
  });

  it("workerData changed after new Pool() into what cannot be cloned fails the starts that read it, not the program; the pool works once it is mended", async () => {
    const data: Record<string, unknown> = { counts: counts() };
    await using pool = new Pool<typeof Tasks>({
      maxChildren: 1,
      module: tasks,
      workerData: data,
      maxJobsPerWorker: 1,
    });
    const errors: unknown[] = [];
    pool.addEventListener("error", (event) => errors.push(event.detail.error));
    assert.equal(await pool.run("echo", 1), 1);
    data.callback = () => 1; // read at each start, as postMessage reads it
    await assert.rejects(pool.run("echo", 2), (error: Error) => {
      assert.match(error.message, /workers failed to start 3 times in a row/);
      assert.match(
        error.message,
        /Cannot start worker ThreadPool-\d+: "workerData" cannot be cloned/,
      );
      assert.equal((error.cause as Error).name, "TypeError");
      return true;
    });
    assert.equal(errors.length, MAX_START_FAILURES);
    delete data.callback;
    assert.equal(await pool.run("echo", 3), 3);
    assert.equal(pool.stats().workers.crashed, MAX_START_FAILURES);
  });

  it("recycle() from a workerData getter as a worker starts: that worker sets up, tears down and goes at once", async () => {
    let reads = 0;
    const data = {
      counts: counts(),
      get recycled() {
        // Read once by new Pool()'s check, then as each worker's init is cloned:
        // recycle() runs then, and its message overtakes that init.
        if (++reads === 2) void pool.recycle();
        return true;
      },
    };
    await using pool = hooksPool(data);
    const errors: unknown[] = [];
    pool.addEventListener("error", (event) => errors.push(event.detail.error));
    const exited = new Promise<PoolEventMap["workerexit"]>((resolve) =>
      pool.addEventListener("workerexit", resolve, { once: true })
    );
    assert.equal(await pool.run("echo", 1), 1);
    assert.equal((await exited).detail.reason, "recycle");
    assert.deepEqual(errors, []); // not "teardown() … did not end within 5000 ms"
    await atLeast(data.counts, 1, 1); // its teardown ran
  });

  it("resize() from a workerData getter as a replacement worker starts: the job it sends there ends", async () => {
    let armed = false;
    const data = {
      counts: counts(),
      get resized() {
        if (armed) {
          armed = false;
          pool.resize(1); // the same size: its flush sends the queue to the worker starting
        }
        return true;
      },
    };
    await using pool = hooksPool(data, { minChildren: 1, maxJobsPerWorker: 1 });
    assert.equal(await pool.run("echo", 0), 0);
    armed = true; // the next start, worker 1's replacement, re-enters
    const results = await Promise.all([1, 2, 3].map((n) => pool.run("echo", n)));
    // Before: that job was on a worker removed as idle ("recycle"), and never ended.
    assert.deepEqual(results, [1, 2, 3]);
    assert.equal(pool.pending, 0);
  });

  const storms: [string, number, (pool: Pool) => void][] = [
    ["recycle()", 0, (pool) => void pool.recycle()], // retires the worker starting
    ["recycle()", 1, (pool) => void pool.recycle()],
    ["resize(1) then resize(2)", 2, (pool) => { // retires an older one
      pool.resize(1);
      pool.resize(2);
    }],
  ];
  for (const [what, minChildren, act] of storms) {
    it(`${what} from a workerData getter at every start (minChildren ${minChildren}) never holds the thread in a loop of starts; the job ends once`, async () => {
      const STARTS = 20; // then the getter lets workers be
      let reads = 0;
      let armed = false;
      let readsWhenTimerRan = -1;
      const data = {
        get recycled() {
          if (armed && ++reads <= STARTS) act(pool);
          return true;
        },
      };
      await using pool = new Pool({
        maxChildren: Math.max(1, minChildren),
        minChildren,
        workerData: data,
      });
      armed = true;
      setTimeout(() => readsWhenTimerRan = reads, 0);
      if (minChildren !== 0) void pool.recycle(); // their replacements start now
      // Before: every start read the getter, which retired a worker and so
      // started the next inside the same call (20 starts in one turn; without
      // the cap, for ever: no timer ran; with recycle() and minChildren 1 the
      // stack overflowed).
      assert.equal(await pool.run((n: number) => n * 2, 21), 42);
      assert.ok(reads >= 2, `the getter acted ${reads} times`);
      assert.ok(readsWhenTimerRan < STARTS, `a timer ran after ${readsWhenTimerRan} starts`);
      assert.equal(await pool.wait(), true);
      const { jobs } = pool.stats();
      assert.deepEqual([jobs.submitted, jobs.done, jobs.failed, jobs.cancelled], [1, 1, 0, 0]);
    });
  }

  it("workerData that cannot be cloned is a TypeError naming it", () => {
    assert.throws(() => new Pool({ workerData: { f: () => 1 } }), {
      name: "TypeError",
      message: /"workerData" must be structured-cloneable, received an object/,
    });
  });

  it("Pool delivers drain when a cancel() takes a starting worker's job back and the queue falls under the mark, before the worker starts", async () => {
    const hold = new Int32Array(new SharedArrayBuffer(4)); // setup() waits: the worker stays starting
    await using pool = hooksPool({ counts: counts(), holdSetup: hold }, { highWaterMark: 2 });
    const events: string[] = [];
    pool.addEventListener("full", () => events.push("full"));
    pool.addEventListener("drain", () => events.push("drain"));
    pool.addEventListener("workerstart", () => events.push("workerstart"));
    try {
      const first = pool.submit((n: number) => n, 1);
      pool.submit((n: number) => n, 2);
      pool.submit((n: number) => n, 3); // full; the tick's end hands the first to the starting worker
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.equal(pool.needsDrain, true);
      assert.equal(pool.cancel(first), true); // taken back; the tick's end hands it the next
      assert.equal(await within(pool.drained(), 10_000), true);
      await new Promise((resolve) => setTimeout(resolve, 0));
      // Before: drained() resolved, but the event waited for the next answer or start.
      assert.deepEqual(events, ["full", "drain"]);
    } finally {
      Atomics.store(hold, 0, 1);
      Atomics.notify(hold, 0);
    }
    assert.equal(await pool.wait(10_000), true);
    assert.deepEqual(pool.done.drain().sort(), [2, 3]);
  });

  it("Pool delivers drain and resolves drained() when a recycled worker's place goes to a starting one that takes a queued job", async () => {
    const hold = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(hold, 0, 1); // the first worker starts at once; its replacement waits
    await using pool = hooksPool({ counts: counts(), holdSetup: hold }, { highWaterMark: 2 });
    const events: string[] = [];
    pool.addEventListener("full", () => events.push("full"));
    pool.addEventListener("drain", () => events.push("drain"));
    let starts = 0;
    pool.addEventListener("workerstart", () => starts++);
    const g = gate();
    const held = pool.run(waitAtGate, g.memory, "held");
    try {
      await g.started();
      pool.submit((n: number) => n, 1);
      pool.submit((n: number) => n, 2); // full: nothing goes behind a job of unknown cost
      Atomics.store(hold, 0, 0);
      void pool.recycle();
    } finally {
      g.open();
    }
    try {
      assert.equal(await held, "held");
      // Before: both waited for the replacement's start, here for ever.
      assert.equal(await within(pool.drained(), 10_000), true);
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.deepEqual(events, ["full", "drain"]);
      assert.equal(starts, 1, "the replacement has not started");
    } finally {
      Atomics.store(hold, 0, 1);
      Atomics.notify(hold, 0);
    }
    assert.equal(await pool.wait(10_000), true);
    assert.deepEqual(pool.done.drain().sort(), [1, 2]);
  });
});
