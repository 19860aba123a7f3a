/**
 * Protected parties (informants, victims) at rest: AES-256-GCM under the node's data key, never
 * in clear in a view, never logged, never indexed.
 *
 * Layout of a sealed value (`SealedProtected`): the JSON of the protected parties, encrypted with
 * AES-256-GCM (NIST SP 800-38D) under `encKey`, with associated data
 * `liaison-protected/v1:<notice id>:<source message id>` binding the ciphertext to its notice and
 * to the message it came from. Both keys derive from the 32-byte data key with HKDF-SHA-256
 * (RFC 5869, info "liaison/view-protected/enc" and ".../iv"). The 96-bit IV is synthetic:
 * the first 12 bytes of HMAC-SHA-256(ivKey, aad || 0x00 || plaintext) (the SIV construction of
 * RFC 5297 §2.6 applied to GCM), so that a view rebuilt from the ledger is byte-identical to the
 * live one, and an IV repeats only for the same plaintext under the same aad — which reveals
 * nothing the aad does not already name.
 *
 * Without a data key the view stores the counts only ("redacted"): the data stays in the
 * recorded envelope and nowhere else.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from "node:crypto";
import type { Db } from "mongodb";
import { Binary } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { protectedToJson, type ProtectedParties } from "./body.ts";
import { NOTICES, type NoticeViewDoc } from "./collections.ts";

const log = createLogger("notices");

export interface SealedProtected {
  /** "none": the notice has no protected party; "encrypted": sealed below; "redacted": no data key. */
  state: "none" | "encrypted" | "redacted";
  informants: number;
  victims: number;
  /** The message the protected data came from (the notice, or its latest update). */
  sourceMessageId: string;
  iv?: Binary;
  ciphertext?: Binary;
  tag?: Binary;
}

/** Roles allowed to read protected parties unless the node configures others. */
export const DEFAULT_PROTECTED_READER_ROLES: readonly string[] = ["protected-reader"];

function keys(dataKey: Uint8Array): { enc: Buffer; iv: Buffer } {
  if (!(dataKey instanceof Uint8Array) || dataKey.byteLength !== 32) throw new TypeError("the data key must be 32 bytes");
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", dataKey, new Uint8Array(0), info, 32));
  return { enc: derive("liaison/view-protected/enc"), iv: derive("liaison/view-protected/iv") };
}

function aadOf(noticeId: string, sourceMessageId: string): Buffer {
  return Buffer.from(`liaison-protected/v1:${noticeId}:${sourceMessageId}`, "utf8");
}

/** Seal the protected parties of one notice version (pure but for the key). */
export function sealProtected(parties: ProtectedParties, noticeId: string, sourceMessageId: string, dataKey: Uint8Array | undefined): SealedProtected {
  const counts = { informants: parties.informants.length, victims: parties.victims.length, sourceMessageId };
  if (counts.informants + counts.victims === 0) return { state: "none", ...counts };
  if (!dataKey) return { state: "redacted", ...counts };
  const k = keys(dataKey);
  const aad = aadOf(noticeId, sourceMessageId);
  const plaintext = Buffer.from(JSON.stringify(protectedToJson(parties)), "utf8");
  const iv = createHmac("sha256", k.iv).update(aad).update(Buffer.of(0)).update(plaintext).digest().subarray(0, 12);
  const cipher = createCipheriv("aes-256-gcm", k.enc, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { state: "encrypted", ...counts, iv: new Binary(iv), ciphertext: new Binary(ciphertext), tag: new Binary(cipher.getAuthTag()) };
}

/** Decrypt a sealed value; LEDGER_CORRUPT-free: a wrong key or altered bytes is INTERNAL. */
export function openProtected(sealed: SealedProtected, noticeId: string, dataKey: Uint8Array): { informants: unknown[]; victims: unknown[] } {
  if (sealed.state !== "encrypted" || !sealed.iv || !sealed.ciphertext || !sealed.tag) throw new TypeError("nothing sealed to open");
  const k = keys(dataKey);
  try {
    const decipher = createDecipheriv("aes-256-gcm", k.enc, Buffer.from(sealed.iv.buffer));
    decipher.setAAD(aadOf(noticeId, sealed.sourceMessageId));
    decipher.setAuthTag(Buffer.from(sealed.tag.buffer));
    const plaintext = Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext.buffer)), decipher.final()]);
    return JSON.parse(plaintext.toString("utf8")) as { informants: unknown[]; victims: unknown[] };
  } catch (cause) {
    throw new LiaisonError("INTERNAL", "protected data could not be decrypted with this node's data key", { cause });
  }
}

