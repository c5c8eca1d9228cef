import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  makeRequests,
  NoResultsPending,
  NoWorkersAvailable,
  PoolClosedError,
  QueueFullError,
  ThreadPool,
  WorkRequest,
} from "../../src/compat/threadpool.ts";
import { task } from "../../src/task.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import { fixture, promiseState, within } from "../_util.ts";
import { gate as makeGate, waitAtGate } from "../_gate.ts";

/** A seeded linear congruential generator: the same numbers on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Lets the event loop run (worker messages arrive) before the next step. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

interface Job {
  /** Tickets: cell 0 counts how many jobs may finish; a job takes one. */
  tickets: SharedArrayBuffer;
  data: number;
  random: number;
}

/**
 * The original's `do_something(data)`, with its randomness passed in: it
 * waits for a ticket (in place of a random sleep), then returns
 * `round(random * data, 5)`, throwing once in a while, when that is > 5.
 */
function doSomething({ tickets, data, random }: Job): number {
  const cells = new Int32Array(tickets);
  for (;;) {
    const available = Atomics.load(cells, 0);
    if (available === 0) Atomics.wait(cells, 0, 0);
    else if (
      Atomics.compareExchange(cells, 0, available, available - 1) === available
    ) break;
  }
  const result = Math.round(random * data * 1e5) / 1e5;
  // just to show off, we throw an exception once in a while
  if (result > 5) throw new Error("Something extraordinary happened!");
  return result;
}

describe("ThreadPool: the original's annotated example", () => {
  it("ThreadPool runs the threadpool.py usage example: polling, adding and dismissing workers", async () => {
    const random = seeded(42);
    const randint = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
    const tickets = new SharedArrayBuffer(4);
    const ticketCells = new Int32Array(tickets);
    const grantTicket = () => {
      Atomics.add(ticketCells, 0, 1);
      Atomics.notify(ticketCells, 0, 1);
    };

    const printed: [unknown, number][] = [];
    const exceptions: [unknown, string][] = [];
    // this will be called each time a result is available
    const printResult = (request: WorkRequest, result: unknown) => {
      printed.push([request.requestID, result as number]);
    };
    // this will be called when an exception occurs within a worker
    const handleException = (request: WorkRequest, error: unknown) => {
      // Something is seriously wrong...
      if (!(error instanceof Error)) {
        throw new TypeError(
          `${request} failed with a non-error: ${String(error)}`,
        );
      }
      exceptions.push([request.requestID, error.message]);
    };

    // assemble the arguments for each job to a list (anything but an array is the one argument)...
    const data: Job[] = [];
    for (let i = 0; i < 20; i++) {
      data.push({ tickets, data: randint(1, 10), random: random() });
    }
    // ... and build a WorkRequest object for each item in data
    const requests = makeRequests(
      doSomething,
      data,
      printResult,
      handleException,
    );
    // or the other form of argsList: an array of the arguments
    const spread: [Job][] = [];
    for (let i = 0; i < 20; i++) {
      spread.push([{ tickets, data: randint(1, 10), random: random() }]);
    }
    requests.push(
      ...makeRequests(doSomething, spread, printResult, handleException),
    );

    // we create a pool of 3 workers
    const main = new ThreadPool(3);
    try {
      // then we put the work requests in the queue...
      for (const request of requests) main.putRequest(request);

      // ...and instead of waiting for all results with `await main.wait()`,
      // we poll for results while doing something else:
      const workersSeen: number[] = [];
      let i = 0;
      for (;;) {
        try {
          // the stand-in for time.sleep(0.5): let one more job finish
          grantTicket();
          await yieldToEventLoop();
          await main.poll();
          // Main thread working...
          workersSeen.push(main.workers);
          if (i === 10) {
            // Adding 3 more workers...
            main.createWorkers(3);
          }
          if (i === 20) {
            // Dismissing 2 workers...
            main.dismissWorkers(2);
          }
          i++;
        } catch (error) {
          if (!(error instanceof NoResultsPending)) throw error;
          // No pending results.
          break;
        }
      }
      if (main.dismissedWorkers) {
        // Joining all dismissed workers...
        await main.joinAllDismissedWorkers();
      }

      assert.ok(
        i >= requests.length - 1,
        "every job needs a ticket, and the loop grants one a turn",
      );
      // workersSeen[i] is what turn i saw before its step
      assert.deepEqual([
        workersSeen[0],
        workersSeen[10],
        workersSeen[11],
        workersSeen[20],
        workersSeen[21],
      ], [3, 3, 6, 6, 4]);
      assert.equal(main.workers, 4);
      assert.equal(main.dismissedWorkers, 0);

      // Every request was handled exactly once, by the right callback, with its own result.
      const expected = new Map<unknown, number>();
      for (const request of requests) {
        const job = request.args[0] as Job;
        expected.set(
          request.requestID,
          Math.round(job.random * job.data * 1e5) / 1e5,
        );
      }
      assert.equal(printed.length + exceptions.length, requests.length);
      for (const [id, result] of printed) {
        assert.equal(result, expected.get(id));
      }
      for (const [id, message] of exceptions) {
        assert.ok(expected.get(id)! > 5);
        assert.equal(message, "Something extraordinary happened!");
      }
      const failing = [...expected.values()].filter((value) => value > 5).length;
      assert.equal(exceptions.length, failing);
      assert.ok(
        failing > 0 && failing < requests.length,
        "the seed gives both results and exceptions",
      );
      for (const request of requests) {
        assert.equal(request.exception, expected.get(request.requestID)! > 5);
      }
    } finally {
      Atomics.store(ticketCells, 0, 1_000); // free any job still waiting, whatever failed
      Atomics.notify(ticketCells, 0);
      await main.shutdown();
    }
  });
});

