import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { startEmbeddedStore } from "../../services/store/index.ts";
import { run, tempDir } from "./helpers.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

const here = path.dirname(fileURLToPath(import.meta.url));

function journalFile(dbpath: string): string {
  const f = readdirSync(dbpath).filter((n) => n.startsWith("journal.")).sort().pop();
  assert.ok(f, "a journal file exists");
  return path.join(dbpath, f);
}

describe("embedded store: durability", () => {
  it("keeps data, indexes and collections across a restart", async () => {
    const dbpath = tempDir();
    let r = await run(dbpath);
    const c = r.client.db("d").collection<AnyDoc>("c");
    await c.createIndex({ k: 1 }, { unique: true });
    await c.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i, k: `k${i}` })));
    await c.updateOne({ _id: 5 }, { $set: { changed: true } });
    await c.deleteOne({ _id: 6 });
    await r.stop(false);
    r = await run(dbpath);
    const c2 = r.client.db("d").collection<AnyDoc>("c");
    assert.equal(await c2.countDocuments(), 99);
    assert.equal((await c2.findOne({ _id: 5 }))?.changed, true);
    await assert.rejects(c2.insertOne({ k: "k1" }), /E11000/);
    await r.stop();
  });

  it("refuses a second store on the same dbpath", async () => {
    const dbpath = tempDir();
    const a = await startEmbeddedStore({ dbpath, port: 0 });
    await assert.rejects(startEmbeddedStore({ dbpath, port: 0 }), /already in use|locked/);
    await a.close();
    rmSync(dbpath, { recursive: true, force: true });
  });

  it("keeps every acknowledged write and no half transaction after SIGKILL during a write burst", async () => {
    const dbpath = tempDir();
    const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "fixtures", "store-child.ts"), dbpath], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, LIAISON_LOG_LEVEL: "warn" },
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on("exit", () => reject(new Error("child exited early")));
    });
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, { serverSelectionTimeoutMS: 3000, retryWrites: false });
    await client.connect();
    const db = client.db("crash");
    const acked = new Set<number>();
    const ackedTxn = new Set<number>();
    let stop = false;
    const writers = Array.from({ length: 8 }, (_, w) =>
      (async () => {
        for (let i = 0; !stop; i++) {
          const id = w * 1_000_000 + i;
          try {
            if (i % 5 === 0) {
              const s = client.startSession();
              try {
                s.startTransaction();
                await db.collection("left").insertOne({ _id: id } as AnyDoc, { session: s });
                await db.collection("right").insertOne({ _id: id } as AnyDoc, { session: s });
                await s.commitTransaction();
                ackedTxn.add(id);
              } finally {
                await s.endSession().catch(() => undefined);
              }
            } else {
              await db.collection("plain").insertOne({ _id: id, pad: "x".repeat(100) } as AnyDoc);
              acked.add(id);
            }
          } catch {
            return;
          }
        }
      })(),
    );
    await new Promise((res) => setTimeout(res, 700));
    child.kill("SIGKILL");
    stop = true;
    await Promise.all(writers);
    await client.close().catch(() => undefined);
    await new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res(null) : child.once("exit", res)));
    assert.ok(acked.size > 50, `enough writes were acknowledged (${acked.size})`);

    const r = await run(dbpath);
    const d2 = r.client.db("crash");
    const plain = new Set((await d2.collection<AnyDoc>("plain").find({}, { projection: { _id: 1 } }).toArray()).map((x) => x._id as number));
    for (const id of acked) assert.ok(plain.has(id), `acknowledged insert ${id} survived`);
    const left = new Set((await d2.collection<AnyDoc>("left").find().toArray()).map((x) => x._id as number));
    const right = new Set((await d2.collection<AnyDoc>("right").find().toArray()).map((x) => x._id as number));
    assert.deepEqual([...left].sort(), [...right].sort(), "transactions are all or nothing");
    for (const id of ackedTxn) assert.ok(left.has(id), `acknowledged transaction ${id} survived`);
    await r.stop();
  });

  it("truncates a torn journal tail with a warning and starts", async () => {
    const dbpath = tempDir();
    let r = await run(dbpath);
    await r.client.db("t").collection<AnyDoc>("c").insertMany([{ _id: 1 }, { _id: 2 }]);
    await r.stop(false);
    const file = journalFile(dbpath);
    const sizeBefore = readFileSync(file).length;
    appendFileSync(file, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6])); // a record cut short by a crash
    r = await run(dbpath);
    assert.equal(await r.client.db("t").collection("c").countDocuments(), 2);
    await r.stop(false);
    assert.equal(readFileSync(file).length, sizeBefore, "the torn record was truncated");
    rmSync(dbpath, { recursive: true, force: true });
  });

  it("refuses to start when a record in the middle of the journal is corrupt", async () => {
    const dbpath = tempDir();
    const r = await run(dbpath);
    const c = r.client.db("t").collection<AnyDoc>("c");
    await c.insertOne({ _id: 1, v: "first" });
    await c.insertOne({ _id: 2, v: "second" });
    await c.insertOne({ _id: 3, v: "third" });
    await r.stop(false);
    const file = journalFile(dbpath);
    const buf = readFileSync(file);
    const idx = buf.indexOf(Buffer.from("second"));
    assert.ok(idx > 0);
    buf[idx] ^= 0xff;
    writeFileSync(file, buf);
    await assert.rejects(startEmbeddedStore({ dbpath, port: 0 }), /corrupt record .* followed by valid records/);
    rmSync(dbpath, { recursive: true, force: true });
  });
});
