/**
 * The memory of a `Semaphore` or `Lock`: one `SharedArrayBuffer` of Int32
 * slots. This file is the only one that knows slot numbers and bit layouts;
 * everything else uses the names below.
 *
 * ```
 *   slot:    0                      1        2        3        4        5
 *        +----------------------+--------+--------+--------+--------+--------+
 *        | STATE                | LIMIT  |  TAG   | ID_LO  | ID_HI  | PROBE  |
 *        +----------------------+--------+--------+--------+--------+--------+
 *   STATE   bit 31: 0 (never negative)
 *           bit 30: WAITING, a thread may sleep on STATE (set by waiters,
 *                   cleared by the release that must then wake them)
 *           bits 0-29: free permits (COUNT_MASK)
 *   LIMIT   most free permits (0: MAX_COUNT); written once
 *   TAG     MAGIC, so `from()` can refuse a foreign buffer; written once
 *   ID_*    a random 53-bit id (21 bits in ID_HI) of this memory, 0 until it is
 *           first shared; written once. Each clone of the buffer is a new object
 *           in the thread it reaches: the id lets a thread keep one view of the
 *           memory (one FIFO of its waiters) however many times it arrives
 *   PROBE   scratch: a thread writes a nonce through one buffer and reads it
 *           through another to learn whether they are one memory (a byte copy
 *           of a buffer carries its id too)
 * ```
 *
 * LIMIT, TAG and the id are written before the buffer leaves the thread that made
 * it (postMessage orders them before every other thread's reads), so plain
 * reads of them are safe.
 *
 * @module
 */

import { describe } from "../_checks.ts";
import { hasSharedMemory, sharedOrPlain } from "./_memory.ts";

/** Slot of the permits and the WAITING flag. */
export const STATE = 0;
/** Slot of the most free permits allowed, or 0 for {@linkcode MAX_COUNT}. */
export const LIMIT = 1;
/** Slot of {@linkcode MAGIC}. */
export const TAG = 2;

/** Slots of the memory's id: its low 32 bits, and its high 21. */
export const ID_LO = 3;
export const ID_HI = 4;
/** Slot a thread writes to tell whether two buffers are one memory. */
export const PROBE = 5;

/** Number of Int32 slots. */
export const SLOTS = 6;
/** Size of the buffer in bytes. */
export const BYTE_LENGTH: number = SLOTS * Int32Array.BYTES_PER_ELEMENT;

/** Bit of STATE: some thread may be sleeping on STATE. */
export const WAITING = 0x4000_0000;
/** Bits of STATE that hold the number of free permits. */
export const COUNT_MASK = 0x3fff_ffff;
/** The most free permits a semaphore can hold (2³⁰−1). */
export const MAX_COUNT = COUNT_MASK;
/** Marks a buffer as ours, layout version 3 ("FPS3"). */
export const MAGIC = 0x4650_5333;

/**
 * The key of the mark every copy of this package (another version or URL)
 * puts on its Semaphores and Locks (`"Semaphore"` or `"Lock"`), so a value
 * holding one of another copy's crosses threads working, as this copy's do;
 * `from()` checks the memory's TAG on arrival.
 */
export const SHARED_MARK: unique symbol = Symbol.for("@fastpool/fastpool/shared") as never;

/** Buffers allocated by this thread (each thread has its own set). */
const born = new WeakSet<SharedArrayBuffer>();

/** Allocates and initialises the memory of a semaphore. */
export function allocate(value: number, limit: number): SharedArrayBuffer {
  const buffer = sharedOrPlain(BYTE_LENGTH);
  const slots = new Int32Array(buffer);
  slots[STATE] = value;
  slots[LIMIT] = limit;
  slots[TAG] = MAGIC;
  born.add(buffer);
  return buffer;
}

/** Whether the memory `slots` view has an id: it was shared. */
export function hasMemoryId(slots: Int32Array): boolean {
  return slots[ID_LO] !== 0;
}

/**
 * The id of the memory `slots` view (the same in every clone of it), given
 * one the first time it is shared: call before the buffer leaves the thread.
 */
export function memoryId(slots: Int32Array): number {
  if (!hasMemoryId(slots)) {
    const id = crypto.getRandomValues(new Int32Array(2));
    slots[ID_LO] = id[0]! | 1; // never 0: 0 is "no id yet"
    slots[ID_HI] = id[1]! & 0x1f_ffff;
  }
  return slots[ID_HI]! * 2 ** 32 + (slots[ID_LO]! >>> 0);
}

/**
 * Probes `sameMemory` makes before it gives up on other threads' probes and
 * answers `false`. With another thread writing the probe word without a
 * pause, 85 % of probes were overwritten on a loaded two-core machine: 64
 * all missed 24 times in 1,000,000 calls (a memory taken for a copy); 1,024
 * all miss about once in 10^72. Most calls take one.
 */
const PROBES = 1024;

/**
 * Whether views `a` and `b` (same id) are one memory, not a memory and a
 * byte copy of it: a nonce written through one must read back through the
 * other. If it does not, but still reads back through `a`, no other thread
 * wrote in between, so `b` is other memory; if another thread's probe
 * overwrote it, the answer is unknown and it probes again.
 */
export function sameMemory(a: Int32Array, b: Int32Array): boolean {
  if (a.buffer === b.buffer) return true;
  for (let probe = 0; probe < PROBES; probe++) {
    const nonce = (Math.random() * 0x7fff_ffff) | 1;
    Atomics.store(a, PROBE, nonce);
    if (Atomics.load(b, PROBE) === nonce) return true;
    if (Atomics.load(a, PROBE) === nonce) return false;
  }
  return false; // as for a copy: the caller keeps a view of its own
}

/** Whether this thread allocated `buffer` (it came from no other thread). */
export function bornHere(buffer: SharedArrayBuffer): boolean {
  return born.has(buffer);
}

/**
 * Returns why `buffer` is not a semaphore's memory, or `undefined` if it
 * is. Reads only the write-once slots.
 */
export function refuse(buffer: unknown): string | undefined {
  if (!hasSharedMemory || !(buffer instanceof SharedArrayBuffer)) {
    return `must be a SharedArrayBuffer, received ${describe(buffer)}`;
  }
  if (buffer.byteLength !== BYTE_LENGTH) {
    return `must be ${BYTE_LENGTH} bytes long, received ${buffer.byteLength}`;
  }
  if (new Int32Array(buffer)[TAG] !== MAGIC) {
    return "is not the memory of a semaphore or lock";
  }
  return undefined;
}

/** Whether `buffer` (already accepted by refuse()) is a Lock's memory. */
export function isLockMemory(buffer: SharedArrayBuffer): boolean {
  return new Int32Array(buffer)[LIMIT] === 1;
}
