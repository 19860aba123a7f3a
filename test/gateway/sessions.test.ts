/**
 * Sessions through the gateway: cookies (HttpOnly, Secure, SameSite=Strict) or Bearer tokens,
 * refresh rotation, logout and revocation, access-token expiry (the node's session clock moved),
 * lockout, cross-origin refusal; security headers and the error shape on every response; the
 * correlation id in the answer and in the logs, never a password or a token.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import winston from "winston";
import { rootLogger } from "../../services/logging/index.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { startGateway } from "../../gateway/index.ts";
import { loadIdentity } from "../../services/identity/index.ts";
import { cookiesFrom, http, makeOfficer, openSite, PASSWORD, signIn, type Site } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
let cluster: Cluster;
let vn: Site;

/** Every log line written while the tests run (JSON). */
const capture = {
  lines: [] as string[],
  transport: undefined as unknown as winston.transport,
};
capture.transport = new winston.transports.Stream({
  level: "info",
  format: winston.format.json(),
  stream: new Writable({
    write(chunk, _encoding, done) {
      capture.lines.push(String(chunk));
      done();
    },
  }),
});
let savedLevel: string;

before(async () => {
  savedLevel = rootLogger.level;
  rootLogger.level = "info";
  rootLogger.add(capture.transport);
  cluster = await startCluster([VN, CN]);
  vn = await openSite(cluster, VN);
  await makeOfficer(vn, "hoang.van.f", ["analyst"]);
  await makeOfficer(vn, "locked.out", ["analyst"]);
});
after(async () => {
  rootLogger.remove(capture.transport);
  rootLogger.level = savedLevel;
  await vn?.close();
  await cluster?.close();
});

