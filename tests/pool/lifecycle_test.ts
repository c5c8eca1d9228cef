import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { PoolClosedError } from "../../src/errors.ts";
import { FakeClock } from "../_fake_clock.ts";
import { gate, measureGateQuick, waitAtGate } from "../_gate.ts";
import { fixture, promiseState, within } from "../_util.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";

const identity = (n: number) => n;

describe("Pool state", () => {
  it("Pool alive, busy and pending follow the jobs", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    assert.deepEqual([pool.alive, pool.busy, pool.pending], [0, 0, 0]);
    const g = gate();
    const a = pool.run(waitAtGate, g.memory, "a");
    const b = pool.run(waitAtGate, g.memory, "b");
    const c = pool.run(identity, 3);
    assert.equal(pool.pending, 3);
    await g.started(2);
    assert.equal(pool.alive, 2);
    assert.equal(pool.busy, 2);
    assert.equal(pool.jobs.length, 1, "the third job waits in the queue");
    g.open();
    assert.deepEqual(await Promise.all([a, b, c]), ["a", "b", 3]);
    assert.equal(pool.pending, 0);
    assert.equal(pool.busy, 0);
  });

  it("Pool option minChildren starts workers at once and keeps them", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 3, minChildren: 2, idleTimeout: 100, clock });
    assert.equal(pool.alive, 2);
    await Promise.all([1, 2, 3].map((n) => pool.run(identity, n)));
    clock.tick(1_000);
    assert.equal(pool.alive, 2);
  });

  it("Pool option idleTimeout lets idle workers above minChildren go", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 2, idleTimeout: 500, clock });
    await Promise.all([pool.run(identity, 1), pool.run(identity, 2)]);
    // Both started (one may have run both jobs, taking the other's if it was slow to start).
    while (pool.stats().workers.started < 2) {
      await new Promise((resolve) => pool.addEventListener("workerstart", resolve, { once: true }));
    }
    assert.equal(pool.alive, 2);
    clock.tick(499);
    assert.equal(pool.alive, 2);
    clock.tick(1);
    assert.equal(pool.alive, 0);
    assert.equal(await pool.run(identity, 3), 3, "workers start again on demand");
  });

  it("Pool option idleTimeout counts from a worker's last job, though the timer was set before it", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, idleTimeout: 1_000, clock });
    assert.equal(await pool.run(identity, 1), 1); // idle from 0: its timer is due at 1,000
    clock.tick(600);
    assert.equal(await pool.run(identity, 2), 2); // idle again from 600; the timer stays
    clock.tick(400); // the timer fires at 1,000: idle for 400 ms only, it waits 600 more
    assert.equal(pool.alive, 1);
    clock.tick(599);
    assert.equal(pool.alive, 1);
    clock.tick(1);
    assert.equal(pool.alive, 0, "it left 1,000 ms after its last job");
  });

  it("Pool option childNamePrefix names workers prefix-n", async () => {
    await using pool = new Pool({ maxChildren: 1, childNamePrefix: "Crunch" });
    assert.equal(await pool.run(() => (globalThis as { name?: string }).name), "Crunch-1");
    await using plain = new Pool({ maxChildren: 1 });
    assert.equal(await plain.run(() => (globalThis as { name?: string }).name), "ThreadPool-1");
  });
});

