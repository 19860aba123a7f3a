/**
 * Node configuration: a YAML file (`liaison node start --config node.yaml`) validated with zod,
 * with environment overrides for what differs between machines. Relative paths are resolved
 * against the config file's folder.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { LiaisonError } from "../errors/index.ts";

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
    /** Address partners use to reach the peer API (put in the partner bundle). */
    advertisedEndpoint: z.string().optional(),
    /** How often the ledger is checkpointed and partners asked to cosign (0 = only on demand). */
    checkpointIntervalSeconds: z.number().nonnegative().default(10),
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

/** Validate a config object (from YAML or built by the demo/tests). Paths are taken as given. */
export function parseNodeConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const parsed = NodeConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new LiaisonError("CONFIG_INVALID", `invalid node configuration: ${issues}`);
  }
  const config = parsed.data;
  if (env.LIAISON_MONGODB_URI) config.mongodbUri = env.LIAISON_MONGODB_URI;
  return config;
}

export function loadNodeConfig(file: string, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new LiaisonError("CONFIG_INVALID", `cannot read configuration ${file}`, { cause });
  }
  const config = parseNodeConfig(raw, env);
  const base = dirname(resolve(file));
  config.identityDir = resolve(base, config.identityDir);
  config.dataDir = resolve(base, config.dataDir);
  return config;
}
