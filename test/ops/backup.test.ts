/**
 * Backup and restore of a running node: a snapshot taken while traffic flows, restored into a
 * fresh folder; the restored node starts, its ledger verifies, and its partner accepts what it
 * sends. A wrong passphrase and a flipped byte are named precisely.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Command } from "commander";
import { stringify } from "yaml";
import { openBackup, restoreBackup, verifyBackup } from "../../services/backup/index.ts";
import { registerBackupCommands } from "../../services/cli/backup.ts";
import { verifyLedger } from "../../services/ledger/index.ts";
import { startNode, type LiaisonNode } from "../../services/node/index.ts";
import { nodeConfig, wantedPersonNotice } from "../support/cluster.ts";
import { startOpsCluster, type OpsCluster } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const PASSPHRASE = "correct horse battery staple — Hà Nội";

let cluster: OpsCluster;
let backupFile: string;
let passphraseFile: string;
let configFile: string;

async function cli(...args: string[]): Promise<void> {
  const program = new Command("liaison").exitOverride();
  registerBackupCommands(program);
  await program.parseAsync(["node", "liaison", ...args]);
}

function restoredTarget(name: string) {
  const root = join(cluster.root, name);
  const external = process.env.LIAISON_MONGODB_URI;
  return {
    root,
    config: {
      party: VN,
      identityDir: join(root, "identity"),
      dataDir: join(root, "data"),
      peer: { host: "127.0.0.1", port: 0 },
      checkpointIntervalSeconds: 0,
      ...(external ? { mongodbUri: external, database: `${cluster.databases.get(VN)!.database}_${name.replace(/\W/g, "_")}` } : {}),
    },
  };
}

before(async () => {
  cluster = await startOpsCluster([VN, CN]);
  const vn = cluster.node(VN);
  const cn = cluster.node(CN);
  for (let i = 0; i < 5; i++) await vn.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: `before backup ${i}` }));
  for (let i = 0; i < 3; i++) await cn.submit(wantedPersonNotice({ sender: CN, recipients: [VN], title: `from CN ${i}` }));
  await vn.outbox.drained();
  await cn.outbox.drained();
  await vn.publishCheckpoint();

  passphraseFile = join(cluster.root, "passphrase");
  writeFileSync(passphraseFile, PASSPHRASE + "\n", { mode: 0o600 });
  const folder = cluster.folders.get(VN)!;
  configFile = join(cluster.root, "vn.yaml");
  const { database } = cluster.databases.get(VN)!;
  writeFileSync(configFile, stringify({ party: VN, identityDir: folder.identityDir, dataDir: folder.dataDir, database, peer: { host: "127.0.0.1", port: 0 } }));
  backupFile = join(cluster.root, "vn.backup");

  // Traffic keeps flowing while the backup is taken.
  let stop = false;
  const traffic = (async () => {
    for (let i = 0; !stop; i++) await vn.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: `during backup ${i}` }));
  })();
  try {
    await cli("backup", "create", "--config", configFile, "--out", backupFile, "--passphrase-file", passphraseFile, "--uri", cluster.databases.get(VN)!.uri);
  } finally {
    stop = true;
    await traffic;
  }
  await vn.outbox.drained();
});
after(async () => {
  await cluster?.close();
});

describe("backup create", () => {
  it("writes one file whose manifest records the ledger head of the snapshot and a hash per part", () => {
    const backup = openBackup(backupFile);
    try {
      const { manifest } = backup;
      assert.equal(manifest.party, VN);
      assert.ok(manifest.ledger.size >= 10, `ledger size ${manifest.ledger.size}`);
      const names = manifest.parts.map((p) => p.name);
      for (const name of ["db/ledger_entries", "db/ledger_nodes", "db/ledger_checkpoints", "db/envelopes_sent", "db/outbox", "identity/public", "identity/private"]) {
        assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
      }
      assert.ok(!names.includes("db/leases") && !names.includes("db/ledger_leases"), "process leases are not backed up");
      for (const part of manifest.parts) assert.match(part.sha256, /^[0-9a-f]{64}$/);
    } finally {
      backup.close();
    }
  });

  it("never writes a private key in clear", () => {
    const bytes = readFileSync(backupFile);
    assert.equal(bytes.includes("PRIVATE KEY"), false);
    const backup = openBackup(backupFile);
    try {
      const pub = backup.manifest.parts.find((p) => p.name === "identity/public")!;
      const text = gunzipSync(backup.readVerifiedPart(pub)).toString("utf8");
      assert.ok(text.includes("party.json"));
      assert.equal(Buffer.from(text.split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { data: string }).data).join(""), "base64").includes("PRIVATE KEY"), false);
      assert.equal(text.includes(".key\""), false, "no key file among the public files");
    } finally {
      backup.close();
    }
  });

  it("refuses to overwrite an existing file", async () => {
    await assert.rejects(cli("backup", "create", "--config", configFile, "--out", backupFile, "--passphrase-file", passphraseFile, "--uri", cluster.databases.get(VN)!.uri), /exists/);
  });
});

describe("backup verify", () => {
  it("checks every part, the passphrase and the ledger (signatures and cosignatures included)", async () => {
    const report = await verifyBackup(backupFile, { passphrase: PASSPHRASE });
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.equal(report.passphrase, "correct");
    assert.ok(report.parts.every((p) => p.ok));
    assert.equal(report.ledger?.ok, true);
    assert.equal(report.ledger?.entries, report.manifest!.ledger.size);
    assert.ok((report.ledger?.checkpoints ?? 0) >= 1);
    assert.ok((report.ledger?.cosignatures ?? 0) >= 1, "CN's cosignature verified with CN's keys");
  });

  it("names a wrong passphrase as such", async () => {
    const report = await verifyBackup(backupFile, { passphrase: "not the passphrase" });
    assert.equal(report.ok, false);
    assert.equal(report.passphrase, "wrong");
    assert.match(report.problems[0]!, /^wrong passphrase/);
    await assert.rejects(
      restoreBackup({ file: backupFile, passphrase: "not the passphrase", target: { ...restoredTarget("wrong").config, database: "liaison" } }),
      /wrong passphrase/,
    );
    assert.equal(existsSync(restoredTarget("wrong").config.identityDir), false, "nothing written");
  });

  for (const partName of ["db/ledger_entries", "identity/private", "db/envelopes_sent"]) {
    it(`fails on a flipped byte in ${partName}, naming the part`, async () => {
      const damaged = join(cluster.root, `flipped-${partName.replace("/", "-")}.backup`);
      copyFileSync(backupFile, damaged);
      const backup = openBackup(damaged);
      const part = backup.manifest.parts.find((p) => p.name === partName)!;
      backup.close();
      const bytes = readFileSync(damaged);
      bytes[part.offset + Math.floor(part.length / 2)]! ^= 0x01;
      writeFileSync(damaged, bytes);
      const report = await verifyBackup(damaged, { passphrase: PASSPHRASE });
      assert.equal(report.ok, false);
      assert.match(report.problems[0]!, new RegExp(`^backup part ${partName}: SHA-256 mismatch`));
      assert.deepEqual(report.parts.filter((p) => !p.ok).map((p) => p.name), [partName]);
      await assert.rejects(cli("backup", "verify", damaged, "--passphrase-file", passphraseFile), new RegExp(partName));
    });
  }

  it("fails on a flipped byte in the manifest", async () => {
    const damaged = join(cluster.root, "flipped-manifest.backup");
    const bytes = readFileSync(backupFile);
    const at = bytes.lastIndexOf("\"backupId\"");
    bytes[at + 3]! ^= 0x01;
    writeFileSync(damaged, bytes);
    const report = await verifyBackup(damaged);
    assert.equal(report.ok, false);
    assert.match(report.problems[0]!, /part manifest: SHA-256 mismatch/);
  });
});

describe("backup restore", () => {
  let restored: LiaisonNode | undefined;
  after(async () => {
    await restored?.close();
  });

  it("restores into a fresh folder; the restored node starts, its ledger verifies, and its partner accepts its messages", async () => {
    const { root, config } = restoredTarget("restored");
    mkdirSync(root, { recursive: true });
    const restoredConfig = join(root, "node.yaml");
    writeFileSync(restoredConfig, stringify(config));
    // The machine is lost: the original node stops.
    const original = cluster.node(VN);
    const sentBefore = await original.db.collection("envelopes_sent").countDocuments();
    await original.close();
    cluster.nodes.delete(VN);

    await cli("backup", "restore", backupFile, "--config", restoredConfig, "--passphrase-file", passphraseFile);
    const manifest = openBackup(backupFile).manifest;

    restored = await startNode(nodeConfig({ party: VN, root, identityDir: config.identityDir, dataDir: config.dataDir }, config.mongodbUri ? { mongodbUri: config.mongodbUri, database: config.database } : {}));
    assert.ok(restored.ledger.size >= manifest.ledger.size);
    const report = await verifyLedger(restored.db);
    assert.equal(report.ok, true, report.problem?.message);
    const sent = await restored.db.collection("envelopes_sent").countDocuments();
    assert.ok(sent >= 5 && sent <= sentBefore, `restored ${sent} sent envelopes of ${sentBefore}`);

    // The partner accepts what the restored node sends (same identity, keys from the backup).
    const sealed = await restored.submit(wantedPersonNotice({ sender: VN, recipients: [CN], title: "after restore" }));
    await restored.outbox.drained(60_000);
    const atCn = await cluster.node(CN).db.collection("envelopes_received").findOne({ _id: sealed.messageId as never });
    assert.ok(atCn, "CN recorded the restored node's envelope");
    const state = await restored.db.collection("envelopes_sent").findOne({ _id: sealed.messageId as never });
    assert.equal(state?.deliveries[CN].status, "receipted");
  });

  it("refuses a non-empty target unless --force", async () => {
    const { config } = restoredTarget("restored");
    const file = join(cluster.root, "restored", "node.yaml");
    await restored?.close();
    restored = undefined;
    await assert.rejects(cli("backup", "restore", backupFile, "--config", file, "--passphrase-file", passphraseFile), /is not empty.*--force/);
    await cli("backup", "restore", backupFile, "--config", file, "--passphrase-file", passphraseFile, "--force");
    restored = await startNode(nodeConfig({ party: VN, root: "", identityDir: config.identityDir, dataDir: config.dataDir }, config.mongodbUri ? { mongodbUri: config.mongodbUri, database: config.database } : {}));
    assert.equal((await verifyLedger(restored.db)).ok, true);
  });

  it("refuses a backup of another party", async () => {
    const { config } = restoredTarget("other");
    await assert.rejects(
      restoreBackup({ file: backupFile, passphrase: PASSPHRASE, target: { ...config, party: CN, database: "liaison" } }),
      /the backup is of VN-MPS; the configuration is for CN-MPS/,
    );
  });
});
