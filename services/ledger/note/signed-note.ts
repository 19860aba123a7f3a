/**
 * C2SP signed notes, byte for byte: https://c2sp.org/signed-note (v1.0.0).
 *
 * Layout of a signed note (all UTF-8, no control characters other than U+000A):
 *
 *   <text: one or more lines, each ending in "\n"; may contain empty lines>
 *   "\n"                                           ← the LAST empty line separates text and signatures
 *   "— " <key name> " " base64(keyID[4] || signature) "\n"     ← one or more signature lines
 *
 * where "—" is U+2014 (em dash), key ID is a big-endian uint32, and base64 is RFC 4648 §4
 * (standard alphabet, padded). For Ed25519 (signature type 0x01) the signature is RFC 8032 over
 * the note text (final newline included, separating blank line excluded) and
 *
 *   key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]
 *
 * A verifier key ("vkey") is `<key name>+<hex(key ID), 8 digits>+<base64(signature type || public key)>`.
 *
 * Verification (SPEC MUST/SHOULD rules, each enforced below):
 *  - SPEC: verifiers MUST ignore signatures from unknown keys, even if they share a name or an ID
 *    (but not both) with a known key;
 *  - SPEC: if the key name and ID match a known key, verifiers MUST verify the signature, and
 *    SHOULD reject the whole note if it fails (we do);
 *  - SPEC: if no signature from a known key verifies, clients MUST reject the note;
 *  - SPEC: verifiers MUST accept at least 16 signatures (our limit is 100, as golang.org/x/mod).
 *
 * Pure: no I/O, no clock. Malformed notes are CHECKPOINT_INVALID (notes carry checkpoints in
 * Liaison), a known key whose signature fails is SIGNATURE_INVALID, no verified known key is
 * KEY_UNKNOWN. Bad arguments from our own code are TypeError.
 */
import { createHash, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { LiaisonError } from "../../errors/index.ts";

/** Signature type 0x01: Ed25519 over the note text (signed-note §Ed25519 signatures). */
export const SIGNATURE_TYPE_ED25519 = 0x01;
/** Signature type 0x04: timestamped Ed25519 checkpoint cosignature (c2sp.org/tlog-cosignature). */
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

/** Most signature lines we read from one note (the spec's floor is 16). */
export const MAX_NOTE_SIGNATURES = 100;
/** Largest note we read, in bytes. */
export const MAX_NOTE_BYTES = 1 << 20;

const EM_DASH_PREFIX = "\u2014 ";
/** A string with one of these cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** One parsed signature line. */
export interface NoteSignature {
  /** Key name as written in the line. */
  readonly name: string;
  /** Big-endian uint32 key ID, the first 4 signature bytes. */
  readonly keyId: number;
  /** The signature bytes after the key ID. */
  readonly signature: Uint8Array;
}

/** A known key: verifies signatures whose name and key ID both match. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** True when `signature` (bytes after the key ID) is valid for `text`. Never throws on bad bytes. */
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** A private key that produces signature bytes (after the key ID) over a note text. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Uint8Array;
}

export interface ParsedNote {
  /** The note text, final newline included. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface OpenedNote extends ParsedNote {
  /** Signatures by known keys, all verified. At least one. */
  readonly verified: readonly NoteSignature[];
  /** Signatures by unknown keys, ignored (not verified). */
  readonly unverified: readonly NoteSignature[];
}

function malformed(message: string): LiaisonError {
  return new LiaisonError("CHECKPOINT_INVALID", `malformed note: ${message}`);
}

/** SPEC: key names MUST be non-empty and MUST NOT contain Unicode spaces or "+". */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasControl(name);
}

function hasControl(s: string): boolean {
  return /[\u0000-\u001f]/.test(s);
}

function assertKeyName(name: string): void {
  if (!isValidKeyName(name)) throw new TypeError(`invalid note key name ${JSON.stringify(name)}`);
}

/** SHA-256(key name || 0x0A || signature type || public key)[:4], as a big-endian uint32. */
export function noteKeyId(name: string, signatureType: number, publicKey: Uint8Array): number {
  const h = createHash("sha256")
    .update(Buffer.from(name, "utf8"))
    .update(Uint8Array.of(0x0a, signatureType))
    .update(publicKey)
    .digest();
  return h.readUInt32BE(0);
}

