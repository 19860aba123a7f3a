/**
 * Minutes bundles: everything needed to check, offline and years later, that every party named
 * in a set of minutes co-signed these exact bytes — with no access to any node.
 *
 * Format `liaison-minutes-bundle/v1` (UTF-8 JSON, exactly these members; docs/PROTOCOL.md §12.5):
 *   format                 "liaison-minutes-bundle/v1"
 *   minutes_message_id     the Minutes message id
 *   minutes_envelope       base64 of the Minutes SignedEnvelope bytes, as recorded
 *   cosignature_envelopes  base64 of each MinutesCosignature SignedEnvelope, one per party
 *   parties                party → { ca_certificate (PEM), signing_key_attestations [JWS] }
 *   inclusion_proofs       optional: [{ envelope_sha256 (hex), ledger_party, entry (base64 of
 *                          the LedgerEntry bytes whose content is that envelope), index, size,
 *                          root_hash (base64), proof [base64] }] (RFC 9162 §2.1.3)
 *
 * The verifier trusts nothing in the bundle by itself: each CA is pinned by the fingerprint the
 * caller passes (or reported for the caller to compare out of band); attestations must verify
 * against that CA; each envelope's JWS against a key attested for its sender and valid at its
 * created time; each co-signature's own JWS against the co-signer's key, over the minutes bytes.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { z } from "zod";
import { MessageSchema, type Message } from "../../gen/liaison/v1/message_pb.ts";
import { SignedEnvelopeSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import { LedgerEntrySchema } from "../../gen/liaison/v1/ledger_pb.ts";
import { LiaisonError } from "../errors/index.ts";
import { KeyRing, certificateDer, partyFromCertificate, sha256Fingerprint, verifyDetached, JWS_TYP_MESSAGE } from "../identity/index.ts";
import { hashLeaf, rootFromInclusionProof } from "../ledger/index.ts";
import { decodeUntrusted } from "../transport/index.ts";
import { MINUTES, MINUTES_COSIGNATURES, MINUTES_COSIGNATURE_TYP, sha256, type CosignatureDoc, type MinutesContext, type MinutesDoc } from "./view.ts";

export const MINUTES_BUNDLE_FORMAT = "liaison-minutes-bundle/v1";

/** A party's trust evidence: its CA certificate and the attestations of its signing keys. */
export interface PartyEvidence {
  caCertificatePem: string;
  attestations: readonly string[];
}

export interface LedgerInclusionProof {
  /** The exact ledger entry bytes (a serialized liaison.v1.LedgerEntry) at `index`: the Merkle leaf input. */
  entry: Uint8Array;
  index: number;
  size: number;
  rootHash: Uint8Array;
  proof: readonly Uint8Array[];
}

