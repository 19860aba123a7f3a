/**
 * Signed notice delivery with receipt between two local nodes (seal: sign + ledger append;
 * deliver over mTLS; receiver: verify, ledger append, signed receipt; sender: verify receipt and
 * record it), next to a plain gRPC unary echo of the same payload size over the same mTLS.
 *
 * It also measures what bounds the ratio: the four JWS operations a delivery needs (sign the
 * message, verify it, sign the receipt, verify it) alone, and the acknowledged store commands a
 * delivery issues (counted with the driver's command monitoring) at the store's raw insert rate,
 * each turned into the most deliveries/s it would allow if it were the only cost.
 */
import * as grpc from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import { MessageSchema } from "../gen/liaison/v1/message_pb.ts";
import type { MongoClient } from "mongodb";
import { peerServerCredentials, partnerChannelCredentials } from "../services/transport/index.ts";
import { JWS_TYP_MESSAGE, JWS_TYP_RECEIPT, signDetached, verifyDetached } from "../services/identity/index.ts";
import type { LiaisonNode } from "../services/node/index.ts";
import { wantedPersonNotice } from "../services/cli/samples.ts";
import { startCluster } from "../test/support/cluster.ts";
import { formatRun, measure, type RunResult } from "./stats.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";

async function echoBaseline(certPem: string, keyPem: string, clientCert: string, clientKey: string, caPem: string, payload: Buffer, total: number, concurrency: number): Promise<RunResult> {
  const server = new grpc.Server();
  server.addService(
    { echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } },
    { echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) },
  );
  const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", peerServerCredentials(certPem, keyPem), (e, p) => (e ? rej(e) : res(p))));
  const client = new grpc.Client(`127.0.0.1:${port}`, partnerChannelCredentials({ partnerParty: CN, partnerCaPem: caPem, ownCertificatePem: clientCert, ownPrivateKeyPem: clientKey }));
  const call = () =>
    new Promise<void>((res, rej) =>
      client.makeUnaryRequest("/bench.Echo/Echo", (b: Buffer) => b, (b: Buffer) => b, payload, (e) => (e ? rej(e) : res())),
    );
  await measure("echo warm-up", 200, 8, call);
  const result = await measure(`echo c=${concurrency}`, total, concurrency, call);
  client.close();
  server.forceShutdown();
  return result;
}

/** The four JWS operations of one delivery, alone: the signature floor. */
async function signatureFloor(node: LiaisonNode, payload: Uint8Array, total: number, concurrency: number): Promise<RunResult> {
  const key = node.identity.activeSigningKey;
  const verifyOptions = (typ: string) => ({ typ, algorithms: ["EdDSA"], resolveKey: () => key.publicKey });
  return measure(`4 JWS operations c=${concurrency}`, total, concurrency, async () => {
    for (const typ of [JWS_TYP_MESSAGE, JWS_TYP_RECEIPT]) {
      const jws = await signDetached(payload, key.privateKey, { kid: key.kid, typ });
      await verifyDetached(jws, payload, verifyOptions(typ));
    }
  });
}

/** Counts the commands both nodes send to their stores while `run` runs. */
async function countStoreCommands(clients: MongoClient[], run: () => Promise<unknown>): Promise<{ commands: number; transactions: number }> {
  let commands = 0;
  let transactions = 0;
  const onCommand = (event: { commandName: string }) => {
    commands++;
    if (event.commandName === "commitTransaction") transactions++;
  };
  for (const client of clients) client.on("commandStarted", onCommand);
  try {
    await run();
  } finally {
    for (const client of clients) client.off("commandStarted", onCommand);
  }
  return { commands, transactions };
}

export async function benchDelivery(): Promise<void> {
  const cluster = await startCluster([VN, CN]);
  try {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    const sample = wantedPersonNotice({ sender: VN, recipients: [CN] });
    const payloadSize = toBinary(MessageSchema, sample).byteLength + 200; // + JWS
    const payload = Buffer.alloc(payloadSize, 7);
    const deliver = async () => {
      const outcome = await vn.send(wantedPersonNotice({ sender: VN, recipients: [CN] }));
      if (outcome.failures.size > 0) throw [...outcome.failures.values()][0];
    };
    await measure("delivery warm-up", 100, 8, deliver);
    const lines: string[] = [`payload ≈ ${payloadSize} bytes (signed wanted-person notice)`];
    let echoAt32: number | undefined;
    for (const [total, concurrency] of [[500, 1], [3000, 32]] as const) {
      const delivery = await measure(`delivery c=${concurrency}`, total, concurrency, deliver);
      const echo = await echoBaseline(cn.identity.tlsCertPem, cn.identity.tlsKeyPem, vn.identity.tlsCertPem, vn.identity.tlsKeyPem, cn.identity.caCertPem, payload, total * 4, concurrency);
      lines.push(formatRun(`signed delivery + receipt, concurrency ${concurrency}`, delivery));
      lines.push(formatRun(`plain gRPC echo over mTLS, concurrency ${concurrency}`, echo));
      lines.push(`ratio delivery/echo at concurrency ${concurrency}: ${(delivery.perSecond / echo.perSecond).toFixed(3)}`);
      if (concurrency === 32) echoAt32 = echo.perSecond;
    }

    // What bounds the ratio, at concurrency 32.
    const counted = 200;
    const { commands, transactions } = await countStoreCommands([vn.mongo, cn.mongo], () => measure("delivery (counting store commands)", counted, 32, deliver));
    const storeProbe = vn.db.collection<{ _id: number; envelope: Buffer }>("bench_store_probe");
    const storeAlone = await measure("store acknowledged inserts c=32", 4000, 32, (i) => storeProbe.insertOne({ _id: i, envelope: payload }));
    await storeProbe.drop();
    const signatures = await signatureFloor(vn, payload, 2000, 32);
    const perDelivery = commands / counted;
    const storeBound = storeAlone.perSecond / perDelivery;
    const signatureBound = signatures.perSecond;
    const bothBound = 1 / (1 / storeBound + 1 / signatureBound);
    const echo32 = echoAt32!;
    lines.push(`store commands per delivery (both nodes): ${perDelivery.toFixed(1)}, of them ledger transactions committed: ${(transactions / counted).toFixed(2)}`);
    lines.push(formatRun("store alone, acknowledged inserts, c=32", storeAlone));
    lines.push(formatRun("4 JWS operations of a delivery, alone, c=32", signatures));
    lines.push(`bound from store commands alone: ${storeBound.toFixed(0)} deliveries/s (ratio ≤ ${(storeBound / echo32).toFixed(3)})`);
    lines.push(`bound from signatures alone:     ${signatureBound.toFixed(0)} deliveries/s (ratio ≤ ${(signatureBound / echo32).toFixed(3)})`);
    lines.push(`bound from both, same process:   ${bothBound.toFixed(0)} deliveries/s (ratio ≤ ${(bothBound / echo32).toFixed(3)})`);
    for (const line of lines) process.stdout.write(line + "\n");
  } finally {
    await cluster.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchDelivery();
  process.exit(0);
}
