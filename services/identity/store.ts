/**
 * A node's identity on disk (the `--dir` folder):
 *
 * ```
 * ca.crt  ca.key                 party root CA (key 0600)
 * node.crt  node.key             TLS certificate for the peer API (key 0600)
 * signing/<kid>.key              active Ed25519 message-signing key, PKCS#8 PEM (0600)
 * attestations/<kid>.jws         CA attestation of every key, current and retired
 * party.json                     {party, displayNames, activeKid}
 * partners/<PARTY>.json          onboarded partners (see bundle.ts)
 * ```
 * Directories are 0700. Private keys are created with their mode, never chmod-ed afterwards,
 * and never logged.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { createAttestation, type VerifiedAttestation, verifyAttestation } from "./attestation.ts";
import { DIRECTORY_MODE, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, writeFileAtomic, writeNewFile } from "./files.ts";
import { generateSigningKey, type SigningKey, signingKeyFromPem } from "./keys.ts";
import { PARTY_ID_PATTERN } from "./party.ts";
import {
  type CertificateAuthority,
  createPartyCa,
  issueNodeCertificate,
  partyFromCertificate,
  privateKeyFromPem,
  sha256Fingerprint,
  subjectAltNames,
  toX509,
  verifyCertificateIssuedBy,
} from "./pki.ts";

const log = createLogger("identity");

/** BCP 47-ish language tag: `en`, `vi`, `zh-Hans`, `km`. */
export const LANGUAGE_TAG_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** Display names by language: at least one, each 1–200 characters. */
export const DisplayNamesSchema = z
  .record(z.string().regex(LANGUAGE_TAG_PATTERN), z.string().trim().min(1).max(200))
  .refine((names) => Object.keys(names).length > 0, { message: "at least one display name is required" });

const KID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const PartyFileSchema = z
  .object({
    party: z.string().regex(PARTY_ID_PATTERN),
    displayNames: DisplayNamesSchema,
    activeKid: z.string().regex(KID_PATTERN),
  })
  .strict();
export type PartyFile = z.infer<typeof PartyFileSchema>;

/** The file names inside an identity folder. */
export const IDENTITY_FILES = Object.freeze({
  caCert: "ca.crt",
  caKey: "ca.key",
  nodeCert: "node.crt",
  nodeKey: "node.key",
  signingDir: "signing",
  attestationsDir: "attestations",
  partnersDir: "partners",
  partyFile: "party.json",
});

export interface PkiInitOptions {
  party: string;
  displayNames: Record<string, string>;
  dir: string;
  /** Extra DNS names for the node certificate, beside `localhost`. */
  dnsNames?: readonly string[];
  /** Extra IP addresses for the node certificate, beside `127.0.0.1`. */
  ipAddresses?: readonly string[];
  /** Defaults to the current time. */
  now?: Date;
}

export interface PkiInitResult {
  party: string;
  /** SHA-256 fingerprint of the CA certificate (lowercase hex): what partners compare out of band. */
  fingerprint: string;
  activeKid: string;
}

/** A node's loaded identity. */
export interface Identity {
  dir: string;
  party: string;
  displayNames: Record<string, string>;
  caCertPem: string;
  /** The CA private key, for CA-only operations (attestations, bundles, certificates). */
  caKey: KeyObject;
  /** `caCertPem` and `caKey` together, as the issuing functions take them. */
  ca: CertificateAuthority;
  /** SHA-256 fingerprint of the CA certificate (lowercase hex). */
  fingerprint: string;
  tlsCertPem: string;
  /** PKCS#8 PEM of the TLS key; not enumerable, so it stays out of logs and JSON. */
  readonly tlsKeyPem: string;
  activeSigningKey: SigningKey;
  /** Every attestation of our keys (current and retired), as JWS. */
  attestations: string[];
  /** The same, verified against our CA. */
  verifiedAttestations: VerifiedAttestation[];
}

export interface RotateResult {
  previousKid: string;
  activeKid: string;
  /** The instant from which the new key signs and the old one is retired. */
  rotatedAt: Date;
}

/**
 * Creates a party's identity in `dir`: CA, node TLS certificate, first signing key and its
 * attestation, party.json (written last). Refuses (CONFLICT) if an identity, even a partial one,
 * is already there.
 */
