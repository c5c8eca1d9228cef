/**
 * `examples/cluster.ts` runs against the test's Redis, prints its result
 * and exits by itself.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { run, withThisRuntime } from "../_child.ts";
import { needsRedis, Redis, root } from "./_harness.ts";

describe("cluster example", () => {
  it(
    "examples/cluster.ts runs, prints its result and exits by itself",
    needsRedis(60_000),
    async () => {
      await using redis = await Redis.start();
      const exit = await run(...withThisRuntime(`${root}examples/cluster.ts`), {
        cwd: root,
        env: { REDIS_URL: redis.url },
        killAfter: 50_000,
      });
      const output = `stdout:\n${exit.stdout}\nstderr:\n${exit.stderr}`;
      assert.equal(exit.code, 0, output);
      assert.match(exit.stdout, /^9592 primes below 100,000 in \d+ ms$/m, output);
      assert.match(exit.stdout, /^inline function refused: TypeError$/m, output);
      assert.match(exit.stdout, /^cluster: done$/m, output);
    },
  );
});
