/**
 * The console's labels exist in every language it offers.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const CONSOLE = join(import.meta.dirname, "../../gateway/console");
/** The console is plain JavaScript for the browser; loaded here by path, untyped. */
const I18N: string = "../../gateway/console/i18n.js";

describe("console labels", () => {
  it("has every label in English, French, Vietnamese and Chinese", async () => {
    const i18n = await import(I18N);
    const missing = i18n.keys().flatMap((key: string) => ["en", "fr", "vi", "zh"].filter((lang) => !i18n.labelIn(lang, key)).map((lang) => `${key}/${lang}`));
    assert.deepEqual(missing, []);
  });

  it("uses only label keys that exist", async () => {
    const i18n = await import(I18N);
    const known = new Set(i18n.keys());
    const used = new Set<string>();
    for (const file of readdirSync(CONSOLE).filter((f) => f.endsWith(".js"))) {
      for (const m of readFileSync(join(CONSOLE, file), "utf8").matchAll(/\bt\("([a-z]+\.[\w.-]+)"/g)) used.add(m[1]!);
    }
    assert.ok(used.size > 100);
    assert.deepEqual([...used].filter((k) => !known.has(k)), []);
  });

  it("explains, in every language, each failure code the browser verifier may show", async () => {
    const i18n = await import(I18N);
    const source = readFileSync(join(CONSOLE, "verification.js"), "utf8");
    const codes = [...(/const EXPLAINED = new Set\(\[([^\]]+)\]\)/.exec(source)?.[1] ?? "").matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]!);
    assert.ok(codes.includes("SIGNATURE_INVALID") && codes.includes("FINGERPRINT_MISMATCH"));
    const missing = codes.flatMap((code) => ["en", "fr", "vi", "zh"].filter((lang) => !i18n.labelIn(lang, `verify.code.${code}`)).map((lang) => `${code}/${lang}`));
    assert.deepEqual(missing, []);
  });

  it("has no inline script, inline style or innerHTML anywhere", () => {
    for (const file of readdirSync(CONSOLE)) {
      const text = readFileSync(join(CONSOLE, file), "utf8");
      assert.doesNotMatch(text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, file);
      if (file.endsWith(".html")) assert.doesNotMatch(text, /<style|\sstyle=|\son[a-z]+=/, file);
    }
  });
});