export interface ProtectedReader {
  officerId: string;
  roles: readonly string[];
}

/**
 * What the caller appends to its ledger (entry kind `protected.read`) for every attempt, granted
 * or not. Ids only: never the data read.
 */
export interface ProtectedReadAudit {
  kind: "protected.read";
  at: string;
  party: string;
  noticeId: string;
  officerId: string;
  roles: string[];
  granted: boolean;
  /** Why not, when refused: "role", "redacted", "none". */
  refusal?: string;
  informants: number;
  victims: number;
  sourceMessageId?: string;
}

export type ProtectedRead =
  | { granted: true; audit: ProtectedReadAudit; informants: unknown[]; victims: unknown[] }
  | { granted: false; audit: ProtectedReadAudit };

export interface ProtectedContext {
  db: Db;
  self: string;
  dataKey?: Uint8Array;
  protectedReaderRoles?: readonly string[];
  clock?: () => Date;
}

/**
 * Read a notice's protected parties for an officer. Decrypts only when one of the officer's roles
 * is allowed; always returns the audit record, which the caller MUST append to the ledger before
 * it shows anything (`auditEntryBytes`). NOT_FOUND when the notice is unknown.
 */
export async function readProtected(ctx: ProtectedContext, noticeId: string, officer: ProtectedReader): Promise<ProtectedRead> {
  const doc = await ctx.db.collection<NoticeViewDoc>(NOTICES).findOne({ _id: noticeId }, { projection: { protected: 1 } });
  if (!doc) throw new LiaisonError("NOT_FOUND", "no such notice");
  const sealed = doc.protected;
  const allowed = ctx.protectedReaderRoles ?? DEFAULT_PROTECTED_READER_ROLES;
  const audit: ProtectedReadAudit = {
    kind: "protected.read",
    at: (ctx.clock?.() ?? new Date()).toISOString(),
    party: ctx.self,
    noticeId,
    officerId: officer.officerId,
    roles: [...officer.roles].sort(),
    granted: false,
    informants: sealed.informants,
    victims: sealed.victims,
    sourceMessageId: sealed.sourceMessageId,
  };
  if (!officer.roles.some((r) => allowed.includes(r))) {
    log.warn("protected read refused", { noticeId, officerId: officer.officerId });
    return { granted: false, audit: { ...audit, refusal: "role" } };
  }
  if (sealed.state === "none") return { granted: true, audit: { ...audit, granted: true }, informants: [], victims: [] };
  if (sealed.state === "redacted" || !ctx.dataKey) return { granted: false, audit: { ...audit, refusal: "redacted" } };
  const opened = openProtected(sealed, noticeId, ctx.dataKey);
  log.info("protected read", { noticeId, officerId: officer.officerId });
  return { granted: true, audit: { ...audit, granted: true }, informants: opened.informants, victims: opened.victims };
}

/** The exact bytes of the ledger entry for an audit record: canonical (sorted-key) JSON, UTF-8. */
export function auditEntryBytes(audit: ProtectedReadAudit): Uint8Array {
  const sorted = Object.fromEntries(Object.entries(audit).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return new TextEncoder().encode(JSON.stringify(sorted));
}
