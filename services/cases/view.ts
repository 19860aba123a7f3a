/**
 * Cases and requests for assistance: the views (projections of recorded envelopes), the read
 * functions the console uses (status and overdue flag computed at read time, from the clock the
 * caller passes), and the rules a receiver enforces (docs/PROTOCOL.md §12.2).
 */
import { toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { MongoServerError, type Db } from "mongodb";
import { CasePersonSchema, CaseStatus, type CasePerson } from "../../gen/liaison/v1/cooperation_pb.ts";
import type { Attachment } from "../../gen/liaison/v1/common_pb.ts";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import type { RecordedEnvelope } from "../exchange/index.ts";
import { LiaisonError } from "../errors/index.ts";

export const CASES = "view_cases";
export const ASSISTANCE = "view_assistance";
export const ASSISTANCE_RESPONSES = "view_assistance_responses";
export const CASE_COLLECTIONS: readonly string[] = [CASES, ASSISTANCE, ASSISTANCE_RESPONSES];

export const ASSISTANCE_STATUSES = ["received", "in-progress", "answered", "refused"] as const;
export type AssistanceStatus = (typeof ASSISTANCE_STATUSES)[number];
const FINAL: ReadonlySet<string> = new Set(["answered", "refused"]);
export const URGENCIES = ["routine", "urgent", "immediate"] as const;

export interface CasesContext {
  db: Db;
  self: string;
}

interface Text {
  lang: string;
  text: string;
}

export interface AttachmentMeta {
  filename: string;
  mediaType: string;
  sha256: string;
  size: number;
}

export interface CaseViewDoc {
  /** `<owner party>:<case reference>`. */
  _id: string;
  owner: string;
  caseReference: string;
  partnerReferences: { party: string; reference: string }[];
  title: Text[];
  offences: Text[];
  summary: Text[];
  persons: JsonValue[];
  linkedNoticeIds: string[];
  status: string;
  sharedWith: string[];
  shareMessageId: string;
  createdAt: Date;
  ledgerIndex: number;
}

export interface AssistanceRequestDoc {
  _id: string;
  requester: string;
  requestedFrom: string[];
  direction: "sent" | "received";
  caseReference: string;
  caseShareId: string;
  request: Text[];
  legalBasis: string;
  urgency: string;
  kinds: string[];
  attachments: AttachmentMeta[];
  deadline?: Date;
  createdAt: Date;
  ledgerIndex: number;
}

export interface AssistanceResponseDoc {
  _id: string;
  requestId: string;
  from: string;
  status: string;
  answer: Text[];
  refusalReason: string;
  responderReference: string;
  attachments: AttachmentMeta[];
  createdAt: Date;
  ledgerIndex: number;
}

const texts = (list: readonly Text[]): Text[] => list.map((t) => ({ lang: t.lang, text: t.text }));
const attachmentsMeta = (list: readonly Attachment[]): AttachmentMeta[] =>
  list.map((a) => ({ filename: a.filename, mediaType: a.mediaType, sha256: Buffer.from(a.sha256).toString("hex"), size: a.content.byteLength }));

const CASE_STATUS: Record<number, string> = {
  [CaseStatus.UNSPECIFIED]: "open",
  [CaseStatus.OPEN]: "open",
  [CaseStatus.SUSPENDED]: "suspended",
  [CaseStatus.CLOSED]: "closed",
};

function personJson(p: CasePerson): JsonValue {
  const json = toJson(CasePersonSchema, p) as { identity?: { photos?: { content?: string }[] } };
  for (const photo of json.identity?.photos ?? []) delete photo.content;
  return json as JsonValue;
}

function refuse(reason: string): never {
  throw new LiaisonError("BUSINESS_RULE", reason);
}

// ---- Rules ---------------------------------------------------------------------------------

/** §12.2 rules on CaseShare, AssistanceRequest and AssistanceResponse; resolves for other bodies. */
export async function checkCaseRules(message: Message, senderParty: string, ctx: CasesContext): Promise<void> {
  const body = message.body;
  switch (body.case) {
    case "caseShare":
      if (body.value.caseReference.trim() === "") refuse("a case share must carry the sender's case reference");
      return;
    case "assistanceRequest": {
      const r = body.value;
      if (r.request.length === 0 || r.request.every((t) => t.text.trim() === "")) refuse("an assistance request must say what is asked");
      if (r.urgency !== "" && !(URGENCIES as readonly string[]).includes(r.urgency)) refuse("assistance urgency must be routine, urgent or immediate");
      return;
    }
    case "assistanceResponse": {
      const r = body.value;
      const replyTo = message.header?.replyTo ?? "";
      if (replyTo === "") refuse("an assistance response must name the request in header.reply_to");
      const request = await ctx.db.collection<AssistanceRequestDoc>(ASSISTANCE).findOne({ _id: replyTo }, { projection: { requester: 1, requestedFrom: 1 } });
      if (!request || request.requester !== ctx.self) refuse("header.reply_to does not name an assistance request this node sent");
      if (!request.requestedFrom.includes(senderParty)) refuse("the responding party was not asked for this assistance");
      if (!(ASSISTANCE_STATUSES as readonly string[]).includes(r.status)) refuse("assistance status must be received, in-progress, answered or refused");
      if (r.status === "refused" && r.refusalReason.trim() === "") refuse("a refused assistance request must give the reason");
      const last = await latestResponse(ctx.db, replyTo, senderParty);
      if (last && FINAL.has(last.status)) refuse(`the request was already ${last.status} by this party`);
      return;
    }
    default:
      return;
  }
}

async function latestResponse(db: Db, requestId: string, from: string): Promise<AssistanceResponseDoc | undefined> {
  const all = await db.collection<AssistanceResponseDoc>(ASSISTANCE_RESPONSES).find({ requestId, from }).toArray();
  return all.sort((a, b) => b.ledgerIndex - a.ledgerIndex)[0];
}

// ---- Projection -----------------------------------------------------------------------------

/** Insert once under `_id`; a concurrent or repeated projection of the same record is a no-op. */
async function insertOnce<T extends { _id: string }>(db: Db, collection: string, doc: T): Promise<void> {
  const { _id, ...rest } = doc;
  await db.collection<{ _id: string }>(collection).updateOne({ _id }, { $setOnInsert: rest }, { upsert: true });
}

export async function projectCase(record: RecordedEnvelope, ctx: CasesContext): Promise<boolean> {
  const header = record.message.header!;
  const createdAt = timestampDate(header.createdAt!);
  const body = record.message.body;
  switch (body.case) {
    case "caseShare": {
      const c = body.value;
      const doc: CaseViewDoc = {
        _id: `${header.senderParty}:${c.caseReference}`,
        owner: header.senderParty,
        caseReference: c.caseReference,
        partnerReferences: c.partnerReferences.map((p) => ({ party: p.party, reference: p.reference })),
        title: texts(c.title),
        offences: texts(c.offences),
        summary: texts(c.summary),
        persons: c.persons.map(personJson),
        linkedNoticeIds: [...c.linkedNoticeIds],
        status: CASE_STATUS[c.status] ?? "open",
        sharedWith: [...header.recipientParties],
        shareMessageId: record.messageId,
        createdAt,
        ledgerIndex: record.ledgerIndex,
      };
      // The share recorded last wins: replace only an older one.
      try {
        const { _id, ...rest } = doc;
        await ctx.db.collection<CaseViewDoc>(CASES).updateOne({ _id, ledgerIndex: { $lt: doc.ledgerIndex } }, { $set: rest }, { upsert: true });
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === 11000)) throw error; // a newer share is stored
      }
      return true;
    }
    case "assistanceRequest": {
      const r = body.value;
      await insertOnce<AssistanceRequestDoc>(ctx.db, ASSISTANCE, {
        _id: record.messageId,
        requester: header.senderParty,
        requestedFrom: [...header.recipientParties],
        direction: record.direction,
        caseReference: r.caseReference,
        caseShareId: r.caseShareId,
        request: texts(r.request),
        legalBasis: r.legalBasis,
        urgency: r.urgency || "routine",
        kinds: [...r.assistanceKinds],
        attachments: attachmentsMeta(r.attachments),
        ...(r.deadline ? { deadline: timestampDate(r.deadline) } : {}),
        createdAt,
        ledgerIndex: record.ledgerIndex,
      });
      return true;
    }
    case "assistanceResponse": {
      const r = body.value;
      await insertOnce<AssistanceResponseDoc>(ctx.db, ASSISTANCE_RESPONSES, {
        _id: record.messageId,
        requestId: header.replyTo,
        from: header.senderParty,
        status: r.status,
        answer: texts(r.answer),
        refusalReason: r.refusalReason,
        responderReference: r.responderReference,
        attachments: attachmentsMeta(r.attachments),
        createdAt,
        ledgerIndex: record.ledgerIndex,
      });
      return true;
    }
    default:
      return false;
  }
}

