/**
 * `whenSettled()`, how the worker follows a task's promise: one callback
 * runs once, and the promise returned settles after it, whatever the task
 * changed of `Promise` in its worker (here in this thread, for the call only).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { whenSettled } from "../../src/worker/thenable.ts";

/** A species whose promises never settle: what a task may install. */
function deafSpecies(executor: (resolve: () => void, reject: () => void) => void): void {
  executor(() => {}, () => {});
}

/** Calls `follow` while `Promise[Symbol.species]` is `species` (`deafSpecies` by default). */
function withDeafSpecies<T>(follow: () => T, species: () => unknown = () => deafSpecies): T {
  const own = Object.getOwnPropertyDescriptor(Promise, Symbol.species)!;
  Object.defineProperty(Promise, Symbol.species, { configurable: true, get: species });
  try {
    return follow();
  } finally {
    Object.defineProperty(Promise, Symbol.species, own);
  }
}

/** What the callbacks saw, in order. */
function recorder() {
  const seen: string[] = [];
  return {
    seen,
    onFulfilled: (value: unknown) => void seen.push(`value ${value}`),
    onRejected: (reason: unknown) => void seen.push(`reason ${reason}`),
  };
}

describe("whenSettled()", () => {
  it("whenSettled() runs one callback once, before its promise settles", async () => {
    const a = recorder();
    await whenSettled(Promise.resolve(21), a.onFulfilled, a.onRejected);
    await whenSettled(Promise.reject(new Error("no")), a.onFulfilled, a.onRejected);
    const twice = {
      then: (ok: (v: number) => void, fail: (e: unknown) => void) => (ok(1), ok(2), fail(3)),
    };
    await whenSettled(twice as PromiseLike<unknown>, a.onFulfilled, a.onRejected);
    assert.deepEqual(a.seen, ["value 21", "reason Error: no", "value 1"]);
  });

  it("whenSettled() settles its promise though Promise[Symbol.species] was replaced", async () => {
    const a = recorder();
    const plain = withDeafSpecies(() =>
      whenSettled(Promise.resolve(21), a.onFulfilled, a.onRejected)
    );
    assert.ok(plain instanceof Promise, "a promise, not the species' object"); // before: the species'
    await plain;
    const thenable = { then: (ok: (v: number) => void) => ok(5) } as PromiseLike<unknown>;
    await withDeafSpecies(() => whenSettled(thenable, a.onFulfilled, a.onRejected));
    await withDeafSpecies(() =>
      whenSettled(Promise.reject(new Error("no")), a.onFulfilled, a.onRejected)
    );
    assert.deepEqual(a.seen, ["value 21", "value 5", "reason Error: no"]);
  });
});
