import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { describe, it } from "node:test";
import { LiaisonError, type ErrorCode } from "../errors/index.ts";
import { base64url, signParts, verifyParts } from "./jws.ts";
import { generateSigningKey, jwkThumbprint } from "./keys.ts";
import { signDetached } from "./sign.ts";
import { verifyDetached, type ResolveKey } from "./verify.ts";

// RFC 8037 Appendix A.1: the Ed25519 private key.
const RFC8037_JWK = {
  kty: "OKP",
  crv: "Ed25519",
  d: "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
  x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
} as const;

const MESSAGE_TYP = "liaison-message+jws";
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function rejects(promise: Promise<unknown>, code: ErrorCode): Promise<LiaisonError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LiaisonError, `expected a LiaisonError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

/** Replaces the protected header of a detached JWS (the signature then no longer matches it). */
function withHeader(jws: string, header: unknown): string {
  const [, , sig] = jws.split(".");
  return `${base64url(text(JSON.stringify(header)))}..${sig}`;
}

describe("RFC 8037 Appendix A (Ed25519 test vectors)", () => {
  const privateKey = createPrivateKey({ key: RFC8037_JWK, format: "jwk" });
  const publicKey = createPublicKey(privateKey);

  it("A.3: the JWK thumbprint of the public key is kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", async () => {
    assert.equal(await jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: RFC8037_JWK.x }), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  });

  it("A.4: signing 'Example of Ed25519 signing' gives the exact signature of the RFC", async () => {
    const parts = await signParts({ alg: "EdDSA" }, text("Example of Ed25519 signing"), privateKey);
    assert.equal(parts.protected, "eyJhbGciOiJFZERTQSJ9");
    assert.equal(base64url(text("Example of Ed25519 signing")), "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
    assert.equal(parts.signature, "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
  });

  it("A.5: the RFC's signature verifies with the public key, and not over other bytes", async () => {
    const sig = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    await verifyParts("eyJhbGciOiJFZERTQSJ9", text("Example of Ed25519 signing"), sig, publicKey, ["EdDSA"]);
    await rejects(verifyParts("eyJhbGciOiJFZERTQSJ9", text("Example of Ed25519 signinG"), sig, publicKey, ["EdDSA"]), "SIGNATURE_INVALID");
  });
});

describe("signDetached", () => {
  it("produces header..signature with the protected header exactly {alg, kid, typ}", async () => {
    const key = await generateSigningKey();
    const jws = await signDetached(text("bytes"), key.privateKey, { kid: key.kid, typ: MESSAGE_TYP });
    const [header, payload, signature] = jws.split(".");
    assert.equal(payload, "");
    assert.match(signature ?? "", /^[A-Za-z0-9_-]{86}$/);
    assert.equal(Buffer.from(header ?? "", "base64url").toString(), `{"alg":"EdDSA","kid":"${key.kid}","typ":"${MESSAGE_TYP}"}`);
  });

  it("treats a non-Ed25519 key as our own misuse (TypeError)", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    await assert.rejects(signDetached(text("x"), privateKey, { kid: "k", typ: MESSAGE_TYP }), TypeError);
  });
});

describe("verifyDetached", async () => {
  const key = await generateSigningKey();
  const other = await generateSigningKey();
  const payload = text("exact protobuf bytes \u0000\u00ff");
  const jws = await signDetached(payload, key.privateKey, { kid: key.kid, typ: MESSAGE_TYP });
  const keys = new Map<string, KeyObject>([[key.kid, key.publicKey], [other.kid, other.publicKey]]);
  const resolveKey: ResolveKey = (header) => {
    const found = keys.get(header.kid);
    if (!found) throw new LiaisonError("KEY_UNKNOWN", "signing key is not known");
    return found;
  };
  const options = { typ: MESSAGE_TYP, resolveKey, algorithms: ["EdDSA"] as const };

  it("accepts the signature over the same bytes and returns the header and key", async () => {
    const result = await verifyDetached(jws, payload, options);
    assert.deepEqual(result.protectedHeader, { alg: "EdDSA", kid: key.kid, typ: MESSAGE_TYP });
    assert.ok(result.key.equals(key.publicKey));
  });

  it("refuses a payload with one byte flipped, with a fixed message", async () => {
    const tampered = Uint8Array.from(payload);
    tampered[3] = (tampered[3] as number) ^ 0x01;
    const error = await rejects(verifyDetached(jws, tampered, options), "SIGNATURE_INVALID");
    assert.equal(error.message, "signature verification failed");
  });

  it("refuses a signature made by another key under the same kid", async () => {
    const forged = await signDetached(payload, other.privateKey, { kid: key.kid, typ: MESSAGE_TYP });
    await rejects(verifyDetached(forged, payload, options), "SIGNATURE_INVALID");
  });

  it("refuses alg none and alg HS256 before looking at any key", async () => {
    let resolved = 0;
    const counting = { ...options, resolveKey: (h: Parameters<ResolveKey>[0]) => (resolved++, resolveKey(h)) };
    await rejects(verifyDetached(withHeader(jws, { alg: "none", kid: key.kid, typ: MESSAGE_TYP }), payload, counting), "ALGORITHM_NOT_ALLOWED");
    await rejects(verifyDetached(withHeader(jws, { alg: "HS256", kid: key.kid, typ: MESSAGE_TYP }), payload, counting), "ALGORITHM_NOT_ALLOWED");
    assert.equal(resolved, 0);
  });

  it("refuses a missing alg, a missing kid, a non-string kid", async () => {
    await rejects(verifyDetached(withHeader(jws, { kid: key.kid, typ: MESSAGE_TYP }), payload, options), "ENVELOPE_MALFORMED");
    await rejects(verifyDetached(withHeader(jws, { alg: "EdDSA", typ: MESSAGE_TYP }), payload, options), "ENVELOPE_MALFORMED");
    await rejects(verifyDetached(withHeader(jws, { alg: "EdDSA", kid: 7, typ: MESSAGE_TYP }), payload, options), "ENVELOPE_MALFORMED");
  });

  it("refuses a receipt typ where a message typ is expected", async () => {
    const receipt = await signDetached(payload, key.privateKey, { kid: key.kid, typ: "liaison-receipt+jws" });
    const error = await rejects(verifyDetached(receipt, payload, options), "ENVELOPE_MALFORMED");
    assert.match(error.message, /typ/);
  });

  it("refuses crit, b64, and keys carried in the header (jwk, x5c, jku)", async () => {
    for (const extra of [{ crit: ["exp"] }, { b64: false }, { jwk: key.publicJwk }, { x5c: ["AAAA"] }, { jku: "https://evil.example" }]) {
      const header = { alg: "EdDSA", kid: key.kid, typ: MESSAGE_TYP, ...extra };
      const error = await rejects(verifyDetached(withHeader(jws, header), payload, options), "ENVELOPE_MALFORMED");
      assert.match(error.message, new RegExp(Object.keys(extra)[0] as string));
    }
  });

  it("refuses an unknown kid with the resolver's KEY_UNKNOWN", async () => {
    const stranger = await generateSigningKey();
    const unknown = await signDetached(payload, stranger.privateKey, { kid: stranger.kid, typ: MESSAGE_TYP });
    await rejects(verifyDetached(unknown, payload, options), "KEY_UNKNOWN");
  });

  it("refuses malformed shapes: attached payload, two parts, non-base64url, non-JSON header, too long", async () => {
    const [h, , s] = jws.split(".");
    await rejects(verifyDetached(`${h}.${base64url(payload)}.${s}`, payload, options), "ENVELOPE_MALFORMED");
    await rejects(verifyDetached(`${h}.${s}`, payload, options), "ENVELOPE_MALFORMED");
    await rejects(verifyDetached(`${h}..${s}=`, payload, options), "ENVELOPE_MALFORMED");
    await rejects(verifyDetached(`${h}+..${s}`, payload, options), "ENVELOPE_MALFORMED");
    await rejects(verifyDetached(`${base64url(text("not json"))}..${s}`, payload, options), "ENVELOPE_MALFORMED");
    await rejects(verifyDetached(`${base64url(text("[1]"))}..${s}`, payload, options), "ENVELOPE_MALFORMED");
    await rejects(verifyDetached(`${h}..${s}`.padEnd(5000, "A"), payload, options), "ENVELOPE_TOO_LARGE");
    await rejects(verifyDetached(42, payload, options), "ENVELOPE_MALFORMED");
  });

  it("treats a missing allowlist or a non-bytes payload as our own misuse (TypeError)", async () => {
    await assert.rejects(verifyDetached(jws, payload, { ...options, algorithms: [] }), TypeError);
    await assert.rejects(verifyDetached(jws, "text" as unknown as Uint8Array, options), TypeError);
  });
});
