/**
 * The `./worker` entry and the worker runtime beside other code: a task
 * module that loads another copy of the runtime (another version or URL of
 * the package) leaves the pool's running, and a worker of the user's own
 * that imports `./worker` stays the user's.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Pool } from "../../src/pool/pool.ts";
import type { Lock } from "../../src/sync/lock.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import { fixture, within } from "../_util.ts";

/**
 * A task module beside a copy of the package (`mod.ts` and `src/`) in a
 * temporary folder, and that folder.
 */
async function moduleOverACopy(source: string): Promise<{ dir: string; module: URL }> {
  const dir = await mkdtemp(join(tmpdir(), "fastpool-two-copies-"));
  await cp(fileURLToPath(new URL("../../src", import.meta.url)), join(dir, "src"), {
    recursive: true,
  });
  await cp(fileURLToPath(new URL("../../mod.ts", import.meta.url)), join(dir, "mod.ts"));
  const path = join(dir, "tasks.ts");
  await writeFile(path, source);
  return { dir, module: pathToFileURL(path) };
}

describe("another copy of the worker runtime", () => {
  it("a task module that loads another copy's runtime keeps jobContext() and progress working", async () => {
    const { dir, module } = await moduleOverACopy(`
      import "./src/worker/runtime.ts"; // the other copy's runtime, as its old ./worker entry loaded it
      import { jobContext } from "./src/worker/mod.ts";
      export function whoami(): number { return jobContext().id; }
      export function report(n: number): number {
        const context = jobContext();
        for (let i = 0; i < n; i++) context.progress(i);
        return n;
      }
    `);
    try {
      await using pool = new Pool<{ whoami(): number; report(n: number): number }>({
        maxChildren: 1,
        module,
      });
      const ids = await Promise.all([pool.run("whoami"), pool.run("whoami"), pool.run("whoami")]);
      assert.equal(new Set(ids).size, 3, `ids: ${ids}`);
      for (const id of ids) assert.ok(Number.isInteger(id) && id > 0, `id: ${id}`);
      const seen: unknown[] = [];
      assert.equal(await pool.exec("report", [5], { onProgress: (value) => seen.push(value) }), 5);
      assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("another copy's Semaphore and Lock", () => {
  it("cross to a pool's task and back working, over the same memory", async () => {
    const { dir, module } = await moduleOverACopy("export {};");
    try {
      const other = await import(new URL("mod.ts", module).href) as typeof import("../../mod.ts");
      const semaphore = new other.Semaphore(2);
      const lock = new other.Lock();
      assert.notEqual(Object.getPrototypeOf(semaphore), Semaphore.prototype); // another copy's class
      await using pool = new Pool({ maxChildren: 1 });
      const taken = await pool.run(
        (s: Semaphore, l: Lock) => [s.tryAcquire(), l.tryAcquire(), s.value],
        semaphore,
        lock,
      );
      assert.deepEqual(taken, [true, true, 1]);
      assert.equal(semaphore.value, 1);
      assert.equal(lock.locked, true);
      const back = await pool.run((held: { s: Semaphore }) => held, { s: semaphore });
      assert.ok(back.s instanceof Semaphore);
      back.s.release();
      assert.equal(semaphore.value, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a worker of the user's own", () => {
  it("importing the ./worker entry leaves its messages and error events to the user", async () => {
    const exports = JSON.parse(
      await readFile(fileURLToPath(new URL("../../jsr.json", import.meta.url)), "utf8"),
    ).exports;
    const entry = new URL(`../.${exports["./worker"]}`, import.meta.url);
    const worker = new Worker(fixture("own_worker_entry.ts"), { type: "module" });
    try {
      const messages: unknown[] = [];
      let hello!: () => void;
      const greeted = new Promise<void>((resolve) => hello = resolve);
      worker.onmessage = (event) => {
        messages.push(event.data);
        hello();
      };
      const errored = new Promise<string>((resolve) => {
        worker.onerror = (event) => {
          event.preventDefault();
          resolve(event.message);
        };
      });
      worker.postMessage(entry.href);
      await greeted;
      worker.postMessage("throw");
      assert.ok(await within(errored, 10_000), "no error event within 10 s");
      assert.match(await errored, /thrown from a timer/);
      assert.deepEqual(messages, ["imported jobContext, a function"]);
    } finally {
      worker.terminate();
    }
  });
});
