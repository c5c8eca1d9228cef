/**
 * The worker's own ground: its global scope, whether this module runs in a
 * worker at all, the pool's copy of `postMessage`, and what a worker reports
 * about itself: an error no job caught, ending itself, its name.
 *
 * @module
 */

import type { FromWorker, ToWorker, WorkerNotice } from "../protocol/messages.ts";
import { describeThrown, encodeError } from "../protocol/codec.ts";
import { toWire } from "../sync/wire.ts";

/** The parts of a worker's global scope the runtime uses. */
export interface WorkerScope {
  postMessage(message: FromWorker | WorkerNotice, transfer?: Transferable[]): void;
  addEventListener(
    type: "message",
    listener: (event: MessageEvent<ToWorker>) => void,
    options?: AddEventListenerOptions,
  ): void;
  addEventListener(
    type: "messageerror",
    listener: (event: MessageEvent) => void,
    options?: AddEventListenerOptions,
  ): void;
  addEventListener(type: "error" | "unhandledrejection", listener: (event: Event) => void): void;
  close?: () => void;
}

/** This thread's global scope, as a worker's. */
export const scope = globalThis as unknown as WorkerScope;
/**
 * Whether this module runs in a worker. Imported elsewhere (for
 * `jobContext`, or by a doc test) it must not take over the thread's error
 * events or its `Deno.exit`. Bun has no `WorkerGlobalScope`; it says
 * `Bun.isMainThread`.
 */
export const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope ===
    "function"
  ? globalThis instanceof
    (globalThis as unknown as { WorkerGlobalScope: abstract new () => unknown }).WorkerGlobalScope
  : (globalThis as { Bun?: { isMainThread?: boolean } }).Bun?.isMainThread === false;
/**
 * Whether this copy of the runtime runs this worker: the first copy loaded
 * in a worker does (the pool's, its entry). Another copy a task module
 * loads (another version or URL of the package, imported directly) stays
 * inert: a second message listener would keep every message it saw before an
 * `init` that never comes, and its `jobContext()` resolver would replace the
 * running one.
 */
export const runsThisWorker = inWorker && claimThisWorker();

function claimThisWorker(): boolean {
  const mark = Symbol.for("@fastpool/fastpool/runtime");
  if ((globalThis as { [mark]?: true })[mark] === true) return false;
  Object.defineProperty(globalThis, mark, { value: true });
  return true;
}
/**
 * The pool's own ends of the worker's messaging, taken before any task runs.
 * A task may call or replace `self.postMessage`, set `self.onmessage` or add
 * message listeners of its own: the pool listens with `addEventListener`, in
 * the capture phase and before any task runs, so a task's `onmessage` is one
 * more listener and never replaces the pool's, and no listener of a task runs
 * before it (Bun runs capture listeners first: one that stopped the event's
 * propagation cut the worker off from the pool). It posts through this copy,
 * adding its key (`post`). What a task posts reaches the pool's slot without
 * the key, whatever its shape, and is ignored and reported.
 */
const postMessage: WorkerScope["postMessage"] = runsThisWorker
  ? scope.postMessage.bind(scope)
  : () => {};
/** The key from the pool's `init` (0 until then): every message of ours carries it. */
let key = 0;

/** Takes the key the pool's `init` gave, which `post` adds to every message. */
export function setPostKey(n: number): void {
  key = n;
}

/** Posts a message of the protocol to the pool, with this worker's key. */
export const post: WorkerScope["postMessage"] = (message, transfer) => {
  (message as { key?: number }).key = key;
  postMessage(message, transfer);
};
/** The worker's own `close` (Deno), before `reportOwnExit` wraps it. */
const closeSelf = typeof scope.close === "function" ? scope.close.bind(scope) : undefined;

/**
 * The worker is going: an error escaped every job (see `onUncaught`), or a
 * task ended the worker itself (see `reportOwnExit`). It starts no more jobs
 * and says nothing more.
 */
let crashed = false;

/**
 * Whether the worker is going (an error escaped every job, or a task ended
 * it): it starts no more jobs, and answers nothing more.
 */
export function isCrashed(): boolean {
  return crashed;
}

/**
 * In a worker: reports errors no job caught, and the worker ending itself
 * (`beforeOwnExit` first sends the answers of the jobs it finished, so they
 * are not run again).
 */
