/**
 * Minutes of ministerial meetings: the archive (minutes with every co-signature, complete when
 * every party named in the minutes co-signed), the co-signing of the exact minutes bytes, and
 * the rules a receiver enforces (docs/PROTOCOL.md §12.4).
 *
 * The archive keeps the exact envelope bytes of the minutes and of each co-signature, so that a
 * self-contained bundle can be exported (bundle.ts) and the view rebuilt identically.
 */
import { create, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createHash } from "node:crypto";
import { Binary, type Db } from "mongodb";
import { LocationSchema, PartialDateSchema } from "../../gen/liaison/v1/common_pb.ts";
import { MinutesCosignatureSchema, type MinutesCosignature } from "../../gen/liaison/v1/cooperation_pb.ts";
import { SignedEnvelopeSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import type { RecordedEnvelope } from "../exchange/index.ts";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { decodeUntrusted } from "../transport/index.ts";

export const MINUTES = "view_minutes";
export const MINUTES_COSIGNATURES = "view_minutes_cosignatures";
export const MINUTES_COLLECTIONS: readonly string[] = [MINUTES, MINUTES_COSIGNATURES];
/** `typ` of the detached JWS a co-signing party makes over the Minutes message bytes. */
export const MINUTES_COSIGNATURE_TYP = "liaison-minutes-cosignature+jws";

const log = createLogger("minutes");

/** Verifies a co-signature JWS over the minutes bytes with `party`'s key valid at `time`; throws if not. */
export type CosignatureVerifier = (jws: string, minutesMessageBytes: Uint8Array, party: string, time: Date) => Promise<void>;

export interface MinutesContext {
  db: Db;
  self: string;
  /** Wired by the node from its partner key ring; without it only the JWS shape is checked on receipt. */
  verifyCosignature?: CosignatureVerifier;
}

interface Text {
  lang: string;
  text: string;
}

export interface MinutesDoc {
  /** The Minutes message id. */
  _id: string;
  host: string;
  parties: string[];
  direction: "sent" | "received";
  title: Text[];
  meetingNumber: number;
  kind: string;
  place?: JsonValue;
  date?: JsonValue;
  attendees: { party: string; name: string; title: Text[]; headOfDelegation: boolean }[];
  agreedPoints: { number: number; text: Text[]; topic: string }[];
  previousMinutesId: string;
  documents: { lang: string; filename: string; mediaType: string; sha256: string }[];
  /** SHA-256 (hex) of the Minutes message bytes: what every co-signature names and signs. */
  messageSha256: string;
  envelope: Binary;
  createdAt: Date;
  ledgerIndex: number;
}

export interface CosignatureDoc {
  /** The MinutesCosignature message id. */
  _id: string;
  minutesId: string;
  party: string;
  minutesSha256: string;
  jws: string;
  signingOfficer: { officerId: string; displayName: string };
  signedAt?: Date;
  envelope: Binary;
  createdAt: Date;
  ledgerIndex: number;
}

const texts = (list: readonly Text[]): Text[] => list.map((t) => ({ lang: t.lang, text: t.text }));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
export const sha256 = (bytes: Uint8Array): Uint8Array => createHash("sha256").update(bytes).digest();

/** The Minutes message bytes inside a recorded envelope (what co-signatures sign). */
export function messageBytesOf(envelopeBytes: Uint8Array): Uint8Array {
  return decodeUntrusted(SignedEnvelopeSchema, envelopeBytes, "a recorded envelope").message;
}

function refuse(reason: string): never {
  throw new LiaisonError("BUSINESS_RULE", reason);
}

/** Shape of a detached compact JWS with the co-signature header (the signature itself is checked by the verifier). */
function checkCosignatureShape(jws: string): void {
  const parts = jws.split(".");
  if (parts.length !== 3 || parts[1] !== "" || parts[0] === "" || parts[2] === "") refuse("cosignature_jws must be a detached compact JWS");
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8"));
  } catch {
    refuse("cosignature_jws has an unreadable protected header");
  }
  const h = header as Record<string, unknown>;
  const members = Object.keys(h ?? {}).sort().join(",");
  if (members !== "alg,kid,typ" || h.alg !== "EdDSA" || h.typ !== MINUTES_COSIGNATURE_TYP || typeof h.kid !== "string") {
    refuse(`cosignature_jws header must be exactly {"alg":"EdDSA","kid":…,"typ":"${MINUTES_COSIGNATURE_TYP}"}`);
  }
}

// ---- Rules ---------------------------------------------------------------------------------

