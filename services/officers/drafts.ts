/**
 * Drafts and the two-person rule, in the `drafts` collection:
 *
 *  {_id: draftId (UUID), state: awaiting_approval | approved | rejected, message: the drafter's
 *   partial Message (protobuf bytes), bodyKind, recipients, draftedBy, createdAt,
 *   decidedBy?, decidedAt?, rejectionReason?,
 *   messageId?, messageCreatedAt?   — fixed when approved, so the sent message is reproducible
 *   approvalLedgerIndex?            — the "draft.approved" entry
 *   submittedAt?}                   — sealed and queued in the outbox
 *
 * A draft leaves `awaiting_approval` exactly once: the decision is one findOneAndUpdate on
 * {_id, state: awaiting_approval}, so of two concurrent approvals (or an approval and a
 * rejection) one wins and the other is refused. The approver must not be the drafter; the
 * filter enforces that too, whatever the caller checked before.
 */
import type { Collection, Db } from "mongodb";
import { Binary } from "mongodb";
import { LiaisonError } from "../errors/index.ts";

export type DraftStateName = "awaiting_approval" | "approved" | "rejected";

/** An officer as named on a draft and inside the signed message. */
export interface OfficerRef {
  officerId: string;
  username: string;
  displayName: string;
  /** The role the officer acted in ("drafter", "approver"). */
  role: string;
}

export interface DraftDoc {
  _id: string;
  state: DraftStateName;
  message: Binary;
  bodyKind: string;
  recipients: string[];
  draftedBy: OfficerRef;
  createdAt: Date;
  decidedBy?: OfficerRef;
  decidedAt?: Date;
  rejectionReason?: string;
  messageId?: string;
  messageCreatedAt?: Date;
  approvalLedgerIndex?: number;
  submittedAt?: Date;
}

export interface DraftPageCursor {
  createdAt: Date;
  id: string;
}

export class DraftStore {
  readonly drafts: Collection<DraftDoc>;

  constructor(db: Db) {
    this.drafts = db.collection<DraftDoc>("drafts");
  }

  async init(): Promise<void> {
    await this.drafts.createIndex({ createdAt: -1, _id: -1 });
    await this.drafts.createIndex({ state: 1, createdAt: -1 });
  }

  async create(doc: Omit<DraftDoc, "state">): Promise<DraftDoc> {
    const full: DraftDoc = { ...doc, state: "awaiting_approval" };
    await this.drafts.insertOne(full);
    return full;
  }

  async get(draftId: string): Promise<DraftDoc | null> {
    return this.drafts.findOne({ _id: draftId });
  }

  /** Newest first, keyset-paginated on (createdAt, _id). */
  async list(state: DraftStateName | undefined, limit: number, after?: DraftPageCursor): Promise<DraftDoc[]> {
    const filter: Record<string, unknown> = {};
    if (state) filter.state = state;
    if (after) {
      filter.createdAt = { $lte: after.createdAt };
      filter.$or = [{ createdAt: { $lt: after.createdAt } }, { _id: { $lt: after.id } }];
    }
    return this.drafts.find(filter).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray();
  }

  /** Why a draft cannot be decided now (NOT_FOUND, BUSINESS_RULE), or nothing. */
  static checkDecidable(draft: DraftDoc | null, draftId: string): asserts draft is DraftDoc {
    if (!draft) throw new LiaisonError("NOT_FOUND", `no draft with id ${draftId}`);
    if (draft.state !== "awaiting_approval") {
      throw new LiaisonError("BUSINESS_RULE", `draft ${draftId} is already ${draft.state.replace("_", " ")}`);
    }
  }

  /**
   * Approve atomically: the one call that moves the draft from awaiting_approval to approved,
   * fixing the message id and created time. Resolves with the approved draft, or throws when
   * another decision won (BUSINESS_RULE) or the approver drafted it (TWO_PERSON_RULE).
   */
  async claimApproval(draftId: string, approver: OfficerRef, messageId: string, at: Date): Promise<DraftDoc> {
    const after = await this.drafts.findOneAndUpdate(
      { _id: draftId, state: "awaiting_approval", "draftedBy.officerId": { $ne: approver.officerId } },
      { $set: { state: "approved", decidedBy: approver, decidedAt: at, messageId, messageCreatedAt: at } },
      { returnDocument: "after" },
    );
    if (after) return after;
    const now = await this.get(draftId);
    DraftStore.checkDecidable(now, draftId);
    if (now.draftedBy.officerId === approver.officerId) {
      throw new LiaisonError("TWO_PERSON_RULE", "the approving officer must not be the officer who drafted the message");
    }
    throw new LiaisonError("BUSINESS_RULE", `draft ${draftId} was decided concurrently`);
  }

  async markApprovalRecorded(draftId: string, ledgerIndex: number): Promise<void> {
    await this.drafts.updateOne({ _id: draftId }, { $set: { approvalLedgerIndex: ledgerIndex } });
  }

  async markSubmitted(draftId: string, at: Date): Promise<void> {
    await this.drafts.updateOne({ _id: draftId }, { $set: { submittedAt: at } });
  }

  /** Approved drafts not yet sealed and queued (a crash between approval and submission). */
  async unsubmitted(): Promise<DraftDoc[]> {
    return this.drafts.find({ state: "approved", submittedAt: { $exists: false } }).toArray();
  }

  /** Reject atomically (one decision per draft). */
  async reject(draftId: string, by: OfficerRef, reason: string, at: Date): Promise<DraftDoc> {
    const after = await this.drafts.findOneAndUpdate(
      { _id: draftId, state: "awaiting_approval" },
      { $set: { state: "rejected", decidedBy: by, decidedAt: at, rejectionReason: reason } },
      { returnDocument: "after" },
    );
    if (after) return after;
    DraftStore.checkDecidable(await this.get(draftId), draftId);
    throw new LiaisonError("BUSINESS_RULE", `draft ${draftId} was decided concurrently`);
  }
}
