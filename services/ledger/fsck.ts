/**
 * `liaison ledger verify`: recompute everything from the stored entries (RFC 9162 hashing as
 * merkle/ defines it, see verify-tree.ts; roots by merkle's own functions), and report the FIRST
 * inconsistency, in index order:
 *
 *  - an entry missing (a gap in the indices), or whose `index` field is not its `_id`;
 *  - an entry whose stored leaf hash is not SHA-256(0x00 || bytes) (a changed byte);
 *  - an entry the caller's `checkEntry` refuses (e.g. its bytes do not decode, or its label
 *    differs from the kind inside the bytes);
 *  - a stored tree node (level >= 1) missing, or different from the one recomputed from the
 *    entries below it (a rewritten node, or entries swapped / replaced under it);
 *  - a signed checkpoint whose note is not a checkpoint of this log at its size with the
 *    recomputed root, or whose signature does not verify with the log's keys (when given);
 *  - a cosignature that does not verify with its cosigner's keys (when given);
 *  - a tree head that disagrees with the entries; entries or nodes stored beyond the tree;
 *  - documents the index order cannot place: entries whose `index` is not a number, nodes of
 *    a level the tree does not have (the collections are counted at the end).
 *
 * Entries, and each level's nodes, are read in index order in pages of `pageSize` (verify-read.ts:
 * raw BSON read in place, each page an index range after the last `index` seen, the next page
 * fetched while the current one is hashed). Memory is O(page × levels); reads are O(n) in total.
 */
import type { Db } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { equalHashes, frontierRoot, type NodeId, nodeCoverage, nodeKey } from "./merkle/index.ts";
import { type NoteVerifier, openNote, parseCheckpoint, parseNote } from "./note/index.ts";
import { bytesOf, COLLECTIONS, type CosignatureDoc, ledgerCollections, readTreeHead, type SignedCheckpointDoc, type StoredEntry } from "./storage.ts";
import { Fields, nodeKeyIs, PagedScan, stringAt } from "./verify-read.ts";
import { hashBytes, hashEquals, leafHashAt, StringFrontier } from "./verify-tree.ts";

export interface LedgerProblem {
  /** The entry index the problem concerns, when it concerns one. */
  readonly index?: number;
  /** The tree size, for a problem with a checkpoint or a cosignature. */
  readonly size?: number;
  /** What is wrong: "entry" | "node" | "checkpoint" | "cosignature" | "head". */
  readonly subject: "entry" | "node" | "checkpoint" | "cosignature" | "head";
  /** One sentence naming what differs. */
  readonly message: string;
}

export interface LedgerReport {
  readonly ok: boolean;
  /** Entries checked. */
  readonly entries: number;
  /** Stored tree nodes (level >= 1) checked. */
  readonly nodes: number;
  /** Signed checkpoints checked. */
  readonly checkpoints: number;
  /** Cosignatures whose signature was verified. */
  readonly cosignatures: number;
  /** Things not checked, e.g. cosignatures by a cosigner whose keys were not given. */
  readonly warnings: readonly string[];
  /** The first problem found. */
  readonly problem?: LedgerProblem;
}

export interface VerifyLedgerOptions {
  /** Entries per read (default 8192). */
  readonly pageSize?: number;
  /**
   * The log's identity: every signed checkpoint must be a note of this origin, signed by one of
   * these verifiers (the log's attested keys, current and retired). Without it, only the
   * checkpoints' sizes and roots are checked.
   */
  readonly log?: { readonly origin: string; readonly verifiers: readonly NoteVerifier[] };
  /**
   * Cosigner name → verifiers of its keys. Without it cosignatures are not checked; a cosigner
   * missing from it is reported in `warnings` (not a failure: e.g. a partner since removed).
   */
  readonly cosigners?: ReadonlyMap<string, readonly NoteVerifier[]>;
  /** Extra check of each entry; returns what is wrong, or undefined. */
  readonly checkEntry?: (entry: StoredEntry) => string | undefined;
  /** Called after each page with the entries checked so far and the tree size. */
  readonly onProgress?: (entries: number, total: number) => void;
}

