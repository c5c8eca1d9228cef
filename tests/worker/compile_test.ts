import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileTask } from "../../src/worker/compile.ts";

describe("compileTask", () => {
  it("compileTask() explains a failed import() of a bare or relative specifier, and only of one", () => {
    const source = `async (which) => [
      await import("left-pad"), await import('./local.ts'), await import("/abs.ts"),
      await import("npm:marked"), await import("node:fs"), await import("https://x.test/m.ts"),
    ]`;
    const task = compileTask(source);
    const failed = (specifier: string) => new TypeError(`Import "${specifier}" not a dependency`);
    const explained = task.explain(failed("left-pad")) as Error;
    assert.match(explained.message, /^Cannot import "left-pad" in an inline task: /);
    assert.equal((explained.cause as Error).message, 'Import "left-pad" not a dependency');
    const relative = task.explain(failed("./local.ts")) as Error;
    assert.match(
      relative.message,
      /^Cannot import "\.\/local\.ts" in an inline task: a relative specifier resolves against fastpool's own worker file/,
    );
    for (const other of ["/abs.ts", "npm:marked", "node:fs", "https://x.test/m.ts"]) {
      const error = failed(other);
      assert.equal(task.explain(error), error, other);
    }
    const unrelated = new Error("left-pad without quotes");
    assert.equal(task.explain(unrelated), unrelated);
  });

  it("compileTask() adds the free-variable hint once, to the message and the stack", () => {
    const task = compileTask("() => missingName");
    let thrown: unknown;
    try {
      task.fn();
    } catch (error) {
      thrown = error;
    }
    const error = task.explain(thrown) as ReferenceError;
    const hint = "cannot see the caller's variables";
    assert.equal(error.message.split(hint).length, 2);
    assert.equal(error.stack!.split(hint).length, 2);
  });
});
