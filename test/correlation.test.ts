/**
 * One correlation id from the officer's HTTP request to the partner's log: the gateway's request
 * id goes to the local API as `x-correlation-id`, the approval queues the sealed envelope with it,
 * the outbox sends it with every delivery attempt, and the receiving node's peer API logs its side
 * of the delivery under the same id. Real nodes, real gateway, real mTLS.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import winston from "winston";
import { rootLogger } from "../services/logging/index.ts";
import { startCluster, type Cluster } from "./support/cluster.ts";
import { eventually, http, makeOfficer, openSite, wantedPersonDraft, type Site } from "./gateway/support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";

let cluster: Cluster;
let vn: Site;
const lines: Array<Record<string, unknown>> = [];
const sink = new winston.transports.Stream({
  stream: new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  }),
  format: winston.format.json(),
});
let levelBefore = rootLogger.level;

before(async () => {
  cluster = await startCluster([VN, CN]);
  vn = await openSite(cluster, VN);
  levelBefore = rootLogger.level;
  rootLogger.level = "info";
  rootLogger.add(sink);
});

after(async () => {
  rootLogger.remove(sink);
  rootLogger.level = levelBefore;
  await vn?.close();
  await cluster?.close();
});

describe("correlation ids across gateway → local API → peer API", () => {
  it("the partner logs the accepted envelope under the id of the officer's approval request", async () => {
    const drafter = await makeOfficer(vn, "drafter.corr", ["drafter"]);
    const approver = await makeOfficer(vn, "approver.corr", ["approver"]);
    const created = await http(vn, "POST", "/api/drafts", { token: drafter.accessToken, body: { message: wantedPersonDraft([CN], undefined, "VN-MPS/CORR/1") } });
    assert.equal(created.status, 201, created.text);
    const correlationId = "desk-7-approve-0001";
    const approved = await http(vn, "POST", `/api/drafts/${created.json.draftId}/approve`, {
      token: approver.accessToken,
      headers: { "x-correlation-id": correlationId },
    });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.headers["x-correlation-id"], correlationId);
    const messageId = String(approved.json.messageId);

    await cluster.node(VN).outbox.drained(30_000);
    const queued = await cluster.node(VN).outbox.entries.findOne({ messageId, partner: CN });
    assert.equal(queued?.correlationId, correlationId, "the outbox entry keeps the request's correlation id");

    const accepted = await eventually(async () => lines.find((l) => l.message === "envelope accepted" && l.messageId === messageId), 10_000, "the receiver's log line");
    assert.equal(accepted.correlationId, correlationId, "the receiving node logs under the sender's correlation id");
    const delivered = lines.find((l) => l.message === "delivered" && l.messageId === messageId);
    assert.equal(delivered?.correlationId, correlationId, "the sending node's delivery line carries it too");
  });

  it("a malformed correlation id from a caller is not propagated", async () => {
    const drafter = await makeOfficer(vn, "drafter.corr2", ["drafter"]);
    const approver = await makeOfficer(vn, "approver.corr2", ["approver"]);
    const created = await http(vn, "POST", "/api/drafts", { token: drafter.accessToken, body: { message: wantedPersonDraft([CN], undefined, "VN-MPS/CORR/2") } });
    const approved = await http(vn, "POST", `/api/drafts/${created.json.draftId}/approve`, {
      token: approver.accessToken,
      headers: { "x-correlation-id": "bad id\"}{$where" },
    });
    assert.equal(approved.status, 200, approved.text);
    const own = String(approved.headers["x-correlation-id"]);
    assert.notEqual(own, "bad id\"}{$where", "the gateway replaced it with its own id");
    const messageId = String(approved.json.messageId);
    await cluster.node(VN).outbox.drained(30_000);
    const accepted = await eventually(async () => lines.find((l) => l.message === "envelope accepted" && l.messageId === messageId), 10_000, "the receiver's log line");
    assert.equal(accepted.correlationId, own);
  });
});
