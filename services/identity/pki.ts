/**
 * The party PKI: a root CA per party and the node TLS certificates it issues (node-forge builds
 * the X.509; node:crypto generates keys and checks chains).
 *
 * Certificates name their party with exactly one SAN URI `urn:liaison:party:<PARTY>`
 * (RFC 5280 §4.2.1.6). Times are parameters: nothing here reads the clock.
 */
import { createHash, createPrivateKey, generateKeyPair, KeyObject, randomBytes, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { promisify } from "node:util";
import forge from "node-forge";
import { LiaisonError } from "../errors/index.ts";
import { assertPartyId, PARTY_ID_PATTERN, PARTY_URI_PREFIX, partyUri } from "./party.ts";

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA modulus of a party root CA (native key generation makes 3072 cheap enough). */
export const CA_KEY_BITS = 3072;
/** RSA modulus of a node TLS key. */
export const NODE_KEY_BITS = 2048;
/** Certificates start this much before `now`, so that a partner whose clock lags still accepts them. */
export const CLOCK_SKEW_ALLOWANCE_MS = 10 * 60 * 1000;

const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** A CA able to issue: its certificate and its private key (a KeyObject: it never prints its material). */
export interface CertificateAuthority {
  certPem: string;
  key: KeyObject;
}

/** A certificate with its private key (PKCS#8 PEM, for `tls`/grpc-js). */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface CreatePartyCaOptions {
  party: string;
  /** The party's name as shown to officers, used in the CA's common name. */
  displayName: string;
  now: Date;
  /** Defaults to 10 years. */
  validityYears?: number;
  /** Defaults to {@link CA_KEY_BITS}. */
  bits?: number;
}

export interface IssueCertificateOptions {
  /** Party named by the SAN URI `urn:liaison:party:<party>`; omit for a certificate naming no party. */
  party?: string;
  /** Subject common name; defaults to `<party> Liaison node`. */
  commonName?: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** Further SAN URIs, after the party URI (tests use this to make ambiguous certificates). */
  uris?: readonly string[];
  /** Extended key usages; defaults to both. */
  extendedKeyUsage?: readonly ("serverAuth" | "clientAuth")[];
  /** Public key to certify; when absent an RSA key pair of `bits` is generated and returned. */
  publicKey?: KeyObject;
  /** Defaults to {@link NODE_KEY_BITS}. */
  bits?: number;
}

export interface IssueNodeCertificateOptions {
  party: string;
  now: Date;
  /** Extra DNS names beside `localhost`. */
  dnsNames?: readonly string[];
  /** Extra IP addresses beside `127.0.0.1`. */
  ipAddresses?: readonly string[];
  /** Defaults to 1 year. */
  validityDays?: number;
}

/** An RSA key pair generated natively (off the event loop). */
export async function generateRsaKey(bits: number): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  if (!Number.isInteger(bits) || bits < 2048) throw new TypeError("RSA keys must be at least 2048 bits");
  return generateKeyPairAsync("rsa", { modulusLength: bits, publicExponent: 0x10001 });
}

/** A party's self-signed root CA: CA:true, keyCertSign + cRLSign, SAN URI naming the party. */
export async function createPartyCa(options: CreatePartyCaOptions): Promise<CertificateAuthority> {
  const { party, displayName, now } = options;
  assertPartyId(party);
  assertDate(now, "now");
  if (typeof displayName !== "string" || displayName.trim() === "") throw new TypeError("displayName must be a non-empty string");
  const years = options.validityYears ?? 10;
  const { privateKey, publicKey } = await generateRsaKey(options.bits ?? CA_KEY_BITS);

  const cert = forge.pki.createCertificate();
  cert.publicKey = toForgePublicKey(publicKey);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  cert.validity.notAfter = notAfter;
  const subject = [
    { name: "commonName", value: `${displayName} Liaison Root CA`, valueTagClass: forge.asn1.Type.UTF8 },
    { name: "organizationName", value: party, valueTagClass: forge.asn1.Type.UTF8 },
  ];
  cert.setSubject(subject as unknown as forge.pki.CertificateField[]);
  cert.setIssuer(subject as unknown as forge.pki.CertificateField[]);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
    { name: "subjectAltName", altNames: [{ type: 6, value: partyUri(party) }] },
  ]);
  cert.sign(toForgePrivateKey(privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), key: privateKey };
}

