/**
 * The types a user's program gets: valid uses type-check (this file is part
 * of `deno check`, under the repository's `exactOptionalPropertyTypes`), and
 * harmful ones are type errors (`@ts-expect-error` fails the check when the
 * error is gone). Each case also runs, so the types are held to what the code
 * does.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type AcquireOptions,
  type ExecOptions,
  Pool,
  type PoolOptions,
  Semaphore,
  type ShutdownOptions,
  spawn,
  type StatsOptions,
  transfer,
} from "../mod.ts";
import type { ClusterExecOptions, ClusterPool } from "../src/cluster/mod.ts";
import { resolveClusterOptions } from "../src/cluster/options.ts";
import {
  makeRequests,
  ThreadPool,
  type ThreadPoolOptions,
  WorkRequest,
  type WorkRequestOptions,
} from "../src/compat/threadpool.ts";
import { fixture } from "./_util.ts";

/** Every option of `O`, present and `undefined`: the object misses none. */
type AllUndefined<O> = { [K in keyof Required<O>]: undefined };

const inc = (n: number) => n + 1;
const add = (a: number, b: number) => a + b;
function* count(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

describe("types: options", () => {
  it("every option, given as undefined, means its default (as exactOptionalPropertyTypes lets a caller forward one)", async () => {
    const poolOptions: AllUndefined<PoolOptions> = {
      maxChildren: undefined,
      minChildren: undefined,
      childNamePrefix: undefined,
      doneCallback: undefined,
      failedCallback: undefined,
      cancelledCallback: undefined,
      logLevel: undefined,
      resultId: undefined,
      module: undefined,
      idleTimeout: undefined,
      maxQueue: undefined,
      taskTimeout: undefined,
      abortGrace: undefined,
      startTimeout: undefined,
      concurrentTasksPerWorker: undefined,
      sharedLane: undefined,
      streamWindow: undefined,
      workerData: undefined,
      maxJobsPerWorker: undefined,
      maxWorkerMemory: undefined,
      permissions: undefined,
      smol: undefined,
      env: undefined,
      highWaterMark: undefined,
      workerUrl: undefined,
      clock: undefined,
    };
    await using pool = new Pool(poolOptions);
    const exec: AllUndefined<ExecOptions> = {
      signal: undefined,
      onProgress: undefined,
      transfer: undefined,
      timeout: undefined,
      first: undefined,
      priority: undefined,
    };
    assert.equal(await pool.exec(inc, [1], exec), 2);
    const stats: AllUndefined<StatsOptions> = { reset: undefined };
    assert.equal(pool.stats(stats).jobs.done, 1);
    const acquire: AllUndefined<AcquireOptions> = { timeout: undefined, signal: undefined };
    const semaphore = new Semaphore(1);
    assert.equal(await semaphore.acquire(acquire), true);
    const shutdown: AllUndefined<ShutdownOptions> = { soon: undefined };
    assert.equal(await pool.shutdown(undefined, shutdown), true);

    const threadPoolOptions: AllUndefined<ThreadPoolOptions> = {
      qSize: undefined,
      resqSize: undefined,
      module: undefined,
      idleTimeout: undefined,
      clock: undefined,
    };
    await using threads = new ThreadPool(1, threadPoolOptions);
    const requestOptions: AllUndefined<WorkRequestOptions> = {
      args: undefined,
      requestID: undefined,
      callback: undefined,
      excCallback: undefined,
    };
    const request = new WorkRequest(() => "ran", requestOptions);
    assert.equal(typeof request.requestID, "number");
    assert.deepEqual(request.args, []);
    threads.putRequest(request);
    await threads.wait();

    const cluster = resolveClusterOptions({
      connection: "redis://127.0.0.1:6379",
      queue: "types",
      doneCallback: undefined,
      failedCallback: undefined,
      cancelledCallback: undefined,
      logLevel: undefined,
      resultId: undefined,
      maxQueue: undefined,
      taskTimeout: undefined,
      attempts: undefined,
      backoff: undefined,
      chunkTime: undefined,
      maxChunk: undefined,
      offlineTimeout: undefined,
      sweepInterval: undefined,
    });
    assert.equal(cluster.maxQueue, Infinity);
  });

  it("a possibly-undefined option is forwarded as it is", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const forward = (timeout: number | undefined, signal: AbortSignal | undefined) =>
      pool.exec(inc, [1], { timeout, signal });
    assert.equal(await forward(undefined, undefined), 2);
  });
});

