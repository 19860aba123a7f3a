/**
 * `npm run bench -- load [--seconds N]` (default 60; `--seconds 600` for the 10-minute run):
 * three partners (VN-MPS, KH-MOI, LA-MPS, in this process) submit to one receiver (CN-MPS, a
 * child process) through their durable outboxes, concurrently, while the receiver is SIGKILLed
 * and restarted twice (at 1/3 and 2/3 of the run). Prints throughput, latency from submit to
 * receipt (p50, p99), messages lost (must be 0) and duplicates in the receiver's ledger (must be 0).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode, type LiaisonNode } from "../services/node/index.ts";
import { makeParty, nodeConfig, onboard } from "../test/support/cluster.ts";
import { buildMessage } from "../test/support/adversary.ts";
import { checkExactlyOnce, childNode, freePort, withDb } from "../test/hostile/faults.ts";
import { percentile } from "./stats.ts";

const CN = "CN-MPS";
const SENDERS = ["VN-MPS", "KH-MOI", "LA-MPS"];

export interface LoadResult {
  seconds: number;
  submitted: number;
  receipted: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  duplicates: number;
  kills: number;
  restartMs: number[];
}

export async function benchLoad(options: { seconds?: number; kills?: number } = {}): Promise<LoadResult> {
  const i = process.argv.indexOf("--seconds");
  const seconds = options.seconds ?? (i >= 0 ? Number(process.argv[i + 1]) : 60);
  const kills = options.kills ?? 2;
  process.env.LIAISON_LOG_LEVEL ??= "error";
  const root = mkdtempSync(join(tmpdir(), "liaison-load-"));
  const cnFolder = await makeParty(root, CN);
  const port = await freePort();
  const senders: LiaisonNode[] = [];
  for (const party of SENDERS) {
    const folder = await makeParty(root, party);
    const node = await startNode(nodeConfig(folder));
    await onboard(cnFolder, folder, node.peerAddress);
    await onboard(folder, cnFolder, `127.0.0.1:${port}`);
    await node.partners.refresh(true);
    senders.push(node);
  }
  const cn = await childNode(cnFolder, port);
  const submittedAt = new Map<string, number>();
  const ids = new Map<LiaisonNode, string[]>(senders.map((s) => [s, []]));
  const latencies: number[] = [];
  const restartMs: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let stopped = false;

  // Submitters: each partner keeps at most 200 unreceipted messages queued.
  const submit = async (node: LiaisonNode) => {
    while (performance.now() < deadline) {
      const pending = await node.outbox.entries.countDocuments({ partner: CN, state: "pending" });
      if (pending >= 200) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const sealed = await node.submit(buildMessage({ sender: node.party, recipients: [CN], title: "load" }));
      submittedAt.set(sealed.messageId, performance.now());
      ids.get(node)!.push(sealed.messageId);
    }
  };
  // Watchers: latency from submit to the sender's recorded receipt.
  const seen = new Set<string>();
  const watch = async (node: LiaisonNode) => {
    const sent = node.db.collection<{ _id: string }>("envelopes_sent");
    while (!stopped) {
      for (const d of await sent.find({ [`deliveries.${CN}.status`]: "receipted" }, { projection: { _id: 1 } }).toArray()) {
        if (seen.has(d._id)) continue;
        seen.add(d._id);
        const t = submittedAt.get(d._id);
        if (t !== undefined) latencies.push(performance.now() - t);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const killer = async () => {
    for (let k = 1; k <= kills; k++) {
      const at = started + (seconds * 1000 * k) / (kills + 1);
      await new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));
      await cn.kill();
      process.stderr.write(`  receiver SIGKILLed (${k}/${kills})\n`);
      const t0 = performance.now();
      await cn.start();
      restartMs.push(performance.now() - t0);
      for (const s of senders) s.outbox.kick(CN);
    }
  };
  const progress = setInterval(() => process.stderr.write(`\r  ${Math.round((performance.now() - started) / 1000)} s: ${submittedAt.size} submitted, ${seen.size} receipted   `), 1000);
  const watchers = senders.map(watch);
  await Promise.all([...senders.map(submit), killer()]);
  for (const s of senders) await s.outbox.drained(600_000);
  const elapsed = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  stopped = true;
  await Promise.all(watchers);
  clearInterval(progress);
  process.stderr.write("\n");

  let lost = 0;
  let duplicates = 0;
  let receipted = 0;
  await withDb(cn.mongoUri, async (db) => {
    for (const s of senders) {
      const r = await checkExactlyOnce(s, CN, db, ids.get(s)!);
      lost += r.lost.length + (r.messages - r.receipted);
      duplicates += r.duplicates.length;
      receipted += r.receipted;
    }
  });
  await cn.stop();
  for (const s of senders) await s.close();
  rmSync(root, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    seconds: elapsed,
    submitted: submittedAt.size,
    receipted,
    perSecond: receipted / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    lost,
    duplicates,
    kills: cn.kills,
    restartMs,
  };
  process.stdout.write(
    [
      `load: 3 partners → 1 receiver, ${seconds} s of submissions, receiver SIGKILLed ${result.kills}× (restart ${restartMs.map((m) => Math.round(m)).join(", ")} ms)`,
      `  submitted ${result.submitted}, receipted ${result.receipted} in ${elapsed.toFixed(1)} s (drain included): ${result.perSecond.toFixed(1)} msg/s`,
      `  submit → receipt latency: p50 ${Math.round(result.p50Ms)} ms, p99 ${Math.round(result.p99Ms)} ms`,
      `  lost ${result.lost} (must be 0), duplicates in the receiver's ledger ${result.duplicates} (must be 0)`,
    ].join("\n") + "\n",
  );
  return result;
}

// Run directly: `tsx bench/load.ts [--seconds N]`.
if (import.meta.url === `file://${process.argv[1]}`) {
  await benchLoad();
  process.exit(0);
}
