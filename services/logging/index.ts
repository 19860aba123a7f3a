/**
 * Structured logs through winston. JSON in production (`LIAISON_LOG_FORMAT=json` or
 * NODE_ENV=production), readable lines in the demo and tests. Every logger is a child carrying a
 * `component`. One redaction step drops secrets and informant/victim fields; payload bodies are
 * never logged by callers — ids and hashes are.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import winston from "winston";

const REDACTED_KEYS = new Set([
  "password",
  "passphrase",
  "privatekey",
  "private_key",
  "key",
  "secret",
  "token",
  "accesstoken",
  "refreshtoken",
  "authorization",
  "informant",
  "informants",
  "victim",
  "victims",
  "payload",
  "body",
  "jwk",
  "d",
]);

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = REDACTED_KEYS.has(k.toLowerCase()) ? "[redacted]" : redactValue(v, depth + 1);
  }
  return out;
}

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === "level" || key === "message") continue;
    if (REDACTED_KEYS.has(key.toLowerCase())) info[key] = "[redacted]";
    else info[key] = redactValue(info[key], 0);
  }
  return info;
});

function isJson(): boolean {
  const fmt = process.env.LIAISON_LOG_FORMAT;
  if (fmt === "json") return true;
  if (fmt === "text") return false;
  return process.env.NODE_ENV === "production";
}

const readable = winston.format.printf((info) => {
  const { level, message, timestamp, component, ...rest } = info as Record<string, unknown>;
  const extra = Object.keys(rest).length ? " " + JSON.stringify(rest) : "";
  return `${String(timestamp)} ${String(level)} [${String(component ?? "liaison")}] ${String(message)}${extra}`;
});

export const rootLogger = winston.createLogger({
  level: process.env.LIAISON_LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "warn" : "info"),
  format: winston.format.combine(
    redact(),
    winston.format.timestamp(),
    isJson() ? winston.format.json() : readable,
  ),
  // stderr, so that CLI output on stdout stays machine-readable.
  transports: [new winston.transports.Console({ stderrLevels: ["error", "warn", "info", "http", "verbose", "debug", "silly"] })],
});

export type Logger = winston.Logger;

// ---------- correlation ids ----------

/**
 * The gRPC metadata key (and HTTP header) that carries a correlation id from the gateway to the
 * local API, and from a node's outbox to the partner's peer API.
 */
export const CORRELATION_ID_HEADER = "x-correlation-id";
/** What a correlation id may look like; anything else a caller sends is ignored. */
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const correlation = new AsyncLocalStorage<string>();

/** Run `fn` with `id` as the current correlation id (if it is well-formed); every log line inside carries it. */
export function withCorrelationId<T>(id: string | undefined, fn: () => T): T {
  return typeof id === "string" && CORRELATION_ID_PATTERN.test(id) ? correlation.run(id, fn) : fn();
}

/** The correlation id of the work being done, if any. */
export function currentCorrelationId(): string | undefined {
  return correlation.getStore();
}

// Every logger (children write through the root) stamps the current correlation id, so no call
// site has to pass it. Added at write time, not in a format: formats may run after a stream's
// buffering, outside the caller's async context.
const writeThroughRoot = rootLogger.write.bind(rootLogger);
rootLogger.write = ((info: unknown, ...rest: unknown[]) => {
  const id = correlation.getStore();
  if (id && info !== null && typeof info === "object" && (info as { correlationId?: unknown }).correlationId === undefined) {
    (info as { correlationId?: string }).correlationId = id;
  }
  return (writeThroughRoot as (...args: unknown[]) => boolean)(info, ...rest);
}) as typeof rootLogger.write;

/** A child logger for one component (ledger, transport, outbox, gateway, store, …). */
export function createLogger(component: string, meta: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...meta });
}
