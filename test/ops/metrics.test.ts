/**
 * Metrics and health of a node: a registry per node, counters that move with real traffic
 * between two nodes, scrape-time gauges from the database, store latency from the driver's
 * command monitoring, and /healthz and /readyz.
 *
 * The node does not call the instruments yet (see the wiring in the report); this test wires
 * them through the public surfaces a node exposes — its sender, receiver, outbox, ledger and
 * MongoClient — exactly where node.ts will.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { LiaisonNode } from "../../services/node/index.ts";
import {
  countDelivery,
  countedHandlers,
  countPeerRefusal,
  countReceived,
  createNodeMetrics,
  ledgerMetricsSources,
  monitorStoreCommands,
  nodeReadiness,
  startMetricsServer,
  type MetricsServer,
  type NodeMetrics,
} from "../../services/metrics/index.ts";
import { LiaisonError } from "../../services/errors/index.ts";
import { MongoClient } from "mongodb";
import { wantedPersonNotice } from "../support/cluster.ts";
import { sample, startOpsCluster, type OpsCluster } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const KH = "KH-MOI";

/** What node.ts will do at the source, done from outside on a running node. */
function wire(node: LiaisonNode, metrics: NodeMetrics): void {
  monitorStoreCommands(node.mongo, metrics);
  const partners = () => node.partners.list().map((p) => p.party);
  metrics.setSources({ ...ledgerMetricsSources(node.db, partners), outboxStatus: () => node.outbox.status(partners()) });
  const deliverOnce = node.sender.deliverOnce.bind(node.sender);
  node.sender.deliverOnce = (sealed, recipient, client) => countDelivery(metrics, recipient, () => deliverOnce(sealed, recipient, client));
  const deliver = node.receiver.deliver.bind(node.receiver);
  node.receiver.deliver = (bytes, peerParty) => countReceived(metrics, peerParty, () => deliver(bytes, peerParty));
}

async function scrape(server: MetricsServer): Promise<string> {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return res.text();
}

let cluster: OpsCluster;
const metrics = new Map<string, NodeMetrics>();
const servers = new Map<string, MetricsServer>();

before(async () => {
  cluster = await startOpsCluster([VN, CN]);
  for (const party of [VN, CN]) {
    const node = cluster.node(party);
    // Once node.ts counts at the source (node.metrics), use that; until then wire from outside.
    let m = (node as { metrics?: NodeMetrics }).metrics;
    if (!m) {
      m = createNodeMetrics({ party });
      wire(node, m);
    }
    metrics.set(party, m);
    servers.set(party, await startMetricsServer({ port: 0, metrics: m, ready: nodeReadiness({ db: node.db }) }));
  }
});
after(async () => {
  for (const s of servers.values()) await s.close();
  await cluster?.close();
});

describe("metrics after real traffic between two nodes", () => {
  it("counts deliveries by partner and outcome, and rejections by reason on the receiving side", async () => {
    const vn = cluster.node(VN);
    for (let i = 0; i < 3; i++) await vn.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: `notice ${i}` }));
    await vn.outbox.drained();
    // An envelope CN is not a recipient of, pushed to CN anyway: CN refuses it.
    const misdirected = await vn.sender.seal(wantedPersonNotice({ sender: VN, recipients: [KH] }));
    await assert.rejects(vn.sender.deliverOnce(misdirected, CN, vn.clientFor(CN)), (e: LiaisonError) => e.hasLabel("PeerRejected"));

    const vnText = await scrape(servers.get(VN)!);
    assert.equal(sample(vnText, "liaison_deliveries_total", { party: VN, partner: CN, outcome: "receipted" }), 3);
    assert.equal(sample(vnText, "liaison_deliveries_total", { party: VN, partner: CN, outcome: "rejected" }), 1);
    const cnText = await scrape(servers.get(CN)!);
    assert.equal(sample(cnText, "liaison_envelopes_received_total", { party: CN, partner: VN }), 3);
    assert.equal(sample(cnText, "liaison_rejections_total", { party: CN, partner: VN, reason: "NOT_A_RECIPIENT" }), 1);
  });

  it("reports the ledger size, checkpoint age and each partner's cosigned size from the database", async () => {
    const vn = cluster.node(VN);
    const before = await scrape(servers.get(VN)!);
    assert.ok(Number.isNaN(sample(before, "liaison_checkpoint_age_seconds")!), "no checkpoint yet: NaN");
    assert.equal(sample(before, "liaison_cosigned_tree_size", { partner: CN }), 0);

    const checkpoint = await vn.publishCheckpoint();
    assert.ok(checkpoint && checkpoint.size > 0);
    const text = await scrape(servers.get(VN)!);
    assert.equal(sample(text, "liaison_ledger_entries"), vn.ledger.size);
    assert.ok(vn.ledger.size >= 4, "3 envelopes sent and their receipts at least");
    const age = sample(text, "liaison_checkpoint_age_seconds")!;
    assert.ok(age >= 0 && age < 30, `checkpoint age ${age}`);
    assert.equal(sample(text, "liaison_cosigned_tree_size", { partner: CN }), checkpoint.size);
    // The node's own registry counts the cosignatures it asked for.
    const own = await vn.metrics.registry.metrics();
    assert.ok((sample(own, "liaison_cosignatures_total", { partner: CN, outcome: "ok" }) ?? 0) >= 1, "a cosignature counted");
  });

  it("observes store command latency through the driver's command monitoring", async () => {
    const text = await scrape(servers.get(VN)!);
    const inserts = sample(text, "liaison_store_command_duration_seconds_count", { command: "insert", outcome: "ok" });
    assert.ok(inserts !== undefined && inserts > 0, "inserts observed");
    const finds = sample(text, "liaison_store_command_duration_seconds_count", { command: "find", outcome: "ok" });
    assert.ok(finds !== undefined && finds > 0, "finds observed");
    assert.ok(sample(text, "liaison_store_command_duration_seconds_bucket", { command: "find", outcome: "ok", le: "+Inf" })! >= finds);
    // A command the store refuses is observed as an error.
    await assert.rejects(cluster.node(VN).db.command({ noSuchCommand: 1 }));
    const after = await scrape(servers.get(VN)!);
    assert.equal(sample(after, "liaison_store_command_duration_seconds_count", { command: "noSuchCommand", outcome: "error" }), 1);
  });

  it("shows the outbox depth and the age of the oldest pending envelope while a partner is down", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    await cn.close();
    cluster.nodes.delete(CN);
    await vn.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: "while down" }));
    await vn.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: "while down, 2" }));
    await new Promise((r) => setTimeout(r, 300));
    const text = await scrape(servers.get(VN)!);
    assert.equal(sample(text, "liaison_outbox_depth", { partner: CN }), 2);
    assert.ok(sample(text, "liaison_outbox_oldest_pending_age_seconds", { partner: CN })! > 0);
    assert.ok(sample(text, "liaison_deliveries_total", { partner: CN, outcome: "failed" })! >= 1, "failed attempts are counted");
  });
});

