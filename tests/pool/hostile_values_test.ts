/**
 * Hostile values and tasks (issue 16, items 9–12): thrown values that cannot
 * be read, modules whose namespace is a thenable, tasks that use the worker's
 * own messaging, and shared primitives nested in arguments and results. Each
 * fails the job it concerns, or works, and the pool and its worker go on.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";
import { WorkerCrashedError } from "../../src/errors.ts";
import { PROTOCOL_VERSION } from "../../src/protocol/messages.ts";
import { Lock } from "../../src/sync/lock.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import type * as SemaphoreModule from "../../src/sync/semaphore.ts";
import { task } from "../../src/task.ts";
import { fixture, within } from "../_util.ts";
import { gate } from "../_gate.ts";
import { systemClock } from "../../src/timers/clock.ts";

/** Tasks import the class by absolute URL: it is the one the worker sends in wire form. */
const SEMAPHORE_URL = new URL("../../src/sync/semaphore.ts", import.meta.url).href;
const workerName = () => (globalThis as { name?: string }).name;

describe("Pool: thrown values that cannot be read", () => {
  // Each task throws something whose reading throws; the worker must survive it.
  const hostile: [string, () => never][] = [
    ["a message getter that throws", () => {
      const error = new Error("unseen");
      Object.defineProperty(error, "message", {
        get() {
          throw new Error("message getter says no");
        },
      });
      throw error;
    }],
    ["a cause getter that throws", () => {
      const error = new TypeError("readable message");
      Object.defineProperty(error, "cause", {
        get() {
          throw new Error("cause getter says no");
        },
      });
      throw error;
    }],
    ["an own code getter that throws", () => {
      const error = new RangeError("readable message");
      Object.defineProperty(error, "code", {
        enumerable: true,
        get() {
          throw new Error("code getter says no");
        },
      });
      throw error;
    }],
    ["a Proxy whose get trap throws", () => {
      throw new Proxy(new Error("hidden"), {
        get() {
          throw new Error("get trap says no");
        },
      });
    }],
    ["a Proxy whose getPrototypeOf trap throws", () => {
      throw new Proxy(new Error("hidden"), {
        getPrototypeOf() {
          throw new Error("prototype trap says no");
        },
      });
    }],
  ];

  for (const [what, task] of hostile) {
    it(`Pool.run() fails only the job that throws an error with ${what}, and keeps its worker`, async () => {
      await using pool = new Pool({ maxChildren: 1 });
      const before = await pool.run(workerName);
      await assert.rejects(pool.run(task), (error: Error) => {
        assert.notEqual(error.name, "WorkerCrashedError", error.message);
        assert.match(error.message, /^Cannot read the error the task threw: reading .+ threw /);
        assert.match(error.message, /says no/, "says what the getter threw");
        if (what.includes("cause") || what.includes("code")) {
          assert.match(error.message, /\(its message: readable message\)$/, "keeps the message");
        }
        return true;
      });
      assert.equal(await pool.run(workerName), before, "the same worker runs the next job");
    });
  }

  for (const how of ["throws", "returns"]) {
    it(`Pool.run() fails only the job that ${how} a non-Error Proxy whose get trap throws, and keeps its worker`, async () => {
      await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 2 });
      const before = await pool.run(workerName);
      // A job beside it on the same worker, to see that the worker lives on.
      const beside = pool.run(() =>
        new Promise((resolve) => setTimeout(() => resolve("beside"), 50))
      );
      const hostile = (how: string) => {
        const value = new Proxy({}, {
          get() {
            throw new Error("get trap says no");
          },
        });
        if (how === "throws") throw value;
        return value;
      };
      await assert.rejects(pool.run(hostile, how), (error: Error) => {
        assert.equal(error.name, "TypeError", error.message);
        assert.match(error.message, /cannot be cloned/);
        return true;
      });
      assert.equal(await beside, "beside");
      assert.equal(await pool.run(workerName), before, "the same worker runs the next job");
      assert.equal(pool.stats().workers.crashed, 0);
    });
  }

  it("Pool.map() fails only the item whose thrown error cannot be read", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const task = (n: number) => {
      if (n !== 2) return n * 10;
      const error = new Error("x");
      Object.defineProperty(error, "message", {
        get() {
          throw new Error("no");
        },
      });
      throw error;
    };
    pool.submit(task, 0);
    pool.map(task, [1, 2, 3]);
    await pool.wait();
    assert.deepEqual([...pool.done].sort(), [0, 10, 30]);
    assert.equal(pool.failed.length, 1);
    assert.match((pool.failed.shift() as Error).message, /^Cannot read the error/);
  });
});

