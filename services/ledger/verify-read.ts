/**
 * The reads behind `verifyLedger`: a collection in the order of its unique `index` (per level for
 * tree nodes), as pages of raw BSON, the next page fetched while the current one is checked.
 *
 * Each page is one `find` command with a limit and `singleBatch`, run through the driver with
 * `raw: true`: the driver hands back the reply's `cursor` document as bytes (one view, no per-
 * document decoding) and the documents are read in place. The first page starts at the beginning
 * of the sort order (so documents whose `index` is missing, null or below every number come
 * first, exactly as a cursor over the whole order would give them); every later page asks for the
 * documents after the last `index` seen (`$gt`, an index range on MongoDB and on the embedded
 * store alike). Each page costs the server O(page), wherever it is in the log, and no server
 * cursor is left open. Documents whose `index` is not a number sort after every number and are
 * never returned past the first page: the caller counts the collection to find them.
 *
 * A page holds at most `pageSize` documents and at most what fits in one reply (16 MiB): a short
 * page is followed by another until one comes back empty.
 */
import type { Db, Document } from "mongodb";

const EMPTY = new Uint8Array(0);

/** BSON element types the ledger's documents use. */
const DOUBLE = 0x01;
const STRING = 0x02;
const DOCUMENT = 0x03;
const ARRAY = 0x04;
const BINARY = 0x05;
const DATE = 0x09;
const INT32 = 0x10;
const INT64 = 0x12;

function int32(buf: Uint8Array, at: number): number {
  return buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24);
}

/** Byte size of the value of an element of `type` at `at`, or -1 for a type the ledger never writes. */
function valueSize(buf: Uint8Array, type: number, at: number): number {
  switch (type) {
    case DOUBLE: case DATE: case INT64: case 0x11: return 8;
    case STRING: case 0x0d: case 0x0e: return 4 + int32(buf, at);
    case DOCUMENT: case ARRAY: return int32(buf, at);
    case BINARY: return 5 + int32(buf, at);
    case 0x06: case 0x0a: case 0x7f: case 0xff: return 0;
    case 0x07: return 12;
    case 0x08: return 1;
    case INT32: return 4;
    case 0x13: return 16;
    default: return -1;
  }
}

/** The number an int32, int64 or double element holds; NaN for any other type. */
function numberAt(buf: Uint8Array, type: number, at: number): number {
  if (type === INT32) return int32(buf, at);
  if (type === DOUBLE || type === INT64) {
    const view = new DataView(buf.buffer, buf.byteOffset + at, 8);
    return type === DOUBLE ? view.getFloat64(0, true) : Number(view.getBigInt64(0, true));
  }
  return Number.NaN;
}

/** True when the element name at `at` (NUL-terminated) is `name` (ASCII). */
function nameIs(buf: Uint8Array, at: number, nameEnd: number, name: string): boolean {
  if (nameEnd - at !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (buf[at + i] !== name.charCodeAt(i)) return false;
  return true;
}

/** The UTF-8 string value at `at` (int32 length incl. NUL, bytes, NUL). */
export function stringAt(buf: Uint8Array, at: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + at + 4, Math.max(0, int32(buf, at) - 1)).toString("utf8");
}

/** Checks the decimal digits of the non-negative integer `n` ending before `end`; returns where they start. */
function digitsBefore(buf: Uint8Array, end: number, n: number, from: number): number {
  let p = end;
  do {
    if (--p < from || buf[p] !== 0x30 + (n % 10)) return -1;
    n = Math.floor(n / 10);
  } while (n > 0);
  return p;
}

/**
 * True when the string value at `at` (int32 length incl. NUL, bytes, NUL) is the node key
 * `${level}/${index}` (merkle's `nodeKey`), compared without building the string.
 */
export function nodeKeyIs(buf: Uint8Array, at: number, level: number, index: number): boolean {
  const len = int32(buf, at);
  const from = at + 4;
  const end = from + len - 1; // the NUL
  if (len < 4 || buf[end] !== 0) return false;
  const slash = digitsBefore(buf, end, index, from) - 1;
  if (slash < from + 1 || buf[slash] !== 0x2f) return false;
  return digitsBefore(buf, slash, level, from) === from;
}

/**
 * Where a ledger document's fields are, read in place. Numbers are NaN and positions -1 when the
 * field is missing or of another type (the caller then decodes the document to say what it is).
 */
export class Fields {
  /** `_id` when it is a number. */
  id = Number.NaN;
  /** Type and value position of `_id`, whatever its type. */
  idType = 0;
  idAt = -1;
  index = Number.NaN;
  /** Binary `bytes` (entries): data position and length; subtype byte at dataAt - 1. */
  bytesAt = -1;
  bytesLen = 0;
  /** Binary `leafHash` (entries) or `hash` (nodes). */
  hashAt = -1;
  hashLen = 0;
  /** String `kind` (entries): position of its value (int32 length, bytes). */
  kindAt = -1;
  /** Date `appendedAt` (entries), ms since the epoch. */
  appendedAt = Number.NaN;

