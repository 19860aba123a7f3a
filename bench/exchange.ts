/**
 * End-to-end exchange between real nodes on loopback (`npm run bench -- exchange`):
 * - notices/s from submit (seal: sign, ledger, outbox) until every recipient's receipt is
 *   recorded by the sender (so the envelope is on the receiver's ledger and the receipt on the
 *   sender's), p50/p99 latency, with 1 and 2 partners;
 * - the catch-up rate after a partner was down with 10,000 notices queued for it.
 * Progress on stderr; figures on stdout. Also runnable directly: `tsx bench/exchange.ts`.
 */
import { startNode, type LiaisonNode } from "../services/node/index.ts";
import { wantedPersonNotice } from "../services/cli/samples.ts";
import { nodeConfig, startCluster } from "../test/support/cluster.ts";
import { formatRun, measure } from "./stats.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const KH = "KH-MOI";

/** Submit one notice and wait until every recipient's receipt is recorded (the outbox settles it). */
async function roundTrip(sender: LiaisonNode, recipients: string[]): Promise<void> {
  const sealed = await sender.submit(wantedPersonNotice({ sender: sender.party, recipients }));
  const states = await Promise.all(recipients.map((r) => sender.outbox.settled(sealed.messageId, r)));
  if (states.some((s) => s === "rejected")) throw new Error(`notice ${sealed.messageId} was refused`);
}

export async function benchExchange(options: { total?: number; concurrency?: number; backlog?: number } = {}): Promise<void> {
  const total = options.total ?? Number(process.env.BENCH_EXCHANGE_TOTAL ?? 1000);
  const concurrency = options.concurrency ?? 16;
  const backlog = options.backlog ?? Number(process.env.BENCH_EXCHANGE_BACKLOG ?? 10_000);
  const cluster = await startCluster([VN, CN, KH]);
  const lines = { push: (line: string) => process.stdout.write(line + "\n") };
  try {
    const vn = cluster.node(VN);
    await measure("warm-up", 100, 8, () => roundTrip(vn, [CN, KH]));
    for (const recipients of [[CN], [CN, KH]]) {
      for (const c of [1, concurrency]) {
        const n = c === 1 ? Math.min(total, 300) : total;
        const run = await measure(`${recipients.length} partner(s) c=${c}`, n, c, () => roundTrip(vn, recipients));
        lines.push(formatRun(`notice → receipt on both ledgers, ${recipients.length} partner(s), c=${c}`, run));
      }
    }

    // A partner down while `backlog` notices queue up for it; then it returns.
    const kh = cluster.node(KH);
    const port = kh.peerPort;
    await kh.close();
    cluster.nodes.delete(KH);
    const queued = await measure(`queue ${backlog} for a partner that is down`, backlog, 16, () => vn.submit(wantedPersonNotice({ sender: VN, recipients: [KH] })));
    lines.push(formatRun(`queue while partner down (${backlog} notices)`, queued));
    const restarted = await startNode(nodeConfig(cluster.folders.get(KH)!, { peer: { host: "127.0.0.1", port } }));
    cluster.nodes.set(KH, restarted);
    const t0 = performance.now();
    vn.outbox.kick(KH);
    const progress = setInterval(() => {
      void vn.outbox.status([KH]).then(([s]) => process.stderr.write(`\r  catch-up: ${backlog - (s?.depth ?? 0)}/${backlog}   `));
    }, 1000);
    try {
      await vn.outbox.drained(30 * 60_000);
    } finally {
      clearInterval(progress);
    }
    const seconds = (performance.now() - t0) / 1000;
    process.stderr.write(`\r  catch-up: ${backlog}/${backlog} done\n`);
    const received = await restarted.db.collection("envelopes_received").countDocuments({});
    lines.push(`catch-up after outage: ${backlog} notices in ${seconds.toFixed(1)} s = ${(backlog / seconds).toFixed(0)} notices/s (receiver holds ${received})`);
  } finally {
    await cluster.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchExchange();
  process.exit(0);
}
