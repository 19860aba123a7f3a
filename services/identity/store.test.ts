import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { LiaisonError, type ErrorCode } from "../errors/index.ts";
import { KeyRing } from "./keyring.ts";
import { signDetached } from "./sign.ts";
import { X509Certificate } from "node:crypto";
import { inspect } from "node:util";
import { loadIdentity, pkiInit, renewNodeCertificate, rotateSigningKey } from "./store.ts";
import { verifyDetached } from "./verify.ts";
import { exportPartnerBundle } from "./bundle.ts";

const NOW = new Date("2026-03-01T08:00:00Z");
const roots: string[] = [];
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "liaison-identity-"));
  roots.push(root);
  return root;
}
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
const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe("identity folder", async () => {
  const dir = join(await tempDir(), "vn");
  const created = await pkiInit({ party: "VN-MPS", displayNames: { en: "Ministry of Public Security", vi: "Bộ Công an" }, dir, now: NOW });

  it("writes the CA, the node certificate, a signing key, its attestation and party.json", async () => {
    assert.deepEqual((await readdir(dir)).sort(), ["attestations", "ca.crt", "ca.key", "node.crt", "node.key", "partners", "party.json", "signing"]);
    assert.deepEqual(await readdir(join(dir, "signing")), [`${created.activeKid}.key`]);
    assert.deepEqual(await readdir(join(dir, "attestations")), [`${created.activeKid}.jws`]);
    assert.deepEqual(JSON.parse(await readFile(join(dir, "party.json"), "utf8")), {
      party: "VN-MPS",
      displayNames: { en: "Ministry of Public Security", vi: "Bộ Công an" },
      activeKid: created.activeKid,
    });
    assert.match(await readFile(join(dir, "signing", `${created.activeKid}.key`), "utf8"), new RegExp("^-----BEGIN " + "PRIVATE KEY-----"));
  });

  it("creates every private key 0600 and every directory 0700", async () => {
    for (const key of ["ca.key", "node.key", join("signing", `${created.activeKid}.key`)]) assert.equal(await mode(join(dir, key)), 0o600, key);
    for (const sub of [".", "signing", "attestations", "partners"]) assert.equal(await mode(join(dir, sub)), 0o700, sub);
  });

  it("refuses to overwrite an existing identity", async () => {
    const before = await readFile(join(dir, "ca.key"), "utf8");
    const error = await rejects(pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir, now: NOW }), "CONFLICT");
    assert.match(error.message, /already exists/);
    assert.equal(await readFile(join(dir, "ca.key"), "utf8"), before);
  });

  it("refuses a malformed party id or no display name, writing nothing", async () => {
    const empty = join(await tempDir(), "bad");
    await rejects(pkiInit({ party: "vn-mps", displayNames: { en: "x" }, dir: empty, now: NOW }), "INVALID_ARGUMENT");
    await rejects(pkiInit({ party: "VN-MPS", displayNames: {}, dir: empty, now: NOW }), "INVALID_ARGUMENT");
    await assert.rejects(stat(empty));
  });

  it("loads back what it wrote, and the active key signs messages that its attestation verifies", async () => {
    const identity = await loadIdentity(dir, { now: NOW });
    assert.equal(identity.party, "VN-MPS");
    assert.equal(identity.fingerprint, created.fingerprint);
    assert.equal(identity.activeSigningKey.kid, created.activeKid);
    assert.match(identity.tlsCertPem, /BEGIN CERTIFICATE/);
    assert.match(identity.tlsKeyPem, /BEGIN PRIVATE KEY/);
    assert.equal(identity.attestations.length, 1);
    const ring = new KeyRing();
    await ring.addAttestations(identity.party, identity.caCertPem, identity.attestations);
    const payload = new TextEncoder().encode("hello");
    const jws = await signDetached(payload, identity.activeSigningKey.privateKey, { kid: identity.activeSigningKey.kid, typ: "liaison-message+jws" });
    await verifyDetached(jws, payload, { typ: "liaison-message+jws", algorithms: ["EdDSA"], resolveKey: ring.resolver("VN-MPS", NOW) });
  });

  it("refuses to load a folder whose party.json is missing or names another key", async () => {
    await rejects(loadIdentity(join(dir, "nowhere")), "CONFIG_INVALID");
    const copy = join(await tempDir(), "copy");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: copy, now: NOW });
    const partyFile = JSON.parse(await readFile(join(copy, "party.json"), "utf8"));
    await writeFile(join(copy, "party.json"), JSON.stringify({ ...partyFile, activeKid: "A".repeat(43) }));
    await rejects(loadIdentity(copy, { now: NOW }), "CONFIG_INVALID");
  });

  it("rotates the signing key: new key active, old key retired at the rotation, old messages still verify", async () => {
    const rotDir = join(await tempDir(), "rot");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: rotDir, now: NOW });
    const before = await loadIdentity(rotDir, { now: NOW });
    const payload = new TextEncoder().encode("sent before rotation");
    const oldJws = await signDetached(payload, before.activeSigningKey.privateKey, { kid: before.activeSigningKey.kid, typ: "liaison-message+jws" });

    const rotatedAt = new Date(NOW.getTime() + 30 * 86_400_000);
    const result = await rotateSigningKey(rotDir, { now: rotatedAt });
    assert.equal(result.previousKid, before.activeSigningKey.kid);
    const afterRotation = await loadIdentity(rotDir, { now: rotatedAt });
    assert.equal(afterRotation.activeSigningKey.kid, result.activeKid);
    assert.notEqual(result.activeKid, result.previousKid);
    assert.equal(afterRotation.attestations.length, 2);
    assert.deepEqual(await readdir(join(rotDir, "signing")), [`${result.activeKid}.key`], "the retired private key is deleted");
    assert.equal(await mode(join(rotDir, "signing", `${result.activeKid}.key`)), 0o600);

    const ring = new KeyRing();
    ring.addAll(afterRotation.verifiedAttestations);
    const resolveAt = (t: Date) => ({ typ: "liaison-message+jws", algorithms: ["EdDSA"], resolveKey: ring.resolver("VN-MPS", t) });
    await verifyDetached(oldJws, payload, resolveAt(new Date(rotatedAt.getTime() - 1000)));
    await rejects(verifyDetached(oldJws, payload, resolveAt(new Date(rotatedAt.getTime() + 1000))), "KEY_NOT_VALID_AT_TIME");
    const newJws = await signDetached(payload, afterRotation.activeSigningKey.privateKey, { kid: result.activeKid, typ: "liaison-message+jws" });
    await verifyDetached(newJws, payload, resolveAt(new Date(rotatedAt.getTime() + 1000)));
  });

  it("never shows a private key when an Identity is logged, inspected or serialised", async () => {
    const identity = await loadIdentity(dir, { now: NOW });
    assert.match(identity.tlsKeyPem, /PRIVATE KEY/);
    assert.doesNotMatch(JSON.stringify(identity), /PRIVATE KEY/);
    assert.doesNotMatch(inspect(identity, { depth: 10 }), /PRIVATE KEY/);
  });

  it("does not echo the content of an unreadable private key in its error", async () => {
    const broken = join(await tempDir(), "broken");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: broken, now: NOW });
    await rm(join(broken, "ca.key"));
    await writeFile(join(broken, "ca.key"), "-----BEGIN " + "PRIVATE KEY-----\nU0VDUkVUU0VDUkVU\n-----END " + "PRIVATE KEY-----\n", { mode: 0o600 });
    const error = await rejects(loadIdentity(broken, { now: NOW }), "CONFIG_INVALID");
    assert.match(error.message, /ca\.key/);
    assert.doesNotMatch(error.message, /U0VDUkVU/);
  });

  it("renews the node certificate keeping its names, and loads with it after the old one expired", async () => {
    const renewDir = join(await tempDir(), "renew");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: renewDir, now: NOW, dnsNames: ["liaison.example.gov"], ipAddresses: ["10.1.2.3"] });
    const twoYearsLater = new Date(NOW.getTime() + 2 * 365 * 86_400_000);
    const error = await rejects(loadIdentity(renewDir, { now: twoYearsLater }), "CONFIG_INVALID");
    assert.match(error.message, /node\.crt.*expired/);
    await renewNodeCertificate(renewDir, { now: twoYearsLater });
    const identity = await loadIdentity(renewDir, { now: twoYearsLater });
    const san = new X509Certificate(identity.tlsCertPem).subjectAltName ?? "";
    for (const name of ["DNS:localhost", "DNS:liaison.example.gov", "IP Address:127.0.0.1", "IP Address:10.1.2.3", "URI:urn:liaison:party:VN-MPS"]) {
      assert.ok(san.includes(name), `${name} in ${san}`);
    }
    assert.equal(await mode(join(renewDir, "node.key")), 0o600);
  });

  it("loads on a node host without ca.key; CA operations there are refused with where to run them", async () => {
    const hostDir = join(await tempDir(), "host");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: hostDir, now: NOW });
    await rm(join(hostDir, "ca.key"));
    const identity = await loadIdentity(hostDir, { now: NOW });
    assert.equal(identity.caKey, undefined);
    assert.equal(identity.party, "VN-MPS");
    const error = await rejects(exportPartnerBundle(hostDir, { endpoint: "127.0.0.1:7443", now: NOW }), "CONFIG_INVALID");
    assert.match(error.message, /ca\.key.*run it where ca\.key is kept/);
    await rejects(rotateSigningKey(hostDir, { now: NOW }), "CONFIG_INVALID");
    assert.ok((await readdir(join(hostDir, "attestations"))).length === 1, "nothing rotated");
  });
});
