import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Binary, type Db, MongoClient } from "mongodb";
import { LiaisonError } from "../../errors/index.ts";
import { openTestStore, type TestStore } from "../../../test/support/test-store.ts";
import {
  COLLECTIONS,
  ed25519NoteVerifier,
  cosignatureV1Verifier,
  hashLeaf,
  LedgerSequencer,
  openCheckpoint,
  readConsistencyProof,
  readCosignedCheckpoint,
  readEntry,
  readInclusionProof,
  readRootAt,
  readTreeHead,
  recordCosignature,
  rootFromLeafHashes,
  signTreeHead,
  verifyConsistency,
  verifyInclusion,
  verifyLedger,
  witnessCheckpoint,
} from "../index.ts";

let testStore: TestStore | undefined;
let client: MongoClient;

before(async () => {
  testStore = await openTestStore("liaison-ledger-");
  client = await new MongoClient(testStore.uri).connect();
});

after(async () => {
  await client?.close();
  await testStore?.close();
});

function freshDb(): Db {
  return client.db(`ledger_test_${randomUUID().slice(0, 8)}`);
}

const entry = (i: number) => Buffer.from(`envelope bytes #${i}`);
const code = (c: string) => (e: unknown) => e instanceof LiaisonError && e.code === c;

describe("batched sequencer", () => {
  it("gives concurrent appends consecutive durable indices and stores the matching tree", async () => {
    const db = freshDb();
    const seq = await LedgerSequencer.start({ client, db, maxBatch: 16 });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => seq.append("envelope.sent", entry(i))));
    assert.deepEqual(results.map((r) => r.index), Array.from({ length: 100 }, (_, i) => i));
    const head = await readTreeHead(db);
    assert.equal(head.size, 100);
    const want = rootFromLeafHashes(Array.from({ length: 100 }, (_, i) => hashLeaf(entry(i))));
    assert.deepEqual(Buffer.from(head.root), Buffer.from(want));
    const e = await readEntry(db, 42);
    assert.equal(e?.kind, "envelope.sent");
    assert.deepEqual(Buffer.from(e!.bytes), entry(42));
    assert.ok((await db.collection(COLLECTIONS.leases).findOne({}))!.batches >= 7, "100 entries in batches of at most 16");
    await seq.close();
  });

  it("takes an append made right after the previous one resolved (no loop left waiting)", async () => {
    const db = freshDb();
    const seq = await LedgerSequencer.start({ client, db });
    for (let i = 0; i < 20; i++) {
      // Appending from the continuation of the previous append, before the loop has wound down.
      const { index } = await seq.append("envelope.sent", entry(i)).then(() => seq.append("envelope.sent", entry(100 + i)));
      assert.equal(index, 2 * i + 1);
    }
    await seq.close();
  });

  it("serves inclusion and consistency proofs from stored nodes that verify against stored roots", async () => {
    const db = freshDb();
    const seq = await LedgerSequencer.start({ client, db, maxBatch: 7 });
    await Promise.all(Array.from({ length: 77 }, (_, i) => seq.append("k", entry(i))));
    const head = await readTreeHead(db);
    for (const index of [0, 1, 31, 63, 64, 76]) {
      const p = await readInclusionProof(db, index);
      verifyInclusion(index, head.size, hashLeaf(entry(index)), p.proof, head.root);
      const p50 = index < 50 ? await readInclusionProof(db, index, 50) : undefined;
      if (p50) verifyInclusion(index, 50, hashLeaf(entry(index)), p50.proof, await readRootAt(db, 50));
    }
    for (const m of [1, 2, 5, 32, 50, 76, 77]) {
      verifyConsistency(m, head.size, await readConsistencyProof(db, m), await readRootAt(db, m), head.root);
    }
    await assert.rejects(readInclusionProof(db, 77), code("INVALID_ARGUMENT"));
    await assert.rejects(readConsistencyProof(db, 3, 78), code("INVALID_ARGUMENT"));
    await seq.close();
  });

  it("continues from the stored frontier after a restart", async () => {
    const db = freshDb();
    const a = await LedgerSequencer.start({ client, db });
    await Promise.all([0, 1, 2, 3, 4].map((i) => a.append("k", entry(i))));
    await a.close();
    const b = await LedgerSequencer.start({ client, db });
    assert.equal(b.size, 5);
    assert.equal((await b.append("k", entry(5))).index, 5);
    assert.deepEqual(Buffer.from((await readTreeHead(db)).root), Buffer.from(rootFromLeafHashes([0, 1, 2, 3, 4, 5].map((i) => hashLeaf(entry(i))))));
    await b.close();
  });

  it("refuses a second sequencer while the lease is held, lets it take over after expiry, and stops the old holder from appending", async () => {
    const db = freshDb();
    let now = 1_000_000;
    const clock = () => now;
    const a = await LedgerSequencer.start({ client, db, owner: "A", leaseTtlMs: 1000, now: clock, autoRenew: false });
    await a.append("k", entry(0));
    now += 500;
    await assert.rejects(LedgerSequencer.start({ client, db, owner: "B", leaseTtlMs: 1000, now: clock, autoRenew: false }), code("UNAVAILABLE"));
    now += 1000; // A's lease expired at 1_001_000
    const b = await LedgerSequencer.start({ client, db, owner: "B", leaseTtlMs: 1000, now: clock, autoRenew: false });
    await assert.rejects(a.append("k", entry(99)), code("UNAVAILABLE"));
    assert.equal(await a.renew(), false);
    assert.equal((await b.append("k", entry(1))).index, 1);
    assert.equal(await db.collection(COLLECTIONS.entries).countDocuments(), 2, "the old holder wrote nothing");
    await a.close();
    await b.close();
  });

  it("rejects a batch and writes nothing when a stored node would be overwritten", async () => {
    const db = freshDb();
    const seq = await LedgerSequencer.start({ client, db });
    await seq.append("k", entry(0));
    // Someone planted node (1,0): the batch that would create it must fail as a whole.
    await db.collection(COLLECTIONS.nodes).insertOne({ _id: "1/0" as never, level: 1, index: 0, hash: new Binary(Buffer.alloc(32)) });
    await assert.rejects(seq.append("k", entry(1)));
    assert.equal(await db.collection(COLLECTIONS.entries).countDocuments(), 1);
    assert.equal((await readTreeHead(db)).size, 1);
    await seq.close();
  });

  it("integrates entries written before the sequencer (interim node ledger) into the tree on start", async () => {
    const db = freshDb();
    await db.collection(COLLECTIONS.entries).insertMany(
      [0, 1, 2].map((i) => ({ _id: i as never, kind: "k", bytes: new Binary(entry(i)), appendedAt: new Date() })),
    );
    const seq = await LedgerSequencer.start({ client, db, maxBatch: 2 });
    assert.equal(seq.size, 3);
    assert.equal((await seq.append("k", entry(3))).index, 3);
    const head = await readTreeHead(db);
    assert.deepEqual(Buffer.from(head.root), Buffer.from(rootFromLeafHashes([0, 1, 2, 3].map((i) => hashLeaf(entry(i))))));
    verifyInclusion(1, 4, hashLeaf(entry(1)), (await readInclusionProof(db, 1)).proof, head.root);
    await seq.close();
    assert.equal((await verifyLedger(db)).ok, true);
  });

  it("refuses our own misuse with TypeError", async () => {
    const db = freshDb();
    const seq = await LedgerSequencer.start({ client, db });
    assert.throws(() => seq.append("", entry(0)), TypeError);
    assert.throws(() => seq.append("k", "text" as unknown as Uint8Array), TypeError);
    await seq.close();
    await assert.rejects(seq.append("k", entry(0)), code("UNAVAILABLE"));
  });
});

