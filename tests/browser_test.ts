/**
 * fastpool in a browser (issue 7): the package bundled by esbuild for a page,
 * served from 127.0.0.1 with the headers `SharedArrayBuffer` needs, and run in
 * Debian's headless Chromium, driven by playwright-core. The page
 * (`fixtures/browser_page.ts`) runs a pool job, `map` with `asCompleted()`,
 * a Semaphore released by a worker, and `shutdown()`, and reports what it saw.
 *
 * It runs under both `deno test` and `bun test` (about 1 s each), and is
 * skipped where `/usr/bin/chromium` is missing (`.ci/run` installs it).
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build, stop } from "esbuild";
import { chromium } from "playwright-core";
import { fixture } from "./_util.ts";
import type { BrowserResult } from "./fixtures/browser_page.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Flags for this closed network, as root (no sandbox), with no background traffic. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PAGE_TIMEOUT_MS = 20_000;

const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium package)`;

/** The page, its script and the worker entry, bundled as ES modules, by served path. */
async function bundle(): Promise<Map<string, { type: string; body: Uint8Array }>> {
  const files = new Map<string, { type: string; body: Uint8Array }>();
  files.set("/", {
    type: "text/html; charset=utf-8",
    body: await readFile(fixture("browser_page.html")),
  });
  try {
    const output = await build({
      entryPoints: {
        page: fileURLToPath(fixture("browser_page.ts")),
        runtime: fileURLToPath(new URL("../src/worker/runtime.ts", import.meta.url)),
        tasks: fileURLToPath(fixture("browser_tasks.ts")),
      },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "chrome120",
      outdir: "/bundle",
      write: false,
      logLevel: "silent",
    });
    for (const file of output.outputFiles) {
      const name = file.path.slice(file.path.lastIndexOf("/"));
      files.set(name, { type: "text/javascript; charset=utf-8", body: file.contents });
    }
  } finally {
    // esbuild keeps a child process for later builds; Deno's sanitizers want it gone.
    await stop();
  }
  return files;
}

/** Serves `files` on 127.0.0.1 during `body`, cross-origin isolated unless `isolated` is false. */
async function withServer(
  files: Map<string, { type: string; body: Uint8Array }>,
  body: (base: string, requested: string[]) => Promise<void>,
  isolated = true,
): Promise<void> {
  const requested: string[] = [];
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    requested.push(path);
    const file = files.get(path);
    const headers: Record<string, string> = isolated
      ? {
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
        "cross-origin-resource-policy": "same-origin",
        "cache-control": "no-store",
      }
      : { "cache-control": "no-store" };
    if (file === undefined) {
      response.writeHead(404, { ...headers, "content-type": "text/plain" });
      response.end("not found");
    } else {
      response.writeHead(200, { ...headers, "content-type": file.type });
      response.end(file.body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(`http://127.0.0.1:${port}/`, requested);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Opens `url` in headless Chromium and returns the page's `window.__result`, and its log. */
async function runPage(url: string): Promise<{ result: Partial<BrowserResult>; log: string[] }> {
  const log: string[] = [];
  // playwright-core gives each launch a fresh, temporary --user-data-dir.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: PAGE_TIMEOUT_MS,
  });
  try {
    const page = await browser.newPage();
    page.on("console", (message) => log.push(`console.${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => log.push(`pageerror: ${error.stack ?? error.message}`));
    page.on("requestfailed", (request) => {
      log.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`);
    });
    await page.goto(url, { timeout: PAGE_TIMEOUT_MS });
    await page.waitForFunction(
      () => (globalThis as { __result?: unknown }).__result !== undefined,
      undefined,
      { timeout: PAGE_TIMEOUT_MS },
    ).catch((error: Error) => {
      throw new Error(`The page reported no result: ${error.message}\n${log.join("\n")}`);
    });
    const result = await page.evaluate(() =>
      (globalThis as { __result?: Partial<BrowserResult> }).__result!
    );
    return { result, log };
  } finally {
    await browser.close();
  }
}

