/**
 * This thread's side of a Semaphore's shared memory: the permit operations
 * (plain until the memory is shared, then the atomic protocol `semaphore.ts`
 * describes), the FIFO of this thread's `acquire()` calls with the one
 * `Atomics.waitAsync` that watches for other threads' releases, and the
 * blocking wait of `acquireSync()`. Every Semaphore of this thread over one
 * memory shares one view of it.
 *
 * @module
 */

import { now } from "../_now.ts";
import { hasSharedMemory } from "./_memory.ts";
import {
  bornHere,
  COUNT_MASK,
  hasMemoryId,
  LIMIT,
  MAX_COUNT,
  memoryId,
  sameMemory,
  STATE,
  WAITING,
} from "./_layout.ts";

/** The errors `share()` threw: a value holding a primitive cannot be sent, wherever it sits. */
const shareRefusals = new WeakSet<object>();

/** Whether `error` says a Semaphore or Lock cannot leave this thread (no shared memory). */
export function isShareRefusal(error: unknown): boolean {
  return typeof error === "object" && error !== null && shareRefusals.has(error);
}

/**
 * The error of a Semaphore or Lock that cannot leave this thread, as
 * {@linkcode isShareRefusal} knows it. `cause`: what another copy of the
 * package threw for its own primitive (a task module bundled with one).
 */
export function shareRefusal(cause?: unknown): TypeError {
  const error = new TypeError(
    "Cannot share a Semaphore or Lock with another thread: SharedArrayBuffer is not available here (a browser page must be cross-origin isolated)",
    cause === undefined ? undefined : { cause },
  );
  shareRefusals.add(error);
  return error;
}

/**
 * This thread's view of each shared memory, by the memory's id, not by
 * buffer object: every clone of a buffer (each message that carries it) is a
 * new object, and all must share one FIFO of this thread's waiters. Held
 * weakly: a view no Semaphore and no waiter needs is dropped. A memory made
 * here joins when it is first shared (until then no clone of it exists), so
 * making semaphores that never leave the thread costs no entry.
 */
const memories = new Map<number, WeakRef<Memory>>();
const forget = new FinalizationRegistry<number>((id) => {
  if (memories.get(id)?.deref() === undefined) memories.delete(id);
});

/** This thread's view of the memory `buffer` holds. */
export function memoryOf(buffer: SharedArrayBuffer): Memory {
  const slots = new Int32Array(buffer);
  if (!hasMemoryId(slots)) return new Memory(buffer); // never shared: no other view of it exists
  const known = memories.get(memoryId(slots))?.deref();
  if (known !== undefined && known.isMemoryOf(slots)) return known;
  const memory = new Memory(buffer);
  if (known === undefined) memory.register();
  return memory;
}

interface Waiter {
  resolve(acquired: boolean): void;
  reject(reason: unknown): void;
  prev: Waiter | undefined;
  next: Waiter | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
}

const MAX_DELAY = 0x7fff_ffff;

let checkStillWanted: () => void = () => {};

/**
 * Sets the check `acquireSync()` makes between two of its waits: a pool's
 * worker installs one that throws once the pool has ended it, so a task
 * parked in `acquireSync()` does not outlive `terminate()` (on Deno, a
 * terminated worker stops only when its JavaScript returns to the event
 * loop). Internal: for `worker/runtime.ts`.
 *
 * @param check Throws to stop the wait.
 *
 * @example Usage
 * ```ts
 * import { guardBlockingWaits } from "./_thread_memory.ts";
 * import { Semaphore } from "./semaphore.ts";
 * import assert from "node:assert/strict";
 *
 * let looks = 0;
 * guardBlockingWaits(() => void looks++);
 * assert.equal(new Semaphore(0).acquireSync(250), false); // waits of 100 ms at most
 * assert.ok(looks >= 2, "it looked between its waits");
 * guardBlockingWaits(() => {});
 * ```
 */
