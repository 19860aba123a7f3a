/**
 * Key attestations: a party's CA vouches that an Ed25519 key signs messages for the party, from
 * `valid_from`, until `retired_at` when present. A JWS Compact (RFC 7515 §7.1), RS256 by the CA
 * key, whose protected header carries the CA certificate in `x5c` (RFC 7515 §4.1.6) so that the
 * evidence stands alone years later — but a verifier never trusts `x5c`: it must be byte for byte
 * the CA it already trusts for that party.
 */
import { KeyObject } from "node:crypto";
import { CompactSign, compactVerify, errors as joseErrors } from "jose";
import { z } from "zod";
import { LiaisonError } from "../errors/index.ts";
import { decodeProtectedHeader } from "./jws.ts";
import { type Ed25519PublicJwk, jwkThumbprint, publicKeyFromUntrustedJwk } from "./keys.ts";
import { assertPartyId, partyUri } from "./party.ts";
import { type CertificateAuthority, certificateDer, partyFromCertificate, toX509 } from "./pki.ts";

export const ATTESTATION_TYP = "liaison-key-attestation+jwt";
export const ATTESTATION_USE = "message-signing";
/** An attestation carries one CA certificate in its header; this bounds its size. */
export const MAX_ATTESTATION_LENGTH = 16 * 1024;

/** The attestation claims, as signed. Times are Unix seconds. */
export const AttestationPayloadSchema = z
  .object({
    iss: z.string(),
    party: z.string(),
    kid: z.string().min(1).max(256),
    jwk: z.unknown(),
    use: z.literal(ATTESTATION_USE),
    valid_from: z.number().int().nonnegative(),
    retired_at: z.number().int().nonnegative().optional(),
    iat: z.number().int().nonnegative(),
  })
  .strict();
export type AttestationPayload = z.infer<typeof AttestationPayloadSchema>;

export interface CreateAttestationOptions {
  party: string;
  jwk: Ed25519PublicJwk;
  validFrom: Date;
  retiredAt?: Date;
  issuedAt: Date;
}

/** A verified attestation: what a {@link KeyRing} holds. */
export interface VerifiedAttestation {
  party: string;
  kid: string;
  jwk: Ed25519PublicJwk;
  publicKey: KeyObject;
  validFrom: Date;
  retiredAt?: Date;
  issuedAt: Date;
  /** The attestation itself, to keep as evidence. */
  jws: string;
}

/**
 * Signs an attestation for `jwk` with the party CA. `valid_from` rounds down and `retired_at`
 * rounds up to the second, so that a message made in the second of a rotation stays verifiable.
 */
export async function createAttestation(ca: CertificateAuthority, options: CreateAttestationOptions): Promise<string> {
  const { party, jwk, validFrom, retiredAt, issuedAt } = options;
  assertPartyId(party);
  if (partyFromCertificate(ca.certPem) !== party) throw new TypeError("the CA does not belong to this party");
  for (const [name, date] of [["validFrom", validFrom], ["issuedAt", issuedAt], ["retiredAt", retiredAt ?? issuedAt]] as const) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new TypeError(`${name} must be a valid Date`);
  }
  const payload: AttestationPayload = {
    iss: partyUri(party),
    party,
    kid: await jwkThumbprint(jwk),
    jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x },
    use: ATTESTATION_USE,
    valid_from: Math.floor(validFrom.getTime() / 1000),
    ...(retiredAt === undefined ? {} : { retired_at: Math.ceil(retiredAt.getTime() / 1000) }),
    iat: Math.floor(issuedAt.getTime() / 1000),
  };
  if (payload.retired_at !== undefined && payload.retired_at < payload.valid_from) throw new TypeError("retiredAt is before validFrom");
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "RS256", typ: ATTESTATION_TYP, x5c: [certificateDer(ca.certPem).toString("base64")] })
    .sign(ca.key);
}

/**
 * Verifies an attestation against the CA we already trust for `expectedParty` (RFC 7515 §5.2):
 * shape; header members (alg RS256 only, typ, x5c[0] equal to the trusted CA); the signature
 * with the trusted CA's key; the claims (party and iss name the CA's party, use, times, and
 * kid equal to the RFC 7638 thumbprint of jwk). Throws ATTESTATION_INVALID or ALGORITHM_NOT_ALLOWED.
 */
