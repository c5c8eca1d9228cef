/**
 * Imports a task module in a worker, without letting `import()` treat its
 * namespace as a promise.
 *
 * A module that exports `then` has a thenable namespace: `await import(url)`
 * (and any promise resolved with the namespace) calls that export as
 * `then(resolve, reject)`, and waits for it forever if it never calls them.
 * So the module is imported by a one-line wrapper module that re-exports its
 * namespace as `ns`; the wrapper's own namespace is not a thenable, and `ns`
 * is read from it without any promise seeing it:
 *
 * ```
 *  data:…  import * as ns from "<url>"; export { ns };
 *  await import("data:…")  →  { ns }   (never awaited itself)
 * ```
 *
 * A module that exports `then` is then refused with an error naming it,
 * rather than used: anything else that imports it would hang.
 *
 * @module
 */

/** A module's namespace, held where no promise adopts it. */
export interface Loaded {
  /** The namespace. Never return it from an async function or resolve a promise with it. */
  readonly ns: Record<string, unknown>;
  /** The module's URL, for messages. */
  readonly url: string;
}

/**
 * `import()` of a URL known only at run time. Written through an indirect
 * eval so that `deno publish` does not warn that it cannot analyze it (there
 * is nothing to analyze: the URLs are absolute and come from the pool).
 */
// deno-lint-ignore no-eval
const importModule = (0, eval)("(url) => import(url)") as (url: string) => Promise<unknown>;

/**
 * Imports the module at `url` (absolute).
 *
 * @throws "Cannot import task module <url>: <why>", with the original as
 * `cause`, if it cannot be imported or exports `then`: a `SyntaxError` or
 * `TypeError` if the original was one, else an `Error`.
 */
export async function loadModule(url: string): Promise<Loaded> {
  // A base64 `data:` URL: Deno refuses `blob:` imports in a module under
  // node_modules, and Bun reads a percent-encoded `data:` module as a file
  // whose default export is its text. `url` is an href: ASCII, safe for btoa.
  const wrapper = `data:text/javascript;base64,${
    btoa(`import * as ns from ${JSON.stringify(url)};\nexport { ns };\n`)
  }`;
  let loaded: Loaded;
  try {
    const { ns } = await importModule(wrapper) as { ns: Record<string, unknown> };
    loaded = { ns, url };
  } catch (error) {
    throw importError(url, error, wrapper);
  }
  if (typeof loaded.ns.then === "function") {
    throw new TypeError(
      `Cannot import task module ${url}: it exports "then", which makes the module look like a promise to import(), so importing it would call that export and wait for it; rename the export`,
    );
  }
  return loaded;
}

/** The error of a failed import: what was imported, and why it failed, in its message. */
function importError(url: string, error: unknown, wrapper: string): Error {
  let why: string;
  try {
    why = error instanceof Error || (typeof error === "object" && error !== null)
      ? String((error as Error).message)
      : String(error);
  } catch {
    why = "it threw a value that cannot be read";
  }
  // The runtime may name the wrapper as the importer ("imported from data:…",
  // "at data:…:1:21"): that is ours, not the user's, so it is left out. A
  // browser names it as what failed ("Failed to fetch dynamically imported
  // module: data:…"): the user's module, then.
  why = why.replace(ANSI, "")
    .split("\n")
    .filter((line) => !line.includes(wrapper) || !/^\s*at /.test(line))
    .join("\n")
    .replaceAll(` imported from ${wrapper}`, "")
    .replaceAll(wrapper, () => url) // a function: "$&" in a URL is no pattern
    .trimEnd();
  let Class: ErrorConstructor = Error;
  try {
    if (error instanceof SyntaxError) Class = SyntaxError;
    else if (error instanceof TypeError) Class = TypeError;
  } catch {
    // A Proxy with a throwing trap: a plain Error.
  }
  return new Class(`Cannot import task module ${url}: ${why}`, { cause: error });
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
