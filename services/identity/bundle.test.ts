import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { LiaisonError, type ErrorCode } from "../errors/index.ts";
import {
  bundleSigningBytes,
  canonicalJson,
  exportPartnerBundle,
  importPartnerBundle,
  loadPartners,
  PartnerBundleSchema,
  removePartner,
  type PartnerBundle,
} from "./bundle.ts";
import { KeyRing } from "./keyring.ts";
import { formatFingerprint, sha256Fingerprint } from "./pki.ts";
import { signParts } from "./jws.ts";
import { loadIdentity, pkiInit, rotateSigningKey } from "./store.ts";

const NOW = new Date("2026-03-01T08:00:00Z");
const LATER = new Date("2026-04-01T08:00:00Z");
let root = "";
after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});
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

describe("canonicalJson", () => {
  it("sorts keys at every depth and writes no whitespace", () => {
    assert.equal(canonicalJson({ b: [2, { d: "é", c: null }], a: true }), '{"a":true,"b":[2,{"c":null,"d":"é"}]}');
  });
  it("refuses values JSON cannot carry exactly (our own misuse)", () => {
    assert.throws(() => canonicalJson({ a: 1.5 }), TypeError);
    assert.throws(() => canonicalJson({ a: undefined }), TypeError);
  });
});

describe("partner bundles", async () => {
  root = await mkdtemp(join(tmpdir(), "liaison-bundle-"));
  const vnDir = join(root, "vn");
  const cnDir = join(root, "cn");
  const vn = await pkiInit({ party: "VN-MPS", displayNames: { en: "Ministry of Public Security of Viet Nam", vi: "Bộ Công an" }, dir: vnDir, now: NOW });
  const cn = await pkiInit({ party: "CN-MPS", displayNames: { en: "Ministry of Public Security of China", "zh-Hans": "公安部" }, dir: cnDir, now: NOW });
  const bundle = await exportPartnerBundle(vnDir, { endpoint: "127.0.0.1:7443", now: NOW });

  it("exports the party, names, endpoint, CA and attestations, signed by the CA over canonical JSON", () => {
    assert.deepEqual(PartnerBundleSchema.parse(bundle), bundle);
    assert.equal(bundle.format, "liaison-partner-bundle/v1");
    assert.equal(bundle.party, "VN-MPS");
    assert.equal(bundle.endpoint, "127.0.0.1:7443");
    assert.equal(bundle.issued_at, NOW.toISOString());
    assert.equal(sha256Fingerprint(bundle.ca_certificate), vn.fingerprint);
    assert.equal(bundle.signing_key_attestations.length, 1);
    assert.match(bundle.signature, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    assert.ok(bundleSigningBytes(bundle).length > 0);
  });

  it("imports with the fingerprint compared out of band (hex or colon form) and lists the partner", async () => {
    const partner = await importPartnerBundle(cnDir, JSON.stringify(bundle), formatFingerprint(vn.fingerprint), { now: NOW });
    assert.equal(partner.party, "VN-MPS");
    assert.equal(partner.endpoint, "127.0.0.1:7443");
    const [listed, ...rest] = await loadPartners(cnDir);
    assert.equal(rest.length, 0);
    assert.equal(listed?.fingerprint, vn.fingerprint);
    assert.deepEqual(listed?.displayNames, bundle.display_names);
    const ring = new KeyRing();
    ring.addAll(listed!.verifiedAttestations);
    assert.equal(ring.keys("VN-MPS")[0]?.kid, vn.activeKid);
    assert.deepEqual((await readdir(join(cnDir, "partners"))).sort(), ["VN-MPS.json"], "no temporary file is left");
  });

  it("refuses a wrong fingerprint, naming both", async () => {
    const error = await rejects(importPartnerBundle(cnDir, bundle, cn.fingerprint), "FINGERPRINT_MISMATCH");
    assert.ok(error.message.includes(formatFingerprint(cn.fingerprint)) && error.message.includes(formatFingerprint(vn.fingerprint)));
  });

  it("refuses a bundle whose endpoint or names were altered in transit", async () => {
    await rejects(importPartnerBundle(cnDir, { ...bundle, endpoint: "203.0.113.9:7443" }, vn.fingerprint), "SIGNATURE_INVALID");
    await rejects(importPartnerBundle(cnDir, { ...bundle, display_names: { en: "Someone else" } }, vn.fingerprint), "SIGNATURE_INVALID");
  });

  it("refuses a malformed bundle, an unknown member, and our own party", async () => {
    await rejects(importPartnerBundle(cnDir, "{not json", vn.fingerprint), "SCHEMA_INVALID");
    await rejects(importPartnerBundle(cnDir, { ...bundle, endpoint: "no-port" }, vn.fingerprint), "SCHEMA_INVALID");
    await rejects(importPartnerBundle(cnDir, { ...bundle, extra: 1 }, vn.fingerprint), "SCHEMA_INVALID");
    await rejects(importPartnerBundle(vnDir, bundle, vn.fingerprint), "CONFLICT");
  });

  it("refuses a bundle, validly signed by its CA, carrying another party's attestation", async () => {
    const cnBundle = await exportPartnerBundle(cnDir, { endpoint: "localhost:7444", now: NOW });
    const { signature: _s, ...content } = { ...bundle, signing_key_attestations: [...cnBundle.signing_key_attestations] };
    const vnIdentity = await loadIdentity(vnDir, { now: NOW });
    const parts = await signParts({ alg: "RS256", typ: "liaison-partner-bundle+jws" }, bundleSigningBytes(content), vnIdentity.caKey!);
    const mixed: PartnerBundle = { ...content, signature: `${parts.protected}..${parts.signature}` };
    await rejects(importPartnerBundle(cnDir, mixed, vn.fingerprint), "ATTESTATION_INVALID");
  });

  it("replaces the record with a newer bundle after rotation, keeping the retired key known", async () => {
    await rotateSigningKey(vnDir, { now: LATER });
    const newer = await exportPartnerBundle(vnDir, { endpoint: "127.0.0.1:8443", now: LATER });
    const partner = await importPartnerBundle(cnDir, newer, vn.fingerprint, { now: LATER });
    assert.equal(partner.endpoint, "127.0.0.1:8443");
    const ring = new KeyRing();
    ring.addAll(partner.verifiedAttestations);
    const keys = ring.keys("VN-MPS");
    assert.equal(keys.length, 2);
    assert.deepEqual(keys[0]?.retiredAt, LATER);
    assert.equal(keys[1]?.retiredAt, undefined);
    await rejects(importPartnerBundle(cnDir, bundle, vn.fingerprint, { now: LATER }), "CONFLICT");
    const stored = JSON.parse(await readFile(join(cnDir, "partners", "VN-MPS.json"), "utf8"));
    assert.equal(stored.endpoint, "127.0.0.1:8443");
  });

  it("refuses a new CA for a known party until the partner is removed", async () => {
    const otherDir = join(root, "vn-reinstalled");
    const reinstalled = await pkiInit({ party: "VN-MPS", displayNames: { en: "Viet Nam" }, dir: otherDir, now: LATER });
    const fresh = await exportPartnerBundle(otherDir, { endpoint: "127.0.0.1:9443", now: LATER });
    const error = await rejects(importPartnerBundle(cnDir, fresh, reinstalled.fingerprint, { now: LATER }), "CONFLICT");
    assert.match(error.message, /another CA/);
    assert.equal(await removePartner(cnDir, "VN-MPS"), true);
    assert.deepEqual(await loadPartners(cnDir), []);
    assert.equal(await removePartner(cnDir, "VN-MPS"), false);
    const partner = await importPartnerBundle(cnDir, fresh, reinstalled.fingerprint, { now: LATER });
    assert.equal(partner.fingerprint, reinstalled.fingerprint);
  });
});
