/**
 * Key custody: private keys encrypted at rest under the key passphrase (encrypted PKCS#8 PEM),
 * precise refusals without it or with a wrong one (no key bytes in messages or logs), rotation
 * and renewal writing encrypted keys, re-encryption, secrets from the environment or files, and
 * sealing.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { LiaisonError } from "../errors/index.ts";
import { captureLogs, withEnv } from "../../test/support/env-and-logs.ts";
import {
  isEncryptedPrivateKeyPem,
  keyPassphraseFromEnvironment,
  seal,
  secretFromEnvironment,
  tokenSecretFromEnvironment,
  unseal,
} from "./custody.ts";
import { identityFingerprint, loadIdentity, pkiInit, renewNodeCertificate, rotateSigningKey, setKeyPassphrase } from "./store.ts";

const NOW = new Date("2026-03-01T08:00:00Z");
const PASSPHRASE = "tàu hỏa đi Hải Phòng lúc 6 giờ sáng";
const root = mkdtempSync(join(tmpdir(), "liaison-custody-"));
after(() => rmSync(root, { recursive: true, force: true }));

// PEM armour in pieces: the repository scan for committed keys (test/secrets.test.ts) stays quiet.
const ENCRYPTED_HEADER = "-----BEGIN ENCRYPTED " + "PRIVATE KEY-----";
const PLAIN_HEADER = "-----BEGIN " + "PRIVATE KEY-----";

/** Every private key file of an identity folder, relative paths. */
function keyFiles(dir: string): string[] {
  return ["ca.key", "node.key", ...readdirSync(join(dir, "signing")).map((n) => join("signing", n))];
}

/** The base64 body lines of every key file: none may appear in a message or a log. */
function keyMaterial(dir: string): string[] {
  return keyFiles(dir).flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter((l) => l.length > 20 && !l.startsWith("-----")));
}

async function configError(promise: Promise<unknown>): Promise<LiaisonError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LiaisonError, `expected a LiaisonError, got ${String(error)}`);
    assert.equal(error.code, "CONFIG_INVALID", error.message);
    return error;
  }
  assert.fail("expected CONFIG_INVALID");
}

