/**
 * Faults (issue 6): workers that die, time out or are aborted, workers that
 * cannot start, a bounded queue, and shutdown/terminate/cancel racing with
 * jobs. Every job ends exactly once, and the pool keeps working.
 *
 * Jobs that block a worker (at a gate, or in a loop on shared memory) are
 * always released at the end of their test: on Deno 2.9.6 `Worker.terminate()`
 * does not stop a thread stuck in synchronous code (denoland/deno#14003), and
 * a thread left spinning would eat a core for the rest of the run.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import {
  PoolClosedError,
  QueueFullError,
  TaskTimeoutError,
  WorkerCrashedError,
} from "../../src/errors.ts";
import type { SetTimerOptions, TimerId } from "../../src/timers/clock.ts";
import { FakeClock } from "../_fake_clock.ts";
import { gate, waitAtGate } from "../_gate.ts";
import { fixture, isBun, promiseState } from "../_util.ts";

const identity = (n: number) => n;
const workerName = () => (globalThis as { name?: string }).name;

/** A job that marks itself started, waits at the gate, then ends its worker. */
const exitAfterGate = (memory: Int32Array) => {
  Atomics.add(memory, 0, 1);
  Atomics.notify(memory, 0);
  Atomics.wait(memory, 1, 0);
  (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(1);
};

/** A synchronous loop that ends only when the test stores 1 in `memory[0]`. */
const spinUntilReleased = (memory: Int32Array) => {
  while (Atomics.load(memory, 0) === 0) {
    // spin
  }
  return "released";
};

/** A {@linkcode FakeClock} that records every delay and lets a test await the next `setTimer`. */
class WatchedClock extends FakeClock {
  readonly delays: number[] = [];
  #waiters: (() => void)[] = [];

  override setTimer(callback: () => void, ms: number, options?: SetTimerOptions): TimerId {
    this.delays.push(ms);
    const id = super.setTimer(callback, ms, options);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
    return id;
  }

  /** Resolves at the next `setTimer`. */
  timerSet(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** Counts the ids each job ended with, through the pool's callbacks. */
function tally() {
  const ends = new Map<number, string[]>();
  const note = (id: number, how: string) => {
    const seen = ends.get(id);
    if (seen) seen.push(how);
    else ends.set(id, [how]);
  };
  return {
    ends,
    options: {
      doneCallback: (_result: unknown, id: number) => note(id, "done"),
      failedCallback: (error: unknown, id: number) => note(id, `failed:${(error as Error).name}`),
      cancelledCallback: (id: number) => note(id, "cancelled"),
    },
    /** Asserts every id in `ids` ended exactly once, and nothing else ended. */
    exactlyOnce(ids: number[]) {
      for (const id of ids) {
        assert.equal(
          ends.get(id)?.length,
          1,
          `job ${id} ended ${JSON.stringify(ends.get(id) ?? [])}`,
        );
      }
      assert.equal(ends.size, ids.length, "only submitted jobs ended");
    },
    how(id: number): string | undefined {
      return ends.get(id)?.[0];
    },
  };
}

interface Crash {
  what: string;
  task: () => unknown;
  cause: RegExp;
  deno?: boolean;
}

const crashes: Crash[] = [
  {
    what: "an uncaught error in a timer",
    task: () =>
      new Promise(() => {
        setTimeout(() => {
          throw new Error("boom in a timer");
        }, 0);
      }),
    cause: /boom in a timer/,
  },
  {
    what: "an unhandled rejection",
    task: () => {
      void Promise.reject(new Error("nobody caught me"));
      return new Promise(() => {});
    },
    cause: /nobody caught me/,
  },
  {
    what: "process.exit()",
    task: () =>
      (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(3),
    cause: /exit\(3\)|code 3/,
  },
  {
    what: "Deno.exit()",
    task: () => (globalThis as unknown as { Deno: { exit(code: number): never } }).Deno.exit(4),
    cause: /Deno\.exit\(4\)/,
    deno: true,
  },
  {
    what: "self.close()",
    task: () => new Promise(() => (globalThis as unknown as { close(): void }).close()),
    cause: /self\.close\(\)/,
    deno: true,
  },
];

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
        assert.match(error.message, /^Worker 1 died while running job 3: /);
        assert.deepEqual(await Promise.all([before, ...after]), [1, 2, 3]);
        assert.equal(await name, "ThreadPool-2", "a new worker took the dead one's place");
        assert.deepEqual([pool.alive, pool.busy, pool.pending], [1, 0, 0]);
      },
    );
  }

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

  it("Pool treats a worker that exits while importing its task module as failing to start", async () => {
    const clock = new WatchedClock();
    await using pool = new Pool({
      maxChildren: 1,
      module: fixture("faults_exit_at_import.ts"),
      clock,
    });
    const job = pool.run("ok");
    await clock.timerSet();
    clock.next();
    await clock.timerSet();
    clock.next();
    await assert.rejects(job, (error: Error) => {
      assert.match(error.message, /workers failed to start 3 times in a row/);
      assert.match((error.cause as Error).message, /exit\(7\)|code 7/);
      return true;
    });
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
        await started(round);
        const next = await Promise.race([
          started(round + 1).then(() => `worker ${round + 1} started at once, with no back-off`),
          clock.timerSet().then(() => "backed off"),
        ]);
        assert.equal(next, "backed off", `after crash ${round}`);
        assert.equal(pool.alive, 0);
        clock.next();
      }
      assert.equal(clock.delays[1], 2 * clock.delays[0]!, "the back-off doubles");
    } finally {
      channel.close();
    }
  });

  it("Pool option taskTimeout fails jobs whose worker never finishes importing its task module", async () => {
    await using pool = new Pool({
      maxChildren: 1,
      module: fixture("faults_never_imports.ts"),
      taskTimeout: 50,
    });
    await assert.rejects(pool.run("ok"), TaskTimeoutError);
    await assert.rejects(pool.run("ok"), TaskTimeoutError);
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

describe("Pool timeouts", () => {
  it("Pool option taskTimeout fails a job that runs too long with TaskTimeoutError and replaces its worker", async () => {
    // A fake clock: the timeout fires when the test says so, never because a worker started slowly.
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 50, clock });
    const g = gate();
    try {
      const slow = pool.run(waitAtGate, g.memory, "late");
      const queued = pool.run(identity, 2);
      await g.started();
      clock.tick(49);
      assert.equal(await promiseState(slow), "pending");
      clock.tick(1);
      await assert.rejects(slow, (error: unknown) => {
        assert.ok(error instanceof TaskTimeoutError);
        assert.equal(error.jobId, 1);
        assert.equal(error.timeout, 50);
        assert.match(error.message, /^Job 1 timed out after 50 ms$/);
        return true;
      });
      assert.equal(await queued, 2);
      assert.equal(await pool.run(workerName), "ThreadPool-2");
      assert.deepEqual([pool.alive, pool.busy, pool.pending], [1, 0, 0]);
    } finally {
      g.open();
    }
  });

  it("Pool option taskTimeout times out each item of a map, not only the last", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 50, clock });
    const g = gate();
    const hang = (memory: Int32Array) => {
      Atomics.add(memory, 0, 1);
      Atomics.notify(memory, 0);
      Atomics.wait(memory, 1, 0);
      return "late";
    };
    try {
      assert.equal(pool.map(hang, [g.memory, g.memory, g.memory]), 3);
      const first = 1; // a fresh pool's first job id
      for (let item = 1; item <= 3; item++) {
        await g.started(item);
        clock.tick(50);
        await pool.failedCount.acquire();
      }
      const errors = [...pool.failed] as TaskTimeoutError[];
      assert.deepEqual(errors.map((error) => error.jobId), [first, first + 1, first + 2]);
      assert.ok(errors.every((error) => error instanceof TaskTimeoutError));
      assert.equal(pool.done.length, 0);
    } finally {
      g.open();
    }
  });

  it("Pool.exec() option timeout stops a synchronous endless loop", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const memory = new Int32Array(new SharedArrayBuffer(4));
    try {
      await assert.rejects(
        pool.exec(spinUntilReleased, [memory], { timeout: 50 }),
        TaskTimeoutError,
      );
      assert.equal(await pool.exec(identity, [5], { timeout: 10_000 }), 5);
      assert.equal(await pool.run(workerName), "ThreadPool-2");
    } finally {
      Atomics.store(memory, 0, 1);
    }
  });

  it("Pool option taskTimeout and exec() timeout leave no timer behind once the job ends", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, minChildren: 1, taskTimeout: 60_000, clock });
    assert.equal(await pool.run(identity, 1), 1);
    assert.equal(await pool.exec(identity, [2], { timeout: 30_000 }), 2);
    assert.equal(clock.pendingTimers, 0, "a timeout timer outlived its job");
  });
});

