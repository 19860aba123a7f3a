/**
 * The embedded store's TCP server: framing, handshake (`hello`), sessions, transactions,
 * retryable writes and dispatch of commands to their handlers.
 */
import net from "node:net";
import os from "node:os";
import { Binary, Long, ObjectId, Timestamp } from "bson";
import { StoreError } from "./errors.ts";
import { Engine, Txn } from "./engine.ts";
import * as C from "./commands.ts";
import { encodeOpMsg, encodeOpReply, MAX_MESSAGE_SIZE, OP_MSG, OP_QUERY, parseOpMsg, parseOpQuery, readHeader, serializeReply } from "./wire.ts";
import { isPlainObject, toNumber, type Doc } from "./values.ts";
import type { Logger } from "../logging/index.ts";

const VERSION = "7.0.14";
const MAX_WIRE_VERSION = 21;

interface SessionState {
  txnNumber: number;
  txn: Txn | null;
  retryTxnNumber: number;
  retryReply: Doc | null;
  lastUse: number;
}

interface FailPoint {
  mode: "off" | "alwaysOn" | { times: number } | { skip: number };
  data: Doc;
}

/** The commands of Stable API Version 1 (a command outside it fails with APIStrictError under apiStrict). */
const API_V1_COMMANDS = new Set([
  "abortTransaction", "aggregate", "authenticate", "collMod", "commitTransaction", "count", "create", "createIndexes",
  "delete", "drop", "dropDatabase", "dropIndexes", "endSessions", "explain", "find", "findAndModify", "getMore", "hello",
  "insert", "killCursors", "listCollections", "listDatabases", "listIndexes", "ping", "refreshSessions", "update",
  "saslStart", "saslContinue",
]);
/** Aggregation stages outside Stable API Version 1 (internal and diagnostic ones). */
const NON_API_V1_STAGES = new Set(["$currentOp", "$indexStats", "$listLocalSessions", "$listSessions", "$planCacheStats", "$listCatalog"]);

/**
 * Stable API parameters as mongod checks them: apiVersion must be "1"; apiStrict and
 * apiDeprecationErrors need apiVersion; with apiStrict, commands and stages outside Version 1 fail.
 */
function checkApiParameters(name: string, body: Doc): void {
  const version = body.apiVersion;
  if (version === undefined) {
    if (body.apiStrict !== undefined || body.apiDeprecationErrors !== undefined) {
      throw new StoreError(4886600, "Provided apiStrict and/or apiDeprecationErrors without passing apiVersion");
    }
    return;
  }
  if (typeof version !== "string") throw new StoreError(14, "BSON field 'apiVersion' is the wrong type, expected type 'string'");
  if (version !== "1") throw new StoreError(322, `API version must be "1"`);
  if (body.apiStrict !== true) return;
  if (!API_V1_COMMANDS.has(name)) {
    throw new StoreError(323, `Provided apiStrict:true, but the command ${name} is not in API Version 1. Information on supported commands and migrations in API Version 1 can be found at https://dochub.mongodb.org/core/manual-versioned-api.`);
  }
  if (name === "aggregate" && Array.isArray(body.pipeline)) {
    for (const s of body.pipeline) {
      const stage = isPlainObject(s) ? Object.keys(s)[0] : undefined;
      if (stage && NON_API_V1_STAGES.has(stage)) throw new StoreError(323, `${stage} is not allowed with 'apiStrict: true' in API Version 1`);
    }
  }
}

/** Commands that read at a snapshot outside a transaction (readConcern level "snapshot", mongod 5.0+). */
const SNAPSHOT_READS = new Set(["find", "aggregate", "distinct"]);

/** A snapshot read's point in time: a read-only transaction snapshot the engine keeps history for. */
interface SnapshotPin {
  txn: Txn;
  at: Timestamp;
  created: number;
}

/** mongod's `onPrimaryTransactionalWrite` failpoint, armed for one retryable write command. */
interface TransactionalWriteFailure {
  /** Runs before each statement's write: the failpoint may fire, and may fail the statement unwritten. */
  beforeWrite: () => void;
  /** It fired with closeConnection (the default): the connection is closed instead of replying. */
  close: boolean;
  /** It failed a statement, which did not happen: a retry of this txnNumber must run it again. */
  failed: boolean;
}

const WRITE_COMMANDS = new Set(["insert", "update", "delete", "findAndModify", "findandmodify"]);
const TXN_ALLOWED = new Set([
  "find", "getMore", "insert", "update", "delete", "findAndModify", "findandmodify", "aggregate", "distinct",
  "commitTransaction", "abortTransaction", "killCursors", "create", "createIndexes", "bulkWrite",
]);

/** OP_MSG flag bits (MongoDB wire protocol). */
const MORE_TO_COME = 1 << 1;
const EXHAUST_ALLOWED = 1 << 16;

/** A hello a monitoring client may be kept waiting on (it names the topologyVersion it knows). */
function isAwaitableHello(body: Doc): boolean {
  const name = Object.keys(body)[0];
  return (name === "hello" || name === "isMaster" || name === "ismaster") && isPlainObject(body.topologyVersion) && body.maxAwaitTimeMS !== undefined;
}

