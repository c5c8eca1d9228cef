/**
 * The cluster's pure parts, without Redis: what crosses (JSON safety, error
 * rebuilding), connections, options, chunk sizing, the command line, and
 * refusals at submit time.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type ClusterExecOptions,
  ClusterPool,
  RedisUnavailableError,
  serve,
} from "../../src/cluster/mod.ts";
import type { ExecOptions } from "../../mod.ts";
import { poolMade } from "../../src/pool/own_errors.ts";
import {
  decodeFailure,
  encodeFailure,
  fixArgs,
  jsonClean,
  jsonLength,
  jsonProblem,
  MAX_JSON_CHARS,
  MAX_JSON_DEPTH,
  MAX_JSON_OBJECTS,
} from "../../src/cluster/_wire.ts";
import { redisOptions } from "../../src/cluster/connection.ts";
import { resolveClusterOptions } from "../../src/cluster/options.ts";
import { Results } from "../../src/cluster/_results.ts";
import { ChunkSizer, PROBE_ITEMS } from "../../src/cluster/_sizer.ts";
import { parseArgs } from "../../src/cluster/node.ts";
import { within } from "../_util.ts";
import { run, withThisRuntime } from "../_child.ts";
import { fileURLToPath } from "node:url";
import {
  PoolClosedError,
  QueueFullError,
  TaskTimeoutError,
  WorkerCrashedError,
} from "../../src/errors.ts";

type Tasks = typeof import("../fixtures/cluster_tasks.ts");
const connection = "redis://127.0.0.1:1"; // never dialled: these tests submit nothing valid

describe("cluster wire", () => {
  it("jsonProblem() accepts JSON values and names the first that is not one", () => {
    for (const ok of [null, true, 1.5, "s", [1, [2]], { a: { b: [null] } }, Object.create(null)]) {
      assert.equal(jsonProblem(ok), undefined, JSON.stringify(ok));
    }
    assert.equal(jsonProblem({ a: undefined }), undefined, "an undefined property is left out");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [unknown, RegExp][] = [
      [() => 1, /it is a function/],
      [{ f: { g: Symbol("x") } }, /\.f\.g is a symbol/],
      [[1, 2n], /\[1\] is a bigint/],
      [NaN, /NaN/],
      [Infinity, /Infinity/],
      [[undefined], /\[0\] is undefined/],
      [new Map(), /instance of Map/],
      [new Set(), /instance of Set/],
      [new Uint8Array(2), /instance of Uint8Array/],
      [new Date(0), /instance of Date/],
      [cyclic, /\.self is a cyclic reference/],
    ];
    for (const [value, pattern] of cases) assert.match(jsonProblem(value) ?? "", pattern);
    const shared = { x: 1 };
    assert.equal(jsonProblem([shared, shared]), undefined, "a value seen twice is not a cycle");
  });

  it("jsonProblem() and jsonClean() read each shared object once, and refuse what JSON would write too much of", () => {
    const expands = (levels: number) => {
      let value: unknown = { leaf: 1 };
      for (let i = 0; i < levels; i++) value = { left: value, right: value };
      return value;
    };
    // 2^18 objects as JSON: checked in its size, 19 objects, not in 2^18 paths.
    assert.equal(jsonProblem(expands(18)), undefined);
    // 2^40: before, the check (and JSON after it) never returned; submit() froze the program.
    const problem = `it writes more than ${
      MAX_JSON_OBJECTS.toLocaleString("en")
    } arrays and objects`;
    assert.ok(jsonProblem(expands(40))?.startsWith(problem));
    assert.throws(() => fixArgs([expands(40)], "submit job"), /argument 1 is not JSON-safe/);
    // More arguments than a job takes: refused at submit, as on Pool, not after a trip to a node.
    assert.throws(() => fixArgs(new Array(65_537).fill(0), "submit job"), {
      name: "RangeError",
      message: /^Cannot submit job: 65537 arguments, more than the 65536 a job takes/,
    });
    assert.equal((fixArgs(new Array(65_536).fill(0), "submit job") as unknown[]).length, 65_536);
    const wide = (levels: number) => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = Array.from({ length: 10 }, () => value);
      return value;
    };
    // An error's field is cleaned up to 16 levels: 10^16 copies, before.
    assert.match(JSON.stringify(jsonClean(wide(16))), /\[too large\]|more items cut\]/);
  });

  // Strings of 128 Mi characters: 3 to 8 s on a loaded machine, past bun test's 5 s default.
  it(
    "jsonProblem() and fixArgs() refuse a value JSON would write as more than MAX_JSON_CHARS characters of strings",
    {
      timeout: 120_000,
    },
    () => {
      const problem = /it writes more than 134,217,728 characters of strings as JSON/;
      const half = "x".repeat(MAX_JSON_CHARS / 2);
      assert.equal(jsonProblem([half, half]), undefined);
      assert.match(jsonProblem([half, half, "y"]) ?? "", problem);
      const held = { half };
      assert.equal(jsonProblem({ held }), undefined);
      assert.match(
        jsonProblem([held, { again: held }, "y"]) ?? "",
        problem,
        "a shared object's strings count each time",
      );
      const long = half + half + "y";
      assert.match(jsonProblem(long) ?? "", problem);
      assert.throws(() => fixArgs([1, long], "submit job"), {
        name: "TypeError",
        message: /argument 2 is not JSON-safe \(it writes more than 134,217,728 characters/,
      });
      assert.doesNotThrow(() => fixArgs([half + half], "submit job"));
      // Keys are written too; and a long string is counted as JSON writes it, escapes included.
      assert.match(jsonProblem({ [long]: 1 }) ?? "", problem);
      assert.match(jsonProblem([{ [half]: 1 }, { [half]: "y" }]) ?? "", problem);
      const controls = "\u0001".repeat(MAX_JSON_CHARS / 4); // JSON writes each as \u0001: 6 characters
      assert.equal(jsonLength(controls), (MAX_JSON_CHARS / 4) * 6);
      assert.throws(() => fixArgs([controls], "submit job"), /characters of strings/);
      const mixed = "x".repeat(MAX_JSON_CHARS / 6) + 'a"b\\c\n\ud800\ud83d\ude00\udc00';
      assert.equal(jsonLength(mixed), JSON.stringify(mixed).length - 2);
    },
  );

  it("jsonProblem() names a value nested too deep, however deep (no RangeError)", () => {
    const nested = (depth: number) => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = [value];
      return value;
    };
    assert.equal(jsonProblem(nested(MAX_JSON_DEPTH)), undefined);
    for (const depth of [MAX_JSON_DEPTH + 1, 100_000]) {
      // Before: 100,000 levels threw a bare RangeError (Maximum call stack size exceeded).
      assert.match(jsonProblem(nested(depth)) ?? "", /it is nested deeper than 2,000 levels/);
    }
    assert.throws(
      () => fixArgs([1, nested(100_000)], "submit job"),
      (error: Error) =>
        error instanceof TypeError &&
        /argument 2 is not JSON-safe \(it is nested deeper than 2,000 levels\)/.test(error.message),
    );
  });

  it("fixArgs() throws a TypeError naming the argument", () => {
    fixArgs([1, "a", { b: [true] }], "submit job");
    assert.throws(
      () => fixArgs([1, new Map()], "submit job"),
      (error: Error) =>
        error instanceof TypeError &&
        /Cannot submit job: argument 2 is not JSON-safe \(it is an instance of Map\)/.test(
          error.message,
        ),
    );
    assert.throws(() => fixArgs([undefined], "submit job"), /argument 1 .* is undefined/);
  });

  it("encodeFailure()/decodeFailure() carry a cause chain of 100 errors whole, as Pool does", () => {
    let thrown = new Error("level 0");
    for (let i = 1; i < 100; i++) thrown = new Error(`level ${i}`, { cause: thrown });
    let error: unknown = decodeFailure(JSON.parse(JSON.stringify(encodeFailure(thrown))), 1);
    const levels: string[] = [];
    for (; error instanceof Error; error = error.cause) levels.push(error.message);
    assert.equal(levels.length, 100, "before, the chain was cut at 17 levels");
    assert.equal(levels.at(-1), "level 0");
  });

  it("encodeFailure()/decodeFailure() rebuild class, message, stack and cause through JSON", () => {
    const thrown = new RangeError("odd", { cause: new TypeError("inner") });
    (thrown as unknown as Record<string, unknown>).code = 7n; // not JSON: cleaned, not lost
    const wire = JSON.parse(JSON.stringify(encodeFailure(thrown)));
    const error = decodeFailure(wire, 42) as RangeError;
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "odd");
    assert.equal(error.stack, thrown.stack);
    assert.ok(error.cause instanceof TypeError);
    assert.equal((error.cause as Error).message, "inner");
    assert.equal((error as unknown as Record<string, unknown>).code, "7n");
  });

  it("decodeFailure() gives one of fastpool's errors sent with no stack (a pool-made TaskTimeoutError on Bun) no stack frames either", () => {
    const sent = new TaskTimeoutError(3, 100);
    Object.defineProperty(sent, "stack", { value: undefined, configurable: true });
    const timeout = decodeFailure(JSON.parse(JSON.stringify(encodeFailure(sent))), 99);
    assert.ok(timeout instanceof TaskTimeoutError);
    assert.equal(timeout.jobId, 99);
    // Before: the producer's own frames (codec.ts, _wire.ts) under the node's message.
    assert.doesNotMatch(String(timeout.stack), /\n\s*at /);
  });

  it("decodeFailure() rebuilds fastpool's errors as themselves with the producer's id", () => {
    const timeout = decodeFailure(encodeFailure(new TaskTimeoutError(3, 100)), 99);
    assert.ok(timeout instanceof TaskTimeoutError);
    assert.equal(timeout.jobId, 99);
    assert.equal(timeout.timeout, 100);
    // The node's stack, its first line naming the same id as the message (before: the node's, 3).
    assert.equal(timeout.stack?.split("\n")[0], `TaskTimeoutError: ${timeout.message}`);
    assert.match(timeout.message, /^Job 99 /);
    assert.match(timeout.stack ?? "", /units_test\.ts/);
    const crash = decodeFailure(encodeFailure(new WorkerCrashedError(2, 5)), 77);
    assert.ok(crash instanceof WorkerCrashedError);
    assert.equal(crash.jobId, 77);
    assert.equal(crash.slotId, 2);
    const named = new WorkerCrashedError(2, 5, { workerName: "node-2" });
    assert.match(
      (decodeFailure(encodeFailure(named), 77) as Error).message,
      /^Worker node-2 died while running job 77$/,
    );
    assert.ok(decodeFailure(encodeFailure(new PoolClosedError("x")), 1) instanceof PoolClosedError);
    assert.equal(decodeFailure("a thrown string", 1), "a thrown string");
  });

  it("decodeFailure() rebuilds only fastpool's own errors as such: a task's error of the same name stays the task's", () => {
    // As a node's pool hands them on: a task's class comes back as its base class, named so.
    const spoofs: [Error, ErrorConstructor][] = [
      [
        Object.assign(new Error("GET https://example.com/x took longer than 2 s"), {
          name: "TaskTimeoutError",
          url: "https://example.com/x",
        }),
        Error,
      ],
      [Object.assign(new TypeError("my crash"), { name: "WorkerCrashedError" }), TypeError],
      [
        Object.assign(new Error("Job 8 was running when the pool was terminated"), {
          name: "PoolClosedError",
        }),
        Error,
      ],
    ];
    for (const [thrown, base] of spoofs) {
      const error = decodeFailure(JSON.parse(JSON.stringify(encodeFailure(thrown))), 1) as Error;
      assert.equal(error.constructor, base, thrown.name);
      assert.equal(error.name, thrown.name);
      assert.equal(error.message, thrown.message, "its message, its own id kept");
      assert.ok(!(error instanceof TaskTimeoutError || error instanceof WorkerCrashedError));
      assert.ok(!(error instanceof PoolClosedError));
    }
    const url = (decodeFailure(encodeFailure(spoofs[0]![0]), 1) as { url?: string }).url;
    assert.equal(url, "https://example.com/x");
  });

  it("decodeFailure() names the producer's id where the node's pool wrote its own job id", () => {
    const cases: [Error, string][] = [
      [
        poolMade(new Error("Cannot run job 8: workers failed to start 3 times in a row, last: no")),
        "Cannot run job 1: workers failed to start 3 times in a row, last: no",
      ],
      [
        poolMade(new TypeError("Cannot send job 8: an argument cannot be cloned (x)")),
        "Cannot send job 1: an argument cannot be cloned (x)",
      ],
      [
        poolMade(new TypeError("Cannot send job 8: its argument (an object) cannot be cloned (x)")),
        "Cannot send job 1: its argument (an object) cannot be cloned (x)",
      ],
      [
        poolMade(new TypeError("Cannot send job 8: argument 2 (a symbol) cannot be cloned (x)")),
        "Cannot send job 1: argument 2 (a symbol) cannot be cloned (x)",
      ],
      [
        new PoolClosedError("Job 8 was running when the pool was terminated"),
        "Job 1 was running when the pool was terminated",
      ],
      [
        new PoolClosedError(
          "Job 8 had ended when the pool was terminated; its answer was lost with its worker",
        ),
        "Job 1 had ended when the pool was terminated; its answer was lost with its worker",
      ],
      [new Error("Cannot run job 8: mine"), "Cannot run job 8: mine"], // a task's own words stay
      [
        // A task's own error in the pool's words: not the pool's, so its id stays.
        new Error("Cannot run job 12: workers failed to start because my cluster is down"),
        "Cannot run job 12: workers failed to start because my cluster is down",
      ],
      [
        new TypeError("Cannot send job 12: argument 1 of my own API was bad"),
        "Cannot send job 12: argument 1 of my own API was bad",
      ],
      [
        new RangeError("Job 8 was running when the pool was terminated"),
        "Job 8 was running when the pool was terminated",
      ],
    ];
    for (const [thrown, message] of cases) {
      const error = decodeFailure(encodeFailure(thrown), 1) as Error;
      assert.equal(error.constructor, thrown.constructor);
      assert.equal(error.message, message);
      assert.equal(error.stack?.split("\n")[0], `${error.name}: ${message}`);
    }
  });

  it("jsonClean() turns what JSON cannot carry into strings", () => {
    assert.deepEqual(jsonClean({ a: 1n, b: [NaN, undefined], c: Symbol("s") }), {
      a: "1n",
      b: ["NaN", null],
      c: "Symbol(s)",
    });
  });

  it("encodeFailure() cuts a failure's long strings and keys but never its classes; decodeFailure() rebuilds them", () => {
    const long = (c: string) => c.repeat(20_000);
    const inner = new TypeError(long("b"));
    const outer = new RangeError(long("a"), { cause: inner });
    (outer as unknown as Record<string, unknown>)[long("k")] = 1;
    const errors = Array.from({ length: 6 }, () => new SyntaxError(long("s")));
    const many = new AggregateError(errors, "many");
    const list = Object.assign(new Error("list"), {
      items: Array.from({ length: 200_000 }, () => "ab"),
    });
    for (
      const [thrown, check] of [
        [outer, (error: Error) => {
          assert.ok(error instanceof RangeError, String(error).slice(0, 80));
          assert.match(error.message, /^a{16384}… \[3,616 characters cut\]$/);
          assert.ok(error.cause instanceof TypeError, "the cause keeps its class");
          // Past the budget by then (message, stack, the cause's): cut to 256.
          assert.ok(
            Object.keys(error).some((key) => /^k{256}… \[19,744 characters cut\]$/.test(key)),
          );
        }],
        [many, (error: Error) => {
          assert.ok(error instanceof AggregateError);
          const inside = (error as AggregateError).errors;
          assert.equal(inside.length, 6);
          for (const e of inside) assert.ok(e instanceof SyntaxError, String(e).slice(0, 80));
          assert.match(
            inside[5].message,
            /^s{256}… \[19,744 characters cut\]$/,
            "past the budget: 256",
          );
        }],
        [list, (error: Error) => {
          const items = (error as unknown as { items: string[] }).items;
          assert.ok(items.length <= 100_001, `${items.length} items`);
          assert.match(items.at(-1)!, /^\[\d+ more items cut\]$/);
        }],
      ] as const
    ) {
      const encoded = encodeFailure(thrown);
      assert.ok(JSON.stringify(encoded).length < 1_000_000, "bounded");
      check(decodeFailure(JSON.parse(JSON.stringify(encoded)), 7) as Error);
    }
  });

  it("jsonClean() turns a Date into its ISO string and a class instance with no fields into a description", () => {
    class Point {
      constructor(readonly x: number) {}
    }
    assert.deepEqual(
      jsonClean({
        when: new Date(0),
        bad: new Date(NaN),
        map: new Map([[1, 2]]),
        point: new Point(1),
      }),
      {
        when: "1970-01-01T00:00:00.000Z",
        bad: "Invalid Date",
        map: "an instance of Map",
        point: { x: 1 },
      },
    );
    assert.equal(jsonClean(new Set()), "an instance of Set");
  });
});

describe("cluster connection", () => {
  it("redisOptions() reads redis:// and rediss:// URLs with user, password and db", () => {
    const plain = redisOptions("redis://user:p%40ss@10.0.0.5:6380/2", "x");
    assert.equal(plain.host, "10.0.0.5");
    assert.equal(plain.port, 6380);
    assert.equal(plain.username, "user");
    assert.equal(plain.password, "p@ss");
    assert.equal(plain.db, 2);
    assert.equal(plain.tls, undefined);
    const secure = redisOptions("rediss://:secret@redis.example.com", "x");
    assert.equal(secure.port, 6379);
    assert.equal(secure.password, "secret");
    assert.deepEqual(secure.tls, { servername: "redis.example.com" });
    // A cut socket is destroyed after 200 ms, not ioredis's 2 s: a program that shut its
    // pool down while Redis was away exited 2 s late, on that timer.
    assert.deepEqual([plain.disconnectTimeout, secure.disconnectTimeout], [200, 200]);
    assert.equal(redisOptions({ host: "h", port: 1 }, "x").disconnectTimeout, 200);
  });

  it("redisOptions() takes { host, port, username, password, tls } and refuses bad ones", () => {
    const options = redisOptions({ host: "h", port: 1, password: "p", tls: true }, "x");
    assert.equal(options.password, "p");
    assert.deepEqual(options.tls, {});
    assert.throws(() => redisOptions("http://h", "create cluster pool"), TypeError);
    assert.throws(() => redisOptions("not a url", "create cluster pool"), TypeError);
    assert.throws(() => redisOptions({ host: "h", port: 0 }, "x"), RangeError);
    assert.throws(() => redisOptions({ host: "h", port: "1" }, "x"), /connection.port/);
    // Before: a URL object's port was called "1", an array was asked for "connection.db".
    assert.throws(
      () => redisOptions(new URL("redis://h:1"), "x"),
      /must be a redis:\/\/ or rediss:\/\/ URL or \{ host, port \}, received a URL object \(pass its href, a string\)/,
    );
    assert.throws(() => redisOptions(["redis://h:1"], "x"), /received an array/);
    assert.throws(() => redisOptions({ port: 1 }, "x"), /connection.host/);
    assert.throws(() => redisOptions({ host: "h", port: 1, password: 1 }, "x"), /password/);
    assert.throws(() => redisOptions(42, "x"), TypeError);
  });
});

describe("ClusterPool without Redis", () => {
  it("new ClusterPool() checks its options, naming them", async () => {
    const bad: [unknown, RegExp, ErrorConstructor][] = [
      [undefined, /"options" must be an object/, TypeError],
      // Before: taken as empty options, then "connection" missing.
      [
        new URL("redis://127.0.0.1:6379"),
        /"options" must be a plain object of options, received an instance of URL/,
        TypeError,
      ],
      [{ queue: "q" }, /"connection"/, TypeError],
      [{ connection }, /"queue" must be a non-empty string/, TypeError],
      [{ connection, queue: "a:b" }, /without ":"/, TypeError],
      [
        { connection, queue: "q", maxQueu: 1 },
        /unknown option "maxQueu"; did you mean "maxQueue"\?/,
        TypeError,
      ],
      [{ connection, queue: "q", attempts: 0 }, /"attempts" must be an integer >= 1/, RangeError],
      [{ connection, queue: "q", taskTimeout: -1 }, /"taskTimeout"/, RangeError],
      [{ connection, queue: "q", backoff: { type: "linear", delay: 1 } }, /"backoff"/, TypeError],
      [{ connection, queue: "q", logLevel: "loud" }, /"logLevel"/, TypeError],
      // Before: accepted, and "no" taken as true.
      [{ connection, queue: "q", resultId: "no" }, /"resultId" must be a boolean/, TypeError],
      [
        { connection: { host: "127.0.0.1", port: 6379, pasword: "x" }, queue: "q" },
        /unknown option "connection.pasword"; did you mean "connection.password"\?/,
        TypeError,
      ],
      [{ connection, queue: "q", doneCallback: 1 }, /"doneCallback"/, TypeError],
    ];
    for (const [options, pattern, type] of bad) {
      assert.throws(
        () => new ClusterPool(options as never),
        (error: Error) => error instanceof type && pattern.test(error.message),
        String(pattern),
      );
    }
    await using pool = new ClusterPool({ connection, queue: "q", backoff: 10, maxQueue: 5 });
    assert.equal(pool.queue, "q");
    // Before: the iterator came, and only its first next() rejected.
    for (const wait of [-1, NaN]) {
      assert.throws(() => pool.asCompleted(wait), { name: "RangeError", message: /"wait"/ });
    }
  });

  it("ClusterPool reads an argument's getters before it takes the item's id, and sends what it checked", async () => {
    const cancelled: number[] = [];
    await using pool = new ClusterPool<Tasks>({
      connection,
      queue: "q-getters",
      cancelledCallback: (id) => cancelled.push(id),
    });
    // A getter that submits as the argument is copied (its second read): before,
    // both items were booked under one id (one ended twice, the other never).
    let inner = -1;
    let pointReads = 0;
    const point = {
      x: 1,
      get y() {
        if (++pointReads === 2) inner = pool.submit("inc", 5);
        return 2;
      },
    };
    const outer = pool.submit("describePoint", point);
    assert.notEqual(inner, outer);
    assert.equal(pool.cancel(outer), true);
    assert.equal(pool.cancel(inner), true);
    assert.deepEqual(cancelled.sort(), [inner, outer].sort());
    assert.equal(pool.pending, 0);
    // A getter that gives the check a number and the copy a bigint.
    let reads = 0;
    const twoFaced = {
      x: 1,
      get y() {
        return ++reads === 1 ? 2 : 10n;
      },
    };
    assert.throws(
      () => pool.submit("describePoint", twoFaced as unknown as { x: number; y: number }),
      /Cannot submit job: argument 1 is not JSON-safe \(.*bigint/,
    );
    // A getter that throws when copied: exec() rejects, as for every bad argument.
    let copies = 0;
    const refusesCopy = {
      x: 1,
      get y() {
        if (++copies === 2) throw new RangeError("no second read");
        return 2;
      },
    };
    await assert.rejects(
      pool.exec("describePoint", [refusesCopy]),
      /Cannot run job: argument 1 cannot be copied \(RangeError: no second read\)/,
    );
    // A getter or a Proxy's trap that throws at the first read: a TypeError too, with it as cause.
    const thrown = new RangeError("no read at all");
    const unreadable = [
      {
        get y(): never {
          throw thrown;
        },
      },
      new Proxy({}, {
        ownKeys() {
          throw thrown;
        },
      }),
    ];
    for (const value of unreadable) {
      assert.throws(() => pool.submit("describePoint", value as never), (error: Error) => {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(
          error.message,
          /Cannot submit job: argument 1 cannot be read \(RangeError: no read at all\)/,
        );
        assert.equal(error.cause, thrown);
        return true;
      });
      assert.throws(() => pool.map("inc", [1, value as never]), /item 1 cannot be read/);
    }
    assert.equal(pool.pending, 0);
  });

  it("ClusterPool refuses an item whose argument's getter shut the pool down as it was read", async () => {
    for (const how of ["submit", "map", "exec"] as const) {
      await using pool = new ClusterPool<Tasks>({ connection, queue: `q-closing-${how}` });
      let shut: Promise<boolean> | undefined;
      const point = {
        x: 1,
        get y() {
          shut ??= pool.shutdown(); // before, the item was queued on a closed pool for ever
          return 2;
        },
      };
      const closed = /Cannot submit job: pool is closed/;
      if (how === "submit") assert.throws(() => pool.submit("describePoint", point), closed);
      else if (how === "map") assert.throws(() => pool.map("describePoint", [point]), closed);
      else await assert.rejects(pool.exec("describePoint", [point]), closed);
      assert.equal(pool.pending, 0, how);
      assert.equal(await shut, true, how);
    }
  });

  it("ClusterPool refuses inline functions and non-JSON arguments at once, queuing nothing", async () => {
    await using pool = new ClusterPool<Tasks>({ connection, queue: "q" });
    const inline = (x: number) => x;
    const why = /not inline functions: a queue must never carry code/;
    // @ts-expect-error: only export names are tasks
    assert.throws(() => pool.submit(inline, 1), why);
    // @ts-expect-error: as above
    assert.throws(() => pool.map(inline, [1]), why);
    // @ts-expect-error: as above
    await assert.rejects(pool.run(inline, 1), why);
    // @ts-expect-error: as above
    await assert.rejects(pool.exec(inline, [1]), why);
    // @ts-expect-error: as above
    assert.throws(() => pool.submitDone(inline, true, 1), why);
    // @ts-expect-error: a name must be a string
    assert.throws(() => pool.submit(7, 1), /"task" must be the name of an export/);
    assert.throws(
      () => pool.submit("inc", 1n as unknown as number),
      /argument 1 is not JSON-safe \(it is a bigint\)/,
    );
    assert.throws(() => pool.map("inc", [1, 2, NaN]), /item 2 is not JSON-safe \(it is NaN\)/);
    const cyclic: { x: number; y: number; self?: unknown } = { x: 1, y: 2 };
    cyclic.self = cyclic;
    assert.throws(() => pool.submit("describePoint", cyclic), /cyclic/);
    await assert.rejects(pool.run("inc", new Date() as unknown as number), /instance of Date/);
    // Each refused option is a type error too (ClusterExecOptions); a cast gets past it.
    const notAcross = (options: ExecOptions) => options as ClusterExecOptions;
    await assert.rejects(
      pool.exec("inc", [1], notAcross({ transfer: [new ArrayBuffer(1)] })),
      /transfer/,
    );
    await assert.rejects(
      pool.exec("inc", [1], { timeot: 5 } as unknown as { timeout: number }),
      /unknown option "timeot"; did you mean "timeout"\?/,
    );
    await assert.rejects(
      pool.exec("inc", [1], notAcross({ priority: 1 })),
      /"priority" does not apply/,
    );
    await assert.rejects(
      pool.exec("inc", [1], notAcross({ onProgress: () => {} })),
      /"onProgress" does not apply/,
    );
    const throwing = {
      get timeout(): number {
        throw new Error("no timeout today");
      },
    };
    await assert.rejects(pool.exec("inc", [1], throwing), {
      name: "TypeError",
      message: 'Cannot run job: option "timeout" could not be read (no timeout today)',
    });
    await assert.rejects(pool.exec("inc", [1], { signal: Object.create(AbortSignal.prototype) }), {
      name: "TypeError",
      message: /^Cannot run job: "signal" must be an AbortSignal/,
    });
    assert.throws(() => pool.submitDone("inc", 3 as unknown as boolean, 1), /"done"/);
    assert.throws(() => pool.map("inc", 5 as unknown as number[]), /"iterable" must be iterable/);
    assert.throws(() => pool.cancel("1" as unknown as number), /"jobId"/);
    assert.equal(pool.pending, 0);
    assert.equal(pool.cancel(), false);
    assert.equal(await pool.wait(), true);
  });

  it("ClusterPool.shutdown() refuses later submits with PoolClosedError, without connecting", async () => {
    const pool = new ClusterPool<Tasks>({ connection, queue: "q" });
    assert.equal(await pool.shutdown(), true);
    assert.throws(() => pool.submit("inc", 1), PoolClosedError);
    await assert.rejects(pool.run("inc", 1), PoolClosedError);
  });

  it("ClusterPool.shutdown() refuses bad options as Pool.shutdown() does, and the pool stays open", async () => {
    const pool = new ClusterPool<Tasks>({ connection, queue: "q", offlineTimeout: 0 });
    const refusals: [unknown, string][] = [
      [null, '"options" must be an object, received null'],
      ["soon", '"options" must be an object, received "soon"'],
      [new Map(), '"options" must be a plain object of options, received an instance of Map'],
      [{ son: true }, 'unknown option "son"; did you mean "soon"?'],
      [{ soon: "yes" }, '"soon" must be a boolean, received "yes"'],
      [{ soon: 1 }, '"soon" must be a boolean, received 1'],
    ];
    for (const [options, message] of refusals) {
      // Before: null threw "Cannot read properties of null" after the pool had
      // closed to submits; the others were taken (a typo waited for the queue).
      await assert.rejects(pool.shutdown(undefined, options as { soon?: boolean }), {
        name: "TypeError",
        message: `Cannot shut down pool: ${message}`,
      });
    }
    pool.submit("inc", 1); // still open
    assert.equal(pool.cancel(), true);
    assert.equal(await pool.shutdown(undefined, { soon: false }), true);
  });

  it("ClusterPool: a maxQueue of 2 refuses a third queued item with QueueFullError", async () => {
    const pool = new ClusterPool<Tasks>({ connection, queue: "q", maxQueue: 2, offlineTimeout: 0 });
    pool.submit("inc", 1);
    pool.submit("inc", 2);
    assert.throws(() => pool.submit("inc", 3), /queue is full/);
    assert.throws(
      () => pool.map("inc", [4]),
      /more items than the queue has room for \(0; maxQueue is 2\)/,
    );
    assert.equal(pool.cancel(), true);
    assert.equal(pool.pending, 0);
    await pool.shutdown();
  });

  it("ClusterPool.map() reads an endless iterable no further than maxQueue has room for, plus one, then throws QueueFullError", async () => {
    await using pool = new ClusterPool<Tasks>({ connection, queue: "q", maxQueue: 1000 });
    let read = 0;
    let closed = false;
    function* endless(): Generator<number> {
      try {
        // Before: read to the end, until Deno ran out of memory.
        for (;;) {
          if (++read > 100_000) throw new Error("read too far");
          yield read;
        }
      } finally {
        closed = true;
      }
    }
    assert.throws(() => pool.map("inc", endless()), QueueFullError);
    assert.equal(read, 1001);
    assert.ok(closed, "the iterator is closed");
    assert.throws(() => pool.map("inc", new Array(1001).fill(1)), QueueFullError);
    assert.equal(pool.pending, 0); // nothing queued, nothing connected
  });

  it("ClusterPool.map() reads an array with an iterator of its own by index, with or without maxQueue", async () => {
    for (const maxQueue of [10, undefined]) {
      await using pool = new ClusterPool<Tasks>({ connection, queue: "q", maxQueue });
      const items = [1, 2];
      let read = 0;
      items[Symbol.iterator] = function* () {
        for (;;) {
          if (++read > 1000) throw new Error("read too far"); // before: read until this
          yield 0;
        }
      };
      assert.equal(pool.map("inc", items), 2, `maxQueue ${maxQueue}`);
      assert.equal(read, 0);
      assert.equal(pool.cancel(), true);
    }
  });

  it("ClusterPool.collect() and map() stop reading an async source once the pool is shut down, with PoolClosedError", async () => {
    const pool = new ClusterPool<Tasks>({ connection, queue: "q" });
    let read = 0;
    let closed = false;
    let shut: (() => void) | undefined;
    const shutdown = new Promise<void>((resolve) => shut = resolve);
    async function* endless(): AsyncGenerator<number> {
      try {
        for (;;) {
          if (++read > 1000) throw new Error("read too far"); // before: read until this
          if (read === 3) shut!();
          yield read;
          await null;
        }
      } finally {
        closed = true;
      }
    }
    const collecting = pool.collect("inc", endless());
    await shutdown;
    assert.equal(await pool.shutdown(), true);
    await assert.rejects(collecting, PoolClosedError);
    assert.ok(read < 10, `read ${read} times`);
    assert.ok(closed, "the source is closed");
  });

  it("ClusterPool.collect() and map() over an async source whose read never settles reject once the pool shuts down, and stop the source", async () => {
    const pool = new ClusterPool<Tasks>({ connection, queue: "q" });
    let stopped = 0;
    let pending = 0;
    let waiting!: () => void;
    const twoWait = new Promise<void>((resolve) => waiting = resolve);
    const stuck = (): AsyncIterable<number> => {
      let given = 0;
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            if (given < 1) return Promise.resolve({ value: given++, done: false });
            if (++pending === 2) waiting();
            return new Promise(() => {}); // a quiet socket
          },
          return: () => {
            stopped++;
            return Promise.resolve({ value: undefined, done: true });
          },
        }),
      };
    };
    const collecting = pool.collect("inc", stuck());
    const mapping = pool.map("inc", stuck());
    await twoWait;
    assert.equal(await pool.shutdown(), true);
    // Before: both never settled.
    await assert.rejects(collecting, PoolClosedError);
    await assert.rejects(mapping, PoolClosedError);
    assert.equal(stopped, 2);
  });

  it("ClusterPool.map() takes a source whose next() answers with a plain iterator result, and refuses one that is no iterator result", async () => {
    await using pool = new ClusterPool<Tasks>({ connection, queue: "q", maxQueue: 10 });
    const answering = (last: unknown): AsyncIterable<number> => ({
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return { next: () => (i < 2 ? { value: i++, done: false } : last) } as AsyncIterator<
          number
        >;
      },
    });
    await assert.rejects(pool.map("inc", answering(7)), {
      name: "TypeError",
      message: "Cannot map: the source's next() gave 7, not an iterator result",
    });
    assert.equal(pool.pending, 0, "nothing queued");
    // A plain { done: true } ends it: its two items are queued (cancelled here: no Redis).
    assert.equal(await pool.map("inc", answering({ value: undefined, done: true })), 2);
    assert.equal(pool.pending, 2);
    assert.equal(pool.cancel(), true);
  });

  for (const db of ["", "/3"]) {
    it(
      `ClusterPool: Redis unreachable fails pending items with RedisUnavailableError after offlineTimeout (${
        db === "" ? "database 0" : "a database to check first"
      })`,
      async () => {
        // With a database, its check waits for Redis: shutdown() cuts it (the sanitizers see no socket left).
        const pool = new ClusterPool<Tasks>({
          connection: `redis://127.0.0.1:1${db}`,
          queue: "q",
          offlineTimeout: 0,
        });
        const events: unknown[] = [];
        pool.addEventListener("error", (event) => events.push((event as CustomEvent).detail));
        const result = pool.run("inc", 1);
        await assert.rejects(
          result,
          (error: Error) =>
            error instanceof RedisUnavailableError &&
            /redis:\/\/127\.0\.0\.1:1 is unavailable: .*ECONNREFUSED/.test(error.message) &&
            /offlineTimeout/.test(error.message),
        );
        assert.ok(events[0] instanceof RedisUnavailableError);
        assert.equal(pool.pending, 0);
        // Submitted after the give-up, Redis still away: it fails too (before: it waited
        // for ever, and so did shutdown()).
        await assert.rejects(pool.run("inc", 2), RedisUnavailableError);
        assert.equal(pool.pending, 0);
        await pool.shutdown();
      },
    );
  }

  it(
    "ClusterPool: a program whose Redis, with a database to check, never answers exits after shutdown()",
    {
      timeout: 30_000,
    },
    async () => {
      const [command, args] = withThisRuntime(
        fileURLToPath(new URL("../fixtures/cluster_away_close_program.ts", import.meta.url)),
      );
      const exit = await run(command, [...args, "redis://127.0.0.1:1/3", "q"], {
        killAfter: 20_000,
      });
      // Before: the database check's connection went on reconnecting, and the program never exited.
      assert.equal(exit.signal, null, `exited by itself:\n${exit.stdout}${exit.stderr}`);
      assert.match(exit.stdout, /item: RedisUnavailableError\nshut down in \d+ ms/);
    },
  );
});

describe("ClusterPool timeouts past setTimeout's range", () => {
  // setTimeout fires at once for more than 2 ** 31 - 1 ms; these waited 1 ms.
  const LONG = 2 ** 31;

  it("wait(), asCompleted() and offlineTimeout of 2 ** 31 ms do not end at once", async () => {
    const pool = new ClusterPool<Tasks>({ connection, queue: "q", offlineTimeout: LONG });
    const offline = new Promise((resolve) =>
      pool.addEventListener("error", resolve, { once: true })
    );
    pool.submit("inc", 1);
    await offline; // the offline timer is armed now
    let waited: boolean | undefined;
    const long = pool.wait(LONG).then((value) => (waited = value));
    let iterated = false;
    const next = pool.asCompleted(LONG)[Symbol.asyncIterator]().next().then((step) => {
      iterated = true;
      return step;
    });
    assert.equal(await pool.wait(50), false);
    assert.equal(waited, undefined, "wait(2 ** 31) still waits");
    assert.equal(iterated, false, "asCompleted(2 ** 31) still waits");
    assert.equal(pool.pending, 1, "offlineTimeout has not failed the item");
    assert.equal(pool.failed.length, 0);
    assert.equal(pool.cancel(), true);
    assert.equal(await long, true);
    assert.equal((await next).done, true);
    await pool.shutdown();
  });

  it("asCompleted() return() ends the iterator at once while a next() waits for an item Redis never answers", async () => {
    const pool = new ClusterPool<Tasks>({ connection, queue: "q" });
    try {
      pool.submit("inc", 1);
      const iterator = pool.asCompleted();
      const waiting = iterator.next();
      // Before: return() waited behind that next(), for ever here.
      assert.equal(await within(iterator.return!(), 10_000), true, "return() settled");
      assert.deepEqual(await waiting, { done: true, value: undefined });
      assert.equal(pool.cancel(), true);
    } finally {
      pool.cancel();
      await pool.shutdown();
    }
  });

  it("serve() refuses a lockDuration or stalledInterval BullMQ's timers cannot wait", async () => {
    const base = { connection, queue: "q", module: "file:///nope/tasks.ts" };
    for (const name of ["lockDuration", "stalledInterval"]) {
      await assert.rejects(
        serve({ ...base, [name]: LONG }),
        (error: Error) =>
          error instanceof RangeError &&
          error.message.includes(`"${name}" must be an integer from 1 to 2147483647`),
      );
    }
  });
});

describe("cluster options", () => {
  it("a ClusterPool's options refuse null, naming the option", () => {
    // Before: offlineTimeout, maxQueue and others took null for their default.
    for (const name of ["offlineTimeout", "maxQueue", "attempts", "backoff"]) {
      assert.throws(
        () =>
          resolveClusterOptions({ connection: "redis://127.0.0.1:1", queue: "q", [name]: null }),
        {
          name: "TypeError",
          message:
            `Cannot create cluster pool: "${name}" is null; leave it out (or undefined) for its default`,
        },
        name,
      );
    }
  });
});

describe("cluster results", () => {
  it("a wait for results that gives up leaves nothing behind; one that is woken, nothing either", async () => {
    const results = new Results(
      resolveClusterOptions({ connection: "redis://127.0.0.1:1", queue: "q" }),
    );
    // As a producer polling wait(0) while one long item runs: before, each kept a listener.
    for (let i = 0; i < 1_000; i++) await results.changed(Promise.resolve());
    assert.equal(results.waiting, 0);
    const woken = results.changed(new Promise(() => {}));
    assert.equal(results.waiting, 1);
    results.commit();
    await woken;
    assert.equal(results.waiting, 0);
  });
});

describe("ClusterPool logging", () => {
  it("ClusterPool logs outages and failures at logLevel", async () => {
    const logged: string[] = [];
    // deno-lint-ignore no-console
    const warn = console.warn;
    // deno-lint-ignore no-console
    console.warn = (...args: unknown[]) => void logged.push(args.map(String).join(" "));
    try {
      const pool = new ClusterPool<Tasks>({
        connection: "redis://127.0.0.1:1",
        queue: "q",
        offlineTimeout: 0,
        logLevel: "warn",
      });
      const id = pool.submit("inc", 1);
      await pool.wait();
      await pool.shutdown();
      assert.ok(
        logged.some((line) => /Redis at redis:\/\/127\.0\.0\.1:1 is unavailable/.test(line)),
      );
      assert.ok(logged.some((line) => line.startsWith(`fastpool: job ${id} failed:`)));
      assert.equal(pool.failed.length, 1);
    } finally {
      // deno-lint-ignore no-console
      console.warn = warn;
    }
  });
});

describe("ChunkSizer", () => {
  it("ChunkSizer sends one probe, holds the rest, then sizes chunks from measured time", () => {
    const sizer = new ChunkSizer(50, 20_000);
    assert.equal(sizer.size("t", 1000, 0), PROBE_ITEMS);
    assert.equal(sizer.size("t", 984, 0), 0, "held until the probe reports");
    assert.equal(sizer.size("other", 3, 0), 3, "another task probes on its own");
    sizer.report("t", 16, 16, 2); // 1 ms per item on 2 workers: 2 ms of one worker per item... per item 2 ms
    const size = sizer.size("t", 10_000, 1);
    assert.equal(size, 50, "50 ms of work on 2 workers at 2 ms per item");
    assert.equal(sizer.size("t", 60, 3), 20, "an even share of what is left across 3 nodes");
    sizer.report("t", 10_000, 1, 2); // tiny items now
    assert.equal(sizer.size("t", 1_000_000, 1), 20_000, "at most maxChunk");
  });

  it("ChunkSizer keeps a chunk's results within a quarter of their budget, at the largest results reported", () => {
    const sizer = new ChunkSizer(50, 20_000);
    assert.equal(sizer.size("t", 100_000, 1), PROBE_ITEMS);
    // Tiny items (all 20,000 would fit 50 ms), each result 100,000 characters of JSON.
    sizer.report("t", PROBE_ITEMS, 0.01, 2, PROBE_ITEMS * 100_000);
    // Before: 20,000, whose results would pass MAX_RESULT_CHARS (2^28) from item 2,685 on.
    assert.equal(sizer.size("t", 100_000, 1), Math.floor(2 ** 28 / 4 / 100_000));
    sizer.report("t", 100, 0.01, 2, 100 * 10); // smaller results later: the largest still counts
    assert.equal(sizer.size("t", 100_000, 1), 671);
    sizer.report("u", PROBE_ITEMS, 0.01, 2); // a node that says nothing of its results
    assert.equal(sizer.size("u", 100_000, 1), 20_000);
  });

  it("ChunkSizer sizes a probing task's next chunks from a probe that runs on past its time", () => {
    const sizer = new ChunkSizer(50, 20_000);
    assert.equal(sizer.size("t", 1000, 0), PROBE_ITEMS);
    sizer.stillRunning("other", PROBE_ITEMS, 1_000); // not probing: nothing changes
    assert.equal(sizer.size("other", 3, 0), 3);
    assert.equal(sizer.size("t", 984, 0), 0, "held while the probe is in its time");
    sizer.stillRunning("t", PROBE_ITEMS, 100); // ≥ 6.25 ms an item
    assert.equal(sizer.size("t", 984, 0), 8, "50 ms of work at 6.25 ms an item");
    sizer.stillRunning("t", PROBE_ITEMS, 50); // a floor never falls
    assert.equal(sizer.size("t", 976, 0), 8);
    sizer.stillRunning("t", PROBE_ITEMS, 3_200); // ≥ 200 ms an item
    assert.equal(sizer.size("t", 968, 0), 1, "one item a chunk at least");
    sizer.report("t", 16, 16, 2); // the report replaces the floor: 2 ms an item
    assert.equal(sizer.size("t", 10_000, 1), 50);
    assert.equal(sizer.size("u", 100, 1), PROBE_ITEMS);
    sizer.stillRunning("u", PROBE_ITEMS, 100);
    sizer.withdrawn("u"); // the probe taken back: the next chunk probes again
    assert.equal(sizer.size("u", 84, 1), PROBE_ITEMS);
    assert.equal(sizer.size("u", 68, 1), 0);
  });

  it("ChunkSizer.forget() releases a probe that ended without a report", () => {
    const sizer = new ChunkSizer(50, 100);
    assert.equal(sizer.size("t", 5, 1), 5);
    assert.equal(sizer.size("t", 5, 1), 0);
    sizer.forget("t");
    assert.ok(sizer.size("t", 500, 1) > 0);
  });
});

describe("cluster node command line", () => {
  it("parseArgs() reads the flags and resolves a module path against the directory", () => {
    const options = parseArgs(
      ["--queue", "q", "--module", "./t.ts", "--max-children", "3", "--redis", "redis://h:1"],
      "/srv/app",
      {},
    );
    assert.deepEqual(options, {
      connection: "redis://h:1",
      queue: "q",
      module: "file:///srv/app/t.ts",
      maxChildren: 3,
    });
    const fromEnv = parseArgs(["--queue", "q", "--module", "https://x.test/t.ts"], "/", {
      REDIS_URL: "redis://e:2",
    });
    assert.equal(typeof fromEnv === "object" && fromEnv.connection, "redis://e:2");
    assert.match(String(parseArgs(["--queue", "q"], "/", {})), /--module is required/);
    assert.match(String(parseArgs(["--bogus", "1"], "/", {})), /unknown option --bogus/);
    assert.match(String(parseArgs(["--max-children", "x"], "/", {})), /must be an integer/);
    // Before: "" was read as 0 (all cores), and a flag missing its value blamed the next one.
    assert.match(
      String(parseArgs(["--max-children", ""], "/", {})),
      /must be an integer, received ""/,
    );
    assert.match(
      String(parseArgs(["--queue", "--module", "t.ts"], "/", {})),
      /^--queue needs a value/,
    );
    const stalled = parseArgs(
      ["--queue", "q", "--module", "/t.ts", "--max-stalled-count", "0"],
      "/",
      {},
    );
    assert.equal(typeof stalled === "object" && stalled.maxStalledCount, 0);
  });

  it("serve() checks its options before connecting", async () => {
    const base = { connection, queue: "q", module: "file:///nope/tasks.ts" };
    await assert.rejects(
      serve({ ...base, module: "./tasks.ts" }),
      /"module" must be an absolute URL/,
    );
    await assert.rejects(serve({ ...base, maxChildren: 1.5 }), RangeError);
    await assert.rejects(serve({ ...base, concurrency: 0 }), /"concurrency"/);
    await assert.rejects(
      serve({ ...base, maxStalledCount: -1 }),
      /"maxStalledCount" must be an integer >= 0, received -1/,
    );
    // Before: taken (as Pool's counts were refused past 2^53).
    await assert.rejects(
      serve({ ...base, concurrency: 2 ** 60 }),
      /"concurrency" must be a safe integer/,
    );
    await assert.rejects(
      serve({ ...base, maxStalledCount: 2 ** 60 }),
      /"maxStalledCount" must be a safe/,
    );
    await assert.rejects(serve({ ...base, modul: "x" } as never), /did you mean "module"/);
    await assert.rejects(serve({ ...base, connection: 5 as never }), /"connection"/);
    await assert.rejects(serve({ ...base, onError: 1 as never }), /"onError" must be a function/);
  });

  it("serve() refuses a task module that exports then, without calling it", async () => {
    const module = new URL("../fixtures/cluster_then_tasks.ts", import.meta.url);
    await assert.rejects(
      serve({ connection, queue: "q", module }),
      /exports "then", which makes it look like a promise/,
    );
    assert.equal((globalThis as { thenCalled?: boolean }).thenCalled, undefined);
    await assert.rejects(
      serve({
        connection,
        queue: "q",
        module: new URL("../fixtures/no_such_module.ts", import.meta.url),
      }),
    );
  });
});

/** Type-checked only (never called): names, arguments and results as with `Pool<typeof import(...)>`. */
export function typesAreChecked(pool: ClusterPool<Tasks>): void {
  // @ts-expect-error: inc takes a number
  pool.submit("inc", "one");
  // @ts-expect-error: not an export of the module
  pool.submit("nope", 1);
  // @ts-expect-error: version is not a function
  pool.submit("version");
  const fib: Promise<number> = pool.run("fib", 20);
  const counted: Promise<number[]> = pool.run("count", 3);
  const added: Promise<number> = pool.exec("add", [1, 2], { timeout: 100 });
  void [fib, counted, added];
}

describe("ChunkSizer fit", () => {
  it("ChunkSizer does not take a chunk's fixed cost for item time", () => {
    const sizer = new ChunkSizer(50, 20_000);
    sizer.size("tiny", 1_000_000, 1);
    sizer.report("tiny", 16, 1, 1); // 16 tiny items: 1 ms, nearly all of it fixed cost
    const after = sizer.size("tiny", 1_000_000, 1);
    assert.equal(after, 800, "one report: all of it counted as item time");
    sizer.report("tiny", 800, 1.2, 1); // 50× the items, 0.2 ms more
    assert.equal(sizer.size("tiny", 1_000_000, 1), 20_000, "the fit sees 0.25 µs per item");
  });
});
