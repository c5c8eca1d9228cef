/**
 * `pool.proxy()`: the pool's task module as an object whose methods run its
 * exports on the pool: `await tasks.fib(30)`, or `for await (const x of
 * tasks.count(3))` for a generator export.
 *
 * @module
 */

import type { AnyFunction } from "../task.ts";
import type { GeneratorLike } from "./types.ts";
import { queueMicrotask } from "../_event_loop.ts";

/**
 * The methods of `pool.proxy()`, typed from the task module: a generator
 * export gives an async iterable of its values (awaited instead, an array of
 * them all), any other export a promise of its result. Exports named
 * `then`, `toString`, `toLocaleString`, `valueOf`, `toJSON` or
 * `constructor` are not methods: a proxy never calls them.
 *
 * @typeParam M The task module's type (`typeof import("./tasks.ts")`).
 *
 * @example Usage
 * ```ts
 * import type { TaskProxy } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * type Tasks = {
 *   fib(n: number): number;
 *   count(n: number): Generator<number>;
 *   version: string;
 * };
 * // Methods only; a generator export streams, any other export resolves.
 * type Proxied = TaskProxy<Tasks>;
 * const check = (tasks: Proxied) => {
 *   const one: Promise<number> = tasks.fib(10);
 *   const many: AsyncIterableIterator<number> = tasks.count(3);
 *   const all: Promise<number[]> = tasks.count(3); // awaited: all its values
 *   return [one, many, all];
 * };
 * assert.equal(typeof check, "function");
 * ```
 */
export type TaskProxy<M> = {
  readonly [
    K in keyof M as K extends
      "then" | "toString" | "toLocaleString" | "valueOf" | "toJSON" | "constructor" ? never
      : M[K] extends AnyFunction ? K
      : never
  ]: M[K] extends (...args: infer A) => infer R
    ? [R] extends [never] ? (...args: A) => Promise<never> // always throws
    : R extends GeneratorLike<infer Y>
      ? (...args: A) => AsyncIterableIterator<Y> & AsyncDisposable & Promise<Y[]>
    : (...args: A) => Promise<Awaited<R>>
    : never;
};

/** What a proxy needs of its pool. */
export interface ProxiedPool {
  run(task: string, ...args: unknown[]): Promise<unknown>;
  stream(task: string, ...args: unknown[]): AsyncIterableIterator<unknown>;
}

/**
 * A pool's proxy calls not yet run nor iterated, in the order they were
 * made. They run as jobs at the end of their tick, or sooner when the pool
 * asks ({@linkcode UndecidedCalls.decide}): a `shutdown()`, `cancel()` or
 * `wait()` in the same tick then finds them queued, as it would `run()`s.
 */
export class UndecidedCalls {
  #calls: TaskCall[] = [];
  #waiting = 0;
  #scheduled = false;

  /**
   * How many calls would run as jobs if decided now (neither awaited nor
   * iterated yet): what `pending`, `needsDrain` and `stats()` count, as they
   * would `run()`s, without deciding them (a read must not stop a call's
   * stream).
   */
  get waiting(): number {
    return this.#waiting;
  }

  /** `call` runs at the end of this tick unless iterated or decided before. */
  add(call: TaskCall): void {
    this.#calls.push(call);
    this.#waiting++;
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.decide();
    });
  }

  /** Runs the calls made so far that were not iterated, as jobs, in order. */
  decide(): void {
    if (this.#calls.length === 0) return;
    const calls = this.#calls;
    this.#calls = [];
    this.#waiting = 0;
    for (const call of calls) call.decide();
  }

  /** A call still waiting was awaited or iterated: a job or a stream of its own now. */
  taken(): void {
    this.#waiting--;
  }
}

/**
 * One call through the proxy. The main thread cannot tell a generator export
 * from another without importing the module, so a call waits until the end
 * of the tick that made it: iterated by then (`for await`, `next()`), it
 * streams the generator's values (`stream`); otherwise it runs as a job
 * (`run`) at the end of that tick, whether it is awaited or not, so calls
 * made together run together (or sooner, see {@linkcode UndecidedCalls}).
 * Iterated after that, it gives the values its job resolved with (a
 * generator's, all at once). It has the methods its type promises: `then`,
 * `catch`, `finally`, and `next`, `return`, `throw`.
 */
class TaskCall implements Promise<unknown>, AsyncIterableIterator<unknown>, AsyncDisposable {
  readonly [Symbol.toStringTag] = "TaskCall";
  readonly #pool: ProxiedPool;
  readonly #name: string;
  readonly #args: unknown[];
  #promise: Promise<unknown> | undefined;
  #iterator: AsyncIterableIterator<unknown> | undefined;
  /** The list that counts it as waiting, until it is decided, awaited or iterated. */
  #waitingIn: UndecidedCalls | undefined;

