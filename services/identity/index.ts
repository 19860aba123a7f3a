/**
 * Identity and trust: the party PKI, message-signing keys and their CA attestations, detached
 * JWS over exact bytes, the node's identity folder, and partner bundles.
 * Handlers, the outbox and the CLI use these; nobody else calls jose or node-forge.
 */

// Signing and verifying exact bytes (RFC 7515 Appendix F).
export { signDetached, type SignDetachedOptions } from "./sign.ts";
export { verifyDetached, type DetachedJwsHeader, type ResolveKey, type VerifiedDetachedJws, type VerifyDetachedOptions } from "./verify.ts";
export { JWS_TYP_MESSAGE, JWS_TYP_RECEIPT, MAX_DETACHED_JWS_LENGTH } from "./jws.ts";

// Keys, attestations, the key ring.
export { ed25519PublicJwk, generateSigningKey, jwkThumbprint, signingKeyFromPem, type Ed25519PublicJwk, type SigningKey } from "./keys.ts";
export {
  ATTESTATION_TYP,
  AttestationPayloadSchema,
  createAttestation,
  verifyAttestation,
  type AttestationPayload,
  type CreateAttestationOptions,
  type VerifiedAttestation,
} from "./attestation.ts";
export { KeyRing, type KeyRingEntry } from "./keyring.ts";

// The node's identity folder.
export {
  DisplayNamesSchema,
  IDENTITY_FILES,
  identityFingerprint,
  loadIdentity,
  requireCa,
  pkiInit,
  readPartyFile,
  renewNodeCertificate,
  rotateSigningKey,
  setKeyPassphrase,
  type Identity,
  type PartyFile,
  type PassphraseOption,
  type PkiInitOptions,
  type PkiInitResult,
  type RenewNodeCertificateOptions,
  type RotateResult,
  type SetKeyPassphraseOptions,
} from "./store.ts";

// Key custody: keys encrypted at rest, secrets from the environment or files, sealing.
export {
  isEncryptedPrivateKeyPem,
  JWT_SECRET_ENV,
  KEY_PASSPHRASE_ENV,
  keyPassphraseFromEnvironment,
  MIN_KEY_PASSPHRASE_LENGTH,
  readSecretFile,
  seal,
  secretFromEnvironment,
  tokenSecretFromEnvironment,
  unseal,
  type SealedSecret,
} from "./custody.ts";

// Partner bundles (onboarding).
export {
  bundleSigningBytes,
  canonicalJson,
  exportPartnerBundle,
  importPartnerBundle,
  loadPartners,
  PARTNER_BUNDLE_FORMAT,
  PartnerBundleSchema,
  PartnerRecordSchema,
  removePartner,
  verifyPartnerBundle,
  type Partner,
  type PartnerBundle,
  type PartnerRecord,
  type VerifiedPartnerBundle,
} from "./bundle.ts";

// PKI (X.509).
export {
  certificateDer,
  createPartyCa,
  fingerprintsEqual,
  formatFingerprint,
  issueCertificate,
  issueNodeCertificate,
  normaliseFingerprint,
  partyFromCertificate,
  privateKeyFromPem,
  sha256Fingerprint,
  subjectAltNames,
  verifyCertificateIssuedBy,
  verifyPeerCertificate,
  verifyPeerCertificateWindow,
  type VerifiedPeerCertificate,
  type CertificateAuthority,
  type IssueCertificateOptions,
  type IssuedCertificate,
  type IssueNodeCertificateOptions,
  type SubjectAltNames,
  type TrustedPartyCa,
  type VerifyCertificateOptions,
} from "./pki.ts";

// Party ids.
export { isPartyId, PARTY_ID_PATTERN, PARTY_URI_PREFIX, partyUri } from "./party.ts";
