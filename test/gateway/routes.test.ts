/**
 * Every route family with each role, through the gateway to a real node: what the node allows
 * passes, what it refuses comes back as 403 FORBIDDEN (401 without a session). The REST flow of a
 * notice: draft, the two-person rule, approval, delivery with a receipt, the partner's inbox,
 * the envelope download, sending back with a reason. And the OpenAPI document matches the routes.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { openApiPath } from "../../gateway/index.ts";
import { ADMIN, eventually, http, makeOfficer, openSite, ROLE_NAMES, signIn, wantedPersonDraft, type RoleName, type Site } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
let cluster: Cluster;
let vn: Site;
let cn: Site;
const tokens = {} as Record<RoleName, string>;

before(async () => {
  cluster = await startCluster([VN, CN]);
  vn = await openSite(cluster, VN);
  cn = await openSite(cluster, CN);
  tokens.admin = (await signIn(vn, ADMIN.username, ADMIN.password)).accessToken;
  for (const role of ROLE_NAMES) if (role !== "admin") tokens[role] = (await makeOfficer(vn, `only.${role}`, [role])).accessToken;
});
after(async () => {
  await vn?.close();
  await cn?.close();
  await cluster?.close();
});

interface Family {
  name: string;
  allowed: readonly RoleName[];
  /** One request of the family; `role` lets a family make fresh fixtures per call. */
  request(role: RoleName): Promise<{ method: string; path: string; body?: unknown }>;
  okStatus?: number;
}

let draftCounter = 0;
async function freshDraft(): Promise<string> {
  draftCounter++;
  const res = await http(vn, "POST", "/api/drafts", { token: tokens.drafter, body: { message: wantedPersonDraft([CN], undefined, `VN-MPS/ROLES/${draftCounter}`) } });
  assert.equal(res.status, 201, res.text);
  return res.json.draftId;
}

const FAMILIES: Family[] = [
  { name: "GET /api/session", allowed: ROLE_NAMES, request: async () => ({ method: "GET", path: "/api/session" }) },
  { name: "GET /api/partners", allowed: ROLE_NAMES, request: async () => ({ method: "GET", path: "/api/partners" }) },
  { name: "GET /api/officers", allowed: ["admin", "auditor"], request: async () => ({ method: "GET", path: "/api/officers" }) },
  {
    name: "POST /api/officers",
    allowed: ["admin"],
    okStatus: 201,
    request: async (role) => ({ method: "POST", path: "/api/officers", body: { username: `made.by.${role}`, displayName: "New officer", roles: ["analyst"], password: "a-long-enough-password" } }),
  },
  { name: "GET /api/drafts", allowed: ["drafter", "approver", "auditor"], request: async () => ({ method: "GET", path: "/api/drafts?state=awaiting_approval" }) },
  { name: "POST /api/drafts", allowed: ["drafter"], okStatus: 201, request: async () => ({ method: "POST", path: "/api/drafts", body: { message: wantedPersonDraft([CN]) } }) },
  { name: "GET /api/drafts/:id", allowed: ["drafter", "approver", "auditor"], request: async () => ({ method: "GET", path: `/api/drafts/${await freshDraft()}` }) },
  { name: "POST /api/drafts/:id/approve", allowed: ["approver"], request: async () => ({ method: "POST", path: `/api/drafts/${await freshDraft()}/approve` }) },
  { name: "POST /api/drafts/:id/reject", allowed: ["approver"], request: async () => ({ method: "POST", path: `/api/drafts/${await freshDraft()}/reject`, body: { reason: "Missing the warrant date" } }) },
  { name: "GET /api/messages", allowed: ["drafter", "approver", "analyst", "auditor"], request: async () => ({ method: "GET", path: "/api/messages?direction=sent&pageSize=5" }) },
  { name: "GET /api/search", allowed: ["drafter", "approver", "analyst", "auditor"], request: async () => ({ method: "GET", path: "/api/search?q=nguyen" }) },
  { name: "GET /api/minutes", allowed: ["approver", "analyst", "auditor"], request: async () => ({ method: "GET", path: "/api/minutes" }) },
  { name: "GET /api/ledger", allowed: ["auditor"], request: async () => ({ method: "GET", path: "/api/ledger" }) },
  { name: "GET /api/campaigns", allowed: ["drafter", "approver", "analyst", "auditor"], request: async () => ({ method: "GET", path: "/api/campaigns" }) },
  { name: "GET /api/assistance", allowed: ["drafter", "approver", "analyst", "auditor"], request: async () => ({ method: "GET", path: "/api/assistance?overdue=false&limit=20" }) },
];