describe("health and readiness", () => {
  it("answers /healthz with 200 while the process lives", async () => {
    const res = await fetch(`${servers.get(VN)!.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { alive: true });
  });

  it("answers /readyz with 200 when the store answers and the sequencer holds its lease", async () => {
    const res = await fetch(`${servers.get(VN)!.url}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ready: true });
  });

  it("answers /readyz with 503 and a reason once the sequencer gave its lease up", async () => {
    // CN's node was stopped above (its lease released); its database is still there.
    const { uri, database } = cluster.databases.get(CN)!;
    const client = new MongoClient(uri);
    const server = await startMetricsServer({ port: 0, metrics: metrics.get(CN)!, ready: nodeReadiness({ db: client.db(database) }) });
    try {
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { ready: boolean; reason: string };
      assert.equal(body.ready, false);
      assert.match(body.reason, /sequencer does not hold its lease/);
    } finally {
      await server.close();
      await client.close();
    }
  });

  it("answers /readyz with 503 naming the store when the store does not answer", async () => {
    const client = new MongoClient("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200&directConnection=true");
    const m = createNodeMetrics({ processMetrics: false });
    const server = await startMetricsServer({ port: 0, metrics: m, ready: nodeReadiness({ db: client.db("x"), timeoutMs: 1000 }) });
    try {
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { reason: string }).reason, /^store unreachable/);
    } finally {
      await server.close();
      await client.close();
    }
  });

  it("refuses other methods and paths", async () => {
    const url = servers.get(VN)!.url;
    assert.equal((await fetch(`${url}/metrics`, { method: "POST" })).status, 405);
    assert.equal((await fetch(`${url}/nope`)).status, 404);
  });
});

describe("the registry of a node", () => {
  it("is its own: two nodes in one process count separately and the global registry stays empty", async () => {
    const a = createNodeMetrics({ party: "VN-MPS", processMetrics: false });
    const b = createNodeMetrics({ party: "CN-MPS", processMetrics: false });
    a.deliveries.inc({ partner: "CN-MPS", outcome: "receipted" });
    assert.equal(sample(await a.text(), "liaison_deliveries_total", { partner: "CN-MPS", outcome: "receipted" }), 1);
    assert.equal(sample(await b.text(), "liaison_deliveries_total", { partner: "CN-MPS", outcome: "receipted" }), undefined);
    const { register } = await import("prom-client");
    assert.equal(register.getSingleMetric("liaison_deliveries_total"), undefined);
  });

  it("counts peer API calls by method and gRPC status, including calls refused before a handler", async () => {
    const m = createNodeMetrics({ processMetrics: false });
    const handlers = countedHandlers(m, {
      deliver: async (ok: boolean) => {
        if (!ok) throw new LiaisonError("SIGNATURE_INVALID", "bad signature");
        return "receipt";
      },
    });
    assert.equal(await handlers.deliver(true), "receipt");
    await assert.rejects(handlers.deliver(false), { code: "SIGNATURE_INVALID" });
    countPeerRefusal(m, "cosign", new LiaisonError("RATE_LIMITED", "slow down"));
    const text = await m.text();
    assert.equal(sample(text, "liaison_peer_requests_total", { method: "deliver", status: "OK" }), 1);
    assert.equal(sample(text, "liaison_peer_requests_total", { method: "deliver", status: "UNAUTHENTICATED" }), 1);
    assert.equal(sample(text, "liaison_peer_requests_total", { method: "cosign", status: "RESOURCE_EXHAUSTED" }), 1);
  });

  it("keeps serving when a source fails, and counts the failure (seen from the next scrape on)", async () => {
    const m = createNodeMetrics({ processMetrics: false });
    m.setSources({ ledgerSize: () => 7, outboxStatus: async () => { throw new Error("store down"); } });
    const text = await m.text();
    assert.equal(sample(text, "liaison_ledger_entries"), 7);
    assert.equal(sample(text, "liaison_outbox_depth"), undefined);
    assert.equal(sample(await m.text(), "liaison_metrics_source_errors_total", { source: "outbox" }), 1);
  });

  it("refuses to monitor a client built without monitorCommands", () => {
    const client = new MongoClient("mongodb://127.0.0.1:9/");
    assert.throws(() => monitorStoreCommands(client, createNodeMetrics({ processMetrics: false })), TypeError);
  });
});
