import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Decimal128, Double, Int32, Long, type Collection, type Db } from "mongodb";
import { run, type Running } from "./helpers.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

const typeOf = (v: unknown): string => (v !== null && typeof v === "object" ? ((v as { _bsontype?: string })._bsontype ?? "object") : typeof v);
const RAW = { promoteLongs: false, promoteValues: false } as const;

describe("embedded store: BSON number types survive updates (as MongoDB keeps them)", () => {
  let r: Running;
  let db: Db;
  let c: Collection<AnyDoc>;
  before(async () => {
    r = await run();
    db = r.client.db("types");
    c = db.collection<AnyDoc>("t");
  });
  after(async () => r.stop());

  async function fetch(id: unknown): Promise<AnyDoc> {
    const d = await c.findOne({ _id: id }, RAW);
    assert.ok(d);
    return d;
  }

  it("keeps untouched fields' types and $set values' types", async () => {
    await c.insertOne({ _id: 1, l: Long.fromNumber(5), d: new Double(2), i: new Int32(3), dec: Decimal128.fromString("1.5") });
    await c.updateOne({ _id: 1 }, { $set: { x: Long.fromNumber(7), y: new Double(4), z: new Int32(9), "n.w": new Double(1) } });
    const d = await fetch(1);
    assert.deepEqual(
      { l: typeOf(d.l), d: typeOf(d.d), i: typeOf(d.i), dec: typeOf(d.dec), x: typeOf(d.x), y: typeOf(d.y), z: typeOf(d.z), nw: typeOf(d.n.w) },
      { l: "Long", d: "Double", i: "Int32", dec: "Decimal128", x: "Long", y: "Double", z: "Int32", nw: "Double" },
    );
  });

  it("types $inc and $mul results as MongoDB does, int32 overflowing to int64", async () => {
    await c.insertOne({ _id: 2, i: new Int32(1), big: new Int32(2147483647), l: Long.fromNumber(10), d: new Double(1), dec: Decimal128.fromString("1.1") });
    await c.updateOne({ _id: 2 }, { $inc: { i: new Int32(1), big: new Int32(1), l: new Int32(1), d: new Int32(1), dec: new Int32(1), fresh: Long.fromNumber(3) } });
    const d = await fetch(2);
    assert.equal(typeOf(d.i), "Int32");
    assert.equal(d.i.value, 2);
    assert.equal(typeOf(d.big), "Long");
    assert.equal(d.big.toString(), "2147483648");
    assert.equal(typeOf(d.l), "Long");
    assert.equal(d.l.toString(), "11");
    assert.equal(typeOf(d.d), "Double");
    assert.equal(d.d.value, 2);
    assert.equal(typeOf(d.dec), "Decimal128");
    assert.equal(d.dec.toString(), "2.1");
    assert.equal(typeOf(d.fresh), "Long");
    await c.updateOne({ _id: 2 }, { $mul: { i: new Double(1.5), l: Long.fromNumber(2) } });
    const e = await fetch(2);
    assert.equal(typeOf(e.i), "Double");
    assert.equal(e.i.value, 3);
    assert.equal(typeOf(e.l), "Long");
    assert.equal(e.l.toString(), "22");
  });

  it("keeps int64 values beyond 2^53 exact through $inc", async () => {
    await c.insertOne({ _id: 3, l: Long.fromString("9007199254740993") });
    await c.updateOne({ _id: 3 }, { $inc: { l: Long.fromNumber(2) } });
    assert.equal((await fetch(3)).l.toString(), "9007199254740995");
  });

  it("keeps the replacement's types and reports a type-only change as a modification", async () => {
    await c.insertOne({ _id: 4, v: new Int32(1) });
    await c.replaceOne({ _id: 4 }, { v: Long.fromNumber(1), w: new Double(3) });
    const d = await fetch(4);
    assert.equal(typeOf(d.v), "Long");
    assert.equal(typeOf(d.w), "Double");
    const res = await c.updateOne({ _id: 4 }, { $set: { v: new Double(1) } });
    assert.equal(res.modifiedCount, 1);
    assert.equal(typeOf((await fetch(4)).v), "Double");
    const same = await c.updateOne({ _id: 4 }, { $set: { v: new Double(1) } });
    assert.equal(same.modifiedCount, 0);
  });

  it("keeps types in upserts (from the filter and the update) and in findOneAndUpdate's reply", async () => {
    await c.updateOne({ _id: Long.fromNumber(50), k: new Double(2) }, { $set: { s: Long.fromNumber(6) } }, { upsert: true });
    const d = await fetch(Long.fromNumber(50));
    assert.equal(typeOf(d._id), "Long");
    assert.equal(typeOf(d.k), "Double");
    assert.equal(typeOf(d.s), "Long");
    const after = await c.findOneAndUpdate({ _id: Long.fromNumber(50) }, { $inc: { s: new Int32(1) } }, { returnDocument: "after", ...RAW });
    assert.equal(typeOf(after?.s), "Long");
    assert.equal(typeOf(after?.k), "Double");
  });

  it("keeps inserted documents' types when the store adds or moves _id", async () => {
    const coll = db.collection<AnyDoc>("noid");
    await coll.insertOne({ a: Long.fromNumber(1), b: new Double(2) }, { forceServerObjectId: true });
    await coll.insertOne({ c: new Double(3), _id: 9 });
    const docs = await coll.find({}, RAW).toArray();
    assert.equal(typeOf(docs[0].a), "Long");
    assert.equal(typeOf(docs[0].b), "Double");
    assert.equal(typeOf(docs[1].c), "Double");
    assert.deepEqual(Object.keys(docs[1]), ["_id", "c"]);
  });

  it("compares Decimal128 numerically with every other number type", async () => {
    const coll = db.collection<AnyDoc>("dec");
    await coll.insertMany([
      { _id: 1, v: Decimal128.fromString("10") },
      { _id: 2, v: Decimal128.fromString("9") },
      { _id: 3, v: 7 },
      { _id: 4, v: Decimal128.fromString("100") },
      { _id: 5, v: Long.fromString("9007199254740993") },
      { _id: 6, v: new Double(8.5) },
    ]);
    const ids = async (f: AnyDoc, sort?: AnyDoc): Promise<number[]> => (await coll.find(f, sort ? { sort } : {}).toArray()).map((d) => d._id);
    assert.deepEqual(await ids({ v: { $gt: 8 } }), [1, 2, 4, 5, 6]);
    assert.deepEqual(await ids({ v: { $gt: Decimal128.fromString("8.75") } }), [1, 2, 4, 5]);
    assert.deepEqual(await ids({ v: 10 }), [1]);
    assert.deepEqual(await ids({ v: { $in: [new Double(9)] } }), [2]);
    assert.deepEqual(await ids({}, { v: 1 }), [3, 6, 2, 1, 4, 5]);
    await coll.createIndex({ v: 1 });
    assert.deepEqual(await ids({ v: { $gte: Decimal128.fromString("9"), $lt: 100 } }), [2, 1]);
  });
});
