/**
 * verifyLedger's reads and recomputation (verify-read.ts, verify-tree.ts): the string frontier
 * against merkle's appendLeaves node for node, and the first inconsistency named precisely on the
 * edges of its paged reads (page boundaries, short pages, documents the index order cannot place),
 * through the official driver on the embedded store (or LIAISON_MONGODB_URI).
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Binary, type Db, type Document, MongoClient } from "mongodb";
import { openTestStore, type TestStore } from "../../test/support/test-store.ts";
import { appendLeaves, emptyFrontier, frontierRoot, hashLeaf, nodeKey } from "./merkle/index.ts";
import { COLLECTIONS, ensureLedgerIndexes, type StoredEntry } from "./storage.ts";
import { verifyLedger } from "./fsck.ts";
import { nodeKeyIs } from "./verify-read.ts";
import { hashBytes, hashEquals, leafHashAt, StringFrontier } from "./verify-tree.ts";

describe("verify-tree: the string frontier", () => {
  it("produces merkle's appendLeaves nodes, in order, and the same roots", () => {
    const tree = new StringFrontier();
    let frontier = emptyFrontier();
    for (let n = 0; n < 300; n++) {
      const leaf = hashLeaf(randomBytes(n % 7));
      const want = appendLeaves(frontier, [leaf]);
      const got: string[] = [];
      tree.begin(Buffer.from(leaf).toString("latin1"));
      while (tree.up()) got.push(`${tree.level}/${tree.index}:${Buffer.from(hashBytes(tree.hash)).toString("hex")}`);
      tree.end();
      const expected = want.newNodes.filter((x) => x.level > 0).map((x) => `${nodeKey(x)}:${Buffer.from(x.hash).toString("hex")}`);
      assert.deepEqual(got, expected, `leaf ${n}`);
      frontier = want.frontier;
      assert.deepEqual(Buffer.from(frontierRoot(tree.toFrontier())), Buffer.from(want.root), `root at ${n + 1}`);
    }
  });

  it("hashes a leaf in place after a 0x00 byte and through hashLeaf otherwise", () => {
    const data = Buffer.from("entry bytes");
    for (const prefix of [0x00, 0x80, 0x02]) {
      const buf = Buffer.concat([Buffer.from([7, prefix]), data, Buffer.from([9])]);
      const leaf = leafHashAt(buf.subarray(1), 1, data.length);
      assert.deepEqual(Buffer.from(hashBytes(leaf)), Buffer.from(hashLeaf(data)), `prefix ${prefix}`);
      assert.equal(hashEquals(hashBytes(leaf), 0, 32, leaf), true);
      assert.equal(hashEquals(hashBytes(leaf), 0, 31, leaf), false);
    }
    assert.deepEqual(Buffer.from(hashBytes(leafHashAt(Buffer.from([0]), 1, 0))), Buffer.from(hashLeaf(new Uint8Array(0))), "the empty entry");
  });

  it("compares a stored node key without building it", () => {
    const str = (s: string) => {
      const b = Buffer.from(s, "utf8");
      const out = Buffer.alloc(4 + b.length + 1);
      out.writeInt32LE(b.length + 1, 0);
      b.copy(out, 4);
      return out;
    };
    assert.equal(nodeKeyIs(str("1/0"), 0, 1, 0), true);
    assert.equal(nodeKeyIs(str("12/3456"), 0, 12, 3456), true);
    for (const [s, level, index] of [["1/0", 1, 1], ["1/0", 2, 0], ["11/0", 1, 0], ["1/10", 1, 0], ["x1/0", 1, 0], ["1/0x", 1, 0], ["10", 1, 0], ["/0", 1, 0], ["1/", 1, 0]] as const) {
      assert.equal(nodeKeyIs(str(s), 0, level, index), false, `${s} vs ${level}/${index}`);
    }
  });
});

let testStore: TestStore | undefined;
let client: MongoClient;

before(async () => {
  testStore = await openTestStore("liaison-verify-");
  client = await new MongoClient(testStore.uri).connect();
});

after(async () => {
  await client?.close();
  await testStore?.close();
});

const payload = (i: number) => Buffer.from(`entry ${i} `.padEnd(40 + (i % 13), "."));
const at = new Date(1_700_000_000_000);

/** A log of the sequencer's documents (entries, perfect nodes of level >= 1, head), written in bulk. */
async function build(bytes: Buffer[]): Promise<Db> {
  const db = client.db(`verify_test_${randomUUID().slice(0, 8)}`);
  await ensureLedgerIndexes(db);
  const leaves = bytes.map((b) => hashLeaf(b));
  const res = appendLeaves(emptyFrontier(), leaves);
  if (bytes.length > 0) {
    await db.collection(COLLECTIONS.entries).insertMany(
      bytes.map((b, i) => ({ _id: i, index: i, kind: `k${i % 3}`, bytes: new Binary(b), leafHash: new Binary(leaves[i]), appendedAt: at })) as never[],
    );
  }
  const nodes = res.newNodes.filter((x) => x.level > 0);
  if (nodes.length > 0) {
    await db.collection(COLLECTIONS.nodes).insertMany(nodes.map((x) => ({ _id: nodeKey(x), level: x.level, index: x.index, hash: new Binary(x.hash) })) as never[]);
  }
  await db.collection(COLLECTIONS.checkpoints).insertOne({ _id: "head", size: bytes.length, root: new Binary(res.root), updatedAt: at } as never);
  return db;
}

