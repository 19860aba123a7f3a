/**
 * The backup file: one file, parts laid end to end, a manifest, a trailer.
 *
 *   "LIAISON-BACKUP 1\n"
 *   part 0 bytes | part 1 bytes | …          (each described in the manifest: offset, length, SHA-256)
 *   manifest (UTF-8 JSON)
 *   "\nMANIFEST <offset> <length> <sha256 hex> <hmac hex>\n"
 *
 * Parts:
 *  - `db/<collection>`: the collection's documents as raw BSON (each document exactly as the
 *    driver read it), concatenated, then gzip'd;
 *  - `identity/public`: certificates, attestations, party and partner files, as JSON lines
 *    {path, mode, data (base64)}, gzip'd;
 *  - `identity/private`: the private keys, same encoding, gzip'd, then AES-256-GCM under a key
 *    derived from the passphrase (./crypto.ts), the part name as additional data.
 *
 * The SHA-256 of each part is over its stored bytes, so `verify` checks integrity without the
 * passphrase; the HMAC of the manifest (keyed from the passphrase) proves, to whoever has it,
 * that the manifest — and through its hashes every part — is the one written.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { LiaisonError } from "../errors/index.ts";
import type { KdfParams } from "./crypto.ts";

export const MAGIC = "LIAISON-BACKUP 1\n";
export const FORMAT = "liaison-backup/1";

export interface IndexSpec {
  key: Record<string, unknown>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Record<string, unknown>;
  expireAfterSeconds?: number;
}

export interface PartInfo {
  name: string;
  kind: "collection" | "files";
  encoding: "bson-gzip" | "files-gzip" | "files-gzip-aes256gcm";
  offset: number;
  length: number;
  sha256: string;
  /** collection parts */
  collection?: string;
  documents?: number;
  indexes?: IndexSpec[];
  /** file parts */
  files?: number;
}

export interface Manifest {
  format: typeof FORMAT;
  backupId: string;
  createdAt: string;
  party: string;
  database: string;
  /** The ledger's tree head inside the snapshot. */
  ledger: { size: number; root: string };
  kdf: KdfParams;
  keyCheck: string;
  /** How the database was read: "transaction, readConcern snapshot". */
  consistency: string;
  parts: PartInfo[];
}

/** Appends parts to a file, tracking offsets and hashes. Synchronous writes: one writer, in order. */
export class BackupWriter {
  private readonly fd: number;
  private offset = 0;
  private current: { name: string; start: number; hash: ReturnType<typeof createHash> } | undefined;

  constructor(path: string) {
    this.fd = openSync(path, "wx", 0o600);
    this.raw(Buffer.from(MAGIC));
  }

