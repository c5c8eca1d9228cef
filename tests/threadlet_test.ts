import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { Pool } from "../src/pool/pool.ts";
import type { PoolOptions } from "../src/pool/options.ts";
import { task } from "../src/task.ts";
import { defaultPool, executors, go, shutdownDefaultPool, spawn } from "../src/threadlet.ts";
import { setDefaultWorkerUrl } from "../src/pool/worker_url.ts";
import { ThreadPool, WorkRequest } from "../src/compat/threadpool.ts";
import { FakeClock } from "./_fake_clock.ts";
import { fixture, isBun, promiseState } from "./_util.ts";
import { gate as makeGate, waitAtGate } from "./_gate.ts";

const tasks = fixture("tasks.ts");

/** Runs a script in a fresh runtime process; resolves with its exit code and output once it has ended. */
function runProgram(
  url: URL,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = decodeURIComponent(url.pathname);
  const args = isBun ? [path] : ["run", "-A", path];
  return new Promise((resolve) => {
    // The timeout only guards against a hang; the test awaits the exit.
    execFile(
      process.execPath,
      args,
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

describe("go()", () => {
  it("go() resolves with the result, on one shared default pool", async () => {
    try {
      const pool = defaultPool();
      assert.equal(defaultPool(), pool, "created once, then shared");
      const results = await Promise.all(
        [1, 2, 3].map((n) => go((x: number) => x * 2, n)),
      );
      assert.deepEqual(results, [2, 4, 6]);
      assert.ok(pool.alive >= 1);
      assert.equal(
        await go(function* (n: number) {
          for (let i = 0; i < n; i++) yield i;
        }, 3).then((values) => values.length),
        3,
      );
    } finally {
      await shutdownDefaultPool();
    }
  });

  it("go() runs task() references and rejects with the task's error", async () => {
    try {
      const double = task<typeof import("./fixtures/tasks.ts").double>(
        tasks,
        "double",
      );
      assert.equal(await go(double, 21), 42);
      const fail = task<typeof import("./fixtures/tasks.ts").fail>(
        tasks,
        "fail",
      );
      await assert.rejects(go(fail, "no"), {
        name: "RangeError",
        message: "no",
      });
    } finally {
      await shutdownDefaultPool();
    }
  });

  it("shutdownDefaultPool() closes the shared pool; the next go() makes a new one", async () => {
    try {
      const first = defaultPool();
      assert.equal(await go(() => 1), 1);
      assert.equal(await shutdownDefaultPool(), true);
      assert.equal(first.alive, 0);
      assert.equal(await shutdownDefaultPool(), true, "nothing to shut down");
      assert.equal(await go(() => 2), 2);
      assert.notEqual(defaultPool(), first);
    } finally {
      await shutdownDefaultPool();
    }
  });

  it("shutdownDefaultPool() called while an earlier call waits waits for that pool too", async () => {
    const held = makeGate();
    try {
      const first = defaultPool();
      const job = go(waitAtGate, held.memory, "held");
      await held.started();
      const shutting = shutdownDefaultPool();
      const again = shutdownDefaultPool();
      // Before: true at once, the old pool's job still running.
      assert.equal(await shutdownDefaultPool(0), false, "a job still runs at the timeout");
      assert.equal(await promiseState(again), "pending");
      held.open();
      assert.equal(await job, "held");
      assert.equal(await shutting, true);
      assert.equal(await again, true);
      assert.equal(first.alive, 0);
      assert.equal(await shutdownDefaultPool(0), true, "nothing left to wait for");
    } finally {
      held.open();
      await shutdownDefaultPool();
    }
  });

  it("shutdownDefaultPool() that returned false at its timeout no longer holds later calls", async () => {
    const held = makeGate();
    try {
      const job = go(waitAtGate, held.memory, "held");
      await held.started();
      assert.equal(await shutdownDefaultPool(0), false, "a job still runs at the timeout");
      assert.equal(await go(() => 1), 1); // a new shared pool, idle once this ends
      // Before: false after 5 s (and never settling without a timeout), waiting for the old pool.
      assert.equal(await shutdownDefaultPool(5_000), true);
      held.open();
      assert.equal(await job, "held");
    } finally {
      held.open();
      await shutdownDefaultPool();
    }
  });

  it("shutdownDefaultPool() checks its timeout also when there is no shared pool", async () => {
    await shutdownDefaultPool();
    // Before: true, unchecked, until a go() had made a pool.
    await assert.rejects(shutdownDefaultPool(-1), {
      name: "RangeError",
      message: /Cannot shut down the default pool: "timeout"/,
    });
    await assert.rejects(shutdownDefaultPool("soon" as never), { name: "TypeError" });
  });

  it("go() and spawn() refuse a name, and a hand-made task reference that task() would refuse", async () => {
    type Untyped = (task: unknown, ...args: unknown[]) => Promise<unknown>;
    const [anyGo, anySpawn] = [go as unknown as Untyped, spawn as unknown as Untyped];
    try {
      // Before: "the pool has no "module" option", an option go() has not.
      await assert.rejects(anyGo("double"), {
        name: "TypeError",
        message:
          'Cannot go: "task" must be a function or a task() reference, not a name ("double"): use task(moduleUrl, "double")',
      });
      await assert.rejects(anySpawn("double"), { name: "TypeError", message: /Cannot spawn/ });
      // Before: "must be a function, an export name or a task() reference": names are refused.
      for (const bad of [undefined, 5, { module: tasks.href }]) {
        await assert.rejects(anyGo(bad), {
          name: "TypeError",
          message: new RegExp(
            `^Cannot go: "task" must be a function or a task\\(\\) reference, received (undefined|5|an object)$`,
          ),
        });
        await assert.rejects(anySpawn(bad), {
          name: "TypeError",
          message: /^Cannot spawn: "task"/,
        });
      }
      // Before: imported as it is, against the worker's URL (Deno) or the working directory (Bun).
      const relative = { module: "./tasks.ts", name: "double" };
      await assert.rejects(anyGo(relative, 1), {
        name: "TypeError",
        message:
          /"task" is a task reference whose "module" is not an absolute URL \("\.\/tasks\.ts"\)/,
      });
      const unnamed = { module: tasks.href, name: "" };
      await assert.rejects(anyGo(unnamed, 1), {
        name: "TypeError",
        message: /"name" is not a non-empty string/,
      });
      assert.equal(await go(task<(n: number) => number>(tasks, "double"), 2), 4);
    } finally {
      await shutdownDefaultPool();
    }
  });

  it("defaultPool() closed through the Pool API (await using) is replaced at the next go()", async () => {
    try {
      let first: Pool;
      {
        await using pool = defaultPool();
        first = pool;
        assert.equal(await go(() => 1), 1);
      }
      assert.equal(first.closed, true);
      assert.equal(await go(() => 2), 2);
      assert.notEqual(defaultPool(), first);
    } finally {
      await shutdownDefaultPool();
    }
  });

  it("shutdownDefaultPool() with a bad timeout rejects and leaves the shared pool open and shared", async () => {
    try {
      const pool = defaultPool();
      await assert.rejects(shutdownDefaultPool(-1), { name: "RangeError", message: /"timeout"/ });
      assert.equal(pool.closed, false);
      assert.equal(defaultPool(), pool);
      assert.equal(await go(() => 3), 3);
    } finally {
      await shutdownDefaultPool();
    }
  });

  it("go() and spawn() let a program end once their jobs are done", async () => {
    const { code, stdout, stderr } = await runProgram(
      fixture("threadlet_program.ts"),
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), {
      doubled: [2, 4, 6],
      spawned: "SPAWNED",
    });
  });
});

describe("spawn()", () => {
  it("spawn() runs each job in a worker of its own", async () => {
    const gate = makeGate();
    const a = spawn(waitAtGate, gate.memory, "a");
    const b = spawn(waitAtGate, gate.memory, "b");
    await gate.started(2); // both run at once
    gate.open();
    assert.deepEqual(await Promise.all([a, b]), ["a", "b"]);
    assert.equal(
      await spawn(() => (globalThis as { name?: string }).name),
      "spawn-1",
    );
  });

  it("spawn() rejects with the task's error, and refuses a bad task", async () => {
    await assert.rejects(
      spawn(() => {
        throw new RangeError("no");
      }),
      { name: "RangeError", message: "no" },
    );
    // @ts-expect-error: a number is not a task
    await assert.rejects(spawn(42), TypeError);
  });
});

describe("executors", () => {
  it("executors.worker() runs jobs one at a time, in the order they were queued", async () => {
    await using pool = new Pool(executors.worker());
    assert.equal(pool.alive, 1, "started at once");
    // Shared words: 0 jobs running now, 1 jobs started; 2… the order they started in, 6… how
    // many were running as each started. Each job yields a turn of the worker's event loop
    // mid-way: run side by side, the next job would start then and see two running.
    const memory = new Int32Array(new SharedArrayBuffer(4 * 10));
    for (let i = 0; i < 4; i++) {
      pool.submit(
        async (m: Int32Array, n: number) => {
          const running = Atomics.add(m, 0, 1) + 1;
          const at = Atomics.add(m, 1, 1);
          Atomics.store(m, 2 + at, n);
          Atomics.store(m, 6 + at, running);
          await new Promise((resolve) => setTimeout(resolve, 0));
          Atomics.sub(m, 0, 1);
          return n;
        },
        memory,
        i,
      );
    }
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...memory.slice(2, 6)], [0, 1, 2, 3], "started in queue order");
    assert.deepEqual([...memory.slice(6, 10)], [1, 1, 1, 1], "never two at once");
    assert.deepEqual([...pool.done], [0, 1, 2, 3]);
    assert.equal(pool.alive, 1);
  });

  it("executors.simple() starts every worker up front and keeps them", async () => {
    const clock = new FakeClock();
    await using pool = new Pool({ ...executors.simple(2), clock });
    assert.equal(pool.alive, 2, "started before any job");
    const gate = makeGate();
    pool.submit(waitAtGate, gate.memory, "a");
    pool.submit(waitAtGate, gate.memory, "b");
    await gate.started(2);
    gate.open();
    assert.equal(await pool.wait(), true);
    clock.tick(60_000);
    assert.equal(pool.alive, 2, "idle workers stay");
    assert.equal(clock.pendingTimers, 0);
  });

  it("executors.adaptive() grows under load and shrinks after idleTimeout", async () => {
    const clock = new FakeClock();
    await using pool = new Pool(
      executors.adaptive(3, { idleTimeout: 500, clock }),
    );
    assert.equal(pool.alive, 1, "one worker kept");
    const gate = makeGate();
    for (const name of ["a", "b", "c"]) pool.submit(waitAtGate, gate.memory, name);
    await gate.started(3);
    assert.equal(pool.alive, 3, "grown under load");
    gate.open();
    assert.equal(await pool.wait(), true);
    assert.equal(pool.alive, 3);
    clock.tick(499);
    assert.equal(pool.alive, 3);
    clock.tick(1);
    assert.equal(pool.alive, 1, "the extra workers left; one is kept");
    clock.tick(60_000);
    assert.equal(pool.alive, 1);
    assert.deepEqual([...pool.done].sort(), ["a", "b", "c"]);
  });

  it("executors.adaptive() with minChildren 0 lets even the last worker go", async () => {
    const clock = new FakeClock();
    await using pool = new Pool(
      executors.adaptive(2, { minChildren: 0, idleTimeout: 100, clock }),
    );
    assert.equal(pool.alive, 0);
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    assert.equal(pool.alive, 1);
    clock.tick(100);
    assert.equal(pool.alive, 0);
    assert.equal(
      await pool.run((n: number) => n + 1, 2),
      3,
      "a worker starts again on demand",
    );
  });

  it("executors presets set the sizes and keep the other options", () => {
    assert.deepEqual(executors.worker({ childNamePrefix: "w" }), {
      childNamePrefix: "w",
      maxChildren: 1,
      minChildren: 1,
    });
    assert.deepEqual(executors.simple(3, { idleTimeout: 5 }), {
      idleTimeout: 5,
      maxChildren: 3,
      minChildren: 3,
    });
    assert.deepEqual(executors.adaptive(4), { minChildren: 1, maxChildren: 4 });
    // Before: an explicit undefined overwrote the default, and the pool kept no worker.
    assert.deepEqual(executors.adaptive(4, { minChildren: undefined }), {
      minChildren: 1,
      maxChildren: 4,
    });
    // Before: null taken for the default, where new Pool() refuses it.
    assert.throws(() => executors.adaptive(4, { minChildren: null as never }), {
      name: "TypeError",
      message: /^Cannot create adaptive executor: "minChildren" is null/,
    });
    const cores = navigator.hardwareConcurrency || 1;
    assert.equal(executors.simple().maxChildren, cores);
    if (cores > 1) assert.equal(executors.simple(-1).minChildren, cores - 1);
    assert.equal(executors.adaptive().maxChildren, cores);
  });

  it("executors presets refuse a size that is not an integer or leaves no worker", () => {
    assert.throws(() => executors.simple(1.5), {
      name: "RangeError",
      message: /"size"/,
    });
    // @ts-expect-error: the size must be a number
    assert.throws(() => executors.simple("2"), {
      name: "TypeError",
      message: /"size"/,
    });
    assert.throws(() => executors.simple(-1000), {
      name: "RangeError",
      message: /"size" of -1000/,
    });
    assert.throws(() => executors.adaptive(0.5), {
      name: "RangeError",
      message: /"maxChildren"/,
    });
  });

  it("executors presets refuse options that are not an object, or that set the sizes they set", () => {
    // @ts-expect-error: options must be an object
    assert.throws(() => executors.simple(2, 5), {
      name: "TypeError",
      message: /^Cannot create simple executor: "options" must be an object, received 5/,
    });
    // @ts-expect-error: options must be an object
    assert.throws(() => executors.worker("x"), { name: "TypeError", message: /"options"/ });
    // @ts-expect-error: the worker executor has one worker
    assert.throws(() => executors.worker({ maxChildren: 5 }), {
      name: "TypeError",
      // Before: "pass the size as its argument", which worker() does not take.
      message:
        /^Cannot create worker executor: "maxChildren" is the executor's to set; use new Pool\(\)$/,
    });
    // @ts-expect-error: the adaptive executor's size is its first argument
    assert.throws(() => executors.adaptive(4, { maxChildren: 2 }), {
      name: "TypeError",
      message: /"maxChildren" is the executor's to set/,
    });
    assert.deepEqual(executors.adaptive(2, { minChildren: 0 }), { minChildren: 0, maxChildren: 2 });
    // The preset checks the size it pairs with its own maxChildren, as new Pool() would.
    assert.throws(() => executors.adaptive(1, { minChildren: 5 }), {
      name: "RangeError",
      message:
        /^Cannot create adaptive executor: "minChildren" must be an integer from 0 to 1, received 5/,
    });
    assert.throws(() => executors.adaptive(3, { minChildren: -1 }), {
      name: "RangeError",
      message: /"minChildren" must be an integer from 0 to 3/,
    });
    // Inherited options are taken as new Pool() takes them; before, dropped (or, for
    // maxChildren, neither refused nor used).
    class Named {
      get childNamePrefix() {
        return "mine";
      }
    }
    assert.deepEqual(executors.adaptive(2, new Named() as PoolOptions), {
      childNamePrefix: "mine",
      minChildren: 1,
      maxChildren: 2,
    });
    assert.deepEqual(executors.simple(1, Object.create({ idleTimeout: 5 })), {
      idleTimeout: 5,
      maxChildren: 1,
      minChildren: 1,
    });
    assert.throws(() => executors.simple(2, Object.create({ maxChildren: 3 })), {
      message: /"maxChildren" is the executor's to set/,
    });
    // `undefined` is the default, for every option (before: refused).
    assert.deepEqual(executors.worker({ minChildren: undefined } as PoolOptions), {
      maxChildren: 1,
      minChildren: 1,
    });
  });
});

describe("setDefaultWorkerUrl", () => {
  it("setDefaultWorkerUrl() gives the pools made without a workerUrl their entry: go(), spawn(), ThreadPool, new Pool()", async () => {
    const entry = () => (globalThis as { entry?: string }).entry ?? "default";
    await shutdownDefaultPool();
    setDefaultWorkerUrl(fixture("marked_worker_entry.ts"));
    try {
      // Before: none of these took a workerUrl, so a bundle's could not start.
      assert.equal(await spawn(entry), "marked");
      assert.equal(await go(entry), "marked");
      const threads = new ThreadPool(1);
      let seen: unknown;
      threads.putRequest(new WorkRequest(entry, { callback: (_request, result) => seen = result }));
      await threads.wait();
      assert.equal(seen, "marked");
      await threads.shutdown();
      await using pool = new Pool({ maxChildren: 1 });
      assert.equal(await pool.run(entry), "marked");
      await using own = new Pool({
        maxChildren: 1,
        workerUrl: new URL("../src/worker/runtime.ts", import.meta.url),
      });
      assert.equal(await own.run(entry), "default", "a pool's own workerUrl wins");
    } finally {
      setDefaultWorkerUrl(undefined);
      await shutdownDefaultPool();
    }
    assert.equal(await spawn(entry), "default");
    assert.throws(() => setDefaultWorkerUrl("./runtime.js"), {
      name: "TypeError",
      message: /^Cannot set default worker URL: "url" must be an absolute URL/,
    });
    assert.throws(() => setDefaultWorkerUrl(5 as unknown as string), TypeError);
  });
});
