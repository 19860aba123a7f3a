/**
 * Signing of exact bytes: a JWS Compact Serialization with a detached payload
 * (RFC 7515 Appendix F) — `BASE64URL(protected) ".." BASE64URL(signature)`.
 */
import type { KeyObject } from "node:crypto";
import { signParts } from "./jws.ts";

export interface SignDetachedOptions {
  /** The signing key's RFC 7638 thumbprint. */
  kid: string;
  /** The protocol's `typ`: {@link JWS_TYP_MESSAGE} or {@link JWS_TYP_RECEIPT}. */
  typ: string;
}

/**
 * Signs `payload` (the exact bytes that will be sent) with an Ed25519 private key. The protected
 * header is exactly `{"alg":"EdDSA","kid":…,"typ":…}` in that order; the payload is not included
 * in the result and must travel beside it, byte for byte.
 */
export async function signDetached(payload: Uint8Array, signingKey: KeyObject, options: SignDetachedOptions): Promise<string> {
  const { kid, typ } = options;
  if (typeof kid !== "string" || kid === "") throw new TypeError("kid must be a non-empty string");
  if (typeof typ !== "string" || typ === "") throw new TypeError("typ must be a non-empty string");
  if (signingKey?.asymmetricKeyType !== "ed25519") throw new TypeError("signing key must be an Ed25519 private KeyObject");
  const parts = await signParts({ alg: "EdDSA", kid, typ }, payload, signingKey);
  return `${parts.protected}..${parts.signature}`;
}
