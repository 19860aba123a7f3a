/**
 * Reading a backup's parts back: documents into a database through the driver, identity files.
 */
import { gunzipSync } from "node:zlib";
import { BSON, type Db } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { decrypt, type BackupKeys } from "./crypto.ts";
import { bsonDocuments, fileRecords, type FileRecord, type OpenedBackup, type PartInfo } from "./format.ts";

/** Types exactly as stored: int32 stays int32, int64 stays int64, doubles stay doubles. */
const EXACT = { promoteValues: false, promoteBuffers: false, bsonRegExp: true } as const;

function gunzip(bytes: Buffer, part: PartInfo): Buffer {
  try {
    return gunzipSync(bytes);
  } catch {
    throw new LiaisonError("INVALID_ARGUMENT", `backup part ${part.name}: not valid gzip`);
  }
}

/** The documents of a collection part (hash checked), as BSON buffers. */
export function partDocuments(backup: OpenedBackup, part: PartInfo): Buffer[] {
  const docs = [...bsonDocuments(gunzip(backup.readVerifiedPart(part), part), part.name)];
  if (part.documents !== undefined && docs.length !== part.documents) {
    throw new LiaisonError("INVALID_ARGUMENT", `backup part ${part.name}: ${docs.length} documents, the manifest says ${part.documents}`);
  }
  return docs;
}

/** Insert a collection part into `db` (the collection must be empty) and create its indexes. */
export async function loadCollection(backup: OpenedBackup, part: PartInfo, db: Db, onDocuments?: (n: number) => void): Promise<number> {
  const docs = partDocuments(backup, part);
  const collection = db.collection(part.collection!);
  for (let i = 0; i < docs.length; i += 1000) {
    const batch = docs.slice(i, i + 1000).map((d) => BSON.deserialize(d, EXACT));
    await collection.insertMany(batch, { ordered: true });
    onDocuments?.(batch.length);
  }
  if (docs.length === 0) await db.createCollection(part.collection!).catch(() => undefined);
  for (const index of part.indexes ?? []) {
    const { key, name, ...rest } = index;
    await collection.createIndex(key as never, { name, ...rest });
  }
  return docs.length;
}

export function publicFiles(backup: OpenedBackup): FileRecord[] {
  const part = findPart(backup, "identity/public");
  return fileRecords(gunzip(backup.readVerifiedPart(part), part).toString("utf8"), part.name);
}

/** The private key files; undefined when the key does not open them (wrong passphrase). */
export function secretFiles(backup: OpenedBackup, keys: BackupKeys): FileRecord[] | undefined {
  const part = findPart(backup, "identity/private");
  const plain = decrypt(keys.encryption, backup.readVerifiedPart(part), `${backup.manifest.backupId} identity/private`);
  if (!plain) return undefined;
  return fileRecords(gunzip(plain, part).toString("utf8"), part.name);
}

export function findPart(backup: OpenedBackup, name: string): PartInfo {
  const part = backup.manifest.parts.find((p) => p.name === name);
  if (!part) throw new LiaisonError("INVALID_ARGUMENT", `the backup has no part ${name}`);
  return part;
}