describe("private keys encrypted at rest", async () => {
  const dir = join(root, "vn");
  await pkiInit({ party: "VN-MPS", displayNames: { en: "Ministry of Public Security" }, dir, now: NOW, passphrase: PASSPHRASE });

  it("writes every private key as encrypted PKCS#8 PEM, never in clear", () => {
    for (const file of keyFiles(dir)) {
      const text = readFileSync(join(dir, file), "utf8");
      assert.ok(text.startsWith(ENCRYPTED_HEADER), `${file} starts with the encrypted header`);
      assert.equal(text.includes(PLAIN_HEADER), false, file);
      assert.throws(() => createPrivateKey(text), `${file} does not open without the passphrase`);
    }
  });

  it("uses a standard format: OpenSSL opens the keys with the passphrase", { skip: spawnSync("openssl", ["version"]).status !== 0 }, () => {
    const passFile = join(root, "openssl-pass");
    writeFileSync(passFile, PASSPHRASE, { mode: 0o600 });
    const out = execFileSync("openssl", ["pkey", "-in", join(dir, "node.key"), "-passin", `file:${passFile}`, "-noout", "-text_pub"], { encoding: "utf8" });
    assert.match(out, /Public-Key: \(2048 bit\)/);
  });

  it("loads with the passphrase; the TLS key is held decrypted in memory only, not enumerable", async () => {
    const identity = await loadIdentity(dir, { now: NOW, passphrase: PASSPHRASE });
    assert.equal(identity.party, "VN-MPS");
    assert.match(identity.tlsKeyPem, new RegExp(`^${PLAIN_HEADER}`));
    assert.equal(JSON.stringify(identity).includes("PRIVATE KEY"), false);
  });

  it("refuses to load without the passphrase, naming the file and that a passphrase is needed; no key bytes in the message or logs", async () => {
    let message = "";
    const logs = await captureLogs(async () => {
      message = (await configError(loadIdentity(dir, { now: NOW, passphrase: null }))).message;
    });
    assert.equal(message, `${join(dir, "ca.key")} is encrypted: a key passphrase is needed (LIAISON_KEY_PASSPHRASE_FILE or LIAISON_KEY_PASSPHRASE; --passphrase-file for liaison pki)`);
    for (const line of keyMaterial(dir)) assert.equal((message + logs).includes(line), false);
  });

  it("refuses a wrong passphrase, naming the file; no key bytes in the message or logs", async () => {
    let error: LiaisonError | undefined;
    const logs = await captureLogs(async () => {
      error = await configError(loadIdentity(dir, { now: NOW, passphrase: "not the passphrase, but long" }));
    });
    assert.equal(error!.message, `${join(dir, "ca.key")} does not decrypt with the key passphrase: the passphrase is wrong (or the file is damaged)`);
    const cause = String((error!.cause as Error | undefined)?.message ?? "");
    for (const line of keyMaterial(dir)) assert.equal((error!.message + cause + logs).includes(line), false);
  });

  it("names the first key that does not open: node.key encrypted under another passphrase", async () => {
    const mixed = join(root, "mixed");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: mixed, now: NOW, passphrase: PASSPHRASE });
    const other = join(root, "other");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: other, now: NOW, passphrase: "another passphrase, long enough" });
    writeFileSync(join(mixed, "node.key"), readFileSync(join(other, "node.key")));
    const error = await configError(loadIdentity(mixed, { now: NOW, passphrase: PASSPHRASE }));
    assert.match(error.message, /\/mixed\/node\.key does not decrypt with the key passphrase/);
  });

  it("takes the passphrase from LIAISON_KEY_PASSPHRASE or from the file LIAISON_KEY_PASSPHRASE_FILE names", async () => {
    await withEnv({ LIAISON_KEY_PASSPHRASE: PASSPHRASE, LIAISON_KEY_PASSPHRASE_FILE: undefined }, async () => {
      assert.equal((await loadIdentity(dir, { now: NOW })).party, "VN-MPS");
    });
    const file = join(root, "key-passphrase");
    writeFileSync(file, PASSPHRASE + "\n", { mode: 0o600 });
    await withEnv({ LIAISON_KEY_PASSPHRASE: undefined, LIAISON_KEY_PASSPHRASE_FILE: file }, async () => {
      assert.equal((await loadIdentity(dir, { now: NOW })).party, "VN-MPS");
    });
  });

  it("prints the fingerprint without any private key", async () => {
    const { party, fingerprint } = await identityFingerprint(dir);
    assert.equal(party, "VN-MPS");
    assert.equal(fingerprint, (await loadIdentity(dir, { now: NOW, passphrase: PASSPHRASE })).fingerprint);
  });

  it("refuses a passphrase shorter than 16 characters when writing keys", async () => {
    await assert.rejects(
      pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: join(root, "short"), now: NOW, passphrase: "short one" }),
      (error: unknown) => error instanceof LiaisonError && error.code === "INVALID_ARGUMENT" && /at least 16 characters/.test(error.message),
    );
  });

  it("rotation writes the new signing key encrypted the same way", async () => {
    const rotDir = join(root, "rot");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: rotDir, now: NOW, passphrase: PASSPHRASE });
    const rotatedAt = new Date(NOW.getTime() + 86_400_000);
    const { activeKid } = await rotateSigningKey(rotDir, { now: rotatedAt, passphrase: PASSPHRASE });
    assert.ok(readFileSync(join(rotDir, "signing", `${activeKid}.key`), "utf8").startsWith(ENCRYPTED_HEADER));
    assert.equal((await loadIdentity(rotDir, { now: rotatedAt, passphrase: PASSPHRASE })).activeSigningKey.kid, activeKid);
    await configError(rotateSigningKey(rotDir, { now: rotatedAt, passphrase: null }));
  });

  it("renewal writes the new TLS key encrypted the same way", async () => {
    const renewDir = join(root, "renew");
    await pkiInit({ party: "VN-MPS", displayNames: { en: "x" }, dir: renewDir, now: NOW, passphrase: PASSPHRASE });
    const before = readFileSync(join(renewDir, "node.key"), "utf8");
    await renewNodeCertificate(renewDir, { now: NOW, passphrase: PASSPHRASE });
    const after = readFileSync(join(renewDir, "node.key"), "utf8");
    assert.notEqual(after, before);
    assert.ok(after.startsWith(ENCRYPTED_HEADER));
    await loadIdentity(renewDir, { now: NOW, passphrase: PASSPHRASE });
  });
});

describe("setting the key passphrase of an existing folder", async () => {
  const dir = join(root, "clear");
  await pkiInit({ party: "CN-MPS", displayNames: { en: "x" }, dir, now: NOW });

  it("encrypts keys in clear, then re-encrypts them under a new passphrase; the identity is unchanged", async () => {
    const before = await loadIdentity(dir, { now: NOW, passphrase: null });
    const { files } = await setKeyPassphrase(dir, { passphrase: null, newPassphrase: PASSPHRASE });
    assert.deepEqual(files.sort(), keyFiles(dir).sort());
    for (const file of keyFiles(dir)) assert.ok(readFileSync(join(dir, file), "utf8").startsWith(ENCRYPTED_HEADER), file);
    await configError(setKeyPassphrase(dir, { passphrase: null, newPassphrase: "a second passphrase, long" }));
    await setKeyPassphrase(dir, { passphrase: PASSPHRASE, newPassphrase: "a second passphrase, long" });
    await configError(loadIdentity(dir, { now: NOW, passphrase: PASSPHRASE }));
    const after = await loadIdentity(dir, { now: NOW, passphrase: "a second passphrase, long" });
    assert.equal(after.fingerprint, before.fingerprint);
    assert.equal(after.activeSigningKey.kid, before.activeSigningKey.kid);
    assert.equal(after.tlsKeyPem, before.tlsKeyPem);
  });
});