export async function verifyAttestation(jws: unknown, trustedCaPem: string, expectedParty: string): Promise<VerifiedAttestation> {
  assertPartyId(expectedParty, "expectedParty");
  const trustedCa = toX509(trustedCaPem, "trusted CA certificate");
  if (partyFromCertificate(trustedCa) !== expectedParty) {
    throw new LiaisonError("ATTESTATION_INVALID", `the trusted CA does not name party ${expectedParty}`);
  }

  if (typeof jws !== "string") throw new LiaisonError("ATTESTATION_INVALID", "attestation must be a string");
  if (jws.length > MAX_ATTESTATION_LENGTH) throw new LiaisonError("ATTESTATION_INVALID", "attestation is too long");
  const parts = jws.split(".");
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    throw new LiaisonError("ATTESTATION_INVALID", "attestation must be a JWS compact serialization of three non-empty parts");
  }
  const header = decodeProtectedHeader(parts[0] as string, "ATTESTATION_INVALID");
  for (const member of Object.keys(header)) {
    if (member === "crit") throw new LiaisonError("ATTESTATION_INVALID", 'header parameter "crit" is not supported (RFC 7515 §4.1.11)');
    if (member !== "alg" && member !== "typ" && member !== "x5c") throw new LiaisonError("ATTESTATION_INVALID", "attestation header has an unexpected member");
  }
  if (header.alg !== "RS256") throw new LiaisonError("ALGORITHM_NOT_ALLOWED", 'attestation "alg" must be RS256');
  if (header.typ !== ATTESTATION_TYP) throw new LiaisonError("ATTESTATION_INVALID", `attestation "typ" must be "${ATTESTATION_TYP}"`);
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || typeof x5c[0] !== "string") {
    throw new LiaisonError("ATTESTATION_INVALID", 'attestation "x5c" must list the CA certificate');
  }
  const presented = Buffer.from(x5c[0], "base64");
  if (presented.toString("base64") !== x5c[0] || !presented.equals(trustedCa.raw)) {
    throw new LiaisonError("ATTESTATION_INVALID", `attestation is not signed by the CA trusted for ${expectedParty}`);
  }

  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(jws, trustedCa.publicKey, { algorithms: ["RS256"] }));
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) {
      throw new LiaisonError("ATTESTATION_INVALID", "attestation signature verification failed", { cause: error });
    }
    throw error;
  }

  let claims: AttestationPayload;
  try {
    claims = AttestationPayloadSchema.parse(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payloadBytes)));
  } catch (error) {
    throw new LiaisonError("ATTESTATION_INVALID", "attestation claims are malformed", { cause: error });
  }
  if (claims.party !== expectedParty) throw new LiaisonError("ATTESTATION_INVALID", `attestation is for party ${safe(claims.party)}, expected ${expectedParty}`);
  if (claims.iss !== partyUri(expectedParty)) throw new LiaisonError("ATTESTATION_INVALID", "attestation iss does not name its party");
  if (claims.retired_at !== undefined && claims.retired_at < claims.valid_from) {
    throw new LiaisonError("ATTESTATION_INVALID", "attestation retired_at is before valid_from");
  }
  const { jwk, key } = publicKeyFromUntrustedJwk(claims.jwk);
  if ((await jwkThumbprint(jwk)) !== claims.kid) throw new LiaisonError("ATTESTATION_INVALID", "attestation kid is not the RFC 7638 thumbprint of its jwk");

  const result: VerifiedAttestation = {
    party: claims.party,
    kid: claims.kid,
    jwk,
    publicKey: key,
    validFrom: new Date(claims.valid_from * 1000),
    issuedAt: new Date(claims.iat * 1000),
    jws,
  };
  if (claims.retired_at !== undefined) result.retiredAt = new Date(claims.retired_at * 1000);
  return result;
}

function safe(text: string): string {
  const cleaned = text.replace(/[^\x20-\x7e]/g, "?");
  return cleaned.length > 40 ? cleaned.slice(0, 40) + "…" : cleaned;
}
