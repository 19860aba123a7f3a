/**
 * A partner down for a simulated day with a long queue, with real processes and libfaketime
 * (Debian's `faketime` package; CI installs it). The sender queues LIAISON_OUTAGE_MESSAGES messages
 * (default 300 in `npm test`; `npm run reliability` queues 10,000) while the partner is down; both
 * nodes are then restarted with their wall clocks a day ahead (CLOCK_MONOTONIC untouched, so timers
 * run at the real pace); the partner comes back and everything arrives in order, each message once,
 * with receipts that verify on their own and ledgers that verify. The freshness rule must take a
 * day-old message: limits.maxMessageAgeSeconds defaults to 7 days (PROTOCOL.md §7 step 14).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db } from "mongodb";
import { startNode, type LiaisonNode } from "../../services/node/index.ts";
import { DEFAULT_BACKOFF } from "../../services/exchange/outbox.ts";
import { makeParty, nodeConfig, onboard } from "../support/cluster.ts";
import { buildMessage } from "../support/adversary.ts";
import { badReceipts, checkExactlyOnce, childNode, faketimeEnv, faketimeLibrary, freePort, ledgerVerify, withDb, type ChildNode } from "./faults.ts";
import { CN, report, sleep, VN } from "./support.ts";

const MESSAGES = Number(process.env.LIAISON_OUTAGE_MESSAGES ?? 300);
const DAY = "+1d";
const DAY_MS = 86_400_000;
const skip = faketimeLibrary() ? false : "libfaketime is not installed (apt-get install faketime; .ci/run does)";

interface OutboxDoc {
  _id: string;
  seq: number;
  messageId: string;
  state: string;
  attempts: number;
  nextAttemptAt: Date;
}

/** The sender's queue for CN: pending count and the head entry (its attempts and next attempt). */
async function queueState(db: Db) {
  const outbox = db.collection<OutboxDoc>("outbox");
  const pending = await outbox.countDocuments({ partner: CN, state: "pending" });
  const head = await outbox.find({ partner: CN, state: "pending" }).sort({ seq: 1 }).limit(1).next();
  return { pending, head };
}