export async function initCaseViews(db: Db): Promise<void> {
  await db.collection(CASES).createIndex({ owner: 1, caseReference: 1 });
  await db.collection(ASSISTANCE).createIndex({ createdAt: -1 });
  await db.collection(ASSISTANCE).createIndex({ caseReference: 1 });
  await db.collection(ASSISTANCE_RESPONSES).createIndex({ requestId: 1 });
}

// ---- Reading --------------------------------------------------------------------------------

export interface AssistanceView extends AssistanceRequestDoc {
  /** Each asked party's current status ("pending" before any response). */
  statusByParty: Record<string, string>;
  /** "pending", "received", "in-progress", "answered", "refused", or "partly-answered". */
  status: string;
  /** Past the deadline with at least one asked party not finished (answered or refused). */
  overdue: boolean;
  responses: AssistanceResponseDoc[];
}

export function assistanceStatus(request: AssistanceRequestDoc, responses: readonly AssistanceResponseDoc[], now: Date): AssistanceView {
  const ordered = [...responses].sort((a, b) => a.ledgerIndex - b.ledgerIndex);
  const statusByParty: Record<string, string> = {};
  for (const party of request.requestedFrom) statusByParty[party] = "pending";
  for (const r of ordered) if (r.from in statusByParty) statusByParty[r.from] = r.status;
  const statuses = Object.values(statusByParty);
  const allFinal = statuses.every((s) => FINAL.has(s));
  let status: string;
  if (allFinal) status = statuses.every((s) => s === "refused") ? "refused" : statuses.every((s) => s === "answered") ? "answered" : "partly-answered";
  else if (statuses.includes("in-progress")) status = "in-progress";
  else if (statuses.includes("received") || statuses.some((s) => FINAL.has(s))) status = "received";
  else status = "pending";
  const overdue = request.deadline !== undefined && now.getTime() > request.deadline.getTime() && !allFinal;
  return { ...request, statusByParty, status, overdue, responses: ordered };
}

