/**
 * The batched sequencer: the one writer of a party's ledger.
 *
 * `append` queues an entry and resolves with its *durable* index. A loop takes everything queued
 * (up to `maxBatch`) and, in ONE MongoDB multi-document transaction:
 *   1. re-checks and writes the lease (a process that lost it cannot append);
 *   2. inserts the entries (unique on index);
 *   3. inserts the new perfect nodes of level >= 1 (write-once, unique on (level, index));
 *   4. moves the tree head from {size: n} to {size: n + k, root} (conditional on n).
 * Only after the commit are the waiters resolved. The frontier (right-edge perfect nodes) lives
 * in memory and is reloaded from the stored nodes on start and after any failed batch.
 *
 * Sequencing and integration happen together here (one transaction), so an index handed out is
 * always covered by the stored tree head; checkpoint signing is separate (./checkpoints.ts).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Db, MongoClient } from "mongodb";
import { ErrorLabel, LiaisonError } from "../errors/index.ts";
import { createLogger, type Logger } from "../logging/index.ts";
import { acquireLease, checkLeaseInTransaction, releaseLease, renewLease } from "./lease.ts";
import {
  appendLeaves,
  equalHashes,
  type Frontier,
  frontierRoot,
  hashLeaf,
  makeFrontier,
  nodeKey,
  rootNodeIds,
} from "./merkle/index.ts";
import {
  bin,
  bytesOf,
  type EntryDoc,
  ensureLedgerIndexes,
  type HeadDoc,
  ledgerCollections,
  type NodeDoc,
  readNodes,
  readTreeHead,
  type TreeHead,
} from "./storage.ts";

export interface LedgerSequencerOptions {
  client: MongoClient;
  db: Db;
  /** Unique id of this process for the lease; default hostname:pid:uuid. */
  owner?: string;
  /** Most entries per transaction (default 1024). */
  maxBatch?: number;
  /** Lease time to live (default 15 s); renewed every ttl/3. */
  leaseTtlMs?: number;
  /** Wait this long for another owner's lease to expire before giving up (default 0). */
  acquireTimeoutMs?: number;
  /** The clock, in ms since the epoch (default Date.now). */
  now?: () => number;
  /** Renew the lease on a timer (default true). Tests that drive the clock turn it off. */
  autoRenew?: boolean;
}

export interface AppendResult {
  /** The entry's index in the ledger; durable when the promise resolves. */
  readonly index: number;
  readonly leafHash: Uint8Array;
}

interface Pending {
  readonly kind: string;
  readonly bytes: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

const MAX_KIND_LENGTH = 100;

function leaseLost(): LiaisonError {
  return new LiaisonError("UNAVAILABLE", "this process no longer holds the ledger sequencer lease", { labels: [ErrorLabel.Retryable] });
}

export class LedgerSequencer {
  readonly owner: string;
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly maxBatch: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private frontier: Frontier;
  private queue: Pending[] = [];
  private running = false;
  private state: "open" | "lost" | "closed" = "open";
  private renewTimer: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();

  private constructor(options: LedgerSequencerOptions, owner: string, frontier: Frontier) {
    this.client = options.client;
    this.db = options.db;
    this.owner = owner;
    this.maxBatch = options.maxBatch ?? 1024;
    this.ttlMs = options.leaseTtlMs ?? 15_000;
    this.now = options.now ?? Date.now;
    this.log = createLogger("ledger", { owner });
    this.frontier = frontier;
  }