describe("Pool lifecycle", () => {
  it("Pool.wait() resolves true once idle and false at its timeout", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ maxChildren: 1, clock });
    assert.equal(await pool.wait(), true);
    const g = gate();
    pool.submit(waitAtGate, g.memory, 1);
    await g.started();
    const timed = pool.wait(10);
    clock.tick(9);
    assert.equal(await promiseState(timed), "pending");
    clock.tick(1);
    assert.equal(await timed, false);
    const idle = pool.wait();
    assert.equal(await promiseState(idle), "pending");
    g.open();
    assert.equal(await idle, true);
  });

  it("Pool.shutdown() runs queued jobs, then refuses new ones", async () => {
    const pool = new Pool({ maxChildren: 1 });
    pool.map(identity, [1, 2, 3]);
    assert.equal(await pool.shutdown(), true);
    assert.deepEqual([...pool.done], [1, 2, 3]);
    assert.equal(pool.alive, 0);
    assert.throws(() => pool.submit(identity, 4), {
      name: "PoolClosedError",
      message: /pool is closed/,
    });
  });

  it("Pool.shutdown() with soon cancels queued jobs", async () => {
    const cancelled: number[] = [];
    const pool = new Pool({ maxChildren: 1, cancelledCallback: (id) => cancelled.push(id) });
    const g = gate();
    const running = pool.run(waitAtGate, g.memory, "ran");
    await g.started();
    const queued = pool.run(identity, 2);
    const ids = [pool.submit(identity, 3), pool.submit(identity, 4)];
    const closing = pool.shutdown(undefined, { soon: true });
    await assert.rejects(queued, PoolClosedError);
    g.open();
    assert.equal(await closing, true);
    assert.equal(await running, "ran");
    assert.deepEqual(cancelled.slice(1), ids);
    assert.equal(pool.done.length, 0);
  });

  it("Pool.shutdown() returns false when jobs still run at the timeout", async () => {
    const clock = new FakeClock();
    const pool = new Pool({ maxChildren: 1, clock });
    const g = gate();
    const running = pool.run(waitAtGate, g.memory, "late");
    await g.started();
    const closing = pool.shutdown(10);
    clock.tick(10);
    assert.equal(await closing, false);
    g.open();
    assert.equal(await running, "late");
    await pool.wait();
    assert.equal(pool.alive, 0, "the worker left once idle");
  });

  it("Pool workers that leave after a shutdown that timed out say `shutdown`, those that went idle first too", async () => {
    const clock = new FakeClock();
    const pool = new Pool({ maxChildren: 2, idleTimeout: 20, clock });
    const reasons: string[] = [];
    const bothLeft = new Promise<void>((resolve) =>
      pool.addEventListener("workerexit", (event) => {
        if (reasons.push(event.detail.reason) === 2) resolve();
      })
    );
    const long = gate();
    const short = gate();
    const running = pool.run(waitAtGate, long.memory, "long");
    const ending = pool.run(waitAtGate, short.memory, "short");
    await Promise.all([long.started(), short.started()]);
    short.open();
    assert.equal(await ending, "short");
    const closing = pool.shutdown(10);
    clock.tick(10);
    assert.equal(await closing, false);
    clock.tick(20); // the idle worker's idleTimeout: it leaves now
    long.open();
    assert.equal(await running, "long");
    await bothLeft;
    assert.deepEqual(reasons, ["shutdown", "shutdown"]);
  });

  it("Pool.terminate() fails running jobs with PoolClosedError and cancels queued ones", async () => {
    const pool = new Pool({ maxChildren: 1 });
    const g = gate();
    const running = pool.run(waitAtGate, g.memory, "never");
    await g.started();
    const queued = pool.run(identity, 1);
    pool.terminate();
    await assert.rejects(running, {
      name: "PoolClosedError",
      message: /was running when the pool was terminated/,
    });
    await assert.rejects(queued, { name: "PoolClosedError", message: /cancelled/ });
    assert.deepEqual([pool.alive, pool.pending], [0, 0]);
    assert.throws(() => pool.submit(identity, 1), PoolClosedError);
  });

  it("Pool.terminate() cancels the jobs a worker held and had not started, and names those that ended so", async () => {
    const cancelled: number[] = [];
    const pool = new Pool({
      maxChildren: 1,
      resultId: true,
      cancelledCallback: (id: number) => cancelled.push(id),
    });
    await measureGateQuick(pool); // so jobs go to the worker behind a gated one
    const g = gate();
    const before = pool.stats().jobs;
    // One batch: three that end, one held at the gate, twenty behind it.
    const ended = [1, 2, 3].map((n) => pool.run(waitAtGate, new Int32Array(2).fill(1, 1), n));
    const running = pool.run(waitAtGate, g.memory, "never");
    const behind = Array.from({ length: 20 }, (_, n) => pool.run(waitAtGate, g.memory, n));
    await g.started();
    assert.equal(pool.stats().jobs.queued, 0, "all sent to the worker");
    pool.terminate();
    g.open();
    for (const job of ended) {
      await assert.rejects(job, {
        name: "PoolClosedError",
        message: /had ended when the pool was terminated; its answer was lost with its worker/,
      });
    }
    await assert.rejects(running, {
      name: "PoolClosedError",
      message: /was running when the pool was terminated/,
    });
    for (const job of behind) {
      await assert.rejects(job, { name: "PoolClosedError", message: /^Job cancelled/ });
    }
    const after = pool.stats().jobs;
    assert.equal(after.failed - before.failed, 4);
    assert.equal(after.cancelled - before.cancelled, 20);
    assert.equal(cancelled.length, 20);
  });

  it("Pool.terminate() with several lanes cancels the jobs that waited for one", async () => {
    const pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 2 });
    const g = gate();
    const held = (memory: Int32Array | null) => {
      if (memory === null) return Promise.resolve(0);
      Atomics.add(memory, 0, 1);
      Atomics.notify(memory, 0);
      return new Promise(() => {}); // holds its lane
    };
    for (let i = 0; i < 20; i++) await pool.run(held, null); // measured quick: sent behind others
    const jobs = Array.from({ length: 12 }, () => pool.run(held, g.memory));
    await g.started(2);
    const waiting = pool.stats().jobs.queued;
    pool.terminate();
    const outcomes = await Promise.allSettled(jobs);
    const messages = outcomes.map((o) =>
      o.status === "rejected" ? (o.reason as Error).message : ""
    );
    assert.equal(messages.filter((m) => /was running/.test(m)).length, 2);
    assert.equal(messages.filter((m) => /^Job cancelled/.test(m)).length, 10);
    assert.equal(pool.stats().jobs.cancelled, 10);
    assert.ok(waiting < 10, `${waiting} of the 10 waited in the queue: none in the worker`);
  });

  it("Pool.cancel() cancels all queued jobs, one by id, or none", async () => {
    await using pool = new Pool({ maxChildren: 1, resultId: true });
    const g = gate();
    pool.submitDone(waitAtGate, false, g.memory, 0);
    await g.started();
    const ids = [1, 2, 3, 4].map((n) => pool.submit(identity, n));
    assert.equal(pool.cancel(false), false);
    assert.equal(pool.cancel(ids[1]!), true);
    assert.equal(pool.cancel(ids[1]!), false, "already cancelled");
    assert.equal(pool.cancel(123456), false);
    assert.equal(pool.pending, 4);
    g.open();
    await pool.wait();
    assert.deepEqual([...pool.done].map((e) => (e as number[])[1]), [1, 3, 4]);
    const g2 = gate();
    pool.submitDone(waitAtGate, false, g2.memory, 0);
    await g2.started();
    pool.map(identity, [5, 6, 7]);
    assert.equal(pool.cancel(), true);
    assert.equal(pool.pending, 1);
    g2.open();
    await pool.wait();
    assert.equal(pool.done.length, 3);
  });

  it("Pool.cancel() cancels single jobs inside a map", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const g = gate();
    pool.submitDone(waitAtGate, false, g.memory, 0);
    await g.started();
    const first = pool.submit(identity, 0) + 1;
    pool.map(identity, [1, 2, 3, 4, 5]);
    assert.equal(pool.cancel(first), true);
    assert.equal(pool.cancel(first + 2), true);
    assert.equal(pool.cancel(first + 4), true);
    g.open();
    await pool.wait();
    assert.deepEqual([...pool.done], [0, 2, 4]);
  });

  it("Pool.clear() empties queues and counters, and a shut-down pool accepts work again", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    pool.submit(identity, 1);
    pool.submit(() => {
      throw new Error("x");
    });
    await pool.shutdown();
    assert.equal(pool.done.length, 1);
    pool.clear();
    assert.deepEqual([
      pool.done.length,
      pool.failed.length,
      pool.doneCount.value,
      pool.failedCount.value,
    ], [0, 0, 0, 0]);
    assert.equal(await pool.run(identity, 5), 5);
  });

  it("Pool.resize() grows and shrinks; a busy worker finishes its job first", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const g = gate();
    const jobs = [1, 2, 3].map((n) => pool.run(waitAtGate, g.memory, n));
    await g.started(1);
    assert.equal(pool.alive, 1);
    pool.resize(3);
    await g.started(3);
    assert.equal(pool.alive, 3);
    pool.resize(1);
    assert.equal(pool.maxChildren, 1);
    g.open();
    assert.deepEqual(await Promise.all(jobs), [1, 2, 3]);
    assert.equal(pool.alive, 1);
    assert.throws(() => pool.resize(-100), RangeError);
  });

  it("Pool.resize() down: a worker that goes idle leaves in the place of a busy one asked to leave", async () => {
    await using pool = new Pool({ maxChildren: 2, idleTimeout: 60_000 });
    const first = gate();
    const second = gate();
    const one = pool.run(waitAtGate, first.memory, 1);
    await first.started(1);
    const two = pool.run(waitAtGate, second.memory, 2); // on a second worker, the newest
    await second.started(1);
    pool.resize(1); // the newest is asked to leave once idle
    const left = new Promise<string>((resolve) =>
      pool.addEventListener("workerexit", (event) => resolve((event as CustomEvent).detail.reason))
    );
    first.open();
    assert.equal(await one, 1);
    // Before: the first worker stayed idle, two workers for as long as the second job ran.
    assert.equal(await left, "resize");
    assert.equal(pool.alive, 1);
    second.open();
    assert.equal(await two, 2);
    assert.equal(pool.alive, 1, "the busy one stays, no longer asked to leave");
  });

  it("Pool.resize() keeps minChildren up to maxChildren, and gives it back as the pool grows", async () => {
    await using pool = new Pool({ maxChildren: 3, minChildren: 3 });
    let started = 0;
    let alive = () => {};
    pool.addEventListener("workerstart", () => {
      started++;
      alive();
    });
    const startedAll = (n: number) =>
      new Promise<void>((resolve) => {
        alive = () => started === n && resolve();
        alive();
      });
    await startedAll(3);
    pool.resize(1);
    assert.equal(pool.alive, 1);
    pool.resize(3);
    // Before: the fixed pool had become adaptive: one worker, for good.
    assert.equal(await within(startedAll(5), 10_000), true, `${pool.alive} alive`);
    assert.equal(pool.alive, 3);
    // Shrunk while busy, then grown: the busy workers asked to leave stay.
    const g = gate();
    const jobs = [1, 2, 3].map((n) => pool.run(waitAtGate, g.memory, n));
    await g.started(3);
    pool.resize(1);
    pool.resize(3);
    g.open();
    assert.deepEqual(await Promise.all(jobs), [1, 2, 3]);
    // Before: two left once idle ("resize"), and none came back.
    assert.equal(pool.alive, 3);
    assert.equal(started, 5);
  });

  it("Pool is AsyncDisposable: await using shuts it down", async () => {
    let outer: Pool | undefined;
    {
      await using pool = new Pool({ maxChildren: 1 });
      outer = pool;
      pool.submit(identity, 1);
    }
    assert.equal(outer.done.length, 1);
    assert.equal(outer.alive, 0);
    assert.throws(() => outer.submit(identity, 1), PoolClosedError);
  });
});

