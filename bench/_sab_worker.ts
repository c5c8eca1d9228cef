/**
 * The SAB-ring floor's worker: claims job indices from the ring, computes
 * `output[i] = add1(input[i])`, publishes how many it finished, spins a
 * little when the ring is empty, then sleeps in `Atomics.wait`.
 *
 * @module
 */

import { add1 } from "./_tasks.ts";
import { CLAIM, Ctl, RING_SIZE, type SabInit, WORKER_SPINS } from "./_sab_layout.ts";

interface Scope {
  onmessage: ((event: MessageEvent<SabInit>) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as Scope;

scope.onmessage = (event) => {
  const init = event.data;
  scope.postMessage("ready");
  loop(
    new Int32Array(init.control),
    new Int32Array(init.ring),
    new Float64Array(init.input),
    new Float64Array(init.output),
  );
};

function loop(ctl: Int32Array, ring: Int32Array, input: Float64Array, output: Float64Array): void {
  const mask = RING_SIZE - 1;
  const claimed = new Int32Array(CLAIM);
  let spins = 0;
  while (Atomics.load(ctl, Ctl.STOP) === 0) {
    const tail = Atomics.load(ctl, Ctl.TAIL);
    const head = Atomics.load(ctl, Ctl.HEAD);
    if (head < tail) {
      const take = Math.min(tail - head, CLAIM);
      // Read the entries before claiming them: the main thread reuses an entry
      // only once HEAD has passed it, so if one was overwritten meanwhile,
      // HEAD moved and the claim below fails.
      for (let k = 0; k < take; k++) claimed[k] = ring[(head + k) & mask]!;
      if (Atomics.compareExchange(ctl, Ctl.HEAD, head, head + take) !== head) continue;
      for (let k = 0; k < take; k++) {
        const index = claimed[k]!;
        output[index] = add1(input[index]!);
      }
      // The add publishes the outputs above (sequentially consistent atomics).
      const done = Atomics.add(ctl, Ctl.DONE, take) + take;
      const wakeAt = Atomics.load(ctl, Ctl.WAKE_AT);
      if (
        wakeAt !== 0 && done >= wakeAt &&
        Atomics.compareExchange(ctl, Ctl.WAKE_AT, wakeAt, 0) === wakeAt
      ) {
        Atomics.add(ctl, Ctl.SIGNAL, 1);
        Atomics.notify(ctl, Ctl.SIGNAL);
      }
      spins = 0;
      continue;
    }
    if (++spins < WORKER_SPINS) continue;
    spins = 0;
    // Announce the sleep, then re-check TAIL: the main thread stores TAIL and
    // then reads SLEEPERS, so one of the two sees the other's write.
    Atomics.add(ctl, Ctl.SLEEPERS, 1);
    if (Atomics.load(ctl, Ctl.TAIL) === tail && Atomics.load(ctl, Ctl.STOP) === 0) {
      Atomics.wait(ctl, Ctl.TAIL, tail);
    }
    Atomics.sub(ctl, Ctl.SLEEPERS, 1);
  }
}