describe("a partner down for a simulated day with a long queue (libfaketime)", { skip }, () => {
  it(`delivers all ${MESSAGES} queued messages in order, each once, after both clocks move a day ahead`, async () => {
    const root = mkdtempSync(join(tmpdir(), "liaison-outage-"));
    let vn: LiaisonNode | undefined;
    let vnChild: ChildNode | undefined;
    let cn: ChildNode | undefined;
    try {
      const vnFolder = await makeParty(root, VN);
      const cnFolder = await makeParty(root, CN);
      const vnPort = await freePort();
      const cnPort = await freePort();
      await onboard(cnFolder, vnFolder, `127.0.0.1:${vnPort}`);
      await onboard(vnFolder, cnFolder, `127.0.0.1:${cnPort}`);

      // Day 0, real clocks: the sender in this process (to queue), the partner a child process.
      vn = await startNode(nodeConfig(vnFolder, { peer: { host: "127.0.0.1", port: vnPort } }));
      await vn.partners.refresh(true);
      cn = await childNode(cnFolder, cnPort);
      for (let i = 0; i < 5; i++) await vn.submit(buildMessage({ sender: VN, recipients: [CN], title: `before the outage ${i}` }));
      await vn.outbox.drained(60_000);

      // The partner goes down hard; the sender queues, four submissions at a time.
      await cn.kill();
      const queueStart = performance.now();
      for (let i = 0; i < MESSAGES; i += 4) {
        await Promise.all(
          Array.from({ length: Math.min(4, MESSAGES - i) }, (_, k) => vn!.submit(buildMessage({ sender: VN, recipients: [CN], title: `queued ${i + k}` }))),
        );
      }
      const queueSeconds = (performance.now() - queueStart) / 1000;
      const beforeJump = await queueState(vn.db);
      assert.equal(beforeJump.pending, MESSAGES, "everything is queued");
      await vn.close();
      vn = undefined;

      // A day later: both nodes restart with their clocks a day ahead; the partner is still down.
      vnChild = await childNode(vnFolder, vnPort, undefined, { fakeTime: DAY });
      await sleep(3000);
      const stillDown = await withDb(vnChild.mongoUri, queueState);
      const wouldWaitMs = stillDown.head!.nextAttemptAt.getTime() - (Date.now() + DAY_MS);

      // The partner comes back (witnessing on: its first checkpoint asks the sender to cosign,
      // and a partner that calls the sender has its queue retried at once).
      cn.options = { fakeTime: DAY, config: { checkpointIntervalSeconds: 5 } };
      const back = performance.now();
      await cn.start();
      let firstReceiptMs = 0;
      const deadline = back + 60 * 60_000;
      for (;;) {
        const { pending } = await withDb(vnChild.mongoUri, queueState);
        if (!firstReceiptMs && pending < MESSAGES) firstReceiptMs = performance.now() - back;
        if (pending === 0) break;
        assert.ok(performance.now() < deadline, `catch-up stalled with ${pending} pending: ${vnChild.stderr()}`);
        await sleep(500);
      }
      const catchUpMs = performance.now() - back;
      const drainMs = catchUpMs - firstReceiptMs;

      // In the sender's order (outbox seq), once each, at the receipt's ledger index, with the exact bytes.
      const { ordered, rejected, receivedAt } = await withDb(vnChild.mongoUri, async (db) => {
        const entries = await db.collection<OutboxDoc>("outbox").find({ partner: CN }).sort({ seq: 1 }).toArray();
        const last = entries.at(-1)!.messageId;
        const sent = await db.collection<{ _id: string; deliveries: Record<string, { receivedAt?: Date }> }>("envelopes_sent").findOne({ _id: last });
        return {
          ordered: entries.map((e) => e.messageId),
          rejected: entries.filter((e) => e.state !== "delivered").length,
          receivedAt: sent?.deliveries[CN]?.receivedAt,
        };
      });
      const result = await withDb(vnChild.mongoUri, (vnDb) => withDb(cn!.mongoUri, (cnDb) => checkExactlyOnce({ db: vnDb }, CN, cnDb, ordered)));
      const bad = await withDb(vnChild.mongoUri, (vnDb) => badReceipts(vnDb, cnFolder, ordered));
      const verifyCn = ledgerVerify(cn.configFile, faketimeEnv(DAY));
      const verifyVn = ledgerVerify(vnChild.configFile, faketimeEnv(DAY));
      const rate = MESSAGES / (catchUpMs / 1000);
      report({
        area: "faults",
        tried: `partner down for a simulated day: ${MESSAGES.toLocaleString("en")} messages queued at the sender (${(MESSAGES / queueSeconds).toFixed(0)}/s), then both nodes restarted under libfaketime ${DAY} (wall clock only), the partner last`,
        answer:
          `before the jump the queue's head had ${beforeJump.head!.attempts} attempts (backoff ${DEFAULT_BACKOFF.initialMs} ms doubling, capped at ${DEFAULT_BACKOFF.maxMs / 60_000} min, full jitter); a day later its next attempt was ${Math.round(wouldWaitMs / 1000)} s away when the partner returned, which its first checkpoint's cosignature request cut short; ` +
          `first receipt ${(firstReceiptMs / 1000).toFixed(1)} s after the partner started, all ${(result.receipted - 5).toLocaleString("en")}/${MESSAGES.toLocaleString("en")} receipted in ${(catchUpMs / 1000).toFixed(1)} s (${rate.toFixed(0)} msg/s; ${(MESSAGES / (drainMs / 1000)).toFixed(0)} msg/s once flowing), in order, a day-old message within maxMessageAgeSeconds (7 d); receipts verify; ledger verify passes on both (${verifyCn.ok && verifyVn.ok ? "yes" : "NO"})`,
        lost: `${result.lost.length} lost, ${result.duplicates.length} twice, ${result.outOfOrder.length} out of order`,
      });
      assert.equal(ordered.length, MESSAGES + 5);
      assert.equal(rejected, 0, "nothing refused (a day-old message is fresh enough by default)");
      assert.equal(result.receipted, MESSAGES + 5);
      assert.deepEqual(result.lost, []);
      assert.deepEqual(result.duplicates, []);
      assert.deepEqual(result.outOfOrder, [], "in order");
      assert.equal(result.inReceiverLedger, MESSAGES + 5);
      assert.equal(result.notRecorded, 0);
      assert.deepEqual(bad, [], "every receipt verifies with the partner's key and names the exact envelope");
      assert.ok(verifyCn.ok, `ledger verify (partner): ${verifyCn.output}`);
      assert.ok(verifyVn.ok, `ledger verify (sender): ${verifyVn.output}`);
      assert.ok(receivedAt, "receipts carry the receiver's time");
      assert.ok(receivedAt.getTime() > Date.now() + DAY_MS - 3600_000, `the partner's clock was a day ahead (receipt time ${receivedAt.toISOString()})`);
    } finally {
      await cn?.stop();
      await vnChild?.stop();
      await vn?.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
