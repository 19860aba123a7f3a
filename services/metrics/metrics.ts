/**
 * A node's Prometheus instruments, in a registry of its own (never prom-client's global one:
 * several nodes run in one test process, and the demo runs three).
 *
 * Counters are moved at their source by the node (`countDelivery`, `countRejection`,
 * `countedHandlers`, the store command monitor); gauges that describe state held in MongoDB
 * (outbox depth and age, ledger size, checkpoint age, last cosigned size) are collected on
 * scrape from the functions given to `setSources`, so a scrape always shows what the database
 * says, whichever process of the party is scraped.
 *
 * Metric names follow the Prometheus conventions: `liaison_` prefix, base units (seconds),
 * `_total` for counters. Every label value comes from a bounded set (party ids of onboarded
 * partners, error codes of the one error table, gRPC status names, MongoDB command names).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { GrpcStatus, toLiaisonError, type LiaisonError } from "../errors/index.ts";

/** What became of one delivery attempt to a partner (sender side). */
export type DeliveryOutcome = "receipted" | "rejected" | "failed";

export interface OutboxQueueSample {
  partner: string;
  depth: number;
  oldestPendingAt?: Date;
}

/** Where the scrape-time gauges read from. Each is optional; a missing one leaves its gauge empty. */
export interface MetricsSources {
  /** Per partner: pending entries and the oldest pending one (e.g. `node.outbox.status(partners)`). */
  outboxStatus?: () => Promise<readonly OutboxQueueSample[]>;
  /** Entries in the ledger (e.g. the stored tree head size). */
  ledgerSize?: () => number | Promise<number>;
  /** When the latest checkpoint was signed; undefined before the first. */
  lastCheckpointAt?: () => Promise<Date | undefined>;
  /** Per partner: the largest tree size it cosigned for us (0 when none). */
  cosignedSizes?: () => Promise<readonly { partner: string; size: number }[]>;
}

export interface CreateNodeMetricsOptions {
  /** Added as a `party` label to every series. */
  party?: string;
  /** Process metrics (CPU, memory, event loop lag, GC) with the `liaison_process_` prefix. Default true. */
  processMetrics?: boolean;
  /** The clock, for ages (ms since the epoch). */
  now?: () => number;
}

export interface NodeMetrics {
  readonly registry: Registry;
  /** liaison_deliveries_total{partner, outcome}: delivery attempts of our envelopes to partners. */
  readonly deliveries: Counter<"partner" | "outcome">;
  /** liaison_rejections_total{partner, reason}: envelopes we refused, by error code. */
  readonly rejections: Counter<"partner" | "reason">;
  /** liaison_envelopes_received_total{partner}: envelopes we accepted (replays included). */
  readonly received: Counter<"partner">;
  /** liaison_cosignatures_total{partner, outcome}: cosignatures of our checkpoints we asked for. */
  readonly cosignatures: Counter<"partner" | "outcome">;
  /** liaison_peer_requests_total{method, status}: calls on the peer API, by gRPC status name. */
  readonly peerRequests: Counter<"method" | "status">;
  /** liaison_store_command_duration_seconds{command, outcome}: MongoDB command latency. */
  readonly storeCommandSeconds: Histogram<"command" | "outcome">;
  /** liaison_outbox_depth{partner} (collected). */
  readonly outboxDepth: Gauge<"partner">;
  /** liaison_outbox_oldest_pending_age_seconds{partner} (collected; 0 when the queue is empty). */
  readonly outboxOldestPendingSeconds: Gauge<"partner">;
  /** liaison_ledger_entries (collected). */
  readonly ledgerSize: Gauge;
  /** liaison_checkpoint_age_seconds (collected; NaN before the first checkpoint). */
  readonly checkpointAgeSeconds: Gauge;
  /** liaison_cosigned_tree_size{partner} (collected): largest tree size each partner cosigned. */
  readonly cosignedSize: Gauge<"partner">;
  /** liaison_metrics_source_errors_total{source}: a source that threw during a scrape. */
  readonly sourceErrors: Counter<"source">;
  /** Bind (or replace) the scrape-time sources; the node calls it once it is wired. */
  setSources(sources: MetricsSources): void;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
}