/**
 * Issues an end-entity certificate signed by `ca`. Generic on purpose: tests use it to make
 * expired certificates, or certificates naming another party, under a given CA.
 */
export async function issueCertificate(
  ca: CertificateAuthority,
  options: IssueCertificateOptions,
): Promise<{ certPem: string; keyPem?: string }> {
  assertDate(options.notBefore, "notBefore");
  assertDate(options.notAfter, "notAfter");
  if (options.party !== undefined) assertPartyId(options.party);
  let keyPem: string | undefined;
  let publicKey = options.publicKey;
  if (publicKey === undefined) {
    const pair = await generateRsaKey(options.bits ?? NODE_KEY_BITS);
    publicKey = pair.publicKey;
    keyPem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  } else if (publicKey.type !== "public" || publicKey.asymmetricKeyType !== "rsa") {
    throw new TypeError("publicKey must be an RSA public KeyObject (node-forge certifies RSA keys only)");
  }

  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = toForgePublicKey(publicKey);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = options.notBefore;
  cert.validity.notAfter = options.notAfter;
  const commonName = options.commonName ?? `${options.party ?? "unnamed"} Liaison node`;
  const subject: { name: string; value: string; valueTagClass?: forge.asn1.Type }[] = [
    { name: "commonName", value: commonName, valueTagClass: forge.asn1.Type.UTF8 },
  ];
  if (options.party !== undefined) subject.push({ name: "organizationName", value: options.party, valueTagClass: forge.asn1.Type.UTF8 });
  cert.setSubject(subject as unknown as forge.pki.CertificateField[]);
  cert.setIssuer(issuerAttributes(caCert));

  const altNames: { type: number; value?: string; ip?: string }[] = [];
  if (options.party !== undefined) altNames.push({ type: 6, value: partyUri(options.party) });
  for (const uri of options.uris ?? []) altNames.push({ type: 6, value: uri });
  for (const dns of options.dnsNames ?? []) altNames.push({ type: 2, value: dns });
  for (const ip of options.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new TypeError(`not an IP address: ${ip}`);
    altNames.push({ type: 7, ip });
  }
  const eku = options.extendedKeyUsage ?? ["serverAuth", "clientAuth"];
  const caSki = caCert.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | undefined;
  const extensions: Record<string, unknown>[] = [
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: eku.includes("serverAuth"), clientAuth: eku.includes("clientAuth") },
    { name: "subjectKeyIdentifier" },
  ];
  if (caSki?.subjectKeyIdentifier) {
    extensions.push({ name: "authorityKeyIdentifier", keyIdentifier: forge.util.hexToBytes(caSki.subjectKeyIdentifier) });
  }
  if (altNames.length > 0) extensions.push({ name: "subjectAltName", altNames });
  cert.setExtensions(extensions);
  cert.sign(toForgePrivateKey(ca.key), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return keyPem === undefined ? { certPem } : { certPem, keyPem };
}

/**
 * The node's TLS certificate: RSA 2048, serverAuth + clientAuth, SAN URI naming the party plus
 * DNS `localhost` and IP `127.0.0.1` (and any extra names), valid one year.
 */
export async function issueNodeCertificate(ca: CertificateAuthority, options: IssueNodeCertificateOptions): Promise<IssuedCertificate> {
  assertDate(options.now, "now");
  const days = options.validityDays ?? 365;
  const dnsNames = unique(["localhost", ...(options.dnsNames ?? [])]);
  const ipAddresses = unique(["127.0.0.1", ...(options.ipAddresses ?? [])]);
  const { certPem, keyPem } = await issueCertificate(ca, {
    party: options.party,
    notBefore: new Date(options.now.getTime() - CLOCK_SKEW_ALLOWANCE_MS),
    notAfter: new Date(options.now.getTime() + days * 86_400_000),
    dnsNames,
    ipAddresses,
  });
  if (keyPem === undefined) throw new TypeError("unreachable: key was generated");
  return { certPem, keyPem };
}

