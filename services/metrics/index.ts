/**
 * Observability of a node: Prometheus metrics in a registry per node, the store command
 * monitor, readiness, and the metrics/health HTTP port.
 */

// ---- End-user surface ---------------------------------------------------------------------
export {
  createNodeMetrics,
  type CreateNodeMetricsOptions,
  type DeliveryOutcome,
  type MetricsSources,
  type NodeMetrics,
  type OutboxQueueSample,
  STORE_LATENCY_BUCKETS,
} from "./metrics.ts";
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from "./server.ts";
export { nodeReadiness, sequencerLeaseHeld, type NodeReadinessOptions, type Readiness, type ReadinessCheck } from "./readiness.ts";

// ---- For the node's wiring -----------------------------------------------------------------
export { countDelivery, countedHandlers, countPeerRefusal, countReceived, countRejection, deliveryOutcomeOf, grpcStatusName } from "./metrics.ts";
export { monitorStoreCommands } from "./store-monitor.ts";
export { ledgerMetricsSources } from "./sources.ts";