/** §12.4 rules on Minutes and MinutesCosignature; resolves for other bodies. */
export async function checkMinutesRules(message: Message, senderParty: string, ctx: MinutesContext): Promise<void> {
  const body = message.body;
  if (body.case === "minutes") {
    const m = body.value;
    if (!m.parties.includes(senderParty)) refuse("the host (sender) must be one of the minutes' parties");
    if (new Set(m.parties).size !== m.parties.length) refuse("minutes parties must not repeat");
    const recipients = message.header?.recipientParties ?? [];
    const others = m.parties.filter((p) => p !== senderParty);
    if (recipients.length !== others.length || others.some((p) => !recipients.includes(p))) {
      refuse("minutes must be sent to every other party named in them, and only to them");
    }
    if (m.documents.length === 0) refuse("minutes must carry at least one language version of the document");
    if (m.documentLanguages.length !== m.documents.length) refuse("document_languages must name the language of each document");
    for (const d of m.documents) {
      if (d.sha256.byteLength !== 32) refuse("each minutes document must carry its SHA-256");
      if (d.content.byteLength > 0 && hex(sha256(d.content)) !== hex(d.sha256)) refuse("a minutes document does not match its SHA-256");
    }
    if (m.previousMinutesId !== "" && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(m.previousMinutesId)) {
      refuse("previous_minutes_id must be a message id");
    }
    return;
  }
  if (body.case !== "minutesCosignature") return;
  const c = body.value;
  const replyTo = message.header?.replyTo ?? "";
  if (replyTo !== "" && replyTo !== c.minutesMessageId) refuse("header.reply_to must name the minutes co-signed");
  const minutes = await ctx.db.collection<MinutesDoc>(MINUTES).findOne({ _id: c.minutesMessageId });
  if (!minutes) refuse("minutes_message_id does not name minutes this node knows");
  if (!minutes.parties.includes(senderParty)) refuse("only a party named in the minutes may co-sign them");
  if (hex(c.minutesSha256) !== minutes.messageSha256) refuse("minutes_sha256 does not match the minutes this node holds");
  const earlier = await ctx.db.collection<CosignatureDoc>(MINUTES_COSIGNATURES).findOne({ minutesId: minutes._id, party: senderParty });
  if (earlier && earlier._id !== message.header?.messageId) refuse("this party already co-signed these minutes");
  checkCosignatureShape(c.cosignatureJws);
  if (ctx.verifyCosignature) {
    const time = timestampDate(message.header!.createdAt!);
    try {
      await ctx.verifyCosignature(c.cosignatureJws, messageBytesOf(new Uint8Array(minutes.envelope.buffer)), senderParty, time);
    } catch (cause) {
      throw new LiaisonError("BUSINESS_RULE", "cosignature_jws does not verify over the minutes with the co-signing party's key", { cause });
    }
  }
}

// ---- Projection -----------------------------------------------------------------------------

export async function projectMinutes(record: RecordedEnvelope, ctx: MinutesContext): Promise<boolean> {
  const header = record.message.header!;
  const createdAt = timestampDate(header.createdAt!);
  const body = record.message.body;
  if (body.case === "minutes") {
    const m = body.value;
    const doc: Omit<MinutesDoc, "_id"> = {
      host: header.senderParty,
      parties: [...m.parties],
      direction: record.direction,
      title: texts(m.title),
      meetingNumber: m.meetingNumber,
      kind: m.kind,
      ...(m.place ? { place: toJson(LocationSchema, m.place) } : {}),
      ...(m.date ? { date: toJson(PartialDateSchema, m.date) } : {}),
      attendees: m.attendees.map((a) => ({ party: a.party, name: a.name, title: texts(a.title), headOfDelegation: a.headOfDelegation })),
      agreedPoints: m.agreedPoints.map((p) => ({ number: p.number, text: texts(p.text), topic: p.topic })),
      previousMinutesId: m.previousMinutesId,
      documents: m.documents.map((d, i) => ({ lang: m.documentLanguages[i] ?? "", filename: d.filename, mediaType: d.mediaType, sha256: hex(d.sha256) })),
      messageSha256: hex(sha256(messageBytesOf(record.envelopeBytes))),
      envelope: new Binary(record.envelopeBytes),
      createdAt,
      ledgerIndex: record.ledgerIndex,
    };
    await ctx.db.collection<MinutesDoc>(MINUTES).updateOne({ _id: record.messageId }, { $setOnInsert: doc }, { upsert: true });
    log.debug("minutes archived", { messageId: record.messageId });
    return true;
  }
  if (body.case === "minutesCosignature") {
    const c = body.value;
    const doc: Omit<CosignatureDoc, "_id"> = {
      minutesId: c.minutesMessageId,
      party: header.senderParty,
      minutesSha256: hex(c.minutesSha256),
      jws: c.cosignatureJws,
      signingOfficer: { officerId: c.signingOfficer?.officerId ?? "", displayName: c.signingOfficer?.displayName ?? "" },
      ...(c.signedAt ? { signedAt: timestampDate(c.signedAt) } : {}),
      envelope: new Binary(record.envelopeBytes),
      createdAt,
      ledgerIndex: record.ledgerIndex,
    };
    await ctx.db.collection<CosignatureDoc>(MINUTES_COSIGNATURES).updateOne({ _id: record.messageId }, { $setOnInsert: doc }, { upsert: true });
    log.debug("minutes co-signature archived", { messageId: record.messageId, minutesId: c.minutesMessageId, party: header.senderParty });
    return true;
  }
  return false;
}

