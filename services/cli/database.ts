/**
 * The node's database, for the operator's commands (ledger, backup, officers, minutes, views):
 * `--uri`, else the configured MongoDB (or LIAISON_MONGODB_URI), else the running node's embedded
 * store at the address it publishes in `<dataDir>/store.uri`, else — the node is stopped — its
 * embedded store opened here, in a worker thread so that its heap stays apart.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { MongoClient, type Db } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { loadNodeConfig, type NodeConfig } from "../node/config.ts";
import { nodeStoreKey } from "../node/domain.ts";

export interface NodeDatabase {
  readonly config: NodeConfig;
  readonly client: MongoClient;
  readonly db: Db;
  /** Where the data was read from, for the operator (credentials elided). */
  readonly source: string;
  close(): Promise<void>;
}

export interface NodeDatabaseOptions {
  /** Path of the node's YAML configuration. */
  config: string;
  uri?: string;
}

/**
 * Runs `startEmbeddedStore` of services/store in a worker thread. Refuses with a clear message
 * when the folder is locked by a running node.
 */
async function startStoreInWorker(dbpath: string, encryptionKey: Uint8Array | undefined): Promise<{ uri: string; close(): Promise<void> }> {
  const storeModule = new URL("../store/index.ts", import.meta.url).href;
  // Under tsx (no build step) the worker must register the TypeScript loader itself.
  const tsx = storeModule.endsWith(".ts") ? import.meta.resolve("tsx/esm/api") : undefined;
  const boot = `
    const { parentPort, workerData } = require("node:worker_threads");
    (async () => {
      if (workerData.tsx) (await import(workerData.tsx)).register();
      const { startEmbeddedStore } = await import(workerData.store);
      let store;
      try {
        store = await startEmbeddedStore({ dbpath: workerData.dbpath, port: 0, ...(workerData.key ? { encryptionKey: workerData.key } : {}) });
      } catch (e) {
        parentPort.postMessage({ error: String((e && e.message) || e) });
        return;
      }
      parentPort.postMessage({ uri: store.uri });
      parentPort.once("message", async () => {
        await store.close();
        parentPort.postMessage({ closed: true });
      });
    })().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));`;
  const worker = new Worker(boot, { eval: true, workerData: { dbpath, store: storeModule, tsx, key: encryptionKey } });
  const first = await new Promise<{ uri?: string; error?: string }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  if (first.error !== undefined) {
    await worker.terminate();
    if (/locked by running process/.test(first.error)) {
      const pid = /process (\d+)/.exec(first.error)?.[1];
      throw new LiaisonError(
        "UNAVAILABLE",
        `the node's embedded store (${dbpath}) is in use by a running node${pid ? ` (pid ${pid})` : ""}: stop the node first, or pass --uri mongodb://127.0.0.1:PORT/ with the address of its store`,
      );
    }
    throw new LiaisonError("UNAVAILABLE", `cannot open the embedded store ${dbpath}: ${first.error}`);
  }
  return {
    uri: first.uri!,
    async close() {
      const closed = new Promise((resolve) => worker.once("message", resolve));
      worker.postMessage("close");
      await closed;
      await worker.terminate();
    },
  };
}

export async function openNodeDatabase(opts: NodeDatabaseOptions): Promise<NodeDatabase> {
  const config = loadNodeConfig(opts.config);
  let uri = opts.uri ?? config.mongodbUri;
  const published = join(config.dataDir, "store.uri");
  if (!uri && existsSync(published)) uri = readFileSync(published, "utf8").trim();
  let store: { uri: string; close(): Promise<void> } | undefined;
  let source: string;
  if (uri) {
    source = uri.replace(/\/\/[^@/]*@/, "//…@"); // never print credentials
  } else {
    const dbpath = join(config.dataDir, "store");
    if (!existsSync(dbpath)) throw new LiaisonError("NOT_FOUND", `no embedded store at ${dbpath} (has the node ever run with this configuration?); pass --uri for a MongoDB database`);
    // The node seals its store at rest with a key derived from its data key (services/node/domain.ts).
    store = await startStoreInWorker(dbpath, nodeStoreKey(config.identityDir, false));
    uri = store.uri;
    source = `embedded store ${dbpath}`;
  }
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
  } catch (cause) {
    await store?.close();
    throw new LiaisonError("UNAVAILABLE", `cannot reach the database at ${source}`, { cause });
  }
  return {
    config,
    client,
    db: client.db(config.database),
    source,
    async close() {
      await client.close();
      await store?.close();
    },
  };
}


/** Open, run, close. */
export async function withNodeDatabase<T>(opts: NodeDatabaseOptions, run: (opened: NodeDatabase) => Promise<T>): Promise<T> {
  const opened = await openNodeDatabase(opts);
  try {
    return await run(opened);
  } finally {
    await opened.close();
  }
}