describe("Pool aborts", () => {
  it("Pool.exec() option signal on a running job replaces its worker and rejects with the reason", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const g = gate();
    try {
      const controller = new AbortController();
      const running = pool.exec(waitAtGate, [g.memory, "never"], { signal: controller.signal });
      const queued = pool.run(identity, 7);
      await g.started();
      const reason = new Error("no longer needed");
      controller.abort(reason);
      await assert.rejects(running, (error) => error === reason);
      assert.equal(await queued, 7);
      assert.equal(await pool.run(workerName), "ThreadPool-2");
      assert.deepEqual([pool.alive, pool.busy, pool.pending], [1, 0, 0]);
    } finally {
      g.open();
    }
  });

  it("Pool.exec() option signal on a queued job cancels it", async () => {
    const cancelled: number[] = [];
    await using pool = new Pool({ maxChildren: 1, cancelledCallback: (id) => cancelled.push(id) });
    const g = gate();
    try {
      const running = pool.run(waitAtGate, g.memory, "ran");
      await g.started();
      const controller = new AbortController();
      const queued = pool.exec(identity, [2], { signal: controller.signal });
      assert.equal(pool.pending, 2);
      controller.abort("changed my mind");
      await assert.rejects(queued, (error) => error === "changed my mind");
      assert.deepEqual(cancelled, [2]);
      assert.equal(pool.pending, 1);
      g.open();
      assert.equal(await running, "ran");
      assert.equal(await pool.run(workerName), "ThreadPool-1", "a queued abort kills no worker");
    } finally {
      g.open();
    }
  });

  it("Pool.exec() with an aborted signal rejects at once and queues nothing", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const reason = new Error("too late");
    const job = pool.exec(identity, [1], { signal: AbortSignal.abort(reason) });
    assert.equal(pool.pending, 0);
    await assert.rejects(job, (error) => error === reason);
    const done = new AbortController();
    assert.equal(await pool.exec(identity, [2], { signal: done.signal }), 2);
    done.abort();
    assert.equal(pool.pending, 0, "aborting after the end changes nothing");
  });
});

