/**
 * Encryption at rest of the embedded store: with a store key no file under the dbpath holds a
 * document's bytes in clear (journal and snapshot records sealed with AES-256-GCM); the key brings
 * the data back, no key or another key refuses the start with a precise message (no key material);
 * a record that fails authentication in the middle refuses it, a torn tail is still cut; a folder
 * written in clear is read with a key and sealed at that start.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { MongoClient } from "mongodb";
import { createLogger } from "../../services/logging/index.ts";
import { crc32c } from "../../services/store/crc32c.ts";
import { Engine } from "../../services/store/engine.ts";
import { listJournals, parseRecords } from "../../services/store/journal.ts";
import { StoreServer } from "../../services/store/server.ts";
import { startEmbeddedStore, storeKeyFromDataKey } from "../../services/store/index.ts";
import { tempDir } from "./helpers.ts";

const VICTIM = "Nguyen Thi Victimname-7f3a";

/** Every file under `dir` that holds `needle` (in UTF-8, as BSON stores strings). */
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) found.push(...filesHolding(file, needle));
    else if (readFileSync(file).includes(Buffer.from(needle))) found.push(file);
  }
  return found;
}

/** Writes victims through the driver: a snapshot after the first half, journal records after it. */
async function writeVictims(dbpath: string, key: Uint8Array | undefined): Promise<void> {
  mkdirSync(dbpath, { recursive: true });
  const log = createLogger("store", { dbpath });
  const engine = new Engine({ dbpath, log, ...(key ? { encryptionKey: key } : {}) });
  await engine.open();
  const server = new StoreServer(engine, log, "liaison", "127.0.0.1");
  await server.listen(0);
  const client = await new MongoClient(`mongodb://127.0.0.1:${server.port}/?replicaSet=liaison`, { serverSelectionTimeoutMS: 5000 }).connect();
  try {
    const c = client.db("liaison").collection<{ _id: number; victim: string }>("notices");
    await c.createIndex({ victim: 1 });
    for (let i = 0; i < 5; i++) await c.insertOne({ _id: i, victim: `${VICTIM} ${i}` });
    await engine.snapshot();
    for (let i = 5; i < 10; i++) await c.insertOne({ _id: i, victim: `${VICTIM} ${i}` });
  } finally {
    await client.close();
    await server.close();
    await engine.close();
  }
  const files = readdirSync(dbpath);
  assert.ok(files.includes("snapshot.bson"), "a snapshot was written");
  assert.ok(parseRecords(readFileSync(journalPath(dbpath)), "journal").payloads.length >= 5, "journal records after the snapshot");
}

function journalPath(dbpath: string): string {
  const gens = listJournals(dbpath);
  return path.join(dbpath, `journal.${String(gens[gens.length - 1]).padStart(8, "0")}`);
}

async function readVictims(dbpath: string, key: Uint8Array | undefined): Promise<string[]> {
  const store = await startEmbeddedStore({ dbpath, port: 0, ...(key ? { encryptionKey: key } : {}) });
  const client = await new MongoClient(store.uri, { serverSelectionTimeoutMS: 5000 }).connect();
  try {
    const docs = await client.db("liaison").collection<{ _id: number; victim: string }>("notices").find({}, { sort: { _id: 1 } }).toArray();
    // the index came back too
    assert.equal((await client.db("liaison").collection("notices").find({ victim: `${VICTIM} 7` }).toArray()).length, 1);
    return docs.map((d) => d.victim);
  } finally {
    await client.close();
    await store.close();
  }
}

const expected = Array.from({ length: 10 }, (_, i) => `${VICTIM} ${i}`);

/** Rewrites one journal record's payload (CRC fixed, so only authentication can notice). */
function alterRecord(file: string, index: number, change: (payload: Buffer) => void): void {
  const buf = readFileSync(file);
  const { offsets } = parseRecords(buf, file);
  const off = offsets[index]!;
  const len = buf.readUInt32LE(off);
  const payload = buf.subarray(off + 8, off + 8 + len);
  change(payload);
  buf.writeUInt32LE(crc32c(payload), off + 4);
  writeFileSync(file, buf);
}

