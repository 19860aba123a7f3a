/**
 * Two node processes of one party share one database behind a load balancer: one sequencer at a
 * time, no double delivery, and failover when the sequencing process is killed.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { startEmbeddedStore, type EmbeddedStore } from "../services/store/index.ts";
import { startNode, type LiaisonNode } from "../services/node/index.ts";
import { exportPartnerBundle, importPartnerBundle, sha256Fingerprint } from "../services/identity/index.ts";
import { verifyLedger } from "../services/ledger/index.ts";
import { makeParty, nodeConfig, onboard, wantedPersonNotice } from "./support/cluster.ts";

const BIN = new URL("../bin/liaison.mjs", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "liaison-scale-"));
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const f of cleanups.reverse()) await f();
  rmSync(root, { recursive: true, force: true });
});

/** A TCP "load balancer": each new connection goes to the first backend that accepts it. */
function loadBalancer(backends: number[]): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    const tryBackend = (i: number) => {
      if (i >= backends.length) return client.destroy();
      const upstream = connect(backends[i]!, "127.0.0.1");
      upstream.once("error", () => tryBackend(i + 1));
      upstream.once("connect", () => {
        sockets.add(upstream);
        upstream.on("close", () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.on("close", () => upstream.destroy());
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
        client.pipe(upstream).pipe(client);
      });
    };
    tryBackend(0);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as { port: number }).port, server, sockets })));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function startProcess(configFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, "node", "start", "--config", configFile], {
    env: { ...process.env, NODE_ENV: "test", LIAISON_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("peer API on")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`node process exited with ${code}`)));
  });
}

describe("two node processes of one party on one database", () => {
  it("have one sequencer, deliver nothing twice, and fail over when the sequencer is killed", async () => {
    const store: EmbeddedStore = await startEmbeddedStore({ dbpath: join(root, "vn-store"), port: 0 });
    cleanups.push(() => store.close());
    const vnFolder = await makeParty(root, "VN-MPS");
    const cnFolder = await makeParty(root, "CN-MPS");

    const [portA, portB] = [await freePort(), await freePort()];
    const lb = await loadBalancer([portA, portB]);
    cleanups.push(async () => {
      for (const s of lb.sockets) s.destroy();
      await new Promise((r) => lb.server.close(r));
    });
    const cn: LiaisonNode = await startNode(nodeConfig(cnFolder));
    cleanups.push(() => cn.close());
    // CN reaches VN through the load balancer; VN reaches CN directly.
    await onboard(cnFolder, vnFolder, `127.0.0.1:${lb.port}`);
    const cnBundle = await exportPartnerBundle(cnFolder.identityDir, { endpoint: cn.peerAddress });
    await importPartnerBundle(vnFolder.identityDir, cnBundle, sha256Fingerprint(cnBundle.ca_certificate));
    await cn.partners.refresh(true);

    const configFor = (name: string, port: number) => {
      const file = join(root, `${name}.yaml`);
      writeFileSync(
        file,
        [
          "party: VN-MPS",
          `identityDir: ${vnFolder.identityDir}`,
          `dataDir: ${join(root, name)}`,
          `mongodbUri: ${store.uri}`,
          `peer: { host: 127.0.0.1, port: ${port} }`,
          "checkpointIntervalSeconds: 0",
          "ledgerLeaseSeconds: 2",
        ].join("\n"),
      );
      return file;
    };
    const a = await startProcess(configFor("a", portA));
    await startProcess(configFor("b", portB));

    const mongo = await new MongoClient(store.uri).connect();
    cleanups.push(() => mongo.close());
    const db = mongo.db("liaison");
    const lease = await db.collection("ledger_leases").find({}).toArray();
    assert.equal(lease.length, 1, "one sequencer lease");

    const ids: string[] = [];
    const burst = async (n: number) => {
      for (let i = 0; i < n; i++) ids.push((await cn.submit(wantedPersonNotice({ sender: "CN-MPS", recipients: ["VN-MPS"] }))).messageId);
    };
    await burst(20);
    await cn.outbox.drained(60_000);

    // Kill the process that holds the lease (A started first and took it), mid-burst.
    const holder = (await db.collection("ledger_leases").findOne({}))!.owner as string;
    assert.match(holder, new RegExp(`:${a.pid}:`), "the first process is the sequencer");
    const sending = burst(30);
    await new Promise((r) => setTimeout(r, 200));
    a.kill("SIGKILL");
    for (const s of lb.sockets) s.destroy(); // connections through the balancer to A are gone
    await sending;
    await cn.outbox.drained(90_000);

    const newHolder = (await db.collection("ledger_leases").findOne({}))!.owner as string;
    assert.notEqual(newHolder, holder, "the standby process took over the sequencer lease");
    const received = await db.collection("envelopes_received").find({}).toArray();
    assert.equal(received.length, ids.length, "every message received once");
    assert.deepEqual(new Set(received.map((r) => r._id)), new Set(ids));
    const envelopeEntries = await db.collection("ledger_entries").countDocuments({ kind: "envelope.received" });
    assert.equal(envelopeEntries, ids.length, "each envelope is in the ledger exactly once");
    const report = await verifyLedger(db);
    assert.equal(report.ok, true, JSON.stringify(report));
  });
});
