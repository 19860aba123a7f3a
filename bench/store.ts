/**
 * Embedded store benchmark: acknowledged inserts (1 and 32 clients), indexed vs unindexed finds on
 * 100k documents, a $group aggregate, transaction commits, recovery time after 1M writes, and a raw
 * OP_MSG echo over loopback as the ceiling for indexed finds. Run: `npx tsx bench/store.ts`.
 * `LIAISON_BENCH_STORE_ENCRYPTED=1`: every store is started with a (random) encryption key, its
 * journal and snapshots sealed at rest with AES-256-GCM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BSON, MongoClient } from "mongodb";
import { randomBytes } from "node:crypto";
import { startEmbeddedStore, type EmbeddedStore } from "../services/store/index.ts";

const benchKey = process.env.LIAISON_BENCH_STORE_ENCRYPTED === "1" ? randomBytes(32) : undefined;
const startStore = (dbpath: string): Promise<EmbeddedStore> => startEmbeddedStore({ dbpath, port: 0, ...(benchKey ? { encryptionKey: benchKey } : {}) });

const progress = (m: string): void => {
  process.stderr.write(`[bench store] ${m}\n`);
};

function pct(xs: number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

async function timed(clients: number, total: number, op: (i: number) => Promise<unknown>): Promise<{ rate: number; p50: number; p99: number }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        await op(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { rate: total / secs, p50: pct(lat, 50), p99: pct(lat, 99) };
}

function line(name: string, r: { rate: number; p50: number; p99: number }): string {
  return `${name.padEnd(44)} ${r.rate.toFixed(0).padStart(8)}/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms`;
}

/** A tiny server answering any OP_MSG with a fixed `{ok: 1}` reply. */
async function echoServer(): Promise<net.Server> {
  const body = Buffer.from(BSON.serialize({ ok: 1 }));
  const srv = net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    sock.on("data", (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 16 && buf.length >= buf.readInt32LE(0)) {
        const len = buf.readInt32LE(0);
        const reqId = buf.readInt32LE(4);
        const opCode = buf.readInt32LE(12);
        buf = buf.subarray(len);
        let reply: Buffer;
        const helloBody = Buffer.from(
          BSON.serialize({ isWritablePrimary: true, ismaster: true, maxWireVersion: 21, minWireVersion: 0, maxBsonObjectSize: 16777216, maxMessageSizeBytes: 48000000, maxWriteBatchSize: 100000, localTime: new Date(), ok: 1 }),
        );
        const payload = opCode === 2004 || reqId <= 2 ? helloBody : body;
        if (opCode === 2004) {
          reply = Buffer.alloc(36 + payload.length);
          reply.writeInt32LE(reply.length, 0);
          reply.writeInt32LE(0, 4);
          reply.writeInt32LE(reqId, 8);
          reply.writeInt32LE(1, 12);
          reply.writeInt32LE(1, 32);
          payload.copy(reply, 36);
        } else {
          reply = Buffer.alloc(21 + payload.length);
          reply.writeInt32LE(reply.length, 0);
          reply.writeInt32LE(0, 4);
          reply.writeInt32LE(reqId, 8);
          reply.writeInt32LE(2013, 12);
          payload.copy(reply, 21);
        }
        sock.write(reply);
      }
    });
    sock.on("error", () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return srv;
}