describe("embedded store: encryption at rest", () => {
  it("without a key the victim's name is in the files (the scan can fail)", async () => {
    const dbpath = tempDir();
    try {
      await writeVictims(dbpath, undefined);
      const holding = filesHolding(dbpath, VICTIM).map((f) => path.basename(f)).sort();
      assert.ok(holding.includes("snapshot.bson"), `snapshot in clear: ${holding.join(", ")}`);
      assert.ok(holding.some((f) => f.startsWith("journal.")), `journal in clear: ${holding.join(", ")}`);
      assert.deepEqual(await readVictims(dbpath, undefined), expected);
    } finally {
      rmSync(dbpath, { recursive: true, force: true });
    }
  });

  it("with a key no file holds the name; the key brings the data back; no key or another key is refused", async () => {
    const dbpath = tempDir();
    const key = randomBytes(32);
    try {
      await writeVictims(dbpath, key);
      assert.deepEqual(filesHolding(dbpath, VICTIM), []);
      assert.deepEqual(filesHolding(dbpath, "notices"), [], "collection names are sealed too");
      assert.deepEqual(await readVictims(dbpath, key), expected);
      assert.deepEqual(await readVictims(dbpath, key), expected, "twice: a restart with the key changes nothing");

      const secret = [key.toString("base64"), key.toString("hex")];
      const noKey = await startEmbeddedStore({ dbpath, port: 0 }).then(
        () => assert.fail("started without its key"),
        (e: Error) => e,
      );
      assert.equal(noKey.name, "StoreKeyError");
      assert.match(noKey.message, /snapshot\.bson: the store's records are encrypted at rest \(AES-256-GCM\) and no store key was given/);
      const wrong = await startEmbeddedStore({ dbpath, port: 0, encryptionKey: randomBytes(32) }).then(
        () => assert.fail("started with another key"),
        (e: Error) => e,
      );
      assert.equal(wrong.name, "StoreKeyError");
      assert.match(wrong.message, /do not open with the store key given: they were sealed with another key/);
      for (const e of [noKey, wrong]) for (const s of secret) assert.ok(!e.message.includes(s) && !String(e.stack).includes(s));
      // Refusals leave the folder usable (lock released, nothing rewritten).
      assert.deepEqual(await readVictims(dbpath, key), expected);
      await assert.rejects(startEmbeddedStore({ dbpath, port: 0, encryptionKey: randomBytes(16) }), /must be 32 bytes/);
    } finally {
      rmSync(dbpath, { recursive: true, force: true });
    }
  });

  it("refuses a sealed record that fails authentication in the middle of the journal; cuts a torn tail", async () => {
    const dbpath = tempDir();
    const key = randomBytes(32);
    try {
      await writeVictims(dbpath, key);
      const file = journalPath(dbpath);
      const original = readFileSync(file);

      // A flipped ciphertext byte with a matching CRC: only GCM notices.
      alterRecord(file, 2, (p) => (p[20] ^= 0x01));
      await assert.rejects(startEmbeddedStore({ dbpath, port: 0, encryptionKey: key }), (e: Error) => {
        assert.equal(e.name, "JournalCorruptError");
        assert.match(e.message, /record at byte \d+ fails authentication \(damaged or altered\); refusing to start/);
        return true;
      });
      // A flipped byte without the CRC fixed (here in the length word): corrupt in the middle, as before.
      writeFileSync(file, original);
      const buf = Buffer.from(original);
      buf[parseRecords(buf, file).offsets[2]! + 1] ^= 0x40;
      writeFileSync(file, buf);
      await assert.rejects(startEmbeddedStore({ dbpath, port: 0, encryptionKey: key }), /corrupt record at byte \d+ is followed by valid records/);

      // A torn tail: truncated, the acknowledged records stay.
      writeFileSync(file, original);
      appendFileSync(file, Buffer.concat([Buffer.from([200, 0, 0, 0, 1, 2, 3, 4]), Buffer.from([1]), randomBytes(30)]));
      assert.deepEqual(await readVictims(dbpath, key), expected);
      assert.equal(readFileSync(file).length, original.length, "the torn record was truncated");
    } finally {
      rmSync(dbpath, { recursive: true, force: true });
    }
  });

  it("opens a folder written in clear with a key and seals it at that start", async () => {
    const dbpath = tempDir();
    const key = storeKeyFromDataKey(randomBytes(32));
    try {
      await writeVictims(dbpath, undefined);
      assert.ok(filesHolding(dbpath, VICTIM).length >= 2);
      assert.deepEqual(await readVictims(dbpath, key), expected);
      assert.deepEqual(filesHolding(dbpath, VICTIM), [], "sealed by the snapshot taken at start");
      assert.deepEqual(await readVictims(dbpath, key), expected);
      await assert.rejects(startEmbeddedStore({ dbpath, port: 0 }), /no store key was given/);
    } finally {
      rmSync(dbpath, { recursive: true, force: true });
    }
  });

  it("refuses a journal record moved into the snapshot (the file kind is bound)", async () => {
    const dbpath = tempDir();
    const key = randomBytes(32);
    try {
      await writeVictims(dbpath, key);
      const journal = readFileSync(journalPath(dbpath));
      const { offsets } = parseRecords(journal, "journal");
      const record = journal.subarray(offsets[0]!, offsets[1]!);
      const snapFile = path.join(dbpath, "snapshot.bson");
      const snap = readFileSync(snapFile);
      const at = parseRecords(snap, snapFile).offsets[1]!;
      writeFileSync(snapFile, Buffer.concat([snap.subarray(0, at), record, snap.subarray(at)]));
      await assert.rejects(startEmbeddedStore({ dbpath, port: 0, encryptionKey: key }), /fails authentication/);
    } finally {
      rmSync(dbpath, { recursive: true, force: true });
    }
  });

  it("derives the node's store key with HKDF-SHA-256 (stable, 32 bytes, not the data key)", () => {
    const dataKey = randomBytes(32);
    const a = storeKeyFromDataKey(dataKey);
    assert.equal(a.length, 32);
    assert.deepEqual(a, storeKeyFromDataKey(Buffer.from(dataKey)));
    assert.notDeepEqual(Buffer.from(a), dataKey);
  });
});