describe("cookie sessions", () => {
  it("signs in with HttpOnly, Secure, SameSite=Strict cookies and no token in the body", async () => {
    const res = await http(vn, "POST", "/api/session/login", { body: { username: "hoang.van.f", password: PASSWORD } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.accessToken, undefined);
    assert.equal(res.json.refreshToken, undefined);
    assert.equal(res.json.officer.username, "hoang.van.f");
    assert.equal(res.json.party, VN);
    assert.equal(res.setCookies.length, 2);
    for (const c of res.setCookies) {
      assert.match(c, /; HttpOnly/);
      assert.match(c, /; Secure/);
      assert.match(c, /; SameSite=Strict/);
    }
    assert.match(res.setCookies.find((c) => c.startsWith("liaison_refresh="))!, /Path=\/api\/session;/);
    assert.match(res.setCookies.find((c) => c.startsWith("liaison_access="))!, /Max-Age=(59\d|600);/);
    const who = await http(vn, "GET", "/api/session", { cookies: cookiesFrom(res) });
    assert.equal(who.status, 200);
    assert.equal(who.json.username, "hoang.van.f");
    assert.equal(who.json.party, VN);
  });

  it("refreshes from the refresh cookie, and the spent refresh token is refused", async () => {
    const login = await http(vn, "POST", "/api/session/login", { body: { username: "hoang.van.f", password: PASSWORD } });
    const first = cookiesFrom(login);
    const refreshed = await http(vn, "POST", "/api/session/refresh", { cookies: { liaison_refresh: first.liaison_refresh! } });
    assert.equal(refreshed.status, 200, refreshed.text);
    const second = cookiesFrom(refreshed);
    assert.notEqual(second.liaison_access, first.liaison_access);
    assert.notEqual(second.liaison_refresh, first.liaison_refresh);
    assert.equal((await http(vn, "GET", "/api/session", { cookies: { liaison_access: second.liaison_access! } })).status, 200);
    const again = await http(vn, "POST", "/api/session/refresh", { cookies: { liaison_refresh: first.liaison_refresh! } });
    assert.equal(again.status, 401);
    assert.equal(again.json.code, "UNAUTHENTICATED");
  });

  it("signs out: cookies cleared, the access token and the refresh token revoked", async () => {
    const login = await http(vn, "POST", "/api/session/login", { body: { username: "hoang.van.f", password: PASSWORD } });
    const cookies = cookiesFrom(login);
    const out = await http(vn, "POST", "/api/session/logout", { cookies });
    assert.equal(out.status, 200, out.text);
    assert.ok(out.setCookies.every((c) => /Max-Age=0;/.test(c)));
    const after = await http(vn, "GET", "/api/session", { cookies: { liaison_access: cookies.liaison_access! } });
    assert.equal(after.status, 401);
    assert.match(after.json.message, /revoked/);
    assert.equal((await http(vn, "POST", "/api/session/refresh", { cookies: { liaison_refresh: cookies.liaison_refresh! } })).status, 401);
  });

  it("refuses a state-changing request with a session cookie from another origin", async () => {
    const login = await http(vn, "POST", "/api/session/login", { body: { username: "hoang.van.f", password: PASSWORD } });
    const res = await http(vn, "POST", "/api/session/logout", { cookies: cookiesFrom(login), headers: { origin: "https://evil.example" } });
    assert.equal(res.status, 403);
    assert.match(res.json.message, /cross-origin/);
  });

  it("refuses a route without any session", async () => {
    const res = await http(vn, "GET", "/api/messages");
    assert.equal(res.status, 401);
    assert.equal(res.json.code, "UNAUTHENTICATED");
    assert.match(String(res.headers["www-authenticate"]), /Bearer/);
  });
});

describe("bearer sessions", () => {
  it("returns both tokens in the body and sets no cookie", async () => {
    const res = await http(vn, "POST", "/api/session/login", { body: { username: "hoang.van.f", password: PASSWORD, session: "bearer" } });
    assert.equal(res.status, 200);
    assert.equal(res.setCookies.length, 0);
    assert.match(res.json.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(res.json.refreshToken.length, 43);
    const refreshed = await http(vn, "POST", "/api/session/refresh", { body: { refreshToken: res.json.refreshToken } });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.setCookies.length, 0);
    assert.ok(refreshed.json.accessToken);
  });

  it("refuses a malformed Authorization header", async () => {
    const res = await http(vn, "GET", "/api/session", { headers: { authorization: "Basic YWRtaW46YWRtaW4=" } });
    assert.equal(res.status, 401);
    assert.match(res.json.message, /Bearer <access token>/);
  });

  it("refuses a forged token (the node verifies the signature)", async () => {
    const { accessToken } = await signIn(vn, "hoang.van.f");
    const [h, p] = accessToken.split(".");
    const res = await http(vn, "GET", "/api/session", { token: `${h}.${p}.${"A".repeat(86)}` });
    assert.equal(res.status, 401);
  });

  it("refuses an expired access token, and the refresh token still gets a new one", async () => {
    const { accessToken, refreshToken } = await signIn(vn, "hoang.van.f");
    vn.clock.advance(11 * 60_000);
    try {
      const res = await http(vn, "GET", "/api/session", { token: accessToken });
      assert.equal(res.status, 401);
      assert.match(res.json.message, /expired/);
      const refreshed = await http(vn, "POST", "/api/session/refresh", { body: { refreshToken } });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal((await http(vn, "GET", "/api/session", { token: refreshed.json.accessToken })).status, 200);
    } finally {
      vn.clock.advance(-11 * 60_000);
    }
  });

  it("refuses tokens of a disabled officer at once", async () => {
    const officer = await makeOfficer(vn, "to.be.disabled", ["analyst"]);
    const admin = await signIn(vn, "admin", "correct horse battery staple");
    const off = await http(vn, "POST", `/api/officers/${officer.officer.officerId}/disabled`, { token: admin.accessToken, body: { disabled: true } });
    assert.equal(off.status, 200, off.text);
    assert.equal((await http(vn, "GET", "/api/session", { token: officer.accessToken })).status, 401);
  });
});

describe("lockout", () => {
  it("locks an account after repeated failures: then even the right password is refused", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await http(vn, "POST", "/api/session/login", { body: { username: "locked.out", password: "not the password!" } });
      assert.equal(res.status, 401);
    }
    const res = await http(vn, "POST", "/api/session/login", { body: { username: "locked.out", password: PASSWORD } });
    assert.equal(res.status, 401);
    assert.equal(res.json.code, "UNAUTHENTICATED");
  });
});