/** Store latency buckets, seconds: 0.5 ms … 10 s. */
export const STORE_LATENCY_BUCKETS = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

export function createNodeMetrics(options: CreateNodeMetricsOptions = {}): NodeMetrics {
  const registry = new Registry();
  if (options.party !== undefined) registry.setDefaultLabels({ party: options.party });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "liaison_process_" });
  const now = options.now ?? Date.now;
  let sources: MetricsSources = {};
  const registers = [registry];

  const sourceErrors = new Counter({
    name: "liaison_metrics_source_errors_total",
    help: "Scrape-time sources that failed (the gauge keeps its previous value)",
    labelNames: ["source"] as const,
    registers,
  });
  /** Run one source; a failure is counted, never thrown into the scrape. */
  async function read<T>(name: string, f: (() => T | Promise<T>) | undefined): Promise<{ value: T } | undefined> {
    if (!f) return undefined;
    try {
      return { value: await f() };
    } catch {
      sourceErrors.inc({ source: name });
      return undefined;
    }
  }

  // Both outbox gauges read one status per scrape: prom-client collects them one after the other.
  let outboxRead: { at: number; result: Promise<{ value: readonly OutboxQueueSample[] } | undefined> } | undefined;
  const readOutbox = () => {
    const t = now();
    if (!outboxRead || t - outboxRead.at > 250) outboxRead = { at: t, result: read("outbox", sources.outboxStatus) };
    return outboxRead.result;
  };

  const deliveries = new Counter({
    name: "liaison_deliveries_total",
    help: "Delivery attempts of our envelopes to partners, by outcome (receipted, rejected by the partner, failed and to be retried)",
    labelNames: ["partner", "outcome"] as const,
    registers,
  });
  const rejections = new Counter({
    name: "liaison_rejections_total",
    help: "Envelopes received from partners and refused, by reason code",
    labelNames: ["partner", "reason"] as const,
    registers,
  });
  const received = new Counter({
    name: "liaison_envelopes_received_total",
    help: "Envelopes received from partners and accepted (a replay answered with its earlier receipt included)",
    labelNames: ["partner"] as const,
    registers,
  });
  const cosignatures = new Counter({
    name: "liaison_cosignatures_total",
    help: "Cosignatures of our checkpoints requested from partners, by outcome (ok, failed)",
    labelNames: ["partner", "outcome"] as const,
    registers,
  });
  const peerRequests = new Counter({
    name: "liaison_peer_requests_total",
    help: "Calls on the peer API, by method and gRPC status",
    labelNames: ["method", "status"] as const,
    registers,
  });
  const storeCommandSeconds = new Histogram({
    name: "liaison_store_command_duration_seconds",
    help: "MongoDB command latency seen by the driver, by command and outcome (ok, error)",
    labelNames: ["command", "outcome"] as const,
    buckets: [...STORE_LATENCY_BUCKETS],
    registers,
  });
  const outboxDepth = new Gauge({
    name: "liaison_outbox_depth",
    help: "Envelopes waiting in the outbox, per partner",
    labelNames: ["partner"] as const,
    registers,
    async collect() {
      const status = await readOutbox();
      if (!status) return;
      this.reset();
      for (const s of status.value) this.set({ partner: s.partner }, s.depth);
    },
  });
  const outboxOldestPendingSeconds = new Gauge({
    name: "liaison_outbox_oldest_pending_age_seconds",
    help: "Age of the oldest envelope waiting in the outbox, per partner (0 when none waits)",
    labelNames: ["partner"] as const,
    registers,
    async collect() {
      const status = await readOutbox();
      if (!status) return;
      this.reset();
      const t = now();
      for (const s of status.value) this.set({ partner: s.partner }, s.oldestPendingAt ? Math.max(0, (t - s.oldestPendingAt.getTime()) / 1000) : 0);
    },
  });
  const ledgerSize = new Gauge({
    name: "liaison_ledger_entries",
    help: "Entries in this party's ledger (the stored tree head size)",
    registers,
    async collect() {
      const size = await read("ledger", sources.ledgerSize);
      if (size) this.set(size.value);
    },
  });
  const checkpointAgeSeconds = new Gauge({
    name: "liaison_checkpoint_age_seconds",
    help: "Seconds since the latest signed checkpoint (NaN before the first)",
    registers,
    async collect() {
      const at = await read("checkpoint", sources.lastCheckpointAt);
      if (!at) return;
      this.set(at.value ? Math.max(0, (now() - at.value.getTime()) / 1000) : Number.NaN);
    },
  });
  const cosignedSize = new Gauge({
    name: "liaison_cosigned_tree_size",
    help: "Largest tree size of our ledger each partner has cosigned (compare with liaison_ledger_entries)",
    labelNames: ["partner"] as const,
    registers,
    async collect() {
      const sizes = await read("cosignatures", sources.cosignedSizes);
      if (!sizes) return;
      this.reset();
      for (const s of sizes.value) this.set({ partner: s.partner }, s.size);
    },
  });

  return {
    registry,
    deliveries,
    rejections,
    received,
    cosignatures,
    peerRequests,
    storeCommandSeconds,
    outboxDepth,
    outboxOldestPendingSeconds,
    ledgerSize,
    checkpointAgeSeconds,
    cosignedSize,
    sourceErrors,
    setSources(next: MetricsSources) {
      sources = { ...next };
      outboxRead = undefined;
    },
    text() {
      outboxRead = undefined;
      return registry.metrics();
    },
  };
}

