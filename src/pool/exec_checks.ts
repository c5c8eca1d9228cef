/**
 * The checks of `exec()`'s and `shutdown()`'s arguments, each failure a
 * `TypeError` or `RangeError` naming what was wrong, and the reason a
 * cancelled job's promise rejects with.
 *
 * @module
 */

import { checkTimeout, describe } from "../_checks.ts";
import { checkOptionNames } from "../_option_names.ts";
import { checkStreamMoves, isTransferable } from "../protocol/codec.ts";
import type { ExecOptions, ShutdownOptions } from "./types.ts";

/** The options `exec()` takes. */
export const EXEC_OPTION_NAMES = [
  "signal",
  "onProgress",
  "transfer",
  "timeout",
  "first",
  "priority",
] as const satisfies readonly (
  keyof ExecOptions
)[];

/** The options `shutdown()` takes. */
export const SHUTDOWN_OPTION_NAMES = ["soon"] as const satisfies readonly (keyof ShutdownOptions)[];

/** Checks a job's priority: a finite number. */
export function checkPriority(priority: unknown, action: string): void {
  if (typeof priority !== "number") {
    throw new TypeError(
      `Cannot ${action}: "priority" must be a number, received ${describe(priority)}`,
    );
  }
  if (!Number.isFinite(priority)) {
    throw new RangeError(`Cannot ${action}: "priority" must be finite, received ${priority}`);
  }
}

/** What is wrong with `exec()`'s arguments, if anything. */
export function checkExec(args: unknown, options: ExecOptions): Error | undefined {
  if (!Array.isArray(args)) {
    return new TypeError(`Cannot run job: "args" must be an array, received ${describe(args)}`);
  }
  if (typeof options !== "object" || options === null) {
    return new TypeError(
      `Cannot run job: "options" must be an object, received ${describe(options)}`,
    );
  }
  try {
    checkOptionNames(options, EXEC_OPTION_NAMES, "run job");
  } catch (error) {
    return error as Error;
  }
  const { signal, timeout, transfer, onProgress, first } = options;
  if (first !== undefined && typeof first !== "boolean") {
    return new TypeError(`Cannot run job: "first" must be a boolean, received ${describe(first)}`);
  }
  if (onProgress !== undefined && typeof onProgress !== "function") {
    return new TypeError(
      `Cannot run job: "onProgress" must be a function, received ${describe(onProgress)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return new TypeError(
      `Cannot run job: "signal" must be an AbortSignal, received ${describe(signal)}`,
    );
  }
  if (
    transfer !== undefined &&
    (!Array.isArray(transfer) || !transfer.every(isTransferable))
  ) {
    return new TypeError(
      `Cannot run job: "transfer" must be an array of transferable objects, received ${
        describe(transfer)
      }`,
    );
  }
  try {
    for (const item of transfer ?? []) checkStreamMoves(item, "run job");
  } catch (error) {
    return error as Error;
  }
  try {
    if (timeout !== undefined) checkTimeout(timeout, "timeout", "run job");
    if (options.priority !== undefined) checkPriority(options.priority, "run job");
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

/** The reason of a job cancelled before it ran: an `AbortError`. */
export function cancellation(): DOMException {
  return new DOMException("Job was cancelled", "AbortError");
}
