/**
 * The embedded store SIGKILLed on its own while a node writes to it: the receiving node runs on a
 * store started as a separate process (`liaison store start`, as in production where MongoDB is its
 * own service), and the store is killed at random points during a delivery burst — every delivery
 * commits ledger transactions. After each restart on the same data and port the node carries on
 * by itself (the driver reconnects; the sender's outbox retries): every message is receipted, each
 * is in the receiver's ledger exactly once at its receipt's index, nothing is left half-written,
 * and the ledger verifies from its entries.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { verifyLedger } from "../../services/ledger/index.ts";
import { startNode, type LiaisonNode } from "../../services/node/index.ts";
import { makeParty, nodeConfig, onboard } from "../support/cluster.ts";
import { buildMessage } from "../support/adversary.ts";
import { checkExactlyOnce, freePort, receiptedIds } from "./faults.ts";
import { CN, report, sleep, VN } from "./support.ts";

const CLI = new URL("../../services/cli/main.ts", import.meta.url).pathname;

/** `liaison store start` as a child process on a fixed port and data directory. */
class StoreProcess {
  private child: ChildProcess | undefined;
  kills = 0;
  readonly restartMs: number[] = [];

  constructor(
    readonly dbpath: string,
    readonly port: number,
  ) {}

  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}/?replicaSet=liaison`;
  }

  async start(): Promise<void> {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "store", "start", "--dbpath", this.dbpath, "--port", String(this.port)], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LIAISON_LOG_LEVEL: "warn" },
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on("line", (line) => {
        if (line.includes("listening")) resolve();
      });
      child.once("exit", (code, signal) => reject(new Error(`store exited before serving (${code ?? signal})`)));
    });
    this.restartMs.push(performance.now() - t0);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    this.kills++;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

describe("the embedded store SIGKILLed during a burst of ledger transactions", () => {
  const MESSAGES = Number(process.env.LIAISON_FAULT_MESSAGES ?? 60);
  const KILLS = Number(process.env.LIAISON_FAULT_KILLS ?? 2);
  let root: string;
  let vn: LiaisonNode;
  let cn: LiaisonNode | undefined;
  let store: StoreProcess;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "liaison-store-kill-"));
    const vnFolder = await makeParty(root, VN);
    const cnFolder = await makeParty(root, CN);
    store = new StoreProcess(join(root, "cn-store"), await freePort());
    await store.start();
    vn = await startNode(nodeConfig(vnFolder));
    cn = await startNode(nodeConfig(cnFolder, { mongodbUri: store.uri, database: "liaison" }));
    await onboard(cnFolder, vnFolder, vn.peerAddress);
    await onboard(vnFolder, cnFolder, cn.peerAddress);
    await vn.partners.refresh(true);
    await cn.partners.refresh(true);
  });
  after(async () => {
    await cn?.close().catch(() => undefined);
    await vn?.close();
    await store?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("loses nothing, records each message once, and the ledger verifies after every restart", async () => {
    const ids: string[] = [];
    const acknowledgedAtKill: string[][] = [];
    const recoveryMs: number[] = [];
    const producer = (async () => {
      for (let i = 0; i < MESSAGES; i++) {
        ids.push((await vn.submit(buildMessage({ sender: VN, recipients: [CN], title: `store burst ${i}` }))).messageId);
        if (i % 10 === 9) await sleep(40);
      }
    })();
    for (let k = 0; k < KILLS; k++) {
      await sleep(300 + Math.random() * 700);
      acknowledgedAtKill.push(await receiptedIds(vn, CN));
      await store.kill();
      await sleep(200 + Math.random() * 300);
      const t0 = performance.now();
      await store.start();
      vn.outbox.kick(CN);
      const before = (await receiptedIds(vn, CN)).length;
      while ((await receiptedIds(vn, CN)).length === before && before < MESSAGES) await sleep(25);
      recoveryMs.push(performance.now() - t0);
    }
    await producer;
    await vn.outbox.drained(180_000);

    const result = await checkExactlyOnce(vn, CN, cn!.db, ids);
    for (const acked of acknowledgedAtKill) {
      assert.deepEqual(acked.filter((id) => result.lost.includes(id)), [], "every message receipted before a kill is still in the ledger");
    }
    assert.equal(result.receipted, MESSAGES, "every message was receipted in the end");
    assert.deepEqual(result.lost, []);
    assert.deepEqual(result.duplicates, [], "no envelope appended twice");
    assert.equal(result.inReceiverLedger, MESSAGES);
    assert.equal(result.notRecorded, 0, "nothing half-written");
    const verified = await verifyLedger(cn!.db);
    assert.equal(verified.ok, true, verified.problem?.message);

    report({
      area: "faults",
      tried: `embedded store (own process) SIGKILLed ${store.kills}× during a burst of ${MESSAGES} deliveries to its node (each delivery commits ledger transactions)`,
      answer: `all ${result.receipted}/${MESSAGES} receipted, each once in the ledger; store restart ${store.restartMs.slice(1).map((m) => Math.round(m)).join(", ")} ms, to the next receipt ${recoveryMs.map((m) => Math.round(m)).join(", ")} ms; ledger verify ok (${verified.entries} entries)`,
      lost: "nothing",
    });
  });
});
