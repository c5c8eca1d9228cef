/**
 * Where the worker entry is: next to this file, wherever the package was
 * loaded from (a checkout, https as Deno loads a JSR package, or a copy under
 * `node_modules`, as `.ts` or as transpiled `.js`).
 *
 * @module
 */

import { describe } from "../_checks.ts";

/** Set by {@linkcode setDefaultWorkerUrl}. */
let chosen: URL | undefined;

/**
 * Sets the worker entry of every pool made from now on without a
 * `workerUrl` of its own: `new Pool()`, and the pools made for you, which
 * take no options (`go()`'s default pool, `spawn()`, `./threadpool`'s
 * `ThreadPool`, a `./cluster` node's). For a bundle: build
 * `src/worker/runtime` as an entry point of its own and give its URL here
 * (see "Bundling with `bun build`" in `src/pool/README.md`). A pool already
 * made keeps its entry (`shutdownDefaultPool()` lets `go()` make a new one).
 *
 * @param url An absolute URL, or `undefined` for the default again (the
 * entry next to the package).
 * @throws {TypeError} If `url` is not an absolute URL.
 *
 * @example Usage
 * ```ts
 * import { Pool, setDefaultWorkerUrl } from "@fastpool/fastpool";
 * import assert from "node:assert/strict";
 *
 * // Here, the package's own entry: a bundle gives the one it built beside itself.
 * setDefaultWorkerUrl(new URL("./src/worker/runtime.ts", import.meta.resolve("@fastpool/fastpool")));
 * try {
 *   await using pool = new Pool({ maxChildren: 1 });
 *   assert.equal(await pool.run((n: number) => n + 1, 41), 42);
 * } finally {
 *   setDefaultWorkerUrl(undefined);
 * }
 * assert.throws(() => setDefaultWorkerUrl("./runtime.js"), TypeError);
 * ```
 */
export function setDefaultWorkerUrl(url: string | URL | undefined): void {
  if (url === undefined) {
    chosen = undefined;
    return;
  }
  try {
    if (typeof url !== "string" && !(url instanceof URL)) throw new TypeError();
    chosen = new URL(url);
  } catch {
    throw new TypeError(
      `Cannot set default worker URL: "url" must be an absolute URL (e.g. new URL("./runtime.js", import.meta.url)) or undefined, received ${
        typeof url === "string" ? JSON.stringify(url) : describe(url)
      }`,
    );
  }
}

/**
 * The worker entry of a pool given none: the one {@linkcode setDefaultWorkerUrl}
 * set, else `src/worker/runtime` next to this module, with this module's extension.
 */
export function defaultWorkerUrl(): URL {
  if (chosen !== undefined) return chosen;
  const here = new URL(import.meta.url);
  const extension = /\.(m?js|ts)$/.exec(here.pathname)?.[0] ?? ".ts";
  return new URL(`../worker/runtime${extension}`, here);
}

/**
 * Never called: it exists for its string literal. The URL above is built at
 * run time, so no tool that reads imports sees the worker entry; a dynamic
 * `import()` of a literal does count, without running anything. With it, the
 * worker entry and its imports are in the module graph of `mod.ts`: `deno
 * cache` and `deno install --entrypoint` fetch them (so a later run offline,
 * or with `--cached-only`, can start workers), `deno compile` embeds them,
 * and `deno check` / `deno publish` see them. Calling it would start the
 * worker's message loop on the calling thread, hence no caller. Bun resolves
 * a dynamic `import()` only when it runs (and `bun build` drops this unused
 * function), so on Bun nothing changes.
 *
 * `pool` still never imports `worker` in the sense `tests/meta_test.ts`
 * checks (static imports): no worker code runs in, or is loaded by, the main
 * thread. `tests/loading_test.ts` checks that `defaultWorkerUrl()` is in the
 * graph, so this literal and that URL cannot drift apart.
 */
function _workerEntryInModuleGraph(): Promise<unknown> {
  // `./worker` too, which task modules import (`jobContext`): fetched for them.
  return Promise.all([import("../worker/runtime.ts"), import("../worker/mod.ts")]);
}
