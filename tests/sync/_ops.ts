/**
 * Helpers of the sync tests: a worker that runs Semaphore and Lock operations
 * on request (`fixtures/sync_ops_worker.ts`), and a wait on shared memory.
 *
 * @module
 */

import { fixture } from "../_util.ts";

/** A worker of `sync_ops_worker.ts`, terminated at scope end. */
export function opsWorker(): Worker & Disposable {
  const worker = new Worker(fixture("sync_ops_worker.ts"), { type: "module" });
  return Object.assign(worker, { [Symbol.dispose]: () => worker.terminate() });
}

/** Sends one operation and resolves with the worker's answer. */
export function ask<T = { result?: unknown; error?: string }>(
  worker: Worker,
  message: object,
): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => reject(event);
    worker.postMessage(message);
  });
}

/** Resolves once slot 0 of `ctl` is non-zero. */
export async function started(ctl: Int32Array): Promise<void> {
  while (Atomics.load(ctl, 0) === 0) {
    const result = Atomics.waitAsync(ctl, 0, 0);
    if (result.async) await result.value;
  }
}