describe("Pool option maxQueue", () => {
  it("Pool refuses the job that would overflow the queue with QueueFullError: submit throws, exec rejects, map is refused whole", async () => {
    await using pool = new Pool({ maxChildren: 1, maxQueue: 3 });
    const g = gate();
    try {
      pool.submitDone(waitAtGate, false, g.memory, 0);
      await g.started();
      for (let i = 0; i < 3; i++) pool.submit(identity, i);
      assert.throws(() => pool.submit(identity, 3), (error: unknown) => {
        assert.ok(error instanceof QueueFullError);
        assert.equal(error.maxQueue, 3);
        assert.match(error.message, /queue is full \(maxQueue is 3\)/);
        return true;
      });
      assert.throws(() => pool.submitFirst(identity, 3), QueueFullError);
      await assert.rejects(pool.run(identity, 3), QueueFullError);
      assert.throws(() => pool.map(identity, [3]), QueueFullError);
      assert.equal(pool.jobs.length, 3);
      assert.equal(pool.cancel(pool.jobs.at(0)!.id), true);
      assert.throws(
        () => pool.map(identity, [3, 4]),
        QueueFullError,
        "a map that does not fit is refused whole",
      );
      assert.equal(pool.map(identity, [3]), 1);
      assert.equal(pool.pending, 4);
      g.open();
      await pool.wait();
      assert.deepEqual([...pool.done], [1, 2, 3]);
    } finally {
      g.open();
    }
  });

  it("Pool option maxQueue: the queue never holds more than maxQueue jobs, whatever the mix of submits", async () => {
    const maxQueue = 50;
    let ended = 0;
    let cancelled = 0;
    await using pool = new Pool({
      maxChildren: 1,
      maxQueue,
      doneCallback: () => ended++,
      cancelledCallback: () => cancelled++,
    });
    const g = gate();
    try {
      pool.submitDone(waitAtGate, false, g.memory, 0);
      await g.started();
      let seed = 42;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      let accepted = 0;
      let refused = 0;
      const promises: Promise<unknown>[] = [];
      for (let attempt = 0; attempt < 500; attempt++) {
        const pick = random();
        try {
          if (pick < 0.3) {
            pool.submit(identity, attempt);
            accepted++;
          } else if (pick < 0.5) {
            pool.submitFirst(identity, attempt);
            accepted++;
          } else if (pick < 0.8) {
            const n = 1 + Math.floor(random() * 10);
            accepted += pool.map(identity, Array.from({ length: n }, (_, i) => i), () => ended++);
          } else {
            promises.push(pool.run(identity, attempt).then(() => ended++));
            accepted++;
          }
        } catch (error) {
          assert.ok(error instanceof QueueFullError, String(error));
          refused++;
        }
        if (pick >= 0.95 && pool.jobs.length > 0) pool.cancel(pool.jobs.at(0)!.id);
        assert.ok(pool.jobs.length <= maxQueue, `queue holds ${pool.jobs.length} jobs`);
      }
      g.open();
      const runs = await Promise.allSettled(promises);
      for (const run of runs) {
        if (run.status === "rejected" && run.reason instanceof QueueFullError) {
          refused++;
          accepted--;
        } else if (run.status === "rejected") {
          assert.equal((run.reason as Error).name, "AbortError", "a cancelled run() rejects");
        }
      }
      assert.ok(refused > 0, "the bound was reached");
      assert.ok(cancelled > 0, "some were cancelled");
      await pool.wait();
      assert.equal(ended + cancelled, accepted, "every accepted job ran or was cancelled");
      assert.equal(pool.pending, 0);
    } finally {
      g.open();
    }
  });

  it("Pool.submitLater() fails a job that finds the queue full when its timer fires", async () => {
    const failures: [unknown, number][] = [];
    const clock = new FakeClock();
    await using pool = new Pool({
      maxChildren: 1,
      maxQueue: 1,
      clock,
      failedCallback: (error, id) => failures.push([error, id]),
    });
    const g = gate();
    try {
      pool.submitDone(waitAtGate, false, g.memory, 0);
      await g.started();
      pool.submit(identity, 1);
      pool.submitLater(10, identity, 2);
      clock.tick(10);
      assert.equal(failures.length, 1);
      assert.ok(failures[0]![0] instanceof QueueFullError);
      g.open();
      await pool.wait();
      assert.deepEqual([...pool.done], [1]);
    } finally {
      g.open();
    }
  });
});