  /** Reads the top-level fields of the document at `at`; stops at a type it cannot size. */
  read(buf: Uint8Array, at: number): this {
    this.id = Number.NaN;
    this.idType = 0;
    this.idAt = -1;
    this.index = Number.NaN;
    this.bytesAt = -1;
    this.bytesLen = 0;
    this.hashAt = -1;
    this.hashLen = 0;
    this.kindAt = -1;
    this.appendedAt = Number.NaN;
    const end = at + int32(buf, at) - 1;
    let p = at + 4;
    while (p < end) {
      const type = buf[p];
      const name = p + 1;
      const nameEnd = buf.indexOf(0, name);
      if (nameEnd < 0 || nameEnd >= end) return this;
      const v = nameEnd + 1;
      const size = valueSize(buf, type, v);
      if (size < 0 || v + size > end) return this;
      switch (nameEnd - name) {
        case 3:
          if (nameIs(buf, name, nameEnd, "_id")) {
            this.idType = type;
            this.idAt = v;
            this.id = type === INT32 ? int32(buf, v) : numberAt(buf, type, v);
          }
          break;
        case 4:
          if (type === STRING && nameIs(buf, name, nameEnd, "kind")) this.kindAt = v;
          else if (type === BINARY && nameIs(buf, name, nameEnd, "hash")) {
            this.hashAt = v + 5;
            this.hashLen = int32(buf, v);
          }
          break;
        case 5:
          if (nameIs(buf, name, nameEnd, "index")) this.index = type === INT32 ? int32(buf, v) : numberAt(buf, type, v);
          else if (type === BINARY && nameIs(buf, name, nameEnd, "bytes")) {
            this.bytesAt = v + 5;
            this.bytesLen = int32(buf, v);
          }
          break;
        case 8:
          if (type === BINARY && nameIs(buf, name, nameEnd, "leafHash")) {
            this.hashAt = v + 5;
            this.hashLen = int32(buf, v);
          }
          break;
        case 10:
          if (type === DATE && nameIs(buf, name, nameEnd, "appendedAt")) this.appendedAt = numberAt(buf, INT64, v);
          break;
      }
      p = v + size;
    }
    return this;
  }
}

/** One page: the reply's bytes and where each of its documents starts. */
interface Page {
  readonly buf: Uint8Array;
  readonly starts: number[];
  /** The `index` of its last document, when a number (where the next page starts). */
  readonly last: number;
}

/** The documents of the `firstBatch` array in a raw `cursor` document. */
function pageOf(cursor: Uint8Array): Page {
  const starts: number[] = [];
  const end = int32(cursor, 0) - 1;
  let p = 4;
  while (p < end) {
    const type = cursor[p];
    const nameEnd = cursor.indexOf(0, p + 1);
    const v = nameEnd + 1;
    const size = valueSize(cursor, type, v);
    if (nameEnd < 0 || size < 0) break;
    if (type === ARRAY && nameIs(cursor, p + 1, nameEnd, "firstBatch")) {
      const aend = v + size - 1;
      let q = v + 4;
      while (q < aend) {
        const z = cursor.indexOf(0, q + 1);
        if (cursor[q] !== DOCUMENT || z < 0) throw new TypeError("find reply: firstBatch holds a value that is not a document");
        starts.push(z + 1);
        q = z + 1 + int32(cursor, z + 1);
      }
      const last = starts.length > 0 ? new Fields().read(cursor, starts[starts.length - 1]).index : Number.NaN;
      return { buf: cursor, starts, last };
    }
    p = v + size;
  }
  throw new TypeError("find reply: no cursor.firstBatch");
}

export interface PagedScanSpec {
  readonly collection: string;
  /** Filter of the first page (the whole order). */
  readonly first: Document;
  /** Filter of the page after the document whose `index` is `last`. */
  readonly after: (last: number) => Document;
  readonly sort: Document;
  readonly hint?: string;
  readonly pageSize: number;
}

/**
 * A collection in sort order, page by page, one page read ahead. The current document is
 * `buf` at `at`; `buffered()` says whether there is one without a round trip, `ready()` waits for
 * the next page when needed. Closing it is not needed (no server cursor stays open).
 */
export class PagedScan {
  buf: Uint8Array = EMPTY;
  at = 0;
  private starts: number[] = [];
  private i = 0;
  private pending: Promise<Page> | null;

  constructor(
    private readonly db: Db,
    private readonly spec: PagedScanSpec,
  ) {
    this.pending = this.fetch(spec.first);
  }

  private fetch(filter: Document): Promise<Page> {
    const { collection, sort, hint, pageSize } = this.spec;
    const command: Document = { find: collection, filter, sort, limit: pageSize, batchSize: pageSize, singleBatch: true };
    if (hint) command.hint = hint;
    const p = this.db.command(command, { raw: true }).then((reply) => {
      const cursor = (reply as { cursor?: unknown }).cursor;
      if (!(cursor instanceof Uint8Array)) throw new TypeError("find reply: the driver did not return the cursor as raw BSON");
      return pageOf(cursor);
    });
    p.catch(() => undefined); // read ahead: a failure is reported when (if) the page is awaited
    return p;
  }

  /** True when a current document is buffered. */
  buffered(): boolean {
    return this.i < this.starts.length;
  }

  /** True when there is a current document (after fetching the next page if needed); false at the end. */
  async ready(): Promise<boolean> {
    while (this.i >= this.starts.length) {
      if (!this.pending) return false;
      const page = await this.pending;
      this.buf = page.buf;
      this.starts = page.starts;
      this.i = 0;
      // The next page is asked for before this one is checked. A last `index` that is not a
      // number has no "after": the caller stops at that document anyway (it is out of order).
      this.pending = page.starts.length > 0 && !Number.isNaN(page.last) ? this.fetch(this.spec.after(page.last)) : null;
    }
    this.at = this.starts[this.i];
    return true;
  }

  /** Moves to the next document (call `buffered()` or `ready()` before reading it). */
  advance(): void {
    this.i++;
    if (this.i < this.starts.length) this.at = this.starts[this.i];
  }

  /** The current document's bytes (a view). */
  current(): Uint8Array {
    const len = int32(this.buf, this.at);
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.at, len);
  }
}
