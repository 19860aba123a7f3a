/**
 * Durability: an append-only journal of framed records plus periodic snapshots, under `dbpath`.
 *
 * Record frame: u32 LE payload length, u32 LE CRC-32C of the payload, payload (one BSON document).
 * A record is the unit of atomicity: a write command's effects or a whole transaction are one record.
 * `append` resolves only after the record is on disk (fdatasync); concurrent appends share one
 * write + fdatasync (group commit).
 *
 * Files: `journal.<gen>` (records after snapshot <gen>), `snapshot.bson` (framed records: header with
 * gen, then document chunks, then an end marker), written to a temp file, fsynced and renamed.
 * Recovery loads the snapshot (if any) and replays every journal with gen >= the snapshot's gen.
 *
 * Encryption at rest (optional store key, 32 bytes): every record payload written is sealed with
 * AES-256-GCM — version byte 1, 12-byte random nonce, ciphertext, 16-byte tag — with the file kind
 * ("journal" / "snapshot") as additional data, so a record moved from one kind of file to the other
 * does not open. Without a key records are written as before: the payload is the BSON document
 * itself (version 0, "plain"; it has no version byte and is recognised by its shape — int32 length
 * equal to the payload's, last byte 0 — which a sealed payload is never given). Recovery reads both,
 * so an existing data folder opened with a key keeps working and is sealed by its first snapshot.
 * A sealed record that does not open (the CRC was right, so it is not a torn write) refuses the
 * start: with the key's first sealed record it is the wrong key, later it is a damaged record. A
 * plain record after a sealed one is refused too (plain records are never written once a key is in
 * use). Sealed records without a key refuse the start. No message ever holds key material.
 * A torn or corrupt last record is truncated with a warning; a corrupt record followed by a valid
 * one means the file is damaged in the middle, and recovery refuses to start.
 *
 * A full disk. The engine applies a write in memory first and journals it after, so a journal
 * write that fails leaves memory ahead of the disk. Two lines of defence:
 *  1. `assertWritable` (called before a write command touches memory) refuses it with
 *     OutOfDiskSpace (14031) while the filesystem has less than `minFreeBytes` free (default
 *     64 MiB, `LIAISON_STORE_MIN_FREE_MB`), and admits writes again by itself once space returns:
 *     the common case needs no restart. Snapshots stop short of the same reserve.
 *  2. If a journal write or fdatasync fails anyway (the reserve was outrun by one large write or by
 *     another process), the journal is fenced: the failed batch and every later one are refused,
 *     the file is cut back to the end of the last batch that was written whole, and
 *     `assertReadable` refuses reads too, until the store is restarted. Memory then holds writes that
 *     are not on disk and may have been built on by later writes; undoing them in place would need an
 *     undo log the engine does not keep, and after a failed fsync the page cache cannot be trusted
 *     (a retried fsync may report success for pages the kernel dropped). Refusing reads means nobody
 *     ever sees, or acknowledges to a partner, a write that is not on disk; a restart replays exactly
 *     the acknowledged prefix. MongoDB itself stops (fatal assertion) when its journal cannot be written.
 */
import { promises as fsp, openSync, closeSync, writeSync, readFileSync, existsSync, unlinkSync, fsyncSync, ftruncateSync, readdirSync, rmSync, statfsSync } from "node:fs";
import path from "node:path";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { BSON } from "bson";
import { crc32c } from "./crc32c.ts";
import { StoreError, outOfDiskSpace } from "./errors.ts";
import type { Logger } from "../logging/index.ts";
import type { Doc } from "./values.ts";

export const DESERIALIZE_OPTIONS = { promoteLongs: true, promoteValues: true, bsonRegExp: false } as const;

export function frameRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32c(payload), 4);
  out.set(payload, 8);
  return out;
}

/** Thrown when the journal or snapshot is damaged in a way that cannot be safely truncated. */
export class JournalCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JournalCorruptError";
  }
}

function validAt(buf: Buffer, off: number): boolean {
  if (off + 8 > buf.length) return false;
  const len = buf.readUInt32LE(off);
  if (len < 5 || off + 8 + len > buf.length) return false;
  return crc32c(buf, off + 8, off + 8 + len) === buf.readUInt32LE(off + 4);
}

