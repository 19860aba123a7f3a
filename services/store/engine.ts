/**
 * The storage engine: namespaces, document versions, indexes, transactions, and the journal.
 *
 * Every document has a chain of versions stamped with a commit sequence; a transaction reads the
 * newest version at or below its snapshot sequence and writes into a private write set, holding
 * a lock on each document it wrote. Committed state is what the indexes describe. Non-transactional
 * writes and transaction commits are applied in memory synchronously (atomic on this event loop)
 * and acknowledged after their journal record is on disk.
 */
import { BSON, Binary, UUID } from "bson";
import { StoreError, writeConflict } from "./errors.ts";
import { compileFilter, type Folder, type Matcher } from "./query.ts";
import { SortedIndex } from "./sorted.ts";
import {
  compareValues,
  depthOf,
  isPlainObject,
  keyString,
  makeSortComparator,
  typeOrder,
  valuesAtPath,
  type Doc,
} from "./values.ts";
import { DESERIALIZE_OPTIONS, Journal, recover, removeJournalsBelow, writeSnapshot } from "./journal.ts";
import type { Logger } from "../logging/index.ts";

export interface Version {
  doc: Doc | null;
  raw: Buffer | null;
  seq: number;
  prev: Version | null;
}

export interface Visible {
  key: string;
  doc: Doc;
  raw: Buffer;
}

export interface IndexInfo {
  name: string;
  key: Doc;
  spec: Doc;
  unique: boolean;
  sparse: boolean;
  partial: Matcher | null;
  paths: string[][];
  dirs: number[];
  /** Committed state's keys. For `_id_` too (range scans and sorts on `_id`); point lookups use the document map. */
  tree: SortedIndex;
  isId: boolean;
  /** Some document gave several keys (an array on an indexed path): no index-provided sort order. */
  multikey: boolean;
}

export class Collection {
  readonly docs = new Map<string, Version>();
  indexes: IndexInfo[] = [];
  /** Keys of documents changed while transactions were open, with the change's sequence (see Engine.query). */
  changes: { seq: number; key: string }[] = [];
  constructor(
    public db: string,
    public name: string,
    public options: Doc,
    public uuid: Binary,
  ) {
    this.indexes.push(makeIndex({ v: 2, key: { _id: 1 }, name: "_id_" }));
  }
  get ns(): string {
    return `${this.db}.${this.name}`;
  }
}

export type TxnState = "inProgress" | "committed" | "aborted";

export class Txn {
  state: TxnState = "inProgress";
  snapshotSeq: number;
  readonly writes = new Map<Collection, Map<string, Visible | null>>();
  /** Collections this transaction created (explicitly or by a write), registered in the catalog at commit. */
  readonly created = new Map<string, Collection>();
  /** Index keys of this transaction's written documents, per collection and index (unique checks, reads). */
  readonly pending = new Map<Collection, Map<IndexInfo, SortedIndex>>();
  abortReason: StoreError | null = null;
  ops = 0;
  constructor(
    readonly sessionKey: string,
    readonly txnNumber: number,
    snapshotSeq: number,
  ) {
    this.snapshotSeq = snapshotSeq;
  }
}

/** A journal operation: put (whole document), delete by _id, or a catalog change. */
export type JournalOp =
  | { op: "put"; ns: string; raw: Buffer }
  | { op: "del"; ns: string; id: unknown }
  | { op: "create"; ns: string; options: Doc; uuid: Binary }
  | { op: "drop"; ns: string }
  | { op: "dropDatabase"; db: string }
  | { op: "createIndex"; ns: string; spec: Doc }
  | { op: "dropIndex"; ns: string; name: string }
  | { op: "rename"; from: string; to: string };

function splitNs(ns: string): [string, string] {
  const i = ns.indexOf(".");
  return [ns.slice(0, i), ns.slice(i + 1)];
}

export function makeIndex(spec: Doc): IndexInfo {
  const key = spec.key as Doc;
  const paths = Object.keys(key).map((k) => k.split("."));
  const dirs = Object.keys(key).map((k) => (typeof key[k] === "number" && (key[k] as number) < 0 ? -1 : 1));
  const isId = Object.keys(key).length === 1 && key._id !== undefined;
  const partial = isPlainObject(spec.partialFilterExpression) ? compileFilter(spec.partialFilterExpression) : null;
  return {
    name: String(spec.name),
    key,
    spec,
    // prepareUnique (collMod, 6.0+): new keys must be unique, existing duplicates may remain.
    unique: isId || spec.unique === true || spec.prepareUnique === true,
    sparse: spec.sparse === true,
    partial,
    paths,
    dirs,
    tree: new SortedIndex(dirs),
    isId,
    multikey: false,
  };
}

