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
