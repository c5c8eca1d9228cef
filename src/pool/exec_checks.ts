/**
 * The checks of `exec()`'s and `shutdown()`'s arguments, each failure a
 * `TypeError` or `RangeError` naming what was wrong, and the reason a
 * cancelled job's promise rejects with.
 *
 * @module
 */

import {
  checkOptionsObject,
  checkSignal,
  checkTimeout,
  describe,
  thrownMessage,
} from "../_checks.ts";
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

/**
 * `exec()`'s options read once each, so that its checks and its job see the
 * same values (a getter runs once); a getter that throws is named.
 */
export function readExecOptions<O extends ExecOptions>(options: O): O {
  const read: Record<string, unknown> = {};
  for (const name of EXEC_OPTION_NAMES) {
    try {
      read[name] = options[name];
    } catch (error) {
      throw new TypeError(
        `Cannot run job: option "${name}" could not be read (${thrownMessage(error)})`,
        { cause: error },
      );
    }
  }
  return read as O;
}

/**
 * Checks `exec()`'s arguments: its options read once (`readExecOptions`),
 * or what was wrong with them.
 */
export function checkExec(args: unknown, given: ExecOptions): ExecOptions | Error {
  if (!Array.isArray(args)) {
    return new TypeError(`Cannot run job: "args" must be an array, received ${describe(args)}`);
  }
  let options: ExecOptions;
  try {
    checkOptionsObject(given, "run job");
    checkOptionNames(given, EXEC_OPTION_NAMES, "run job");
    options = readExecOptions(given);
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
  try {
    if (signal !== undefined) checkSignal(signal, "signal", "run job");
  } catch (error) {
    return error as Error;
  }
  if (transfer !== undefined) {
    if (!Array.isArray(transfer)) {
      return new TypeError(
        `Cannot run job: "transfer" must be an array of transferable objects, received ${
          describe(transfer)
        }`,
      );
    }
    const bad = transfer.findIndex((item) => !isTransferable(item));
    const detached = transfer.findIndex((item) =>
      item instanceof ArrayBuffer && (item as { detached?: boolean }).detached === true
    );
    if (bad === -1 && detached !== -1) {
      return new TypeError(
        `Cannot run job: "transfer[${detached}]" is an ArrayBuffer already moved (detached)`,
      );
    }
    if (bad !== -1) {
      const item: unknown = transfer[bad];
      return new TypeError(
        `Cannot run job: "transfer[${bad}]" must be an ArrayBuffer, MessagePort or stream, received ${
          describe(item)
        }${
          ArrayBuffer.isView(item)
            ? ": list its .buffer (or mark the argument with transfer())"
            : ""
        }`,
      );
    }
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
  return options;
}

/** The reason of a job cancelled before it ran: an `AbortError`. */
export function cancellation(): DOMException {
  return new DOMException("Job was cancelled", "AbortError");
}
