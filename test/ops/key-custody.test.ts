/**
 * Key custody with real nodes: identities whose private keys are encrypted under a key
 * passphrase; nodes started with the passphrase from the environment (VN-MPS), from a file
 * (CN-MPS), and as a production child process `liaison node start` (KH-MOI); start-up refused
 * precisely without it or with a wrong one, with no key bytes in messages or logs; the
 * officer-token key sealed in `node_secrets`; backup → restore keeping the keys encrypted.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Command } from "commander";
import { stringify } from "yaml";
import { LocalApi } from "../../gen/liaison/v1/local_pb.ts";
import { registerBackupCommands } from "../../services/cli/backup.ts";
import { LiaisonError } from "../../services/errors/index.ts";
import { exportPartnerBundle, importPartnerBundle, pkiInit, sha256Fingerprint, unseal, type SealedSecret } from "../../services/identity/index.ts";
import { loadNodeConfig, LocalApiClient, startNode, type LiaisonNode, type NodeConfig } from "../../services/node/index.ts";
import { ensureAdmin, TokenService } from "../../services/officers/index.ts";
import type { EmbeddedStore } from "../../services/store/index.ts";
import { DISPLAY_NAMES, IDENTITY_AGE_MS, nodeConfig, wantedPersonNotice, type PartyFolder } from "../support/cluster.ts";
import { captureLogs, withEnv } from "../support/env-and-logs.ts";
import { storeFor } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const KH = "KH-MOI";
const PASSPHRASES: Record<string, string> = {
  [VN]: "Hà Nội mùa thu, phố cổ còn ngủ",
  [CN]: "北京的秋天 — a long enough passphrase",
  [KH]: "Phnom Penh riverside at dawn, 2026",
};
const BACKUP_PASSPHRASE = "the backup passphrase, not the key one";
const ADMIN = { username: "admin", password: "correct horse battery staple" };
// PEM armour in pieces: the repository scan for committed keys (test/secrets.test.ts) stays quiet.
const ENCRYPTED_HEADER = "-----BEGIN ENCRYPTED " + "PRIVATE KEY-----";
const PLAIN_HEADER = "-----BEGIN " + "PRIVATE KEY-----";
const BIN = new URL("../../bin/liaison.mjs", import.meta.url).pathname;
const run = promisify(execFile);

const root = mkdtempSync(join(tmpdir(), "liaison-custody-"));
const folders = new Map<string, PartyFolder>();
const nodes = new Map<string, LiaisonNode>();
const stores: EmbeddedStore[] = [];
const databases = new Map<string, { uri: string; database: string }>();
const passphraseFiles = new Map<string, string>();
let child: ChildProcess | undefined;

/** An identity folder whose keys are encrypted under the party's passphrase. */
async function makeEncryptedParty(party: string): Promise<PartyFolder> {
  const identityDir = join(root, party, "identity");
  const dataDir = join(root, party, "data");
  await pkiInit({ party, displayNames: DISPLAY_NAMES[party]!, dir: identityDir, now: new Date(Date.now() - IDENTITY_AGE_MS), passphrase: PASSPHRASES[party]! });
  const file = join(root, `${party}.key-passphrase`);
  writeFileSync(file, PASSPHRASES[party]! + "\n", { mode: 0o600 });
  passphraseFiles.set(party, file);
  return { party, root, identityDir, dataDir };
}

/** Onboard `partner` at `at`: its bundle is signed with its CA key, opened with its passphrase. */
async function onboard(at: PartyFolder, partner: PartyFolder, endpoint: string): Promise<void> {
  const bundle = await exportPartnerBundle(partner.identityDir, { endpoint, passphrase: PASSPHRASES[partner.party]! });
  await importPartnerBundle(at.identityDir, bundle, sha256Fingerprint(bundle.ca_certificate));
}

const NO_SECRETS = { LIAISON_KEY_PASSPHRASE: undefined, LIAISON_KEY_PASSPHRASE_FILE: undefined, LIAISON_JWT_SECRET: undefined, LIAISON_JWT_SECRET_FILE: undefined };

