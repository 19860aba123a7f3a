/**
 * The ledger's MongoDB collections, and the reads that proofs need.
 *
 *   ledger_entries      { _id: index, index, kind, bytes: Binary, leafHash: Binary, appendedAt }
 *                       unique on index. Append-only: written once, in the batch transaction.
 *   ledger_nodes        { _id: "<level>/<index>", level, index, hash: Binary }
 *                       unique on (level, index). Perfect nodes of level >= 1 only: a level-0
 *                       node is the entry's leafHash, kept once, in ledger_entries.
 *                       Write-once: a second write of the same node fails on the unique index.
 *   ledger_checkpoints  { _id: "head", size, root: Binary, updatedAt }   the tree head
 *                       { _id: <size>, size, root: Binary, note, signedAt } signed checkpoints
 *   ledger_cosignatures { _id: "<size>/<cosigner>", size, cosigner, line, timestamp, receivedAt }
 *   ledger_leases       { _id: "sequencer", owner, expiresAt, renewedAt, batches }
 *
 * The leaf of entry i is RFC 9162 MTH({bytes}) = SHA-256(0x00 || bytes): the exact bytes are the
 * record (signed envelopes and receipts describe themselves); `kind` is a local label for
 * listing and is not committed to by the tree.
 *
 * Proof reads fetch only the O(log n) perfect nodes that `merkle` names, by `_id`.
 */
import { Binary, type ClientSession, type Collection, type Db } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import {
  assembleProof,
  consistencyProofNodes,
  emptyRoot,
  equalHashes,
  inclusionProofNodes,
  type NodeId,
  nodeKey,
  rootFromNodeHashes,
  rootNodeIds,
} from "./merkle/index.ts";

export const COLLECTIONS = Object.freeze({
  entries: "ledger_entries",
  nodes: "ledger_nodes",
  checkpoints: "ledger_checkpoints",
  cosignatures: "ledger_cosignatures",
  leases: "ledger_leases",
} as const);

export interface EntryDoc {
  _id: number;
  index: number;
  kind: string;
  bytes: Binary;
  leafHash: Binary;
  appendedAt: Date;
}

export interface NodeDoc {
  _id: string;
  level: number;
  index: number;
  hash: Binary;
}

export interface HeadDoc {
  _id: "head";
  size: number;
  root: Binary;
  updatedAt: Date;
}

export interface SignedCheckpointDoc {
  _id: number;
  size: number;
  root: Binary;
  note: string;
  signedAt: Date;
}

export interface CosignatureDoc {
  _id: string;
  size: number;
  cosigner: string;
  line: string;
  timestamp: number;
  receivedAt: Date;
}

export interface LeaseDoc {
  _id: string;
  owner: string;
  expiresAt: Date;
  renewedAt: Date;
  batches: number;
}

export interface LedgerCollections {
  entries: Collection<EntryDoc>;
  nodes: Collection<NodeDoc>;
  checkpoints: Collection<HeadDoc | SignedCheckpointDoc>;
  cosignatures: Collection<CosignatureDoc>;
  leases: Collection<LeaseDoc>;
}

export function ledgerCollections(db: Db): LedgerCollections {
  return {
    entries: db.collection<EntryDoc>(COLLECTIONS.entries),
    nodes: db.collection<NodeDoc>(COLLECTIONS.nodes),
    checkpoints: db.collection<HeadDoc | SignedCheckpointDoc>(COLLECTIONS.checkpoints),
    cosignatures: db.collection<CosignatureDoc>(COLLECTIONS.cosignatures),
    leases: db.collection<LeaseDoc>(COLLECTIONS.leases),
  };
}

/**
 * The unique indexes the ledger's invariants rely on. Idempotent. `entries: false` skips the
 * entries index (the sequencer creates it after integrating entries written without `index`).
 */
export async function ensureLedgerIndexes(db: Db, options: { entries?: boolean } = {}): Promise<void> {
  const c = ledgerCollections(db);
  if (options.entries ?? true) await c.entries.createIndex({ index: 1 }, { unique: true, name: "index_unique" });
  await c.nodes.createIndex({ level: 1, index: 1 }, { unique: true, name: "level_index_unique" });
  await c.cosignatures.createIndex({ size: 1 }, { name: "size" });
}

export function bin(bytes: Uint8Array): Binary {
  return new Binary(bytes);
}

export function bytesOf(b: Binary): Uint8Array {
  return b.buffer.slice(0, b.position);
}

export interface TreeHead {
  readonly size: number;
  readonly root: Uint8Array;
}

/** The current tree head; the empty tree when none was written yet. */
export async function readTreeHead(db: Db, session?: ClientSession): Promise<TreeHead> {
  const doc = (await ledgerCollections(db).checkpoints.findOne({ _id: "head" }, { session })) as HeadDoc | null;
  if (!doc) return { size: 0, root: emptyRoot() };
  return { size: doc.size, root: bytesOf(doc.root) };
}