describe("checkpoints, witnessing and verification", () => {
  const origin = "liaison.example/VN-MPS";
  const logKey = generateKeyPairSync("ed25519").privateKey;
  const witnessKey = generateKeyPairSync("ed25519").privateKey;

  it("signs checkpoints a partner verifies, cosigns after a consistency proof, and serves the cosigned note", async () => {
    const db = freshDb();
    const seq = await LedgerSequencer.start({ client, db });
    await Promise.all(Array.from({ length: 10 }, (_, i) => seq.append("k", entry(i))));
    const cp10 = await signTreeHead(db, { origin, privateKey: logKey }, Date.now());
    await Promise.all(Array.from({ length: 7 }, (_, i) => seq.append("k", entry(10 + i))));
    const cp17 = await signTreeHead(db, { origin, privateKey: logKey }, Date.now());
    assert.equal(cp17.size, 17);

    const logVerifier = ed25519NoteVerifier(origin, logKey);
    const opened = openCheckpoint(cp17.note, origin, [logVerifier]);
    assert.deepEqual(Buffer.from(opened.checkpoint.rootHash), Buffer.from((await readTreeHead(db)).root));

    const w = witnessCheckpoint({
      note: cp17.note, origin, logVerifier, previous: { size: cp10.size, root: cp10.root },
      proof: await readConsistencyProof(db, 10, 17), cosignerName: "liaison.example/CN-MPS", cosignerKey: witnessKey, timestamp: 1_750_000_000,
    });
    const wv = cosignatureV1Verifier("liaison.example/CN-MPS", witnessKey);
    await recordCosignature(db, 17, w.cosignature, wv, Date.now());
    const cosigned = await readCosignedCheckpoint(db, 17);
    assert.ok(cosigned);
    openCheckpoint(cosigned, origin, [logVerifier, wv]);
    assert.equal(openCheckpoint(cosigned, origin, [wv]).note.verified[0].name, "liaison.example/CN-MPS");
    await assert.rejects(recordCosignature(db, 10, w.cosignature, wv, Date.now()), code("SIGNATURE_INVALID"));
    await seq.close();
  });

  it("witness refuses a forked checkpoint: same origin, rewritten history", async () => {
    const honest = freshDb();
    const forked = freshDb();
    const s1 = await LedgerSequencer.start({ client, db: honest });
    const s2 = await LedgerSequencer.start({ client, db: forked });
    for (let i = 0; i < 9; i++) {
      await s1.append("k", entry(i));
      await s2.append("k", i === 3 ? Buffer.from("rewritten") : entry(i));
    }
    const old = await signTreeHead(honest, { origin, privateKey: logKey }, 0);
    await s1.append("k", entry(9));
    await s2.append("k", entry(9));
    const forkCp = await signTreeHead(forked, { origin, privateKey: logKey }, 0);
    assert.throws(
      () => witnessCheckpoint({
        note: forkCp.note, origin, logVerifier: ed25519NoteVerifier(origin, logKey), previous: { size: old.size, root: old.root },
        proof: [] as Uint8Array[], cosignerName: "w.example", cosignerKey: witnessKey, timestamp: 1,
      }),
      code("PROOF_INCONSISTENT"),
    );
    await assert.rejects(
      (async () => witnessCheckpoint({
        note: forkCp.note, origin, logVerifier: ed25519NoteVerifier(origin, logKey), previous: { size: old.size, root: old.root },
        proof: await readConsistencyProof(forked, 9, 10), cosignerName: "w.example", cosignerKey: witnessKey, timestamp: 1,
      }))(),
      code("PROOF_INCONSISTENT"),
    );
    await s1.close();
    await s2.close();
  });

  it("refuses to sign a head that is inconsistent with the last signed checkpoint", async () => {
    const db = freshDb();
    const seq = await LedgerSequencer.start({ client, db });
    await Promise.all(Array.from({ length: 5 }, (_, i) => seq.append("k", entry(i))));
    await signTreeHead(db, { origin, privateKey: logKey }, 0);
    await seq.append("k", entry(5));
    await seq.close();
    await db.collection(COLLECTIONS.checkpoints).updateOne({ _id: "head" as never }, { $set: { root: new Binary(Buffer.alloc(32, 7)) } });
    await assert.rejects(signTreeHead(db, { origin, privateKey: logKey }, 0), code("LEDGER_CORRUPT"));
  });

  it("verifyLedger passes an honest ledger and names the first rewritten entry", async () => {
    const db = freshDb();
    const seq = await LedgerSequencer.start({ client, db, maxBatch: 5 });
    await Promise.all(Array.from({ length: 23 }, (_, i) => seq.append("k", entry(i))));
    await signTreeHead(db, { origin, privateKey: logKey }, 0);
    await seq.close();
    const ok = await verifyLedger(db, 8);
    assert.equal(ok.ok, true);
    assert.equal(ok.entries, 23);
    assert.equal(ok.checkpoints, 1);
    await db.collection(COLLECTIONS.entries).updateOne({ _id: 11 as never }, { $set: { bytes: new Binary(Buffer.from("rewritten")) } });
    const bad = await verifyLedger(db, 8);
    assert.equal(bad.ok, false);
    assert.equal(bad.problem?.index, 11);
  });
});