describe("Pool options", () => {
  it("Pool option maxChildren follows fastthreadpool's arithmetic", () => {
    const cores = navigator.hardwareConcurrency;
    assert.equal(new Pool().maxChildren, cores);
    assert.equal(new Pool({ maxChildren: 3 }).maxChildren, 3);
    assert.equal(new Pool({ maxChildren: 0 }).maxChildren, cores);
    if (cores > 1) assert.equal(new Pool({ maxChildren: -1 }).maxChildren, cores - 1);
    assert.throws(() => new Pool({ maxChildren: -cores }), {
      name: "RangeError",
      message: /"maxChildren"/,
    });
    assert.throws(() => new Pool({ maxChildren: 1.5 }), {
      name: "RangeError",
      message: /"maxChildren" must be an integer/,
    });
  });

  it("new Pool() refuses options of the wrong type or range, naming them", () => {
    const bad: [object, RegExp, ErrorConstructor][] = [
      [{ maxChildren: "2" }, /"maxChildren"/, TypeError],
      [{ minChildren: 5, maxChildren: 2 }, /"minChildren"/, RangeError],
      [{ childNamePrefix: 7 }, /"childNamePrefix"/, TypeError],
      [{ doneCallback: "no" }, /"doneCallback"/, TypeError],
      [{ logLevel: "loud" }, /"logLevel"/, TypeError],
      [{ idleTimeout: -1 }, /"idleTimeout"/, RangeError],
      [{ maxQueue: 0 }, /"maxQueue"/, RangeError],
      [{ module: "./relative.ts" }, /"module" must be an absolute URL/, TypeError],
    ];
    for (const [options, message, Class] of bad) {
      assert.throws(() => new Pool(options as never), (error: Error) => {
        assert.ok(error instanceof Class, `${JSON.stringify(options)}: ${error}`);
        assert.match(error.message, message);
        assert.match(error.message, /^Cannot create pool: /);
        return true;
      });
    }
  });
});