/**
 * The party a certificate names: its one SAN URI `urn:liaison:party:<PARTY>`.
 * Refuses (PEER_UNKNOWN) a certificate that cannot be parsed, names no party, names more than
 * one, or whose party id is malformed.
 */
export function partyFromCertificate(cert: string | Uint8Array | X509Certificate): string {
  const { uris } = subjectAltNames(cert);
  const partyUris = uris.filter((u) => u.toLowerCase().startsWith(PARTY_URI_PREFIX));
  if (partyUris.length === 0) throw new LiaisonError("PEER_UNKNOWN", "certificate names no party (no urn:liaison:party: SAN URI)");
  if (partyUris.length > 1) throw new LiaisonError("PEER_UNKNOWN", "certificate names more than one party");
  const uri = partyUris[0] as string;
  const party = uri.slice(PARTY_URI_PREFIX.length);
  if (!uri.startsWith(PARTY_URI_PREFIX) || !PARTY_ID_PATTERN.test(party)) {
    throw new LiaisonError("PEER_UNKNOWN", "certificate party id is malformed");
  }
  return party;
}

export interface VerifyCertificateOptions {
  /** Require this extended key usage (a TLS client or server certificate). */
  purpose?: "clientAuth" | "serverAuth";
}

/**
 * Checks that `cert` was issued by `caCert` (issuer/subject and key identifiers via
 * `checkIssued`, then the signature with the CA's public key), that `caCert` is a CA, and that
 * both are within their validity windows at `at`. Throws PEER_UNKNOWN with a precise message.
 * Party matching is the caller's: see {@link verifyPeerCertificate}.
 */
export function verifyCertificateIssuedBy(
  cert: string | Uint8Array | X509Certificate,
  caCert: string | Uint8Array | X509Certificate,
  at: Date,
  options: VerifyCertificateOptions = {},
): void {
  assertDate(at, "at");
  const leaf = toX509(cert);
  const ca = toX509(caCert, "CA certificate");
  if (!ca.ca) throw new LiaisonError("PEER_UNKNOWN", "issuer certificate is not a CA");
  if (!leaf.checkIssued(ca)) throw new LiaisonError("PEER_UNKNOWN", "certificate was not issued by this CA");
  if (!leaf.verify(ca.publicKey)) throw new LiaisonError("PEER_UNKNOWN", "certificate signature does not verify with the CA key");
  assertWithinValidity(ca, at, "CA certificate");
  assertWithinValidity(leaf, at, "certificate");
  if (options.purpose !== undefined) {
    const wanted = options.purpose === "clientAuth" ? OID_CLIENT_AUTH : OID_SERVER_AUTH;
    const usages = leaf.keyUsage; // Node names the extended key usage OIDs `keyUsage`.
    if (usages !== undefined && !usages.includes(wanted)) {
      throw new LiaisonError("PEER_UNKNOWN", `certificate is not valid for ${options.purpose}`);
    }
  }
}

/** A partner CA known to this node. */
export interface TrustedPartyCa {
  party: string;
  caCertPem: string;
}

/** An authenticated peer certificate, and the time window in which that decision holds. */
export interface VerifiedPeerCertificate {
  party: string;
  /** The later of the certificate's and its CA's notBefore. */
  validFrom: Date;
  /** The earlier of the certificate's and its CA's notAfter. */
  validTo: Date;
}

/**
 * The transport's decision on a peer certificate: it must chain to one of the known partner CAs
 * (PEER_UNKNOWN otherwise) and name the same party as that CA (PEER_PARTY_MISMATCH otherwise).
 * Returns the authenticated party and how long that answer stays true for these CAs, so that a
 * caller may keep it per TLS connection instead of re-parsing certificates on every call.
 */
