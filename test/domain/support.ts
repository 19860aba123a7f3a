/** Helpers for the domain tests: a full DomainContext for a running node, rule-refusal checks, view snapshots. */
import assert from "node:assert/strict";
import { GrpcStatus, PeerRejectedError } from "../../services/errors/index.ts";
import { signDetached, verifyDetached } from "../../services/identity/index.ts";
import type { LiaisonNode } from "../../services/node/index.ts";
import { VIEW_COLLECTIONS, type DomainContext } from "../../services/views/index.ts";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import { MINUTES_COSIGNATURE_TYP, type LedgerInclusionProof } from "../../services/minutes/index.ts";
import { readEntry, readInclusionProof, readTreeHead } from "../../services/ledger/index.ts";

/** Inclusion proofs from the node's Merkle ledger, waiting for the entry to be integrated. */
export function ledgerProofsOf(node: LiaisonNode): (index: number) => Promise<LedgerInclusionProof> {
  return async (index) => {
    const deadline = Date.now() + 20_000;
    let head = await readTreeHead(node.db);
    while (head.size <= index) {
      if (Date.now() > deadline) throw new Error(`ledger entry ${index} not integrated`);
      await new Promise((r) => setTimeout(r, 50));
      head = await readTreeHead(node.db);
    }
    const proof = await readInclusionProof(node.db, index, head.size);
    const entry = await readEntry(node.db, index);
    if (!entry) throw new Error(`no ledger entry ${index}`);
    return { entry: entry.bytes, index, size: head.size, rootHash: head.root, proof: proof.proof };
  };
}

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
