/**
 * ListLedgerEntries (the audit trail) on two real nodes: a human-trafficking notice (victims, an
 * informant) sent from VN-MPS to KH-MOI; at KH-MOI an analyst reads the protected fields for a
 * stated purpose and a drafter tries to. The auditor then lists `protected.read` and sees who
 * read which notice, when and why — and no identity; every other role is refused; envelope and
 * receipt entries show their message id, body kind, sender, recipients and envelope SHA-256,
 * never the message bytes; paging walks the whole ledger once, stable under new entries; the
 * filters (kind, index range, time, officer) and their refusals; what a decision records that
 * could be protected is withheld; the derived trail index rebuilds itself when dropped or stale.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { create, toBinary, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { PassThrough } from "node:stream";
import winston from "winston";
import { GrpcStatus } from "../../services/errors/index.ts";
import { rootLogger } from "../../services/logging/index.ts";
import { LedgerSequencer, readEntry, readTreeHead } from "../../services/ledger/index.ts";
import { LedgerEntrySchema } from "../../gen/liaison/v1/ledger_pb.ts";
import { draft } from "../../services/cli/samples.ts";
import { LEDGER_TRAIL, LedgerTrail } from "../../services/node/ledger-trail.ts";
import {
  ListLedgerEntriesResponseSchema,
  LocalApi,
  ProtectedField,
  type LedgerTrailEntry,
  type ListLedgerEntriesResponse,
} from "../../gen/liaison/v1/local_pb.ts";
import type { Message, MessageSchema } from "../../gen/liaison/v1/message_pb.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { attachLocalApi, officer, refused, type LocalApiHarness } from "./support.ts";

type Body = MessageInitShape<typeof MessageSchema>["body"];
type Request = MessageInitShape<typeof LocalApi.method.listLedgerEntries.input>;

const VN = "VN-MPS";
const KH = "KH-MOI";
const VICTIMS = ["Trịnh Thị Mai Anh", "Lý Văn Phúc"];
const INFORMANT = "Phan Đức Thắng";
const INFORMANT_PHONE = "+84 912 345 678";
const SECRETS = [...VICTIMS, INFORMANT, INFORMANT_PHONE, "912 345 678", "Mai Anh"];
const PURPOSE = "victim identification for repatriation, case KH-MOI/THB/2026/0107";

const trafficking = (reference: string): Body => ({
  case: "humanTrafficking",
  value: {
    summary: {
      reference,
      title: [{ lang: "en", text: "Workers trafficked to a scam compound" }],
      informants: [{ names: [{ fullName: INFORMANT, script: "Latn", lang: "vi" }], contact: INFORMANT_PHONE }],
    },
    victims: VICTIMS.map((fullName) => ({ names: [{ fullName, script: "Latn", lang: "vi" }], nationality: "VNM" })),
    victimCount: 2,
    recruitmentMethod: "fake job offer on a social network",
  },
});

let cluster: Cluster;
let vn: LocalApiHarness;
let kh: LocalApiHarness;
const t = {} as Record<"vnDrafter" | "vnApprover" | "vnAuditor" | "drafter" | "approver" | "analyst" | "auditor" | "admin", string>;
const ids = {} as Record<"analyst" | "drafter" | "vnDrafter" | "vnApprover", string>;
let noticeId = "";
let readIndex = 0;
let readAt = new Date(0);

const found = (text: string) => SECRETS.filter((s) => text.includes(s));
const list = (h: LocalApiHarness, token: string, request: Request = {}) => h.client.call(LocalApi.method.listLedgerEntries, request, token);
const decision = (e: LedgerTrailEntry) => {
  assert.equal(e.summary.case, "decision", `entry ${e.index} (${e.kind}) has a decision summary`);
  return e.summary.value as Record<string, unknown>;
};
/** Every byte and every JSON character of an answer: no protected identity in either. */
function assertNoSecret(response: ListLedgerEntriesResponse): void {
  const bytes = Buffer.from(toBinary(ListLedgerEntriesResponseSchema, response)).toString("utf8");
  assert.deepEqual(found(bytes), [], "no identity in the protobuf answer");
  assert.deepEqual(found(toJsonString(ListLedgerEntriesResponseSchema, response)), [], "no identity in its JSON");
}