describe("Pool shutdown, terminate and cancel racing with jobs", () => {
  it("Pool.terminate() while jobs run, wait and arrive ends every job exactly once", async () => {
    const t = tally();
    const pool = new Pool({ maxChildren: 2, ...t.options });
    const g = gate();
    try {
      const ids = [pool.submit(waitAtGate, g.memory, "a"), pool.submit(waitAtGate, g.memory, "b")];
      await g.started(2);
      for (let i = 0; i < 10; i++) ids.push(pool.submit(identity, i));
      const first = ids.at(-1)! + 1;
      assert.equal(pool.map(identity, [1, 2, 3]), 3);
      ids.push(first, first + 1, first + 2);
      const promise = pool.run(identity, 99);
      pool.terminate();
      assert.throws(() => pool.submit(identity, 1), PoolClosedError);
      await assert.rejects(pool.run(identity, 1), PoolClosedError);
      await assert.rejects(promise, PoolClosedError);
      t.exactlyOnce([...ids, first + 3]);
      assert.deepEqual(ids.slice(0, 2).map((id) => t.how(id)), [
        "failed:PoolClosedError",
        "failed:PoolClosedError",
      ]);
      assert.ok(ids.slice(2).every((id) => t.how(id) === "cancelled"));
      assert.deepEqual([pool.alive, pool.busy, pool.pending, pool.jobs.length], [0, 0, 0, 0]);
    } finally {
      g.open();
    }
  });

  it("Pool.terminate() during shutdown() fails the running jobs and lets the shutdown resolve", async () => {
    const t = tally();
    const pool = new Pool({ maxChildren: 1, ...t.options });
    const g = gate();
    try {
      const running = pool.submit(waitAtGate, g.memory, "x");
      await g.started();
      const queued = [pool.submit(identity, 1), pool.submit(identity, 2)];
      const closing = pool.shutdown();
      assert.equal(await promiseState(closing), "pending");
      pool.terminate();
      assert.equal(await closing, true);
      t.exactlyOnce([running, ...queued]);
      assert.equal(t.how(running), "failed:PoolClosedError");
      assert.deepEqual(queued.map((id) => t.how(id)), ["cancelled", "cancelled"]);
      assert.deepEqual([pool.alive, pool.pending], [0, 0]);
    } finally {
      g.open();
    }
  });

  it("Pool.shutdown() with soon while a map is spread over workers cancels only its queued items", async () => {
    const t = tally();
    const pool = new Pool({ maxChildren: 2, ...t.options });
    const first = pool.submit(identity, 0);
    await pool.wait();
    const start = first + 1;
    const n = pool.map(
      identity,
      Array.from({ length: 50_000 }, (_, i) => i),
      t.options.doneCallback,
    );
    await Promise.resolve(); // the end-of-tick flush has sent what fits
    const queued = new Set<number>();
    for (const job of pool.jobs) queued.add(job.id);
    assert.ok(queued.size > 0 && queued.size < n, `${queued.size} of ${n} still queued`);
    assert.equal(await pool.shutdown(undefined, { soon: true }), true);
    const ids = Array.from({ length: n }, (_, i) => start + i);
    t.exactlyOnce([first, ...ids]);
    for (const id of ids) {
      assert.equal(t.how(id), queued.has(id) ? "cancelled" : "done", `job ${id}`);
    }
    assert.deepEqual([pool.alive, pool.pending], [0, 0]);
  });

  it("Pool.cancel() in the tick of submission cancels every job; after dispatch only the queued ones", async () => {
    const t = tally();
    await using pool = new Pool({ maxChildren: 1, ...t.options });
    const ids = Array.from({ length: 100 }, (_, i) => pool.submit(identity, i));
    assert.equal(pool.cancel(), true);
    assert.equal(pool.pending, 0);
    await pool.wait();
    assert.ok(ids.every((id) => t.how(id) === "cancelled"));
    const g = gate();
    try {
      const gated = pool.submit(waitAtGate, g.memory, 0);
      await g.started();
      const more = Array.from({ length: 100 }, (_, i) => pool.submit(identity, i));
      await Promise.resolve(); // the end-of-tick flush has sent what fits
      const queued = new Set<number>();
      for (const job of pool.jobs) queued.add(job.id);
      assert.equal(pool.cancel(gated), false, "a running job cannot be cancelled");
      pool.cancel();
      g.open();
      await pool.wait();
      t.exactlyOnce([...ids, gated, ...more]);
      for (const id of more) assert.equal(t.how(id), queued.has(id) ? "cancelled" : "done");
      assert.equal(t.how(gated), "done");
    } finally {
      g.open();
    }
  });
});
