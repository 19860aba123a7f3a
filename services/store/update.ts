/**
 * Update documents: operator updates (validated as MongoDB validates them, applied with mingo's
 * updater on a private copy), replacements and pipeline-style updates.
 */
import { update as mingoUpdate } from "mingo";
import { StoreError, failedToParse, badValue } from "./errors.ts";
import { runPipeline, wrapMingo } from "./query.ts";
import { cloneValue, compareValues, getPath, isPlainObject, keyString, isNumeric, type Doc } from "./values.ts";

const UPDATE_OPS = new Set(["$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$setOnInsert", "$currentDate", "$push", "$addToSet", "$pop", "$pull", "$pullAll", "$bit"]);

export type UpdateSpec = { kind: "ops"; ops: Doc } | { kind: "replace"; doc: Doc } | { kind: "pipeline"; stages: Doc[] };

export function classifyUpdate(u: unknown): UpdateSpec {
  if (Array.isArray(u)) {
    for (const s of u) if (!isPlainObject(s)) throw failedToParse("Each element of the 'pipeline' array must be an object");
    return { kind: "pipeline", stages: u as Doc[] };
  }
  if (!isPlainObject(u)) throw failedToParse("Update argument must be either an object or an array");
  const keys = Object.keys(u);
  if (keys.length > 0 && keys[0].startsWith("$")) {
    const paths: string[] = [];
    for (const op of keys) {
      if (!op.startsWith("$")) throw failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
      if (!UPDATE_OPS.has(op)) throw failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
      const arg = u[op];
      if (!isPlainObject(arg)) throw failedToParse(`Modifiers operate on fields but we found type ${typeName(arg)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(arg)}}`);
      for (const p of Object.keys(arg)) {
        if (p === "") throw new StoreError(56, "An empty update path is not valid.");
        paths.push(p);
        if (op === "$rename") {
          if (typeof arg[p] !== "string") throw badValue(`The 'to' field for $rename must be a string: ${p}: ${String(arg[p])}`);
          paths.push(arg[p] as string);
        }
        if ((op === "$inc" || op === "$mul") && !isNumeric(arg[p])) {
          throw typeMismatchErr(`Cannot ${op === "$inc" ? "increment" : "multiply"} with non-numeric argument: {${p}: ${String(arg[p])}}`);
        }
      }
    }
    checkConflicts(paths);
    return { kind: "ops", ops: u };
  }
  for (const k of keys) {
    if (k.startsWith("$")) throw failedToParse(`The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
  }
  return { kind: "replace", doc: u };
}

const typeMismatchErr = (m: string): StoreError => new StoreError(14, m);

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "double";
  return typeof v;
}

function stripPositional(p: string): string {
  return p
    .split(".")
    .filter((s) => !(s === "$" || s === "$[]" || /^\$\[[^\]]*\]$/.test(s)))
    .join(".");
}

function checkConflicts(paths: string[]): void {
  const norm = paths.map((p) => ({ p, s: p.split(".") }));
  for (let i = 0; i < norm.length; i++) {
    for (let j = i + 1; j < norm.length; j++) {
      const a = norm[i].s;
      const b = norm[j].s;
      const n = Math.min(a.length, b.length);
      let prefix = true;
      for (let k = 0; k < n; k++) if (a[k] !== b[k]) prefix = false;
      if (prefix) {
        const [shorter, longer] = a.length <= b.length ? [norm[i].p, norm[j].p] : [norm[j].p, norm[i].p];
        throw new StoreError(40, `Updating the path '${longer}' would create a conflict at '${shorter}'`);
      }
    }
  }
}

export interface ApplyResult {
  doc: Doc;
  modified: boolean;
}

/**
 * Apply an update to a copy of `doc`. `filter` is the query (for the positional `$`), `isInsert`
 * enables $setOnInsert.
 */
export function applyUpdate(
  doc: Doc,
  spec: UpdateSpec,
  opts: { filter?: Doc; arrayFilters?: Doc[]; isInsert: boolean; variables?: Doc },
): ApplyResult {
  const id = doc._id;
  let out: Doc;
  if (spec.kind === "replace") {
    out = cloneValue(spec.doc);
    if (id !== undefined) {
      if (out._id !== undefined && keyString(out._id) !== keyString(id)) throw immutableId(id);
      const { _id: _ignored, ...rest } = out;
      out = { _id: id, ...rest };
    }
  } else if (spec.kind === "pipeline") {
    const res = runPipeline([cloneValue(doc)], spec.stages, () => [], opts.variables);
    if (res.length !== 1) throw badValue("pipeline update must produce exactly one document");
    out = res[0];
    if (id !== undefined) {
      // A pipeline that drops `_id` (e.g. $replaceRoot) keeps the document's; changing it is an error.
      if (out._id === undefined) out = { _id: id, ...out };
      else if (keyString(out._id) !== keyString(id)) throw immutableId(id);
    }
  } else {
    out = cloneValue(doc);
    const ops: Doc = {};
    for (const op of Object.keys(spec.ops)) {
      if (op === "$setOnInsert") {
        if (!opts.isInsert) continue;
        ops.$set = { ...((ops.$set as Doc | undefined) ?? {}), ...(spec.ops[op] as Doc) };
        continue;
      }
      ops[op] = op === "$set" && ops.$set ? { ...(ops.$set as Doc), ...(spec.ops[op] as Doc) } : spec.ops[op];
    }
    for (const op of Object.keys(ops)) {
      const arg = ops[op] as Doc;
      for (const p of Object.keys(arg)) {
        const base = stripPositional(p);
        if (id !== undefined && !opts.isInsert && (base === "_id" || base.startsWith("_id."))) {
          const probe = cloneValue(doc);
          try {
            mingoUpdate(probe, { [op]: { [p]: arg[p] } }, opts.arrayFilters, undefined, { cloneMode: "copy" });
          } catch {
            throw immutableId(id);
          }
          if (keyString(probe._id) !== keyString(id)) throw immutableId(id);
        }
        if (op === "$inc" || op === "$mul") {
          const cur = getPath(out, p);
          if (cur !== undefined && cur !== null && !isNumeric(cur) && !p.includes("$")) {
            throw new StoreError(14, `Cannot apply ${op} to a value of non-numeric type. {_id: ${String(id)}} has the field '${p.split(".").pop()}' of non-numeric type ${typeName(cur)}`);
          }
        }
        if (op === "$push" || op === "$addToSet" || op === "$pull" || op === "$pullAll" || op === "$pop") {
          const cur = getPath(out, p);
          if (cur !== undefined && !Array.isArray(cur) && !p.includes("$")) {
            throw new StoreError(2, `The field '${p}' must be an array but is of type ${typeName(cur)} in document {_id: ${String(id)}}`);
          }
        }
      }
    }
    if (Object.keys(ops).length) {
      try {
        const positional = !opts.isInsert && Object.values(ops).some((a) => Object.keys(a as Doc).some((p) => p === "$" || p.includes(".$.") || p.endsWith(".$")));
        mingoUpdate(out, ops as never, opts.arrayFilters, positional ? opts.filter : undefined, { cloneMode: "deep" });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (/no array filter|arrayFilters|identifier/i.test(msg)) throw badValue(msg);
        if (/positional/i.test(msg)) throw badValue(`The positional operator did not find the match needed from the query.`);
        throw wrapMingo(e);
      }
    }
  }
  return { doc: out, modified: keyString(out) !== keyString(doc) || !sameOrder(out, doc) };
}

function sameOrder(a: Doc, b: Doc): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

function immutableId(_id: unknown): StoreError {
  return new StoreError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
}

/** Equality fields of a filter, seeding an upserted document (`{a: 1, "b.c": 2}` → `{a:1, b:{c:2}}`). */
export function seedFromFilter(filter: Doc): Doc {
  const out: Doc = {};
  const put = (path: string, v: unknown): void => {
    const parts = path.split(".");
    let cur = out;
    for (let i = 0; i < parts.length - 1; i++) {
      if (!isPlainObject(cur[parts[i]])) cur[parts[i]] = {};
      cur = cur[parts[i]] as Doc;
    }
    cur[parts[parts.length - 1]] = cloneValue(v);
  };
  const visit = (f: Doc): void => {
    for (const k of Object.keys(f)) {
      const v = f[k];
      if (k === "$and" && Array.isArray(v)) {
        for (const s of v) if (isPlainObject(s)) visit(s);
        continue;
      }
      if (k.startsWith("$")) continue;
      if (isPlainObject(v)) {
        const ks = Object.keys(v);
        if (ks.length && ks[0].startsWith("$")) {
          if ("$eq" in v) put(k, v.$eq);
          else if (Array.isArray(v.$in) && v.$in.length === 1) put(k, v.$in[0]);
          continue;
        }
      }
      if (v instanceof RegExp) continue;
      put(k, v);
    }
  };
  visit(filter);
  return out;
}

export { compareValues };
