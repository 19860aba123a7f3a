/**
 * Command handlers: each takes the parsed command and its context and returns the reply document
 * (MongoDB's shape) or throws a StoreError. Writes collect journal operations and are
 * acknowledged only after `engine.persist` resolves (on disk).
 */
import { BSON, Long, ObjectId, Timestamp } from "bson";
import { StoreError, badValue, writeConflict } from "./errors.ts";
import { Engine, duplicateKeyError, indexKeys, makeIndex, validateNs, type Collection, type JournalOp, type Txn, type Visible } from "./engine.ts";
import { project, runPipeline, compileFilter, collationFolder, evalLet, type Folder } from "./query.ts";
import { applyUpdate, classifyUpdate, seedFromFilter } from "./update.ts";
import { RawDocs, MAX_BSON_SIZE, moveIdFirst } from "./wire.ts";
import { DESERIALIZE_OPTIONS } from "./journal.ts";
import { deserializeTyped, restoreTypes, typeHints, type TypeHints } from "./typed.ts";
import { cloneValue, isPlainObject, keyString, makeSortComparator, toNumber, valuesAtPath, type Doc } from "./values.ts";

export interface Cursor {
  id: bigint;
  ns: string;
  raws: Buffer[];
  pos: number;
  sessionKey: string | null;
  /** Date.now() of its creation or last getMore; idle cursors are reaped (cursorTimeoutMillis). */
  lastUse: number;
  /** A tailable cursor on a capped collection: stays open, and a getMore past the end reads what was appended. */
  tail?: TailPosition;
}

interface TailPosition {
  coll: Collection;
  matches: (doc: Doc) => boolean;
  /** Key of the last document (in natural order) the cursor has looked at, or null: none yet. */
  after: string | null;
}

export interface CommandContext {
  engine: Engine;
  db: string;
  txn: Txn | null;
  sequences: Map<string, { docs: Doc[]; raws: Buffer[] }>;
  /** The command body's bytes, to read values with their exact BSON number types. */
  bodyRaw?: Buffer | null;
  typedBody?: Doc;
  cursors: Map<bigint, Cursor>;
  nextCursorId: () => bigint;
  sessionKey: string | null;
  /** Sessions known to the server, for `$listLocalSessions`. */
  localSessions?: () => Doc[];
  /**
   * Called before each write statement applies its write (a retryable write's
   * `onPrimaryTransactionalWrite` failpoint); a StoreError it throws fails that statement unwritten.
   */
  beforeWrite?: () => void;
}

const DEFAULT_BATCH = 101;

export function serializeDoc(doc: Doc): Buffer {
  return Buffer.from(BSON.serialize(doc));
}

function hasIdFirst(raw: Buffer): boolean {
  return raw.length > 9 && raw[5] === 0x5f && raw[6] === 0x69 && raw[7] === 0x64 && raw[8] === 0;
}

