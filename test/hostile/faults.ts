/**
 * Fault injection helpers with real processes and real sockets: a node run as a child process
 * (SIGKILL and restart on the same port and data, optionally with its wall clock shifted by
 * libfaketime), a TCP proxy on loopback that drops and delays connections, a small tmpfs to fill
 * up, and checks of a receiver's ledger against what a sender holds receipts for.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createPublicKey, createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fromBinary } from "@bufbuild/protobuf";
import { MongoClient, type Db } from "mongodb";
import { LedgerEntrySchema } from "../../gen/liaison/v1/ledger_pb.ts";
import { ReceiptSchema, SignedReceiptSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import { exportPartnerBundle, importPartnerBundle, JWS_TYP_RECEIPT, sha256Fingerprint, verifyDetached } from "../../services/identity/index.ts";
import type { LiaisonNode } from "../../services/node/index.ts";
import type { PartyFolder } from "../support/cluster.ts";

const SCRIPT = new URL("./node-process.ts", import.meta.url).pathname;
const ROOT = new URL("../..", import.meta.url).pathname;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

export interface ChildNodeOptions {
  /** Extra environment for the child (e.g. LIAISON_STORE_MIN_FREE_MB). */
  env?: Record<string, string>;
  /** Shift the child's wall clock with libfaketime (FAKETIME syntax, e.g. "+1d"); monotonic clocks are left alone. */
  fakeTime?: string;
  /** Configuration fields over the defaults (e.g. checkpointIntervalSeconds). */
  config?: Record<string, unknown>;
}

export interface ChildNode {
  port: number;
  mongoUri: string;
  child: ChildProcess;
  kills: number;
  /** ms from spawn to serving, per start. */
  startMs: number[];
  /** The node's configuration file (JSON, the shape of node.yaml). */
  configFile: string;
  /** Read at each start: change them between a stop and the next start. */
  options: ChildNodeOptions;
  /** How each start ended (exit code or signal), in order. */
  exits: { code: number | null; signal: NodeJS.Signals | null }[];
  /** The last 4000 characters the current process wrote to stderr. */
  stderr(): string;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** The libfaketime library (Debian's `faketime` package), or undefined when it is not installed. */
export function faketimeLibrary(): string | undefined {
  const dirs = ["/usr/lib/faketime", "/usr/local/lib/faketime"];
  for (const d of existsSync("/usr/lib") ? readdirSync("/usr/lib") : []) if (d.endsWith("-linux-gnu")) dirs.push(join("/usr/lib", d, "faketime"));
  return dirs.map((d) => join(d, "libfaketime.so.1")).find((f) => existsSync(f));
}

/** The environment that runs a process under libfaketime with its wall clock shifted by `offset`. */
export function faketimeEnv(offset: string): Record<string, string> {
  const lib = faketimeLibrary();
  if (!lib) throw new Error("libfaketime is not installed (apt-get install faketime)");
  // The library is preloaded directly (not through the `faketime` wrapper, which forks: a signal to
  // the wrapper would not reach the node). Timers and performance.now() run on CLOCK_MONOTONIC,
  // which stays real; Date, TLS validity and every timestamp the node writes are shifted.
  return { LD_PRELOAD: lib, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}

/** A node of `folder` as a child process on a fixed port (so partners' endpoints stay valid). */
export async function childNode(folder: PartyFolder, port: number, limits?: Record<string, number>, options: ChildNodeOptions = {}): Promise<ChildNode> {
  const configFile = join(folder.root, `${folder.party}.node.json`);
  let stderr = "";
  const handle: ChildNode = {
    port,
    mongoUri: "",
    child: undefined as unknown as ChildProcess,
    kills: 0,
    startMs: [],
    configFile,
    options,
    exits: [],
    stderr: () => stderr,
    async start() {
      const t0 = performance.now();
      writeFileSync(
        configFile,
        JSON.stringify({
          party: folder.party,
          identityDir: folder.identityDir,
          dataDir: folder.dataDir,
          peer: { host: "127.0.0.1", port },
          checkpointIntervalSeconds: 0,
          ...(limits ? { limits } : {}),
          ...handle.options.config,
        }),
      );
      const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, configFile], {
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          LIAISON_LOG_LEVEL: process.env.LIAISON_LOG_LEVEL ?? "error",
          ...handle.options.env,
          ...(handle.options.fakeTime ? faketimeEnv(handle.options.fakeTime) : {}),
        },
      });
      handle.child = child;
      stderr = "";
      child.once("exit", (code, signal) => handle.exits.push({ code, signal }));
      child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const line = await new Promise<string>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout! });
        rl.on("line", (l) => {
          if (l.startsWith('{"ready"')) resolve(l);
        });
        child.once("exit", (code, signal) => reject(new Error(`node process exited (${code ?? signal}) before it was ready: ${stderr}`)));
      });
      const ready = JSON.parse(line) as { peerPort: number; mongoUri: string };
      handle.mongoUri = ready.mongoUri;
      handle.startMs.push(performance.now() - t0);
    },
    async kill() {
      const child = handle.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      handle.kills++;
    },
    async stop() {
      const child = handle.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  await handle.start();
  return handle;
}

