/**
 * Signed notice delivery with receipt between two local nodes (seal: sign + ledger append;
 * deliver over mTLS; receiver: verify, ledger append, signed receipt; sender: verify receipt and
 * record it), next to a plain gRPC unary echo of the same payload size over the same mTLS.
 */
import * as grpc from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import { MessageSchema } from "../gen/liaison/v1/message_pb.ts";
import { peerServerCredentials, partnerChannelCredentials } from "../services/transport/index.ts";
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
    for (const [total, concurrency] of [[500, 1], [3000, 32]] as const) {
      const delivery = await measure(`delivery c=${concurrency}`, total, concurrency, deliver);
      const echo = await echoBaseline(cn.identity.tlsCertPem, cn.identity.tlsKeyPem, vn.identity.tlsCertPem, vn.identity.tlsKeyPem, cn.identity.caCertPem, payload, total * 4, concurrency);
      lines.push(formatRun(`signed delivery + receipt, concurrency ${concurrency}`, delivery));
      lines.push(formatRun(`plain gRPC echo over mTLS, concurrency ${concurrency}`, echo));
      lines.push(`ratio delivery/echo at concurrency ${concurrency}: ${(delivery.perSecond / echo.perSecond).toFixed(3)}`);
    }
    for (const line of lines) process.stdout.write(line + "\n");
  } finally {
    await cluster.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchDelivery();
  process.exit(0);
}
