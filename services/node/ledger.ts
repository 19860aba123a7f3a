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

export class NodeLedger {
  private constructor(
    readonly db: Db,
    private readonly sequencer: LedgerSequencer,
    private readonly identity: Identity,
  ) {}

  static async open(client: MongoClient, db: Db, identity: Identity): Promise<NodeLedger> {
    const sequencer = await LedgerSequencer.start({ client, db, acquireTimeoutMs: 20_000 });
    return new NodeLedger(db, sequencer, identity);
  }

  get origin(): string {
    return ledgerOrigin(this.identity.party);
  }

  get size(): number {
    return this.sequencer.size;
  }

  /** Append an entry of `kind` recording exactly `content`; resolves with its durable index. */
  async append(kind: string, content: Uint8Array): Promise<{ index: number }> {
    const entry = toBinary(LedgerEntrySchema, create(LedgerEntrySchema, { kind, content, recordedAt: timestampFromDate(new Date()) }));
    const { index } = await this.sequencer.append(kind, entry);
    return { index };
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
    await this.sequencer.close();
  }
}

/** Public keys of a party usable to verify its notes (every attested key, current or retired). */
export function partyKeys(ring: KeyRing, party: string) {
  return ring.keys(party).map((k) => k.publicKey);
}