describe("each route family with each role", () => {
  for (const family of FAMILIES) {
    it(`${family.name}: ${family.allowed.join(", ")} allowed; other roles 403; no session 401`, async () => {
      for (const role of ROLE_NAMES) {
        const req = await family.request(role);
        const res = await http(vn, req.method, req.path, { token: tokens[role], ...(req.body !== undefined ? { body: req.body } : {}) });
        if (family.allowed.includes(role)) assert.equal(res.status, family.okStatus ?? 200, `${role}: ${res.text}`);
        else {
          assert.equal(res.status, 403, `${role} should be refused: ${res.text}`);
          assert.equal(res.json.code, "FORBIDDEN");
          assert.match(res.json.message, /requires the role/);
        }
      }
      const req = await family.request("analyst");
      const anonymous = await http(vn, req.method, req.path, req.body !== undefined ? { body: req.body } : {});
      assert.equal(anonymous.status, 401);
    });
  }

  it("GET /api/messages/:id and its envelope: readers allowed, admin refused", async () => {
    const list = await http(vn, "GET", "/api/messages?pageSize=1", { token: tokens.analyst });
    const id = list.json.messages[0].messageId;
    for (const role of ROLE_NAMES) {
      for (const path of [`/api/messages/${id}`, `/api/messages/${id}/envelope`]) {
        const res = await http(vn, "GET", path, { token: tokens[role] });
        assert.equal(res.status, role === "admin" ? 403 : 200, `${role} ${path}`);
      }
    }
  });
});