/** The fields of a raw BSON document that verification reads; values are views, not copies. */
interface RawFields {
  [name: string]: number | string | Uint8Array | Date | null | undefined;
}

/**
 * A minimal reader of one BSON document's top-level fields (bsonspec.org): numbers, strings,
 * binaries and dates as values, anything else as null. Reading the raw bytes the driver hands
 * back (`raw: true`) avoids building a JS object and a `Binary` per field, which is most of the
 * cost of streaming a large ledger. A malformed document yields what could be read.
 */
export function readRawFields(doc: Uint8Array): RawFields {
  const view = new DataView(doc.buffer, doc.byteOffset, doc.byteLength);
  const out: RawFields = {};
  let p = 4;
  const end = Math.min(doc.byteLength - 1, view.getInt32(0, true) - 1);
  while (p < end) {
    const type = doc[p++];
    const nameEnd = doc.indexOf(0, p);
    if (nameEnd < 0) break;
    const name = Buffer.from(doc.buffer, doc.byteOffset + p, nameEnd - p).toString("latin1");
    p = nameEnd + 1;
    switch (type) {
      case 0x01: out[name] = view.getFloat64(p, true); p += 8; break;
      case 0x10: out[name] = view.getInt32(p, true); p += 4; break;
      case 0x12: out[name] = Number(view.getBigInt64(p, true)); p += 8; break;
      case 0x09: out[name] = new Date(Number(view.getBigInt64(p, true))); p += 8; break;
      case 0x02: {
        const len = view.getInt32(p, true);
        out[name] = Buffer.from(doc.buffer, doc.byteOffset + p + 4, Math.max(0, len - 1)).toString("utf8");
        p += 4 + len;
        break;
      }
      case 0x05: {
        const len = view.getInt32(p, true);
        out[name] = doc.subarray(p + 5, p + 5 + len);
        p += 5 + len;
        break;
      }
      case 0x03: case 0x04: { out[name] = null; p += view.getInt32(p, true); break; }
      case 0x07: out[name] = null; p += 12; break;
      case 0x08: out[name] = null; p += 1; break;
      case 0x0a: out[name] = null; break;
      case 0x11: out[name] = null; p += 8; break;
      case 0x13: out[name] = null; p += 16; break;
      default: return out; // a type the ledger never writes: stop, the checks below will say what is missing
    }
  }
  return out;
}

function coverage(id: NodeId): string {
  const { begin, end } = nodeCoverage(id);
  return `entries ${begin}..${end - 1}`;
}

/**
 * Verifies the whole ledger in `db` (see the module comment). Never throws for what it finds:
 * the report says ok, or names the first problem. Throws only when the database fails.
 */