/** Commands that change data: refused while the disk is short of space (before they touch memory). */
const MUTATING_COMMANDS = new Set([
  "insert", "update", "delete", "findAndModify", "findandmodify", "create", "drop", "dropDatabase", "renameCollection",
  "createIndexes", "dropIndexes", "deleteIndexes", "collMod", "commitTransaction", "bulkWrite",
]);
/** Commands still answered once the journal has failed: none reads or writes data. */
const FENCE_EXEMPT = new Set([
  "ping", "killCursors", "abortTransaction", "endSessions", "killSessions", "killAllSessions", "killAllSessionsByPattern",
  "refreshSessions", "startSession", "buildInfo", "buildinfo", "getParameter", "setParameter", "serverStatus", "hostInfo",
  "getLog", "getCmdLineOpts", "listCommands", "connectionStatus", "whatsmyuri", "configureFailPoint", "replSetGetStatus",
  "getLastError", "logout", "saslStart",
]);

/**
 * mongod's NotPrimaryError category. In a replica set mongod puts its current topologyVersion on
 * such an error (and on a reply whose writeConcernError has such a code), so that a driver can
 * tell a stale error from a real state change (appendErrorLabelsAndTopologyVersion).
 */
const NOT_PRIMARY_CODES = new Set([10107, 13435, 13436, 11602, 189]);

/** Errors a retryable write or read may be retried after (mongod's ErrorCodes::isRetriableError). */
const RETRIABLE_CODES = new Set([11600, 11602, 10107, 13435, 13436, 189, 91, 7, 6, 89, 9001, 262, 134]);

/**
 * Codes mongod's isTransientTransactionError always labels TransientTransactionError:
 * WriteConflict, LockTimeout, PreparedTransactionInProgress, the SnapshotError category
 * (SnapshotTooOld, SnapshotUnavailable, StaleChunkHistory, MigrationConflict), the
 * NeedRetargettingError category (StaleEpoch, StaleConfig) and StaleDbVersion.
 */
const TRANSIENT_TXN_CODES = new Set([112, 24, 267, 239, 246, 250, 272, 150, 13388, 249]);

/**
 * The labels mongod attaches to an error reply: TransientTransactionError inside a transaction
 * (isTransientTransactionError), RetryableWriteError for retryable writes and commit/abort.
 */
export function serverErrorLabels(name: string, body: Doc, code: number, writeConcernError: boolean): string[] {
  const labels: string[] = [];
  const inTxn = body.autocommit === false;
  const commitOrAbort = name === "commitTransaction" || name === "abortTransaction";
  if (inTxn) {
    let transient = TRANSIENT_TXN_CODES.has(code);
    if (commitOrAbort) transient ||= code === 251 && !writeConcernError;
    else transient ||= RETRIABLE_CODES.has(code) || code === 251;
    if (transient && !writeConcernError) labels.push("TransientTransactionError");
  }
  const retryableWrite = (body.txnNumber !== undefined && !inTxn && WRITE_COMMANDS.has(name)) || commitOrAbort;
  if (retryableWrite && RETRIABLE_CODES.has(code)) labels.push("RetryableWriteError");
  return labels;
}

/** A writeConcernError for a write concern a single-member replica set cannot satisfy, if any. */
function unsatisfiableWriteConcern(name: string, body: Doc): Doc | undefined {
  const wc = body.writeConcern;
  if (!isPlainObject(wc) || wc.w === undefined) return undefined;
  if (!(WRITE_COMMANDS.has(name) || name === "commitTransaction" || name === "abortTransaction" || name === "create" || name === "drop" || name === "createIndexes")) return undefined;
  if (typeof wc.w === "string" && wc.w !== "majority") {
    return { code: 79, codeName: "UnknownReplWriteConcern", errmsg: `Write concern mode '${wc.w}' is not known`, errInfo: { writeConcern: wc } };
  }
  if (typeof wc.w !== "string" && toNumber(wc.w) > 1) {
    return { code: 100, codeName: "UnsatisfiableWriteConcern", errmsg: "Not enough data-bearing nodes", errInfo: { writeConcern: wc } };
  }
  return undefined;
}

export class StoreServer {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  readonly sessions = new Map<string, SessionState>();
  readonly cursors = new Map<bigint, C.Cursor>();
  private cursorSeq = 0n;
  private connectionSeq = 0;
  private requestSeq = 1;
  private tsSeconds = 0;
  private tsInc = 0;
  private readonly started = Date.now();
  private readonly processId = new ObjectId();
  private readonly failPoints = new Map<string, FailPoint>();
  private reaper: NodeJS.Timeout | null = null;
  /** Points in time snapshot reads started at (by atClusterTime "t:i"), readable for a while. */
  private readonly snapshotPins = new Map<string, SnapshotPin>();
  /** How long a snapshot read's point in time stays readable (mongod's minSnapshotHistoryWindowInSeconds). */
  snapshotHistoryMillis = 300_000;
  /** How long a cursor may sit idle before the server closes it. */
  cursorTimeoutMillis = 10 * 60 * 1000;
  /** Application name each connection gave at handshake (failCommand's `appName` filter). */
  private readonly appNames = new Map<number, string>();
  private closing = false;
  private waiters = new Set<() => void>();
  port = 0;
  readonly host: string;

  constructor(
    readonly engine: Engine,
    private readonly log: Logger,
    private readonly replicaSetName: string,
    host: string,
  ) {
    this.host = host;
  }

