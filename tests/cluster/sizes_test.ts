/**
 * A chunk's size budget without Redis: what items write as JSON, recorded
 * sparsely, and where a chunk stops.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CHUNK_CHARS, ItemSizes, MARK_CHARS } from "../../src/cluster/_sizes.ts";
import { fixItems } from "../../src/cluster/_items.ts";
import { fixArgs, fixValue, VALUE_CHARS } from "../../src/cluster/_wire.ts";

describe("cluster chunk size budget", () => {
  it("fixValue() and fixArgs() measure at least what JSON writes, from the check's walk", () => {
    const size = { chars: 0 };
    const values = [
      7,
      -2.2250738585072014e-308,
      "abc",
      null,
      true,
      [1, "two", { three: [3.5] }],
      { a: "x".repeat(5000), b: [null, false] },
    ];
    for (const value of values) {
      fixValue(value, "map", "item 0", size);
      const written = JSON.stringify(value).length;
      assert.ok(size.chars >= written, `${size.chars} >= ${written}`);
      assert.ok(size.chars <= written + 8 * VALUE_CHARS, `${size.chars} close to ${written}`);
    }
    const shared = { s: "y".repeat(1000) };
    fixValue([shared, shared], "map", "item 0", size);
    assert.ok(size.chars >= 2000, "a shared object counts each time JSON writes it");
    fixArgs([1, "x".repeat(100)], "submit job", size);
    assert.ok(size.chars >= JSON.stringify([1, "x".repeat(100)]).length);
  });

  it("ItemSizes.fit() stops a chunk before the item that passes its budget, and keeps at least one", () => {
    const sizes = new ItemSizes();
    const big = CHUNK_CHARS / 2 + 1;
    for (let i = 0; i < 1000; i++) sizes.add(i, VALUE_CHARS); // small: recorded in runs
    sizes.add(1000, big);
    sizes.add(1001, big);
    sizes.add(1002, 3 * CHUNK_CHARS); // alone past the budget
    for (let i = 1003; i < 2000; i++) sizes.add(i, VALUE_CHARS);
    assert.equal(sizes.fit(0, 1000, CHUNK_CHARS), 1000);
    assert.equal(sizes.fit(0, 2000, CHUNK_CHARS), 1001, "the small ones and one big");
    assert.equal(sizes.fit(1001, 999, CHUNK_CHARS), 1);
    assert.equal(sizes.fit(1002, 998, CHUNK_CHARS), 1, "at least one item");
    assert.equal(sizes.fit(1003, 997, CHUNK_CHARS), 997);
    assert.equal(sizes.fit(1003, 997, MARK_CHARS), 146, "a smaller budget: fewer small items");
    const chars = sizes.chars(0, 1001);
    assert.ok(chars >= 1000 * VALUE_CHARS - MARK_CHARS + big && chars <= 1000 * VALUE_CHARS + big);
  });

  it("a chunk cut at CHUNK_CHARS writes at most 2 ** 25 characters, though its strings are all escapes", () => {
    const controls = "\u0001".repeat(2 ** 18); // JSON writes 6 characters for each
    const items = Array.from({ length: 200 }, () => controls);
    const sizes = fixItems(items, "map");
    const count = sizes.fit(0, items.length, CHUNK_CHARS);
    const written = JSON.stringify(items.slice(0, count)).length;
    assert.ok(count >= 1 && count < items.length, `a chunk of ${count}`);
    assert.ok(written <= 2 ** 25, `${written} characters written`); // before (2 ** 25 counted): 6 times that
  });
});
