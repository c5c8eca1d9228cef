/**
 * A node on the command line:
 *
 * ```sh
 * deno run -A jsr:@fastpool/fastpool/cluster/node --redis redis://10.0.0.5:6379 --queue tasks --module ./tasks.ts
 * deno run -A <checkout>/src/cluster/node.ts --redis … --queue … --module …
 * bun <checkout>/src/cluster/node.ts --redis … --queue … --module …
 * ```
 *
 * Options: `--redis URL` (default `$REDIS_URL`, else `redis://127.0.0.1:6379`),
 * `--queue NAME`, `--module PATH_OR_URL` (a path is relative to the current
 * directory), `--max-children N`, `--concurrency N`, `--lock-duration MS`,
 * `--stalled-interval MS`, `--max-stalled-count N`. It prints one line once ready, and on SIGINT or
 * SIGTERM stops taking chunks, finishes those in hand and exits 0; a second
 * signal exits 1 at once, leaving the chunks in hand to other nodes (once
 * their locks expire).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a command-line program
import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { serve, type ServeOptions } from "./serve.ts";

const USAGE =
  "usage: node.ts --queue NAME --module ./tasks.ts [--redis URL] [--max-children N] [--concurrency N] [--lock-duration MS] [--stalled-interval MS] [--max-stalled-count N]";

const NUMBERS: Record<string, keyof ServeOptions> = {
  "--max-children": "maxChildren",
  "--concurrency": "concurrency",
  "--lock-duration": "lockDuration",
  "--stalled-interval": "stalledInterval",
  "--max-stalled-count": "maxStalledCount",
};

/**
 * Reads the command line into `serve()`'s options, or a message saying what
 * is wrong (with the usage).
 *
 * @param argv The arguments after the program's name.
 * @param cwd The directory a module path is relative to.
 * @param env The environment (`REDIS_URL`).
 * @returns The options, or the message to print.
 *
 * @example Usage
 * ```ts
 * import { parseArgs } from "@fastpool/fastpool/cluster/node";
 * import assert from "node:assert/strict";
 *
 * const options = parseArgs(["--queue", "jobs", "--module", "tasks.ts"], "/srv", {});
 * assert.deepEqual(options, {
 *   connection: "redis://127.0.0.1:6379",
 *   queue: "jobs",
 *   module: "file:///srv/tasks.ts",
 * });
 * assert.match(String(parseArgs(["--queue", "jobs"], "/srv", {})), /--module is required/);
 * assert.match(String(parseArgs(["--queue", "--module", "t.ts"], "/srv", {})), /^--queue needs a value/);
 * ```
 */
export function parseArgs(
  argv: string[],
  cwd: string,
  env: Record<string, string | undefined>,
): ServeOptions | string {
  const options: Record<string, unknown> = {
    connection: env.REDIS_URL || "redis://127.0.0.1:6379",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === "--help" || flag === "-h") return USAGE;
    // A flag where the value should be: this one's value is missing.
    if (value === undefined || value.startsWith("--")) return `${flag} needs a value\n${USAGE}`;
    i++;
    if (flag === "--redis") options.connection = value;
    else if (flag === "--queue") options.queue = value;
    else if (flag === "--module") {
      options.module = /^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)
        ? value
        : pathToFileURL(resolve(cwd, value)).href;
    } else if (NUMBERS[flag]) {
      const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN; // not Number(""), which is 0
      if (!Number.isSafeInteger(n)) {
        return `${flag} must be an integer, received ${JSON.stringify(value)}\n${USAGE}`;
      }
      options[NUMBERS[flag]] = n;
    } else return `unknown option ${flag}\n${USAGE}`;
  }
  if (options.queue === undefined) return `--queue is required\n${USAGE}`;
  if (options.module === undefined) return `--module is required\n${USAGE}`;
  return options as unknown as ServeOptions;
}

if (import.meta.main) {
  const options = parseArgs(process.argv.slice(2), process.cwd(), process.env);
  if (typeof options === "string") {
    console.error(options);
    process.exit(options === USAGE ? 0 : 2);
  }
  try {
    let lastError = "";
    const node = await serve({
      ...options,
      onError: (error) => {
        // Once per distinct error, not per attempt of the client's retries.
        // Not all are retried (a lost lock drops its chunk's result): say none is.
        const message = String((error as Error)?.message ?? error);
        if (message === lastError) return;
        lastError = message;
        console.error(`fastpool node: Redis: ${message}`);
      },
    });
    let signals = 0;
    const stop = (signal: string) => {
      if (++signals > 1) {
        // A second signal: leave now. The chunks in hand go to other nodes
        // once their locks expire (BullMQ's stalled-job check).
        console.log(`fastpool node ${node.id}: ${signal} again, leaving chunks in hand to others`);
        process.exit(1);
      }
      console.log(`fastpool node ${node.id}: ${signal}, finishing the chunks in hand`);
      node.close().then(
        () => {
          console.log(`fastpool node ${node.id}: closed`);
          process.exit(0);
        },
        (error) => {
          console.error(`fastpool node ${node.id}: close failed:`, error);
          process.exit(1);
        },
      );
    };
    const deno = (globalThis as {
      Deno?: { addSignalListener(signal: string, listener: () => void): void };
    }).Deno;
    for (const signal of ["SIGINT", "SIGTERM"]) {
      // On Deno, node:process signal handlers do not keep the default
      // action away: a SIGINT still ended the process before close().
      if (deno) deno.addSignalListener(signal, () => stop(signal));
      else process.on(signal, () => stop(signal));
    }
    console.log(
      `fastpool node ${node.id} ready: queue ${options.queue}, ${node.workers} workers, module ${options.module}`,
    );
  } catch (error) {
    console.error(`fastpool node: cannot start: ${(error as Error)?.message ?? error}`);
    process.exit(1);
  }
}
