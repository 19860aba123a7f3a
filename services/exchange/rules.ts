/**
 * The receiver's checks on a verified message, in the order the protocol fixes
 * (docs/PROTOCOL.md §"Refusals"). Pure: the clock and the node's facts are parameters.
 */
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import { LiaisonError } from "../errors/index.ts";
import { PARTY_ID_PATTERN } from "../identity/party.ts";

/** RFC 9562 UUID, canonical lowercase form. */
export const MESSAGE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HANDLING_CODE_PATTERN = /^[A-Z0-9][A-Z0-9-]{0,63}$/;

export interface FreshnessPolicy {
  /** How far in the future a created time may be (clock skew between ministries). */
  clockSkewMs: number;
  /** How old a message may be when it first arrives (store-and-forward across outages). */
  maxMessageAgeMs: number;
}

export const DEFAULT_FRESHNESS: FreshnessPolicy = {
  clockSkewMs: 5 * 60_000,
  maxMessageAgeMs: 7 * 24 * 3600_000,
};

export function dateOf(ts: Timestamp | undefined): Date | undefined {
  return ts ? timestampDate(ts) : undefined;
}

/** The header fields every message must carry, checked before anything is looked up by them. */
export function checkHeaderShape(message: Message): asserts message is Message & { header: NonNullable<Message["header"]> } {
  const h = message.header;
  if (!h) throw new LiaisonError("SCHEMA_INVALID", "message header is missing");
  if (!MESSAGE_ID_PATTERN.test(h.messageId)) {
    throw new LiaisonError("SCHEMA_INVALID", "header.message_id must be a lowercase canonical UUID");
  }
  if (!PARTY_ID_PATTERN.test(h.senderParty)) throw new LiaisonError("SCHEMA_INVALID", "header.sender_party is not a party id");
  if (!h.createdAt) throw new LiaisonError("SCHEMA_INVALID", "header.created_at is missing");
}

export function checkRecipient(message: Message & { header: NonNullable<Message["header"]> }, self: string): void {
  if (!message.header.recipientParties.includes(self)) {
    throw new LiaisonError("NOT_A_RECIPIENT", `this node (${self}) is not among the message's recipients`);
  }
}

export function checkFreshness(
  message: Message & { header: NonNullable<Message["header"]> },
  now: Date,
  policy: FreshnessPolicy,
): void {
  const created = dateOf(message.header.createdAt)!.getTime();
  if (created > now.getTime() + policy.clockSkewMs) {
    throw new LiaisonError("MESSAGE_FROM_FUTURE", "header.created_at is ahead of this node's clock beyond the allowed skew");
  }
  if (created < now.getTime() - policy.maxMessageAgeMs) {
    throw new LiaisonError("MESSAGE_STALE", "header.created_at is older than this node accepts");
  }
  const expires = dateOf(message.header.expiresAt);
  if (expires && expires.getTime() <= now.getTime()) {
    throw new LiaisonError("MESSAGE_EXPIRED", "the message expired before it was delivered");
  }
}

/** Schema rules that protobuf cannot express. */
export function checkSchema(message: Message & { header: NonNullable<Message["header"]> }): void {
  const h = message.header;
  if (h.recipientParties.length === 0) throw new LiaisonError("SCHEMA_INVALID", "header.recipient_parties is empty");
  if (new Set(h.recipientParties).size !== h.recipientParties.length) {
    throw new LiaisonError("SCHEMA_INVALID", "header.recipient_parties has duplicates");
  }
  for (const party of h.recipientParties) {
    if (!PARTY_ID_PATTERN.test(party)) throw new LiaisonError("SCHEMA_INVALID", "header.recipient_parties holds an invalid party id");
  }
  if (h.recipientParties.includes(h.senderParty)) {
    throw new LiaisonError("SCHEMA_INVALID", "the sender cannot be one of the recipients");
  }
  for (const ref of [h.threadId, h.replyTo]) {
    if (ref !== "" && !MESSAGE_ID_PATTERN.test(ref)) {
      throw new LiaisonError("SCHEMA_INVALID", "header.thread_id and header.reply_to must be message ids");
    }
  }
  for (const code of h.handlingCodes) {
    if (!HANDLING_CODE_PATTERN.test(code)) throw new LiaisonError("SCHEMA_INVALID", "header.handling_codes holds an invalid code");
  }
  if (message.body.case === undefined) {
    throw new LiaisonError("SCHEMA_INVALID", "the message has no body, or a body this node does not know");
  }
  if (!h.draftedBy?.officerId || !h.approvedBy?.officerId) {
    throw new LiaisonError("TWO_PERSON_RULE", "header.drafted_by and header.approved_by must both name an officer");
  }
  if (h.draftedBy.officerId === h.approvedBy.officerId) {
    throw new LiaisonError("TWO_PERSON_RULE", "the approving officer must not be the drafting officer");
  }
}
