/** The notices views: their collections, documents and indexes. */
import type { JsonValue } from "@bufbuild/protobuf";
import type { Db } from "mongodb";
import type { SealedProtected } from "./protect.ts";

/** One document per notice, with its current state derived from its follow-ups. */
export const NOTICES = "view_notices";
/** One document per follow-up message (update, cancellation, partner response). */
export const NOTICE_EVENTS = "view_notice_events";

export interface LocalizedTextDoc {
  lang: string;
  text: string;
}

/** A notice version: what the original notice or an update carries. */
export interface NoticeVersion {
  messageId: string;
  reference: string;
  title: LocalizedTextDoc[];
  body: JsonValue;
  protected: SealedProtected;
  searchTokens: string[];
}

export interface ThreadEntry {
  messageId: string;
  /** "notice", "update", "cancellation", "response". */
  kind: string;
  from: string;
  createdAt: Date;
  ledgerIndex: number;
}

export interface PartnerResponseDoc {
  messageId: string;
  /** "hit", "located", "arrested", "no-record". */
  kind: string;
  details: LocalizedTextDoc[];
  location?: JsonValue;
  occurredAt?: Date;
  createdAt: Date;
}

export interface NoticeViewDoc {
  _id: string;
  kind: string;
  originator: string;
  recipients: string[];
  /** Whether this node sent the notice or received it. */
  direction: "sent" | "received";
  createdAt: Date;
  ledgerIndex: number;
  threadId: string;
  classification: number;
  handlingCodes: string[];
  original: NoticeVersion;
  // Derived from the follow-ups (recomputed; `rev` = the number of follow-ups applied).
  state: "active" | "updated" | "cancelled";
  reference: string;
  title: LocalizedTextDoc[];
  body: JsonValue;
  protected: SealedProtected;
  searchTokens: string[];
  version: number;
  updatedAt?: Date;
  cancellation?: { messageId: string; reasonCode: string; reason: LocalizedTextDoc[]; createdAt: Date };
  /** Party → its responses, in ledger order. */
  responses: Record<string, PartnerResponseDoc[]>;
  thread: ThreadEntry[];
  rev: number;
}

export interface NoticeEventDoc {
  _id: string;
  noticeId: string;
  kind: "update" | "cancellation" | "response";
  from: string;
  createdAt: Date;
  ledgerIndex: number;
  update?: NoticeVersion & { noticeKind: string; changeNote: LocalizedTextDoc[] };
  cancellation?: { reasonCode: string; reason: LocalizedTextDoc[] };
  response?: PartnerResponseDoc;
}

export async function initNoticeViews(db: Db): Promise<void> {
  const notices = db.collection(NOTICES);
  await notices.createIndex({ searchTokens: 1 });
  await notices.createIndex({ createdAt: -1 });
  await notices.createIndex({ threadId: 1 });
  await db.collection(NOTICE_EVENTS).createIndex({ noticeId: 1 });
}

export const NOTICE_COLLECTIONS: readonly string[] = [NOTICES, NOTICE_EVENTS];