/**
 * Bundles and serves the page (cross-origin isolated or not), runs it, and
 * checks what every page must show: no error and nothing logged, a job, a
 * `map` through `asCompleted()`, 500 sequential runs, and a clean shutdown.
 * Returns the result, a context for messages, and the paths requested.
 */
async function openPage(
  isolated: boolean,
): Promise<{ result: Partial<BrowserResult>; context: string; requested: string[] }> {
  const files = await bundle();
  assert.deepEqual([...files.keys()].sort(), ["/", "/page.js", "/runtime.js", "/tasks.js"]);
  let seen!: { result: Partial<BrowserResult>; context: string; requested: string[] };
  await withServer(files, async (base, requested) => {
    const { result, log } = await runPage(base);
    const context = `result: ${JSON.stringify(result, null, 2)}\nlog:\n${log.join("\n")}`;
    assert.equal(result.error, undefined, context);
    assert.deepEqual(
      log.filter((line) =>
        !line.startsWith("console.log") && !/^requestfailed: \S+\/missing\.js /.test(line)
      ),
      [],
      context,
    );
    assert.equal(result.crossOriginIsolated, isolated, context);
    assert.equal(result.run, 5, context);
    assert.deepEqual(
      result.worker,
      { name: "ThreadPool-1", crossOriginIsolated: isolated },
      context,
    );
    assert.equal(result.mapped, 5, context);
    assert.deepEqual(
      result.completed,
      { results: [1, 4, 16, 25], failures: ["RangeError: refused 3"] },
      context,
    );
    assert.equal(result.lane?.enabled, isolated, context);
    assert.equal(result.lane?.result, 500, context);
    // Before: Chromium named fastpool's own data: wrapper as the module that failed.
    assert.match(
      result.missingModule ?? "",
      /^Cannot import task module http:\/\/127\.0\.0\.1:\d+\/missing\.js: /,
      context,
    );
    assert.ok(!result.missingModule?.includes("data:"), context);
    assert.equal(result.crashedBefore, 0, context);
    // Before: the worker ran items after the one that closed it, and the pool blamed another.
    assert.deepEqual(
      result.selfClose,
      { results: [10, 20, 40, 50, 60], failures: ["WorkerCrashedError"] },
      context,
    );
    assert.equal(result.shutdown, true, context);
    assert.equal(result.alive, 0, context);
    seen = { result, context, requested: [...requested] };
  }, isolated);
  return seen;
}

describe("browser", () => {
  it(
    "Pool in headless Chromium runs run(), map() with asCompleted(), a shared Semaphore and shutdown()",
    { skip, timeout: 3 * PAGE_TIMEOUT_MS },
    async () => {
      const { result, context, requested } = await openPage(true);
      assert.deepEqual(
        result.semaphore,
        { acquired: true, job: "released", valueAfter: 0 },
        context,
      );
      assert.ok(
        (result.lane?.jobs ?? 0) > 0,
        `some of 500 sequential runs took the shared lane: ${context}`,
      );
      assert.ok(requested.includes("/runtime.js"), `the worker entry was loaded: ${requested}`);
      assert.deepEqual(result.madeInWorker, ["Semaphore 2", `{"a":["Lock"]}`], context);
    },
  );

  it(
    "Pool in a page that is not cross-origin isolated works on messages alone and says so",
    { skip, timeout: 3 * PAGE_TIMEOUT_MS },
    async () => {
      const { result, context } = await openPage(false);
      assert.deepEqual(
        result.semaphore,
        {
          acquired: false,
          job:
            "TypeError: Cannot share a Semaphore or Lock with another thread: SharedArrayBuffer is not available here (a browser page must be cross-origin isolated)",
          valueAfter: 0,
        },
        context,
      );
      assert.equal(result.lane?.jobs, 0, context);
      // Made in a worker that has no shared memory either: before, each ended its worker.
      assert.equal(result.madeInWorker?.length, 2, context);
      assert.match(result.madeInWorker![0]!, /Cannot send a Semaphore to the pool: /, context);
      assert.match(
        result.madeInWorker![1]!,
        /Cannot send a value holding a Semaphore or Lock to the pool: /,
        context,
      );
    },
  );
});
