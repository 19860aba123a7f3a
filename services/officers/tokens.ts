/**
 * Officer sessions: access tokens (JWT, EdDSA) and refresh tokens.
 *
 * - The token key is a separate Ed25519 key of this node, generated at first start and kept in
 *   `node_secrets` {_id: "officer-token-key"} so that every node process of the party shares it.
 *   It is never the message-signing key: a token can never be mistaken for a signed message.
 *   Its private half is sealed (scrypt + AES-256-GCM, services/identity/custody.ts) under the
 *   node's secret — LIAISON_JWT_SECRET[_FILE], else the key passphrase — so that a dump of the
 *   database alone cannot mint tokens. A key stored in clear (before a secret was set) is sealed
 *   in place at the next start: same key, sessions go on. Without any secret (demo, tests) it
 *   stays in clear, with a warning in production.
 * - Access token: JWT, header {alg: EdDSA, typ: at+jwt, kid}; claims iss = party, aud =
 *   "liaison-local-api", sub = officer id, roles, sid = session id, jti, iat, exp (10 minutes).
 *   Verified on every call: algorithm allowlist ["EdDSA"], typ, issuer, audience, expiry, then not
 *   revoked (jti or session in `revoked_tokens`).
 * - Refresh token: 32 random bytes (base64url), stored only as SHA-256 in `refresh_tokens`
 *   {_id: hash hex, officerId, sid, expiresAt, createdAt, usedAt?, revokedAt?}. Single use: a
 *   refresh rotates it (atomically marks it used) and issues a new one with the session's
 *   original expiry (8 hours from login — a shift). Presenting a used token again ends the whole
 *   session (a stolen token was replayed).
 * - Logout revokes the refresh token and the session, and denylists the access token's jti until it
 *   expires.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { JWT_SECRET_ENV, KEY_PASSPHRASE_ENV, seal, tokenSecretFromEnvironment, unseal, type SealedSecret } from "../identity/index.ts";
import { calculateJwkThumbprint, exportJWK, jwtVerify, SignJWT, errors as joseErrors } from "jose";
import type { Collection, Db } from "mongodb";
import { MongoServerError } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import type { RoleName } from "./roles.ts";

export const ACCESS_TOKEN_TYP = "at+jwt";
export const ACCESS_TOKEN_AUDIENCE = "liaison-local-api";
export const DEFAULT_ACCESS_TTL_SECONDS = 10 * 60;
export const DEFAULT_REFRESH_TTL_SECONDS = 8 * 3600;
const TOKEN_KEY_ID = "officer-token-key";
/** Tokens longer than this are refused before any parsing. */
const MAX_TOKEN_LENGTH = 4096;

interface SecretDoc {
  _id: string;
  kid: string;
  publicKeyPem: string;
  createdAt: Date;
  /** The private key in clear: only while the node has no secret (demo, tests). */
  privateKeyPem?: string;
  /** The private key's PKCS#8 DER, sealed under the node's secret. */
  sealedPrivateKey?: SealedSecret;
}

interface RefreshDoc {
  _id: string;
  officerId: string;
  sid: string;
  expiresAt: Date;
  createdAt: Date;
  usedAt?: Date;
  revokedAt?: Date;
}

interface RevokedDoc {
  /** "jti:<jti>" or "sid:<session id>". */
  _id: string;
  expiresAt: Date;
}

export interface IssuedTokens {
  accessToken: string;
  accessExpiresAt: Date;
  refreshToken: string;
  refreshExpiresAt: Date;
}

export interface VerifiedAccess {
  officerId: string;
  roles: RoleName[];
  sid: string;
  jti: string;
  expiresAt: Date;
}

export interface TokenServiceOptions {
  db: Db;
  /** This node's party id: the `iss` of every token. */
  issuer: string;
  clock?: () => Date;
  accessTtlSeconds?: number;
  refreshTtlSeconds?: number;
  /**
   * The node's secret sealing the token key. Default: the environment's LIAISON_JWT_SECRET (or
   * LIAISON_JWT_SECRET_FILE), else the key passphrase; `null`: none (the key stays in clear).
   */
  secret?: string | null;
}

