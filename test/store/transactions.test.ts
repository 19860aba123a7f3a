import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Long, MongoServerError, type Db } from "mongodb";
import { rawCommand } from "./helpers.ts";
import { run, type Running } from "./helpers.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

describe("embedded store: multi-document transactions", () => {
  let r: Running;
  let db: Db;
  before(async () => {
    r = await run();
    db = r.client.db("txn");
    await db.collection("a").insertOne({ _id: 1, v: 0 } as AnyDoc);
    await db.collection("b").insertOne({ _id: 1, v: 0 } as AnyDoc);
  });
  after(async () => r.stop());

  it("commits writes to several collections atomically and hides them until commit", async () => {
    const s = r.client.startSession();
    s.startTransaction();
    await db.collection("a").insertOne({ _id: 2, v: 1 } as AnyDoc, { session: s });
    await db.collection("b").updateOne({ _id: 1 } as AnyDoc, { $inc: { v: 1 } }, { session: s });
    assert.equal(await db.collection("a").countDocuments({ _id: 2 } as AnyDoc), 0, "invisible outside");
    assert.equal(await db.collection("a").countDocuments({ _id: 2 } as AnyDoc, { session: s }), 1, "visible inside");
    await s.commitTransaction();
    await s.endSession();
    assert.equal(await db.collection("a").countDocuments({ _id: 2 } as AnyDoc), 1);
    assert.equal((await db.collection("b").findOne({ _id: 1 } as AnyDoc))?.v, 1);
  });

  it("discards everything on abort", async () => {
    const s = r.client.startSession();
    s.startTransaction();
    await db.collection("a").insertOne({ _id: 3 } as AnyDoc, { session: s });
    await db.collection("a").deleteOne({ _id: 1 } as AnyDoc, { session: s });
    await s.abortTransaction();
    await s.endSession();
    assert.equal(await db.collection("a").countDocuments({ _id: 3 } as AnyDoc), 0);
    assert.equal(await db.collection("a").countDocuments({ _id: 1 } as AnyDoc), 1);
  });

  it("reads from a snapshot: writes committed after the transaction started are not seen", async () => {
    const s = r.client.startSession();
    s.startTransaction();
    const first = await db.collection("b").findOne({ _id: 1 } as AnyDoc, { session: s });
    await db.collection("b").updateOne({ _id: 1 } as AnyDoc, { $set: { other: true } });
    const again = await db.collection("b").findOne({ _id: 1 } as AnyDoc, { session: s });
    assert.deepEqual(again, first);
    await s.abortTransaction();
    await s.endSession();
  });

  it("gives WriteConflict with TransientTransactionError to the second writer of a document", async () => {
    const s1 = r.client.startSession();
    const s2 = r.client.startSession();
    s1.startTransaction();
    s2.startTransaction();
    await db.collection("a").updateOne({ _id: 1 } as AnyDoc, { $set: { by: 1 } }, { session: s1 });
    await assert.rejects(db.collection("a").updateOne({ _id: 1 } as AnyDoc, { $set: { by: 2 } }, { session: s2 }), (e: MongoServerError) => {
      assert.equal(e.code, 112);
      assert.equal(e.codeName, "WriteConflict");
      assert.ok(e.hasErrorLabel("TransientTransactionError"));
      return true;
    });
    await s1.commitTransaction();
    await assert.rejects(s2.commitTransaction(), (e: MongoServerError) => e.code === 251);
    await s1.endSession();
    await s2.endSession();
    assert.equal((await db.collection("a").findOne({ _id: 1 } as AnyDoc))?.by, 1);
  });

  it("lets withTransaction retry after a conflict until it commits", async () => {
    const c = db.collection("counter");
    await c.insertOne({ _id: "n", v: 0 } as AnyDoc);
    const worker = async (): Promise<void> => {
      const s = r.client.startSession();
      try {
        for (let i = 0; i < 5; i++) {
          await s.withTransaction(async () => {
            const d = await c.findOne({ _id: "n" } as AnyDoc, { session: s });
            await new Promise((res) => setTimeout(res, 2));
            await c.updateOne({ _id: "n" } as AnyDoc, { $set: { v: (d?.v as number) + 1 } }, { session: s });
          });
        }
      } finally {
        await s.endSession();
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    assert.equal((await c.findOne({ _id: "n" } as AnyDoc))?.v, 15, "no lost update");
  });

  it("answers a retried commit with success and refuses new work on a committed transaction", async () => {
    const s = r.client.startSession();
    s.startTransaction();
    await db.collection("a").insertOne({ _id: 50 } as AnyDoc, { session: s });
    await s.commitTransaction();
    await s.commitTransaction(); // the driver re-sends commitTransaction for the same txnNumber
    const lsid = s.id;
    const txnNumber = Long.fromNumber((s as AnyDoc).serverSession.txnNumber);
    await s.endSession();
    // Replay the committed transaction number on the raw session id: new work is refused with 256.
    const raw = await rawCommand(r.store.port, { find: "a", $db: "txn", lsid, txnNumber, autocommit: false });
    assert.equal(raw.ok, 0);
    assert.equal(raw.code, 256);
    assert.equal(raw.codeName, "TransactionCommitted");
    assert.equal(await db.collection("a").countDocuments({ _id: 50 } as AnyDoc), 1);
  });

  it("reports NoSuchTransaction with TransientTransactionError for an unknown transaction", async () => {
    const s = r.client.startSession();
    await assert.rejects(
      db.command({ find: "a", lsid: s.id, txnNumber: 99, autocommit: false }),
      (e: MongoServerError) => e.code === 251 && e.hasErrorLabel("TransientTransactionError"),
    );
    await s.endSession();
  });

  it("aborts the transaction on a duplicate key inside it", async () => {
    const s = r.client.startSession();
    s.startTransaction();
    await assert.rejects(db.collection("a").insertOne({ _id: 1 } as AnyDoc, { session: s }), (e: MongoServerError) => e.code === 11000);
    await assert.rejects(s.commitTransaction(), (e: MongoServerError) => e.code === 251);
    await s.endSession();
  });
});
