/**
 * Node configuration: a YAML file (`liaison node start --config node.yaml`) validated with zod,
 * with environment overrides for what differs between machines. Relative paths are resolved
 * against the config file's folder.
 *
 * Secrets are never in the file (it goes into git): they come from the environment, each as
 * `NAME` or as a file named by `NAME_FILE` (services/identity/custody.ts reads them when they are
 * needed) — {@link NODE_SECRET_VARIABLES}. A secret-looking key in the file is refused, naming
 * the variable to use instead.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { LiaisonError } from "../errors/index.ts";
import { JWT_SECRET_ENV, KEY_PASSPHRASE_ENV } from "../identity/index.ts";

/** The node's secrets, by variable (each also as `<NAME>_FILE`, a file holding it). */
export const NODE_SECRET_VARIABLES: Readonly<Record<string, string>> = Object.freeze({
  [KEY_PASSPHRASE_ENV]: "the passphrase of the identity folder's private keys",
  [JWT_SECRET_ENV]: "seals the officer-token key in the database (default: the key passphrase)",
  LIAISON_BACKUP_PASSPHRASE: "encrypts backups (liaison backup; or --passphrase-file)",
});

const hostPort = z.object({
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535),
});

export const NodeConfigSchema = z
  .object({
    /** This node's party id, e.g. VN-MPS; must match the identity folder. */
    party: z.string().regex(/^[A-Z]{2}-[A-Z0-9]{2,16}$/),
    /** Folder written by `liaison pki init` (keys, certificates, partners). */
    identityDir: z.string(),
    /** Node data: the embedded store lives in `<dataDir>/store` when no MongoDB URI is given. */
    dataDir: z.string(),
    /** Production: a MongoDB replica set. Overridden by LIAISON_MONGODB_URI. */
    mongodbUri: z.string().optional(),
    database: z.string().default("liaison"),
    /** The peer API (partners, mutual TLS). */
    peer: hostPort,
    /** The local API (officers' tools, the gateway); loopback only unless you know why. */
    local: hostPort.optional(),
    /** The officers' console and REST gateway (HTTPS with the node's certificate); needs `local`. */
    gateway: hostPort.optional(),
    /** Prometheus /metrics, /healthz and /readyz (loopback unless scraped from elsewhere). */
    metrics: hostPort.optional(),
    /** Address partners use to reach the peer API (put in the partner bundle). */
    advertisedEndpoint: z.string().optional(),
    /** How often the ledger is checkpointed and partners asked to cosign (0 = only on demand). */
    checkpointIntervalSeconds: z.number().nonnegative().default(10),
    /** Lease of the ledger sequencer: a standby process of the same party takes over after it expires. */
    ledgerLeaseSeconds: z.number().min(1).default(15),
    limits: z
      .object({
        maxEnvelopeBytes: z.number().int().positive().default(4 * 1024 * 1024 - 1024),
        clockSkewSeconds: z.number().int().nonnegative().default(300),
        maxMessageAgeSeconds: z.number().int().positive().default(7 * 24 * 3600),
        /** Peer API calls per second per partner, sustained and in a burst (RESOURCE_EXHAUSTED beyond). */
        peerRequestsPerSecond: z.number().positive().default(500),
        peerRequestBurst: z.number().int().positive().default(1000),
        /** Longest a peer call may take before the node gives up on it. */
        peerCallTimeoutSeconds: z.number().positive().default(30),
      })
      .strict()
      .default({
        maxEnvelopeBytes: 4 * 1024 * 1024 - 1024,
        clockSkewSeconds: 300,
        maxMessageAgeSeconds: 7 * 24 * 3600,
        peerRequestsPerSecond: 500,
        peerRequestBurst: 1000,
        peerCallTimeoutSeconds: 30,
      }),
  })
  .strict();

export type NodeConfig = z.infer<typeof NodeConfigSchema>;

/**
 * Every setting can also come from the environment: `LIAISON_` + the setting's path in
 * UPPER_SNAKE_CASE, e.g. `LIAISON_PEER_PORT`, `LIAISON_LIMITS_MAX_ENVELOPE_BYTES`,
 * `LIAISON_MONGODB_URI`. The environment wins over the file. Numbers are parsed as numbers.
 */