/** Put `_id` first (generating one if absent), as mongod stores it. */
export function withIdFirst(doc: Doc): Doc {
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  if (Object.keys(doc)[0] === "_id") return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

function nsOf(ctx: CommandContext, v: unknown, cmdName: string): string {
  if (typeof v !== "string" || v === "") throw new StoreError(73, `Invalid namespace specified '${ctx.db}.${String(v)}'`);
  void cmdName;
  return `${ctx.db}.${v}`;
}

function toInt(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  const n = toNumber(v);
  if (Number.isNaN(n)) throw new StoreError(14, `Expected a number but got ${typeof v}`);
  return Math.trunc(n);
}

// ---------- cursors ----------

function batchFrom(raws: Buffer[], start: number, batchSize: number): number {
  let end = start;
  let bytes = 0;
  const max = batchSize > 0 ? batchSize : Infinity;
  while (end < raws.length && end - start < max) {
    bytes += raws[end].length;
    if (bytes > MAX_BSON_SIZE - 1024 * 1024 && end > start) break;
    end++;
  }
  return end;
}

export function cursorReply(ctx: CommandContext, ns: string, raws: Buffer[], batchSize: number, singleBatch: boolean, tail?: TailPosition): Doc {
  const first = batchSize === 0 && !singleBatch ? 0 : batchFrom(raws, 0, singleBatch ? 0 : batchSize);
  let id = 0n;
  if ((first < raws.length || tail) && !singleBatch) {
    id = ctx.nextCursorId();
    ctx.cursors.set(id, { id, ns, raws, pos: first, sessionKey: ctx.sessionKey, lastUse: Date.now(), tail });
  }
  return { cursor: { firstBatch: new RawDocs(raws.slice(0, first)), id: Long.fromBigInt(id), ns }, ok: 1 };
}

function docsToRaws(vis: Visible[]): Buffer[] {
  return vis.map((v) => v.raw);
}

export function getMore(ctx: CommandContext, cmd: Doc): Doc {
  const idv = cmd.getMore;
  const id = typeof idv === "number" ? BigInt(idv) : (idv as Long).toBigInt?.() ?? 0n;
  const c = ctx.cursors.get(id);
  const ns = `${ctx.db}.${String(cmd.collection)}`;
  if (!c) throw new StoreError(43, `cursor id ${String(id)} not found`);
  if (c.ns !== ns && !c.ns.startsWith(`${ctx.db}.$cmd`)) throw new StoreError(13, `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${c.ns}`);
  const bs = toInt(cmd.batchSize, 0);
  c.lastUse = Date.now();
  if (c.tail && c.pos >= c.raws.length) {
    c.raws = readTail(ctx, c, c.tail);
    c.pos = 0;
  }
  const end = batchFrom(c.raws, c.pos, bs);
  const batch = c.raws.slice(c.pos, end);
  c.pos = end;
  let outId = c.id;
  if (c.pos >= c.raws.length && !c.tail) {
    ctx.cursors.delete(c.id);
    outId = 0n;
  }
  return { cursor: { nextBatch: new RawDocs(batch), id: Long.fromBigInt(outId), ns: c.ns }, ok: 1 };
}

/** What a tailable cursor has not seen yet: matching documents appended after its position (without waiting). */
function readTail(ctx: CommandContext, c: Cursor, tail: TailPosition): Buffer[] {
  if (ctx.engine.collections.get(c.ns) !== tail.coll) {
    ctx.cursors.delete(c.id);
    throw new StoreError(175, `collection dropped. ns: ${c.ns}`);
  }
  const out: Buffer[] = [];
  let past = tail.after === null;
  for (const [key, v] of tail.coll.docs) {
    if (!past) {
      past = key === tail.after;
      continue;
    }
    tail.after = key;
    if (v.doc && tail.matches(v.doc)) out.push(v.raw as Buffer);
  }
  if (!past) {
    ctx.cursors.delete(c.id);
    throw new StoreError(136, `CollectionScan died due to position in capped collection being deleted. ns: ${c.ns}`);
  }
  return out;
}

export function killCursors(ctx: CommandContext, cmd: Doc): Doc {
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const v of (cmd.cursors as unknown[]) ?? []) {
    const id = typeof v === "number" ? BigInt(v) : (v as Long).toBigInt();
    if (ctx.cursors.delete(id)) killed.push(Long.fromBigInt(id));
    else notFound.push(Long.fromBigInt(id));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

// ---------- find / count / distinct ----------

export function find(ctx: CommandContext, cmd: Doc): Doc {
  const ns = nsOf(ctx, cmd.find, "find");
  const coll = ctx.engine.collection(ns, ctx.txn);
  const filter = (cmd.filter as Doc) ?? {};
  if (!isPlainObject(filter)) throw new StoreError(14, "BSON field 'FindCommandRequest.filter' is the wrong type, expected type 'object'");
  let limit = toInt(cmd.limit, 0);
  let singleBatch = cmd.singleBatch === true;
  if (limit < 0) {
    limit = -limit;
    singleBatch = true;
  }
  const skip = toInt(cmd.skip, 0);
  if (skip < 0) throw new StoreError(51024, "BSON field 'skip' value must be >= 0, actual value '" + skip + "'");
  const batchSize = toInt(cmd.batchSize, DEFAULT_BATCH);
  if (batchSize < 0) throw new StoreError(51024, "BSON field 'batchSize' value must be >= 0, actual value '" + batchSize + "'");
  const sort = cmd.sort as Doc | undefined;
  if (sort !== undefined && !isPlainObject(sort)) throw badValue("sort must be an object");
  ctx.engine.opcounters.query++;
  let tail: TailPosition | undefined;
  if (cmd.tailable === true && coll) {
    if (coll.options.capped !== true) throw new StoreError(2, `error processing query: ns=${ns} tailable cursor requested on non capped collection`);
    if (sort !== undefined && Object.keys(sort).some((k) => k !== "$natural")) throw new StoreError(2, "error processing query: tailable cursors must be sorted in natural order");
    let after: string | null = null;
    for (const key of coll.docs.keys()) after = key;
    tail = { coll, matches: compileFilter(filter, evalLet(cmd.let), collationFolder(cmd.collation)), after };
  }
  const vis = ctx.engine.query(coll, filter, ctx.txn, { sort, skip, limit, variables: evalLet(cmd.let), fold: collationFolder(cmd.collation) });
  let raws: Buffer[];
  const projection = cmd.projection as Doc | undefined;
  if (projection && Object.keys(projection).length) {
    raws = project(vis.map((v) => v.doc), projection, filter).map(serializeDoc);
  } else raws = docsToRaws(vis);
  return cursorReply(ctx, ns, raws, limit && limit < batchSize ? limit : batchSize, singleBatch || (limit > 0 && raws.length <= limit && limit <= batchSize), tail);
}

/**
 * `explain` of a find: runs it and describes the access path MongoDB-style (winningPlan with
 * IDHACK / IXSCAN under FETCH / COLLSCAN, SORT when sorted in memory) with executionStats.
 */
export function explain(ctx: CommandContext, cmd: Doc): Doc {
  const inner = cmd.explain;
  if (!isPlainObject(inner) || Object.keys(inner).length === 0) throw new StoreError(14, "BSON field 'explain.explain' is the wrong type, expected type 'object'");
  if (Object.keys(inner)[0] !== "find") throw new StoreError(2, `explain is implemented for find only, not ${Object.keys(inner)[0]}`);
  const started = Date.now();
  const reply = find({ ...ctx, cursors: new Map(), nextCursorId: () => 0n }, { ...inner, singleBatch: true });
  const q = ctx.engine.lastQuery;
  const cursor = reply.cursor as Doc;
  const nReturned = (cursor.firstBatch as RawDocs).raws?.length ?? 0;
  let plan: Doc;
  if (q.access === "IDHACK") plan = { stage: "IDHACK" };
  else if (q.access === "IXSCAN" && q.plan) {
    plan = { stage: "FETCH", inputStage: { stage: "IXSCAN", keyPattern: q.plan.key, indexName: q.plan.name, isMultiKey: q.plan.multikey, isUnique: q.plan.unique, direction: q.reverse ? "backward" : "forward" } };
  } else plan = { stage: "COLLSCAN", direction: "forward" };
  if (q.inMemorySort) plan = { stage: "SORT", sortPattern: inner.sort, inputStage: plan };
  const ns = `${ctx.db}.${String(inner.find)}`;
  return {
    explainVersion: "1",
    queryPlanner: { namespace: ns, parsedQuery: inner.filter ?? {}, winningPlan: plan, rejectedPlans: [] },
    executionStats: { executionSuccess: true, nReturned, executionTimeMillis: Date.now() - started, totalDocsExamined: q.docsExamined },
    ok: 1,
  };
}

export function count(ctx: CommandContext, cmd: Doc): Doc {
  const ns = nsOf(ctx, cmd.count, "count");
  const coll = ctx.engine.collection(ns, ctx.txn);
  const query = (cmd.query as Doc) ?? {};
  const skip = toInt(cmd.skip, 0);
  const limit = Math.abs(toInt(cmd.limit, 0));
  const fold = collationFolder(cmd.collation);
  let n: number;
  if (!coll) n = 0;
  else if (Object.keys(query).length === 0 && !ctx.txn) {
    n = 0;
    for (const v of coll.docs.values()) if (v.doc) n++;
    n = Math.max(0, n - skip);
    if (limit) n = Math.min(n, limit);
  } else n = ctx.engine.query(coll, query, ctx.txn, { skip, limit, fold }).length;
  return { n, ok: 1 };
}

export function distinct(ctx: CommandContext, cmd: Doc): Doc {
  const ns = nsOf(ctx, cmd.distinct, "distinct");
  if (typeof cmd.key !== "string") throw new StoreError(14, "BSON field 'distinct.key' is missing but a required field");
  const coll = ctx.engine.collection(ns, ctx.txn);
  const fold = collationFolder(cmd.collation);
  const vis = ctx.engine.query(coll, (cmd.query as Doc) ?? {}, ctx.txn, { fold });
  const seen = new Map<string, unknown>();
  const path = cmd.key.split(".");
  for (const v of vis) {
    for (const x of valuesAtPath(v.doc, path)) {
      const items = Array.isArray(x) ? x : [x];
      for (const it of items) {
        const k = keyString(fold ? fold(it) : it);
        if (!seen.has(k)) seen.set(k, it);
      }
    }
  }
  return { values: [...seen.values()], ok: 1 };
}

// ---------- writes ----------

interface WriteErrorDoc {
  index: number;
  code: number;
  errmsg: string;
  [k: string]: unknown;
}

function toWriteError(index: number, e: unknown): WriteErrorDoc {
  if (e instanceof StoreError) return { index, code: e.code, errmsg: e.message, ...e.extra };
  return { index, code: 1, errmsg: e instanceof Error ? e.message : String(e) };
}

/** Inside a transaction a write conflict is a command error, and any error aborts the transaction. */
function onWriteError(ctx: CommandContext, e: unknown): void {
  if (ctx.txn) {
    ctx.engine.abortTxn(ctx.txn, e instanceof StoreError && e.code === 112 ? e : null);
    if (e instanceof StoreError && e.code === 112) throw e;
  }
  if (!(e instanceof StoreError)) throw e;
}

function docsArg(ctx: CommandContext, cmd: Doc, field: string): { docs: Doc[]; raws: (Buffer | null)[] } {
  const seq = ctx.sequences.get(field);
  if (seq) return { docs: seq.docs, raws: seq.raws };
  const v = cmd[field];
  if (!Array.isArray(v)) throw new StoreError(14, `BSON field '${field}' is missing but a required field`);
  return { docs: v as Doc[], raws: v.map(() => null) };
}

export async function insert(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.insert, "insert");
  const { docs, raws } = docsArg(ctx, cmd, "documents");
  const ordered = cmd.ordered !== false;
  const ops: JournalOp[] = [];
  const writeErrors: WriteErrorDoc[] = [];
  let n = 0;
  const coll = ctx.engine.collectionForWrite(ns, ops, ctx.txn);
  const validating = coll.options.validator !== undefined && cmd.bypassDocumentValidation !== true;
  for (let i = 0; i < docs.length; i++) {
    try {
      let doc = docs[i];
      if (!isPlainObject(doc)) throw new StoreError(14, "document must be an object");
      let raw = raws[i];
      if (doc._id !== undefined && raw && !hasIdFirst(raw)) {
        // The driver appends the `_id` it generates: move its bytes to the front, as mongod stores it.
        const moved = moveIdFirst(raw);
        if (moved) {
          raw = moved;
          doc = withIdFirst(doc);
        }
      }
      if (doc._id === undefined || !raw || !hasIdFirst(raw)) {
        // Re-encode from the typed bytes so that numbers keep their BSON types.
        raw = serializeDoc(withIdFirst(raw ? deserializeTyped(raw) : doc));
        doc = BSON.deserialize(raw, DESERIALIZE_OPTIONS);
      }
      if (validating) checkValidator(coll, doc);
      ctx.beforeWrite?.();
      ctx.engine.insert(coll, doc, raw, ctx.txn, ops);
      ctx.engine.opcounters.insert++;
      n++;
    } catch (e) {
      onWriteError(ctx, e);
      writeErrors.push(toWriteError(i, e));
      if (ordered) break;
    }
  }
  await ctx.engine.persist(ops);
  const reply: Doc = { n, ok: 1 };
  if (writeErrors.length) reply.writeErrors = writeErrors;
  return reply;
}

function upsertedId(doc: Doc): unknown {
  return doc._id;
}

interface UpdateOutcome {
  matched: number;
  modified: number;
  upserted?: unknown;
  before?: Doc;
  after?: Doc;
}

/** One update statement (shared by update and findAndModify). */
function updateOne(
  ctx: CommandContext,
  coll: Collection,
  stmt: {
    q: Doc;
    u: unknown;
    multi: boolean;
    upsert: boolean;
    arrayFilters?: Doc[];
    sort?: Doc;
    variables?: Doc;
    fold?: Folder | null;
    bypassValidation?: boolean;
    /** The statement's `q` and `u` with their BSON number types, when the bytes are at hand. */
    typed?: { q: unknown; u: unknown } | null;
  },
  ops: JournalOp[],
): UpdateOutcome {
  const spec = classifyUpdate(stmt.u);
  if (stmt.multi && spec.kind === "replace") throw new StoreError(9, "multi update is not supported for replacement-style update");
  if (stmt.arrayFilters) for (const f of stmt.arrayFilters) if (!isPlainObject(f)) throw new StoreError(9, "arrayFilters entries must be objects");
  const matches = ctx.engine.query(coll, stmt.q, ctx.txn, { limit: stmt.multi ? 0 : 1, sort: stmt.sort, variables: stmt.variables, fold: stmt.fold });
  const out: UpdateOutcome = { matched: 0, modified: 0 };
  let hints: TypeHints | null = null;
  const getHints = (): TypeHints => (hints ??= stmt.typed ? typeHints(stmt.typed.u, [stmt.typed.q]) : typeHints(null));
  for (const m of matches) {
    out.matched++;
    const { doc } = applyUpdate(m.doc, spec, { filter: stmt.q, arrayFilters: stmt.arrayFilters, isInsert: false, variables: stmt.variables });
    // The updater works on promoted values; put the BSON number types back before storing.
    const before = deserializeTyped(m.raw);
    const next = restoreTypes(withIdFirst(doc), before, getHints());
    const raw = serializeDoc(next);
    const first = out.before === undefined;
    if (first) {
      out.before = before;
      out.after = before;
    }
    // Modified means different bytes, as MongoDB compares (a type change is a change).
    if (!raw.equals(m.raw)) {
      const final = BSON.deserialize(raw, DESERIALIZE_OPTIONS);
      if (!stmt.bypassValidation) checkValidator(coll, final);
      ctx.beforeWrite?.();
      ctx.engine.replace(coll, m.key, final, raw, ctx.txn, ops);
      out.modified++;
      if (first) out.after = next;
    }
  }
  if (out.matched === 0 && stmt.upsert) {
    let base: Doc;
    // The document the update starts from (the filter's equality fields, with their BSON number
    // types when known), so that e.g. $inc adds to a seeded value instead of to nothing.
    let seeded: Doc | null = null;
    if (spec.kind === "replace") {
      const seed = seedFromFilter(stmt.q);
      base = { ...cloneValue(spec.doc) };
      if (base._id === undefined && seed._id !== undefined) base = { _id: seed._id, ...base };
    } else {
      const seed = seedFromFilter(stmt.q);
      base = applyUpdate(seed, spec, { filter: stmt.q, arrayFilters: stmt.arrayFilters, isInsert: true, variables: stmt.variables }).doc;
      seeded = stmt.typed && isPlainObject(stmt.typed.q) ? seedFromFilter(stmt.typed.q) : seed;
    }
    const next = restoreTypes(withIdFirst(base), seeded, getHints());
    const raw = serializeDoc(next);
    const final = BSON.deserialize(raw, DESERIALIZE_OPTIONS);
    if (!stmt.bypassValidation) checkValidator(coll, final);
    ctx.beforeWrite?.();
    ctx.engine.insert(coll, final, raw, ctx.txn, ops);
    out.upserted = upsertedId(next);
    out.after = next;
  }
  return out;
}

export async function update(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.update, "update");
  const { docs } = docsArg(ctx, cmd, "updates");
  const ordered = cmd.ordered !== false;
  const ops: JournalOp[] = [];
  const writeErrors: WriteErrorDoc[] = [];
  const upserted: Doc[] = [];
  let n = 0;
  let nModified = 0;
  const coll = ctx.engine.collection(ns, ctx.txn) ?? (docs.some((d) => d.upsert) ? ctx.engine.collectionForWrite(ns, ops, ctx.txn) : undefined);
  const variables = evalLet(cmd.let);
  // MongoDB 7.0 knows no `sort` in an update statement (8.0 added it for updateOne/replaceOne).
  if (docs.some((d) => isPlainObject(d) && d.sort !== undefined)) throw new StoreError(40415, "BSON field 'update.updates.sort' is an unknown field.");
  for (let i = 0; i < docs.length; i++) {
    const s = docs[i];
    try {
      if (!isPlainObject(s.q)) throw new StoreError(40414, "BSON field 'update.updates.q' is missing but a required field");
      if (s.u === undefined) throw new StoreError(40414, "BSON field 'update.updates.u' is missing but a required field");
      if (!coll) {
        classifyUpdate(s.u);
        compileFilter(s.q);
        continue;
      }
      const r = updateOne(ctx, coll, {
        q: s.q as Doc,
        u: s.u,
        multi: s.multi === true,
        upsert: s.upsert === true,
        arrayFilters: s.arrayFilters as Doc[] | undefined,
        variables,
        fold: collationFolder(s.collation),
        bypassValidation: cmd.bypassDocumentValidation === true,
        typed: typedStatement(ctx, "updates", i),
      }, ops);
      ctx.engine.opcounters.update++;
      n += r.matched;
      nModified += r.modified;
      if (r.upserted !== undefined) {
        n += 1;
        upserted.push({ index: i, _id: r.upserted });
      }
    } catch (e) {
      onWriteError(ctx, e);
      writeErrors.push(toWriteError(i, e));
      if (ordered) break;
    }
  }
  await ctx.engine.persist(ops);
  const reply: Doc = { n, nModified, ok: 1 };
  if (upserted.length) reply.upserted = upserted;
  if (writeErrors.length) reply.writeErrors = writeErrors;
  return reply;
}