describe("warnings about keys in clear", async () => {
  const dir = join(root, "warn");
  await pkiInit({ party: "KH-MOI", displayNames: { en: "x" }, dir, now: NOW });

  it("production: keys without a passphrase load, with a warning naming the files", async () => {
    let logs = "";
    await withEnv({ NODE_ENV: "production" }, async () => {
      logs = await captureLogs(async () => {
        await loadIdentity(dir, { now: NOW, passphrase: null });
      });
    });
    assert.match(logs, /private keys are not encrypted at rest/);
    assert.match(logs, /ca\.key/);
    assert.equal(logs.includes("PRIVATE KEY"), false);
  });

  it("test mode: no warning", async () => {
    const logs = await captureLogs(async () => {
      await loadIdentity(dir, { now: NOW, passphrase: null });
    });
    assert.doesNotMatch(logs, /not encrypted/);
  });

  it("a passphrase set with keys in clear: a warning in any mode", async () => {
    const logs = await captureLogs(async () => {
      await loadIdentity(dir, { now: NOW, passphrase: PASSPHRASE });
    });
    assert.match(logs, /a key passphrase is set but these private keys are not encrypted/);
  });
});

describe("secrets from the environment", () => {
  const file = join(root, "secret");
  writeFileSync(file, "from a file\n", { mode: 0o600 });

  it("reads NAME or the file NAME_FILE names (one trailing newline dropped), refusing both", () => {
    assert.equal(secretFromEnvironment("LIAISON_X", { LIAISON_X: "direct" }), "direct");
    assert.equal(secretFromEnvironment("LIAISON_X", { LIAISON_X_FILE: file }), "from a file");
    assert.equal(secretFromEnvironment("LIAISON_X", {}), undefined);
    assert.throws(() => secretFromEnvironment("LIAISON_X", { LIAISON_X: "a", LIAISON_X_FILE: file }), /set LIAISON_X or LIAISON_X_FILE, not both/);
    assert.throws(() => secretFromEnvironment("LIAISON_X", { LIAISON_X_FILE: join(root, "nowhere") }), /LIAISON_X_FILE: cannot read the file .*nowhere \(ENOENT\)/);
  });

  it("warns when the file is readable by others", async () => {
    const open = join(root, "open-secret");
    writeFileSync(open, "exposed secret value");
    chmodSync(open, 0o644);
    const logs = await captureLogs(async () => {
      assert.equal(keyPassphraseFromEnvironment({ LIAISON_KEY_PASSPHRASE_FILE: open }), "exposed secret value");
    });
    assert.match(logs, /secret file is readable by group or others/);
    assert.equal(logs.includes("exposed secret value"), false);
  });

  it("the token secret is LIAISON_JWT_SECRET, else the key passphrase", () => {
    assert.deepEqual(tokenSecretFromEnvironment({ LIAISON_JWT_SECRET: "j", LIAISON_KEY_PASSPHRASE: "k" }), { secret: "j", source: "LIAISON_JWT_SECRET" });
    assert.deepEqual(tokenSecretFromEnvironment({ LIAISON_KEY_PASSPHRASE: "k" }), { secret: "k", source: "LIAISON_KEY_PASSPHRASE" });
    assert.equal(tokenSecretFromEnvironment({}), undefined);
  });
});

describe("sealing", () => {
  it("opens only with the same secret and label; the sealed form holds no plaintext", () => {
    const plaintext = Buffer.from("the officer token key, say");
    const sealed = seal("secret one", plaintext, "label");
    assert.equal(Buffer.from(sealed.data, "base64").includes(plaintext), false);
    assert.deepEqual(unseal("secret one", sealed, "label"), plaintext);
    assert.equal(unseal("secret two", sealed, "label"), undefined);
    assert.equal(unseal("secret one", sealed, "another label"), undefined);
    assert.notEqual(seal("secret one", plaintext, "label").data, sealed.data, "a fresh salt and IV each time");
    assert.ok(isEncryptedPrivateKeyPem(ENCRYPTED_HEADER) && !isEncryptedPrivateKeyPem(PLAIN_HEADER));
  });
});
