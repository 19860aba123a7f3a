/**
 * A full disk, on a real tmpfs (root; CI runs as root). First the embedded store alone: a write it
 * has no room for is refused before it touches memory and taken again once space returns; a journal
 * write that fails anyway fences the store (nothing unwritten is ever read) and a restart replays
 * exactly what was acknowledged; a snapshot with no room stops short of the journal's reserve.
 * Then a receiving node, a child process whose data directory is the tmpfs, fed by a sender's
 * outbox until its disk is full: it refuses with STORAGE_FULL (UNAVAILABLE, so partners retry),
 * loses nothing it acknowledged, and once a ballast file is deleted every message arrives exactly
 * once, in order; `liaison ledger verify` passes on the filled node.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { MongoClient, MongoServerError, type Collection } from "mongodb";
import { createLogger } from "../../services/logging/index.ts";
import { startNode, type LiaisonNode } from "../../services/node/index.ts";
import { Engine } from "../../services/store/engine.ts";
import { DEFAULT_MIN_FREE_BYTES, listJournals, parseRecords } from "../../services/store/journal.ts";
import { StoreServer } from "../../services/store/server.ts";
import { makeParty, nodeConfig, onboard, type PartyFolder } from "../support/cluster.ts";
import { AdversaryPeer, buildMessage, readPartyMaterial, sealedEnvelope } from "../support/adversary.ts";
import { checkExactlyOnce, childNode, freePort, ledgerVerify, mountTmpfs, receiptedIds, tmpfsUnavailable, withDb, type ChildNode, type Tmpfs } from "./faults.ts";
import { assertRefused, CN, report, sleep, VN } from "./support.ts";

const MiB = 1024 * 1024;
const skip = tmpfsUnavailable();

interface Doc {
  _id: number;
  pad?: string;
}

/** Stores left open by a failing test: closed before the tmpfs is unmounted. */
const openStores = new Set<{ close(): Promise<void> }>();

