/**
 * Helpers for the ledger's end-to-end tests: a real node ledger (two nodes that exchange
 * messages and witness each other, then stop), its embedded store opened for tampering, and the
 * real `liaison` CLI as a child process.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { MongoClient, type Db } from "mongodb";
import { startEmbeddedStore } from "../../services/store/index.ts";
import { nodeStoreKey } from "../../services/node/index.ts";
import { startCluster, wantedPersonNotice, type Cluster, type PartyFolder } from "../support/cluster.ts";

const run = promisify(execFile);
const BIN = new URL("../../bin/liaison.mjs", import.meta.url).pathname;

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (`bin/liaison.mjs`) as a child process. */
export async function liaison(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, NODE_ENV: "test" }, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A node configuration file for `folder` (peer port 0: the CLI never listens). */
export function writeNodeConfig(folder: PartyFolder): string {
  const file = join(folder.root, `${folder.party}.yaml`);
  writeFileSync(file, [`party: ${folder.party}`, `identityDir: ${folder.identityDir}`, `dataDir: ${folder.dataDir}`, "peer:", "  host: 127.0.0.1", "  port: 0", ""].join("\n"));
  return file;
}

/**
 * VN-MPS and CN-MPS exchange notices and witness each other twice; VN also records local
 * entries. Returns the running cluster (VN's ledger has checkpoints cosigned by CN).
 */
export async function clusterWithLedger(): Promise<Cluster> {
  const cluster = await startCluster(["VN-MPS", "CN-MPS"]);
  const vn = cluster.node("VN-MPS");
  const cn = cluster.node("CN-MPS");
  for (let i = 0; i < 3; i++) await vn.send(wantedPersonNotice({ sender: "VN-MPS", recipients: ["CN-MPS"] }));
  await cn.send(wantedPersonNotice({ sender: "CN-MPS", recipients: ["VN-MPS"] }));
  for (let i = 0; i < 20; i++) await vn.ledger.append("local.note", new TextEncoder().encode(`note ${i}`));
  await vn.publishCheckpoint();
  for (let i = 20; i < 37; i++) await vn.ledger.append("local.note", new TextEncoder().encode(`note ${i}`));
  await vn.publishCheckpoint();
  return cluster;
}

/** Opens a stopped node's embedded store, runs `change` on its database, closes it again. */
export async function withStoppedStore<T>(folder: PartyFolder, change: (db: Db) => Promise<T>): Promise<T> {
  const store = await startEmbeddedStore({ dbpath: join(folder.dataDir, "store"), port: 0, encryptionKey: nodeStoreKey(folder.identityDir)! });
  const client = await new MongoClient(store.uri).connect();
  try {
    return await change(client.db("liaison"));
  } finally {
    await client.close();
    await store.close();
  }
}

/** Flips one bit of the signature bytes of a note signature line ("— name base64"). */
export function corruptSignatureLine(line: string): string {
  const m = /^(\u2014 \S+ )([A-Za-z0-9+/=]+)(\n?)$/.exec(line);
  if (!m) throw new Error(`not a signature line: ${line}`);
  const sig = Buffer.from(m[2]!, "base64");
  sig[sig.length - 10]! ^= 0x01;
  return `${m[1]}${sig.toString("base64")}${m[3]}`;
}