export function watchOwnEnd(beforeOwnExit: () => void): void {
  reportOwnExit(beforeOwnExit);
  scope.addEventListener("error", (event) => {
    const { error, message } = event as ErrorEvent;
    onUncaught(event, error ?? new Error(message));
  });
  scope.addEventListener("unhandledrejection", (event) => {
    onUncaught(event, (event as PromiseRejectionEvent).reason);
  });
}

/**
 * An error no job caught (thrown from a timer, a promise nobody awaited)
 * leaves the worker in a state nobody knows, so the worker reports it and
 * stops; the pool fails the running job with `WorkerCrashedError` (its
 * `cause` this error) and replaces the worker. The worker reports it itself,
 * as a message, and cancels the event, because Deno prints "error: Uncaught
 * (in worker …)" to stderr for every error a worker leaves unhandled, even
 * one the pool handles on its side (checked on Deno 2.9.6; Bun prints
 * nothing, and sends the pool its error event too, which then finds the
 * worker gone).
 */
function onUncaught(event: Event, error: unknown): void {
  if (crashed) return event.preventDefault();
  crashed = true;
  try {
    post({
      type: "uncaught",
      error: encodeError(error, toWire, "the error left uncaught in the worker"),
    });
  } catch {
    try {
      // A thrown value that cannot be cloned: its description then.
      post({ type: "uncaught", error: encodeError(new Error(describeThrown(error))) });
    } catch {
      // A task broke what posting needs (a setter on Object.prototype, the
      // array iterator): the error event is left to the runtime, which hands
      // it to the pool as the worker's.
      return;
    }
  }
  event.preventDefault();
  closeSelf?.(); // Deno; on Bun the pool terminates the worker
}

/**
 * Deno gives the pool no event when a worker ends itself (`self.close()`,
 * `Deno.exit()`): say so first, so the pool can fail or requeue its jobs,
 * after `beforeOwnExit` has sent the answers of the jobs already finished.
 * From then on the worker starts no job (see `isCrashed`): a browser's
 * `self.close()` lets the running script go on, which would otherwise start
 * the rest of its batch and have the pool blame the last one started.
 */
function reportOwnExit(beforeOwnExit: () => void): void {
  const global = globalThis as {
    close?: () => void;
    Deno?: { exit?: (code?: number) => never };
    process?: { exit?: (code?: number) => never };
  };
  const wrap = <F extends (...args: never[]) => unknown>(
    fn: F,
    describe: (...args: Parameters<F>) => string,
  ): F =>
    ((...args: Parameters<F>) => {
      if (!crashed) {
        try {
          beforeOwnExit();
        } catch {
          // Answers that cannot leave: the pool sends their jobs again.
        }
        crashed = true;
        let how: string;
        try {
          how = describe(...args);
        } catch {
          how = "it ended its worker"; // a code that cannot be written (a throwing toString)
        }
        try {
          post({ type: "exit", how });
        } catch {
          // Nothing more can be said.
        }
      }
      // One that refuses its code (Bun's process.exit("abc") throws) leaves the
      // worker said to be going: the pool ends it, and its job fails as crashed.
      return fn(...args);
    }) as F;
  if (typeof global.close === "function") {
    global.close = wrap(global.close, () => "it called self.close()");
  }
  // Not `process` on Deno: its first read loads Deno's Node layer, 11-38 ms a worker (measured),
  // and its `exit` ends in `Deno.exit`, wrapped here.
  const owners = global.Deno
    ? [[global.Deno, "Deno"] as const]
    : [[global.process, "process"] as const];
  for (const [owner, name] of owners) {
    if (!owner || typeof owner.exit !== "function") continue;
    const exit = owner.exit.bind(owner);
    try {
      owner.exit = wrap(exit, (code?: number) => `it called ${name}.exit(${String(code ?? "")})`);
    } catch {
      // Read-only in some versions: then only the pool's timeouts (Deno) or exit event (Bun) notice.
    }
  }
}

/** Sets `self.name` where the runtime did not (Bun ignores the Worker's `name` option). */
export function nameThisWorker(name: string): void {
  if ((globalThis as { name?: unknown }).name !== name) {
    Object.defineProperty(globalThis, "name", { value: name, configurable: true, writable: true });
  }
}
