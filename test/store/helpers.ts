import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { startEmbeddedStore, type EmbeddedStore } from "../../services/store/index.ts";

export function tempDir(prefix = "liaison-store-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface Running {
  store: EmbeddedStore;
  client: MongoClient;
  dbpath: string;
  stop(removeDir?: boolean): Promise<void>;
}

export async function run(dbpath = tempDir(), uriOverride?: (s: EmbeddedStore) => string): Promise<Running> {
  const store = await startEmbeddedStore({ dbpath, port: 0 });
  const client = new MongoClient(uriOverride ? uriOverride(store) : store.uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  return {
    store,
    client,
    dbpath,
    async stop(removeDir = true) {
      await client.close();
      await store.close();
      if (removeDir) rmSync(dbpath, { recursive: true, force: true });
    },
  };
}
