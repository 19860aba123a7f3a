/**
 * Real nodes on 127.0.0.1 for integration tests: each party gets its own PKI (generated), its own
 * embedded store in a temp folder, and the others onboarded by partner bundle + fingerprint.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportPartnerBundle, importPartnerBundle, pkiInit, sha256Fingerprint } from "../../services/identity/index.ts";
import { parseNodeConfig, startNode, type LiaisonNode, type NodeConfig } from "../../services/node/index.ts";

export const DISPLAY_NAMES: Record<string, Record<string, string>> = {
  "VN-MPS": { en: "Ministry of Public Security of Viet Nam", vi: "Bộ Công an Việt Nam" },
  "CN-MPS": { en: "Ministry of Public Security of China", "zh-Hans": "中华人民共和国公安部" },
  "KH-MOI": { en: "Ministry of Interior of Cambodia", km: "ក្រសួងមហាផ្ទៃ", fr: "Ministère de l'Intérieur du Cambodge" },
};

export interface PartyFolder {
  party: string;
  root: string;
  identityDir: string;
  dataDir: string;
}

/** Identities in tests are made as if 90 days ago, so that keys were valid for "old" messages. */
export const IDENTITY_AGE_MS = 90 * 86400_000;

/** Make a party's identity folder (CA, TLS certificate, signing key). */
export async function makeParty(root: string, party: string, now = new Date(Date.now() - IDENTITY_AGE_MS)): Promise<PartyFolder> {
  const identityDir = join(root, party, "identity");
  const dataDir = join(root, party, "data");
  await pkiInit({ party, displayNames: DISPLAY_NAMES[party] ?? { en: party }, dir: identityDir, now });
  return { party, root, identityDir, dataDir };
}

/** Onboard `partner` at `at`: export its bundle, import it with the fingerprint. */
export async function onboard(at: PartyFolder, partner: PartyFolder, endpoint: string): Promise<void> {
  const bundle = await exportPartnerBundle(partner.identityDir, { endpoint });
  const fingerprint = sha256Fingerprint(bundle.ca_certificate);
  await importPartnerBundle(at.identityDir, bundle, fingerprint);
}

/**
 * With LIAISON_MONGODB_URI set, tests run against that MongoDB (one database per party and test
 * run) instead of the embedded store.
 */
const externalDatabaseSuffix = Math.random().toString(36).slice(2, 8);
function externalStore(party: string): Partial<NodeConfig> {
  const uri = process.env.LIAISON_MONGODB_URI;
  if (!uri) return {};
  return { mongodbUri: uri, database: `liaison_test_${externalDatabaseSuffix}_${party.replace("-", "_")}` };
}

export function nodeConfig(folder: PartyFolder, overrides: Partial<NodeConfig> = {}): NodeConfig {
  return {
    ...parseNodeConfig({
      party: folder.party,
      identityDir: folder.identityDir,
      dataDir: folder.dataDir,
      peer: { host: "127.0.0.1", port: 0 },
      // Tests ask for checkpoints explicitly (publishCheckpoint) so that rounds never overlap.
      checkpointIntervalSeconds: 0,
    }, {}),
    ...externalStore(folder.party),
    ...overrides,
  };
}

export interface Cluster {
  root: string;
  folders: Map<string, PartyFolder>;
  nodes: Map<string, LiaisonNode>;
  node(party: string): LiaisonNode;
  close(): Promise<void>;
}

/**
 * Start one node per party and onboard every pair. Nodes bind ephemeral ports first, so the
 * bundles carry the real endpoints; partners are picked up by the running nodes without restart.
 */
export async function startCluster(parties: string[]): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), "liaison-test-"));
  const folders = new Map<string, PartyFolder>();
  for (const party of parties) folders.set(party, await makeParty(root, party));
  const nodes = new Map<string, LiaisonNode>();
  for (const party of parties) nodes.set(party, await startNode(nodeConfig(folders.get(party)!)));
  for (const a of parties) {
    for (const b of parties) {
      if (a !== b) await onboard(folders.get(a)!, folders.get(b)!, nodes.get(b)!.peerAddress);
    }
  }
  for (const node of nodes.values()) await node.partners.refresh(true);
  return {
    root,
    folders,
    nodes,
    node(party: string) {
      const n = nodes.get(party);
      if (!n) throw new Error(`no node for ${party}`);
      return n;
    },
    async close() {
      for (const node of nodes.values()) await node.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export { wantedPersonNotice } from "../../services/cli/samples.ts";

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2));
}
