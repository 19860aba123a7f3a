/**
 * Query filters: validation with MongoDB's error codes and messages, then compiled by mingo.
 */
import { Query, Aggregator } from "mingo";
import { StoreError, badValue } from "./errors.ts";
import { cloneValue, isPlainObject, type Doc } from "./values.ts";

const TOP_LEVEL = new Set(["$and", "$or", "$nor", "$expr", "$where", "$text", "$comment", "$jsonSchema", "$alwaysTrue", "$alwaysFalse", "$sampleRate"]);
const FIELD_OPS = new Set([
  "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$not", "$exists", "$type", "$mod", "$regex", "$options",
  "$all", "$elemMatch", "$size", "$bitsAllSet", "$bitsAnySet", "$bitsAllClear", "$bitsAnyClear", "$geoWithin",
  "$geoIntersects", "$near", "$nearSphere", "$minDistance", "$maxDistance", "$within", "$box", "$center", "$centerSphere", "$geometry", "$polygon",
]);

export function validateFilter(filter: unknown, depth = 0): void {
  if (depth > 100) throw new StoreError(15, "BSON depth exceeded in query");
  if (!isPlainObject(filter)) throw badValue("query filter must be an object");
  for (const k of Object.keys(filter)) {
    const v = filter[k];
    if (k.startsWith("$")) {
      if (!TOP_LEVEL.has(k)) throw badValue(`unknown top level operator: ${k}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
      if (k === "$and" || k === "$or" || k === "$nor") {
        if (!Array.isArray(v) || v.length === 0) throw badValue(`${k} must be a nonempty array`);
        for (const sub of v) {
          if (!isPlainObject(sub)) throw badValue(`$or/$and/$nor entries need to be full objects`);
          validateFilter(sub, depth + 1);
        }
      }
      continue;
    }
    validateFieldCondition(v, depth + 1);
  }
}

function validateFieldCondition(v: unknown, depth: number): void {
  if (!isPlainObject(v)) return;
  const keys = Object.keys(v);
  if (keys.length === 0 || !keys[0].startsWith("$")) return; // literal subdocument equality
  for (const op of keys) {
    if (!FIELD_OPS.has(op)) throw badValue(`unknown operator: ${op}`);
    const arg = v[op];
    if ((op === "$in" || op === "$nin" || op === "$all") && !Array.isArray(arg)) throw badValue(`${op} needs an array`);
    if (op === "$not") {
      if (!(arg instanceof RegExp) && !isPlainObject(arg)) throw badValue("$not needs a regex or a document");
      if (isPlainObject(arg)) validateFieldCondition(arg, depth + 1);
    }
    if (op === "$elemMatch") {
      if (!isPlainObject(arg)) throw badValue("$elemMatch needs an Object");
      const ks = Object.keys(arg);
      if (ks.length && ks[0].startsWith("$") && !TOP_LEVEL.has(ks[0])) validateFieldCondition(arg, depth + 1);
      else validateFilter(arg, depth + 1);
    }
    if (op === "$exists" || op === "$size" || op === "$mod" || op === "$type") continue;
  }
}

export type Matcher = (doc: Doc) => boolean;

const MATCH_ALL: Matcher = () => true;

export function compileFilter(filter: unknown, variables?: Doc, fold?: Folder | null): Matcher {
  if (filter === undefined || filter === null) return MATCH_ALL;
  validateFilter(filter);
  if (Object.keys(filter as Doc).length === 0) return MATCH_ALL;
  try {
    if (fold) {
      const fq = new Query(fold(numericView(filter)) as Doc, variables ? { variables } : undefined);
      return (doc) => fq.test(fold(numericView(doc)) as Doc);
    }
    const q = new Query(numericView(filter) as Doc, variables ? { variables } : undefined);
    return (doc) => q.test(numericView(doc) as Doc);
  } catch (e) {
    throw wrapMingo(e);
  }
}

export function wrapMingo(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return badValue(msg);
}

/**
 * Apply a find projection (and positional `$` against `filter`) to documents already matched.
 * mingo edits nested objects in place for some projections (`{"a.b": 0}` deletes `b` from the
 * object it was given), so it works on copies: the documents passed in are often the stored ones.
 */
export function project(docs: Doc[], projection: Doc, filter: Doc | undefined): Doc[] {
  try {
    // The filter only matters for the positional `$` projection (the documents already matched).
    const positional = Object.keys(projection).some((k) => k.endsWith(".$"));
    return new Query(positional ? (filter ?? {}) : {}).find(docs.map(cloneValue), projection).all() as Doc[];
  } catch (e) {
    throw wrapMingo(e);
  }
}

export function runPipeline(input: Doc[], pipeline: Doc[], resolver: (name: string) => Doc[], variables?: Doc, collation?: Doc): Doc[] {
  try {
    const agg = new Aggregator(pipeline, { collectionResolver: resolver, variables: variables ?? {}, ...(collation ? { collation: collation as never } : {}) });
    return agg.run(input) as Doc[];
  } catch (e) {
    throw wrapMingo(e);
  }
}

/** Maps every string in a value to its collation key (case- and, at strength 1, accent-folded). */
export type Folder = (v: unknown) => unknown;

/**
 * The folding a collation asks for, or null for binary comparison (no collation, "simple",
 * strength 3 and above). Strength 1 ignores case and diacritics, strength 2 case only.
 */
export function collationFolder(collation: unknown): Folder | null {
  if (collation === undefined || collation === null) return null;
  if (!isPlainObject(collation)) throw new StoreError(14, "BSON field 'collation' is the wrong type, expected type 'object'");
  if (typeof collation.locale !== "string") throw new StoreError(40414, "BSON field 'locale' is missing but a required field");
  if (collation.locale === "simple") return null;
  const strength = typeof collation.strength === "number" ? collation.strength : 3;
  if (strength < 1 || strength > 5) throw badValue("collation strength must be between 1 and 5");
  if (strength >= 3) return null;
  const foldString = strength === 1 ? (s: string): string => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase() : (s: string): string => s.toLowerCase();
  const fold = (v: unknown): unknown => {
    if (typeof v === "string") return foldString(v);
    if (Array.isArray(v)) return v.map(fold);
    if (isPlainObject(v)) {
      const out: Doc = {};
      for (const k of Object.keys(v)) out[k] = fold(v[k]);
      return out;
    }
    return v;
  };
  return fold;
}

/** Evaluate a command's `let` document: each value is an aggregation expression over no document. */
export function evalLet(vars: unknown): Doc | undefined {
  if (vars === undefined || vars === null) return undefined;
  if (!isPlainObject(vars)) throw new StoreError(14, "BSON field 'let' is the wrong type, expected type 'object'");
  const keys = Object.keys(vars);
  if (keys.length === 0) return {};
  for (const k of keys) if (!/^[a-z_][A-Za-z0-9_]*$/.test(k) && !/^[^\x00-\x7F]/.test(k)) throw badValue(`'${k}' starts with an invalid character for a user variable name`);
  const set: Doc = {};
  keys.forEach((k, i) => (set["v" + String(i)] = vars[k]));
  const [row] = runPipeline([{}], [{ $addFields: set }], () => []);
  const out: Doc = {};
  keys.forEach((k, i) => (out[k] = row["v" + String(i)]));
  return out;
}

const views = new WeakMap<object, unknown>();

function isWide(v: unknown): boolean {
  const t = v !== null && typeof v === "object" ? (v as { _bsontype?: string })._bsontype : undefined;
  return t === "Decimal128" || t === "Long" || t === "Int32" || t === "Double";
}

function hasWide(v: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (Array.isArray(v)) return v.some((x) => hasWide(x, depth + 1));
  if (isPlainObject(v)) {
    for (const k of Object.keys(v)) if (hasWide(v[k], depth + 1)) return true;
    return false;
  }
  return isWide(v);
}

function toView(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toView);
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const k of Object.keys(v)) out[k] = toView(v[k]);
    return out;
  }
  if (isWide(v)) {
    const t = (v as { _bsontype: string })._bsontype;
    if (t === "Long") return (v as { toNumber(): number }).toNumber();
    if (t === "Decimal128") return Number(String(v));
    return (v as { valueOf(): number }).valueOf();
  }
  return v;
}

/**
 * The value as mingo should compare it: Decimal128 and unsafe Int64 values become JS numbers, so
 * that they compare numerically with every other number (mingo would compare them as strings or
 * objects). Documents without such values are returned as they are; views are cached.
 */
export function numericView(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  const cached = views.get(v);
  if (cached !== undefined) return cached;
  const view = hasWide(v) ? toView(v) : v;
  views.set(v, view);
  return view;
}