describe("Pool: results the runtime refuses inside the results message", () => {
  /** How deep a nest of arrays `structuredClone` takes in a worker (the engine's limit). */
  const cloneDepthLimit = async (): Promise<number> => {
    await using probe = new Pool({ maxChildren: 1 });
    return await probe.run(() => {
      const nest = (depth: number) => {
        let value: unknown = 0;
        for (let i = 0; i < depth; i++) value = [value];
        return value;
      };
      let low = 1, high = 1 << 20;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        try {
          structuredClone(nest(middle));
          low = middle;
        } catch {
          high = middle - 1;
        }
      }
      return low;
    });
  };
  /** `settling`'s outcomes, failing the test (not hanging it) if they take 20 s. */
  const ended = async <T>(settling: Promise<T>): Promise<T> => {
    assert.ok(await within(settling, 20_000), "the jobs ended");
    return settling;
  };
  const crashes = (pool: Pool) => {
    const seen = { count: 0 };
    pool.addEventListener("workerexit", (event) => {
      if ((event as CustomEvent<{ reason: string }>).detail.reason === "crash") seen.count++;
    });
    return seen;
  };

  it("Pool.map() of results nested up to the clone limit: each item ends once, the worker lives, the rest arrive", async () => {
    const limit = await cloneDepthLimit();
    // Deep values that clone alone but not two levels down in the message.
    const depths = [0, limit - 4, 1, limit - 3, 2, limit - 2, 3, limit - 1, 4, limit, 5];
    await using pool = new Pool({ maxChildren: 1, resultId: true });
    const seen = crashes(pool);
    const runs = new Int32Array(new SharedArrayBuffer(4 * depths.length));
    const items = depths.map((depth, index) => ({ index, depth, runs }));
    pool.map(({ index, depth, runs }: { index: number; depth: number; runs: Int32Array }) => {
      Atomics.add(runs, index, 1);
      if (depth < 10) return { small: depth }; // objects: a fallback that fails all of them shows
      let value: unknown = 0;
      for (let i = 0; i < depth; i++) value = [value];
      return value;
    }, items);
    assert.equal(await pool.wait(30_000), true);
    assert.equal(seen.count, 0, "no worker crashed");
    assert.deepEqual([...runs], depths.map(() => 1), "each item ran once");
    const done = new Map(pool.done.drain() as [number, unknown][]);
    const failed = new Map(pool.failed.drain() as [number, Error][]);
    assert.equal(done.size + failed.size, depths.length, "each item ended once");
    for (const [index, depth] of depths.entries()) {
      if (depth >= 10) continue;
      assert.deepEqual(
        done.get(index + 1),
        { small: depth },
        `the small result of item ${index} arrived`,
      );
    }
    for (const error of failed.values()) {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, /^Cannot send job result: its result /);
    }
    assert.equal(await pool.run((x: number) => x + 1, 1), 2);
  });

  it("Pool with several lanes: an async job whose deep result the message refuses fails alone, and shutdown() settles", async () => {
    const limit = await cloneDepthLimit();
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 3 });
    const seen = crashes(pool);
    const deep = async (depth: number) => {
      await null;
      let value: unknown = 0;
      for (let i = 0; i < depth; i++) value = [value];
      return value;
    };
    for (let below = 4; below >= 0; below--) {
      const [before, result, after] = await ended(Promise.allSettled([
        pool.run((x: number) => x, 1),
        pool.run(deep, limit - below),
        pool.run((x: number) => x, 2),
      ]));
      assert.deepEqual([before, after], [
        { status: "fulfilled", value: 1 },
        { status: "fulfilled", value: 2 },
      ]);
      if (result!.status === "rejected") {
        assert.ok(result!.reason instanceof TypeError, String(result!.reason));
      }
    }
    assert.equal(seen.count, 0, "no worker crashed");
    assert.equal(await pool.shutdown(10_000), true);
  });

  it("Pool delivers a result whose getter throws on every other read, once, without a crash", async () => {
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 2 });
    const seen = crashes(pool);
    const flipFlop = async () => {
      await null;
      let reads = 0;
      return {
        get x() {
          if (++reads % 2 === 0) throw new Error(`read ${reads} says no`);
          return reads;
        },
      };
    };
    const outcomes = await Promise.allSettled([
      pool.run(flipFlop),
      pool.run((x: number) => x * 2, 21),
    ]);
    assert.deepEqual(outcomes[1], { status: "fulfilled", value: 42 });
    const first = outcomes[0];
    if (first.status === "fulfilled") {
      assert.equal(typeof (first.value as { x: number }).x, "number");
    } else assert.ok(first.reason instanceof TypeError, String(first.reason));
    assert.equal(seen.count, 0, "no worker crashed");
  });

  it("Pool with several lanes fails a job whose answer is lost with its worker twice, instead of sending it for ever", async () => {
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 3 });
    const seen = crashes(pool);
    // It answers, then a microtask two turns later throws: the worker dies
    // before its answer leaves, each time it runs.
    const answersThenDies = async () => {
      await null;
      queueMicrotask(() =>
        queueMicrotask(() => {
          throw new Error("dies after answering");
        })
      );
      return "answered";
    };
    const outcome = await ended(Promise.allSettled([pool.run(answersThenDies)]));
    if (outcome[0].status === "rejected") {
      assert.ok(outcome[0].reason instanceof WorkerCrashedError, String(outcome[0].reason));
    }
    assert.ok(seen.count <= 2, `crashes: ${seen.count}`);
    assert.equal(await pool.run((x: number) => x + 1, 1), 2);
  });

  it("Pool with several lanes sends jobs whose answers were lost together again together: two that wait for each other end", async () => {
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 4 });
    const a = new Semaphore(0);
    const b = new Semaphore(0);
    const runs = new Int32Array(new SharedArrayBuffer(12));
    type Meeting = { me: Semaphore; other: Semaphore; k: number; runs: Int32Array };
    // Both answer in the turn a timer they share ends; the third job's microtask then
    // kills the worker before those answers leave.
    const meet = async ({ me, other, k, runs }: Meeting) => {
      Atomics.add(runs, k, 1);
      other.release();
      await me.acquire();
      const scope = globalThis as { gate?: Promise<unknown> };
      await (scope.gate ??= new Promise((resolve) => setTimeout(resolve, 30)));
      return `met ${k}`;
    };
    const killer = async (runs: Int32Array) => {
      Atomics.add(runs, 2, 1);
      const scope = globalThis as { gate?: Promise<unknown> };
      await (scope.gate ??= new Promise((resolve) => setTimeout(resolve, 30)));
      queueMicrotask(() => {
        throw new Error("dies as the others answer");
      });
      return "killer";
    };
    const outcomes = await ended(Promise.allSettled([
      pool.run(meet, { me: a, other: b, k: 0, runs }),
      pool.run(meet, { me: b, other: a, k: 1, runs }),
      pool.run(killer, runs),
    ]));
    // However the crash fell, each ends (before: the two went again one at a time,
    // each waiting for the other for ever).
    for (const [k, outcome] of outcomes.slice(0, 2).entries()) {
      if (outcome.status === "fulfilled") assert.equal(outcome.value, `met ${k}`);
      else assert.ok(outcome.reason instanceof WorkerCrashedError, String(outcome.reason));
    }
    assert.equal(await pool.shutdown(10_000), true);
  });
});

