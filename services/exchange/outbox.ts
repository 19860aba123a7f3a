/**
 * The durable outbox: one queue per partner in MongoDB, delivered in order, one worker per
 * partner at a time (a lease), retries with exponential backoff and full jitter. A partner down
 * for hours loses nothing; a node restarted — or killed — mid-delivery resumes where it was:
 * the entry is still pending, the same envelope bytes go again, and the receiver answers a
 * replay with its earlier receipt, so nothing is recorded twice.
 *
 * Collections:
 *  - `outbox` {_id: "<partner>:<seq>", partner, seq, messageId, state, attempts, nextAttemptAt,
 *    enqueuedAt, lastError?, lastErrorCode?, correlationId?}; unique (partner, seq) and (partner, messageId).
 *  - `outbox_sequences` {_id: partner, seq}: the per-partner order.
 *  - `leases` {_id: "outbox:<partner>", owner, expiresAt}.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter, once } from "node:events";
import type { Collection, Db } from "mongodb";
import { MongoServerError } from "mongodb";
import { LiaisonError, isRetryable, refusalCodeOf } from "../errors/index.ts";
import { createLogger, currentCorrelationId, withCorrelationId } from "../logging/index.ts";
import type { PeerClient } from "../transport/index.ts";
import type { SealedEnvelope, Sender } from "./send.ts";

export interface OutboxEntry {
  _id: string;
  partner: string;
  seq: number;
  messageId: string;
  state: "pending" | "delivered" | "rejected";
  attempts: number;
  nextAttemptAt: Date;
  enqueuedAt: Date;
  deliveredAt?: Date;
  lastError?: string;
  /** The partner's own refusal code (e.g. STORAGE_FULL, RATE_LIMITED), or ours, for the last failure. */
  lastErrorCode?: string;
  /** The correlation id of the request that queued it (e.g. the gateway's), sent with every attempt. */
  correlationId?: string;
}

interface SequenceDoc {
  _id: string;
  seq: number;
}

interface LeaseDoc {
  _id: string;
  owner: string;
  expiresAt: Date;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 5 * 60_000 };
const LEASE_MS = 15_000;
/** Pending entries read at once per partner (still delivered one after the other). */
const OUTBOX_BATCH = 32;

/** Exponential backoff with full jitter: uniform in [0, min(max, initial·2^attempt)]. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(policy.initialMs / 4, Math.floor(random() * ceiling));
}

export interface PartnerQueueStatus {
  partner: string;
  depth: number;
  oldestPendingAt?: Date;
  lastContactAt?: Date;
}

export interface OutboxOptions {
  db: Db;
  sender: Sender;
  clientFor: (partner: string) => PeerClient;
  backoff?: BackoffPolicy;
  /** Owner id of this process's leases. */
  owner?: string;
}

export class Outbox {
  private readonly log = createLogger("outbox");
  readonly entries: Collection<OutboxEntry>;
  private readonly sequences: Collection<SequenceDoc>;
  private readonly leases: Collection<LeaseDoc>;
  private readonly owner: string;
  private readonly backoff: BackoffPolicy;
  private readonly workers = new Map<string, { wake: () => void; done: Promise<void> }>();
  private readonly lastContact = new Map<string, Date>();
  /** Emits `${partner}:${messageId}` with the final state when an entry is settled by this process. */
  private readonly settledEvents = new EventEmitter().setMaxListeners(0);
  private stopped = false;

