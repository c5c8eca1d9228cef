/**
 * The memory figure `maxWorkerMemory` is compared with: the JavaScript heap
 * in use by this worker (`heapUsed`), as the runtime reports it from inside
 * the worker — `Deno.memoryUsage()` on Deno, `process.memoryUsage()` on Bun.
 * It does not see memory outside the heap: `ArrayBuffer` backing stores,
 * WebAssembly memory, native allocations of the runtime. 0 where the runtime
 * reports nothing (a browser), so no recycling happens there.
 *
 * @module
 */

interface MemoryUsage {
  memoryUsage(): { heapUsed: number };
}

const source: MemoryUsage | undefined = (globalThis as { Deno?: MemoryUsage }).Deno ??
  (globalThis as { process?: MemoryUsage }).process;

/** Bytes of JavaScript heap this worker uses now; 0 if unknown. */
export function workerMemory(): number {
  try {
    return typeof source?.memoryUsage === "function" ? source.memoryUsage().heapUsed : 0;
  } catch {
    return 0;
  }
}
