/**
 * docs/PROTOCOL.md §11.6 is what the implementation produces from the same inputs, and its bytes
 * check out with nothing but SHA-256 and Ed25519 (an independent reading of the formats).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { BEGIN, currentDocBlock, DOC_PATH, ledgerExampleMarkdown, LOG_JWK, ORIGIN } from "./worked-example.ts";

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

describe("docs/PROTOCOL.md ledger worked example (§11.6)", () => {
  it("is exactly what the implementation produces", () => {
    const doc = readFileSync(DOC_PATH, "utf8");
    const block = currentDocBlock(doc);
    assert.ok(block, "the ledger example block is present");
    assert.equal(block, ledgerExampleMarkdown());
    assert.ok(doc.indexOf(BEGIN) > doc.indexOf("## 11. Ledger and witnessing"), "inside §11");
  });

  it("has leaves, root, checkpoint signature and inclusion proof that verify from first principles", () => {
    const block = ledgerExampleMarkdown();
    const entries = [...block.matchAll(/```\n([0-9a-f\n]+)\nleaf ([0-9a-f]{64})\n```/g)].map((m) => ({
      bytes: Buffer.from(m[1]!.replace(/\n/g, ""), "hex"),
      leaf: m[2]!,
    }));
    assert.equal(entries.length, 3);
    const leaves = entries.map((e) => sha256(Buffer.of(0), e.bytes));
    entries.forEach((e, i) => assert.equal(leaves[i]!.toString("hex"), e.leaf));
    const root = sha256(Buffer.of(1), sha256(Buffer.of(1), leaves[0]!, leaves[1]!), leaves[2]!);
    assert.match(block, new RegExp(`root        ${root.toString("hex")}`));

    const note = /```\n(liaison\/ledger\/VN-MPS\n3\n\S+\n)\n(\u2014 \S+ \S+)\n```/.exec(block)!;
    const text = note[1]!;
    assert.equal(text.split("\n")[2], root.toString("base64"));
    const sig = Buffer.from(note[2]!.split(" ")[2]!, "base64");
    const pub = Buffer.from(LOG_JWK.x, "base64url");
    assert.deepEqual(sig.subarray(0, 4), sha256(Buffer.from(ORIGIN), Buffer.of(0x0a, 0x01), pub).subarray(0, 4));
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: LOG_JWK.x }, format: "jwk" });
    assert.equal(verify(null, Buffer.from(text), key, sig.subarray(4)), true);

    // The cosignature: Ed25519 over "cosignature/v1\ntime <t>\n" || note text, key from the vkey.
    const cos = /(liaison\/witness\/CN-MPS)\+([0-9a-f]{8})\+(\S+)\n\u2014 liaison\/witness\/CN-MPS (\S+)/.exec(block)!;
    const vkey = Buffer.from(cos[3]!, "base64");
    assert.equal(vkey[0], 0x04);
    const cosig = Buffer.from(cos[4]!, "base64");
    assert.equal(cosig.subarray(0, 4).toString("hex"), cos[2]);
    assert.equal(sha256(Buffer.from(cos[1]!), Buffer.of(0x0a, 0x04), vkey.subarray(1)).subarray(0, 4).toString("hex"), cos[2]);
    const time = cosig.readBigUInt64BE(4);
    const witnessKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: vkey.subarray(1).toString("base64url") }, format: "jwk" });
    assert.equal(verify(null, Buffer.from(`cosignature/v1\ntime ${time}\n${text}`), witnessKey, cosig.subarray(12)), true);

    // Inclusion of entry 0 in 3 (RFC 9162 §2.1.3.2 by hand): H(H(leaf0, p0), p1).
    const proof = /bottom-up:\n\n```\n([0-9a-f]{64})\n([0-9a-f]{64})\n```/.exec(block)!;
    const r = sha256(Buffer.of(1), sha256(Buffer.of(1), leaves[0]!, Buffer.from(proof[1]!, "hex")), Buffer.from(proof[2]!, "hex"));
    assert.deepEqual(r, root);
  });
});