  constructor(private readonly options: OutboxOptions) {
    this.entries = options.db.collection<OutboxEntry>("outbox");
    this.sequences = options.db.collection<SequenceDoc>("outbox_sequences");
    this.leases = options.db.collection<LeaseDoc>("leases");
    this.owner = options.owner ?? randomUUID();
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  async init(): Promise<void> {
    await this.entries.createIndex({ partner: 1, seq: 1 }, { unique: true });
    await this.entries.createIndex({ partner: 1, messageId: 1 }, { unique: true });
    await this.entries.createIndex({ state: 1, partner: 1, seq: 1 });
  }

  /**
   * Queue a sealed envelope for each of its recipients. Idempotent by (partner, message id):
   * enqueuing again is a no-op.
   */
  async enqueue(sealed: SealedEnvelope): Promise<void> {
    const now = new Date();
    const correlationId = currentCorrelationId();
    for (const partner of sealed.recipients) {
      const existing = await this.entries.findOne({ partner, messageId: sealed.messageId });
      if (existing) continue;
      const { seq } = (await this.sequences.findOneAndUpdate(
        { _id: partner },
        { $inc: { seq: 1 } },
        { upsert: true, returnDocument: "after" },
      ))!;
      try {
        await this.entries.insertOne({
          _id: `${partner}:${String(seq).padStart(12, "0")}`,
          partner,
          seq,
          messageId: sealed.messageId,
          state: "pending",
          attempts: 0,
          nextAttemptAt: now,
          enqueuedAt: now,
          ...(correlationId ? { correlationId } : {}),
        });
      } catch (error) {
        // A concurrent enqueue of the same message won: the (partner, messageId) index says so.
        if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
      }
      this.kick(partner);
    }
  }

  /**
   * The partner is reachable again (it called us, or an operator says so): retry its queue now,
   * with the backoff started afresh.
   */
  async retryNow(partner: string): Promise<void> {
    const now = new Date();
    await this.entries.updateMany({ partner, state: "pending", nextAttemptAt: { $gt: now } }, { $set: { nextAttemptAt: now } });
    this.kick(partner);
  }

  /** Start (or wake) the worker of one partner. */
  kick(partner: string): void {
    if (this.stopped) return;
    const worker = this.workers.get(partner);
    if (worker) return worker.wake();
    let wake: () => void = () => undefined;
    let sleeping: Promise<void> = Promise.resolve();
    const sleep = (ms: number) => {
      sleeping = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      return sleeping;
    };
    const done = this.run(partner, sleep).catch((error: unknown) => {
      this.log.error("outbox worker failed", { partner, cause: error });
    });
    this.workers.set(partner, { wake: () => wake(), done });
    void done.finally(async () => {
      this.workers.delete(partner);
      // An entry queued while the worker was finishing: start again.
      if (!this.stopped && (await this.entries.countDocuments({ partner, state: "pending" })) > 0) this.kick(partner);
    });
  }

  /** Start workers for every partner with pending entries (at startup). */
  async resume(): Promise<void> {
    const partners = await this.entries.distinct("partner", { state: "pending" });
    for (const partner of partners) this.kick(partner as string);
  }

  private async takeLease(partner: string): Promise<boolean> {
    const now = new Date();
    try {
      const result = await this.leases.findOneAndUpdate(
        { _id: `outbox:${partner}`, $or: [{ owner: this.owner }, { expiresAt: { $lt: now } }] },
        { $set: { owner: this.owner, expiresAt: new Date(now.getTime() + LEASE_MS) } },
        { upsert: true, returnDocument: "after" },
      );
      return result?.owner === this.owner;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) return false; // held by another process
      throw error;
    }
  }

  private readonly leaseValidUntil = new Map<string, number>();

  /** Hold the partner's lease, renewing it only once half of it has run (not at every message). */
  private async holdLease(partner: string): Promise<boolean> {
    if (Date.now() < (this.leaseValidUntil.get(partner) ?? 0) - LEASE_MS / 2) return true;
    const held = await this.takeLease(partner);
    if (held) this.leaseValidUntil.set(partner, Date.now() + LEASE_MS);
    else this.leaseValidUntil.delete(partner);
    return held;
  }

  private async releaseLease(partner: string): Promise<void> {
    this.leaseValidUntil.delete(partner);
    await this.leases.deleteOne({ _id: `outbox:${partner}`, owner: this.owner });
  }

  private async run(partner: string, sleep: (ms: number) => Promise<void>): Promise<void> {
    while (!this.stopped) {
      try {
        if (!(await this.holdLease(partner))) {
          await sleep(LEASE_MS / 3);
          continue;
        }
        // The next few in order; each is delivered (or finally refused) before the one after it.
        const batch = await this.entries.find({ partner, state: "pending" }).sort({ seq: 1 }).limit(OUTBOX_BATCH).toArray();
        if (batch.length === 0) {
          await this.releaseLease(partner);
          return;
        }
        const wait = batch[0]!.nextAttemptAt.getTime() - Date.now();
        if (wait > 0) {
          await sleep(Math.min(wait, LEASE_MS / 3));
          continue;
        }
        for (const entry of batch) {
          if (this.stopped || !(await this.holdLease(partner))) break;
          if (!(await this.attempt(entry))) break; // to be retried: nothing after it goes first
        }
      } catch (error) {
        if (this.stopped) return;
        this.log.error("outbox worker error; retrying", { partner, cause: error });
        await sleep(1000);
      }
    }
  }

