/**
 * MongoDB wire protocol framing: OP_MSG (2013) with kind-0 body and kind-1 document sequences and
 * optional CRC-32C checksum, legacy OP_QUERY (2004) for the handshake, OP_REPLY (1) to answer it.
 * Reply documents may embed pre-serialized documents (`RawDocs`) without re-encoding them.
 */
import { BSON, Long } from "bson";
import { crc32c } from "./crc32c.ts";
import { StoreError } from "./errors.ts";
import { DESERIALIZE_OPTIONS } from "./journal.ts";
import type { Doc } from "./values.ts";

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const OP_COMPRESSED = 2012;
export const MAX_MESSAGE_SIZE = 48_000_000;
export const MAX_BSON_SIZE = 16 * 1024 * 1024;

export interface Header {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export interface ParsedMsg {
  flags: number;
  body: Doc;
  /** The body section's exact bytes. */
  bodyRaw: Buffer;
  /** Document sequences by identifier; each entry keeps the exact bytes. */
  sequences: Map<string, { docs: Doc[]; raws: Buffer[] }>;
}

export function readHeader(buf: Buffer, off = 0): Header {
  return {
    length: buf.readInt32LE(off),
    requestId: buf.readInt32LE(off + 4),
    responseTo: buf.readInt32LE(off + 8),
    opCode: buf.readInt32LE(off + 12),
  };
}

function readBsonAt(buf: Buffer, off: number, end: number): { doc: Doc; raw: Buffer; next: number } {
  if (off + 5 > end) throw new StoreError(22, "invalid BSON: truncated document");
  const len = buf.readInt32LE(off);
  if (len < 5 || off + len > end) throw new StoreError(22, `invalid BSON: document length ${len} exceeds message`);
  if (len > MAX_BSON_SIZE + 16 * 1024) throw new StoreError(10334, `BSONObj size: ${len} is invalid. Size must be between 0 and 16793600(16MB)`);
  const raw = buf.subarray(off, off + len);
  let doc: Doc;
  try {
    doc = BSON.deserialize(raw, DESERIALIZE_OPTIONS);
  } catch (e) {
    throw new StoreError(22, `invalid BSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { doc, raw, next: off + len };
}

/** Parse an OP_MSG whose whole message (header included) is `msg`. */
export function parseOpMsg(msg: Buffer): ParsedMsg {
  const flags = msg.readUInt32LE(16);
  let end = msg.length;
  if (flags & 1) {
    if (msg.length < 25) throw new StoreError(22, "OP_MSG too short for checksum");
    end -= 4;
    const want = msg.readUInt32LE(end);
    if (crc32c(msg, 0, end) !== want) throw new StoreError(22, "OP_MSG checksum mismatch");
  }
  if (flags & ~0x10003) throw new StoreError(22, `unsupported OP_MSG flag bits ${flags}`);
  let off = 20;
  let body: Doc | null = null;
  let bodyRaw: Buffer | null = null;
  let bodyDocs: { docs: Doc[]; raws: Buffer[] } | null = null;
  const sequences = new Map<string, { docs: Doc[]; raws: Buffer[] }>();
  while (off < end) {
    const kind = msg[off++];
    if (kind === 0) {
      if (body) throw new StoreError(40430, "Multiple body sections in message");
      const r = readBsonAt(msg, off, end);
      body = r.doc;
      bodyRaw = r.raw;
      off = r.next;
      if (Array.isArray(body.documents)) {
        const raws = arrayElementRaws(r.raw, "documents");
        if (raws && raws.length === body.documents.length) bodyDocs = { docs: body.documents as Doc[], raws };
      }
    } else if (kind === 1) {
      if (off + 4 > end) throw new StoreError(22, "truncated document sequence");
      const size = msg.readInt32LE(off);
      const seqEnd = off + size;
      if (size < 5 || seqEnd > end) throw new StoreError(22, "invalid document sequence size");
      let p = off + 4;
      const z = msg.indexOf(0, p);
      if (z < 0 || z >= seqEnd) throw new StoreError(22, "invalid document sequence identifier");
      const id = msg.toString("utf8", p, z);
      p = z + 1;
      const docs: Doc[] = [];
      const raws: Buffer[] = [];
      while (p < seqEnd) {
        const r = readBsonAt(msg, p, seqEnd);
        docs.push(r.doc);
        raws.push(r.raw);
        p = r.next;
      }
      sequences.set(id, { docs, raws });
      off = seqEnd;
    } else {
      throw new StoreError(22, `unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body || !bodyRaw) throw new StoreError(22, "OP_MSG has no body section");
  if (bodyDocs && !sequences.has("documents")) sequences.set("documents", bodyDocs);
  return { flags, body, bodyRaw, sequences };
}

export interface ParsedQuery {
  flags: number;
  collection: string;
  query: Doc;
}

export function parseOpQuery(msg: Buffer): ParsedQuery {
  const flags = msg.readInt32LE(16);
  const z = msg.indexOf(0, 20);
  if (z < 0) throw new StoreError(22, "invalid OP_QUERY collection name");
  const collection = msg.toString("utf8", 20, z);
  const off = z + 1 + 8;
  const r = readBsonAt(msg, off, msg.length);
  return { flags, collection, query: r.doc };
}

/** Pre-serialized documents to embed as a BSON array inside a reply. */
export class RawDocs {
  constructor(readonly raws: Buffer[]) {}
}

/**
 * A reply document being laid out: each top-level element is either encoded bytes, an array of
 * pre-serialized documents, or a nested document holding some. Sized first, then written once.
 */
type Piece =
  | { kind: "bytes"; bytes: Buffer }
  | { kind: "raws"; name: Buffer; raws: Buffer[]; arrayLen: number }
  | { kind: "doc"; name: Buffer; pieces: Piece[]; docLen: number };

/** Byte length of the decimal digits of `i` (array element names). */
function digits(i: number): number {
  let d = 1;
  for (let x = i; x >= 10; x = Math.floor(x / 10)) d++;
  return d;
}

function layout(doc: Doc): { pieces: Piece[]; len: number } {
  const pieces: Piece[] = [];
  let len = 5;
  for (const k of Object.keys(doc)) {
    const v = doc[k];
    if (v instanceof RawDocs) {
      let arrayLen = 5;
      for (let i = 0; i < v.raws.length; i++) arrayLen += 2 + digits(i) + v.raws[i].length;
      const name = Buffer.from(k + "\0", "utf8");
      pieces.push({ kind: "raws", name, raws: v.raws, arrayLen });
      len += 1 + name.length + arrayLen;
    } else if (hasRawDeep(v)) {
      const inner = layout(v as Doc);
      const name = Buffer.from(k + "\0", "utf8");
      pieces.push({ kind: "doc", name, pieces: inner.pieces, docLen: inner.len });
      len += 1 + name.length + inner.len;
    } else {
      const one = Buffer.from(BSON.serialize({ [k]: v }));
      const bytes = one.subarray(4, one.length - 1);
      pieces.push({ kind: "bytes", bytes });
      len += bytes.length;
    }
  }
  return { pieces, len };
}

function writeDoc(out: Buffer, at: number, pieces: Piece[], len: number): number {
  out.writeInt32LE(len, at);
  let p = at + 4;
  for (const piece of pieces) {
    if (piece.kind === "bytes") {
      p += piece.bytes.copy(out, p);
    } else if (piece.kind === "raws") {
      out[p++] = 0x04;
      p += piece.name.copy(out, p);
      out.writeInt32LE(piece.arrayLen, p);
      p += 4;
      const raws = piece.raws;
      for (let i = 0; i < raws.length; i++) {
        out[p++] = 0x03;
        const d = digits(i);
        for (let k = d - 1, x = i; k >= 0; k--, x = Math.floor(x / 10)) out[p + k] = 0x30 + (x % 10);
        p += d;
        out[p++] = 0;
        out.set(raws[i], p);
        p += raws[i].length;
      }
      out[p++] = 0;
    } else {
      out[p++] = 0x03;
      p += piece.name.copy(out, p);
      p = writeDoc(out, p, piece.pieces, piece.docLen);
    }
  }
  out[p++] = 0;
  return p;
}

/** Room left before a serialized reply for the OP_MSG header and section kind (see encodeOpMsg). */
const OP_MSG_PREFIX = 16 + 4 + 1;
/** Replies serialized with room for their OP_MSG framing: body → the whole allocation. */
const framed = new WeakMap<Buffer, Buffer>();

/**
 * Serialize a reply document; values that are `RawDocs` become arrays of the given bytes, copied
 * once into the reply (which has room before it for its OP_MSG framing).
 */
export function serializeReply(doc: Doc): Buffer {
  const rawKeys = Object.keys(doc).filter((k) => doc[k] instanceof RawDocs || hasRawDeep(doc[k]));
  if (rawKeys.length === 0) return Buffer.from(BSON.serialize(doc));
  const { pieces, len } = layout(doc);
  const full = Buffer.allocUnsafe(OP_MSG_PREFIX + len);
  const body = full.subarray(OP_MSG_PREFIX);
  writeDoc(body, 0, pieces, len);
  framed.set(body, full);
  return body;
}

function hasRawDeep(v: unknown): boolean {
  if (v === null || typeof v !== "object" || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const x of Object.values(v as Doc)) if (x instanceof RawDocs || hasRawDeep(x)) return true;
  return false;
}

export function encodeOpMsg(requestId: number, responseTo: number, body: Buffer, flags = 0): Buffer {
  const room = framed.get(body);
  framed.delete(body);
  const out = room ?? Buffer.allocUnsafe(16 + 4 + 1 + body.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_MSG, 12);
  out.writeUInt32LE(flags, 16);
  out[20] = 0;
  if (!room) body.copy(out, 21);
  return out;
}

export function encodeOpReply(requestId: number, responseTo: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(16 + 20 + body.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(OP_REPLY, 12);
  out.writeInt32LE(8, 16); // AwaitCapable
  const zero = Long.ZERO;
  out.writeInt32LE(zero.low, 20);
  out.writeInt32LE(zero.high, 24);
  out.writeInt32LE(0, 28);
  out.writeInt32LE(1, 32);
  body.copy(out, 36);
  return out;
}

/** Byte size of a BSON element value of `type` starting at `off`, or -1 if unknown. */
function valueSize(buf: Buffer, type: number, off: number): number {
  switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12: return 8;
    case 0x02: case 0x0d: case 0x0e: return 4 + buf.readInt32LE(off);
    case 0x03: case 0x04: case 0x0f: return buf.readInt32LE(off);
    case 0x05: return 5 + buf.readInt32LE(off);
    case 0x06: case 0x0a: case 0x7f: case 0xff: return 0;
    case 0x07: return 12;
    case 0x08: return 1;
    case 0x0b: {
      const a = buf.indexOf(0, off);
      const b = buf.indexOf(0, a + 1);
      return b + 1 - off;
    }
    case 0x0c: return 4 + buf.readInt32LE(off) + 12;
    case 0x10: return 4;
    case 0x13: return 16;
    default: return -1;
  }
}

/**
 * The same document with its top-level `_id` element moved to the front, by moving bytes (no
 * re-encoding: every value keeps its exact BSON type); null if there is no `_id` or an element
 * cannot be sized.
 */
export function moveIdFirst(doc: Buffer): Buffer | null {
  let off = 4;
  const end = doc.length - 1;
  while (off < end) {
    const type = doc[off];
    const z = doc.indexOf(0, off + 1);
    if (z < 0 || z >= end) return null;
    const v = z + 1;
    const size = valueSize(doc, type, v);
    if (size < 0 || v + size > end) return null;
    if (z - off === 4 && doc[off + 1] === 0x5f && doc[off + 2] === 0x69 && doc[off + 3] === 0x64) {
      if (off === 4) return doc;
      const out = Buffer.allocUnsafe(doc.length);
      doc.copy(out, 0, 0, 4);
      doc.copy(out, 4, off, v + size);
      doc.copy(out, 4 + (v + size - off), 4, off);
      doc.copy(out, v + size, v + size);
      return out;
    }
    off = v + size;
  }
  return null;
}

/** The exact bytes of each embedded document in the top-level array `field` of a BSON document. */
export function arrayElementRaws(doc: Buffer, field: string): Buffer[] | null {
  let off = 4;
  const end = doc.length - 1;
  while (off < end) {
    const type = doc[off];
    const z = doc.indexOf(0, off + 1);
    const name = doc.toString("utf8", off + 1, z);
    const v = z + 1;
    const size = valueSize(doc, type, v);
    if (size < 0) return null;
    if (name === field && type === 0x04) {
      const out: Buffer[] = [];
      let p = v + 4;
      const aend = v + size - 1;
      while (p < aend) {
        const t = doc[p];
        const zz = doc.indexOf(0, p + 1);
        if (t !== 0x03) return null;
        const len = doc.readInt32LE(zz + 1);
        out.push(doc.subarray(zz + 1, zz + 1 + len));
        p = zz + 1 + len;
      }
      return out;
    }
    off = v + size;
  }
  return null;
}
