/**
 * Protected parties (informants, victims) through the local API, on two real nodes: a
 * human-trafficking notice sent from VN-MPS to KH-MOI; at the receiver an analyst reads the
 * victims with ReadProtectedFields (a `protected.read` ledger entry — officer, notice, fields,
 * purpose — is appended first, naming nobody); every other role is refused and the refusal is
 * recorded too; a ledger that cannot append means nothing is shown; every ordinary read
 * (messages, search, drafts once decided) shows placeholders; no log line names a victim.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import winston from "winston";
import { GrpcStatus, LiaisonError } from "../../services/errors/index.ts";
import { rootLogger } from "../../services/logging/index.ts";
import { readEntry } from "../../services/ledger/index.ts";
import { draft } from "../../services/cli/samples.ts";
import {
  Direction,
  DraftSchema,
  DraftState,
  ListDraftsResponseSchema,
  ListMessagesResponseSchema,
  LocalApi,
  MessageRecordSchema,
  ProtectedField,
  SearchNoticesResponseSchema,
} from "../../gen/liaison/v1/local_pb.ts";
import type { Message, MessageSchema } from "../../gen/liaison/v1/message_pb.ts";

type Body = MessageInitShape<typeof MessageSchema>["body"];
import { startCluster, type Cluster } from "../support/cluster.ts";
import { attachLocalApi, ledgerJson, officer, refused, type LocalApiHarness } from "./support.ts";

const VN = "VN-MPS";
const KH = "KH-MOI";
const VICTIMS = ["Đặng Thị Hồng Nhung", "Vũ Minh Khôi"];
const INFORMANT = "Hoàng Văn Tố";
const INFORMANT_PHONE = "+84 987 654 321";
const SECRETS = [...VICTIMS, INFORMANT, INFORMANT_PHONE, "Nhung", "Khôi", "987 654 321", "Lưu Thị Bích"];
const PURPOSE = "victim identification for repatriation, case KH-MOI/THB/2026/0042";

const trafficking = (reference: string, extraVictim?: string): Body => ({
  case: "humanTrafficking",
  value: {
    summary: {
      reference,
      title: [{ lang: "en", text: "Recruits lured to a fraud compound by fake job offers" }],
      informants: [{ names: [{ fullName: INFORMANT, script: "Latn", lang: "vi" }], contact: INFORMANT_PHONE }],
    },
    victims: [...VICTIMS, ...(extraVictim ? [extraVictim] : [])].map((fullName) => ({ names: [{ fullName, script: "Latn", lang: "vi" }], nationality: "VNM" })),
    victimCount: extraVictim ? 3 : 2,
    recruitmentMethod: "fake job offer on a social network: easy work, high pay",
  },
});

let cluster: Cluster;
let vn: LocalApiHarness;
let kh: LocalApiHarness;
const t = {} as Record<"vnDrafter" | "vnDrafter2" | "vnApprover" | "vnAuditor" | "vnAnalyst" | "drafter" | "approver" | "analyst" | "auditor" | "admin", string>;
let analystId = "";
let drafterId = "";
let noticeId = "";
let pendingDraftId = "";

const captured: string[] = [];
const sink = new PassThrough();
sink.on("data", (chunk: Buffer) => captured.push(chunk.toString()));
const transport = new winston.transports.Stream({ stream: sink, level: "silly" });
const levelBefore = rootLogger.level;
const consoles = rootLogger.transports.map((tr) => [tr, tr.silent] as const);

const found = (text: string) => SECRETS.filter((s) => text.includes(s));
const read = (token: string, request: { messageId: string; purpose?: string; fields?: ProtectedField[] }) =>
  kh.client.call(LocalApi.method.readProtectedFields, { purpose: PURPOSE, ...request }, token);

async function send(h: LocalApiHarness, drafter: string, approver: string, message: Message): Promise<string> {
  const created = await h.client.call(LocalApi.method.createDraft, { message }, drafter);
  return (await h.client.call(LocalApi.method.approveDraft, { draftId: created.draftId }, approver)).messageId;
}

before(async () => {
  for (const [tr] of consoles) tr.silent = true;
  rootLogger.level = "silly";
  rootLogger.add(transport);
  cluster = await startCluster([VN, KH]);
  vn = await attachLocalApi(cluster.node(VN));
  kh = await attachLocalApi(cluster.node(KH));
  t.vnDrafter = (await officer(vn, "drafter.vn", ["drafter"])).accessToken;
  t.vnDrafter2 = (await officer(vn, "drafter2.vn", ["drafter"])).accessToken;
  t.vnApprover = (await officer(vn, "approver.vn", ["approver"])).accessToken;
  t.vnAuditor = (await officer(vn, "auditor.vn", ["auditor"])).accessToken;
  t.vnAnalyst = (await officer(vn, "analyst.vn", ["analyst"])).accessToken;
  const analyst = await officer(kh, "analyst.kh", ["analyst"]);
  t.analyst = analyst.accessToken;
  analystId = analyst.officer!.officerId;
  const drafter = await officer(kh, "drafter.kh", ["drafter"]);
  t.drafter = drafter.accessToken;
  drafterId = drafter.officer!.officerId;
  t.approver = (await officer(kh, "approver.kh", ["approver"])).accessToken;
  t.auditor = (await officer(kh, "auditor.kh", ["auditor"])).accessToken;
  t.admin = await kh.adminToken();
  noticeId = await send(vn, t.vnDrafter, t.vnApprover, draft([KH], trafficking("VN-MPS/THB/2026/0042")));
  pendingDraftId = (await vn.client.call(LocalApi.method.createDraft, { message: draft([KH], trafficking("VN-MPS/THB/2026/0043")) }, t.vnDrafter)).draftId;
  await cluster.node(VN).outbox.drained(60_000);
});

after(async () => {
  await vn?.close();
  await kh?.close();
  await cluster?.close();
  rootLogger.remove(transport);
  rootLogger.level = levelBefore;
  for (const [tr, silent] of consoles) tr.silent = silent;
});

describe("ReadProtectedFields at the receiver", () => {
  it("shows an analyst the victims, after a protected.read ledger entry naming officer, notice, fields and purpose — and no victim", async () => {
    const before = (await ledgerJson(kh.node, "protected.read")).length;
    const result = await read(t.analyst, { messageId: noticeId, fields: [ProtectedField.VICTIMS] });
    assert.deepEqual(result.victims.map((v) => v.names[0]!.fullName), VICTIMS);
    assert.equal(result.victims[0]!.nationality, "VNM");
    assert.deepEqual(result.informants, [], "informants were not asked for");
    assert.deepEqual(result.fields, [ProtectedField.VICTIMS]);
    assert.equal(result.noticeId, noticeId);
    assert.equal(result.sourceMessageId, noticeId);

    const entries = await ledgerJson(kh.node, "protected.read");
    assert.equal(entries.length, before + 1);
    const entry = entries.at(-1)!;
    assert.equal(entry.kind, "protected.read");
    assert.equal(entry.officerId, analystId);
    assert.deepEqual(entry.roles, ["analyst"]);
    assert.equal(entry.noticeId, noticeId);
    assert.equal(entry.messageId, noticeId);
    assert.deepEqual(entry.fields, ["victims"]);
    assert.equal(entry.purpose, PURPOSE);
    assert.equal(entry.granted, true);
    assert.equal(entry.victims, 2);
    assert.equal(entry.informants, 0);
    assert.equal(entry.party, KH);
    assert.ok(!Number.isNaN(Date.parse(String(entry.at))));

    const stored = await readEntry(kh.node.db, Number(result.auditLedgerIndex));
    assert.equal(stored?.kind, "protected.read", "audit_ledger_index names the entry");
    assert.deepEqual(found(Buffer.from(stored!.bytes).toString("utf8")), [], "the entry names no victim");
  });

  it("reads every field when none is named, the informant's contact included", async () => {
    const result = await read(t.analyst, { messageId: noticeId });
    assert.deepEqual(result.fields, [ProtectedField.INFORMANTS, ProtectedField.VICTIMS]);
    assert.equal(result.informants[0]!.names[0]!.fullName, INFORMANT);
    assert.equal(result.informants[0]!.contact, INFORMANT_PHONE);
    assert.equal(result.victims.length, 2);
    const entry = (await ledgerJson(kh.node, "protected.read")).at(-1)!;
    assert.deepEqual(entry.fields, ["informants", "victims"]);
    assert.equal(entry.informants, 1);
  });

  for (const role of ["drafter", "approver", "auditor", "admin"] as const) {
    it(`refuses a ${role} (PERMISSION_DENIED) and records the refused attempt`, async () => {
      const before = (await ledgerJson(kh.node, "protected.read")).length;
      await refused(read(t[role], { messageId: noticeId }), GrpcStatus.PERMISSION_DENIED, "FORBIDDEN", "ReadProtectedFields requires the role analyst");
      const entries = await ledgerJson(kh.node, "protected.read");
      assert.equal(entries.length, before + 1);
      const entry = entries.at(-1)!;
      assert.equal(entry.granted, false);
      assert.equal(entry.refusal, "role");
      assert.equal(entry.messageId, noticeId);
      assert.deepEqual(entry.roles, [role]);
      assert.equal(entry.noticeId, undefined, "a refused role is not told whether the notice exists");
      assert.equal(entry.purpose, undefined);
      assert.equal(entry.victims, 0);
    });
  }

  it("refuses a drafter even for an unknown id with PERMISSION_DENIED, not NOT_FOUND", async () => {
    await refused(read(t.drafter, { messageId: "00000000-0000-4000-8000-000000000000" }), GrpcStatus.PERMISSION_DENIED);
    const entry = (await ledgerJson(kh.node, "protected.read")).at(-1)!;
    assert.equal(entry.officerId, drafterId);
  });

  it("answers NOT_FOUND for an unknown notice, and INVALID_ARGUMENT for a missing or malformed purpose, id or field — none recorded", async () => {
    const before = (await ledgerJson(kh.node, "protected.read")).length;
    await refused(read(t.analyst, { messageId: "00000000-0000-4000-8000-000000000000" }), GrpcStatus.NOT_FOUND, "NOT_FOUND");
    const received = await kh.client.call(LocalApi.method.listMessages, { direction: Direction.RECEIVED }, t.analyst);
    assert.ok(received.messages.length > 0);
    const cases: Array<[string, Parameters<typeof read>[1]]> = [
      ["purpose", { messageId: noticeId, purpose: "" }],
      ["purpose", { messageId: noticeId, purpose: "   " }],
      ["purpose", { messageId: noticeId, purpose: "x".repeat(501) }],
      ["purpose", { messageId: noticeId, purpose: "line one\nline two" }],
      ["message_id", { messageId: "" }],
      ["message_id", { messageId: "NOT-A-UUID" }],
      ["message_id", { messageId: '{"$gt":""}' }],
      ["fields[0]", { messageId: noticeId, fields: [ProtectedField.UNSPECIFIED] }],
      ["fields[1]", { messageId: noticeId, fields: [ProtectedField.VICTIMS, ProtectedField.VICTIMS] }],
      ["fields[0]", { messageId: noticeId, fields: [7 as ProtectedField] }],
    ];
    for (const [field, request] of cases) {
      await refused(read(t.analyst, request), GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", field);
    }
    assert.equal((await ledgerJson(kh.node, "protected.read")).length, before, "nothing decided, nothing recorded");
  });

  it("refuses a purpose that quotes a victim's name or the informant's phone, records the attempt without the purpose", async () => {
    for (const purpose of ["to confirm the identity of dang thi hong nhung", "call back 0987654321"]) {
      const error = await refused(read(t.analyst, { messageId: noticeId, purpose }), GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", "must not quote");
      assert.deepEqual(found(error.message), []);
      const entry = (await ledgerJson(kh.node, "protected.read")).at(-1)!;
      assert.equal(entry.refusal, "purpose");
      assert.equal(entry.purpose, undefined, "the quoting purpose is not recorded");
      assert.equal(entry.noticeId, noticeId);
    }
  });

  it("shows nothing when the ledger cannot record the read", async () => {
    const ledger = kh.node.ledger;
    const append = ledger.append;
    const before = (await ledgerJson(kh.node, "protected.read")).length;
    ledger.append = async (kind, content) => {
      if (kind === "protected.read") throw new LiaisonError("UNAVAILABLE", "the ledger sequencer is not reachable");
      return append.call(ledger, kind, content);
    };
    try {
      const error = await refused(read(t.analyst, { messageId: noticeId }), GrpcStatus.UNAVAILABLE);
      assert.deepEqual(found(error.message), []);
    } finally {
      ledger.append = append;
    }
    assert.equal((await ledgerJson(kh.node, "protected.read")).length, before);
  });

  it("reads a notice update's version by its id, and the notice's id gives the current version", async () => {
    const updateBody: Body = {
      case: "noticeUpdate",
      value: { notice: trafficking("VN-MPS/THB/2026/0042", "Lưu Thị Bích") as never, changeNote: [{ lang: "en", text: "a third victim identified" }] },
    };
    const updateId = await send(vn, t.vnDrafter, t.vnApprover, draft([KH], updateBody, noticeId));
    await cluster.node(VN).outbox.drained(60_000);
    const current = await read(t.analyst, { messageId: noticeId, fields: [ProtectedField.VICTIMS] });
    assert.equal(current.victims.length, 3);
    assert.equal(current.sourceMessageId, updateId);
    const version = await read(t.analyst, { messageId: updateId, fields: [ProtectedField.VICTIMS] });
    assert.equal(version.noticeId, noticeId);
    assert.equal(version.victims[2]!.names[0]!.fullName, "Lưu Thị Bích");
    const entry = (await ledgerJson(kh.node, "protected.read")).at(-1)!;
    assert.equal(entry.messageId, updateId);
    assert.equal(entry.noticeId, noticeId);
    assert.equal(entry.sourceMessageId, updateId);
  });

  it("lets the sender's analyst read what its party sent, recorded in the sender's ledger", async () => {
    const result = await vn.client.call(LocalApi.method.readProtectedFields, { messageId: noticeId, purpose: PURPOSE, fields: [ProtectedField.INFORMANTS] }, t.vnAnalyst);
    assert.equal(result.informants[0]!.names[0]!.fullName, INFORMANT);
    assert.equal((await ledgerJson(vn.node, "protected.read")).at(-1)!.noticeId, noticeId);
  });
});

describe("every ordinary read shows protected parties as placeholders", () => {
  it("ListMessages, GetMessage and SearchNotices at the receiver, for every role that reads messages", async () => {
    for (const role of ["drafter", "approver", "analyst", "auditor"] as const) {
      const page = await kh.client.call(LocalApi.method.listMessages, { direction: Direction.RECEIVED }, t[role]);
      assert.deepEqual(found(toJsonString(ListMessagesResponseSchema, page)), [], `${role}: ListMessages`);
      const one = await kh.client.call(LocalApi.method.getMessage, { messageId: noticeId }, t[role]);
      const body = one.message!.body;
      assert.equal(body.case, "humanTrafficking");
      if (body.case === "humanTrafficking") {
        assert.equal(body.value.victims.length, 2, "the count stays visible");
        assert.equal(body.value.victims[0]!.notes, "[protected]");
      }
      assert.equal(one.envelope.byteLength, 0, "the signed bytes, which carry the victims, are withheld");
      assert.deepEqual(found(toJsonString(MessageRecordSchema, one)), [], `${role}: GetMessage`);
      for (const text of [VICTIMS[0]!, "Hong Nhung", INFORMANT_PHONE]) {
        const hits = await kh.client.call(LocalApi.method.searchNotices, { text }, t[role]);
        assert.deepEqual(hits.notices, [], `${role}: a search by "${text}" finds nothing`);
        assert.deepEqual(found(toJsonString(SearchNoticesResponseSchema, hits)), []);
      }
    }
  });

  it("GetMessage at the sender, and drafts once approved, for every role that reads them", async () => {
    for (const token of [t.vnDrafter, t.vnApprover, t.vnAuditor, t.vnAnalyst]) {
      const sent = await vn.client.call(LocalApi.method.getMessage, { messageId: noticeId }, token);
      assert.deepEqual(found(toJsonString(MessageRecordSchema, sent)), []);
    }
    for (const token of [t.vnDrafter, t.vnApprover, t.vnAuditor]) {
      const page = await vn.client.call(LocalApi.method.listDrafts, { state: DraftState.APPROVED }, token);
      assert.ok(page.drafts.length >= 1);
      assert.deepEqual(found(toJsonString(ListDraftsResponseSchema, page)), [], "approved drafts show placeholders");
    }
  });

  it("a draft awaiting approval is shown in full to its drafter and to approvers only", async () => {
    const asDrafter = await vn.client.call(LocalApi.method.getDraft, { draftId: pendingDraftId }, t.vnDrafter);
    assert.ok(found(toJsonString(DraftSchema, asDrafter)).includes(VICTIMS[0]!), "its drafter sees what they wrote");
    const asApprover = await vn.client.call(LocalApi.method.listDrafts, { state: DraftState.AWAITING_APPROVAL }, t.vnApprover);
    assert.ok(found(toJsonString(ListDraftsResponseSchema, asApprover)).includes(VICTIMS[0]!), "the approver reviews what would leave");
    for (const token of [t.vnDrafter2, t.vnAuditor]) {
      const other = await vn.client.call(LocalApi.method.getDraft, { draftId: pendingDraftId }, token);
      assert.deepEqual(found(toJsonString(DraftSchema, other)), [], "another drafter or an auditor sees placeholders");
    }
    const rejected = await vn.client.call(LocalApi.method.rejectDraft, { draftId: pendingDraftId, reason: "reference already used" }, t.vnApprover);
    assert.deepEqual(found(toJsonString(DraftSchema, rejected)), [], "a decided draft shows placeholders");
  });
});

describe("logs", () => {
  it("name no victim, informant, phone or purpose, at any level", async () => {
    await new Promise((r) => setTimeout(r, 50));
    const logs = captured.join("");
    assert.ok(logs.includes("protected fields shown"), "the reads were logged (by ids)");
    assert.deepEqual(found(logs), []);
    assert.ok(!logs.includes(PURPOSE), "the purpose stays in the ledger");
  });
});