describe("Pool: promises a task returns with a then or constructor of their own", () => {
  /** Job `n === 2` returns a real promise whose own `then` or `constructor` misbehaves as `how` says. */
  const twoFaced = ({ n, how }: { n: number; how: string }) => {
    if (n !== 2) return Promise.resolve(n * 10);
    const promise = Promise.resolve("its own");
    const own = promise as unknown as Record<string, unknown>;
    if (how === "answers twice") {
      own.then = (fulfil: (v: unknown) => void, reject: (e: unknown) => void) => {
        fulfil("first answer");
        reject(new Error("second answer"));
      };
    } else if (how === "fulfils twice") {
      own.then = (fulfil: (v: unknown) => void) => {
        fulfil("first answer");
        fulfil("second answer");
      };
    } else if (how === "throws from then") {
      own.then = () => {
        throw new RangeError("then says no");
      };
    } else {
      Object.defineProperty(promise, "constructor", {
        get() {
          throw new RangeError("constructor says no");
        },
      });
    }
    return promise;
  };
  const expected: Record<string, [string, unknown]> = {
    "answers twice": ["done", "first answer"],
    "fulfils twice": ["done", "first answer"],
    "throws from then": ["failed", "RangeError: then says no"],
    "has a constructor getter that throws": ["failed", "RangeError: constructor says no"], // as `await` would
  };

  for (const lanes of [1, 3]) {
    for (const [how, [outcome, value]] of Object.entries(expected)) {
      it(`Pool.map() ends each job once with its own result when one returns a promise that ${how} (concurrentTasksPerWorker ${lanes})`, async () => {
        const ends = new Map<number, string[]>();
        const end = (id: number, what: string) => ends.set(id, [...ends.get(id) ?? [], what]);
        await using pool = new Pool({
          maxChildren: 1,
          concurrentTasksPerWorker: lanes,
          doneCallback: (result, id) => end(id, `done ${String(result)}`),
          failedCallback: (error, id) =>
            end(id, `failed ${(error as Error).name}: ${(error as Error).message}`),
        });
        const before = await pool.run(workerName);
        const first = pool.submit(twoFaced, { n: 1, how });
        pool.map(twoFaced, [2, 3, 4, 5, 6].map((n) => ({ n, how })));
        assert.equal(await pool.wait(10_000), true);
        const seen = [1, 2, 3, 4, 5, 6].map((n) => ends.get(first + n - 1));
        assert.deepEqual(seen, [
          ["done 10"],
          [`${outcome} ${String(value)}`],
          ["done 30"],
          ["done 40"],
          ["done 50"],
          ["done 60"],
        ]);
        assert.equal(await pool.run(workerName), before, "the same worker runs the next job");
        assert.equal(pool.stats().workers.crashed, 0);
      });
    }
  }

  it("Pool keeps the jobs beside one that answers twice apart: a crash then fails exactly the jobs it was running", async () => {
    // With several lanes, a second answer once freed the job's lane twice: two later jobs
    // shared one, and a crash sent one that was still running again (it ran twice).
    await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 2 });
    await pool.run(twoFaced, { n: 2, how: "answers twice" });
    const runs = new Int32Array(new SharedArrayBuffer(8));
    const held = pool.run(async (runs: Int32Array) => {
      Atomics.add(runs, 1, 1); // its runs
      while (Atomics.load(runs, 0) === 0) {
        const wait = Atomics.waitAsync(runs, 0, 0);
        if (wait.async) await wait.value;
      }
      return "held";
    }, runs);
    try {
      const quick = await pool.run(() => Promise.resolve("quick")); // takes the other lane, and frees it
      assert.equal(quick, "quick");
      const crash = pool.run(async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        // Ends the worker, `held` still running.
        (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(1);
      });
      await assert.rejects(crash, WorkerCrashedError);
      // Before, `held` was taken for answered: sent again, it ran again and waited.
      assert.equal(await within(held.catch(() => {}), 5_000), true, "`held` ended with its worker");
      await assert.rejects(held, WorkerCrashedError);
    } finally {
      Atomics.store(runs, 0, 1);
      Atomics.notify(runs, 0);
    }
    assert.equal(Atomics.load(runs, 1), 1, "the job that was running ran once");
  });
});

