/**
 * The query planner, through the driver: compound-index prefixes (equality on leading fields, then a
 * range, `$in` or sort on the next), index-provided sort order with a limit, `_id` ranges and sorts,
 * shown by `explain` (access path, documents examined); and results identical to a collection
 * scan of the same documents for many filter/sort shapes, including multikey and descending indexes.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Collection, Db, Document } from "mongodb";
import { run, tempDir, type Running } from "./helpers.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

const PARTNERS = ["p0", "p1", "p2", "p3"];
const STATES = ["queued", "sent", "acked"];
const N = 4000;

function messages(): Document[] {
  const seqs = new Map<string, number>();
  return Array.from({ length: N }, (_, i) => {
    const partner = PARTNERS[i % PARTNERS.length];
    const seq = (seqs.get(partner) ?? 0) + 1;
    seqs.set(partner, seq);
    return { _id: i, partner, seq, messageId: `m${i}`, state: STATES[(i * 7) % 3], kind: i % 5 === 0 ? "cosign" : "entry", appendedAt: new Date(1_700_000_000_000 + i * 1000), index: i };
  });
}

async function explain(c: Collection, filter: Document, opts: { sort?: Document; limit?: number; projection?: Document } = {}): Promise<{ plan: AnyDoc; examined: number; returned: number }> {
  let cur = c.find(filter);
  if (opts.sort) cur = cur.sort(opts.sort);
  if (opts.limit) cur = cur.limit(opts.limit);
  const e = (await cur.explain("executionStats")) as AnyDoc;
  return { plan: e.queryPlanner.winningPlan, examined: e.executionStats.totalDocsExamined, returned: e.executionStats.nReturned };
}

function ixscan(plan: AnyDoc): AnyDoc {
  assert.equal(plan.stage, "FETCH", `no SORT stage and an index scan: ${JSON.stringify(plan)}`);
  assert.equal(plan.inputStage.stage, "IXSCAN");
  return plan.inputStage;
}

describe("embedded store: query planner", () => {
  let r: Running;
  let db: Db;
  let c: Collection;
  before(async () => {
    r = await run();
    db = r.client.db("planner");
    c = db.collection("outbox");
    await c.createIndex({ partner: 1, seq: 1 }, { unique: true });
    await c.createIndex({ partner: 1, messageId: 1 }, { unique: true });
    await c.createIndex({ state: 1, partner: 1, seq: 1 });
    await c.createIndex({ kind: 1, appendedAt: 1 });
    await c.createIndex({ index: 1 }, { unique: true });
    await c.insertMany(messages());
  });
  after(async () => r.stop());

  it("find({partner, messageId}) uses the compound unique index and examines one document", async () => {
    const e = await explain(c, { partner: "p2", messageId: "m1234" });
    assert.equal(ixscan(e.plan).indexName, "partner_1_messageId_1");
    assert.equal(e.examined, 1);
    assert.equal(e.returned, 1);
    const none = await explain(c, { partner: "p1", messageId: "m1234" });
    assert.equal(none.examined, 0);
  });

  it("find({partner, state}).sort({seq: 1}).limit(1) takes the first entry of {state, partner, seq}", async () => {
    const e = await explain(c, { partner: "p1", state: "sent" }, { sort: { seq: 1 }, limit: 1 });
    assert.equal(ixscan(e.plan).indexName, "state_1_partner_1_seq_1");
    assert.equal(e.examined, 1);
    const got = await c.find({ partner: "p1", state: "sent" }).sort({ seq: 1 }).limit(1).toArray();
    const all = (await c.find({}).toArray()).filter((d) => d.partner === "p1" && d.state === "sent").sort((a, b) => a.seq - b.seq);
    assert.deepEqual(got, all.slice(0, 1));
    const last = await c.find({ partner: "p1", state: "sent" }).sort({ seq: -1 }).limit(1).toArray();
    assert.deepEqual(last, all.slice(-1));
    const eLast = await explain(c, { partner: "p1", state: "sent" }, { sort: { seq: -1 }, limit: 1 });
    assert.equal(ixscan(eLast.plan).direction, "backward");
    assert.equal(eLast.examined, 1);
  });

  it("find({kind, appendedAt: {$gte}}) scans only the matching range", async () => {
    const since = new Date(1_700_000_000_000 + 3500 * 1000);
    const e = await explain(c, { kind: "cosign", appendedAt: { $gte: since } });
    assert.equal(ixscan(e.plan).indexName, "kind_1_appendedAt_1");
    assert.equal(e.examined, e.returned);
    assert.equal(e.returned, 100);
  });

  it("find({index: {$gte, $lt}}).sort({index: 1}) is an index range in order", async () => {
    const e = await explain(c, { index: { $gte: 1000, $lt: 1100 } }, { sort: { index: 1 } });
    assert.equal(ixscan(e.plan).indexName, "index_1");
    assert.equal(e.examined, 100);
    const got = await c.find({ index: { $gte: 1000, $lt: 1100 } }).sort({ index: 1 }).toArray();
    assert.deepEqual(got.map((d) => d.index), Array.from({ length: 100 }, (_, i) => 1000 + i));
  });

  it("_id: $in is a point lookup, ranges and sorts use the _id index", async () => {
    const e = await explain(c, { _id: { $in: [5, 7, 9, 100000] } });
    assert.equal(e.plan.stage, "IDHACK");
    assert.equal(e.examined, 3);
    const top = await explain(c, {}, { sort: { _id: -1 }, limit: 1 });
    assert.equal(ixscan(top.plan).indexName, "_id_");
    assert.equal(top.examined, 1);
    assert.deepEqual((await c.find({}).sort({ _id: -1 }).limit(1).toArray()).map((d) => d._id), [N - 1]);
    const range = await explain(c, { _id: { $gte: 100, $lt: 110 } });
    assert.equal(ixscan(range.plan).indexName, "_id_");
    assert.equal(range.examined, 10);
  });

  it("a find by an indexed field never scans the collection; an unindexed one does", async () => {
    assert.equal((await explain(c, { seq: 5, partner: "p3" })).examined, 1);
    const un = await explain(c, { messageId: "m17" });
    assert.equal(un.plan.stage, "COLLSCAN");
    assert.equal(un.examined, N);
  });

  it("inside a transaction: index reads see the snapshot and the transaction's own writes", async () => {
    const t = db.collection<AnyDoc>("txn");
    await t.createIndex({ g: 1, v: 1 });
    await t.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i, g: i % 3, v: i })));
    const s = r.client.startSession();
    try {
      s.startTransaction();
      await t.findOne({ _id: 0 } as AnyDoc, { session: s }); // snapshot taken
      // Committed after the snapshot: moves documents into and out of g = 1 (invisible to the transaction).
      await t.updateMany({ _id: { $in: [1, 4, 7] } } as AnyDoc, { $set: { g: 2 } });
      await t.updateMany({ _id: { $in: [2, 5] } } as AnyDoc, { $set: { g: 1 } });
      await t.deleteOne({ _id: 10 } as AnyDoc);
      await t.insertOne({ _id: 1000, g: 1, v: 5 } as AnyDoc);
      // The transaction's own writes.
      await t.insertOne({ _id: 2000, g: 1, v: 7 } as AnyDoc, { session: s });
      await t.updateOne({ _id: 13 } as AnyDoc, { $set: { g: 0 } }, { session: s });
      await t.updateOne({ _id: 3 } as AnyDoc, { $set: { g: 1, v: 1 } }, { session: s });
      await t.deleteOne({ _id: 16 } as AnyDoc, { session: s });
      const all = await t.find({}, { session: s }).toArray();
      for (const f of [{ g: 1 }, { g: 1, v: { $lt: 50 } }, { g: { $in: [0, 1] }, v: { $gte: 3, $lte: 20 } }, { v: { $gte: 0 } }, { _id: { $lt: 20 } }]) {
        const want = all.filter((d) => Object.entries(f).every(([k, c]) => {
          const x = d[k];
          if (typeof c !== "object") return x === c;
          const o = c as AnyDoc;
          return (o.$in === undefined || o.$in.includes(x)) && (o.$lt === undefined || x < o.$lt) && (o.$lte === undefined || x <= o.$lte) && (o.$gte === undefined || x >= o.$gte);
        }));
        const got = await t.find(f as AnyDoc, { session: s }).sort({ _id: 1 }).toArray();
        assert.deepEqual(got, want.sort((a, b) => a._id - b._id), JSON.stringify(f));
      }
      await s.abortTransaction();
    } finally {
      await s.endSession();
    }
  });

  it("indexes rebuilt at recovery (snapshot + journal with updates and deletes) answer like a scan", async () => {
    const dir = tempDir();
    let rr = await run(dir);
    try {
      const c1 = rr.client.db("rec").collection<AnyDoc>("c");
      await c1.createIndex({ g: 1, v: -1 });
      await c1.createIndex({ tags: 1 });
      await c1.insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: i, g: i % 5, v: i, tags: i % 7 === 0 ? ["a", "b"] : "c" })));
      await c1.updateMany({ _id: { $lt: 100 } }, { $set: { g: 9 } });
      await c1.deleteMany({ _id: { $gte: 400 } });
      await rr.stop(false);
      rr = await run(dir);
      const c2 = rr.client.db("rec").collection<AnyDoc>("c");
      const all = await c2.find({}).toArray();
      assert.equal(all.length, 400);
      for (const [f, want] of [[{ g: 9 }, all.filter((d) => d._id < 100)], [{ g: 1, v: { $gte: 200 } }, all.filter((d) => d.g === 1 && d.v >= 200)], [{ tags: "a" }, all.filter((d) => Array.isArray(d.tags))]] as const) {
        const got = await c2.find(f as AnyDoc).sort({ _id: 1 }).toArray();
        assert.deepEqual(got, [...want].sort((a, b) => a._id - b._id), JSON.stringify(f));
        assert.equal((await explain(c2 as unknown as Collection, f as AnyDoc)).examined, want.length, JSON.stringify(f));
      }
      assert.deepEqual((await c2.find({}).sort({ _id: -1 }).limit(2).toArray()).map((d) => d._id), [399, 398]);
      await c2.insertOne({ _id: 1000, g: 9, v: 0, tags: "c" });
      assert.equal(await c2.countDocuments({ g: 9 }), 101);
    } finally {
      await rr.stop();
    }
  });

  it("gives the same results as a collection scan for many filter and sort shapes", async () => {
    const plain = db.collection("plain");
    const idx = db.collection("indexed");
    await idx.createIndex({ a: 1, b: -1 });
    await idx.createIndex({ t: 1 });
    await idx.createIndex({ "s.x": -1, a: 1 });
    await idx.createIndex({ m: 1 });
    const values = [0, 1, 2, 2.5, -1, "a", "b", "", null, true, new Date(5), [1, 2], [], { k: 1 }];
    const docs: Document[] = [];
    for (let i = 0; i < 600; i++) {
      const d: Document = { _id: i, a: i % 7, b: (i * 13) % 11 };
      if (i % 9 !== 0) d.t = values[i % values.length];
      if (i % 3 === 0) d.s = { x: i % 4 };
      d.m = i % 10 === 0 ? [i % 3, (i % 5) + 10] : i % 6;
      docs.push(d);
    }
    await plain.insertMany(docs.map((d) => ({ ...d })));
    await idx.insertMany(docs.map((d) => ({ ...d })));
    const filters: Document[] = [
      { a: 3 }, { a: 3, b: { $gt: 4 } }, { a: 3, b: { $gte: 2, $lte: 8 } }, { a: { $in: [1, 5] } }, { a: 2, b: { $in: [1, 3, 10] } },
      { t: { $gt: 0 } }, { t: { $lt: 2 } }, { t: { $gte: "a" } }, { t: null }, { t: { $in: [1, "b", null] } }, { t: [1, 2] }, { t: { k: 1 } },
      { t: 1 }, { t: { $gt: new Date(0) } }, { "s.x": 2 }, { "s.x": { $lt: 2 }, a: 1 }, { "s.x": 1, a: { $gt: 2 } },
      { m: 1 }, { m: { $gt: 10 } }, { m: { $gt: 1, $lt: 11 } }, { m: { $in: [2, 12] } }, { _id: { $gt: 590 } }, { _id: { $lt: 3 }, a: 0 },
      { a: { $in: [] } }, { a: 1, $or: [{ b: 1 }, { b: 2 }] }, {},
    ];
    const sorts: (Document | undefined)[] = [undefined, { _id: 1 }, { a: 1, b: -1, _id: 1 }, { a: -1, b: 1, _id: 1 }, { b: -1, _id: -1 }, { t: 1, _id: 1 }, { m: -1, _id: 1 }, { "s.x": -1, a: 1, _id: 1 }];
    for (const f of filters) {
      for (const s of sorts) {
        for (const limit of [0, 3]) {
          const q = (coll: Collection): Promise<Document[]> => {
            let cur = coll.find(f);
            if (s) cur = cur.sort(s);
            if (limit) cur = cur.limit(limit);
            return cur.toArray();
          };
          const [want, got] = await Promise.all([q(plain), q(idx)]);
          const why = JSON.stringify({ f, s, limit });
          if (s) assert.deepEqual(got, want, why);
          else if (!limit) assert.deepEqual(got.map((d) => d._id).sort((x, y) => x - y), want.map((d) => d._id).sort((x, y) => x - y), why);
          else assert.equal(got.length, want.length, why);
        }
      }
    }
  });
});
