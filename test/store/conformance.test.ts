/**
 * Store behaviours the driver specifications' suites (spec.test.ts) rely on, each checked directly:
 * upsert seeding, topologyVersion on NotPrimary errors, snapshot reads, collMod index changes
 * across a restart, Stable API strictness, tailable cursors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Long, MongoClient, MongoServerError, Timestamp, type Document } from "mongodb";
import { rawCommand, run, tempDir, type Running } from "./helpers.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

/** Run `body` against a fresh store, closing it (and removing its files) whatever happens. */
async function withStore(body: (r: Running) => Promise<void>): Promise<void> {
  const r = await run();
  try {
    await body(r);
  } finally {
    await r.stop();
  }
}

describe("embedded store: driver-spec conformance", () => {
  it("an upsert applies $inc to the value seeded from the filter, keeping its BSON type", () =>
    withStore(async (r) => {
      const c = r.client.db("d").collection<AnyDoc>("c");
      await c.updateOne({ _id: 1, x: 44 }, { $inc: { x: 1 } }, { upsert: true });
      await c.updateOne({ _id: 2, n: Long.fromNumber(10) }, { $inc: { n: 1 } }, { upsert: true });
      await c.findOneAndUpdate({ _id: 3, x: 33 }, { $inc: { x: 1 } }, { upsert: true });
      assert.equal((await c.findOne({ _id: 1 }))?.x, 45);
      const two = await c.findOne({ _id: 2 }, { promoteLongs: false });
      assert.ok(Long.isLong(two?.n) && two.n.toNumber() === 11, "a Long stays a Long");
      assert.equal((await c.findOne({ _id: 3 }))?.x, 34);
    }));

  it("a NotPrimary error carries the server's topologyVersion; other errors do not", () =>
    withStore(async (r) => {
      const admin = r.client.db("admin");
      await admin.command({ configureFailPoint: "failCommand", mode: { times: 1 }, data: { failCommands: ["find"], errorCode: 10107 } });
      const hello = await rawCommand(r.store.port, { hello: 1, $db: "admin" });
      const err = await rawCommand(r.store.port, { find: "c", $db: "d" });
      assert.equal(err.code, 10107);
      assert.deepEqual(err.topologyVersion, hello.topologyVersion);
      await admin.command({ configureFailPoint: "failCommand", mode: { times: 1 }, data: { failCommands: ["find"], errorCode: 2 } });
      assert.equal((await rawCommand(r.store.port, { find: "c", $db: "d" })).topologyVersion, undefined);
    }));

  it("snapshot reads outside a transaction read at the time the first one names", () =>
    withStore(async (r) => {
      const db = r.client.db("d");
      const c = db.collection<AnyDoc>("c");
      await c.insertMany([{ _id: 1, x: 1 }, { _id: 2, x: 2 }]);
      const first = await db.command({ find: "c", filter: {}, readConcern: { level: "snapshot" } });
      const at = first.cursor.atClusterTime as Timestamp;
      assert.ok(at instanceof Timestamp, "the reply names its atClusterTime");
      await c.updateOne({ _id: 1 }, { $set: { x: 100 } });
      await c.deleteOne({ _id: 2 });
      const again = await db.command({ find: "c", filter: {}, readConcern: { level: "snapshot", atClusterTime: at } });
      assert.deepEqual(again.cursor.firstBatch, [{ _id: 1, x: 1 }, { _id: 2, x: 2 }]);
      const distinct = await db.command({ distinct: "c", key: "x", readConcern: { level: "snapshot", atClusterTime: at } });
      assert.deepEqual(distinct.values, [1, 2]);
      assert.deepEqual((await c.find().toArray()).map((d) => d.x), [100]);
      // History from before any snapshot read started is not kept.
      const old = new Timestamp({ t: at.t - 100, i: 1 });
      await assert.rejects(db.command({ find: "c", readConcern: { level: "snapshot", atClusterTime: old } }), (e: MongoServerError) => e.code === 239);
      await assert.rejects(db.command({ insert: "c", documents: [{}], readConcern: { level: "snapshot" } }), (e: MongoServerError) => e.code === 72);
    }));

  it("collMod prepareUnique, then unique: duplicates listed as violations; the change survives a restart", async () => {
    const dbpath = tempDir();
    let r = await run(dbpath);
    try {
      const db = r.client.db("d");
      const c = db.collection<AnyDoc>("c");
      await c.insertMany([{ _id: 1, x: 1 }, { _id: 2, x: 1 }, { _id: 3, x: 2 }]);
      await c.createIndex({ x: 1 });
      const mod = await db.command({ collMod: "c", index: { keyPattern: { x: 1 }, prepareUnique: true } });
      assert.deepEqual([mod.prepareUnique_old, mod.prepareUnique_new], [false, true]);
      await assert.rejects(c.insertOne({ _id: 4, x: 2 }), (e: MongoServerError) => e.code === 11000);
      await assert.rejects(db.command({ collMod: "c", index: { keyPattern: { x: 1 }, unique: true } }), (e: MongoServerError) => {
        assert.equal(e.code, 359);
        assert.deepEqual((e.errorResponse as Document).violations, [{ ids: [1, 2] }]);
        return true;
      });
      await r.stop(false);
      r = await run(dbpath);
      const c2 = r.client.db("d").collection<AnyDoc>("c");
      assert.equal((await c2.listIndexes().toArray()).find((i) => i.name === "x_1")?.prepareUnique, true);
      await assert.rejects(c2.insertOne({ _id: 4, x: 2 }), (e: MongoServerError) => e.code === 11000);
      await c2.deleteOne({ _id: 2 });
      assert.equal((await r.client.db("d").command({ collMod: "c", index: { keyPattern: { x: 1 }, unique: true } })).unique_new, true);
      assert.equal((await c2.listIndexes().toArray()).find((i) => i.name === "x_1")?.unique, true);
    } finally {
      await r.stop();
    }
  });

  it("apiStrict refuses commands and stages outside Stable API Version 1", () =>
    withStore(async (r) => {
      const strict = new MongoClient(r.store.uri, { serverApi: { version: "1", strict: true } });
      try {
        const c = strict.db("d").collection<AnyDoc>("c");
        await c.insertOne({ x: 1 });
        assert.equal((await c.find().toArray()).length, 1);
        await assert.rejects(c.distinct("x"), (e: MongoServerError) => e.codeName === "APIStrictError" && /distinct is not in API Version 1/.test(e.message));
        await assert.rejects(strict.db("admin").aggregate([{ $listLocalSessions: {} }]).toArray(), (e: MongoServerError) => e.codeName === "APIStrictError");
      } finally {
        await strict.close();
      }
      await assert.rejects(r.client.db("d").command({ ping: 1, apiVersion: "2" }), (e: MongoServerError) => e.codeName === "APIVersionError");
    }));

  it("a tailable cursor on a capped collection stays open and returns what is appended", () =>
    withStore(async (r) => {
      const db = r.client.db("d");
      await db.createCollection("capped", { capped: true, size: 4096 });
      await db.createCollection("plain");
      await db.collection<AnyDoc>("capped").insertMany([{ _id: 1 }, { _id: 2 }]);
      const first = await db.command({ find: "capped", tailable: true, batchSize: 5 });
      assert.equal(first.cursor.firstBatch.length, 2);
      const id = Long.fromValue(first.cursor.id as number | Long);
      assert.ok(!id.isZero(), "the cursor stays open at the end");
      assert.deepEqual((await db.command({ getMore: id, collection: "capped" })).cursor.nextBatch, []);
      await db.collection<AnyDoc>("capped").insertOne({ _id: 3 });
      assert.deepEqual((await db.command({ getMore: id, collection: "capped" })).cursor.nextBatch, [{ _id: 3 }]);
      await db.command({ killCursors: "capped", cursors: [id] });
      await assert.rejects(db.command({ find: "plain", tailable: true }), (e: MongoServerError) => e.code === 2);
    }));
});
