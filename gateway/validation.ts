/**
 * Input checks at the edge, before anything reaches the node: the body must be JSON, carry no
 * key that a document database or a JavaScript object could take for an instruction, and match
 * the route's zod schema exactly (unknown fields refused). Each refusal names the field.
 */
import { z } from "zod";
import { LiaisonError } from "../services/errors/index.ts";

/** Keys refused anywhere in a body or query: prototype pollution. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);
/** Deeper than this is refused (a Message is far shallower). */
export const MAX_JSON_DEPTH = 32;

const invalid = (message: string) => new LiaisonError("INVALID_ARGUMENT", message);

function pathText(where: string, path: ReadonlyArray<PropertyKey>): string {
  let out = where;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

/**
 * Refuse operator injection and prototype keys anywhere in a parsed value: keys starting with
 * `$` (`$gt`, `$where`, `$ne`, …), `__proto__`, `constructor`, `prototype`. Throws INVALID_ARGUMENT
 * naming the first offending key's path.
 */
export function assertNoInjection(value: unknown, where: string, path: PropertyKey[] = []): void {
  if (path.length > MAX_JSON_DEPTH) throw invalid(`${pathText(where, path)}: nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoInjection(item, where, [...path, i]));
    return;
  }
  if (value === null || typeof value !== "object") return;
  for (const key of Object.keys(value)) {
    if (key.startsWith("$")) {
      throw invalid(`${pathText(where, [...path, key])}: keys starting with $ are not accepted (query operators such as $gt or $where are never passed on)`);
    }
    if (PROTOTYPE_KEYS.has(key)) throw invalid(`${pathText(where, [...path, key])}: the key "${key}" is not accepted`);
    assertNoInjection((value as Record<string, unknown>)[key], where, [...path, key]);
  }
}

/** Parse a JSON request body: a precise 400 for anything that is not one JSON object. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(`the request body is not valid JSON: ${(error as Error).message}`);
  }
  assertNoInjection(parsed, "body");
  return parsed;
}

/** Validate with a zod schema; the message lists every issue with its path ("body.username: …"). */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query" | "path"): z.output<S> {
  if (where !== "body") assertNoInjection(value, where);
  const result = schema.safeParse(value ?? (where === "body" ? undefined : {}));
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return `${pathText(where, issue.path)}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    }
    return `${pathText(where, issue.path)}: ${issue.message}`;
  });
  throw invalid(issues.join("; "));
}