describe("ThreadPool.poll() and wait()", () => {
  it("ThreadPool.poll() rejects with NoResultsPending when no request is pending", async () => {
    await using pool = new ThreadPool(1);
    await assert.rejects(pool.poll(), NoResultsPending);
    await assert.rejects(pool.poll(true), NoResultsPending);
    await pool.wait();
  });

  it("ThreadPool.wait() hands results to callback and errors to excCallback, on the main thread", async () => {
    await using pool = new ThreadPool(2);
    const results: [unknown, unknown][] = [];
    const errors: [unknown, unknown][] = [];
    const requests = makeRequests(
      (n: number) => {
        if (n < 0) throw new RangeError(`negative: ${n}`);
        return n * 10;
      },
      [1, -2, 3],
      (request, result) => results.push([request.args[0], result]),
      (request, error) => errors.push([request.args[0], error]),
    );
    for (const request of requests) pool.putRequest(request);
    await pool.wait();
    assert.deepEqual(results.sort(), [[1, 10], [3, 30]]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]![0], -2);
    assert.ok(errors[0]![1] instanceof RangeError);
    assert.equal((errors[0]![1] as Error).message, "negative: -2");
    assert.deepEqual(requests.map((request) => request.exception), [
      false,
      true,
      false,
    ]);
    await assert.rejects(pool.poll(), NoResultsPending);
  });

  it("ThreadPool.poll() handles what has finished and returns; the last result ends with NoResultsPending", async () => {
    await using pool = new ThreadPool(1);
    const gate = makeGate();
    const seen: unknown[] = [];
    const callback = (_request: WorkRequest, result: unknown) => seen.push(result);
    pool.putRequest(
      new WorkRequest(waitAtGate, { args: [gate.memory, "first"], callback }),
    );
    pool.putRequest(
      new WorkRequest((s: string) => s, { args: ["second"], callback }),
    );
    await gate.started(1);
    await pool.poll();
    assert.deepEqual(seen, [], "nothing finished yet: poll() returns at once");
    gate.open();
    await assert.rejects(pool.poll(true), NoResultsPending);
    assert.deepEqual(
      seen,
      ["first", "second"],
      "results in the order requests were put, on one worker",
    );
  });

  it("ThreadPool.poll(true) rejects with NoWorkersAvailable while requests wait for workers", async () => {
    await using pool = new ThreadPool(0);
    const seen: unknown[] = [];
    pool.putRequest(
      new WorkRequest((n: number) => n + 1, {
        args: [1],
        callback: (_r, result) => seen.push(result),
      }),
    );
    await pool.poll();
    await assert.rejects(pool.poll(true), NoWorkersAvailable);
    await assert.rejects(pool.wait(), NoWorkersAvailable);
    pool.createWorkers(1);
    assert.equal(pool.workers, 1);
    await pool.wait();
    assert.deepEqual(seen, [2]);
  });

  it("ThreadPool.poll() rejects with what a callback throws; the request is no longer pending", async () => {
    await using pool = new ThreadPool(1);
    pool.putRequest(
      new WorkRequest(() => 1, {
        callback: () => {
          throw new Error("callback failed");
        },
      }),
    );
    await assert.rejects(pool.wait(), { message: "callback failed" });
    await assert.rejects(pool.poll(), NoResultsPending);
    // A callback set to a non-function once put: before, a bare "request.callback is not a function".
    const changed = new WorkRequest(() => 1, { callback: () => {} });
    pool.putRequest(changed);
    (changed as { callback: unknown }).callback = "not a function";
    await assert.rejects(pool.wait(), {
      name: "TypeError",
      message:
        'Cannot hand result to request: "callback" must be a function or null, received "not a function"',
    });
  });
});

