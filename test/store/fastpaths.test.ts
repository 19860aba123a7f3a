/**
 * The embedded store's shortcuts for large reads, through the official driver, each against the
 * general path it replaces: index bounds that answer a filter exactly (no second match of each
 * document), the driver's countDocuments pipeline counted without $group, and replies carrying
 * many stored documents written in one allocation.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Decimal128, Double, Int32, Long, type Collection, type Db, type Document, type Sort } from "mongodb";
import { run, type Running } from "./helpers.ts";

let r: Running;
let db: Db;

before(async () => {
  r = await run();
  db = r.client.db("fastpaths");
});

after(async () => r?.stop());

const ids = (docs: Document[]) => docs.map((d) => d._id as number).sort((a, b) => a - b);

describe("embedded store: exact index bounds", () => {
  let indexed: Collection;
  before(async () => {
    indexed = db.collection("indexed");
    await indexed.createIndex({ n: 1 });
    await indexed.createIndex({ level: 1, index: 1 });
    const odd = [Number.NaN, Infinity, -Infinity, -0, null, "5", new Long(7), Decimal128.fromString("7.5"), new Int32(8), new Double(8.5), new Date(9), true];
    const docs: Document[] = [];
    for (let i = 0; i < 400; i++) {
      const d: Document = { _id: i, level: i % 4, index: Math.floor(i / 4) };
      if (i % 11 !== 0) d.n = i % 17 === 0 ? odd[(i / 17) % odd.length] : (i % 23) - 3;
      if (i % 29 === 0) d.index = odd[(i / 29) % odd.length];
      docs.push(d);
    }
    await indexed.insertMany(docs.map((d) => ({ ...d })));
  });

  it("gives what matching every candidate gives, NaN, infinities and every number type included", async () => {
    const filters: Document[] = [
      { n: 7 }, { n: 0 }, { n: -0 }, { n: { $gt: 5 } }, { n: { $gte: 7 } }, { n: { $gt: -4, $lt: 8 } }, { n: { $gte: 7, $lte: 8.5 } },
      { n: { $eq: 8 } }, { n: { $lt: 2 } }, { n: { $lte: -1 } }, { n: { $gt: -Infinity } }, { n: { $gte: Infinity } }, { n: { $gt: Number.NaN } },
      { n: Number.NaN }, { n: null }, { n: { $gt: 5, $lt: 3 } },
      { level: 2 }, { level: 2, index: { $gt: 40 } }, { level: 3, index: { $gte: 0, $lt: 10 } }, { level: 1, index: 7 }, { level: 0, index: { $gt: -Infinity } },
      { _id: { $gt: 390 } }, { _id: { $gte: 10, $lt: 20 } }, { level: 1, index: { $gt: 3 }, n: { $gt: 0 } },
    ];
    for (const f of filters) {
      for (const sort of [undefined, { n: 1 }, { level: 1, index: 1 }, { _id: 1 }] as (Sort | undefined)[]) {
        for (const limit of [0, 5]) {
          // The same index bounds, each candidate matched again: an extra condition that always
          // holds and bounds nothing makes the bounds inexact.
          const q = (c: Collection, again = false) => {
            let cur = c.find(again ? { ...f, absent: { $exists: false } } : f);
            if (sort) cur = cur.sort(sort);
            if (limit) cur = cur.limit(limit);
            return cur.toArray();
          };
          const [want, got] = await Promise.all([q(indexed, true), q(indexed)]);
          const why = JSON.stringify({ f, sort, limit });
          if (sort && typeof sort === "object" && "_id" in sort) assert.deepEqual(got, want, why);
          else if (limit === 0) assert.deepEqual(ids(got), ids(want), why);
          else assert.equal(got.length, want.length, why);
        }
      }
    }
  });

  it("never matches NaN with a range, as MongoDB", async () => {
    for (const f of [{ n: { $gte: 7 } }, { n: { $gt: -Infinity } }, { n: { $gte: -Infinity, $lte: Infinity } }]) {
      const got = await indexed.find(f).toArray();
      assert.ok(got.length > 0 && got.every((d) => typeof d.n !== "number" || !Number.isNaN(d.n)), JSON.stringify(f));
    }
  });

  it("still matches documents a transaction sees", async () => {
    const session = r.client.startSession();
    try {
      await session.withTransaction(async () => {
        await indexed.insertOne({ _id: 1000, level: 2, index: 500, n: 6 } as Document, { session });
        assert.deepEqual(ids(await indexed.find({ level: 2, index: { $gt: 99 } }, { session }).toArray()), [1000]);
        assert.deepEqual(ids(await indexed.find({ level: 2, index: { $gt: 99 } }).toArray()), [], "not before commit");
        await session.abortTransaction();
      });
    } catch {
      // aborted on purpose
    } finally {
      await session.endSession();
    }
  });
});

describe("embedded store: countDocuments", () => {
  it("counts like the general pipeline, with and without a filter, in and out of transactions", async () => {
    const c = db.collection("counted");
    await c.createIndex({ k: 1 });
    await c.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i, k: i % 7, s: `v${i % 5}` }) as Document));
    const general = async (filter: Document) => ((await c.aggregate([{ $match: filter }, { $count: "n" }]).toArray())[0]?.n as number | undefined) ?? 0;
    for (const f of [{}, { k: 3 }, { k: { $gte: 5 } }, { s: "v1" }, { k: 99 }, { $expr: { $eq: ["$k", 2] } }, { k: { $in: [1, 2] }, s: "v2" }]) {
      assert.equal(await c.countDocuments(f), await general(f), JSON.stringify(f));
    }
    assert.equal(await c.countDocuments({}, { skip: 290 }), 10, "skip and limit take the general path");
    assert.equal(await c.countDocuments({ k: 1 }, { limit: 3 }), 3);
    assert.equal(await db.collection("absent").countDocuments({}), 0);
    await c.deleteMany({ k: 0 });
    assert.equal(await c.countDocuments({}), 300 - 43);
    const session = r.client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 999, k: 0 } as Document, { session });
      assert.equal(await c.countDocuments({}, { session }), 300 - 43 + 1);
      assert.equal(await c.countDocuments({}), 300 - 43, "the transaction's insert is not visible outside it");
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
  });
});

describe("embedded store: large replies", () => {
  it("returns many stored documents and nested cursors byte for byte", async () => {
    const c = db.collection("large");
    const docs = Array.from({ length: 3000 }, (_, i) => ({ _id: i, pad: "x".repeat(i % 300), bin: Buffer.alloc(i % 50, i % 256) }));
    await c.insertMany(docs.map((d) => ({ ...d }) as Document));
    const got = await c.find({}, { batchSize: 1000 }).sort({ _id: 1 }).toArray();
    assert.equal(got.length, 3000);
    for (const i of [0, 1, 9, 10, 99, 100, 999, 1000, 2999]) {
      assert.equal(got[i]._id, i);
      assert.equal(got[i].pad, docs[i].pad);
      assert.deepEqual(Buffer.from(got[i].bin.buffer), docs[i].bin);
    }
    const listed = await db.listCollections({}, { nameOnly: true }).toArray();
    assert.ok(listed.some((x) => x.name === "large"));
  });
});