/** The embedded store on `dbpath` with the engine in reach (its journal's reserve, a small snapshot threshold). */
async function openStore(dbpath: string, options: { minFreeBytes: number; snapshotBytes?: number }) {
  mkdirSync(dbpath, { recursive: true });
  const log = createLogger("store", { dbpath });
  const engine = new Engine({ dbpath, log, ...(options.snapshotBytes ? { snapshotBytes: options.snapshotBytes } : {}) });
  await engine.open();
  engine.journal.minFreeBytes = options.minFreeBytes;
  const server = new StoreServer(engine, log, "liaison", "127.0.0.1");
  await server.listen(0);
  const client = new MongoClient(`mongodb://127.0.0.1:${server.port}/?replicaSet=liaison`, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const store = {
    engine,
    docs: client.db("t").collection<Doc>("docs"),
    async close() {
      openStores.delete(store);
      await client.close();
      await server.close();
      await engine.close();
    },
  };
  openStores.add(store);
  return store;
}

/** Insert 2 KiB documents `concurrency` at a time until the store refuses; the acknowledged ids and the refusal. */
async function insertUntilRefused(docs: Collection<Doc>, from: number, concurrency: number): Promise<{ acked: number[]; refusal: MongoServerError }> {
  const acked: number[] = [];
  for (let next = from; next < from + 100_000; next += concurrency) {
    const batch = Array.from({ length: concurrency }, (_, i) => next + i);
    const results = await Promise.allSettled(batch.map((id) => docs.insertOne({ _id: id, pad: "x".repeat(2048) })));
    results.forEach((r, i) => r.status === "fulfilled" && acked.push(batch[i]!));
    const refused = results.find((r) => r.status === "rejected");
    if (refused) {
      assert.ok(refused.reason instanceof MongoServerError, String(refused.reason));
      return { acked, refusal: refused.reason };
    }
  }
  assert.fail("the store never refused a write");
}

describe("the embedded store on a full disk", { skip }, () => {
  let root: string;
  let tmpfs: Tmpfs | undefined;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "liaison-disk-store-"));
  });
  after(async () => {
    for (const store of openStores) await store.close().catch(() => undefined);
    tmpfs?.unmount();
    rmSync(root, { recursive: true, force: true });
  });
  const mount = async (name: string, bytes: number) => {
    for (const store of openStores) await store.close().catch(() => undefined);
    tmpfs?.unmount();
    tmpfs = mountTmpfs(join(root, name), bytes);
    return tmpfs;
  };

  it("refuses a write it has no room for before applying it (OutOfDiskSpace 14031), and takes writes again once space is freed", async () => {
    const fs = await mount("reserve", 8 * MiB);
    const reserve = 1 * MiB;
    let store = await openStore(join(fs.dir, "db"), { minFreeBytes: reserve });
    await store.docs.insertOne({ _id: 0 });
    fs.fill(reserve + 256 * 1024);
    const { acked, refusal } = await insertUntilRefused(store.docs, 1, 1);
    assert.equal(refusal.code, 14031);
    assert.equal(refusal.codeName, "OutOfDiskSpace");
    assert.match(refusal.message, /not enough free disk space/);
    const refusedId = acked.length + 1;
    assert.equal(await store.docs.findOne({ _id: refusedId }), null, "the refused write is not in memory");
    assert.equal(await store.docs.countDocuments(), acked.length + 1, "reads still answer");
    fs.release();
    await store.docs.insertOne({ _id: refusedId });
    await store.close();
    store = await openStore(join(fs.dir, "db"), { minFreeBytes: reserve });
    assert.equal(await store.docs.countDocuments(), acked.length + 2, "everything acknowledged is on disk");
    await store.close();
    report({
      area: "faults",
      tried: "embedded store alone on an 8 MiB tmpfs, 1 MiB reserve: 2 KiB inserts until refused, then the ballast deleted",
      answer: `after ${acked.length} inserts: OutOfDiskSpace (14031) "${refusal.message}", the refused document absent, reads answered; the next insert after the ballast went was taken; after restart all ${acked.length + 2} documents`,
    });
  });

  it("a journal write that fails anyway fences the store: what was not written is never read, and a restart replays exactly what was acknowledged", async () => {
    const fs = await mount("fence", 4 * MiB);
    const dbpath = join(fs.dir, "db");
    let store = await openStore(dbpath, { minFreeBytes: 0 });
    await store.docs.insertOne({ _id: 0 });
    fs.fill(512 * 1024);
    // 16 writers at a time: several group-commit batches are in flight when the disk fills.
    const { acked, refusal } = await insertUntilRefused(store.docs, 1, 16);
    assert.equal(refusal.code, 14031);
    assert.match(refusal.message, /refuses reads and writes until it is restarted/);
    for (const read of [() => store.docs.findOne({ _id: 0 }), () => store.docs.countDocuments(), () => store.docs.find().toArray()]) {
      await assert.rejects(read(), (e: MongoServerError) => e.code === 14031, "reads are refused: memory holds writes that are not on disk");
    }
    fs.release();
    await assert.rejects(store.docs.insertOne({ _id: -1 }), (e: MongoServerError) => e.code === 14031, "fenced until restarted, even with space again");
    await store.close();
    const journals = listJournals(dbpath);
    const last = join(dbpath, `journal.${String(journals.at(-1)).padStart(8, "0")}`);
    assert.equal(parseRecords(readFileSync(last), last).tornAt, undefined, "the failed batch was cut off the journal: no torn tail");
    store = await openStore(dbpath, { minFreeBytes: 0 });
    const ids = (await store.docs.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id).sort((a, b) => a - b);
    assert.deepEqual(ids, [0, ...acked].sort((a, b) => a - b), "after restart: exactly the acknowledged writes");
    await store.docs.insertOne({ _id: -1 });
    await store.close();
    report({
      area: "faults",
      tried: "embedded store alone on a 4 MiB tmpfs, no reserve: 16 concurrent 2 KiB inserts at a time until the journal write itself fails (ENOSPC)",
      answer: `OutOfDiskSpace (14031) to the failed batch and every later one; finds and counts refused too (memory held writes not on disk) and writes still refused after the ballast went; journal cut back to the last whole batch (no torn tail); after restart exactly the ${acked.length + 1} acknowledged documents`,
    });
  });

  it("a snapshot with no room stops short of the reserve, leaves no temp file, and keeps the journals it would have replaced", async () => {
    const fs = await mount("snapshot", 6 * MiB);
    const dbpath = join(fs.dir, "db");
    const reserve = 1 * MiB;
    let store = await openStore(dbpath, { minFreeBytes: reserve, snapshotBytes: 512 * 1024 });
    for (let i = 0; i < 120; i++) await store.docs.insertOne({ _id: i, pad: "x".repeat(2048) });
    fs.fill(reserve + 600 * 1024);
    // The journal passes 512 KiB: a snapshot of ~0.5 MiB would eat into the reserve.
    const { acked } = await insertUntilRefused(store.docs, 120, 1);
    assert.ok(listJournals(dbpath).length >= 2, "a snapshot was attempted (the journal rotated)");
    assert.equal(existsSync(join(dbpath, "snapshot.bson")), false, "no snapshot was written");
    assert.equal(existsSync(join(dbpath, "snapshot.bson.tmp")), false, "no temp file left behind");
    fs.release();
    await store.close();
    store = await openStore(dbpath, { minFreeBytes: reserve });
    assert.equal(await store.docs.countDocuments(), 120 + acked.length, "recovery replays the kept journals");
    await store.close();
  });

  it("a snapshot cut short by ENOSPC (no reserve) is never renamed into place: the journals stay and recovery has every write", async () => {
    // Before: a short write went unnoticed, the truncated snapshot replaced the journals, and the
    // store then refused to start ("truncated snapshot").
    const fs = await mount("snapshot-enospc", 4 * MiB);
    const dbpath = join(fs.dir, "db");
    let store = await openStore(dbpath, { minFreeBytes: 0 });
    for (let i = 0; i < 700; i++) await store.docs.insertOne({ _id: i, pad: "x".repeat(2048) });
    fs.fill(1 * MiB);
    await assert.rejects(store.engine.snapshot(), (e: NodeJS.ErrnoException) => e.code === "ENOSPC");
    assert.equal(existsSync(join(dbpath, "snapshot.bson")), false);
    assert.equal(existsSync(join(dbpath, "snapshot.bson.tmp")), false, "no temp file left behind");
    await store.docs.insertOne({ _id: 700 });
    fs.release();
    await store.close();
    store = await openStore(dbpath, { minFreeBytes: 0 });
    assert.equal(await store.docs.countDocuments(), 701);
    await store.close();
    report({
      area: "faults",
      tried: "embedded store: a snapshot of 1.4 MiB with 1 MiB free (no reserve), and one that would eat into the 1 MiB reserve",
      answer: "the first fails with ENOSPC, the second stops short with OutOfDiskSpace; neither leaves a temp file or replaces the journals; the store keeps serving and recovers every write (before: the short write went unnoticed, a truncated snapshot.bson replaced the journals and the store refused to start)",
    });
  });
});