/** The outcome label of a delivery error: `rejected` when the partner said no, else `failed`. */
export function deliveryOutcomeOf(error: unknown): DeliveryOutcome {
  const e = toLiaisonError(error);
  return e.hasLabel("PeerRejected") ? "rejected" : "failed";
}

/**
 * Run one delivery attempt to `partner` and count its outcome. Resolves or rejects exactly as
 * `attempt` does.
 */
export async function countDelivery<T>(metrics: NodeMetrics, partner: string, attempt: () => Promise<T>): Promise<T> {
  try {
    const result = await attempt();
    metrics.deliveries.inc({ partner, outcome: "receipted" });
    return result;
  } catch (error) {
    metrics.deliveries.inc({ partner, outcome: deliveryOutcomeOf(error) });
    throw error;
  }
}

/**
 * Run the receiving of one envelope from `partner` and count it: accepted, or refused with its
 * error code as the reason. Resolves or rejects exactly as `receive` does.
 */
export async function countReceived<T>(metrics: NodeMetrics, partner: string, receive: () => Promise<T>): Promise<T> {
  try {
    const result = await receive();
    metrics.received.inc({ partner });
    return result;
  } catch (error) {
    countRejection(metrics, partner, error);
    throw error;
  }
}

/** Count one refused envelope by its error code. */
export function countRejection(metrics: NodeMetrics, partner: string, error: unknown): void {
  metrics.rejections.inc({ partner, reason: toLiaisonError(error).code });
}

/** The gRPC status name (e.g. `UNAUTHENTICATED`) an error will be sent as. */
export function grpcStatusName(error: LiaisonError | undefined): string {
  return error === undefined ? "OK" : (GrpcStatus[error.grpcStatus] ?? "UNKNOWN");
}

/**
 * Wrap each handler of a service implementation so that every call is counted in
 * `liaison_peer_requests_total{method, status}`. The wrapped handlers behave exactly as the
 * originals. Calls refused before a handler runs (the TLS peer, a suspension, the rate limit)
 * are counted with `countPeerRefusal` where the context is resolved.
 */
export function countedHandlers<H extends object>(metrics: NodeMetrics, handlers: H): H {
  const out: Record<string, unknown> = {};
  for (const [method, handler] of Object.entries(handlers)) {
    if (typeof handler !== "function") {
      out[method] = handler;
      continue;
    }
    out[method] = async (...args: unknown[]) => {
      try {
        const result: unknown = await (handler as (...a: unknown[]) => unknown)(...args);
        metrics.peerRequests.inc({ method, status: "OK" });
        return result;
      } catch (error) {
        metrics.peerRequests.inc({ method, status: grpcStatusName(toLiaisonError(error)) });
        throw error;
      }
    };
  }
  return out as H;
}

/** Count a peer call refused before its handler ran (`method` as in `countedHandlers`). */
export function countPeerRefusal(metrics: NodeMetrics, method: string, error: unknown): void {
  metrics.peerRequests.inc({ method, status: grpcStatusName(toLiaisonError(error)) });
}
