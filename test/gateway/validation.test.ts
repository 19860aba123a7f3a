/**
 * Bad input at the gateway: invalid JSON, unknown fields, wrong types, operator injection and
 * prototype keys anywhere, bad query strings and path parameters, wrong content types, oversized
 * and over-nested bodies. Each gets 400 (413 for size) with a message naming the field, and
 * nothing reaches the node: the gateway's count of local API calls does not move.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { http, makeOfficer, openSite, wantedPersonDraft, type HttpOptions, type Site } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
let cluster: Cluster;
let vn: Site;
let token: string;

before(async () => {
  cluster = await startCluster([VN, CN]);
  vn = await openSite(cluster, VN);
  token = (await makeOfficer(vn, "nguyen.thi.e", ["drafter", "analyst"])).accessToken;
});
after(async () => {
  await vn?.close();
  await cluster?.close();
});

/** The request is refused with this status and a message containing `mentions`; the node never sees it. */
async function refusedAtEdge(method: string, path: string, options: HttpOptions, mentions: string | RegExp, status = 400): Promise<void> {
  const before = vn.gateway.localApiCalls();
  const res = await http(vn, method, path, options);
  assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
  assert.equal(res.json.code, status === 413 ? "ENVELOPE_TOO_LARGE" : "INVALID_ARGUMENT");
  assert.equal(typeof res.json.correlationId, "string");
  if (typeof mentions === "string") assert.ok(res.json.message.includes(mentions), `message ${JSON.stringify(res.json.message)} should mention ${mentions}`);
  else assert.match(res.json.message, mentions);
  assert.equal(vn.gateway.localApiCalls(), before, "nothing was forwarded to the node");
}

describe("malformed bodies", () => {
  it("refuses a body that is not JSON", async () => {
    await refusedAtEdge("POST", "/api/session/login", { raw: '{"username": "a", "password": ' }, "not valid JSON");
  });
  it("refuses JSON that is not an object", async () => {
    await refusedAtEdge("POST", "/api/session/login", { raw: '["admin", "pw"]' }, "body: Invalid input: expected object, received array");
  });
  it("refuses a body that is not declared as JSON", async () => {
    await refusedAtEdge("POST", "/api/session/login", { raw: "username=admin&password=x", contentType: "application/x-www-form-urlencoded" }, "must be JSON");
  });
  it("refuses an unknown field, naming it", async () => {
    await refusedAtEdge("POST", "/api/session/login", { body: { username: "admin", password: "x", remember: true } }, 'body: unknown field "remember"');
  });
  it("refuses a field of the wrong type, naming it", async () => {
    await refusedAtEdge("POST", "/api/session/login", { body: { username: 42, password: "x" } }, "body.username: Invalid input: expected string, received number");
  });
  it("refuses a missing required field", async () => {
    await refusedAtEdge("POST", "/api/session/login", { body: { username: "admin" } }, "body.password");
  });
  it("refuses an unknown field deep inside a draft message", async () => {
    const message = wantedPersonDraft([CN]);
    (message.wantedPerson as any).person.shoeSize = 42;
    await refusedAtEdge("POST", "/api/drafts", { token, body: { message } }, /body\.message: .*shoeSize/);
  });
  it("refuses a wrong enum value inside a draft message", async () => {
    const message = wantedPersonDraft([CN]);
    (message.header as any).classification = "TOP_SECRET_ULTRA";
    await refusedAtEdge("POST", "/api/drafts", { token, body: { message } }, /body\.message: .*Classification.*TOP_SECRET_ULTRA/);
  });
  it("refuses a body larger than the limit with 413", async () => {
    await refusedAtEdge("POST", "/api/session/login", { raw: JSON.stringify({ username: "a", password: "x".repeat(7 * 1024 * 1024) }) }, "larger than", 413);
  });
  it("refuses JSON nested deeper than 32 levels", async () => {
    let deep: unknown = "x";
    for (let i = 0; i < 40; i++) deep = { a: deep };
    await refusedAtEdge("POST", "/api/drafts", { token, body: { message: deep } }, "nested deeper than 32");
  });
  it("refuses a body on a route that takes none", async () => {
    await refusedAtEdge("POST", `/api/drafts/${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}/approve`, { token, body: { force: true } }, "takes no request body");
  });
});