describe("Pool.jobs as a Deque", () => {
  it("Pool.jobs shift(), pop(), clear() and drain() take jobs out, cancelled once; push() and unshift() throw", async () => {
    const cancelled: number[] = [];
    await using pool = new Pool({ maxChildren: 1, cancelledCallback: (id) => cancelled.push(id) });
    const g = gate();
    const running = pool.run(waitAtGate, g.memory, "ran");
    await g.started();
    const run = pool.run(identity, 0);
    const ids = [
      pool.submit(identity, 1),
      ...Array.from({ length: 3 }, (_, i) => pool.submit(identity, i + 2)),
    ];
    pool.map(identity, [5, 6, 7]);
    assert.equal(pool.jobs.length, 8);
    assert.deepEqual(pool.jobs.shift()?.args, [0]); // run()'s job
    await assert.rejects(run, { name: "AbortError" });
    assert.deepEqual(pool.jobs.pop()?.args, [7]); // a map item, cut from its entry
    assert.deepEqual(pool.jobs.shift()?.id, ids[0]);
    assert.deepEqual(pool.jobs.drain().map((job) => job.args[0]), [2, 3, 4, 5, 6]);
    assert.equal(pool.jobs.length, 0);
    assert.equal(pool.jobs.shift(), undefined);
    assert.equal(pool.jobs.pop(), undefined);
    pool.submit(identity, 8);
    pool.jobs.clear();
    assert.equal(pool.jobs.length, 0);
    assert.throws(() => pool.jobs.push(undefined as never), {
      name: "TypeError",
      message: /submit\(\)/,
    });
    assert.throws(() => pool.jobs.unshift(undefined as never), {
      name: "TypeError",
      message: /submitFirst\(\)/,
    });
    g.open();
    assert.equal(await running, "ran");
    assert.equal(await pool.wait(), true);
    assert.equal(cancelled.length, 9, "each once");
    assert.equal(new Set(cancelled).size, 9);
    assert.equal(pool.done.length, 0);
    const { jobs } = pool.stats();
    assert.deepEqual([jobs.done, jobs.cancelled, jobs.queued, jobs.running], [1, 9, 0, 0]);
  });
});