describe("a notice from draft to the partner's inbox", () => {
  it("refuses the drafter's own approval (TWO_PERSON_RULE), sends on another approver's, and the partner receipts it", async () => {
    const both = await makeOfficer(vn, "drafts.and.approves", ["drafter", "approver"]);
    const created = await http(vn, "POST", "/api/drafts", { token: both.accessToken, body: { message: wantedPersonDraft([CN], undefined, "VN-MPS/FLOW/1") } });
    assert.equal(created.status, 201);
    assert.equal(created.json.state, "DRAFT_STATE_AWAITING_APPROVAL");
    const own = await http(vn, "POST", `/api/drafts/${created.json.draftId}/approve`, { token: both.accessToken });
    assert.equal(own.status, 403);
    assert.equal(own.json.code, "TWO_PERSON_RULE");

    const sent = await http(vn, "POST", `/api/drafts/${created.json.draftId}/approve`, { token: tokens.approver });
    assert.equal(sent.status, 200, sent.text);
    const messageId = sent.json.messageId;
    assert.equal(sent.json.message.header.draftedBy.officerId, both.officer.officerId);
    assert.equal(sent.json.message.header.senderParty, VN);
    assert.equal(sent.json.envelope, undefined, "listings and approvals carry no envelope bytes");

    const receipted = await eventually(async () => {
      const res = await http(vn, "GET", `/api/messages/${messageId}`, { token: tokens.analyst });
      return res.json.deliveries?.[0]?.status === "DELIVERY_STATUS_RECEIPTED" ? res.json : undefined;
    }, 20_000, "the receipt");
    assert.equal(receipted.deliveries[0].party, CN);
    assert.ok(Number(receipted.deliveries[0].receiverLedgerIndex) > 0);

    const envelope = await http(vn, "GET", `/api/messages/${messageId}/envelope`, { token: tokens.analyst });
    assert.equal(envelope.headers["content-type"], "application/octet-stream");
    assert.equal(createHash("sha256").update(envelope.bytes).digest("base64"), receipted.envelopeSha256);

    const cnAnalyst = await makeOfficer(cn, "cn.analyst", ["analyst"]);
    const inbox = await http(cn, "GET", `/api/messages?direction=received&partner=${VN}&kind=wanted_person`, { token: cnAnalyst.accessToken });
    assert.equal(inbox.status, 200);
    const got = inbox.json.messages.find((m: any) => m.messageId === messageId);
    assert.ok(got, "the message is in the partner's inbox");
    assert.equal(got.direction, "DIRECTION_RECEIVED");
    assert.equal(got.message.wantedPerson.person.names[0].fullName, "Nguyễn Văn A");
    assert.equal(got.envelopeSha256, receipted.envelopeSha256, "both sides hold the same envelope");

    const outbox = await http(vn, "GET", `/api/messages?direction=sent&status=receipted&partner=${CN}`, { token: tokens.analyst });
    assert.ok(outbox.json.messages.some((m: any) => m.messageId === messageId));
    const pending = await http(vn, "GET", `/api/messages?direction=sent&status=pending`, { token: tokens.analyst });
    assert.ok(!pending.json.messages.some((m: any) => m.messageId === messageId));

    const byName = await http(cn, "GET", `/api/search?q=${encodeURIComponent("Nguyen Van A")}`, { token: cnAnalyst.accessToken });
    assert.ok(byName.json.notices.some((m: any) => m.noticeId === messageId), "found without diacritics");
    const byHanzi = await http(cn, "GET", `/api/search?q=${encodeURIComponent("阮文甲")}`, { token: cnAnalyst.accessToken });
    assert.ok(byHanzi.json.notices.some((m: any) => m.noticeId === messageId), "found by Hanzi");
    const byPinyin = await http(cn, "GET", `/api/search?q=${encodeURIComponent("ruan wenjia")}`, { token: cnAnalyst.accessToken });
    assert.ok(byPinyin.json.notices.some((m: any) => m.noticeId === messageId), "found by pinyin");
    const byDocument = await http(cn, "GET", `/api/search?q=C1234567`, { token: cnAnalyst.accessToken });
    assert.ok(byDocument.json.notices.some((m: any) => m.noticeId === messageId), "found by passport number");
    const nobody = await http(cn, "GET", `/api/search?q=${encodeURIComponent("Trần Văn Z")}`, { token: cnAnalyst.accessToken });
    assert.deepEqual(nobody.json.notices ?? [], []);
  });

  it("sends a draft back with a reason, and it can no longer be approved", async () => {
    const id = await freshDraft();
    const rejected = await http(vn, "POST", `/api/drafts/${id}/reject`, { token: tokens.approver, body: { reason: "Add the warrant's date of issue" } });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.json.state, "DRAFT_STATE_REJECTED");
    assert.equal(rejected.json.rejectionReason, "Add the warrant's date of issue");
    const late = await http(vn, "POST", `/api/drafts/${id}/approve`, { token: tokens.approver });
    assert.ok(late.status === 409 || late.status === 422, late.text);
  });

  it("answers 404 NOT_FOUND for an unknown draft or message", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    const d = await http(vn, "GET", `/api/drafts/${unknown}`, { token: tokens.auditor });
    assert.equal(d.status, 404);
    assert.equal(d.json.code, "NOT_FOUND");
    const m = await http(vn, "GET", `/api/messages/${unknown}`, { token: tokens.auditor });
    assert.equal(m.status, 404);
  });

  it("pages through the outbox with the node's page token", async () => {
    const first = await http(vn, "GET", "/api/messages?direction=sent&pageSize=1", { token: tokens.analyst });
    assert.equal(first.json.messages.length, 1);
    assert.ok(first.json.nextPageToken);
    const second = await http(vn, "GET", `/api/messages?direction=sent&pageSize=1&pageToken=${first.json.nextPageToken}`, { token: tokens.analyst });
    assert.equal(second.status, 200);
    assert.notEqual(second.json.messages[0]?.messageId, first.json.messages[0].messageId);
  });
});

