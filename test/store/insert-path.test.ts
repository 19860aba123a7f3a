/**
 * The acknowledged-insert fast path: the `_id` the driver appends is moved to the front by moving
 * bytes, so every value keeps its exact BSON type and the stored document starts with `_id`.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Db } from "mongodb";
import { run, type Running } from "./helpers.ts";

describe("embedded store: insert keeps exact bytes, _id first", () => {
  let r: Running;
  let db: Db;
  before(async () => {
    r = await run();
    db = r.client.db("ins");
  });
  after(async () => r.stop());

  it("driver-generated _id goes first; Int32/Long/Double/Decimal128/Timestamp keep their types", async () => {
    const c = db.collection("t");
    const doc = { a: new Int32(1), b: Long.fromNumber(2), c: new Double(3), d: Decimal128.fromString("4.50"), e: new Timestamp({ t: 5, i: 6 }), f: { g: [new Int32(7), Long.fromNumber(8)] } };
    const res = await c.insertOne(doc);
    assert.ok(res.insertedId instanceof ObjectId);
    const got = await c.findOne({ _id: res.insertedId }, { promoteValues: false, promoteLongs: false });
    assert.ok(got);
    assert.deepEqual(Object.keys(got), ["_id", "a", "b", "c", "d", "e", "f"]);
    assert.ok(got.a instanceof Int32 && got.b instanceof Long && got.c instanceof Double && got.d instanceof Decimal128 && got.e instanceof Timestamp);
    assert.equal(String(got.d), "4.50");
    assert.ok(got.f.g[0] instanceof Int32 && got.f.g[1] instanceof Long);
    // Explicit _id in the middle, and many concurrent inserts.
    await c.insertOne({ x: 1, _id: "mid" as unknown as ObjectId, y: 2 });
    assert.deepEqual(Object.keys((await c.findOne({ _id: "mid" as unknown as ObjectId })) ?? {}), ["_id", "x", "y"]);
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.insertOne({ i })));
    assert.equal(await c.countDocuments({ i: { $gte: 0 } }), 200);
  });
});