/** One assistance request with its responses, status and overdue flag at `now`. */
export async function getAssistance(db: Db, requestId: string, now: Date = new Date()): Promise<AssistanceView | undefined> {
  const request = await db.collection<AssistanceRequestDoc>(ASSISTANCE).findOne({ _id: requestId });
  if (!request) return undefined;
  const responses = await db.collection<AssistanceResponseDoc>(ASSISTANCE_RESPONSES).find({ requestId }).toArray();
  return assistanceStatus(request, responses, now);
}

/** Assistance requests newest first, with status and overdue flag at `now`. */
export async function listAssistance(db: Db, options: { now?: Date; overdueOnly?: boolean; limit?: number } = {}): Promise<AssistanceView[]> {
  const now = options.now ?? new Date();
  const requests = await db.collection<AssistanceRequestDoc>(ASSISTANCE).find({}).sort({ createdAt: -1 }).limit(options.limit ?? 200).toArray();
  const ids = requests.map((r) => r._id);
  const responses = ids.length ? await db.collection<AssistanceResponseDoc>(ASSISTANCE_RESPONSES).find({ requestId: { $in: ids } }).toArray() : [];
  const views = requests.map((r) => assistanceStatus(r, responses.filter((x) => x.requestId === r._id), now));
  return options.overdueOnly ? views.filter((v) => v.overdue) : views;
}

export async function getCase(db: Db, owner: string, caseReference: string): Promise<CaseViewDoc | null> {
  return db.collection<CaseViewDoc>(CASES).findOne({ _id: `${owner}:${caseReference}` });
}
