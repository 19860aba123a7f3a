/**
 * Reads never alias stored documents: a projection, an aggregate stage or any other read path
 * that reshapes its result must not change what is stored (the next update would persist it).
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Db } from "mongodb";
import { run, type Running } from "./helpers.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

const ORIGINAL = { original: { protected: { x: 1 }, keep: [{ a: 1, b: 2 }] }, n: 1 };

describe("embedded store: reads never modify stored documents", () => {
  let r: Running;
  let db: Db;
  before(async () => {
    r = await run();
    db = r.client.db("alias");
  });
  after(async () => r.stop());

  async function fresh(name: string): Promise<void> {
    await db.collection(name).drop().catch(() => undefined);
    await db.collection(name).insertOne({ _id: 1, ...structuredClone(ORIGINAL) } as AnyDoc);
    await db.collection(name).insertOne({ _id: 2, ...structuredClone(ORIGINAL) } as AnyDoc);
  }

  async function intact(name: string, why: string): Promise<void> {
    await db.collection(name).updateMany({}, { $set: { n: 2 } });
    for (const d of await db.collection(name).find({}).sort({ _id: 1 }).toArray()) {
      assert.deepEqual(d, { _id: d._id, ...ORIGINAL, n: 2 }, why);
    }
  }

  it("find with a nested exclusion projection, then an update (the reported repro)", async () => {
    await fresh("p");
    const got = await db.collection("p").findOne({ _id: 1 } as AnyDoc, { projection: { "original.protected": 0 } });
    assert.deepEqual(got, { _id: 1, original: { keep: [{ a: 1, b: 2 }] }, n: 1 });
    await db.collection("p").updateOne({ _id: 1 } as AnyDoc, { $set: { n: 2 } });
    const after = await db.collection("p").findOne({ _id: 1 } as AnyDoc);
    assert.deepEqual(after?.original, ORIGINAL.original, "original.protected survives");
    await intact("p", "find projection");
  });

  it("find projections of every shape, sorted, with getMore", async () => {
    await fresh("q");
    const c = db.collection("q");
    for (const projection of [{ "original.protected": 0 }, { "original.protected.x": 0 }, { "original.keep.a": 0 }, { "original.keep.b": 1 }, { original: { $slice: 1 } }, { "original.keep": { $elemMatch: { a: 1 } } }, { "original.keep.$": 1 }]) {
      const filter = "original.keep.$" in projection ? { "original.keep.a": 1 } : {};
      await c.find(filter, { projection: projection as AnyDoc, batchSize: 1 }).sort({ "original.protected.x": 1 }).toArray();
    }
    await intact("q", "find projections");
  });

  it("aggregate stages that reshape documents", async () => {
    await fresh("a");
    await db.collection("other").insertOne({ _id: 1, k: 1 } as AnyDoc);
    const c = db.collection("a");
    const pipelines: AnyDoc[][] = [
      [{ $project: { "original.protected": 0 } }],
      [{ $match: { n: 1 } }, { $project: { "original.protected": 0 } }],
      [{ $unset: "original.protected" }],
      [{ $match: { _id: 1 } }, { $unset: ["original.protected.x", "original.keep.a"] }],
      [{ $addFields: { "original.protected.y": 2 } }],
      [{ $set: { "original.keep.c": 3 } }],
      [{ $unwind: "$original.keep" }, { $set: { "original.keep.a": 9 } }],
      [{ $lookup: { from: "other", localField: "_id", foreignField: "_id", as: "original.joined" } }],
      [{ $group: { _id: null, d: { $first: "$$ROOT" } } }, { $project: { "d.original.protected": 0 } }],
      [{ $group: { _id: null, d: { $push: "$original" } } }, { $unset: "d.protected" }],
      [{ $facet: { x: [{ $project: { "original.protected": 0 } }], y: [{ $set: { "original.protected.z": 1 } }] } }],
      [{ $replaceRoot: { newRoot: "$original" } }, { $unset: "protected.x" }],
      [{ $sort: { _id: -1 } }, { $project: { "original.keep.b": 0 } }],
    ];
    for (const p of pipelines) await c.aggregate(p).toArray();
    await intact("a", "aggregate");
  });

  it("findAndModify with fields, distinct and count", async () => {
    await fresh("f");
    const c = db.collection("f");
    await c.findOneAndUpdate({ _id: 1 } as AnyDoc, { $set: { other: 1 } }, { projection: { "original.protected": 0 } });
    await c.findOneAndUpdate({ _id: 1 } as AnyDoc, { $unset: { other: 1 } }, { projection: { "original.protected": 0 }, returnDocument: "after" });
    await c.distinct("original.keep");
    await c.countDocuments({ "original.protected.x": 1 });
    await intact("f", "findAndModify fields");
    await c.insertOne({ _id: 3, ...structuredClone(ORIGINAL) } as AnyDoc);
    const removed = await c.findOneAndDelete({ _id: 3 } as AnyDoc, { projection: { "original.protected": 0 } });
    assert.deepEqual(removed, { _id: 3, original: { keep: [{ a: 1, b: 2 }] }, n: 1 });
  });

  it("reads inside a transaction", async () => {
    await fresh("t");
    const c = db.collection("t");
    const s = r.client.startSession();
    try {
      s.startTransaction();
      await c.find({}, { projection: { "original.protected": 0 }, session: s }).toArray();
      await c.aggregate([{ $unset: "original.protected" }], { session: s }).toArray();
      await c.updateOne({ _id: 1 } as AnyDoc, { $set: { m: 1 } }, { session: s });
      await c.find({}, { projection: { "original.protected": 0 }, session: s }).toArray();
      await c.aggregate([{ $project: { "original.protected": 0 } }], { session: s }).toArray();
      await s.abortTransaction();
    } finally {
      await s.endSession();
    }
    await intact("t", "transaction reads");
  });
});
