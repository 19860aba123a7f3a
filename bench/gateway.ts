/**
 * The gateway next to the local gRPC call it wraps: requests/s and p50/p99 for the inbox listing
 * (GET /api/messages → LocalApi.ListMessages, 50 per page) and for search (GET /api/search →
 * LocalApi.SearchNotices, the notices' token index), with N notices received by the partner node
 * (LIAISON_BENCH_NOTICES, default 100,000). Everything on 127.0.0.1: real nodes, HTTPS to the
 * gateway, gRPC to the local API.
 *
 * The notices are stored in bulk through the receiver's own steps, the network left out (see
 * `seedReceived`): signed by VN-MPS's signing key, appended to CN-MPS's ledger, recorded in the
 * receiver's document shape with a receipt signed by CN-MPS, and projected into the views by the
 * node's own projection (`projectRecorded`), which writes what the search reads.
 */
import { Agent, request } from "node:https";
import { availableParallelism, loadavg } from "node:os";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Binary } from "mongodb";
import { ReceiptSchema, SignedEnvelopeSchema, SignedReceiptSchema } from "../gen/liaison/v1/envelope_pb.ts";
import { Direction, LocalApi } from "../gen/liaison/v1/local_pb.ts";
import { MessageSchema } from "../gen/liaison/v1/message_pb.ts";
import { wantedPersonNotice } from "../services/cli/samples.ts";
import { sha256, type ReceivedEnvelopeDoc } from "../services/exchange/index.ts";
import { JWS_TYP_MESSAGE, JWS_TYP_RECEIPT, signDetached } from "../services/identity/index.ts";
import type { LiaisonNode } from "../services/node/index.ts";
import { projectRecorded } from "../services/views/index.ts";
import { rootLogger } from "../services/logging/index.ts";
import { startCluster } from "../test/support/cluster.ts";
import { makeOfficer, openSite, signIn, type Site } from "../test/gateway/support.ts";
import { LocalApiConnection } from "../gateway/client.ts";
import { formatRun, measure, type RunResult } from "./stats.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const RARE_EVERY = 1000;

function notice(i: number) {
  const message = wantedPersonNotice({ sender: VN, recipients: [CN], title: `Wanted person ${i}` });
  if (i % RARE_EVERY === 0 && message.body.case === "wantedPerson") {
    message.body.value.person!.names = [
      { $typeName: "liaison.v1.PersonName", fullName: "Đặng Thị Hạnh", script: "Latn", lang: "vi", transliteration: false, scheme: "" },
      { $typeName: "liaison.v1.PersonName", fullName: "邓氏幸", script: "Hani", lang: "zh-Hans", transliteration: false, scheme: "" },
    ];
  }
  return message;
}

function httpsGetter(site: Site, token: () => string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64, ca: site.caCertPem });
  const url = new URL(site.gateway.url);
  return {
    get(path: string): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, path, method: "GET", agent, headers: { authorization: `Bearer ${token()}` } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if (res.statusCode !== 200) return reject(new Error(`${path}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`));
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
          });
        });
        req.on("error", reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

const SEED_BATCH = 1000;

/**
 * Stores `total` notices at `receiver` as received from `sender`, in batches, doing what the
 * receiver's `record` does for each accepted envelope except the network and the per-message
 * checks (the messages are well-formed samples): the message bytes signed with the sender's
 * active signing key into a SignedEnvelope; the envelope appended to the receiver's ledger
 * ("envelope.received", through its batching sequencer); a Receipt naming that index signed with
 * the receiver's key and appended ("receipt.issued"); the envelopes_received document in its
 * final "recorded" shape; and the node's own projection (`projectRecorded`, as the receiver's
 * onRecorded hook calls it) into the notices view. A progress line goes to stderr.
 */
async function seedReceived(sender: LiaisonNode, receiver: LiaisonNode, total: number): Promise<void> {
  const sign = (node: LiaisonNode, bytes: Uint8Array, typ: string) =>
    signDetached(bytes, node.identity.activeSigningKey.privateKey, { kid: node.identity.activeSigningKey.kid, typ });
  const received = receiver.db.collection<ReceivedEnvelopeDoc>("envelopes_received");
  const started = performance.now();
  const progress = (done: number) => {
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`\r  storing notices at ${receiver.identity.party}: ${done}/${total} (${(done / seconds).toFixed(0)}/s, ${seconds.toFixed(0)} s)   `);
  };
  for (let first = 0; first < total; first += SEED_BATCH) {
    const messages = Array.from({ length: Math.min(SEED_BATCH, total - first) }, (_, k) => notice(first + k));
    await retryTransient(() => storeBatch(messages));
    progress(first + messages.length);
  }
  process.stderr.write("\n");

  async function storeBatch(messages: ReturnType<typeof notice>[]): Promise<void> {
    const records = await Promise.all(
      messages.map(async (message) => {
        const messageBytes = toBinary(MessageSchema, message);
        const jws = await sign(sender, messageBytes, JWS_TYP_MESSAGE);
        const envelopeBytes = toBinary(SignedEnvelopeSchema, create(SignedEnvelopeSchema, { message: messageBytes, jws }));
        const envelopeSha256 = sha256(envelopeBytes);
        const now = new Date();
        const ledgerIndex = (await receiver.ledger.append("envelope.received", envelopeBytes)).index;
        const receiptBytes = toBinary(
          ReceiptSchema,
          create(ReceiptSchema, {
            messageId: message.header!.messageId,
            envelopeSha256,
            receiverParty: receiver.identity.party,
            senderParty: sender.identity.party,
            receivedAt: timestampFromDate(now),
            ledgerIndex: BigInt(ledgerIndex),
          }),
        );
        const signedReceipt = toBinary(SignedReceiptSchema, create(SignedReceiptSchema, { receipt: receiptBytes, jws: await sign(receiver, receiptBytes, JWS_TYP_RECEIPT) }));
        await receiver.ledger.append("receipt.issued", signedReceipt);
        const doc: ReceivedEnvelopeDoc = {
          _id: message.header!.messageId,
          state: "recorded",
          senderParty: sender.identity.party,
          envelopeSha256: new Binary(envelopeSha256),
          envelope: new Binary(envelopeBytes),
          bodyKind: message.body.case ?? "",
          claimedAt: now,
          firstClaimedAt: now,
          receivedAt: now,
          ledgerIndex,
          signedReceipt: new Binary(signedReceipt),
        };
        return { doc, record: { direction: "received" as const, messageId: doc._id, message, envelopeBytes, ledgerIndex, recordedAt: now } };
      }),
    );
    await received.insertMany(records.map((r) => r.doc), { ordered: false }).catch((error: unknown) => {
      // A retried batch finds the documents its first attempt wrote: those duplicates are fine.
      const writeErrors = (error as { writeErrors?: { code: number }[] }).writeErrors;
      if (!writeErrors?.length || writeErrors.some((e) => e.code !== 11000)) throw error;
    });
    await Promise.all(records.map((r) => projectRecorded(r.record, receiver.domain)));
  }
}

