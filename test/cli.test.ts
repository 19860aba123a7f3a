/**
 * The operator's CLI, run as a real child process: PKI, onboarding by bundle + fingerprint.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const BIN = new URL("../bin/liaison.mjs", import.meta.url).pathname;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function liaison(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, NODE_ENV: "test" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), "liaison-cli-"));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe("liaison pki and partner commands", () => {
  it("creates an identity with private keys readable by the owner only, printing no key", async () => {
    const dir = join(root, "vn");
    const out = await liaison("pki", "init", "--party", "VN-MPS", "--name", "Ministry of Public Security", "--name-lang", "vi=Bộ Công an", "--dir", dir);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /CA fingerprint \(SHA-256\): ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    assert.doesNotMatch(out.stdout + out.stderr, /PRIVATE KEY/);
    for (const file of ["ca.key", "node.key", ...readdirSync(join(dir, "signing")).map((f) => join("signing", f))]) {
      assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, `${file} is 0600`);
    }
  });

  it("refuses to overwrite an existing identity", async () => {
    const out = await liaison("pki", "init", "--party", "VN-MPS", "--name", "Again", "--dir", join(root, "vn"));
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /CONFLICT|exists/i);
  });

  it("onboards a partner only when the fingerprint matches", async () => {
    const cn = join(root, "cn");
    assert.equal((await liaison("pki", "init", "--party", "CN-MPS", "--name", "MPS of China", "--dir", cn)).code, 0);
    const bundle = join(root, "cn-bundle.json");
    const exported = await liaison("partner", "export", "--dir", cn, "--endpoint", "127.0.0.1:7443", "--out", bundle);
    assert.equal(exported.code, 0, exported.stderr);
    const fingerprint = /fingerprint through another channel: (\S+)/.exec(exported.stdout)![1]!;
    assert.doesNotMatch(readFileSync(bundle, "utf8"), /PRIVATE KEY/);

    const wrong = await liaison("partner", "import", bundle, "--dir", join(root, "vn"), "--fingerprint", "00".repeat(32));
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /FINGERPRINT_MISMATCH/);
    assert.equal((await liaison("partner", "list", "--dir", join(root, "vn"), "--json")).stdout.trim(), "[]");

    const right = await liaison("partner", "import", bundle, "--dir", join(root, "vn"), "--fingerprint", fingerprint);
    assert.equal(right.code, 0, right.stderr);
    const listed = JSON.parse((await liaison("partner", "list", "--dir", join(root, "vn"), "--json")).stdout) as { party: string }[];
    assert.deepEqual(listed.map((p) => p.party), ["CN-MPS"]);
  });

  it("rotates the signing key and says so", async () => {
    const out = await liaison("pki", "rotate-signing-key", "--dir", join(root, "vn"));
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /retired \S+ at \d{4}-/);
  });

  it("answers a bad bundle file with a clear error and exit code 1", async () => {
    const out = await liaison("partner", "import", BIN, "--dir", join(root, "vn"), "--fingerprint", "00".repeat(32));
    assert.equal(out.code, 1);
    assert.match(out.stderr, /not a JSON partner bundle/);
  });
});
