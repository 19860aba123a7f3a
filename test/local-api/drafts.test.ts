/**
 * Drafting, the two-person rule, and what leaves the node: an approved draft is signed with both
 * officers named inside the payload, delivered by the outbox, and listed by the partner's local
 * API as received. Three real nodes; VN's local API is the one the node starts from its config.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import winston from "winston";
import { GrpcStatus } from "../../services/errors/index.ts";
import { rootLogger } from "../../services/logging/index.ts";
import { startNode } from "../../services/node/index.ts";
import { startLocalApi } from "../../services/node/local-api.ts";
import { DraftStore } from "../../services/officers/index.ts";
import { drugCaseNotice } from "../../services/cli/samples.ts";
import { DeliveryStatus, Direction, DraftState, LocalApi, Role } from "../../gen/liaison/v1/local_pb.ts";
import { HeaderSchema, MessageSchema } from "../../gen/liaison/v1/message_pb.ts";
import { SignedEnvelopeSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import { nodeConfig, startCluster, type Cluster } from "../support/cluster.ts";
import { ADMIN, attachLocalApi, draftMessage, ledgerJson, officer, PASSWORD, refused, type LocalApiHarness } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const KH = "KH-MOI";

let cluster: Cluster;
let vn: LocalApiHarness;
let cn: LocalApiHarness;
let drafter: { token: string; id: string };
let approver: { token: string; id: string };
let approver2: { token: string; id: string };
let both: { token: string; id: string };
let cnAnalyst: string;

const session = async (h: LocalApiHarness, username: string, roles: Parameters<typeof officer>[2]) => {
  const login = await officer(h, username, roles);
  return { token: login.accessToken, id: login.officer!.officerId };
};

before(async () => {
  cluster = await startCluster([VN, CN, KH]);
  // VN runs with `local` in its configuration: the node starts the local API itself.
  const old = cluster.node(VN);
  const port = old.peerPort;
  await old.close();
  const restarted = await startNode(nodeConfig(cluster.folders.get(VN)!, { peer: { host: "127.0.0.1", port }, local: { host: "127.0.0.1", port: 0 } }));
  cluster.nodes.set(VN, restarted);
  assert.ok(restarted.localApi, "the node started its local API");
  vn = await attachLocalApi(restarted, restarted.localApi);
  cn = await attachLocalApi(cluster.node(CN));
  drafter = await session(vn, "nguyen.drafter", ["drafter"]);
  approver = await session(vn, "tran.approver", ["approver"]);
  approver2 = await session(vn, "le.approver", ["approver"]);
  both = await session(vn, "pham.both", ["drafter", "approver"]);
  cnAnalyst = (await officer(cn, "wang.analyst", ["analyst"])).accessToken;
});
after(async () => {
  await vn?.close();
  await cn?.close();
  await cluster?.close();
});

const createDraft = (token: string, recipients = [CN], title?: string) =>
  vn.client.call(LocalApi.method.createDraft, { message: draftMessage(recipients, title) }, token);

function signedMessage(envelope: Uint8Array) {
  return fromBinary(MessageSchema, fromBinary(SignedEnvelopeSchema, envelope).message);
}

describe("the two-person rule", () => {
  it("refuses the drafter's own approval, even when they hold the approver role", async () => {
    const draft = await createDraft(both.token);
    await refused(vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, both.token), GrpcStatus.PERMISSION_DENIED, "TWO_PERSON_RULE");
    const after = await vn.client.call(LocalApi.method.getDraft, { draftId: draft.draftId }, both.token);
    assert.equal(after.state, DraftState.AWAITING_APPROVAL);
    assert.equal(after.messageId, "");
    // Another approver may.
    const sent = await vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, approver.token);
    assert.equal(signedMessage(sent.envelope).header?.draftedBy?.officerId, both.id);
  });

  it("sends a draft once when it is approved concurrently by several approvers", async () => {
    const draft = await createDraft(drafter.token, [CN], "approved concurrently");
    const sentBefore = await vn.node.sender.sent.countDocuments({});
    const results = await Promise.allSettled([
      vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, approver.token),
      vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, approver2.token),
      vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, approver.token),
      vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, both.token),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1, "exactly one approval wins");
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as { code: string }).code, "BUSINESS_RULE");
    }
    assert.equal((await vn.node.sender.sent.countDocuments({})) - sentBefore, 1, "one envelope sealed");
    const approvals = (await ledgerJson(vn.node, "draft.approved")).filter((e) => e.draftId === draft.draftId);
    assert.equal(approvals.length, 1, "one approval in the ledger");
    await vn.node.outbox.drained();
    const messageId = (won[0] as PromiseFulfilledResult<{ messageId: string }>).value.messageId;
    assert.equal(await cluster.node(CN).db.collection("envelopes_received").countDocuments({ _id: messageId as never }), 1);
  });

  it("refuses to approve a rejected draft, and to reject an approved one", async () => {
    const draft = await createDraft(drafter.token);
    await refused(vn.client.call(LocalApi.method.rejectDraft, { draftId: draft.draftId, reason: "  " }, approver.token), GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", "reason");
    const rejected = await vn.client.call(LocalApi.method.rejectDraft, { draftId: draft.draftId, reason: "the warrant reference is missing" }, approver.token);
    assert.equal(rejected.state, DraftState.REJECTED);
    assert.equal(rejected.rejectionReason, "the warrant reference is missing");
    assert.equal(rejected.decidedBy?.officerId, approver.id);
    await refused(vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, approver2.token), GrpcStatus.FAILED_PRECONDITION, "BUSINESS_RULE", "rejected");
    const other = await createDraft(drafter.token);
    await vn.client.call(LocalApi.method.approveDraft, { draftId: other.draftId }, approver.token);
    await refused(vn.client.call(LocalApi.method.rejectDraft, { draftId: other.draftId, reason: "too late" }, approver2.token), GrpcStatus.FAILED_PRECONDITION, "BUSINESS_RULE", "approved");
  });
});

describe("an approved draft", () => {
  it("arrives at the partner signed, naming the drafting and the approving officer", async () => {
    const draft = await createDraft(drafter.token, [CN, KH], "Wanted: Nguyễn Văn A");
    assert.equal(draft.state, DraftState.AWAITING_APPROVAL);
    assert.equal(draft.draftedBy?.officerId, drafter.id);
    const queue = await vn.client.call(LocalApi.method.listDrafts, { state: DraftState.AWAITING_APPROVAL }, approver.token);
    assert.ok(queue.drafts.some((d) => d.draftId === draft.draftId), "in the approval queue");

    const sent = await vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, approver.token);
    assert.equal(sent.direction, Direction.SENT);
    assert.deepEqual(sent.deliveries.map((d) => d.party).sort(), [CN, KH]);
    const header = signedMessage(sent.envelope).header!;
    assert.equal(header.senderParty, VN);
    assert.equal(header.messageId, sent.messageId);
    assert.deepEqual([header.draftedBy?.officerId, header.draftedBy?.displayName, header.draftedBy?.role], [drafter.id, "Officer nguyen.drafter", "drafter"]);
    assert.deepEqual([header.approvedBy?.officerId, header.approvedBy?.displayName, header.approvedBy?.role], [approver.id, "Officer tran.approver", "approver"]);
    assert.ok(header.createdAt);

    const approved = await vn.client.call(LocalApi.method.getDraft, { draftId: draft.draftId }, drafter.token);
    assert.equal(approved.state, DraftState.APPROVED);
    assert.equal(approved.messageId, sent.messageId);
    assert.equal(approved.message?.header?.messageId, sent.messageId, "the draft shows the message as signed");
    const [entry] = (await ledgerJson(vn.node, "draft.approved")).filter((e) => e.draftId === draft.draftId);
    assert.deepEqual([entry?.messageId, entry?.approver], [sent.messageId, approver.id]);

    await vn.node.outbox.drained();
    const inbox = await cn.client.call(LocalApi.method.listMessages, { direction: Direction.RECEIVED, partner: VN }, cnAnalyst);
    const received = inbox.messages.find((m) => m.messageId === sent.messageId);
    assert.ok(received, "CN lists it as received");
    assert.equal(received.direction, Direction.RECEIVED);
    assert.deepEqual(Buffer.from(received.envelope), Buffer.from(sent.envelope), "the same envelope bytes on both sides");
    const cnHeader = signedMessage(received.envelope).header!;
    assert.equal(cnHeader.draftedBy?.officerId, drafter.id);
    assert.equal(cnHeader.approvedBy?.officerId, approver.id);
    assert.equal(received.message?.body.case, "wantedPerson");

    const record = await vn.client.call(LocalApi.method.getMessage, { messageId: sent.messageId }, approver.token);
    for (const d of record.deliveries) {
      assert.equal(d.status, DeliveryStatus.RECEIPTED, `${d.party} receipted`);
      assert.ok(d.receiptedAt);
    }
    const partners = await vn.client.call(LocalApi.method.listPartners, {}, drafter.token);
    const cnStatus = partners.partners.find((p) => p.party === CN)!;
    assert.equal(cnStatus.outboxDepth, 0);
    assert.ok(cnStatus.lastContact, "last contact is known");
    assert.match(cnStatus.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(cnStatus.displayNames["zh-Hans"], "中华人民共和国公安部");
    assert.equal(cnStatus.endpoint, cluster.node(CN).peerAddress);
  });

  it("is submitted at start when the node stopped between approval and sending", async () => {
    const draft = await createDraft(drafter.token, [CN], "approved before a crash");
    const store = new DraftStore(vn.node.db);
    const messageId = crypto.randomUUID();
    await store.claimApproval(draft.draftId, { officerId: approver.id, username: "tran.approver", displayName: "Officer tran.approver", role: "approver" }, messageId, new Date());
    assert.equal(await vn.node.sender.sent.countDocuments({ _id: messageId }), 0);
    const second = await startLocalApi(vn.node, { host: "127.0.0.1", port: 0 });
    await second.close();
    assert.equal(await vn.node.sender.sent.countDocuments({ _id: messageId }), 1, "sealed and queued at start");
    await vn.node.outbox.drained();
    assert.equal(await cluster.node(CN).db.collection("envelopes_received").countDocuments({ _id: messageId as never }), 1);
  });
});

describe("listing messages", () => {
  const ids: string[] = [];
  before(async () => {
    for (let i = 0; i < 5; i++) {
      const draft = await createDraft(drafter.token, [KH], `listed ${i}`);
      ids.push((await vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, approver.token)).messageId);
    }
    const drug = drugCaseNotice({ sender: VN, recipients: [KH] });
    const partial = create(MessageSchema, { header: create(HeaderSchema, { recipientParties: [KH] }), body: drug.body });
    const draft = await vn.client.call(LocalApi.method.createDraft, { message: partial }, drafter.token);
    ids.push((await vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, approver.token)).messageId);
    await vn.node.outbox.drained();
  });

  it("pages through both directions newest first, each message once", async () => {
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await vn.client.call(LocalApi.method.listMessages, { pageSize: 3, pageToken }, approver.token);
      assert.ok(page.messages.length <= 3);
      seen.push(...page.messages.map((m) => m.messageId));
      const times = page.messages.map((m) => Number(m.recordedAt!.seconds) * 1000 + m.recordedAt!.nanos / 1e6);
      assert.deepEqual(times, [...times].sort((a, b) => b - a), "newest first");
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== "" && pages < 100);
    assert.equal(new Set(seen).size, seen.length, "no message twice");
    const total = (await vn.node.sender.sent.countDocuments({})) + (await vn.node.db.collection("envelopes_received").countDocuments({ state: "recorded" }));
    assert.equal(seen.length, total, "every message once");
    for (const id of ids) assert.ok(seen.includes(id));
  });

  it("filters by partner, body kind, delivery status and date range", async () => {
    const toKh = await vn.client.call(LocalApi.method.listMessages, { partner: KH, direction: Direction.SENT, pageSize: 500 }, approver.token);
    assert.ok(toKh.messages.every((m) => m.deliveries.some((d) => d.party === KH)));
    for (const id of ids) assert.ok(toKh.messages.some((m) => m.messageId === id));
    const drugs = await vn.client.call(LocalApi.method.listMessages, { bodyKind: "drug_case" }, approver.token);
    assert.deepEqual(drugs.messages.map((m) => m.messageId), [ids[5]]);
    const receipted = await vn.client.call(LocalApi.method.listMessages, { deliveryStatus: DeliveryStatus.RECEIPTED, partner: KH, pageSize: 500 }, approver.token);
    assert.ok(receipted.messages.length >= ids.length);
    const pending = await vn.client.call(LocalApi.method.listMessages, { deliveryStatus: DeliveryStatus.PENDING }, approver.token);
    assert.equal(pending.messages.length, 0);
    const future = await vn.client.call(LocalApi.method.listMessages, { since: timestampFromDate(new Date(Date.now() + 3600_000)) }, approver.token);
    assert.equal(future.messages.length, 0);
    const window = await vn.client.call(
      LocalApi.method.listMessages,
      { since: timestampFromDate(new Date(Date.now() - 3600_000)), until: timestampFromDate(new Date(Date.now() + 1000)), partner: KH },
      approver.token,
    );
    for (const id of ids) assert.ok(window.messages.some((m) => m.messageId === id));
    const fromKh = await cn.client.call(LocalApi.method.listMessages, { direction: Direction.RECEIVED, partner: KH }, cnAnalyst);
    assert.equal(fromKh.messages.length, 0);
  });

  it("refuses a page token used with other filters", async () => {
    const page = await vn.client.call(LocalApi.method.listMessages, { pageSize: 1 }, approver.token);
    assert.notEqual(page.nextPageToken, "");
    await refused(
      vn.client.call(LocalApi.method.listMessages, { pageSize: 1, pageToken: page.nextPageToken, partner: KH }, approver.token),
      GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", "page_token",
    );
  });
});

describe("invalid input", () => {
  const cases: Array<{ what: string; field: string; call: () => Promise<unknown> }> = [
    { what: "a draft without a message", field: "message", call: () => vn.client.call(LocalApi.method.createDraft, {}, drafter.token) },
    {
      what: "a draft without a body",
      field: "message.body",
      call: () => vn.client.call(LocalApi.method.createDraft, { message: { header: { recipientParties: [CN] } } }, drafter.token),
    },
    {
      what: "a draft to a party that is not a partner",
      field: "recipient_parties",
      call: () => vn.client.call(LocalApi.method.createDraft, { message: draftMessage(["TH-RTP"]) }, drafter.token),
    },
    {
      what: "a draft to this node itself",
      field: "recipient_parties",
      call: () => vn.client.call(LocalApi.method.createDraft, { message: draftMessage([VN]) }, drafter.token),
    },
    {
      what: "a draft with no recipient",
      field: "recipient_parties",
      call: () => vn.client.call(LocalApi.method.createDraft, { message: draftMessage([]) }, drafter.token),
    },
    {
      what: "a draft that sets the message id",
      field: "message_id",
      call: () => {
        const m = draftMessage([CN]);
        m.header!.messageId = crypto.randomUUID();
        return vn.client.call(LocalApi.method.createDraft, { message: m }, drafter.token);
      },
    },
    {
      what: "a draft that names its approver",
      field: "approved_by",
      call: () => {
        const m = draftMessage([CN]);
        m.header!.approvedBy = { $typeName: "liaison.v1.Officer", officerId: approver.id, displayName: "x", role: "approver" };
        return vn.client.call(LocalApi.method.createDraft, { message: m }, drafter.token);
      },
    },
    {
      what: "an unknown classification",
      field: "classification",
      call: () => {
        const m = draftMessage([CN]);
        m.header!.classification = 99 as never;
        return vn.client.call(LocalApi.method.createDraft, { message: m }, drafter.token);
      },
    },
    {
      what: "a bad handling code",
      field: "handling_codes",
      call: () => {
        const m = draftMessage([CN]);
        m.header!.handlingCodes = ["no spaces"];
        return vn.client.call(LocalApi.method.createDraft, { message: m }, drafter.token);
      },
    },
    {
      what: "a reply_to that is not a message id",
      field: "reply_to",
      call: () => {
        const m = draftMessage([CN]);
        m.header!.replyTo = "42";
        return vn.client.call(LocalApi.method.createDraft, { message: m }, drafter.token);
      },
    },
    { what: "an empty draft id", field: "draft_id", call: () => vn.client.call(LocalApi.method.getDraft, { draftId: "" }, drafter.token) },
    { what: "a draft id that is not a UUID", field: "draft_id", call: () => vn.client.call(LocalApi.method.approveDraft, { draftId: "../../etc" }, approver.token) },
    { what: "an unknown draft state", field: "state", call: () => vn.client.call(LocalApi.method.listDrafts, { state: 9 as DraftState }, drafter.token) },
    { what: "a page size over 500", field: "page_size", call: () => vn.client.call(LocalApi.method.listDrafts, { pageSize: 501 }, drafter.token) },
    { what: "a message id that is not a UUID", field: "message_id", call: () => vn.client.call(LocalApi.method.getMessage, { messageId: "x" }, drafter.token) },
    { what: "an unknown body kind", field: "body_kind", call: () => vn.client.call(LocalApi.method.listMessages, { bodyKind: "$where" }, drafter.token) },
    { what: "an unknown direction", field: "direction", call: () => vn.client.call(LocalApi.method.listMessages, { direction: 7 as Direction }, drafter.token) },
    { what: "an unknown delivery status", field: "delivery_status", call: () => vn.client.call(LocalApi.method.listMessages, { deliveryStatus: 12 as DeliveryStatus }, drafter.token) },
    { what: "a partner that is not a party id", field: "partner", call: () => vn.client.call(LocalApi.method.listMessages, { partner: "CN-MPS.status" }, drafter.token) },
    { what: "a garbled page token", field: "page_token", call: () => vn.client.call(LocalApi.method.listMessages, { pageToken: "!!!" }, drafter.token) },
    {
      what: "since after until",
      field: "since",
      call: () => vn.client.call(LocalApi.method.listMessages, { since: timestampFromDate(new Date(2000)), until: timestampFromDate(new Date(1000)) }, drafter.token),
    },
    {
      what: "an unknown role",
      field: "roles",
      call: async () => vn.client.call(LocalApi.method.createOfficer, { username: "role.less", roles: [42 as Role], password: PASSWORD }, await vn.adminToken()),
    },
    {
      what: "an officer without roles",
      field: "roles",
      call: async () => vn.client.call(LocalApi.method.createOfficer, { username: "role.less", roles: [], password: PASSWORD }, await vn.adminToken()),
    },
    {
      what: "an officer id that is not a UUID",
      field: "officer_id",
      call: async () => vn.client.call(LocalApi.method.setOfficerDisabled, { officerId: "admin", disabled: true }, await vn.adminToken()),
    },
    { what: "a login without a password", field: "password", call: () => vn.client.call(LocalApi.method.login, { username: "admin" }) },
    { what: "a refresh without a token", field: "refresh_token", call: () => vn.client.call(LocalApi.method.refreshToken, {}) },
  ];
  for (const c of cases) {
    it(`refuses ${c.what} with INVALID_ARGUMENT naming ${c.field}`, async () => {
      await refused(c.call(), GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", c.field);
    });
  }

  it("refuses request bytes that are not the method's message", async () => {
    // A Message sent to GetDraft: field 1 (header) is a submessage where draft_id is a string;
    // either the decode fails or draft_id is not a UUID: INVALID_ARGUMENT or ENVELOPE_MALFORMED.
    const error = await refused(
      vn.client.call({ ...LocalApi.method.getDraft, input: MessageSchema } as never, { header: { recipientParties: ["\u0000"] } } as never, drafter.token),
      GrpcStatus.INVALID_ARGUMENT,
    );
    assert.ok(["INVALID_ARGUMENT", "ENVELOPE_MALFORMED"].includes(error.code));
  });
});

describe("logs", () => {
  it("never contain a password or a token", async () => {
    const lines: string[] = [];
    const sink = new winston.transports.Stream({
      stream: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
      level: "debug",
    });
    const level = rootLogger.level;
    const consoles = rootLogger.transports.map((t) => [t, t.silent] as const);
    rootLogger.level = "debug";
    for (const [t] of consoles) t.silent = true;
    rootLogger.add(sink);
    const secret = "a password nobody may log 😶";
    try {
      const login = await officer(vn, "log.probe", ["drafter"], secret);
      for (let i = 0; i < 6; i++) await vn.client.call(LocalApi.method.login, { username: "log.probe", password: `${secret} ${i}` }).catch(() => undefined);
      await vn.client.call(LocalApi.method.login, { username: "no.such.user", password: secret }).catch(() => undefined);
      await vn.client.call(LocalApi.method.createOfficer, { username: "short.secret", roles: [Role.ANALYST], password: "tiny-secret" }, await vn.adminToken()).catch(() => undefined);
      await vn.client.call(LocalApi.method.changePassword, { currentPassword: secret, newPassword: "short" }, login.accessToken).catch(() => undefined);
      await vn.client.call(LocalApi.method.whoAmI, {}, `${login.accessToken}x`).catch(() => undefined);
      await vn.client.call(LocalApi.method.refreshToken, { refreshToken: `${login.refreshToken}` });
      await vn.client.call(LocalApi.method.refreshToken, { refreshToken: `${login.refreshToken}` }).catch(() => undefined);
      await vn.client.call(LocalApi.method.logout, { refreshToken: login.refreshToken }, login.accessToken).catch(() => undefined);
      await vn.client.call(LocalApi.method.login, ADMIN);
      const text = lines.join("\n");
      assert.ok(lines.length > 5, "the calls were logged");
      assert.ok(text.includes("officer account locked"), "the lockout was logged");
      for (const forbidden of [secret, "tiny-secret", ADMIN.password, login.refreshToken, login.accessToken.split(".")[2]!]) {
        assert.ok(!text.includes(forbidden), `logs must not contain ${forbidden.slice(0, 8)}…`);
      }
    } finally {
      rootLogger.remove(sink);
      rootLogger.level = level;
      for (const [t, silent] of consoles) t.silent = silent;
    }
  });
});