export async function pkiInit(options: PkiInitOptions): Promise<PkiInitResult> {
  const { party, dir } = options;
  if (typeof dir !== "string" || dir === "") throw new TypeError("dir must be a non-empty path");
  if (!PARTY_ID_PATTERN.test(party ?? "")) {
    throw new LiaisonError("INVALID_ARGUMENT", `party id must look like VN-MPS (${PARTY_ID_PATTERN.source})`);
  }
  const names = DisplayNamesSchema.safeParse(options.displayNames);
  if (!names.success) throw new LiaisonError("INVALID_ARGUMENT", `display names: ${names.error.issues[0]?.message ?? "invalid"}`);
  const displayNames = names.data;
  const now = options.now ?? new Date();

  await mkdir(dir, { recursive: true, mode: DIRECTORY_MODE });
  const present = await existingIdentityFiles(dir);
  if (present.length > 0) {
    throw new LiaisonError("CONFLICT", `an identity already exists in ${dir} (found ${present.join(", ")}); refusing to overwrite it`);
  }

  const ca = await createPartyCa({ party, displayName: displayNames.en ?? (Object.values(displayNames)[0] as string), now });
  const node = await issueNodeCertificate(ca, {
    party,
    now,
    ...(options.dnsNames ? { dnsNames: options.dnsNames } : {}),
    ...(options.ipAddresses ? { ipAddresses: options.ipAddresses } : {}),
  });
  const signing = await generateSigningKey();
  const attestation = await createAttestation(ca, { party, jwk: signing.publicJwk, validFrom: now, issuedAt: now });

  const f = IDENTITY_FILES;
  const partyFile: PartyFile = { party, displayNames, activeKid: signing.kid };
  // Written in this order, party.json last; on any failure everything written is removed again,
  // so that a retry starts from a clean folder.
  const created: string[] = [];
  try {
    for (const sub of [f.signingDir, f.attestationsDir, f.partnersDir]) {
      await mkdir(join(dir, sub), { mode: DIRECTORY_MODE });
      created.push(sub);
    }
    const files: [string, string, number][] = [
      [f.caCert, ca.certPem, PUBLIC_FILE_MODE],
      [f.caKey, pkcs8(ca.key), PRIVATE_FILE_MODE],
      [f.nodeCert, node.certPem, PUBLIC_FILE_MODE],
      [f.nodeKey, node.keyPem, PRIVATE_FILE_MODE],
      [join(f.signingDir, `${signing.kid}.key`), pkcs8(signing.privateKey), PRIVATE_FILE_MODE],
      [join(f.attestationsDir, `${signing.kid}.jws`), attestation, PUBLIC_FILE_MODE],
      [f.partyFile, JSON.stringify(partyFile, null, 2) + "\n", PUBLIC_FILE_MODE],
    ];
    for (const [name, data, fileMode] of files) {
      await writeNewFile(join(dir, name), data, fileMode);
      created.push(name);
    }
  } catch (error) {
    for (const name of created.reverse()) await rm(join(dir, name), { recursive: true, force: true });
    throw error;
  }

  const fingerprint = sha256Fingerprint(ca.certPem);
  log.info("identity created", { party, fingerprint, kid: signing.kid });
  return { party, fingerprint, activeKid: signing.kid };
}

/**
 * Loads and checks an identity folder: party.json, the CA and its key (which must match), the
 * node certificate (issued by the CA, valid at `now`), the active signing key and every
 * attestation (verified against our CA). Anything wrong is CONFIG_INVALID naming the file.
 */