export const ENV_SETTINGS: readonly { path: string[]; type: "string" | "number" }[] = [
  { path: ["party"], type: "string" },
  { path: ["identityDir"], type: "string" },
  { path: ["dataDir"], type: "string" },
  { path: ["mongodbUri"], type: "string" },
  { path: ["database"], type: "string" },
  { path: ["peer", "host"], type: "string" },
  { path: ["peer", "port"], type: "number" },
  { path: ["local", "host"], type: "string" },
  { path: ["local", "port"], type: "number" },
  { path: ["gateway", "host"], type: "string" },
  { path: ["gateway", "port"], type: "number" },
  { path: ["metrics", "host"], type: "string" },
  { path: ["metrics", "port"], type: "number" },
  { path: ["advertisedEndpoint"], type: "string" },
  { path: ["checkpointIntervalSeconds"], type: "number" },
  { path: ["ledgerLeaseSeconds"], type: "number" },
  { path: ["limits", "maxEnvelopeBytes"], type: "number" },
  { path: ["limits", "clockSkewSeconds"], type: "number" },
  { path: ["limits", "maxMessageAgeSeconds"], type: "number" },
  { path: ["limits", "peerRequestsPerSecond"], type: "number" },
  { path: ["limits", "peerRequestBurst"], type: "number" },
  { path: ["limits", "peerCallTimeoutSeconds"], type: "number" },
];

export function envName(path: readonly string[]): string {
  return "LIAISON_" + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_");
}

function applyEnvironment(input: unknown, env: NodeJS.ProcessEnv): unknown {
  const out: Record<string, unknown> = input && typeof input === "object" && !Array.isArray(input) ? structuredClone(input as Record<string, unknown>) : {};
  for (const setting of ENV_SETTINGS) {
    const name = envName(setting.path);
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    let value: unknown = raw;
    if (setting.type === "number") {
      value = Number(raw);
      if (!Number.isFinite(value as number)) {
        throw new LiaisonError("CONFIG_INVALID", `invalid node configuration: environment ${name}: expected a number, got "${raw}"`);
      }
    }
    let target = out;
    for (const key of setting.path.slice(0, -1)) {
      if (!target[key] || typeof target[key] !== "object") target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[setting.path[setting.path.length - 1]!] = value;
  }
  return out;
}

/**
 * Validate a config object (from YAML or built by the demo/tests) after applying environment
 * overrides. Paths are taken as given. Errors name the source, the key and what is wrong.
 */
export function parseNodeConfig(input: unknown, env: NodeJS.ProcessEnv = process.env, source = "configuration"): NodeConfig {
  refuseSecrets(input, source);
  const parsed = NodeConfigSchema.safeParse(applyEnvironment(input, env));
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => {
        const key = i.path.join(".");
        const where = key ? `${key}${ENV_SETTINGS.some((s) => s.path.join(".") === key) ? ` (or ${envName(i.path.map(String))})` : ""}` : "(root)";
        return `${where}: ${i.message}`;
      })
      .join("; ");
    throw new LiaisonError("CONFIG_INVALID", `invalid node configuration in ${source}: ${issues}`);
  }
  if (parsed.data.gateway && !parsed.data.local) {
    throw new LiaisonError("CONFIG_INVALID", `invalid node configuration in ${source}: gateway: needs local (the gateway talks to the node through its local API)`);
  }
  return parsed.data;
}

/** A key that looks like a secret (passphrase, secret, password, private key) is refused, naming where secrets go. */
function refuseSecrets(input: unknown, source: string): void {
  if (!input || typeof input !== "object" || Array.isArray(input)) return;
  const secret = Object.keys(input).find((key) => /passphrase|secret|password|private_?key/i.test(key));
  if (secret === undefined) return;
  const variables = Object.keys(NODE_SECRET_VARIABLES).map((name) => `${name}_FILE (or ${name})`).join(", ");
  throw new LiaisonError("CONFIG_INVALID", `invalid node configuration in ${source}: ${secret}: secrets are never read from the configuration file; give them in the environment: ${variables}`);
}

export function loadNodeConfig(file: string, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new LiaisonError("CONFIG_INVALID", `cannot read configuration file ${file}: ${(cause as NodeJS.ErrnoException).code ?? "unreadable"}`, { cause });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (cause) {
    throw new LiaisonError("CONFIG_INVALID", `${file} is not valid YAML: ${(cause as Error).message.split("\n")[0]}`, { cause });
  }
  const config = parseNodeConfig(raw ?? {}, env, file);
  const base = dirname(resolve(file));
  config.identityDir = resolve(base, config.identityDir);
  config.dataDir = resolve(base, config.dataDir);
  return config;
}
