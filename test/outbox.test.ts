/**
 * Store-and-forward: the durable outbox delivers to every recipient, in order per partner,
 * survives a partner being down, and never delivers twice.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startNode } from "../services/node/index.ts";
import { nodeConfig, startCluster, wantedPersonNotice, type Cluster } from "./support/cluster.ts";

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

describe("the outbox", () => {
  it("delivers one envelope to each recipient and keeps a receipt from each", async () => {
    const vn = cluster.node(VN);
    const message = wantedPersonNotice({ sender: VN, recipients: [CN, KH] });
    const sealed = await vn.submit(message);
    await vn.outbox.drained();
    const sent = await vn.db.collection("envelopes_sent").findOne({ _id: sealed.messageId as never });
    assert.ok(sent);
    assert.equal(sent.deliveries[CN].status, "receipted");
    assert.equal(sent.deliveries[KH].status, "receipted");
    for (const party of [CN, KH]) {
      const received = await cluster.node(party).db.collection("envelopes_received").findOne({ _id: sealed.messageId as never });
      assert.ok(received, `${party} holds the envelope`);
      assert.deepEqual(Buffer.from(received.envelope.buffer), Buffer.from(sealed.envelopeBytes));
    }
  });

  it("tells a waiter when each recipient's entry is settled, also after the fact", async () => {
    const vn = cluster.node(VN);
    const sealed = await vn.submit(wantedPersonNotice({ sender: VN, recipients: [CN, KH], title: "settled" }));
    const states = await Promise.all([CN, KH].map((party) => vn.outbox.settled(sealed.messageId, party)));
    assert.deepEqual(states, ["delivered", "delivered"]);
    const sent = await vn.db.collection("envelopes_sent").findOne({ _id: sealed.messageId as never });
    assert.equal(sent?.deliveries[CN].status, "receipted", "settled only once the receipt is recorded");
    assert.equal(await vn.outbox.settled(sealed.messageId, KH), "delivered", "an entry settled before the call");
  });

  it("holds 500 messages while a partner is down and delivers them in order, each exactly once, when it returns", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    const port = cn.peerPort;
    await cn.close();
    cluster.nodes.delete(CN);

    const ids: string[] = [];
    for (let i = 0; i < 500; i++) {
      const sealed = await vn.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: `queued ${i}` }));
      ids.push(sealed.messageId);
    }
    await new Promise((r) => setTimeout(r, 500));
    const [status] = await vn.outbox.status([CN]);
    assert.equal(status!.depth, 500);
    assert.ok(status!.oldestPendingAt instanceof Date);
    const head = await vn.outbox.entries.find({ partner: CN, state: "pending" }).sort({ seq: 1 }).limit(1).next();
    assert.ok(head!.attempts > 0, "the head was tried while the partner was down");
    assert.equal(head!.lastErrorCode, "UNAVAILABLE", "and keeps why it has not gone yet");

    const restarted = await startNode(nodeConfig(cluster.folders.get(CN)!, { peer: { host: "127.0.0.1", port } }));
    cluster.nodes.set(CN, restarted);
    vn.outbox.kick(CN);
    await vn.outbox.drained(120_000);

    const received = await restarted.db
      .collection("envelopes_received")
      .find({ _id: { $in: ids as never[] } })
      .sort({ ledgerIndex: 1 })
      .toArray();
    assert.equal(received.length, 500, "every message arrived exactly once");
    assert.deepEqual(
      received.map((r) => r._id),
      ids,
      "in the order they were queued",
    );
  });
});