/** What a failing `run` threw, and the log lines written meanwhile. */
async function failureWithLogs(run: () => Promise<unknown>): Promise<{ error: LiaisonError; logs: string }> {
  let error: unknown;
  const logs = await captureLogs(() => run().then(() => assert.fail("expected the start to fail"), (e: unknown) => (error = e)));
  assert.ok(error instanceof LiaisonError, String(error));
  return { error, logs };
}

/** The base64 lines of a folder's key files: none may appear in a message or a log. */
function keyMaterial(identityDir: string): string[] {
  const files = ["ca.key", "node.key", ...readdirSync(join(identityDir, "signing")).map((n) => join("signing", n))];
  return files.flatMap((f) => readFileSync(join(identityDir, f), "utf8").split("\n").filter((l) => l.length > 20 && !l.startsWith("-----")));
}

function assertNoKeyMaterial(text: string, identityDir: string): void {
  assert.equal(/PRIVATE KEY-----/.test(text), false, "no PEM key");
  for (const line of keyMaterial(identityDir)) assert.equal(text.includes(line), false, "no line of a key file");
}

function configFor(party: string, overrides: Partial<NodeConfig> = {}): NodeConfig {
  const { uri, database } = databases.get(party)!;
  return nodeConfig(folders.get(party)!, { mongodbUri: uri, database, ...overrides });
}

before(async () => {
  for (const party of [VN, CN]) {
    const folder = await makeEncryptedParty(party);
    folders.set(party, folder);
    const { uri, database, store } = await storeFor(folder);
    if (store) stores.push(store);
    databases.set(party, { uri, database });
  }
  // VN: the passphrase in LIAISON_KEY_PASSPHRASE, and a local API (its token key sealed under it).
  const vn = await withEnv({ ...NO_SECRETS, LIAISON_KEY_PASSPHRASE: PASSPHRASES[VN] }, async () => {
    const node = await startNode(configFor(VN, { local: { host: "127.0.0.1", port: 0 } }));
    await ensureAdmin(node.db, ADMIN, node.ledger);
    return node;
  });
  nodes.set(VN, vn);
  // CN: the passphrase in the file LIAISON_KEY_PASSPHRASE_FILE names.
  nodes.set(CN, await withEnv({ ...NO_SECRETS, LIAISON_KEY_PASSPHRASE_FILE: passphraseFiles.get(CN) }, () => startNode(configFor(CN, { local: { host: "127.0.0.1", port: 0 } }))));
  await onboard(folders.get(VN)!, folders.get(CN)!, nodes.get(CN)!.peerAddress);
  await onboard(folders.get(CN)!, folders.get(VN)!, nodes.get(VN)!.peerAddress);
  for (const node of nodes.values()) await node.partners.refresh(true);
});

after(async () => {
  if (child && child.exitCode === null) child.kill("SIGTERM");
  for (const node of nodes.values()) await node.close().catch(() => undefined);
  for (const store of stores) await store.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

describe("keys encrypted at rest", () => {
  it("every private key file starts with the encrypted header and holds no plain key", () => {
    for (const party of [VN, CN]) {
      const dir = folders.get(party)!.identityDir;
      for (const file of ["ca.key", "node.key", ...readdirSync(join(dir, "signing")).map((n) => join("signing", n))]) {
        const text = readFileSync(join(dir, file), "utf8");
        assert.ok(text.startsWith(ENCRYPTED_HEADER), `${party} ${file}`);
        assert.equal(text.includes(PLAIN_HEADER), false);
      }
    }
  });

  it("nodes started with the passphrase from the environment and from a file exchange messages both ways", async () => {
    const vn = nodes.get(VN)!;
    const cn = nodes.get(CN)!;
    const toCn = await vn.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: "from an encrypted VN" }));
    const toVn = await cn.submit(wantedPersonNotice({ sender: CN, recipients: [VN], title: "from an encrypted CN" }));
    await vn.outbox.drained(60_000);
    await cn.outbox.drained(60_000);
    const atVn = await vn.db.collection("envelopes_sent").findOne({ _id: toCn.messageId as never });
    const atCn = await cn.db.collection("envelopes_sent").findOne({ _id: toVn.messageId as never });
    assert.equal(atVn?.deliveries[CN].status, "receipted");
    assert.equal(atCn?.deliveries[VN].status, "receipted");
  });
});

