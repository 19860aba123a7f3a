/**
 * GET /api/ledger/entries (ListLedgerEntries) through a real gateway to a real node: a
 * human-trafficking notice sent from VN-MPS to CN-MPS over REST; at CN-MPS an analyst reads its
 * protected parties, then the auditor lists the `protected.read` trail (officer, notice,
 * purpose), the envelope entries (ids, kind, parties, SHA-256; no body), pages through the whole
 * ledger; every other role is refused (403), no session is 401; malformed and injection-shaped
 * queries are refused at the edge (400, nothing forwarded to the node); the route is in the
 * served OpenAPI document.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { ADMIN, draftApproveDeliver, http, makeOfficer, openSite, ROLE_NAMES, signIn, traffickingDraft, type RoleName, type Site } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const VICTIM = "Hà Thị Kim Oanh";
const INFORMANT = "Tạ Minh Hiếu";
const INFORMANT_PHONE = "+84 904 222 333";
const SECRETS = [VICTIM, INFORMANT, INFORMANT_PHONE, "904 222 333", "Kim Oanh"];
const PURPOSE = "victim identification for repatriation, case CN-MPS/2026/0930";

let cluster: Cluster;
let vn: Site;
let cn: Site;
const tokens = {} as Record<RoleName, string>;
let analystId = "";
let noticeId = "";
let auditIndex = "";

const found = (text: string) => SECRETS.filter((s) => text.includes(s));
const entries = (query: string, token = tokens.auditor) => http(cn, "GET", `/api/ledger/entries${query}`, { token });

before(async () => {
  cluster = await startCluster([VN, CN]);
  vn = await openSite(cluster, VN);
  cn = await openSite(cluster, CN);
  tokens.admin = (await signIn(cn, ADMIN.username, ADMIN.password)).accessToken;
  for (const role of ROLE_NAMES) {
    if (role === "admin") continue;
    const made = await makeOfficer(cn, `cn.${role}`, [role]);
    tokens[role] = made.accessToken;
    if (role === "analyst") analystId = made.officer.officerId;
  }
  const drafter = await makeOfficer(vn, "vn.drafter", ["drafter"]);
  const approver = await makeOfficer(vn, "vn.approver", ["approver"]);
  noticeId = await draftApproveDeliver(
    vn,
    traffickingDraft([CN], { reference: "VN-MPS/THB/2026/0930", informant: INFORMANT, informantContact: INFORMANT_PHONE, victim: VICTIM }),
    drafter.accessToken,
    approver.accessToken,
  );
  const read = await http(cn, "POST", `/api/notices/${noticeId}/protected`, { token: tokens.analyst, body: { purpose: PURPOSE, fields: ["victims"] } });
  assert.equal(read.status, 200, read.text);
  auditIndex = read.json.auditLedgerIndex;
});

after(async () => {
  await vn?.close();
  await cn?.close();
  await cluster?.close();
});

describe("GET /api/ledger/entries", () => {
  it("shows the auditor who read protected parties: officer, notice, fields, purpose — no identity", async () => {
    const res = await entries("?kind=protected.read");
    assert.equal(res.status, 200, res.text);
    assert.match(String(res.headers["cache-control"]), /no-store/);
    assert.deepEqual(found(res.text), []);
    assert.equal(res.json.entries.length, 1);
    const entry = res.json.entries[0];
    assert.equal(entry.index, auditIndex);
    assert.equal(entry.kind, "protected.read");
    assert.deepEqual(entry.officerIds, [analystId]);
    assert.equal(entry.decision.officerId, analystId);
    assert.equal(entry.decision.noticeId, noticeId);
    assert.equal(entry.decision.purpose, PURPOSE);
    assert.deepEqual(entry.decision.fields, ["victims"]);
    assert.equal(entry.decision.granted, true);
    assert.equal(entry.decision.victims, 1);
    assert.ok(!Number.isNaN(Date.parse(entry.recordedAt)));
    assert.equal(Buffer.from(entry.leafHash, "base64").length, 32);
    assert.equal(entry.envelope, undefined);
    assert.deepEqual(entry.withheld, [], "every field is in the JSON, empty lists too");
  });

  it("filters by officer and by several kinds at once", async () => {
    const byOfficer = await entries(`?officer=${analystId}`);
    assert.equal(byOfficer.status, 200, byOfficer.text);
    assert.deepEqual(byOfficer.json.entries.map((e: { kind: string }) => e.kind).sort(), ["officer.added", "protected.read"]);
    const several = await entries("?kind=protected.read,officer.added&pageSize=500");
    assert.equal(several.status, 200, several.text);
    const kinds = new Set(several.json.entries.map((e: { kind: string }) => e.kind));
    assert.deepEqual([...kinds].sort(), ["officer.added", "protected.read"]);
    const range = await entries(`?fromIndex=${auditIndex}&toIndex=${auditIndex}`);
    assert.deepEqual(range.json.entries.map((e: { index: string }) => e.index), [auditIndex]);
    const later = await entries(`?since=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`);
    assert.equal(later.status, 200, later.text);
    assert.deepEqual(later.json.entries, [], "nothing recorded in the future");
    assert.equal(later.json.nextPageToken, "");
  });

  it("summarises envelope and receipt entries without their bytes", async () => {
    const res = await entries("?kind=envelope.received,receipt.issued");
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(found(res.text), []);
    const envelope = res.json.entries.find((e: any) => e.kind === "envelope.received" && e.envelope.messageId === noticeId);
    assert.ok(envelope, res.text);
    assert.deepEqual(Object.keys(envelope.envelope).sort(), ["bodyKind", "envelopeSha256", "messageId", "receiverLedgerIndex", "recipients", "sender"]);
    assert.equal(envelope.envelope.receiverLedgerIndex, "0", "set for receipts only");
    assert.equal(envelope.envelope.bodyKind, "human_trafficking");
    assert.equal(envelope.envelope.sender, VN);
    assert.deepEqual(envelope.envelope.recipients, [CN]);
    assert.equal(envelope.decision, undefined);
    const message = await http(cn, "GET", `/api/messages/${noticeId}`, { token: tokens.auditor });
    assert.equal(envelope.envelope.envelopeSha256, message.json.envelopeSha256);
    assert.equal(envelope.index, message.json.ledgerIndex);
    const receipt = res.json.entries.find((e: any) => e.kind === "receipt.issued" && e.envelope.messageId === noticeId);
    assert.ok(receipt);
    assert.equal(receipt.envelope.receiverLedgerIndex, envelope.index);
  });

  it("pages through the whole ledger, newest first, each entry once", async () => {
    const seen: number[] = [];
    let token = "";
    let treeSize = "";
    for (let i = 0; i < 500; i++) {
      const res = await entries(`?pageSize=4${token ? `&pageToken=${token}` : ""}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(found(res.text), []);
      treeSize ||= res.json.treeSize;
      assert.equal(res.json.treeSize, treeSize);
      seen.push(...res.json.entries.map((e: { index: string }) => Number(e.index)));
      token = res.json.nextPageToken;
      if (!token) break;
    }
    assert.deepEqual(seen, Array.from({ length: Number(treeSize) }, (_, i) => Number(treeSize) - 1 - i));
  });

  for (const role of ROLE_NAMES.filter((r) => r !== "auditor")) {
    it(`refuses a ${role}: 403 FORBIDDEN`, async () => {
      const res = await entries("?kind=protected.read", tokens[role]);
      assert.equal(res.status, 403, res.text);
      assert.equal(res.json.code, "FORBIDDEN");
      assert.deepEqual(found(res.text), []);
      assert.ok(!res.text.includes(PURPOSE));
    });
  }

  it("needs a session: 401", async () => {
    const res = await http(cn, "GET", "/api/ledger/entries");
    assert.equal(res.status, 401);
  });

  it("refuses malformed and injection-shaped queries at the edge (400, nothing forwarded)", async () => {
    const cases: Array<[string, string]> = [
      ["?kind[$ne]=x", "kind"],
      ["?kind=protected.read&kind=draft.approved", "kind"],
      ["?kind=", "kind"],
      ["?kind=protected.read,,draft.approved", "kind"],
      ["?kind=PROTECTED.READ", "kind"],
      ["?kind=protected.read,protected.read", "kind"],
      [`?kind=${encodeURIComponent('{"$gt":""}')}`, "kind"],
      [`?kind=${encodeURIComponent("protected.read;drop")}`, "kind"],
      ["?fromIndex=-1", "fromIndex"],
      ["?toIndex=1e3", "toIndex"],
      ["?toIndex=9999999999999999", "toIndex"],
      ["?since=yesterday", "since"],
      ["?until=2026-05-04", "until"],
      ["?officer=admin", "officer"],
      [`?officer=${encodeURIComponent('{"$gt":""}')}`, "officer"],
      ["?officer[$regex]=.*", "officer"],
      ["?pageSize=0", "pageSize"],
      ["?pageSize=501", "pageSize"],
      ["?pageToken=a%20b", "pageToken"],
      ["?__proto__[x]=1", "__proto__"],
      ["?constructor=1", "constructor"],
      ["?where=1", "where"],
    ];
    const before = cn.gateway.localApiCalls();
    for (const [query, field] of cases) {
      const res = await entries(query);
      assert.equal(res.status, 400, `${query}: ${res.status} ${res.text}`);
      assert.equal(res.json.code, "INVALID_ARGUMENT");
      assert.ok(res.json.message.includes(field), `${query}: ${res.json.message} should name ${field}`);
    }
    assert.equal(cn.gateway.localApiCalls(), before, "nothing reached the node");
  });

  it("passes the node's refusals on as 400: a kind the node does not record, from above to", async () => {
    const unknown = await entries("?kind=protected.reads");
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.json.message, /kinds\[0\].*not a ledger entry kind/);
    const inverted = await entries("?fromIndex=9&toIndex=3");
    assert.equal(inverted.status, 400, inverted.text);
    const token = (await entries("?kind=protected.read,officer.added&pageSize=1")).json.nextPageToken;
    const other = await entries(`?kind=officer.added&pageSize=1&pageToken=${token}`);
    assert.equal(other.status, 400, other.text);
    assert.match(other.json.message, /other filters/);
  });

  it("is in the served OpenAPI document, with its query parameters and the entry schema", async () => {
    const doc = (await http(cn, "GET", "/openapi.json")).json;
    const op = doc.paths["/api/ledger/entries"].get;
    assert.equal(op.operationId, "listLedgerEntries");
    assert.match(op.description, /Roles \(checked by the node\): auditor\./);
    assert.deepEqual(op.parameters.map((p: { name: string }) => p.name).sort(), ["fromIndex", "kind", "officer", "pageSize", "pageToken", "since", "toIndex", "until"]);
    assert.ok(doc.components.schemas["liaison.v1.LedgerTrailEntry"].properties.decision);
    assert.deepEqual(doc.components.schemas["google.protobuf.Struct"], { type: "object", description: "a JSON object" });
    assert.ok(doc.components.schemas["liaison.v1.LedgerEnvelopeSummary"].properties.envelopeSha256);
  });
});
