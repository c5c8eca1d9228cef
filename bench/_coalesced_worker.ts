/**
 * The coalesced baselines' worker: a message is the arguments of many `add1`
 * jobs, either a plain `Array` (cloned both ways) or a `Float64Array`
 * (overwritten with the results and moved back).
 *
 * @module
 */

import { add1 } from "./_tasks.ts";

interface Scope {
  onmessage: ((event: MessageEvent<number[] | Float64Array<ArrayBuffer>>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as Scope;

scope.onmessage = (event) => {
  const values = event.data;
  if (values instanceof Float64Array) {
    for (let i = 0; i < values.length; i++) values[i] = add1(values[i]!);
    scope.postMessage(values, [values.buffer]);
  } else {
    const results = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) results[i] = add1(values[i]!);
    scope.postMessage(results);
  }
};