  private raw(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done);
    this.offset += bytes.byteLength;
  }

  beginPart(name: string): void {
    if (this.current) throw new TypeError(`part ${this.current.name} is still open`);
    this.current = { name, start: this.offset, hash: createHash("sha256") };
  }

  write(bytes: Uint8Array): void {
    if (!this.current) throw new TypeError("no part is open");
    this.current.hash.update(bytes);
    this.raw(bytes);
  }

  endPart(): { offset: number; length: number; sha256: string } {
    const c = this.current;
    if (!c) throw new TypeError("no part is open");
    this.current = undefined;
    return { offset: c.start, length: this.offset - c.start, sha256: c.hash.digest("hex") };
  }

  finish(manifestBytes: Uint8Array, mac: string): void {
    const offset = this.offset;
    this.raw(manifestBytes);
    const sha = createHash("sha256").update(manifestBytes).digest("hex");
    this.raw(Buffer.from(`\nMANIFEST ${offset} ${manifestBytes.byteLength} ${sha} ${mac}\n`));
    closeSync(this.fd);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

export interface OpenedBackup {
  readonly path: string;
  readonly size: number;
  readonly manifest: Manifest;
  readonly manifestBytes: Buffer;
  readonly mac: string;
  /** Reads a part's stored bytes (no hash check). */
  readPart(part: PartInfo): Buffer;
  /** Reads a part and checks its SHA-256; a LiaisonError naming the part when it differs. */
  readVerifiedPart(part: PartInfo): Buffer;
  close(): void;
}

function damaged(path: string, what: string): LiaisonError {
  return new LiaisonError("INVALID_ARGUMENT", `${path} is not a usable Liaison backup: ${what}`);
}

/** Opens a backup and checks its magic, trailer and manifest hash. */
export function openBackup(path: string): OpenedBackup {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    throw new LiaisonError("INVALID_ARGUMENT", `cannot read backup ${path}: ${(cause as NodeJS.ErrnoException).code ?? "unreadable"}`, { cause });
  }
  try {
    const size = fstatSync(fd).size;
    const read = (offset: number, length: number): Buffer => {
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buf, done, length - done, offset + done);
        if (n === 0) throw damaged(path, "it ends early");
        done += n;
      }
      return buf;
    };
    if (size < MAGIC.length || read(0, MAGIC.length).toString("latin1") !== MAGIC) throw damaged(path, "it does not start with the backup header");
    const tailLength = Math.min(size, 512);
    const tail = read(size - tailLength, tailLength).toString("latin1");
    const at = tail.lastIndexOf("\nMANIFEST ");
    const m = at < 0 ? null : /^\nMANIFEST (\d+) (\d+) ([0-9a-f]{64}) ([0-9a-f]{64})\n$/.exec(tail.slice(at));
    if (!m) throw damaged(path, "its trailer is missing or damaged (the file may be truncated)");
    const offset = Number(m[1]);
    const length = Number(m[2]);
    if (offset + length !== size - (tailLength - at)) throw damaged(path, "its trailer does not point at the manifest");
    const manifestBytes = read(offset, length);
    if (createHash("sha256").update(manifestBytes).digest("hex") !== m[3]) throw damaged(path, "part manifest: SHA-256 mismatch (the manifest was changed or damaged)");
    let manifest: Manifest;
    try {
      manifest = JSON.parse(manifestBytes.toString("utf8")) as Manifest;
    } catch {
      throw damaged(path, "part manifest: not JSON");
    }
    if (manifest.format !== FORMAT || !Array.isArray(manifest.parts)) throw damaged(path, `part manifest: unknown format ${JSON.stringify(manifest.format)}`);
    for (const p of manifest.parts) {
      if (!(Number.isSafeInteger(p.offset) && Number.isSafeInteger(p.length) && p.offset >= MAGIC.length && p.offset + p.length <= offset)) {
        throw damaged(path, `part ${p.name}: its place in the file is impossible`);
      }
    }
    const readPart = (p: PartInfo) => read(p.offset, p.length);
    return {
      path,
      size,
      manifest,
      manifestBytes,
      mac: m[4]!,
      readPart,
      readVerifiedPart(p: PartInfo) {
        const bytes = readPart(p);
        if (createHash("sha256").update(bytes).digest("hex") !== p.sha256) {
          throw new LiaisonError("INVALID_ARGUMENT", `backup part ${p.name}: SHA-256 mismatch (the file was changed or damaged)`);
        }
        return bytes;
      },
      close: () => closeSync(fd),
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Splits concatenated BSON documents (each starts with its int32 little-endian length). */
export function* bsonDocuments(bytes: Buffer, partName: string): Generator<Buffer> {
  let at = 0;
  while (at < bytes.length) {
    if (at + 5 > bytes.length) throw new LiaisonError("INVALID_ARGUMENT", `backup part ${partName}: a document is cut short`);
    const length = bytes.readInt32LE(at);
    if (length < 5 || at + length > bytes.length || bytes[at + length - 1] !== 0) {
      throw new LiaisonError("INVALID_ARGUMENT", `backup part ${partName}: a document at byte ${at} is malformed`);
    }
    yield bytes.subarray(at, at + length);
    at += length;
  }
}

export interface FileRecord {
  path: string;
  mode: number;
  data: string;
}

/** Parses the JSON lines of a files part. */
export function fileRecords(text: string, partName: string): FileRecord[] {
  const out: FileRecord[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let r: FileRecord;
    try {
      r = JSON.parse(line) as FileRecord;
    } catch {
      throw new LiaisonError("INVALID_ARGUMENT", `backup part ${partName}: a line is not JSON`);
    }
    if (typeof r.path !== "string" || r.path.startsWith("/") || r.path.split("/").includes("..") || typeof r.data !== "string" || !Number.isInteger(r.mode)) {
      throw new LiaisonError("INVALID_ARGUMENT", `backup part ${partName}: a file record is malformed`);
    }
    out.push(r);
  }
  return out;
}
