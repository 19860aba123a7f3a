import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LiaisonError, type ErrorCode } from "../errors/index.ts";
import { ATTESTATION_TYP, createAttestation, verifyAttestation } from "./attestation.ts";
import { base64url } from "./jws.ts";
import { KeyRing } from "./keyring.ts";
import { generateSigningKey, jwkThumbprint } from "./keys.ts";
import { createPartyCa, certificateDer } from "./pki.ts";
import { signDetached } from "./sign.ts";
import { verifyDetached } from "./verify.ts";
import { CompactSign } from "jose";

const T0 = new Date("2026-01-01T00:00:00Z");
const T1 = new Date("2026-06-01T00:00:00Z");
const HOUR = 3_600_000;
const at = (base: Date, ms: number): Date => new Date(base.getTime() + ms);

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

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error: unknown) => error instanceof LiaisonError && error.code === code);
}

describe("key attestations", async () => {
  const vnCa = await createPartyCa({ party: "VN-MPS", displayName: "Viet Nam", now: T0, bits: 2048 });
  const cnCa = await createPartyCa({ party: "CN-MPS", displayName: "China", now: T0, bits: 2048 });
  const key = await generateSigningKey();
  const jws = await createAttestation(vnCa, { party: "VN-MPS", jwk: key.publicJwk, validFrom: T0, issuedAt: T0 });

  it("is a compact RS256 JWS with typ and x5c naming the CA, and claims binding the kid to the party", async () => {
    const [h, p] = jws.split(".");
    const header = JSON.parse(Buffer.from(h!, "base64url").toString());
    assert.deepEqual(header, { alg: "RS256", typ: ATTESTATION_TYP, x5c: [certificateDer(vnCa.certPem).toString("base64")] });
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    assert.deepEqual(claims, {
      iss: "urn:liaison:party:VN-MPS",
      party: "VN-MPS",
      kid: key.kid,
      jwk: key.publicJwk,
      use: "message-signing",
      valid_from: T0.getTime() / 1000,
      iat: T0.getTime() / 1000,
    });
    assert.equal(key.kid, await jwkThumbprint(key.publicJwk));
  });

  it("verifies against the trusted CA and returns the key and its validity", async () => {
    const v = await verifyAttestation(jws, vnCa.certPem, "VN-MPS");
    assert.equal(v.party, "VN-MPS");
    assert.equal(v.kid, key.kid);
    assert.ok(v.publicKey.equals(key.publicKey));
    assert.deepEqual(v.validFrom, T0);
    assert.equal(v.retiredAt, undefined);
  });

  it("refuses an attestation when another CA is trusted for that party (x5c is not trusted blindly)", async () => {
    const forged = await createAttestation(cnCa, { party: "CN-MPS", jwk: key.publicJwk, validFrom: T0, issuedAt: T0 });
    await rejects(verifyAttestation(forged, vnCa.certPem, "VN-MPS"), "ATTESTATION_INVALID");
    await rejects(verifyAttestation(jws, cnCa.certPem, "CN-MPS"), "ATTESTATION_INVALID");
  });

  it("refuses an attestation that carries the trusted CA in x5c but is signed by another key", async () => {
    const header = { alg: "RS256", typ: ATTESTATION_TYP, x5c: [certificateDer(vnCa.certPem).toString("base64")] };
    const claims = JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString());
    const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(cnCa.key);
    const error = await rejects(verifyAttestation(forged, vnCa.certPem, "VN-MPS"), "ATTESTATION_INVALID");
    assert.match(error.message, /signature/);
  });

  it("refuses a kid that is not the thumbprint of the jwk, a wrong typ, and another alg", async () => {
    const other = await generateSigningKey();
    const header = { alg: "RS256", typ: ATTESTATION_TYP, x5c: [certificateDer(vnCa.certPem).toString("base64")] };
    const claims = JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString());
    const sign = (h: object, c: object) => new CompactSign(new TextEncoder().encode(JSON.stringify(c))).setProtectedHeader(h as never).sign(vnCa.key);
    await rejects(verifyAttestation(await sign(header, { ...claims, kid: other.kid }), vnCa.certPem, "VN-MPS"), "ATTESTATION_INVALID");
    await rejects(verifyAttestation(await sign({ ...header, typ: "JWT" }, claims), vnCa.certPem, "VN-MPS"), "ATTESTATION_INVALID");
    await rejects(verifyAttestation(await sign({ ...header, alg: "PS256" }, claims), vnCa.certPem, "VN-MPS"), "ALGORITHM_NOT_ALLOWED");
    const [h, p, s] = jws.split(".");
    const noneHeader = base64url(new TextEncoder().encode(JSON.stringify({ ...header, alg: "none" })));
    await rejects(verifyAttestation(`${noneHeader}.${p}.`, vnCa.certPem, "VN-MPS"), "ATTESTATION_INVALID");
    await rejects(verifyAttestation(`${h}.${p}x.${s}`, vnCa.certPem, "VN-MPS"), "ATTESTATION_INVALID");
  });

  it("refuses an attestation checked for the wrong party", async () => {
    await rejects(verifyAttestation(jws, vnCa.certPem, "CN-MPS"), "ATTESTATION_INVALID");
  });
});

