/**
 * Inline tasks' errors say what happened and what to do (issue 16, item 16):
 * an `import()` of a bare specifier, and a free variable, whose hint appears
 * once.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/pool/pool.ts";

const HINT = "an inline task runs in a worker and cannot see the caller's variables";

describe("Pool: hints on inline tasks' errors", () => {
  it("Pool.run() of an inline task that imports a bare specifier fails saying why and what to do", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    await assert.rejects(
      pool.run(async () => await import("fastpool-no-such-package")),
      (error: Error) => {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(
          error.message,
          /^Cannot import "fastpool-no-such-package" in an inline task: a bare specifier does not resolve from a worker, .*task module.*absolute specifier/,
        );
        assert.match((error.cause as Error).message, /fastpool-no-such-package/);
        return true;
      },
    );
    assert.equal(await pool.run(async () => typeof (await import("node:path")).join), "function");
  });

  it("Pool.run() of an inline task with a free variable names the cause once, in the message and in the stack", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    await assert.rejects(
      // @ts-expect-error: a free variable, on purpose
      pool.run(() => someFreeVariable + 1),
      (error: Error) => {
        assert.ok(error instanceof ReferenceError);
        assert.equal(error.message.split(HINT).length, 2, error.message);
        assert.equal(error.stack!.split(HINT).length, 2, error.stack);
        return true;
      },
    );
  });

  it("an inline task's frames in an error's stack name it fastpool:inline-task, not a file of fastpool's", async () => {
    await using pool = new Pool({ maxChildren: 1 });
    const error = await pool.run(function namedTask() {
      throw new RangeError("from the task");
    }).then(() => assert.fail("it resolved"), (error: Error) => error);
    assert.ok(error instanceof RangeError);
    const frame = error.stack!.split("\n").find((line) => line.includes("namedTask"));
    // Before, Bun filed it under compile.ts at the task's own line (a comment there).
    assert.match(frame ?? "", /fastpool:inline-task/, error.stack);
    assert.doesNotMatch(frame ?? "", /compile\.ts/);
    // A method shorthand compiles another way: named the same.
    const methods = {
      namedMethod() {
        throw new RangeError("from the method");
      },
    };
    const fromMethod = await pool.run(methods.namedMethod).then(
      () => assert.fail("it resolved"),
      (error: Error) => error,
    );
    const methodFrame = fromMethod.stack!.split("\n").find((line) => line.includes("namedMethod"));
    assert.match(methodFrame ?? "", /fastpool:inline-task/, fromMethod.stack);
  });
});