export function verifyPeerCertificateWindow(
  cert: string | Uint8Array | X509Certificate,
  trusted: readonly TrustedPartyCa[],
  at: Date,
  options: VerifyCertificateOptions = {},
): VerifiedPeerCertificate {
  const leaf = toX509(cert);
  // A CA certificate is not a peer's certificate, even one that names its party.
  if (leaf.ca) throw new LiaisonError("PEER_UNKNOWN", "a CA certificate cannot be presented as a peer certificate");
  let lastError: unknown;
  for (const entry of trusted) {
    const ca = toX509(entry.caCertPem, "CA certificate");
    if (!leaf.checkIssued(ca)) continue;
    try {
      verifyCertificateIssuedBy(leaf, ca, at, options);
    } catch (error) {
      lastError = error;
      continue;
    }
    const party = partyFromCertificate(leaf);
    if (party !== entry.party) {
      throw new LiaisonError("PEER_PARTY_MISMATCH", `certificate names ${party} but its CA belongs to ${entry.party}`);
    }
    const validFrom = new Date(Math.max(Date.parse(leaf.validFrom), Date.parse(ca.validFrom)));
    const validTo = new Date(Math.min(Date.parse(leaf.validTo), Date.parse(ca.validTo)));
    return { party, validFrom, validTo };
  }
  if (lastError instanceof LiaisonError) throw lastError;
  throw new LiaisonError("PEER_UNKNOWN", "certificate is not issued by any known partner CA");
}

/** {@link verifyPeerCertificateWindow}, returning only the authenticated party. */
export function verifyPeerCertificate(
  cert: string | Uint8Array | X509Certificate,
  trusted: readonly TrustedPartyCa[],
  at: Date,
  options: VerifyCertificateOptions = {},
): string {
  return verifyPeerCertificateWindow(cert, trusted, at, options).party;
}

/** Lowercase hex SHA-256 of the certificate's DER: the fingerprint officers compare out of band. */
export function sha256Fingerprint(cert: string | Uint8Array | X509Certificate): string {
  return createHash("sha256").update(toX509(cert).raw).digest("hex");
}

/**
 * Accepts `ab12…` or `AB:12:…` (spaces ignored) and returns the lowercase hex form, or throws
 * INVALID_ARGUMENT when it is not a SHA-256 fingerprint.
 */
export function normaliseFingerprint(fingerprint: string): string {
  if (typeof fingerprint !== "string") throw new TypeError("fingerprint must be a string");
  const hex = fingerprint.replace(/[\s:]/g, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new LiaisonError("INVALID_ARGUMENT", "a fingerprint is 64 hexadecimal digits (SHA-256), optionally colon-separated");
  }
  return hex;
}

/** The colon-separated upper-case form, `AB:12:…`, for printing. */
export function formatFingerprint(fingerprint: string): string {
  return normaliseFingerprint(fingerprint).toUpperCase().match(/../g)!.join(":");
}

/** Compares two fingerprints in any accepted form. */
export function fingerprintsEqual(a: string, b: string): boolean {
  return normaliseFingerprint(a) === normaliseFingerprint(b);
}

/** Parses PEM or DER; a certificate that cannot be parsed is bad input (PEER_UNKNOWN). */
export function toX509(cert: string | Uint8Array | X509Certificate, what = "certificate"): X509Certificate {
  if (cert instanceof X509Certificate) return cert;
  if (typeof cert !== "string" && !(cert instanceof Uint8Array)) throw new TypeError(`${what} must be PEM, DER or X509Certificate`);
  try {
    return new X509Certificate(typeof cert === "string" ? cert : Buffer.from(cert.buffer, cert.byteOffset, cert.byteLength));
  } catch (error) {
    throw new LiaisonError("PEER_UNKNOWN", `${what} cannot be parsed`, { cause: error });
  }
}

/** PEM → DER bytes of the first certificate. */
export function certificateDer(cert: string | Uint8Array | X509Certificate): Buffer {
  return toX509(cert).raw;
}

/** DER → PEM. */
export function derToPem(der: Uint8Array): string {
  return toX509(der).toString();
}