describe("every response", () => {
  const expectHeaders = (res: { headers: Record<string, unknown> }) => {
    const csp = String(res.headers["content-security-policy"]);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /style-src 'self';/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(String(res.headers["strict-transport-security"]), /max-age=\d{8}/);
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.equal(res.headers["referrer-policy"], "no-referrer");
    assert.equal(res.headers["x-frame-options"], "DENY");
  };

  it("carries the security headers: page, assets, API, errors, OpenAPI", async () => {
    const { accessToken } = await signIn(vn, "hoang.van.f");
    for (const [path, status] of [["/", 200], ["/assets/app.js", 200], ["/assets/app.css", 200], ["/openapi.json", 200], ["/api/partners", 200], ["/api/messages?colour=red", 400], ["/nowhere", 404]] as const) {
      const res = await http(vn, "GET", path, { token: accessToken });
      assert.equal(res.status, status, path);
      expectHeaders(res);
    }
  });

  it("serves the console with no inline script or style", async () => {
    const page = await http(vn, "GET", "/");
    assert.match(String(page.headers["content-type"]), /text\/html/);
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(page.text, /<style|style=/);
    assert.match(page.text, /<script type="module" src="\/assets\/app.js">/);
  });

  it("answers every error with code, message and correlation id, the id also in the logs", async () => {
    capture.lines = [];
    const res = await http(vn, "GET", "/api/messages", { token: "not.a.token" });
    assert.equal(res.status, 401);
    assert.deepEqual(Object.keys(res.json).sort(), ["code", "correlationId", "message"]);
    assert.equal(res.headers["x-correlation-id"], res.json.correlationId);
    assert.ok(capture.lines.some((l) => l.includes(res.json.correlationId) && l.includes('"gateway"')), "the correlation id is logged by the gateway");
  });

  it("keeps a correlation id the caller sends", async () => {
    const res = await http(vn, "GET", "/nowhere", { headers: { "x-correlation-id": "desk-42-abcdef" } });
    assert.equal(res.json.correlationId, "desk-42-abcdef");
    assert.equal(res.json.code, "NOT_FOUND");
  });

  it("never logs a password or a token", async () => {
    capture.lines = [];
    const login = await http(vn, "POST", "/api/session/login", { body: { username: "hoang.van.f", password: PASSWORD, session: "bearer" } });
    await http(vn, "GET", "/api/session", { token: login.json.accessToken });
    await http(vn, "POST", "/api/session/login", { body: { username: "hoang.van.f", password: "wrong password here" } });
    const all = capture.lines.join("\n");
    assert.ok(capture.lines.length > 0);
    for (const secret of [PASSWORD, "wrong password here", login.json.accessToken, login.json.refreshToken]) assert.ok(!all.includes(secret), "a secret reached the logs");
  });

  it("answers 503 UNAVAILABLE when the node's local API is down", async () => {
    const identity = await loadIdentity(cluster.folders.get(VN)!.identityDir);
    const orphan = await startGateway({ localApiAddress: "127.0.0.1:1", tlsCertPem: identity.tlsCertPem, tlsKeyPem: identity.tlsKeyPem, host: "127.0.0.1", port: 0 });
    try {
      const res = await http({ ...vn, gateway: orphan }, "POST", "/api/session/login", { body: { username: "a.b", password: "whatever-password" } });
      assert.equal(res.status, 503);
      assert.equal(res.json.code, "UNAVAILABLE");
    } finally {
      await orphan.close();
    }
  });
});