describe("start-up without the key passphrase", () => {
  it("fails without it, naming the file and that a passphrase is needed; no key bytes in the message or logs", async () => {
    const dir = folders.get(VN)!.identityDir;
    const { error, logs } = await failureWithLogs(() => withEnv(NO_SECRETS, () => startNode(configFor(VN, { dataDir: join(root, "scratch-1") }))));
    assert.equal(error.code, "CONFIG_INVALID");
    assert.equal(error.message, `${join(dir, "ca.key")} is encrypted: a key passphrase is needed (LIAISON_KEY_PASSPHRASE_FILE or LIAISON_KEY_PASSPHRASE; --passphrase-file for liaison pki)`);
    assertNoKeyMaterial(error.message + logs, dir);
  });

  it("fails with a wrong one, saying so; no key bytes in the message or logs", async () => {
    const dir = folders.get(VN)!.identityDir;
    const { error, logs } = await failureWithLogs(() =>
      withEnv({ ...NO_SECRETS, LIAISON_KEY_PASSPHRASE: "the wrong passphrase, long enough" }, () => startNode(configFor(VN, { dataDir: join(root, "scratch-2") }))),
    );
    assert.equal(error.message, `${join(dir, "ca.key")} does not decrypt with the key passphrase: the passphrase is wrong (or the file is damaged)`);
    assertNoKeyMaterial(error.message + logs + String((error.cause as Error | undefined)?.message), dir);
  });
});

describe("the officer-token key in node_secrets", () => {
  it("is sealed under the node's secret: the document holds no usable key in clear", async () => {
    const cn = nodes.get(CN)!;
    const doc = await cn.db.collection("node_secrets").findOne({ _id: "officer-token-key" as never });
    assert.ok(doc);
    assert.equal(doc.privateKeyPem, undefined);
    const text = JSON.stringify(doc);
    assert.equal(/PRIVATE KEY/.test(text), false);
    assert.deepEqual(Object.keys(doc).sort(), ["_id", "createdAt", "kid", "publicKeyPem", "sealedPrivateKey"]);
    const sealed = doc.sealedPrivateKey as SealedSecret;
    assert.equal(unseal("a guess at the secret", sealed, `liaison node_secrets/officer-token-key ${doc.kid}`), undefined);
    assert.ok(unseal(PASSPHRASES[CN]!, sealed, `liaison node_secrets/officer-token-key ${doc.kid}`), "sealed under CN's key passphrase");
  });

  it("officers sign in and refresh through the local API with the sealed key", async () => {
    const cn = nodes.get(CN)!;
    await ensureAdmin(cn.db, ADMIN, cn.ledger);
    const client = new LocalApiClient(`127.0.0.1:${cn.localApi!.port}`);
    try {
      const login = await client.call(LocalApi.method.login, ADMIN);
      const me = await client.call(LocalApi.method.whoAmI, {}, login.accessToken);
      assert.equal(me.username, ADMIN.username);
      assert.equal(me.party, CN);
      const refreshed = await client.call(LocalApi.method.refreshToken, { refreshToken: login.refreshToken });
      await client.call(LocalApi.method.whoAmI, {}, refreshed.accessToken);
    } finally {
      client.close();
    }
  });
});

