/**
 * Ledger benchmarks.
 *  1. Pure core: tree hashing (leaves/s through the frontier appender), and inclusion /
 *     consistency proof generation + verification latency at 10^3..10^6 leaves, with the
 *     perfect nodes in an in-memory node map — showing the O(log n) node reads per proof.
 *  2. Through the embedded store and the official driver: appends/s of the batched sequencer at
 *     batch sizes 1, 64 and 1024 (one MongoDB transaction per batch, acknowledged on disk).
 *  3. Through storage (embedded store in a worker thread, official driver): inclusion and
 *     consistency proof latency at 10^3..10^6 entries, on one log of LEDGER_BENCH_SIZE entries
 *     (default 10^6) built by a bulk path that writes exactly the sequencer's documents; then
 *     `verifyLedger` (what `liaison ledger verify` runs) over the whole log, entries/s.
 *
 *   npx tsx bench/ledger.ts        or        npm run bench -- ledger
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Binary, type Db, MongoClient } from "mongodb";
import {
  appendLeaves,
  assembleProof,
  consistencyProofNodes,
  emptyFrontier,
  hashLeaf,
  inclusionProofNodes,
  COLLECTIONS,
  ensureLedgerIndexes,
  LedgerSequencer,
  type NodeId,
  readConsistencyProof,
  readInclusionProof,
  readRootAt,
  verifyConsistency,
  verifyInclusion,
  verifyLedger,
} from "../services/ledger/index.ts";
import { nodeKey } from "../services/ledger/merkle/index.ts";
import { percentile } from "./stats.ts";
import { startEmbeddedStore } from "../services/store/index.ts";

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

/** Perfect nodes of a tree, one flat array of 32-byte hashes per level. */
class NodeMap {
  readonly levels: Uint8Array[] = [];
  put(level: number, index: number, hash: Uint8Array): void {
    let arr = this.levels[level];
    if (!arr) {
      arr = new Uint8Array(1024 * 32);
      this.levels[level] = arr;
    }
    if ((index + 1) * 32 > arr.length) {
      const bigger = new Uint8Array(Math.max(arr.length * 2, (index + 1) * 32));
      bigger.set(arr);
      arr = bigger;
      this.levels[level] = arr;
    }
    arr.set(hash, index * 32);
  }
  get(id: NodeId): Uint8Array {
    return this.levels[id.level].subarray(id.index * 32, id.index * 32 + 32);
  }
}

function randInt(max: number): number {
  return Math.floor(Math.random() * max);
}

function pureCore(): void {
  out("\n-- pure core (in-memory node map) --");
  const n = 1_000_000;
  const entries = Array.from({ length: n }, (_, i) => Buffer.from(`ledger entry ${i} `.padEnd(256, "x")));
  const nodes = new NodeMap();
  let frontier = emptyFrontier();
  const sizes = [1_000, 10_000, 100_000, 1_000_000];
  const roots = new Map<number, Uint8Array>();
  const t0 = performance.now();
  let done = 0;
  for (const size of sizes) {
    const leaves = entries.slice(done, size).map((e) => hashLeaf(e));
    const res = appendLeaves(frontier, leaves);
    for (const node of res.newNodes) nodes.put(node.level, node.index, node.hash);
    frontier = res.frontier;
    roots.set(size, res.root);
    done = size;
  }
  const secs = (performance.now() - t0) / 1000;
  out(`tree hashing: ${n} leaves of 256 bytes (leaf hash + interior nodes) in ${secs.toFixed(2)} s = ${Math.round(n / secs).toLocaleString("en")} leaves/s`);

  out("size        | inclusion: nodes read  gen µs  verify µs | consistency: nodes read  gen µs  verify µs");
  const samples = 2000;
  for (const size of sizes) {
    const root = roots.get(size)!;
    let genMs = 0;
    let verMs = 0;
    let maxReads = 0;
    for (let s = 0; s < samples; s++) {
      const index = randInt(size);
      const a = performance.now();
      const pn = inclusionProofNodes(index, size);
      const proof = assembleProof(pn, pn.ids.map((id) => nodes.get(id)));
      const b = performance.now();
      verifyInclusion(index, size, nodes.get({ level: 0, index }), proof, root);
      const c = performance.now();
      genMs += b - a;
      verMs += c - b;
      maxReads = Math.max(maxReads, pn.ids.length);
    }
    let cGen = 0;
    let cVer = 0;
    let cReads = 0;
    const olderSizes = sizes.filter((x) => x < size);
    for (let s = 0; s < samples; s++) {
      const m = olderSizes.length > 0 && s % 2 === 0 ? olderSizes[s % olderSizes.length] : 1 + randInt(size - 1);
      const a = performance.now();
      const pn = consistencyProofNodes(m, size);
      const proof = assembleProof(pn, pn.ids.map((id) => nodes.get(id)));
      const b = performance.now();
      const r1 = roots.get(m);
      if (r1) verifyConsistency(m, size, proof, r1, root);
      const c = performance.now();
      cGen += b - a;
      if (r1) cVer += c - b;
      cReads = Math.max(cReads, pn.ids.length);
    }
    const verified = olderSizes.length > 0 ? samples / 2 : 1;
    out(
      `${String(size).padEnd(11)} | ${String(maxReads).padStart(22)} ${((genMs * 1000) / samples).toFixed(1).padStart(7)} ${((verMs * 1000) / samples).toFixed(1).padStart(10)} | ` +
        `${String(cReads).padStart(24)} ${((cGen * 1000) / samples).toFixed(1).padStart(7)} ${olderSizes.length > 0 ? ((cVer * 1000) / verified).toFixed(1).padStart(10) : "       n/a"}`,
    );
  }
  out("(nodes read = most perfect nodes fetched for one proof; gen = node IDs + assembling incl. the ephemeral node)");
}

