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
 * and never logged. With a key passphrase they are encrypted PKCS#8 PEM (./custody.ts); the
 * functions reading keys take `passphrase` (`undefined`: the environment's
 * LIAISON_KEY_PASSPHRASE[_FILE]; `null`: none), those writing keys encrypt them with it.
 */
import { createPublicKey, type KeyObject, type X509Certificate } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { createAttestation, type VerifiedAttestation, verifyAttestation } from "./attestation.ts";
import { DIRECTORY_MODE, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, writeFileAtomic, writeNewFile } from "./files.ts";
import {
  assertKeyPassphrase,
  exportPrivateKeyPem,
  isEncryptedPrivateKeyPem,
  KEY_PASSPHRASE_HINT,
  keyPassphraseFromEnvironment,
  openPrivateKeyPem,
} from "./custody.ts";
import { generateSigningKey, type SigningKey, signingKeyFromPrivateKey } from "./keys.ts";
import { PARTY_ID_PATTERN } from "./party.ts";
import {
  type CertificateAuthority,
  createPartyCa,
  issueNodeCertificate,
  partyFromCertificate,
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
  /** Encrypt every private key under this passphrase (at least 16 characters); in clear without. */
  passphrase?: string;
}

/**
 * The key passphrase of a reading function: `undefined` takes the environment's
 * (LIAISON_KEY_PASSPHRASE or LIAISON_KEY_PASSPHRASE_FILE), `null` means none.
 */
export type PassphraseOption = string | null | undefined;

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
  /**
   * The CA private key, for CA-only operations (attestations, bundles, certificates) — absent on a
   * node host whose identity folder was installed without `ca.key` (it stays on the offline
   * machine; a running node never needs it). See {@link requireCa}.
   */
  caKey?: KeyObject;
  /** `caCertPem` and `caKey` together, as the issuing functions take them (absent with caKey). */
  ca?: CertificateAuthority;
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
  const { passphrase } = options;
  if (passphrase !== undefined) assertKeyPassphrase(passphrase);

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
      [f.caKey, exportPrivateKeyPem(ca.key, passphrase), PRIVATE_FILE_MODE],
      [f.nodeCert, node.certPem, PUBLIC_FILE_MODE],
      [f.nodeKey, reexport(node.keyPem, passphrase), PRIVATE_FILE_MODE],
      [join(f.signingDir, `${signing.kid}.key`), exportPrivateKeyPem(signing.privateKey, passphrase), PRIVATE_FILE_MODE],
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
  log.info("identity created", { party, fingerprint, kid: signing.kid, keysEncrypted: passphrase !== undefined });
  return { party, fingerprint, activeKid: signing.kid };
}

/**
 * Loads and checks an identity folder: party.json, the CA and its key (which must match), the
 * node certificate (issued by the CA, valid at `now`), the active signing key and every
 * attestation (verified against our CA). Anything wrong is CONFIG_INVALID naming the file; an
 * encrypted key without the passphrase, or with a wrong one, is named as such.
 */
