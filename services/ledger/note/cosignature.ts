/**
 * C2SP checkpoint cosignatures, Ed25519 "cosignature/v1": https://c2sp.org/tlog-cosignature.
 *
 * A cosignature is a note signature line (./signed-note.ts) added to a checkpoint by a witness:
 *
 *   — <cosigner name> base64(keyID[4] || timestamp[8] || ed25519 signature[64])
 *
 *   key ID    = SHA-256(<name> || "\n" || 0x04 || 32-byte Ed25519 cosigner public key)[:4]
 *   timestamp = u64 big-endian POSIX seconds (SPEC: MUST NOT exceed 2^63 - 1)
 *   signature = Ed25519 (RFC 8032) over the signed message:
 *
 *     "cosignature/v1\n"
 *     "time " <timestamp as ASCII decimal, no leading zeroes> "\n"
 *     <the whole checkpoint note text, final newline included, no signature lines>
 *
 * SPEC: extension lines, if present, MUST be included in the signed message (they are: the
 * whole note text is). The message does not commit to the cosigner name, so one key serves one
 * cosigner. Time is a parameter here: the caller reads the clock.
 *
 * Pure: no I/O, no clock.
 */
import { type KeyObject, sign, verify } from "node:crypto";
import { LiaisonError } from "../../errors/index.ts";
import {
  ed25519PublicKeyBytes,
  ed25519PublicKeyFromBytes,
  formatSignatureLine,
  isValidKeyName,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  noteKeyId,
  parseVerifierKey,
  SIGNATURE_TYPE_COSIGNATURE_V1,
} from "./signed-note.ts";

/** Length of the signature bytes after the key ID: timestamp (8) and Ed25519 signature (64). */
export const COSIGNATURE_V1_SIZE = 8 + 64;
const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER; // below the spec's 2^63 - 1

/** The exact bytes a cosigner signs for `checkpointText` at `timestamp` (POSIX seconds). */
export function cosignatureV1Message(checkpointText: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError(`cosignature timestamp must be a safe non-negative integer, got ${timestamp}`);
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`, "utf8");
}

/** Key ID of an Ed25519 cosigner (type byte 0x04). */
export function cosignatureV1KeyId(name: string, publicKey: KeyObject | Uint8Array): number {
  const raw = publicKey instanceof Uint8Array ? publicKey : ed25519PublicKeyBytes(publicKey);
  return noteKeyId(name, SIGNATURE_TYPE_COSIGNATURE_V1, raw);
}

/**
 * A note signer that cosigns checkpoint texts at the fixed `timestamp` (POSIX seconds). Make one
 * per cosigning, with the time read by the caller.
 */
export function cosignatureV1Signer(name: string, privateKey: KeyObject, timestamp: number): NoteSigner {
  if (!isValidKeyName(name)) throw new TypeError(`invalid cosigner name ${JSON.stringify(name)}`);
  if (privateKey.type !== "private" || privateKey.asymmetricKeyType !== "ed25519") throw new TypeError("cosigner needs an Ed25519 private KeyObject");
  const keyId = cosignatureV1KeyId(name, ed25519PublicKeyBytes(privateKey));
  return {
    name,
    keyId,
    sign(text) {
      const sig = sign(null, cosignatureV1Message(Buffer.from(text).toString("utf8"), timestamp), privateKey);
      const out = Buffer.alloc(COSIGNATURE_V1_SIZE);
      out.writeBigUInt64BE(BigInt(timestamp), 0);
      out.set(sig, 8);
      return out;
    },
  };
}

/** Signs `checkpointText` as cosigner `name` at `timestamp`: the signature line to add to the note. */
export function cosignCheckpoint(checkpointText: string, name: string, privateKey: KeyObject, timestamp: number): string {
  const signer = cosignatureV1Signer(name, privateKey, timestamp);
  return formatSignatureLine({ name, keyId: signer.keyId, signature: signer.sign(Buffer.from(checkpointText, "utf8")) });
}

/** The timestamp (POSIX seconds) inside a cosignature/v1 signature; CHECKPOINT_INVALID if malformed. */
export function cosignatureV1Timestamp(sig: NoteSignature): number {
  if (sig.signature.length !== COSIGNATURE_V1_SIZE) throw new LiaisonError("CHECKPOINT_INVALID", "cosignature is not 72 bytes");
  const t = Buffer.from(sig.signature.buffer, sig.signature.byteOffset, 8).readBigUInt64BE(0);
  if (t > BigInt(MAX_TIMESTAMP)) throw new LiaisonError("CHECKPOINT_INVALID", "cosignature timestamp out of range");
  return Number(t);
}

/** A note verifier for cosigner `name`'s Ed25519 key (type 0x04). */
export function cosignatureV1Verifier(name: string, publicKey: KeyObject | Uint8Array): NoteVerifier {
  if (!isValidKeyName(name)) throw new TypeError(`invalid cosigner name ${JSON.stringify(name)}`);
  const raw = publicKey instanceof Uint8Array ? publicKey : ed25519PublicKeyBytes(publicKey);
  const key = ed25519PublicKeyFromBytes(raw);
  return {
    name,
    keyId: cosignatureV1KeyId(name, raw),
    verify(text, signature) {
      if (signature.length !== COSIGNATURE_V1_SIZE) return false;
      const t = Buffer.from(signature.buffer, signature.byteOffset, 8).readBigUInt64BE(0);
      if (t > BigInt(MAX_TIMESTAMP)) return false;
      const msg = cosignatureV1Message(Buffer.from(text).toString("utf8"), Number(t));
      return verify(null, msg, key, signature.subarray(8));
    },
  };
}

/** Parses a vkey of type 0x01 (log key) or 0x04 (cosigner key). */
export function parseNoteVerifierKey(vkey: string): NoteVerifier {
  return parseVerifierKey(vkey, cosignatureV1Verifier);
}