/** The sealed key's additional data: it opens only as this node's token key with this kid. */
const sealLabel = (kid: string) => `liaison node_secrets/${TOKEN_KEY_ID} ${kid}`;
const SECRET_HINT = `${JWT_SECRET_ENV} or ${JWT_SECRET_ENV}_FILE, else the key passphrase ${KEY_PASSPHRASE_ENV} or ${KEY_PASSPHRASE_ENV}_FILE`;

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

const unauthenticated = (message: string, cause?: unknown) =>
  new LiaisonError("UNAUTHENTICATED", message, cause === undefined ? {} : { cause });

/** The token key's private half from its document: unsealed with the node's secret, or in clear. */
function openTokenKey(doc: SecretDoc, configured: { secret: string; source: string } | undefined): KeyObject {
  if (doc.sealedPrivateKey !== undefined) {
    if (configured === undefined) {
      throw new LiaisonError("CONFIG_INVALID", `node_secrets ${TOKEN_KEY_ID} is sealed: the node needs the secret it was sealed with (${SECRET_HINT})`);
    }
    const der = unseal(configured.secret, doc.sealedPrivateKey, sealLabel(doc.kid));
    if (der === undefined) {
      throw new LiaisonError(
        "CONFIG_INVALID",
        `node_secrets ${TOKEN_KEY_ID} does not open with ${configured.source}: it was sealed with another secret (every process of the party needs the same one)`,
      );
    }
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  }
  if (doc.privateKeyPem !== undefined) return createPrivateKey(doc.privateKeyPem);
  throw new LiaisonError("CONFIG_INVALID", `node_secrets ${TOKEN_KEY_ID} holds no private key`);
}

export class TokenService {
  private readonly log = createLogger("officers");
  private readonly clock: () => Date;
  private readonly accessTtl: number;
  private readonly refreshTtl: number;
  private readonly refresh: Collection<RefreshDoc>;
  private readonly revoked: Collection<RevokedDoc>;

  private constructor(
    private readonly options: TokenServiceOptions,
    private readonly kid: string,
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.accessTtl = options.accessTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS;
    this.refreshTtl = options.refreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS;
    this.refresh = options.db.collection<RefreshDoc>("refresh_tokens");
    this.revoked = options.db.collection<RevokedDoc>("revoked_tokens");
  }

