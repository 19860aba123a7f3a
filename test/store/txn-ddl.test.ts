/**
 * DDL inside a transaction (create, createIndexes, implicit creation by a write) takes effect at
 * commit, atomically with the transaction's writes and durably; abort leaves no trace.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MongoServerError, type MongoClient } from "mongodb";
import { run, tempDir } from "./helpers.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

async function names(client: MongoClient, db: string): Promise<string[]> {
  return (await client.db(db).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
}

describe("embedded store: DDL inside transactions", () => {
  it("create + createIndex + insert appear together at commit, survive a restart, and vanish on abort", async () => {
    const dir = tempDir();
    let r = await run(dir);
    try {
      const db = r.client.db("ddl");
      const s = r.client.startSession();
      s.startTransaction();
      await db.createCollection("made", { session: s });
      await db.collection("made").createIndex({ k: 1 }, { unique: true, name: "k_1", session: s });
      await db.collection("made").insertOne({ _id: 1, k: 1 } as AnyDoc, { session: s });
      await db.collection("implicit").insertOne({ _id: 1 } as AnyDoc, { session: s });
      await assert.rejects(db.collection("made").insertOne({ _id: 2, k: 1 } as AnyDoc, { session: s }), (e: unknown) => e instanceof MongoServerError && e.code === 11000);
      await s.abortTransaction();
      assert.deepEqual(await names(r.client, "ddl"), [], "an aborted transaction's DDL leaves nothing");

      s.startTransaction();
      await db.createCollection("made", { session: s });
      await db.collection("made").createIndex({ k: 1 }, { unique: true, name: "k_1", session: s });
      await db.collection("made").insertOne({ _id: 1, k: 1 } as AnyDoc, { session: s });
      await db.collection("implicit").insertOne({ _id: 1 } as AnyDoc, { session: s });
      assert.deepEqual(await db.collection("made").find({ k: 1 } as AnyDoc, { session: s }).toArray(), [{ _id: 1, k: 1 }], "visible inside");
      assert.deepEqual(await names(r.client, "ddl"), [], "invisible outside before commit");
      await s.commitTransaction();
      await s.endSession();
      assert.deepEqual(await names(r.client, "ddl"), ["implicit", "made"]);
      await r.stop(false);
      r = await run(dir);
      const after = r.client.db("ddl");
      assert.deepEqual(await names(r.client, "ddl"), ["implicit", "made"]);
      assert.deepEqual((await after.collection("made").listIndexes().toArray()).map((i) => i.name), ["_id_", "k_1"]);
      await assert.rejects(after.collection("made").insertOne({ _id: 2, k: 1 } as AnyDoc), (e: unknown) => e instanceof MongoServerError && e.code === 11000);
      assert.equal(await after.collection("implicit").countDocuments({}), 1);
    } finally {
      await r.stop();
    }
  });

  it("two transactions creating one collection: the second to commit gets a write conflict; indexes on existing collections are refused", async () => {
    const r = await run();
    try {
      const db = r.client.db("ddl2");
      const s1 = r.client.startSession();
      const s2 = r.client.startSession();
      s1.startTransaction();
      s2.startTransaction();
      await db.createCollection("same", { session: s1 });
      await db.createCollection("same", { session: s2 });
      await s1.commitTransaction();
      await assert.rejects(s2.commitTransaction(), (e: unknown) => e instanceof MongoServerError && (e.code === 112 || e.code === 251));
      await s1.endSession();
      await s2.endSession();
      const s3 = r.client.startSession();
      s3.startTransaction();
      await assert.rejects(db.collection("same").createIndex({ x: 1 }, { session: s3 }), (e: unknown) => e instanceof MongoServerError && e.code === 263);
      await s3.abortTransaction().catch(() => undefined);
      await s3.endSession();
      assert.deepEqual((await db.collection("same").listIndexes().toArray()).map((i) => i.name), ["_id_"]);
    } finally {
      await r.stop();
    }
  });
});