export async function remove(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.delete, "delete");
  const { docs } = docsArg(ctx, cmd, "deletes");
  const ordered = cmd.ordered !== false;
  const ops: JournalOp[] = [];
  const writeErrors: WriteErrorDoc[] = [];
  let n = 0;
  const coll = ctx.engine.collection(ns, ctx.txn);
  const variables = evalLet(cmd.let);
  for (let i = 0; i < docs.length; i++) {
    const s = docs[i];
    try {
      if (!isPlainObject(s.q)) throw new StoreError(40414, "BSON field 'delete.deletes.q' is missing but a required field");
      const limit = toInt(s.limit, -1);
      if (limit !== 0 && limit !== 1) throw new StoreError(9, "The limit field in delete objects must be 0 or 1. Got " + String(s.limit));
      const matches = ctx.engine.query(coll, s.q as Doc, ctx.txn, { limit, variables, fold: collationFolder(s.collation) });
      if (!coll) continue;
      for (const m of matches) {
        ctx.beforeWrite?.();
        ctx.engine.remove(coll, m.key, m.doc._id, ctx.txn, ops);
        ctx.engine.opcounters.delete++;
        n++;
      }
    } catch (e) {
      onWriteError(ctx, e);
      writeErrors.push(toWriteError(i, e));
      if (ordered) break;
    }
  }
  await ctx.engine.persist(ops);
  const reply: Doc = { n, ok: 1 };
  if (writeErrors.length) reply.writeErrors = writeErrors;
  return reply;
}

