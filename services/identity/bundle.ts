/**
 * Partner bundles: what two ministries exchange to onboard each other.
 *
 * A bundle names the party, its display names, its peer endpoint, its CA certificate and its
 * signing-key attestations, and is signed by that CA over its canonical JSON (so that names and
 * endpoint cannot be altered in transit). The CA certificate's SHA-256 fingerprint is what the
 * officers compare out of band (telephone, letter); once it matches, everything else follows.
 *
 * Canonical JSON (this file's definition, the RFC 8785 rules restricted to the values a bundle
 * holds): object members sorted by key in UTF-16 code unit order, arrays in order, no
 * whitespace, strings as JSON.stringify writes them, numbers only as safe integers, encoded UTF-8.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { MAX_ATTESTATION_LENGTH, type VerifiedAttestation, verifyAttestation } from "./attestation.ts";
import { DIRECTORY_MODE, PUBLIC_FILE_MODE, syncDirectory, writeFileAtomic } from "./files.ts";
import { decodeBase64urlStrict, decodeProtectedHeader, signParts, verifyParts } from "./jws.ts";
import { PARTY_ID_PATTERN } from "./party.ts";
import { formatFingerprint, normaliseFingerprint, partyFromCertificate, sha256Fingerprint, toX509 } from "./pki.ts";
import { DisplayNamesSchema, IDENTITY_FILES, loadIdentity, type PassphraseOption, readPartyFile, requireCa } from "./store.ts";

const log = createLogger("identity");

export const PARTNER_BUNDLE_FORMAT = "liaison-partner-bundle/v1";
/** `typ` of the bundle signature. */
export const PARTNER_BUNDLE_SIGNATURE_TYP = "liaison-partner-bundle+jws";
/** Format of a stored partner record, `partners/<PARTY>.json`. */
export const PARTNER_RECORD_FORMAT = "liaison-partner/v1";

/** `host:port` — a DNS name, an IPv4 address or a bracketed IPv6 address, and a port 1–65535. */
export const ENDPOINT_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$/;

const EndpointSchema = z
  .string()
  .max(300)
  .regex(ENDPOINT_PATTERN, "must be host:port")
  .refine((e) => {
    const port = Number(e.slice(e.lastIndexOf(":") + 1));
    return port >= 1 && port <= 65535;
  }, "port must be 1–65535");

const CertificatePemSchema = z
  .string()
  .max(16 * 1024)
  .refine((s) => s.trimStart().startsWith("-----BEGIN CERTIFICATE-----"), "must be a PEM certificate");

/** The fields a bundle signature covers. */
const BundleContentShape = {
  format: z.literal(PARTNER_BUNDLE_FORMAT),
  party: z.string().regex(PARTY_ID_PATTERN),
  display_names: DisplayNamesSchema,
  endpoint: EndpointSchema,
  ca_certificate: CertificatePemSchema,
  signing_key_attestations: z.array(z.string().max(MAX_ATTESTATION_LENGTH)).min(1).max(64),
  issued_at: z.iso.datetime(),
};

/** The partner bundle, as exchanged (JSON). Unknown members are refused: a new format gets a new version. */
export const PartnerBundleSchema = z.object({ ...BundleContentShape, signature: z.string().max(8192) }).strict();
export type PartnerBundle = z.infer<typeof PartnerBundleSchema>;

/** What `partners/<PARTY>.json` holds. */
export const PartnerRecordSchema = z
  .object({
    format: z.literal(PARTNER_RECORD_FORMAT),
    party: z.string().regex(PARTY_ID_PATTERN),
    display_names: DisplayNamesSchema,
    endpoint: EndpointSchema,
    ca_certificate: CertificatePemSchema,
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    /** Every attestation ever received for this partner (merged across bundles). */
    signing_key_attestations: z.array(z.string()).min(1),
    issued_at: z.iso.datetime(),
    imported_at: z.iso.datetime(),
    /** The last bundle imported, as received: evidence of what was agreed. */
    bundle: z.unknown(),
  })
  .strict();
export type PartnerRecord = z.infer<typeof PartnerRecordSchema>;

