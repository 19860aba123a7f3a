/**
 * `liaison ledger verify | prove | consistency | checkpoint`, run as real child processes against
 * the ledger of a real node (two nodes exchanged messages and witnessed each other, then stopped):
 * each kind of tampering is named with its index and what differs; proofs printed by the CLI are
 * checked by an independent implementation of RFC 9162 §2.1.3.2 and §2.1.4.2 written here.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { rmSync } from "node:fs";
import { Binary } from "mongodb";
import type { Cluster, PartyFolder } from "../support/cluster.ts";
import { clusterWithLedger, corruptSignatureLine, liaison, withStoppedStore, writeNodeConfig } from "./support.ts";

const VN = "VN-MPS";

let cluster: Cluster;
let folder: PartyFolder;
let config: string;
let vnKey: KeyObject;
let checkpointSizes: number[];

before(async () => {
  cluster = await clusterWithLedger();
  folder = cluster.folders.get(VN)!;
  config = writeNodeConfig(folder);
  vnKey = createPublicKey(cluster.node(VN).identity.activeSigningKey.privateKey);
});

after(async () => {
  await cluster?.close();
  if (cluster) rmSync(cluster.root, { recursive: true, force: true });
});

// ---- an independent RFC 9162 verifier (from the RFC text, nothing imported) ----------------

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHashOf = (input: Uint8Array) => sha256(Buffer.of(0), input);
const nodeHashOf = (l: Uint8Array, r: Uint8Array) => sha256(Buffer.of(1), l, r);

/** RFC 9162 §2.1.3.2, step by step. */
function rfc9162VerifyInclusion(leafIndex: number, treeSize: number, leafHash: Buffer, proof: Buffer[], root: Buffer): boolean {
  if (leafIndex >= treeSize) return false;
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize - 1);
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHashOf(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHashOf(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && r.equals(root);
}

/** RFC 9162 §2.1.4.2, step by step. */
function rfc9162VerifyConsistency(first: number, second: number, firstHash: Buffer, secondHash: Buffer, proof: Buffer[]): boolean {
  if (first === second) return proof.length === 0 && firstHash.equals(secondHash);
  if (first === 0) return proof.length === 0;
  const path = (first & (first - 1)) === 0 ? [firstHash, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = BigInt(first - 1);
  let sn = BigInt(second - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHashOf(c, fr);
      sr = nodeHashOf(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHashOf(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0n;
}

/** C2SP checkpoint: "origin\nsize\nbase64 root\n\n— origin base64(keyid[4] || ed25519 sig)\n…". */
function checkCheckpointNote(note: string, origin: string, key: KeyObject): { size: number; root: Buffer } {
  const sep = note.lastIndexOf("\n\n");
  const text = note.slice(0, sep + 1);
  const [o, size, root] = text.split("\n");
  assert.equal(o, origin);
  const line = note.slice(sep + 2).split("\n").find((l) => l.startsWith(`\u2014 ${origin} `));
  assert.ok(line, "the log's signature line is there");
  const sig = Buffer.from(line.split(" ")[2]!, "base64");
  const raw = key.export({ format: "jwk" }).x!;
  const keyId = sha256(Buffer.from(origin), Buffer.of(0x0a, 0x01), Buffer.from(raw, "base64url")).subarray(0, 4);
  assert.deepEqual(sig.subarray(0, 4), keyId, "key id = SHA-256(name || 0x0A || 0x01 || key)[:4]");
  assert.equal(verifySignature(null, Buffer.from(text), key, sig.subarray(4)), true, "Ed25519 over the note text");
  return { size: Number(size), root: Buffer.from(root!, "base64") };
}

// ---- tests ------------------------------------------------------------------------------------

describe("liaison ledger verify", () => {
  it("reads a running node's embedded store at the address the node publishes", async () => {
    const out = await liaison("ledger", "verify", "--config", config);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /OK: every entry, tree node, checkpoint and cosignature holds/);
  });

  it("verifies a running node's ledger through --uri", async () => {
    const out = await liaison("ledger", "verify", "--config", config, "--uri", cluster.node(VN).mongoUri!);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /OK: every entry, tree node, checkpoint and cosignature holds/);
    assert.match(out.stdout, /2 signed checkpoints, 2 cosignatures/);
    // Stop both nodes; the rest reads the stopped node's embedded store directly.
    for (const node of cluster.nodes.values()) await node.close();
  });

  it("passes an intact ledger (exit 0) and reports what it checked", async () => {
    const out = await liaison("ledger", "verify", "--config", config, "--json");
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const report = JSON.parse(out.stdout) as { ok: boolean; entries: number; treeSize: number; checkpoints: number; cosignatures: number; nodes: number };
    assert.equal(report.ok, true);
    assert.equal(report.entries, report.treeSize);
    assert.ok(report.entries >= 40);
    assert.equal(report.checkpoints, 2);
    assert.equal(report.cosignatures, 2);
    const popcount = report.entries.toString(2).replace(/0/g, "").length;
    assert.equal(report.nodes, report.entries - popcount, "every perfect inner node: n - popcount(n) of them");
    checkpointSizes = await withStoppedStore(folder, async (db) =>
      (await db.collection("ledger_checkpoints").find({ note: { $exists: true } }).sort({ size: 1 }).toArray()).map((d) => d.size as number),
    );
    assert.equal(checkpointSizes.length, 2);
  });

  /** Applies `tamper`, runs verify, restores with `restore`, and returns the outcome. */
  async function verifyTampered(tamper: Parameters<typeof withStoppedStore>[1], restore: Parameters<typeof withStoppedStore>[1]) {
    await withStoppedStore(folder, tamper);
    try {
      return await liaison("ledger", "verify", "--config", config);
    } finally {
      await withStoppedStore(folder, restore);
    }
  }

  const entries = (db: Parameters<Parameters<typeof withStoppedStore>[1]>[0]) => db.collection<{ _id: number; bytes: Binary; leafHash: Binary; kind: string }>("ledger_entries");
  const nodes = (db: Parameters<Parameters<typeof withStoppedStore>[1]>[0]) => db.collection<{ _id: string; hash: Binary }>("ledger_nodes");

  it("names an entry with one byte changed", async () => {
    let original: Buffer | undefined;
    const out = await verifyTampered(
      async (db) => {
        const doc = (await entries(db).findOne({ _id: 5 }))!;
        original = Buffer.from(doc.bytes.buffer);
        const changed = Buffer.from(original);
        changed[changed.length - 1]! ^= 0x20;
        await entries(db).updateOne({ _id: 5 }, { $set: { bytes: new Binary(changed) } });
      },
      async (db) => void (await entries(db).updateOne({ _id: 5 }, { $set: { bytes: new Binary(original!) } })),
    );
    assert.equal(out.code, 1);
    assert.match(out.stdout, /FIRST INCONSISTENCY at index 5: entry 5: its bytes do not hash to its stored leaf hash/);
    assert.match(out.stderr, /LEDGER_CORRUPT/);
  });

  it("names a deleted entry", async () => {
    let saved: Record<string, unknown> | undefined;
    const out = await verifyTampered(
      async (db) => {
        saved = (await entries(db).findOne({ _id: 7 }))!;
        await entries(db).deleteOne({ _id: 7 });
      },
      async (db) => void (await entries(db).insertOne(saved as never)),
    );
    assert.equal(out.code, 1);
    assert.match(out.stdout, /FIRST INCONSISTENCY at index 7: entry 7 is missing \(the next stored entry is 8\)/);
  });

  it("names two reordered entries by the tree node over the first", async () => {
    const swap = async (db: Parameters<Parameters<typeof withStoppedStore>[1]>[0]) => {
      const [a, b] = [(await entries(db).findOne({ _id: 10 }))!, (await entries(db).findOne({ _id: 13 }))!];
      const fields = (d: typeof a) => ({ bytes: d.bytes, leafHash: d.leafHash, kind: d.kind });
      await entries(db).updateOne({ _id: 10 }, { $set: fields(b) });
      await entries(db).updateOne({ _id: 13 }, { $set: fields(a) });
    };
    const out = await verifyTampered(swap, swap);
    assert.equal(out.code, 1);
    assert.match(out.stdout, /FIRST INCONSISTENCY at index 10: tree node 1\/5 \(entries 10\.\.11\) differs from the hash recomputed from those entries: stored [0-9a-f]{64}, recomputed [0-9a-f]{64}/);
  });

  it("names a rewritten tree node", async () => {
    let original: Binary | undefined;
    const out = await verifyTampered(
      async (db) => {
        original = (await nodes(db).findOne({ _id: "2/1" }))!.hash;
        await nodes(db).updateOne({ _id: "2/1" }, { $set: { hash: new Binary(Buffer.alloc(32, 0xab)) } });
      },
      async (db) => void (await nodes(db).updateOne({ _id: "2/1" }, { $set: { hash: original! } })),
    );
    assert.equal(out.code, 1);
    assert.match(out.stdout, /FIRST INCONSISTENCY at index 4: tree node 2\/1 \(entries 4\.\.7\) differs .* stored abababab/);
  });

  it("names a checkpoint whose signature was corrupted", async () => {
    const size = checkpointSizes[0]!;
    let original = "";
    const out = await verifyTampered(
      async (db) => {
        const cps = db.collection<{ _id: number; note: string }>("ledger_checkpoints");
        original = (await cps.findOne({ _id: size }))!.note;
        const lines = original.split("\n");
        lines[lines.length - 2] = corruptSignatureLine(lines[lines.length - 2]!);
        await cps.updateOne({ _id: size }, { $set: { note: lines.join("\n") } });
      },
      async (db) => void (await db.collection<{ _id: number; note: string }>("ledger_checkpoints").updateOne({ _id: size }, { $set: { note: original } })),
    );
    assert.equal(out.code, 1);
    assert.match(out.stdout, new RegExp(`FIRST INCONSISTENCY: signed checkpoint at size ${size}: its signature does not verify with the log's key`));
  });

  it("names a corrupted cosignature", async () => {
    const size = checkpointSizes[1]!;
    let original = "";
    const out = await verifyTampered(
      async (db) => {
        const cs = db.collection<{ _id: string; size: number; line: string }>("ledger_cosignatures");
        const doc = (await cs.findOne({ size }))!;
        original = doc.line;
        await cs.updateOne({ _id: doc._id }, { $set: { line: corruptSignatureLine(original) } });
      },
      async (db) => void (await db.collection<{ size: number; line: string }>("ledger_cosignatures").updateOne({ size }, { $set: { line: original } })),
    );
    assert.equal(out.code, 1);
    assert.match(out.stdout, new RegExp(`FIRST INCONSISTENCY: cosignature by liaison/witness/CN-MPS on the checkpoint at size ${size}: the signature does not verify`));
  });

  it("passes again once everything is restored", async () => {
    const out = await liaison("ledger", "verify", "--config", config);
    assert.equal(out.code, 0, out.stdout + out.stderr);
  });
});

interface ProveOutput {
  origin: string;
  index: number;
  treeSize: number;
  leafInputBase64: string;
  entry: { kind: string };
  leafHash: string;
  proof: string[];
  root: string;
  rootBase64: string;
  checkpoint: string | null;
}

describe("liaison ledger prove / consistency / checkpoint", () => {
  it("prints inclusion proofs an independent RFC 9162 verifier accepts against the signed checkpoint", async () => {
    const [small, large] = checkpointSizes as [number, number];
    for (const [index, size] of [[0, undefined], [5, undefined], [large - 1, undefined], [small - 1, small], [3, small]] as const) {
      const out = await liaison("ledger", "prove", "--config", config, "--index", String(index), ...(size ? ["--size", String(size)] : []));
      assert.equal(out.code, 0, out.stderr);
      const p = JSON.parse(out.stdout) as ProveOutput;
      assert.equal(p.index, index);
      assert.equal(p.treeSize, size ?? large, "default: the latest signed checkpoint");
      const leafInput = Buffer.from(p.leafInputBase64, "base64");
      assert.equal(leafHashOf(leafInput).toString("hex"), p.leafHash);
      const cp = checkCheckpointNote(p.checkpoint!, `liaison/ledger/${VN}`, vnKey);
      assert.equal(cp.size, p.treeSize);
      assert.equal(cp.root.toString("hex"), p.root);
      assert.equal(rfc9162VerifyInclusion(index, p.treeSize, leafHashOf(leafInput), p.proof.map((h) => Buffer.from(h, "hex")), cp.root), true, `entry ${index} in ${p.treeSize}`);
      // A wrong index or a flipped proof byte fails the same independent check.
      assert.equal(rfc9162VerifyInclusion(index ^ 1, p.treeSize, leafHashOf(leafInput), p.proof.map((h) => Buffer.from(h, "hex")), cp.root), false);
    }
  });

  it("prints consistency proofs an independent RFC 9162 verifier accepts between the two checkpoints", async () => {
    const [small, large] = checkpointSizes as [number, number];
    const out = await liaison("ledger", "consistency", "--config", config, "--from", String(small), "--to", String(large));
    assert.equal(out.code, 0, out.stderr);
    const c = JSON.parse(out.stdout) as { fromSize: number; toSize: number; proof: string[]; fromCheckpoint: string; toCheckpoint: string };
    const from = checkCheckpointNote(c.fromCheckpoint, `liaison/ledger/${VN}`, vnKey);
    const to = checkCheckpointNote(c.toCheckpoint, `liaison/ledger/${VN}`, vnKey);
    const proof = c.proof.map((h) => Buffer.from(h, "hex"));
    assert.equal(rfc9162VerifyConsistency(small, large, from.root, to.root, proof), true);
    assert.equal(rfc9162VerifyConsistency(small, large, to.root, from.root, proof), false, "swapped roots");
    const bad = await liaison("ledger", "consistency", "--config", config, "--from", String(large + 1000));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID_ARGUMENT: size1 \d+ is beyond the tree size/);
  });

  it("prints the latest checkpoint with the partner's cosignature", async () => {
    const out = await liaison("ledger", "checkpoint", "--config", config);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split("\n");
    assert.equal(lines[0], `liaison/ledger/${VN}`);
    assert.equal(lines[1], String(checkpointSizes[1]));
    assert.ok(lines.some((l) => l.startsWith("\u2014 liaison/ledger/VN-MPS ")));
    assert.ok(lines.some((l) => l.startsWith("\u2014 liaison/witness/CN-MPS ")));
  });

  it("refuses a bad index with a one-line reason", async () => {
    const out = await liaison("ledger", "prove", "--config", config, "--index", "-3");
    assert.notEqual(out.code, 0);
    const far = await liaison("ledger", "prove", "--config", config, "--index", "100000");
    assert.equal(far.code, 1);
    assert.match(far.stderr, /INVALID_ARGUMENT: index 100000 is not in a tree of size/);
  });
});
