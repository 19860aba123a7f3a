/**
 * Domain views and rules: the one door through which the node reaches the domain contexts
 * (notices, cases, campaigns, minutes). Views are projections of recorded envelopes and can be
 * rebuilt from them.
 */
import type { Db } from "mongodb";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import type { RecordedEnvelope } from "../exchange/index.ts";

export interface DomainContext {
  db: Db;
  /** This node's party id. */
  self: string;
}

/** Business rules a receiver enforces on a verified message (BUSINESS_RULE on breach). */
export async function checkBusinessRules(_message: Message, _senderParty: string, _ctx: DomainContext): Promise<void> {
  // Filled by the domain contexts.
}

/** Update every view with one recorded message. Idempotent per message id. */
export async function projectRecorded(_record: RecordedEnvelope, _ctx: DomainContext): Promise<void> {
  // Filled by the domain contexts.
}

/** Indexes the views rely on. */
export async function initViews(_ctx: DomainContext): Promise<void> {
  // Filled by the domain contexts.
}
