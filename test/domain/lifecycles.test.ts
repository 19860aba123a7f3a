/**
 * The bodies and their life cycles between three real nodes (VN-MPS, CN-MPS, KH-MOI) on
 * loopback, with real mTLS, signatures and the embedded store: notices, cases and assistance,
 * joint campaigns, co-signed minutes; every business rule refused and recorded as rejected;
 * views rebuilt from the records equal the live ones.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { PartnerResponseKind } from "../../gen/liaison/v1/notices_pb.ts";
import { MinutesCosignatureSchema } from "../../gen/liaison/v1/cooperation_pb.ts";
import { LiaisonError } from "../../services/errors/index.ts";
import { getNotice, readProtected, searchNotices, auditEntryBytes } from "../../services/notices/index.ts";
import { getAssistance, getCase, listAssistance } from "../../services/cases/index.ts";
import { getCampaignProgress } from "../../services/campaigns/index.ts";
import { cosignMinutes, exportMinutesBundle, getMinutesArchive, minutesMessageBytes, verifyMinutesBundle } from "../../services/minutes/index.ts";
import { checkBusinessRules, rebuildViews, recordedEnvelopes } from "../../services/views/index.ts";
import type { LiaisonNode } from "../../services/node/index.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import {
  assistanceRequestBody,
  assistanceResponseBody,
  campaignBody,
  cancellationBody,
  caseShareBody,
  cosignatureBody,
  message,
  minutesBody,
  reportBody,
  responseBody,
  traffickingBody,
  updateBody,
  wantedBody,
} from "./builders.ts";
import { domainContextOf, expectBusinessRuleRefusal, ledgerProofsOf, signerOf, snapshotViews } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const KH = "KH-MOI";
const ALL = [VN, CN, KH];

let cluster: Cluster;
let vn: LiaisonNode;
let cn: LiaisonNode;
let kh: LiaisonNode;

async function drain(): Promise<void> {
  for (const node of [vn, cn, kh]) await node.outbox.drained(60_000);
}

before(async () => {
  cluster = await startCluster(ALL);
  vn = cluster.node(VN);
  cn = cluster.node(CN);
  kh = cluster.node(KH);
});
after(async () => {
  await cluster?.close();
});

describe("a notice's life cycle", () => {
  let noticeId = "";

  it("shows a notice sent to two partners as active at all three nodes", async () => {
    const sealed = await vn.submit(message({ sender: VN, recipients: [CN, KH] }, wantedBody("VN-MPS/WANTED/2026/0001")));
    noticeId = sealed.messageId;
    await drain();
    for (const [node, direction] of [[vn, "sent"], [cn, "received"], [kh, "received"]] as const) {
      const doc = await getNotice(node.db, noticeId);
      assert.ok(doc, `${node.party} holds the notice`);
      assert.equal(doc.state, "active");
      assert.equal(doc.direction, direction);
      assert.equal(doc.originator, VN);
      assert.equal(doc.reference, "VN-MPS/WANTED/2026/0001");
    }
  });

  it("applies the originator's update everywhere", async () => {
    await vn.submit(message({ sender: VN, recipients: [CN, KH], replyTo: noticeId }, updateBody("VN-MPS/WANTED/2026/0001", "Wanted: leader of the ring (updated)")));
    await drain();
    for (const node of [vn, cn, kh]) {
      const doc = (await getNotice(node.db, noticeId))!;
      assert.equal(doc.state, "updated");
      assert.equal(doc.version, 1);
      assert.equal(doc.title[0]!.text, "Wanted: leader of the ring (updated)");
    }
  });

  it("records a partner's response under that partner at the originator", async () => {
    await cn.submit(message({ sender: CN, recipients: [VN], replyTo: noticeId }, responseBody(PartnerResponseKind.LOCATED)));
    await drain();
    const doc = (await getNotice(vn.db, noticeId))!;
    assert.equal(doc.responses[CN]?.length, 1);
    assert.equal(doc.responses[CN]![0]!.kind, "located");
    assert.equal(doc.state, "updated");
  });

  it("finds the notice by name across diacritics, by pinyin and by Hanzi, at a receiver", async () => {
    for (const text of ["Nguyen Van A", "nguyễn văn a", "Ruan Wenjia", "阮文甲", "C1234567", "QD-123/2026"]) {
      const hits = await searchNotices(cn.db, { text, limit: 10 });
      assert.ok(hits.some((h) => h.noticeId === noticeId), `"${text}" finds it`);
    }
    assert.equal((await searchNotices(cn.db, { text: "Nguyen Van A", kind: "drugCase", limit: 10 })).length, 0);
    assert.equal((await searchNotices(cn.db, { text: "Nguyen Van A", to: new Date(Date.now() - 86400_000), limit: 10 })).length, 0);
    assert.equal((await searchNotices(cn.db, { text: "Tran Thi Z", limit: 10 })).length, 0);
    const indexes = await cn.db.collection("view_notices").listIndexes().toArray();
    assert.ok(indexes.some((i) => Object.keys(i.key).join() === "searchTokens"), "the token field is indexed");
  });

  it("closes the notice everywhere when the originator cancels it, keeping the whole thread", async () => {
    await vn.submit(message({ sender: VN, recipients: [CN, KH], replyTo: noticeId }, cancellationBody()));
    await drain();
    for (const node of [vn, cn, kh]) {
      const doc = (await getNotice(node.db, noticeId))!;
      assert.equal(doc.state, "cancelled");
      assert.equal(doc.cancellation?.reasonCode, "person-arrested");
    }
    const thread = (await getNotice(vn.db, noticeId))!.thread.map((t) => t.kind);
    assert.deepEqual(thread, ["notice", "update", "response", "cancellation"]);
    const hits = await searchNotices(cn.db, { text: "Nguyen Van A", state: "cancelled", limit: 10 });
    assert.ok(hits.some((h) => h.noticeId === noticeId));
  });

  it("refuses a response that names no known notice", async () => {
    await expectBusinessRuleRefusal(cn, vn, message({ sender: CN, recipients: [VN], replyTo: randomUUID() }, responseBody()), /does not name a notice/);
  });

  it("refuses an update from a party that is not the notice's originator", async () => {
    await expectBusinessRuleRefusal(kh, cn, message({ sender: KH, recipients: [CN], replyTo: noticeId }, updateBody("x", "forged")), /only the notice's originator/);
  });

  it("refuses a cancellation from a party that is not the notice's originator", async () => {
    const sealed = await vn.submit(message({ sender: VN, recipients: [CN, KH] }, wantedBody("VN-MPS/WANTED/2026/0002")));
    await drain();
    await expectBusinessRuleRefusal(cn, kh, message({ sender: CN, recipients: [KH], replyTo: sealed.messageId }, cancellationBody()), /only the notice's originator/);
  });

  it("refuses a response from a party that did not receive the notice", async () => {
    const sealed = await vn.submit(message({ sender: VN, recipients: [CN] }, wantedBody("VN-MPS/WANTED/2026/0003")));
    await drain();
    await expectBusinessRuleRefusal(kh, vn, message({ sender: KH, recipients: [VN], replyTo: sealed.messageId }, responseBody()), /did not receive|only from a party that received/);
  });

  it("refuses an update of a cancelled notice", async () => {
    await expectBusinessRuleRefusal(vn, cn, message({ sender: VN, recipients: [CN], replyTo: noticeId }, updateBody("VN-MPS/WANTED/2026/0001", "too late")), /cancelled/);
  });
});

describe("protected parties in the views", () => {
  let noticeId = "";

  it("keeps victims' names out of the live view: encrypted with the node's data key, counts in clear", async () => {
    const sealed = await vn.submit(message({ sender: VN, recipients: [KH] }, traffickingBody("VN-MPS/THB/2026/0001")));
    noticeId = sealed.messageId;
    await drain();
    const raw = await kh.db.collection("view_notices").findOne({ _id: noticeId as never });
    assert.equal(raw?.protected.state, "encrypted");
    assert.equal(raw?.protected.victims, 2);
    assert.ok(!JSON.stringify(raw).includes("Quy"), "no victim name anywhere in the view");
    const withoutKey = await readProtected({ db: kh.db, self: KH }, noticeId, { officerId: "kh-reader", roles: ["protected-reader"] });
    assert.equal(withoutKey.granted, false, "nothing is readable without the data key");
  });

  it("encrypts them with the data key, decrypts only for allowed roles, and audits every read", async () => {
    const dataKey = randomBytes(32);
    const ctx = domainContextOf(kh, { dataKey });
    await rebuildViews(ctx, recordedEnvelopes(kh.db));
    const raw = await kh.db.collection("view_notices").findOne({ _id: noticeId as never });
    assert.equal(raw?.protected.state, "encrypted");
    assert.ok(!JSON.stringify(raw).includes("Quy"), "no victim name in clear");

    const refused = await readProtected(ctx, noticeId, { officerId: "kh-analyst", roles: ["analyst"] });
    assert.equal(refused.granted, false);
    assert.equal(refused.audit.refusal, "role");
    const granted = await readProtected(ctx, noticeId, { officerId: "kh-reader", roles: ["protected-reader"] });
    assert.ok(granted.granted);
    assert.equal(granted.victims.length, 2);
    assert.equal(granted.audit.officerId, "kh-reader");
    assert.ok(!new TextDecoder().decode(auditEntryBytes(granted.audit)).includes("Quy"), "the audit entry names no victim");

    const before = await snapshotViews(kh);
    await rebuildViews(ctx, recordedEnvelopes(kh.db));
    assert.deepEqual(await snapshotViews(kh), before, "rebuilding with the same key gives the same bytes");
    await rebuildViews(kh.domain, recordedEnvelopes(kh.db)); // back to the node's own key
  });
});

describe("a case, a request for assistance and its response", () => {
  let requestId = "";
  const deadline = new Date(Date.now() + 3 * 86400_000);

  it("shares a case and asks for assistance; the request shows as pending with its deadline", async () => {
    await vn.submit(message({ sender: VN, recipients: [CN] }, caseShareBody("VN-MPS/C04/2026/0077")));
    const sealed = await vn.submit(message({ sender: VN, recipients: [CN] }, assistanceRequestBody("VN-MPS/C04/2026/0077", deadline)));
    requestId = sealed.messageId;
    await drain();
    const shared = await getCase(cn.db, VN, "VN-MPS/C04/2026/0077");
    assert.equal(shared?.status, "open");
    assert.equal(shared?.persons.length, 1);
    const view = (await getAssistance(vn.db, requestId))!;
    assert.equal(view.status, "pending");
    assert.equal(view.deadline?.getTime(), deadline.getTime());
    assert.equal(view.overdue, false);
    assert.equal((await getAssistance(vn.db, requestId, new Date(deadline.getTime() + 1000)))!.overdue, true, "overdue past the deadline");
  });

  it("follows the responder's status to answered, and is no longer overdue", async () => {
    await cn.submit(message({ sender: CN, recipients: [VN], replyTo: requestId }, assistanceResponseBody("received")));
    await drain();
    assert.equal((await getAssistance(vn.db, requestId))!.status, "received");
    await cn.submit(message({ sender: CN, recipients: [VN], replyTo: requestId }, assistanceResponseBody("in-progress")));
    await cn.submit(message({ sender: CN, recipients: [VN], replyTo: requestId }, assistanceResponseBody("answered")));
    await drain();
    const view = (await getAssistance(vn.db, requestId, new Date(deadline.getTime() + 1000)))!;
    assert.equal(view.status, "answered");
    assert.equal(view.statusByParty[CN], "answered");
    assert.equal(view.responses.length, 3);
    assert.equal(view.overdue, false);
    const listed = await listAssistance(cn.db);
    assert.ok(listed.some((r) => r._id === requestId && r.status === "answered"), "the responder sees its own answers too");
  });

  it("refuses a response that does not reply to a request the receiver sent", async () => {
    await expectBusinessRuleRefusal(cn, kh, message({ sender: CN, recipients: [KH], replyTo: requestId }, assistanceResponseBody("answered")), /request this node sent/);
  });

  it("refuses a response from a party that was not asked", async () => {
    await expectBusinessRuleRefusal(kh, vn, message({ sender: KH, recipients: [VN], replyTo: requestId }, assistanceResponseBody("answered")), /not asked/);
  });

  it("refuses a refusal without its reason, and any change after a final answer", async () => {
    const sealed = await vn.submit(message({ sender: VN, recipients: [CN] }, assistanceRequestBody("VN-MPS/C04/2026/0077", deadline)));
    await drain();
    await expectBusinessRuleRefusal(cn, vn, message({ sender: CN, recipients: [VN], replyTo: sealed.messageId }, assistanceResponseBody("refused")), /reason/);
    await expectBusinessRuleRefusal(cn, vn, message({ sender: CN, recipients: [VN], replyTo: requestId }, assistanceResponseBody("in-progress")), /already answered/);
  });
});

describe("a joint campaign and its progress", () => {
  const campaignId = "VN-CN-KH-DRUG-2026";

  it("adds up the reports of every party toward each objective, at every node", async () => {
    await vn.submit(message({ sender: VN, recipients: [CN, KH] }, campaignBody(campaignId, ALL)));
    await drain();
    await vn.submit(message({ sender: VN, recipients: [CN, KH] }, reportBody(campaignId, { arrests: 10, seizures_kg: 20 }, 1)));
    await cn.submit(message({ sender: CN, recipients: [VN, KH] }, reportBody(campaignId, { arrests: 15 }, 1)));
    await kh.submit(message({ sender: KH, recipients: [VN, CN] }, reportBody(campaignId, { arrests: 5, seizures_kg: 2.5 }, 1)));
    await cn.submit(message({ sender: CN, recipients: [VN, KH] }, reportBody(campaignId, { arrests: 7 }, 2)));
    await drain();
    // VN corrects its January report: the later report for the same period replaces it.
    await vn.submit(message({ sender: VN, recipients: [CN, KH] }, reportBody(campaignId, { arrests: 12, seizures_kg: 20 }, 1)));
    await drain();
    for (const node of [vn, cn, kh]) {
      const progress = (await getCampaignProgress(node.db, campaignId))!;
      const arrests = progress.objectives.find((o) => o.metric === "arrests")!;
      const seizures = progress.objectives.find((o) => o.metric === "seizures_kg")!;
      assert.equal(arrests.achieved, 39, `${node.party}: 12 + 15 + 7 + 5`);
      assert.deepEqual(arrests.byParty, { [VN]: 12, [CN]: 22, [KH]: 5 });
      assert.equal(arrests.target, 300);
      assert.equal(arrests.ratio, 39 / 300);
      assert.equal(seizures.achieved, 22.5);
    }
  });

  it("refuses a report for a campaign the receiver does not know", async () => {
    await expectBusinessRuleRefusal(cn, vn, message({ sender: CN, recipients: [VN] }, reportBody("NO-SUCH-CAMPAIGN", { arrests: 1 })), /does not name a campaign/);
  });

  it("refuses a report by a party outside the campaign", async () => {
    await vn.submit(message({ sender: VN, recipients: [CN] }, campaignBody("VN-CN-FRAUD-2026", [VN, CN])));
    await drain();
    // KH learns of the campaign id only by rumour; VN refuses its report.
    await expectBusinessRuleRefusal(kh, vn, message({ sender: KH, recipients: [VN] }, reportBody("VN-CN-FRAUD-2026", { arrests: 1 })), /only a party of the campaign/);
  });

  it("refuses a report of a metric that is not an objective", async () => {
    await expectBusinessRuleRefusal(cn, vn, message({ sender: CN, recipients: [VN] }, reportBody(campaignId, { casinos_closed: 3 })), /objectives/);
  });
});

describe("minutes of a ministerial conference", () => {
  let minutesId = "";

  async function cosign(node: LiaisonNode): Promise<void> {
    const bytes = await minutesMessageBytes(node.db, minutesId);
    const body = await cosignMinutes({ minutesMessageId: minutesId, minutesMessageBytes: bytes, sign: signerOf(node), signingOfficer: { officerId: `${node.party}-minister`, displayName: `Minister (${node.party})` }, signedAt: new Date() });
    await node.submit(message({ sender: node.party, recipients: ALL.filter((p) => p !== node.party), replyTo: minutesId }, cosignatureBody(body)));
  }

  it("archives the host's minutes at every party, incomplete until co-signed", async () => {
    const sealed = await cn.submit(message({ sender: CN, recipients: [VN, KH] }, minutesBody(ALL)));
    minutesId = sealed.messageId;
    await drain();
    for (const node of [vn, cn, kh]) {
      const archive = (await getMinutesArchive(node.db, minutesId))!;
      assert.equal(archive.complete, false);
      assert.deepEqual(archive.missing, ALL);
      assert.equal(archive.minutes.documents.length, 2);
      assert.equal(archive.minutes.documents[1]!.lang, "zh-Hans");
    }
  });

  it("refuses a co-signature for minutes the receiver does not know", async () => {
    const body = create(MinutesCosignatureSchema, { minutesMessageId: randomUUID(), minutesSha256: new Uint8Array(32), cosignatureJws: "a..b" });
    await expectBusinessRuleRefusal(vn, kh, message({ sender: VN, recipients: [KH] }, cosignatureBody(body)), /does not name minutes/);
  });

  it("refuses a co-signature whose hash does not match the minutes", async () => {
    const bytes = await minutesMessageBytes(vn.db, minutesId);
    const body = await cosignMinutes({ minutesMessageId: minutesId, minutesMessageBytes: bytes, sign: signerOf(vn), signingOfficer: { officerId: "vn-minister", displayName: "Minister" }, signedAt: new Date() });
    body.minutesSha256 = new Uint8Array(32).fill(7);
    await expectBusinessRuleRefusal(vn, kh, message({ sender: VN, recipients: [KH], replyTo: minutesId }, cosignatureBody(body)), /does not match/);
  });

  it("refuses a co-signature by a party not named in the minutes", async () => {
    const only = await vn.submit(message({ sender: VN, recipients: [CN] }, minutesBody([VN, CN], 9)));
    await drain();
    const body = create(MinutesCosignatureSchema, { minutesMessageId: only.messageId, minutesSha256: new Uint8Array(32), cosignatureJws: "a..b" });
    await expectBusinessRuleRefusal(kh, vn, message({ sender: KH, recipients: [VN], replyTo: only.messageId }, cosignatureBody(body)), /only a party named in the minutes/);
  });

  it("refuses, where the key ring is wired, a co-signature whose JWS is not over the minutes", async () => {
    const other = new TextEncoder().encode("not the minutes");
    const body = await cosignMinutes({ minutesMessageId: minutesId, minutesMessageBytes: other, sign: signerOf(kh), signingOfficer: { officerId: "kh-minister", displayName: "Minister" }, signedAt: new Date() });
    body.minutesSha256 = (await import("node:crypto")).createHash("sha256").update(await minutesMessageBytes(kh.db, minutesId)).digest();
    const forged = message({ sender: KH, recipients: [VN, CN], replyTo: minutesId }, cosignatureBody(body));
    await assert.rejects(checkBusinessRules(forged, KH, domainContextOf(vn)), (e: unknown) => e instanceof LiaisonError && e.code === "BUSINESS_RULE" && /does not verify/.test(e.message));
  });

  it("is complete at every party once all three co-signed, and exports a bundle that verifies offline", async () => {
    await cosign(cn);
    await drain();
    const partial = (await getMinutesArchive(kh.db, minutesId))!;
    assert.deepEqual(partial.signedBy, [CN]);
    await assert.rejects(verifyMinutesBundle(JSON.stringify(await exportMinutesBundle(domainContextOf(kh), minutesId))), { code: "BUSINESS_RULE" });

    await cosign(vn);
    await cosign(kh);
    await drain();
    for (const node of [vn, cn, kh]) {
      const archive = (await getMinutesArchive(node.db, minutesId))!;
      assert.equal(archive.complete, true, `${node.party}: complete`);
      assert.deepEqual(archive.missing, []);
    }
    const bundle = JSON.stringify(await exportMinutesBundle(domainContextOf(kh), minutesId));
    const trusted = { [VN]: cn.partners.get(VN)!.fingerprint, [CN]: vn.partners.get(CN)!.fingerprint, [KH]: vn.partners.get(KH)!.fingerprint };
    const report = await verifyMinutesBundle(bundle, { trustedCaFingerprints: trusted });
    assert.equal(report.complete, true);
    assert.equal(report.host, CN);
    assert.deepEqual(report.cosignatures.map((c) => c.party).sort(), [...ALL].sort());
    assert.equal(report.meetingNumber, 8);
  });

  it("refuses the bundle with any one byte flipped", async () => {
    const bundle = Buffer.from(JSON.stringify(await exportMinutesBundle(domainContextOf(vn), minutesId)), "utf8");
    await verifyMinutesBundle(bundle); // the unaltered bundle verifies
    const positions = Array.from({ length: 60 }, (_, i) => Math.floor(((i + 0.5) * bundle.length) / 60));
    for (const position of positions) {
      const flipped = Buffer.from(bundle);
      flipped[position] = flipped[position]! ^ 0x01;
      await assert.rejects(verifyMinutesBundle(new Uint8Array(flipped)), LiaisonError, `byte ${position} of ${bundle.length} flipped`);
    }
  });

  it("carries inclusion proofs of every envelope in the exporting node's ledger, and refuses a bundle whose proof was altered", async () => {
    const bundle = await exportMinutesBundle(domainContextOf(cn, { inclusionProof: ledgerProofsOf(cn) }), minutesId);
    assert.equal(bundle.inclusion_proofs?.length, 4);
    const report = await verifyMinutesBundle(JSON.stringify(bundle));
    assert.equal(report.inclusionProofsVerified, 4);
    const altered = structuredClone(bundle);
    altered.inclusion_proofs![0]!.index += 1;
    await assert.rejects(verifyMinutesBundle(altered), { code: "PROOF_INCONSISTENT" });
    const forgedEntry = structuredClone(bundle);
    forgedEntry.inclusion_proofs![1]!.entry = forgedEntry.inclusion_proofs![0]!.entry;
    await assert.rejects(verifyMinutesBundle(forgedEntry), { code: "PROOF_INCONSISTENT" });
  });

  it("refuses a bundle whose CA is not the one the verifier pinned", async () => {
    const bundle = await exportMinutesBundle(domainContextOf(vn), minutesId);
    await assert.rejects(verifyMinutesBundle(bundle, { trustedCaFingerprints: { [CN]: "00".repeat(32) } }), { code: "FINGERPRINT_MISMATCH" });
  });

  it("refuses a second co-signature by the same party", async () => {
    const bytes = await minutesMessageBytes(kh.db, minutesId);
    const body = await cosignMinutes({ minutesMessageId: minutesId, minutesMessageBytes: bytes, sign: signerOf(kh), signingOfficer: { officerId: "kh-minister", displayName: "Minister" }, signedAt: new Date() });
    await expectBusinessRuleRefusal(kh, vn, message({ sender: KH, recipients: [VN], replyTo: minutesId }, cosignatureBody(body)), /already co-signed/);
  });
});

describe("views rebuilt from the records", () => {
  it("equal the live views at every node", async () => {
    await drain();
    for (const node of [vn, cn, kh]) {
      const live = await snapshotViews(node);
      const n = await rebuildViews(node.domain, recordedEnvelopes(node.db));
      assert.ok(n > 10, `${node.party} replayed its records`);
      const rebuilt = await snapshotViews(node);
      for (const name of Object.keys(live)) assert.equal(rebuilt[name], live[name], `${node.party}: rebuilt ${name} = live`);
      assert.deepEqual(rebuilt, live, `${node.party}: rebuilt = live`);
    }
  });
});
