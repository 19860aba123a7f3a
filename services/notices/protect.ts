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
import { NOTICE_EVENTS, NOTICES, type NoticeEventDoc, type NoticeViewDoc } from "./collections.ts";
import { foldText, textParts } from "./search.ts";

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

/**
 * Roles allowed to read protected parties when the caller names none: a role no officer holds,
 * so that nothing is readable by default. The local API passes the node's rule
 * (`PROTECTED_READER_ROLES`, services/officers/roles.ts).
 */
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

/** Decrypt a sealed value; a wrong key or altered bytes is INTERNAL (naming no data). */
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

/** The protected fields of a notice. */
export type ProtectedFieldName = "informants" | "victims";
export const PROTECTED_FIELD_NAMES: readonly ProtectedFieldName[] = ["informants", "victims"];

/** What the officer asks for, and why. */
export interface ProtectedReadRequest {
  /** Why the identities are needed; recorded in the audit entry of a granted read. */
  purpose?: string;
  /** Which fields; default all. */
  fields?: readonly ProtectedFieldName[];
}

/**
 * What the caller appends to its ledger (entry kind `protected.read`) for every decided attempt,
 * granted or not, before it shows anything. Ids, counts and the stated purpose: never the data.
 */
export interface ProtectedReadAudit {
  kind: "protected.read";
  at: string;
  party: string;
  /** The id asked for: the notice, or one of its updates. */
  messageId: string;
  /** The notice, once found (absent when refused before the lookup: "role"). */
  noticeId?: string;
  /** The notice version the data came from. */
  sourceMessageId?: string;
  officerId: string;
  roles: string[];
  /** The fields asked for. */
  fields: ProtectedFieldName[];
  /**
   * The stated purpose, on granted reads only: only then has the node checked (against the
   * decrypted data) that it quotes no protected party's name or contact.
   */
  purpose?: string;
  granted: boolean;
  /** Why not: "role" (not a reader), "redacted" (no data key held them), "purpose" (it quotes a protected party). */
  refusal?: "role" | "redacted" | "purpose";
  /** How many identities of each kind were shown (0 when refused or not asked for). */
  informants: number;
  victims: number;
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

/** The sealed protected parties of a notice (its current version) or of one of its updates. */
async function sealedVersion(db: Db, messageId: string): Promise<{ noticeId: string; sealed: SealedProtected }> {
  const notice = await db.collection<NoticeViewDoc>(NOTICES).findOne({ _id: messageId }, { projection: { protected: 1 } });
  if (notice) return { noticeId: messageId, sealed: notice.protected };
  const event = await db.collection<NoticeEventDoc>(NOTICE_EVENTS).findOne({ _id: messageId, kind: "update" });
  if (event?.update) return { noticeId: event.noticeId, sealed: event.update.protected };
  throw new LiaisonError("NOT_FOUND", `no notice or notice update with id ${messageId}`);
}

/**
 * Read a notice's protected parties for an officer. In order: the officer's roles (refused
 * without looking the notice up), the notice (NOT_FOUND, not audited), the data key, the purpose
 * (it must not quote a name or contact it would reveal: the ledger is served to partners).
 * Decrypts only for an allowed role and always returns the audit record, which the caller MUST
 * append to the ledger before it shows anything (`auditEntryBytes`).
 */
export async function readProtected(ctx: ProtectedContext, messageId: string, officer: ProtectedReader, request: ProtectedReadRequest = {}): Promise<ProtectedRead> {
  const asked = request.fields?.length ? request.fields : PROTECTED_FIELD_NAMES;
  const fields = PROTECTED_FIELD_NAMES.filter((f) => asked.includes(f));
  const allowed = ctx.protectedReaderRoles ?? DEFAULT_PROTECTED_READER_ROLES;
  const audit: ProtectedReadAudit = {
    kind: "protected.read",
    at: (ctx.clock?.() ?? new Date()).toISOString(),
    party: ctx.self,
    messageId,
    officerId: officer.officerId,
    roles: [...officer.roles].sort(),
    fields,
    granted: false,
    informants: 0,
    victims: 0,
  };
  if (!officer.roles.some((r) => allowed.includes(r))) {
    log.warn("protected read refused", { messageId, officerId: officer.officerId, refusal: "role" });
    return { granted: false, audit: { ...audit, refusal: "role" } };
  }
  const { noticeId, sealed } = await sealedVersion(ctx.db, messageId);
  const found = { ...audit, noticeId, sourceMessageId: sealed.sourceMessageId };
  if (sealed.state === "none") return { granted: true, audit: { ...found, granted: true, ...withPurpose(request) }, informants: [], victims: [] };
  if (sealed.state === "redacted" || !ctx.dataKey) return { granted: false, audit: { ...found, refusal: "redacted" } };
  const opened = openProtected(sealed, noticeId, ctx.dataKey);
  if (request.purpose !== undefined && quotesProtected(request.purpose, [...opened.informants, ...opened.victims])) {
    log.warn("protected read refused", { messageId, officerId: officer.officerId, refusal: "purpose" });
    return { granted: false, audit: { ...found, refusal: "purpose" } };
  }
  const informants = fields.includes("informants") ? opened.informants : [];
  const victims = fields.includes("victims") ? opened.victims : [];
  log.info("protected read", { messageId, noticeId, officerId: officer.officerId, fields });
  return {
    granted: true,
    audit: { ...found, granted: true, ...withPurpose(request), informants: informants.length, victims: victims.length },
    informants,
    victims,
  };
}

function withPurpose(request: ProtectedReadRequest): { purpose?: string } {
  return request.purpose === undefined ? {} : { purpose: request.purpose };
}

/** Digits of each number-like run of a text ("+84 912 000 111" → "84912000111"). */
function numberRuns(text: string): string[] {
  return (text.match(/[+\d][\d\s().\-/]*/g) ?? []).map((run) => run.replace(/\D/g, "")).filter((d) => d.length > 0);
}

/**
 * Whether `text` quotes a protected party: a name of two words or more (folded: diacritics and
 * case ignored, whole words), a Han name of two characters or more, a phone number by its last 7
 * digits, another contact whole. Single-word names are not checked (they are ordinary words too).
 */
export function quotesProtected(text: string, parties: readonly unknown[]): boolean {
  const words = ` ${textParts(text).join(" ")} `;
  const folded = foldText(text);
  const numbers = numberRuns(text);
  for (const p of parties) {
    const party = p as { names?: Array<{ fullName?: string }>; contact?: string };
    for (const n of party.names ?? []) {
      const ps = textParts(n.fullName ?? "");
      const han = ps.join("");
      if (ps.length > 0 && /^\p{Script=Han}+$/u.test(han)) {
        if ([...han].length >= 2 && folded.includes(han)) return true;
      } else if (ps.length >= 2 && words.includes(` ${ps.join(" ")} `)) {
        return true;
      }
    }
    const contact = (party.contact ?? "").trim();
    const digits = contact.replace(/\D/g, "");
    if (digits.length >= 7) {
      if (numbers.some((run) => run.includes(digits.slice(-7)))) return true;
    } else if ([...contact].length >= 4 && folded.includes(foldText(contact))) {
      return true;
    }
  }
  return false;
}

/** The exact bytes of the ledger entry for an audit record: canonical (sorted-key) JSON, UTF-8. */
export function auditEntryBytes(audit: ProtectedReadAudit): Uint8Array {
  const sorted = Object.fromEntries(Object.entries(audit).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return new TextEncoder().encode(JSON.stringify(sorted));
}