describe("Pool: Semaphores and Locks nested in arguments and results", () => {
  it("Pool.run() revives a Lock and a Semaphore nested in object and array arguments", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const lock = new Lock();
    const sem = new Semaphore(0);
    const seen = await pool.run(
      (a: { lock: Lock }, b: [Semaphore], c: { deep: { list: [number, { lock: Lock }] } }) => {
        const took = a.lock.tryAcquire();
        b[0].release(3);
        return [
          took,
          a.lock instanceof Object && typeof a.lock.tryAcquire === "function",
          c.deep.list[1].lock.locked,
          c.deep.list[0],
        ];
      },
      { lock },
      [sem],
      { deep: { list: [7, { lock }] } },
    );
    assert.deepEqual(seen, [true, true, true, 7]);
    assert.equal(lock.locked, true, "the worker took the caller's lock");
    assert.equal(sem.value, 3, "the worker released the caller's semaphore");
  });

  it("Pool.submit() and Pool.map() revive primitives nested in one-argument jobs", async () => {
    await using pool = new Pool({ maxChildren: 2 });
    const sems = [new Semaphore(0), new Semaphore(0), new Semaphore(0)];
    const release = (item: { sem: Semaphore }) => item.sem.release();
    pool.submit(release, { sem: sems[0]! });
    pool.map(release, [{ sem: sems[1]! }, { sem: sems[2]! }], false);
    await pool.wait();
    assert.deepEqual(sems.map((sem) => sem.value), [1, 1, 1]);
  });

  it("Pool.run() keeps shared references and cycles of an argument that holds a Lock", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const lock = new Lock();
    const arg: { lock: Lock; self?: unknown; twice: number[][] } = { lock, twice: [] };
    const row = [1];
    arg.self = arg;
    arg.twice.push(row, row);
    const shape = await pool.run((a: typeof arg) => [
      a.self === a,
      a.twice[0] === a.twice[1],
      a.lock.tryAcquire(),
    ], arg);
    assert.deepEqual(shape, [true, true, true]);
    assert.equal(lock.locked, true);
    assert.equal(arg.lock, lock, "the caller's value is left as it was");
  });

  it("Pool.run() gives back a Lock or Semaphore a task returns, alone or nested", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const lock = new Lock();
    const back = await pool.run((l: Lock) => ({ held: [l] }), lock);
    assert.ok(back.held[0] instanceof Lock);
    assert.equal(back.held[0].tryAcquire(), true);
    assert.equal(lock.locked, true, "the same memory");
    const sem = await pool.run(
      async (url: string) => new (await import(url) as typeof SemaphoreModule).Semaphore(2),
      SEMAPHORE_URL,
    );
    assert.ok(sem instanceof Semaphore);
    assert.equal(sem.value, 2);
  });

  it("Pool.stream() gives back Semaphores a generator yields inside objects", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const values: Semaphore[] = [];
    for await (
      const item of pool.stream(
        async function* (url: string, n: number) {
          const { Semaphore } = await import(url) as typeof SemaphoreModule;
          for (let i = 0; i < n; i++) yield { sem: new Semaphore(i) };
        },
        SEMAPHORE_URL,
        3,
      )
    ) {
      values.push(item.sem);
    }
    assert.ok(values.every((sem) => sem instanceof Semaphore));
    assert.deepEqual(values.map((sem) => sem.value), [0, 1, 2]);
  });
});

