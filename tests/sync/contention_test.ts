import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Lock } from "../../src/sync/lock.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import type { ContentionMessage } from "../fixtures/sync_contention_worker.ts";
import { fixture } from "../_util.ts";

// Control slots of the fixture, and its cells: 0 the non-atomic counter,
// 1 current holders, 2 the most holders seen at once.
const STARTED = 0;
const GO = 1;
const COUNTER = 0;
const HOLDERS = 1;
const PEAK = 2;

type Mode = ContentionMessage["mode"];

/** Resolves once `slots[index]` reaches `value`. */
async function reach(
  slots: Int32Array,
  index: number,
  value: number,
): Promise<void> {
  for (
    let seen = Atomics.load(slots, index);
    seen < value;
    seen = Atomics.load(slots, index)
  ) {
    const result = Atomics.waitAsync(slots, index, seen);
    if (result.async) await result.value;
  }
}

/** The main thread's side: what the fixture does, with `acquire()`. */
async function contend(
  target: Semaphore | Lock,
  cells: Int32Array,
  iterations: number,
  mode: Mode,
  hold: number,
): Promise<number> {
  let taken = 0;
  for (let i = 0; i < iterations; i++) {
    if (mode === "timeouts") {
      const controller = new AbortController();
      const pending = target.acquire(
        i % 3 === 0 ? { signal: controller.signal } : { timeout: i % 3 },
      );
      if (i % 3 === 0) controller.abort(new Error("abort"));
      if (!(await pending.catch(() => false))) continue;
    } else {
      await target.acquire();
    }
    const holders = Atomics.add(cells, HOLDERS, 1) + 1;
    for (let peak = Atomics.load(cells, PEAK); holders > peak;) {
      const seen = Atomics.compareExchange(cells, PEAK, peak, holders);
      if (seen === peak) break;
      peak = seen;
    }
    // Non-atomic on purpose: only the permit protects it. Without one, about
    // half the updates are lost (checked on both runtimes).
    const count = cells[COUNTER]!;
    for (let k = 0; k < hold; k++) Atomics.load(cells, HOLDERS);
    cells[COUNTER] = count + 1;
    Atomics.sub(cells, HOLDERS, 1);
    taken++;
    target.release();
  }
  return taken;
}

/**
 * Runs the main thread and one worker per mode in `workerModes` against
 * `target`, all starting together; resolves with each side's `taken` count
 * and the cells.
 */
async function race(
  target: Semaphore | Lock,
  iterations: number,
  mainMode: Mode,
  workerModes: Mode[],
  hold = 8,
): Promise<{ taken: number[]; cells: Int32Array }> {
  const cells = new Int32Array(new SharedArrayBuffer(3 * 4));
  const ctl = new Int32Array(new SharedArrayBuffer(3 * 4));
  const workers = workerModes.map(() =>
    new Worker(fixture("sync_contention_worker.ts"), { type: "module" })
  );
  try {
    const answers = workers.map((worker, i) =>
      new Promise<number>((resolve, reject) => {
        worker.onmessage = (event) => resolve(event.data.taken);
        worker.onerror = (event) => reject(event);
        const message: ContentionMessage = {
          kind: target instanceof Lock ? "Lock" : "Semaphore",
          buffer: target.buffer,
          cells: cells.buffer as SharedArrayBuffer,
          ctl: ctl.buffer as SharedArrayBuffer,
          iterations,
          mode: workerModes[i]!,
          hold,
        };
        worker.postMessage(message);
      })
    );
    await reach(ctl, STARTED, workers.length);
    Atomics.store(ctl, GO, 1);
    Atomics.notify(ctl, GO);
    const mine = await contend(target, cells, iterations, mainMode, hold);
    return { taken: [mine, ...await Promise.all(answers)], cells };
  } finally {
    for (const worker of workers) worker.terminate();
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("contention", () => {
  it("Lock keeps a non-atomic counter exact: main thread and workers, blocking and async", async () => {
    const lock = new Lock();
    const iterations = 20_000;
    const { taken, cells } = await race(lock, iterations, "async", [
      "sync",
      "sync",
      "async",
    ]);
    assert.deepEqual(taken, [iterations, iterations, iterations, iterations]);
    assert.equal(cells[COUNTER], 4 * iterations);
    assert.equal(cells[PEAK], 1);
    assert.equal(lock.locked, false);
  });

  it("Semaphore(1) keeps a non-atomic counter exact across threads", async () => {
    const sem = new Semaphore(1);
    const iterations = 20_000;
    const { taken, cells } = await race(sem, iterations, "async", [
      "sync",
      "async",
    ]);
    assert.deepEqual(taken, [iterations, iterations, iterations]);
    assert.equal(cells[COUNTER], 3 * iterations);
    assert.equal(sem.value, 1);
  });

  it("Lock: timeouts and aborts under contention leave the lock free and the count exact", async () => {
    const lock = new Lock();
    const modes: Mode[] = ["timeouts", "timeouts"];
    const { taken, cells } = await race(lock, 3_000, "timeouts", modes, 400);
    assert.equal(cells[COUNTER], sum(taken));
    assert.equal(cells[PEAK], 1);
    assert.equal(lock.locked, false);
    assert.equal(
      await lock.acquire({ timeout: 0 }),
      true,
      "no waiter was left holding it",
    );
    lock.release();
  });

  it("Semaphore(2): timeouts and aborts under contention neither create nor lose a permit", async () => {
    const sem = new Semaphore(2);
    const modes: Mode[] = ["timeouts", "timeouts", "timeouts"];
    const { taken, cells } = await race(sem, 3_000, "timeouts", modes, 400);
    assert.ok(sum(taken) > 0);
    assert.ok(
      cells[PEAK]! <= 2,
      `at most 2 holders at once, saw ${cells[PEAK]}`,
    );
    assert.equal(cells[HOLDERS], 0);
    assert.equal(sem.value, 2);
    const waiting = sem.acquire();
    assert.equal(sem.tryAcquire(), true);
    assert.equal(await waiting, true);
    assert.equal(sem.value, 0);
    sem.release(2);
  });
});
