/**
 * The one JWS core under `sign.ts` and `verify.ts`: compact serialization with a detached
 * payload (RFC 7515 §7.1 and Appendix F), standard base64url payload encoding (no `b64`,
 * RFC 7797), signatures computed and checked by jose. Nothing here trusts a header member to
 * choose a key or an algorithm.
 */
import { KeyObject } from "node:crypto";
import { errors as joseErrors, FlattenedSign, flattenedVerify } from "jose";
import { LiaisonError } from "../errors/index.ts";

/** `typ` of a signed message envelope (RFC 7515 §4.1.9). */
export const JWS_TYP_MESSAGE = "liaison-message+jws";
/** `typ` of a signed delivery receipt. */
export const JWS_TYP_RECEIPT = "liaison-receipt+jws";

/** Upper bound on a whole detached JWS string (header and signature only: the payload travels beside it). */
export const MAX_DETACHED_JWS_LENGTH = 2048;
/** Upper bound on a base64url protected header (an attestation's carries a CA certificate in `x5c`). */
export const MAX_PROTECTED_HEADER_LENGTH = 8192;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** base64url without padding (RFC 7515 §2). */
export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * Strict base64url decoding (RFC 7515 §2): only the URL-safe alphabet, no padding, no
 * whitespace, and canonical (re-encoding gives the same text). Throws `code` otherwise.
 */
export function decodeBase64urlStrict(text: string, what: string, code: "ENVELOPE_MALFORMED" | "ATTESTATION_INVALID" | "SCHEMA_INVALID" = "ENVELOPE_MALFORMED"): Buffer {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new LiaisonError(code, `${what} is not base64url`);
  const bytes = Buffer.from(text, "base64url");
  if (bytes.toString("base64url") !== text) throw new LiaisonError(code, `${what} is not canonical base64url`);
  return bytes;
}

/**
 * Decodes a base64url protected header into a plain JSON object (RFC 7515 §5.2 steps 2–4).
 * Duplicate member names are resolved by JSON.parse to the last one; callers then check every member.
 */
export function decodeProtectedHeader(
  encoded: string,
  code: "ENVELOPE_MALFORMED" | "ATTESTATION_INVALID" | "SCHEMA_INVALID" = "ENVELOPE_MALFORMED",
): Record<string, unknown> {
  if (encoded.length === 0) throw new LiaisonError(code, "protected header is missing");
  if (encoded.length > MAX_PROTECTED_HEADER_LENGTH) throw new LiaisonError(code, "protected header is too long");
  const bytes = decodeBase64urlStrict(encoded, "protected header", code);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new LiaisonError(code, "protected header is not UTF-8", { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LiaisonError(code, "protected header is not JSON", { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new LiaisonError(code, "protected header must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * Signs `payload` under `protectedHeader` and returns the base64url protected header and
 * signature (the JWS Signing Input is RFC 7515 §5.1 step 6: ASCII(BASE64URL(header) "." BASE64URL(payload))).
 * The header is serialised in its member order, exactly as given.
 */
export async function signParts(
  protectedHeader: { alg: string } & Record<string, unknown>,
  payload: Uint8Array,
  key: KeyObject,
): Promise<{ protected: string; signature: string }> {
  if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
  if (!(key instanceof KeyObject) || key.type !== "private") throw new TypeError("signing key must be a private KeyObject");
  const jws = await new FlattenedSign(payload).setProtectedHeader(protectedHeader).sign(key);
  if (jws.protected === undefined) throw new TypeError("unreachable: jose returned no protected header");
  return { protected: jws.protected, signature: jws.signature };
}

/**
 * Checks `signature` over BASE64URL(header) "." BASE64URL(payload) with `key`, through jose,
 * allowing only `algorithms`. A failure is SIGNATURE_INVALID with a fixed message; the detail
 * stays in `cause`, for local logs.
 */
export async function verifyParts(
  protectedB64: string,
  payload: Uint8Array,
  signatureB64: string,
  key: KeyObject,
  algorithms: readonly string[],
): Promise<void> {
  if (!(key instanceof KeyObject) || key.type !== "public") throw new TypeError("verification key must be a public KeyObject");
  try {
    await flattenedVerify({ protected: protectedB64, payload: base64url(payload), signature: signatureB64 }, key, {
      algorithms: [...algorithms],
    });
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) {
      throw new LiaisonError("SIGNATURE_INVALID", "signature verification failed", { cause: error });
    }
    throw error;
  }
}
