/**
 * The notices view (projection of recorded envelopes) and the business rules a receiver enforces
 * on notice follow-ups (docs/PROTOCOL.md §12.1).
 *
 * Projection is idempotent and order-independent per notice: the notice and each follow-up are
 * inserted once under their message id; the notice's current state is then recomputed from all
 * its follow-ups in ledger order and written only if it covers more follow-ups than what is
 * stored (`rev`), so concurrent projections — or several node processes — cannot go backwards.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Db } from "mongodb";
import { toJson } from "@bufbuild/protobuf";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import { LocationSchema } from "../../gen/liaison/v1/common_pb.ts";
import { PartnerResponseKind } from "../../gen/liaison/v1/notices_pb.ts";
import type { RecordedEnvelope } from "../exchange/index.ts";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { noticeOf, noticeOfUpdate, protectedPartiesOf, viewJson, type NoticeBody } from "./body.ts";
import {
  NOTICE_EVENTS,
  NOTICES,
  type LocalizedTextDoc,
  type NoticeEventDoc,
  type NoticeVersion,
  type NoticeViewDoc,
  type PartnerResponseDoc,
  type ThreadEntry,
} from "./collections.ts";
import { sealProtected } from "./protect.ts";
import { noticeSearchTokens } from "./search.ts";

const log = createLogger("notices");

export interface NoticesContext {
  db: Db;
  self: string;
  /** 32-byte node data key; absent = protected parties are stored redacted. */
  dataKey?: Uint8Array;
}

const RESPONSE_KINDS: Record<number, string> = {
  [PartnerResponseKind.HIT]: "hit",
  [PartnerResponseKind.LOCATED]: "located",
  [PartnerResponseKind.ARRESTED]: "arrested",
  [PartnerResponseKind.NO_RECORD]: "no-record",
};

function texts(list: readonly { lang: string; text: string }[] | undefined): LocalizedTextDoc[] {
  return (list ?? []).map((t) => ({ lang: t.lang, text: t.text }));
}

type HeaderedMessage = Message & { header: NonNullable<Message["header"]> };

function headerOf(message: Message): NonNullable<Message["header"]> {
  if (!message.header) throw new TypeError("a recorded message always has a header");
  return message.header;
}

function versionOf(body: NoticeBody, noticeId: string, messageId: string, ctx: NoticesContext): NoticeVersion {
  return {
    messageId,
    reference: body.value.summary?.reference ?? "",
    title: texts(body.value.summary?.title),
    body: viewJson(body),
    protected: sealProtected(protectedPartiesOf(body), noticeId, messageId, ctx.dataKey),
    searchTokens: noticeSearchTokens(body),
  };
}

// ---- Rules ---------------------------------------------------------------------------------

function refuse(reason: string): never {
  throw new LiaisonError("BUSINESS_RULE", reason);
}

/**
 * §12.1: a follow-up must name, in `reply_to`, a notice this node knows; an update or a
 * cancellation comes only from the notice's originator, and not after a cancellation; an update
 * keeps the notice's kind; a partner response comes only from a recipient of the notice.
 * Resolves for messages that are not notice follow-ups.
 */
export async function checkNoticeRules(message: Message, senderParty: string, ctx: NoticesContext): Promise<void> {
  const body = message.body;
  if (body.case !== "noticeUpdate" && body.case !== "noticeCancellation" && body.case !== "partnerResponse") return;
  const replyTo = headerOf(message).replyTo;
  if (replyTo === "") refuse(`a ${body.case} must name the notice in header.reply_to`);
  const notice = await ctx.db.collection<NoticeViewDoc>(NOTICES).findOne({ _id: replyTo }, { projection: { originator: 1, recipients: 1, state: 1, kind: 1 } });
  if (!notice) refuse("header.reply_to does not name a notice this node knows");
  if (body.case === "partnerResponse") {
    if (!notice.recipients.includes(senderParty)) refuse("a partner response may come only from a party that received the notice");
    if (body.value.kind === PartnerResponseKind.UNSPECIFIED) refuse("a partner response must state its kind");
    return;
  }
  if (notice.originator !== senderParty) refuse("only the notice's originator may update or cancel it");
  if (notice.state === "cancelled") refuse("the notice was cancelled and cannot change any more");
  if (body.case === "noticeUpdate") {
    const next = noticeOfUpdate(body.value);
    if (!next) refuse("a notice update must carry the new notice");
    if (next.case !== notice.kind) refuse("a notice update must keep the notice's kind");
  } else if (body.value.reasonCode === "") {
    refuse("a notice cancellation must give a reason code");
  }
}

// ---- Projection -----------------------------------------------------------------------------