  /**
   * Takes the sequencer lease (waiting up to `acquireTimeoutMs`), loads the tree head and its
   * frontier, and returns a sequencer ready to append. UNAVAILABLE (retryable) when another
   * process holds the lease; LEDGER_CORRUPT when the stored nodes do not give the stored root.
   */
  static async start(options: LedgerSequencerOptions): Promise<LedgerSequencer> {
    const maxBatch = options.maxBatch ?? 1024;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new TypeError("maxBatch must be a positive integer");
    const ttl = options.leaseTtlMs ?? 15_000;
    if (!(ttl >= 100)) throw new TypeError("leaseTtlMs must be at least 100");
    const now = options.now ?? Date.now;
    const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID()}`;
    await ensureLedgerIndexes(options.db, { entries: false });
    const deadline = now() + (options.acquireTimeoutMs ?? 0);
    while (!(await acquireLease(options.db, owner, ttl, now()))) {
      if (now() >= deadline) {
        throw new LiaisonError("UNAVAILABLE", "another process holds the ledger sequencer lease", { labels: [ErrorLabel.Retryable] });
      }
      await new Promise((r) => setTimeout(r, Math.min(250, ttl / 4)));
    }
    // The head document exists from the first start on, so batches only ever update it.
    await ledgerCollections(options.db).checkpoints.updateOne(
      { _id: "head" },
      { $setOnInsert: { size: 0, root: bin(frontierRoot(makeFrontier(0, []))), updatedAt: new Date(now()) } },
      { upsert: true },
    );
    const seq = new LedgerSequencer(options, owner, await loadFrontier(options.db));
    await seq.integrateStrayEntries();
    await ensureLedgerIndexes(options.db);
    if (options.autoRenew ?? true) seq.startRenewing();
    seq.log.info("ledger sequencer started", { size: seq.frontier.size });
    return seq;
  }

  /** Number of entries durably in the ledger, as this sequencer knows it. */
  get size(): number {
    return this.frontier.size;
  }

  /** The current root (RFC 9162 §2.1.1) of the tree of `size` entries. */
  get root(): Uint8Array {
    return frontierRoot(this.frontier);
  }

  /**
   * Appends one entry: `bytes` exactly as they are to be kept (the leaf is SHA-256(0x00 || bytes)),
   * `kind` a short local label. Resolves with the durable index once the batch committed.
   * Rejects with UNAVAILABLE (retryable) if this process lost the lease or was closed.
   */
  append(kind: string, bytes: Uint8Array): Promise<AppendResult> {
    if (typeof kind !== "string" || kind.length === 0 || kind.length > MAX_KIND_LENGTH) {
      throw new TypeError(`kind must be a non-empty string of at most ${MAX_KIND_LENGTH} characters`);
    }
    if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
    if (this.state !== "open") return Promise.reject(this.state === "lost" ? leaseLost() : closedError());
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ kind, bytes: Uint8Array.from(bytes), leafHash: hashLeaf(bytes), resolve, reject });
      this.kick();
    });
  }

  /** Renews the lease now (the timer does it every ttl/3). False, and the sequencer stops, if lost. */
  async renew(): Promise<boolean> {
    if (this.state !== "open") return false;
    const ok = await renewLease(this.db, this.owner, this.ttlMs, this.now());
    if (!ok) this.lose();
    return ok;
  }

  /** Finishes queued appends, releases the lease, stops the timer. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.stopRenewing();
    await this.idle;
    this.state = "closed";
    if (wasOpen) await releaseLease(this.db, this.owner, this.now()).catch((e: unknown) => this.log.warn("lease release failed", { error: e }));
  }

  private startRenewing(): void {
    this.renewTimer = setInterval(() => {
      this.renew().catch((e: unknown) => this.log.warn("lease renewal failed", { error: e }));
    }, Math.max(50, Math.floor(this.ttlMs / 3)));
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private lose(): void {
    if (this.state !== "open") return;
    this.state = "lost";
    this.stopRenewing();
    this.log.warn("ledger sequencer lease lost; appends refused");
    const pending = this.queue.splice(0);
    for (const p of pending) p.reject(leaseLost());
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.idle = this.loop().finally(() => {
      this.running = false;
      // An append made by a waiter between the loop's last check and here found `running` still
      // set and did not start a loop: start one for it.
      if (this.queue.length > 0 && this.state === "open") this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0 && this.state === "open") {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const results = await this.commit(batch);
        batch.forEach((p, i) => p.resolve(results[i]));
      } catch (e) {
        for (const p of batch) p.reject(e);
        if (e instanceof LiaisonError && e.code === "UNAVAILABLE") {
          this.lose();
        } else {
          this.log.error("ledger batch failed", { error: e, entries: batch.length });
          // Our view may be stale (another writer, a partial failure): reload it.
          try {
            this.frontier = await loadFrontier(this.db);
          } catch (reloadError) {
            this.log.error("ledger frontier reload failed", { error: reloadError });
          }
        }
      }
    }
  }

  /**
   * Entries stored beyond the tree head without their tree (written by the interim node ledger
   * before this sequencer existed) are integrated in index order, in batches, each in one
   * transaction like an append. A gap in the indices, or a stored leaf hash that is not the hash
   * of the bytes, is LEDGER_CORRUPT.
   */
  private async integrateStrayEntries(): Promise<void> {
    const c = ledgerCollections(this.db);
    for (;;) {
      const start = this.frontier.size;
      const page = await c.entries.find({ _id: { $gte: start } }).sort({ _id: 1 }).limit(this.maxBatch).toArray();
      if (page.length === 0) return;
      const leafHashes = page.map((d, i) => {
        if (d._id !== start + i) throw new LiaisonError("LEDGER_CORRUPT", `ledger entry ${start + i} is missing before entry ${d._id}`);
        const leaf = hashLeaf(bytesOf(d.bytes));
        if (d.leafHash && !equalHashes(bytesOf(d.leafHash), leaf)) throw new LiaisonError("LEDGER_CORRUPT", `entry ${d._id}: leaf hash is not the hash of its bytes`);
        return leaf;
      });
      const appended = appendLeaves(this.frontier, leafHashes);
      const nodes: NodeDoc[] = appended.newNodes
        .filter((n) => n.level > 0)
        .map((n) => ({ _id: nodeKey(n), level: n.level, index: n.index, hash: bin(n.hash) }));
      const session = this.client.startSession();
      try {
        await session.withTransaction(async () => {
          if (!(await checkLeaseInTransaction(this.db, session, this.owner, this.now()))) throw leaseLost();
          await c.entries.bulkWrite(
            page.map((d, i) => ({ updateOne: { filter: { _id: d._id }, update: { $set: { index: d._id, leafHash: bin(leafHashes[i]) } } } })),
            { session },
          );
          if (nodes.length > 0) await c.nodes.insertMany(nodes, { session });
          const head = await c.checkpoints.updateOne(
            { _id: "head", size: start } as Partial<HeadDoc>,
            { $set: { size: appended.frontier.size, root: bin(appended.root), updatedAt: new Date(this.now()) } },
            { session },
          );
          if (head.matchedCount !== 1) throw new LiaisonError("LEDGER_CORRUPT", `tree head is no longer at size ${start}`);
        });
      } finally {
        await session.endSession();
      }
      this.frontier = appended.frontier;
      this.log.info("integrated entries written without the sequencer", { from: start, to: appended.frontier.size });
    }
  }

  private async commit(batch: Pending[]): Promise<AppendResult[]> {
    const start = this.frontier.size;
    const appended = appendLeaves(this.frontier, batch.map((p) => p.leafHash));
    const at = new Date(this.now());
    const entries: EntryDoc[] = batch.map((p, i) => ({
      _id: start + i,
      index: start + i,
      kind: p.kind,
      bytes: bin(p.bytes),
      leafHash: bin(p.leafHash),
      appendedAt: at,
    }));
    // Level-0 nodes are the entries' leaf hashes: stored once, in the entries.
    const nodes: NodeDoc[] = appended.newNodes
      .filter((n) => n.level > 0)
      .map((n) => ({ _id: nodeKey(n), level: n.level, index: n.index, hash: bin(n.hash) }));
    const c = ledgerCollections(this.db);
    const session = this.client.startSession();
    try {
      await session.withTransaction(async () => {
        if (!(await checkLeaseInTransaction(this.db, session, this.owner, this.now()))) throw leaseLost();
        await c.entries.insertMany(entries, { session });
        if (nodes.length > 0) await c.nodes.insertMany(nodes, { session });
        const head = await c.checkpoints.updateOne(
          { _id: "head", size: start } as Partial<HeadDoc>,
          { $set: { size: appended.frontier.size, root: bin(appended.root), updatedAt: at } },
          { session },
        );
        if (head.matchedCount !== 1) throw new LiaisonError("LEDGER_CORRUPT", `tree head is no longer at size ${start}`);
      });
    } finally {
      await session.endSession();
    }
    this.frontier = appended.frontier;
    return batch.map((p, i) => ({ index: start + i, leafHash: p.leafHash }));
  }
}

function closedError(): LiaisonError {
  return new LiaisonError("UNAVAILABLE", "the ledger sequencer is closed", { labels: [ErrorLabel.Retryable] });
}

/** Reads the tree head and its frontier nodes, checking they agree. */
async function loadFrontier(db: Db): Promise<Frontier> {
  const head: TreeHead = await readTreeHead(db);
  const frontier = makeFrontier(head.size, await readNodes(db, rootNodeIds(head.size)));
  if (!equalHashes(frontierRoot(frontier), head.root)) {
    throw new LiaisonError("LEDGER_CORRUPT", `stored nodes do not give the stored root at size ${head.size}`);
  }
  return frontier;
}