describe("operator injection and prototype keys", () => {
  it('refuses {"$gt": ""} as a username', async () => {
    await refusedAtEdge("POST", "/api/session/login", { body: { username: { $gt: "" }, password: { $gt: "" } } }, "body.username.$gt: keys starting with $");
  });
  it("refuses $where at the top level", async () => {
    await refusedAtEdge("POST", "/api/session/login", { body: { $where: "this.password.length > 0", username: "admin", password: "x" } }, "body.$where");
  });
  it("refuses an operator deep inside a draft, in an array", async () => {
    const message = wantedPersonDraft([CN]);
    (message.wantedPerson as any).person.names[1] = { fullName: { $ne: null } };
    await refusedAtEdge("POST", "/api/drafts", { token, body: { message } }, "body.message.wantedPerson.person.names[1].fullName.$ne");
  });
  it("refuses __proto__", async () => {
    await refusedAtEdge("POST", "/api/session/login", { raw: '{"username":"admin","password":"x","__proto__":{"isAdmin":true}}' }, 'body.__proto__: the key "__proto__" is not accepted');
  });
  it("refuses constructor.prototype", async () => {
    await refusedAtEdge("POST", "/api/officers", { token, raw: '{"username":"x","constructor":{"prototype":{"roles":["admin"]}}}' }, 'body.constructor: the key "constructor"');
  });
  it("refuses a nested prototype key", async () => {
    await refusedAtEdge("POST", "/api/drafts", { token, raw: '{"message":{"header":{"prototype":{}}}}' }, 'body.message.header.prototype: the key "prototype"');
  });
  it("refuses an operator key in the query string", async () => {
    await refusedAtEdge("GET", "/api/messages?$where=1", { token }, "query.$where: keys starting with $");
  });
  it("refuses bracket syntax in the query string as an unknown parameter", async () => {
    await refusedAtEdge("GET", "/api/messages?partner[$ne]=CN-MPS", { token }, 'unknown field "partner[$ne]"');
  });
  it("refuses a repeated query parameter", async () => {
    await refusedAtEdge("GET", "/api/messages?partner=CN-MPS&partner=KH-MOI", { token }, "query.partner: Invalid input: expected string, received array");
  });
  it("refuses __proto__ in the query string", async () => {
    await refusedAtEdge("GET", "/api/messages?__proto__=x", { token }, 'query.__proto__: the key "__proto__"');
  });
});

describe("query strings and path parameters", () => {
  it("refuses an unknown filter", async () => {
    await refusedAtEdge("GET", "/api/messages?colour=red", { token }, 'query: unknown field "colour"');
  });
  it("refuses a party id that is not one", async () => {
    await refusedAtEdge("GET", "/api/messages?partner=cn", { token }, "query.partner: must be a party id such as VN-MPS");
  });
  it("refuses a page size out of range", async () => {
    await refusedAtEdge("GET", "/api/messages?pageSize=501", { token }, "query.pageSize: must be from 1 to 500");
  });
  it("refuses a date that is not RFC 3339", async () => {
    await refusedAtEdge("GET", "/api/messages?since=yesterday", { token }, "query.since: must be an RFC 3339 date-time");
  });
  it("refuses an unknown body kind", async () => {
    await refusedAtEdge("GET", "/api/messages?kind=gossip", { token }, "query.kind");
  });
  it("refuses a message id that is not a UUID", async () => {
    await refusedAtEdge("GET", "/api/messages/..%2F..%2Fetc%2Fpasswd", { token }, "path.messageId: must be a message id (lowercase UUID)");
  });
  it("refuses query parameters on a route that takes none", async () => {
    await refusedAtEdge("GET", "/api/partners?all=1", { token }, 'query: unknown field "all"');
  });
  it("refuses an empty search", async () => {
    await refusedAtEdge("GET", "/api/search?q=%20%20", { token }, "query.q: is required");
  });
});

describe("what passes the edge", () => {
  it("forwards a valid draft and the node's own refusal comes back with its code and the node's words", async () => {
    const message = wantedPersonDraft(["TH-RTP"]);
    const before = vn.gateway.localApiCalls();
    const res = await http(vn, "POST", "/api/drafts", { token, body: { message } });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, "INVALID_ARGUMENT");
    assert.match(res.json.message, /recipient_parties\[0\]: TH-RTP is not an onboarded partner/);
    assert.equal(vn.gateway.localApiCalls(), before + 1);
  });
  it("keeps names in any script exactly as entered", async () => {
    const names = [
      { fullName: "Nguyễn Thị Đào", script: "Latn", lang: "vi" },
      { fullName: "阮氏桃", script: "Hani", lang: "zh-Hans" },
      { fullName: "ង្វៀន ធីដាវ", script: "Khmr", lang: "km" },
    ];
    const res = await http(vn, "POST", "/api/drafts", { token, body: { message: wantedPersonDraft([CN], names) } });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json.message.wantedPerson.person.names.map((n: any) => n.fullName), names.map((n) => n.fullName));
  });
});
