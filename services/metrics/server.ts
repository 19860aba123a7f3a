/**
 * The metrics and health port: `GET /metrics` (Prometheus text format), `GET /healthz` (the
 * process is alive: 200), `GET /readyz` (200 when the readiness check passes, else 503 with a
 * JSON reason). Loopback by default: expose it to the monitoring network only, never to partners.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "../logging/index.ts";
import type { NodeMetrics } from "./metrics.ts";
import type { ReadinessCheck } from "./readiness.ts";

export interface MetricsServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 = an ephemeral port. */
  port: number;
  metrics: NodeMetrics;
  /** Default: always ready. */
  ready?: ReadinessCheck;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:9464 */
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? "127.0.0.1";
  const log = createLogger("metrics");
  const { metrics } = options;
  const ready = options.ready ?? (async () => ({ ready: true as const }));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    switch (path) {
      case "/metrics":
        return send(res, 200, metrics.registry.contentType, await metrics.text());
      case "/healthz":
        return send(res, 200, "application/json", JSON.stringify({ alive: true }) + "\n");
      case "/readyz": {
        const r = await ready();
        return send(res, r.ready ? 200 : 503, "application/json", JSON.stringify(r) + "\n");
      }
      default:
        return send(res, 404, "text/plain; charset=utf-8", "not found: /metrics, /healthz, /readyz\n");
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error("metrics request failed", { path: req.url, cause: error });
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  log.info("metrics listening", { address: `${host}:${port}` });
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${urlHost}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
