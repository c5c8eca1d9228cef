/**
 * Where the worker entry is: next to this file, wherever the package was
 * loaded from (a checkout, https as Deno loads a JSR package, or a copy under
 * `node_modules`, as `.ts` or as transpiled `.js`).
 *
 * @module
 */

/** The URL of `src/worker/runtime` next to this module, with this module's extension. */
export function defaultWorkerUrl(): URL {
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
  return import("../worker/runtime.ts");
}
