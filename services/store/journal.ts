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
 * A torn or corrupt last record is truncated with a warning; a corrupt record followed by a valid
 * one means the file is damaged in the middle, and recovery refuses to start.
 */
import { promises as fsp, openSync, closeSync, writeSync, readFileSync, existsSync, unlinkSync, fsyncSync, ftruncateSync, readdirSync } from "node:fs";
import path from "node:path";
import { BSON } from "bson";
import { crc32c } from "./crc32c.ts";
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
export function parseRecords(buf: Buffer, file: string): { payloads: Buffer[]; validLength: number; tornAt?: number } {
  const payloads: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    if (validAt(buf, off)) {
      const len = buf.readUInt32LE(off);
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
        if (l >= 5 && p + 8 + l <= buf.length && buf[p + 8 + l - 1] === 0 && validAt(buf, p)) laterValid = true;
      }
    }
    if (laterValid) {
      throw new JournalCorruptError(
        `${file}: corrupt record at byte ${off} is followed by valid records; refusing to start (restore from backup or remove the damaged file deliberately)`,
      );
    }
    return { payloads, validLength: off, tornAt: off };
  }
  return { payloads, validLength: off };
}

export interface RecoveredState {
  snapshot: Doc | null; // header record
  snapshotChunks: Doc[];
  journalRecords: Doc[];
  gen: number;
}

const journalName = (gen: number): string => `journal.${String(gen).padStart(8, "0")}`;

export function recover(dbpath: string, log: Logger): RecoveredState {
  let snapshot: Doc | null = null;
  const snapshotChunks: Doc[] = [];
  const snapFile = path.join(dbpath, "snapshot.bson");
  let gen = 0;
  if (existsSync(snapFile)) {
    const buf = readFileSync(snapFile);
    const { payloads, tornAt } = parseRecords(buf, snapFile);
    if (tornAt !== undefined) throw new JournalCorruptError(`${snapFile}: truncated snapshot (byte ${tornAt}); refusing to start`);
    const docs = payloads.map((p) => BSON.deserialize(p, DESERIALIZE_OPTIONS));
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
    const { payloads, validLength, tornAt } = parseRecords(buf, file);
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
    for (const p of payloads) journalRecords.push(BSON.deserialize(p, DESERIALIZE_OPTIONS));
  }
  if (journals.length) gen = Math.max(gen, journals[journals.length - 1]);
  return { snapshot, snapshotChunks, journalRecords, gen };
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

/**
 * The open journal file with group commit. Records appended while the event loop runs are written
 * together with one write; the batch is acknowledged after its fdatasync. A new batch is written
 * and synced while the previous batch's fdatasync is still running (at most `MAX_IN_FLIGHT` syncs
 * overlap), so writers arriving during a sync do not wait for it to finish before theirs starts.
 * Writes stay in order, and a batch is acknowledged only once every earlier batch is durable too.
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
  /** Set if the disk refused a write; further writes fail (never acknowledged without disk). */
  failed: unknown = null;

  constructor(dbpath: string, gen: number, log: Logger) {
    this.dbpath = dbpath;
    this.gen = gen;
    this.log = log;
  }

  async open(): Promise<void> {
    const file = path.join(this.dbpath, journalName(this.gen));
    this.fhReady = fsp.open(file, "a");
    this.size = (await (await this.fhReady).stat()).size;
    await syncDir(this.dbpath);
  }

  /** Append one record; resolves once it is on disk. */
  append(payload: Uint8Array): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const rec = frameRecord(payload);
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.size += rec.length;
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

  private startBatch(force = false): void {
    if (this.pending.length === 0 || (!force && this.inFlight >= MAX_IN_FLIGHT)) return;
    const bufs = this.pending;
    const total = this.pendingBytes;
    const ws = this.waiters;
    this.pending = [];
    this.pendingBytes = 0;
    this.waiters = [];
    this.inFlight++;
    const fhReady = this.fhReady;
    const joined = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs, total);
    const prevWritten = this.written;
    const prevDurable = this.durable;
    const written = (async () => {
      await prevWritten;
      if (this.failed) throw this.failed;
      if (!fhReady) throw new Error("journal is closed");
      const fh = await fhReady;
      let off = 0;
      while (off < joined.length) {
        const { bytesWritten } = await fh.write(joined, off, joined.length - off);
        off += bytesWritten;
      }
      return fh;
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
      if (err && !this.failed) {
        this.failed = err;
        this.log.error("journal write failed; the store refuses further writes", { error: err });
      }
      const failure = err ?? this.failed;
      for (const w of ws) {
        if (failure) w.reject(failure);
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

/** Write a snapshot (records already framed) atomically: temp file, fsync, rename, fsync dir. */
export async function writeSnapshot(dbpath: string, records: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
  const tmp = path.join(dbpath, "snapshot.bson.tmp");
  const fh = await fsp.open(tmp, "w");
  try {
    let batch: Buffer[] = [];
    let size = 0;
    for await (const payload of records) {
      const f = frameRecord(payload);
      batch.push(f);
      size += f.length;
      if (size > 4 << 20) {
        await fh.write(Buffer.concat(batch));
        batch = [];
        size = 0;
      }
    }
    if (batch.length) await fh.write(Buffer.concat(batch));
    await fh.sync();
  } finally {
    await fh.close();
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
      writeSync(fd, String(process.pid));
      fsyncSync(fd);
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
