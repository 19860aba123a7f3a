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

import net from "node:net";
import { BSON, type Document } from "mongodb";

/** Send raw bytes on a fresh socket; resolve with the reply bytes, or null if the server closed it. */
export function rawExchange(port: number, bytes: Buffer, timeoutMs = 3000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(buf.length ? buf : null);
    }, timeoutMs);
    sock.on("connect", () => sock.write(bytes));
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf);
      }
    });
    sock.on("error", () => undefined);
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(buf.length ? buf : null);
    });
  });
}

export function opMsg(body: Document, requestId = 1): Buffer {
  const doc = Buffer.from(BSON.serialize(body));
  const out = Buffer.alloc(21 + doc.length);
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(0, 8);
  out.writeInt32LE(2013, 12);
  out.writeUInt32LE(0, 16);
  out[20] = 0;
  doc.copy(out, 21);
  return out;
}

export function replyBody(reply: Buffer): Document {
  return BSON.deserialize(reply.subarray(21));
}

export async function rawCommand(port: number, body: Document): Promise<Document> {
  const reply = await rawExchange(port, opMsg(body));
  if (!reply) throw new Error("connection closed");
  return replyBody(reply);
}