/** Index keys of a document (several when a field is an array), or none when sparse/partial excludes it. */
export function indexKeys(ix: IndexInfo, doc: Doc): unknown[][] {
  if (ix.partial && !ix.partial(doc)) return [];
  const perField: unknown[][] = [];
  let anyPresent = false;
  for (const p of ix.paths) {
    const vals = valuesAtPath(doc, p);
    const flat: unknown[] = [];
    for (const v of vals) {
      if (Array.isArray(v)) {
        if (v.length === 0) flat.push(undefined);
        for (const el of v) flat.push(el);
        flat.push(v);
      } else flat.push(v);
    }
    if (flat.length) anyPresent = true;
    else flat.push(null);
    const seen = new Set<string>();
    perField.push(flat.filter((v) => {
      const k = keyString(v);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }));
  }
  if (ix.sparse && !anyPresent) return [];
  let combos: unknown[][] = [[]];
  for (const vals of perField) {
    const next: unknown[][] = [];
    for (const c of combos) for (const v of vals) next.push([...c, v]);
    combos = next.slice(0, 10000);
  }
  return combos;
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || v === undefined) return "null";
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === "ObjectId") return `ObjectId('${(v as { toHexString(): string }).toHexString()}')`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[ ${v.map(formatValue).join(", ")} ]`;
  if (isPlainObject(v)) return `{ ${Object.keys(v).map((k) => `${k}: ${formatValue(v[k])}`).join(", ")} }`;
  return String(v);
}

export function duplicateKeyError(coll: Collection, ix: IndexInfo, key: unknown[]): StoreError {
  const keyPattern: Doc = {};
  const keyValue: Doc = {};
  Object.keys(ix.key).forEach((k, i) => {
    keyPattern[k] = ix.key[k];
    keyValue[k] = key[i] === undefined ? null : key[i];
  });
  const shown = Object.keys(keyValue).map((k) => `${k}: ${formatValue(keyValue[k])}`).join(", ");
  return new StoreError(11000, `E11000 duplicate key error collection: ${coll.ns} index: ${ix.name} dup key: { ${shown} }`, {
    extra: { keyPattern, keyValue },
  });
}

/** Validate a document to be stored: `_id` rules, `$`-prefixed names, nesting depth. */
export function validateStoredDoc(doc: Doc): void {
  if (Array.isArray(doc._id)) throw new StoreError(2, "can't use an array for _id");
  if (doc._id instanceof RegExp) throw new StoreError(2, "can't use a regex for _id");
  if (isPlainObject(doc._id)) {
    for (const k of Object.keys(doc._id)) if (k.startsWith("$")) throw new StoreError(52, `_id fields may not contain '$'-prefixed fields: ${k} is not valid for storage.`);
  }
  if (depthOf(doc, 101) > 100) throw new StoreError(15, "Document exceeds maximum nesting depth of 100");
}

export interface EngineOptions {
  dbpath: string;
  log: Logger;
  snapshotBytes?: number;
  /** 32 bytes: journal and snapshot records sealed with AES-256-GCM at rest (journal.ts). */
  encryptionKey?: Uint8Array;
}

export class Engine {
  readonly collections = new Map<string, Collection>();
  seq = 0;
  readonly activeTxns = new Set<Txn>();
  private readonly locks = new Map<string, Txn>(); // ns + "\0" + key → txn holding the document
  private tombstones: { coll: Collection; key: string }[] = [];
  journal!: Journal;
  private readonly log: Logger;
  private readonly dbpath: string;
  private readonly snapshotBytes: number;
  private readonly encryptionKey: Uint8Array | undefined;
  private snapshotting: Promise<void> | null = null;
  private replaying = false;
  /** During recovery index trees are not maintained per write; they are built once at the end. */
  private deferIndexes = false;
  opcounters = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };

  constructor(opts: EngineOptions) {
    this.log = opts.log;
    this.dbpath = opts.dbpath;
    this.snapshotBytes = opts.snapshotBytes ?? 64 << 20;
    this.encryptionKey = opts.encryptionKey;
  }

  // ---------- startup ----------

  async open(): Promise<{ replayed: number; plainRecords: number }> {
    const rec = recover(this.dbpath, this.log, this.encryptionKey);
    this.replaying = true;
    this.deferIndexes = true;
    try {
      if (rec.snapshot) {
        for (const c of (rec.snapshot.catalog as Doc[]) ?? []) {
          const coll = this.ensureCollection(String(c.ns), (c.options as Doc) ?? {}, c.uuid as Binary);
          for (const spec of (c.indexes as Doc[]) ?? []) if (spec.name !== "_id_") coll.indexes.push(makeIndex(spec));
        }
        for (const chunk of rec.snapshotChunks) {
          const coll = this.collections.get(String(chunk.ns));
          if (!coll) continue;
          const raws = chunk.docs as Binary[];
          for (const r of raws) {
            const raw = Buffer.from(r.buffer.subarray(0, r.position));
            this.applyPut(coll, raw, BSON.deserialize(raw, DESERIALIZE_OPTIONS));
          }
        }
      }
      for (const r of rec.journalRecords) this.replayRecord(r);
    } finally {
      this.replaying = false;
      this.deferIndexes = false;
    }
    for (const coll of this.collections.values()) for (const ix of coll.indexes) this.loadIndex(coll, ix);
    this.journal = new Journal(this.dbpath, rec.gen, this.log, this.encryptionKey);
    await this.journal.open();
    return { replayed: rec.journalRecords.length, plainRecords: rec.plainRecords };
  }

  private replayRecord(r: Doc): void {
    for (const op of r.ops as Doc[]) {
      const kind = op.op;
      if (kind === "put") {
        const coll = this.ensureCollection(String(op.ns), {});
        const b = op.raw as Binary;
        const raw = Buffer.from(b.buffer.subarray(0, b.position));
        this.applyPut(coll, raw, BSON.deserialize(raw, DESERIALIZE_OPTIONS));
      } else if (kind === "del") {
        const coll = this.collections.get(String(op.ns));
        if (coll) this.applyDelete(coll, keyString(op.id));
      } else if (kind === "create") {
        this.ensureCollection(String(op.ns), (op.options as Doc) ?? {}, op.uuid as Binary);
      } else if (kind === "drop") {
        this.collections.delete(String(op.ns));
      } else if (kind === "dropDatabase") {
        for (const c of [...this.collections.values()]) if (c.db === op.db) this.collections.delete(c.ns);
      } else if (kind === "createIndex") {
        const coll = this.ensureCollection(String(op.ns), {});
        const spec = op.spec as Doc;
        if (!coll.indexes.some((i) => i.name === spec.name)) this.buildIndex(coll, makeIndex(spec), false);
      } else if (kind === "dropIndex") {
        const coll = this.collections.get(String(op.ns));
        if (coll) coll.indexes = coll.indexes.filter((i) => i.name !== op.name);
      } else if (kind === "rename") {
        const coll = this.collections.get(String(op.from));
        if (coll) {
          this.collections.delete(coll.ns);
          this.collections.delete(String(op.to));
          const [db, name] = splitNs(String(op.to));
          coll.db = db;
          coll.name = name;
          this.collections.set(coll.ns, coll);
        }
      }
    }
  }

  // ---------- catalog ----------

  ensureCollection(ns: string, options: Doc, uuid?: Binary): Collection {
    let coll = this.collections.get(ns);
    if (!coll) {
      const [db, name] = splitNs(ns);
      coll = new Collection(db, name, options, uuid ?? new UUID());
      this.collections.set(ns, coll);
    }
    return coll;
  }

  /** The collection `ns` as `txn` sees it: the catalog's, or one the transaction created. */
  collection(ns: string, txn: Txn | null): Collection | undefined {
    return this.collections.get(ns) ?? txn?.created.get(ns);
  }

  /**
   * Get or implicitly create a collection, recording the creation in `ops`. Inside a transaction
   * the new collection is the transaction's until it commits (invisible to others, gone on abort).
   */
  collectionForWrite(ns: string, ops: JournalOp[], txn: Txn | null = null, options: Doc = {}): Collection {
    const existing = this.collection(ns, txn);
    if (existing) return existing;
    validateNs(ns);
    if (txn) {
      const [db, name] = splitNs(ns);
      const coll = new Collection(db, name, options, new UUID());
      txn.created.set(ns, coll);
      return coll;
    }
    const coll = this.ensureCollection(ns, options);
    ops.push({ op: "create", ns, options, uuid: coll.uuid });
    return coll;
  }

  /** Build an index's tree from the committed documents in one sort (recovery). */
  private loadIndex(coll: Collection, ix: IndexInfo): void {
    const entries: { key: unknown[]; id: string }[] = [];
    for (const [key, v] of coll.docs) {
      if (!v.doc) continue;
      if (ix.isId) {
        entries.push({ key: [v.doc._id], id: key });
        continue;
      }
      const keys = indexKeys(ix, v.doc);
      if (keys.length > 1) ix.multikey = true;
      for (const k of keys) entries.push({ key: k, id: key });
    }
    ix.tree.load(entries);
  }

  buildIndex(coll: Collection, ix: IndexInfo, check: boolean): void {
    if (this.deferIndexes) {
      coll.indexes.push(ix);
      return;
    }
    for (const [key, v] of coll.docs) {
      if (!v.doc) continue;
      const keys = indexKeys(ix, v.doc);
      if (keys.length > 1) ix.multikey = true;
      for (const k of keys) {
        if (check && ix.unique && ix.spec.unique === true) {
          for (const e of ix.tree.range(k, true, k, true)) {
            if (e.id !== key) throw duplicateKeyError(coll, ix, k);
          }
        }
        ix.tree.insert({ key: k, id: key });
      }
    }
    coll.indexes.push(ix);
  }

  /** A new unique index on a collection `txn` created must hold for the documents it wrote there. */
  checkTxnUnique(txn: Txn, coll: Collection, ix: IndexInfo): void {
    if (!ix.unique) return;
    const tree = new SortedIndex(ix.dirs);
    for (const [key, w] of txn.writes.get(coll) ?? []) {
      if (!w) continue;
      for (const k of indexKeys(ix, w.doc)) {
        for (const e of tree.range(k, true, k, true)) if (e.id !== key) throw duplicateKeyError(coll, ix, k);
        tree.insert({ key: k, id: key });
      }
    }
  }

  // ---------- reads ----------

  visible(coll: Collection, key: string, txn: Txn | null): Visible | null {
    if (txn) {
      const w = txn.writes.get(coll)?.get(key);
      if (w !== undefined) return w;
      let v: Version | null | undefined = coll.docs.get(key);
      while (v && v.seq > txn.snapshotSeq) v = v.prev;
      return v && v.doc ? { key, doc: v.doc, raw: v.raw as Buffer } : null;
    }
    const v = coll.docs.get(key);
    return v && v.doc ? { key, doc: v.doc, raw: v.raw as Buffer } : null;
  }

  *scan(coll: Collection, txn: Txn | null): Generator<Visible> {
    if (!txn) {
      for (const [key, v] of coll.docs) if (v.doc) yield { key, doc: v.doc, raw: v.raw as Buffer };
      return;
    }
    const mine = txn.writes.get(coll);
    for (const key of coll.docs.keys()) {
      const vis = this.visible(coll, key, txn);
      if (vis) yield vis;
    }
    if (mine) for (const [key, w] of mine) if (w && !coll.docs.has(key)) yield w;
  }

  /**
   * Documents matching `filter`, using an index for candidates where one applies (and for the
   * order, when an index gives the requested sort: then `limit` stops the scan early).
   * Returns matches in natural (or index) order, sorted when asked.
   */
  query(
    coll: Collection | undefined,
    filter: Doc,
    txn: Txn | null,
    opts: { sort?: Doc; skip?: number; limit?: number; variables?: Doc; hint?: unknown; fold?: Folder | null } = {},
  ): Visible[] {
    const fold = opts.fold ?? null;
    const matcher = compileFilter(filter, opts.variables, fold);
    if (!coll) return [];
    const skip = opts.skip ?? 0;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const plainSort = opts.sort ? makeSortComparator(opts.sort) : null;
    const sortCmp = plainSort && fold ? (a: Doc, b: Doc): number => plainSort(fold(a) as Doc, fold(b) as Doc) : plainSort;
    const out: Visible[] = [];
    // Index keys are binary-compared: a folding collation needs a scan.
    const plan = fold ? null : this.plan(coll, filter, txn, sortCmp ? opts.sort : undefined);
    const source: Iterable<Visible> = plan ? plan.source : this.scan(coll, txn);
    const presorted = plan?.sorted ?? false;
    const need = sortCmp && !presorted ? Infinity : skip + limit;
    const stats = { plan: plan?.index ?? null, access: plan ? plan.name : "COLLSCAN", reverse: plan?.reverse ?? false, docsExamined: 0, inMemorySort: sortCmp !== null && !presorted };
    this.lastQuery = stats;
    // Index bounds that select exactly the matching documents need no second look at them.
    const match: Matcher = plan?.exact ? () => true : matcher;
    for (const v of source) {
      stats.docsExamined++;
      if (match(v.doc)) {
        out.push(v);
        if (out.length >= need) break;
      }
    }
    if (sortCmp && !presorted) out.sort((a, b) => sortCmp(a.doc, b.doc));
    return out.slice(skip, limit === Infinity ? undefined : skip + limit);
  }

  /** How the last `query` ran (for `explain`): access path, index, documents examined, in-memory sort. */
  lastQuery: { plan: IndexInfo | null; access: string; reverse: boolean; docsExamined: number; inMemorySort: boolean } = {
    plan: null,
    access: "COLLSCAN",
    reverse: false,
    docsExamined: 0,
    inMemorySort: false,
  };

  /**
   * Candidates from an index, or null (full scan). Equality on the leading fields of a compound
   * index, then a range or `$in` on the next field; among usable indexes the one binding most
   * fields wins, then one that also gives the sort order (scanned forwards or backwards).
   *
   * Inside a transaction the committed index describes the latest committed state, not the
   * snapshot: candidates are its entries plus the transaction's own writes (its pending index)
   * plus documents committed since the snapshot (`Collection.changes`), each read at the snapshot
   * and matched again by the caller; such results are never presorted.
   */
  private plan(
    coll: Collection,
    filter: Doc,
    txn: Txn | null,
    sort: Doc | undefined,
  ): { source: Iterable<Visible>; sorted: boolean; name: string; index: IndexInfo | null; reverse: boolean; exact?: boolean } | null {
    const idCond = filter._id;
    const lookup = (keys: unknown[]): Visible[] => {
      const res: Visible[] = [];
      const seen = new Set<string>();
      for (const k of keys) {
        const ks = keyString(k);
        if (seen.has(ks)) continue;
        seen.add(ks);
        const v = this.visible(coll, ks, txn);
        if (v) res.push(v);
      }
      return res;
    };
    if (idCond !== undefined && isEqualityLiteral(idCond)) return { source: lookup([idCond]), sorted: true, name: "IDHACK", index: coll.indexes[0], reverse: false };
    if (isPlainObject(idCond) && Object.keys(idCond).length === 1) {
      if (idCond.$eq !== undefined && isEqualityLiteral(idCond.$eq)) return { source: lookup([idCond.$eq]), sorted: true, name: "IDHACK", index: coll.indexes[0], reverse: false };
      if (Array.isArray(idCond.$in) && idCond.$in.every(isEqualityLiteral)) return { source: lookup(idCond.$in), sorted: idCond.$in.length <= 1, name: "IDHACK", index: coll.indexes[0], reverse: false };
    }
    const conds = new Map<string, Range[]>();
    for (const f of Object.keys(filter)) {
      if (f.startsWith("$")) continue;
      const rs = conditionRanges(filter[f]);
      if (rs) conds.set(f, rs);
    }
    const sortFields = sort ? Object.keys(sort).map((f) => [f, sort[f]] as const) : [];
    let best: { score: number; ix: IndexInfo; prefix: unknown[]; next: Range[] | undefined; sorted: boolean; reverse: boolean } | null = null;
    for (const ix of coll.indexes) {
      if (ix.partial || ix.sparse) continue;
      const prefix: unknown[] = [];
      let eq = 0;
      while (eq < ix.paths.length) {
        const rs = conds.get(ix.paths[eq].join("."));
        if (!rs || rs.length !== 1 || !isPoint(rs[0])) break;
        prefix.push(rs[0].lo);
        eq++;
      }
      const next = eq < ix.paths.length ? conds.get(ix.paths[eq].join(".")) : undefined;
      const bound = eq + (next ? 1 : 0);
      if (txn && bound === 0) continue;
      let sorted = false;
      let reverse = false;
      if (sortFields.length && !txn && !ix.multikey) {
        const bound = new Set(ix.paths.slice(0, eq).map((p) => p.join(".")));
        const rest = sortFields.filter(([f]) => !bound.has(f));
        let sigma = 0;
        let ok = true;
        for (let i = 0; i < rest.length && ok; i++) {
          const [f, d] = rest[i];
          const c = eq + i;
          if (c >= ix.paths.length || ix.paths[c].join(".") !== f || typeof d !== "number") ok = false;
          else {
            const sgn = (d < 0 ? -1 : 1) * ix.dirs[c];
            if (sigma === 0) sigma = sgn;
            else if (sgn !== sigma) ok = false;
          }
        }
        if (ok) {
          sorted = true;
          reverse = sigma < 0;
        }
      }
      if (bound === 0 && !sorted) continue;
      const score = bound * 10 + (sorted ? 5 : 0) + (ix.unique && eq === ix.paths.length ? 100 : 0);
      if (!best || score > best.score) best = { score, ix, prefix, next, sorted, reverse };
    }
    if (!best) return null;
    const { ix, prefix, sorted, reverse } = best;
    const eq = prefix.length;
    const dir = ix.dirs[eq] ?? 1;
    let ranges: Range[] = best.next ? best.next.slice() : [{ lo: undefined, loInc: true, hi: undefined, hiInc: true }];
    // On a multikey index a two-sided range cannot bound the scan (each bound may match another element).
    if (ix.multikey) ranges = ranges.map((r) => (isPoint(r) || r.lo === undefined || r.hi === undefined ? r : { ...r, hi: undefined, hiInc: true }));
    if (sorted && ranges.length > 1) {
      const scanDir = dir * (reverse ? -1 : 1);
      ranges.sort((a, b) => scanDir * compareValues(a.lo, b.lo));
    }
    const since = txn ? this.changedSince(coll, txn) : null;
    const pending = txn ? this.pendingTree(txn, coll, ix) : null;
    const dedupe = ix.multikey || ranges.length > 1 || txn !== null;
    const self = this;
    function* entries(tree: SortedIndex): Generator<string> {
      for (const r of ranges) {
        const point = isPoint(r);
        const [vLo, vLoInc, vHi, vHiInc] = dir < 0 ? [r.hi, r.hiInc, r.lo, r.loInc] : [r.lo, r.loInc, r.hi, r.hiInc];
        const lo = vLo === undefined ? (eq ? prefix : undefined) : [...prefix, vLo];
        const hi = vHi === undefined ? (eq ? prefix : undefined) : [...prefix, vHi];
        const loInc = vLo === undefined ? true : vLoInc;
        const hiInc = vHi === undefined ? true : vHiInc;
        const bracketed = !point && (r.lo !== undefined || r.hi !== undefined);
        const bracket = bracketed ? typeOrder(r.lo !== undefined ? r.lo : r.hi) : 0;
        const iterDir = dir * (reverse ? -1 : 1);
        for (const e of reverse ? tree.rangeReverse(lo, loInc, hi, hiInc) : tree.range(lo, loInc, hi, hiInc)) {
          if (bracketed) {
            const t = typeOrder(e.key[eq]);
            if (t !== bracket) {
              if ((t - bracket) * iterDir > 0) break;
              continue;
            }
          }
          yield e.id;
        }
      }
    }
    const source = (function* (): Generator<Visible> {
      const seen = dedupe ? new Set<string>() : null;
      const keys: Iterable<string>[] = [entries(ix.tree)];
      if (pending) keys.push(entries(pending));
      if (since) keys.push(since);
      for (const it of keys) {
        for (const id of it) {
          if (seen) {
            if (seen.has(id)) continue;
            seen.add(id);
          }
          const v = self.visible(coll, id, txn);
          if (v) yield v;
        }
      }
    })();
    // Exact when every condition of the filter is one of the bounds on a single-valued index:
    // top-level fields, finite numbers, a lower bound on the range (NaN, below every number in
    // the index order, never matches a range), committed state only.
    const boundPaths = ix.paths.slice(0, eq + (best.next ? 1 : 0)).map((p) => p.join("."));
    const exact =
      !txn &&
      !ix.multikey &&
      Object.keys(filter).length === boundPaths.length &&
      boundPaths.every((f) => !f.includes(".") && Object.prototype.hasOwnProperty.call(filter, f) && exactCondition(filter[f]));
    return { source, sorted: sorted && !txn, name: "IXSCAN", index: ix, reverse, exact };
  }

  /** Keys of `coll`'s documents committed after `txn`'s snapshot (their snapshot version may match). */
  private changedSince(coll: Collection, txn: Txn): string[] {
    const out: string[] = [];
    const ch = coll.changes;
    for (let i = ch.length - 1; i >= 0 && ch[i].seq > txn.snapshotSeq; i--) out.push(ch[i].key);
    return out;
  }

  /** The transaction's pending index for `ix` (built from its write set if the index is newer). */
  private pendingTree(txn: Txn, coll: Collection, ix: IndexInfo): SortedIndex | null {
    const writes = txn.writes.get(coll);
    if (!writes) return null;
    let per = txn.pending.get(coll);
    if (!per) txn.pending.set(coll, (per = new Map()));
    let tree = per.get(ix);
    if (!tree) {
      tree = new SortedIndex(ix.dirs);
      for (const [key, w] of writes) if (w) for (const k of indexKeys(ix, w.doc)) tree.insert({ key: k, id: key });
      per.set(ix, tree);
    }
    return tree;
  }

  // ---------- writes ----------

  beginTxnSnapshot(txn: Txn): void {
    txn.snapshotSeq = this.seq;
    this.activeTxns.add(txn);
  }

  private lockKey(coll: Collection, key: string): string {
    return coll.ns + "\0" + key;
  }

  /** A non-transactional write to a document held by a transaction aborts that transaction. */
  private breakLock(coll: Collection, key: string): void {
    const holder = this.locks.get(this.lockKey(coll, key));
    if (holder) this.abortTxn(holder, writeConflict());
  }

  private checkUnique(coll: Collection, doc: Doc, key: string, txn: Txn | null): void {
    for (const ix of coll.indexes) {
      if (!ix.unique || ix.isId) continue;
      const mine = txn ? txn.writes.get(coll) : undefined;
      const pending = txn && mine ? this.pendingTree(txn, coll, ix) : null;
      for (const k of indexKeys(ix, doc)) {
        for (const e of ix.tree.range(k, true, k, true)) {
          if (e.id === key) continue;
          if (mine?.has(e.id)) continue; // the transaction changed that document (its keys are in `pending`)
          throw duplicateKeyError(coll, ix, k);
        }
        if (pending) for (const e of pending.range(k, true, k, true)) if (e.id !== key) throw duplicateKeyError(coll, ix, k);
      }
    }
  }

  /** Insert a new document (fails with 11000 if `_id` or a unique key exists). */
  insert(coll: Collection, doc: Doc, raw: Buffer, txn: Txn | null, ops: JournalOp[]): void {
    validateStoredDoc(doc);
    const key = keyString(doc._id);
    if (txn) {
      this.txnCheckWritable(coll, key, txn);
      if (this.visible(coll, key, txn)) throw duplicateKeyError(coll, coll.indexes[0], [doc._id]);
      const latest = coll.docs.get(key);
      if (latest && latest.doc) throw writeConflict(); // inserted by someone after our snapshot
      this.checkUnique(coll, doc, key, txn);
      this.txnRecord(coll, key, { key, doc, raw }, txn);
      return;
    }
    if (coll.docs.get(key)?.doc) throw duplicateKeyError(coll, coll.indexes[0], [doc._id]);
    this.checkUnique(coll, doc, key, null);
    this.breakLock(coll, key);
    this.applyPut(coll, raw, doc, key);
    ops.push({ op: "put", ns: coll.ns, raw });
  }

  /** Replace a document that the caller found visible. */
  replace(coll: Collection, key: string, doc: Doc, raw: Buffer, txn: Txn | null, ops: JournalOp[]): void {
    validateStoredDoc(doc);
    if (txn) {
      this.txnCheckWritable(coll, key, txn);
      this.checkUnique(coll, doc, key, txn);
      this.txnRecord(coll, key, { key, doc, raw }, txn);
      return;
    }
    this.checkUnique(coll, doc, key, null);
    this.breakLock(coll, key);
    this.applyPut(coll, raw, doc, key);
    ops.push({ op: "put", ns: coll.ns, raw });
  }

  remove(coll: Collection, key: string, id: unknown, txn: Txn | null, ops: JournalOp[]): void {
    if (txn) {
      this.txnCheckWritable(coll, key, txn);
      this.txnRecord(coll, key, null, txn);
      return;
    }
    this.breakLock(coll, key);
    this.applyDelete(coll, key);
    ops.push({ op: "del", ns: coll.ns, id });
  }

  private txnCheckWritable(coll: Collection, key: string, txn: Txn): void {
    const holder = this.locks.get(this.lockKey(coll, key));
    if (holder && holder !== txn) throw writeConflict();
    const latest = coll.docs.get(key);
    if (latest && latest.seq > txn.snapshotSeq && !txn.writes.get(coll)?.has(key)) throw writeConflict();
  }

  private txnRecord(coll: Collection, key: string, w: Visible | null, txn: Txn): void {
    let m = txn.writes.get(coll);
    if (!m) txn.writes.set(coll, (m = new Map()));
    const per = txn.pending.get(coll);
    if (per) {
      const prev = m.get(key);
      for (const [ix, tree] of per) {
        if (prev) for (const k of indexKeys(ix, prev.doc)) tree.remove({ key: k, id: key });
        if (w) for (const k of indexKeys(ix, w.doc)) tree.insert({ key: k, id: key });
      }
    }
    m.set(key, w);
    this.locks.set(this.lockKey(coll, key), txn);
  }

  applyPut(coll: Collection, raw: Buffer, doc: Doc, key = keyString(doc._id)): void {
    const old = coll.docs.get(key);
    for (const ix of this.deferIndexes ? [] : coll.indexes) {
      if (ix.isId) {
        if (!old?.doc) ix.tree.insert({ key: [doc._id], id: key });
        continue;
      }
      if (old?.doc) for (const k of indexKeys(ix, old.doc)) ix.tree.remove({ key: k, id: key });
      const keys = indexKeys(ix, doc);
      if (keys.length > 1) ix.multikey = true;
      for (const k of keys) ix.tree.insert({ key: k, id: key });
    }
    const seq = ++this.seq;
    coll.docs.set(key, { doc, raw, seq, prev: this.activeTxns.size && old ? old : null });
    if (this.activeTxns.size) coll.changes.push({ seq, key });
  }

  applyDelete(coll: Collection, key: string): void {
    const old = coll.docs.get(key);
    if (!old || !old.doc) return;
    for (const ix of this.deferIndexes ? [] : coll.indexes) {
      for (const k of ix.isId ? [[old.doc._id]] : indexKeys(ix, old.doc)) ix.tree.remove({ key: k, id: key });
    }
    const seq = ++this.seq;
    if (this.activeTxns.size) {
      coll.docs.set(key, { doc: null, raw: null, seq, prev: old });
      this.tombstones.push({ coll, key });
      coll.changes.push({ seq, key });
    } else coll.docs.delete(key);
  }

  // ---------- transactions ----------

  abortTxn(txn: Txn, reason: StoreError | null): void {
    if (txn.state !== "inProgress") return;
    txn.state = "aborted";
    txn.abortReason = reason;
    this.releaseTxn(txn);
  }

  private releaseTxn(txn: Txn): void {
    for (const [coll, m] of txn.writes) {
      for (const key of m.keys()) {
        const lk = this.lockKey(coll, key);
        if (this.locks.get(lk) === txn) this.locks.delete(lk);
      }
    }
    this.activeTxns.delete(txn);
    txn.pending.clear();
    if (this.activeTxns.size === 0 && this.tombstones.length) {
      for (const { coll, key } of this.tombstones) {
        const v = coll.docs.get(key);
        if (v && !v.doc) coll.docs.delete(key);
      }
      this.tombstones = [];
    }
    // Changes older than every open snapshot are in the indexes' committed state already.
    let oldest = Infinity;
    for (const t of this.activeTxns) oldest = Math.min(oldest, t.snapshotSeq);
    for (const coll of this.collections.values()) {
      const ch = coll.changes;
      if (ch.length === 0) continue;
      if (oldest === Infinity) coll.changes = [];
      else if (ch[0].seq <= oldest) {
        let i = 0;
        while (i < ch.length && ch[i].seq <= oldest) i++;
        coll.changes = ch.slice(i);
      }
    }
  }

  /** Apply a transaction's write set (validated first, so all or nothing) and return its journal ops. */
  commitTxn(txn: Txn): JournalOp[] {
    const ops: JournalOp[] = [];
    // A collection the transaction created must still be free in the catalog.
    for (const [ns, coll] of txn.created) {
      if (this.collections.has(ns) || coll.ns !== ns) {
        this.abortTxn(txn, writeConflict());
        throw writeConflict();
      }
    }
    // Validate: unique constraints against what committed since.
    for (const [coll, m] of txn.writes) {
      const mine = txn.created.get(coll.ns) === coll;
      if (!mine && (!this.collections.has(coll.ns) || this.collections.get(coll.ns) !== coll)) {
        this.abortTxn(txn, writeConflict());
        throw writeConflict();
      }
      for (const [key, w] of m) {
        if (!w) continue;
        for (const ix of coll.indexes) {
          if (!ix.unique || ix.isId) continue;
          for (const k of indexKeys(ix, w.doc)) {
            for (const e of ix.tree.range(k, true, k, true)) {
              if (e.id !== key && !m.has(e.id)) {
                this.abortTxn(txn, null);
                throw duplicateKeyError(coll, ix, k);
              }
            }
          }
        }
      }
    }
    for (const [ns, coll] of txn.created) {
      this.collections.set(ns, coll);
      ops.push({ op: "create", ns, options: coll.options, uuid: coll.uuid });
      for (const ix of coll.indexes) if (!ix.isId) ops.push({ op: "createIndex", ns, spec: ix.spec });
    }
    for (const [coll, m] of txn.writes) {
      for (const [key, w] of m) {
        if (w) {
          this.applyPut(coll, w.raw, w.doc, key);
          ops.push({ op: "put", ns: coll.ns, raw: w.raw });
        } else {
          const old = coll.docs.get(key);
          if (old?.doc) {
            const id = old.doc._id;
            this.applyDelete(coll, key);
            ops.push({ op: "del", ns: coll.ns, id });
          }
        }
      }
    }
    txn.state = "committed";
    this.releaseTxn(txn);
    return ops;
  }

  // ---------- durability ----------

  /** Journal a group of operations as one record; resolves when it is on disk. */
  async persist(ops: JournalOp[]): Promise<void> {
    if (ops.length === 0 || this.replaying) return;
    const payload = BSON.serialize({ ops: ops.map(encodeOp) });
    const p = this.journal.append(payload);
    if (this.journal.size > this.snapshotBytes && !this.snapshotting) {
      // A snapshot that fails (a full disk) keeps the journals; it must not become an unhandled rejection.
      this.snapshotting = this.snapshot()
        .catch((error: unknown) => {
          this.log.warn("snapshot failed; the journals are kept", { error });
        })
        .finally(() => {
          this.snapshotting = null;
        });
    }
    await p;
  }

  /** Write a snapshot of the committed state and drop the journals it covers. */
  async snapshot(): Promise<void> {
    // Capture the state synchronously (documents are immutable), then switch journals.
    const catalog: Doc[] = [];
    const chunks: { ns: string; raws: Buffer[] }[] = [];
    for (const coll of this.collections.values()) {
      catalog.push({ ns: coll.ns, options: coll.options, uuid: coll.uuid, indexes: coll.indexes.map((i) => i.spec) });
      const raws: Buffer[] = [];
      for (const v of coll.docs.values()) {
        let cur: Version | null = v;
        // only committed state: the latest version
        if (cur && cur.doc && cur.raw) raws.push(cur.raw);
        cur = null;
      }
      chunks.push({ ns: coll.ns, raws });
    }
    const rotation = this.journal.rotate();
    const newGen = this.journal.gen;
    await rotation;
    const started = Date.now();
    function* records(): Generator<Uint8Array> {
      yield BSON.serialize({ kind: "header", gen: newGen, catalog });
      for (const c of chunks) {
        for (let i = 0; i < c.raws.length; i += 2000) {
          yield BSON.serialize({ kind: "docs", ns: c.ns, docs: c.raws.slice(i, i + 2000).map((r) => new Binary(r)) });
        }
      }
      yield BSON.serialize({ kind: "end" });
    }
    await writeSnapshot(this.dbpath, records(), this.journal.minFreeBytes, this.encryptionKey);
    removeJournalsBelow(this.dbpath, newGen);
    this.log.info("snapshot written", { gen: newGen, ms: Date.now() - started });
  }

  async close(): Promise<void> {
    if (this.snapshotting) await this.snapshotting.catch(() => undefined);
    await this.journal?.close();
  }
}

function encodeOp(op: JournalOp): Doc {
  if (op.op === "put") return { op: "put", ns: op.ns, raw: new Binary(op.raw) };
  return op as unknown as Doc;
}

export function compareKeyTuple(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i]);
    if (c) return c;
  }
  return 0;
}

function isEqualityLiteral(v: unknown): boolean {
  if (v instanceof RegExp) return false;
  if (Array.isArray(v)) return false;
  if (v === null || v === undefined) return false;
  if (isPlainObject(v)) {
    const ks = Object.keys(v);
    return ks.length > 0 && !ks[0].startsWith("$");
  }
  return true;
}

interface Range {
  lo: unknown;
  loInc: boolean;
  hi: unknown;
  hiInc: boolean;
}

/**
 * A condition an index scan answers exactly (see `plan`): a finite number, or `$eq`/`$gt`/`$gte`
 * with optional `$lt`/`$lte` on finite numbers.
 */
function exactCondition(cond: unknown): boolean {
  const finite = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
  if (finite(cond)) return true;
  if (!isPlainObject(cond)) return false;
  const ks = Object.keys(cond);
  if (ks.length === 0 || !ks.some((k) => k === "$eq" || k === "$gt" || k === "$gte")) return false;
  return ks.every((k) => (k === "$eq" || k === "$gt" || k === "$gte" || k === "$lt" || k === "$lte") && finite(cond[k]));
}

/** An equality: one value, both bounds inclusive. */
function isPoint(r: Range): boolean {
  return r.lo !== undefined && r.lo === r.hi && r.loInc && r.hiInc;
}

function conditionRanges(cond: unknown): Range[] | null {
  if (isEqualityLiteral(cond)) return [{ lo: cond, loInc: true, hi: cond, hiInc: true }];
  if (!isPlainObject(cond)) return null;
  const ks = Object.keys(cond);
  if (ks.length === 0 || !ks[0].startsWith("$")) return null;
  if (ks.length === 1 && ks[0] === "$eq" && isEqualityLiteral(cond.$eq)) return [{ lo: cond.$eq, loInc: true, hi: cond.$eq, hiInc: true }];
  if (ks.length === 1 && ks[0] === "$in" && Array.isArray(cond.$in) && cond.$in.every(isEqualityLiteral)) {
    const seen = new Set<string>();
    return cond.$in.filter((v) => !seen.has(keyString(v)) && seen.add(keyString(v))).map((v) => ({ lo: v, loInc: true, hi: v, hiInc: true }));
  }
  const r: Range = { lo: undefined, loInc: true, hi: undefined, hiInc: true };
  for (const k of ks) {
    const v = cond[k];
    if (!isEqualityLiteral(v) || isPlainObject(v)) return null;
    if (k === "$gt" || k === "$gte") {
      if (r.lo !== undefined) return null;
      r.lo = v;
      r.loInc = k === "$gte";
    } else if (k === "$lt" || k === "$lte") {
      if (r.hi !== undefined) return null;
      r.hi = v;
      r.hiInc = k === "$lte";
    } else return null;
  }
  if (r.lo !== undefined && r.hi !== undefined && typeOrder(r.lo) !== typeOrder(r.hi)) return null;
  return [r];
}

export function validateNs(ns: string): void {
  const [db, name] = splitNs(ns);
  if (!db || !name || name.includes("$") || db.includes(" ") || /[/\\. "$]/.test(db) || name.startsWith(".") || name.startsWith("system.")) {
    if (!(name?.startsWith("system.") && name !== "system.")) throw new StoreError(73, `Invalid namespace specified '${ns}'`);
  }
}
