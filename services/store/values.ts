/**
 * BSON value helpers: MongoDB's cross-type comparison order, canonical identity keys for hashing
 * (`_id` lookup and unique indexes), field-path access and cheap copies of stored documents.
 *
 * Stored documents are plain JS objects as `bson` deserializes them with default promotion
 * (int32/double/safe int64 → number), holding bson class instances (ObjectId, Decimal128, Binary,
 * Timestamp, MinKey/MaxKey, Long when unsafe) by reference: those instances are never mutated.
 */

export type Doc = Record<string, unknown>;

const bsonType = (v: unknown): string | undefined =>
  v !== null && typeof v === "object" ? ((v as { _bsontype?: string })._bsontype ?? undefined) : undefined;

/** MongoDB's canonical type order (MinKey < null < numbers < strings < objects < arrays < ...). */
export function typeOrder(v: unknown): number {
  if (v === undefined || v === null) return 2;
  switch (typeof v) {
    case "number":
    case "bigint":
      return 3;
    case "string":
      return 4;
    case "boolean":
      return 9;
  }
  const t = bsonType(v);
  if (t) {
    switch (t) {
      case "MinKey":
        return 1;
      case "MaxKey":
        return 13;
      case "Long":
      case "Int32":
      case "Double":
      case "Decimal128":
        return 3;
      case "BSONSymbol":
        return 4;
      case "Binary":
        return 7;
      case "ObjectId":
        return 8;
      case "Timestamp":
        return 11;
      case "BSONRegExp":
        return 12;
      case "Code":
      case "CodeWithScope":
        return 14;
      case "DBRef":
        return 5;
    }
  }
  if (Array.isArray(v)) return 6;
  if (v instanceof Date) return 10;
  if (v instanceof RegExp) return 12;
  if (v instanceof Uint8Array) return 7;
  return 5;
}

export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  const t = bsonType(v);
  if (t === "Long" || t === "Int32" || t === "Double") return Number((v as { valueOf(): number }).valueOf?.() ?? NaN) || Number(String(v));
  if (t === "Decimal128") return Number(String(v));
  return NaN;
}

export function isNumeric(v: unknown): boolean {
  return typeOrder(v) === 3;
}

const cmp = (a: number | string, b: number | string): number => (a < b ? -1 : a > b ? 1 : 0);

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return cmp(a.length, b.length);
}

/** Total order over BSON values as MongoDB compares them (arrays compared element-wise). */
export function compareValues(a: unknown, b: unknown): number {
  const ta = typeOrder(a);
  const tb = typeOrder(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case 1:
    case 2:
    case 13:
      return 0;
    case 3: {
      const x = toNumber(a);
      const y = toNumber(b);
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return cmp(x, y);
    }
    case 4:
      return cmp(String(a), String(b));
    case 9:
      return cmp(a ? 1 : 0, b ? 1 : 0);
    case 10:
      return cmp((a as Date).getTime(), (b as Date).getTime());
    case 8: {
      // bson 7 keeps an ObjectId as four 24-bit big-endian chunks: compare them without allocating.
      const x = a as { i0?: number; i1?: number; i2?: number; i3?: number; toHexString(): string };
      const y = b as typeof x;
      if (typeof x.i0 === "number" && typeof y.i0 === "number") {
        return cmp(x.i0, y.i0) || cmp(x.i1 as number, y.i1 as number) || cmp(x.i2 as number, y.i2 as number) || cmp(x.i3 as number, y.i3 as number);
      }
      return cmp(x.toHexString(), y.toHexString());
    }
    case 7: {
      const ba = binBytes(a);
      const bb = binBytes(b);
      if (ba.length !== bb.length) return cmp(ba.length, bb.length);
      const sa = (a as { sub_type?: number }).sub_type ?? 0;
      const sb = (b as { sub_type?: number }).sub_type ?? 0;
      if (sa !== sb) return cmp(sa, sb);
      return cmpBytes(ba, bb);
    }
    case 11: {
      const x = a as { high: number; low: number };
      const y = b as { high: number; low: number };
      return cmp(x.high >>> 0, y.high >>> 0) || cmp(x.low >>> 0, y.low >>> 0);
    }
    case 12: {
      const [sa, fa] = regexParts(a);
      const [sb, fb] = regexParts(b);
      return cmp(sa, sb) || cmp(fa, fb);
    }
    case 6: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(x[i], y[i]);
        if (c) return c;
      }
      return cmp(x.length, y.length);
    }
    default: {
      const x = a as Doc;
      const y = b as Doc;
      const kx = Object.keys(x);
      const ky = Object.keys(y);
      const n = Math.min(kx.length, ky.length);
      for (let i = 0; i < n; i++) {
        const c = typeOrder(x[kx[i]]) - typeOrder(y[ky[i]]) || cmp(kx[i], ky[i]) || compareValues(x[kx[i]], y[ky[i]]);
        if (c) return c < 0 ? -1 : 1;
      }
      return cmp(kx.length, ky.length);
    }
  }
}

function binBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as { buffer: Uint8Array; position?: number };
  return b.position !== undefined ? b.buffer.subarray(0, b.position) : b.buffer;
}

function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags];
  const r = v as { pattern: string; options: string };
  return [r.pattern, r.options];
}

/** A string equal for two values iff MongoDB considers them equal (1, 1.0 and NumberLong(1) alike). */
export function keyString(v: unknown): string {
  const t = typeOrder(v);
  switch (t) {
    case 1:
      return "m";
    case 2:
      return "z";
    case 13:
      return "M";
    case 3: {
      const n = toNumber(v);
      if (bsonType(v) === "Long" && !Number.isSafeInteger(n)) return "n" + String(v);
      return "n" + String(n === 0 ? 0 : n);
    }
    case 4:
      return "s" + String(v);
    case 9:
      return v ? "T" : "F";
    case 10:
      return "t" + String((v as Date).getTime());
    case 8:
      return "o" + (v as { toHexString(): string }).toHexString();
    case 7:
      return "b" + String((v as { sub_type?: number }).sub_type ?? 0) + ":" + Buffer.from(binBytes(v)).toString("base64");
    case 11:
      return "S" + String(v);
    case 12: {
      const [s, f] = regexParts(v);
      return "r/" + s + "/" + f;
    }
    case 6:
      return "[" + (v as unknown[]).map(keyString).join(",") + "]";
    default: {
      if (t === 14) return "c" + String(v);
      const d = v as Doc;
      let s = "{";
      for (const k of Object.keys(d)) s += JSON.stringify(k) + ":" + keyString(d[k]) + ",";
      return s + "}";
    }
  }
}

export function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Deep copy of plain objects and arrays; bson instances are shared (they are never mutated). */
export function cloneValue<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const k of Object.keys(v)) out[k] = cloneValue(v[k]);
    return out as T;
  }
  if (v instanceof Date) return new Date(v.getTime()) as T;
  return v;
}

/** Values at a dotted path, descending into arrays as MongoDB does for index keys. */
export function valuesAtPath(doc: unknown, path: string[], i = 0, out: unknown[] = []): unknown[] {
  if (i === path.length) {
    out.push(doc);
    return out;
  }
  if (Array.isArray(doc)) {
    const idx = /^\d+$/.test(path[i]) ? Number(path[i]) : -1;
    if (idx >= 0 && idx < doc.length) valuesAtPath(doc[idx], path, i + 1, out);
    for (const el of doc) if (isPlainObject(el) || Array.isArray(el)) valuesAtPath(el, path, i, out);
    return out;
  }
  if (isPlainObject(doc) && Object.prototype.hasOwnProperty.call(doc, path[i])) {
    return valuesAtPath(doc[path[i]], path, i + 1, out);
  }
  return out;
}

/** The value at a dotted path without descending into arrays, or undefined. */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const p of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Doc)[p];
  }
  return cur;
}

/** Depth of nesting (a flat document has depth 1). */
export function depthOf(v: unknown, limit: number, d = 0): number {
  if (d > limit) return d;
  let max = d;
  if (Array.isArray(v)) {
    for (const el of v) if (el !== null && typeof el === "object") max = Math.max(max, depthOf(el, limit, d + 1));
  } else if (isPlainObject(v)) {
    for (const k of Object.keys(v)) {
      const el = v[k];
      if (el !== null && typeof el === "object") max = Math.max(max, depthOf(el, limit, d + 1));
    }
  }
  return max;
}

/** Sort documents by a MongoDB sort spec (arrays: min element ascending, max descending). */
export function makeSortComparator(spec: Doc): ((a: Doc, b: Doc) => number) | null {
  const keys = Object.keys(spec);
  if (keys.length === 0) return null;
  const fields = keys.map((k) => {
    const dir = spec[k];
    const meta = isPlainObject(dir);
    return { path: k.split("."), dir: meta ? 1 : toNumber(dir) < 0 ? -1 : 1, meta };
  });
  const sortKey = (doc: Doc, path: string[], dir: number): unknown => {
    const vals = valuesAtPath(doc, path);
    const flat: unknown[] = [];
    for (const v of vals) {
      if (Array.isArray(v)) {
        if (v.length === 0) flat.push(undefined);
        else flat.push(...v);
      } else flat.push(v);
    }
    if (flat.length === 0) return null;
    let best = flat[0];
    for (const v of flat) {
      const c = compareValues(v, best);
      if (dir > 0 ? c < 0 : c > 0) best = v;
    }
    return best;
  };
  return (a, b) => {
    for (const f of fields) {
      if (f.meta) continue;
      const c = compareValues(sortKey(a, f.path, f.dir), sortKey(b, f.path, f.dir));
      if (c) return c * f.dir;
    }
    return 0;
  };
}
