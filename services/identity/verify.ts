/**
 * Verification of a detached JWS (RFC 7515 Appendix F) over exact bytes, strictly:
 * shape and size, then every protected header member, then the key (by `kid`, from the
 * caller's resolver — never from the header), then the signature through jose.
 * Each failure has its own code and message; a bad signature gets a fixed, uninformative one.
 */
import { KeyObject } from "node:crypto";
import { LiaisonError } from "../errors/index.ts";
import { decodeBase64urlStrict, decodeProtectedHeader, MAX_DETACHED_JWS_LENGTH, verifyParts } from "./jws.ts";

/** The protected header of a verified detached JWS: exactly these members. */
export interface DetachedJwsHeader {
  alg: string;
  kid: string;
  typ: string;
}

/** Finds the public key for a header (its `kid`), or throws KEY_UNKNOWN / KEY_NOT_VALID_AT_TIME. */
export type ResolveKey = (header: DetachedJwsHeader) => KeyObject | Promise<KeyObject>;

export interface VerifyDetachedOptions {
  /** The `typ` this use expects (RFC 7515 §4.1.9): {@link JWS_TYP_MESSAGE} or {@link JWS_TYP_RECEIPT}. */
  typ: string;
  resolveKey: ResolveKey;
  /** Allowed `alg` values; Liaison uses `["EdDSA"]`. */
  algorithms: readonly string[];
  /** Defaults to {@link MAX_DETACHED_JWS_LENGTH}. */
  maxLength?: number;
}

export interface VerifiedDetachedJws {
  protectedHeader: DetachedJwsHeader;
  key: KeyObject;
}

/** Members a Liaison signature header may carry. */
const ALLOWED_MEMBERS = new Set(["alg", "kid", "typ"]);
/** Members that would let the signer choose the verification key (RFC 7515 §4.1.2–4.1.8). */
const KEY_MEMBERS = new Set(["jwk", "jku", "x5c", "x5u", "x5t", "x5t#S256"]);
const MAX_KID_LENGTH = 256;

/**
 * Verifies `jws` (compact, detached) over `payload`. Returns the header and the key used.
 * Throws LiaisonError: ENVELOPE_TOO_LARGE, ENVELOPE_MALFORMED, ALGORITHM_NOT_ALLOWED, whatever
 * the resolver throws (KEY_UNKNOWN, KEY_NOT_VALID_AT_TIME), SIGNATURE_INVALID.
 */
export async function verifyDetached(jws: unknown, payload: Uint8Array, options: VerifyDetachedOptions): Promise<VerifiedDetachedJws> {
  if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
  if (typeof options?.typ !== "string" || options.typ === "") throw new TypeError("options.typ must be a non-empty string");
  if (typeof options.resolveKey !== "function") throw new TypeError("options.resolveKey must be a function");
  if (!Array.isArray(options.algorithms) || options.algorithms.length === 0 || options.algorithms.some((a) => typeof a !== "string" || a === "none")) {
    throw new TypeError('options.algorithms must be a non-empty list of algorithm names, without "none"');
  }
  const maxLength = options.maxLength ?? MAX_DETACHED_JWS_LENGTH;

  // Shape (RFC 7515 §7.1, Appendix F).
  if (typeof jws !== "string") throw new LiaisonError("ENVELOPE_MALFORMED", "signature must be a string");
  if (jws.length > maxLength) throw new LiaisonError("ENVELOPE_TOO_LARGE", `signature exceeds ${maxLength} characters`);
  const parts = jws.split(".");
  if (parts.length !== 3) throw new LiaisonError("ENVELOPE_MALFORMED", "signature must be a JWS compact serialization of three parts");
  const [protectedB64, detached, signatureB64] = parts as [string, string, string];
  if (detached !== "") throw new LiaisonError("ENVELOPE_MALFORMED", "signature must have a detached (empty) payload part");
  if (signatureB64 === "") throw new LiaisonError("ENVELOPE_MALFORMED", "signature part is empty");
  decodeBase64urlStrict(signatureB64, "signature");

  // Protected header, member by member (RFC 7515 §4.1).
  const header = decodeProtectedHeader(protectedB64);
  if (Object.hasOwn(header, "crit")) {
    throw new LiaisonError("ENVELOPE_MALFORMED", 'header parameter "crit" is not supported (RFC 7515 §4.1.11)');
  }
  if (Object.hasOwn(header, "b64")) {
    throw new LiaisonError("ENVELOPE_MALFORMED", 'header parameter "b64" is not allowed: the payload is base64url-encoded (RFC 7797)');
  }
  for (const member of Object.keys(header)) {
    if (KEY_MEMBERS.has(member)) throw new LiaisonError("ENVELOPE_MALFORMED", `header parameter "${member}" is not allowed: keys are resolved by kid only`);
    if (!ALLOWED_MEMBERS.has(member)) throw new LiaisonError("ENVELOPE_MALFORMED", `header parameter "${safeName(member)}" is not allowed`);
  }
  const { alg, kid, typ } = header;
  if (alg === undefined) throw new LiaisonError("ENVELOPE_MALFORMED", 'header parameter "alg" is missing');
  if (typeof alg !== "string") throw new LiaisonError("ENVELOPE_MALFORMED", 'header parameter "alg" must be a string');
  if (!options.algorithms.includes(alg)) throw new LiaisonError("ALGORITHM_NOT_ALLOWED", `"alg" (Algorithm) header value is not allowed`);
  if (kid === undefined) throw new LiaisonError("ENVELOPE_MALFORMED", 'header parameter "kid" is missing');
  if (typeof kid !== "string" || kid === "" || kid.length > MAX_KID_LENGTH) {
    throw new LiaisonError("ENVELOPE_MALFORMED", 'header parameter "kid" must be a non-empty string');
  }
  if (typ === undefined) throw new LiaisonError("ENVELOPE_MALFORMED", 'header parameter "typ" is missing');
  if (typ !== options.typ) throw new LiaisonError("ENVELOPE_MALFORMED", `header parameter "typ" must be "${options.typ}"`);

  const protectedHeader: DetachedJwsHeader = { alg, kid, typ };
  const key = await options.resolveKey(protectedHeader);
  if (!(key instanceof KeyObject)) throw new TypeError("resolveKey must return a public KeyObject");

  await verifyParts(protectedB64, payload, signatureB64, key, options.algorithms);
  return { protectedHeader, key };
}

/** A member name from untrusted input, made safe to echo in a message. */
function safeName(name: string): string {
  const cleaned = name.replace(/[^\x20-\x7e]/g, "?");
  return cleaned.length > 32 ? cleaned.slice(0, 32) + "…" : cleaned;
}