/**
 * Parse framed records. Returns the payloads and the byte length of the valid prefix. A bad record
 * at the end is reported as `tornAt`; a bad record with a valid one after it throws.
 */
export function parseRecords(buf: Buffer, file: string): { payloads: Buffer[]; offsets: number[]; validLength: number; tornAt?: number } {
  const payloads: Buffer[] = [];
  const offsets: number[] = [];
  let off = 0;
  while (off < buf.length) {
    if (validAt(buf, off)) {
      const len = buf.readUInt32LE(off);
      offsets.push(off);
      payloads.push(buf.subarray(off + 8, off + 8 + len));
      off += 8 + len;
      continue;
    }
    // Damaged record at `off`. If any valid record starts later, this is corruption in the middle.
    const declared = off + 8 <= buf.length ? buf.readUInt32LE(off) : 0;
    const next = off + 8 + declared;
    let laterValid = declared >= 5 && next < buf.length && validAt(buf, next);
    if (!laterValid) {
      for (let p = off + 1; p + 8 < buf.length && !laterValid; p++) {
        const l = buf.readUInt32LE(p);
        const shaped = buf[p + 8 + l - 1] === 0 || (buf[p + 8] === SEALED && l >= SEALED_OVERHEAD + 5);
        if (l >= 5 && p + 8 + l <= buf.length && shaped && validAt(buf, p)) laterValid = true;
      }
    }
    if (laterValid) {
      throw new JournalCorruptError(
        `${file}: corrupt record at byte ${off} is followed by valid records; refusing to start (restore from backup or remove the damaged file deliberately)`,
      );
    }
    return { payloads, offsets, validLength: off, tornAt: off };
  }
  return { payloads, offsets, validLength: off };
}

// ---------- encryption at rest ----------

/** The version byte of a sealed payload (a plain payload is a bare BSON document: version 0). */
const SEALED = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;
export type RecordKind = "journal" | "snapshot";
const AAD: Record<RecordKind, Buffer> = {
  journal: Buffer.from("liaison-store journal record v1"),
  snapshot: Buffer.from("liaison-store snapshot record v1"),
};

/** The store key does not match the data folder (missing or wrong); the store does not start. */
export class StoreKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreKeyError";
  }
}

export function checkStoreKey(key: Uint8Array | undefined): Buffer | undefined {
  if (key === undefined) return undefined;
  if (key.length !== 32) throw new TypeError(`the store encryption key must be 32 bytes, got ${key.length}`);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** A bare BSON document: int32 LE length equal to the payload's, last byte 0. */
function isPlain(payload: Uint8Array): boolean {
  return payload.length >= 5 && Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readInt32LE(0) === payload.length && payload[payload.length - 1] === 0;
}

/** The payload to frame: the document itself without a key, else sealed with AES-256-GCM. */
export function sealRecord(payload: Uint8Array, key: Buffer | undefined, kind: RecordKind): Uint8Array {
  if (!key) return payload;
  for (;;) {
    const out = Buffer.allocUnsafe(SEALED_OVERHEAD + payload.length);
    out[0] = SEALED;
    const nonce = randomBytes(NONCE_BYTES);
    nonce.copy(out, 1);
    const cipher = createCipheriv("aes-256-gcm", key, nonce);
    cipher.setAAD(AAD[kind]);
    let at = 1 + NONCE_BYTES;
    at += cipher.update(payload).copy(out, at);
    at += cipher.final().copy(out, at);
    cipher.getAuthTag().copy(out, at);
    // Never shaped like a plain document (about 1 in 2^32): draw another nonce.
    if (!isPlain(out)) return out;
  }
}

/** Opens the records of one file in order; `sealedSeen` carries across the files of one recovery. */
class RecordOpener {
  sealedSeen = false;
  sealedOpened = 0;
  plain = 0;
  constructor(private readonly key: Buffer | undefined) {}

  open(payload: Buffer, kind: RecordKind, file: string, offset: number): Buffer {
    if (isPlain(payload)) {
      if (this.sealedSeen) throw new JournalCorruptError(`${file}: plain record at byte ${offset} after sealed records (never written by this store: injected or damaged); refusing to start`);
      this.plain++;
      return payload;
    }
    if (payload[0] !== SEALED || payload.length < SEALED_OVERHEAD + 5) {
      throw new JournalCorruptError(`${file}: record at byte ${offset} is of an unknown format (version ${payload[0]}); refusing to start`);
    }
    this.sealedSeen = true;
    if (!this.key) {
      throw new StoreKeyError(
        `${file}: the store's records are encrypted at rest (AES-256-GCM) and no store key was given; start it with the key it was sealed with (a node derives it from data.key in its identity folder; \`liaison store start\` reads LIAISON_STORE_KEY_FILE)`,
      );
    }
    const nonce = payload.subarray(1, 1 + NONCE_BYTES);
    const tag = payload.subarray(payload.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, nonce);
      decipher.setAAD(AAD[kind]);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(payload.subarray(1 + NONCE_BYTES, payload.length - TAG_BYTES)), decipher.final()]);
      this.sealedOpened++;
      return plain;
    } catch {
      if (this.sealedOpened === 0) {
        throw new StoreKeyError(
          `${file}: the store's records do not open with the store key given: they were sealed with another key (or the record at byte ${offset} is damaged); refusing to start`,
        );
      }
      throw new JournalCorruptError(`${file}: record at byte ${offset} fails authentication (damaged or altered); refusing to start (restore from backup)`);
    }
  }
}