/** Documents as a tamperer sees them: any _id, any field. */
type Loose = { _id: number | string } & Document;
const entriesOf = (db: Db) => db.collection<Loose>(COLLECTIONS.entries);
const nodesOf = (db: Db) => db.collection<Loose>(COLLECTIONS.nodes);

describe("verifyLedger: paged reads", () => {
  const N = 45; // levels 1..5; with pages of 8, entries 0..7, 8..15, …

  /** The first problem verifyLedger names in a log of N entries after `tamper`. */
  async function firstProblem(tamper: (db: Db) => Promise<unknown>, pageSize: number): Promise<string | undefined> {
    const db = await build(Array.from({ length: N }, (_, i) => payload(i)));
    await tamper(db);
    return (await verifyLedger(db, pageSize)).problem?.message;
  }

  it("passes an honest log at any page size and counts every perfect node", async () => {
    const db = await build(Array.from({ length: N }, (_, i) => payload(i)));
    for (const pageSize of [1, 2, 3, 8, 44, 45, 46, 1000]) {
      const r = await verifyLedger(db, pageSize);
      assert.equal(r.ok, true, `${pageSize}: ${r.problem?.message}`);
      assert.equal(r.entries, N);
      assert.equal(r.nodes, N - 4, "45 = 101101b: n - popcount(n) perfect nodes of level >= 1");
    }
    const empty = await verifyLedger(await build([]));
    assert.deepEqual([empty.ok, empty.entries, empty.nodes], [true, 0, 0]);
  });

  it("hands checkEntry what is stored", async () => {
    const db = await build(Array.from({ length: 10 }, (_, i) => payload(i)));
    const seen: StoredEntry[] = [];
    const r = await verifyLedger(db, {
      pageSize: 4,
      checkEntry: (e) => {
        seen.push({ ...e, bytes: Buffer.from(e.bytes), leafHash: Buffer.from(e.leafHash) });
        return e.index === 7 ? "label k1 is not the kind inside the bytes" : undefined;
      },
    });
    assert.equal(r.problem?.message, "entry 7: label k1 is not the kind inside the bytes");
    assert.equal(r.problem?.index, 7);
    assert.equal(seen.length, 8);
    assert.deepEqual(
      seen[5],
      { index: 5, kind: "k2", bytes: payload(5), leafHash: Buffer.from(hashLeaf(payload(5))), appendedAt: at },
    );
  });

  it("names a gap at a page boundary, in a page, and at the end", async () => {
    for (const [gone, message] of [
      [[8], "entry 8 is missing (the next stored entry is 9)"],
      [[7, 8, 9, 10], "entry 7 is missing (the next stored entry is 11)"],
      [[0], "entry 0 is missing (the next stored entry is 1)"],
      [[40, 41, 42, 43, 44], `entry 40 is missing (no entry is stored from 40 on; the tree head says ${N})`],
    ] as const) {
      const db = await build(Array.from({ length: N }, (_, i) => payload(i)));
      await entriesOf(db).deleteMany({ _id: { $in: [...gone] } });
      const r = await verifyLedger(db, 8);
      assert.equal(r.ok, false);
      assert.equal(r.problem?.message, message);
      assert.equal(r.problem?.index, gone[0]);
      assert.equal(r.entries, gone[0]);
    }
  });

  it("names entries out of order, under another _id, without bytes, or changed", async () => {
    const cases: [string, (db: Db) => Promise<unknown>, string][] = [
      ["an index between two", (db) => entriesOf(db).updateOne({ _id: 17 }, { $set: { index: 16.5 } }), "entry 17 is stored out of order or twice (found index 16.5)"],
      [
        "a second entry 16 (the unique index dropped)",
        async (db) => {
          await entriesOf(db).dropIndex("index_unique");
          await entriesOf(db).updateOne({ _id: 17 }, { $set: { index: 16 } });
        },
        "entry 17 is stored out of order or twice (found index 16)",
      ],
      ["an index below every number", (db) => entriesOf(db).updateOne({ _id: 30 }, { $unset: { index: "" } }), "entry 0 is stored out of order or twice (found index undefined)"],
      ["a negative index", (db) => entriesOf(db).updateOne({ _id: 30 }, { $set: { index: -1 } }), "entry 0 is stored out of order or twice (found index -1)"],
      [
        "another _id",
        async (db) => {
          const d = (await entriesOf(db).findOne({ _id: 12 }))!;
          await entriesOf(db).deleteOne({ _id: 12 });
          await entriesOf(db).insertOne({ ...d, _id: "e12" });
        },
        "entry 12 is stored under _id e12",
      ],
      ["no bytes", (db) => entriesOf(db).updateOne({ _id: 9 }, { $set: { bytes: "text" } }), "entry 9 has no bytes"],
      ["a changed byte", (db) => entriesOf(db).updateOne({ _id: 23 }, { $set: { bytes: new Binary(Buffer.from("changed")) } }), "entry 23: its bytes do not hash to its stored leaf hash (the entry was changed after it was appended)"],
    ];
    for (const [what, tamper, message] of cases) assert.equal(await firstProblem(tamper, 8), message, what);
  });

  it("hashes bytes of any binary subtype as the entry", async () => {
    const db = await build(Array.from({ length: 12 }, (_, i) => payload(i)));
    await entriesOf(db).updateOne({ _id: 3 }, { $set: { bytes: new Binary(payload(3), 0x80) } });
    const r = await verifyLedger(db, 5);
    assert.equal(r.ok, true, r.problem?.message);
  });

  it("names what lies beyond the tree or outside the index order", async () => {
    const cases: [string, (db: Db) => Promise<unknown>, string][] = [
      ["an entry beyond the head", (db) => entriesOf(db).insertOne({ _id: N, index: N, kind: "k", bytes: new Binary(payload(N)), leafHash: new Binary(hashLeaf(payload(N))), appendedAt: at }), `entry ${N} is stored beyond the tree head (${N} entries)`],
      ["a string index", (db) => entriesOf(db).insertOne({ _id: "x", index: "x", kind: "k", bytes: new Binary(payload(1)), leafHash: new Binary(hashLeaf(payload(1))), appendedAt: at }), `ledger_entries holds ${N + 1} documents, the tree head says ${N} entries: 1 are not entries of the log (their index is not a number)`],
      ["a node beyond the tree", (db) => nodesOf(db).insertOne({ _id: "1/22", level: 1, index: 22, hash: new Binary(Buffer.alloc(32)) }), `tree node 1/22 is stored but is not part of the tree of ${N} entries`],
      ["a node of a level the tree lacks", (db) => nodesOf(db).insertOne({ _id: "9/0", level: 9, index: 0, hash: new Binary(Buffer.alloc(32)) }), `ledger_nodes holds ${N - 4 + 1} nodes, the tree of ${N} entries has ${N - 4}: 1 are not part of it`],
    ];
    for (const [what, tamper, message] of cases) assert.equal(await firstProblem(tamper, 8), message, what);
  });

  it("names a node missing, rewritten, or stored under another _id", async () => {
    const cases: [string, (db: Db) => Promise<unknown>, RegExp][] = [
      ["missing at a page boundary of its level", (db) => nodesOf(db).deleteOne({ _id: "1/8" }), /^tree node 1\/8 \(entries 16\.\.17\) is missing from ledger_nodes$/],
      ["the last of its level missing", (db) => nodesOf(db).deleteOne({ _id: "3/4" }), /^tree node 3\/4 \(entries 32\.\.39\) is missing from ledger_nodes$/],
      ["rewritten", (db) => nodesOf(db).updateOne({ _id: "2/3" }, { $set: { hash: new Binary(Buffer.alloc(32, 0xab)) } }), /^tree node 2\/3 \(entries 12\.\.15\) differs from the hash recomputed from those entries: stored (ab){32}, recomputed [0-9a-f]{64}$/],
      [
        "under another _id",
        async (db) => {
          const d = (await nodesOf(db).findOne({ _id: "1/3" }))!;
          await nodesOf(db).deleteOne({ _id: "1/3" });
          await nodesOf(db).insertOne({ ...d, _id: "1/03" });
        },
        /^tree node 1\/3 is stored out of order or under _id 1\/03$/,
      ],
    ];
    for (const [what, tamper, message] of cases) assert.match((await firstProblem(tamper, 4)) ?? "", message, what);
  });

  it("reads on past a reply cut short at 16 MiB", async () => {
    const big = (i: number) => Buffer.alloc(6 << 20, i + 1); // 3 of them do not fit one reply
    const db = await build([big(0), big(1), big(2), payload(3), big(4)]);
    const r = await verifyLedger(db, 8);
    assert.equal(r.ok, true, r.problem?.message);
    assert.equal(r.entries, 5);
    await entriesOf(db).deleteOne({ _id: 3 });
    assert.equal((await verifyLedger(db, 8)).problem?.message, "entry 3 is missing (the next stored entry is 4)");
  });
});