describe("ThreadPool: one request per worker", () => {
  /**
   * Bounds a wait that ends at once when the pool is right and never when it
   * is wrong: long for two tiny requests even on a loaded machine, and under
   * Bun's 5 s test timeout, so that a failing test still lets its pool end.
   */
  const HANG_MS = 4_000;

  /** Puts `count` quick requests of `callable` and waits: the pool then knows it as quick. */
  async function warmUp(
    pool: ThreadPool,
    callable: (...args: never[]) => unknown,
    args: unknown[],
  ) {
    for (let i = 0; i < 20; i++) {
      pool.putRequest(new WorkRequest(callable as (...args: unknown[]) => unknown, { args }));
    }
    await pool.wait();
  }

  it("ThreadPool runs requests put in the same tick on two workers at once, also once their task is known as quick", async () => {
    await using pool = new ThreadPool(2);
    // Quick calls first: before, the pool then sent several requests to one
    // worker, where the second waited for the first while the other worker idled.
    const open = makeGate();
    open.open();
    await warmUp(pool, waitAtGate, [open.memory, "warm"]);
    const gate = makeGate();
    const results: unknown[] = [];
    const callback = (_request: WorkRequest, result: unknown) => results.push(result);
    pool.putRequest(new WorkRequest(waitAtGate, { args: [gate.memory, "a"], callback }));
    pool.putRequest(new WorkRequest(waitAtGate, { args: [gate.memory, "b"], callback }));
    const both = await within(gate.started(2), HANG_MS);
    gate.open(); // either way, so that the pool can end
    assert.ok(both, "both requests run at once, one per worker");
    await pool.wait();
    assert.deepEqual(results.sort(), ["a", "b"]);
  });

  it("ThreadPool.wait() ends when a request waits for one put after it (each has a worker of its own)", async () => {
    await using pool = new ThreadPool(2);
    const roles = async (semaphore: Semaphore, role: string) => {
      if (role === "take") await semaphore.acquire();
      if (role === "give") semaphore.release();
      return role;
    };
    const semaphore = new Semaphore(0);
    await warmUp(pool, roles, [semaphore, "noop"]);
    const results: unknown[] = [];
    const callback = (_request: WorkRequest, result: unknown) => results.push(result);
    pool.putRequest(new WorkRequest(roles, { args: [semaphore, "take"], callback }));
    pool.putRequest(new WorkRequest(roles, { args: [semaphore, "give"], callback }));
    const waited = pool.wait();
    const ended = await within(waited, HANG_MS);
    // Before, "give" queued behind "take" on one worker: wait() never ended.
    if (!ended) semaphore.release(); // frees "take", so that the pool can end
    await waited;
    assert.ok(ended, "wait() ended: the two requests ran on two workers");
    assert.deepEqual(results.sort(), ["give", "take"]); // either answer may arrive first
  });
});