export async function loadIdentity(dir: string, options: { now?: Date; passphrase?: PassphraseOption } = {}): Promise<Identity> {
  if (typeof dir !== "string" || dir === "") throw new TypeError("dir must be a non-empty path");
  const now = options.now ?? new Date();
  const keys = new PrivateKeyReader(dir, options.passphrase);
  const f = IDENTITY_FILES;
  const partyFile = await readPartyFile(dir);
  const { party, displayNames, activeKid } = partyFile;

  const { caCertPem, caCert } = await readCaCertificate(dir, party);
  // ca.key may be kept off the node host: only CA operations (run where it is kept) need it.
  const caKey = (await exists(join(dir, f.caKey))) ? await keys.read(f.caKey) : undefined;
  if (caKey) {
    configCheck(f.caKey, () => {
      if (!samePublicKey(createPublicKey(caKey), caCert.publicKey)) throw new Error("does not match ca.crt");
    });
  }

  const tlsCertPem = await readConfigFile(dir, f.nodeCert);
  const tlsKey = await keys.read(f.nodeKey);
  // grpc-js takes the TLS key as PEM: held decrypted in memory only.
  const tlsKeyPem = exportPrivateKeyPem(tlsKey);
  configCheck(f.nodeCert, () => {
    verifyCertificateIssuedBy(tlsCertPem, caCert, now);
    if (partyFromCertificate(tlsCertPem) !== party) throw new Error(`does not name party ${party}`);
  });
  configCheck(f.nodeKey, () => {
    if (!samePublicKey(createPublicKey(tlsKey), toX509(tlsCertPem).publicKey)) throw new Error("does not match node.crt");
  });

  const signingPath = join(f.signingDir, `${activeKid}.key`);
  const activeSigningKey = await signingKeyFromPrivateKey(await keys.read(signingPath)).catch((error: unknown) => {
    if (error instanceof LiaisonError) throw error;
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
  keys.warnAboutClearKeys();

  const identity = {
    dir,
    party,
    displayNames,
    caCertPem,
    ...(caKey ? { caKey, ca: { certPem: caCertPem, key: caKey } satisfies CertificateAuthority } : {}),
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

/** The party CA (certificate and private key) for a CA-only operation, or a clear refusal without ca.key. */
export function requireCa(identity: Identity, operation: string): CertificateAuthority {
  if (!identity.ca) {
    throw new LiaisonError(
      "CONFIG_INVALID",
      `${operation} needs the party CA's private key (${join(identity.dir, IDENTITY_FILES.caKey)}), which is not in this identity folder: run it where ca.key is kept`,
    );
  }
  return identity.ca;
}

/**
 * Rotates the message-signing key: a new key attested from `now`; party.json switched to it
 * (the commit point); the previous key's attestation re-issued with `retired_at = now` (it keeps
 * verifying messages made before then); the previous private key then deleted, since it must
 * never sign again. Partners learn of it from the next exported bundle.
 */
export async function rotateSigningKey(dir: string, options: { now?: Date; passphrase?: PassphraseOption } = {}): Promise<RotateResult> {
  const now = options.now ?? new Date();
  const passphrase = resolvePassphrase(options.passphrase);
  if (passphrase !== undefined) assertKeyPassphrase(passphrase);
  const identity = await loadIdentity(dir, { now, passphrase: passphrase ?? null });
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
    const ca = requireCa(identity, "rotating the signing key");
    const attestation = await createAttestation(ca, { party: identity.party, jwk: next.publicJwk, validFrom: now, issuedAt: now });
    const retired = await createAttestation(ca, {
      party: identity.party,
      jwk: previous.jwk,
      validFrom: previous.validFrom,
      retiredAt: now,
      issuedAt: now,
    });
    await writeNewFile(join(dir, f.signingDir, `${next.kid}.key`), exportPrivateKeyPem(next.privateKey, passphrase), PRIVATE_FILE_MODE);
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
  /** Opens ca.key and encrypts the new node.key (see {@link PassphraseOption}). */
  passphrase?: PassphraseOption;
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
  const passphrase = resolvePassphrase(options.passphrase);
  if (passphrase !== undefined) assertKeyPassphrase(passphrase);
  const caCertPem = await readConfigFile(dir, f.caCert);
  const caKey = await new PrivateKeyReader(dir, passphrase ?? null).read(f.caKey);
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
  await writeFileAtomic(join(dir, f.nodeKey), reexport(node.keyPem, passphrase), PRIVATE_FILE_MODE);
  await writeFileAtomic(join(dir, f.nodeCert), node.certPem, PUBLIC_FILE_MODE);
  const notAfter = new Date(toX509(node.certPem).validTo);
  log.info("node certificate renewed", { party, notAfter: notAfter.toISOString() });
  return { notAfter };
}

export interface SetKeyPassphraseOptions {
  /** The current passphrase (see {@link PassphraseOption}); keys in clear need none. */
  passphrase?: PassphraseOption;
  /** The passphrase to encrypt every private key under (at least 16 characters). */
  newPassphrase: string;
}

/**
 * Encrypts every private key of the folder — `ca.key` when present (it may be kept offline),
 * `node.key`, `signing/*.key` — under `newPassphrase`: keys in clear are encrypted, encrypted
 * ones re-encrypted. Every key is opened before any is written; each is then replaced
 * atomically. Returns the files rewritten.
 */
export async function setKeyPassphrase(dir: string, options: SetKeyPassphraseOptions): Promise<{ files: string[] }> {
  assertKeyPassphrase(options.newPassphrase);
  const f = IDENTITY_FILES;
  await readPartyFile(dir);
  const names: string[] = [f.nodeKey];
  if (await exists(join(dir, f.caKey))) names.unshift(f.caKey);
  const signing = await readdir(join(dir, f.signingDir)).catch(() => [] as string[]);
  names.push(...signing.filter((n) => n.endsWith(".key")).sort().map((n) => join(f.signingDir, n)));
  const reader = new PrivateKeyReader(dir, options.passphrase);
  const opened: [string, KeyObject][] = [];
  for (const name of names) opened.push([name, await reader.read(name)]);
  for (const [name, key] of opened) await writeFileAtomic(join(dir, name), exportPrivateKeyPem(key, options.newPassphrase), PRIVATE_FILE_MODE);
  log.info("private keys encrypted under a new key passphrase", { dir, files: names });
  return { files: names };
}

/**
 * The party and its CA fingerprint, from `party.json` and `ca.crt` alone (no private key is
 * read, so no passphrase is needed).
 */
export async function identityFingerprint(dir: string): Promise<{ party: string; fingerprint: string }> {
  const { party } = await readPartyFile(dir);
  const { caCert } = await readCaCertificate(dir, party);
  return { party, fingerprint: sha256Fingerprint(caCert) };
}

/** `ca.crt`: a CA certificate naming `party` (CONFIG_INVALID otherwise). */
async function readCaCertificate(dir: string, party: string): Promise<{ caCertPem: string; caCert: X509Certificate }> {
  const f = IDENTITY_FILES;
  const caCertPem = await readConfigFile(dir, f.caCert);
  const caCert = configCheck(f.caCert, () => toX509(caCertPem));
  configCheck(f.caCert, () => {
    if (!caCert.ca) throw new Error("not a CA certificate");
    if (partyFromCertificate(caCert) !== party) throw new Error(`does not name party ${party}`);
  });
  return { caCertPem, caCert };
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
  for (const name of names) if (await exists(join(dir, name))) found.push(name);
  return found;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return false;
  }
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

/** A freshly generated PEM key (from issueNodeCertificate), encrypted under `passphrase` if given. */
function reexport(keyPem: string, passphrase: string | undefined): string {
  return passphrase === undefined ? keyPem : exportPrivateKeyPem(openPrivateKeyPem(keyPem, "new key"), passphrase);
}

function resolvePassphrase(option: PassphraseOption): string | undefined {
  return option === undefined ? keyPassphraseFromEnvironment() : (option ?? undefined);
}

/**
 * Reads the private keys of one identity folder with one passphrase: checks each file's mode,
 * opens it (errors name the file's path and whether the passphrase is missing or wrong), and
 * notes which keys are in clear, for one warning at the end.
 */
class PrivateKeyReader {
  readonly passphrase: string | undefined;
  readonly clear: string[] = [];

  constructor(
    private readonly dir: string,
    passphrase: PassphraseOption,
  ) {
    this.passphrase = resolvePassphrase(passphrase);
  }

  async read(name: string): Promise<KeyObject> {
    await warnIfReadableByOthers(this.dir, name);
    const text = await readConfigFile(this.dir, name);
    if (!isEncryptedPrivateKeyPem(text)) this.clear.push(name);
    return openPrivateKeyPem(text, join(this.dir, name), this.passphrase);
  }

  /**
   * Keys in clear deserve a warning when a passphrase is set (they were meant to be encrypted)
   * and in production (where they should be).
   */
  warnAboutClearKeys(): void {
    if (this.clear.length === 0) return;
    if (this.passphrase !== undefined) {
      log.warn("a key passphrase is set but these private keys are not encrypted; encrypt them with `liaison pki set-passphrase`", {
        dir: this.dir,
        files: this.clear,
      });
    } else if (process.env.NODE_ENV === "production") {
      log.warn(`private keys are not encrypted at rest; set a key passphrase (${KEY_PASSPHRASE_HINT}) and encrypt them with \`liaison pki set-passphrase\``, {
        dir: this.dir,
        files: this.clear,
      });
    }
  }
}
