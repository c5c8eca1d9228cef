/** Claims without a worker: both ends of `protocol/claims.ts` over one status memory. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  claim,
  claimWord,
  offerClaim,
  releaseClaim,
  stealClaim,
} from "../../src/protocol/claims.ts";
import { CLAIM_RING, Status } from "../../src/protocol/messages.ts";

function status(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Status.WORDS * 4));
}

describe("claims", () => {
  it("a batch the worker claims first is its own: the pool can no longer take it", () => {
    const words = status();
    const word = claimWord(0);
    assert.equal(offerClaim(words, word), true);
    assert.equal(claim(words, word), true);
    assert.equal(stealClaim(words, word), false);
    assert.equal(offerClaim(words, word), true, "claimed: the word is free again");
  });

  it("a batch the pool takes back first is skipped by the worker, which frees the word", () => {
    const words = status();
    const word = claimWord(3);
    assert.equal(offerClaim(words, word), true);
    assert.equal(stealClaim(words, word), true);
    assert.equal(stealClaim(words, word), false, "taken once");
    assert.equal(offerClaim(words, word), false, "in use until the worker has passed it");
    assert.equal(claim(words, word), false);
    assert.equal(offerClaim(words, word), true);
  });

  it("a batch sent without a claim word is always the worker's; an unsent one frees its word", () => {
    const words = status();
    assert.equal(claim(words, -1), true);
    const word = claimWord(5);
    assert.equal(offerClaim(words, word), true);
    releaseClaim(words, word);
    assert.equal(stealClaim(words, word), false);
    assert.equal(offerClaim(words, word), true);
  });

  it("claim words cycle through the ring, inside the status memory", () => {
    const seen = new Set<number>();
    for (let n = 0; n < 3 * CLAIM_RING; n++) seen.add(claimWord(n));
    assert.equal(seen.size, CLAIM_RING);
    for (const word of seen) assert.ok(word >= Status.CLAIMS && word < Status.WORDS);
    assert.equal(claimWord(CLAIM_RING + 2), claimWord(2));
  });
});