export function guardBlockingWaits(check: () => void): void {
  checkStillWanted = check;
}

let takeRefused: () => boolean = () => false;

/**
 * Sets the test `tryAcquire()` makes after a take: a pool's worker installs
 * one that is true once the pool has ended it, or failed the job whose
 * synchronous call runs, and the permit goes back. Internal: for
 * `worker/runtime.ts`.
 *
 * @param test True to give the permit back.
 *
 * @example Usage
 * ```ts
 * import { guardTakes } from "./_thread_memory.ts";
 * import { Lock } from "./lock.ts";
 * import assert from "node:assert/strict";
 *
 * const lock = new Lock();
 * guardTakes(() => true);
 * assert.equal(lock.tryAcquire(), false);
 * assert.equal(lock.locked, false, "the permit went back");
 * guardTakes(() => false);
 * assert.equal(lock.tryAcquire(), true);
 * ```
 */
export function guardTakes(test: () => boolean): void {
  takeRefused = test;
}

let abortOnItsWay: (signal: AbortSignal) => boolean = () => false;

/**
 * Sets the test of whether `signal` is about to abort: a pool's worker
 * installs one that answers true for the signal of a job the pool has
 * already failed (its timeout passed, or it was aborted), whose "abort"
 * message has not arrived yet. A waiter with such a signal is not served
 * (the abort rejects it), and `acquire()` with it takes no free permit: a
 * release on shared memory may wake this thread before that message.
 * Internal: for `worker/runtime.ts`.
 *
 * @param test True if `signal` will abort.
 *
 * @example Usage
 * ```ts
 * import { guardSignals } from "./_thread_memory.ts";
 * import { Semaphore } from "./semaphore.ts";
 * import assert from "node:assert/strict";
 *
 * const doomed = new AbortController();
 * guardSignals((signal) => signal === doomed.signal);
 * const sem = new Semaphore(1);
 * const waiting = sem.acquire({ signal: doomed.signal });
 * assert.equal(sem.value, 1, "the free permit was not taken");
 * doomed.abort(new Error("stopped"));
 * await assert.rejects(waiting, { message: "stopped" });
 * guardSignals(() => false);
 * ```
 */
export function guardSignals(test: (signal: AbortSignal) => boolean): void {
  abortOnItsWay = test;
}

/**
 * Serves again the waiters of every memory this thread shares: a signal
 * that was about to abort (see {@linkcode guardSignals}) is no longer known
 * to be, though its abort has not come, so a wait of it that the queue
 * passed over wants its permit again (the watch stops while every waiter
 * left waits for its abort). Internal: for `worker/runtime.ts`, which
 * forgets the oldest ended job kept for its waits.
 *
 * @example Usage
 * ```ts
 * import { guardSignals, serveAgain } from "./_thread_memory.ts";
 * import { Semaphore } from "./semaphore.ts";
 * import assert from "node:assert/strict";
 *
 * const sem = new Semaphore(1);
 * sem.buffer; // shared
 * const controller = new AbortController();
 * let doomed = true;
 * guardSignals((signal) => doomed && signal === controller.signal);
 * const waiting = sem.acquire({ signal: controller.signal });
 * assert.equal(sem.value, 1, "passed over");
 * doomed = false;
 * serveAgain();
 * assert.equal(await waiting, true);
 * guardSignals(() => false);
 * ```
 */
export function serveAgain(): void {
  for (const memory of memories.values()) memory.deref()?.serveRest();
}

/** Per signal, how many memories of this thread have waiters given it. */
const waitedOn = new WeakMap<AbortSignal, number>();

function countWaited(signal: AbortSignal, by: 1 | -1): void {
  const n = (waitedOn.get(signal) ?? 0) + by;
  if (n > 0) waitedOn.set(signal, n);
  else {
    waitedOn.delete(signal);
    waitsEnded(signal);
  }
}

let waitsEnded: (signal: AbortSignal) => void = () => {};