describe("types: results reach typed callbacks", () => {
  it("a done callback may annotate its parameter with the task's result type", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const seen: number[] = [];
    pool.submitDone(inc, (result: number) => seen.push(result), 1);
    pool.submitDoneFirst(inc, (result: number, id: number) => seen.push(result + id * 0), 10);
    pool.map(inc, [100], (result: number) => seen.push(result));
    // A generator task's callback gets each value.
    pool.submitDone(count, (value: number) => seen.push(value - 10), 3);
    await pool.wait();
    assert.deepEqual(seen.sort((a, b) => a - b), [-10, -9, -8, 2, 11, 101]);
  });

  it("a proxy call of a generator export, awaited, is typed as the array it resolves to", async () => {
    await using pool = new Pool<typeof import("./fixtures/tasks.ts")>({
      maxChildren: 1,
      module: fixture("tasks.ts"),
    });
    const tasks = pool.proxy();
    const all: number[] = await tasks.count(3);
    assert.deepEqual(all, [0, 1, 2]);
    const streamed: number[] = [];
    for await (const value of tasks.count(2)) streamed.push(value);
    assert.deepEqual(streamed, [0, 1]);
  });
});

/** `true` unless `T` is `any`. */
type NotAny<T> = 0 extends 1 & T ? false : true;

describe("types: inline tasks with bare parameters", () => {
  it("take their types from the arguments (or items) given, so misuse is a type error, not any", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const doubled = await pool.run((n) => n * 2, 21);
    const typed: NotAny<typeof doubled> = true;
    // @ts-expect-error: `s` is a number here (before: any, and this threw in the worker)
    const refused = pool.run((s) => s.toUpperCase(), 21);
    await assert.rejects(refused, TypeError);
    const lengths = await pool.collect((word) => word.length, ["a", "bb"]);
    const lengthsTyped: NotAny<(typeof lengths)[number]> = true;
    const seen: number[] = [];
    pool.submitDone((a, b) => a + b, (sum) => seen.push(sum), 1, 2);
    pool.map((n) => n * 10, [1], (n) => seen.push(n));
    const streamed: string[] = [];
    for await (
      const value of pool.stream(function* (word) {
        yield word.repeat(2);
      }, "x")
    ) {
      streamed.push(value);
    }
    const spawned = await spawn((word) => word.toUpperCase(), "up");
    const spawnedTyped: NotAny<typeof spawned> = true;
    await pool.wait();
    assert.deepEqual(
      [doubled, typed, lengths, lengthsTyped, seen.sort((x, y) => x - y), streamed, spawned],
      [42, true, [1, 2], true, [3, 10], ["xx"], "UP"],
    );
    assert.equal(spawnedTyped, true);
  });
});

describe("types: generators declared as iterators", () => {
  it("a generator function declared to return IterableIterator or AsyncIterableIterator is typed by its values, as it runs", async () => {
    function* upTo(n: number): IterableIterator<number> {
      for (let i = 0; i < n; i++) yield i;
    }
    async function* words(n: number): AsyncIterableIterator<string> {
      for (let i = 0; i < n; i++) yield `w${i}`;
    }
    await using pool = new Pool({ maxChildren: 1 });
    const all: number[] = await pool.run(upTo, 3);
    const texts: string[] = await pool.run(words, 2);
    const each: number[] = [];
    for await (const value of pool.stream(upTo, 2)) each.push(value);
    pool.submitDone(words, (value: string) => each.push(value.length), 1);
    await pool.wait();
    assert.deepEqual([all, texts, each], [[0, 1, 2], ["w0", "w1"], [0, 1, 2]]);
  });

  it("a plain function that returns an iterator fails its job saying a generator task is a function*", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    // Typed as a generator task, but a job's kind is its function's: the iterator is its result.
    const values: Promise<number[]> = pool.run(
      (n: number): IterableIterator<number> => [n].values(),
      1,
    );
    await assert.rejects(values, {
      name: "TypeError",
      message:
        /cannot be cloned .*: the task returned an iterator, and only a generator function \(function\* or async function\*\) is run as a generator task/,
    });
  });
});

describe("types: proxy names", () => {
  it("a proxy's type has no methods named then, toString, valueOf, toJSON or constructor, as at run time", async () => {
    type Tasks = typeof import("./fixtures/tasks.ts") & { valueOf(): number; then(): number };
    await using pool = new Pool<Tasks>({ maxChildren: 1, module: fixture("tasks.ts") });
    const tasks = pool.proxy();
    assert.throws(() => {
      // @ts-expect-error: valueOf is the object's own, not a call of the export
      const value: Promise<number> = tasks.valueOf();
      return value;
    }, TypeError);
    assert.equal((tasks as { then?: unknown }).then, undefined);
    assert.deepEqual(await tasks.count(2), [0, 1]);
  });
});

