/**
 * Partners audit each other's ledgers: cosigned checkpoints, inclusion of a delivered message in
 * the receiver's ledger, and a rewritten history caught at the next cosign exchange.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { MongoClient } from "mongodb";
import { LedgerEntrySchema } from "../gen/liaison/v1/ledger_pb.ts";
import { GetCheckpointRequestSchema, GetCheckpointResponseSchema, GetEntryRequestSchema, GetEntryResponseSchema, PeerApi } from "../gen/liaison/v1/peer_pb.ts";
import { ed25519NoteVerifier, cosignatureV1Verifier, hashLeaf, openCheckpoint, openNote, verifyInclusion } from "../services/ledger/index.ts";
import { ledgerOrigin, witnessName } from "../services/node/ledger.ts";
import { nodeStoreKey, startNode } from "../services/node/index.ts";
import { startEmbeddedStore } from "../services/store/index.ts";
import { nodeConfig, startCluster, wantedPersonNotice, type Cluster } from "./support/cluster.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";

let cluster: Cluster;
before(async () => {
  cluster = await startCluster([VN, CN]);
});
after(async () => {
  await cluster?.close();
});

async function cnCheckpointSeenByVn(): Promise<string> {
  const bytes = await cluster.node(VN).clientFor(CN).call(PeerApi.method.getCheckpoint, toBinary(GetCheckpointRequestSchema, create(GetCheckpointRequestSchema, {})));
  return fromBinary(GetCheckpointResponseSchema, bytes).checkpoint;
}

describe("witnessing between two nodes", () => {
  it("cosigns a partner's checkpoint and the log keeps the cosignature", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    await vn.send(wantedPersonNotice({ sender: VN, recipients: [CN] }));
    await cn.publishCheckpoint();
    const note = await cnCheckpointSeenByVn();
    const cnKey = cn.identity.activeSigningKey.publicKey;
    const vnKey = vn.identity.activeSigningKey.publicKey;
    const opened = openNote(note, [ed25519NoteVerifier(ledgerOrigin(CN), cnKey), cosignatureV1Verifier(witnessName(VN), vnKey)]);
    assert.equal(opened.verified.length, 2, "signed by CN and cosigned by VN");
  });

  it("lets the sender prove its message is in the receiver's ledger, against the cosigned checkpoint", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    const outcome = await vn.send(wantedPersonNotice({ sender: VN, recipients: [CN] }));
    const receipt = outcome.receipts.get(CN)!;
    await cn.publishCheckpoint();
    const { checkpoint } = openCheckpoint(await cnCheckpointSeenByVn(), ledgerOrigin(CN), [ed25519NoteVerifier(ledgerOrigin(CN), cn.identity.activeSigningKey.publicKey)]);
    const response = fromBinary(
      GetEntryResponseSchema,
      await vn.clientFor(CN).call(PeerApi.method.getEntry, toBinary(GetEntryRequestSchema, create(GetEntryRequestSchema, { index: receipt.ledgerIndex, treeSize: BigInt(checkpoint.size) }))),
    );
    const entry = fromBinary(LedgerEntrySchema, response.entry);
    assert.equal(entry.kind, "envelope.received");
    assert.deepEqual(Buffer.from(entry.content), Buffer.from(outcome.sealed.envelopeBytes));
    verifyInclusion(Number(response.index), checkpoint.size, hashLeaf(response.entry), response.inclusionProof, checkpoint.rootHash);
  });

  it("asks again from the size the witness names when the log lost its latest cosignature", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    const cosignatures = vn.db.collection<{ cosigner: string; size: number }>("ledger_cosignatures");
    await vn.send(wantedPersonNotice({ sender: VN, recipients: [CN] }));
    const lost = await vn.publishCheckpoint();
    assert.ok(lost && (await cosignatures.countDocuments({ cosigner: witnessName(CN), size: lost.size })) === 1);
    // The log forgets that CN cosigned `lost` (e.g. restored from an older backup); CN remembers.
    await cosignatures.deleteMany({ cosigner: witnessName(CN), size: lost.size });
    await vn.send(wantedPersonNotice({ sender: VN, recipients: [CN] }));
    const next = await vn.publishCheckpoint();
    assert.ok(next && next.size > lost.size);
    assert.equal(await cosignatures.countDocuments({ cosigner: witnessName(CN), size: next.size }), 1, "cosigned after asking again from the witness's size");
    const witnessed = await cn.db.collection<{ _id: string; size: number }>("witness_state").findOne({ _id: VN });
    assert.equal(witnessed?.size, next.size, "the witness moved on to the new size");
  });

  it("refuses to cosign after the partner rewrote its history, and keeps the evidence", async () => {
    const vn = cluster.node(VN);
    // CN has cosigned VN's current checkpoint.
    await vn.publishCheckpoint();
    const cosignedBefore = await vn.db.collection("ledger_cosignatures").countDocuments({ cosigner: witnessName(CN) });
    assert.ok(cosignedBefore >= 1);

    // VN rewrites its ledger: stop, wipe the ledger collections, restart, append a new history.
    const port = vn.peerPort;
    const folder = cluster.folders.get(VN)!;
    await vn.close();
    const store = await startEmbeddedStore({ dbpath: join(folder.dataDir, "store"), port: 0, encryptionKey: nodeStoreKey(folder.identityDir)! });
    const client = await new MongoClient(store.uri).connect();
    for (const name of ["ledger_entries", "ledger_nodes", "ledger_checkpoints"]) await client.db("liaison").collection(name).drop();
    await client.close();
    await store.close();
    const rewritten = await startNode(nodeConfig(folder, { peer: { host: "127.0.0.1", port } }));
    cluster.nodes.set(VN, rewritten);
    for (let i = 0; i < 12; i++) await rewritten.ledger.append("local.note", new TextEncoder().encode(`rewritten ${i}`));
    await rewritten.publishCheckpoint();

    const cn = cluster.node(CN);
    const alerts = await cn.witnessing.alerts.find({ partner: VN }).toArray();
    assert.equal(alerts.length, 1, "CN raised one alert");
    assert.equal(alerts[0]!.evidence.length, 2, "both signed checkpoints are kept");
    const cosignedAfter = await rewritten.db.collection("ledger_cosignatures").countDocuments({ cosigner: witnessName(CN) });
    assert.equal(cosignedAfter, cosignedBefore, "no cosignature for the rewritten history");
    const cnLedger = await cn.db.collection("ledger_entries").find({ kind: "witness.alert" }).toArray();
    assert.equal(cnLedger.length, 1, "the alert is in CN's ledger");
    assert.equal(fromBinary(LedgerEntrySchema, new Uint8Array(cnLedger[0]!.bytes.buffer)).kind, "witness.alert");
  });
});