export async function loadIdentity(dir: string, options: { now?: Date } = {}): Promise<Identity> {
  if (typeof dir !== "string" || dir === "") throw new TypeError("dir must be a non-empty path");
  const now = options.now ?? new Date();
  const f = IDENTITY_FILES;
  const partyFile = await readPartyFile(dir);
  const { party, displayNames, activeKid } = partyFile;

  const caCertPem = await readConfigFile(dir, f.caCert);
  const caCert = configCheck(f.caCert, () => toX509(caCertPem));
  configCheck(f.caCert, () => {
    if (!caCert.ca) throw new Error("not a CA certificate");
    if (partyFromCertificate(caCert) !== party) throw new Error(`does not name party ${party}`);
  });
  await warnIfReadableByOthers(dir, f.caKey);
  const caKeyText = await readConfigFile(dir, f.caKey);
  const caKey = configCheck(f.caKey, () => privateKeyFromPem(caKeyText));
  configCheck(f.caKey, () => {
    if (!samePublicKey(createPublicKey(caKey), caCert.publicKey)) throw new Error("does not match ca.crt");
  });

  const tlsCertPem = await readConfigFile(dir, f.nodeCert);
  await warnIfReadableByOthers(dir, f.nodeKey);
  const tlsKeyPem = await readConfigFile(dir, f.nodeKey);
  configCheck(f.nodeCert, () => {
    verifyCertificateIssuedBy(tlsCertPem, caCert, now);
    if (partyFromCertificate(tlsCertPem) !== party) throw new Error(`does not name party ${party}`);
  });
  const tlsKey = configCheck(f.nodeKey, () => privateKeyFromPem(tlsKeyPem));
  configCheck(f.nodeKey, () => {
    if (!samePublicKey(createPublicKey(tlsKey), toX509(tlsCertPem).publicKey)) throw new Error("does not match node.crt");
  });

  const signingPath = join(f.signingDir, `${activeKid}.key`);
  await warnIfReadableByOthers(dir, signingPath);
  const activeSigningKey = await signingKeyFromPem(await readConfigFile(dir, signingPath)).catch((error: unknown) => {
    throw new LiaisonError("CONFIG_INVALID", `${signingPath}: cannot be read as an Ed25519 key`, { cause: error });
  });
  if (activeSigningKey.kid !== activeKid) throw new LiaisonError("CONFIG_INVALID", `${signingPath}: key thumbprint is not ${activeKid}`);

  const attestations: string[] = [];
  const verifiedAttestations: VerifiedAttestation[] = [];
  for (const name of (await readdir(join(dir, f.attestationsDir))).filter((n) => /^[A-Za-z0-9_-]{43}\.jws$/.test(n)).sort()) {
    const path = join(f.attestationsDir, name);
    const jws = (await readConfigFile(dir, path)).trim();
    const verified = await verifyAttestation(jws, caCertPem, party).catch((error: unknown) => {
      throw new LiaisonError("CONFIG_INVALID", `${path}: attestation does not verify against ca.crt`, { cause: error });
    });
    if (`${verified.kid}.jws` !== name) throw new LiaisonError("CONFIG_INVALID", `${path}: attests another key (${verified.kid})`);
    attestations.push(jws);
    verifiedAttestations.push(verified);
  }
  const active = verifiedAttestations.find((a) => a.kid === activeKid);
  if (active === undefined) throw new LiaisonError("CONFIG_INVALID", `attestations/${activeKid}.jws: the active key has no attestation`);
  if (active.retiredAt !== undefined) throw new LiaisonError("CONFIG_INVALID", `attestations/${activeKid}.jws: the active key is retired`);

  const ca: CertificateAuthority = { certPem: caCertPem, key: caKey };
  const identity = {
    dir,
    party,
    displayNames,
    caCertPem,
    caKey,
    ca,
    fingerprint: sha256Fingerprint(caCert),
    tlsCertPem,
    activeSigningKey,
    attestations,
    verifiedAttestations,
  } as Identity;
  // The one private key held as text (grpc-js wants PEM) is not enumerable, so that logging or
  // serialising an Identity by mistake does not print it. The other keys are KeyObjects.
  Object.defineProperty(identity, "tlsKeyPem", { value: tlsKeyPem, enumerable: false, writable: false });
  return identity;
}

/**
 * Rotates the message-signing key: a new key attested from `now`; party.json switched to it
 * (the commit point); the previous key's attestation re-issued with `retired_at = now` (it keeps
 * verifying messages made before then); the previous private key then deleted, since it must
 * never sign again. Partners learn of it from the next exported bundle.
 */
export async function rotateSigningKey(dir: string, options: { now?: Date } = {}): Promise<RotateResult> {
  const now = options.now ?? new Date();
  const identity = await loadIdentity(dir, { now });
  const f = IDENTITY_FILES;
  const lockPath = join(dir, ".rotate.lock");
  await writeNewFile(lockPath, String(process.pid), PRIVATE_FILE_MODE).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new LiaisonError("CONFLICT", `a key rotation is already in progress in ${dir} (remove .rotate.lock if it is stale)`);
    }
    throw error;
  });
  try {
    const previous = identity.verifiedAttestations.find((a) => a.kid === identity.activeSigningKey.kid) as VerifiedAttestation;
    const next = await generateSigningKey();
    const attestation = await createAttestation(identity.ca, { party: identity.party, jwk: next.publicJwk, validFrom: now, issuedAt: now });
    const retired = await createAttestation(identity.ca, {
      party: identity.party,
      jwk: previous.jwk,
      validFrom: previous.validFrom,
      retiredAt: now,
      issuedAt: now,
    });
    await writeNewFile(join(dir, f.signingDir, `${next.kid}.key`), pkcs8(next.privateKey), PRIVATE_FILE_MODE);
    await writeFileAtomic(join(dir, f.attestationsDir, `${next.kid}.jws`), attestation, PUBLIC_FILE_MODE);
    const partyFile: PartyFile = { party: identity.party, displayNames: identity.displayNames, activeKid: next.kid };
    await writeFileAtomic(join(dir, f.partyFile), JSON.stringify(partyFile, null, 2) + "\n", PUBLIC_FILE_MODE);
    await writeFileAtomic(join(dir, f.attestationsDir, `${previous.kid}.jws`), retired, PUBLIC_FILE_MODE);
    await rm(join(dir, f.signingDir, `${previous.kid}.key`), { force: true });
    log.info("signing key rotated", { party: identity.party, previousKid: previous.kid, kid: next.kid });
    return { previousKid: previous.kid, activeKid: next.kid, rotatedAt: now };
  } finally {
    await rm(lockPath, { force: true });
  }
}