async function throughStore(): Promise<void> {
  out("\n-- sequencer through the embedded store (official driver, one transaction per batch) --");
  const dir = mkdtempSync(join(tmpdir(), "liaison-bench-ledger-"));
  const store = await startEmbeddedStore({ dbpath: dir, port: 0 });
  const client = new MongoClient(store.uri);
  await client.connect();
  try {
    out("batch size | appends | seconds | appends/s");
    for (const [maxBatch, total] of [[1, 1000], [64, 20_000], [1024, 30_720]] as const) {
      const db = client.db(`bench_ledger_${maxBatch}`);
      await db.dropDatabase();
      const seq = await LedgerSequencer.start({ client, db, maxBatch });
      const payload = Buffer.alloc(512, 7);
      err(`  appending ${total} entries, batch ${maxBatch}…`);
      const t0 = performance.now();
      // Keep up to 4 batches' worth in flight so every transaction is full.
      const inFlight = Math.min(total, maxBatch * 4);
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < total) {
            next++;
            await seq.append("bench", payload);
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      out(`${String(maxBatch).padEnd(10)} | ${String(total).padStart(7)} | ${secs.toFixed(2).padStart(7)} | ${Math.round(total / secs).toLocaleString("en").padStart(9)}`);
      await seq.close();
    }
  } finally {
    await client.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * CPU seconds (user + system) the calling thread has used, from /proc/thread-self/stat (Linux);
 * undefined elsewhere. (`process.cpuUsage()` counts every thread of the process.) The store's
 * worker runs the same few lines.
 */
function threadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync("/proc/thread-self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/** The embedded store in a worker thread: its heap (the whole database) is not this thread's. */
async function storeInWorker(dbpath: string): Promise<{ uri: string; cpuSeconds(): Promise<number | undefined>; close(): Promise<void> }> {
  const boot = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { readFileSync } = require("node:fs");
    const cpu = () => {
      try {
        const stat = readFileSync("/proc/thread-self/stat", "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return (Number(f[11]) + Number(f[12])) / 100;
      } catch {
        return undefined;
      }
    };
    (async () => {
      (await import(workerData.tsx)).register();
      const { startEmbeddedStore } = await import(workerData.store);
      const store = await startEmbeddedStore({ dbpath: workerData.dbpath, port: 0 });
      parentPort.postMessage(store.uri);
      parentPort.on("message", async (m) => {
        if (m === "cpu") parentPort.postMessage({ cpu: cpu() });
        else { await store.close(); parentPort.postMessage("closed"); }
      });
    })();`;
  const worker = new Worker(boot, {
    eval: true,
    workerData: { dbpath, tsx: import.meta.resolve("tsx/esm/api"), store: new URL("../services/store/index.ts", import.meta.url).href },
  });
  const uri = await new Promise<string>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    uri,
    async cpuSeconds() {
      const reply = new Promise<{ cpu?: number }>((r) => worker.once("message", r));
      worker.postMessage("cpu");
      return (await reply).cpu;
    },
    async close() {
      const closed = new Promise((r) => worker.once("message", r));
      worker.postMessage("close");
      await closed;
      await worker.terminate();
    },
  };
}

/**
 * Writes a log of `n` entries with the documents the sequencer writes (entries with their leaf
 * hash, perfect nodes of level >= 1, the tree head), in bulk and outside transactions.
 */
async function bulkBuild(db: Db, n: number): Promise<void> {
  await ensureLedgerIndexes(db);
  let frontier = emptyFrontier();
  const chunk = 16_384;
  const t0 = performance.now();
  for (let begin = 0; begin < n; begin += chunk) {
    const end = Math.min(n, begin + chunk);
    const bytes = Array.from({ length: end - begin }, (_, i) => Buffer.from(`bench entry ${begin + i} `.padEnd(128, ".")));
    const leaves = bytes.map((b) => hashLeaf(b));
    const res = appendLeaves(frontier, leaves);
    frontier = res.frontier;
    const at = new Date();
    await Promise.all([
      db.collection(COLLECTIONS.entries).insertMany(
        bytes.map((b, i) => ({ _id: begin + i, index: begin + i, kind: "bench", bytes: new Binary(b), leafHash: new Binary(leaves[i]), appendedAt: at })) as never[],
        { ordered: false },
      ),
      db.collection(COLLECTIONS.nodes).insertMany(
        res.newNodes.filter((x) => x.level > 0).map((x) => ({ _id: nodeKey(x), level: x.level, index: x.index, hash: new Binary(x.hash) })) as never[],
        { ordered: false },
      ),
    ]);
    if (end === n) {
      await db.collection(COLLECTIONS.checkpoints).updateOne({ _id: "head" } as never, { $set: { size: n, root: new Binary(res.root), updatedAt: at } }, { upsert: true });
    }
    if ((end / chunk) % 8 === 0 || end === n) err(`  built ${end}/${n} entries (${Math.round(end / ((performance.now() - t0) / 1000))} entries/s)`);
  }
}

async function proofsAndVerify(): Promise<void> {
  const n = Number(process.env.LEDGER_BENCH_SIZE ?? 1_000_000);
  out(`\n-- through storage: a log of ${n.toLocaleString("en")} entries (embedded store in a worker thread, official driver) --`);
  const dir = mkdtempSync(join(tmpdir(), "liaison-bench-ledger-proofs-"));
  const store = await storeInWorker(dir);
  const client = await new MongoClient(store.uri).connect();
  try {
    const db = client.db("bench_ledger_proofs");
    const b0 = performance.now();
    await bulkBuild(db, n);
    out(`bulk build: ${n.toLocaleString("en")} entries + nodes in ${((performance.now() - b0) / 1000).toFixed(1)} s`);
    out("size        | inclusion p50 ms  p99 ms | consistency p50 ms  p99 ms   (200 random proofs each, read + verified)");
    for (const size of [1_000, 10_000, 100_000, 1_000_000].filter((x) => x <= n)) {
      const rootAt = await readRootAt(db, size);
      const inc: number[] = [];
      const con: number[] = [];
      for (let s = 0; s < 200; s++) {
        const index = randInt(size);
        const t = performance.now();
        const p = await readInclusionProof(db, index, size);
        verifyInclusion(index, size, p.leafHash, p.proof, rootAt);
        inc.push(performance.now() - t);
        const m = 1 + randInt(size - 1);
        const t2 = performance.now();
        await readConsistencyProof(db, m, size);
        con.push(performance.now() - t2);
      }
      inc.sort((a, b) => a - b);
      con.sort((a, b) => a - b);
      out(
        `${String(size).padEnd(11)} | ${percentile(inc, 50).toFixed(3).padStart(16)} ${percentile(inc, 99).toFixed(3).padStart(7)} | ${percentile(con, 50).toFixed(3).padStart(18)} ${percentile(con, 99).toFixed(3).padStart(7)}`,
      );
    }
    err("  verifying the whole log…");
    const [mine0, store0] = [threadCpuSeconds(), await store.cpuSeconds()];
    const cpu0 = process.cpuUsage();
    const v0 = performance.now();
    const report = await verifyLedger(db);
    const secs = (performance.now() - v0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const [mine1, store1] = [threadCpuSeconds(), await store.cpuSeconds()];
    if (!report.ok) throw new Error(`verify failed: ${report.problem?.message}`);
    const threads =
      mine0 !== undefined && mine1 !== undefined && store0 !== undefined && store1 !== undefined
        ? `verifier thread ${(mine1 - mine0).toFixed(2)} s, store thread ${(store1 - store0).toFixed(2)} s, `
        : "";
    out(
      `ledger verify: ${report.entries.toLocaleString("en")} entries, ${report.nodes.toLocaleString("en")} nodes in ${secs.toFixed(2)} s = ` +
        `${Math.round(report.entries / secs).toLocaleString("en")} entries/s (CPU: ${threads}whole process ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s)`,
    );
  } finally {
    await client.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchLedger(): Promise<void> {
  const t0 = performance.now();
  pureCore();
  await throughStore();
  await proofsAndVerify();
  out(`(ledger bench: ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchLedger();
  process.exit(0);
}
