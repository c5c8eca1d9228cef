/**
 * fastpool loaded the ways users load it, each in a child process: over http
 * (as Deno loads a JSR package), and as a copy under another project's
 * `node_modules`, as `.ts` (Bun) and transpiled to `.js` (Bun and Deno). In
 * each, the pool must find its worker entry next to itself and run jobs.
 * Installed ahead (`deno cache`, `deno install --entrypoint`) and then run
 * with the server gone, or compiled with `deno compile`, the worker entry must
 * have come along.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { fixture, isBun } from "./_util.ts";
import { type Exit, run as runChild } from "./_child.ts";
import { defaultWorkerUrl } from "../src/pool/worker_url.ts";

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return runChild(command, args, { cwd, env, killAfter: KILL_AFTER_MS });
}

const repoDir = fileURLToPath(new URL("../", import.meta.url));
const KILL_AFTER_MS = 30_000;
const TIMEOUT = { timeout: 2 * KILL_AFTER_MS + 10_000 };

/** The current runtime's binary if it is `name`, else the one in node_modules. */
function binary(name: "deno" | "bun"): string | undefined {
  if (name === "bun" && isBun) return process.execPath;
  if (name === "deno" && !isBun) {
    return (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath();
  }
  const path = fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
  return existsSync(path) ? path : undefined;
}
const deno = binary("deno");
const bun = binary("bun");

function assertSuccess(exit: Exit): string {
  const output = `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`;
  assert.equal(exit.signal, null, `killed after ${KILL_AFTER_MS} ms\n${output}`);
  assert.equal(exit.code, 0, output);
  return output;
}

/** A temporary directory, removed after `body`. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "fastpool-loading-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Serves `mod.ts`, `src/**` and the loading fixtures of the repo on 127.0.0.1, as TypeScript. */
async function withServer(
  body: (base: string, requested: string[]) => Promise<void>,
): Promise<void> {
  const requested: string[] = [];
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
    requested.push(path);
    const allowed = path === "/mod.ts" || path.startsWith("/src/") ||
      path.startsWith("/tests/fixtures/loading_");
    try {
      if (!allowed || !path.endsWith(".ts")) throw new Error("not served");
      const body = await readFile(join(repoDir, path));
      response.writeHead(200, { "content-type": "application/typescript; charset=utf-8" });
      response.end(body);
    } catch {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(`http://127.0.0.1:${port}`, requested);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** `<dir>/proj` with `node_modules/@fastpool/fastpool`, its package.json exporting `entry`. */
async function makeProject(dir: string, entry: string): Promise<{ proj: string; pkg: string }> {
  const proj = join(dir, "proj");
  const pkg = join(proj, "node_modules", "@fastpool", "fastpool");
  await mkdir(pkg, { recursive: true });
  await writeFile(
    join(pkg, "package.json"),
    JSON.stringify({ name: "@fastpool/fastpool", type: "module", exports: { ".": entry } }),
  );
  // Deno resolves a bare specifier from node_modules only for a declared dependency.
  await writeFile(
    join(proj, "package.json"),
    JSON.stringify({
      name: "proj",
      private: true,
      type: "module",
      dependencies: { "@fastpool/fastpool": "*" },
    }),
  );
  return { proj, pkg };
}

/** The user's program: an inline job, and a job from the project's own task module. */
function mainSource(ext: "ts" | "js"): string {
  const typed = ext === "ts";
  return `import { Pool } from "@fastpool/fastpool";
const pool = new Pool({ maxChildren: 1, module: new URL("./tasks.${ext}", import.meta.url) });
console.log("inline " + await pool.run((n${typed ? ": number" : ""}) => n * 2, 21));
console.log("task " + await pool.run("triple", 14));
await pool.shutdown();
`;
}

const tasksSource = "export function triple(n) { return n * 3; }\n";

/** A project whose node_modules holds a `.ts` copy of the package. */
async function makeTsProject(dir: string): Promise<string> {
  const { proj, pkg } = await makeProject(dir, "./mod.ts");
  await cp(join(repoDir, "mod.ts"), join(pkg, "mod.ts"));
  await cp(join(repoDir, "src"), join(pkg, "src"), { recursive: true });
  return proj;
}

/** A project whose node_modules holds a `.js` build of the package, transpiled by Bun. */
async function makeJsProject(dir: string): Promise<string> {
  const { proj, pkg } = await makeProject(dir, "./mod.js");
  assertSuccess(
    await run(bun!, [fileURLToPath(fixture("loading_transpile.ts")), repoDir, pkg], dir),
  );
  assert.ok(
    existsSync(join(pkg, "src", "worker", "runtime.js")),
    "the build has src/worker/runtime.js",
  );
  await writeFile(join(proj, "main.js"), mainSource("js"));
  await writeFile(join(proj, "tasks.js"), tasksSource);
  return proj;
}

describe("loading", () => {
  it(
    "Pool over http, as Deno loads a JSR package, finds its worker entry and runs inline and task() jobs",
    {
      ...TIMEOUT,
      skip: deno ? false : "no deno binary in node_modules/.bin",
    },
    async () => {
      await withTempDir((dir) =>
        withServer(async (base, requested) => {
          const host = new URL(base).host;
          const exit = await run(
            deno!,
            [
              "run",
              "--no-config",
              `--allow-import=${host}`,
              "--allow-read",
              fileURLToPath(fixture("loading_http_child.ts")),
              base,
            ],
            dir,
            // An empty cache of its own, so every module really comes over http.
            { DENO_DIR: join(dir, "deno_dir") },
          );
          const output = assertSuccess(exit);
          assert.match(exit.stdout, /^inline 42$/m, output);
          assert.match(
            exit.stdout,
            new RegExp(`^http task from ${base}/tests/fixtures/loading_tasks\\.ts$`, "m"),
            output,
          );
          assert.match(exit.stdout, /^file task 42$/m, output);
          assert.ok(
            requested.includes("/src/worker/runtime.ts"),
            `the worker entry came over http: ${requested}`,
          );
        })
      );
    },
  );

  it("Pool from a .ts copy under another project's node_modules, run by Bun", {
    ...TIMEOUT,
    skip: bun ? false : "no bun binary in node_modules/.bin",
  }, async () => {
    await withTempDir(async (dir) => {
      const proj = await makeTsProject(dir);
      await writeFile(join(proj, "main.ts"), mainSource("ts"));
      await writeFile(join(proj, "tasks.ts"), tasksSource.replace("(n)", "(n: number)"));
      const exit = await run(bun!, ["main.ts"], proj);
      const output = assertSuccess(exit);
      assert.match(exit.stdout, /^inline 42\ntask 42$/m, output);
    });
  });

  it("Pool from a transpiled .js copy under another project's node_modules, run by Bun", {
    ...TIMEOUT,
    skip: bun ? false : "no bun binary in node_modules/.bin",
  }, async () => {
    await withTempDir(async (dir) => {
      const proj = await makeJsProject(dir);
      const exit = await run(bun!, ["main.js"], proj);
      const output = assertSuccess(exit);
      assert.match(exit.stdout, /^inline 42\ntask 42$/m, output);
    });
  });

  it("Pool in a bun build bundle, its worker entry bundled beside it and given as workerUrl", {
    ...TIMEOUT,
    skip: bun ? false : "no bun binary in node_modules/.bin",
  }, async () => {
    await withTempDir(async (dir) => {
      const proj = await makeTsProject(dir);
      await writeFile(
        join(proj, "main.ts"),
        `import { Pool } from "@fastpool/fastpool";
await using pool = new Pool({ maxChildren: 1, workerUrl: new URL("./runtime.js", import.meta.url) });
console.log("inline " + await pool.run((n: number) => n * 2, 21));
`,
      );
      // As src/pool/README.md says, with the package's files gone once built.
      const entry = join("node_modules", "@fastpool", "fastpool", "src", "worker", "runtime.ts");
      assertSuccess(
        await run(bun!, [
          "build",
          "main.ts",
          entry,
          "--target=bun",
          "--outdir",
          "dist",
          "--entry-naming",
          "[name].[ext]",
        ], proj),
      );
      await rm(join(proj, "node_modules"), { recursive: true });
      const exit = await run(bun!, [join("dist", "main.js")], proj);
      const output = assertSuccess(exit);
      assert.match(exit.stdout, /^inline 42$/m, output);
    });
  });

  it("Pool from a transpiled .js copy under another project's node_modules, run by Deno", {
    ...TIMEOUT,
    skip: !bun
      ? "no bun binary to transpile with"
      : deno
      ? false
      : "no deno binary in node_modules/.bin",
  }, async () => {
    await withTempDir(async (dir) => {
      const proj = await makeJsProject(dir);
      const exit = await run(deno!, ["run", "-A", "main.js"], proj, {
        DENO_DIR: join(dir, "deno_dir"),
      });
      const output = assertSuccess(exit);
      assert.match(exit.stdout, /^inline 42\ntask 42$/m, output);
    });
  });
});

/** A program that imports the package from `modUrl` statically, so Deno's tools see it. */
function offlineSource(modUrl: string): string {
  return `import { Pool } from ${JSON.stringify(modUrl)};
await using pool = new Pool({ maxChildren: 1 });
console.log("inline " + await pool.run((n: number) => n * 2, 21));
`;
}

/**
 * Why the Deno-only tests below skip under `bun test`: they check Deno's
 * module graph (what `deno cache`, `deno install` and `deno compile` take
 * along). Bun has no such graph: it reads each module from disk when it runs,
 * and the Bun tests above already load the package from a copy on disk.
 */
const DENO_ONLY = "Deno's module graph only: Bun has no ahead-of-time module cache to check";

describe("loading, installed ahead of time", () => {
  it(
    "defaultWorkerUrl() names a module of mod.ts's module graph (deno info), so Deno's tools take the worker along",
    {
      ...TIMEOUT,
      skip: isBun ? DENO_ONLY : false,
    },
    async () => {
      const exit = await run(deno!, ["info", "--json", "mod.ts"], repoDir);
      assertSuccess(exit);
      const info = JSON.parse(exit.stdout) as { modules: { specifier: string; error?: string }[] };
      const graph = new Map(info.modules.map((m) => [m.specifier, m]));
      const entry = defaultWorkerUrl().href;
      assert.ok(graph.has(entry), `${entry} is not in the graph: ${[...graph.keys()].join(", ")}`);
      for (const module of info.modules) assert.equal(module.error, undefined, module.specifier);
    },
  );

  for (
    const [how, command] of [
      ["deno cache main.ts", ["cache"]],
      ["deno install --entrypoint main.ts", ["install", "--entrypoint"]],
    ] as const
  ) {
    it(`Pool over http, after \`${how}\`, runs a job with --cached-only once the server is gone`, {
      ...TIMEOUT,
      skip: isBun ? DENO_ONLY : false,
    }, async () => {
      await withTempDir(async (dir) => {
        // An empty cache of its own: what the run finds there, the install put there.
        const env = { DENO_DIR: join(dir, "deno_dir") };
        let host = "";
        let fetched: string[] = [];
        await withServer(async (base, requested) => {
          host = new URL(base).host;
          await writeFile(join(dir, "main.ts"), offlineSource(`${base}/mod.ts`));
          assertSuccess(
            await run(
              deno!,
              [...command, "--no-config", `--allow-import=${host}`, "main.ts"],
              dir,
              env,
            ),
          );
          fetched = requested;
        });
        // The server is closed: from here on, nothing can come over http.
        const exit = await run(
          deno!,
          ["run", "--no-config", "--cached-only", `--allow-import=${host}`, "main.ts"],
          dir,
          env,
        );
        const output = assertSuccess(exit);
        assert.match(exit.stdout, /^inline 42$/m, output);
        assert.ok(
          fetched.includes("/src/worker/runtime.ts"),
          `the install fetched the worker entry: ${fetched}`,
        );
      });
    });
  }

  it("Pool in a `deno compile`d program runs a job with the package's files gone", {
    ...TIMEOUT,
    skip: isBun
      ? DENO_ONLY
      : process.env.DENORT_BIN
      ? false
      : "deno compile needs a denort binary, which Deno downloads from its own server (not reachable here); set DENORT_BIN to a denort of this Deno's version to run it",
  }, async () => {
    await withTempDir(async (dir) => {
      // A copy of the package, deleted before the binary runs: it must carry the worker entry.
      const pkg = join(dir, "pkg");
      await mkdir(pkg);
      await cp(join(repoDir, "mod.ts"), join(pkg, "mod.ts"));
      await cp(join(repoDir, "src"), join(pkg, "src"), { recursive: true });
      await writeFile(join(dir, "main.ts"), offlineSource("./pkg/mod.ts"));
      const binaryPath = join(dir, "main_bin");
      assertSuccess(
        await run(deno!, ["compile", "--no-config", "--output", binaryPath, "main.ts"], dir),
      );
      await rm(pkg, { recursive: true });
      const exit = await run(binaryPath, [], tmpdir());
      const output = assertSuccess(exit);
      assert.match(exit.stdout, /^inline 42$/m, output);
    });
  });
});
