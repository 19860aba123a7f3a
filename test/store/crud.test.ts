import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, type Db, MongoServerError } from "mongodb";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;
import { run, type Running } from "./helpers.ts";

describe("embedded store: CRUD through the official driver", () => {
  let r: Running;
  let db: Db;
  before(async () => {
    r = await run();
    db = r.client.db("crud");
  });
  after(async () => r.stop());

  it("round-trips every common BSON type unchanged", async () => {
    const c = db.collection<AnyDoc>("types");
    const doc = {
      _id: new ObjectId(),
      long: Long.fromString("9007199254740993"),
      longSmall: Long.fromNumber(7),
      int: 42,
      dbl: 1.5,
      dec: Decimal128.fromString("12345.6789"),
      date: new Date("2024-05-06T07:08:09.010Z"),
      bin: new Binary(Buffer.from([1, 2, 3]), 0),
      uuid: new Binary(Buffer.alloc(16, 7), 4),
      ts: new Timestamp({ t: 100, i: 2 }),
      re: /ab+c/i,
      min: new MinKey(),
      max: new MaxKey(),
      nested: { a: [1, [2, 3], { b: null }], empty: {} },
      nul: null,
      str: "héllo",
      bool: true,
    };
    await c.insertOne(doc);
    const got = await c.findOne({ _id: doc._id }, { promoteLongs: false, promoteValues: false });
    assert.ok(got);
    assert.equal(String(got.long), "9007199254740993");
    assert.equal((got.longSmall as Long)._bsontype, "Long");
    assert.equal((got.int as Int32)._bsontype, "Int32");
    assert.equal((got.dbl as Double)._bsontype, "Double");
    assert.equal(String(got.dec), "12345.6789");
    assert.equal((got.date as Date).toISOString(), "2024-05-06T07:08:09.010Z");
    assert.deepEqual(Buffer.from((got.bin as Binary).buffer), Buffer.from([1, 2, 3]));
    assert.equal((got.uuid as Binary).sub_type, 4);
    assert.equal((got.ts as Timestamp).t, 100);
    assert.equal((got.min as MinKey)._bsontype, "MinKey");
    assert.equal((got.max as MaxKey)._bsontype, "MaxKey");
    assert.ok("nul" in got && got.nul === null);
    const plain = await c.findOne({ _id: doc._id });
    assert.deepEqual(plain?.nested, { a: [1, [2, 3], { b: null }], empty: {} });
    assert.equal(plain?.str, "héllo");
    assert.equal((plain?.re as RegExp).source, "ab+c");
  });

  it("matches ObjectId, Date and Decimal128 values in filters", async () => {
    const c = db.collection<AnyDoc>("match");
    const id = new ObjectId();
    await c.insertMany([{ _id: id, at: new Date(1000), d: Decimal128.fromString("2.5") }, { at: new Date(5000) }]);
    assert.equal((await c.find({ _id: id }).toArray()).length, 1);
    assert.equal(await c.countDocuments({ at: { $gt: new Date(2000) } }), 1);
    assert.equal(await c.countDocuments({ d: Decimal128.fromString("2.5") }), 1);
  });

  it("applies update operators including positional, $[] and arrayFilters", async () => {
    const c = db.collection<AnyDoc>("upd");
    await c.insertOne({ _id: 1, a: 1, grades: [80, 95, 70], items: [{ k: "x", q: 1 }, { k: "y", q: 2 }], tags: ["a"], n: 5 });
    await c.updateOne({ _id: 1 }, { $set: { b: 2 }, $unset: { a: "" }, $inc: { n: 2 }, $mul: { m: 3 }, $min: { lo: 1 }, $max: { hi: 9 } });
    await c.updateOne({ _id: 1, grades: 95 }, { $set: { "grades.$": 96 } });
    await c.updateOne({ _id: 1 }, { $inc: { "items.$[].q": 10 } });
    await c.updateOne({ _id: 1 }, { $set: { "items.$[e].hit": true } }, { arrayFilters: [{ "e.k": "y" }] });
    await c.updateOne({ _id: 1 }, { $push: { grades: { $each: [50, 99], $sort: -1, $slice: 4 } }, $addToSet: { tags: "a" } } as AnyDoc);
    await c.updateOne({ _id: 1 }, { $rename: { b: "bee" }, $currentDate: { at: true }, $pull: { tags: "zzz" } } as AnyDoc);
    const d = await c.findOne({ _id: 1 });
    assert.ok(d);
    assert.equal(d.a, undefined);
    assert.equal(d.bee, 2);
    assert.equal(d.n, 7);
    assert.equal(d.m, 0);
    assert.deepEqual(d.grades, [99, 96, 80, 70]);
    assert.deepEqual(d.items, [{ k: "x", q: 11 }, { k: "y", q: 12, hit: true }]);
    assert.deepEqual(d.tags, ["a"]);
    assert.ok(d.at instanceof Date);
    await c.updateOne({ _id: 1 }, { $pop: { grades: 1 }, $pullAll: { tags: ["a"] } } as AnyDoc);
    const e = await c.findOne({ _id: 1 });
    assert.deepEqual(e?.grades, [99, 96, 80]);
    assert.deepEqual(e?.tags, []);
  });

  it("supports pipeline-style updates and updateMany", async () => {
    const c = db.collection<AnyDoc>("pipe");
    await c.insertMany([{ v: 1 }, { v: 2 }, { v: 3 }]);
    const res = await c.updateMany({ v: { $gte: 2 } }, [{ $set: { w: { $multiply: ["$v", 10] } } }]);
    assert.equal(res.matchedCount, 2);
    assert.equal(res.modifiedCount, 2);
    assert.deepEqual((await c.find({ w: { $exists: true } }).sort({ v: 1 }).toArray()).map((d) => d.w), [20, 30]);
  });

  it("upserts with the filter's equality fields and $setOnInsert", async () => {
    const c = db.collection<AnyDoc>("ups");
    const r1 = await c.updateOne({ k: "a", n: { $gt: 1 } }, { $set: { v: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    assert.equal(r1.upsertedCount, 1);
    assert.ok(r1.upsertedId);
    const r2 = await c.updateOne({ k: "a" }, { $set: { v: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    assert.equal(r2.matchedCount, 1);
    assert.equal(r2.upsertedCount, 0);
    const d = await c.findOne({ k: "a" });
    assert.equal(d?.v, 2);
    assert.equal(d?.created, true);
    const r3 = await c.replaceOne({ _id: "fixed" as unknown as ObjectId }, { z: 1 }, { upsert: true });
    assert.equal(r3.upsertedId, "fixed");
  });

  it("reports unique violations as MongoDB does: code 11000, keyPattern, keyValue, E11000 errmsg", async () => {
    const c = db.collection<AnyDoc>("uniq");
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: "a@x" });
    await assert.rejects(c.insertOne({ email: "a@x" }), (e: MongoServerError) => {
      assert.equal(e.code, 11000);
      assert.deepEqual(e.keyPattern, { email: 1 });
      assert.deepEqual(e.keyValue, { email: "a@x" });
      assert.match(e.errmsg, /^E11000 duplicate key error collection: crud\.uniq index: email_1 dup key: \{ email: "a@x" \}/);
      return true;
    });
    const bulk = await c.insertMany([{ email: "b@x" }, { email: "a@x" }, { email: "c@x" }], { ordered: false }).catch((e) => e);
    assert.equal(bulk.code, 11000);
    assert.equal(bulk.result.insertedCount, 2);
    assert.equal(bulk.writeErrors[0].index, 1);
    await assert.rejects(c.insertOne({ _id: (await c.findOne({ email: "b@x" }))!._id, email: "q" }), /E11000.*index: _id_/);
  });

  it("enforces compound unique indexes and honours sparse and partial unique indexes", async () => {
    const cc = db.collection<AnyDoc>("uniq2c");
    await cc.createIndex({ a: 1, b: -1 }, { unique: true });
    await cc.insertMany([{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 1 }]);
    await assert.rejects(cc.insertOne({ a: 1, b: 2 }), (e: MongoServerError) => e.code === 11000 && e.keyPattern?.b === -1);
    await cc.insertOne({ a: 3 });
    await assert.rejects(cc.insertOne({ a: 3, b: null }), (e: MongoServerError) => e.code === 11000);
    const c = db.collection<AnyDoc>("uniq2");
    await c.createIndex({ s: 1 }, { unique: true, sparse: true });
    await c.createIndex({ p: 1 }, { unique: true, partialFilterExpression: { live: true } });
    await c.insertMany([{ p: 1 }, { p: 1 }, { p: 1, live: true }]);
    await assert.rejects(c.insertOne({ p: 1, live: true }), (e: MongoServerError) => e.code === 11000);
    await assert.rejects(c.createIndex({ p: 1 }, { unique: true, name: "p_dup" }), (e: MongoServerError) => e.code === 11000 || e.code === 85);
  });

  it("iterates a cursor with getMore over thousands of documents", async () => {
    const c = db.collection<AnyDoc>("many");
    const docs = Array.from({ length: 5000 }, (_, i) => ({ i }));
    await c.insertMany(docs);
    let n = 0;
    let last = -1;
    for await (const d of c.find({}, { batchSize: 300 }).sort({ i: 1 })) {
      assert.equal(d.i, last + 1);
      last = d.i;
      n++;
    }
    assert.equal(n, 5000);
    assert.equal((await c.find({ i: { $gte: 100 } }).skip(10).limit(25).toArray())[0].i, 110);
    assert.deepEqual((await c.find({ i: { $lt: 3 } }, { projection: { _id: 0, i: 1 } }).toArray()), [{ i: 0 }, { i: 1 }, { i: 2 }]);
  });

  it("uses an index for equality, range and sorted lookups with the same results as a scan", async () => {
    const c = db.collection<AnyDoc>("idx");
    await c.insertMany(Array.from({ length: 2000 }, (_, i) => ({ k: i % 100, s: `v${i}`, arr: [i, i + 1] })));
    const before = await c.find({ k: { $gte: 10, $lt: 13 } }).toArray();
    await c.createIndex({ k: 1 });
    await c.createIndex({ arr: 1 });
    const after = await c.find({ k: { $gte: 10, $lt: 13 } }).toArray();
    assert.equal(before.length, 60);
    assert.deepEqual(new Set(after.map((d) => String(d._id))), new Set(before.map((d) => String(d._id))));
    assert.equal(await c.countDocuments({ k: 42 }), 20);
    assert.equal(await c.countDocuments({ k: { $in: [1, 2, "x"] } }), 40);
    assert.equal(await c.countDocuments({ arr: 1500 }), 2);
    const top = await c.find({}).sort({ k: -1 }).limit(3).toArray();
    assert.deepEqual(top.map((d) => d.k), [99, 99, 99]);
  });

  it("runs aggregate pipelines with $group, $lookup, $out and $merge", async () => {
    const orders = db.collection<AnyDoc>("orders");
    const people = db.collection<AnyDoc>("people");
    await people.insertMany([{ _id: 1 as unknown as ObjectId, name: "An" }, { _id: 2 as unknown as ObjectId, name: "Bo" }]);
    await orders.insertMany([{ who: 1, amt: 5 }, { who: 1, amt: 7 }, { who: 2, amt: 1 }]);
    const g = await orders.aggregate([{ $group: { _id: "$who", total: { $sum: "$amt" } } }, { $sort: { _id: 1 } }]).toArray();
    assert.deepEqual(g, [{ _id: 1, total: 12 }, { _id: 2, total: 1 }]);
    const l = await orders.aggregate([{ $match: { who: 2 } }, { $lookup: { from: "people", localField: "who", foreignField: "_id", as: "p" } }]).toArray();
    assert.equal(l[0].p[0].name, "Bo");
    await orders.aggregate([{ $group: { _id: "$who", total: { $sum: "$amt" } } }, { $out: "totals" }]).toArray();
    assert.equal(await db.collection<AnyDoc>("totals").countDocuments(), 2);
    await orders.aggregate([{ $match: { who: 2 } }, { $project: { _id: "$who", extra: "yes" } }, { $merge: { into: "totals" } }]).toArray();
    const t2 = await db.collection<AnyDoc>("totals").findOne({ _id: 2 as unknown as ObjectId });
    assert.equal(t2?.total, 1);
    assert.equal(t2?.extra, "yes");
  });

  it("implements findOneAndUpdate, findOneAndReplace and findOneAndDelete", async () => {
    const c = db.collection<AnyDoc>("fam");
    await c.insertMany([{ k: 1, v: "a" }, { k: 2, v: "b" }]);
    const before = await c.findOneAndUpdate({ k: 1 }, { $set: { v: "A" } });
    assert.equal(before?.v, "a");
    const after = await c.findOneAndUpdate({ k: 1 }, { $set: { v: "AA" } }, { returnDocument: "after", projection: { _id: 0 } });
    assert.deepEqual(after, { k: 1, v: "AA" });
    const rep = await c.findOneAndReplace({ k: 2 }, { k: 2, v: "B" }, { returnDocument: "after" });
    assert.equal(rep?.v, "B");
    const ups = await c.findOneAndUpdate({ k: 3 }, { $set: { v: "c" } }, { upsert: true, returnDocument: "after", includeResultMetadata: true });
    assert.equal(ups.lastErrorObject?.updatedExisting, false);
    assert.ok(ups.lastErrorObject?.upserted);
    const del = await c.findOneAndDelete({}, { sort: { k: -1 } });
    assert.equal(del?.k, 3);
    assert.equal(await c.countDocuments(), 2);
  });

  it("counts and lists distinct values, collections and indexes", async () => {
    const c = db.collection<AnyDoc>("meta");
    await c.insertMany([{ t: ["a", "b"] }, { t: "a" }, { t: "c" }]);
    await c.createIndex({ t: 1 }, { name: "t_idx" });
    assert.equal(await c.countDocuments({ t: "a" }), 2);
    assert.equal(await c.estimatedDocumentCount(), 3);
    assert.deepEqual((await c.distinct("t")).sort(), ["a", "b", "c"]);
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((x) => x.name);
    assert.ok(names.includes("meta"));
    const filtered = await db.listCollections({ name: "meta" }).toArray();
    assert.equal(filtered.length, 1);
    assert.equal(filtered[0].type, "collection");
    const idx = await c.listIndexes().toArray();
    assert.deepEqual(idx.map((i) => i.name), ["_id_", "t_idx"]);
    await c.dropIndex("t_idx");
    await assert.rejects(c.dropIndex("t_idx"), (e: MongoServerError) => e.code === 27);
    const dbs = await r.client.db("admin").admin().listDatabases();
    assert.ok(dbs.databases.some((d) => d.name === "crud"));
  });

  it("renames and drops collections and databases", async () => {
    const c = db.collection<AnyDoc>("ren1");
    await c.insertOne({ a: 1 });
    await c.rename("ren2");
    assert.equal(await db.collection<AnyDoc>("ren2").countDocuments(), 1);
    assert.equal(await db.collection<AnyDoc>("ren1").countDocuments(), 0);
    await assert.rejects(db.collection<AnyDoc>("nope").rename("x"), (e: MongoServerError) => e.code === 26);
    await db.createCollection("made");
    await assert.rejects(db.createCollection("made"), (e: MongoServerError) => e.code === 48);
    const other = r.client.db("gone");
    await other.collection<AnyDoc>("x").insertOne({});
    await other.dropDatabase();
    assert.equal((await other.listCollections().toArray()).length, 0);
  });

  it("rejects invalid operators and documents with MongoDB's codes", async () => {
    const c = db.collection<AnyDoc>("bad");
    await c.insertOne({ a: 1 });
    await assert.rejects(c.find({ a: { $foo: 1 } }).toArray(), (e: MongoServerError) => e.code === 2 && /unknown operator: \$foo/.test(e.message));
    await assert.rejects(c.updateOne({}, { $foo: { a: 1 } } as never), (e: MongoServerError) => e.code === 9 && /Unknown modifier: \$foo/.test(e.message));
    await assert.rejects(c.updateOne({}, { $set: { a: 1 }, $inc: { a: 1 } }), (e: MongoServerError) => e.code === 40);
    await assert.rejects(c.updateOne({}, { $set: { _id: 5 } }), (e: MongoServerError) => e.code === 66);
    await c.updateOne({}, { $set: { s: "x" } });
    await assert.rejects(c.updateOne({}, { $inc: { s: 1 } }), (e: MongoServerError) => e.code === 14);
    await assert.rejects(c.insertOne({ _id: [1, 2] as unknown as ObjectId }), (e: MongoServerError) => e.code === 2);
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 150; i++) deep = { d: deep };
    await assert.rejects(c.insertOne(deep), (e: MongoServerError) => typeof e.code === "number");
    const res = await r.client.db("admin").command({ ping: 1 });
    assert.equal(res.ok, 1);
    await assert.rejects(db.command({ frobnicate: 1 }), (e: MongoServerError) => e.code === 59 && e.codeName === "CommandNotFound" && /no such command: 'frobnicate'/.test(e.message));
    assert.equal(await c.countDocuments(), 1);
  });

  it("does not apply a retried write twice (same lsid and txnNumber)", async () => {
    const c = db.collection<AnyDoc>("retry");
    const session = r.client.startSession();
    const lsid = session.id;
    const cmd = { insert: "retry", documents: [{ n: 1 }], lsid, txnNumber: Long.fromNumber(1) };
    const a = await db.command(cmd);
    const b = await db.command({ ...cmd, documents: [{ n: 1 }] });
    assert.equal(a.n, 1);
    assert.equal(b.n, 1);
    assert.equal(await c.countDocuments(), 1);
    await session.endSession();
  });

  it("answers hello as a replica-set primary and serves monitoring commands", async () => {
    const admin = r.client.db("admin");
    const h = await admin.command({ hello: 1 });
    assert.equal(h.isWritablePrimary, true);
    assert.equal(h.setName, "liaison");
    assert.equal(h.maxBsonObjectSize, 16777216);
    assert.ok(h.lastWrite);
    const st = await admin.command({ serverStatus: 1 });
    assert.ok(st.connections.current >= 1);
    assert.ok(st.opcounters.insert > 0);
    for (const cmd of ["buildInfo", "hostInfo", "getCmdLineOpts", "listCommands", "connectionStatus", "whatsmyuri"]) {
      assert.equal((await admin.command({ [cmd]: 1 })).ok, 1, cmd);
    }
    assert.equal((await admin.command({ getLog: "global" })).ok, 1);
    assert.equal((await admin.command({ getParameter: 1, featureCompatibilityVersion: 1 })).featureCompatibilityVersion.version, "7.0");
  });
});