export async function findAndModify(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.findAndModify ?? cmd.findandmodify, "findAndModify");
  const query = (cmd.query as Doc) ?? {};
  if (!isPlainObject(query)) throw new StoreError(14, "BSON field 'findAndModify.query' is the wrong type");
  const remove = cmd.remove === true;
  if (remove && cmd.update !== undefined) throw new StoreError(9, "Cannot specify both an update and remove=true");
  if (!remove && cmd.update === undefined) throw new StoreError(9, "Either an update or remove=true must be specified");
  if (remove && cmd.upsert === true) throw new StoreError(9, "Cannot specify both upsert=true and remove=true");
  if (remove && cmd.new === true) throw new StoreError(9, "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
  const ops: JournalOp[] = [];
  const fields = (cmd.fields ?? cmd.projection) as Doc | undefined;
  const shape = (d: Doc | undefined): unknown => {
    if (!d) return null;
    if (fields && Object.keys(fields).length) return project([d], fields, query)[0] ?? null;
    return d;
  };
  const sort = cmd.sort as Doc | undefined;
  const variables = evalLet(cmd.let);
  const fold = collationFolder(cmd.collation);
  let reply: Doc;
  try {
    if (remove) {
      const coll = ctx.engine.collection(ns, ctx.txn);
      const m = ctx.engine.query(coll, query, ctx.txn, { limit: 1, sort, variables, fold })[0];
      if (m && coll) {
        ctx.beforeWrite?.();
        ctx.engine.remove(coll, m.key, m.doc._id, ctx.txn, ops);
      }
      reply = { lastErrorObject: { n: m ? 1 : 0 }, value: shape(m?.doc), ok: 1 };
    } else {
      const coll = ctx.engine.collection(ns, ctx.txn) ?? (cmd.upsert === true ? ctx.engine.collectionForWrite(ns, ops, ctx.txn) : undefined);
      if (!coll) {
        classifyUpdate(cmd.update);
        reply = { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
      } else {
        const r = updateOne(ctx, coll, {
          q: query,
          u: cmd.update,
          multi: false,
          upsert: cmd.upsert === true,
          arrayFilters: cmd.arrayFilters as Doc[] | undefined,
          sort,
          variables,
          fold,
          bypassValidation: cmd.bypassDocumentValidation === true,
          typed: typedFindAndModify(ctx),
        }, ops);
        const leo: Doc = { n: r.matched || (r.upserted !== undefined ? 1 : 0), updatedExisting: r.matched > 0 };
        if (r.upserted !== undefined) leo.upserted = r.upserted;
        const value = cmd.new === true ? r.after : r.upserted !== undefined ? undefined : r.before;
        reply = { lastErrorObject: leo, value: shape(value), ok: 1 };
      }
    }
  } catch (e) {
    onWriteError(ctx, e);
    throw e;
  }
  await ctx.engine.persist(ops);
  return reply;
}

// ---------- aggregate ----------

/**
 * Stages that neither edit the documents they receive nor pass them on to a later stage that might
 * (a pipeline of only these runs on the stored documents themselves; any other stage, e.g. a nested
 * `$project` exclusion, `$unset`, `$set`, `$lookup`, `$unwind`, `$facet`, makes it run on copies).
 */
const NON_MUTATING = new Set(["$match", "$group", "$sort", "$limit", "$skip", "$count", "$sortByCount", "$sample"]);

/** `[{$match: M}, {$group: {_id: 1, n: {$sum: 1}}}]`, the pipeline of the driver's countDocuments (M without $expr). */
function isCountDocuments(stages: Doc[]): boolean {
  if (stages.length !== 2) return false;
  const [m, g] = [stages[0].$match, stages[1].$group];
  if (!isPlainObject(m) || "$expr" in m || !isPlainObject(g)) return false;
  const keys = Object.keys(g);
  if (keys.length !== 2 || g._id !== 1 || !isPlainObject(g.n)) return false;
  const sum = g.n as Doc;
  return Object.keys(sum).length === 1 && sum.$sum === 1;
}

export async function aggregate(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const pipeline = cmd.pipeline as Doc[];
  if (!Array.isArray(pipeline)) throw new StoreError(14, "'pipeline' option must be specified as an array");
  if (!isPlainObject(cmd.cursor) && cmd.explain !== true) throw new StoreError(9, "The 'cursor' option is required, except for aggregate with the explain argument");
  for (const s of pipeline) {
    if (!isPlainObject(s) || Object.keys(s).length !== 1) throw new StoreError(40323, "A pipeline stage specification object must contain exactly one field.");
  }
  const dbLevel = cmd.aggregate === 1;
  const ns = dbLevel ? `${ctx.db}.$cmd.aggregate` : nsOf(ctx, cmd.aggregate, "aggregate");
  const coll = dbLevel ? undefined : ctx.engine.collection(ns, ctx.txn);
  let stages = pipeline.slice();
  const last = stages[stages.length - 1];
  let outStage: Doc | null = null;
  if (last && ("$out" in last || "$merge" in last)) {
    outStage = last;
    stages = stages.slice(0, -1);
  }
  for (const s of stages) if ("$out" in s || "$merge" in s) throw new StoreError(40601, `${Object.keys(s)[0]} can only be the final stage in the pipeline`);
  const fold = collationFolder(cmd.collation);
  const variables = evalLet(cmd.let);
  if (outStage && isPlainObject(cmd.readConcern) && cmd.readConcern.level === "linearizable") {
    throw new StoreError(2, `${Object.keys(outStage)[0]} cannot be used with a 'linearizable' read concern level`);
  }
  let input: Doc[];
  if (dbLevel) {
    const first = stages[0] ? Object.keys(stages[0])[0] : "";
    if (first === "$documents") input = [];
    else if (first === "$listLocalSessions") {
      input = ctx.localSessions ? ctx.localSessions() : [];
      stages = stages.slice(1);
    } else if (first === "$currentOp") {
      input = [];
      stages = stages.slice(1);
    } else throw new StoreError(73, "{aggregate: 1} is not valid for '" + first + "'; a collection is required.");
  } else if (coll && !outStage && isCountDocuments(stages)) {
    // The driver's countDocuments: counted without handing every document to $group.
    const match = stages[0].$match as Doc;
    let n = 0;
    if (Object.keys(match).length === 0 && !ctx.txn) {
      for (const v of coll.docs.values()) if (v.doc) n++;
    } else n = ctx.engine.query(coll, match, ctx.txn, { fold }).length;
    input = n > 0 ? [{ _id: 1, n }] : [];
    stages = [];
  } else if (stages[0] && "$match" in stages[0] && isPlainObject(stages[0].$match) && !("$expr" in (stages[0].$match as Doc))) {
    input = ctx.engine.query(coll, stages[0].$match as Doc, ctx.txn, { fold }).map((v) => v.doc);
    stages = stages.slice(1);
  } else if (stages[0] && "$collStats" in stages[0]) {
    let count = 0;
    if (coll) for (const v of coll.docs.values()) if (v.doc) count++;
    input = [{ ns, count, storageStats: { count, size: 0, nindexes: coll?.indexes.length ?? 0 } }];
    stages = stages.slice(1);
  } else if (stages[0] && "$indexStats" in stages[0]) {
    input = (coll?.indexes ?? []).map((i) => ({ name: i.name, key: i.key, spec: i.spec, accesses: { ops: 0, since: new Date() } }));
    stages = stages.slice(1);
  } else input = coll ? [...ctx.engine.scan(coll, ctx.txn)].map((v) => v.doc) : [];
  const mutating = stages.some((s) => !NON_MUTATING.has(Object.keys(s)[0]));
  if (mutating) input = input.map((d) => cloneValue(d));
  const resolver = (name: string): Doc[] => {
    const c = ctx.engine.collection(`${ctx.db}.${name}`, ctx.txn);
    return c ? [...ctx.engine.scan(c, ctx.txn)].map((v) => cloneValue(v.doc)) : [];
  };
  const results = stages.length ? runPipeline(input, stages, resolver, variables, fold ? (cmd.collation as Doc) : undefined) : input;
  if (outStage) {
    await writeOut(ctx, outStage, results);
    return { cursor: { firstBatch: [], id: Long.ZERO, ns }, ok: 1 };
  }
  if (cmd.explain === true) return { explainVersion: "1", stages: pipeline, ok: 1 };
  const raws = results.map((d) => serializeDoc(d));
  const batchSize = toInt((cmd.cursor as Doc).batchSize, DEFAULT_BATCH);
  return cursorReply(ctx, ns, raws, batchSize, false);
}

async function writeOut(ctx: CommandContext, stage: Doc, results: Doc[]): Promise<void> {
  const ops: JournalOp[] = [];
  if ("$out" in stage) {
    const spec = stage.$out;
    const target = typeof spec === "string" ? `${ctx.db}.${spec}` : `${String((spec as Doc).db)}.${String((spec as Doc).coll)}`;
    validateNs(target);
    const old = ctx.engine.collections.get(target);
    const indexes = old ? old.indexes.filter((i) => i.name !== "_id_").map((i) => i.spec) : [];
    // Build the new collection first so a failure leaves the old one intact.
    const seen = new Set<string>();
    const prepared = results.map((d) => {
      const doc = withIdFirst(d);
      const k = keyString(doc._id);
      if (seen.has(k)) throw duplicateKeyError({ ns: target } as Collection, makeIndex({ key: { _id: 1 }, name: "_id_" }), [doc._id]);
      seen.add(k);
      return doc;
    });
    if (old) {
      ctx.engine.collections.delete(target);
      ops.push({ op: "drop", ns: target });
    }
    const coll = ctx.engine.collectionForWrite(target, ops);
    for (const spec of indexes) {
      ctx.engine.buildIndex(coll, makeIndex(spec), false);
      ops.push({ op: "createIndex", ns: target, spec });
    }
    for (const doc of prepared) ctx.engine.insert(coll, doc, serializeDoc(doc), null, ops);
  } else {
    const spec = stage.$merge;
    const into = isPlainObject(spec) ? spec.into : spec;
    const target = typeof into === "string" ? `${ctx.db}.${into}` : `${String((into as Doc).db)}.${String((into as Doc).coll)}`;
    const on = isPlainObject(spec) && spec.on !== undefined ? (Array.isArray(spec.on) ? (spec.on as string[]) : [String(spec.on)]) : ["_id"];
    const whenMatched = isPlainObject(spec) ? (spec.whenMatched ?? "merge") : "merge";
    const whenNotMatched = isPlainObject(spec) ? (spec.whenNotMatched ?? "insert") : "insert";
    const coll = ctx.engine.collectionForWrite(target, ops);
    for (const d of results) {
      const filter: Doc = {};
      for (const f of on) filter[f] = valuesAtPath(d, f.split("."))[0] ?? null;
      const existing = ctx.engine.query(coll, filter, null, { limit: 1 })[0];
      if (existing) {
        if (whenMatched === "fail") throw duplicateKeyError(coll, coll.indexes[0], [existing.doc._id]);
        if (whenMatched === "keepExisting") continue;
        let next: Doc;
        if (whenMatched === "replace") next = { ...d, _id: existing.doc._id };
        else if (Array.isArray(whenMatched)) {
          next = runPipeline([cloneValue(existing.doc)], whenMatched as Doc[], () => [], { new: d })[0];
        } else next = { ...existing.doc, ...d, _id: existing.doc._id };
        next = withIdFirst(next);
        ctx.engine.replace(coll, existing.key, next, serializeDoc(next), null, ops);
      } else {
        if (whenNotMatched === "discard") continue;
        if (whenNotMatched === "fail") throw new StoreError(13113, "Found a document in the aggregation pipeline that did not match any document in the target collection");
        const doc = withIdFirst(d);
        ctx.engine.insert(coll, doc, serializeDoc(doc), null, ops);
      }
    }
  }
  await ctx.engine.persist(ops);
}

// ---------- catalog ----------

/** A create command's clusteredIndex, as mongod stores and lists it: {v: 2, key: {_id: 1}, name, unique: true}. */
function clusteredIndexSpec(v: unknown): Doc {
  if (!isPlainObject(v)) throw new StoreError(14, "BSON field 'create.clusteredIndex' is the wrong type, expected type 'object'");
  if (!isPlainObject(v.key) || keyString(v.key) !== keyString({ _id: 1 })) throw new StoreError(72, "The clusteredIndex option is only supported for key: {_id: 1}");
  if (v.unique !== true) throw new StoreError(72, "The clusteredIndex option requires unique: true");
  return { v: 2, key: { _id: 1 }, name: typeof v.name === "string" ? v.name : "_id_", unique: true };
}

export async function create(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.create, "create");
  validateNs(ns);
  if (ctx.engine.collection(ns, ctx.txn)) throw new StoreError(48, `Collection ${ns} already exists.`);
  const options: Doc = {};
  for (const k of ["capped", "size", "max", "validator", "validationLevel", "validationAction", "collation", "timeseries", "expireAfterSeconds", "clusteredIndex", "changeStreamPreAndPostImages"]) {
    if (cmd[k] !== undefined) options[k] = cmd[k];
  }
  if (cmd.clusteredIndex !== undefined) options.clusteredIndex = clusteredIndexSpec(cmd.clusteredIndex);
  // Inside a transaction the collection is created at commit (see Engine.collectionForWrite).
  const ops: JournalOp[] = [];
  ctx.engine.collectionForWrite(ns, ops, ctx.txn, options);
  await ctx.engine.persist(ops);
  return { ok: 1 };
}