/** The 32-byte RFC 8032 encoding of an Ed25519 public (or private) key object. */
export function ed25519PublicKeyBytes(key: KeyObject): Uint8Array {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== "ed25519") throw new TypeError(`expected an Ed25519 key, got ${String(pub.asymmetricKeyType)}`);
  const jwk = pub.export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new TypeError("Ed25519 key without x");
  return Uint8Array.from(Buffer.from(jwk.x, "base64url"));
}

/** An Ed25519 public key object from its 32-byte RFC 8032 encoding. */
export function ed25519PublicKeyFromBytes(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new TypeError(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
}

function toPublicKey(key: KeyObject | Uint8Array): { object: KeyObject; raw: Uint8Array } {
  if (key instanceof Uint8Array) return { object: ed25519PublicKeyFromBytes(key), raw: key };
  const raw = ed25519PublicKeyBytes(key);
  return { object: key.type === "private" ? ed25519PublicKeyFromBytes(raw) : key, raw };
}

/** A signer for signature type 0x01 (Ed25519 over the note text). */
export function ed25519NoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  assertKeyName(name);
  if (privateKey.type !== "private" || privateKey.asymmetricKeyType !== "ed25519") {
    throw new TypeError("ed25519NoteSigner needs an Ed25519 private KeyObject");
  }
  const keyId = noteKeyId(name, SIGNATURE_TYPE_ED25519, ed25519PublicKeyBytes(privateKey));
  return { name, keyId, sign: (text) => sign(null, text, privateKey) };
}

/** A verifier for signature type 0x01 (Ed25519 over the note text). */
export function ed25519NoteVerifier(name: string, publicKey: KeyObject | Uint8Array): NoteVerifier {
  assertKeyName(name);
  const { object, raw } = toPublicKey(publicKey);
  const keyId = noteKeyId(name, SIGNATURE_TYPE_ED25519, raw);
  return {
    name,
    keyId,
    verify: (text, signature) => signature.length === 64 && verify(null, text, object, signature),
  };
}

/** `<name>+<hex key ID>+<base64(type || public key)>` (signed-note §Verifier keys). */
export function formatVerifierKey(name: string, signatureType: number, publicKey: KeyObject | Uint8Array): string {
  assertKeyName(name);
  const { raw } = toPublicKey(publicKey);
  const id = noteKeyId(name, signatureType, raw).toString(16).padStart(8, "0");
  return `${name}+${id}+${Buffer.concat([Uint8Array.of(signatureType), raw]).toString("base64")}`;
}

/** Strict RFC 4648 §4 base64: decodes only canonical, padded text. */
export function decodeBase64Strict(s: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  const bytes = Buffer.from(s, "base64");
  if (bytes.toString("base64") !== s) return undefined;
  return Uint8Array.from(bytes);
}

/**
 * Parses a verifier key. Signature types 0x01 (Ed25519) and 0x04 (cosignature/v1) are supported;
 * the 0x04 verifier is built by `makeCosignatureVerifier` (passed in to keep this module free of
 * the cosignature format). A malformed key or unknown type is CONFIG_INVALID (vkeys come from
 * configuration and partner bundles).
 */