/** Project one recorded message into the notices view; false when it is not a notice message. */
export async function projectNotice(record: RecordedEnvelope, ctx: NoticesContext): Promise<boolean> {
  const message = record.message as HeaderedMessage;
  const header = headerOf(message);
  const created = timestampDate(header.createdAt!);
  const notice = noticeOf(message);
  if (notice) {
    const original = versionOf(notice, record.messageId, record.messageId, ctx);
    const doc: NoticeViewDoc = {
      _id: record.messageId,
      kind: notice.case,
      originator: header.senderParty,
      recipients: [...header.recipientParties],
      direction: record.direction,
      createdAt: created,
      ledgerIndex: record.ledgerIndex,
      threadId: header.threadId || record.messageId,
      classification: header.classification,
      handlingCodes: [...header.handlingCodes],
      original,
      state: "active",
      reference: original.reference,
      title: original.title,
      body: original.body,
      protected: original.protected,
      searchTokens: original.searchTokens,
      version: 0,
      responses: {},
      thread: [{ messageId: record.messageId, kind: "notice", from: header.senderParty, createdAt: created, ledgerIndex: record.ledgerIndex }],
      rev: 0,
    };
    const { _id, ...rest } = doc;
    const inserted = await ctx.db.collection<NoticeViewDoc>(NOTICES).updateOne({ _id }, { $setOnInsert: rest }, { upsert: true });
    // Follow-ups are accepted only for known notices and projected in ledger order, so a new
    // notice has none yet; a repeated projection recomputes in case one was stored meanwhile.
    if (inserted.upsertedCount !== 1) await recomputeNotice(ctx.db, record.messageId);
    log.debug("notice projected", { messageId: record.messageId, kind: notice.case, direction: record.direction });
    return true;
  }
  const base = { noticeId: header.replyTo, from: header.senderParty, createdAt: created, ledgerIndex: record.ledgerIndex };
  let event: Omit<NoticeEventDoc, "_id">;
  const body = message.body;
  switch (body.case) {
    case "noticeUpdate": {
      const next = noticeOfUpdate(body.value);
      if (!next) return true;
      event = { ...base, kind: "update", update: { ...versionOf(next, header.replyTo, record.messageId, ctx), noticeKind: next.case, changeNote: texts(body.value.changeNote) } };
      break;
    }
    case "noticeCancellation":
      event = { ...base, kind: "cancellation", cancellation: { reasonCode: body.value.reasonCode, reason: texts(body.value.reason) } };
      break;
    case "partnerResponse": {
      const r = body.value;
      const response: PartnerResponseDoc = {
        messageId: record.messageId,
        kind: RESPONSE_KINDS[r.kind] ?? "unspecified",
        details: texts(r.details),
        createdAt: created,
        ...(r.location ? { location: toJson(LocationSchema, r.location) } : {}),
        ...(r.occurredAt ? { occurredAt: timestampDate(r.occurredAt) } : {}),
      };
      event = { ...base, kind: "response", response };
      break;
    }
    default:
      return false;
  }
  if (header.replyTo === "") return true;
  await ctx.db.collection<NoticeEventDoc>(NOTICE_EVENTS).updateOne({ _id: record.messageId }, { $setOnInsert: event }, { upsert: true });
  await recomputeNotice(ctx.db, header.replyTo);
  return true;
}

/**
 * Recompute a notice's current state from its follow-ups in ledger order. Writes only when it
 * covers more follow-ups than the stored state (`rev`), so it never goes backwards.
 */
export async function recomputeNotice(db: Db, noticeId: string): Promise<void> {
  const notices = db.collection<NoticeViewDoc>(NOTICES);
  const notice = await notices.findOne({ _id: noticeId });
  if (!notice) return;
  const events = await db.collection<NoticeEventDoc>(NOTICE_EVENTS).find({ noticeId }).toArray();
  if (events.length === 0 || notice.rev >= events.length) return;
  events.sort((a, b) => a.ledgerIndex - b.ledgerIndex || (a._id < b._id ? -1 : 1));
  let current: NoticeVersion = notice.original;
  let state: NoticeViewDoc["state"] = "active";
  let version = 0;
  let updatedAt: Date | undefined;
  let cancellation: NoticeViewDoc["cancellation"];
  const responses: Record<string, PartnerResponseDoc[]> = {};
  const thread: ThreadEntry[] = [notice.thread[0]!];
  for (const e of events) {
    thread.push({ messageId: e._id, kind: e.kind, from: e.from, createdAt: e.createdAt, ledgerIndex: e.ledgerIndex });
    if (e.kind === "response" && e.response) {
      (responses[e.from] ??= []).push(e.response);
    } else if (e.from !== notice.originator) {
      continue; // only the originator changes a notice (refused on receipt; ignored here too)
    } else if (e.kind === "update" && e.update && state !== "cancelled") {
      const { noticeKind: _k, changeNote: _c, ...next } = e.update;
      current = next;
      version += 1;
      updatedAt = e.createdAt;
      state = "updated";
    } else if (e.kind === "cancellation" && e.cancellation && state !== "cancelled") {
      state = "cancelled";
      cancellation = { messageId: e._id, ...e.cancellation, createdAt: e.createdAt };
    }
  }
  await notices.updateOne(
    { _id: noticeId, rev: { $lt: events.length } },
    {
      $set: {
        state,
        reference: current.reference,
        title: current.title,
        body: current.body,
        protected: current.protected,
        searchTokens: current.searchTokens,
        version,
        responses,
        thread,
        rev: events.length,
        ...(updatedAt ? { updatedAt } : {}),
        ...(cancellation ? { cancellation } : {}),
      },
    },
  );
}

/** A notice as the console shows it (protected parties: counts and state only, never the sealed bytes). */
export async function getNotice(db: Db, noticeId: string): Promise<NoticeViewDoc | null> {
  // Stripped here rather than by a nested exclusion projection (see the note in the report on
  // the embedded store).
  const doc = await db.collection<NoticeViewDoc>(NOTICES).findOne({ _id: noticeId });
  if (!doc) return null;
  const { iv: _iv, ciphertext: _c, tag: _t, ...counts } = doc.protected;
  const { iv: _oiv, ciphertext: _oc, tag: _ot, ...originalCounts } = doc.original.protected;
  return { ...doc, protected: counts, original: { ...doc.original, protected: originalCounts } };
}
