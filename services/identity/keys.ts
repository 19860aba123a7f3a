/**
 * Message-signing keys: Ed25519 (JWS `alg` "EdDSA", RFC 8037 §3.1), named by their RFC 7638
 * JWK thumbprint (SHA-256, base64url) — the `kid` carried in every message signature.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { calculateJwkThumbprint } from "jose";
import { LiaisonError } from "../errors/index.ts";

const generateKeyPairAsync = promisify(generateKeyPair);

/** The public half of an Ed25519 key as a JWK (RFC 8037 §2): exactly these members. */
export interface Ed25519PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
}

export interface SigningKey {
  /** RFC 7638 thumbprint of {@link publicJwk}. */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Ed25519PublicJwk;
}

/** A fresh Ed25519 signing key with its `kid`. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPairAsync("ed25519");
  return signingKeyFromPrivateKey(privateKey);
}

/** Rebuilds the full {@link SigningKey} from its private key (as stored on disk). */
export async function signingKeyFromPrivateKey(privateKey: KeyObject): Promise<SigningKey> {
  if (!(privateKey instanceof KeyObject) || privateKey.type !== "private" || privateKey.asymmetricKeyType !== "ed25519") {
    throw new TypeError("signing key must be an Ed25519 private KeyObject");
  }
  const publicKey = createPublicKey(privateKey);
  const publicJwk = ed25519PublicJwk(publicKey);
  return { kid: await jwkThumbprint(publicJwk), privateKey, publicKey, publicJwk };
}

/** PKCS#8 PEM of an Ed25519 private key → {@link SigningKey}. Bad material is our configuration's fault. */
export async function signingKeyFromPem(pem: string): Promise<SigningKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch (error) {
    throw new LiaisonError("CONFIG_INVALID", "signing key cannot be parsed", { cause: error });
  }
  if (key.asymmetricKeyType !== "ed25519") throw new LiaisonError("CONFIG_INVALID", "signing key is not Ed25519");
  return signingKeyFromPrivateKey(key);
}

/** The public JWK {kty, crv, x} of an Ed25519 key (public or private KeyObject). */
export function ed25519PublicJwk(key: KeyObject): Ed25519PublicJwk {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 key");
  const jwk = publicKey.export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new TypeError("unreachable: Ed25519 JWK without x");
  return { kty: "OKP", crv: "Ed25519", x: jwk.x };
}

/** RFC 7638 §3 JWK thumbprint, SHA-256, base64url without padding. */
export async function jwkThumbprint(jwk: Ed25519PublicJwk): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "sha256");
}

/**
 * Checks an untrusted JWK (from a partner's attestation) is a public Ed25519 key with exactly
 * kty, crv, x, and returns its KeyObject. Throws ATTESTATION_INVALID.
 */
export function publicKeyFromUntrustedJwk(jwk: unknown): { jwk: Ed25519PublicJwk; key: KeyObject } {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new LiaisonError("ATTESTATION_INVALID", "jwk must be an object");
  const members = Object.keys(jwk).sort().join(",");
  if (members !== "crv,kty,x") throw new LiaisonError("ATTESTATION_INVALID", "jwk must have exactly the members kty, crv, x");
  const { kty, crv, x } = jwk as Record<string, unknown>;
  if (kty !== "OKP" || crv !== "Ed25519") throw new LiaisonError("ATTESTATION_INVALID", "jwk must be an Ed25519 (OKP) key");
  if (typeof x !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(x)) throw new LiaisonError("ATTESTATION_INVALID", "jwk x must be 32 bytes, base64url");
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty, crv, x }, format: "jwk" });
  } catch (error) {
    throw new LiaisonError("ATTESTATION_INVALID", "jwk is not a valid Ed25519 public key", { cause: error });
  }
  return { jwk: { kty, crv, x }, key };
}