  /** One delivery attempt; true when the entry is settled (delivered or finally refused). */
  private async attempt(entry: OutboxEntry): Promise<boolean> {
    const sealed = await this.options.sender.sealedById(entry.messageId);
    if (!sealed) {
      throw new LiaisonError("INTERNAL", `outbox entry ${entry._id} names a message that was never sealed`);
    }
    try {
      await withCorrelationId(entry.correlationId, () => this.options.sender.deliverOnce(sealed, entry.partner, this.options.clientFor(entry.partner)));
      this.lastContact.set(entry.partner, new Date());
      await this.entries.updateOne(
        { _id: entry._id },
        { $set: { state: "delivered", deliveredAt: new Date() }, $inc: { attempts: 1 }, $unset: { lastError: "", lastErrorCode: "" } },
      );
      this.settledEvents.emit(`${entry.partner}:${entry.messageId}`, "delivered");
      return true;
    } catch (error) {
      const e = error instanceof LiaisonError ? error : new LiaisonError("INTERNAL", "delivery failed", { cause: error });
      if (e.hasLabel("PeerRejected")) {
        this.lastContact.set(entry.partner, new Date());
        await this.entries.updateOne({ _id: entry._id }, { $set: { state: "rejected", lastError: e.message, lastErrorCode: refusalCodeOf(e) }, $inc: { attempts: 1 } });
        this.settledEvents.emit(`${entry.partner}:${entry.messageId}`, "rejected");
        return true;
      }
      const delay = backoffDelay(entry.attempts, this.backoff);
      if (!isRetryable(e)) this.log.warn("delivery failed; will retry", { partner: entry.partner, messageId: entry.messageId, code: e.code });
      await this.entries.updateOne(
        { _id: entry._id },
        { $set: { nextAttemptAt: new Date(Date.now() + delay), lastError: e.message, lastErrorCode: refusalCodeOf(e) }, $inc: { attempts: 1 } },
      );
      return false;
    }
  }

  /**
   * Resolves with "delivered" or "rejected" once the message's entry for `partner` is settled
   * (at once if it already is), without polling the store.
   */
  async settled(messageId: string, partner: string): Promise<"delivered" | "rejected"> {
    const event = once(this.settledEvents, `${partner}:${messageId}`);
    const entry = await this.entries.findOne({ partner, messageId }, { projection: { state: 1 } });
    if (entry && entry.state !== "pending") {
      this.settledEvents.emit(`${partner}:${messageId}`, entry.state);
    }
    const [state] = (await event) as ["delivered" | "rejected"];
    return state;
  }

  /** Queue depth, oldest pending and last contact, per partner. */
  async status(partners: readonly string[]): Promise<PartnerQueueStatus[]> {
    const out: PartnerQueueStatus[] = [];
    for (const partner of partners) {
      const depth = await this.entries.countDocuments({ partner, state: "pending" });
      const oldest = await this.entries.find({ partner, state: "pending" }).sort({ seq: 1 }).limit(1).next();
      const last = this.lastContact.get(partner);
      out.push({ partner, depth, ...(oldest ? { oldestPendingAt: oldest.enqueuedAt } : {}), ...(last ? { lastContactAt: last } : {}) });
    }
    return out;
  }

  /** Resolves when every queue is empty (tests, the demo). */
  async drained(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.entries.countDocuments({ state: "pending" })) > 0) {
      if (Date.now() > deadline) throw new LiaisonError("UNAVAILABLE", "outbox not drained in time");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const worker of this.workers.values()) worker.wake();
    await Promise.all([...this.workers.values()].map((w) => w.done));
    for (const partner of await this.leases.distinct("_id", { owner: this.owner })) {
      await this.leases.deleteOne({ _id: partner, owner: this.owner });
    }
  }
}
