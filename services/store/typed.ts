/**
 * BSON number types through updates. Stored documents are matched and updated as promoted JS
 * values (int32, double and safe int64 all become `number`), which loses the BSON type; this module
 * puts it back, as MongoDB keeps it:
 * - a value the update did not touch keeps its stored type;
 * - `$set`/`$setOnInsert`/replacement values keep the type the client sent;
 * - `$inc`/`$mul` follow MongoDB's arithmetic promotion: int32 op int32 stays int32 unless it
 *   overflows (then int64), int64 stays int64, anything with a double is a double, with a
 *   Decimal128 a Decimal128;
 * - `$min`/`$max` keep the stored value's type unless they replaced it.
 */
import { BSON, Decimal128, Double, Int32, Long } from "bson";
import { compareValues, isPlainObject, type Doc } from "./values.ts";

/** Deserialize keeping every number's BSON type (Int32, Double, Long wrappers). */
export const TYPED_OPTIONS = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false } as const;

export function deserializeTyped(raw: Uint8Array): Doc {
  return BSON.deserialize(raw, TYPED_OPTIONS);
}

type Kind = "int" | "long" | "double" | "decimal";

function kindOf(v: unknown): Kind | null {
  if (typeof v === "number") return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? "int" : "double";
  if (v === null || typeof v !== "object") return null;
  switch ((v as { _bsontype?: string })._bsontype) {
    case "Int32":
      return "int";
    case "Long":
      return "long";
    case "Double":
      return "double";
    case "Decimal128":
      return "decimal";
    default:
      return null;
  }
}

function toNum(v: unknown): number {
  if (typeof v === "number") return v;
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === "Long") return (v as Long).toNumber();
  if (t === "Decimal128") return Number(String(v));
  return (v as { value: number }).value;
}

function toBig(v: unknown): bigint {
  if ((v as { _bsontype?: string })._bsontype === "Long") return (v as Long).toBigInt();
  return BigInt(Math.trunc(toNum(v)));
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `$inc`/`$mul` of a stored value (undefined when absent) by an operand, typed as MongoDB types it. */
export function arithmetic(op: "$inc" | "$mul", cur: unknown, operand: unknown): unknown {
  const ko = kindOf(operand);
  if (!ko) return undefined;
  if (cur === undefined || cur === null) {
    if (op === "$inc") return typedNumber(ko, operand);
    return typedNumber(ko, 0);
  }
  const kc = kindOf(cur);
  if (!kc) return undefined;
  if (kc === "decimal" || ko === "decimal") {
    const r = op === "$inc" ? toNum(cur) + toNum(operand) : toNum(cur) * toNum(operand);
    return Decimal128.fromString(String(r));
  }
  if (kc === "double" || ko === "double") return new Double(op === "$inc" ? toNum(cur) + toNum(operand) : toNum(cur) * toNum(operand));
  const r = op === "$inc" ? toBig(cur) + toBig(operand) : toBig(cur) * toBig(operand);
  if (kc === "int" && ko === "int" && r >= -2147483648n && r <= 2147483647n) return new Int32(Number(r));
  if (r >= INT64_MIN && r <= INT64_MAX) return Long.fromBigInt(r);
  return new Double(Number(r));
}

function typedNumber(kind: Kind, v: unknown): unknown {
  if (typeof v !== "number") return v;
  switch (kind) {
    case "int":
      return new Int32(v);
    case "long":
      return Long.fromNumber(v);
    case "double":
      return new Double(v);
    case "decimal":
      return Decimal128.fromString(String(v));
  }
}

interface Target {
  segs: string[];
  op: string;
  value: unknown;
}

/** What an update statement says about types: its target paths and the typed numbers it carries. */
export interface TypeHints {
  targets: Target[];
  numbers: Map<string, unknown>;
}

const POSITIONAL = /^\$(\[[^\]]*\])?$/;

function collectNumbers(v: unknown, out: Map<string, unknown>): void {
  if (Array.isArray(v)) {
    for (const x of v) collectNumbers(x, out);
  } else if (isPlainObject(v)) {
    for (const k of Object.keys(v)) collectNumbers(v[k], out);
  } else if (kindOf(v) && typeof v !== "number") {
    out.set(numberKey(v), v);
  }
}