describe("the node's views through the gateway", () => {
  it("GET /api/session names the party and its display names", async () => {
    const me = await http(vn, "GET", "/api/session", { token: tokens.analyst });
    assert.equal(me.json.party, VN);
    assert.ok(Object.keys(me.json.partyDisplayNames ?? {}).length > 0, me.text);
  });

  it("validates the new routes' input before calling the node", async () => {
    const calls = vn.gateway.localApiCalls();
    const bad = [
      ["GET", "/api/minutes/not-a-uuid"],
      ["POST", "/api/minutes/not-a-uuid/cosign"],
      ["GET", "/api/minutes/not-a-uuid/bundle"],
      ["GET", "/api/ledger/proof/123"],
      ["GET", "/api/campaigns/%24where"],
      ["GET", "/api/assistance?overdue=yes"],
      ["GET", "/api/search?q=x&kind=minutes"],
      ["GET", "/api/search?q=x&limit=0"],
    ] as const;
    for (const [method, path] of bad) {
      const res = await http(vn, method, path, { token: tokens.auditor });
      assert.equal(res.status, 400, `${method} ${path}: ${res.text}`);
      assert.equal(res.json.code, "INVALID_ARGUMENT");
    }
    assert.equal(vn.gateway.localApiCalls(), calls, "nothing was forwarded to the node");
  });

  it("GET /api/campaigns/:id and /api/minutes/:id answer 404 for unknown ids; the ledger status and a proof for an auditor", async () => {
    assert.equal((await http(vn, "GET", "/api/campaigns/NO-SUCH-2026", { token: tokens.analyst })).status, 404);
    assert.equal((await http(vn, "GET", "/api/minutes/00000000-0000-4000-8000-000000000000", { token: tokens.analyst })).status, 404);
    await cluster.node(VN).publishCheckpoint();
    const status = await http(vn, "GET", "/api/ledger", { token: tokens.auditor });
    assert.equal(status.status, 200, status.text);
    assert.ok(Number(status.json.treeSize) > 0);
    assert.deepEqual(status.json.cosigners.map((c: any) => c.party), [CN]);
    const sent = await http(vn, "GET", "/api/messages?direction=sent&pageSize=1", { token: tokens.auditor });
    const proof = await http(vn, "GET", `/api/ledger/proof/${sent.json.messages[0].messageId}`, { token: tokens.auditor });
    assert.equal(proof.status, 200, proof.text);
    assert.ok(Array.isArray(proof.json.proof));
    assert.equal((await http(vn, "GET", `/api/ledger/proof/${sent.json.messages[0].messageId}`, { token: tokens.analyst })).status, 403);
  });
});

describe("the OpenAPI document", () => {
  it("describes exactly the API routes the gateway registered, each with its operation", async () => {
    const doc = (await http(vn, "GET", "/openapi.json")).json;
    assert.equal(doc.openapi, "3.1.0");
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const registered = new Set(
      vn.gateway.registeredRoutes().filter((r) => r.path.startsWith("/api/")).map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    assert.deepEqual([...documented].sort(), [...registered].sort());
  });

  it("gives request schemas that refuse unknown fields, and the message schema from the protobuf descriptors", async () => {
    const doc = (await http(vn, "GET", "/openapi.json")).json;
    const login = doc.paths["/api/session/login"].post.requestBody.content["application/json"].schema;
    assert.equal(login.additionalProperties, false);
    assert.deepEqual(login.required.sort(), ["password", "username"]);
    const message = doc.components.schemas["liaison.v1.Message"];
    assert.ok(message.properties.wantedPerson);
    assert.equal(doc.components.schemas["liaison.v1.Classification"].enum[2], "CLASSIFICATION_RESTRICTED");
    const list = doc.paths["/api/messages"].get;
    assert.deepEqual(list.parameters.map((p: any) => p.name).sort(), ["direction", "kind", "pageSize", "pageToken", "partner", "since", "status", "until"]);
    assert.ok(doc.paths["/api/drafts/{draftId}/approve"].post.description.includes("ApproveDraft"));
  });
});

describe("protected parties", () => {
  it("withholds the signed envelope of a message carrying a victim, and never shows the victim", async () => {
    const drafter = await makeOfficer(vn, "ht.drafter", ["drafter"]);
    const created = await http(vn, "POST", "/api/drafts", {
      token: drafter.accessToken,
      body: {
        message: {
          header: { recipientParties: [CN], classification: "CLASSIFICATION_CONFIDENTIAL", languages: ["en"] },
          humanTrafficking: {
            summary: { reference: "VN-MPS/C02/2026/0777", title: [{ lang: "en", text: "Fraud compound recruiting on social networks" }] },
            victims: [{ names: [{ fullName: "Victim Protected-Name", script: "Latn", lang: "vi" }], nationality: "VNM" }],
            victimCount: 1,
            recruitmentMethod: "fake job offer on social network: easy work, high pay",
          },
        },
      },
    });
    assert.equal(created.status, 201, created.text);
    const sent = await http(vn, "POST", `/api/drafts/${created.json.draftId}/approve`, { token: tokens.approver });
    assert.equal(sent.status, 200, sent.text);
    const shown = await http(vn, "GET", `/api/messages/${sent.json.messageId}`, { token: tokens.analyst });
    assert.equal(shown.status, 200);
    assert.ok(!shown.text.includes("Protected-Name"), "the victim's name never reaches the browser");
    assert.equal(shown.json.envelope, undefined);
    const download = await http(vn, "GET", `/api/messages/${sent.json.messageId}/envelope`, { token: tokens.analyst });
    assert.equal(download.status, 403);
    assert.match(download.json.message, /withheld/);
  });
});