describe("KeyRing and rotation", async () => {
  const ca = await createPartyCa({ party: "VN-MPS", displayName: "Viet Nam", now: T0, bits: 2048 });
  const oldKey = await generateSigningKey();
  const newKey = await generateSigningKey();
  const oldActive = await createAttestation(ca, { party: "VN-MPS", jwk: oldKey.publicJwk, validFrom: T0, issuedAt: T0 });
  const oldRetired = await createAttestation(ca, { party: "VN-MPS", jwk: oldKey.publicJwk, validFrom: T0, retiredAt: T1, issuedAt: T1 });
  const newActive = await createAttestation(ca, { party: "VN-MPS", jwk: newKey.publicJwk, validFrom: T1, issuedAt: T1 });

  it("resolves a key valid at the message time, and refuses it before valid_from and from retired_at", async () => {
    const ring = new KeyRing();
    await ring.addAttestations("VN-MPS", ca.certPem, [oldActive, oldRetired, newActive]);
    assert.ok(ring.resolve(oldKey.kid, "VN-MPS", at(T1, -HOUR)).equals(oldKey.publicKey));
    throwsCode(() => ring.resolve(oldKey.kid, "VN-MPS", T1), "KEY_NOT_VALID_AT_TIME");
    throwsCode(() => ring.resolve(oldKey.kid, "VN-MPS", at(T0, -HOUR)), "KEY_NOT_VALID_AT_TIME");
    assert.ok(ring.resolve(newKey.kid, "VN-MPS", at(T1, HOUR)).equals(newKey.publicKey));
    throwsCode(() => ring.resolve(newKey.kid, "VN-MPS", at(T1, -HOUR)), "KEY_NOT_VALID_AT_TIME");
  });

  it("lets the retired attestation win whichever order the evidence arrives in", async () => {
    for (const order of [[oldActive, oldRetired], [oldRetired, oldActive]]) {
      const ring = new KeyRing();
      await ring.addAttestations("VN-MPS", ca.certPem, order);
      throwsCode(() => ring.resolve(oldKey.kid, "VN-MPS", at(T1, HOUR)), "KEY_NOT_VALID_AT_TIME");
      assert.deepEqual(ring.keys("VN-MPS")[0]?.retiredAt, T1);
    }
  });

  it("refuses an unknown kid, and a known kid claimed for another party", async () => {
    const ring = new KeyRing();
    await ring.addAttestations("VN-MPS", ca.certPem, [oldActive]);
    throwsCode(() => ring.resolve(newKey.kid, "VN-MPS", T0), "KEY_UNKNOWN");
    throwsCode(() => ring.resolve(oldKey.kid, "CN-MPS", T0), "KEY_UNKNOWN");
  });

  it("verifies a message signed before rotation, and refuses one signed with the old key after retired_at", async () => {
    const ring = new KeyRing();
    await ring.addAttestations("VN-MPS", ca.certPem, [oldActive, oldRetired, newActive]);
    const payload = new TextEncoder().encode("message bytes");
    const jws = await signDetached(payload, oldKey.privateKey, { kid: oldKey.kid, typ: "liaison-message+jws" });
    const options = (time: Date) => ({ typ: "liaison-message+jws", algorithms: ["EdDSA"], resolveKey: ring.resolver("VN-MPS", time) });
    await verifyDetached(jws, payload, options(at(T1, -HOUR)));
    await rejects(verifyDetached(jws, payload, options(at(T1, HOUR))), "KEY_NOT_VALID_AT_TIME");
  });

  it("adds nothing when one attestation of a batch is bad", async () => {
    const ring = new KeyRing();
    await rejects(ring.addAttestations("VN-MPS", ca.certPem, [oldActive, "x.y.z"]), "ATTESTATION_INVALID");
    assert.deepEqual(ring.parties(), []);
  });
});
