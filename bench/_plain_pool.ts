/**
 * The baseline every scenario compares against: a plain pool that sends one
 * `postMessage` per job to the least-loaded worker and gets one back, with
 * a promise per job. No queue of its own: jobs wait in the workers' message
 * queues. Written for the benchmarks only; no error recovery.
 *
 * @module
 */

/** Task numbers the plain worker knows. */
export const PlainTask = { add1: 0, fib: 1 } as const;

interface Pending {
  resolve(value: number): void;
  reject(reason: unknown): void;
}

/** A fixed pool of `size` module workers, one message per job each way. */
export class PlainPool {
  readonly #workers: Worker[] = [];
  readonly #load: number[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./_plain_worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (event: MessageEvent<[number, boolean, unknown]>) => {
        this.#load[i]!--;
        const [id, ok, value] = event.data;
        const pending = this.#pending.get(id)!;
        this.#pending.delete(id);
        if (ok) pending.resolve(value as number);
        else pending.reject(new Error(String(value)));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        for (const pending of this.#pending.values()) pending.reject(new Error(event.message));
        this.#pending.clear();
      };
      this.#workers.push(worker);
      this.#load.push(0);
    }
  }

  /** Runs one job on the worker with the fewest jobs in flight. */
  run(task: number, arg: number): Promise<number> {
    let best = 0;
    for (let i = 1; i < this.#load.length; i++) if (this.#load[i]! < this.#load[best]!) best = i;
    this.#load[best]!++;
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#workers[best]!.postMessage([id, task, arg]);
    });
  }

  /** Stops the workers. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }
}