describe("Pool: task modules that export then", () => {
  const THEN_MODULE = fixture("hostile_then_module.ts");
  const refusal = (error: Error) => {
    assert.ok(error instanceof TypeError, String(error));
    assert.equal(
      error.message,
      `Cannot import task module ${THEN_MODULE.href}: it exports "then", which makes the module look like a promise to import(), so importing it would call that export and wait for it; rename the export`,
    );
    return true;
  };

  it("Pool.run() of task(url, name) fails the jobs of a module that exports then, and the worker goes on", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const before = await pool.run(workerName);
    const double = task<(n: number) => number>(THEN_MODULE, "double");
    await assert.rejects(pool.run(double, 1), refusal);
    await assert.rejects(pool.run(double, 2), refusal, "the next job too, without hanging");
    assert.equal(await pool.run(workerName), before, "the same worker runs other tasks");
    assert.equal(await pool.run((n: number) => n + 1, 41), 42);
  });

  it("Pool option module: a module that exports then is a start failure that says why", async () => {
    await using pool = new Pool({ maxChildren: 1, module: THEN_MODULE });
    await assert.rejects(pool.run("double", 1), (error: Error) => {
      assert.match(error.message, /workers failed to start/);
      return refusal(error.cause as Error);
    });
  });
});

describe("Pool: tasks that use the worker's own messaging", () => {
  /** Records console.warn calls while `fn` runs. */
  async function warnings(fn: () => Promise<void>): Promise<unknown[][]> {
    const calls: unknown[][] = [];
    // deno-lint-ignore no-console
    const warn = console.warn;
    // deno-lint-ignore no-console
    console.warn = (...args: unknown[]) => calls.push(args);
    try {
      await fn();
    } finally {
      // deno-lint-ignore no-console
      console.warn = warn;
    }
    return calls;
  }
  type Scope = {
    postMessage(message: unknown): void;
    onmessage: unknown;
    addEventListener(type: string, listener: () => void): void;
  };

  it("Pool ignores messages a task posts itself, warns once naming the worker, and every job ends", async () => {
    const calls = await warnings(async () => {
      await using pool = new Pool({ maxChildren: 1 });
      const chatty = (message: unknown) => {
        (globalThis as unknown as Scope).postMessage(message);
        return "answered";
      };
      for (const message of ["hello", { type: "bogus" }, null, { type: "results" }, 42]) {
        assert.equal(await pool.run(chatty, message), "answered");
      }
      pool.map(chatty, ["a", "b", "c"]);
      await pool.wait();
      assert.deepEqual([...pool.done], ["answered", "answered", "answered"]);
    });
    assert.equal(calls.length, 1, "once per worker");
    assert.match(
      String(calls[0]![0]),
      /worker ThreadPool-1 posted a message that is not the pool's/,
    );
  });

  it("Pool ignores messages in the shape of its own that a task module posts while it loads or in setup()", async () => {
    const calls = await warnings(async () => {
      await using pool = new Pool<typeof import("../fixtures/forged_start_tasks.ts")>({
        maxChildren: 1,
        module: fixture("forged_start_tasks.ts"),
      });
      const events: string[] = [];
      for (const type of ["ready", "workerstart", "error"] as const) {
        pool.addEventListener(type, () => events.push(type));
      }
      // Before: every job failed, "workers failed to start 3 times in a row … version undefined".
      assert.equal(await pool.run("double", 21), 42);
      assert.deepEqual(events, ["workerstart", "ready"]);
      const { workers } = pool.stats();
      assert.deepEqual([workers.started, workers.crashed], [1, 0]);
    });
    assert.equal(calls.length, 1, "reported once");
    assert.match(String(calls[0]![0]), /posted a message that is not the pool's/);
  });

  it("Pool ignores messages a task posts in the shape of its own: they end, crash or answer nothing", async () => {
    const calls = await warnings(async () => {
      await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker: 2 });
      const forge = (message: unknown) => {
        (globalThis as unknown as Scope).postMessage(message);
        return "answered";
      };
      const forged = [
        { type: "results", data: [5, 3, "forged", "forged", "forged"], jobs: 3, ms: 0 },
        { type: "results", data: [2, { name: "Error", message: "forged" }], jobs: 1, ms: 0 },
        { type: "ready", version: PROTOCOL_VERSION, teardown: false },
        { type: "exit", how: "forged" },
        { type: "fatal", error: { name: "Error", message: "forged" } },
        { type: "uncaught", error: { name: "Error", message: "forged" } },
        { type: "retired", threw: false, error: null },
        { type: "overMemory", bytes: 1 },
        { type: "progress", id: 1, value: "forged" },
      ];
      // A slow job in flight meanwhile, whose answer a forged one could take.
      const slow = pool.run(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return "slow";
      });
      for (const message of forged) assert.equal(await pool.run(forge, message), "answered");
      assert.equal(await slow, "slow");
      assert.deepEqual(await Promise.all([1, 2, 3].map((n) => pool.run((x: number) => x * 2, n))), [
        2,
        4,
        6,
      ]);
      const { jobs, workers } = pool.stats();
      assert.deepEqual([jobs.done, jobs.failed, workers.crashed], [forged.length + 4, 0, 0]);
    });
    assert.equal(calls.length, 1, "reported once");
  });

  it("Pool keeps its worker answering after a task sets self.onmessage, adds a message listener or replaces postMessage", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const before = await pool.run(workerName);
    assert.equal(
      await pool.run(() => {
        (globalThis as unknown as Scope).onmessage = () => {};
        return 1;
      }),
      1,
    );
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    assert.equal(
      await pool.run(() => {
        (globalThis as unknown as Scope).addEventListener("message", () => {});
        (globalThis as unknown as Scope).postMessage = () => {};
        return 3;
      }),
      3,
    );
    pool.map((n: number) => n * 2, [1, 2, 3]);
    await pool.wait();
    assert.deepEqual([...pool.done], [2, 4, 6]);
    assert.equal(await pool.run(workerName), before, "the same worker all along");
  });

  it("Pool ignores message events a task dispatches on its worker's scope: no crash, no retirement", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const events: string[] = [];
    pool.addEventListener("workerexit", () => events.push("workerexit"));
    const before = await pool.run(workerName);
    const dispatch = (data: unknown) => {
      const scope = globalThis as unknown as EventTarget;
      scope.dispatchEvent(
        data === "bare" ? new Event("message") : new MessageEvent("message", { data }),
      );
      return "dispatched";
    };
    // Before: a bare event crashed the worker ("Cannot read properties of undefined"), a
    // string one did too ("Unexpected message"), and a retire ran the worker's retirement.
    for (
      const data of ["bare", "hello", { type: "retire" }, { type: "abort", id: 1, reason: null }]
    ) {
      assert.equal(await pool.run(dispatch, data), "dispatched");
    }
    assert.equal(await pool.run((x: number) => x + 1, 1), 2);
    assert.equal(await pool.run(workerName), before, "the same worker all along");
    assert.deepEqual(events, []);
    assert.equal(pool.stats().workers.crashed, 0);
  });

  it("Pool keeps its worker answering after a task adds a capture listener that stops every message", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const before = await pool.run(workerName);
    const stopsAll = () => {
      (globalThis as unknown as EventTarget).addEventListener(
        "message",
        (event) => event.stopImmediatePropagation(),
        { capture: true },
      );
      return "added";
    };
    assert.equal(await pool.run(stopsAll), "added");
    const next = pool.run((n: number) => n + 1, 1); // before, on Bun: never answered
    assert.equal(await within(next, 10_000), true, "the worker no longer heard the pool");
    assert.equal(await next, 2);
    assert.deepEqual(await pool.collect((n: number) => n * 2, [1, 2, 3]), [2, 4, 6]);
    assert.equal(await pool.run(workerName), before, "the same worker all along");
  });
});