export async function initMinutesViews(db: Db): Promise<void> {
  await db.collection(MINUTES_COSIGNATURES).createIndex({ minutesId: 1, party: 1 });
  await db.collection(MINUTES).createIndex({ createdAt: -1 });
}

// ---- Archive --------------------------------------------------------------------------------

export interface MinutesArchiveEntry {
  minutes: Omit<MinutesDoc, "envelope">;
  /** Per party named in the minutes: its co-signature (the first recorded) or "missing". */
  cosignatures: Record<string, { status: "signed"; messageId: string; signingOfficer: string; signedAt?: Date; hashMatches: boolean } | { status: "missing" }>;
  signedBy: string[];
  missing: string[];
  /** Every party named in the minutes co-signed these exact bytes. */
  complete: boolean;
}

export async function getMinutesArchive(db: Db, minutesId: string): Promise<MinutesArchiveEntry | undefined> {
  const doc = await db.collection<MinutesDoc>(MINUTES).findOne({ _id: minutesId }, { projection: { envelope: 0 } });
  if (!doc) return undefined;
  const cosigs = await db.collection<CosignatureDoc>(MINUTES_COSIGNATURES).find({ minutesId }, { projection: { envelope: 0 } }).toArray();
  cosigs.sort((a, b) => a.ledgerIndex - b.ledgerIndex);
  const cosignatures: MinutesArchiveEntry["cosignatures"] = {};
  for (const party of doc.parties) {
    // The first co-signature of the party over these exact bytes (a sender's own view also holds
    // what its partners refused, e.g. a co-signature naming other bytes).
    const c = cosigs.find((x) => x.party === party && x.minutesSha256 === doc.messageSha256) ?? cosigs.find((x) => x.party === party);
    cosignatures[party] = c
      ? { status: "signed", messageId: c._id, signingOfficer: c.signingOfficer.displayName, ...(c.signedAt ? { signedAt: c.signedAt } : {}), hashMatches: c.minutesSha256 === doc.messageSha256 }
      : { status: "missing" };
  }
  const signedBy = doc.parties.filter((p) => {
    const c = cosignatures[p]!;
    return c.status === "signed" && c.hashMatches;
  });
  const missing = doc.parties.filter((p) => !signedBy.includes(p));
  return { minutes: doc, cosignatures, signedBy, missing, complete: missing.length === 0 };
}

export async function listMinutes(db: Db): Promise<Omit<MinutesDoc, "envelope">[]> {
  return db.collection<MinutesDoc>(MINUTES).find({}, { projection: { envelope: 0 } }).sort({ createdAt: -1 }).toArray();
}

/** The exact Minutes message bytes this node holds for `minutesId` (what a co-signature signs). */
export async function minutesMessageBytes(db: Db, minutesId: string): Promise<Uint8Array> {
  const doc = await db.collection<MinutesDoc>(MINUTES).findOne({ _id: minutesId }, { projection: { envelope: 1 } });
  if (!doc) throw new LiaisonError("NOT_FOUND", "no such minutes");
  return messageBytesOf(new Uint8Array(doc.envelope.buffer));
}

export interface CosignOptions {
  minutesMessageId: string;
  /** The exact Minutes message bytes (`minutesMessageBytes`). */
  minutesMessageBytes: Uint8Array;
  /** Signs bytes with this node's active message-signing key (the node's `sign`). */
  sign: (payload: Uint8Array, typ: string) => Promise<string>;
  signingOfficer: { officerId: string; displayName: string; title?: Text[] };
  signedAt: Date;
}

/** The MinutesCosignature body for minutes this party agrees to: hash and detached JWS over the exact bytes. */
export async function cosignMinutes(options: CosignOptions): Promise<MinutesCosignature> {
  return create(MinutesCosignatureSchema, {
    minutesMessageId: options.minutesMessageId,
    minutesSha256: sha256(options.minutesMessageBytes),
    cosignatureJws: await options.sign(options.minutesMessageBytes, MINUTES_COSIGNATURE_TYP),
    signingOfficer: { officerId: options.signingOfficer.officerId, displayName: options.signingOfficer.displayName, title: options.signingOfficer.title ?? [] },
    signedAt: timestampFromDate(options.signedAt),
  });
}
