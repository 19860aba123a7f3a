import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { LiaisonError, type ErrorCode } from "../errors/index.ts";
import {
  createPartyCa,
  fingerprintsEqual,
  formatFingerprint,
  issueCertificate,
  issueNodeCertificate,
  normaliseFingerprint,
  partyFromCertificate,
  sha256Fingerprint,
  verifyCertificateIssuedBy,
  verifyPeerCertificate,
} from "./pki.ts";

const NOW = new Date("2026-01-15T10:00:00Z");
const DAY = 86_400_000;

function throwsCode(fn: () => unknown, code: ErrorCode): LiaisonError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof LiaisonError, `expected a LiaisonError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe("party PKI", async () => {
  const vnCa = await createPartyCa({ party: "VN-MPS", displayName: "Bộ Công an Việt Nam", now: NOW });
  const cnCa = await createPartyCa({ party: "CN-MPS", displayName: "中华人民共和国公安部", now: NOW, bits: 2048 });
  const node = await issueNodeCertificate(vnCa, { party: "VN-MPS", now: NOW, dnsNames: ["liaison.mps.gov.vn"], ipAddresses: ["10.0.0.7"] });

  it("makes a self-signed RSA 3072 root CA, CA:true, ten years, naming its party and display name", () => {
    const ca = new X509Certificate(vnCa.certPem);
    assert.equal(ca.ca, true);
    assert.ok(ca.checkIssued(ca) && ca.verify(ca.publicKey));
    assert.equal(ca.publicKey.asymmetricKeyDetails?.modulusLength, 3072);
    assert.match(ca.subject, /CN=Bộ Công an Việt Nam Liaison Root CA/);
    assert.match(ca.subject, /O=VN-MPS/);
    assert.equal(ca.subjectAltName, "URI:urn:liaison:party:VN-MPS");
    const years = (new Date(ca.validTo).getTime() - NOW.getTime()) / (365.25 * DAY);
    assert.ok(years > 9.9 && years < 10.1, `validity ${years} years`);
    assert.equal(partyFromCertificate(vnCa.certPem), "VN-MPS");
  });

  it("issues a one-year RSA 2048 node certificate for TLS server and client, naming the party, localhost and 127.0.0.1", () => {
    const cert = new X509Certificate(node.certPem);
    assert.equal(cert.ca, false);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.deepEqual([...(cert.keyUsage ?? [])].sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    for (const name of ["URI:urn:liaison:party:VN-MPS", "DNS:localhost", "DNS:liaison.mps.gov.vn", "IP Address:127.0.0.1", "IP Address:10.0.0.7"]) {
      assert.ok(cert.subjectAltName?.includes(name), `${name} in ${cert.subjectAltName}`);
    }
    const days = (new Date(cert.validTo).getTime() - NOW.getTime()) / DAY;
    assert.ok(days > 364 && days < 366);
    assert.match(node.keyPem, new RegExp("^-----BEGIN " + "PRIVATE KEY-----"));
    verifyCertificateIssuedBy(node.certPem, vnCa.certPem, NOW, { purpose: "clientAuth" });
  });

  it("reads the party from PEM and from DER", () => {
    assert.equal(partyFromCertificate(node.certPem), "VN-MPS");
    assert.equal(partyFromCertificate(new X509Certificate(node.certPem).raw), "VN-MPS");
  });

  it("refuses a certificate naming no party, two parties, or a malformed party id", async () => {
    const none = await issueCertificate(vnCa, { notBefore: NOW, notAfter: new Date(NOW.getTime() + DAY), dnsNames: ["x"] });
    throwsCode(() => partyFromCertificate(none.certPem), "PEER_UNKNOWN");
    const two = await issueCertificate(vnCa, { party: "VN-MPS", uris: ["urn:liaison:party:CN-MPS"], notBefore: NOW, notAfter: new Date(NOW.getTime() + DAY) });
    assert.match(throwsCode(() => partyFromCertificate(two.certPem), "PEER_UNKNOWN").message, /more than one/);
    const bad = await issueCertificate(vnCa, { uris: ["urn:liaison:party:vn-mps,DNS:x"], notBefore: NOW, notAfter: new Date(NOW.getTime() + DAY) });
    throwsCode(() => partyFromCertificate(bad.certPem), "PEER_UNKNOWN");
    throwsCode(() => partyFromCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"), "PEER_UNKNOWN");
  });

  it("refuses a certificate from another CA, an expired one, and one not yet valid", async () => {
    const other = await issueNodeCertificate(cnCa, { party: "CN-MPS", now: NOW });
    assert.match(throwsCode(() => verifyCertificateIssuedBy(other.certPem, vnCa.certPem, NOW), "PEER_UNKNOWN").message, /not issued/);
    const expired = await issueCertificate(vnCa, { party: "VN-MPS", notBefore: new Date(NOW.getTime() - 10 * DAY), notAfter: new Date(NOW.getTime() - DAY) });
    assert.match(throwsCode(() => verifyCertificateIssuedBy(expired.certPem, vnCa.certPem, NOW), "PEER_UNKNOWN").message, /expired/);
    throwsCode(() => verifyCertificateIssuedBy(node.certPem, vnCa.certPem, new Date(NOW.getTime() - DAY)), "PEER_UNKNOWN");
  });

  it("refuses a server-only certificate where a client certificate is required", async () => {
    const serverOnly = await issueCertificate(vnCa, { party: "VN-MPS", extendedKeyUsage: ["serverAuth"], notBefore: NOW, notAfter: new Date(NOW.getTime() + DAY) });
    throwsCode(() => verifyCertificateIssuedBy(serverOnly.certPem, vnCa.certPem, NOW, { purpose: "clientAuth" }), "PEER_UNKNOWN");
  });

  it("decides on a peer certificate: its CA's party, or PEER_PARTY_MISMATCH, or PEER_UNKNOWN", async () => {
    const trusted = [
      { party: "CN-MPS", caCertPem: cnCa.certPem },
      { party: "VN-MPS", caCertPem: vnCa.certPem },
    ];
    assert.equal(verifyPeerCertificate(node.certPem, trusted, NOW, { purpose: "clientAuth" }), "VN-MPS");
    const impostor = await issueCertificate(vnCa, { party: "CN-MPS", notBefore: NOW, notAfter: new Date(NOW.getTime() + DAY) });
    throwsCode(() => verifyPeerCertificate(impostor.certPem, trusted, NOW), "PEER_PARTY_MISMATCH");
    throwsCode(() => verifyPeerCertificate(node.certPem, [trusted[0]!], NOW), "PEER_UNKNOWN");
  });

  it("fingerprints the DER with SHA-256 and compares hex and colon forms alike", () => {
    const fp = sha256Fingerprint(vnCa.certPem);
    assert.match(fp, /^[0-9a-f]{64}$/);
    assert.equal(fp, new X509Certificate(vnCa.certPem).fingerprint256.replaceAll(":", "").toLowerCase());
    assert.equal(formatFingerprint(fp), new X509Certificate(vnCa.certPem).fingerprint256);
    assert.ok(fingerprintsEqual(fp, formatFingerprint(fp)));
    assert.ok(!fingerprintsEqual(fp, sha256Fingerprint(cnCa.certPem)));
    throwsCode(() => normaliseFingerprint("abc"), "INVALID_ARGUMENT");
  });
});
