/**
 * Officer sessions on the local API: login, lockout, access-token expiry and revocation, refresh
 * rotation, disabled accounts, forged tokens. Real node, real gRPC on 127.0.0.1.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { SignJWT, decodeJwt, decodeProtectedHeader } from "jose";
import { GrpcStatus } from "../../services/errors/index.ts";
import { ensureAdmin, verifyPassword } from "../../services/officers/index.ts";
import { LocalApi, Role } from "../../gen/liaison/v1/local_pb.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { ADMIN, attachLocalApi, ledgerJson, officer, PASSWORD, refused, type LocalApiHarness } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";

let cluster: Cluster;
let vn: LocalApiHarness;
let cn: LocalApiHarness;
before(async () => {
  cluster = await startCluster([VN, CN]);
  vn = await attachLocalApi(cluster.node(VN));
  cn = await attachLocalApi(cluster.node(CN));
});
after(async () => {
  await vn?.close();
  await cn?.close();
  await cluster?.close();
});

describe("login", () => {
  it("signs an officer in with a 10-minute EdDSA access token naming the officer, roles and party", async () => {
    await officer(vn, "le.van.b", ["drafter"]);
    const login = await vn.client.call(LocalApi.method.login, { username: "le.van.b", password: PASSWORD });
    assert.equal(login.officer?.username, "le.van.b");
    assert.deepEqual(login.officer?.roles, [Role.DRAFTER]);
    const header = decodeProtectedHeader(login.accessToken);
    assert.equal(header.alg, "EdDSA");
    assert.equal(header.typ, "at+jwt");
    const claims = decodeJwt(login.accessToken);
    assert.equal(claims.iss, VN);
    assert.equal(claims.sub, login.officer?.officerId);
    assert.deepEqual(claims.roles, ["drafter"]);
    assert.equal(typeof claims.jti, "string");
    assert.equal(claims.exp! - claims.iat!, 600);
    assert.equal(login.refreshToken.length, 43, "32 random bytes, base64url");
    const who = await vn.client.call(LocalApi.method.whoAmI, {}, login.accessToken);
    assert.equal(who.officerId, login.officer?.officerId);
  });

  it("accepts the username in any case", async () => {
    const login = await vn.client.call(LocalApi.method.login, { username: "LE.VAN.B", password: PASSWORD });
    assert.equal(login.officer?.username, "le.van.b");
  });

  it("refuses a wrong password and an unknown user with the same answer", async () => {
    const wrong = await refused(vn.client.call(LocalApi.method.login, { username: "le.van.b", password: "not the password!" }), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED");
    const unknown = await refused(vn.client.call(LocalApi.method.login, { username: "nobody.here", password: "not the password!" }), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED");
    assert.equal(wrong.message, unknown.message);
  });

  it("costs about the same time for an unknown user as for a wrong password", async () => {
    const time = async (username: string) => {
      const start = performance.now();
      await vn.client.call(LocalApi.method.login, { username, password: "not the password!" }).catch(() => undefined);
      return performance.now() - start;
    };
    await officer(vn, "timing.probe", ["analyst"]);
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time("timing.probe"));
      unknown.push(await time(`ghost.${i}`));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
    assert.ok(median(unknown) > median(known) * 0.5, `unknown ${median(unknown)}ms vs known ${median(known)}ms: an unknown user must also pay for scrypt`);
  });

  it("locks the account for 15 minutes after 5 failed logins, even for the right password, then lets it in again", async () => {
    await officer(vn, "tran.thi.c", ["analyst"]);
    for (let i = 0; i < 5; i++) {
      await refused(vn.client.call(LocalApi.method.login, { username: "tran.thi.c", password: `wrong password ${i}` }), GrpcStatus.UNAUTHENTICATED);
    }
    await refused(vn.client.call(LocalApi.method.login, { username: "tran.thi.c", password: PASSWORD }), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED");
    const doc = await vn.node.db.collection("officers").findOne({ usernameKey: "tran.thi.c" });
    assert.ok(doc?.lockedUntil instanceof Date, "the lock is recorded on the account");
    const listed = await vn.client.call(LocalApi.method.listOfficers, {}, await vn.adminToken());
    assert.ok(listed.officers.find((o) => o.username === "tran.thi.c")?.lockedUntil, "admins see the lock");

    vn.clock.advance(14 * 60_000);
    await refused(vn.client.call(LocalApi.method.login, { username: "tran.thi.c", password: PASSWORD }), GrpcStatus.UNAUTHENTICATED);
    vn.clock.advance(2 * 60_000);
    const login = await vn.client.call(LocalApi.method.login, { username: "tran.thi.c", password: PASSWORD });
    assert.equal(login.officer?.username, "tran.thi.c");
  });

  it("lets an admin lift a lockout by re-enabling the account", async () => {
    await officer(vn, "pham.d", ["analyst"]);
    for (let i = 0; i < 5; i++) await vn.client.call(LocalApi.method.login, { username: "pham.d", password: `wrong password ${i}` }).catch(() => undefined);
    await refused(vn.client.call(LocalApi.method.login, { username: "pham.d", password: PASSWORD }), GrpcStatus.UNAUTHENTICATED);
    const id = (await vn.client.call(LocalApi.method.listOfficers, {}, await vn.adminToken())).officers.find((o) => o.username === "pham.d")!.officerId;
    await vn.client.call(LocalApi.method.setOfficerDisabled, { officerId: id, disabled: false }, await vn.adminToken());
    await vn.client.call(LocalApi.method.login, { username: "pham.d", password: PASSWORD });
  });

  it("stores only a scrypt hash (N ≥ 2^15, per-password salt) and never the password", async () => {
    await officer(vn, "hash.one", ["analyst"]);
    await officer(vn, "hash.two", ["analyst"]);
    const docs = await vn.node.db.collection("officers").find({ usernameKey: { $in: ["hash.one", "hash.two"] } }).toArray();
    assert.equal(docs.length, 2);
    for (const doc of docs) {
      assert.ok(!JSON.stringify(doc).includes(PASSWORD));
      const [scheme, n, r, p, salt] = String(doc.passwordHash).split("$");
      assert.equal(scheme, "scrypt");
      assert.ok(Number(n) >= 2 ** 15 && Number(r) >= 8 && Number(p) >= 1);
      assert.ok(salt!.length >= 20);
      assert.equal(await verifyPassword(PASSWORD, doc.passwordHash), true);
    }
    assert.notEqual(docs[0]!.passwordHash, docs[1]!.passwordHash, "same password, different salts");
  });
});

describe("access tokens", () => {
  it("expire after 10 minutes", async () => {
    const login = await vn.client.call(LocalApi.method.login, { username: "le.van.b", password: PASSWORD });
    vn.clock.advance(9 * 60_000);
    await vn.client.call(LocalApi.method.whoAmI, {}, login.accessToken);
    vn.clock.advance(61_000);
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, login.accessToken), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED", "expired");
  });

  it("are refused when missing, malformed, forged, unsigned, or issued by another node", async () => {
    const login = await vn.client.call(LocalApi.method.login, { username: "le.van.b", password: PASSWORD });
    await refused(vn.client.call(LocalApi.method.whoAmI, {}), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED", "authorization");
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, "not-a-jwt"), GrpcStatus.UNAUTHENTICATED);
    const claims = decodeJwt(login.accessToken);
    // Signed with some other Ed25519 key.
    const { privateKey } = generateKeyPairSync("ed25519");
    const forged = await new SignJWT({ ...claims, roles: ["admin"] }).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" }).sign(privateKey);
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, forged), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED", "not valid");
    // alg "none".
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const unsigned = `${b64({ alg: "none", typ: "at+jwt" })}.${b64({ ...claims, roles: ["admin"] })}.x`;
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, unsigned), GrpcStatus.UNAUTHENTICATED);
    // HS256 with the public key as the secret (algorithm confusion).
    const hs = await new SignJWT({ ...claims }).setProtectedHeader({ alg: "HS256", typ: "at+jwt" }).sign(new TextEncoder().encode("secret-secret-secret-secret-32by"));
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, hs), GrpcStatus.UNAUTHENTICATED);
    // A genuine token of CN's node, presented to VN's.
    const cnLogin = await cn.client.call(LocalApi.method.login, ADMIN);
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, cnLogin.accessToken), GrpcStatus.UNAUTHENTICATED);
  });

  it("are refused after logout, together with the refresh token", async () => {
    const login = await vn.client.call(LocalApi.method.login, { username: "le.van.b", password: PASSWORD });
    await vn.client.call(LocalApi.method.logout, { refreshToken: login.refreshToken }, login.accessToken);
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, login.accessToken), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED", "revoked");
    await refused(vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken }), GrpcStatus.UNAUTHENTICATED);
    const denied = await vn.node.db.collection("revoked_tokens").findOne({ _id: `jti:${decodeJwt(login.accessToken).jti}` as never });
    assert.ok(denied, "the jti is denylisted");
    assert.ok((denied.expiresAt as Date).getTime() >= decodeJwt(login.accessToken).exp! * 1000, "until the token would expire");
  });

  it("stop working as soon as the officer is disabled", async () => {
    const login = await officer(vn, "disabled.soon", ["analyst"]);
    await vn.client.call(LocalApi.method.setOfficerDisabled, { officerId: login.officer!.officerId, disabled: true }, await vn.adminToken());
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, login.accessToken), GrpcStatus.UNAUTHENTICATED);
    await refused(vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken }), GrpcStatus.UNAUTHENTICATED);
    await refused(vn.client.call(LocalApi.method.login, { username: "disabled.soon", password: PASSWORD }), GrpcStatus.UNAUTHENTICATED);
  });
});

describe("refresh tokens", () => {
  it("rotate: a refresh gives a new pair and the old refresh token is refused", async () => {
    const login = await vn.client.call(LocalApi.method.login, { username: "le.van.b", password: PASSWORD });
    const next = await vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken });
    assert.notEqual(next.refreshToken, login.refreshToken);
    assert.notEqual(next.accessToken, login.accessToken);
    await vn.client.call(LocalApi.method.whoAmI, {}, next.accessToken);
    await refused(vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken }), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED");
    const stored = await vn.node.db.collection("refresh_tokens").find({}).toArray();
    assert.ok(stored.every((d) => !JSON.stringify(d).includes(login.refreshToken)), "only hashes are stored");
  });

  it("end the whole session when a used refresh token is replayed", async () => {
    const login = await vn.client.call(LocalApi.method.login, { username: "le.van.b", password: PASSWORD });
    const next = await vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken });
    await refused(vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken }), GrpcStatus.UNAUTHENTICATED);
    await refused(vn.client.call(LocalApi.method.refreshToken, { refreshToken: next.refreshToken }), GrpcStatus.UNAUTHENTICATED);
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, next.accessToken), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED", "revoked");
  });

  it("give exactly one new pair when the same token is refreshed twice at once", async () => {
    const login = await vn.client.call(LocalApi.method.login, { username: "le.van.b", password: PASSWORD });
    const results = await Promise.allSettled([
      vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken }),
      vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken }),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  });

  it("expire 8 hours after login, however often they were rotated", async () => {
    let login = await vn.client.call(LocalApi.method.login, { username: "le.van.b", password: PASSWORD });
    const expires = login.refreshExpiresAt!;
    for (let i = 0; i < 3; i++) {
      vn.clock.advance(2 * 3600_000);
      login = await vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken });
      assert.equal(login.refreshExpiresAt!.seconds, expires.seconds);
    }
    vn.clock.advance(2 * 3600_000 + 1000);
    await refused(vn.client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken }), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED", "expired");
  });
});

describe("accounts", () => {
  it("ensureAdmin creates the first admin once and records it in the ledger without the password", async () => {
    const again = await ensureAdmin(vn.node.db, { username: "another.admin", password: "another long password" }, vn.node.ledger);
    assert.equal(again.created, false);
    assert.equal(again.officer.username, ADMIN.username);
    const added = (await ledgerJson(vn.node, "officer.added")) as Array<{ username: string; roles: string[]; officerId: string }>;
    const admin = added.find((a) => a.username === ADMIN.username);
    assert.deepEqual(admin?.roles, ["admin"]);
    assert.equal(admin?.officerId, vn.admin.officer?.officerId);
    const entries = await vn.node.db.collection("ledger_entries").find({ kind: { $in: ["officer.added", "officer.disabled", "officer.enabled"] } }).toArray();
    for (const e of entries) {
      const text = Buffer.from(e.bytes.buffer).toString("utf8");
      assert.ok(!text.includes(ADMIN.password) && !text.includes(PASSWORD) && !text.includes("scrypt"));
    }
    assert.ok(added.some((a) => a.username === "le.van.b"), "officers created through the API are recorded too");
    assert.ok((await vn.node.db.collection("ledger_entries").countDocuments({ kind: "officer.disabled" })) >= 1);
  });

  it("refuses a password shorter than 12 characters, a taken username and a bad username", async () => {
    await refused(
      vn.client.call(LocalApi.method.createOfficer, { username: "short.pw", roles: [Role.ANALYST], password: "elevenchars" }, await vn.adminToken()),
      GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", "at least 12 characters",
    );
    await refused(
      vn.client.call(LocalApi.method.createOfficer, { username: "le.van.b", roles: [Role.ANALYST], password: PASSWORD }, await vn.adminToken()),
      GrpcStatus.ALREADY_EXISTS, "CONFLICT",
    );
    await refused(
      vn.client.call(LocalApi.method.createOfficer, { username: "bad name!", roles: [Role.ANALYST], password: PASSWORD }, await vn.adminToken()),
      GrpcStatus.INVALID_ARGUMENT, "INVALID_ARGUMENT", "username",
    );
  });

  it("lets an officer change their own password, ending their other sessions", async () => {
    const login = await officer(vn, "changes.pw", ["analyst"]);
    await refused(
      vn.client.call(LocalApi.method.changePassword, { currentPassword: "wrong wrong wrong", newPassword: "a brand new password" }, login.accessToken),
      GrpcStatus.UNAUTHENTICATED,
    );
    await vn.client.call(LocalApi.method.changePassword, { currentPassword: PASSWORD, newPassword: "a brand new password" }, login.accessToken);
    await refused(vn.client.call(LocalApi.method.whoAmI, {}, login.accessToken), GrpcStatus.UNAUTHENTICATED);
    await refused(vn.client.call(LocalApi.method.login, { username: "changes.pw", password: PASSWORD }), GrpcStatus.UNAUTHENTICATED);
    await vn.client.call(LocalApi.method.login, { username: "changes.pw", password: "a brand new password" });
  });

  it("will not disable the admin's own account", async () => {
    await refused(
      vn.client.call(LocalApi.method.setOfficerDisabled, { officerId: vn.admin.officer!.officerId, disabled: true }, await vn.adminToken()),
      GrpcStatus.FAILED_PRECONDITION, "BUSINESS_RULE",
    );
  });
});
