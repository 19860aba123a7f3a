/**
 * Passphrase encryption of the backup's secret part: scrypt (RFC 7914) derives a 256-bit key
 * from the passphrase and a random salt; AES-256-GCM (NIST SP 800-38D) encrypts with a random
 * 96-bit IV and authenticates the part's name as additional data, so that parts cannot be
 * swapped between backups or names. A key-check block lets a wrong passphrase be told apart
 * from a damaged part, and an HMAC-SHA-256 under a second derived key authenticates the
 * manifest. The passphrase and the keys are never written or logged.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { LiaisonError } from "../errors/index.ts";

export interface KdfParams {
  name: "scrypt";
  /** CPU/memory cost (a power of two). */
  N: number;
  r: number;
  p: number;
  /** base64 */
  salt: string;
}

/** 2^15 × 8 × 128 B = 32 MiB of memory per derivation: slow to guess, fine for a CLI. */
export const DEFAULT_KDF = Object.freeze({ N: 1 << 15, r: 8, p: 1 });
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_CHECK_TEXT = "liaison-backup key check";

export interface BackupKeys {
  /** AES-256-GCM key of the encrypted parts. */
  readonly encryption: Buffer;
  /** HMAC-SHA-256 key of the manifest. */
  readonly mac: Buffer;
}

export function newKdfParams(): KdfParams {
  return { name: "scrypt", ...DEFAULT_KDF, salt: randomBytes(16).toString("base64") };
}

/** Derive the backup keys from a passphrase. A `TypeError` for an empty passphrase (our caller checks). */
export function deriveKeys(passphrase: string, kdf: KdfParams): BackupKeys {
  if (typeof passphrase !== "string" || passphrase.length === 0) throw new TypeError("passphrase must be a non-empty string");
  if (kdf.name !== "scrypt" || !Number.isSafeInteger(kdf.N) || kdf.N < 2 || kdf.N > 1 << 22 || kdf.r < 1 || kdf.r > 32 || kdf.p < 1 || kdf.p > 16) {
    throw new LiaisonError("INVALID_ARGUMENT", "the backup's key derivation parameters are not supported");
  }
  const master = scryptSync(passphrase.normalize("NFC"), Buffer.from(kdf.salt, "base64"), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r + 16 * 1024 * 1024,
  });
  const sub = (info: string) => Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), info, 32));
  return { encryption: sub("liaison-backup/1 encryption"), mac: sub("liaison-backup/1 manifest mac") };
}

/** iv ‖ ciphertext ‖ tag */
export function encrypt(key: Buffer, plaintext: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Undefined when the key is wrong or the bytes were changed (GCM cannot tell which). */
export function decrypt(key: Buffer, sealed: Uint8Array, aad: string): Buffer | undefined {
  if (sealed.byteLength < IV_BYTES + TAG_BYTES) return undefined;
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
    return Buffer.concat([decipher.update(buf.subarray(IV_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

export function keyCheck(keys: BackupKeys, backupId: string): string {
  return encrypt(keys.encryption, Buffer.from(KEY_CHECK_TEXT), `${backupId} key-check`).toString("base64");
}

export function keyCheckPasses(keys: BackupKeys, backupId: string, check: string): boolean {
  const plain = decrypt(keys.encryption, Buffer.from(check, "base64"), `${backupId} key-check`);
  return plain !== undefined && plain.toString("utf8") === KEY_CHECK_TEXT;
}

export function manifestMac(keys: BackupKeys, manifest: Uint8Array): string {
  return createHmac("sha256", keys.mac).update(manifest).digest("hex");
}

export function manifestMacMatches(keys: BackupKeys, manifest: Uint8Array, mac: string): boolean {
  const want = Buffer.from(manifestMac(keys, manifest), "hex");
  const got = Buffer.from(mac, "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}
