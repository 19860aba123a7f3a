/**
 * Bounded run of the receiver fuzz (fuzz-receiver.ts) in `npm test`: 200 cases against a real
 * node over mTLS. The long run is `npm run fuzz` (scripts/fuzz.ts). FUZZ_SEED replays a run.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fuzzReceiver } from "./fuzz-receiver.ts";
import { report } from "./support.ts";

describe("the receiver pipeline under random byte mutations", () => {
  it("refuses every mutated envelope or accepts exactly the original, once; never crashes, never half-writes", async () => {
    const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
    const stats = await fuzzReceiver({ numRuns: 200, ...(seed !== undefined ? { seed } : {}) });
    assert.equal(stats.cases >= 200, true);
    assert.ok(stats.seconds < 60, `bounded: ${stats.seconds.toFixed(1)} s`);
    report({
      area: "fuzz",
      tried: `${stats.cases} random mutations (flip/insert/delete/truncate, 1–4 each) of valid envelopes, seed ${stats.seed}`,
      answer: `refused: ${Object.entries(stats.refused).map(([c, n]) => `${c} ${n}`).join(", ")}; accepted as the exact original: ${stats.acceptedOriginals}, as the original signed content in a re-framed envelope: ${stats.acceptedVariants}; ${stats.honestPings} honest deliveries answered after the cases`,
      figures: `${stats.seconds.toFixed(1)} s`,
    });
  });
});