/** An onboarded partner, as the node uses it. */
export interface Partner {
  party: string;
  displayNames: Record<string, string>;
  /** `host:port` of the partner's peer API. */
  endpoint: string;
  caCertPem: string;
  /** SHA-256 fingerprint of the partner's CA certificate (lowercase hex). */
  fingerprint: string;
  /** Every attestation of the partner's keys, current and retired. */
  attestations: string[];
  /** The same, verified against the partner's CA. */
  verifiedAttestations: VerifiedAttestation[];
  issuedAt: Date;
  importedAt: Date;
}

/** A bundle whose fingerprint, CA, signature and attestations have all been checked. */
export interface VerifiedPartnerBundle {
  bundle: PartnerBundle;
  party: string;
  fingerprint: string;
  verifiedAttestations: VerifiedAttestation[];
}

/** Canonical JSON text (see the module comment). Our own misuse (a non-JSON value) is a TypeError. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("canonical JSON numbers must be safe integers");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [key, v] of entries) if (v === undefined) throw new TypeError(`canonical JSON: member ${key} is undefined`);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** The exact bytes a bundle signature covers: canonical JSON of every member but `signature`, UTF-8. */
export function bundleSigningBytes(bundle: Omit<PartnerBundle, "signature"> & { signature?: string }): Uint8Array {
  const { signature: _ignored, ...content } = bundle;
  return new TextEncoder().encode(canonicalJson(content));
}

/**
 * Exports this node's bundle for partners: party, display names, `endpoint` (where partners
 * reach our peer API), CA certificate, every attestation (retired ones too, so that old messages
 * stay verifiable), signed by our CA: a detached JWS (RFC 7515 Appendix F), RS256.
 */
export async function exportPartnerBundle(dir: string, options: { endpoint: string; now?: Date; passphrase?: PassphraseOption }): Promise<PartnerBundle> {
  const endpoint = EndpointSchema.safeParse(options?.endpoint);
  if (!endpoint.success) throw new LiaisonError("INVALID_ARGUMENT", `endpoint ${endpoint.error.issues[0]?.message ?? "is invalid"} (e.g. liaison.example.gov:7443)`);
  const now = options.now ?? new Date();
  const identity = await loadIdentity(dir, { now, passphrase: options.passphrase });
  const content: Omit<PartnerBundle, "signature"> = {
    format: PARTNER_BUNDLE_FORMAT,
    party: identity.party,
    display_names: identity.displayNames,
    endpoint: endpoint.data,
    ca_certificate: identity.caCertPem,
    signing_key_attestations: identity.attestations,
    issued_at: now.toISOString(),
  };
  const parts = await signParts({ alg: "RS256", typ: PARTNER_BUNDLE_SIGNATURE_TYP }, bundleSigningBytes(content), requireCa(identity, "exporting a partner bundle").key);
  return { ...content, signature: `${parts.protected}..${parts.signature}` };
}

/**
 * Checks a bundle received from a partner, in this order: shape (SCHEMA_INVALID); the CA
 * fingerprint against the one the officers compared out of band (FINGERPRINT_MISMATCH); the CA
 * is a self-signed CA naming the bundle's party (SCHEMA_INVALID / PEER_PARTY_MISMATCH); the
 * bundle signature by that CA (SIGNATURE_INVALID); every attestation (ATTESTATION_INVALID), at
 * least one of them not retired. Pure: writes nothing.
 */