describe("WorkRequest and makeRequests()", () => {
  it("ThreadPool.wait() ends for a request whose requestID was changed after putRequest()", async () => {
    await using pool = new ThreadPool(1);
    const results: [unknown, unknown][] = [];
    const next = (new WorkRequest(() => 0).requestID as number) + 1;
    const request = new WorkRequest((n: number) => n * 2, {
      args: [21],
      requestID: next,
      callback: (request, result) => results.push([request.requestID, result]),
    });
    pool.putRequest(request);
    // `readonly` in the types only: before, wait() never ended (the pool looked for "renamed").
    (request as { requestID: unknown }).requestID = "renamed";
    assert.ok(await within(pool.wait(), 4_000), "wait() ends"); // under Bun's 5 s test timeout
    assert.deepEqual(results, [["renamed", 42]], "the callback sees the request as it is");
    await assert.rejects(pool.poll(), NoResultsPending);
    assert.equal(new WorkRequest(() => 0).requestID, next, "the id it was put under is free again");
    pool.putRequest(new WorkRequest(() => 0, { requestID: next }));
    await pool.wait();
  });

  it("ThreadPool.poll() hands a result to callback even when the same request failed in another pool", async () => {
    await using first = new ThreadPool(1);
    await using second = new ThreadPool(1);
    const gate = makeGate();
    // The run that starts first throws; the other returns.
    const firstRunFails = (memory: Int32Array) => {
      const run = Atomics.add(memory, 0, 1);
      Atomics.notify(memory, 0);
      Atomics.wait(memory, 1, 0);
      if (run === 0) throw new Error("first run fails");
      return "second run";
    };
    const outcomes: unknown[] = [];
    const request = new WorkRequest(firstRunFails, {
      args: [gate.memory],
      callback: (_request, result) => outcomes.push(["callback", result]),
      excCallback: (_request, error) => outcomes.push(["excCallback", (error as Error).message]),
    });
    first.putRequest(request);
    await gate.started(1);
    second.putRequest(request); // not failed yet: it may be put
    await gate.started(2);
    gate.open();
    await first.wait();
    await second.wait();
    // Before, the shared `request.exception`, set by the first pool, sent the second's result to excCallback.
    assert.deepEqual(outcomes, [["excCallback", "first run fails"], ["callback", "second run"]]);
    assert.equal(request.exception, true, "it failed once");
  });

  it("WorkRequest with excCallback null sends the error to callback, as the original", async () => {
    await using pool = new ThreadPool(1);
    const outcomes: unknown[] = [];
    const request = new WorkRequest(() => {
      throw new TypeError("bad");
    }, {
      callback: (_request, outcome) => outcomes.push(outcome),
      excCallback: null,
    });
    pool.putRequest(request);
    await pool.wait();
    assert.equal(request.exception, true);
    assert.equal(outcomes.length, 1);
    assert.ok(outcomes[0] instanceof TypeError);
    assert.throws(() => pool.putRequest(request), {
      name: "TypeError",
      message: /failed before/,
    });
  });

  it("ThreadPool's own errors name the request by its requestID, not the inner pool's job id; a task's are left as thrown", async () => {
    await using pool = new ThreadPool(1);
    const errors = new Map<unknown, Error>();
    const excCallback = (request: WorkRequest, error: unknown) =>
      errors.set(request.requestID, error as Error);
    pool.putRequest(new WorkRequest(() => 1, { requestID: "warm-up" }));
    pool.putRequest(
      new WorkRequest(() => {
        (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(3);
      }, { requestID: "img-7", excCallback }),
    );
    pool.putRequest(
      new WorkRequest((_f: unknown) => 0, { args: [() => 0], requestID: 8, excCallback }),
    );
    pool.putRequest(
      new WorkRequest(() => {
        throw new TypeError("Cannot send job 2: my own words");
      }, { requestID: "own", excCallback }),
    );
    await pool.wait();
    const crashed = errors.get("img-7")!;
    assert.equal(crashed.name, "WorkerCrashedError");
    assert.match(crashed.message, /^Worker ThreadPool-\d+ died while running request img-7: /);
    assert.equal(crashed.stack?.split("\n")[0], `WorkerCrashedError: ${crashed.message}`);
    const unsent = errors.get(8)!;
    assert.equal(unsent.name, "TypeError");
    assert.match(
      unsent.message,
      /^Cannot send request 8: argument 1 \(a function\) cannot be cloned/,
    );
    assert.equal(unsent.stack?.split("\n")[0], `TypeError: ${unsent.message}`);
    assert.equal(errors.get("own")!.message, "Cannot send job 2: my own words");
  });

  it("ThreadPool fails a request whose args throw when read, through excCallback, and goes on", async () => {
    await using pool = new ThreadPool(1);
    const args: unknown[] = [];
    Object.defineProperty(args, 0, {
      get() {
        throw new RangeError("getter boom");
      },
      enumerable: true,
    });
    const errors: unknown[] = [];
    const results: unknown[] = [];
    const bad = new WorkRequest((...xs: unknown[]) => xs[0], {
      args,
      excCallback: (_request, error) => errors.push(error),
    });
    pool.putRequest(bad);
    pool.putRequest(
      new WorkRequest((n: number) => n * 2, {
        args: [21],
        callback: (_request, value) => results.push(value),
      }),
    );
    await pool.wait();
    assert.equal(bad.exception, true);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof RangeError);
    assert.equal((errors[0] as Error).message, "getter boom");
    assert.deepEqual(results, [42]);
  });

  it("WorkRequest by default logs an error with console.error and skips callback", async () => {
    await using pool = new ThreadPool(1);
    const logged: unknown[][] = [];
    // The default excCallback prints, as the original's: catch what it prints.
    // deno-lint-ignore no-console
    const original = console.error;
    // deno-lint-ignore no-console
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      let called = false;
      pool.putRequest(
        new WorkRequest(() => {
          throw new Error("oops");
        }, { requestID: "r1", callback: () => (called = true) }),
      );
      await pool.wait();
      assert.equal(called, false);
    } finally {
      // deno-lint-ignore no-console
      console.error = original;
    }
    assert.equal(logged.length, 1);
    assert.match(String(logged[0]![0]), /r1/);
    assert.equal((logged[0]![1] as Error).message, "oops");
  });

  it("WorkRequest with a requestID that String() cannot convert: the task's error is logged, the duplicate is a RangeError", async () => {
    await using pool = new ThreadPool(1);
    const id = Object.create(null); // any value may be an id; String(id) throws
    const request = new WorkRequest(() => {
      throw new RangeError("task failed");
    }, { requestID: id });
    pool.putRequest(request);
    // Before, each of these threw "Cannot convert object to primitive value" (Bun: "No default value").
    assert.throws(() => pool.putRequest(new WorkRequest(() => 0, { requestID: id })), {
      name: "RangeError",
      message: "Cannot put request: a request with requestID an object is already pending",
    });
    const logged: unknown[][] = [];
    // deno-lint-ignore no-console
    const original = console.error;
    // deno-lint-ignore no-console
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      await pool.wait();
    } finally {
      // deno-lint-ignore no-console
      console.error = original;
    }
    assert.equal(logged.length, 1);
    assert.equal(logged[0]![0], "Exception in request an object:");
    assert.ok(logged[0]![1] instanceof RangeError);
    assert.equal((logged[0]![1] as Error).message, "task failed");
    assert.equal(String(request), "<WorkRequest id=an object args=[] exception=true>");
    assert.throws(() => pool.putRequest(request), {
      name: "TypeError",
      message: 'Cannot put request: "request" (requestID an object) failed before; make a new one',
    });
  });

  it("WorkRequest ids are unique by default; a given requestID is kept", () => {
    const a = new WorkRequest(() => 0);
    const b = new WorkRequest(() => 0);
    assert.notEqual(a.requestID, b.requestID);
    const named = new WorkRequest((n: number) => n, {
      args: [1],
      requestID: "mine",
    });
    assert.equal(named.requestID, "mine");
    assert.equal(
      String(named),
      `<WorkRequest id=mine args=[1] exception=false>`,
    );
  });

  it("WorkRequest skips automatic ids that a pending request was given by hand", async () => {
    await using pool = new ThreadPool(0);
    const next = (new WorkRequest(() => 0).requestID as number) + 1;
    pool.putRequest(new WorkRequest(() => "mine", { requestID: next + 1 }));
    pool.putRequest(new WorkRequest(() => "mine too", { requestID: next + 2 }));
    const first = new WorkRequest(() => "auto");
    const second = new WorkRequest(() => "auto");
    assert.equal(first.requestID, next);
    assert.equal(second.requestID, next + 3);
    pool.putRequest(first);
    pool.putRequest(second); // before: RangeError, requestID next + 1 is already pending
  });

  it("WorkRequest skips an id while any pool holds it pending, and not once none does", async () => {
    const a = new ThreadPool(0);
    const b = new ThreadPool(1);
    const next = (new WorkRequest(() => 0).requestID as number) + 1;
    a.putRequest(new WorkRequest(() => 0, { requestID: next }));
    b.putRequest(new WorkRequest(() => 0, { requestID: next }));
    await a.shutdown(); // drops its queued request: no longer pending in a
    assert.equal(new WorkRequest(() => 0).requestID, next + 1, "still pending in b");
    b.putRequest(new WorkRequest(() => 0, { requestID: next + 2 }));
    await b.wait(); // poll() handles both: no longer pending anywhere
    await b.shutdown();
    assert.equal(new WorkRequest(() => 0).requestID, next + 2);
  });

  it("ThreadPool.shutdown() frees the ids of results never polled: a pool dropped unpolled keeps nothing", async () => {
    const next = (new WorkRequest(() => 0).requestID as number) + 1;
    const pool = new ThreadPool(1);
    const results: unknown[] = [];
    const request = new WorkRequest(() => "late", {
      requestID: next + 1,
      callback: (_, result) => results.push(result),
    });
    pool.putRequest(request); // runs at once
    assert.equal(await pool.shutdown(), true); // it ended, its result never polled
    assert.equal(new WorkRequest(() => 0).requestID, next);
    // Before: next + 2, the id skipped for good (and kept in a map of the module's: the
    // leak of a program that drops such pools).
    assert.equal(new WorkRequest(() => 0).requestID, next + 1);
    await assert.rejects(pool.poll(), NoResultsPending); // its result was still there to poll
    assert.deepEqual(results, ["late"]);
  });

  it("WorkRequest refuses a callable, args or callback of the wrong type", () => {
    // @ts-expect-error: a number is not a callable
    assert.throws(() => new WorkRequest(42), {
      name: "TypeError",
      message: /"callable"/,
    });
    // Before: accepted, and failed only once run (in excCallback).
    assert.throws(() => new WorkRequest({ module: "file:///tasks.ts" } as never), {
      name: "TypeError",
      message:
        /"callable" must be a function, a task\(\) reference or an export name, received an object/,
    });
    // @ts-expect-error: args must be an array
    assert.throws(() => new WorkRequest(() => 0, { args: 1 }), {
      name: "TypeError",
      message: /"args"/,
    });
    // @ts-expect-error: callback must be a function
    assert.throws(() => new WorkRequest(() => 0, { callback: "x" }), {
      name: "TypeError",
      message: /"callback"/,
    });
  });

  it("makeRequests() spreads an array item as the arguments and passes anything else as the one argument", async () => {
    const callback = () => {};
    const requests = makeRequests(
      (...args: unknown[]) => args,
      [[1, 2], 3, "s", [[4, 5]], { a: 1 }],
      callback,
      null,
    );
    assert.deepEqual(requests.map((request) => request.args), [
      [1, 2],
      [3],
      ["s"],
      [[4, 5]],
      [{ a: 1 }],
    ]);
    assert.ok(
      requests.every((request) => request.callback === callback && request.excCallback === null),
    );
    await using pool = new ThreadPool(1);
    const results: unknown[] = [];
    for (
      const request of makeRequests(
        (a: number, b = 0) => a + b,
        [[1, 2], 3],
        (_r, result) => results.push(result),
      )
    ) {
      pool.putRequest(request);
    }
    await pool.wait();
    assert.deepEqual(results, [3, 3]);
    // @ts-expect-error: argsList must be iterable
    assert.throws(() => makeRequests(() => 0, 5), {
      name: "TypeError",
      message: /"argsList"/,
    });
  });

  it("ThreadPool runs export names of its module and task() references", async () => {
    const tasks = fixture("tasks.ts");
    await using pool = new ThreadPool(1, { module: tasks });
    const results: unknown[] = [];
    const callback = (_request: WorkRequest, result: unknown) => results.push(result);
    pool.putRequest(new WorkRequest("double", { args: [21], callback }));
    pool.putRequest(
      new WorkRequest(task(tasks, "add"), { args: [2, 3], callback }),
    );
    await pool.wait();
    assert.deepEqual(results, [42, 5]);
  });
});