async function send(h: LocalApiHarness, drafter: string, approver: string, message: Message): Promise<string> {
  const created = await h.client.call(LocalApi.method.createDraft, { message }, drafter);
  return (await h.client.call(LocalApi.method.approveDraft, { draftId: created.draftId }, approver)).messageId;
}

/** Every entry matching `request`, page by page. */
async function all(h: LocalApiHarness, token: string, request: Request, pageSize: number): Promise<LedgerTrailEntry[]> {
  const out: LedgerTrailEntry[] = [];
  let pageToken = "";
  for (let i = 0; i < 1000; i++) {
    const page = await list(h, token, { ...request, pageSize, pageToken });
    assert.ok(page.entries.length <= pageSize);
    out.push(...page.entries);
    if (page.nextPageToken === "") return out;
    pageToken = page.nextPageToken;
  }
  assert.fail("paging did not end");
}

before(async () => {
  cluster = await startCluster([VN, KH]);
  vn = await attachLocalApi(cluster.node(VN));
  kh = await attachLocalApi(cluster.node(KH));
  const vnDrafter = await officer(vn, "drafter.vn", ["drafter"]);
  const vnApprover = await officer(vn, "approver.vn", ["approver"]);
  t.vnDrafter = vnDrafter.accessToken;
  t.vnApprover = vnApprover.accessToken;
  ids.vnDrafter = vnDrafter.officer!.officerId;
  ids.vnApprover = vnApprover.officer!.officerId;
  t.vnAuditor = (await officer(vn, "auditor.vn", ["auditor"])).accessToken;
  const analyst = await officer(kh, "analyst.kh", ["analyst"]);
  t.analyst = analyst.accessToken;
  ids.analyst = analyst.officer!.officerId;
  const drafter = await officer(kh, "drafter.kh", ["drafter"]);
  t.drafter = drafter.accessToken;
  ids.drafter = drafter.officer!.officerId;
  t.approver = (await officer(kh, "approver.kh", ["approver"])).accessToken;
  t.auditor = (await officer(kh, "auditor.kh", ["auditor"])).accessToken;
  t.admin = await kh.adminToken();
  noticeId = await send(vn, t.vnDrafter, t.vnApprover, draft([KH], trafficking("VN-MPS/THB/2026/0107")));
  await cluster.node(VN).outbox.drained(60_000);

  // At the receiver: an analyst reads the victims for a purpose; a drafter tries to.
  const read = await kh.client.call(LocalApi.method.readProtectedFields, { messageId: noticeId, purpose: PURPOSE, fields: [ProtectedField.VICTIMS] }, t.analyst);
  assert.equal(read.victims.length, 2);
  readIndex = Number(read.auditLedgerIndex);
  readAt = new Date(Number(read.readAt!.seconds) * 1000 + Math.floor(read.readAt!.nanos / 1e6));
  await refused(kh.client.call(LocalApi.method.readProtectedFields, { messageId: noticeId, purpose: PURPOSE }, t.drafter), GrpcStatus.PERMISSION_DENIED);
});

after(async () => {
  await vn?.close();
  await kh?.close();
  await cluster?.close();
});