export async function verifyPartnerBundle(input: unknown, expectedFingerprint: string): Promise<VerifiedPartnerBundle> {
  const expected = normaliseFingerprint(expectedFingerprint);
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new LiaisonError("SCHEMA_INVALID", "partner bundle is not JSON", { cause: error });
    }
  }
  const parsed = PartnerBundleSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LiaisonError("SCHEMA_INVALID", `partner bundle: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  const bundle = parsed.data;

  const ca = (() => {
    try {
      return toX509(bundle.ca_certificate);
    } catch (error) {
      throw new LiaisonError("SCHEMA_INVALID", "partner bundle: ca_certificate cannot be parsed", { cause: error });
    }
  })();
  const actual = sha256Fingerprint(ca);
  if (actual !== expected) {
    throw new LiaisonError(
      "FINGERPRINT_MISMATCH",
      `fingerprint mismatch: expected ${formatFingerprint(expected)}, but the bundle's CA certificate has ${formatFingerprint(actual)}; do not import it, and check with the partner by another channel`,
    );
  }
  if (!ca.ca || !ca.checkIssued(ca) || !ca.verify(ca.publicKey)) {
    throw new LiaisonError("SCHEMA_INVALID", "partner bundle: ca_certificate is not a self-signed CA certificate");
  }
  let caParty: string;
  try {
    caParty = partyFromCertificate(ca);
  } catch (error) {
    throw new LiaisonError("SCHEMA_INVALID", "partner bundle: ca_certificate does not name a party", { cause: error });
  }
  if (caParty !== bundle.party) {
    throw new LiaisonError("PEER_PARTY_MISMATCH", `partner bundle is for ${bundle.party} but its CA certificate names ${caParty}`);
  }

  // Bundle signature: a detached JWS, RS256 only, by this CA.
  const parts = bundle.signature.split(".");
  if (parts.length !== 3 || parts[1] !== "" || parts[0] === "" || parts[2] === "") {
    throw new LiaisonError("SIGNATURE_INVALID", "partner bundle signature must be a detached JWS");
  }
  const header = decodeProtectedHeader(parts[0] as string, "SCHEMA_INVALID");
  if (Object.keys(header).sort().join(",") !== "alg,typ") throw new LiaisonError("SCHEMA_INVALID", "partner bundle signature header must have exactly alg and typ");
  if (header.alg !== "RS256") throw new LiaisonError("ALGORITHM_NOT_ALLOWED", 'partner bundle signature "alg" must be RS256');
  if (header.typ !== PARTNER_BUNDLE_SIGNATURE_TYP) throw new LiaisonError("SCHEMA_INVALID", `partner bundle signature "typ" must be "${PARTNER_BUNDLE_SIGNATURE_TYP}"`);
  decodeBase64urlStrict(parts[2] as string, "partner bundle signature", "SCHEMA_INVALID");
  await verifyParts(parts[0] as string, bundleSigningBytes(bundle), parts[2] as string, ca.publicKey, ["RS256"]);

  const verifiedAttestations: VerifiedAttestation[] = [];
  for (const jws of bundle.signing_key_attestations) verifiedAttestations.push(await verifyAttestation(jws, bundle.ca_certificate, bundle.party));
  if (!verifiedAttestations.some((a) => a.retiredAt === undefined)) {
    throw new LiaisonError("ATTESTATION_INVALID", "partner bundle has no active signing key (every attestation is retired)");
  }
  return { bundle, party: bundle.party, fingerprint: actual, verifiedAttestations };
}

/**
 * Onboards a partner into `dir`: verifies the bundle ({@link verifyPartnerBundle}), refuses our
 * own party and a different CA for an already known party (CONFLICT, remove the partner first)
 * and a bundle older than the one on file, then writes `partners/<PARTY>.json` atomically.
 * A newer bundle replaces the record; attestations are merged, so retired keys stay known.
 */
