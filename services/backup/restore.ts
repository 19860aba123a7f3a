/**
 * `liaison backup restore`: a backup back into a fresh identity folder and database, through the
 * driver. Everything is checked before anything is written (every part's hash, the passphrase,
 * the manifest's HMAC, the party). The identity folder and the embedded store are written
 * beside their targets and renamed into place at the end, so that a failed restore leaves no
 * half-written node; on a MongoDB given by URI, the database must be empty (or `force`, which
 * drops it first).
 */
import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { mkdirSync } from "node:fs";
import { MongoClient } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { startEmbeddedStore } from "../store/index.ts";
import { deriveKeys, keyCheckPasses, manifestMacMatches } from "./crypto.ts";
import { isEncryptedPrivateKeyPem } from "../identity/index.ts";
import { openBackup, type FileRecord, type Manifest } from "./format.ts";
import { writeIdentityFiles } from "./identity-files.ts";
import { loadCollection, publicFiles, secretFiles } from "./load.ts";

export interface RestoreTarget {
  party: string;
  identityDir: string;
  dataDir: string;
  /** A MongoDB to restore into; without it, the embedded store in `<dataDir>/store`. */
  mongodbUri?: string;
  database: string;
}

export interface RestoreOptions {
  file: string;
  target: RestoreTarget;
  passphrase: string;
  /** Replace a non-empty identity folder, store folder or database. */
  force?: boolean;
  onProgress?: (p: { phase: "check" | "identity" | "database" | "done"; done: number; total: number; collection?: string }) => void;
}

export interface RestoreResult {
  manifest: Manifest;
  documents: number;
  /**
   * The private key files restored, as they were in the identity folder: encrypted under the
   * key passphrase (the node needs it to start) or in clear.
   */
  keys: { encrypted: string[]; clear: string[] };
}

/** The key files (by path) encrypted under the key passphrase, and those in clear. */
function keyFiles(records: readonly FileRecord[]): RestoreResult["keys"] {
  const keys: RestoreResult["keys"] = { encrypted: [], clear: [] };
  for (const r of records) (isEncryptedPrivateKeyPem(Buffer.from(r.data, "base64").toString("latin1")) ? keys.encrypted : keys.clear).push(r.path);
  return keys;
}

function nonEmpty(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).length > 0;
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { target } = options;
  const progress = options.onProgress ?? (() => undefined);
  const backup = openBackup(options.file);
  try {
    const { manifest } = backup;
    // 1. Check everything before writing anything.
    progress({ phase: "check", done: 0, total: manifest.parts.length });
    const keys = deriveKeys(options.passphrase, manifest.kdf);
    if (!keyCheckPasses(keys, manifest.backupId, manifest.keyCheck)) {
      throw new LiaisonError("INVALID_ARGUMENT", "wrong passphrase: the backup's key check does not open with it");
    }
    if (!manifestMacMatches(keys, backup.manifestBytes, backup.mac)) {
      throw new LiaisonError("INVALID_ARGUMENT", "backup part manifest: its HMAC does not match (the manifest was replaced)");
    }
    if (manifest.party !== target.party) {
      throw new LiaisonError("INVALID_ARGUMENT", `the backup is of ${manifest.party}; the configuration is for ${target.party}`);
    }
    manifest.parts.forEach((p, i) => {
      backup.readVerifiedPart(p);
      progress({ phase: "check", done: i + 1, total: manifest.parts.length });
    });
    const pub = publicFiles(backup);
    const secret = secretFiles(backup, keys);
    if (!secret) throw new LiaisonError("INVALID_ARGUMENT", "backup part identity/private: does not decrypt with this passphrase");

    const storeDir = join(target.dataDir, "store");
    if (!options.force) {
      if (nonEmpty(target.identityDir)) throw new LiaisonError("INVALID_ARGUMENT", `${target.identityDir} is not empty; restore into a fresh folder or pass --force`);
      if (!target.mongodbUri && nonEmpty(storeDir)) throw new LiaisonError("INVALID_ARGUMENT", `${storeDir} is not empty; restore into a fresh data folder or pass --force`);
    }

    // 2. The identity folder, beside its target.
    const suffix = `.restoring-${process.pid}`;
    const identityTmp = target.identityDir + suffix;
    rmSync(identityTmp, { recursive: true, force: true });
    progress({ phase: "identity", done: 0, total: pub.length + secret.length });
    mkdirSync(dirname(identityTmp), { recursive: true });
    mkdirSync(identityTmp, { mode: 0o700 });
    const storeTmp = storeDir + suffix;
    try {
      writeIdentityFiles(identityTmp, pub, false);
      writeIdentityFiles(identityTmp, secret, true);

      // 3. The database, through the driver.
      const collections = manifest.parts.filter((p) => p.kind === "collection");
      const total = collections.reduce((n, p) => n + (p.documents ?? 0), 0);
      let done = 0;
      let uri = target.mongodbUri;
      let store: Awaited<ReturnType<typeof startEmbeddedStore>> | undefined;
      if (!uri) {
        rmSync(storeTmp, { recursive: true, force: true });
        mkdirSync(storeTmp, { recursive: true, mode: 0o700 });
        store = await startEmbeddedStore({ dbpath: storeTmp, port: 0 });
        uri = store.uri;
      }
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
      try {
        await client.connect();
        const db = client.db(target.database);
        const existing = (await db.listCollections({}, { nameOnly: true }).toArray()).filter((c) => !c.name.startsWith("system."));
        if (existing.length > 0) {
          if (!options.force) throw new LiaisonError("INVALID_ARGUMENT", `database ${target.database} is not empty; restore into a fresh database or pass --force`);
          await db.dropDatabase();
        }
        for (const part of collections) {
          progress({ phase: "database", done, total, collection: part.collection! });
          await loadCollection(backup, part, db, (n) => {
            done += n;
            progress({ phase: "database", done, total, collection: part.collection! });
          });
        }
      } finally {
        await client.close();
        await store?.close();
      }

      // 4. Into place.
      if (existsSync(target.identityDir)) rmSync(target.identityDir, { recursive: true, force: true });
      renameSync(identityTmp, target.identityDir);
      if (store) {
        if (existsSync(storeDir)) rmSync(storeDir, { recursive: true, force: true });
        renameSync(storeTmp, storeDir);
      }
      progress({ phase: "done", done: total, total });
      return { manifest, documents: total, keys: keyFiles(secret) };
    } catch (error) {
      rmSync(identityTmp, { recursive: true, force: true });
      rmSync(storeTmp, { recursive: true, force: true });
      throw error;
    }
  } finally {
    backup.close();
  }
}