describe("types: arguments", () => {
  it("exec() takes a readonly tuple of arguments", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const args = [2, 3] as const;
    assert.equal(await pool.exec(add, args), 5);
  });

  it("map() and collect() of a task that needs two arguments are type errors: each item is one argument", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    // @ts-expect-error: `add` needs two arguments; map() passes one
    pool.map(add, [1, 2]);
    // @ts-expect-error: as map()
    const sums = await pool.collect(add, [1, 2]);
    assert.deepEqual(sums, [NaN, NaN]); // what the type error spares a user
    // A second parameter with a default is fine.
    const scale = (n: number, by = 2) => n * by;
    assert.deepEqual(await pool.collect(scale, [1, 2]), [2, 4]);
    await pool.wait();
    assert.deepEqual([...pool.done].sort(), [NaN, NaN]);
  });

  it("map() takes a source typed as an Iterable or an AsyncIterable, answering as each does", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    async function* two() {
      yield* [1, 2];
    }
    const queue = (source: Iterable<number> | AsyncIterable<number>) => pool.map(inc, source);
    const queued: number | Promise<number> = queue([1, 2, 3]);
    assert.equal(queued, 3);
    assert.equal(await queue(two()), 2);
    await pool.wait();
    assert.deepEqual([...pool.done].sort(), [2, 2, 3, 3, 4]);
  });

  it("transfer() takes typed arrays in its list, as it moves their buffers", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const bytes = new Uint8Array([1, 2, 3]);
    const sum = await pool.run(
      (o: { bytes: Uint8Array }) => o.bytes.reduce((a, b) => a + b, 0),
      transfer({ bytes }, [bytes]),
    );
    assert.equal(sum, 6);
    assert.equal(bytes.byteLength, 0);
  });

  it("./threadpool requests check their arguments against the callable", async () => {
    // @ts-expect-error: `inc` takes a number
    const wrong = new WorkRequest(inc, { args: ["x"] });
    assert.deepEqual(wrong.args, ["x"]);
    // @ts-expect-error: each item is the argument list, or the one argument
    makeRequests(add, [["1", "2"]]);
    // @ts-expect-error: `add` needs two arguments; a bare item is one (before: type-checked, ran as NaN)
    makeRequests(add, [1, 2]);
    const scale = (n: number, by = 2) => n * by;
    assert.deepEqual(makeRequests(scale, [1, [2, 3]]).map((request) => request.args), [[1], [
      2,
      3,
    ]]);
    const requests = makeRequests(add, [[1, 2], [3, 4]]);
    const results: unknown[] = [];
    await using threads = new ThreadPool(1);
    for (const request of requests) {
      request.callback = (_request, result) => results.push(result);
      threads.putRequest(request);
    }
    await threads.wait();
    assert.deepEqual(results.sort(), [3, 7]);
    // Callbacks are typed by the request's callable (before: a WorkRequest<typeof inc> was refused).
    const squares: number[] = [];
    await using typed = new ThreadPool(1);
    for (
      const request of makeRequests(
        inc,
        [1, 2],
        (request: WorkRequest<typeof inc>, result) => squares.push(result * 10 + request.args[0]),
      )
    ) typed.putRequest(request);
    // @ts-expect-error: the result is a number
    new WorkRequest(inc, { args: [1], callback: (_request, result) => result.toUpperCase() });
    await typed.wait();
    assert.deepEqual(squares.sort(), [21, 32]);
    // An export name's arguments are not known, so anything goes.
    assert.deepEqual(new WorkRequest("anything", { args: [1, "two"] }).args, [1, "two"]);
  });

  it("ClusterPool.exec() takes only the options that cross machines", () => {
    const options: ClusterExecOptions = { timeout: 1_000 };
    // Type-checked only: these calls would need a Redis server.
    const typeOnly = (pool: ClusterPool<typeof import("./fixtures/cluster_tasks.ts")>) => [
      pool.exec("inc", [1], options),
      // @ts-expect-error: a ClusterPool has no priorities
      pool.exec("inc", [1], { priority: 1 }),
      // @ts-expect-error: nothing moves between machines
      pool.exec("inc", [1], { transfer: [] }),
    ];
    assert.equal(typeof typeOnly, "function");
  });
});
