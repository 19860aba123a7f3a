/**
 * A partner's clock beyond the freshness window, and a link that drops and delays connections (a
 * TCP proxy on loopback inside the test, the sender's partner endpoint pointed at it by a
 * re-imported bundle): everything arrives exactly once.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode, type LiaisonNode } from "../../services/node/index.ts";
import { makeParty, nodeConfig, onboard } from "../support/cluster.ts";
import { buildMessage } from "../support/adversary.ts";
import { chaosProxy, checkExactlyOnce, childNode, freePort, receiptedIds, repointPartner, withDb, type ChildNode } from "./faults.ts";
import { CN, limits, report, sleep, startHostileCluster, VN, type HostileCluster } from "./support.ts";

describe("a partner's clock beyond the freshness window, and a link that drops and delays", () => {
  let cluster: HostileCluster;
  let proxy: Awaited<ReturnType<typeof chaosProxy>>;

  before(async () => {
    cluster = await startHostileCluster([VN, CN], { [CN]: { limits: limits(undefined, { clockSkewSeconds: 5, maxMessageAgeSeconds: 60 }) } });
    proxy = await chaosProxy(cluster.node(CN).peerAddress, { dropRate: 0, maxDelayMs: 0 });
    // VN reaches CN only through the proxy: CN's bundle re-imported with the proxy's endpoint.
    await repointPartner(cluster.folder(VN), cluster.folder(CN), proxy.address);
    await cluster.node(VN).partners.refresh(true);
    assert.equal(cluster.node(VN).partners.get(CN)!.endpoint, proxy.address);
  });
  after(async () => {
    await proxy?.close();
    await cluster?.close();
  });

  it("refuses a message from a clock running ahead (MESSAGE_FROM_FUTURE) or far behind (MESSAGE_STALE), accepts one within the skew", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    const ahead = await vn.submit(buildMessage({ sender: VN, recipients: [CN], createdAt: new Date(Date.now() + 30_000) }));
    const behind = await vn.submit(buildMessage({ sender: VN, recipients: [CN], createdAt: new Date(Date.now() - 120_000) }));
    const within = await vn.submit(buildMessage({ sender: VN, recipients: [CN], createdAt: new Date(Date.now() + 3_000) }));
    await vn.outbox.drained(30_000);
    const sent = vn.db.collection<{ _id: string; deliveries: Record<string, { status: string; rejectionCode?: string }> }>("envelopes_sent");
    const state = async (id: string) => (await sent.findOne({ _id: id }))!.deliveries[CN]!;
    assert.deepEqual({ ...(await state(ahead.messageId)) }.rejectionCode, "MESSAGE_FROM_FUTURE");
    assert.equal((await state(ahead.messageId)).status, "rejected");
    assert.equal((await state(behind.messageId)).rejectionCode, "MESSAGE_STALE");
    assert.equal((await state(within.messageId)).status, "receipted");
    const rejected = cn.db.collection<{ messageId: string; code: string }>("envelopes_rejected");
    assert.equal((await rejected.findOne({ messageId: ahead.messageId }))?.code, "MESSAGE_FROM_FUTURE");
    assert.equal((await rejected.findOne({ messageId: behind.messageId }))?.code, "MESSAGE_STALE");
    for (const id of [ahead.messageId, behind.messageId]) {
      assert.equal(await cn.db.collection("envelopes_received").countDocuments({ _id: id as never }), 0);
    }
    report({ area: "faults", tried: "sender clock 30 s ahead (receiver skew 5 s)", answer: "FAILED_PRECONDITION / MESSAGE_FROM_FUTURE; recorded as rejected at the receiver, parked as rejected in the sender's outbox" });
    report({ area: "faults", tried: "sender clock 120 s behind (receiver max age 60 s)", answer: "FAILED_PRECONDITION / MESSAGE_STALE; recorded as rejected, parked" });
    report({ area: "faults", tried: "sender clock 3 s ahead (within the 5 s skew)", answer: "OK, receipted" });
  });

  it("delivers everything exactly once through a proxy that drops and delays connections", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    proxy.dropRate = 0.5;
    proxy.maxDelayMs = 10;
    const ids: string[] = [];
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      ids.push((await vn.submit(buildMessage({ sender: VN, recipients: [CN], title: `lossy ${i}` }))).messageId);
      if (i % 10 === 9) await sleep(100);
    }
    await sleep(3000);
    proxy.dropRate = 0.1;
    await vn.outbox.drained(180_000);
    const seconds = (performance.now() - started) / 1000;
    const result = await checkExactlyOnce(vn, CN, cn.db, ids);
    report({
      area: "faults",
      tried: `100 messages through a TCP proxy cutting connections at random points (new ones at 50 %, live ones ~12 %/250 ms; then a fifth of that), each chunk delayed up to 10 ms`,
      answer: `${result.receipted}/100 receipted, each once in the receiver's ledger; ${proxy.stats.connections} connections, ${proxy.stats.dropped} cut, ${proxy.stats.delayedChunks} chunks delayed, ${seconds.toFixed(1)} s`,
      lost: `${result.lost.length} lost, ${result.duplicates.length} twice`,
    });
    assert.equal(result.receipted, 100);
    assert.deepEqual(result.lost, []);
    assert.deepEqual(result.duplicates, []);
    assert.equal(result.inReceiverLedger, 100);
    assert.equal(result.notRecorded, 0);
    assert.ok(proxy.stats.dropped > 0, "the proxy did cut connections");
  });
});