export async function drop(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.drop, "drop");
  const coll = ctx.engine.collections.get(ns);
  if (!coll) return { ok: 1 };
  abortTxnsOn(ctx.engine, coll);
  ctx.engine.collections.delete(ns);
  await ctx.engine.persist([{ op: "drop", ns }]);
  return { nIndexesWas: coll.indexes.length, ns, ok: 1 };
}

function abortTxnsOn(engine: Engine, coll: Collection): void {
  for (const t of [...engine.activeTxns]) if (t.writes.has(coll)) engine.abortTxn(t, writeConflict());
}

export async function dropDatabase(ctx: CommandContext): Promise<Doc> {
  for (const c of [...ctx.engine.collections.values()]) {
    if (c.db === ctx.db) {
      abortTxnsOn(ctx.engine, c);
      ctx.engine.collections.delete(c.ns);
    }
  }
  await ctx.engine.persist([{ op: "dropDatabase", db: ctx.db }]);
  return { dropped: ctx.db, ok: 1 };
}

export function listCollections(ctx: CommandContext, cmd: Doc): Doc {
  const nameOnly = cmd.nameOnly === true;
  const filter = (cmd.filter as Doc) ?? {};
  const matcher = compileFilter(filter);
  const out: Doc[] = [];
  for (const c of ctx.engine.collections.values()) {
    if (c.db !== ctx.db) continue;
    const full: Doc = {
      name: c.name,
      type: "collection",
      options: c.options,
      info: { readOnly: false, uuid: c.uuid },
      idIndex: { v: 2, key: { _id: 1 }, name: "_id_" },
    };
    if (isPlainObject(c.options.clusteredIndex)) delete full.idIndex;
    if (!matcher(full)) continue;
    out.push(nameOnly ? { name: c.name, type: "collection" } : full);
  }
  const bs = toInt(isPlainObject(cmd.cursor) ? (cmd.cursor as Doc).batchSize : undefined, DEFAULT_BATCH);
  return cursorReply(ctx, `${ctx.db}.$cmd.listCollections`, out.map(serializeDoc), bs, false);
}

