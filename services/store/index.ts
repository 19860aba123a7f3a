/**
 * The embedded store: a MongoDB-wire-compatible server on bson and mingo, journaled under `dbpath`.
 * Used when no `LIAISON_MONGODB_URI` is configured; the product talks to it through the official
 * driver only, exactly as to a replica set.
 */
import { mkdirSync } from "node:fs";
import { createLogger } from "../logging/index.ts";
import { Engine } from "./engine.ts";
import { lockDbpath } from "./journal.ts";
import { StoreServer } from "./server.ts";

export interface EmbeddedStoreOptions {
  dbpath: string;
  /** 0 = ephemeral */
  port?: number;
  host?: "127.0.0.1";
  /** default "liaison" */
  replicaSetName?: string;
}

export interface EmbeddedStore {
  /** e.g. mongodb://127.0.0.1:PORT/?replicaSet=liaison — works with the unmodified driver */
  readonly uri: string;
  readonly port: number;
  close(): Promise<void>;
}

export { StoreError } from "./errors.ts";
export { JournalCorruptError } from "./journal.ts";

/** Start the embedded store: take the dbpath lock, recover from the journal, listen on loopback. */
export async function startEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const host = options.host ?? "127.0.0.1";
  if (host !== "127.0.0.1") throw new TypeError("the embedded store listens on 127.0.0.1 only");
  const setName = options.replicaSetName ?? "liaison";
  const log = createLogger("store", { dbpath: options.dbpath });
  mkdirSync(options.dbpath, { recursive: true });
  const unlock = lockDbpath(options.dbpath);
  const engine = new Engine({ dbpath: options.dbpath, log });
  let server: StoreServer;
  try {
    const started = Date.now();
    const { replayed } = await engine.open();
    server = new StoreServer(engine, log, setName, host);
    await server.listen(options.port ?? 0);
    log.info("embedded store ready", { port: server.port, replayedRecords: replayed, recoveryMs: Date.now() - started });
  } catch (e) {
    await engine.close().catch(() => undefined);
    unlock();
    throw e;
  }
  const port = server.port;
  let closed: Promise<void> | null = null;
  return {
    uri: `mongodb://${host}:${port}/?replicaSet=${encodeURIComponent(setName)}`,
    port,
    close(): Promise<void> {
      closed ??= (async () => {
        await server.close();
        await engine.close();
        unlock();
      })();
      return closed;
    },
  };
}

/** `liaison store start --dbpath DIR --port N`: start the store and log its URI. */
export async function startStoreFromCli(args: { dbpath: string; port?: number }): Promise<EmbeddedStore> {
  const store = await startEmbeddedStore({ dbpath: args.dbpath, port: args.port ?? 27017 });
  createLogger("store").info(`embedded store listening: ${store.uri}`, { uri: store.uri });
  return store;
}

export const runStoreCommand = startStoreFromCli;