describe("Pool: tasks that change built-ins in their worker", () => {
  it("Pool.run() results stay right after a task replaces Function.prototype.apply and Reflect.apply", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const before = await pool.run(workerName);
    assert.equal(
      await pool.run(() => {
        Function.prototype.apply = () => 7;
        Reflect.apply = () => 7;
        return 1;
      }),
      1,
    );
    assert.equal(await pool.run((a: number, b: number) => a + b, 1, 2), 3);
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
    const later = pool.run(async (n: number) => {
      await null;
      return n * 3;
    }, 7);
    assert.equal(await within(later, 3_000), true, "an async job after it never ended");
    assert.equal(await later, 21);
    assert.equal(await pool.run(workerName), before, "the same worker all along");
  });

  it("Pool workers keep their own clock after a task freezes performance.now: no spin of theirs waits on it", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    type Reads = { frozenClockReads: { count: number } };
    const freeze = () => {
      const real = performance.now.bind(performance);
      const reads = { count: 0 };
      (globalThis as unknown as Reads).frozenClockReads = reads;
      // Frozen for 100,000 reads, then real again, so that a spin bounded by it ends here.
      performance.now = () => ++reads.count > 100_000 ? real() : 0;
      return "frozen";
    };
    assert.equal(await pool.run(freeze), "frozen");
    assert.deepEqual(await Promise.all([1, 2, 3].map((n) => pool.run((x: number) => x + 1, n))), [
      2,
      3,
      4,
    ]);
    assert.equal(await pool.run((x: number) => x * 2, 4), 8);
    // A timed wait on a Semaphore no one releases ends in its time (before: never).
    const waited = pool.run((sem: Semaphore) => sem.acquireSync(20), new Semaphore(0));
    assert.equal(await within(waited, 10_000), true, "acquireSync(20) never timed out");
    assert.equal(await waited, false);
    assert.deepEqual(
      await pool.collect(async (x: number) => {
        await null;
        return x;
      }, [1, 2]),
      [1, 2],
    );
    // Before: the worker timed its batches and bounded its spins by the task's clock
    // (frozen for good, an idle worker spun at 100% CPU until its next message).
    assert.equal(await pool.run(() => (globalThis as unknown as Reads).frozenClockReads.count), 0);
  });

  it("Pool async jobs after a task makes Promise[Symbol.species] a getter that throws return their values", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const breaker = () => {
      Object.defineProperty(Promise, Symbol.species, {
        configurable: true,
        get() {
          throw new Error("species getter threw");
        },
      });
      return "replaced";
    };
    assert.equal(await pool.run(breaker), "replaced");
    const later = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) =>
        pool.run(async (x: number) => {
          await null;
          return x * 2;
        }, n)
      ),
    );
    // On Deno the worker's own message loop meets the getter: the next job
    // may fail with it and the worker is replaced. None fails after that
    // (before, on Bun, every later async job failed with the getter's error).
    const values = later.map((outcome) =>
      outcome.status === "fulfilled" ? outcome.value : "failed"
    );
    assert.deepEqual(values.slice(1), [4, 6, 8, 10]);
    assert.ok(values[0] === 2 || values[0] === "failed", String(values[0]));
  });

  // Not Promise[Symbol.species]: a task that replaces it leaves its worker's thread looping
  // (on Deno, even after terminate(), its memory growing), a limit written in README.md.
  it("Pool async jobs that call jobContext() still end after a task replaces then, finally or queueMicrotask", async () => {
    const breakers: Record<string, () => void> = {
      then: () => {
        Promise.prototype.then = () => new Promise(() => {});
      },
      finally: () => {
        Promise.prototype.finally = () => new Promise(() => {});
      },
      queueMicrotask: () => {
        globalThis.queueMicrotask = () => {};
      },
    };
    for (const [name, breaker] of Object.entries(breakers)) {
      for (const concurrentTasksPerWorker of [1, 3]) {
        await using pool = new Pool({ maxChildren: 1, concurrentTasksPerWorker });
        assert.equal(await pool.run(breaker), undefined);
        const later = async (n: number) => {
          (globalThis as unknown as { jobContext: () => unknown }).jobContext(); // tracked till it ends
          await null;
          return n;
        };
        const label = `${name}, concurrentTasksPerWorker ${concurrentTasksPerWorker}`;
        const all = Promise.all([
          pool.run(later, 1),
          pool.run((n: number) => n, 2),
          pool.run(later, 3),
        ]);
        assert.equal(await within(all, 10_000), true, `${label}: the jobs after it never ended`);
        assert.deepEqual(await all, [1, 2, 3], label);
      }
    }
  });

  it("Pool.run() results stay right, one at a time (the shared lane), after a task replaces Atomics.store", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    assert.equal(
      await pool.run(() => {
        Atomics.store = (() => 0) as unknown as typeof Atomics.store;
        return 1;
      }),
      1,
    );
    const results: number[] = [];
    for (let i = 0; i < 8; i++) results.push(await pool.run((x: number) => x * 10, i));
    assert.deepEqual(results, [0, 10, 20, 30, 40, 50, 60, 70]);
    await assert.rejects(
      pool.run(() => {
        throw new RangeError("still fails");
      }),
      RangeError,
    );
  });

  it("Pool errors keep their class after a task replaces Map.prototype.get and Object.getPrototypeOf", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const before = await pool.run(workerName);
    await pool.run(() => {
      Map.prototype.get = () => undefined;
      Object.getPrototypeOf = () => null;
    });
    await assert.rejects(
      pool.run(() => {
        throw new TypeError("still a TypeError");
      }),
      (error) => error instanceof TypeError && error.message === "still a TypeError",
    );
    await assert.rejects(
      pool.run(() => {
        class Refused extends RangeError {}
        throw new Refused("extends");
      }),
      (error) => error instanceof RangeError && error.message === "extends",
    );
    assert.equal(await pool.run(workerName), before, "the same worker all along");
  });

  it("Pool fails the job of a task that puts a throwing setter on Object.prototype, and the next job runs", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const poisoned = pool.run(() => {
      // The worker's own messages set a field of that name (Deno 2.9.6).
      Object.defineProperty(Object.prototype, "key", {
        set() {
          throw new Error("key setter");
        },
        configurable: true,
      });
      return 1;
    });
    const next = pool.run((n: number) => n + 1, 1);
    await assert.rejects(
      poisoned,
      (error: Error) => error.name === "WorkerCrashedError" && /key setter/.test(error.message),
    );
    assert.equal(await next, 2);
    assert.deepEqual(pool.stats().workers.crashed, 1);
  });

  it("Pool option taskTimeout ends the job of a task that breaks Array.prototype.push, and the pool goes on", async () => {
    await using pool = new Pool({ maxChildren: 1, taskTimeout: 300 });
    const before = await pool.run(workerName);
    await assert.rejects(
      pool.run(() => {
        Array.prototype.push = () => 0; // the worker's own answers need it
        return 1;
      }),
      { name: "TaskTimeoutError" },
    );
    assert.equal(await pool.run((a: number, b: number) => a + b, 1, 2), 3);
    pool.map((n: number) => n * 2, [1, 2, 3]);
    assert.equal(await pool.wait(), true);
    assert.deepEqual([...pool.done], [2, 4, 6]);
    assert.notEqual(await pool.run(workerName), before, "a new worker");
    const { jobs } = pool.stats();
    assert.deepEqual([jobs.done, jobs.failed], [6, 1]);
  });
});