describe("ListLedgerEntries: who read protected parties", () => {
  it("shows the auditor each protected.read — officer, notice, fields, purpose, outcome — newest first, naming no identity", async () => {
    const page = await list(kh, t.auditor, { kinds: ["protected.read"] });
    assertNoSecret(page);
    assert.equal(page.entries.length, 2);
    const [refusal, granted] = page.entries as [LedgerTrailEntry, LedgerTrailEntry];
    assert.ok(refusal.index > granted.index, "newest first");

    assert.equal(granted.index, BigInt(readIndex), "the index ReadProtectedFields reported");
    assert.equal(granted.kind, "protected.read");
    assert.deepEqual(granted.officerIds, [ids.analyst]);
    const g = decision(granted);
    assert.equal(g.officerId, ids.analyst);
    assert.deepEqual(g.roles, ["analyst"]);
    assert.equal(g.noticeId, noticeId);
    assert.equal(g.messageId, noticeId);
    assert.deepEqual(g.fields, ["victims"]);
    assert.equal(g.purpose, PURPOSE);
    assert.equal(g.granted, true);
    assert.equal(g.victims, 2);
    assert.equal(g.informants, 0);
    assert.equal(g.party, KH);
    assert.deepEqual(granted.withheld, []);
    const recordedAt = new Date(Number(granted.recordedAt!.seconds) * 1000 + Math.floor(granted.recordedAt!.nanos / 1e6));
    assert.ok(Math.abs(recordedAt.getTime() - readAt.getTime()) < 5_000, "recorded when the read was decided");

    const stored = await readEntry(kh.node.db, readIndex);
    assert.deepEqual(granted.leafHash, createHash("sha256").update(Buffer.of(0)).update(stored!.bytes).digest(), "the RFC 9162 leaf hash of the stored bytes");

    const r = decision(refusal);
    assert.equal(r.officerId, ids.drafter);
    assert.deepEqual(r.roles, ["drafter"]);
    assert.equal(r.granted, false);
    assert.equal(r.refusal, "role");
    assert.equal(r.purpose, undefined, "a refused read records no purpose");
    assert.equal(r.noticeId, undefined, "a refused role is not told whether the notice exists");
  });

  it("finds one officer's entries: protected reads by the analyst, and every decision naming them", async () => {
    const reads = await list(kh, t.auditor, { kinds: ["protected.read"], officerId: ids.analyst });
    assert.deepEqual(reads.entries.map((e) => e.index), [BigInt(readIndex)]);
    const any = await list(kh, t.auditor, { officerId: ids.analyst });
    assert.deepEqual(any.entries.map((e) => e.kind).sort(), ["officer.added", "protected.read"]);
    const added = any.entries.find((e) => e.kind === "officer.added")!;
    assert.equal(decision(added).username, "analyst.kh");
    assert.deepEqual(decision(added).roles, ["analyst"]);
    // At the sender: the two-person rule, by officer.
    const approvals = await list(vn, t.vnAuditor, { kinds: ["draft.approved"], officerId: ids.vnApprover });
    assert.equal(approvals.entries.length, 1);
    const approval = decision(approvals.entries[0]!);
    assert.equal(approval.messageId, noticeId);
    assert.equal(approval.approver, ids.vnApprover);
    assert.equal(approval.drafter, ids.vnDrafter);
    assert.deepEqual(approvals.entries[0]!.officerIds.sort(), [ids.vnApprover, ids.vnDrafter].sort());
    assert.deepEqual((await list(vn, t.vnAuditor, { kinds: ["draft.approved"], officerId: ids.analyst })).entries, [], "an officer of another node names nothing here");
  });

  for (const role of ["drafter", "approver", "analyst", "admin"] as const) {
    it(`refuses a ${role} (PERMISSION_DENIED), before reading anything`, async () => {
      await refused(list(kh, t[role], { kinds: ["protected.read"] }), GrpcStatus.PERMISSION_DENIED, "FORBIDDEN", "ListLedgerEntries requires the role auditor");
    });
  }

  it("refuses a call without a token (UNAUTHENTICATED)", async () => {
    await refused(kh.client.call(LocalApi.method.listLedgerEntries, {}), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED");
  });
});

describe("ListLedgerEntries: envelopes and receipts", () => {
  it("summarises the received notice's envelope — id, body kind, sender, recipients, SHA-256 — never its bytes", async () => {
    const page = await list(kh, t.auditor, { kinds: ["envelope.received", "receipt.issued"] });
    assertNoSecret(page);
    const envelope = page.entries.find((e) => e.kind === "envelope.received" && e.summary.case === "envelope" && e.summary.value.messageId === noticeId)!;
    assert.ok(envelope, "the notice's envelope entry is listed");
    assert.equal(envelope.summary.case, "envelope");
    const summary = envelope.summary.value;
    assert.equal(summary.bodyKind, "human_trafficking");
    assert.equal(summary.sender, VN);
    assert.deepEqual(summary.recipients, [KH]);
    const record = await kh.client.call(LocalApi.method.getMessage, { messageId: noticeId }, t.auditor);
    assert.deepEqual(summary.envelopeSha256, record.envelopeSha256, "the SHA-256 of the envelope bytes");
    assert.equal(envelope.index, record.ledgerIndex);
    assert.deepEqual(envelope.officerIds, []);
    assert.deepEqual(envelope.withheld, []);

    const receipt = page.entries.find((e) => e.kind === "receipt.issued" && e.summary.case === "envelope" && e.summary.value.messageId === noticeId)!;
    assert.ok(receipt, "the receipt this node issued is listed");
    assert.equal(receipt.summary.case, "envelope");
    assert.equal(receipt.summary.value.bodyKind, "human_trafficking");
    assert.equal(receipt.summary.value.sender, VN);
    assert.deepEqual(receipt.summary.value.recipients, [KH]);
    assert.deepEqual(receipt.summary.value.envelopeSha256, record.envelopeSha256);
    assert.equal(receipt.summary.value.receiverLedgerIndex, record.ledgerIndex);
    assert.ok(receipt.index > envelope.index);
  });

  it("at the sender: envelope.sent and receipt.received, the same SHA-256, no body bytes", async () => {
    const page = await list(vn, t.vnAuditor, { kinds: ["envelope.sent", "receipt.received"] });
    assertNoSecret(page);
    const sent = page.entries.find((e) => e.kind === "envelope.sent")!;
    const receipt = page.entries.find((e) => e.kind === "receipt.received")!;
    assert.ok(sent && receipt);
    assert.equal(sent.summary.case, "envelope");
    assert.equal(receipt.summary.case, "envelope");
    assert.equal(sent.summary.value.messageId, noticeId);
    assert.deepEqual(sent.summary.value.recipients, [KH]);
    assert.deepEqual(receipt.summary.value.envelopeSha256, sent.summary.value.envelopeSha256);
    assert.deepEqual(receipt.summary.value.recipients, [KH], "the party that receipted");
    assert.equal(receipt.summary.value.bodyKind, "human_trafficking");
  });

  it("shows no identity anywhere in the whole ledger, at either node, nor in the logs of listing it", async () => {
    const lines: string[] = [];
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    const transport = new winston.transports.Stream({ stream: sink, level: "silly" });
    const level = rootLogger.level;
    rootLogger.level = "silly";
    rootLogger.add(transport);
    try {
      for (const [h, token] of [[kh, t.auditor], [vn, t.vnAuditor]] as const) {
        const page = await list(h, token, { pageSize: 500 });
        assertNoSecret(page);
        assert.ok(page.entries.length > 5);
        await refused(list(h, token, { kinds: [VICTIMS[0]!] }), GrpcStatus.INVALID_ARGUMENT);
      }
    } finally {
      rootLogger.remove(transport);
      rootLogger.level = level;
    }
    assert.ok(lines.some((l) => l.includes("ledger entries listed")));
    assert.deepEqual(found(lines.join("")), [], "the logs name no identity, not even one typed as a kind");
  });
});

describe("ListLedgerEntries: paging and filters", () => {
  it("walks the whole ledger once, newest first, in pages of 3 — stable while new entries arrive", async () => {
    const head = (await readTreeHead(kh.node.db)).size;
    const seen: bigint[] = [];
    let pageToken = "";
    let treeSize = 0n;
    for (let i = 0; i < 1000; i++) {
      const page = await list(kh, t.auditor, { pageSize: 3, pageToken });
      if (i === 0) treeSize = page.treeSize;
      assert.equal(page.treeSize, treeSize, "later pages keep the first page's tree size");
      seen.push(...page.entries.map((e) => e.index));
      if (i === 0) {
        // A new entry after the first page does not shift the next ones.
        await refused(kh.client.call(LocalApi.method.readProtectedFields, { messageId: noticeId, purpose: PURPOSE }, t.approver), GrpcStatus.PERMISSION_DENIED);
      }
      if (page.nextPageToken === "") break;
      pageToken = page.nextPageToken;
    }
    assert.equal(Number(treeSize), head);
    assert.deepEqual(seen, Array.from({ length: head }, (_, i) => BigInt(head - 1 - i)), "every index once, descending");
    const fresh = await list(kh, t.auditor, { pageSize: 1 });
    assert.equal(fresh.entries[0]!.index, BigInt(head), "the new entry is on a fresh first page");
    assert.equal(fresh.entries[0]!.kind, "protected.read");
  });

  it("pages through one kind with a filter-bound token", async () => {
    const reads = await all(kh, t.auditor, { kinds: ["protected.read"] }, 1);
    assert.equal(reads.length, 3);
    assert.ok(reads.every((e) => e.kind === "protected.read"));
    const first = await list(kh, t.auditor, { kinds: ["protected.read"], pageSize: 1 });
    await refused(list(kh, t.auditor, { kinds: ["draft.rejected"], pageSize: 1, pageToken: first.nextPageToken }), GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", "other filters");
  });

  it("filters by index range (inclusive) and by recorded time", async () => {
    const everything = await all(kh, t.auditor, {}, 500);
    const range = await list(kh, t.auditor, { fromIndex: 2n, toIndex: 5n });
    assert.deepEqual(range.entries.map((e) => e.index), [5n, 4n, 3n, 2n]);
    assert.deepEqual((await list(kh, t.auditor, { fromIndex: BigInt(readIndex), toIndex: BigInt(readIndex) })).entries.map((e) => e.kind), ["protected.read"]);
    const since = new Date(readAt.getTime());
    const later = await all(kh, t.auditor, { since: timestampFromDate(since) }, 500);
    const expected = everything.filter((e) => Number(e.recordedAt!.seconds) * 1000 + e.recordedAt!.nanos / 1e6 >= since.getTime());
    assert.deepEqual(later.map((e) => e.index), expected.map((e) => e.index));
    assert.ok(later.some((e) => e.index === BigInt(readIndex)));
    const earlier = await all(kh, t.auditor, { until: timestampFromDate(since) }, 500);
    assert.equal(earlier.length + later.length, everything.length, "since and until split the ledger");
    assert.ok(!earlier.some((e) => e.index === BigInt(readIndex)));
  });

  it("refuses malformed filters with INVALID_ARGUMENT naming the field", async () => {
    const cases: Array<[string, Request]> = [
      ["kinds[0]", { kinds: ["protected.reads"] }],
      ["kinds[0]", { kinds: ['{"$ne":""}'] }],
      ["kinds[1]", { kinds: ["protected.read", "protected.read"] }],
      ["from_index", { fromIndex: 9n, toIndex: 3n }],
      ["to_index", { toIndex: 2n ** 60n }],
      ["since", { since: timestampFromDate(new Date(2026, 1, 2)), until: timestampFromDate(new Date(2026, 1, 1)) }],
      ["officer_id", { officerId: "not-an-id" }],
      ["officer_id", { officerId: '{"$gt":""}' }],
      ["page_size", { pageSize: 501 }],
      ["page_token", { pageToken: "not-a-token" }],
      ["page_token", { pageToken: Buffer.from(JSON.stringify({ b: -1, n: 3, f: "x" })).toString("base64url") }],
    ];
    for (const [field, request] of cases) {
      await refused(list(kh, t.auditor, request), GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", field);
    }
  });
});

describe("ListLedgerEntries: what is withheld", () => {
  it("withholds a partner's refusal text that quotes a protected party, an unknown member, and a purpose on a refused read", async () => {
    const ledger = vn.node.ledger;
    const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    const quoting = await ledger.append("envelope.refused-by-partner", json({ messageId: noticeId, recipient: KH, reason: `BUSINESS_RULE: victim ${VICTIMS[0]} is already known` }));
    const plain = await ledger.append("envelope.refused-by-partner", json({ messageId: noticeId, recipient: KH, reason: "BUSINESS_RULE: the notice was cancelled" }));
    const unknownMessage = await ledger.append("envelope.refused-by-partner", json({ messageId: "00000000-0000-4000-8000-000000000000", recipient: KH, reason: "no such thing" }));
    const extra = await ledger.append("draft.rejected", json({ draftId: "00000000-0000-4000-8000-000000000001", by: ids.vnApprover, note: `informant ${INFORMANT}` }));
    const refusedWithPurpose = await ledger.append("protected.read", json({ kind: "protected.read", officerId: ids.vnDrafter, granted: false, refusal: "purpose", purpose: `about ${VICTIMS[1]}`, informants: 0, victims: 0 }));
    const notJson = await ledger.append("witness.alert", new TextEncoder().encode(`not json ${INFORMANT}`));

    const page = await list(vn, t.vnAuditor, { fromIndex: BigInt(quoting.index), toIndex: BigInt(notJson.index) });
    assertNoSecret(page);
    const byIndex = new Map(page.entries.map((e) => [Number(e.index), e]));
    const q = byIndex.get(quoting.index)!;
    assert.deepEqual(q.withheld, ["reason"]);
    assert.deepEqual(decision(q), { messageId: noticeId, recipient: KH });
    const p = byIndex.get(plain.index)!;
    assert.deepEqual(p.withheld, []);
    assert.equal(decision(p).reason, "BUSINESS_RULE: the notice was cancelled");
    assert.deepEqual(byIndex.get(unknownMessage.index)!.withheld, ["reason"], "a text that cannot be checked is withheld");
    const x = byIndex.get(extra.index)!;
    assert.deepEqual(x.withheld, ["note"]);
    assert.deepEqual(decision(x), { draftId: "00000000-0000-4000-8000-000000000001", by: ids.vnApprover });
    const r = byIndex.get(refusedWithPurpose.index)!;
    assert.deepEqual(r.withheld, ["purpose"]);
    assert.equal(decision(r).purpose, undefined);
    const n = byIndex.get(notJson.index)!;
    assert.equal(n.summary.case, undefined);
    assert.deepEqual(n.withheld, ["content"]);
  });
});

describe("ListLedgerEntries: the derived trail index", () => {
  it("rebuilds itself when dropped, when documents are missing, and when one no longer matches its entry", async () => {
    const key = (e: LedgerTrailEntry) => [e.index, e.kind, Buffer.from(e.leafHash).toString("hex")];
    const before = await all(kh, t.auditor, {}, 500);
    const trail = kh.node.db.collection(LEDGER_TRAIL);
    await trail.drop();
    assert.deepEqual((await all(kh, t.auditor, {}, 500)).map(key), before.map(key), "dropped: rebuilt from the entries");
    await trail.deleteOne({ _id: 3 as never });
    assert.deepEqual((await all(kh, t.auditor, {}, 500)).map(key), before.map(key), "a missing document: rebuilt");
    // A document that says another kind: the item shown is read from the entry, the leaf
    // differs, and the trail is derived again from there.
    await trail.updateOne({ _id: readIndex as never }, { $set: { kind: "draft.rejected", leaf: "00" } });
    const misfiled = await list(kh, t.auditor, { kinds: ["draft.rejected"] });
    assert.ok(!misfiled.entries.some((e) => e.index === BigInt(readIndex)), "not shown under the kind it does not have");
    const reads = await list(kh, t.auditor, { kinds: ["protected.read"] });
    assert.ok(reads.entries.some((e) => e.index === BigInt(readIndex)), "listed again under its own kind");
  });
});

describe("LedgerTrail: time ranges are exact when a clock stepped back", () => {
  it("finds an entry recorded before the one preceding it, and none outside the range", async () => {
    const node = cluster.node(KH);
    const db = node.mongo.db(`${node.db.databaseName}_trail_clock`);
    const sequencer = await LedgerSequencer.start({ client: node.mongo, db });
    try {
      const at = (minute: number) => new Date(Date.UTC(2026, 4, 4, 8, minute));
      // Recorded at 08:10, 08:20, 08:05 (a clock step back), 08:30; queued in that order.
      // (Queued together: a second append awaited right after the first resolved can stay queued
      // forever in LedgerSequencer, whose loop ends while it is being queued.)
      await Promise.all(
        [10, 20, 5, 30].map((minute) => {
          const content = new TextEncoder().encode(JSON.stringify({ draftId: `d${minute}`, by: "x" }));
          return sequencer.append("draft.rejected", toBinary(LedgerEntrySchema, create(LedgerEntrySchema, { kind: "draft.rejected", content, recordedAt: timestampFromDate(at(minute)) })));
        }),
      );
      const trail = new LedgerTrail(db);
      await trail.ensureIndexes();
      const indices = async (filter: Parameters<LedgerTrail["list"]>[0]) => (await trail.list(filter, { limit: 10 })).items.map((i) => i.index);
      assert.deepEqual(await indices({ until: at(15) }), [2, 0], "the late entry is found before `until`");
      assert.deepEqual(await indices({ since: at(8), until: at(25) }), [1, 0]);
      assert.deepEqual(await indices({ since: at(6) }), [3, 1, 0], "the late entry is not after `since`");
      assert.deepEqual(await indices({ since: at(4), until: at(6) }), [2]);
      assert.deepEqual(await indices({ since: at(31) }), []);
      assert.deepEqual(await indices({ until: at(5) }), []);
      assert.deepEqual(await indices({ kinds: ["draft.rejected"], since: at(20), until: at(30) }), [1]);
      assert.deepEqual((await trail.list({ until: at(15) }, { limit: 10 })).items.map((i) => decisionOf(i.summary)), [{ draftId: "d5", by: "x" }, { draftId: "d10", by: "x" }]);
    } finally {
      await sequencer.close();
      await db.dropDatabase();
    }
  });
});

function decisionOf(summary: { case: string | undefined; value?: unknown }): unknown {
  return summary.case === "decision" ? summary.value : undefined;
}