  /** Close cursors idle for longer than `cursorTimeoutMillis` (MongoDB's default: 10 minutes). */
  reapIdleCursors(now = Date.now()): number {
    let n = 0;
    for (const [id, c] of this.cursors) {
      if (now - c.lastUse > this.cursorTimeoutMillis) {
        this.cursors.delete(id);
        n++;
      }
    }
    return n;
  }

  /**
   * The snapshot a read with readConcern {level: "snapshot"} outside a transaction reads at. Without
   * atClusterTime it starts now (and the reply names that time); with it, it reads at a time an
   * earlier snapshot read started at, or at the present if none is newer. History older than that
   * is gone: SnapshotTooOld.
   */
  private snapshotRead(name: string, cmd: Doc): SnapshotPin {
    const rc = cmd.readConcern as Doc;
    if (!SNAPSHOT_READS.has(name)) throw new StoreError(72, `Command ${name} does not support { readConcern: { level: "snapshot" } } outside a transaction`);
    if (name === "aggregate" && Array.isArray(cmd.pipeline) && cmd.pipeline.some((s) => isPlainObject(s) && ("$out" in s || "$merge" in s))) {
      throw new StoreError(72, "$out and $merge cannot be used with readConcern level 'snapshot' outside a transaction");
    }
    this.expireSnapshotPins(Date.now());
    const at = rc.atClusterTime;
    if (at === undefined) return this.pinSnapshot(this.clusterTime());
    if (!(at instanceof Timestamp)) throw new StoreError(14, "BSON field 'readConcern.atClusterTime' is the wrong type, expected type 'timestamp'");
    const pin = this.snapshotPins.get(`${at.t}:${at.i}`);
    if (pin) return pin;
    if (at.t > this.tsSeconds || (at.t === this.tsSeconds && at.i >= this.tsInc)) return this.pinSnapshot(at);
    throw new StoreError(239, `Read timestamp Timestamp(${at.t}, ${at.i}) is older than the oldest available timestamp.`);
  }

  private pinSnapshot(at: Timestamp): SnapshotPin {
    const txn = new Txn("", -1, this.engine.seq);
    this.engine.beginTxnSnapshot(txn);
    const pin = { txn, at, created: Date.now() };
    this.snapshotPins.set(`${at.t}:${at.i}`, pin);
    return pin;
  }

  /** Periodic housekeeping: idle cursors, expired snapshot points. */
  private sweep(): void {
    this.reapIdleCursors();
    this.expireSnapshotPins(Date.now());
  }

  /** Release snapshot points older than the history window (and the oldest beyond 256). */
  private expireSnapshotPins(now: number): void {
    for (const [k, p] of this.snapshotPins) {
      if (now - p.created <= this.snapshotHistoryMillis && this.snapshotPins.size <= 256) break;
      this.snapshotPins.delete(k);
      this.engine.abortTxn(p.txn, null);
    }
  }

  /** Close the cursors opened under the given sessions (endSessions, killSessions). */
  private killSessionCursors(keys: Set<string> | null): void {
    for (const [id, c] of this.cursors) if (c.sessionKey && (keys === null || keys.has(c.sessionKey))) this.cursors.delete(id);
  }