export async function importPartnerBundle(
  dir: string,
  bundleJson: unknown,
  expectedFingerprint: string,
  options: { now?: Date } = {},
): Promise<Partner> {
  const now = options.now ?? new Date();
  const own = await readPartyFile(dir);
  const verified = await verifyPartnerBundle(bundleJson, expectedFingerprint);
  const { bundle, party } = verified;
  if (party === own.party) throw new LiaisonError("CONFLICT", `this bundle is for our own party ${party}; import the partner's bundle instead`);

  const partnersDir = join(dir, IDENTITY_FILES.partnersDir);
  await mkdir(partnersDir, { recursive: true, mode: DIRECTORY_MODE });
  const path = join(partnersDir, `${party}.json`);
  const existing = await readPartnerRecord(path).catch((error: unknown) => {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  });
  let attestations = [...bundle.signing_key_attestations];
  if (existing !== undefined) {
    if (existing.fingerprint !== verified.fingerprint) {
      throw new LiaisonError(
        "CONFLICT",
        `${party} is already onboarded with another CA (${formatFingerprint(existing.fingerprint)}); remove the partner before importing a new CA`,
      );
    }
    if (Date.parse(bundle.issued_at) < Date.parse(existing.issued_at)) {
      throw new LiaisonError("CONFLICT", `this bundle (issued ${bundle.issued_at}) is older than the one on file (issued ${existing.issued_at})`);
    }
    attestations = [...new Set([...existing.signing_key_attestations, ...attestations])];
  }

  const record: PartnerRecord = {
    format: PARTNER_RECORD_FORMAT,
    party,
    display_names: bundle.display_names,
    endpoint: bundle.endpoint,
    ca_certificate: bundle.ca_certificate,
    fingerprint: verified.fingerprint,
    signing_key_attestations: attestations,
    issued_at: bundle.issued_at,
    imported_at: now.toISOString(),
    bundle,
  };
  await writeFileAtomic(path, JSON.stringify(record, null, 2) + "\n", PUBLIC_FILE_MODE);
  log.info(existing ? "partner bundle updated" : "partner imported", { party, fingerprint: verified.fingerprint, keys: attestations.length });
  return toPartner(record, await verifyAll(record));
}

/**
 * Removes an onboarded partner (its record only: what the ledger recorded stays). Needed before
 * importing a partner's new CA. Returns false when the partner was not onboarded.
 */
export async function removePartner(dir: string, party: string): Promise<boolean> {
  if (!PARTY_ID_PATTERN.test(party)) throw new LiaisonError("INVALID_ARGUMENT", `party id must look like VN-MPS (${PARTY_ID_PATTERN.source})`);
  try {
    await rm(join(dir, IDENTITY_FILES.partnersDir, `${party}.json`));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  await syncDirectory(join(dir, IDENTITY_FILES.partnersDir));
  log.info("partner removed", { party });
  return true;
}

/**
 * The onboarded partners of `dir` (none when `partners/` is absent), each re-verified: a record
 * that does not verify is CONFIG_INVALID naming its file.
 */
export async function loadPartners(dir: string): Promise<Partner[]> {
  const partnersDir = join(dir, IDENTITY_FILES.partnersDir);
  let names: string[];
  try {
    names = await readdir(partnersDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const partners: Partner[] = [];
  for (const name of names.filter((n) => /^[A-Z]{2}-[A-Z0-9]{2,16}\.json$/.test(n)).sort()) {
    const path = join(partnersDir, name);
    const record = await readPartnerRecord(path);
    if (`${record.party}.json` !== name) throw new LiaisonError("CONFIG_INVALID", `partners/${name}: holds party ${record.party}`);
    partners.push(toPartner(record, await verifyAll(record, `partners/${name}`)));
  }
  return partners;
}

async function readPartnerRecord(path: string): Promise<PartnerRecord> {
  const text = await readFile(path, "utf8"); // ENOENT propagates to the caller that expects it.
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LiaisonError("CONFIG_INVALID", `${path}: not JSON`, { cause: error });
  }
  const parsed = PartnerRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LiaisonError("CONFIG_INVALID", `${path}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  if (sha256Fingerprint(parsed.data.ca_certificate) !== parsed.data.fingerprint) {
    throw new LiaisonError("CONFIG_INVALID", `${path}: fingerprint does not match ca_certificate`);
  }
  return parsed.data;
}

async function verifyAll(record: PartnerRecord, file = `partners/${record.party}.json`): Promise<VerifiedAttestation[]> {
  try {
    return await Promise.all(record.signing_key_attestations.map((jws) => verifyAttestation(jws, record.ca_certificate, record.party)));
  } catch (error) {
    throw new LiaisonError("CONFIG_INVALID", `${file}: an attestation does not verify`, { cause: error });
  }
}

function toPartner(record: PartnerRecord, verifiedAttestations: VerifiedAttestation[]): Partner {
  return {
    party: record.party,
    displayNames: record.display_names,
    endpoint: record.endpoint,
    caCertPem: record.ca_certificate,
    fingerprint: record.fingerprint,
    attestations: record.signing_key_attestations,
    verifiedAttestations,
    issuedAt: new Date(record.issued_at),
    importedAt: new Date(record.imported_at),
  };
}