describe("Pool: fake timers that replace the event loop's globals", () => {
  it("Pool keeps sending jobs after a user's fake timers swallow queueMicrotask for a while", async () => {
    // sinon's install() (and Jest's modern timers) replace queueMicrotask in a test's setup.
    await using pool = new Pool({ maxChildren: 1 });
    assert.equal(await pool.run((n: number) => n + 1, 0), 1);
    const real = globalThis.queueMicrotask;
    globalThis.queueMicrotask = () => {}; // install()
    let during: Promise<number>;
    try {
      during = pool.run((n: number) => n + 1, 1);
    } finally {
      globalThis.queueMicrotask = real; // uninstall()
    }
    // Before: neither ever settled, nor a shutdown(): the flush was swallowed, its flag left set.
    const both = Promise.all([during, pool.run((n: number) => n + 1, 2)]);
    assert.equal(await within(both, 10_000), true, "the jobs were never sent");
    assert.deepEqual(await both, [2, 3]);
  });

  it("systemClock's timers fire though setTimeout was faked when they were set", async () => {
    const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
    let fired!: () => void;
    const firing = new Promise<void>((resolve) => fired = resolve);
    globalThis.setTimeout = (() => 0) as unknown as typeof setTimeout;
    globalThis.clearTimeout = () => {};
    try {
      // Before: armed on the fake, lost at uninstall; a pool's idle timer kept a Deno program open.
      systemClock.setTimer(fired, 1);
    } finally {
      Object.assign(globalThis, real);
    }
    assert.equal(await within(firing, 10_000), true, "the timer never fired");
  });

  it("Pool keeps its own clock while a user's fake timers freeze performance.now: delayed jobs fire, idle workers leave", async () => {
    await using pool = new Pool({ maxChildren: 1, idleTimeout: 50 });
    assert.equal(await pool.run((n: number) => n + 1, 0), 1);
    const real = performance.now;
    const left = new Promise((resolve) => pool.addEventListener("workerexit", resolve));
    performance.now = () => 0; // sinon's install() fakes performance too
    try {
      const delayed = new Promise((resolve) =>
        pool.submitDoneLater(20, (x: string) => x, resolve, "late")
      );
      // Before: nothing was ever due on a clock that did not move, and a Deno program stayed open.
      assert.equal(await within(delayed, 10_000), true, "the delayed job never ran");
      assert.equal(await within(left, 10_000), true, "the idle worker never left");
    } finally {
      performance.now = real;
    }
  });

  it("Pool workers keep answering after a task fakes setTimeout and queueMicrotask in its worker", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    await pool.run(() => {
      globalThis.setTimeout = (() => 0) as unknown as typeof setTimeout;
      globalThis.queueMicrotask = () => {};
    });
    // A stream whose generator holds a value while it awaits: its worker sends it after 2 ms
    // (the first value goes at once, those made quickly after it together).
    const held = gate();
    const values = pool.stream(async function* (memory: Int32Array) {
      yield 1;
      yield 2;
      Atomics.add(memory, 0, 1);
      Atomics.notify(memory, 0);
      while (Atomics.load(memory, 1) === 0) {
        const result = Atomics.waitAsync(memory, 1, 0);
        if (result.async) await result.value;
      }
      yield 3;
    }, held.memory);
    assert.deepEqual(await values.next(), { value: 1, done: false });
    const second = values.next();
    // Before: the value waited for a timer that never fired, until the generator went on.
    assert.equal(await within(second, 10_000), true, "the held value never came");
    assert.deepEqual(await second, { value: 2, done: false });
    held.open();
    assert.deepEqual(await values.next(), { value: 3, done: false });
    assert.deepEqual(await values.next(), { value: undefined, done: true });
    assert.equal(await pool.run((n: number) => n * 2, 21), 42);
  });
});
