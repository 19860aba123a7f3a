/**
 * The node's ledger: what the exchange, the officers and the node append to, the checkpoints it
 * signs, and the witnessing it does for and asks of its partners.
 *
 * Entry bytes are a serialized `liaison.v1.LedgerEntry` {kind, content, recorded_at}, so the
 * Merkle leaf commits to what kind of record it is as well as to the exact bytes recorded.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Db, MongoClient } from "mongodb";
import { LedgerEntrySchema } from "../../gen/liaison/v1/ledger_pb.ts";
import type { Identity, KeyRing } from "../identity/index.ts";
import { ErrorLabel, LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import {
  LedgerSequencer,
  readLatestCheckpoint,
  readTreeHead,
  signTreeHead,
  type SignedCheckpoint,
} from "../ledger/index.ts";

/** The checkpoint origin (and note key name) of a party's ledger. */
export function ledgerOrigin(party: string): string {
  return `liaison/ledger/${party}`;
}

/** The key name a party's witness cosigns under. */
export function witnessName(party: string): string {
  return `liaison/witness/${party}`;
}

/**
 * Several processes of one party may share one database: exactly one of them holds the sequencer
 * lease and appends; the others stand by, answer appends with UNAVAILABLE (retryable: a partner's
 * outbox retries, and reaches the sequencing process through the load balancer), and take over
 * when the holder's lease expires.
 */
export class NodeLedger {
  private sequencer: LedgerSequencer | undefined;
  private acquiring: Promise<LedgerSequencer | undefined> | undefined;
  private standbyTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log;

  private constructor(
    private readonly client: MongoClient,
    readonly db: Db,
    private readonly identity: Identity,
    private readonly leaseTtlMs: number,
  ) {
    this.log = createLogger("ledger", { party: identity.party });
  }

  /**
   * Open the ledger: become the sequencer if no other process is, else stand by and retry every
   * third of the lease time.
   */
  static async open(client: MongoClient, db: Db, identity: Identity, options: { leaseTtlMs?: number } = {}): Promise<NodeLedger> {
    const ledger = new NodeLedger(client, db, identity, options.leaseTtlMs ?? 15_000);
    await ledger.tryToSequence();
    ledger.standbyTimer = setInterval(() => {
      if (!ledger.sequencer) void ledger.tryToSequence();
    }, Math.max(100, Math.floor(ledger.leaseTtlMs / 3)));
    ledger.standbyTimer.unref();
    return ledger;
  }

  private tryToSequence(): Promise<LedgerSequencer | undefined> {
    if (this.sequencer || this.closed) return Promise.resolve(this.sequencer);
    this.acquiring ??= LedgerSequencer.start({ client: this.client, db: this.db, acquireTimeoutMs: 0, leaseTtlMs: this.leaseTtlMs })
      .then((sequencer) => {
        if (this.closed) {
          void sequencer.close();
          return undefined;
        }
        this.sequencer = sequencer;
        this.log.info("this process is the ledger sequencer", { size: sequencer.size });
        return sequencer;
      })
      .catch((error: unknown) => {
        if (!(error instanceof LiaisonError && error.code === "UNAVAILABLE")) this.log.error("cannot start the ledger sequencer", { cause: error });
        return undefined;
      })
      .finally(() => {
        this.acquiring = undefined;
      });
    return this.acquiring;
  }

  /** True when this process holds the sequencer lease (what /readyz reports). */
  get isSequencer(): boolean {
    return this.sequencer !== undefined;
  }

  get origin(): string {
    return ledgerOrigin(this.identity.party);
  }

  get size(): number {
    return this.sequencer?.size ?? 0;
  }

  /** Append an entry of `kind` recording exactly `content`; resolves with its durable index. */
  async append(kind: string, content: Uint8Array): Promise<{ index: number }> {
    const sequencer = this.sequencer ?? (await this.tryToSequence());
    if (!sequencer) {
      throw new LiaisonError("UNAVAILABLE", "another process of this party is the ledger sequencer; retry", { labels: [ErrorLabel.Retryable] });
    }
    const entry = toBinary(LedgerEntrySchema, create(LedgerEntrySchema, { kind, content, recordedAt: timestampFromDate(new Date()) }));
    try {
      const { index } = await sequencer.append(kind, entry);
      return { index };
    } catch (error) {
      if (error instanceof LiaisonError && error.code === "UNAVAILABLE" && this.sequencer === sequencer) {
        // The lease is gone (another process took over): stand by again.
        this.sequencer = undefined;
        void sequencer.close().catch(() => undefined);
      }
      throw error;
    }
  }

  /** Sign a checkpoint of the current tree head if it grew since the last one; the latest either way. */
  async checkpoint(now = Date.now()): Promise<SignedCheckpoint | undefined> {
    const latest = await readLatestCheckpoint(this.db);
    const head = await readTreeHead(this.db);
    if (latest && latest.size >= head.size) return latest;
    if (head.size === 0 && latest) return latest;
    return signTreeHead(this.db, { origin: this.origin, privateKey: this.identity.activeSigningKey.privateKey }, now);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.standbyTimer) clearInterval(this.standbyTimer);
    await this.acquiring;
    await this.sequencer?.close();
    this.sequencer = undefined;
  }
}

/** Public keys of a party usable to verify its notes (every attested key, current or retired). */
export function partyKeys(ring: KeyRing, party: string) {
  return ring.keys(party).map((k) => k.publicKey);
}
