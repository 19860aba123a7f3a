/**
 * The sequencer as real processes on one store (the embedded store started here; its URI given
 * to each child): a process killed with SIGKILL in the middle of a burst leaves a consistent log
 * holding every append it acknowledged, and two processes of one party never append at the
 * same time — the lease holder appends, the other waits (UNAVAILABLE) until the lease is free.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { MongoClient } from "mongodb";
import { LedgerSequencer, readEntry, readTreeHead, verifyLedger } from "../../services/ledger/index.ts";
import { openTestStore, type TestStore } from "../support/test-store.ts";

const CHILD = new URL("./fixtures/sequencer-child.ts", import.meta.url).pathname;

let testStore: TestStore | undefined;
let uri: string;
let client: MongoClient;

before(async () => {
  testStore = await openTestStore("liaison-ledger-procs-");
  uri = testStore.uri;
  client = await new MongoClient(uri).connect();
});

after(async () => {
  await client?.close();
  await testStore?.close();
});

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves when a line matching `re` has been printed (or rejects when the child exits first). */
  waitFor(re: RegExp, count?: number): Promise<void>;
  exited: Promise<number | null>;
}

function startChild(db: string, tag: string, options: object): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, uri, db, tag, JSON.stringify(options)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_ENV: "test" },
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; count: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  let stderr = "";
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (lines.filter((l) => w.re.test(l)).length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  void exited.then(() => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${tag} exited before ${w.re}: ${stderr.slice(-2000)}`));
  });
  return {
    proc,
    lines,
    exited,
    waitFor(re, count = 1) {
      if (lines.filter((l) => re.test(l)).length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ re, count, resolve, reject }));
    },
  };
}

function acks(child: Child): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of child.lines) {
    const r = /^ACK (\d+) ([0-9a-f]+)$/.exec(l);
    if (r) m.set(Number(r[1]), r[2]!);
  }
  return m;
}

describe("sequencer processes", () => {
  it("a sequencer killed with SIGKILL mid-burst leaves a consistent log with every acknowledged append", async () => {
    const dbName = "ledger_sigkill";
    const child = startChild(dbName, "victim", { ttlMs: 1000, concurrency: 64, maxBatch: 16 });
    await child.waitFor(/^ACK /, 400);
    child.proc.kill("SIGKILL");
    await child.exited;
    const acknowledged = acks(child);
    assert.ok(acknowledged.size >= 400);

    const db = client.db(dbName);
    const report = await verifyLedger(db);
    assert.equal(report.ok, true, report.problem?.message);
    const head = await readTreeHead(db);
    assert.ok(head.size >= acknowledged.size, `head ${head.size} holds the ${acknowledged.size} acknowledged`);
    for (const [index, hex] of acknowledged) {
      const e = await readEntry(db, index);
      assert.equal(Buffer.from(e!.bytes).toString("hex"), hex, `entry ${index} is the acknowledged one`);
    }

    // Once the dead process's lease expires, another sequencer takes over and continues the log.
    const next = await LedgerSequencer.start({ client, db, owner: "successor", leaseTtlMs: 1000, acquireTimeoutMs: 10_000 });
    const r = await next.append("test.after", Buffer.from("after the crash"));
    assert.equal(r.index, head.size);
    await next.close();
    assert.equal((await verifyLedger(db)).ok, true);
  });

  it("two sequencer processes of one party never append concurrently; indexes stay dense", async () => {
    const dbName = "ledger_two_processes";
    const options = { ttlMs: 1000, holdMs: 1500, concurrency: 16, maxBatch: 16, waitMs: 60_000 };
    const a = startChild(dbName, "process-a", options);
    const b = startChild(dbName, "process-b", options);
    const [codeA, codeB] = await Promise.all([a.exited, b.exited]);
    assert.equal(codeA, 0, a.lines.slice(-5).join("\n"));
    assert.equal(codeB, 0, b.lines.slice(-5).join("\n"));

    const [ackA, ackB] = [acks(a), acks(b)];
    assert.ok(ackA.size > 0 && ackB.size > 0, "both appended, one after the other");
    const first = Math.min(...ackA.keys()) < Math.min(...ackB.keys()) ? [a, ackA, ackB] as const : [b, ackB, ackA] as const;
    const [, firstAcks, secondAcks] = first;
    const waiter = first[0] === a ? b : a;
    assert.ok(waiter.lines.some((l) => l.startsWith("UNAVAILABLE ")), "the second process was refused while the first held the lease");
    assert.ok(Math.max(...firstAcks.keys()) < Math.min(...secondAcks.keys()), "no interleaving: every index of the first holder precedes the second's");

    const all = [...ackA.keys(), ...ackB.keys()].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: all.length }, (_, i) => i), "indexes are dense and distinct");
    const db = client.db(dbName);
    assert.equal((await readTreeHead(db)).size, all.length);
    const report = await verifyLedger(db);
    assert.equal(report.ok, true, report.problem?.message);
  });
});
