/**
 * Options are checked (issue 12, part 5): an unknown option name is a
 * `TypeError` naming it and the closest known name, for every options object
 * the package takes.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkOptionNames, closestName } from "../src/_option_names.ts";
import { Pool } from "../src/pool/pool.ts";
import { Semaphore } from "../src/sync/semaphore.ts";
import { Lock } from "../src/sync/lock.ts";
import { ThreadPool, WorkRequest } from "../src/compat/threadpool.ts";

describe("closestName()", () => {
  const known = ["maxChildren", "minChildren", "idleTimeout", "taskTimeout", "module"];

  it("closestName() maps other libraries' names to ours", () => {
    assert.equal(closestName("maxThreads", known), "maxChildren");
    assert.equal(closestName("maxWorkers", known), "maxChildren");
    assert.equal(closestName("minThreads", known), "minChildren");
    assert.equal(closestName("filename", known), "module");
    assert.equal(closestName("timeout", known), "taskTimeout");
  });

  it("closestName() maps Python's, tinypool's and piscina's recycling and set-up names to ours", () => {
    const more = ["maxJobsPerWorker", "maxWorkerMemory", "workerData", ...known];
    assert.equal(closestName("max_tasks_per_child", more), "maxJobsPerWorker");
    assert.equal(closestName("maxtasksperchild", more), "maxJobsPerWorker");
    assert.equal(closestName("maxMemoryLimitBeforeRecycle", more), "maxWorkerMemory");
    assert.equal(closestName("resourceLimits", more), "maxWorkerMemory");
    assert.equal(closestName("initargs", more), "workerData");
  });

  it("closestName() finds typos and case slips", () => {
    assert.equal(closestName("idelTimeout", known), "idleTimeout");
    assert.equal(closestName("maxchildren", known), "maxChildren");
    assert.equal(closestName("mdoule", known), "module");
  });

  it("closestName() offers nothing for a name far from every known one", () => {
    assert.equal(closestName("colour", known), undefined);
  });
});

describe("checkOptionNames()", () => {
  it("checkOptionNames() accepts known names and ignores inherited ones", () => {
    const options = Object.create({ inherited: 1 });
    options.a = 1;
    checkOptionNames(options, ["a"], "do it");
  });

  it("checkOptionNames() lists the known names when none is close", () => {
    assert.throws(
      () => checkOptionNames({ colour: 1 }, ["a", "b"], "do it"),
      {
        name: "TypeError",
        message: 'Cannot do it: unknown option "colour"; known options are a, b',
      },
    );
  });
});

describe("every options object is checked", () => {
  it("new Pool() refuses maxThreads, naming maxChildren", () => {
    assert.throws(() => new Pool({ maxThreads: 1 } as never), {
      name: "TypeError",
      message: 'Cannot create pool: unknown option "maxThreads"; did you mean "maxChildren"?',
    });
  });

  it("Pool.exec() rejects an unknown option, and the pool keeps working", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    await assert.rejects(pool.exec((n: number) => n, [1], { timeuot: 5 } as never), {
      name: "TypeError",
      message: 'Cannot run job: unknown option "timeuot"; did you mean "timeout"?',
    });
    assert.equal(await pool.exec((n: number) => n + 1, [1], { first: true }), 2);
  });

  it("Pool.exec() refuses an array as its options, and names priority for prio", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    // Before: an array was taken as options; "prio" got the list of every known name.
    await assert.rejects(pool.exec((n: number) => n, [1], [] as never), {
      name: "TypeError",
      message: 'Cannot run job: "options" must be an object, received an array',
    });
    await assert.rejects(
      pool.exec((n: number) => n, [1], { prio: 1 } as never),
      /unknown option "prio"; did you mean "priority"\?/,
    );
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
  });

  it("every options argument refuses an object of a built-in kind, naming it, and takes a class instance of options", async () => {
    // Before: their fields are no own ones, so each was taken as empty options: the job of
    // exec(task, args, controller.signal) could not be aborted, new Pool(url) had no module.
    const controller = new AbortController();
    const refused = (action: string, kind: string) => ({
      name: "TypeError",
      message:
        `Cannot ${action}: "options" must be a plain object of options, received an instance of ${kind}`,
    });
    await using pool = new Pool({ maxChildren: 1 });
    await assert.rejects(
      pool.exec((n: number) => n, [1], controller.signal as never),
      refused("run job", "AbortSignal"),
    );
    await assert.rejects(
      pool.exec((n: number) => n, [1], controller as never),
      refused("run job", "AbortController"),
    );
    await assert.rejects(
      pool.exec((n: number) => n, [1], new Map([["timeout", 5]]) as never),
      refused("run job", "Map"),
    );
    assert.throws(
      () => new Pool(new URL("./fixtures/tasks.ts", import.meta.url) as never),
      refused("create pool", "URL"),
    );
    assert.throws(() => pool.stats(new Set() as never), refused("read stats", "Set"));
    // Any built-in kind, by its tag: transferables too, and a Map of another realm's kind.
    const { port1 } = new MessageChannel();
    try {
      for (
        const [value, kind] of [
          [new SharedArrayBuffer(8), "SharedArrayBuffer"],
          [port1, "MessagePort"],
          [new ReadableStream(), "ReadableStream"],
          [new Headers(), "Headers"],
          [new WeakRef({}), "WeakRef"],
        ] as const
      ) {
        await assert.rejects(
          pool.exec((n: number) => n, [1], value as never),
          refused("run job", kind),
        );
      }
    } finally {
      port1.close();
    }
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    await assert.rejects(pool.exec((n: number) => n, [1], proxy as never), {
      name: "TypeError",
      message: /^Cannot run job: "options" could not be read \(/,
    });
    await assert.rejects(pool.exec((n: number) => n, [1], new Proxy([], {}) as never), {
      name: "TypeError",
      message: 'Cannot run job: "options" must be an object, received an array',
    });
    await assert.rejects(
      pool.shutdown(undefined, new Date() as never),
      refused("shut down pool", "Date"),
    );
    await assert.rejects(
      new Semaphore(0).acquire(controller.signal as never),
      refused("acquire semaphore", "AbortSignal"),
    );
    assert.throws(
      () => new ThreadPool(1, new Map() as never),
      refused("create thread pool", "Map"),
    );
    assert.throws(
      () => new WorkRequest(() => 1, new Uint8Array(1) as never),
      refused("create request", "Uint8Array"),
    );
    // A class instance of options (its own toString tag too), one made from it, one without a
    // prototype and a module's namespace are options.
    class Options {
      timeout = 10_000;
      get [Symbol.toStringTag]() {
        return "Options";
      }
    }
    assert.equal(await pool.exec((n: number) => n + 1, [1], new Options()), 2);
    assert.equal(await pool.exec((n: number) => n + 1, [2], Object.create(new Options())), 3);
    assert.equal(await pool.exec((n: number) => n + 2, [1], Object.create(null)), 3);
    const settings = await import("./fixtures/exec_options.ts");
    assert.equal(await pool.exec((n: number) => n + 3, [1], settings), 4);
    // One the program made a global is still its own.
    class FastpoolTestOptions {
      timeout = 10_000;
    }
    const globals = globalThis as Record<string, unknown>;
    globals.FastpoolTestOptions = FastpoolTestOptions;
    try {
      assert.equal(await pool.exec((n: number) => n + 4, [1], new FastpoolTestOptions()), 5);
    } finally {
      delete globals.FastpoolTestOptions;
    }
    assert.equal(await new Semaphore(1).acquire(new Options()), true);
  });

  it("Pool.shutdown() refuses an unknown option", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    await assert.rejects(pool.shutdown(undefined, { son: true } as never), {
      name: "TypeError",
      message: 'Cannot shut down pool: unknown option "son"; did you mean "soon"?',
    });
  });

  it("Semaphore and Lock acquire() refuse an unknown option", async () => {
    const sem = new Semaphore(1);
    await assert.rejects(
      sem.acquire({ timout: 5 } as never),
      /^TypeError: Cannot acquire semaphore: unknown option "timout"; did you mean "timeout"\?/,
    );
    const lock = new Lock();
    await assert.rejects(
      lock.acquire({ sginal: null } as never),
      /unknown option "sginal"; did you mean "signal"\?/,
    );
    assert.equal(sem.value, 1);
    assert.equal(lock.locked, false);
  });

  it("new Pool() refuses null for any option but workerData, naming it", async () => {
    // Before: idleTimeout, abortGrace, maxQueue and others took null for their default; others failed.
    for (const name of ["idleTimeout", "abortGrace", "maxQueue", "minChildren", "maxChildren"]) {
      assert.throws(
        () => new Pool({ [name]: null }),
        {
          name: "TypeError",
          message:
            `Cannot create pool: "${name}" is null; leave it out (or undefined) for its default`,
        },
        name,
      );
    }
    await using pool = new Pool({ maxChildren: 1, workerData: null });
    assert.equal(await pool.run((n: number) => n + 1, 1), 2);
  });

  it("ThreadPool and WorkRequest refuse an unknown option", () => {
    assert.throws(
      () => new ThreadPool(1, { qsize: 2 } as never),
      /unknown option "qsize"; did you mean "qSize"\?/,
    );
    assert.throws(
      () => new WorkRequest(() => 1, { arg: [1] } as never),
      /unknown option "arg"; did you mean "args"\?/,
    );
  });
});