export function listDatabases(ctx: CommandContext, cmd: Doc): Doc {
  const dbs = new Map<string, number>();
  for (const c of ctx.engine.collections.values()) {
    let size = dbs.get(c.db) ?? 0;
    for (const v of c.docs.values()) if (v.raw) size += v.raw.length;
    dbs.set(c.db, size);
  }
  const filter = compileFilter((cmd.filter as Doc) ?? {});
  const databases = [...dbs].map(([name, size]) => (cmd.nameOnly === true ? { name } : { name, sizeOnDisk: size, empty: size === 0 })).filter((d) => filter(d));
  const totalSize = [...dbs.values()].reduce((a, b) => a + b, 0);
  return cmd.nameOnly === true ? { databases, ok: 1 } : { databases, totalSize, totalSizeMb: Math.round(totalSize / 1048576), ok: 1 };
}

export async function renameCollection(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const from = String(cmd.renameCollection);
  const to = String(cmd.to);
  validateNs(to);
  const coll = ctx.engine.collections.get(from);
  if (!coll) throw new StoreError(26, `Source collection ${from} does not exist`);
  if (from === to) throw new StoreError(20, "Can't rename a collection to itself");
  const ops: JournalOp[] = [];
  const target = ctx.engine.collections.get(to);
  if (target) {
    if (cmd.dropTarget !== true) throw new StoreError(48, "target namespace exists");
    abortTxnsOn(ctx.engine, target);
  }
  abortTxnsOn(ctx.engine, coll);
  ctx.engine.collections.delete(from);
  ctx.engine.collections.delete(to);
  const i = to.indexOf(".");
  coll.db = to.slice(0, i);
  coll.name = to.slice(i + 1);
  ctx.engine.collections.set(to, coll);
  ops.push({ op: "rename", from, to });
  await ctx.engine.persist(ops);
  return { ok: 1 };
}

