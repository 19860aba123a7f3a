/** Helpers for the domain tests: a full DomainContext for a running node, rule-refusal checks, view snapshots. */
import assert from "node:assert/strict";
import { GrpcStatus, PeerRejectedError } from "../../services/errors/index.ts";
import { signDetached, verifyDetached } from "../../services/identity/index.ts";
import type { LiaisonNode } from "../../services/node/index.ts";
import { VIEW_COLLECTIONS, type DomainContext } from "../../services/views/index.ts";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import { MINUTES_COSIGNATURE_TYP } from "../../services/minutes/index.ts";

/** The context the node engineer is asked to wire (docs in services/views): key ring, evidence. */
export function domainContextOf(node: LiaisonNode, extra: Partial<DomainContext> = {}): DomainContext {
  return {
    db: node.db,
    self: node.party,
    verifyCosignature: async (jws, bytes, party, time) => {
      await verifyDetached(jws, bytes, { typ: MINUTES_COSIGNATURE_TYP, algorithms: ["EdDSA"], resolveKey: node.partners.keyRing.resolver(party, time) });
    },
    partyEvidence: (party) => {
      if (party === node.party) return { caCertificatePem: node.identity.caCertPem, attestations: node.identity.attestations };
      const partner = node.partners.get(party);
      return partner ? { caCertificatePem: partner.caCertPem, attestations: partner.attestations } : undefined;
    },
    ...extra,
  };
}

/** The node's own signer (what the local API would use to co-sign). */
export function signerOf(node: LiaisonNode): (payload: Uint8Array, typ: string) => Promise<string> {
  return (payload, typ) => signDetached(payload, node.identity.activeSigningKey.privateKey, { kid: node.identity.activeSigningKey.kid, typ });
}

/**
 * Send once and expect `receiver` to refuse with FAILED_PRECONDITION / BUSINESS_RULE, recorded
 * as rejected on its side. Resolves with the partner's reason.
 */
export async function expectBusinessRuleRefusal(sender: LiaisonNode, receiver: LiaisonNode, message: Message, reason: RegExp): Promise<void> {
  const outcome = await sender.send(message);
  const failure = outcome.failures.get(receiver.party);
  assert.ok(failure instanceof PeerRejectedError, `${receiver.party} refused (got ${failure?.message ?? "a receipt"})`);
  assert.equal(failure.peerStatus, GrpcStatus.FAILED_PRECONDITION);
  assert.equal(failure.peerCode, "BUSINESS_RULE");
  assert.match(failure.peerReason, reason);
  const rejected = await receiver.db.collection("envelopes_rejected").findOne({ messageId: message.header!.messageId });
  assert.ok(rejected, "recorded as rejected by the receiver");
  assert.equal(rejected.code, "BUSINESS_RULE");
  const received = await receiver.db.collection("envelopes_received").findOne({ _id: message.header!.messageId as never });
  assert.equal(received, null, "not recorded as received");
}

/** Every view document of a node, as JSON text per collection (sorted by _id). */
export async function snapshotViews(node: LiaisonNode): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of VIEW_COLLECTIONS) {
    const docs = await node.db.collection(name).find({}).toArray();
    docs.sort((a, b) => (String(a._id) < String(b._id) ? -1 : 1));
    out[name] = JSON.stringify(docs);
  }
  return out;
}
