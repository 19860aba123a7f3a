/**
 * Two (or more) real nodes for the operations tests, like test/support/cluster.ts, except that
 * each node's MongoDB client is built with `monitorCommands=true` in its URI (so the store
 * latency histogram sees its commands): the test starts each party's embedded store itself and
 * gives the node its URI, exactly as a production node is given `LIAISON_MONGODB_URI`. With
 * LIAISON_MONGODB_URI set, that MongoDB is used instead (one database per party and run).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode, type LiaisonNode, type NodeConfig } from "../../services/node/index.ts";
import { startEmbeddedStore, type EmbeddedStore } from "../../services/store/index.ts";
import { makeParty, nodeConfig, onboard, type PartyFolder } from "../support/cluster.ts";

export interface OpsCluster {
  root: string;
  folders: Map<string, PartyFolder>;
  nodes: Map<string, LiaisonNode>;
  stores: Map<string, EmbeddedStore>;
  /** Each party's MongoDB URI and database, as given to its node. */
  databases: Map<string, { uri: string; database: string }>;
  node(party: string): LiaisonNode;
  /** Stop the nodes and the stores, remove the folder. */
  close(): Promise<void>;
}

/** `uri` with `monitorCommands=true` added. */
export function withCommandMonitoring(uri: string): string {
  const url = new URL(uri);
  url.searchParams.set("monitorCommands", "true");
  return url.toString();
}

const runSuffix = Math.random().toString(36).slice(2, 8);

/** A party's store: its own embedded store in `<dataDir>/store`, or the external MongoDB. */
export async function storeFor(folder: PartyFolder): Promise<{ uri: string; database: string; store?: EmbeddedStore }> {
  const external = process.env.LIAISON_MONGODB_URI;
  if (external) return { uri: withCommandMonitoring(external), database: `liaison_ops_${runSuffix}_${folder.party.replace("-", "_")}` };
  const dbpath = join(folder.dataDir, "store");
  mkdirSync(dbpath, { recursive: true, mode: 0o700 });
  const store = await startEmbeddedStore({ dbpath, port: 0 });
  return { uri: withCommandMonitoring(store.uri), database: "liaison", store };
}

export async function startOpsCluster(parties: string[], overrides: Partial<NodeConfig> = {}): Promise<OpsCluster> {
  const root = mkdtempSync(join(tmpdir(), "liaison-ops-"));
  const folders = new Map<string, PartyFolder>();
  const nodes = new Map<string, LiaisonNode>();
  const stores = new Map<string, EmbeddedStore>();
  const databases = new Map<string, { uri: string; database: string }>();
  for (const party of parties) folders.set(party, await makeParty(root, party));
  for (const party of parties) {
    const folder = folders.get(party)!;
    const { uri, database, store } = await storeFor(folder);
    if (store) stores.set(party, store);
    databases.set(party, { uri, database });
    nodes.set(party, await startNode(nodeConfig(folder, { mongodbUri: uri, database, ...overrides })));
  }
  for (const a of parties) {
    for (const b of parties) if (a !== b) await onboard(folders.get(a)!, folders.get(b)!, nodes.get(b)!.peerAddress);
  }
  for (const node of nodes.values()) await node.partners.refresh(true);
  return {
    root,
    folders,
    nodes,
    stores,
    databases,
    node(party: string) {
      const n = nodes.get(party);
      if (!n) throw new Error(`no node for ${party}`);
      return n;
    },
    async close() {
      for (const node of nodes.values()) await node.close().catch(() => undefined);
      for (const store of stores.values()) await store.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The value of one sample in a Prometheus text exposition, or undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = new Map<string, string>();
    for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([k, v]) => got.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}