  constructor(pool: ProxiedPool, name: string, args: unknown[], calls: UndecidedCalls) {
    this.#pool = pool;
    this.#name = name;
    this.#args = args;
    calls.add(this);
    this.#waitingIn = calls;
  }

  /** The end of its tick (or the pool asked): a call not iterated by now runs as a job. */
  decide(): void {
    this.#waitingIn = undefined; // the list no longer counts it
    if (this.#iterator === undefined) this.#run();
  }

  /** Awaited or iterated before its tick ended: no longer waiting. */
  #taken(): void {
    this.#waitingIn?.taken();
    this.#waitingIn = undefined;
  }

  #run(): Promise<unknown> {
    if (this.#promise !== undefined) return this.#promise;
    this.#taken();
    if (this.#iterator !== undefined) {
      // Streaming already: a second job would run the task twice.
      return this.#promise = Promise.reject(
        new TypeError(
          `Cannot await the call of "${this.#name}": it is being iterated; a call is awaited or iterated, not both`,
        ),
      );
    }
    return this.#promise = this.#pool.run(this.#name, ...this.#args);
  }

  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#run().then(onFulfilled, onRejected);
  }

  catch<B = never>(
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<unknown> {
    return this.#run().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.#run().finally(onFinally);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this.#values();
  }

  next(): Promise<IteratorResult<unknown>> {
    return this.#settledValues().next();
  }

  /**
   * For `await using`: at the scope's end, a call being iterated stops its
   * stream (as `return()` does); one awaited, or neither, is left as it is.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#iterator?.return?.();
  }

  return(value?: unknown): Promise<IteratorResult<unknown>> {
    return this.#settledValues().return?.(value) ?? Promise.resolve({ value, done: true });
  }

  /**
   * `#values()` for `next()` and `return()`, which return promises and never
   * throw: a refused call's error comes as the first `next()`'s rejection.
   */
  #settledValues(): AsyncIterableIterator<unknown> {
    try {
      return this.#values();
    } catch {
      return this.#iterator!; // refused(error)
    }
  }

  /** Stops the values (as `return()` does; a stream cannot take an error into its task) and rejects with `error`. */
  async throw(error?: unknown): Promise<IteratorResult<unknown>> {
    const values = this.#values();
    if (values.throw) return await values.throw(error);
    await values.return?.();
    throw error;
  }

  /** The values: streamed if no job ran yet, else those its job resolved with. */
  #values(): AsyncIterableIterator<unknown> {
    if (this.#iterator !== undefined) return this.#iterator;
    this.#taken();
    if (this.#promise === undefined) {
      try {
        return this.#iterator = this.#pool.stream(this.#name, ...this.#args);
      } catch (error) {
        // Refused (the pool closed, its queue full): the call ends with this
        // error, and no job runs for it at the end of the tick.
        this.#iterator = refused(error);
        throw error;
      }
    }
    return this.#iterator = valuesOf(this.#promise, this.#name);
  }
}

/** The values of a call whose stream was refused: `error`, at the first `next()`. */
// deno-lint-ignore require-yield
async function* refused(error: unknown): AsyncGenerator<unknown> {
  throw error;
}

/** The values of a `run()` that already ran a generator export (an array); anything else is refused. */
async function* valuesOf(result: Promise<unknown>, name: string): AsyncGenerator<unknown> {
  const values = await result;
  if (!Array.isArray(values)) {
    throw new TypeError(
      `Cannot iterate the call of "${name}": its job ran at the end of the tick that called it ` +
        "and did not give a generator's values; iterate a call in the tick that makes it to stream",
    );
  }
  yield* values;
}

/**
 * Names a proxy does not turn into calls, since a call now runs a job:
 * `then` (or `await pool.proxy()` would call it), and what the runtime asks
 * of any object (`String(tasks)`, `JSON.stringify(tasks)`). `TaskProxy`
 * leaves out the same names; exports of these names run with
 * `pool.run(name, …)` (`then` excepted: a task module cannot export it).
 */
const NOT_TASKS = new Set<string>([
  "then",
  "toString",
  "toLocaleString",
  "valueOf",
  "toJSON",
  "constructor",
]);

/**
 * Makes the proxy of `pool`, whose task module exports the names used; its
 * calls wait in `calls` until their tick ends.
 */
export function makeProxy<M>(pool: ProxiedPool, calls: UndecidedCalls): TaskProxy<M> {
  return new Proxy(Object.create(null), {
    get(_target, name) {
      if (name === Symbol.toStringTag) return "TaskProxy";
      if (name === "toString") return () => "[object TaskProxy]";
      if (typeof name !== "string" || NOT_TASKS.has(name)) return undefined;
      return (...args: unknown[]) => new TaskCall(pool, name, args, calls);
    },
  }) as TaskProxy<M>;
}