describe("a receiving node whose disk fills up (child process, data directory on a tmpfs)", { skip }, () => {
  /** 8 KiB attachments: the disk fills in a few hundred deliveries. */
  const PADDING = 8192;
  const HEADROOM = 3 * MiB;

  interface Scenario {
    /** The store's reserve in the child (LIAISON_STORE_MIN_FREE_MB); 0 makes the journal write itself fail. */
    reserveBytes: number;
    tmpfsBytes: number;
  }

  async function fillAndRecover(name: string, scenario: Scenario): Promise<void> {
    const root = mkdtempSync(join(tmpdir(), "liaison-disk-"));
    let vn: LiaisonNode | undefined;
    let cn: ChildNode | undefined;
    let fs: Tmpfs | undefined;
    let adversary: AdversaryPeer | undefined;
    try {
      const vnFolder = await makeParty(root, VN);
      const cnFolder: PartyFolder = await makeParty(root, CN);
      vn = await startNode(nodeConfig(vnFolder));
      const port = await freePort();
      await onboard(cnFolder, vnFolder, vn.peerAddress);
      await onboard(vnFolder, cnFolder, `127.0.0.1:${port}`);
      await vn.partners.refresh(true);
      fs = mountTmpfs(cnFolder.dataDir, scenario.tmpfsBytes);
      const env: Record<string, string> = scenario.reserveBytes === DEFAULT_MIN_FREE_BYTES ? {} : { LIAISON_STORE_MIN_FREE_MB: String(scenario.reserveBytes / MiB) };
      cn = await childNode(cnFolder, port, undefined, { env });
      const ids: string[] = [];
      const submit = async (title: string) => ids.push((await vn!.submit(buildMessage({ sender: VN, recipients: [CN], title, padding: PADDING }))).messageId);
      for (let i = 0; i < 10; i++) await submit(`before ${i}`);
      await vn.outbox.drained(60_000);

      // The disk: a ballast leaves the reserve and a few MiB; then a burst until the node refuses.
      fs.fill(scenario.reserveBytes + HEADROOM);
      const burstStart = performance.now();
      let refusedAt = 0;
      let refusal = "";
      let ackedAtRefusal: string[] = [];
      let inFlightAtRefusal = 0;
      const pending = vn.outbox.entries;
      let watching = true;
      const watcher = (async () => {
        while (!refusedAt && watching) {
          // The sender keeps the partner's reason: "partner answered UNAVAILABLE: this node's storage is full; retry later".
          const entry = await pending.findOne({ partner: CN, state: "pending", lastError: { $regex: "storage is full" } });
          if (entry) {
            refusedAt = performance.now();
            refusal = entry.lastError!;
            ackedAtRefusal = await receiptedIds(vn!, CN);
            inFlightAtRefusal = ids.length - ackedAtRefusal.length;
          } else await sleep(50);
        }
      })();
      try {
        let extra = 0;
        while (extra < 30) {
          await submit(`burst ${ids.length}`);
          if (refusedAt) extra++;
          else if (ids.length > 3000) assert.fail(`no refusal after ${ids.length} messages: ${cn.stderr()}`);
          await sleep(5);
        }
      } finally {
        watching = false;
        await watcher;
      }
      const timeToRefuseMs = refusedAt - burstStart;
      assert.match(refusal, /^partner answered UNAVAILABLE: this node's storage is full; retry later$/, "the sender sees a clear refusal");

      // What a partner is answered, exactly (status, trailer, Rejection detail), and how fast.
      const vnMaterial = await readPartyMaterial(vnFolder.identityDir);
      adversary = new AdversaryPeer({ address: `127.0.0.1:${port}`, tls: { certPem: vnMaterial.tlsCertPem, keyPem: vnMaterial.tlsKeyPem }, serverCaPem: (await readPartyMaterial(cnFolder.identityDir)).caCertPem });
      const probe = async () => {
        const t0 = performance.now();
        const outcome = await adversary!.deliver(sealedEnvelope(buildMessage({ sender: VN, recipients: [CN], title: "probe" }), vnMaterial.signingKey));
        return { outcome, ms: performance.now() - t0 };
      };
      const refused = await probe();
      assertRefused(refused.outcome, grpc.status.UNAVAILABLE, "STORAGE_FULL");
      await sleep(3000);
      assert.equal(cn.child.exitCode, null, `the full node is still running: ${cn.stderr()}`);
      assert.equal(cn.child.signalCode, null);
      assert.equal(await pending.countDocuments({ partner: CN, state: "rejected" }), 0, "nothing parked as refused at the sender");
      const queuedWhileFull = await pending.countDocuments({ partner: CN, state: "pending" });
      const fenced = scenario.reserveBytes === 0;
      if (!fenced) {
        // Reads still answer: every message acknowledged so far is in the full node's ledger.
        const full = await withDb(cn.mongoUri, (db) => checkExactlyOnce(vn!, CN, db, ids));
        assert.deepEqual(full.lost, [], "nothing acknowledged is lost while the disk is full");
        assert.deepEqual(full.duplicates, []);
      }

      // Space returns: the ballast goes. A fenced store refuses until its node is restarted.
      fs.release();
      const freedAt = performance.now();
      let restartMs = 0;
      if (fenced) {
        assertRefused((await probe()).outcome, grpc.status.UNAVAILABLE, "STORAGE_FULL");
        const t0 = performance.now();
        await cn.stop();
        await cn.start();
        restartMs = performance.now() - t0;
      }
      const ackedAtFree = (await receiptedIds(vn, CN)).length;
      while ((await receiptedIds(vn, CN)).length === ackedAtFree) await sleep(50);
      const recoveryMs = performance.now() - freedAt;
      await vn.outbox.drained(300_000);
      const drainMs = performance.now() - freedAt;

      const result = await withDb(cn.mongoUri, (db) => checkExactlyOnce(vn!, CN, db, ids));
      const verify = ledgerVerify(cn.configFile);
      const row = {
        area: "faults",
        tried: `${name}: receiver's data directory on a tmpfs of ${scenario.tmpfsBytes / MiB} MiB, ballast leaving ${(scenario.reserveBytes + HEADROOM) / MiB} MiB, then a burst of ${PADDING / 1024} KiB messages from the sender's outbox`,
        answer:
          `UNAVAILABLE / STORAGE_FULL after ${(timeToRefuseMs / 1000).toFixed(1)} s of burst (${ids.length - 10} messages in all; ${inFlightAtRefusal} unacknowledged at the first refusal, ${queuedWhileFull} queued while full); a refused delivery answered in ${Math.round(refused.ms)} ms; node kept running` +
          (fenced ? `; still refused after the ballast was deleted, until restarted (${Math.round(restartMs)} ms)` : `; reads answered throughout`) +
          `; ballast deleted → next receipt ${Math.round(recoveryMs)} ms, all ${result.receipted}/${ids.length} receipted in ${(drainMs / 1000).toFixed(1)} s; ledger verify ${verify.ok ? "passes" : "FAILS"}`,
        lost: `${result.lost.length} lost, ${result.duplicates.length} twice, ${result.outOfOrder.length} out of order`,
      };
      report(row);
      for (const acked of ackedAtRefusal) assert.ok(!result.lost.includes(acked), "every message acknowledged before the disk filled is in the ledger");
      assert.equal(result.receipted, ids.length, "every message was delivered once space returned");
      assert.deepEqual(result.lost, []);
      assert.deepEqual(result.duplicates, []);
      assert.deepEqual(result.outOfOrder, [], "in order");
      assert.equal(result.inReceiverLedger, ids.length);
      assert.equal(result.notRecorded, 0, "nothing half-written");
      assert.ok(verify.ok, `ledger verify on the filled node: ${verify.output}`);
    } finally {
      adversary?.close();
      await cn?.stop();
      await vn?.close();
      fs?.unmount();
      rmSync(root, { recursive: true, force: true });
    }
  }

  it("with the store's reserve (default 64 MiB): refused before the disk is full, resumes by itself once space is freed", async () => {
    await fillAndRecover("disk full", { reserveBytes: DEFAULT_MIN_FREE_BYTES, tmpfsBytes: DEFAULT_MIN_FREE_BYTES + 16 * MiB });
  });

  it("without a reserve (the journal write itself fails): fenced, refused until restarted, nothing acknowledged lost", async () => {
    await fillAndRecover("disk full, no reserve", { reserveBytes: 0, tmpfsBytes: 16 * MiB });
  });
});