export interface RenewNodeCertificateOptions {
  now?: Date;
  /** Replaces the extra DNS names; by default those of the current certificate are kept. */
  dnsNames?: readonly string[];
  /** Replaces the extra IP addresses; by default those of the current certificate are kept. */
  ipAddresses?: readonly string[];
}

/**
 * Issues a fresh node TLS certificate and key (before the old one expires, or to change its
 * names) and replaces `node.key` then `node.crt`, each atomically. The CA and signing keys are
 * untouched, so partners need nothing new. A running node must be restarted to use it.
 */
export async function renewNodeCertificate(dir: string, options: RenewNodeCertificateOptions = {}): Promise<{ notAfter: Date }> {
  const now = options.now ?? new Date();
  const f = IDENTITY_FILES;
  const { party } = await readPartyFile(dir);
  const caCertPem = await readConfigFile(dir, f.caCert);
  const caKeyText = await readConfigFile(dir, f.caKey);
  const caKey = configCheck(f.caKey, () => privateKeyFromPem(caKeyText));
  let current = { dnsNames: [] as string[], ipAddresses: [] as string[] };
  try {
    current = subjectAltNames(await readFile(join(dir, f.nodeCert), "utf8"));
  } catch {
    // A missing or unreadable node.crt is what renewal repairs.
  }
  const node = await issueNodeCertificate(
    { certPem: caCertPem, key: caKey },
    { party, now, dnsNames: options.dnsNames ?? current.dnsNames, ipAddresses: options.ipAddresses ?? current.ipAddresses },
  );
  await writeFileAtomic(join(dir, f.nodeKey), node.keyPem, PRIVATE_FILE_MODE);
  await writeFileAtomic(join(dir, f.nodeCert), node.certPem, PUBLIC_FILE_MODE);
  const notAfter = new Date(toX509(node.certPem).validTo);
  log.info("node certificate renewed", { party, notAfter: notAfter.toISOString() });
  return { notAfter };
}

/** Reads and validates `party.json` (CONFIG_INVALID when missing or malformed). */
export async function readPartyFile(dir: string): Promise<PartyFile> {
  const text = await readConfigFile(dir, IDENTITY_FILES.partyFile);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LiaisonError("CONFIG_INVALID", `${IDENTITY_FILES.partyFile}: not JSON`, { cause: error });
  }
  const parsed = PartyFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LiaisonError("CONFIG_INVALID", `${IDENTITY_FILES.partyFile}: ${issue?.path.join(".") || "(root)"} ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

async function existingIdentityFiles(dir: string): Promise<string[]> {
  const f = IDENTITY_FILES;
  const names = [f.partyFile, f.caCert, f.caKey, f.nodeCert, f.nodeKey, f.signingDir, f.attestationsDir, f.partnersDir];
  const found: string[] = [];
  for (const name of names) {
    try {
      await stat(join(dir, name));
      found.push(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return found;
}

async function readConfigFile(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "is missing" : code === "EACCES" ? "is not readable" : "cannot be read";
    throw new LiaisonError("CONFIG_INVALID", `${name} ${why} in identity folder ${dir}`, { cause: error });
  }
}

async function warnIfReadableByOthers(dir: string, name: string): Promise<void> {
  try {
    const { mode } = await stat(join(dir, name));
    if ((mode & 0o077) !== 0) log.warn("private key file is readable by group or others; it should be 0600", { file: name });
  } catch {
    // Missing files are reported by the read that follows.
  }
}

function configCheck<T>(file: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    const reason = error instanceof Error ? error.message : "invalid";
    throw new LiaisonError("CONFIG_INVALID", `${file}: ${reason}`, { cause: error });
  }
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return a.equals(b);
}

function pkcs8(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}