export async function verifyLedger(db: Db, options: VerifyLedgerOptions | number = {}): Promise<LedgerReport> {
  const opts: VerifyLedgerOptions = typeof options === "number" ? { pageSize: options } : options;
  const pageSize = opts.pageSize ?? 8192;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new TypeError("pageSize must be a positive integer");
  const c = ledgerCollections(db);
  const head = await readTreeHead(db);
  const signed = (await c.checkpoints.find({ note: { $exists: true } }).toArray()) as SignedCheckpointDoc[];
  signed.sort((a, b) => a.size - b.size);
  const cosignatures = await c.cosignatures.find({}).toArray();
  const cosignaturesBySize = new Map<number, CosignatureDoc[]>();
  for (const cs of cosignatures) {
    const list = cosignaturesBySize.get(cs.size) ?? [];
    list.push(cs);
    cosignaturesBySize.set(cs.size, list);
  }
  for (const list of cosignaturesBySize.values()) list.sort((a, b) => (a.cosigner < b.cosigner ? -1 : a.cosigner > b.cosigner ? 1 : 0));
  const warnings: string[] = [];
  const unknownCosigners = new Set<string>();

  const tree = new StringFrontier();
  let nodesChecked = 0;
  let checkpointsChecked = 0;
  let cosignaturesChecked = 0;
  let nextCheckpoint = 0;
  const report = (problem?: LedgerProblem): LedgerReport => ({
    ok: problem === undefined,
    entries: tree.size,
    nodes: nodesChecked,
    checkpoints: checkpointsChecked,
    cosignatures: cosignaturesChecked,
    warnings,
    ...(problem ? { problem } : {}),
  });

  /** Checks the signed checkpoints (and their cosignatures) at the frontier's current size. */
  const checkCheckpointsHere = (): LedgerProblem | undefined => {
    while (nextCheckpoint < signed.length && signed[nextCheckpoint].size === tree.size) {
      const doc = signed[nextCheckpoint];
      const problem = checkCheckpoint(doc, frontierRoot(tree.toFrontier()), opts);
      if (problem) return problem;
      checkpointsChecked++;
      for (const cs of cosignaturesBySize.get(doc.size) ?? []) {
        const verifiers = opts.cosigners?.get(cs.cosigner);
        if (!opts.cosigners) continue;
        if (!verifiers || verifiers.length === 0) {
          unknownCosigners.add(cs.cosigner);
          continue;
        }
        const bad = checkCosignature(doc, cs, verifiers);
        if (bad) return bad;
        cosignaturesChecked++;
      }
      cosignaturesBySize.delete(doc.size);
      nextCheckpoint++;
    }
    return undefined;
  };

  let problem = checkCheckpointsHere();
  if (problem) return report(problem);

  const total = head.size;
  // Entries in index order (the unique `index` index on both MongoDB and the embedded store).
  const entries = new PagedScan(db, {
    collection: COLLECTIONS.entries,
    first: {},
    after: (last) => ({ index: { $gt: last } }),
    sort: { index: 1 },
    pageSize,
  });
  // Stored nodes of each level in index order; every level the tree of `total` has is read
  // from the start, so that its first page is there when the recomputation reaches it.
  const levels: PagedScan[] = [];
  for (let level = 1; total > 0 && 2 ** level <= total; level++) {
    levels[level] = new PagedScan(db, {
      collection: COLLECTIONS.nodes,
      first: { level },
      after: (last) => ({ level, index: { $gt: last } }),
      sort: { level: 1, index: 1 },
      hint: "level_index_unique",
      pageSize,
    });
  }
  const f = new Fields();
  /** The node the recomputation just completed (for messages). */
  const here = (): NodeId => ({ level: tree.level, index: tree.index });
  let lastProgress = 0;
  while (tree.size < total) {
    // One page: the leaves up to the next checkpoint size, the page size, or the head.
    const limit = Math.min(total, tree.size + pageSize, nextCheckpoint < signed.length ? Math.max(signed[nextCheckpoint].size, tree.size + 1) : total);
    for (let i = tree.size; i < limit; i++) {
      if (!entries.buffered() && !(await entries.ready())) {
        return report({ index: i, subject: "entry", message: `entry ${i} is missing (no entry is stored from ${i} on; the tree head says ${total})` });
      }
      const buf = entries.buf;
      f.read(buf, entries.at);
      if (f.index !== i) {
        const found = readRawFields(entries.current()).index;
        return report({
          index: i,
          subject: "entry",
          message: typeof found === "number" && found > i ? `entry ${i} is missing (the next stored entry is ${found})` : `entry ${i} is stored out of order or twice (found index ${String(found)})`,
        });
      }
      if (f.id !== i) return report({ index: i, subject: "entry", message: `entry ${i} is stored under _id ${String(readRawFields(entries.current())._id)}` });
      if (f.bytesAt < 0) return report({ index: i, subject: "entry", message: `entry ${i} has no bytes` });
      const leaf = leafHashAt(buf, f.bytesAt, f.bytesLen);
      if (f.hashAt < 0 || !hashEquals(buf, f.hashAt, f.hashLen, leaf)) {
        return report({ index: i, subject: "entry", message: `entry ${i}: its bytes do not hash to its stored leaf hash (the entry was changed after it was appended)` });
      }
      if (opts.checkEntry) {
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset + f.bytesAt, f.bytesLen);
        const raw = f.kindAt < 0 || Number.isNaN(f.appendedAt) ? readRawFields(entries.current()) : undefined;
        const kind = raw ? String(raw.kind) : stringAt(buf, f.kindAt);
        const appendedAt = raw ? (raw.appendedAt as Date) : new Date(f.appendedAt);
        const bad = opts.checkEntry({ index: i, kind, bytes, leafHash: hashBytes(leaf), appendedAt });
        if (bad) return report({ index: i, subject: "entry", message: `entry ${i}: ${bad}` });
      }
      entries.advance();
      // The perfect nodes this leaf completes, lowest first, each against the stored one.
      tree.begin(leaf);
      while (tree.up()) {
        const stored = levels[tree.level];
        if (!stored.buffered() && !(await stored.ready())) {
          return report({ index: nodeCoverage(here()).begin, subject: "node", message: `tree node ${nodeKey(here())} (${coverage(here())}) is missing from ledger_nodes` });
        }
        const nbuf = stored.buf;
        f.read(nbuf, stored.at);
        if (f.index > tree.index) {
          return report({ index: nodeCoverage(here()).begin, subject: "node", message: `tree node ${nodeKey(here())} (${coverage(here())}) is missing from ledger_nodes` });
        }
        if (f.index !== tree.index || f.idType !== 0x02 || !nodeKeyIs(nbuf, f.idAt, tree.level, tree.index)) {
          const raw = readRawFields(stored.current());
          return report({ index: nodeCoverage(here()).begin, subject: "node", message: `tree node ${tree.level}/${String(raw.index)} is stored out of order or under _id ${String(raw._id)}` });
        }
        if (f.hashAt < 0 || !hashEquals(nbuf, f.hashAt, f.hashLen, tree.hash)) {
          const hash = f.hashAt < 0 ? new Uint8Array(0) : nbuf.subarray(f.hashAt, f.hashAt + f.hashLen);
          const n = here();
          return report({
            index: nodeCoverage(n).begin,
            subject: "node",
            message: `tree node ${nodeKey(n)} (${coverage(n)}) differs from the hash recomputed from those entries: stored ${hex(hash)}, recomputed ${hex(hashBytes(tree.hash))}`,
          });
        }
        stored.advance();
        nodesChecked++;
      }
      tree.end();
    }
    problem = checkCheckpointsHere();
    if (problem) return report(problem);
    if (opts.onProgress && (tree.size - lastProgress >= pageSize || tree.size === total)) {
      lastProgress = tree.size;
      opts.onProgress(tree.size, total);
    }
  }

  const root = frontierRoot(tree.toFrontier());
  if (!equalHashes(root, head.root)) {
    return report({ subject: "head", size: head.size, message: `the tree head root at size ${head.size} is not the root of the entries (stored ${hex(head.root)}, recomputed ${hex(root)})` });
  }
  if (nextCheckpoint < signed.length) {
    const s = signed[nextCheckpoint].size;
    return report({ subject: "checkpoint", size: s, message: `a signed checkpoint of size ${s} is beyond the tree head (${head.size} entries)` });
  }
  if (entries.buffered() || (await entries.ready())) {
    return report({ index: Number(readRawFields(entries.current()).index), subject: "entry", message: `entry ${String(readRawFields(entries.current()).index)} is stored beyond the tree head (${head.size} entries)` });
  }
  for (let level = 1; level < levels.length; level++) {
    const stored = levels[level];
    if (stored.buffered() || (await stored.ready())) {
      return report({ subject: "node", message: `tree node ${level}/${String(readRawFields(stored.current()).index)} is stored but is not part of the tree of ${head.size} entries` });
    }
  }
  // What the pages cannot see: documents whose `index` is not a number (after every number in
  // the sort order), and nodes of a level the tree does not have.
  const [storedEntries, storedNodes] = await Promise.all([c.entries.countDocuments({}), c.nodes.countDocuments({})]);
  if (storedEntries !== total) {
    return report({ subject: "entry", message: `ledger_entries holds ${storedEntries} documents, the tree head says ${total} entries: ${storedEntries - total} are not entries of the log (their index is not a number)` });
  }
  if (storedNodes !== nodesChecked) {
    return report({ subject: "node", message: `ledger_nodes holds ${storedNodes} nodes, the tree of ${head.size} entries has ${nodesChecked}: ${storedNodes - nodesChecked} are not part of it` });
  }
  for (const size of cosignaturesBySize.keys()) {
    return report({ subject: "cosignature", size, message: `a cosignature is stored for size ${size}, where no checkpoint was signed` });
  }
  for (const name of unknownCosigners) warnings.push(`cosignatures by ${name} not verified: no key is known for that cosigner`);
  return report();
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

