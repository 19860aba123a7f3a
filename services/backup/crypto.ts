/**
 * Passphrase encryption of the backup's secret part: scrypt (RFC 7914) derives a 256-bit key
 * from the passphrase and a random salt; AES-256-GCM (NIST SP 800-38D) encrypts with a random
 * 96-bit IV and authenticates the part's name as additional data, so that parts cannot be
 * swapped between backups or names. A key-check block lets a wrong passphrase be told apart
 * from a damaged part, and an HMAC-SHA-256 under a second derived key authenticates the
 * manifest. The passphrase and the keys are never written or logged.
 */
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { decrypt, encrypt, type KdfParams, newKdfParams, scryptKey } from "../identity/custody.ts";

// The primitives are identity's key-custody ones (the backup format is unchanged by the move).
export { decrypt, encrypt, newKdfParams, type KdfParams };

const KEY_CHECK_TEXT = "liaison-backup key check";

export interface BackupKeys {
  /** AES-256-GCM key of the encrypted parts. */
  readonly encryption: Buffer;
  /** HMAC-SHA-256 key of the manifest. */
  readonly mac: Buffer;
}

/** Derive the backup keys from a passphrase. A `TypeError` for an empty passphrase (our caller checks). */
export function deriveKeys(passphrase: string, kdf: KdfParams): BackupKeys {
  if (typeof passphrase !== "string" || passphrase.length === 0) throw new TypeError("passphrase must be a non-empty string");
  const master = scryptKey(passphrase, kdf, "the backup");
  const sub = (info: string) => Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), info, 32));
  return { encryption: sub("liaison-backup/1 encryption"), mac: sub("liaison-backup/1 manifest mac") };
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
