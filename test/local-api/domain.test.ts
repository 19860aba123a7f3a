/**
 * The domain reads and acts of the local API on three real nodes: notice search, the minutes
 * archive with co-signing under the two-person rule (each party's co-signature drafted by one
 * officer, signed and sent at another approver's approval) and the bundle, the ledger status and
 * inclusion proofs, campaign progress and the assistance board; each method's roles; the party in
 * WhoAmI; the gateway's correlation id in the local API's log lines.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import winston from "winston";
import { GrpcStatus } from "../../services/errors/index.ts";
import { rootLogger } from "../../services/logging/index.ts";
import { hashLeaf, verifyInclusion } from "../../services/ledger/index.ts";
import { verifyMinutesBundle } from "../../services/minutes/index.ts";
import { assistanceRequestBody, campaignBody, campaignReportBody, caseShareBody, draft, ministerialMinutesBody } from "../../services/cli/samples.ts";
import { Direction, DraftState, LocalApi } from "../../gen/liaison/v1/local_pb.ts";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import { LocalApiConnection } from "../../gateway/client.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { attachLocalApi, draftMessage, ledgerJson, officer, refused, type LocalApiHarness } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const KH = "KH-MOI";
const ALL = [VN, CN, KH];
const others = (p: string) => ALL.filter((x) => x !== p);

interface Party {
  h: LocalApiHarness;
  drafter: string;
  approver: string;
  approver2: string;
  analyst: string;
  auditor: string;
}

let cluster: Cluster;
const parties = new Map<string, Party>();
let minutesId: string;
let campaignSent = false;

const P = (party: string) => parties.get(party)!;
const drained = async () => {
  for (const node of cluster.nodes.values()) await node.outbox.drained(60_000);
};
const send = async (party: string, message: Message): Promise<string> => {
  const p = P(party);
  const created = await p.h.client.call(LocalApi.method.createDraft, { message }, p.drafter);
  return (await p.h.client.call(LocalApi.method.approveDraft, { draftId: created.draftId }, p.approver)).messageId;
};

before(async () => {
  cluster = await startCluster(ALL);
  for (const party of ALL) {
    const h = await attachLocalApi(cluster.node(party));
    const token = async (name: string, roles: Parameters<typeof officer>[2]) => (await officer(h, `${name}.${party.toLowerCase()}`, roles)).accessToken;
    parties.set(party, {
      h,
      drafter: await token("drafter", ["drafter"]),
      approver: await token("approver", ["approver"]),
      approver2: await token("minister", ["approver"]),
      analyst: await token("analyst", ["analyst"]),
      auditor: await token("auditor", ["auditor"]),
    });
  }
  minutesId = await send(CN, draft(others(CN), ministerialMinutesBody(ALL)));
  await send(VN, draftMessage([CN, KH]));
  await drained();
});
after(async () => {
  for (const p of parties.values()) await p.h.close();
  await cluster?.close();
});

describe("WhoAmI", () => {
  it("names this node's party and its display names", async () => {
    const me = await P(VN).h.client.call(LocalApi.method.whoAmI, {}, P(VN).analyst);
    assert.equal(me.party, VN);
    assert.ok(Object.keys(me.partyDisplayNames).length > 0);
  });
});

describe("SearchNotices", () => {
  it("finds a notice by a name without diacritics, by pinyin and by Hanzi, on the receiving node", async () => {
    for (const text of ["nguyen van a", "Ruan Wenjia", "阮文甲", "C1234567"]) {
      const found = await P(CN).h.client.call(LocalApi.method.searchNotices, { text }, P(CN).analyst);
      assert.equal(found.notices.length, 1, text);
      assert.equal(found.notices[0]!.kind, "wanted_person");
      assert.equal(found.notices[0]!.originator, VN);
    }
  });

  it("filters by kind and time, and checks its input", async () => {
    const c = P(CN);
    assert.equal((await c.h.client.call(LocalApi.method.searchNotices, { text: "nguyen", kind: "drug_case" }, c.drafter)).notices.length, 0);
    const future = timestampFromDate(new Date(Date.now() + 3600_000));
    assert.equal((await c.h.client.call(LocalApi.method.searchNotices, { text: "nguyen", since: future }, c.approver)).notices.length, 0);
    await refused(c.h.client.call(LocalApi.method.searchNotices, { text: " " }, c.analyst), GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", "text");
    await refused(c.h.client.call(LocalApi.method.searchNotices, { text: "x", kind: "minutes" }, c.analyst), GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", "kind");
  });
});

describe("minutes: archive, co-signing under the two-person rule, bundle", () => {
  it("lists the minutes as not complete before anyone co-signed", async () => {
    for (const party of ALL) {
      const list = await P(party).h.client.call(LocalApi.method.listMinutes, {}, P(party).analyst);
      assert.equal(list.minutes.length, 1);
      assert.equal(list.minutes[0]!.minutesMessageId, minutesId);
      assert.equal(list.minutes[0]!.complete, false);
      assert.deepEqual([...list.minutes[0]!.missing].sort(), [...ALL].sort());
    }
  });

  it("CosignMinutes drafts the co-signature; its requester may not approve it; another approver signs and sends it", async () => {
    for (const party of ALL) {
      const p = P(party);
      const drafted = await p.h.client.call(LocalApi.method.cosignMinutes, { minutesMessageId: minutesId }, p.approver);
      assert.equal(drafted.state, DraftState.AWAITING_APPROVAL);
      assert.equal(drafted.message?.body.case, "minutesCosignature");
      assert.deepEqual([...drafted.message!.header!.recipientParties].sort(), others(party).sort());
      await refused(p.h.client.call(LocalApi.method.approveDraft, { draftId: drafted.draftId }, p.approver), GrpcStatus.PERMISSION_DENIED, "TWO_PERSON_RULE");
      const sent = await p.h.client.call(LocalApi.method.approveDraft, { draftId: drafted.draftId }, p.approver2);
      const body = sent.message!.body;
      assert.equal(body.case, "minutesCosignature");
      if (body.case === "minutesCosignature") {
        assert.equal(body.value.minutesMessageId, minutesId);
        assert.ok(body.value.cosignatureJws.length > 0, "the node signed the co-signature at approval");
        assert.equal(body.value.signingOfficer?.displayName, `Officer minister.${party.toLowerCase()}`);
      }
      assert.equal(sent.message!.header!.replyTo, minutesId);
    }
    await drained();
  });

  it("GetMinutes on every node: every party signed these bytes, complete", async () => {
    for (const party of ALL) {
      const archive = await P(party).h.client.call(LocalApi.method.getMinutes, { minutesMessageId: minutesId }, P(party).auditor);
      assert.equal(archive.summary?.complete, true, party);
      assert.deepEqual(archive.cosignatures.map((c) => [c.party, c.signed, c.hashMatches]), ALL.map((x) => [x, true, true]));
      assert.equal(archive.message?.body.case, "minutes");
      assert.equal(archive.summary?.direction, party === CN ? Direction.SENT : Direction.RECEIVED);
      const list = await P(party).h.client.call(LocalApi.method.listMinutes, {}, P(party).approver);
      assert.equal(list.minutes[0]!.complete, true);
    }
  });

  it("records minutes.cosigned in the ledger, and refuses a second co-signature", async () => {
    const entries = await ledgerJson(cluster.node(VN), "minutes.cosigned");
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.minutesId, minutesId);
    await refused(P(VN).h.client.call(LocalApi.method.cosignMinutes, { minutesMessageId: minutesId }, P(VN).drafter), GrpcStatus.FAILED_PRECONDITION, "BUSINESS_RULE", "already co-signed");
    await refused(
      P(VN).h.client.call(LocalApi.method.cosignMinutes, { minutesMessageId: "00000000-0000-4000-8000-000000000000" }, P(VN).drafter),
      GrpcStatus.NOT_FOUND,
    );
  });

  it("ExportMinutesBundle returns a bundle that verifies offline", async () => {
    const file = await P(KH).h.client.call(LocalApi.method.exportMinutesBundle, { minutesMessageId: minutesId }, P(KH).auditor);
    assert.match(file.filename, /\.json$/);
    const bundle = JSON.parse(Buffer.from(file.bundleJson).toString("utf8")) as { format: string; cosignature_envelopes: unknown[] };
    assert.equal(bundle.format, "liaison-minutes-bundle/v1");
    assert.equal(bundle.cosignature_envelopes.length, 3);
    const report = await verifyMinutesBundle(file.bundleJson);
    assert.equal((report as unknown as { complete: boolean }).complete, true);
  });
});

describe("ledger status and inclusion proofs", () => {
  it("GetLedgerStatus: tree size, the latest checkpoint and which partners cosigned it", async () => {
    await cluster.node(VN).publishCheckpoint();
    const status = await P(VN).h.client.call(LocalApi.method.getLedgerStatus, {}, P(VN).auditor);
    assert.ok(status.treeSize > 0n);
    assert.equal(status.checkpointSize, status.treeSize);
    assert.deepEqual(status.cosigners.map((c) => c.party).sort(), [CN, KH]);
    assert.deepEqual(status.notCosignedBy, []);
    assert.ok(status.cosigners.every((c) => c.cosignedAt && c.receivedAt));
    assert.match(status.checkpointNote, /^liaison\/ledger\/VN-MPS\n/);
    assert.deepEqual(status.alerts, []);
  });

  it("GetInclusionProof proves the minutes' entry in the checkpoint", async () => {
    const proof = await P(VN).h.client.call(LocalApi.method.getInclusionProof, { messageId: minutesId }, P(VN).auditor);
    verifyInclusion(Number(proof.ledgerIndex), Number(proof.treeSize), hashLeaf(proof.entry), proof.proof, proof.rootHash);
    await refused(P(VN).h.client.call(LocalApi.method.getInclusionProof, { messageId: "00000000-0000-4000-8000-000000000000" }, P(VN).auditor), GrpcStatus.NOT_FOUND);
  });
});

describe("campaigns and assistance", () => {
  before(async () => {
    await send(VN, draft(others(VN), campaignBody("TF-2026", ALL)));
    await drained();
    await send(CN, draft(others(CN), campaignReportBody("TF-2026", { arrests: 300, victims_rescued: 12 }, 3)));
    await send(KH, draft(others(KH), campaignReportBody("TF-2026", { arrests: 100 }, 3)));
    await send(VN, draft([CN], caseShareBody("VN-MPS/C04/2026/0311", [])));
    await send(VN, draft([CN], assistanceRequestBody("VN-MPS/C04/2026/0311", new Date(Date.now() + 10 * 86400_000))));
    await drained();
    campaignSent = true;
  });

  it("ListCampaigns and GetCampaignProgress: the joint figures per party", async () => {
    assert.ok(campaignSent);
    const list = await P(KH).h.client.call(LocalApi.method.listCampaigns, {}, P(KH).analyst);
    assert.deepEqual(list.campaigns.map((c) => c.campaign?.campaignId), ["TF-2026"]);
    assert.equal(list.campaigns[0]!.announcedBy, VN);
    const progress = await P(VN).h.client.call(LocalApi.method.getCampaignProgress, { campaignId: "TF-2026" }, P(VN).drafter);
    const arrests = progress.objectives.find((o) => o.metric === "arrests")!;
    assert.equal(arrests.achieved, 400);
    assert.equal(arrests.target, 1200);
    assert.deepEqual(arrests.byParty, { [VN]: 0, [CN]: 300, [KH]: 100 });
    assert.deepEqual(progress.reportsCounted.map((r) => r.party).sort(), [CN, KH]);
    await refused(P(VN).h.client.call(LocalApi.method.getCampaignProgress, { campaignId: "NOPE" }, P(VN).drafter), GrpcStatus.NOT_FOUND);
  });

  it("ListAssistance: the request with its deadline, status per party and overdue flag", async () => {
    const board = await P(CN).h.client.call(LocalApi.method.listAssistance, {}, P(CN).approver);
    assert.equal(board.requests.length, 1);
    const item = board.requests[0]!;
    assert.equal(item.requester, VN);
    assert.equal(item.direction, Direction.RECEIVED);
    assert.ok(item.deadline);
    assert.equal(item.overdue, false);
    assert.deepEqual(item.statusByParty, { [CN]: "pending" });
    assert.equal((await P(CN).h.client.call(LocalApi.method.listAssistance, { overdueOnly: true }, P(CN).analyst)).requests.length, 0);
  });
});

describe("roles of the new methods", () => {
  const unknownId = "00000000-0000-4000-8000-000000000000";
  const CASES: Array<{ method: string; allowed: keyof Party; refusedAs: keyof Party; call: (t: string) => Promise<unknown> }> = [
    { method: "SearchNotices", allowed: "drafter", refusedAs: "h", call: (t) => P(VN).h.client.call(LocalApi.method.searchNotices, { text: "x" }, t) },
    { method: "ListMinutes", allowed: "analyst", refusedAs: "drafter", call: (t) => P(VN).h.client.call(LocalApi.method.listMinutes, {}, t) },
    { method: "GetMinutes", allowed: "approver", refusedAs: "drafter", call: (t) => P(VN).h.client.call(LocalApi.method.getMinutes, { minutesMessageId: minutesId }, t) },
    { method: "ExportMinutesBundle", allowed: "auditor", refusedAs: "drafter", call: (t) => P(VN).h.client.call(LocalApi.method.exportMinutesBundle, { minutesMessageId: minutesId }, t) },
    { method: "CosignMinutes", allowed: "drafter", refusedAs: "analyst", call: (t) => P(VN).h.client.call(LocalApi.method.cosignMinutes, { minutesMessageId: unknownId }, t) },
    { method: "GetLedgerStatus", allowed: "auditor", refusedAs: "approver", call: (t) => P(VN).h.client.call(LocalApi.method.getLedgerStatus, {}, t) },
    { method: "GetInclusionProof", allowed: "auditor", refusedAs: "analyst", call: (t) => P(VN).h.client.call(LocalApi.method.getInclusionProof, { messageId: minutesId }, t) },
    { method: "ListCampaigns", allowed: "drafter", refusedAs: "h", call: (t) => P(VN).h.client.call(LocalApi.method.listCampaigns, {}, t) },
    { method: "GetCampaignProgress", allowed: "analyst", refusedAs: "h", call: (t) => P(VN).h.client.call(LocalApi.method.getCampaignProgress, { campaignId: "TF-2026" }, t) },
    { method: "ListAssistance", allowed: "auditor", refusedAs: "h", call: (t) => P(VN).h.client.call(LocalApi.method.listAssistance, {}, t) },
  ];
  for (const c of CASES) {
    it(`${c.method}: ${c.allowed} allowed, ${c.refusedAs === "h" ? "admin" : c.refusedAs} refused`, async () => {
      const p = P(VN);
      const allowed = c.call(p[c.allowed] as string);
      if (c.method === "CosignMinutes") await refused(allowed, GrpcStatus.NOT_FOUND);
      else await allowed;
      const token = c.refusedAs === "h" ? await p.h.adminToken() : (p[c.refusedAs] as string);
      await refused(c.call(token), GrpcStatus.PERMISSION_DENIED, "FORBIDDEN", c.method);
    });
  }
});

describe("correlation ids", () => {
  it("the local API's refusal lines carry the x-correlation-id it received", async () => {
    const lines: string[] = [];
    const sink = new winston.transports.Stream({
      stream: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
      format: winston.format.json(),
    });
    const consoles = rootLogger.transports.map((t) => [t, t.silent] as const);
    for (const [t] of consoles) t.silent = true;
    rootLogger.add(sink);
    const connection = new LocalApiConnection(`127.0.0.1:${P(VN).h.server.port}`);
    try {
      await connection.call(LocalApi.method.getLedgerStatus, {}, { accessToken: P(VN).analyst, correlationId: "corr-4711-abc" }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      const refusal = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === "request refused" && String(l.method).endsWith("GetLedgerStatus"));
      assert.ok(refusal, "the refusal was logged");
      assert.equal(refusal.correlationId, "corr-4711-abc");
    } finally {
      connection.close();
      rootLogger.remove(sink);
      for (const [t, silent] of consoles) t.silent = silent;
    }
  });
});