/** PEM private key (PKCS#8 or PKCS#1) → KeyObject. Bad key material is our own configuration's fault. */
export function privateKeyFromPem(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: "pem" });
  } catch (error) {
    throw new LiaisonError("CONFIG_INVALID", "private key cannot be parsed", { cause: error });
  }
}

/** The subject alternative names of a certificate, by kind. */
export interface SubjectAltNames {
  uris: string[];
  dnsNames: string[];
  ipAddresses: string[];
}

/** Reads the SAN of a certificate (URIs, DNS names, IP addresses; other kinds are ignored). */
export function subjectAltNames(cert: string | Uint8Array | X509Certificate): SubjectAltNames {
  const names: SubjectAltNames = { uris: [], dnsNames: [], ipAddresses: [] };
  for (const { kind, value } of subjectAltNameEntries(toX509(cert).subjectAltName)) {
    if (kind === "URI") names.uris.push(value);
    else if (kind === "DNS") names.dnsNames.push(value);
    else if (kind === "IP Address") names.ipAddresses.push(value);
  }
  return names;
}

/**
 * The entries of a SAN as printed by Node (`URI:a, DNS:b, IP Address:c`). Values containing
 * separators are JSON-quoted by Node (`URI:"a\u002cb"`), and decoded here.
 */
function subjectAltNameEntries(san: string | undefined): { kind: string; value: string }[] {
  if (san === undefined || san === "") return [];
  const entries: { kind: string; value: string }[] = [];
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(":", i);
    if (colon < 0) break;
    const kind = san.slice(i, colon);
    let value: string;
    let next: number;
    if (san[colon + 1] === '"') {
      let j = colon + 2;
      while (j < san.length && san[j] !== '"') j += san[j] === "\\" ? 2 : 1;
      value = JSON.parse(san.slice(colon + 1, j + 1)) as string;
      next = j + 1;
    } else {
      const end = san.indexOf(", ", colon + 1);
      next = end < 0 ? san.length : end;
      value = san.slice(colon + 1, next);
    }
    entries.push({ kind, value });
    i = san.startsWith(", ", next) ? next + 2 : next;
  }
  return entries;
}

function assertWithinValidity(cert: X509Certificate, at: Date, what: string): void {
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  if (Number.isNaN(from) || Number.isNaN(to)) throw new LiaisonError("PEER_UNKNOWN", `${what} validity cannot be read`);
  if (at.getTime() < from) throw new LiaisonError("PEER_UNKNOWN", `${what} is not yet valid`);
  if (at.getTime() > to) throw new LiaisonError("PEER_UNKNOWN", `${what} has expired`);
}

/**
 * The CA's subject, to be written as the issuer. node-forge parses UTF8String values to their
 * UTF-8 bytes but encodes them again on output, so they are decoded first (else the issuer name
 * would be double-encoded and no longer match the CA's subject).
 */
function issuerAttributes(caCert: forge.pki.Certificate): forge.pki.CertificateField[] {
  return caCert.subject.attributes.map((attribute) => {
    const copy = { ...attribute };
    if (copy.valueTagClass === (forge.asn1.Type.UTF8 as unknown) && typeof copy.value === "string") {
      copy.value = forge.util.decodeUtf8(copy.value);
    }
    return copy;
  });
}

function toForgePublicKey(key: KeyObject): forge.pki.rsa.PublicKey {
  return forge.pki.publicKeyFromPem(key.export({ type: "spki", format: "pem" }).toString()) as forge.pki.rsa.PublicKey;
}

function toForgePrivateKey(key: KeyObject): forge.pki.rsa.PrivateKey {
  if (key.type !== "private" || key.asymmetricKeyType !== "rsa") throw new TypeError("CA key must be an RSA private KeyObject");
  return forge.pki.privateKeyFromPem(key.export({ type: "pkcs8", format: "pem" }).toString()) as forge.pki.rsa.PrivateKey;
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 §4.1.2.2). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function assertDate(value: unknown, what: string): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError(`${what} must be a valid Date`);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