export interface BundleContext extends MinutesContext {
  /** Evidence for a party (the node's own identity, or an onboarded partner's bundle). */
  partyEvidence?: (party: string) => PartyEvidence | undefined | Promise<PartyEvidence | undefined>;
  /** RFC 9162 inclusion proof of this node's ledger entry `index` in its current tree. */
  inclusionProof?: (index: number) => Promise<LedgerInclusionProof>;
}

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const BundleSchema = z
  .object({
    format: z.literal(MINUTES_BUNDLE_FORMAT),
    minutes_message_id: z.string(),
    minutes_envelope: b64,
    cosignature_envelopes: z.array(b64),
    parties: z.record(z.string(), z.object({ ca_certificate: z.string(), signing_key_attestations: z.array(z.string()).min(1) }).strict()),
    inclusion_proofs: z
      .array(
        z
          .object({
            envelope_sha256: z.string().regex(/^[0-9a-f]{64}$/),
            ledger_party: z.string(),
            entry: b64,
            index: z.number().int().nonnegative(),
            size: z.number().int().positive(),
            root_hash: b64,
            proof: z.array(b64),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();
export type MinutesBundle = z.infer<typeof BundleSchema>;

const toB64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

function fromB64(text: string, what: string): Uint8Array {
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) throw new LiaisonError("ENVELOPE_MALFORMED", `${what} is not canonical base64`);
  return new Uint8Array(bytes);
}

/**
 * Export the bundle of minutes this node archived: its envelope, every co-signature envelope
 * (the first recorded per party), the evidence of every signer, and, when the context can prove
 * inclusion in this node's ledger, the proofs. NOT_FOUND when the minutes are unknown.
 */
export async function exportMinutesBundle(ctx: BundleContext, minutesMessageId: string): Promise<MinutesBundle> {
  if (!ctx.partyEvidence) throw new TypeError("exporting a minutes bundle needs ctx.partyEvidence");
  const minutes = await ctx.db.collection<MinutesDoc>(MINUTES).findOne({ _id: minutesMessageId });
  if (!minutes) throw new LiaisonError("NOT_FOUND", "no such minutes");
  const all = await ctx.db.collection<CosignatureDoc>(MINUTES_COSIGNATURES).find({ minutesId: minutesMessageId }).toArray();
  all.sort((a, b) => a.ledgerIndex - b.ledgerIndex);
  const cosigs = minutes.parties
    .map((p) => all.find((c) => c.party === p && c.minutesSha256 === minutes.messageSha256))
    .filter((c): c is CosignatureDoc => c !== undefined);
  const parties: MinutesBundle["parties"] = {};
  for (const party of new Set([minutes.host, ...cosigs.map((c) => c.party)])) {
    const evidence = await ctx.partyEvidence(party);
    if (!evidence) throw new LiaisonError("NOT_FOUND", `no key evidence for ${party}`);
    parties[party] = { ca_certificate: evidence.caCertificatePem, signing_key_attestations: [...evidence.attestations] };
  }
  const bundle: MinutesBundle = {
    format: MINUTES_BUNDLE_FORMAT,
    minutes_message_id: minutesMessageId,
    minutes_envelope: toB64(minutes.envelope.buffer),
    cosignature_envelopes: cosigs.map((c) => toB64(c.envelope.buffer)),
    parties,
  };
  if (ctx.inclusionProof) {
    const entries: { envelope: Uint8Array; index: number }[] = [
      { envelope: new Uint8Array(minutes.envelope.buffer), index: minutes.ledgerIndex },
      ...cosigs.map((c) => ({ envelope: new Uint8Array(c.envelope.buffer), index: c.ledgerIndex })),
    ];
    bundle.inclusion_proofs = [];
    for (const e of entries) {
      const p = await ctx.inclusionProof(e.index);
      bundle.inclusion_proofs.push({
        envelope_sha256: hex(sha256(e.envelope)),
        ledger_party: ctx.self,
        entry: toB64(p.entry),
        index: p.index,
        size: p.size,
        root_hash: toB64(p.rootHash),
        proof: p.proof.map(toB64),
      });
    }
  }
  return bundle;
}

export interface VerifiedCosignature {
  party: string;
  messageId: string;
  kid: string;
  signingOfficer: string;
  signedAt?: Date;
}

export interface MinutesBundleReport {
  minutesMessageId: string;
  host: string;
  meetingNumber: number;
  parties: string[];
  /** SHA-256 (hex) of the Minutes message bytes. */
  minutesSha256: string;
  cosignatures: VerifiedCosignature[];
  missing: string[];
  complete: boolean;
  /** CA fingerprint per party, to compare with the ones exchanged at onboarding. */
  caFingerprints: Record<string, string>;
  inclusionProofsVerified: number;
}

export interface VerifyBundleOptions {
  /** Party → expected CA fingerprint (hex); a party whose CA differs is refused. */
  trustedCaFingerprints?: Record<string, string>;
  /** Accept minutes not yet signed by every party (the report says which are missing). */
  allowIncomplete?: boolean;
}

interface OpenedEnvelope {
  messageBytes: Uint8Array;
  message: Message & { header: NonNullable<Message["header"]> };
  kid: string;
}

/**
 * Verify a bundle offline (no node, no network). Accepts the bundle as JSON text, bytes or the
 * parsed object. Throws a LiaisonError naming the first failure: ENVELOPE_MALFORMED (shape),
 * ATTESTATION_INVALID / FINGERPRINT_MISMATCH (keys), SIGNATURE_INVALID / KEY_* (signatures),
 * BUSINESS_RULE (hash, parties, incomplete), PROOF_INCONSISTENT (inclusion proofs).
 */
export async function verifyMinutesBundle(input: string | Uint8Array | unknown, options: VerifyBundleOptions = {}): Promise<MinutesBundleReport> {
  let raw: unknown = input;
  if (input instanceof Uint8Array) {
    try {
      raw = new TextDecoder("utf-8", { fatal: true }).decode(input);
    } catch (cause) {
      throw new LiaisonError("ENVELOPE_MALFORMED", "the bundle is not UTF-8", { cause });
    }
  }
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw);
    } catch (cause) {
      throw new LiaisonError("ENVELOPE_MALFORMED", "the bundle is not JSON", { cause });
    }
  }
  const parsed = BundleSchema.safeParse(raw);
  if (!parsed.success) throw new LiaisonError("ENVELOPE_MALFORMED", "the bundle does not have the liaison-minutes-bundle/v1 shape");
  const bundle = parsed.data;

  // Keys: each party's CA (pinned or reported), its attestations verified against it.
  const ring = new KeyRing();
  const caFingerprints: Record<string, string> = {};
  for (const [party, evidence] of Object.entries(bundle.parties)) {
    let caParty: string;
    try {
      certificateDer(evidence.ca_certificate);
      caParty = partyFromCertificate(evidence.ca_certificate);
    } catch (cause) {
      throw new LiaisonError("ATTESTATION_INVALID", `the CA certificate given for ${party} does not parse`, { cause });
    }
    if (caParty !== party) throw new LiaisonError("ATTESTATION_INVALID", `the CA certificate given for ${party} names another party`);
    const fingerprint = sha256Fingerprint(evidence.ca_certificate);
    caFingerprints[party] = fingerprint;
    const expected = options.trustedCaFingerprints?.[party];
    if (expected !== undefined && expected.replace(/:/g, "").toLowerCase() !== fingerprint) {
      throw new LiaisonError("FINGERPRINT_MISMATCH", `the CA of ${party} is not the one expected`);
    }
    await ring.addAttestations(party, evidence.ca_certificate, evidence.signing_key_attestations);
  }

  const open = async (b64text: string, what: string): Promise<OpenedEnvelope & { envelopeBytes: Uint8Array }> => {
    const envelopeBytes = fromB64(b64text, what);
    const envelope = decodeUntrusted(SignedEnvelopeSchema, envelopeBytes, what);
    const message = decodeUntrusted(MessageSchema, envelope.message, `${what} message`);
    const header = message.header;
    if (!header?.createdAt) throw new LiaisonError("ENVELOPE_MALFORMED", `${what} has no header`);
    if (!bundle.parties[header.senderParty]) throw new LiaisonError("KEY_UNKNOWN", `the bundle holds no keys for ${header.senderParty}`);
    const verified = await verifyDetached(envelope.jws, envelope.message, {
      typ: JWS_TYP_MESSAGE,
      algorithms: ["EdDSA"],
      resolveKey: ring.resolver(header.senderParty, timestampDate(header.createdAt)),
    });
    return { envelopeBytes, messageBytes: envelope.message, message: message as OpenedEnvelope["message"], kid: verified.protectedHeader.kid };
  };

  const minutesEnv = await open(bundle.minutes_envelope, "the minutes envelope");
  const mh = minutesEnv.message.header;
  if (mh.messageId !== bundle.minutes_message_id) throw new LiaisonError("BUSINESS_RULE", "the minutes envelope is not the minutes named by the bundle");
  if (minutesEnv.message.body.case !== "minutes") throw new LiaisonError("BUSINESS_RULE", "the minutes envelope does not carry minutes");
  const minutes = minutesEnv.message.body.value;
  const minutesSha256 = hex(sha256(minutesEnv.messageBytes));

  const cosignatures: VerifiedCosignature[] = [];
  const envelopes = [minutesEnv.envelopeBytes];
  for (const [i, text] of bundle.cosignature_envelopes.entries()) {
    const env = await open(text, `co-signature envelope ${i}`);
    envelopes.push(env.envelopeBytes);
    const h = env.message.header;
    if (env.message.body.case !== "minutesCosignature") throw new LiaisonError("BUSINESS_RULE", `co-signature envelope ${i} does not carry a co-signature`);
    const c = env.message.body.value;
    if (c.minutesMessageId !== mh.messageId) throw new LiaisonError("BUSINESS_RULE", `co-signature ${i} is for other minutes`);
    if (hex(c.minutesSha256) !== minutesSha256) throw new LiaisonError("BUSINESS_RULE", `co-signature ${i} names other minutes bytes`);
    if (!minutes.parties.includes(h.senderParty)) throw new LiaisonError("BUSINESS_RULE", `co-signature ${i} is by a party not named in the minutes`);
    if (cosignatures.some((x) => x.party === h.senderParty)) throw new LiaisonError("BUSINESS_RULE", `${h.senderParty} co-signed twice`);
    const inner = await verifyDetached(c.cosignatureJws, minutesEnv.messageBytes, {
      typ: MINUTES_COSIGNATURE_TYP,
      algorithms: ["EdDSA"],
      resolveKey: ring.resolver(h.senderParty, timestampDate(h.createdAt!)),
    });
    cosignatures.push({
      party: h.senderParty,
      messageId: h.messageId,
      kid: inner.protectedHeader.kid,
      signingOfficer: c.signingOfficer?.displayName ?? "",
      ...(c.signedAt ? { signedAt: timestampDate(c.signedAt) } : {}),
    });
  }

  let inclusionProofsVerified = 0;
  for (const p of bundle.inclusion_proofs ?? []) {
    const envelope = envelopes.find((e) => hex(sha256(e)) === p.envelope_sha256);
    if (!envelope) throw new LiaisonError("PROOF_INCONSISTENT", "an inclusion proof names an envelope not in the bundle");
    if (p.index >= p.size) throw new LiaisonError("PROOF_INCONSISTENT", "an inclusion proof's index is outside its tree");
    const entryBytes = fromB64(p.entry, "a ledger entry");
    const entry = decodeUntrusted(LedgerEntrySchema, entryBytes, "a ledger entry", "PROOF_INCONSISTENT");
    if (!entry.kind.startsWith("envelope.") || hex(sha256(entry.content)) !== p.envelope_sha256) {
      throw new LiaisonError("PROOF_INCONSISTENT", "a ledger entry does not record the envelope its proof names");
    }
    let root: Uint8Array;
    try {
      root = rootFromInclusionProof(p.index, p.size, hashLeaf(entryBytes), p.proof.map((x) => fromB64(x, "a proof hash")));
    } catch (cause) {
      throw new LiaisonError("PROOF_INCONSISTENT", "an inclusion proof does not verify", { cause });
    }
    if (toB64(root) !== p.root_hash) throw new LiaisonError("PROOF_INCONSISTENT", "an inclusion proof does not lead to its root");
    inclusionProofsVerified += 1;
  }

  const signed = new Set(cosignatures.map((c) => c.party));
  const missing = minutes.parties.filter((p) => !signed.has(p));
  if (missing.length > 0 && !options.allowIncomplete) {
    throw new LiaisonError("BUSINESS_RULE", `the minutes lack the co-signature of ${missing.join(", ")}`);
  }
  return {
    minutesMessageId: mh.messageId,
    host: mh.senderParty,
    meetingNumber: minutes.meetingNumber,
    parties: [...minutes.parties],
    minutesSha256,
    cosignatures,
    missing,
    complete: missing.length === 0,
    caFingerprints,
    inclusionProofsVerified,
  };
}
