/**
 * Ledger benchmarks.
 *  1. Pure core: tree hashing (leaves/s through the frontier appender), and inclusion /
 *     consistency proof generation + verification latency at 10^3..10^6 leaves, with the
 *     perfect nodes in an in-memory node map — showing the O(log n) node reads per proof.
 *  2. Through the embedded store and the official driver: appends/s of the batched sequencer at
 *     batch sizes 1, 64 and 1024 (one MongoDB transaction per batch).
 *
 *   npx tsx bench/ledger.ts        or        npm run bench -- ledger
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import {
  appendLeaves,
  assembleProof,
  consistencyProofNodes,
  emptyFrontier,
  hashLeaf,
  inclusionProofNodes,
  LedgerSequencer,
  type NodeId,
  verifyConsistency,
  verifyInclusion,
} from "../services/ledger/index.ts";
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
    for (const [maxBatch, total] of [[1, 1000], [64, 20_000], [1024, 60_000]] as const) {
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

export async function benchLedger(): Promise<void> {
  pureCore();
  await throughStore();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchLedger();
  process.exit(0);
}