/**
 * Sets what to call once no wait of this thread holds a signal any more
 * (see {@linkcode waitsOn}): a pool's worker then drops the ended job's
 * context it kept for them. Internal: for `worker/runtime.ts`.
 *
 * @param ended Called with the signal.
 *
 * @example Usage
 * ```ts
 * import { onWaitsEnded } from "./_thread_memory.ts";
 * import { Semaphore } from "./semaphore.ts";
 * import assert from "node:assert/strict";
 *
 * const ended: AbortSignal[] = [];
 * onWaitsEnded((signal) => ended.push(signal));
 * const sem = new Semaphore(0);
 * const controller = new AbortController();
 * const waiting = sem.acquire({ signal: controller.signal });
 * sem.release();
 * assert.equal(await waiting, true);
 * assert.deepEqual(ended, [controller.signal]);
 * sem.release();
 * onWaitsEnded(() => {});
 * ```
 */
export function onWaitsEnded(ended: (signal: AbortSignal) => void): void {
  waitsEnded = ended;
}

/**
 * Whether a wait of this thread for a permit was given `signal` and has not
 * ended: a pool's worker keeps an ended job's context for such a wait (its
 * abort must still reach it). Internal: for `worker/runtime.ts`.
 *
 * @param signal The signal a wait may have been given.
 * @returns True while a `Semaphore` or `Lock` wait of this thread holds it.
 *
 * @example Usage
 * ```ts
 * import { waitsOn } from "./_thread_memory.ts";
 * import { Semaphore } from "./semaphore.ts";
 * import assert from "node:assert/strict";
 *
 * const sem = new Semaphore(0);
 * const controller = new AbortController();
 * const waiting = sem.acquire({ signal: controller.signal });
 * assert.equal(waitsOn(controller.signal), true);
 * sem.release();
 * assert.equal(await waiting, true);
 * assert.equal(waitsOn(controller.signal), false);
 * sem.release();
 * ```
 */
export function waitsOn(signal: AbortSignal): boolean {
  return waitedOn.has(signal);
}
/** The longest one `Atomics.wait` of `acquireSync()` lasts before it looks again. */
const BLOCK_SLICE_MS = 100;

/**
 * This thread's side of one memory: the permit operations, in plain or
 * atomic form, and the FIFO of this thread's `acquire()` calls with the one
 * `Atomics.waitAsync` that watches STATE for them.
 */
export class Memory {
  readonly max: number;
  #slots: Int32Array;
  #shared: boolean;
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  #watching = false;
  /**
   * The waiters of each signal, in queue order, behind one `abort` listener
   * per signal: one listener each would cost the signal's whole list at
   * every add and remove (20,000 waiters on one signal: seconds; 100,000: no
   * end in sight), and one app-wide signal for many waiters is common.
   */
  readonly #bySignal = new Map<AbortSignal, Set<Waiter>>();

  constructor(buffer: SharedArrayBuffer) {
    this.#slots = new Int32Array(buffer);
    this.max = this.#slots[LIMIT] || MAX_COUNT;
    this.#shared = hasMemoryId(this.#slots) || !bornHere(buffer); // it left, or came
  }

