/**
 * The embedded store: a MongoDB-wire-compatible server on bson and mingo, journaled under `dbpath`.
 * Used when no `LIAISON_MONGODB_URI` is configured; the product talks to it through the official
 * driver only, exactly as to a replica set.
 */
import { hkdfSync } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
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
  /**
   * 32 bytes: every journal and snapshot record is sealed with AES-256-GCM under it (encryption at
   * rest). A folder written without a key is read and sealed at start; sealed records refuse a start
   * without the key or with another one.
   */
  encryptionKey?: Uint8Array;
}

export interface EmbeddedStore {
  /** e.g. mongodb://127.0.0.1:PORT/?replicaSet=liaison — works with the unmodified driver */
  readonly uri: string;
  readonly port: number;
  close(): Promise<void>;
}

export { StoreError } from "./errors.ts";
export { JournalCorruptError, StoreKeyError } from "./journal.ts";

/** The embedded store's key at rest, derived from a node's data key (HKDF-SHA-256). */
export function storeKeyFromDataKey(dataKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", dataKey, new Uint8Array(0), "liaison embedded store at rest v1", 32));
}

/**
 * The store key of `liaison store start`: the file named by LIAISON_STORE_KEY_FILE holds 32 random
 * bytes in base64 (`openssl rand -base64 32`); undefined when the variable is unset.
 */
export function storeKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Uint8Array | undefined {
  const file = env.LIAISON_STORE_KEY_FILE;
  if (file === undefined || file.trim() === "") return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (e) {
    throw new TypeError(`LIAISON_STORE_KEY_FILE: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const key = Buffer.from(text, "base64");
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text) || key.length !== 32) {
    throw new TypeError(`LIAISON_STORE_KEY_FILE: ${file} must hold 32 random bytes in base64 (openssl rand -base64 32)`);
  }
  return key;
}

/** Start the embedded store: take the dbpath lock, recover from the journal, listen on loopback. */
export async function startEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const host = options.host ?? "127.0.0.1";
  if (host !== "127.0.0.1") throw new TypeError("the embedded store listens on 127.0.0.1 only");
  const setName = options.replicaSetName ?? "liaison";
  const log = createLogger("store", { dbpath: options.dbpath });
  mkdirSync(options.dbpath, { recursive: true });
  const unlock = lockDbpath(options.dbpath);
  const engine = new Engine({ dbpath: options.dbpath, log, ...(options.encryptionKey ? { encryptionKey: options.encryptionKey } : {}) });
  let server: StoreServer;
  try {
    const started = Date.now();
    const { replayed, plainRecords } = await engine.open();
    if (options.encryptionKey && plainRecords > 0) {
      // A folder written in clear: seal it now rather than at the next snapshot (64 MiB of journal).
      log.warn("the store's files hold records in clear; writing a sealed snapshot", { plainRecords });
      await engine.snapshot().catch((error: unknown) => log.warn("sealing snapshot failed; the records in clear stay until the next snapshot", { error }));
    }
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
  const encryptionKey = storeKeyFromEnv();
  if (!encryptionKey) createLogger("store").warn("LIAISON_STORE_KEY_FILE is not set: the store's files are written in clear (no encryption at rest)");
  const store = await startEmbeddedStore({ dbpath: args.dbpath, port: args.port ?? 27017, ...(encryptionKey ? { encryptionKey } : {}) });
  createLogger("store").info(`embedded store listening: ${store.uri}`, { uri: store.uri });
  return store;
}

export const runStoreCommand = startStoreFromCli;