export interface RecoveredState {
  snapshot: Doc | null; // header record
  snapshotChunks: Doc[];
  journalRecords: Doc[];
  gen: number;
  /** Records read in clear (a folder written without a key); 0 when everything is sealed. */
  plainRecords: number;
}

const journalName = (gen: number): string => `journal.${String(gen).padStart(8, "0")}`;

export function recover(dbpath: string, log: Logger, encryptionKey?: Uint8Array): RecoveredState {
  const opener = new RecordOpener(checkStoreKey(encryptionKey));
  let snapshot: Doc | null = null;
  const snapshotChunks: Doc[] = [];
  const snapFile = path.join(dbpath, "snapshot.bson");
  let gen = 0;
  // A snapshot interrupted by a crash or a full disk: never read, only taking space.
  rmSync(path.join(dbpath, "snapshot.bson.tmp"), { force: true });
  if (existsSync(snapFile)) {
    const buf = readFileSync(snapFile);
    const { payloads, offsets, tornAt } = parseRecords(buf, snapFile);
    if (tornAt !== undefined) throw new JournalCorruptError(`${snapFile}: truncated snapshot (byte ${tornAt}); refusing to start`);
    const docs = payloads.map((p, i) => BSON.deserialize(opener.open(p, "snapshot", snapFile, offsets[i]), DESERIALIZE_OPTIONS));
    if (docs.length < 2 || docs[0].kind !== "header" || docs[docs.length - 1].kind !== "end") {
      throw new JournalCorruptError(`${snapFile}: incomplete snapshot; refusing to start`);
    }
    snapshot = docs[0];
    gen = Number(docs[0].gen);
    snapshotChunks.push(...docs.slice(1, -1));
  }
  const journals = listJournals(dbpath).filter((g) => g >= gen);
  const journalRecords: Doc[] = [];
  for (const g of journals) {
    const file = path.join(dbpath, journalName(g));
    const buf = readFileSync(file);
    const { payloads, offsets, validLength, tornAt } = parseRecords(buf, file);
    // Opened before a torn tail is cut: a record that does not open refuses the start untouched.
    const opened = payloads.map((p, i) => opener.open(p, "journal", file, offsets[i]));
    if (tornAt !== undefined) {
      if (g !== journals[journals.length - 1]) {
        throw new JournalCorruptError(`${file}: corrupt record at byte ${tornAt} in a journal that is not the latest; refusing to start`);
      }
      log.warn("journal tail is torn or corrupt; truncating the last record", { file, offset: tornAt, dropped: buf.length - validLength });
      const fd = openSync(file, "r+");
      try {
        ftruncateSync(fd, validLength);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    for (const p of opened) journalRecords.push(BSON.deserialize(p, DESERIALIZE_OPTIONS));
  }
  if (journals.length) gen = Math.max(gen, journals[journals.length - 1]);
  return { snapshot, snapshotChunks, journalRecords, gen, plainRecords: opener.plain };
}


export function listJournals(dbpath: string): number[] {
  const gens: number[] = [];
  for (const f of readdirSafe(dbpath)) {
    const m = /^journal\.(\d+)$/.exec(f);
    if (m) gens.push(Number(m[1]));
  }
  return gens.sort((a, b) => a - b);
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Free space kept in reserve under a dbpath: write commands are refused below it. */
export const DEFAULT_MIN_FREE_BYTES = 64 << 20;

/** The reserve: `LIAISON_STORE_MIN_FREE_MB` (MiB, 0 = none), else `DEFAULT_MIN_FREE_BYTES`. */
export function minFreeBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.LIAISON_STORE_MIN_FREE_MB;
  if (value === undefined || value.trim() === "") return DEFAULT_MIN_FREE_BYTES;
  const mebibytes = Number(value);
  if (!Number.isFinite(mebibytes) || mebibytes < 0) throw new TypeError(`LIAISON_STORE_MIN_FREE_MB must be a number of MiB >= 0, got "${value}"`);
  return Math.round(mebibytes * 1024 * 1024);
}

/** Bytes an unprivileged writer may still use on the filesystem holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

const isDiskFull = (e: unknown): boolean => ["ENOSPC", "EDQUOT"].includes((e as NodeJS.ErrnoException | null)?.code ?? "");
const mib = (bytes: number): string => (bytes / (1 << 20)).toFixed(2);

/** What every command that reads or writes data is answered once the journal has failed. */
function fenceError(cause: unknown): StoreError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const text = `the journal could not be written (${reason}); this store refuses reads and writes until it is restarted, so that nothing that is not on disk is ever read`;
  return isDiskFull(cause) ? outOfDiskSpace(text) : new StoreError(1, text);
}

/**
 * The open journal file with group commit. Records appended while the event loop runs are written
 * together with one write; the batch is acknowledged after its fdatasync. A new batch is written
 * and synced while the previous batch's fdatasync is still running (at most `MAX_IN_FLIGHT` syncs
 * overlap), so writers arriving during a sync do not wait for it to finish before theirs starts.
 * Writes stay in order, and a batch is acknowledged only once every earlier batch is durable too.
 * A batch whose write or fdatasync fails fences the journal (see the file's comment): it and every
 * later batch are refused, earlier batches that are durable are still acknowledged.
 */
const MAX_IN_FLIGHT = 2;

export class Journal {
  private fhReady: Promise<fsp.FileHandle> | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiters: Waiter[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** Resolves when every batch started so far has been written (keeps writes in order). */
  private written: Promise<void> = Promise.resolve();
  /** Resolves when every batch started so far is durable (or failed). */
  private durable: Promise<void> = Promise.resolve();
  size = 0;
  gen: number;
  private readonly dbpath: string;
  private readonly log: Logger;
  /** Set when the disk refused a write or a sync: the answer to every data command until restart. */
  failed: StoreError | null = null;
  /** Batches are numbered; the first that failed and every later one are refused. */
  private batches = 0;
  private failedFrom = Infinity;
  /** Bytes appended but not yet written to the file. */
  private unwritten = 0;
  /** Free space kept in reserve (bytes; 0 = none): `assertWritable` refuses writes below it. */
  minFreeBytes = minFreeBytesFromEnv();
  /** The last statfs: free bytes (less what was still unwritten then), when, and bytes appended since. */
  private free = { bytes: Infinity, at: -Infinity, appended: 0 };

  /** The store key (32 bytes): records are sealed with AES-256-GCM; none = written in clear. */
  private readonly key: Buffer | undefined;

  constructor(dbpath: string, gen: number, log: Logger, encryptionKey?: Uint8Array) {
    this.dbpath = dbpath;
    this.gen = gen;
    this.log = log;
    this.key = checkStoreKey(encryptionKey);
  }

  async open(): Promise<void> {
    const file = path.join(this.dbpath, journalName(this.gen));
    this.fhReady = fsp.open(file, "a");
    this.size = (await (await this.fhReady).stat()).size;
    await syncDir(this.dbpath);
  }

  /** Refuse a command that reads data once the journal has failed (until restart). */
  assertReadable(): void {
    if (this.failed) throw this.failed;
  }

  /**
   * Refuse a write command before it changes anything in memory: the journal has failed, or the
   * filesystem has less than `minFreeBytes` free once the records not yet written are counted.
   * statfs (about 3 µs) is asked at most every 100 ms, every 10 ms once the estimate nears the
   * reserve, and before every refusal; in between, the estimate is the last answer less what was
   * appended since.
   */
  assertWritable(): void {
    this.assertReadable();
    if (this.minFreeBytes <= 0) return;
    const now = performance.now();
    const age = now - this.free.at;
    let free = this.free.bytes - this.free.appended;
    if (age > 100 || free < this.minFreeBytes || (free < 2 * this.minFreeBytes && age > 10)) {
      try {
        free = freeBytes(this.dbpath) - this.unwritten;
      } catch {
        free = Infinity; // a filesystem that cannot say: the journal's own errors still fence
      }
      this.free = { bytes: free, at: now, appended: 0 };
    }
    if (free < this.minFreeBytes) {
      throw outOfDiskSpace(
        `not enough free disk space for the journal: ${mib(Math.max(0, free))} MiB free, ${mib(this.minFreeBytes)} MiB kept in reserve; writes are refused until space is freed`,
      );
    }
  }

  /** Append one record; resolves once it is on disk. */
  append(payload: Uint8Array): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const rec = frameRecord(sealRecord(payload, this.key, "journal"));
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.size += rec.length;
    this.unwritten += rec.length;
    this.free.appended += rec.length;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.schedule();
    return p;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.pending.length === 0) return;
    this.scheduled = true;
    // Let the current burst of synchronous work enqueue its records first.
    setImmediate(() => {
      this.scheduled = false;
      this.startBatch();
    });
  }

  /** Batch `n` failed: fence the journal (once) and refuse `n` and every batch after it. */
  private fail(cause: unknown, n: number): void {
    this.failedFrom = Math.min(this.failedFrom, n);
    if (this.failed) return;
    this.failed = fenceError(cause);
    this.log.error("journal write failed; the store refuses reads and writes until it is restarted", { error: cause });
  }

  /** Cut the file back to `length` (the end of the last batch written whole): no orphan records. */
  private async cutBack(fh: fsp.FileHandle, length: number): Promise<void> {
    try {
      await fh.truncate(length);
    } catch (error) {
      this.log.warn("could not cut the journal back after a failed write; recovery will drop the torn tail", { error });
    }
  }

  private startBatch(force = false): void {
    if (this.pending.length === 0 || (!force && this.inFlight >= MAX_IN_FLIGHT)) return;
    const bufs = this.pending;
    const total = this.pendingBytes;
    const ws = this.waiters;
    const n = this.batches++;
    const start = this.size - total; // where this batch begins in the current file
    this.pending = [];
    this.pendingBytes = 0;
    this.waiters = [];
    this.inFlight++;
    const fhReady = this.fhReady;
    const joined = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs, total);
    const prevWritten = this.written;
    const prevDurable = this.durable;
    let batchFh: fsp.FileHandle | null = null;
    const written = (async () => {
      await prevWritten;
      if (this.failed) throw this.failed;
      try {
        if (!fhReady) throw new Error("journal is closed");
        batchFh = await fhReady;
        let off = 0;
        while (off < joined.length) {
          const { bytesWritten } = await batchFh.write(joined, off, joined.length - off);
          off += bytesWritten;
        }
      } catch (error) {
        // Fence before the next batch may write after a torn one, then drop what was torn.
        this.fail(error, n);
        if (batchFh) await this.cutBack(batchFh, start);
        throw error;
      }
      this.unwritten -= total;
      return batchFh;
    })();
    this.written = written.then(
      () => undefined,
      () => undefined,
    );
    const synced = written.then((fh) => fh.datasync());
    this.durable = (async () => {
      let err: unknown = null;
      try {
        await synced;
      } catch (e) {
        err = e;
      }
      await prevDurable;
      if (err && n < this.failedFrom) {
        // The sync failed (the write did not): cut back once the writes already started are done.
        this.fail(err, n);
        const fh = batchFh;
        if (fh) this.written = this.written.then(() => this.cutBack(fh, start));
      }
      for (const w of ws) {
        if (n >= this.failedFrom) w.reject(this.failed);
        else w.resolve();
      }
      this.inFlight--;
      this.schedule();
    })();
  }

  async drain(): Promise<void> {
    for (;;) {
      const d = this.durable;
      await d;
      if (this.pending.length === 0 && this.inFlight === 0 && d === this.durable) return;
      if (this.pending.length && !this.scheduled && this.inFlight < MAX_IN_FLIGHT) this.startBatch();
      else await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * Switch to journal gen+1 now: records appended from this moment go to the new file. Resolves
   * when the old file's in-flight writes are done and it is closed.
   */
  rotate(): Promise<void> {
    const oldReady = this.fhReady;
    // Records still pending belong to the old file: start their batch before switching.
    this.startBatch(true);
    const oldDurable = this.durable;
    this.gen += 1;
    this.size = 0;
    this.fhReady = fsp.open(path.join(this.dbpath, journalName(this.gen)), "a");
    return (async () => {
      await oldDurable;
      await (await oldReady)?.close();
      await this.fhReady;
      await syncDir(this.dbpath);
    })();
  }

  async close(): Promise<void> {
    await this.drain();
    const fh = this.fhReady;
    this.fhReady = null;
    await (await fh)?.close();
  }
}

export async function syncDir(dir: string): Promise<void> {
  try {
    const d = await fsp.open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}

/**
 * Write a snapshot (records already framed) atomically: temp file, fsync, rename, fsync dir. It
 * stops short of the journal's reserve (`minFreeBytes`) with OutOfDiskSpace rather than take the
 * space the journal needs; a snapshot that fails leaves no temp file, and the journals it would
 * have replaced stay (recovery replays them).
 */
export async function writeSnapshot(
  dbpath: string,
  records: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  minFreeBytes = minFreeBytesFromEnv(),
  encryptionKey?: Uint8Array,
): Promise<void> {
  const key = checkStoreKey(encryptionKey);
  const tmp = path.join(dbpath, "snapshot.bson.tmp");
  const fh = await fsp.open(tmp, "w");
  let complete = false;
  const flush = async (buf: Buffer): Promise<void> => {
    if (minFreeBytes > 0 && freeBytes(dbpath) - buf.length < minFreeBytes) {
      throw outOfDiskSpace(`not enough free disk space for a snapshot: the journal's ${mib(minFreeBytes)} MiB reserve is kept; the journals stay until a snapshot fits`);
    }
    for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
  };
  try {
    let batch: Buffer[] = [];
    let size = 0;
    for await (const payload of records) {
      const f = frameRecord(sealRecord(payload, key, "snapshot"));
      batch.push(f);
      size += f.length;
      if (size > 4 << 20) {
        await flush(Buffer.concat(batch));
        batch = [];
        size = 0;
      }
    }
    if (batch.length) await flush(Buffer.concat(batch));
    await fh.sync();
    complete = true;
  } finally {
    await fh.close();
    if (!complete) rmSync(tmp, { force: true });
  }
  await fsp.rename(tmp, path.join(dbpath, "snapshot.bson"));
  await syncDir(dbpath);
}

export function removeJournalsBelow(dbpath: string, gen: number): void {
  for (const g of listJournals(dbpath)) {
    if (g < gen) {
      try {
        unlinkSync(path.join(dbpath, journalName(g)));
      } catch {
        // already gone
      }
    }
  }
}

const openPaths = new Set<string>();

/** Take the dbpath lock (a pid file); refuse if another live process (or this one) holds it. */
export function lockDbpath(dbpath: string): () => void {
  const abs = path.resolve(dbpath);
  if (openPaths.has(abs)) throw new Error(`dbpath ${abs} is already in use by this process`);
  const lockFile = path.join(abs, "mongod.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, "wx");
      try {
        writeSync(fd, String(process.pid));
        fsyncSync(fd);
      } catch (e) {
        closeSync(fd);
        unlinkSync(lockFile);
        if (isDiskFull(e)) throw new Error(`cannot lock dbpath ${abs}: no space left on its filesystem; free some space, then start again`, { cause: e });
        throw e;
      }
      closeSync(fd);
      openPaths.add(abs);
      return () => {
        openPaths.delete(abs);
        try {
          unlinkSync(lockFile);
        } catch {
          // already removed
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(lockFile, "utf8").trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`dbpath ${abs} is locked by running process ${pid} (${lockFile})`);
      }
      unlinkSync(lockFile); // stale lock from a process that died
    }
  }
  throw new Error(`cannot lock dbpath ${abs}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
