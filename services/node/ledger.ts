/**
 * The node's ledger handle: what the exchange and the node append to.
 * (Interim: sequential appends into `ledger_entries`; the Merkle sequencer of services/ledger
 * replaces the body of `append` without changing its contract.)
 */
import { Binary, type Collection, type Db } from "mongodb";
import type { Identity } from "../identity/index.ts";

interface EntryDoc {
  _id: number;
  kind: string;
  bytes: Binary;
  appendedAt: Date;
}

export class NodeLedger {
  private tail: Promise<unknown> = Promise.resolve();
  private constructor(
    private readonly entries: Collection<EntryDoc>,
    private nextIndex: number,
  ) {}

  static async open(db: Db, _identity: Identity): Promise<NodeLedger> {
    const entries = db.collection<EntryDoc>("ledger_entries");
    const last = await entries.find({}).sort({ _id: -1 }).limit(1).next();
    return new NodeLedger(entries, last ? last._id + 1 : 0);
  }

  /** Append an entry; resolves with its durable index. */
  append(kind: string, bytes: Uint8Array): Promise<{ index: number }> {
    const run = this.tail.then(async () => {
      const index = this.nextIndex;
      await this.entries.insertOne({ _id: index, kind, bytes: new Binary(bytes), appendedAt: new Date() });
      this.nextIndex = index + 1;
      return { index };
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.tail;
  }
}
