/**
 * The plain pool's worker: one message in, one message out, per job.
 * A job is `[id, task, arg]`; the answer `[id, ok, value]`.
 *
 * @module
 */

import { add1, fib } from "./_tasks.ts";

const tasks: ((x: number) => number)[] = [add1, fib];

interface Scope {
  onmessage: ((event: MessageEvent<[number, number, number]>) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as Scope;

scope.onmessage = (event) => {
  const [id, task, arg] = event.data;
  try {
    scope.postMessage([id, true, tasks[task]!(arg)]);
  } catch (error) {
    scope.postMessage([id, false, String(error)]);
  }
};