function checkCheckpoint(doc: SignedCheckpointDoc, root: Uint8Array, opts: VerifyLedgerOptions): LedgerProblem | undefined {
  const size = doc.size;
  const fail = (message: string): LedgerProblem => ({ subject: "checkpoint", size, message: `signed checkpoint at size ${size}: ${message}` });
  if (doc._id !== size) return fail(`stored under _id ${String(doc._id)}`);
  if (!equalHashes(bytesOf(doc.root), root)) return fail(`its root ${hex(bytesOf(doc.root))} is not the root of the first ${size} entries (${hex(root)})`);
  let text: string;
  try {
    text = opts.log ? openNote(doc.note, opts.log.verifiers).text : parseNote(doc.note).text;
  } catch (e) {
    const code = e instanceof LiaisonError ? e.code : "ERROR";
    const why =
      code === "SIGNATURE_INVALID"
        ? "its signature does not verify with the log's key"
        : code === "KEY_UNKNOWN"
          ? "it carries no signature by an attested key of the log"
          : `the note is malformed (${(e as Error).message})`;
    return fail(why);
  }
  let cp;
  try {
    cp = parseCheckpoint(text);
  } catch (e) {
    return fail(`the note is not a checkpoint (${(e as Error).message})`);
  }
  if (opts.log && cp.origin !== opts.log.origin) return fail(`its origin is ${JSON.stringify(cp.origin)}, not ${JSON.stringify(opts.log.origin)}`);
  if (cp.size !== size) return fail(`the note says size ${cp.size}`);
  if (!equalHashes(cp.rootHash, root)) return fail(`the note's root ${Buffer.from(cp.rootHash).toString("base64")} is not the root of the first ${size} entries (${Buffer.from(root).toString("base64")})`);
  return undefined;
}

function checkCosignature(doc: SignedCheckpointDoc, cs: CosignatureDoc, verifiers: readonly NoteVerifier[]): LedgerProblem | undefined {
  const fail = (message: string): LedgerProblem => ({
    subject: "cosignature",
    size: doc.size,
    message: `cosignature by ${cs.cosigner} on the checkpoint at size ${doc.size}: ${message}`,
  });
  const line = cs.line.endsWith("\n") ? cs.line : `${cs.line}\n`;
  try {
    const opened = openNote(`${parseNote(doc.note).text}\n${line}`, verifiers);
    if (opened.signatures.length !== 1) return fail("the stored line is not exactly one signature line");
    if (opened.verified[0].name !== cs.cosigner) return fail(`the line is signed by ${opened.verified[0].name}`);
  } catch (e) {
    const code = e instanceof LiaisonError ? e.code : "ERROR";
    return fail(
      code === "SIGNATURE_INVALID"
        ? "the signature does not verify with the cosigner's key"
        : code === "KEY_UNKNOWN"
          ? "the line is not signed by a known key of the cosigner"
          : `the line is malformed (${(e as Error).message})`,
    );
  }
  return undefined;
}