/** Point `at`'s record of `partner` to `endpoint` (a proxy): re-import the partner's bundle. */
export async function repointPartner(at: PartyFolder, partner: PartyFolder, endpoint: string): Promise<void> {
  const bundle = await exportPartnerBundle(partner.identityDir, { endpoint });
  await importPartnerBundle(at.identityDir, bundle, sha256Fingerprint(bundle.ca_certificate));
}

export interface ChaosProxy {
  address: string;
  /** Probability that a new connection is cut after a random number of bytes or milliseconds. */
  dropRate: number;
  /** Upper bound of the random delay added to each chunk, each direction, in ms. */
  maxDelayMs: number;
  stats: { connections: number; dropped: number; delayedChunks: number };
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of `target`, dropping and delaying connections. */
export async function chaosProxy(target: string, options: { dropRate: number; maxDelayMs: number }): Promise<ChaosProxy> {
  const at = target.lastIndexOf(":");
  const host = target.slice(0, at);
  const port = Number(target.slice(at + 1));
  const sockets = new Set<Socket>();
  const proxy: ChaosProxy = {
    address: "",
    dropRate: options.dropRate,
    maxDelayMs: options.maxDelayMs,
    stats: { connections: 0, dropped: 0, delayedChunks: 0 },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  const pipe = (from: Socket, to: Socket) => {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      const delay = proxy.maxDelayMs > 0 ? Math.random() * proxy.maxDelayMs : 0;
      if (delay > 0) proxy.stats.delayedChunks++;
      chain = chain.then(() => new Promise<void>((r) => setTimeout(r, delay))).then(() => {
        if (!to.destroyed) to.write(chunk);
      });
    });
    from.on("end", () => void chain.then(() => to.end()));
  };
  const server: Server = createServer((client) => {
    proxy.stats.connections++;
    const upstream = connect({ host, port });
    sockets.add(client);
    sockets.add(upstream);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", kill);
    upstream.on("error", kill);
    client.on("close", () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    pipe(client, upstream);
    pipe(upstream, client);
    if (Math.random() < proxy.dropRate) {
      proxy.stats.dropped++;
      // cut mid-handshake, mid-call, or after a few calls
      setTimeout(kill, Math.random() * 1500);
    }
  });
  // live connections are cut too, not only new ones
  const chaos = setInterval(() => {
    for (const socket of sockets) {
      if (socket.remotePort !== port && Math.random() < proxy.dropRate / 4) {
        proxy.stats.dropped++;
        socket.destroy();
      }
    }
  }, 250);
  chaos.unref();
  const close = proxy.close;
  proxy.close = async () => {
    clearInterval(chaos);
    await close();
  };
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  proxy.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

export interface ExactlyOnceReport {
  messages: number;
  receipted: number;
  inReceiverLedger: number;
  /** Message ids whose envelope appears more than once as "envelope.received" in the ledger. */
  duplicates: string[];
  /** Receipted at the sender but missing (or different) at the receiver. */
  lost: string[];
  notRecorded: number;
  /** Message ids recorded at a lower ledger index than the one given before them in `messageIds`. */
  outOfOrder: string[];
}

/**
 * Compare what `sender` holds receipts for with `receiverDb`'s ledger: every receipted message is
 * at its receipt's ledger index with the exact envelope bytes, and appears there exactly once.
 */
export async function checkExactlyOnce(sender: Pick<LiaisonNode, "db">, receiverParty: string, receiverDb: Db, messageIds: readonly string[]): Promise<ExactlyOnceReport> {
  const sent = sender.db.collection<{ _id: string; envelope: { buffer: Uint8Array }; deliveries: Record<string, { status: string; ledgerIndex?: number }> }>("envelopes_sent");
  const counts = new Map<string, number>();
  const byHash = new Map<string, string>();
  const docs = await sent.find({ _id: { $in: [...messageIds] } }).toArray();
  for (const d of docs) byHash.set(Buffer.from(d.envelope.buffer).toString("base64"), d._id);
  const entries = receiverDb.collection<{ kind: string; bytes: { buffer: Uint8Array }; index: number }>("ledger_entries");
  const ledgerAt = new Map<string, number[]>();
  for await (const e of entries.find({ kind: "envelope.received" })) {
    const content = Buffer.from(fromBinary(LedgerEntrySchema, new Uint8Array(e.bytes.buffer)).content).toString("base64");
    const id = byHash.get(content);
    if (!id) continue;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    ledgerAt.set(id, [...(ledgerAt.get(id) ?? []), e.index]);
  }
  const report: ExactlyOnceReport = { messages: messageIds.length, receipted: 0, inReceiverLedger: counts.size, duplicates: [], lost: [], notRecorded: 0, outOfOrder: [] };
  let previous = -1;
  for (const id of messageIds) {
    const at = Math.min(...(ledgerAt.get(id) ?? [Infinity]));
    if (at === Infinity) continue;
    if (at < previous) report.outOfOrder.push(id);
    previous = Math.max(previous, at);
  }
  for (const d of docs) {
    const delivery = d.deliveries[receiverParty];
    const n = counts.get(d._id) ?? 0;
    if (n > 1) report.duplicates.push(d._id);
    if (delivery?.status === "receipted") {
      report.receipted++;
      if (n === 0 || !ledgerAt.get(d._id)!.includes(delivery.ledgerIndex!)) report.lost.push(d._id);
    }
  }
  report.notRecorded = await receiverDb.collection("envelopes_received").countDocuments({ state: { $ne: "recorded" } });
  return report;
}

export async function withDb<T>(uri: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  try {
    return await fn(client.db("liaison"));
  } finally {
    await client.close();
  }
}

/** Message ids receipted by `party` at `sender` right now. */
export async function receiptedIds(sender: LiaisonNode, party: string): Promise<string[]> {
  const docs = await sender.db.collection<{ _id: string }>("envelopes_sent").find({ [`deliveries.${party}.status`]: "receipted" }, { projection: { _id: 1 } }).toArray();
  return docs.map((d) => d._id);
}

export interface Tmpfs {
  dir: string;
  /** Bytes still free on it. */
  free(): number;
  /** Write a ballast file that leaves `leaveFree` bytes free; returns its size. */
  fill(leaveFree: number): number;
  /** Delete the ballast. */
  release(): void;
  unmount(): void;
}

/** Why a tmpfs cannot be mounted here (not root), or undefined when it can be tried. */
export function tmpfsUnavailable(): string | undefined {
  if (process.platform !== "linux") return "a tmpfs needs Linux";
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root (CI runs as root)";
  return undefined;
}

/** Mount a tmpfs of `bytes` at `dir` (created if missing). Unmount it in an `after`, even on failure. */
export function mountTmpfs(dir: string, bytes: number): Tmpfs {
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", dir]);
  const ballast = join(dir, "ballast");
  const free = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    fill(leaveFree) {
      const size = Math.max(0, free() - leaveFree);
      writeFileSync(ballast, Buffer.alloc(size));
      return size;
    },
    release: () => rmSync(ballast, { force: true }),
    unmount() {
      // a lazy unmount if a process still holds a file there: the test must not leave mounts behind
      if (spawnSync("umount", [dir]).status !== 0) spawnSync("umount", ["-l", dir]);
    },
  };
}

/** `liaison ledger verify --config F --json` as an operator runs it (reaches a running node's store). */
export function ledgerVerify(configFile: string, env: Record<string, string> = {}): { ok: boolean; output: string } {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "services/cli/main.ts"), "ledger", "verify", "--config", configFile, "--json"], {
    cwd: ROOT,
    env: { ...process.env, LIAISON_LOG_LEVEL: "error", ...env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

/**
 * Check each receipt the sender stored for `messageIds` on its own: signed by the receiver's active
 * key (read from its identity folder), naming the message, both parties and the SHA-256 of the
 * exact envelope bytes sent. Returns the ids whose receipt is missing or does not hold.
 */
export async function badReceipts(senderDb: Db, receiver: PartyFolder, messageIds: readonly string[]): Promise<string[]> {
  const { readPartyMaterial } = await import("../support/adversary.ts");
  const key = (await readPartyMaterial(receiver.identityDir)).signingKey;
  const publicKey = createPublicKey(key.privateKey);
  const sent = senderDb.collection<{ _id: string; envelope: { buffer: Uint8Array }; deliveries: Record<string, { signedReceipt?: { buffer: Uint8Array } }> }>("envelopes_sent");
  const bad: string[] = [];
  for await (const d of sent.find({ _id: { $in: [...messageIds] } })) {
    try {
      const bytes = d.deliveries[receiver.party]?.signedReceipt?.buffer;
      if (!bytes) throw new Error("no receipt");
      const signed = fromBinary(SignedReceiptSchema, new Uint8Array(bytes));
      await verifyDetached(signed.jws, signed.receipt, {
        typ: JWS_TYP_RECEIPT,
        algorithms: ["EdDSA"],
        resolveKey: (h) => {
          if (h.kid !== key.kid) throw new Error(`receipt signed by ${h.kid}, not ${receiver.party}'s key`);
          return publicKey;
        },
      });
      const receipt = fromBinary(ReceiptSchema, signed.receipt);
      const sha = createHash("sha256").update(d.envelope.buffer).digest();
      if (receipt.messageId !== d._id || receipt.receiverParty !== receiver.party || !sha.equals(Buffer.from(receipt.envelopeSha256))) throw new Error("receipt names another envelope");
    } catch {
      bad.push(d._id);
    }
  }
  const found = await sent.countDocuments({ _id: { $in: [...messageIds] } });
  if (found !== messageIds.length) bad.push(`${messageIds.length - found} message(s) not at the sender`);
  return bad;
}
