/**
 * The producer's books: batches of items (one per `map`, or per run of
 * `submit`s of one task and destination) and the chunks cut from them, one
 * BullMQ job each; and the checks of what a submit may queue.
 *
 * @module
 */

import type { ExecOptions } from "../pool/types.ts";
import { checkOptionsObject, checkSignal, checkTimeout, describe, invalid } from "../_checks.ts";
import { checkOptionNames } from "../_option_names.ts";
import { EXEC_OPTION_NAMES, readExecOptions } from "../pool/exec_checks.ts";
import { ItemSizes } from "./_sizes.ts";
import type { ChunkData } from "./_wire.ts";
import { queueMicrotask } from "../_event_loop.ts";

/** Where a batch's results go. */
export const Sink = { DONE: 0, CALLBACK: 1, DISCARD: 2, PROMISES: 3 } as const;

export interface Deferred {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** Items of one task with one destination and consecutive ids. */
export class Batch {
  /** Items cut into chunks so far (the rest wait in the backlog). */
  cut = 0;
  /** Indices of items that ended early (cancelled); their results are dropped. */
  ended: Set<number> | null = null;
  constructor(
    readonly task: string,
    readonly one: boolean,
    readonly items: unknown[],
    readonly firstId: number,
    readonly sink: number,
    readonly callback: ((value: unknown, id: number) => void) | null,
    readonly deferreds: Deferred[] | null,
    readonly timeout: number,
    /** What its items write as JSON: a chunk's size budget. */
    readonly sizes: ItemSizes = new ItemSizes(),
  ) {}
}

/** A chunk's state: being added, in Redis, or taken by a node. */
export const State = { ADDING: 0, SENT: 1, ACTIVE: 2 } as const;

/** Items `offset` … `offset + count - 1` of a batch: one BullMQ job. */
export interface Chunk {
  readonly key: string;
  readonly batch: Batch;
  readonly offset: number;
  readonly count: number;
  /** About how many characters its items write as JSON (see `ItemSizes`). */
  readonly chars: number;
  readonly data: ChunkData;
  state: number;
  /** Sweeps that found it missing from Redis in a row. */
  missing: number;
  /**
   * When (ms, real time) a sweep first found it taken by a node that no
   * longer holds its lock, while Redis refused writes (see `Delivery`).
   */
  stuckSince?: number | undefined;
  /** Its items counted in `queued` (those not cancelled, until a node takes it). */
  queued: number;
  /** Being taken out of Redis to be sent again without its cancelled items. */
  splitting?: boolean;
}

/** Calls a user's callback; a throw is reported as uncaught, not let into the pool. */
export function report(
  callback: (value: unknown, id: number) => void,
  value: unknown,
  id: number,
): void {
  try {
    callback(value, id);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * Checks a task: only export names cross machines.
 *
 * @throws {TypeError} For an inline function (a queue must never carry code) or anything not a name.
 */
export function checkTask(task: unknown, what: string): void {
  if (typeof task === "string" && task !== "") return;
  if (typeof task === "function") {
    throw new TypeError(
      `Cannot ${what}: a ClusterPool runs only named tasks (exports of the nodes' module), not inline functions: a queue must never carry code, and a function's source cannot be trusted on another machine`,
    );
  }
  throw new TypeError(
    `Cannot ${what}: "task" must be the name of an export of the nodes' module, received ${
      describe(task)
    }`,
  );
}

/** Where results go: a sink, and its callback for `Sink.CALLBACK`. */
export type DoneSink = [number, ((value: unknown, id: number) => void) | null];

/**
 * `done` of `submitDone`/`map`: a callback, `true` (`byDefault`: the pool's
 * `doneCallback` if it has one, else `done`) or `false` (discarded).
 */
export function checkDone(done: unknown, byDefault: DoneSink): DoneSink {
  if (done === true) return byDefault;
  if (done === false) return [Sink.DISCARD, null];
  if (typeof done === "function") {
    return [Sink.CALLBACK, done as (value: unknown, id: number) => void];
  }
  throw invalid(TypeError, "submit job", "done", "a function or a boolean", done);
}

/** Checks `exec()`'s arguments and options; returns the options read once (a getter runs once). */
export function checkExec<O extends ExecOptions>(args: unknown, given: O): O {
  if (!Array.isArray(args)) {
    throw new TypeError(`Cannot run job: "args" must be an array, received ${describe(args)}`);
  }
  checkOptionsObject(given, "run job");
  // Pool's names: a typo is named as on Pool, and what does not apply says so.
  checkOptionNames(given, EXEC_OPTION_NAMES, "run job");
  const options = readExecOptions(given);
  const { signal, timeout, transfer, first, priority, onProgress } = options;
  if (signal !== undefined) checkSignal(signal, "signal", "run job");
  if (transfer !== undefined && transfer.length !== 0) {
    throw new TypeError(
      `Cannot run job: "transfer" does not apply to a ClusterPool: values cross machines as JSON`,
    );
  }
  if (first) {
    throw new TypeError(`Cannot run job: "first" does not apply to a ClusterPool`);
  }
  if (priority !== undefined) {
    throw new TypeError(
      `Cannot run job: "priority" does not apply to a ClusterPool: chunks run in the order nodes take them`,
    );
  }
  if (onProgress !== undefined) {
    throw new TypeError(
      `Cannot run job: "onProgress" does not apply to a ClusterPool: progress does not cross machines`,
    );
  }
  if (timeout !== undefined) checkTimeout(timeout, "timeout", "run job");
  return options;
}