/**
 * Runs `step` again (up to a minute) when the driver reports a transient fault: the embedded store
 * sometimes ends the driver's streaming heartbeat ("Server ended moreToCome unexpectedly") under
 * this load, and the driver clears its pool; a retried batch may leave extra ledger entries.
 */
async function retryTransient(step: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      const labels = (error as { errorLabelSet?: Set<string> }).errorLabelSet;
      const transient = /^Mongo(PoolCleared|Network|ServerSelection|NotPrimary)/.test((error as Error).name) || Boolean(labels?.has("RetryableWriteError") || labels?.has("PoolRequestedRetry"));
      if (!transient || Date.now() > deadline) throw error;
      process.stderr.write(`\n  transient store fault (${(error as Error).name}); retrying the batch\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function benchGateway(): Promise<void> {
  const total = Number(process.env.LIAISON_BENCH_NOTICES ?? 100_000);
  // A log line per request would bury the progress line and cost the figures: warnings only, unless asked.
  if (process.env.LIAISON_LOG_LEVEL === undefined) rootLogger.level = "warn";
  const cluster = await startCluster([VN, CN]);
  try {
    const vn = cluster.node(VN);
    const cnSite = await openSite(cluster, CN);
    try {
      await seedReceived(vn, cluster.node(CN), total);

      await makeOfficer(cnSite, "bench.analyst", ["analyst"]);
      // Access tokens live 10 minutes: each phase signs in again.
      const opts = { accessToken: "", correlationId: "bench-gateway-0001" };
      const fresh = async () => {
        opts.accessToken = (await signIn(cnSite, "bench.analyst")).accessToken;
      };
      await fresh();
      const grpc = new LocalApiConnection(`127.0.0.1:${cnSite.localApi.port}`);
      const https = httpsGetter(cnSite, () => opts.accessToken);
      const lines: string[] = [`${total} notices received at ${CN}; inbox page = 50 messages; search for a name carried by 1 notice in ${RARE_EVERY}`];
      // The machine is shared: its 1-minute load average around the measurements says how far to trust them.
      const load = () => loadavg()[0]!.toFixed(2);
      lines.push(`load average (1 min) before measuring: ${load()} on ${availableParallelism()} cores`);
      const row = (name: string, gw: RunResult, base: RunResult) => {
        lines.push(formatRun(`${name}: gateway (HTTPS/JSON)`, gw));
        lines.push(formatRun(`${name}: local gRPC`, base));
        lines.push(`ratio gateway/gRPC requests/s: ${(gw.perSecond / base.perSecond).toFixed(3)}`);
      };

      const listGrpc = () => grpc.call(LocalApi.method.listMessages, { direction: Direction.RECEIVED, pageSize: 50 }, opts);
      const listHttp = () => https.get("/api/messages?direction=received&pageSize=50");
      await measure("warm-up", 200, 8, listHttp);
      await measure("warm-up", 200, 8, listGrpc);
      for (const concurrency of [1, 16]) {
        const n = concurrency === 1 ? 300 : 1000;
        await fresh();
        row(`inbox listing, c=${concurrency}`, await measure(`inbox https c=${concurrency}`, n, concurrency, listHttp), await measure(`inbox grpc c=${concurrency}`, n, concurrency, listGrpc));
      }

      const q = "Dang Thi Hanh";
      const searchGrpc = async () => {
        const found = await grpc.call(LocalApi.method.searchNotices, { text: q, limit: 50 }, opts);
        if (found.notices.length === 0) throw new Error("search found nothing");
      };
      const searchHttp = () => https.get(`/api/search?q=${encodeURIComponent(q)}`);
      await fresh();
      const first = (await https.get(`/api/search?q=${encodeURIComponent(q)}`)) as { notices: unknown[] };
      lines.push(`search over the notices' token index (LocalApi.SearchNotices) finds ${first.notices.length}`);
      for (const concurrency of [1, 16]) {
        const n = concurrency === 1 ? 300 : 1000;
        await fresh();
        row(`search, c=${concurrency}`, await measure(`search https c=${concurrency}`, n, concurrency, searchHttp), await measure(`search grpc c=${concurrency}`, n, concurrency, searchGrpc));
      }
      lines.push(`load average (1 min) after measuring: ${load()}`);
      https.close();
      grpc.close();
      for (const line of lines) process.stdout.write(line + "\n");
    } finally {
      await cnSite.close();
    }
  } finally {
    await cluster.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchGateway();
  process.exit(0);
}