  /**
   * Load the node's token key, creating it at first start (one winner across processes), sealing
   * a key found in clear when the node now has a secret. CONFIG_INVALID when the key is sealed
   * and the node has no secret, or another one.
   */
  static async open(options: TokenServiceOptions): Promise<TokenService> {
    const log = createLogger("officers");
    const configured =
      options.secret === undefined
        ? tokenSecretFromEnvironment()
        : options.secret === null
          ? undefined
          : { secret: options.secret, source: "the given secret" };
    const secret = configured?.secret;
    const secrets = options.db.collection<SecretDoc>("node_secrets");
    let doc = await secrets.findOne({ _id: TOKEN_KEY_ID });
    if (!doc) {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
      const candidate: SecretDoc = {
        _id: TOKEN_KEY_ID,
        kid,
        publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
        createdAt: new Date(),
        ...(secret === undefined
          ? { privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString() }
          : { sealedPrivateKey: seal(secret, privateKey.export({ format: "der", type: "pkcs8" }), sealLabel(kid)) }),
      };
      try {
        await secrets.insertOne(candidate);
        doc = candidate;
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
        doc = await secrets.findOne({ _id: TOKEN_KEY_ID });
        if (!doc) throw new TypeError("node_secrets: token key vanished after a concurrent insert");
      }
    } else if (doc.privateKeyPem !== undefined && secret !== undefined) {
      // Stored in clear before the node had a secret: seal the same key (sessions go on).
      const der = createPrivateKey(doc.privateKeyPem).export({ format: "der", type: "pkcs8" });
      await secrets.updateOne(
        { _id: TOKEN_KEY_ID, privateKeyPem: doc.privateKeyPem },
        { $set: { sealedPrivateKey: seal(secret, der, sealLabel(doc.kid)) }, $unset: { privateKeyPem: "" } },
      );
      doc = await secrets.findOne({ _id: TOKEN_KEY_ID });
      if (!doc) throw new TypeError("node_secrets: token key vanished while being sealed");
      log.info("officer token key sealed in node_secrets under the node's secret", { source: configured?.source });
    }
    const privateKey = openTokenKey(doc, configured);
    const publicKey = createPublicKey(doc.publicKeyPem);
    if (!createPublicKey(privateKey).equals(publicKey)) {
      throw new LiaisonError("CONFIG_INVALID", `node_secrets ${TOKEN_KEY_ID}: the private key does not match publicKeyPem`);
    }
    if (secret === undefined && process.env.NODE_ENV === "production") {
      log.warn(`the officer token key is stored in clear in node_secrets: a database dump could mint officer tokens; set ${SECRET_HINT}`);
    }
    const service = new TokenService(options, doc.kid, privateKey, publicKey);
    await service.refresh.createIndex({ officerId: 1 });
    await service.refresh.createIndex({ sid: 1 });
    await service.refresh.createIndex({ expiresAt: 1 });
    await service.revoked.createIndex({ expiresAt: 1 });
    return service;
  }

  /** A new session for an authenticated officer. */
  async issue(officer: { _id: string; roles: RoleName[] }): Promise<IssuedTokens> {
    const sid = randomUUID();
    const refreshExpiresAt = new Date(this.clock().getTime() + this.refreshTtl * 1000);
    return this.issueIn(officer, sid, refreshExpiresAt);
  }

