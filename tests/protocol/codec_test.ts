import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  cloneFailure,
  decodeError,
  encodeError,
  holdsTransferMark,
  isTransferred,
  transfer,
} from "../../src/protocol/codec.ts";

function roundTrip(error: unknown): unknown {
  return decodeError(structuredClone(encodeError(error)));
}

describe("codec", () => {
  it("encodeError() keeps built-in classes, message and stack", () => {
    for (
      const Class of [
        Error,
        TypeError,
        RangeError,
        SyntaxError,
        ReferenceError,
        EvalError,
        URIError,
      ]
    ) {
      const original = new Class("boom");
      const copy = roundTrip(original) as Error;
      assert.ok(copy instanceof Class, Class.name);
      assert.equal(copy.constructor, Class);
      assert.equal(copy.message, "boom");
      assert.equal(copy.stack, original.stack);
    }
  });

  it("decodeError() gives an error sent with no stack its first line as its stack, not the decoder's frames", () => {
    const own = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit");
    for (const hardened of [false, true]) {
      // Read-only, as Object.freeze(Error) leaves it (configurable, so the test can undo it).
      if (hardened) {
        Object.defineProperty(Error, "stackTraceLimit", {
          value: Error.stackTraceLimit,
          writable: false,
          configurable: true,
        });
      }
      try {
        const named = Object.assign(new TypeError("named"), { name: "HttpError" });
        const unnamed = Object.assign(new Error("only message"), { name: "" });
        const cases: [Error, string][] = [
          [new RangeError("no frames"), "RangeError: no frames"],
          [new Error("no frames"), "Error: no frames"],
          [named, "HttpError: named"],
          [new Error(""), "Error"], // as the runtime writes it: no ": "
          [unnamed, "only message"],
        ];
        for (const [original, stack] of cases) {
          Object.defineProperty(original, "stack", { value: undefined, configurable: true });
          const copy = roundTrip(original) as Error;
          assert.equal(copy.constructor, original.constructor);
          // Before: the frames of decodeError (codec.ts) and of this test; then none at all on Bun.
          assert.equal(copy.stack, stack);
        }
      } finally {
        if (own) Object.defineProperty(Error, "stackTraceLimit", own);
        else delete (Error as { stackTraceLimit?: number }).stackTraceLimit;
      }
    }
  });

  it("encodeError() keeps a custom name, own fields and the cause chain", () => {
    class HttpError extends Error {
      override name = "HttpError";
      status = 404;
    }
    const inner = new TypeError("inner");
    const error = new HttpError("outer", { cause: inner });
    const copy = roundTrip(error) as Error & { status: number };
    assert.equal(copy.name, "HttpError");
    assert.equal(copy.status, 404);
    assert.ok(copy.cause instanceof TypeError);
    assert.equal((copy.cause as Error).message, "inner");
  });

  it("encodeError() keeps AggregateError's errors and non-Error causes", () => {
    const error = new AggregateError([new RangeError("a"), new Error("b")], "both", {
      cause: { code: 7 },
    });
    const copy = roundTrip(error) as AggregateError;
    assert.ok(copy instanceof AggregateError);
    assert.ok(copy.errors[0] instanceof RangeError);
    assert.deepEqual(copy.cause, { code: 7 });
  });

  it("encodeError() keeps own fields that are objects, null or errors", () => {
    const error = Object.assign(new Error("with fields"), {
      code: "E42",
      details: { table: "users" },
      retryAfter: null,
      list: [1, 2],
      inner: new RangeError("field"),
    });
    const copy = roundTrip(error) as typeof error;
    assert.deepEqual(
      [copy.code, copy.details, copy.retryAfter, copy.list],
      ["E42", { table: "users" }, null, [1, 2]],
    );
    assert.ok(copy.inner instanceof RangeError);
  });

  it("encodeError() keeps the built-in class an error's class extends, and its name", () => {
    class NotFound extends TypeError {
      override name = "NotFound";
    }
    const copy = roundTrip(new NotFound("gone")) as Error;
    assert.ok(copy instanceof TypeError);
    assert.deepEqual([copy.name, copy.message], ["NotFound", "gone"]);
    const renamed = Object.assign(new RangeError("r"), { name: "Renamed" });
    assert.ok(roundTrip(renamed) instanceof RangeError);
  });

  it("encodeError() keeps a SuppressedError's class, error and suppressed", () => {
    const Suppressed = (globalThis as unknown as {
      SuppressedError: new (e: unknown, s: unknown, m: string) => Error;
    }).SuppressedError;
    const copy = roundTrip(
      new Suppressed(new TypeError("first"), new RangeError("second"), "both"),
    ) as Error & { error: unknown; suppressed: unknown };
    assert.ok(copy instanceof Suppressed);
    assert.equal(copy.message, "both");
    assert.ok(copy.error instanceof TypeError);
    assert.ok(copy.suppressed instanceof RangeError);
  });

  it("encodeError() sends a cause or field that cannot be cloned as a description, and the error whole", () => {
    const error = Object.assign(new RangeError("disk full", { cause: () => 1 }), {
      handle: { close: () => {} },
      tag: Symbol("t"),
      retry: () => {}, // a method set on the error: left out
    });
    const copy = roundTrip(error) as Error & { handle: unknown; tag: unknown };
    assert.equal("retry" in copy, false);
    assert.ok(copy instanceof RangeError);
    assert.equal(copy.message, "disk full");
    assert.match(String(copy.cause), /^\[cannot be sent: function cause\]$/);
    assert.equal(copy.handle, "[cannot be sent: an object]");
    assert.equal(copy.tag, "[cannot be sent: Symbol(t)]");
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const revoked = roundTrip(new TypeError("t", { cause: proxy })) as Error;
    assert.ok(revoked instanceof TypeError);
    assert.match(String(revoked.cause), /^\[cannot be sent: /);
  });

  it("encodeError() keeps a message that is not a string, and a cause chain 30 deep", () => {
    const odd = Object.assign(new Error(), { message: 42 });
    assert.equal((roundTrip(odd) as Error).message, "42");
    let chain = new Error("root");
    for (let i = 1; i < 30; i++) chain = new Error(`level ${i}`, { cause: chain });
    let depth = 0;
    for (let e: unknown = roundTrip(chain); e instanceof Error; e = e.cause) depth++;
    assert.equal(depth, 30);
  });

  it("encodeError() passes thrown non-errors through", () => {
    assert.equal(roundTrip("just a string"), "just a string");
    assert.deepEqual(roundTrip({ code: 1 }), { code: 1 });
    // Plain data with the encoder's own key is data, thrown or as a cause.
    const lookalike = { __fastpoolError: true, errors: 5 };
    assert.deepEqual(roundTrip(lookalike), lookalike);
    assert.deepEqual(
      (roundTrip(new Error("outer", { cause: lookalike })) as Error).cause,
      lookalike,
    );
  });

  it("encodeError() keeps a DOMException's name", () => {
    const copy = roundTrip(new DOMException("stop", "AbortError")) as DOMException;
    assert.equal(copy.name, "AbortError");
    assert.equal(copy.message, "stop");
  });

  it("encodeError() never throws: it says which fields could not be read and keeps the rest", () => {
    const error = new TypeError("kept");
    Object.defineProperty(error, "cause", {
      get() {
        throw new RangeError("no cause for you");
      },
    });
    Object.defineProperty(error, "status", { enumerable: true, value: 418 });
    const copy = roundTrip(error) as Error & { status: number };
    assert.equal(
      copy.message,
      'Cannot read the error the task threw: reading "cause" threw RangeError: no cause for you (its message: kept)',
    );
    assert.equal(copy.name, "TypeError");
    assert.equal(copy.status, 418);
    assert.equal(copy.stack, error.stack);
    assert.equal("cause" in copy, false);
    const trap = new Proxy({}, {
      getPrototypeOf() {
        throw new Error("trap");
      },
    });
    assert.match(
      (roundTrip(trap) as Error).message,
      /^Cannot read the error the task threw: reading its prototype threw Error: trap$/,
    );
  });

  it("encodeError() keeps the errors of an error it could not read in full, which later fields may name", () => {
    const shared = new RangeError("shared");
    const aggregate = new AggregateError([shared], "aggregate");
    Object.defineProperty(aggregate, "bad", {
      enumerable: true,
      get() {
        throw new Error("nope");
      },
    });
    const outer = Object.assign(new Error("outer"), { a: aggregate, b: shared });
    const copy = roundTrip(outer) as Error & { a: Error & { errors: unknown[] }; b: unknown };
    // Before: `b` arrived as the encoder's raw reference, { __fastpoolError: "ref", id: 2 }.
    assert.ok(copy.b instanceof RangeError);
    assert.equal(copy.a.constructor, Error); // demoted: not all of it could be read
    assert.match(copy.a.message, /reading "bad" threw Error: nope/);
    assert.equal(copy.a.errors[0], copy.b);
  });

  it("decodeError() rebuilds errors named like Object.prototype's members as plain errors", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      const error = new Error("odd name");
      Object.defineProperty(error, "name", { value: name });
      const copy = roundTrip(error) as Error;
      assert.ok(copy instanceof Error, name);
      assert.equal(copy.name, name);
      assert.equal(copy.message, "odd name");
    }
  });

  it("encodeError() keeps cycles as cycles: an error that is its own cause, or in its own errors", () => {
    const self = new Error("self") as Error & { again?: unknown };
    self.cause = self;
    self.again = { note: "a field" };
    const copy = roundTrip(self) as Error;
    assert.equal(copy.cause, copy);
    const outer = new AggregateError([], "outer");
    const inner = new TypeError("inner", { cause: outer });
    outer.errors.push(inner, outer);
    const back = roundTrip(outer) as AggregateError;
    assert.ok(back.errors[0] instanceof TypeError);
    assert.equal((back.errors[0] as Error).cause, back);
    assert.equal(back.errors[1], back);
    assert.equal(Object.getOwnPropertyDescriptor(back, "errors")!.enumerable, false);
  });

  it("encodeError() sends an error met on two branches once: a graph costs its size, and comes back shared", () => {
    type Node = Error & { left?: Node; right?: Node };
    let node: Node = new Error("leaf");
    for (let i = 0; i < 60; i++) {
      const up: Node = new Error(`level ${i}`);
      up.left = node;
      up.right = node;
      node = up;
    }
    // Before: each path was encoded on its own, 2^60 of them: the encoder never returned.
    const encoded = encodeError(node);
    assert.ok(JSON.stringify(encoded).length < 100_000);
    const copy = decodeError(structuredClone(encoded)) as Node;
    assert.equal(copy.message, "level 59");
    assert.equal(copy.left, copy.right);
    assert.equal(copy.left!.left, copy.right!.right);
    const shared = new RangeError("shared");
    const both = roundTrip(new AggregateError([shared, shared], "twice", { cause: shared }));
    assert.equal((both as AggregateError).errors[0], (both as Error).cause);
    assert.ok((both as Error).cause instanceof RangeError);
  });

  it("encodeError() cuts a chain deeper than 100 with a string saying so, however long", () => {
    let error = new Error("root");
    for (let i = 1; i < 10_000; i++) error = new RangeError(`level ${i}`, { cause: error });
    // Before: the raw chain's tail went to structured clone, whose recursion overflowed on Deno.
    let copy = roundTrip(error) as Error;
    assert.ok(copy instanceof RangeError);
    assert.equal(copy.message, "level 9999");
    let depth = 0;
    while (copy.cause instanceof Error) {
      copy = copy.cause;
      depth++;
    }
    assert.equal(depth, 100);
    assert.match(String(copy.cause), /cannot be sent: an error nested more than 100 deep/);
  });

  it("encodeError() sends a thrown transfer() marker as its value; data shaped like its own keys stays data", () => {
    const bytes = new Uint8Array([1, 2]);
    assert.deepEqual(roundTrip(transfer(bytes)), new Uint8Array([1, 2]));
    assert.equal(bytes.byteLength, 2); // copied, not moved
    const cause = roundTrip(new Error("with", { cause: transfer(bytes) })) as Error;
    assert.deepEqual(cause.cause, new Uint8Array([1, 2]));
    for (const key of [true, "ref", "data"]) {
      const data = { __fastpoolError: key, at: 0, value: 1 };
      assert.deepEqual(roundTrip(data), data);
      assert.deepEqual((roundTrip(new Error("x", { cause: data })) as Error).cause, data);
    }
  });

  it("encodeError() keeps errors inside plain objects and arrays: class, name, fields and cause", () => {
    class HttpError extends TypeError {
      override name = "HttpError";
      code = 404;
    }
    const inner = new HttpError("not found", { cause: new RangeError("root") });
    const check = (error: unknown) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.equal((error as Error).name, "HttpError");
      assert.equal((error as HttpError).code, 404);
      assert.ok((error as Error).cause instanceof RangeError);
      assert.equal(((error as Error).cause as Error).message, "root");
    };
    const thrown = roundTrip({ error: inner, context: { url: "/x", tries: [1, 2] } }) as {
      error: unknown;
      context: unknown;
    };
    check(thrown.error);
    assert.deepEqual(thrown.context, { url: "/x", tries: [1, 2] });
    check((roundTrip([0, [inner]]) as unknown[][])[1]![0]);
    const outer = Object.assign(new Error("outer"), { details: [inner, { nested: inner }] });
    const back = roundTrip(outer) as { details: [unknown, { nested: unknown }] };
    check(back.details[0]);
    assert.equal(back.details[1].nested, back.details[0], "one error met twice comes back as one");
  });

  it("encodeError() keeps an array holding an error whole: its holes, at the end too", () => {
    const thrown = [new RangeError("x")];
    thrown.length = 3;
    const sparse = [, new TypeError("y"), , 4]; // holes inside and around
    const back = roundTrip(thrown) as unknown[];
    assert.equal(back.length, 3);
    assert.ok(back[0] instanceof RangeError);
    assert.deepEqual(Object.keys(back), ["0"]);
    const back2 = roundTrip(sparse) as unknown[];
    assert.equal(back2.length, 4);
    assert.deepEqual(Object.keys(back2), ["1", "3"]);
    assert.ok(back2[1] instanceof TypeError);
  });

  it("encodeError() keeps cycles and shared parts through plain objects, and data shaped like its keys as data", () => {
    const error = new Error("with context") as Error & { context: Record<string, unknown> };
    const shared = { n: 1 };
    error.context = { self: error, a: shared, b: shared };
    const back = roundTrip(error) as typeof error;
    assert.equal(back.context.self, back);
    assert.equal(back.context.a, back.context.b);
    const data = { __fastpoolError: "box", value: 1 };
    const thrown = roundTrip({ error: new Error("x"), data }) as { error: unknown; data: unknown };
    assert.ok(thrown.error instanceof Error);
    assert.deepEqual(thrown.data, data);
    // Thrown whole, with an error inside: data too (its error as structured clone makes it).
    const mine = roundTrip({ __fastpoolError: "mine", error: new TypeError("t"), code: 7 }) as {
      __fastpoolError: unknown;
      error: unknown;
      code: unknown;
    };
    assert.equal(mine.__fastpoolError, "mine");
    assert.equal(mine.code, 7);
    assert.ok(mine.error instanceof Error);
    // A transfer() mark inside: its value, copied.
    const marked = roundTrip({
      error: new RangeError("r"),
      bytes: transfer(new Uint8Array([1])),
    }) as {
      bytes: unknown;
    };
    assert.deepEqual(marked.bytes, new Uint8Array([1]));
  });

  it("encodeError() never throws for plain data holding errors that is deep, wide or has a getter that throws", () => {
    let deep: unknown = new Error("at the bottom");
    for (let i = 0; i < 1_000; i++) deep = [deep];
    assert.doesNotThrow(() => structuredClone(encodeError(deep)));
    const wide = Array.from({ length: 20_000 }, (_, i) => ({ i }));
    (wide as unknown[]).push(new TypeError("last"));
    assert.doesNotThrow(() => roundTrip(wide));
    const sly = {
      error: new RangeError("kept"),
      get broken(): never {
        throw new Error("getter says no");
      },
    };
    const back = roundTrip(sly) as unknown as { error: unknown; broken: unknown };
    assert.ok(back.error instanceof RangeError);
    assert.match(
      String(back.broken),
      /^\[cannot be sent: reading it threw Error: getter says no\]$/,
    );
  });

  it("transfer() marks buffers and refuses what cannot move", () => {
    const bytes = new Uint8Array(4);
    const marked = transfer(bytes);
    assert.ok(isTransferred(marked));
    assert.ok(!isTransferred(bytes));
    assert.throws(() => transfer(42), { name: "TypeError", message: /Cannot transfer value/ });
  });

  it("transfer() refuses shared memory, a list that is not an array and list items that cannot move, naming them", () => {
    const shared =
      /^Cannot transfer value: it is \(a view of\) a SharedArrayBuffer, which is shared, not moved/;
    assert.throws(() => transfer(new Int32Array(new SharedArrayBuffer(8))), {
      name: "TypeError",
      message: shared,
    });
    assert.throws(() => transfer(new SharedArrayBuffer(8)), { name: "TypeError", message: shared });
    assert.throws(() => transfer({}, 5 as unknown as Transferable[]), {
      name: "TypeError",
      message: /^Cannot transfer value: "list" must be an array of what to move, received 5$/,
    });
    assert.throws(() => transfer({}, [new ArrayBuffer(1), {} as Transferable]), {
      name: "TypeError",
      message:
        /^Cannot transfer list\[1\]: expected an ArrayBuffer, typed array, MessagePort or stream, received an object$/,
    });
    // A view in the list moves its buffer.
    const view = new Uint8Array(4);
    const marked = transfer({ view }, [view as unknown as Transferable]) as unknown as {
      list: unknown[];
    };
    assert.deepEqual(marked.list, [view.buffer]);
  });

  it("a transfer() mark cannot be cloned, and holdsTransferMark() finds one below the top of a value", () => {
    const mark = transfer(new ArrayBuffer(1));
    assert.throws(() => structuredClone({ inner: mark }));
    assert.equal(holdsTransferMark(mark), false, "a whole value is what it marks");
    assert.equal(holdsTransferMark({ a: [1, { b: mark }] }), true);
    assert.equal(holdsTransferMark(new Map([["k", new Set([mark])]])), true);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.equal(holdsTransferMark(cycle), false);
    assert.match(
      cloneFailure({ inner: mark }, new Error("engine")),
      /holds a transfer\(\) mark inside/,
    );
    assert.equal(cloneFailure({ a: 1 }, new Error("engine words")), "engine words");
  });
});
