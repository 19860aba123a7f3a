/**
 * The gateway next to the local gRPC call it wraps: requests/s and p50/p99 for the inbox listing
 * (GET /api/messages → LocalApi.ListMessages, 50 per page) and for search (GET /api/search → the
 * gateway's interim scan of ListMessages pages, against the same scan made over gRPC directly),
 * with N notices received by the partner node (LIAISON_BENCH_NOTICES, default 10,000; the issue's
 * figure is 100,000). Everything on 127.0.0.1: real nodes, real mTLS delivery, HTTPS to the gateway.
 */
import { Agent, request } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { Direction, LocalApi } from "../gen/liaison/v1/local_pb.ts";
import { wantedPersonNotice } from "../services/cli/samples.ts";
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

export async function benchGateway(): Promise<void> {
  const total = Number(process.env.LIAISON_BENCH_NOTICES ?? 10_000);
  const cluster = await startCluster([VN, CN]);
  try {
    const vn = cluster.node(VN);
    const cnSite = await openSite(cluster, CN);
    try {
      process.stderr.write(`  storing ${total} notices at ${CN} (signed, delivered over mTLS, receipted)\n`);
      await measure("seed", total, 32, async (i) => {
        const outcome = await vn.send(notice(i));
        if (outcome.failures.size > 0) throw [...outcome.failures.values()][0];
      });
      const received = cluster.node(CN).db.collection("envelopes_received");
      while ((await received.countDocuments({ state: "recorded" })) < total) await sleep(200);

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
