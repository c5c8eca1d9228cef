/**
 * Faults: workers that die while running jobs, and workers that cannot start. Every job
 * ends exactly once, and the pool keeps working (helpers in `_faults.ts`).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { PoolClosedError, TaskTimeoutError, WorkerCrashedError } from "../../src/errors.ts";
import { gate } from "../_gate.ts";
import { fixture, isBun, promiseState, within } from "../_util.ts";
import { crashes, exitAfterGate, identity, tally, WatchedClock, workerName } from "./_faults.ts";

describe("Pool worker crashes", () => {
  for (const crash of crashes) {
    it(
      `Pool fails the running job with WorkerCrashedError when its worker dies by ${crash.what}, and reruns its other jobs on a new worker`,
      { skip: crash.deno && isBun ? "Deno only" : false },
      async () => {
        await using pool = new Pool({ maxChildren: 1, minChildren: 1 });
        assert.equal(await pool.run(workerName), "ThreadPool-1");
        // Measured jobs are quick now, so the next ones travel in one batch to the same worker.
        const before = pool.run(identity, 1);
        const crashed = pool.run(crash.task);
        const after = [2, 3].map((n) => pool.run(identity, n));
        const name = pool.run(workerName);
        const error = await crashed.then(
          () => assert.fail("the crashing job resolved"),
          (error: unknown) => error,
        );
        assert.ok(error instanceof WorkerCrashedError, String(error));
        assert.equal(error.name, "WorkerCrashedError");
        assert.equal(error.slotId, 1);
        assert.equal(error.jobId, 3);
        assert.ok(error.cause instanceof Error);
        assert.match(error.cause.message, crash.cause);
        assert.match(error.message, /^Worker ThreadPool-1 died while running job 3: /); // as events name it
        assert.deepEqual(await Promise.all([before, ...after]), [1, 2, 3]);
        assert.equal(await name, "ThreadPool-2", "a new worker took the dead one's place");
        assert.deepEqual([pool.alive, pool.busy, pool.pending], [1, 0, 0]);
      },
    );
  }

  it("Pool fails, and does not run again, a generator whose values arrived before its worker died with its end unsent", async () => {
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, resultId: true });
    // Item 0 yields a value (sent while it waits), yields again (sent, the batch being old
    // by then) and ends; item 1, in the same batch, ends the worker before the batch's last
    // answers leave: item 0's end is lost with it.
    const task = async function* (n: number) {
      if (n < 0) return;
      if (n === 1) {
        (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(3);
      }
      yield "first";
      await new Promise((resolve) => setTimeout(resolve, 20));
      yield "second";
    };
    const warm = pool.submit(task, -1); // measured: the two items below then travel as one batch
    await pool.wait();
    pool.map(task, [0, 1]);
    await pool.wait();
    const [item0, item1] = [warm + 1, warm + 2];
    // Run again, item 0 would have sent its values twice.
    assert.deepEqual(pool.done.drain(), [[item0, "first"], [item0, "second"]]);
    const failed = (pool.failed.drain() as [number, Error][]).map((
      [id, error],
    ) => [id, error.name]);
    // Item 0 fails with its end unsent; on a loaded machine its end may leave with its
    // second value before the crash, and it is done: either way, once.
    const item0Ended = failed.length === 1 ? [] : [[item0, "WorkerCrashedError"]];
    assert.deepEqual(failed, [[item1, "WorkerCrashedError"], ...item0Ended]);
    const { jobs } = pool.stats();
    assert.equal(jobs.submitted, jobs.done + jobs.failed);
    assert.equal(jobs.failed, failed.length);
  });

  it("Pool fails only the crashed item of a map and ends every other item exactly once", async () => {
    const t = tally();
    await using pool = new Pool({ maxChildren: 1, ...t.options });
    await pool.run(identity, 0);
    const items = Array.from({ length: 100 }, (_, i) => i);
    const first = pool.submit(identity, -1) + 1;
    const n = pool.map(
      (i: number) =>
        i === 50
          ? (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(9)
          : i,
      items,
      t.options.doneCallback,
    );
    assert.equal(n, 100);
    await pool.wait();
    const ids = [first - 1, ...items.map((i) => first + i)];
    t.exactlyOnce(ids);
    assert.equal(t.how(first + 50), "failed:WorkerCrashedError");
    assert.equal(ids.filter((id) => t.how(id) === "done").length, 100);
    assert.deepEqual([pool.alive, pool.busy, pool.pending], [1, 0, 0]);
  });

  const ownEnds = [
    ["process.exit()", "process", false],
    ["Deno.exit()", "Deno", true],
    ["self.close()", "close", true],
  ] as const;
  for (const [what, how, denoOnly] of ownEnds) {
    it(
      `Pool does not run again the items of a map a worker finished before ${what} ended it`,
      { skip: denoOnly && isBun ? "Deno only" : false },
      async () => {
        const t = tally();
        await using pool = new Pool({ maxChildren: 1, ...t.options });
        await pool.run(identity, 0);
        const runs = new Int32Array(new SharedArrayBuffer(4 * 100));
        const first = pool.submit(identity, -1) + 1;
        // One batch, measured quick: items 0–49 finish before item 50 ends the worker.
        pool.map(
          ([i, runs, how]: [number, Int32Array, string]) => {
            Atomics.add(runs, i, 1);
            if (i !== 50) return i;
            const scope = globalThis as unknown as {
              close(): void;
              Deno: { exit(code: number): never };
              process: { exit(code: number): never };
            };
            if (how === "close") scope.close();
            else scope[how as "Deno" | "process"].exit(7);
            return new Promise(() => {}); // a browser's close() returns
          },
          Array.from({ length: 100 }, (_, i): [number, Int32Array, string] => [i, runs, how]),
          t.options.doneCallback,
        );
        await pool.wait();
        const ids = [first - 1, ...Array.from({ length: 100 }, (_, i) => first + i)];
        t.exactlyOnce(ids);
        assert.equal(t.how(first + 50), "failed:WorkerCrashedError");
        // Before: the items whose answers had not left with the worker ran twice.
        assert.deepEqual([...runs].filter((n) => n !== 1), []);
        assert.deepEqual([pool.alive, pool.busy, pool.pending], [1, 0, 0]);
      },
    );
  }

  it("Pool fails as crashed a job that ends its worker with an exit code that cannot be written, and goes on", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const how = isBun ? "process" : "Deno";
    for (const code of ["symbol", "throwing toString"]) {
      const job = pool.run(
        (how: string, code: string) => {
          const exit =
            (globalThis as unknown as Record<string, { exit(code: unknown): never }>)[how]!
              .exit;
          exit(
            code === "symbol" ? Symbol("x") : {
              toString() {
                throw new Error("no text");
              },
            },
          );
          return "returned";
        },
        how,
        code,
      );
      // Before: pending for ever (no exit message: its text threw), and the pool with it.
      await assert.rejects(job, { name: "WorkerCrashedError" });
      assert.equal(await pool.run(identity, 7), 7);
    }
  });

  for (
    const [kind, waits] of [["numbers", false], ["strings", false], ["numbers", true]] as const
  ) {
    const before = waits ? ", after one that waited," : "";
    it(`Pool fails no item of a map of ${kind} when one${before} leaves a microtask that kills its worker after the slice`, async () => {
      await using pool = new Pool({ maxChildren: 1 });
      const crashes: unknown[] = [];
      let crashed!: () => void;
      const reported = new Promise<void>((resolve) => crashed = resolve);
      pool.addEventListener("error", (event) => {
        crashes.push(event.detail.error);
        crashed();
      });
      const items = Array.from({ length: 40 }, (_, i) => kind === "numbers" ? i : `${i}`);
      const late = (item: number | string) => {
        if (item == 5) {
          queueMicrotask(() => {
            throw new Error("left by item 5");
          });
        }
        return item;
      };
      // Item 3 makes the worker wait: the rest of the slice runs in its continuation.
      const lateAfterWait = (item: number | string) => {
        if (item == 3) return Promise.resolve(item);
        if (item == 5) {
          queueMicrotask(() => {
            throw new Error("left by item 5");
          });
        }
        return item;
      };
      // Before: the worker died with the slice's answers unsent and the last item was
      // blamed; sent again, item 5 killed the next worker: 16 to 35 items failed.
      assert.deepEqual(await pool.collect(waits ? lateAfterWait : late, items), items);
      await reported; // the worker died between jobs
      assert.equal(crashes.length, 1);
      assert.match(String(crashes[0]), /left by item 5/);
      assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    });
  }

  it("Pool replaces a worker that crashes while a shutdown() waits for it, and the shutdown still ends", async () => {
    const pool = new Pool({ maxChildren: 1 });
    const g = gate();
    try {
      const crashing = pool.run(exitAfterGate, g.memory);
      await g.started();
      const queued = [1, 2, 3].map((n) => pool.run(identity, n));
      const closing = pool.shutdown();
      assert.throws(() => pool.submit(identity, 4), PoolClosedError);
      g.open();
      await assert.rejects(crashing, WorkerCrashedError);
      assert.deepEqual(await Promise.all(queued), [1, 2, 3]);
      assert.equal(await closing, true);
      assert.deepEqual([pool.alive, pool.pending], [0, 0]);
    } finally {
      g.open();
      pool.terminate();
    }
  });
});

describe("Pool start-up failures", () => {
  it("Pool retries a task module that throws at import with exponential back-off, then fails pending jobs naming the cause", async () => {
    const clock = new WatchedClock();
    await using pool = new Pool({
      maxChildren: 1,
      module: fixture("faults_throw_at_import.ts"),
      clock,
    });
    const job = pool.run("ok");
    const other = pool.run(identity, 1);
    await clock.timerSet();
    assert.equal(pool.alive, 0, "no worker while backing off");
    assert.equal(await promiseState(job), "pending");
    clock.next();
    await clock.timerSet();
    assert.equal(clock.delays.length, 2);
    assert.ok(clock.delays[0]! > 0);
    assert.equal(clock.delays[1], 2 * clock.delays[0]!, "the back-off doubles");
    clock.next();
    for (const pending of [job, other]) {
      await assert.rejects(pending, (error: Error) => {
        assert.match(
          error.message,
          /^Cannot run job \d+: workers failed to start 3 times in a row, last: .*this module throws at import$/,
        );
        assert.match((error.cause as Error).message, /this module throws at import/);
        return true;
      });
    }
    assert.deepEqual(
      [pool.alive, pool.pending, clock.pendingTimers],
      [0, 0, 0],
      "no more respawns",
    );
    // The back-off goes on from there: a later job waits for it, and one
    // more failed start fails it (no new round of three quick starts).
    const late = pool.run("ok");
    await clock.timerSet();
    assert.equal(pool.alive, 0, "still backing off");
    assert.equal(clock.delays.at(-1), 4 * clock.delays[0]!, "the back-off kept doubling");
    clock.next();
    await assert.rejects(late, /workers failed to start 4 times in a row/);
    assert.deepEqual([pool.alive, pool.pending, clock.pendingTimers], [0, 0, 0]);
  });

  it("Pool fails pending jobs when the task module does not exist, naming it", async () => {
    const clock = new WatchedClock();
    await using pool = new Pool({
      maxChildren: 1,
      module: fixture("faults_missing_module.ts"),
      clock,
    });
    const jobs = [1, 2, 3].map(() => pool.run("ok"));
    await clock.timerSet();
    clock.next();
    await clock.timerSet();
    clock.next();
    for (const job of jobs) {
      await assert.rejects(job, (error: Error) => {
        assert.match(error.message, /workers failed to start 3 times in a row/);
        assert.match((error.cause as Error).message, /faults_missing_module\.ts/);
        return true;
      });
    }
  });

  /** The error of a job of a pool whose task module `name` exits its worker at import, 3 starts on. */
  async function exitAtImport(name: string): Promise<Error> {
    const clock = new WatchedClock();
    await using pool = new Pool({ maxChildren: 1, module: fixture(name), clock });
    const job = pool.run("ok").then(() => assert.fail("it ran"), (error: Error) => error);
    await clock.timerSet();
    clock.next();
    await clock.timerSet();
    clock.next();
    const error = await job;
    assert.match(error.message, /workers failed to start 3 times in a row/);
    return error;
  }

  it("Pool treats a worker that exits while importing its task module as failing to start", async () => {
    const error = await exitAtImport("faults_exit_at_import.ts");
    assert.match((error.cause as Error).message, /exit\(7\)|code 7/);
  });

  it("Pool's start failure of a task module that exits with code 0 at import does not blame the worker entry", async () => {
    const cause = ((await exitAtImport("faults_exit_zero_at_import.ts")).cause as Error).message;
    assert.match(cause, /exit\(0\)|code 0/);
    // Before, on Bun: "… before it was ready (is the worker's URL fastpool's worker entry?)".
    assert.doesNotMatch(cause, /worker entry/);
  });

  it("Pool backs off when workers crash just after start-up, instead of respawning them at once", async () => {
    const channel = new BroadcastChannel("fastpool-faults-crash-after-start");
    const names: string[] = [];
    let onStart = () => {};
    channel.onmessage = (event: MessageEvent<string>) => {
      names.push(event.data);
      onStart();
    };
    const started = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (names.length >= count) resolve();
        };
        onStart = check;
        check();
      });
    const clock = new WatchedClock();
    try {
      await using pool = new Pool({
        maxChildren: 1,
        minChildren: 1,
        module: fixture("faults_crash_after_start.ts"),
        clock,
      });
      for (let round = 1; round <= 2; round++) {
        // Counted before the start is seen: under load the crash may reach the pool (and
        // its back-off timer be set) before the worker's word reaches this test.
        const timers = clock.delays.length;
        assert.ok(await within(started(round), 30_000), `worker ${round} started`);
        let bound: ReturnType<typeof setTimeout> | undefined;
        const next = await Promise.race([
          started(round + 1).then(() => `worker ${round + 1} started at once, with no back-off`),
          clock.timersPast(timers).then(() => "backed off"),
          new Promise((resolve) => bound = setTimeout(resolve, 30_000, "neither within 30 s")),
        ]);
        clearTimeout(bound);
        assert.equal(next, "backed off", `after crash ${round}`);
        assert.equal(pool.alive, 0);
        clock.next();
      }
      assert.equal(clock.delays[1], 2 * clock.delays[0]!, "the back-off doubles");
    } finally {
      channel.close();
    }
  });

  it("Pool does not fail the start of a worker that said it was ready while this thread was busy past startTimeout", async () => {
    await using pool = new Pool({ maxChildren: 1, startTimeout: 300 });
    const errors: unknown[] = [];
    pool.addEventListener("error", (event) => errors.push(event.detail));
    const runs = new Int32Array(new SharedArrayBuffer(4));
    const job = pool.run((runs: Int32Array) => Atomics.add(runs, 0, 1) + 1, runs);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the worker is made
    // This thread is held while the worker starts and runs the job: its messages wait.
    const until = performance.now() + 1_000;
    while (Atomics.load(runs, 0) === 0 || performance.now() < until) {
      // spin
    }
    // Before, on Deno: the start timer ran first, failed the start and sent the job again (2).
    assert.equal(await job, 1);
    assert.equal(Atomics.load(runs, 0), 1);
    assert.deepEqual(errors, []);
    assert.equal(pool.stats().workers.crashed, 0);
  });

  it("Pool option startTimeout, not taskTimeout, fails jobs whose worker never finishes importing its task module", async () => {
    await using pool = new Pool({
      maxChildren: 1,
      module: fixture("faults_never_imports.ts"),
      taskTimeout: 20, // a job's time starts with the job, not with its worker's start-up
      startTimeout: 100,
    });
    const neverStarted =
      /failed to start \d+ times in a row, last: .* did not start within 100 ms \(startTimeout\)/;
    await assert.rejects(
      pool.run("ok"),
      (error: Error) => !(error instanceof TaskTimeoutError) && neverStarted.test(error.message),
    );
    await assert.rejects(pool.run("ok"), neverStarted);
    assert.deepEqual([pool.pending, pool.busy], [0, 0]);
  });

  it("Pool.terminate() during a start-up back-off cancels pending jobs and leaves no timer", async () => {
    const clock = new WatchedClock();
    const pool = new Pool({ maxChildren: 1, module: fixture("faults_throw_at_import.ts"), clock });
    const job = pool.run("ok");
    await clock.timerSet();
    assert.equal(clock.pendingTimers, 1);
    pool.terminate();
    await assert.rejects(job, PoolClosedError);
    assert.deepEqual([pool.alive, pool.pending, clock.pendingTimers], [0, 0, 0]);
  });
});
