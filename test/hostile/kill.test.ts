/**
 * A receiving node run as a child process, SIGKILLed at random points during a burst from another
 * node's outbox: after each restart every acknowledged (receipted) message is in its ledger at
 * its receipt's index with the exact bytes, every unacknowledged one is redelivered, and each
 * message has one record and one receipt.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode, type LiaisonNode } from "../../services/node/index.ts";
import { makeParty, nodeConfig, onboard } from "../support/cluster.ts";
import { buildMessage } from "../support/adversary.ts";
import { chaosProxy, checkExactlyOnce, childNode, freePort, receiptedIds, repointPartner, withDb, type ChildNode } from "./faults.ts";
import { CN, limits, report, sleep, startHostileCluster, VN, type HostileCluster } from "./support.ts";

describe("a receiving node SIGKILLed at random points during a burst", () => {
  const MESSAGES = Number(process.env.LIAISON_FAULT_MESSAGES ?? 60);
  const KILLS = Number(process.env.LIAISON_FAULT_KILLS ?? 3);
  let root: string;
  let vn: LiaisonNode;
  let cn: ChildNode;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "liaison-kill-"));
    const vnFolder = await makeParty(root, VN);
    const cnFolder = await makeParty(root, CN);
    vn = await startNode(nodeConfig(vnFolder));
    const port = await freePort();
    await onboard(cnFolder, vnFolder, vn.peerAddress);
    await onboard(vnFolder, cnFolder, `127.0.0.1:${port}`);
    await vn.partners.refresh(true);
    cn = await childNode(cnFolder, port);
  });
  after(async () => {
    await cn?.stop();
    await vn?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("loses no acknowledged message, redelivers every other one, receipts each once", async () => {
    const ids: string[] = [];
    const acknowledgedAtKill: string[][] = [];
    const recoveryMs: number[] = [];
    const inFlightAtKill: number[] = [];
    const restartMs: number[] = [];
    let submitting = true;
    const producer = (async () => {
      for (let i = 0; i < MESSAGES; i++) {
        ids.push((await vn.submit(buildMessage({ sender: VN, recipients: [CN], title: `burst ${i}` }))).messageId);
        if (i % 20 === 19) await sleep(50);
      }
      submitting = false;
    })();
    for (let k = 0; k < KILLS; k++) {
      await sleep(300 + Math.random() * 900);
      const acked = await receiptedIds(vn, CN);
      await cn.kill();
      acknowledgedAtKill.push(acked);
      inFlightAtKill.push(ids.length - acked.length);
      await sleep(100 + Math.random() * 400);
      const t0 = performance.now();
      await cn.start();
      restartMs.push(performance.now() - t0);
      vn.outbox.kick(CN);
      const before = (await receiptedIds(vn, CN)).length;
      while ((await receiptedIds(vn, CN)).length === before && (submitting || before < ids.length)) await sleep(20);
      recoveryMs.push(performance.now() - t0);
    }
    await producer;
    const t0 = performance.now();
    await vn.outbox.drained(180_000);
    const drainMs = performance.now() - t0;

    const result = await withDb(cn.mongoUri, (db) => checkExactlyOnce(vn, CN, db, ids));
    for (const acked of acknowledgedAtKill) {
      const missing = acked.filter((id) => result.lost.includes(id));
      assert.deepEqual(missing, [], "every message acknowledged before a kill is in the ledger after restart");
    }
    report({
      area: "faults",
      tried: `receiver SIGKILLed ${cn.kills}× at random points during a burst of ${MESSAGES} messages from the sender's outbox`,
      answer: `all ${result.receipted}/${MESSAGES} receipted after restarts; unacknowledged (queued or in flight) at each kill: ${inFlightAtKill.join(", ")}; restart (spawn to serving) ${restartMs.map((m) => Math.round(m)).join(", ")} ms, to the next receipt (outbox backoff included) ${recoveryMs.map((m) => Math.round(m)).join(", ")} ms; drain after the burst ${Math.round(drainMs)} ms`,
      lost: `${result.lost.length} lost; ${result.duplicates.length} envelope(s) appended twice to the receiver's ledger (node fix pending)`,
    });
    assert.equal(result.receipted, MESSAGES, "every message was delivered (redelivered after the kills)");
    assert.deepEqual(result.lost, []);
    // "none twice in the ledger" fails today when a kill lands between the ledger append and the
    // `recorded` update: pending-fixes.failing.ts holds that assertion until the fix lands.
    assert.equal(await withDb(cn.mongoUri, (db) => db.collection("envelopes_received").countDocuments({ _id: { $in: ids as never[] } })), MESSAGES, "one record per message");
    assert.equal(result.inReceiverLedger, MESSAGES);
    assert.equal(result.notRecorded, 0, "nothing half-written");
  });
});
