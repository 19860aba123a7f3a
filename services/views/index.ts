/**
 * Domain views and rules: the one door through which the node reaches the domain contexts
 * (notices, cases, campaigns, minutes). Views are projections of recorded envelopes and can be
 * rebuilt from them: `rebuildViews` over the records in ledger order ends in the same state as
 * the live projection.
 */
import { fromBinary } from "@bufbuild/protobuf";
import type { Binary, Db } from "mongodb";
import { SignedEnvelopeSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import { MessageSchema, type Message } from "../../gen/liaison/v1/message_pb.ts";
import type { RecordedEnvelope } from "../exchange/index.ts";
import { createLogger } from "../logging/index.ts";
import { checkNoticeRules, initNoticeViews, projectNotice, NOTICE_COLLECTIONS } from "../notices/index.ts";
import { checkCaseRules, initCaseViews, projectCase, CASE_COLLECTIONS } from "../cases/index.ts";
import { checkCampaignRules, initCampaignViews, projectCampaign, CAMPAIGN_COLLECTIONS } from "../campaigns/index.ts";
import {
  checkMinutesRules,
  initMinutesViews,
  projectMinutes,
  MINUTES_COLLECTIONS,
  type CosignatureVerifier,
  type LedgerInclusionProof,
  type PartyEvidence,
} from "../minutes/index.ts";

const log = createLogger("views");

export interface DomainContext {
  db: Db;
  /** This node's party id. */
  self: string;
  /**
   * The node's 32-byte data key for protected parties (informants, victims) at rest
   * (AES-256-GCM). Absent: protected parties are stored redacted (counts only).
   */
  dataKey?: Uint8Array;
  /** Officer roles allowed to read protected parties (default: "protected-reader"). */
  protectedReaderRoles?: readonly string[];
  /**
   * Verify a minutes co-signature: the detached JWS (typ "liaison-minutes-cosignature+jws") over
   * the exact Minutes message bytes, with a key of `party` valid at `time`. Throws if it does not
   * verify. Absent: only the JWS shape is checked on receipt (the bundle verifier checks all).
   */
  verifyCosignature?: CosignatureVerifier;
  /** The CA certificate and key attestations of a party (own or partner), for minutes bundles. */
  partyEvidence?: (party: string) => PartyEvidence | undefined | Promise<PartyEvidence | undefined>;
  /** Inclusion proof of this node's ledger entry `index`, for minutes bundles. */
  inclusionProof?: (index: number) => Promise<LedgerInclusionProof>;
}

/** Every collection the views own (dropped and rebuilt by `rebuildViews`). */
export const VIEW_COLLECTIONS: readonly string[] = [...NOTICE_COLLECTIONS, ...CASE_COLLECTIONS, ...CAMPAIGN_COLLECTIONS, ...MINUTES_COLLECTIONS];

/**
 * Business rules a receiver enforces on a verified message (BUSINESS_RULE on breach),
 * docs/PROTOCOL.md §12. Runs after the schema and two-person checks.
 */
export async function checkBusinessRules(message: Message, senderParty: string, ctx: DomainContext): Promise<void> {
  switch (message.body.case) {
    case "noticeUpdate":
    case "noticeCancellation":
    case "partnerResponse":
      return checkNoticeRules(message, senderParty, ctx);
    case "caseShare":
    case "assistanceRequest":
    case "assistanceResponse":
      return checkCaseRules(message, senderParty, ctx);
    case "campaign":
    case "campaignReport":
      return checkCampaignRules(message, senderParty, ctx);
    case "minutes":
    case "minutesCosignature":
      return checkMinutesRules(message, senderParty, ctx);
    default:
      return;
  }
}

/** Update every view with one recorded message (sent or received). Idempotent per message id. */
export async function projectRecorded(record: RecordedEnvelope, ctx: DomainContext): Promise<void> {
  if (await projectNotice(record, ctx)) return;
  if (await projectCase(record, ctx)) return;
  if (await projectCampaign(record, ctx)) return;
  await projectMinutes(record, ctx);
}

/** Indexes the views rely on; idempotent. */
export async function initViews(ctx: DomainContext): Promise<void> {
  await initNoticeViews(ctx.db);
  await initCaseViews(ctx.db);
  await initCampaignViews(ctx.db);
  await initMinutesViews(ctx.db);
}

/** Drop every view collection (the records themselves are untouched). */
export async function dropViews(ctx: DomainContext): Promise<void> {
  const existing = new Set((await ctx.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of VIEW_COLLECTIONS) if (existing.has(name)) await ctx.db.collection(name).drop();
}

/**
 * Drop the views and project `records` again, in the order given (ledger order). Resolves with
 * the number of records projected.
 */
export async function rebuildViews(ctx: DomainContext, records: AsyncIterable<RecordedEnvelope>): Promise<number> {
  await dropViews(ctx);
  await initViews(ctx);
  let n = 0;
  for await (const record of records) {
    await projectRecorded(record, ctx);
    n += 1;
  }
  log.info("views rebuilt", { records: n });
  return n;
}

interface StoredEnvelope {
  _id: string;
  envelope: Binary;
  ledgerIndex?: number;
  receivedAt?: Date;
  createdAt?: Date;
  state?: string;
}

/**
 * Every envelope this node recorded (`envelopes_sent`, and `envelopes_received` in state
 * "recorded"), decoded, in ledger order: the input of `rebuildViews`. The bytes were verified
 * when they were recorded.
 */
export async function* recordedEnvelopes(db: Db): AsyncGenerator<RecordedEnvelope> {
  const sent = await db.collection<StoredEnvelope>("envelopes_sent").find({}, { projection: { envelope: 1, ledgerIndex: 1, createdAt: 1 } }).toArray();
  const received = await db
    .collection<StoredEnvelope>("envelopes_received")
    .find({ state: "recorded" }, { projection: { envelope: 1, ledgerIndex: 1, receivedAt: 1 } })
    .toArray();
  const all = [
    ...sent.map((d) => ({ d, direction: "sent" as const, at: d.createdAt })),
    ...received.map((d) => ({ d, direction: "received" as const, at: d.receivedAt })),
  ].sort((a, b) => (a.d.ledgerIndex ?? 0) - (b.d.ledgerIndex ?? 0));
  for (const { d, direction, at } of all) {
    const envelopeBytes = new Uint8Array(d.envelope.buffer);
    const envelope = fromBinary(SignedEnvelopeSchema, envelopeBytes);
    yield {
      direction,
      messageId: d._id,
      message: fromBinary(MessageSchema, envelope.message),
      envelopeBytes,
      ledgerIndex: d.ledgerIndex ?? 0,
      recordedAt: at ?? new Date(0),
    };
  }
}
