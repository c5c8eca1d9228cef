/**
 * Memory to share with other threads, where the runtime has it: a browser
 * page has no `SharedArrayBuffer` unless it is cross-origin isolated. There
 * a pool still works, on plain memory of one thread and messages only
 * (no shared lane, and a `Semaphore` or `Lock` cannot reach a worker).
 *
 * @module
 */

/** Whether `SharedArrayBuffer` exists here. */
export const hasSharedMemory: boolean = typeof SharedArrayBuffer === "function";

/**
 * `bytes` of zeroed memory: shared where {@linkcode hasSharedMemory}, else a
 * plain `ArrayBuffer` (typed as shared, since every reader treats it so;
 * sent to another thread, it is copied).
 */
export function sharedOrPlain(bytes: number): SharedArrayBuffer {
  return hasSharedMemory
    ? new SharedArrayBuffer(bytes)
    : new ArrayBuffer(bytes) as unknown as SharedArrayBuffer;
}