describe("ThreadPool workers and queues", () => {
  it("ThreadPool.dismissWorkers() lets running requests finish; queued ones wait for a worker", async () => {
    await using pool = new ThreadPool(2);
    const gate = makeGate();
    const results: unknown[] = [];
    const callback = (_request: WorkRequest, result: unknown) => results.push(result);
    for (const name of ["a", "b", "c"]) {
      pool.putRequest(
        new WorkRequest(waitAtGate, { args: [gate.memory, name], callback }),
      );
    }
    await gate.started(2);
    const joined = pool.dismissWorkers(2, true);
    assert.equal(pool.workers, 0);
    assert.equal(
      pool.dismissedWorkers,
      0,
      "joined workers are not kept for joinAllDismissedWorkers()",
    );
    assert.equal(await promiseState(joined), "pending");
    gate.open();
    await joined;
    await pool.poll();
    assert.deepEqual(results.sort(), ["a", "b"]);
    await assert.rejects(pool.poll(true), NoWorkersAvailable);
    pool.createWorkers(1);
    await pool.wait();
    assert.deepEqual(results, ["a", "b", "c"]);
  });

  it("ThreadPool.joinAllDismissedWorkers() waits for the dismissed workers' last requests", async () => {
    await using pool = new ThreadPool(2);
    const gate = makeGate();
    pool.putRequest(new WorkRequest(waitAtGate, { args: [gate.memory, 1] }));
    pool.putRequest(new WorkRequest(waitAtGate, { args: [gate.memory, 2] }));
    await gate.started(2);
    assert.equal(pool.dismissWorkers(5), undefined);
    assert.equal(pool.workers, 0, "at most the workers there are");
    assert.equal(pool.dismissedWorkers, 2);
    const joined = pool.joinAllDismissedWorkers();
    assert.equal(await promiseState(joined), "pending");
    gate.open();
    await joined;
    assert.equal(pool.dismissedWorkers, 0);
    await assert.rejects(
      pool.wait(),
      NoWorkersAvailable,
      "checked before the results, as the original",
    );
    await assert.rejects(
      pool.poll(),
      NoResultsPending,
      "both results handled, then none pending",
    );
  });

  /** As `HANG_MS` above: ends at once when the pool is right, under Bun's 5 s test timeout when wrong. */
  const LATE_MS = 4_000;

  it("ThreadPool.createWorkers() after dismissWorkers() runs a queued request at once, while the dismissed worker finishes its own", async () => {
    await using pool = new ThreadPool(1);
    const old = makeGate();
    const results: unknown[] = [];
    const callback = (_request: WorkRequest, result: unknown) => results.push(result);
    pool.putRequest(new WorkRequest(waitAtGate, { args: [old.memory, "old"], callback }));
    await old.started(1);
    pool.dismissWorkers(1);
    pool.createWorkers(1);
    assert.deepEqual([pool.workers, pool.dismissedWorkers], [1, 1]);
    const fresh = makeGate();
    pool.putRequest(new WorkRequest(waitAtGate, { args: [fresh.memory, "new"], callback }));
    // Before, the dismissed worker's request held the new worker's place: "new" waited for "old".
    const started = await within(fresh.started(1), LATE_MS);
    const joined = pool.joinAllDismissedWorkers();
    const joinedEarly = await promiseState(joined);
    fresh.open();
    old.open(); // either way, so that the pool can end
    assert.ok(started, "the new worker took the queued request while the dismissed one ran");
    assert.equal(joinedEarly, "pending", "the join waits for the dismissed worker's request");
    await joined;
    assert.equal(pool.dismissedWorkers, 0);
    await pool.wait();
    assert.deepEqual(results.sort(), ["new", "old"]);
  });

  it("ThreadPool.wait() ends when a dismissed worker's request waits for one put after createWorkers()", async () => {
    await using pool = new ThreadPool(1);
    const started = new Semaphore(0);
    const semaphore = new Semaphore(0);
    const results: unknown[] = [];
    const callback = (_request: WorkRequest, result: unknown) => results.push(result);
    const take = async (started: Semaphore, semaphore: Semaphore) => {
      started.release();
      await semaphore.acquire();
      return "take";
    };
    const give = (semaphore: Semaphore) => {
      semaphore.release();
      return "give";
    };
    pool.putRequest(new WorkRequest(take, { args: [started, semaphore], callback }));
    await started.acquire(); // "take" runs
    pool.dismissWorkers(1);
    pool.createWorkers(1);
    pool.putRequest(new WorkRequest(give, { args: [semaphore], callback }));
    const waited = pool.wait();
    // Before, "give" waited for "take", which waited for "give": wait() never ended.
    const ended = await within(waited, LATE_MS);
    if (!ended) semaphore.release(); // frees "take", so that the pool can end
    await waited;
    assert.ok(ended, 'wait() ended: the new worker ran "give"');
    assert.deepEqual(results.sort(), ["give", "take"]); // either answer may arrive first
  });

  it("ThreadPool.dismissWorkers(n, true) resolves once the dismissed workers' requests end, also after createWorkers()", async () => {
    await using pool = new ThreadPool(2);
    const old = makeGate();
    const results: unknown[] = [];
    for (const name of ["a", "b"]) {
      pool.putRequest(
        new WorkRequest(waitAtGate, {
          args: [old.memory, name],
          callback: (_request, result) => results.push(result),
        }),
      );
    }
    await old.started(2);
    const joined = pool.dismissWorkers(2, true);
    pool.createWorkers(2);
    // Two quick requests on the new workers; the dismissed ones still run theirs.
    let quickDone!: () => void;
    const quick = new Promise<void>((resolve) => quickDone = resolve);
    const quickResults: unknown[] = [];
    for (const n of [1, 2]) {
      pool.putRequest(
        new WorkRequest((n: number) => n * 10, {
          args: [n],
          callback: (_request, result) => {
            if (quickResults.push(result) === 2) quickDone();
          },
        }),
      );
    }
    const polling = pool.wait();
    const ranQuick = await within(quick, LATE_MS);
    const joinedEarly = await promiseState(joined);
    old.open(); // either way, so that the pool can end
    await polling;
    await joined;
    assert.ok(ranQuick, "the new workers ran the quick requests");
    // Before, createWorkers() met the join's test at once.
    assert.equal(joinedEarly, "pending", "the join waits for the dismissed workers' requests");
    assert.deepEqual(quickResults.sort(), [10, 20]);
    assert.deepEqual(results.sort(), ["a", "b"]);
    assert.deepEqual([pool.workers, pool.dismissedWorkers], [2, 0]);
  });

  it("ThreadPool.dismissWorkers() dismisses idle workers first", async () => {
    await using pool = new ThreadPool(2);
    const gate = makeGate();
    pool.putRequest(new WorkRequest(waitAtGate, { args: [gate.memory, "a"] }));
    await gate.started(1);
    // The idle worker goes: the join does not wait for "a".
    const joined = await within(pool.dismissWorkers(1, true), LATE_MS);
    gate.open();
    assert.ok(joined, "the join resolved while the busy worker ran its request");
    assert.deepEqual([pool.workers, pool.dismissedWorkers], [1, 0]);
    await pool.wait();
  });

  it("ThreadPool.putRequest() refuses a non-request, a pending requestID and a full queue", async () => {
    await using pool = new ThreadPool(0, { qSize: 2 });
    // @ts-expect-error: not a WorkRequest
    assert.throws(() => pool.putRequest({ callable: () => 0 }), {
      name: "TypeError",
      message: /"request"/,
    });
    // A callback set to a non-function after creation: before, wait() failed later with
    // "request.callback is not a function", naming neither.
    const changed = new WorkRequest(() => 0, { callback: () => {} });
    (changed as { callback: unknown }).callback = 5;
    assert.throws(() => pool.putRequest(changed), {
      name: "TypeError",
      message: 'Cannot put request: "callback" must be a function or null, received 5',
    });
    pool.putRequest(new WorkRequest(() => 0, { requestID: "x" }));
    assert.throws(
      () => pool.putRequest(new WorkRequest(() => 0, { requestID: "x" })),
      {
        name: "RangeError",
        message: /already pending/,
      },
    );
    pool.putRequest(new WorkRequest(() => 0));
    assert.throws(
      () => pool.putRequest(new WorkRequest(() => 0)),
      (error: Error) =>
        error instanceof QueueFullError && /queue is full \(qSize is \d+\)/.test(error.message),
    );
  });

  it("ThreadPool with resqSize still delivers every result", async () => {
    await using pool = new ThreadPool(2, { resqSize: 1 });
    const results: unknown[] = [];
    for (
      const request of makeRequests(
        (n: number) => n,
        [1, 2, 3, 4, 5],
        (_r, result) => results.push(result),
      )
    ) {
      pool.putRequest(request);
    }
    await pool.wait();
    assert.deepEqual(results.sort(), [1, 2, 3, 4, 5]);
  });

  it("new ThreadPool() names itself in the errors of the options it hands to Pool", () => {
    // Before: "Cannot create pool: …", a call the user never made.
    for (const options of [{ idleTimeout: null }, { idleTimeout: -1 }, { module: null }]) {
      assert.throws(() => new ThreadPool(1, options as never), {
        message: /^Cannot create thread pool: "(idleTimeout|module)"/,
      });
    }
  });

  it("new ThreadPool() refuses counts that are not integers >= 0", () => {
    assert.throws(() => new ThreadPool(-1), {
      name: "RangeError",
      message: /"numWorkers"/,
    });
    // @ts-expect-error: numWorkers must be a number
    assert.throws(() => new ThreadPool("2"), {
      name: "TypeError",
      message: /"numWorkers"/,
    });
    assert.throws(() => new ThreadPool(1, { qSize: 1.5 }), {
      name: "RangeError",
      message: /"qSize"/,
    });
    assert.throws(() => new ThreadPool(1, { resqSize: -1 }), {
      name: "RangeError",
      message: /"resqSize"/,
    });
    // Before: taken, then miscounted (2 ** 53 + 1 is 2 ** 53).
    assert.throws(() => new ThreadPool(1e300), {
      name: "RangeError",
      message: /"numWorkers" must be a safe integer/,
    });
  });

  it("ThreadPool.createWorkers()/dismissWorkers()/poll() refuse a count past 2^53 and flags that are not booleans", async () => {
    await using pool = new ThreadPool(1);
    assert.throws(() => pool.createWorkers(2 ** 53), {
      name: "RangeError",
      message: /^Cannot create workers: "numWorkers" must be a safe integer/,
    });
    // @ts-expect-error: doJoin is a boolean
    assert.throws(() => pool.dismissWorkers(0, "no"), {
      name: "TypeError",
      message: /^Cannot dismiss workers: "doJoin" must be a boolean, received/,
    });
    // @ts-expect-error: block is a boolean (before: "no" blocked, as true)
    await assert.rejects(pool.poll("no"), {
      name: "TypeError",
      message: /^Cannot poll: "block" must be a boolean, received/,
    });
    assert.equal(pool.workers, 1, "the pool keeps working");
  });

  it("ThreadPool.shutdown() twice (an await using after an explicit one) frees its ids once: another pool keeps its claim", async () => {
    const next = (new WorkRequest(() => 0).requestID as number) + 1;
    const a = new ThreadPool(0);
    const b = new ThreadPool(0);
    a.putRequest(new WorkRequest(() => 0, { requestID: next }));
    b.putRequest(new WorkRequest(() => 0, { requestID: next }));
    await a.shutdown();
    await a.shutdown(); // before: released next again, b's claim with it
    assert.equal(new WorkRequest(() => 0).requestID, next + 1, "still pending in b");
    await b.shutdown();
  });

  it("ThreadPool.shutdown(timeout) stops a request that never ends: it fails with PoolClosedError, once, and the pool closes", async () => {
    const pool = new ThreadPool(1);
    await assert.rejects(pool.shutdown(-1), { name: "RangeError", message: /"timeout"/ });
    const started = new Semaphore(0);
    const ends: string[] = [];
    pool.putRequest(
      new WorkRequest((started: Semaphore) => {
        started.release();
        return new Promise(() => {});
      }, {
        args: [started],
        callback: () => ends.push("done"),
        excCallback: (_request, error) => ends.push((error as Error).name),
      }),
    );
    await started.acquire(); // running
    assert.equal(await pool.shutdown(20), false);
    await pool.wait();
    assert.deepEqual(ends, ["PoolClosedError"]);
    await assert.rejects(pool.poll(), NoResultsPending);
    assert.throws(() => pool.putRequest(new WorkRequest(() => 0)), PoolClosedError);
    assert.equal(await new ThreadPool(1).shutdown(0), true, "nothing running: true");
  });

  it("ThreadPool.shutdown(timeout) drops requests no worker started (its module still loading) and returns true", async () => {
    const pool = new ThreadPool(1, { module: fixture("never_loads.ts") });
    const ends: string[] = [];
    for (let i = 0; i < 3; i++) {
      pool.putRequest(
        new WorkRequest("never", {
          callback: () => ends.push("done"),
          excCallback: (_request, error) => ends.push((error as Error).message),
        }),
      );
    }
    assert.equal(await pool.shutdown(20), true, "no request was running");
    await pool.wait();
    assert.deepEqual(ends, []);
    await assert.rejects(pool.poll(), NoResultsPending);
  });

  it("ThreadPool.shutdown() drops queued requests and refuses new ones", async () => {
    const pool = new ThreadPool(0);
    pool.putRequest(new WorkRequest(() => 0));
    await pool.shutdown();
    await assert.rejects(pool.poll(), NoResultsPending);
    assert.throws(
      () => pool.putRequest(new WorkRequest(() => 0)),
      PoolClosedError,
    );
    assert.throws(() => pool.createWorkers(1), {
      name: "PoolClosedError",
      message: "Cannot create workers: the thread pool is shut down",
    });
    assert.equal(pool.workers, 0);
  });
});
