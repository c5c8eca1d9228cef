/**
 * A handshake with a job, over shared memory: the job marks itself started
 * and blocks until the test opens the gate. The test awaits `started()` with
 * `Atomics.waitAsync`, never a sleep.
 *
 * ```
 *  word 0 STARTED: 0 → 1 by the job
 *  word 1 GO:      0 → 1 by the test (open)
 * ```
 *
 * @module
 */

/** A gate for one or more jobs. */
export interface Gate {
  /** Pass it to the job as an argument. */
  readonly memory: Int32Array;
  /** Resolves once a job has called `wait(memory)`, and how many have. */
  started(count?: number): Promise<void>;
  /** Lets the jobs go on. */
  open(): void;
}

/** Makes a closed gate. */
export function gate(): Gate {
  const memory = new Int32Array(new SharedArrayBuffer(8));
  return {
    memory,
    async started(count = 1) {
      while (true) {
        const seen = Atomics.load(memory, 0);
        if (seen >= count) return;
        const result = Atomics.waitAsync(memory, 0, seen);
        if (result.async) await result.value;
      }
    },
    open() {
      Atomics.store(memory, 1, 1);
      Atomics.notify(memory, 1);
    },
  };
}

/**
 * The job side, as an inline task: marks started, waits for the gate, then
 * returns `value`. Self-contained, so it can run in a worker.
 */
export const waitAtGate = (memory: Int32Array, value: unknown): unknown => {
  Atomics.add(memory, 0, 1);
  Atomics.notify(memory, 0);
  Atomics.wait(memory, 1, 0);
  return value;
};

/**
 * Runs {@linkcode waitAtGate} through an open gate `times` times on `pool`,
 * so the pool measures it quick and sends other jobs behind a gated one (a
 * task of unknown or slow cost has nothing queued behind it: see
 * `chooseSlot`).
 */
export async function measureGateQuick(
  pool: { run(task: typeof waitAtGate, memory: Int32Array, value: unknown): Promise<unknown> },
  times = 20,
): Promise<void> {
  const open = gate();
  open.open();
  for (let i = 0; i < times; i++) await pool.run(waitAtGate, open.memory, i);
}
