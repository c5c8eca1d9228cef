/**
 * Tasks for the cluster tests that fail when the test says so: a file the
 * test creates is the gate, so that the test decides what happens on the
 * producer before an item fails on its node, without a race against a timer.
 *
 * @module
 */

import { appendFileSync, existsSync } from "node:fs";

/** How often a gated item looks for its gate. */
const LOOK_MS = 10;

/**
 * Appends `label` and a newline to `file` (each run, seen from outside),
 * then fails once the file `gate` exists.
 */
export async function markThenFailAtGate(
  file: string,
  label: string,
  gate: string,
): Promise<never> {
  appendFileSync(file, `${label}\n`);
  while (!existsSync(gate)) await new Promise((resolve) => setTimeout(resolve, LOOK_MS));
  throw new Error(`${label} failed`);
}
