import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Lock } from "../../src/sync/lock.ts";
import { Semaphore } from "../../src/sync/semaphore.ts";
import { fromWire, type SharedWire, toWire } from "../../src/sync/wire.ts";
import { ask, opsWorker } from "./_ops.ts";

describe("wire", () => {
  it("toWire() returns undefined for anything but a Semaphore or Lock", () => {
    for (
      const value of [
        undefined,
        null,
        0,
        "Lock",
        true,
        1n,
        Symbol("s"),
        () => 1,
      ]
    ) {
      assert.equal(toWire(value), undefined);
    }
    assert.equal(toWire({}), undefined);
    assert.equal(toWire(new SharedArrayBuffer(12)), undefined);
  });

  it("toWire() wraps plain data that has the wire forms' key, so fromWire() gives it back as data", () => {
    const lock = new Lock();
    for (
      const lookalike of [
        { __fastpoolShared: "Lock", buffer: lock.buffer },
        { __fastpoolShared: "Nested", value: 5 },
        { __fastpoolShared: "Data", value: 6 },
        { __fastpoolShared: 0 },
      ]
    ) {
      const wire = toWire(lookalike);
      assert.equal(wire?.__fastpoolShared, "Data");
      assert.deepEqual(fromWire(structuredClone(wire)), lookalike);
    }
    // Inside a value that holds a primitive, at the top and deeper, shared and cyclic.
    const inner: Record<string, unknown> = { __fastpoolShared: "Lock", buffer: 2 };
    inner.self = inner;
    const outer = { __fastpoolShared: "Semaphore", lock, list: [inner, inner] };
    const back = fromWire(structuredClone(toWire(outer))) as typeof outer & {
      list: (typeof inner)[];
    };
    assert.equal(back.__fastpoolShared, "Semaphore");
    assert.ok(back.lock instanceof Lock);
    const [first, second] = back.list;
    assert.equal(first?.__fastpoolShared, "Lock");
    assert.equal(first?.buffer, 2);
    assert.equal(first, second, "a shared reference stays shared");
    assert.equal(first?.self, first, "a cycle stays a cycle");
  });

  it("toWire() gives the kind and the shared memory", () => {
    const sem = new Semaphore(2);
    const lock = new Lock();
    assert.deepEqual(toWire(sem), {
      __fastpoolShared: "Semaphore",
      buffer: sem.buffer,
    });
    assert.deepEqual(toWire(lock), {
      __fastpoolShared: "Lock",
      buffer: lock.buffer,
    });
    assert.equal((toWire(sem) as SharedWire).buffer, sem.buffer);
  });

  it("fromWire() returns any other value unchanged", () => {
    const object = { __fastpoolShared: "Pool", buffer: 1 };
    for (const value of [undefined, null, 42, "x", object, [1, 2]]) {
      assert.equal(fromWire(value), value);
    }
  });

  it("fromWire() revives a wire form over the same memory", () => {
    const sem = new Semaphore(3);
    const revived = fromWire(structuredClone(toWire(sem)));
    assert.ok(revived instanceof Semaphore);
    assert.equal(revived.tryAcquire(), true);
    assert.equal(sem.value, 2);
    const lock = new Lock();
    const wire: SharedWire = { __fastpoolShared: "Lock", buffer: lock.buffer };
    const revivedLock = fromWire(wire);
    assert.ok(revivedLock instanceof Lock);
    assert.equal(revivedLock.tryAcquire(), true);
    assert.equal(lock.locked, true);
  });

  it("fromWire() throws a TypeError on a wire form without semaphore memory", () => {
    assert.throws(
      () =>
        fromWire({
          __fastpoolShared: "Semaphore",
          buffer: new ArrayBuffer(12),
        }),
      TypeError,
    );
    assert.throws(
      () => fromWire({ __fastpoolShared: "Lock", buffer: new Semaphore().buffer }),
      TypeError,
    );
  });

  it("toWire() leaves values that hold no primitive alone, cycles and typed arrays included", () => {
    const cyclic: Record<string, unknown> = { n: 1, list: [1, "a", null, { x: 2 }] };
    cyclic.self = cyclic;
    (cyclic.list as unknown[]).push(cyclic);
    assert.equal(toWire(cyclic), undefined);
    assert.equal(toWire([[[[]]]]), undefined);
    assert.equal(toWire(new Float64Array(8)), undefined);
    const map = new Map<unknown, unknown>([[{ k: 1 }, [2]], ["s", new Set([{ n: 3 }])]]);
    map.set(map, map);
    assert.equal(toWire(map), undefined);
    assert.equal(toWire(new Set([map, [map]])), undefined);
    assert.equal(
      toWire(
        new (class Point {
          x = 1;
          y = { z: [2] };
        })(),
      ),
      undefined,
    );
    assert.equal(toWire(new Error("no primitive", { cause: { n: 1 } })), undefined);
    let deep: unknown[] = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(toWire(deep), undefined, "no recursion: deep values do not overflow the stack");
  });

  it("toWire() and fromWire() carry primitives at any depth, keeping shared references and cycles", () => {
    const lock = new Lock();
    const sem = new Semaphore(4);
    const shared = { sem };
    const value: Record<string, unknown> = {
      a: [1, { lock }],
      b: shared,
      c: shared,
      bytes: new Uint8Array([1, 2]),
      ["__proto__"]: 5, // a computed key: an own field, not the prototype
    };
    value.self = value;
    const wire = toWire(value);
    assert.equal(wire?.__fastpoolShared, "Nested");
    assert.equal(
      ((value.a as unknown[])[1] as { lock: Lock }).lock,
      lock,
      "the original is not changed",
    );
    const back = fromWire(structuredClone(wire)) as typeof value & {
      a: [number, { lock: Lock }];
      b: { sem: Semaphore };
      c: { sem: Semaphore };
      bytes: Uint8Array;
    };
    assert.ok(back.a[1].lock instanceof Lock);
    assert.equal(back.a[1].lock.tryAcquire(), true);
    assert.equal(lock.locked, true, "the same memory");
    assert.ok(back.b.sem instanceof Semaphore);
    assert.equal(back.b, back.c, "a shared reference stays shared");
    assert.equal(back.self, back, "a cycle stays a cycle");
    assert.deepEqual([...back.bytes], [1, 2]);
    assert.equal(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, 5);
    assert.equal(back.b.sem.value, 4);
  });

  it("toWire() and fromWire() carry primitives as Map keys and values and Set members, at any depth", () => {
    const sem = new Semaphore(3);
    const lock = new Lock();
    const key = { id: 1 };
    const map = new Map<unknown, unknown>([
      ["first", 1],
      [sem, "a Semaphore as a key"],
      ["lock", lock],
      [key, [sem, { lock }]],
      ["last", 2],
    ]);
    map.set("self", map);
    const set = new Set<unknown>([lock, key, new Map([["deep", [new Set([sem])]]])]);
    set.add(set);
    const value = { map, set, key };
    const wire = toWire(value);
    assert.equal(wire?.__fastpoolShared, "Nested");
    assert.equal(map.get("lock"), lock, "the original is not changed");
    const back = fromWire(structuredClone(wire)) as typeof value;
    const keys = [...back.map.keys()];
    assert.deepEqual(
      keys.map((k) => typeof k === "string" ? k : k?.constructor.name),
      ["first", "Semaphore", "lock", "Object", "last", "self"],
      "the keys keep their order",
    );
    const revivedSem = keys[1] as Semaphore;
    assert.ok(revivedSem instanceof Semaphore);
    assert.equal(back.map.get(revivedSem), "a Semaphore as a key");
    assert.equal(revivedSem.tryAcquire(), true);
    assert.equal(sem.value, 2, "the same memory");
    const revivedLock = back.map.get("lock") as Lock;
    assert.ok(revivedLock instanceof Lock);
    assert.equal(revivedLock.tryAcquire(), true);
    assert.equal(lock.locked, true, "the same memory");
    const [inner, holder] = back.map.get(back.key) as [Semaphore, { lock: Lock }];
    assert.equal(keys[3], back.key, "a shared reference stays shared, as a key too");
    assert.equal(inner, revivedSem, "a primitive met twice arrives as one object");
    assert.equal(holder.lock, revivedLock);
    assert.equal(back.map.get("self"), back.map, "a cycle stays a cycle");
    const members = [...back.set];
    assert.equal(members.length, 4);
    assert.equal(members[0], revivedLock);
    assert.equal(members[1], back.key);
    const deep = (members[2] as Map<string, [Set<Semaphore>]>).get("deep")![0];
    assert.equal([...deep][0], revivedSem);
    assert.equal(members[3], back.set, "a cycle through a Set stays a cycle");
    // A Map or a Set alone, and one whose only object is the primitive.
    const alone = fromWire(structuredClone(toWire(new Set([sem])))) as Set<Semaphore>;
    assert.equal([...alone][0]?.value, 2);
    const byKey = fromWire(structuredClone(toWire(new Map([[lock, 1]])))) as Map<Lock, number>;
    assert.equal([...byKey.keys()][0]?.locked, true);
  });

  it("toWire() keeps plain data that has the wire forms' key as data inside a Map or Set", () => {
    const lookalike = { __fastpoolShared: "Lock", buffer: 3 };
    const value = new Map<unknown, unknown>([[lookalike, new Set([lookalike, new Semaphore(1)])]]);
    const back = fromWire(structuredClone(toWire(value))) as Map<unknown, Set<unknown>>;
    const [key, members] = [...back][0]!;
    assert.deepEqual(key, lookalike);
    assert.equal([...members][0], key, "the same data");
    assert.ok([...members][1] instanceof Semaphore);
  });

  it("toWire() carries a primitive in a class instance, which arrives a plain object as a clone makes it", () => {
    class Job {
      readonly label = "job";
      constructor(readonly gate: Semaphore, readonly parts: unknown[]) {}
      get size(): number {
        return this.parts.length;
      }
    }
    const sem = new Semaphore(2);
    const lock = new Lock();
    const job = new Job(sem, [new Job(sem, []), { lock }]);
    const wire = toWire(job);
    assert.equal(wire?.__fastpoolShared, "Nested");
    const back = fromWire(structuredClone(wire)) as {
      label: string;
      gate: Semaphore;
      parts: [{ gate: Semaphore; parts: [] }, { lock: Lock }];
    };
    assert.equal(Object.getPrototypeOf(back), Object.prototype, "plain, as a clone makes it");
    assert.deepEqual(Object.keys(back), Object.keys(structuredClone(job)));
    assert.deepEqual(Object.keys(back).sort(), ["gate", "label", "parts"], "own fields only");
    assert.equal(back.label, "job");
    assert.ok(back.gate instanceof Semaphore);
    assert.equal(back.gate.tryAcquire(), true);
    assert.equal(sem.value, 1, "the same memory");
    assert.equal(back.parts[0].gate, back.gate);
    assert.equal(back.parts[1].lock.tryAcquire(), true);
    assert.equal(lock.locked, true);
    const inMap = fromWire(structuredClone(toWire(new Map([["job", new Job(sem, [])]]))));
    assert.ok((inMap as Map<string, { gate: Semaphore }>).get("job")?.gate instanceof Semaphore);
  });

  it("toWire() refuses a primitive inside an Error's cause, an AggregateError's errors or an Error's field, naming it, when cloned", () => {
    const sem = new Semaphore();
    const lock = new Lock();
    const withField = Object.assign(new Error("with a field"), { gate: sem });
    const causeOfCause = new Error("outer", { cause: new TypeError("inner", { cause: [lock] }) });
    const cases: [unknown, RegExp][] = [
      [new Error("failed", { cause: sem }), /^Cannot send a Semaphore inside an Error's cause: /],
      [
        new AggregateError([1, { lock }], "all"),
        /^Cannot send a Lock inside an AggregateError's errors: /,
      ],
      [withField, /^Cannot send a Semaphore inside an Error's field "gate": /],
      [causeOfCause, /^Cannot send a Lock inside a TypeError's cause: /],
      [{ list: [new RangeError("r", { cause: { deep: sem } })] }, /inside a RangeError's cause/],
      [new Map([["e", new Error("e", { cause: lock })]]), /a Lock inside an Error's cause/],
      // Beside a primitive that is sent: the copy refuses it too.
      [{ sem, errors: new Set([new Error("e", { cause: sem })]) }, /an Error's cause/],
    ];
    for (const [value, message] of cases) {
      // Not thrown here (a worker sending a result cannot take a throw), but
      // by every clone of the form, which each sender reports as a job failure.
      const wire = toWire(value);
      assert.equal(wire?.__fastpoolShared, "Nested");
      assert.throws(() => structuredClone(wire), { message }); // Deno: a DataCloneError
    }
    const cyclic = new Error("cyclic");
    cyclic.cause = { again: cyclic };
    assert.equal(toWire(cyclic), undefined, "a cycle through an Error ends");
  });

  it("toWire() does not walk built-in and platform objects, and keeps them as they are", () => {
    const sem = new Semaphore();
    const date = Object.assign(new Date(0), { sem });
    const bytes = new Uint8Array([1]);
    const blob = new Blob(["x"]);
    const pattern = /x/;
    assert.equal(toWire(date), undefined);
    const value = { sem, date, bytes, blob, pattern, view: new DataView(new ArrayBuffer(2)) };
    const wire = toWire(value) as { value: typeof value };
    assert.equal(wire.value.date, date, "not copied");
    assert.equal(wire.value.bytes, bytes);
    assert.equal(wire.value.blob, blob);
    assert.equal(wire.value.pattern, pattern);
    const back = fromWire(structuredClone(wire)) as typeof value;
    assert.ok(back.date instanceof Date);
    assert.ok(back.bytes instanceof Uint8Array);
    assert.ok(back.blob instanceof Blob);
    assert.ok(back.pattern instanceof RegExp);
    assert.ok(back.sem instanceof Semaphore);
  });

  it("toWire() finds a Semaphore beside an object whose prototype throws when read", () => {
    // Reading a key its prototype lacks throws, as strict config objects do; a clone reads only own fields.
    const strict = new Proxy({}, {
      get(_, key) {
        throw new Error(`no ${String(key)}`);
      },
    });
    const odd = Object.assign(Object.create(strict), { n: 1 });
    const sem = new Semaphore(2);
    const back = fromWire(structuredClone(toWire([odd, sem]))) as [unknown, Semaphore];
    assert.deepEqual(back[0], { n: 1 });
    assert.ok(back[1] instanceof Semaphore);
    assert.equal(back[1].tryAcquire(), true);
    assert.equal(sem.value, 1);
  });

  it("toWire() and fromWire() carry a Semaphore and a Lock through postMessage", async () => {
    using worker = opsWorker();
    const sem = new Semaphore(4);
    const lock = new Lock();
    assert.deepEqual(
      await ask(worker, { op: "describe", target: toWire(sem) }),
      {
        result: { kind: "Semaphore", value: 4, shared: true },
      },
    );
    assert.deepEqual(
      await ask(worker, { op: "describe", target: toWire(lock) }),
      {
        result: { kind: "Lock", value: 1, shared: true },
      },
    );
    assert.deepEqual(
      await ask(worker, { op: "tryAcquire", target: toWire(lock) }),
      { result: true },
    );
    assert.equal(lock.locked, true, "the worker took the main thread's lock");
    assert.deepEqual(
      await ask(worker, { op: "acquire", target: toWire(sem) }),
      { result: true },
    );
    assert.equal(sem.value, 3);
    assert.deepEqual(await ask(worker, { op: "describe", target: 7 }), {
      result: { kind: "number" },
    });
  });
});
