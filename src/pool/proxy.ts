/**
 * `pool.proxy()`: the pool's task module as an object whose methods run its
 * exports on the pool: `await tasks.fib(30)`, or `for await (const x of
 * tasks.count(3))` for a generator export.
 *
 * @module
 */

import type { AnyFunction } from "../task.ts";

/**
 * The methods of `pool.proxy()`, typed from the task module: a generator
 * export gives an async iterable of its values, any other export a promise
 * of its result.
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
 *   return [one, many];
 * };
 * assert.equal(typeof check, "function");
 * ```
 */
export type TaskProxy<M> = {
  readonly [K in keyof M as M[K] extends AnyFunction ? K : never]: M[K] extends
    (...args: infer A) => infer R ? [R] extends [never] ? (...args: A) => Promise<never> // always throws
    : R extends Generator<infer Y, unknown, unknown> | AsyncGenerator<infer Y, unknown, unknown>
      ? (...args: A) => AsyncIterableIterator<Y>
    : (...args: A) => Promise<Awaited<R>>
    : never;
};

/** What a proxy needs of its pool. */
export interface ProxiedPool {
  run(task: string, ...args: unknown[]): Promise<unknown>;
  stream(task: string, ...args: unknown[]): AsyncIterableIterator<unknown>;
}

/**
 * One call through the proxy. The main thread cannot tell a generator export
 * from another without importing the module, so the call waits to see how
 * it is used: awaited, it runs the job (`run`); iterated, it streams the
 * generator's values (`stream`). Nothing runs until then.
 */
class TaskCall implements PromiseLike<unknown>, AsyncIterable<unknown> {
  #promise: Promise<unknown> | undefined;

  constructor(
    readonly pool: ProxiedPool,
    readonly name: string,
    readonly args: unknown[],
  ) {}

  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.#promise ??= this.pool.run(this.name, ...this.args);
    return this.#promise.then(onFulfilled, onRejected);
  }

  catch<B = never>(
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<unknown> {
    return this.then(undefined, onRejected);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this.pool.stream(this.name, ...this.args);
  }
}

/** Makes the proxy of `pool`, whose task module exports the names used. */
export function makeProxy<M>(pool: ProxiedPool): TaskProxy<M> {
  return new Proxy(Object.create(null), {
    get(_target, name) {
      // `then` must stay undefined, or `await pool.proxy()` would call it.
      if (typeof name !== "string" || name === "then") return undefined;
      return (...args: unknown[]) => new TaskCall(pool, name, args);
    },
  }) as TaskProxy<M>;
}