function defaultIndexName(key: Doc): string {
  return Object.keys(key).map((k) => `${k}_${String(key[k])}`).join("_");
}

const INDEX_OPTION_KEYS = ["unique", "sparse", "partialFilterExpression", "expireAfterSeconds", "collation", "hidden", "prepareUnique"];

export async function createIndexes(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.createIndexes, "createIndexes");
  const specs = cmd.indexes;
  if (!Array.isArray(specs) || specs.length === 0) throw new StoreError(2, "Must specify at least one index to create");
  const ops: JournalOp[] = [];
  const existed = ctx.engine.collection(ns, ctx.txn) !== undefined;
  if (ctx.txn && ctx.engine.collections.has(ns)) {
    throw new StoreError(263, `Cannot create new indexes on existing collection ${ns} in a multi-document transaction.`);
  }
  // Inside a transaction: on a collection the transaction creates, so the indexes appear at commit.
  const coll = ctx.engine.collectionForWrite(ns, ops, ctx.txn);
  const before = coll.indexes.length;
  for (const s of specs as Doc[]) {
    if (!isPlainObject(s.key) || Object.keys(s.key).length === 0) throw new StoreError(67, "Index keys cannot be empty.");
    for (const k of Object.keys(s.key)) {
      const v = s.key[k];
      if (!(typeof v === "number" && v !== 0) && !(typeof v === "string" && ["text", "2d", "2dsphere", "hashed"].includes(v))) {
        throw new StoreError(67, `Values in the index key pattern can contain only non-zero numbers or strings: ${k}: ${String(v)}`);
      }
    }
    const name = typeof s.name === "string" ? s.name : defaultIndexName(s.key);
    const spec: Doc = { v: 2, key: s.key, name };
    for (const k of INDEX_OPTION_KEYS) if (s[k] !== undefined) spec[k] = s[k];
    const sameName = coll.indexes.find((i) => i.name === name);
    const sameKey = coll.indexes.find((i) => keyString(i.key) === keyString(s.key));
    const optsOf = (d: Doc): string => keyString(Object.fromEntries(INDEX_OPTION_KEYS.filter((k) => d[k] !== undefined && k !== "hidden").map((k) => [k, d[k]])));
    if (sameName) {
      if (keyString(sameName.key) !== keyString(s.key)) {
        throw new StoreError(86, `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`);
      }
      if (optsOf(sameName.spec) !== optsOf(spec) && name !== "_id_") {
        throw new StoreError(85, `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`);
      }
      continue;
    }
    if (sameKey && optsOf(sameKey.spec) === optsOf(spec)) {
      throw new StoreError(85, `Index already exists with a different name: ${sameKey.name}`);
    }
    const ix = makeIndex(spec);
    if (ctx.txn) ctx.engine.checkTxnUnique(ctx.txn, coll, ix);
    ctx.engine.buildIndex(coll, ix, true);
    if (!ctx.txn) ops.push({ op: "createIndex", ns, spec });
  }
  await ctx.engine.persist(ops);
  const reply: Doc = { numIndexesBefore: before, numIndexesAfter: coll.indexes.length, createdCollectionAutomatically: !existed, ok: 1 };
  if (before === coll.indexes.length) reply.note = "all indexes already exist";
  return reply;
}

export function listIndexes(ctx: CommandContext, cmd: Doc): Doc {
  const ns = nsOf(ctx, cmd.listIndexes, "listIndexes");
  const coll = ctx.engine.collections.get(ns);
  if (!coll) throw new StoreError(26, `ns does not exist: ${ns}`);
  const bs = toInt(isPlainObject(cmd.cursor) ? (cmd.cursor as Doc).batchSize : undefined, DEFAULT_BATCH);
  const clustered = isPlainObject(coll.options.clusteredIndex) ? { ...(coll.options.clusteredIndex as Doc), clustered: true } : null;
  return cursorReply(ctx, ns, coll.indexes.map((i) => serializeDoc(i.isId && clustered ? clustered : i.spec)), bs, false);
}

export async function dropIndexes(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.dropIndexes ?? cmd.deleteIndexes, "dropIndexes");
  const coll = ctx.engine.collections.get(ns);
  if (!coll) throw new StoreError(26, `ns not found ${ns}`);
  const was = coll.indexes.length;
  const target = cmd.index;
  let names: string[];
  if (target === "*") names = coll.indexes.filter((i) => i.name !== "_id_").map((i) => i.name);
  else if (typeof target === "string") names = [target];
  else if (Array.isArray(target)) names = target.map(String);
  else if (isPlainObject(target)) {
    const found = coll.indexes.find((i) => keyString(i.key) === keyString(target));
    if (!found) throw new StoreError(27, `can't find index with key: ${JSON.stringify(target)}`);
    names = [found.name];
  } else throw new StoreError(14, "BSON field 'dropIndexes.index' is the wrong type");
  for (const n of names) {
    if (n === "_id_") throw new StoreError(72, "cannot drop _id index");
    if (!coll.indexes.some((i) => i.name === n)) throw new StoreError(27, `index not found with name [${n}]`);
  }
  coll.indexes = coll.indexes.filter((i) => !names.includes(i.name));
  await ctx.engine.persist(names.map((name) => ({ op: "dropIndex" as const, ns, name })));
  return { nIndexesWas: was, ok: 1 };
}