  /** Becomes this thread's view of its memory, found by id (see `memories`). */
  register(): void {
    const id = memoryId(this.#slots);
    memories.set(id, new WeakRef(this));
    forget.register(this, id);
  }

  /** Whether `slots` views this memory (not a byte copy of it). */
  isMemoryOf(slots: Int32Array): boolean {
    return sameMemory(this.#slots, slots);
  }

  /** Whether no `acquire()` of this thread waits. */
  get idle(): boolean {
    return this.#head === undefined;
  }

  /** Switches to the atomic protocol, for good; returns the buffer. */
  share(): SharedArrayBuffer {
    if (!hasSharedMemory) throw shareRefusal();
    if (!this.#shared) {
      this.#shared = true;
      this.register();
      if (this.#head !== undefined) this.#watch();
    }
    return this.#slots.buffer as SharedArrayBuffer;
  }

  count(): number {
    const slots = this.#slots;
    return (this.#shared ? Atomics.load(slots, STATE) : slots[STATE]!) &
      COUNT_MASK;
  }

  /** Step 1: takes one permit if one is free. */
  take(): boolean {
    const slots = this.#slots;
    let state = slots[STATE]!; // unshared: the truth; shared: a guess for the CAS
    if (!this.#shared) {
      if ((state & COUNT_MASK) === 0) return false;
      slots[STATE] = state - 1;
      return true;
    }
    for (let exact = false;;) {
      if ((state & COUNT_MASK) === 0) {
        if (exact) return false;
        state = Atomics.load(slots, STATE);
        exact = true;
        continue;
      }
      const seen = Atomics.compareExchange(slots, STATE, state, state - 1); // keeps WAITING
      if (seen === state) return true;
      state = seen;
      exact = true;
    }
  }

  /**
   * `tryAcquire()`: step 1, but no permit for a thread its pool has ended,
   * or for the synchronous call of a job its pool has failed (see
   * {@linkcode guardTakes}): looked at after the take, so a release that
   * came before it (the caller freed the permit on seeing the failure) is
   * seen, and at the cost of one look.
   */
  tryTake(): boolean {
    if (!this.take()) return false;
    if (!takeRefused()) return true;
    this.give(1); // held for an instant only, and never by the failed job's code
    return false;
  }

  /**
   * Step 1 for a caller given `signal`: no permit for a signal whose abort
   * is on its way (see {@linkcode guardSignals}), looked at again after a
   * take, which a release between the first look and it made possible (the
   * pool failed the job, and its caller freed the permit on seeing that).
   */
  takeFor(signal: AbortSignal | undefined): boolean {
    if (signal === undefined) return this.take();
    if (abortOnItsWay(signal) || !this.take()) return false;
    if (!abortOnItsWay(signal)) return true;
    this.#putBack();
    return false;
  }

  /**
   * Puts back a permit just taken for a caller that may not have it:
   * another thread's waiters are woken, as by a release; this thread's are
   * the caller's to serve (a waiter queues, or `#serve` goes on). By
   * compare-and-swap, as every move of a permit: a release that came since
   * the take (another thread freeing what it saw the failed job hold) may
   * have given it back already, and the count never passes `max`.
   */
  #putBack(): void {
    const slots = this.#slots;
    if (!this.#shared) {
      if ((slots[STATE]! & COUNT_MASK) < this.max) slots[STATE] = slots[STATE]! + 1;
      return;
    }
    let state = Atomics.load(slots, STATE);
    for (;;) {
      if ((state & COUNT_MASK) >= this.max) return; // given back already
      const seen = Atomics.compareExchange(slots, STATE, state, state + 1); // keeps WAITING
      if (seen === state) break;
      state = seen;
    }
    if (state & WAITING) Atomics.notify(slots, STATE);
  }

  /** Step 1 for every free permit at once; returns how many it took. */
  takeAll(): number {
    const slots = this.#slots;
    let state = this.#shared ? Atomics.load(slots, STATE) : slots[STATE]!;
    while ((state & COUNT_MASK) !== 0) {
      const count = state & COUNT_MASK;
      if (!this.#shared) {
        slots[STATE] = state - count;
        return count;
      }
      const seen = Atomics.compareExchange(slots, STATE, state, state - count); // keeps WAITING
      if (seen === state) return count;
      state = seen;
    }
    return 0;
  }

  /** Steps a to c; returns -1, or the count if `n` would pass the limit. */
  give(n: number): number {
    const slots = this.#slots;
    let state = slots[STATE]!; // as in take()
    for (let exact = !this.#shared;;) {
      const count = state & COUNT_MASK;
      if (count > this.max - n) {
        if (exact) return count;
        state = Atomics.load(slots, STATE);
        exact = true;
        continue;
      }
      if (!this.#shared) {
        slots[STATE] = count + n;
        break;
      }
      const seen = Atomics.compareExchange(slots, STATE, state, count + n); // step a
      if (seen === state) break;
      state = seen;
      exact = true;
    }
    if (this.#head !== undefined) this.#serve(); // step b
    if (state & WAITING) Atomics.notify(slots, STATE); // step c
    return -1;
  }

  /**
   * `acquireSync()`: steps 1 to 3 with `Atomics.wait`, which may throw. It
   * waits at most {@linkcode BLOCK_SLICE_MS} at a time and then asks
   * {@linkcode guardBlockingWaits}' check whether its worker is still
   * wanted: Deno's `worker.terminate()` does not stop a thread that never
   * returns to its event loop, so a worker parked for good would outlive it
   * and keep the program from exiting. `action` names the call in the
   * `TypeError` of a thread that may not block (the check's own error goes
   * as it is).
   */
  block(timeout: number, action: string): boolean {
    const deadline = now() + timeout; // the clock at load: a task may freeze performance.now
    for (;;) {
      checkStillWanted(); // before each take: a worker's job stopped meanwhile takes nothing
      if (this.take()) {
        // And after: the pool marks a job failed before its caller may free the permit, so a
        // take that a release between the check and it made possible sees the mark now.
        try {
          checkStillWanted();
        } catch (error) {
          this.give(1);
          throw error;
        }
        return true; // step 1
      }
      const left = deadline - now();
      if (left <= 0) return false;
      if (!hasSharedMemory) {
        throw new TypeError(
          `Cannot ${action} synchronously: no permit is free, and without SharedArrayBuffer no other thread can release one; use tryAcquire() or acquire()`,
        );
      }
      if (this.#flag()) {
        try {
          Atomics.wait(this.#slots, STATE, WAITING, Math.min(left, BLOCK_SLICE_MS)); // step 3
        } catch (error) {
          throw new TypeError(
            `Cannot ${action} synchronously: this thread may not block, use acquire()`,
            { cause: error },
          );
        }
      }
    }
  }

  /** Queues a waiter; it settles once: by #serve(), its timeout or signal. */
  wait(timeout: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        prev: this.#tail,
        next: undefined,
        timer: undefined,
        signal,
      };
      if (this.#tail === undefined) this.#head = waiter;
      else this.#tail.next = waiter;
      this.#tail = waiter;
      if (timeout <= MAX_DELAY) {
        waiter.timer = setTimeout(() => {
          this.#unlink(waiter);
          resolve(false);
          this.serveRest();
        }, timeout);
      }
      if (signal !== undefined) {
        const waiters = this.#bySignal.get(signal);
        if (waiters !== undefined) waiters.add(waiter);
        else {
          this.#bySignal.set(signal, new Set([waiter]));
          signal.addEventListener("abort", this.#onAbort, { once: true });
          countWaited(signal, 1);
        }
      }
      // Served at once if every waiter before it waits for its abort, a permit free;
      // unshared, only this thread can release then, and release() serves us.
      if (this.#shared) this.#watch();
      else this.#serve();
    });
  }

  /** Step 2: sets WAITING if no permit is free; true if it is set. */
  #flag(): boolean {
    const state = Atomics.load(this.#slots, STATE);
    if (state !== 0) return state === WAITING;
    return Atomics.compareExchange(this.#slots, STATE, 0, WAITING) === 0;
  }

  /**
   * Gives free permits to the waiters in order, passing over those whose
   * abort is on its way (see `guardSignals`). Returns true if it stopped at
   * a waiter that wants a permit and found none free.
   */
  #serve(): boolean {
    for (let waiter = this.#head; waiter !== undefined;) {
      const next = waiter.next;
      const signal = waiter.signal;
      if (signal !== undefined) {
        if (signal.aborted) {
          // Aborted, and our listener not yet run: a listener before it released. It takes nothing.
          this.#unlink(waiter);
          waiter.reject(signal.reason);
          waiter = next;
          continue;
        }
        if (abortOnItsWay(signal)) {
          waiter = next; // it waits for its abort, which rejects it: the permit goes on
          continue;
        }
      }
      if (!this.take()) return true;
      if (signal !== undefined && abortOnItsWay(signal)) {
        // Marked between the look above and the take: the permit goes back, and on.
        this.#putBack();
        waiter = next;
        continue;
      }
      this.#unlink(waiter);
      waiter.resolve(true);
      waiter = next;
    }
    return false;
  }

  /** Removes a waiter that is being settled; it holds no permit. */
  #unlink(waiter: Waiter): void {
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    const signal = waiter.signal;
    if (signal === undefined) return;
    const waiters = this.#bySignal.get(signal)!;
    waiters.delete(waiter);
    if (waiters.size === 0) {
      // Its last waiter: the signal holds on to this memory no longer.
      this.#bySignal.delete(signal);
      signal.removeEventListener("abort", this.#onAbort);
      countWaited(signal, -1);
    }
  }

  /** A signal aborted: its waiters reject with its reason, in queue order. */
  #onAbort = (event: Event): void => {
    const signal = event.target as AbortSignal;
    const waiters = this.#bySignal.get(signal);
    if (waiters === undefined) return;
    this.#bySignal.delete(signal);
    countWaited(signal, -1);
    for (const waiter of waiters) {
      waiter.signal = undefined; // its set is gone: #unlink leaves it be
      this.#unlink(waiter);
      waiter.reject(signal.reason);
    }
    this.serveRest();
  };

  /**
   * A waiter left the queue, or one's abort is no longer known to be on its
   * way (`serveAgain`): those behind it, or it, get the permits passed over
   * while its abort was on its way (see `guardSignals`), and those still
   * short of one are watched for (the watch stops while every waiter left
   * waits for its abort); with none left, the watch is woken to end.
   */
  serveRest(): void {
    if (this.#head !== undefined && this.#serve() && this.#shared) this.#watch();
    // The last waiter gone, the pending watch would hold this memory until some release woke
    // it (a semaphore made per request, waited on with a timeout, leaked): it ends now.
    else if (this.#head === undefined && this.#watching) Atomics.notify(this.#slots, STATE);
  }

  /**
   * A runtime with no `Atomics.waitAsync` (some browsers): a shared
   * primitive's waiters cannot wait for another thread's release; they
   * reject saying so, and leave the queue.
   */
  #cannotWait(): void {
    this.#watching = false;
    for (let waiter = this.#head; waiter !== undefined; waiter = this.#head) {
      this.#unlink(waiter);
      waiter.reject(
        new TypeError(
          "Cannot wait for a shared Semaphore or Lock: Atomics.waitAsync is not available here; use tryAcquire(), or acquireSync() in a worker",
        ),
      );
    }
  }

  /**
   * Keeps one `Atomics.waitAsync` while there are waiters. A wait cannot be
   * cancelled: once the last waiter has left by its timeout or signal, this
   * thread wakes it with a notify (`serveRest`), which other threads' waits
   * take as a spurious wake-up and look again; otherwise it would hold the
   * memory until the next release. A pending `waitAsync` keeps no program
   * alive.
   */
  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#pump();
  }

  #pump = (): void => {
    for (;;) {
      // Step 1. Stopped with every waiter left waiting for its abort, which
      // comes as a message: the abort's listener serves those behind it, and
      // a new waiter watches again (no wait, no look: it never polls).
      if (!this.#serve() || this.#head === undefined) {
        this.#watching = false;
        return;
      }
      if (!this.#flag()) continue; // step 2; a permit appeared: serve again
      if (typeof Atomics.waitAsync !== "function") return this.#cannotWait();
      const result = Atomics.waitAsync(this.#slots, STATE, WAITING); // step 3
      if (result.async) {
        result.value.then(this.#pump);
        return;
      }
    }
  };
}
