/**
 * A partner audits a ledger without reading other partners' traffic: GetEntry gives the entry's
 * bytes only to a party the recorded envelope or receipt names; for every other entry (another
 * partner's message, a local decision) the bytes are withheld while the leaf hash and inclusion
 * proof still prove the entry's place in the tree. Three real nodes, real mTLS.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LedgerEntrySchema } from "../gen/liaison/v1/ledger_pb.ts";
import { GetEntryRequestSchema, GetEntryResponseSchema, PeerApi, type GetEntryResponse } from "../gen/liaison/v1/peer_pb.ts";
import { hashLeaf, readTreeHead, verifyInclusion } from "../services/ledger/index.ts";
import { partiesOfLedgerEntry } from "../services/exchange/index.ts";
import type { LiaisonNode } from "../services/node/index.ts";
import { startCluster, wantedPersonNotice, type Cluster } from "./support/cluster.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const KH = "KH-MOI";

let cluster: Cluster;
before(async () => {
  cluster = await startCluster([VN, CN, KH]);
});
after(async () => {
  await cluster?.close();
});

/** `caller` asks VN for entry `index` over the peer API, against VN's tree of `size`. */
async function askVn(caller: LiaisonNode, index: number, size: number): Promise<GetEntryResponse> {
  const request = toBinary(GetEntryRequestSchema, create(GetEntryRequestSchema, { index: BigInt(index), treeSize: BigInt(size) }));
  return fromBinary(GetEntryResponseSchema, await caller.clientFor(VN).call(PeerApi.method.getEntry, request));
}

describe("GetEntry discloses an entry only to the parties it concerns", () => {
  it("gives VN→KH traffic to KH, withholds it from CN, and both can prove it in VN's tree", async () => {
    const vn = cluster.node(VN);
    const outcome = await vn.send(wantedPersonNotice({ sender: VN, recipients: [KH] }));
    assert.equal(outcome.failures.size, 0);
    const checkpoint = await vn.publishCheckpoint();
    assert.ok(checkpoint);
    const size = checkpoint.size;
    const sent = await vn.db.collection("envelopes_sent").findOne({ _id: outcome.sealed.messageId as never });
    const index = Number(sent!.ledgerIndex);

    const forKh = await askVn(cluster.node(KH), index, size);
    assert.equal(forKh.withheld, false);
    assert.equal(forKh.kind, "envelope.sent");
    const entry = fromBinary(LedgerEntrySchema, forKh.entry);
    assert.deepEqual(Buffer.from(entry.content), Buffer.from(outcome.sealed.envelopeBytes));
    assert.deepEqual(Buffer.from(forKh.leafHash), Buffer.from(hashLeaf(forKh.entry)));

    const forCn = await askVn(cluster.node(CN), index, size);
    assert.equal(forCn.withheld, true, "CN is not a party to VN→KH traffic");
    assert.equal(forCn.entry.byteLength, 0);
    assert.equal(forCn.kind, "envelope.sent");
    assert.deepEqual(Buffer.from(forCn.leafHash), Buffer.from(forKh.leafHash));
    // The withheld entry is still provably in the tree the checkpoint signs.
    verifyInclusion(index, size, forCn.leafHash, forCn.inclusionProof, checkpoint.root);
    verifyInclusion(index, size, hashLeaf(forKh.entry), forKh.inclusionProof, checkpoint.root);
  });

  it("withholds local decisions from every partner", async () => {
    const vn = cluster.node(VN);
    const checkpoint = await vn.publishCheckpoint();
    const head = await readTreeHead(vn.db);
    const local = await vn.db.collection("ledger_entries").findOne({ kind: "partner.onboarded" });
    assert.ok(local, "onboarding a partner is a ledger entry");
    const index = Number(local._id);
    assert.ok(index < head.size);
    for (const party of [CN, KH]) {
      const response = await askVn(cluster.node(party), index, checkpoint!.size);
      assert.equal(response.withheld, true, `withheld from ${party}`);
      assert.equal(response.entry.byteLength, 0);
      verifyInclusion(index, checkpoint!.size, response.leafHash, response.inclusionProof, checkpoint!.root);
    }
  });

  it("names the parties of each exchange kind, and none for anything it cannot read", () => {
    const entry = (kind: string, content: Uint8Array) => toBinary(LedgerEntrySchema, create(LedgerEntrySchema, { kind, content }));
    const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    assert.deepEqual(partiesOfLedgerEntry(entry("envelope.rejected", json({ peerParty: CN, code: "X" }))), [CN]);
    assert.deepEqual(partiesOfLedgerEntry(entry("envelope.refused-by-partner", json({ recipient: KH }))), [KH]);
    assert.deepEqual(partiesOfLedgerEntry(entry("envelope.received", new Uint8Array([0xff, 0xff]))), []);
    assert.deepEqual(partiesOfLedgerEntry(entry("officer.added", json({ peerParty: CN }))), []);
    assert.deepEqual(partiesOfLedgerEntry(new Uint8Array([0x0a, 0xff])), []);
  });
});