describe("Pool jobs a busy worker holds but has not started", () => {
  /**
   * A pool of one worker running a gated job, with 100 quick jobs submitted
   * behind it and left a turn, so the worker is handed some of them.
   */
  const heldBehind = async (options: ConstructorParameters<typeof Pool>[0] = {}) => {
    const pool = new Pool({ maxChildren: 1, ...options });
    pool.map(identity, Array.from({ length: 200 }, (_, i) => i), false); // measured quick
    await pool.wait();
    await measureGateQuick(pool); // or nothing would wait behind the gated job
    const g = gate();
    const running = pool.run(waitAtGate, g.memory, "ran");
    await g.started();
    const ids = Array.from({ length: 100 }, (_, i) => pool.submit(identity, i));
    await new Promise((resolve) => setTimeout(resolve, 0)); // one turn: the batches go out
    assert.ok(pool.jobs.length < 100, "some went to the busy worker");
    assert.deepEqual(
      [pool.stats().jobs.queued, pool.stats().jobs.running],
      [100, 1],
      "they count as queued, not running",
    );
    return { pool, g, running, ids };
  };

  it("Pool.cancel(id) cancels one, and the others still run", async () => {
    const { pool, g, running, ids } = await heldBehind();
    const first = ids[0]!;
    assert.equal(pool.cancel(first), true);
    assert.equal(pool.cancel(first), false);
    g.open();
    assert.equal(await running, "ran");
    assert.equal(await pool.wait(), true);
    assert.deepEqual(pool.done.drain(), Array.from({ length: 99 }, (_, i) => i + 1));
    assert.equal(pool.stats().jobs.cancelled, 1);
    await pool.shutdown();
  });

  it("Pool.shutdown() with soon cancels them, and Pool.cancel() too", async () => {
    for (const how of ["shutdown", "cancel"] as const) {
      const cancelled: number[] = [];
      const { pool, g, running, ids } = await heldBehind({
        cancelledCallback: (id) => cancelled.push(id),
      });
      const closing = how === "shutdown" ? pool.shutdown(undefined, { soon: true }) : null;
      if (how === "cancel") assert.equal(pool.cancel(), true);
      g.open();
      assert.equal(await running, "ran");
      if (closing) assert.equal(await closing, true);
      else await pool.shutdown();
      assert.deepEqual(cancelled, ids, how);
      assert.equal(pool.done.length, 0, how);
    }
  });

  it("Pool.cancel() takes back every worker's, also when one leaves the pool as it empties", async () => {
    // Each starting worker is handed one job and has then spent its maxJobsPerWorker budget:
    // emptied by the take-back, the first leaves the pool at once.
    const cancelled: number[] = [];
    await using pool = new Pool<{ name(): string }>({
      maxChildren: 2,
      minChildren: 2,
      maxJobsPerWorker: 1,
      module: fixture("slow_start_tasks.ts"),
      cancelledCallback: (id) => cancelled.push(id),
    });
    const ids = [pool.submit("name"), pool.submit("name")];
    await new Promise((resolve) => setTimeout(resolve, 0)); // one turn: handed to the workers
    assert.equal(pool.jobs.length, 0);
    assert.equal(pool.stats().jobs.queued, 2, "neither started: their module still loads");
    assert.equal(pool.cancel(), true);
    assert.deepEqual(cancelled.sort((a, b) => a - b), ids);
    assert.equal(await pool.wait(), true);
    assert.equal(pool.done.length, 0);
  });

  it("Pool.exec() aborted while a busy worker holds it unstarted: cancelled once, the running job unharmed", async () => {
    const cancelled: number[] = [];
    const failed: number[] = [];
    await using pool = new Pool({
      maxChildren: 1,
      concurrentTasksPerWorker: 2, // an exec() with a signal may then wait behind another job
      cancelledCallback: (id) => cancelled.push(id),
      failedCallback: (_, id) => failed.push(id),
    });
    const exits: string[] = [];
    pool.addEventListener("workerexit", (event) => exits.push(event.detail.reason));
    const g = gate();
    const running = pool.run(waitAtGate, g.memory, "ran");
    await g.started();
    const controller = new AbortController();
    const held = pool.exec(identity, [1], { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 0)); // one turn: handed to the blocked worker
    assert.deepEqual([pool.jobs.length, pool.stats().jobs.queued], [0, 1]);
    controller.abort(new Error("not needed"));
    await assert.rejects(held, /not needed/);
    assert.equal(cancelled.length, 1, "cancelled, as a queued job is");
    assert.equal(pool.cancel(), false, "nothing left to take back: it ends once");
    g.open();
    assert.equal(await running, "ran");
    assert.equal(await pool.wait(), true);
    const { jobs } = pool.stats();
    assert.deepEqual([jobs.done, jobs.failed, jobs.cancelled, jobs.running], [1, 0, 1, 0]);
    assert.deepEqual([failed, exits], [[], []]);
  });

  it("Pool stats count async jobs that run beside others as running, not queued", async () => {
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 4 });
    const started = new Semaphore(0);
    const go = new Semaphore(0);
    const jobs = Array.from(
      { length: 3 },
      () =>
        pool.run(
          async (up: Semaphore, down: Semaphore) => {
            up.release();
            await down.acquire();
            return 1;
          },
          started,
          go,
        ),
    );
    for (let i = 0; i < 3; i++) assert.equal(await started.acquire(), true);
    const now = pool.stats().jobs;
    assert.deepEqual([now.queued, now.running], [0, 3]);
    assert.equal(pool.cancel(), false, "all three started");
    go.release(3);
    assert.deepEqual(await Promise.all(jobs), [1, 1, 1]);
  });

  it("Pool.terminate() cancels them: only the running job fails", async () => {
    const { pool, running } = await heldBehind();
    pool.terminate();
    await assert.rejects(running, PoolClosedError);
    const { jobs } = pool.stats();
    assert.deepEqual([jobs.failed, jobs.cancelled, jobs.done], [1, 100, 220]); // 220: measuring
  });
});
