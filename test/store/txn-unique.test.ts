/**
 * Unique indexes inside a transaction: checked against the transaction's own pending keys (an
 * index of them, not a scan of every earlier write), so a ledger batch in one transaction costs
 * about what it costs outside one; and the checks stay right when the transaction moves keys.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MongoServerError, type ClientSession, type Db } from "mongodb";
import { run, type Running } from "./helpers.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

describe("embedded store: unique indexes inside transactions", () => {
  let r: Running;
  let db: Db;
  before(async () => {
    r = await run();
    db = r.client.db("txnu");
  });
  after(async () => r.stop());

  async function inTxn(fn: (s: ClientSession) => Promise<void>): Promise<void> {
    const s = r.client.startSession();
    try {
      s.startTransaction();
      await fn(s);
      await s.commitTransaction();
    } finally {
      await s.endSession();
    }
  }

  it("a duplicate of the transaction's own write is E11000; moved and deleted keys are free again", async () => {
    const c = db.collection<AnyDoc>("u");
    await c.createIndex({ k: 1 }, { unique: true });
    await c.createIndex({ a: 1, b: 1 }, { unique: true });
    await c.insertOne({ _id: "committed", k: 0, a: 0, b: 0 });
    await inTxn(async (s) => {
      await c.insertOne({ _id: 1, k: 1, a: 1, b: 1 }, { session: s });
      await c.insertOne({ _id: 2, k: 2, a: 1, b: 2 }, { session: s });
      // Moving a key frees the old one, inside the transaction…
      await c.updateOne({ _id: 1 }, { $set: { k: 10, b: 10 } }, { session: s });
      await c.insertOne({ _id: 3, k: 1, a: 1, b: 1 }, { session: s });
      // …and so does deleting a committed document.
      await c.deleteOne({ _id: "committed" }, { session: s });
      await c.insertOne({ _id: 4, k: 0, a: 0, b: 0 }, { session: s });
    });
    assert.deepEqual((await c.find({}).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.k]), [[1, 10], [2, 2], [3, 1], [4, 0]]);
    const s = r.client.startSession();
    try {
      s.startTransaction();
      await c.insertOne({ _id: 5, k: 5, a: 5, b: 5 }, { session: s });
      await assert.rejects(c.insertOne({ _id: 6, k: 5, a: 6, b: 6 }, { session: s }), (e: unknown) => {
        assert.ok(e instanceof MongoServerError);
        assert.equal(e.code, 11000);
        assert.deepEqual(e.keyPattern, { k: 1 });
        assert.deepEqual(e.keyValue, { k: 5 });
        return true;
      });
      await s.abortTransaction().catch(() => undefined);
    } finally {
      await s.endSession();
    }
    const s2 = r.client.startSession();
    try {
      s2.startTransaction();
      await c.updateOne({ _id: 2 }, { $set: { b: 7 } }, { session: s2 });
      await assert.rejects(c.updateOne({ _id: 3 }, { $set: { b: 7 } }, { session: s2 }), (e: unknown) => e instanceof MongoServerError && e.code === 11000 && JSON.stringify(e.keyValue) === JSON.stringify({ a: 1, b: 7 }));
      await s2.abortTransaction().catch(() => undefined);
    } finally {
      await s2.endSession();
    }
    assert.equal(await c.countDocuments({ k: 5 }), 0);
  });

  it("a 1024-entry ledger batch in one transaction costs about what it costs outside one (no quadratic unique check)", async () => {
    const entries = db.collection<AnyDoc>("entries");
    const nodes = db.collection<AnyDoc>("nodes");
    await entries.createIndex({ index: 1 }, { unique: true });
    await nodes.createIndex({ level: 1, pos: 1 }, { unique: true });
    let base = 0;
    const batch = async (o: { session?: ClientSession }): Promise<void> => {
      await entries.insertMany(Array.from({ length: 1024 }, (_, i) => ({ index: base + i, leaf: "x".repeat(32) })), o);
      await nodes.insertMany(Array.from({ length: 2048 }, (_, i) => ({ level: i & 1, pos: base * 2 + i, h: "y".repeat(32) })), o);
      base += 1024;
    };
    const time = async (fn: () => Promise<void>): Promise<number> => {
      const t = performance.now();
      await fn();
      return performance.now() - t;
    };
    let plain = Infinity;
    let txn = Infinity;
    for (let round = 0; round < 3; round++) {
      plain = Math.min(plain, await time(() => batch({})));
      txn = Math.min(txn, await time(() => inTxn((session) => batch({ session }))));
    }
    // Before the pending-key index: ~1.4 s in a transaction against ~80 ms outside (×17).
    assert.ok(txn < 4 * plain + 150, `in a transaction ${txn.toFixed(0)} ms, outside ${plain.toFixed(0)} ms`);
    assert.equal(await entries.countDocuments({}), 6 * 1024);
    assert.equal(await nodes.countDocuments({ level: 1 }), 6 * 1024);
    await assert.rejects(inTxn((session) => entries.insertMany([{ index: 5000000 }, { index: 5 }], { session }).then(() => undefined)), (e: unknown) => e instanceof MongoServerError && e.code === 11000);
    assert.equal(await entries.countDocuments({ index: 5000000 }), 0);
  });
});