describe("a token key stored in clear before the node had a secret", () => {
  it("is sealed in place at the next start: same key, sessions go on; it then needs that secret", async () => {
    const db = nodes.get(CN)!.mongo.db(`liaison_token_custody_${Math.random().toString(36).slice(2, 8)}`);
    try {
      const secrets = db.collection("node_secrets");
      const clear = await TokenService.open({ db, issuer: CN, secret: null });
      const before = await secrets.findOne({ _id: "officer-token-key" as never });
      assert.match(String(before?.privateKeyPem), new RegExp(`^${PLAIN_HEADER}`));
      const session = await clear.issue({ _id: "officer-1", roles: ["drafter"] });

      const secretFile = join(root, "jwt-secret");
      writeFileSync(secretFile, "the node's token secret, from a file\n", { mode: 0o600 });
      const sealedService = await withEnv({ ...NO_SECRETS, LIAISON_JWT_SECRET_FILE: secretFile }, () => TokenService.open({ db, issuer: CN }));
      const after = await secrets.findOne({ _id: "officer-token-key" as never });
      assert.equal(after?.privateKeyPem, undefined);
      assert.ok(after?.sealedPrivateKey);
      assert.equal(after.kid, before!.kid);
      assert.equal(/PRIVATE KEY/.test(JSON.stringify(after)), false);

      // Sessions are untouched: the access token verifies, the refresh token rotates.
      assert.equal((await sealedService.verifyAccess(session.accessToken)).officerId, "officer-1");
      const rotated = await sealedService.rotate(session.refreshToken, async (id) => ({ _id: id, roles: ["drafter"] }));
      assert.equal((await clear.verifyAccess(rotated.accessToken)).sid, (await sealedService.verifyAccess(session.accessToken)).sid);
      await assert.rejects(sealedService.rotate(session.refreshToken, async (id) => ({ _id: id, roles: ["drafter"] })), /already used/);

      await assert.rejects(
        withEnv(NO_SECRETS, () => TokenService.open({ db, issuer: CN })),
        /node_secrets officer-token-key is sealed: the node needs the secret it was sealed with \(LIAISON_JWT_SECRET or LIAISON_JWT_SECRET_FILE, else the key passphrase/,
      );
      await assert.rejects(
        withEnv({ ...NO_SECRETS, LIAISON_KEY_PASSPHRASE: "not the token secret at all" }, () => TokenService.open({ db, issuer: CN })),
        /node_secrets officer-token-key does not open with LIAISON_KEY_PASSPHRASE: it was sealed with another secret/,
      );
    } finally {
      await db.dropDatabase();
    }
  });
});

describe("liaison node start as a production process", () => {
  let kh: PartyFolder;
  let khConfig: string;

  before(async () => {
    kh = await makeEncryptedParty(KH);
    folders.set(KH, kh);
    khConfig = join(root, "kh.yaml");
    writeFileSync(khConfig, stringify({ party: KH, identityDir: kh.identityDir, dataDir: kh.dataDir, peer: { host: "127.0.0.1", port: 0 }, checkpointIntervalSeconds: 0 }));
    await onboard(kh, folders.get(VN)!, nodes.get(VN)!.peerAddress);
  });

  const env = (vars: Record<string, string>) => {
    const base = { ...process.env, NODE_ENV: "production", LIAISON_LOG_FORMAT: "json" } as NodeJS.ProcessEnv;
    for (const name of Object.keys(NO_SECRETS)) delete base[name];
    return { ...base, ...vars };
  };

  async function failedStart(vars: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      await run(process.execPath, [BIN, "node", "start", "--config", khConfig], { env: env(vars), timeout: 120_000 });
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
    assert.fail("expected the node not to start");
  }

  it("exits 1 without the passphrase, with the precise message and no key bytes", async () => {
    const out = await failedStart({});
    assert.equal(out.code, 1);
    assert.match(out.stderr, new RegExp(`liaison: CONFIG_INVALID: ${join(kh.identityDir, "ca.key")} is encrypted: a key passphrase is needed`));
    assertNoKeyMaterial(out.stdout + out.stderr, kh.identityDir);
  });

  it("exits 1 with a wrong passphrase file, saying the passphrase is wrong", async () => {
    const wrong = join(root, "wrong-passphrase");
    writeFileSync(wrong, "a wrong passphrase of some length\n", { mode: 0o600 });
    const out = await failedStart({ LIAISON_KEY_PASSPHRASE_FILE: wrong });
    assert.equal(out.code, 1);
    assert.match(out.stderr, /ca\.key does not decrypt with the key passphrase: the passphrase is wrong/);
    assertNoKeyMaterial(out.stdout + out.stderr, kh.identityDir);
  });

  it("starts with LIAISON_KEY_PASSPHRASE_FILE, warns of no unencrypted key, and receipts a partner's message", async () => {
    child = spawn(process.execPath, [BIN, "node", "start", "--config", khConfig], { env: env({ LIAISON_KEY_PASSPHRASE_FILE: passphraseFiles.get(KH)! }), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 120 s: ${stderr}`)), 120_000);
      child!.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const m = /peer API on (\S+)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child!.on("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    await onboard(folders.get(VN)!, kh, address);
    const vn = nodes.get(VN)!;
    await vn.partners.refresh(true);
    const sealed = await vn.submit(wantedPersonNotice({ sender: VN, recipients: [KH], title: "to a production node" }));
    await vn.outbox.drained(60_000);
    const state = await vn.db.collection("envelopes_sent").findOne({ _id: sealed.messageId as never });
    assert.equal(state?.deliveries[KH].status, "receipted");
    assert.doesNotMatch(stderr, /not encrypted/);
    assertNoKeyMaterial(stdout + stderr, kh.identityDir);
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  });
});

describe("backup and restore with encrypted keys", () => {
  async function cli(...args: string[]): Promise<void> {
    const program = new Command("liaison").exitOverride();
    registerBackupCommands(program);
    await program.parseAsync(["node", "liaison", ...args]);
  }

  it("restores the keys still encrypted; the restored node needs the passphrase, opens the sealed token key, and its partner accepts its messages", async () => {
    const vnFolder = folders.get(VN)!;
    const { uri, database } = databases.get(VN)!;
    const backupPassphraseFile = join(root, "backup-passphrase");
    writeFileSync(backupPassphraseFile, BACKUP_PASSPHRASE, { mode: 0o600 });
    const configFile = join(root, "vn.yaml");
    writeFileSync(configFile, stringify({ party: VN, identityDir: vnFolder.identityDir, dataDir: vnFolder.dataDir, database, peer: { host: "127.0.0.1", port: 0 } }));
    const backupFile = join(root, "vn.backup");
    await cli("backup", "create", "--config", configFile, "--out", backupFile, "--passphrase-file", backupPassphraseFile, "--uri", uri);

    // The machine is lost: VN stops; its backup is restored into fresh folders.
    const original = nodes.get(VN)!;
    const tokenKey = await original.db.collection("node_secrets").findOne({ _id: "officer-token-key" as never });
    assert.ok(tokenKey?.sealedPrivateKey, "VN's token key is sealed");
    await original.close();
    nodes.delete(VN);
    const target = join(root, "restored");
    mkdirSync(target, { recursive: true });
    const external = process.env.LIAISON_MONGODB_URI;
    const restored = {
      party: VN,
      identityDir: join(target, "identity"),
      dataDir: join(target, "data"),
      peer: { host: "127.0.0.1", port: 0 },
      checkpointIntervalSeconds: 0,
      ...(external ? { mongodbUri: external, database: `${database}_restored` } : {}),
    };
    const restoredConfig = join(target, "node.yaml");
    writeFileSync(restoredConfig, stringify(restored));
    await cli("backup", "restore", backupFile, "--config", restoredConfig, "--passphrase-file", backupPassphraseFile);

    for (const file of ["ca.key", "node.key", ...readdirSync(join(vnFolder.identityDir, "signing")).map((n) => join("signing", n))]) {
      const bytes = readFileSync(join(restored.identityDir, file), "utf8");
      assert.ok(bytes.startsWith(ENCRYPTED_HEADER), `restored ${file} is encrypted`);
      assert.equal(bytes, readFileSync(join(vnFolder.identityDir, file), "utf8"), `restored ${file} as it was`);
    }
    const folder = { party: VN, root: target, identityDir: restored.identityDir, dataDir: restored.dataDir };
    const config = nodeConfig(folder, { local: { host: "127.0.0.1", port: 0 }, ...(external ? { mongodbUri: external, database: restored.database } : {}) });

    const { error } = await failureWithLogs(() => withEnv(NO_SECRETS, () => startNode(config)));
    assert.match(error.message, /restored\/identity\/ca\.key is encrypted: a key passphrase is needed/);

    const node = await withEnv({ ...NO_SECRETS, LIAISON_KEY_PASSPHRASE: PASSPHRASES[VN] }, () => startNode(config));
    nodes.set(VN, node);
    const doc = await node.db.collection("node_secrets").findOne({ _id: "officer-token-key" as never });
    assert.ok(doc?.sealedPrivateKey && doc.privateKeyPem === undefined, "the token key was restored sealed");
    assert.equal(doc.kid, tokenKey.kid, "the same token key, restored and opened");
    const client = new LocalApiClient(`127.0.0.1:${node.localApi!.port}`);
    try {
      const login = await client.call(LocalApi.method.login, ADMIN);
      await client.call(LocalApi.method.whoAmI, {}, login.accessToken);
    } finally {
      client.close();
    }
    const sealed = await node.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: "after restore" }));
    await node.outbox.drained(60_000);
    const state = await node.db.collection("envelopes_sent").findOne({ _id: sealed.messageId as never });
    assert.equal(state?.deliveries[CN].status, "receipted");
  });
});

describe("liaison pki with a key passphrase", () => {
  async function liaison(args: string[], vars: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { ...process.env, NODE_ENV: "test" } as NodeJS.ProcessEnv;
    for (const name of Object.keys(NO_SECRETS)) delete env[name];
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...env, ...vars } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
  }

  it("init --passphrase-file encrypts; fingerprint needs no passphrase; rotation takes it from the environment; set-passphrase changes it", async () => {
    const dir = join(root, "cli-identity");
    const passFile = join(root, "cli-passphrase");
    writeFileSync(passFile, "a passphrase for the CLI test, long\n", { mode: 0o600 });
    const init = await liaison(["pki", "init", "--party", "VN-MPS", "--name", "MPS", "--dir", dir, "--passphrase-file", passFile]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /private keys encrypted with the key passphrase/);
    for (const file of ["ca.key", "node.key"]) assert.ok(readFileSync(join(dir, file), "utf8").startsWith(ENCRYPTED_HEADER), file);

    const fingerprint = await liaison(["pki", "fingerprint", "--dir", dir]);
    assert.equal(fingerprint.code, 0, fingerprint.stderr);
    assert.match(fingerprint.stdout, /^VN-MPS ([0-9A-F]{2}:){31}[0-9A-F]{2}/);

    const refused = await liaison(["pki", "rotate-signing-key", "--dir", dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /liaison: CONFIG_INVALID: .*ca\.key is encrypted: a key passphrase is needed/);
    const rotated = await liaison(["pki", "rotate-signing-key", "--dir", dir], { LIAISON_KEY_PASSPHRASE_FILE: passFile });
    assert.equal(rotated.code, 0, rotated.stderr);
    const kid = /active signing key: (\S+)/.exec(rotated.stdout)![1]!;
    assert.ok(readFileSync(join(dir, "signing", `${kid}.key`), "utf8").startsWith(ENCRYPTED_HEADER));

    const newFile = join(root, "cli-new-passphrase");
    writeFileSync(newFile, "the new passphrase for the CLI test\n", { mode: 0o600 });
    const changed = await liaison(["pki", "set-passphrase", "--dir", dir, "--passphrase-file", passFile, "--new-passphrase-file", newFile]);
    assert.equal(changed.code, 0, changed.stderr);
    const exported = await liaison(["partner", "export", "--dir", dir, "--endpoint", "127.0.0.1:7443", "--out", join(root, "cli-bundle.json")], { LIAISON_KEY_PASSPHRASE_FILE: newFile });
    assert.equal(exported.code, 0, exported.stderr);
    const short = join(root, "cli-short-passphrase");
    writeFileSync(short, "too short\n", { mode: 0o600 });
    const weak = await liaison(["pki", "init", "--party", "CN-MPS", "--name", "MPS", "--dir", join(root, "cli-weak"), "--passphrase-file", short]);
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /INVALID_ARGUMENT: the key passphrase must be at least 16 characters/);
    assertNoKeyMaterial(init.stdout + init.stderr + rotated.stdout + rotated.stderr + changed.stdout + changed.stderr, dir);
  });

  it("a secret in the YAML configuration is refused, naming the variables to use", () => {
    const file = join(root, "secret.yaml");
    writeFileSync(file, "party: VN-MPS\nidentityDir: ./identity\ndataDir: ./data\npeer: { port: 7443 }\nkeyPassphrase: hunter2hunter2hunter2\n");
    assert.throws(
      () => loadNodeConfig(file, {}),
      (error: unknown) =>
        error instanceof LiaisonError &&
        error.code === "CONFIG_INVALID" &&
        error.message.includes("keyPassphrase: secrets are never read from the configuration file") &&
        error.message.includes("LIAISON_KEY_PASSPHRASE_FILE (or LIAISON_KEY_PASSPHRASE)") &&
        !error.message.includes("hunter2"),
    );
  });
});
