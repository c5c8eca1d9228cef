/** Isolation per pool: Deno permissions (under --unstable-worker-options), Bun smol and env. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { run } from "../_child.ts";
import { fixture, isBun } from "../_util.ts";

const program = new URL(fixture("isolation_program.ts")).pathname;
const denoPath = () => (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath();

describe("isolation per pool", { skip: isBun }, () => {
  it('a task in a permissions: "none" pool cannot read a file the program can', async () => {
    const exit = await run(denoPath(), ["run", "-A", "--unstable-worker-options", program]);
    assert.equal(exit.code, 0, exit.stderr);
    const { mainRead, taskRead } = JSON.parse(exit.stdout);
    assert.equal(mainRead, true);
    assert.match(taskRead, /^NotCapable: Requires read access/);
  });

  it("without --unstable-worker-options Deno names the flag and ends the program", async () => {
    const exit = await run(denoPath(), ["run", "-A", program]);
    assert.notEqual(exit.code, 0);
    assert.match(exit.stderr, /--unstable-worker-options/);
  });

  it("env is refused on Deno, whose workers share the process environment", () => {
    assert.throws(() => new Pool({ env: { A: "1" } }), {
      name: "TypeError",
      message: /"env" works on Bun only/,
    });
  });

  it("smol is accepted and changes nothing on Deno", async () => {
    await using pool = new Pool({ maxChildren: 1, smol: true });
    assert.equal(await pool.run((x: number) => x + 1, 1), 2);
  });
});

describe("isolation per pool on Bun", { skip: !isBun }, () => {
  it("env is what the workers see as process.env", async () => {
    await using pool = new Pool({ maxChildren: 1, env: { FASTPOOL_ISOLATION: "worker" } });
    const seen = await pool.run(() =>
      (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
        .process.env.FASTPOOL_ISOLATION
    );
    assert.equal(seen, "worker");
  });

  it("smol workers run jobs", async () => {
    await using pool = new Pool({ maxChildren: 1, smol: true });
    assert.equal(await pool.run((x: number) => x + 1, 1), 2);
  });

  it("permissions is refused on Bun, which has no per-worker permissions", () => {
    assert.throws(() => new Pool({ permissions: "none" }), {
      name: "TypeError",
      message: /"permissions" works on Deno only/,
    });
  });
});

describe("isolation options are checked", () => {
  it("names the option and what it received", () => {
    assert.throws(() => new Pool({ permissions: "all" as never }), /"permissions"/);
    assert.throws(() => new Pool({ smol: 1 as never }), /"smol" must be a boolean/);
    assert.throws(() => new Pool({ env: { A: 1 } as never }), /"env" must be an object of strings/);
    assert.throws(() => new Pool({ env: ["A"] as never }), /"env" must be an object of strings/);
  });
});
