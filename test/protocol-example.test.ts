import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createPublicKey, verify } from "node:crypto";
import { currentDocBlock, DOC_PATH, workedExampleMarkdown } from "./support/worked-example.ts";

describe("docs/PROTOCOL.md worked example", () => {
  it("is exactly what the implementation produces from the same inputs", async () => {
    const doc = readFileSync(DOC_PATH, "utf8");
    const block = currentDocBlock(doc);
    assert.ok(block, "the worked example block is present in docs/PROTOCOL.md");
    assert.equal(block, await workedExampleMarkdown());
  });

  it("has a signature that verifies over the documented signing input with the RFC 8037 public key", async () => {
    const block = await workedExampleMarkdown();
    const jws = /^(eyJ[A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]+)$/m.exec(block);
    assert.ok(jws, "the detached JWS is in the example");
    const messageHex = /message bytes\*\* \(hex\):\n\n```\n([0-9a-f\n]+)```/.exec(block)![1]!.replace(/\n/g, "");
    const signingInput = `${jws[1]}.${Buffer.from(messageHex, "hex").toString("base64url")}`;
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }, format: "jwk" });
    assert.equal(verify(null, Buffer.from(signingInput), key, Buffer.from(jws[2]!, "base64url")), true);
  });
});