/** The store as its own process (`liaison store start`), so that it and the driver each get a core. */
async function storeProcess(dbpath: string): Promise<{ port: number; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--serve", dbpath], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`store process exited (${String(code)})`)));
  });
  return {
    port,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** CPU time (user + system, ms) a process has used so far, from /proc; null where there is none. */
function cpuMs(pid: number | undefined): { user: number; sys: number } | null {
  if (pid === undefined) return null;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return { user: (Number(f[11]) * 1000) / 100, sys: (Number(f[12]) * 1000) / 100 }; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

async function insertFigures(port: number, label: string, out: string[], storePid?: number): Promise<void> {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { maxPoolSize: 64 });
  await client.connect();
  const ins = client.db("bench").collection("ins");
  progress(`inserts, 1 client (${label})`);
  out.push(line(`insert (acknowledged, on disk), 1 client${label}`, await timed(1, 1500, (i) => ins.insertOne({ i, pad: "x".repeat(64) }))));
  progress(`inserts, 32 clients (${label})`);
  const c0 = cpuMs(storePid);
  const n = 20000;
  out.push(line(`insert (acknowledged, on disk), 32 clients${label}`, await timed(32, n, (i) => ins.insertOne({ j: i, pad: "x".repeat(64) }))));
  const c1 = cpuMs(storePid);
  // The store's own CPU per insert does not depend on what else the machine runs (unlike the rate).
  if (c0 !== null && c1 !== null) {
    const us = (ms: number): string => ((1000 * ms) / n).toFixed(0);
    out.push(`${"  store process CPU per insert (32 clients)".padEnd(44)} ${us(c1.user + c1.sys - c0.user - c0.sys).padStart(8)} µs   (user ${us(c1.user - c0.user)}, system ${us(c1.sys - c0.sys)})`);
  }
  await client.close();
}

export async function benchStore(): Promise<void> {
  progress(benchKey ? "stores encrypted at rest (AES-256-GCM)" : "stores in clear (LIAISON_BENCH_STORE_ENCRYPTED=1 to seal them)");
  const dbpath = mkdtempSync(path.join(tmpdir(), "liaison-bench-store-"));
  const out: string[] = [];
  try {
    const sep = await storeProcess(path.join(dbpath, "separate"));
    try {
      await insertFigures(sep.port, " [store process]", out, sep.child.pid);
    } finally {
      await sep.stop();
    }
    let store = await startStore(dbpath);
    await insertFigures(store.port, " [in-process]", out);
    let client = new MongoClient(`mongodb://127.0.0.1:${store.port}/?directConnection=true`, { maxPoolSize: 64 });
    await client.connect();
    const db = client.db("bench");

    progress("loading 100k documents");
    const docs = db.collection("docs");
    for (let b = 0; b < 100; b++) {
      await docs.insertMany(Array.from({ length: 1000 }, (_, k) => ({ n: b * 1000 + k, u: b * 1000 + k, g: k % 10, s: `s${k}` })));
    }
    await docs.createIndex({ n: 1 });
    progress("indexed finds");
    const idx = await timed(8, 20000, (i) => docs.findOne({ n: (i * 7919) % 100000 }));
    out.push(line("find by indexed field (100k docs), 8 clients", idx));
    progress("unindexed finds");
    out.push(line("find by unindexed field (100k docs), 8 clients", await timed(8, 40, (i) => docs.findOne({ u: (i * 7919) % 100000 }))));
    progress("aggregate");
    const a0 = performance.now();
    await docs.aggregate([{ $group: { _id: "$g", c: { $sum: 1 }, m: { $avg: "$n" } } }]).toArray();
    out.push(`${"aggregate $group over 100k docs".padEnd(44)} ${(performance.now() - a0).toFixed(0).padStart(8)} ms`);

    progress("transactions");
    const ta = db.collection("ta");
    const tb = db.collection("tb");
    out.push(
      line(
        "transaction commits (2 docs, 2 colls), 8 clients",
        await timed(8, 2000, async (i) => {
          const s = client.startSession();
          try {
            await s.withTransaction(async () => {
              await ta.insertOne({ i }, { session: s });
              await tb.insertOne({ i }, { session: s });
            });
          } finally {
            await s.endSession();
          }
        }),
      ),
    );

    progress("echo baseline");
    const echo = await echoServer();
    const port = (echo.address() as net.AddressInfo).port;
    const ec = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { maxPoolSize: 64 });
    await ec.connect();
    const eres = await timed(8, 20000, () => ec.db("admin").command({ ping: 1 }));
    out.push(line("raw OP_MSG echo (same driver), 8 clients", eres));
    out.push(`${"indexed find / echo ratio".padEnd(44)} ${((100 * idx.rate) / eres.rate).toFixed(0).padStart(8)} %`);
    await ec.close();
    echo.close();

    progress("writing up to 1M documents for recovery");
    const big = db.collection("big");
    const batch = Array.from({ length: 10000 }, (_, k) => ({ k, v: "y".repeat(20) }));
    const w0 = performance.now();
    for (let b = 0; b < 88; b++) {
      await big.insertMany(batch.map((d) => ({ ...d, b })), { ordered: false });
      if (performance.now() - w0 > 60000) break;
    }
    const total = await big.estimatedDocumentCount();
    await client.close();
    await store.close();
    progress("restarting");
    const r0 = performance.now();
    store = await startStore(dbpath);
    const rec = performance.now() - r0;
    client = new MongoClient(store.uri);
    await client.connect();
    const after = await client.db("bench").collection("big").estimatedDocumentCount();
    out.push(`${`startup (recovery) after ${after + 121500} writes`.padEnd(44)} ${rec.toFixed(0).padStart(8)} ms   (${total} docs in big)`);
    await client.close();
    await store.close();
  } finally {
    rmSync(dbpath, { recursive: true, force: true });
  }
  process.stdout.write(out.join("\n") + "\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href && process.argv[2] === "--serve") {
  const dir = process.argv[3] ?? "";
  const store = await startStore(dir);
  process.stdout.write(`PORT ${store.port}\n`);
  process.on("SIGTERM", () => {
    void store.close().then(() => process.exit(0));
  });
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href && process.argv[2] === "--inserts") {
  // Only the acknowledged-insert figures against the store in its own process (quick comparisons).
  const dbpath = mkdtempSync(path.join(tmpdir(), "liaison-bench-store-"));
  const sep = await storeProcess(path.join(dbpath, "separate"));
  const out: string[] = [];
  try {
    await insertFigures(sep.port, " [store process]", out, sep.child.pid);
  } finally {
    await sep.stop();
    rmSync(dbpath, { recursive: true, force: true });
  }
  process.stdout.write(out.join("\n") + "\n");
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  benchStore().catch((e: unknown) => {
    process.stderr.write(String(e) + "\n");
    process.exit(1);
  });
}