export function parseVerifierKey(
  vkey: string,
  makeCosignatureVerifier?: (name: string, publicKey: Uint8Array) => NoteVerifier,
): NoteVerifier {
  const bad = (why: string) => new LiaisonError("CONFIG_INVALID", `invalid verifier key: ${why}`);
  // The base64 key may itself contain "+": split at the first two only.
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (second < 0) throw bad("want <name>+<hex key id>+<base64 key>");
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  const keyB64 = vkey.slice(second + 1);
  if (!isValidKeyName(name)) throw bad("invalid key name");
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw bad("key id must be 8 lowercase hex digits");
  const key = decodeBase64Strict(keyB64);
  if (!key || key.length < 2) throw bad("key is not base64");
  const type = key[0];
  const raw = key.subarray(1);
  if (raw.length !== 32) throw bad(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
  if (noteKeyId(name, type, raw) !== Number.parseInt(idHex, 16)) throw bad("key id does not match name and key");
  if (type === SIGNATURE_TYPE_ED25519) return ed25519NoteVerifier(name, raw);
  if (type === SIGNATURE_TYPE_COSIGNATURE_V1 && makeCosignatureVerifier) return makeCosignatureVerifier(name, raw);
  throw bad(`unsupported signature type 0x${type.toString(16).padStart(2, "0")}`);
}

/** "— <name> <base64(keyID || signature)>\n". */
export function formatSignatureLine(sig: NoteSignature): string {
  assertKeyName(sig.name);
  const id = Buffer.alloc(4);
  id.writeUInt32BE(sig.keyId >>> 0, 0);
  return `${EM_DASH_PREFIX}${sig.name} ${Buffer.concat([id, sig.signature]).toString("base64")}\n`;
}

function checkText(text: string): void {
  if (text.length === 0 || !text.endsWith("\n")) throw new TypeError("note text must be non-empty and end with a newline");
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new TypeError("note text must not contain control characters other than newline");
}

/** Signs `text` (which must end in "\n") with every signer: the full signed note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  if (signers.length === 0) throw new TypeError("signNote needs at least one signer");
  const bytes = Buffer.from(text, "utf8");
  const lines = signers.map((s) => formatSignatureLine({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) }));
  return `${text}\n${lines.join("")}`;
}

/** Adds signature lines to a signed note (e.g. cosignatures onto a checkpoint). */
export function addSignatures(note: string, signatures: readonly NoteSignature[]): string {
  return note + signatures.map(formatSignatureLine).join("");
}

/**
 * Splits a signed note into text and signature lines, enforcing the format's MUST rules (size,
 * UTF-8, control characters, line shape, key names, base64, signature count). Verifies nothing.
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  let s: string;
  if (typeof note === "string") {
    if (Buffer.byteLength(note, "utf8") > MAX_NOTE_BYTES) throw malformed(`larger than ${MAX_NOTE_BYTES} bytes`);
    if (LONE_SURROGATE.test(note)) throw malformed("not valid UTF-8");
    s = note;
  } else {
    if (note.length > MAX_NOTE_BYTES) throw malformed(`larger than ${MAX_NOTE_BYTES} bytes`);
    try {
      s = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      throw malformed("not valid UTF-8");
    }
  }
  // SPEC: MUST NOT contain any ASCII control characters other than newline.
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) throw malformed("contains a control character");
  // SPEC: the text is separated from the signatures by the last empty line.
  const split = s.lastIndexOf("\n\n");
  if (split < 0) throw malformed("no blank line before the signatures");
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0 || !block.endsWith("\n")) throw malformed("signature block must be non-empty and end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(EM_DASH_PREFIX)) throw malformed("signature line does not start with an em dash and a space");
    const rest = line.slice(EM_DASH_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space < 0) throw malformed("signature line without a space after the key name");
    const name = rest.slice(0, space);
    if (!isValidKeyName(name)) throw malformed("invalid key name in a signature line");
    const raw = decodeBase64Strict(rest.slice(space + 1));
    if (!raw || raw.length < 5) throw malformed("signature is not base64 of a key id and a signature");
    signatures.push({ name, keyId: Buffer.from(raw.buffer, raw.byteOffset, 4).readUInt32BE(0), signature: raw.subarray(4) });
  }
  return { text, signatures };
}

/**
 * Parses and verifies a signed note against known keys (see the SPEC rules above). Returns the
 * text with its verified and ignored signatures. Throws CHECKPOINT_INVALID (malformed),
 * SIGNATURE_INVALID (a known key's signature fails) or KEY_UNKNOWN (no known key signed).
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const byKey = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const k = `${v.name}\u0000${v.keyId}`;
    if (byKey.has(k)) throw new TypeError(`two verifiers for ${v.name} key id ${v.keyId.toString(16)}`);
    byKey.set(k, v);
  }
  const parsed = parseNote(note);
  const textBytes = Buffer.from(parsed.text, "utf8");
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of parsed.signatures) {
    const k = `${sig.name}\u0000${sig.keyId}`;
    const v = byKey.get(k);
    if (v === undefined) {
      unverified.push(sig);
      continue;
    }
    if (!v.verify(textBytes, sig.signature)) {
      throw new LiaisonError("SIGNATURE_INVALID", `note signature by ${sig.name} does not verify`);
    }
    if (!seen.has(k)) verified.push(sig);
    seen.add(k);
  }
  if (verified.length === 0) throw new LiaisonError("KEY_UNKNOWN", "note has no verified signature from a known key");
  return { ...parsed, verified, unverified };
}
