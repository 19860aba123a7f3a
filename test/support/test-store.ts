/**
 * The database a test runs against: LIAISON_MONGODB_URI when set (a real MongoDB), else an embedded
 * store of its own in a temporary folder, removed again by `close`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedStore } from "../../services/store/index.ts";

export interface TestStore {
  uri: string;
  close(): Promise<void>;
}

export async function openTestStore(prefix: string): Promise<TestStore> {
  const external = process.env.LIAISON_MONGODB_URI;
  if (external) return { uri: external, close: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = await startEmbeddedStore({ dbpath: dir, port: 0 });
  return {
    uri: store.uri,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