  listen(port: number): Promise<number> {
    this.reaper ??= setInterval(() => this.sweep(), Math.min(60_000, this.cursorTimeoutMillis)).unref();
    return new Promise((resolve, reject) => {
      const srv = net.createServer((s) => this.onConnection(s));
      srv.on("error", reject);
      srv.listen(port, this.host, () => {
        this.server = srv;
        this.port = (srv.address() as net.AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reaper) clearInterval(this.reaper);
    this.cursors.clear();
    for (const w of this.waiters) w();
    await new Promise<void>((r) => {
      if (!this.server) return r();
      this.server.close(() => r());
      for (const s of this.sockets) s.destroy();
    });
  }

  private clusterTime(): Timestamp {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.tsSeconds) {
      this.tsSeconds = now;
      this.tsInc = 0;
    }
    this.tsInc++;
    return new Timestamp({ t: this.tsSeconds, i: this.tsInc });
  }

  private onConnection(sock: net.Socket): void {
    const connId = ++this.connectionSeq;
    this.sockets.add(sock);
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let queue: Promise<void> = Promise.resolve();
    sock.on("data", (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 4) {
        const len = buf.readInt32LE(0);
        if (len < 16 || len > MAX_MESSAGE_SIZE) {
          this.log.warn("closing connection: invalid message length", { connId, len });
          sock.destroy();
          return;
        }
        if (buf.length < len) break;
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        queue = queue.then(() => this.onMessage(sock, msg, connId)).catch((e: unknown) => {
          this.log.warn("closing connection after a bad message", { connId, error: e });
          sock.destroy();
        });
      }
    });
    sock.on("error", () => undefined);
    sock.on("close", () => {
      this.sockets.delete(sock);
      this.appNames.delete(connId);
    });
  }

  private async onMessage(sock: net.Socket, msg: Buffer, connId: number): Promise<void> {
    if (sock.destroyed) return;
    const h = readHeader(msg);
    if (h.opCode === OP_MSG) {
      if (msg.length < 21) throw new Error("OP_MSG too short");
      let reply: Doc;
      let flags = 0;
      let parsedBody: Doc | undefined;
      try {
        const parsed = parseOpMsg(msg);
        flags = parsed.flags;
        parsedBody = parsed.body;
        reply = await this.runCommand(parsed.body, parsed.sequences, connId, sock, parsed.bodyRaw);
      } catch (e) {
        reply = this.errorReply(e);
      }
      if (flags & 2) return; // moreToCome: the client wants no reply
      if (sock.destroyed) return;
      if (flags & EXHAUST_ALLOWED && parsedBody !== undefined && isAwaitableHello(parsedBody) && reply.ok === 1) {
        await this.streamHello(sock, parsedBody, connId, h.requestId, reply);
        return;
      }
      sock.write(encodeOpMsg(this.requestSeq++, h.requestId, this.encode(reply)));
      return;
    }
    if (h.opCode === OP_QUERY) {
      let reply: Doc;
      try {
        const q = parseOpQuery(msg);
        if (!q.collection.endsWith(".$cmd")) throw new StoreError(352, "Unsupported OP_QUERY command");
        let cmd = q.query;
        if (isPlainObject(cmd.$query)) cmd = cmd.$query as Doc;
        const db = q.collection.slice(0, -5);
        const name = Object.keys(cmd)[0] ?? "";
        if (!["isMaster", "ismaster", "hello"].includes(name)) throw new StoreError(352, `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`);
        reply = await this.runCommand({ ...cmd, $db: db }, new Map(), connId, sock);
      } catch (e) {
        reply = this.errorReply(e);
      }
      if (!sock.destroyed) sock.write(encodeOpReply(this.requestSeq++, h.requestId, this.encode(reply)));
      return;
    }
    throw new Error(`unsupported opcode ${h.opCode}`);
  }

  private encode(reply: Doc): Buffer {
    try {
      return serializeReply(reply);
    } catch (e) {
      return serializeReply(this.errorReply(new StoreError(10334, `reply could not be encoded: ${e instanceof Error ? e.message : String(e)}`)));
    }
  }

  private errorReply(e: unknown): Doc {
    const err = e instanceof StoreError ? e : new StoreError(1, e instanceof Error ? e.message : String(e));
    if (!(e instanceof StoreError)) this.log.error("internal error in command", { error: e });
    const reply: Doc = { ok: 0, errmsg: err.message, code: err.code, codeName: err.codeName, ...err.extra };
    if (err.labels.length) reply.errorLabels = err.labels;
    if (NOT_PRIMARY_CODES.has(err.code)) reply.topologyVersion = this.topologyVersion();
    return this.withTimes(reply);
  }

  private topologyVersion(): Doc {
    return { processId: this.processId, counter: Long.ZERO };
  }

  private withTimes(reply: Doc): Doc {
    const t = this.clusterTime();
    reply.$clusterTime = { clusterTime: t, signature: { hash: new Binary(Buffer.alloc(20), 0), keyId: Long.ZERO } };
    reply.operationTime = t;
    return reply;
  }

  private helloReply(cmd: Doc, connId: number, legacy: boolean): Doc {
    const me = `${this.host}:${this.port}`;
    const t = this.clusterTime();
    const now = new Date();
    const reply: Doc = {
      topologyVersion: this.topologyVersion(),
      hosts: [me],
      setName: this.replicaSetName,
      setVersion: 1,
      isWritablePrimary: true,
      secondary: false,
      primary: me,
      me,
      electionId: new ObjectId("7fffffff0000000000000001"),
      lastWrite: {
        opTime: { ts: t, t: Long.fromNumber(1) },
        lastWriteDate: now,
        majorityOpTime: { ts: t, t: Long.fromNumber(1) },
        majorityWriteDate: now,
      },
      maxBsonObjectSize: 16777216,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE,
      maxWriteBatchSize: 100000,
      localTime: now,
      logicalSessionTimeoutMinutes: 30,
      connectionId: connId,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      ok: 1,
    };
    if (legacy) {
      delete reply.isWritablePrimary;
      reply.ismaster = true;
    }
    if (cmd.helloOk === true) reply.helloOk = true;
    return reply;
  }

  /**
   * The streaming protocol of server monitoring (exhaustAllowed on an awaitable hello): like mongod,
   * answer with moreToCome set, then keep answering — each reply after the next topology change or
   * maxAwaitTimeMS — until the client closes the connection. Each later reply's responseTo is the
   * previous reply's requestID.
   */
  private async streamHello(sock: net.Socket, body: Doc, connId: number, requestId: number, first: Doc): Promise<void> {
    let reply = first;
    let responseTo = requestId;
    while (!sock.destroyed) {
      const id = this.requestSeq++;
      sock.write(encodeOpMsg(id, responseTo, this.encode(reply), MORE_TO_COME));
      responseTo = id;
      reply = await this.runCommand(body, new Map(), connId, sock);
    }
  }

  private async runCommand(body: Doc, sequences: Map<string, { docs: Doc[]; raws: Buffer[] }>, connId: number, sock: net.Socket, bodyRaw: Buffer | null = null): Promise<Doc> {
    const name = Object.keys(body)[0];
    if (!name) throw new StoreError(59, "no such command: ''");
    const db = typeof body.$db === "string" ? body.$db : "admin";
    this.engine.opcounters.command++;
    if (name === "hello" || name === "isMaster" || name === "ismaster") {
      if (isAwaitableHello(body)) {
        const wait = Math.min(toNumber(body.maxAwaitTimeMS), 10000);
        await new Promise<void>((r) => {
          const done = (): void => {
            clearTimeout(timer);
            this.waiters.delete(done);
            sock.off("close", done);
            r();
          };
          const timer = setTimeout(done, wait);
          this.waiters.add(done);
          sock.once("close", done);
        });
      }
      const app = isPlainObject(body.client) && isPlainObject(body.client.application) ? body.client.application.name : undefined;
      if (typeof app === "string") this.appNames.set(connId, app);
      return this.withTimes(this.helloReply(body, connId, name !== "hello"));
    }
    checkApiParameters(name, body);
    const fp = this.checkFailPoint(name, this.appNames.get(connId));
    const onWrite = this.transactionalWriteFailPoint(name, body);
    try {
      if (fp) {
        if (fp.closeConnection === true) {
          sock.destroy();
          return { ok: 0 };
        }
        if (fp.blockConnection === true && fp.blockTimeMS !== undefined) await new Promise((r) => setTimeout(r, toNumber(fp.blockTimeMS)));
        if (fp.errorCode !== undefined) {
          const code = toNumber(fp.errorCode);
          const labels = Array.isArray(fp.errorLabels) ? (fp.errorLabels as string[]) : serverErrorLabels(name, body, code, false);
          return this.errorReply(new StoreError(code, `Failing command via 'failCommand' failpoint`, { labels }));
        }
      }
      const reply = await this.dispatch(name, body, db, sequences, bodyRaw, onWrite);
      if (onWrite?.close) {
        sock.destroy();
        return { ok: 0 };
      }
      let wce: Doc | undefined = fp && isPlainObject(fp.writeConcernError) ? (fp.writeConcernError as Doc) : undefined;
      wce ??= unsatisfiableWriteConcern(name, body);
      if (wce) {
        reply.writeConcernError = wce;
        const labels = fp && Array.isArray(fp.errorLabels) ? (fp.errorLabels as string[]) : serverErrorLabels(name, body, toNumber(wce.code), true);
        if (labels.length) reply.errorLabels = labels;
        if (NOT_PRIMARY_CODES.has(toNumber(wce.code))) reply.topologyVersion = this.topologyVersion();
      }
      return this.withTimes(reply);
    } catch (e) {
      if (onWrite?.close) {
        sock.destroy();
        return { ok: 0 };
      }
      if (e instanceof StoreError && e.labels.length === 0) {
        return this.errorReply(new StoreError(e.code, e.message, { labels: serverErrorLabels(name, body, e.code, false), extra: e.extra }));
      }
      throw e;
    }
  }

  private checkFailPoint(cmdName: string, appName: string | undefined): Doc | null {
    const fp = this.failPoints.get("failCommand");
    if (!fp || fp.mode === "off") return null;
    const cmds = (fp.data.failCommands as string[]) ?? [];
    if (!cmds.includes(cmdName)) return null;
    if (typeof fp.data.appName === "string" && fp.data.appName !== appName) return null;
    return this.firePoint("failCommand");
  }

  /** Evaluate a failpoint once (a hit counts against `times`/`skip`): its data if it fires, else null. */
  private firePoint(fpName: string): Doc | null {
    const fp = this.failPoints.get(fpName);
    if (!fp || fp.mode === "off") return null;
    if (typeof fp.mode === "object") {
      if ("skip" in fp.mode) {
        if (fp.mode.skip > 0) {
          fp.mode.skip--;
          return null;
        }
      } else if ("times" in fp.mode) {
        if (fp.mode.times <= 0) return null;
        fp.mode.times--;
        if (fp.mode.times <= 0) this.failPoints.delete(fpName);
      }
    }
    return fp.data;
  }

  /**
   * mongod's `onPrimaryTransactionalWrite` failpoint, for a retryable write (a txnNumber outside a
   * transaction). Each statement's write is a hit: closeConnection (default true) closes the
   * connection after the command instead of replying; failBeforeCommitExceptionCode fails that
   * statement with the code before it is written.
   */
  private transactionalWriteFailPoint(name: string, body: Doc): TransactionalWriteFailure | undefined {
    if (!this.failPoints.has("onPrimaryTransactionalWrite")) return undefined;
    if (body.txnNumber === undefined || body.autocommit !== undefined || !WRITE_COMMANDS.has(name)) return undefined;
    const w: TransactionalWriteFailure = {
      close: false,
      failed: false,
      beforeWrite: () => {
        const data = this.firePoint("onPrimaryTransactionalWrite");
        if (!data) return;
        if (data.closeConnection !== false) w.close = true;
        if (data.failBeforeCommitExceptionCode !== undefined) {
          w.failed = true;
          throw new StoreError(toNumber(data.failBeforeCommitExceptionCode), `Failing write for txnNumber ${String(body.txnNumber)} due to failpoint. The write must not be reflected.`);
        }
      },
    };
    return w;
  }

  private session(cmd: Doc): [string | null, SessionState | null] {
    const lsid = cmd.lsid as Doc | undefined;
    if (!isPlainObject(lsid) || !(lsid.id instanceof Binary)) return [null, null];
    const key = Buffer.from(lsid.id.buffer.subarray(0, lsid.id.position)).toString("hex");
    let s = this.sessions.get(key);
    if (!s) {
      s = { txnNumber: -1, txn: null, retryTxnNumber: -1, retryReply: null, lastUse: Date.now() };
      this.sessions.set(key, s);
    }
    s.lastUse = Date.now();
    return [key, s];
  }

  private async dispatch(name: string, cmd: Doc, db: string, sequences: Map<string, { docs: Doc[]; raws: Buffer[] }>, bodyRaw: Buffer | null, onWrite?: TransactionalWriteFailure): Promise<Doc> {
    // A full disk refuses writes before they touch memory; a failed journal refuses reads too (journal.ts).
    const out = name === "aggregate" && Array.isArray(cmd.pipeline) && cmd.pipeline.some((s) => isPlainObject(s) && ("$out" in s || "$merge" in s));
    if (MUTATING_COMMANDS.has(name) || out) this.engine.journal.assertWritable();
    else if (!FENCE_EXEMPT.has(name)) this.engine.journal.assertReadable();
    const [sessionKey, sess] = this.session(cmd);
    const txnNumber = cmd.txnNumber !== undefined ? toNumber(cmd.txnNumber) : undefined;
    let txn: Txn | null = null;
    if (cmd.autocommit !== undefined && sess && txnNumber !== undefined) {
      if (cmd.autocommit !== false) throw new StoreError(72, "autocommit must be false");
      if (!TXN_ALLOWED.has(name)) throw new StoreError(263, `Cannot run '${name}' in a multi-document transaction.`);
      txn = this.transactionFor(name, cmd, sess, sessionKey as string, txnNumber);
      if (name === "commitTransaction") return this.commit(txn);
      if (name === "abortTransaction") {
        if (txn.state === "committed") throw new StoreError(256, `Transaction with { txnNumber: ${txnNumber} } has been committed.`);
        if (txn.state === "aborted") throw new StoreError(251, `Transaction with { txnNumber: ${txnNumber} } has been aborted.`);
        this.engine.abortTxn(txn, null);
        return { ok: 1 };
      }
      if (txn.state === "committed") throw new StoreError(256, `Transaction with { txnNumber: ${txnNumber} } has been committed.`);
      txn.ops++;
    } else if (name === "commitTransaction" || name === "abortTransaction") {
      throw new StoreError(sess ? 125 : 50768, "Transaction commands require autocommit: false and a txnNumber");
    }
    // A snapshot read outside a transaction reads at a pinned point in time, named in its reply.
    const snapshot = !txn && cmd.autocommit === undefined && isPlainObject(cmd.readConcern) && cmd.readConcern.level === "snapshot" ? this.snapshotRead(name, cmd) : null;
    // Retryable writes outside transactions: a retried statement returns the first reply.
    const retryable = !txn && sess && txnNumber !== undefined && WRITE_COMMANDS.has(name);
    if (retryable && sess) {
      if (txnNumber < sess.retryTxnNumber) throw new StoreError(225, `Cannot start transaction ${txnNumber} on session because a newer transaction ${sess.retryTxnNumber} has already started`);
      if (txnNumber === sess.retryTxnNumber && sess.retryReply) return { ...sess.retryReply, retriedStatement: true };
    }
    const ctx: C.CommandContext = {
      engine: this.engine,
      db,
      txn: txn ?? snapshot?.txn ?? null,
      sequences,
      bodyRaw,
      cursors: this.cursors,
      nextCursorId: () => ++this.cursorSeq + 1000n,
      sessionKey,
      beforeWrite: onWrite?.beforeWrite,
      localSessions: () =>
        [...this.sessions].map(([k, st]) => ({
          _id: { id: new Binary(Buffer.from(k, "hex"), 4), uid: new Binary(Buffer.alloc(32), 0) },
          lastUse: new Date(st.lastUse),
        })),
    };
    try {
      const reply = await this.handle(name, cmd, ctx);
      if (snapshot) {
        if (isPlainObject(reply.cursor)) reply.cursor.atClusterTime = snapshot.at;
        else reply.atClusterTime = snapshot.at;
      }
      if (retryable && sess && txnNumber !== undefined && !onWrite?.failed) {
        sess.retryTxnNumber = txnNumber;
        sess.retryReply = { ...reply }; // a copy: the reply sent now may gain a writeConcernError, a retry's may not
      }
      return reply;
    } catch (e) {
      if (txn && txn.state === "inProgress" && e instanceof StoreError && e.code !== 43) this.engine.abortTxn(txn, null);
      throw e;
    }
  }

  private transactionFor(name: string, cmd: Doc, sess: SessionState, sessionKey: string, n: number): Txn {
    if (cmd.startTransaction === true) {
      if (n < sess.txnNumber) throw new StoreError(225, `Cannot start transaction ${n} on session because a newer transaction ${sess.txnNumber} has already started`);
      if (n === sess.txnNumber && sess.txn) {
        if (sess.txn.state === "committed") throw new StoreError(256, `Transaction with { txnNumber: ${n} } has been committed.`);
        throw new StoreError(251, `Given transaction number ${n} does not match any in-progress transactions.`, { labels: ["TransientTransactionError"] });
      }
      if (sess.txn && sess.txn.state === "inProgress") this.engine.abortTxn(sess.txn, null);
      const txn = new Txn(sessionKey, n, this.engine.seq);
      this.engine.beginTxnSnapshot(txn);
      sess.txnNumber = n;
      sess.txn = txn;
      return txn;
    }
    const txn = sess.txn;
    if (!txn || sess.txnNumber !== n) {
      throw new StoreError(251, `Given transaction number ${n} does not match any in-progress transactions. The active transaction number is ${sess.txnNumber}`, { labels: ["TransientTransactionError"] });
    }
    if (txn.state === "aborted" && name !== "abortTransaction") {
      throw new StoreError(251, `Transaction with { txnNumber: ${n} } has been aborted.`, { labels: ["TransientTransactionError"] });
    }
    return txn;
  }

  private async commit(txn: Txn): Promise<Doc> {
    if (txn.state === "committed") return { ok: 1 };
    if (txn.state === "aborted") throw new StoreError(251, `Transaction with { txnNumber: ${txn.txnNumber} } has been aborted.`, { labels: ["TransientTransactionError"] });
    const ops = this.engine.commitTxn(txn);
    await this.engine.persist(ops);
    return { ok: 1 };
  }

  private async handle(name: string, cmd: Doc, ctx: C.CommandContext): Promise<Doc> {
    switch (name) {
      case "ping":
        return { ok: 1 };
      case "find":
        return C.find(ctx, cmd);
      case "explain":
        return C.explain(ctx, cmd);
      case "getMore":
        this.engine.opcounters.getmore++;
        return C.getMore(ctx, cmd);
      case "killCursors":
        return C.killCursors(ctx, cmd);
      case "insert":
        return C.insert(ctx, cmd);
      case "update":
        return C.update(ctx, cmd);
      case "delete":
        return C.remove(ctx, cmd);
      case "findAndModify":
      case "findandmodify":
        return C.findAndModify(ctx, cmd);
      case "aggregate":
        refuseAtlasOnlyStages(cmd);
        return C.aggregate(ctx, cmd);
      case "count":
        return C.count(ctx, cmd);
      case "distinct":
        return C.distinct(ctx, cmd);
      case "create":
        return C.create(ctx, cmd);
      case "drop":
        return C.drop(ctx, cmd);
      case "dropDatabase":
        return C.dropDatabase(ctx);
      case "listCollections":
        return C.listCollections(ctx, cmd);
      case "listDatabases":
        return C.listDatabases(ctx, cmd);
      case "renameCollection":
        return C.renameCollection(ctx, cmd);
      case "createIndexes":
        return C.createIndexes(ctx, cmd);
      case "listIndexes":
        return C.listIndexes(ctx, cmd);
      case "dropIndexes":
      case "deleteIndexes":
        return C.dropIndexes(ctx, cmd);
      case "collMod":
        return C.collMod(ctx, cmd);
      case "endSessions":
      case "killSessions": {
        const ended = new Set<string>();
        for (const id of (cmd[name] as Doc[]) ?? []) {
          const [key, s] = this.session({ lsid: id });
          if (key && s?.txn) this.engine.abortTxn(s.txn, null);
          if (key) {
            this.sessions.delete(key);
            ended.add(key);
          }
        }
        this.killSessionCursors(ended);
        return { ok: 1 };
      }
      case "killAllSessions":
      case "killAllSessionsByPattern":
        for (const s of this.sessions.values()) if (s.txn) this.engine.abortTxn(s.txn, null);
        this.killSessionCursors(null);
        return { ok: 1 };
      case "refreshSessions":
        return { ok: 1 };
      case "startSession":
        return { id: { id: new Binary(Buffer.from(new ObjectId().toHexString().padEnd(32, "0"), "hex"), 4) }, timeoutMinutes: 30, ok: 1 };
      case "buildInfo":
      case "buildinfo":
        return {
          version: VERSION,
          gitVersion: "liaison-embedded",
          versionArray: VERSION.split(".").map(Number).concat([0]),
          bits: 64,
          debug: false,
          maxBsonObjectSize: 16777216,
          storageEngines: ["liaison-journal"],
          javascriptEngine: "none",
          modules: [],
          allocator: "system",
          openssl: { running: "disabled" },
          ok: 1,
        };
      case "getParameter": {
        const r: Doc = { ok: 1 };
        if (cmd.featureCompatibilityVersion !== undefined || cmd.getParameter === "*") r.featureCompatibilityVersion = { version: "7.0" };
        if (cmd.transactionLifetimeLimitSeconds !== undefined || cmd.getParameter === "*") r.transactionLifetimeLimitSeconds = 60;
        if (cmd.cursorTimeoutMillis !== undefined || cmd.getParameter === "*") r.cursorTimeoutMillis = Long.fromNumber(this.cursorTimeoutMillis);
        return r;
      }
      case "setParameter": {
        if (cmd.cursorTimeoutMillis === undefined) return { was: null, ok: 1 };
        const was = this.cursorTimeoutMillis;
        const ms = toNumber(cmd.cursorTimeoutMillis);
        if (!(ms > 0)) throw new StoreError(2, "cursorTimeoutMillis must be positive");
        this.cursorTimeoutMillis = ms;
        if (this.reaper) clearInterval(this.reaper);
        this.reaper = setInterval(() => this.sweep(), Math.min(60_000, ms)).unref();
        return { was: Long.fromNumber(was), ok: 1 };
      }
      case "serverStatus": {
        const mem = process.memoryUsage();
        return {
          host: `${os.hostname()}:${this.port}`,
          version: VERSION,
          process: "liaison-store",
          pid: Long.fromNumber(process.pid),
          uptime: (Date.now() - this.started) / 1000,
          uptimeMillis: Long.fromNumber(Date.now() - this.started),
          uptimeEstimate: Long.fromNumber(Math.floor((Date.now() - this.started) / 1000)),
          localTime: new Date(),
          connections: { current: this.sockets.size, available: 100000, totalCreated: this.connectionSeq, active: this.sockets.size },
          opcounters: { ...this.engine.opcounters },
          mem: { bits: 64, resident: Math.round(mem.rss / 1048576), virtual: Math.round(mem.rss / 1048576), supported: true },
          repl: { setName: this.replicaSetName, isWritablePrimary: true, hosts: [`${this.host}:${this.port}`] },
          storageEngine: { name: "liaison-journal", supportsCommittedReads: true, persistent: true },
          transactions: { currentActive: this.engine.activeTxns.size },
          ok: 1,
        };
      }
      case "hostInfo":
        return {
          system: { currentTime: new Date(), hostname: os.hostname(), cpuAddrSize: 64, memSizeMB: Math.round(os.totalmem() / 1048576), numCores: os.cpus().length, cpuArch: os.arch() },
          os: { type: os.type(), name: os.platform(), version: os.release() },
          extra: {},
          ok: 1,
        };
      case "getLog":
        return cmd.getLog === "*" ? { names: ["global", "startupWarnings"], ok: 1 } : { totalLinesWritten: 0, log: [], ok: 1 };
      case "getCmdLineOpts":
        return { argv: ["liaison-store"], parsed: { net: { bindIp: this.host, port: this.port }, replication: { replSet: this.replicaSetName } }, ok: 1 };
      case "listCommands": {
        const commands: Doc = {};
        for (const c of COMMAND_NAMES) commands[c] = { help: "", requiresAuth: false, secondaryOk: true, adminOnly: false };
        return { commands, ok: 1 };
      }
      case "connectionStatus":
        return { authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 };
      case "whatsmyuri":
        return { you: `${this.host}:0`, ok: 1 };
      case "configureFailPoint": {
        const fpName = String(cmd.configureFailPoint);
        const mode = cmd.mode;
        if (mode === "off") this.failPoints.delete(fpName);
        else {
          const m = mode === "alwaysOn" ? "alwaysOn" : isPlainObject(mode) && mode.times !== undefined ? { times: toNumber(mode.times) } : isPlainObject(mode) && mode.skip !== undefined ? { skip: toNumber(mode.skip) } : "alwaysOn";
          this.failPoints.set(fpName, { mode: m, data: (cmd.data as Doc) ?? {} });
        }
        return { count: 0, ok: 1 };
      }
      case "replSetGetStatus":
        return { set: this.replicaSetName, myState: 1, members: [{ _id: 0, name: `${this.host}:${this.port}`, health: 1, state: 1, stateStr: "PRIMARY", self: true }], ok: 1 };
      case "dbStats": {
        let collections = 0;
        let objects = 0;
        for (const c of this.engine.collections.values()) {
          if (c.db !== ctx.db) continue;
          collections++;
          for (const v of c.docs.values()) if (v.doc) objects++;
        }
        return { db: ctx.db, collections, objects, ok: 1 };
      }
      case "createSearchIndexes":
      case "updateSearchIndex":
      case "dropSearchIndex":
        // As mongod 7.0 answers outside Atlas (enterprise; community has no such command).
        throw new StoreError(115, "Search index commands are only supported with Atlas.");
      case "collStats":
      case "validate":
        return { ns: `${ctx.db}.${String(cmd[name])}`, ok: 1 };
      case "getLastError":
        return { err: null, n: 0, ok: 1 };
      case "logout":
      case "saslStart":
        throw new StoreError(59, `no such command: '${name}'`);
      default:
        throw new StoreError(59, `no such command: '${name}'`);
    }
  }
}

/** Atlas Search stages: mongod 7.0 outside Atlas refuses them (location code 6047401). */
function refuseAtlasOnlyStages(cmd: Doc): void {
  if (!Array.isArray(cmd.pipeline)) return;
  for (const s of cmd.pipeline) {
    if (!isPlainObject(s)) continue;
    const stage = Object.keys(s)[0];
    if (stage === "$listSearchIndexes" || stage === "$search" || stage === "$searchMeta" || stage === "$vectorSearch") {
      throw new StoreError(6047401, `${stage} stage is only allowed on MongoDB Atlas`);
    }
  }
}

const COMMAND_NAMES = [
  "hello", "isMaster", "ping", "buildInfo", "getParameter", "serverStatus", "hostInfo", "getLog", "getCmdLineOpts",
  "listCommands", "connectionStatus", "whatsmyuri", "insert", "find", "explain", "getMore", "killCursors", "update", "delete",
  "findAndModify", "aggregate", "count", "distinct", "create", "drop", "dropDatabase", "listCollections", "listDatabases",
  "renameCollection", "createIndexes", "listIndexes", "dropIndexes", "collMod", "endSessions", "killAllSessions",
  "startSession", "commitTransaction", "abortTransaction", "configureFailPoint", "dbStats",
];
