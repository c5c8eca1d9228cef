import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeError, encodeError, isTransferred, transfer } from "../../src/protocol/codec.ts";

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

  it("encodeError() passes thrown non-errors through", () => {
    assert.equal(roundTrip("just a string"), "just a string");
    assert.deepEqual(roundTrip({ code: 1 }), { code: 1 });
  });

  it("encodeError() keeps a DOMException's name", () => {
    const copy = roundTrip(new DOMException("stop", "AbortError")) as DOMException;
    assert.equal(copy.name, "AbortError");
    assert.equal(copy.message, "stop");
  });

  it("transfer() marks buffers and refuses what cannot move", () => {
    const bytes = new Uint8Array(4);
    const marked = transfer(bytes);
    assert.ok(isTransferred(marked));
    assert.ok(!isTransferred(bytes));
    assert.throws(() => transfer(42), { name: "TypeError", message: /Cannot transfer value/ });
  });
});
