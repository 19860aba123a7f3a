/**
 * `liaison backup create`: a consistent backup of a running node's database, read through the
 * official driver, plus its identity folder with the private keys encrypted.
 *
 * Consistency. Every collection is read inside ONE multi-document transaction with readConcern
 * "snapshot" (on a replica set and on the embedded store alike): every read sees the database
 * as it was at one instant, whatever the node writes meanwhile. The node is built to restart
 * after a crash at any instant (the sequencer writes entries, nodes and the tree head in one
 * transaction; the outbox, the receiver's claims and the views resume or are rebuilt), so a
 * snapshot restores like a node restarted after a power cut at that instant. The tree head read
 * in the snapshot is kept in the manifest, and `backup verify` checks the entries against it.
 * The list of collections is read before and after; if a collection appeared meanwhile the
 * snapshot is taken again, so that no collection existing at the snapshot is missed. The
 * identity folder is read after the snapshot: keys are only ever added, so it holds every key
 * that signed anything in it. Process leases (`leases`, `ledger_leases`) are not backed up.
 *
 * On a replica set, one transaction may last `transactionLifetimeLimitSeconds` (60 s by
 * default): raise it for the backup window of a large database (see docs/DEPLOYMENT.md).
 */
import { randomUUID } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import { createGzip, gzipSync } from "node:zlib";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ClientSession, Db, MongoClient } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { deriveKeys, encrypt, keyCheck, manifestMac, newKdfParams } from "./crypto.ts";
import { BackupWriter, FORMAT, type IndexSpec, type Manifest, type PartInfo } from "./format.ts";
import { readIdentityFolder } from "./identity-files.ts";

/** Collections that hold process state, not data: never backed up nor restored. */
export const EXCLUDED_COLLECTIONS: ReadonlySet<string> = new Set(["leases", "ledger_leases"]);

export interface BackupProgress {
  phase: "database" | "identity" | "done";
  /** Documents written so far and (estimated) in all. */
  done: number;
  total: number;
  collection?: string;
}

export interface CreateBackupOptions {
  client: MongoClient;
  database: string;
  party: string;
  identityDir: string;
  out: string;
  passphrase: string;
  /** Replace an existing file at `out`. */
  force?: boolean;
  onProgress?: (p: BackupProgress) => void;
}

export interface CreateBackupResult {
  manifest: Manifest;
  bytes: number;
}

async function collectionNames(db: Db): Promise<string[]> {
  const list = await db.listCollections({}, { nameOnly: true }).toArray();
  return list
    .map((c) => c.name)
    .filter((n) => !n.startsWith("system.") && !EXCLUDED_COLLECTIONS.has(n))
    .sort();
}

const INDEX_OPTIONS = ["unique", "sparse", "partialFilterExpression", "expireAfterSeconds"] as const;

async function indexSpecs(db: Db, name: string): Promise<IndexSpec[]> {
  const specs = await db.collection(name).listIndexes().toArray();
  return specs
    .filter((s) => s.name !== "_id_")
    .map((s) => {
      const spec: IndexSpec = { key: s.key as Record<string, unknown>, name: String(s.name) };
      for (const k of INDEX_OPTIONS) if (s[k] !== undefined) (spec as unknown as Record<string, unknown>)[k] = s[k];
      return spec;
    });
}

/** Write one collection, read in `session`, as a gzip'd stream of raw BSON documents. */
async function writeCollection(writer: BackupWriter, db: Db, name: string, session: ClientSession, onDocument: () => void): Promise<number> {
  let documents = 0;
  const cursor = db.collection(name).find({}, { session, raw: true, batchSize: 1000 });
  const source = Readable.from(
    (async function* () {
      for await (const doc of cursor) {
        documents++;
        onDocument();
        yield doc as unknown as Buffer;
      }
    })(),
  );
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        writer.write(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  await pipeline(source, createGzip(), sink);
  return documents;
}

export async function createBackup(options: CreateBackupOptions): Promise<CreateBackupResult> {
  const { client, out } = options;
  if (existsSync(out) && !options.force) throw new LiaisonError("INVALID_ARGUMENT", `${out} exists; choose another name or pass --force`);
  const db = client.db(options.database);
  const kdf = newKdfParams();
  const keys = deriveKeys(options.passphrase, kdf);
  const backupId = randomUUID();
  const partial = `${out}.partial-${process.pid}`;
  const progress = options.onProgress ?? (() => undefined);

  for (let attempt = 1; ; attempt++) {
    const before = await collectionNames(db);
    let total = 0;
    for (const name of before) total += await db.collection(name).estimatedDocumentCount();
    const writer = new BackupWriter(partial);
    const parts: PartInfo[] = [];
    const session = client.startSession();
    let done = 0;
    try {
      session.startTransaction({ readConcern: { level: "snapshot" }, readPreference: "primary" });
      // The first read fixes the snapshot.
      const head = await db.collection<{ _id: string; size: number; root: { buffer: Uint8Array } }>("ledger_checkpoints").findOne({ _id: "head" }, { session });
      for (const name of before) {
        progress({ phase: "database", done, total, collection: name });
        writer.beginPart(`db/${name}`);
        const documents = await writeCollection(writer, db, name, session, () => {
          done++;
          if (done % 500 === 0) progress({ phase: "database", done, total: Math.max(total, done), collection: name });
        });
        parts.push({ name: `db/${name}`, kind: "collection", encoding: "bson-gzip", collection: name, documents, indexes: await indexSpecs(db, name), ...writer.endPart() });
      }
      await session.abortTransaction();
      const after = await collectionNames(db);
      if (after.some((n) => !before.includes(n))) {
        writer.abort();
        rmSync(partial, { force: true });
        if (attempt >= 3) throw new LiaisonError("UNAVAILABLE", "collections kept appearing during the backup; try again");
        continue;
      }

      progress({ phase: "identity", done, total: Math.max(total, done) });
      const { publicFiles, secretFiles } = readIdentityFolder(options.identityDir);
      const jsonl = (records: object[]) => Buffer.from(records.map((r) => JSON.stringify(r)).join("\n") + "\n");
      writer.beginPart("identity/public");
      writer.write(gzipSync(jsonl(publicFiles)));
      parts.push({ name: "identity/public", kind: "files", encoding: "files-gzip", files: publicFiles.length, ...writer.endPart() });
      writer.beginPart("identity/private");
      writer.write(encrypt(keys.encryption, gzipSync(jsonl(secretFiles)), `${backupId} identity/private`));
      parts.push({ name: "identity/private", kind: "files", encoding: "files-gzip-aes256gcm", files: secretFiles.length, ...writer.endPart() });

      const manifest: Manifest = {
        format: FORMAT,
        backupId,
        createdAt: new Date().toISOString(),
        party: options.party,
        database: options.database,
        ledger: { size: head?.size ?? 0, root: head ? Buffer.from(head.root.buffer).toString("base64") : "" },
        kdf,
        keyCheck: keyCheck(keys, backupId),
        consistency: "one transaction, readConcern snapshot",
        parts,
      };
      const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 1));
      writer.finish(manifestBytes, manifestMac(keys, manifestBytes));
      renameSync(partial, out);
      progress({ phase: "done", done, total: Math.max(total, done) });
      return { manifest, bytes: manifestBytes.length + parts.reduce((n, p) => n + p.length, 0) };
    } catch (error) {
      writer.abort();
      rmSync(partial, { force: true });
      if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
      throw error;
    } finally {
      await session.endSession();
    }
  }
}
