/** Isolation per pool: Deno permissions (under --unstable-worker-options), Bun smol and env. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { run } from "../_child.ts";
import { fixture, isBun } from "../_util.ts";

const program = new URL(fixture("isolation_program.ts")).pathname;
const denoPath = () => (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath();

describe("isolation per pool", { skip: isBun }, () => {
  it(`a task in a permissions: "none" pool cannot read a file the program can, nor its task module (the message names the pool's permissions)`, async () => {
    const exit = await run(denoPath(), ["run", "-A", "--unstable-worker-options", program]);
    assert.equal(exit.code, 0, exit.stderr);
    const { mainRead, taskRead, moduleRead } = JSON.parse(exit.stdout);
    assert.equal(mainRead, true);
    assert.match(taskRead, /^NotCapable: Requires read access/);
    // The program has -A: the message points at the pool's permissions, not only at a flag.
    assert.match(
      moduleRead,
      /workers failed to start 3 times in a row, last: Cannot import task module .*tasks\.ts: Requires read access.*\(the pool's "permissions" limit its workers: they must allow what the task module needs, starting with reading it\)$/,
    );
  });

  it("without --unstable-worker-options Deno names the flag and ends the program", async () => {
    const exit = await run(denoPath(), ["run", "-A", program]);
    assert.notEqual(exit.code, 0);
    assert.match(exit.stderr, /--unstable-worker-options/);
  });

  it("permissions beyond the program's own fail the jobs, naming the option, and the program goes on", async () => {
    const escalation = new URL(fixture("escalation_program.ts")).pathname;
    const exit = await run(denoPath(), [
      "run",
      "--allow-read",
      "--unstable-worker-options",
      escalation,
    ]);
    assert.equal(exit.code, 0, exit.stderr);
    const outcome = JSON.parse(exit.stdout);
    for (const minChildren of [0, 1]) {
      assert.match(
        outcome[`run${minChildren}`],
        /workers failed to start 3 times in a row, last: Cannot start worker ThreadPool-\d+: new Worker\(\) threw: .*escalate.*; see the pool's "permissions"/,
      );
      assert.equal(outcome[`crashed${minChildren}`], 3);
    }
    assert.equal(outcome.teardownErrors, 0); // before: recycle() waited 5 s for one
    assert.equal(outcome.fine, 2);
  });

  it("a permission object Deno would refuse is a TypeError naming the permission", () => {
    assert.throws(() => new Pool({ permissions: { read: 5 } }), {
      name: "TypeError",
      message:
        /"permissions.read" must be "inherit", a boolean or an array of strings or URLs, received 5/,
    });
    assert.throws(() => new Pool({ permissions: { read: [42] } }), /"permissions.read" must be/);
    assert.throws(() => new Pool({ permissions: { net: "yes" } }), /"permissions.net" must be/);
    assert.throws(() => new Pool({ permissions: { reed: true } }), {
      name: "TypeError",
      message: /"permissions" has no permission "reed"; did you mean "read"\?/,
    });
    assert.throws(() => new Pool({ permissions: { env: [new URL("file:///x")] } }), {
      message: /"permissions.env" must be "inherit", a boolean or an array of strings, received/,
    });
    // deno-lint-ignore no-sparse-arrays
    assert.throws(() => new Pool({ permissions: { read: [, "/tmp"] } }), /"permissions.read"/);
    const inherited = Object.create({ read: 5 });
    assert.throws(() => new Pool({ permissions: inherited }), /"permissions.read" must be/);
    const unreadable = {
      get read(): boolean {
        throw new Error("no");
      },
    };
    assert.throws(() => new Pool({ permissions: unreadable }), {
      name: "TypeError",
      message: /"permissions" could not be read \(read: no\)/,
    });
    // What Deno accepts: URLs where it takes them, undefined and null (its default), hrtime (Deno 1's).
    for (
      const permissions of [
        { read: ["/tmp", new URL("file:///tmp")], net: false, env: "inherit" },
        { read: undefined, write: null },
        { hrtime: false },
      ]
    ) {
      const pool = new Pool({ permissions: permissions as Record<string, unknown> });
      void pool.terminate();
    }
  });

  it("env is refused on Deno, whose workers share the process environment", () => {
    assert.throws(() => new Pool({ env: { A: "1" } }), {
      name: "TypeError",
      // Before: its hint, permissions: { env: false }, denied every other permission too.
      message:
        /"env" works on Bun only.*env: false, read: "inherit".*a permission left out of the object is denied/,
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
    assert.throws(
      () => new Pool({ env: { A: 1 } as never }),
      /"env\.A" must be a string, received 1$/,
    );
    assert.throws(
      () => new Pool({ env: ["A"] as never }),
      /"env" must be a plain object of strings/,
    );
    // Entries that are not own fields would give the workers an empty environment.
    for (
      const notPlain of [
        new Map([["A", "1"]]),
        new URLSearchParams("A=1"),
        new Date(0),
        Object.create({ A: "1" }),
      ]
    ) {
      assert.throws(
        () => new Pool({ env: notPlain as never }),
        /"env" must be a plain object of strings, received /,
      );
    }
    assert.throws(
      () => new Pool({ env: Object.assign(Object.create(null), { A: 2 }) }),
      /"env\.A" must be a string/,
    );
    const unreadable = {
      get A(): string {
        throw new Error("no");
      },
    };
    assert.throws(() => new Pool({ env: unreadable }), /reading "env\.A" threw: no$/);
    const keyless = new Proxy({}, {
      ownKeys() {
        throw new Error("trap");
      },
    });
    assert.throws(() => new Pool({ env: keyless }), /reading "env"'s fields threw: trap$/);
    const data = {
      get x(): number {
        throw new RangeError("x cannot be read");
      },
    };
    assert.throws(
      () => new Pool({ workerData: data }),
      /"workerData" must be structured-cloneable, received an object \(x cannot be read\)/,
    );
  });
});