  private async issueIn(officer: { _id: string; roles: RoleName[] }, sid: string, refreshExpiresAt: Date): Promise<IssuedTokens> {
    const now = this.clock();
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.accessTtl;
    const accessToken = await new SignJWT({ roles: officer.roles, sid })
      .setProtectedHeader({ alg: "EdDSA", typ: ACCESS_TOKEN_TYP, kid: this.kid })
      .setIssuer(this.options.issuer)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(officer._id)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.privateKey);
    const refreshToken = randomBytes(32).toString("base64url");
    await this.refresh.insertOne({ _id: sha256Hex(refreshToken), officerId: officer._id, sid, expiresAt: refreshExpiresAt, createdAt: now });
    return { accessToken, accessExpiresAt: new Date(exp * 1000), refreshToken, refreshExpiresAt };
  }

  /**
   * Verify an access token: signature (EdDSA only), typ, issuer, audience, expiry, then not
   * revoked. Throws UNAUTHENTICATED with a short reason; jose's error stays the local cause.
   */
  async verifyAccess(token: string): Promise<VerifiedAccess> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw unauthenticated("the access token is malformed");
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ["EdDSA"],
        typ: ACCESS_TOKEN_TYP,
        issuer: this.options.issuer,
        audience: ACCESS_TOKEN_AUDIENCE,
        currentDate: this.clock(),
        requiredClaims: ["sub", "jti", "exp", "iat"],
        clockTolerance: 0,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated("the access token has expired", error);
      throw unauthenticated("the access token is not valid", error);
    }
    const { sub, jti, exp, sid, roles } = payload as { sub: string; jti: string; exp: number; sid?: unknown; roles?: unknown };
    if (typeof sid !== "string" || !Array.isArray(roles)) throw unauthenticated("the access token is not valid");
    const revoked = await this.revoked.findOne({ _id: { $in: [`jti:${jti}`, `sid:${sid}`] } });
    if (revoked) throw unauthenticated("the access token has been revoked");
    return { officerId: sub, roles: roles as RoleName[], sid, jti, expiresAt: new Date(exp * 1000) };
  }

  /**
   * Rotate a refresh token: it is marked used atomically (so of two concurrent refreshes with
   * the same token, one wins), and a new pair is issued in the same session. The caller checks
   * that the officer may still log in (`loadOfficer`). A token presented after it was used ends
   * the session.
   */
  async rotate(refreshToken: string, loadOfficer: (officerId: string) => Promise<{ _id: string; roles: RoleName[] }>): Promise<IssuedTokens> {
    if (refreshToken === "") throw new LiaisonError("INVALID_ARGUMENT", "refresh_token is required");
    if (refreshToken.length > MAX_TOKEN_LENGTH) throw unauthenticated("the refresh token is not valid");
    const id = sha256Hex(refreshToken);
    const now = this.clock();
    const claimed = await this.refresh.findOneAndUpdate(
      { _id: id, usedAt: { $exists: false }, revokedAt: { $exists: false }, expiresAt: { $gt: now } },
      { $set: { usedAt: now } },
      { returnDocument: "after" },
    );
    if (!claimed) {
      const known = await this.refresh.findOne({ _id: id });
      if (known?.usedAt && !known.revokedAt) {
        await this.endSession(known.sid, known.expiresAt);
        this.log.warn("a used refresh token was presented again; session ended", { officerId: known.officerId, sid: known.sid });
      }
      if (known && known.expiresAt <= now) throw unauthenticated("the refresh token has expired");
      throw unauthenticated("the refresh token is not valid or was already used");
    }
    const officer = await loadOfficer(claimed.officerId);
    return this.issueIn(officer, claimed.sid, claimed.expiresAt);
  }

  /**
   * Log out: end the session of the presented access token (and revoke the refresh token, which
   * must belong to the same officer), and denylist the access token's jti until it expires.
   */
  async logout(access: VerifiedAccess, refreshToken: string): Promise<void> {
    if (refreshToken !== "") {
      const doc = await this.refresh.findOne({ _id: sha256Hex(refreshToken) });
      if (doc && doc.officerId !== access.officerId) throw new LiaisonError("FORBIDDEN", "the refresh token belongs to another officer");
      if (doc && doc.sid !== access.sid) await this.endSession(doc.sid, doc.expiresAt);
    }
    await this.denylist(`jti:${access.jti}`, access.expiresAt);
    const session = await this.refresh.find({ sid: access.sid }).sort({ expiresAt: -1 }).limit(1).next();
    await this.endSession(access.sid, session?.expiresAt ?? access.expiresAt);
  }

  /** End every session of an officer (disabled, password changed). */
  async revokeOfficer(officerId: string): Promise<void> {
    const sessions = await this.refresh.find({ officerId, revokedAt: { $exists: false }, expiresAt: { $gt: this.clock() } }).toArray();
    const seen = new Set<string>();
    for (const s of sessions) {
      if (seen.has(s.sid)) continue;
      seen.add(s.sid);
      await this.endSession(s.sid, s.expiresAt);
    }
  }

  private async endSession(sid: string, until: Date): Promise<void> {
    const now = this.clock();
    await this.refresh.updateMany({ sid, revokedAt: { $exists: false } }, { $set: { revokedAt: now } });
    // Access tokens of the session live at most accessTtl past the last refresh, which is before `until`.
    await this.denylist(`sid:${sid}`, new Date(Math.max(until.getTime(), now.getTime()) + this.accessTtl * 1000));
  }

  private async denylist(id: string, expiresAt: Date): Promise<void> {
    await this.revoked.updateOne({ _id: id }, { $max: { expiresAt } }, { upsert: true });
    // Expired denylist entries are useless (the token no longer verifies): sweep them.
    await this.revoked.deleteMany({ expiresAt: { $lt: this.clock() } });
    await this.refresh.deleteMany({ expiresAt: { $lt: new Date(this.clock().getTime() - 24 * 3600_000) } });
  }
}