export async function collMod(ctx: CommandContext, cmd: Doc): Promise<Doc> {
  const ns = nsOf(ctx, cmd.collMod, "collMod");
  const coll = ctx.engine.collections.get(ns);
  if (!coll) throw new StoreError(26, `ns does not exist: ${ns}`);
  const reply: Doc = { ok: 1 };
  if (cmd.index !== undefined) Object.assign(reply, await collModIndex(ctx, coll, cmd.index));
  for (const k of ["validator", "validationLevel", "validationAction"]) if (cmd[k] !== undefined) coll.options[k] = cmd[k];
  return reply;
}

/**
 * collMod's `index` option (by keyPattern or name): hidden, expireAfterSeconds, prepareUnique, and
 * unique: true, which needs prepareUnique first and fails with CannotConvertIndexToUnique (359),
 * listing the duplicates as `violations`, while documents share a key. Journaled as the index
 * dropped and created again with its new spec.
 */
async function collModIndex(ctx: CommandContext, coll: Collection, arg: unknown): Promise<Doc> {
  if (!isPlainObject(arg)) throw new StoreError(14, "BSON field 'collMod.index' is the wrong type, expected type 'object'");
  if ((arg.keyPattern === undefined) === (arg.name === undefined)) throw new StoreError(72, "Must specify either index name or key pattern.");
  const ix = isPlainObject(arg.keyPattern)
    ? coll.indexes.find((i) => keyString(i.key) === keyString(arg.keyPattern))
    : coll.indexes.find((i) => i.name === arg.name);
  if (!ix) throw new StoreError(27, `cannot find index ${JSON.stringify(arg.keyPattern ?? arg.name)} for ns ${coll.ns}`);
  if (ix.isId) throw new StoreError(72, "cannot modify the _id index");
  const spec: Doc = { ...ix.spec };
  const out: Doc = {};
  if (arg.hidden !== undefined) {
    out.hidden_old = ix.spec.hidden === true;
    out.hidden_new = arg.hidden === true;
    if (arg.hidden === true) spec.hidden = true;
    else delete spec.hidden;
  }
  if (arg.expireAfterSeconds !== undefined) {
    if (ix.spec.expireAfterSeconds === undefined) throw new StoreError(72, "no expireAfterSeconds field to update");
    out.expireAfterSeconds_old = ix.spec.expireAfterSeconds;
    out.expireAfterSeconds_new = arg.expireAfterSeconds;
    spec.expireAfterSeconds = arg.expireAfterSeconds;
  }
  if (arg.prepareUnique !== undefined) {
    if (ix.spec.unique !== true) {
      out.prepareUnique_old = ix.spec.prepareUnique === true;
      out.prepareUnique_new = arg.prepareUnique === true;
      if (arg.prepareUnique === true) spec.prepareUnique = true;
      else delete spec.prepareUnique;
    }
  }
  if (arg.unique !== undefined) {
    if (arg.unique !== true) throw new StoreError(72, "The field 'unique' can only be set to true with collMod.");
    if (ix.spec.unique !== true) {
      if (spec.prepareUnique !== true) throw new StoreError(72, "Cannot make index unique with 'prepareUnique: false'. Run collMod to set 'prepareUnique: true' first.");
      const byKey = new Map<string, unknown[]>();
      for (const v of coll.docs.values()) {
        if (!v.doc) continue;
        for (const k of indexKeys(ix, v.doc)) {
          const ks = keyString(k);
          const ids = byKey.get(ks);
          if (ids) ids.push(v.doc._id);
          else byKey.set(ks, [v.doc._id]);
        }
      }
      const violations = [...byKey.values()].filter((ids) => ids.length > 1).map((ids) => ({ ids }));
      if (violations.length) {
        throw new StoreError(359, "Cannot convert the index to unique. Please resolve conflicting documents before running collMod again.", { extra: { violations } });
      }
      out.unique_new = true;
      spec.unique = true;
      delete spec.prepareUnique;
    }
  }
  if (keyString(spec) !== keyString(ix.spec)) {
    ix.spec = spec;
    ix.unique = spec.unique === true || spec.prepareUnique === true;
    await ctx.engine.persist([
      { op: "dropIndex", ns: coll.ns, name: ix.name },
      { op: "createIndex", ns: coll.ns, spec },
    ]);
  }
  return out;
}

export { indexKeys, makeSortComparator, Timestamp };

const validators = new WeakMap<object, (doc: Doc) => boolean>();

/** Enforce the collection's `validator` (validationAction "error"), failing with 121 as MongoDB does. */
function checkValidator(coll: Collection, doc: Doc): void {
  const v = coll.options.validator;
  if (!isPlainObject(v) || Object.keys(v).length === 0) return;
  if (coll.options.validationLevel === "off" || coll.options.validationAction === "warn") return;
  let m = validators.get(v);
  if (!m) {
    m = compileFilter(v);
    validators.set(v, m);
  }
  if (!m(doc)) {
    throw new StoreError(121, "Document failed validation", {
      extra: { errInfo: { failingDocumentId: doc._id, details: { operatorName: Object.keys(v)[0] ?? "$and", specifiedAs: v, reason: "did not match the validator" } } },
    });
  }
}

function typedBody(ctx: CommandContext): Doc | null {
  if (ctx.typedBody) return ctx.typedBody;
  if (!ctx.bodyRaw) return null;
  ctx.typedBody = deserializeTyped(ctx.bodyRaw);
  return ctx.typedBody;
}

/** Statement `i` of a write command's `field` (document sequence or body array), numbers typed. */
function typedStatement(ctx: CommandContext, field: string, i: number): { q: unknown; u: unknown } | null {
  const seq = ctx.sequences.get(field);
  let st: unknown;
  if (seq && seq.raws[i]) st = deserializeTyped(seq.raws[i]);
  else {
    const body = typedBody(ctx);
    const arr = body?.[field];
    st = Array.isArray(arr) ? arr[i] : undefined;
  }
  return isPlainObject(st) ? { q: st.q, u: st.u } : null;
}

function typedFindAndModify(ctx: CommandContext): { q: unknown; u: unknown } | null {
  const body = typedBody(ctx);
  return body ? { q: body.query, u: body.update } : null;
}