function numberKey(v: unknown): string {
  const n = toNum(v);
  return Object.is(n, -0) ? "-0" : String(n);
}

/**
 * Hints from the typed update (`{$op: {path: value}}`, a replacement document, or a pipeline) and
 * any other typed values the result may take numbers from (the upsert's filter).
 */
export function typeHints(typedUpdate: unknown, extras: unknown[] = []): TypeHints {
  const targets: Target[] = [];
  const numbers = new Map<string, unknown>();
  for (const e of extras) collectNumbers(e, numbers);
  collectNumbers(typedUpdate, numbers);
  if (isPlainObject(typedUpdate)) {
    const keys = Object.keys(typedUpdate);
    if (keys.length && keys[0].startsWith("$")) {
      for (const op of keys) {
        const arg = typedUpdate[op];
        if (!isPlainObject(arg)) continue;
        for (const p of Object.keys(arg)) targets.push({ segs: p.split("."), op, value: arg[p] });
      }
    } else {
      targets.push({ segs: [], op: "$set", value: typedUpdate });
    }
  }
  return { targets, numbers };
}

function findTarget(targets: Target[], path: string[]): { t: Target; rest: string[] } | null {
  let best: { t: Target; rest: string[] } | null = null;
  for (const t of targets) {
    if (t.segs.length > path.length) continue;
    let ok = true;
    for (let i = 0; i < t.segs.length; i++) {
      const s = t.segs[i];
      if (s === path[i]) continue;
      if (POSITIONAL.test(s) && /^\d+$/.test(path[i])) continue;
      ok = false;
      break;
    }
    if (ok && (!best || t.segs.length > best.t.segs.length)) best = { t, rest: path.slice(t.segs.length) };
  }
  return best;
}

function sub(v: unknown, rest: string[]): unknown {
  let cur = v;
  for (const k of rest) {
    if (Array.isArray(cur)) cur = cur[Number(k)];
    else if (isPlainObject(cur)) cur = cur[k];
    else return undefined;
  }
  return cur;
}

function sameNumber(a: unknown, b: unknown): boolean {
  return kindOf(a) !== null && kindOf(b) !== null && compareValues(a, b) === 0;
}

/**
 * The updated document `next` (promoted JS values, as the updater produced it) with BSON number
 * types restored from the stored typed document `before` (null for an upsert) and the hints.
 */
export function restoreTypes(next: Doc, before: Doc | null, hints: TypeHints): Doc {
  return restore(next, before ?? undefined, [], hints) as Doc;
}

function restore(n: unknown, t: unknown, path: string[], h: TypeHints): unknown {
  if (Array.isArray(n)) {
    const tArr = Array.isArray(t) ? t : undefined;
    return n.map((x, i) => restore(x, tArr?.[i], [...path, String(i)], h));
  }
  if (isPlainObject(n)) {
    const tDoc = isPlainObject(t) ? t : undefined;
    const out: Doc = {};
    for (const k of Object.keys(n)) out[k] = restore(n[k], tDoc?.[k], [...path, k], h);
    return out;
  }
  const found = h.targets.length ? findTarget(h.targets, path) : null;
  if (found && (found.t.op === "$inc" || found.t.op === "$mul") && found.rest.length === 0 && (t === undefined || kindOf(t))) {
    // Computed here rather than trusted from the updater, which has no int64/Decimal128 arithmetic.
    const r = arithmetic(found.t.op, t, found.t.value);
    if (r !== undefined) return r;
  }
  if (!kindOf(n)) return n;
  if (found) {
    const { t: target, rest } = found;
    if (target.op === "$set" || target.op === "$setOnInsert" || ((target.op === "$min" || target.op === "$max") && !sameNumber(t, n))) {
      const tv = sub(target.value, rest);
      if (sameNumber(tv, n)) return tv;
    }
  }
  if (sameNumber(t, n)) return t;
  const hinted = h.numbers.get(numberKey(n));
  if (hinted !== undefined) return hinted;
  return n;
}
