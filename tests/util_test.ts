/**
 * The shared test helpers that decide something themselves.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { within } from "./_util.ts";

describe("within()", () => {
  it("within() is true for a promise that settles in time, false for one that never does", async () => {
    assert.equal(await within(Promise.resolve(1), 1_000), true);
    assert.equal(await within(new Promise(() => {}), 1), false);
  });
});