/**
 * Fetches perfect nodes by ID (at most two queries: level 0 from the entries' leaf hashes, the
 * rest from ledger_nodes), in the order asked. LEDGER_CORRUPT when one is missing.
 */
export async function readNodes(db: Db, ids: readonly NodeId[], session?: ClientSession): Promise<Uint8Array[]> {
  if (ids.length === 0) return [];
  const c = ledgerCollections(db);
  const leafIndices = ids.filter((id) => id.level === 0).map((id) => id.index);
  const keys = ids.filter((id) => id.level > 0).map(nodeKey);
  const byKey = new Map<string, Uint8Array>();
  if (leafIndices.length > 0) {
    const docs = await c.entries.find({ _id: { $in: leafIndices } }, { session, projection: { leafHash: 1 } }).toArray();
    for (const d of docs) byKey.set(`0/${d._id}`, bytesOf(d.leafHash));
  }
  if (keys.length > 0) {
    const docs = await c.nodes.find({ _id: { $in: keys } }, { session }).toArray();
    for (const d of docs) byKey.set(d._id, bytesOf(d.hash));
  }
  return ids.map((id) => {
    const h = byKey.get(nodeKey(id));
    if (!h) throw new LiaisonError("LEDGER_CORRUPT", `ledger node ${nodeKey(id)} is missing`);
    return h;
  });
}

function checkSize(size: number, head: TreeHead, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new LiaisonError("INVALID_ARGUMENT", `${what} must be a non-negative integer`);
  if (size > head.size) throw new LiaisonError("INVALID_ARGUMENT", `${what} ${size} is beyond the tree size ${head.size}`);
}

/** RFC 9162 §2.1.1 root of the tree at `size` (<= the current size), from O(log n) stored nodes. */
export async function readRootAt(db: Db, size: number): Promise<Uint8Array> {
  checkSize(size, await readTreeHead(db), "tree size");
  return rootFromNodeHashes(await readNodes(db, rootNodeIds(size)));
}

export interface InclusionProof {
  readonly index: number;
  readonly size: number;
  readonly leafHash: Uint8Array;
  readonly proof: Uint8Array[];
}

/**
 * RFC 9162 §2.1.3.1 inclusion proof of entry `index` in the tree of `size` leaves (default: the
 * current size). Reads O(log n) nodes. INVALID_ARGUMENT unless 0 <= index < size <= current size.
 */
export async function readInclusionProof(db: Db, index: number, size?: number): Promise<InclusionProof> {
  const head = await readTreeHead(db);
  const n = size ?? head.size;
  checkSize(n, head, "tree size");
  if (!Number.isSafeInteger(index) || index < 0 || index >= n) throw new LiaisonError("INVALID_ARGUMENT", `index ${index} is not in a tree of size ${n}`);
  const nodes = inclusionProofNodes(index, n);
  const [leafHash, ...hashes] = await readNodes(db, [{ level: 0, index }, ...nodes.ids]);
  return { index, size: n, leafHash, proof: assembleProof(nodes, hashes) };
}

/**
 * RFC 9162 §2.1.4.1 consistency proof from the tree of `size1` leaves to the tree of `size2`
 * (default: the current size). Reads O(log n) nodes. Requires 0 <= size1 <= size2 <= current size.
 */
export async function readConsistencyProof(db: Db, size1: number, size2?: number): Promise<Uint8Array[]> {
  const head = await readTreeHead(db);
  const n = size2 ?? head.size;
  checkSize(n, head, "size2");
  checkSize(size1, head, "size1");
  if (size1 > n) throw new LiaisonError("INVALID_ARGUMENT", `size1 ${size1} is beyond size2 ${n}`);
  const nodes = consistencyProofNodes(size1, n);
  return assembleProof(nodes, await readNodes(db, nodes.ids));
}

export interface StoredEntry {
  readonly index: number;
  readonly kind: string;
  readonly bytes: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly appendedAt: Date;
}

function toEntry(d: EntryDoc): StoredEntry {
  return { index: d.index, kind: d.kind, bytes: bytesOf(d.bytes), leafHash: bytesOf(d.leafHash), appendedAt: d.appendedAt };
}

/** One entry, or undefined when `index` is not (yet) in the ledger. */
export async function readEntry(db: Db, index: number): Promise<StoredEntry | undefined> {
  const d = await ledgerCollections(db).entries.findOne({ _id: index });
  return d ? toEntry(d) : undefined;
}

/** Entries [begin, end) in index order. */
export async function readEntries(db: Db, begin: number, end: number): Promise<StoredEntry[]> {
  const docs = await ledgerCollections(db).entries.find({ _id: { $gte: begin, $lt: end } }).sort({ _id: 1 }).toArray();
  return docs.map(toEntry);
}

/** True when the stored root at `size` equals `root` (for callers holding a checkpoint). */
export async function rootMatches(db: Db, size: number, root: Uint8Array): Promise<boolean> {
  return equalHashes(await readRootAt(db, size), root);
}
