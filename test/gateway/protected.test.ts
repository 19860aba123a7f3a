/**
 * POST /api/notices/{messageId}/protected through a real gateway to a real node: a
 * human-trafficking notice sent from VN-MPS to CN-MPS over REST; at CN-MPS each role is allowed
 * (analyst) or refused (403, recorded in the ledger) and no session is 401; injection-shaped and
 * malformed input is refused at the edge (400, nothing forwarded); the route is in the served
 * OpenAPI document; the answer is never cached; other routes keep showing placeholders.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { ledgerJson } from "../local-api/support.ts";
import { ADMIN, draftApproveDeliver, http, makeOfficer, openSite, ROLE_NAMES, signIn, traffickingDraft, type HttpOptions, type RoleName, type Site } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const VICTIM = "Ngô Thị Thanh Tâm";
const INFORMANT = "Đỗ Quang Vinh";
const PURPOSE = "victim identification for repatriation, case CN-MPS/2026/0815";

let cluster: Cluster;
let vn: Site;
let cn: Site;
const tokens = {} as Record<RoleName, string>;
let noticeId = "";
const path = () => `/api/notices/${noticeId}/protected`;

before(async () => {
  cluster = await startCluster([VN, CN]);
  vn = await openSite(cluster, VN);
  cn = await openSite(cluster, CN);
  tokens.admin = (await signIn(cn, ADMIN.username, ADMIN.password)).accessToken;
  for (const role of ROLE_NAMES) if (role !== "admin") tokens[role] = (await makeOfficer(cn, `cn.${role}`, [role])).accessToken;
  const drafter = await makeOfficer(vn, "vn.drafter", ["drafter"]);
  const approver = await makeOfficer(vn, "vn.approver", ["approver"]);
  noticeId = await draftApproveDeliver(
    vn,
    traffickingDraft([CN], { reference: "VN-MPS/THB/2026/0815", informant: INFORMANT, informantContact: "+84 903 111 222", victim: VICTIM }),
    drafter.accessToken,
    approver.accessToken,
  );
});
after(async () => {
  await vn?.close();
  await cn?.close();
  await cluster?.close();
});

describe("POST /api/notices/{id}/protected, per role", () => {
  it("gives an analyst the victims and informants, with the ledger index of the audit entry, never cached", async () => {
    const res = await http(cn, "POST", path(), { token: tokens.analyst, body: { purpose: PURPOSE } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.noticeId, noticeId);
    assert.equal(res.json.victims[0].names[0].fullName, VICTIM);
    assert.equal(res.json.informants[0].names[0].fullName, INFORMANT);
    assert.deepEqual(res.json.fields, ["PROTECTED_FIELD_INFORMANTS", "PROTECTED_FIELD_VICTIMS"]);
    assert.match(String(res.headers["cache-control"]), /no-store/);
    const entry = (await ledgerJson(cn.node, "protected.read")).at(-1)!;
    assert.equal(String(entry.purpose), PURPOSE);
    assert.equal(entry.granted, true);
    assert.ok(Number(res.json.auditLedgerIndex) > 0);
  });

  it("reads only the fields named", async () => {
    const res = await http(cn, "POST", path(), { token: tokens.analyst, body: { purpose: PURPOSE, fields: ["victims"] } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.informants, undefined, "no informant when only victims are asked for");
    assert.equal(res.json.victims.length, 1);
  });

  for (const role of ROLE_NAMES.filter((r) => r !== "analyst")) {
    it(`refuses a ${role}: 403 FORBIDDEN, no name in the answer, the attempt in the ledger`, async () => {
      const before = (await ledgerJson(cn.node, "protected.read")).length;
      const res = await http(cn, "POST", path(), { token: tokens[role], body: { purpose: PURPOSE } });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.json.code, "FORBIDDEN");
      assert.ok(!res.text.includes(VICTIM) && !res.text.includes(INFORMANT));
      const entries = await ledgerJson(cn.node, "protected.read");
      assert.equal(entries.length, before + 1);
      assert.equal(entries.at(-1)!.refusal, "role");
    });
  }

  it("needs a session: 401", async () => {
    const res = await http(cn, "POST", path(), { body: { purpose: PURPOSE } });
    assert.equal(res.status, 401);
  });

  it("answers 404 for an unknown notice", async () => {
    const res = await http(cn, "POST", "/api/notices/00000000-0000-4000-8000-000000000000/protected", { token: tokens.analyst, body: { purpose: PURPOSE } });
    assert.equal(res.status, 404, res.text);
  });

  it("keeps the victims out of every other route: message, listing, search", async () => {
    for (const [route, token] of [
      [`/api/messages/${noticeId}`, tokens.analyst],
      ["/api/messages?direction=received", tokens.auditor],
      [`/api/search?q=${encodeURIComponent("Ngo Thi Thanh Tam")}`, tokens.analyst],
    ] as const) {
      const res = await http(cn, "GET", route, { token });
      assert.equal(res.status, 200, res.text);
      assert.ok(!res.text.includes(VICTIM) && !res.text.includes(INFORMANT), route);
    }
  });
});

describe("bad and injection-shaped input is refused at the edge", () => {
  async function refusedAtEdge(options: HttpOptions, mentions: string | RegExp, where = path()): Promise<void> {
    const before = cn.gateway.localApiCalls();
    const res = await http(cn, "POST", where, { token: tokens.analyst, ...options });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.code, "INVALID_ARGUMENT");
    if (typeof mentions === "string") assert.ok(res.json.message.includes(mentions), `${JSON.stringify(res.json.message)} should mention ${mentions}`);
    else assert.match(res.json.message, mentions);
    assert.equal(cn.gateway.localApiCalls(), before, "nothing was forwarded to the node");
  }

  it("an operator object in place of the purpose", () => refusedAtEdge({ body: { purpose: { $ne: "" } } }, "body.purpose.$ne"));
  it("a $where key beside the purpose", () => refusedAtEdge({ body: { purpose: PURPOSE, $where: "this.protected" } }, "body.$where"));
  it("an operator inside the field list", () => refusedAtEdge({ body: { purpose: PURPOSE, fields: [{ $in: ["victims"] }] } }, "body.fields[0].$in"));
  it("a __proto__ key", () => refusedAtEdge({ raw: `{"purpose":"${PURPOSE}","__proto__":{"isAdmin":true}}` }, "__proto__"));
  it("a constructor.prototype chain", () => refusedAtEdge({ body: { purpose: PURPOSE, constructor: { prototype: { roles: ["analyst"] } } } }, "constructor"));
  it("an unknown field", () => refusedAtEdge({ body: { purpose: PURPOSE, officerId: "someone-else" } }, 'unknown field "officerId"'));
  it("a missing purpose", () => refusedAtEdge({ body: {} }, "body.purpose"));
  it("a blank purpose", () => refusedAtEdge({ body: { purpose: "   " } }, "body.purpose: is required"));
  it("a purpose over 500 characters", () => refusedAtEdge({ body: { purpose: "x".repeat(501) } }, "body.purpose: must be at most 500"));
  it("a purpose that is not a string", () => refusedAtEdge({ body: { purpose: ["victims"] } }, "body.purpose"));
  it("an unknown field name", () => refusedAtEdge({ body: { purpose: PURPOSE, fields: ["names"] } }, "body.fields[0]"));
  it("a field named twice", () => refusedAtEdge({ body: { purpose: PURPOSE, fields: ["victims", "victims"] } }, "twice"));
  it("no body at all", () => refusedAtEdge({}, "body"));
  it("a path id that is not a UUID", () => refusedAtEdge({ body: { purpose: PURPOSE } }, "path.messageId", "/api/notices/%7B%22%24gt%22%3A%22%22%7D/protected"));
  it("a path id with traversal", () => refusedAtEdge({ body: { purpose: PURPOSE } }, "path.messageId", "/api/notices/..%2F..%2Fofficers/protected"));

  it("takes query-like text in a purpose as text: answered, and recorded verbatim", async () => {
    const purpose = `"; db.view_notices.find({}); // {"$where": "1"} <script>alert(1)</script>`;
    const res = await http(cn, "POST", path(), { token: tokens.analyst, body: { purpose } });
    assert.equal(res.status, 200, res.text);
    assert.equal((await ledgerJson(cn.node, "protected.read")).at(-1)!.purpose, purpose);
  });

  it("a purpose quoting the victim is refused by the node (400), recorded without the purpose", async () => {
    const res = await http(cn, "POST", path(), { token: tokens.analyst, body: { purpose: `identify ${VICTIM}` } });
    assert.equal(res.status, 400, res.text);
    assert.ok(!res.text.includes(VICTIM));
    const entry = (await ledgerJson(cn.node, "protected.read")).at(-1)!;
    assert.equal(entry.refusal, "purpose");
    assert.equal(entry.purpose, undefined);
  });
});

describe("the OpenAPI document", () => {
  it("describes the route: operation, roles, strict body with a required purpose, the ProtectedFields answer", async () => {
    const doc = (await http(cn, "GET", "/openapi.json")).json;
    const op = doc.paths["/api/notices/{messageId}/protected"].post;
    assert.equal(op.operationId, "readProtectedFields");
    assert.match(op.description, /analyst/);
    assert.match(op.description, /LocalApi\.ReadProtectedFields/);
    const body = op.requestBody.content["application/json"].schema;
    assert.equal(body.additionalProperties, false);
    assert.deepEqual(body.required, ["purpose"]);
    assert.deepEqual(body.properties.fields.items.enum, ["informants", "victims"]);
    assert.equal(op.responses["200"].content["application/json"].schema.$ref, "#/components/schemas/liaison.v1.ProtectedFields");
    assert.ok(doc.components.schemas["liaison.v1.ProtectedParty"]);
    assert.ok(op.responses["403"]);
  });
});
