/**
 * A runner for the MongoDB unified test format (source/unified-test-format in the MongoDB
 * specifications), as much of it as the vendored suites use against a single-member replica set:
 * entities client (with serverApi, uriOptions, command and CMAP event capture), database,
 * collection, session, bucket (GridFS) and cursor; the client, database, collection, session,
 * bucket, cursor and testRunner operations those suites use, `withTransaction` included;
 * `expectResult` with the `$$` operators; `expectError`; `expectEvents` (command and cmap);
 * `outcome`. It drives the store through the official driver only.
 */
import { EJSON } from "bson";
import { Readable } from "node:stream";
import { pipeline as streamPipeline } from "node:stream/promises";
import {
  AbstractCursor,
  Collection,
  Db,
  GridFSBucket,
  Long,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type ClientSession,
  type CommandFailedEvent,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Document,
  type MongoClientOptions,
} from "mongodb";

export const SERVER_VERSION = "7.0.14";

type Json = Document;

export interface SpecFile {
  description: string;
  schemaVersion: string;
  runOnRequirements?: Json[];
  createEntities?: Json[];
  initialData?: Json[];
  tests: SpecTest[];
}

export interface SpecTest {
  description: string;
  runOnRequirements?: Json[];
  skipReason?: string;
  operations: Json[];
  expectEvents?: Json[];
  outcome?: Json[];
}

export function loadSpecFile(text: string): SpecFile {
  return EJSON.parse(text, { relaxed: false }) as SpecFile;
}

function versionTuple(v: string): number[] {
  return v.split(".").map((x) => Number(x));
}

function cmpVersion(a: string, b: string): number {
  const x = versionTuple(a);
  const y = versionTuple(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Why the requirements are not met by the embedded store (a replica set of one, no auth), or null. */
export function unmetRequirement(reqs: Json[] | undefined): string | null {
  if (!reqs || reqs.length === 0) return null;
  const reasons: string[] = [];
  for (const r of reqs) {
    const why: string[] = [];
    if (r.minServerVersion && cmpVersion(SERVER_VERSION, String(r.minServerVersion)) < 0) why.push(`minServerVersion ${r.minServerVersion}`);
    if (r.maxServerVersion && cmpVersion(SERVER_VERSION, String(r.maxServerVersion)) > 0) why.push(`maxServerVersion ${r.maxServerVersion}`);
    if (Array.isArray(r.topologies) && !r.topologies.includes("replicaset")) why.push(`topologies ${r.topologies.join(",")}`);
    if (r.serverless === "require") why.push("serverless");
    if (r.auth === true) why.push("auth");
    if (r.csfle) why.push("csfle");
    if (r.serverParameters) why.push("serverParameters");
    if (why.length === 0) return null;
    reasons.push(why.join(" "));
  }
  return reasons.join(" | ");
}

// ---------- matching ----------

export class MatchError extends Error {}

function fail(path: string, msg: string): never {
  throw new MatchError(`${path || "<root>"}: ${msg}`);
}

function bsonTypeOf(v: unknown): string {
  return v !== null && typeof v === "object" ? ((v as { _bsontype?: string })._bsontype ?? "") : "";
}

function numericValue(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  const t = bsonTypeOf(v);
  if (t === "Int32" || t === "Double") return (v as { value: number }).value;
  if (t === "Long") return (v as Long).toNumber();
  return null;
}

const TYPE_CHECK: Record<string, (v: unknown) => boolean> = {
  double: (v) => (typeof v === "number") || bsonTypeOf(v) === "Double",
  string: (v) => typeof v === "string",
  object: (v) => typeof v === "object" && v !== null && !Array.isArray(v) && bsonTypeOf(v) === "",
  array: (v) => Array.isArray(v),
  binData: (v) => bsonTypeOf(v) === "Binary",
  objectId: (v) => bsonTypeOf(v) === "ObjectId",
  bool: (v) => typeof v === "boolean",
  date: (v) => v instanceof Date,
  null: (v) => v === null,
  regex: (v) => v instanceof RegExp || bsonTypeOf(v) === "BSONRegExp",
  timestamp: (v) => bsonTypeOf(v) === "Timestamp",
  decimal: (v) => bsonTypeOf(v) === "Decimal128",
  int: (v) => (typeof v === "number" && Number.isInteger(v)) || bsonTypeOf(v) === "Int32",
  long: (v) => (typeof v === "number" && Number.isInteger(v)) || bsonTypeOf(v) === "Long" || typeof v === "bigint",
};

export interface MatchContext {
  sessionLsid(name: string): Document | undefined;
  entity(name: string): unknown;
}

/**
 * Does `actual` match `expected` by the unified format's rules? Root-level documents may carry
 * extra fields; nested ones may not (unless `allowExtraNested`). Numbers compare by value.
 */
export function match(actual: unknown, expected: unknown, ctx: MatchContext, path = "", root = true, strictRoot = false, lenient = false, rootArray = false): void {
  if (actual instanceof Map) actual = Object.fromEntries(actual); // the driver keeps `sort` as a Map
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected) && bsonTypeOf(expected) === "" && !(expected instanceof Date)) {
    const e = expected as Document;
    const keys = Object.keys(e);
    if (keys.length === 1 && keys[0].startsWith("$$")) {
      special(actual, e, ctx, path, root, strictRoot);
      return;
    }
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) fail(path, `expected a document, got ${show(actual)}`);
    const a = actual as Document;
    for (const k of keys) {
      const ev = e[k];
      if (isPlainDoc(ev) && Object.keys(ev).length === 1 && "$$exists" in ev) {
        const present = k in a && a[k] !== undefined;
        if (present !== Boolean(ev.$$exists)) fail(`${path}.${k}`, ev.$$exists ? "expected to exist" : `expected not to exist, got ${show(a[k])}`);
        continue;
      }
      if (isPlainDoc(ev) && Object.keys(ev).length === 1 && "$$unsetOrMatches" in ev && (!(k in a) || a[k] === undefined)) continue;
      if (!(k in a)) fail(`${path}.${k}`, "missing");
      match(a[k], ev, ctx, `${path}.${k}`, false, strictRoot, lenient);
    }
    if ((!root && !lenient) || strictRoot) {
      for (const k of Object.keys(a)) if (!(k in e) && a[k] !== undefined) fail(`${path}.${k}`, `unexpected field ${show(a[k])}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) fail(path, `expected an array, got ${show(actual)}`);
    if (actual.length !== expected.length) fail(path, `expected ${expected.length} elements, got ${actual.length}: ${show(actual)}`);
    expected.forEach((x, i) => match(actual[i], x, ctx, `${path}[${i}]`, rootArray, strictRoot, lenient));
    return;
  }
  const en = numericValue(expected);
  if (en !== null) {
    const an = numericValue(actual);
    if (an === null) fail(path, `expected number ${show(expected)}, got ${show(actual)}`);
    if (!(an === en || (Number.isNaN(an) && Number.isNaN(en)))) fail(path, `expected ${en}, got ${an}`);
    return;
  }
  if (expected instanceof Date) {
    if (!(actual instanceof Date) || actual.getTime() !== expected.getTime()) fail(path, `expected ${show(expected)}, got ${show(actual)}`);
    return;
  }
  const et = bsonTypeOf(expected);
  if (et) {
    if (bsonTypeOf(actual) !== et && !(et === "BSONRegExp" && actual instanceof RegExp)) fail(path, `expected ${et} ${show(expected)}, got ${show(actual)}`);
    if (EJSON.stringify(actual as Document) !== EJSON.stringify(expected as Document)) fail(path, `expected ${show(expected)}, got ${show(actual)}`);
    return;
  }
  if (actual !== expected) fail(path, `expected ${show(expected)}, got ${show(actual)}`);
}

function special(actual: unknown, e: Document, ctx: MatchContext, path: string, root: boolean, strictRoot: boolean): void {
  const op = Object.keys(e)[0];
  const arg = e[op];
  switch (op) {
    case "$$unsetOrMatches":
      if (actual === undefined || actual === null) return;
      match(actual, arg, ctx, path, root, strictRoot);
      return;
    case "$$exists": {
      const present = actual !== undefined;
      if (present !== Boolean(arg)) fail(path, arg ? "expected to exist" : "expected not to exist");
      return;
    }
    case "$$type": {
      const types = Array.isArray(arg) ? arg : [arg];
      if (!types.some((t: string) => TYPE_CHECK[t]?.(actual))) fail(path, `expected type ${types.join("|")}, got ${show(actual)}`);
      return;
    }
    case "$$sessionLsid": {
      const lsid = ctx.sessionLsid(String(arg));
      if (!lsid) fail(path, `no session entity ${String(arg)}`);
      if (EJSON.stringify(lsid) !== EJSON.stringify(actual as Document)) fail(path, `lsid ${show(actual)} is not session ${String(arg)}'s ${show(lsid)}`);
      return;
    }
    case "$$matchesEntity":
      match(actual, ctx.entity(String(arg)), ctx, path, root, strictRoot);
      return;
    case "$$matchesHexBytes": {
      const bytes = actual instanceof Uint8Array ? Buffer.from(actual) : bsonTypeOf(actual) === "Binary" ? Buffer.from((actual as { buffer: Uint8Array }).buffer) : null;
      if (!bytes || bytes.toString("hex") !== String(arg).toLowerCase()) fail(path, `expected bytes ${String(arg)}, got ${bytes ? bytes.toString("hex") : show(actual)}`);
      return;
    }
    case "$$matchAsRoot":
      match(actual, arg, ctx, path, true, false);
      return;
    case "$$matchAsDocument":
      match(typeof actual === "string" ? EJSON.parse(actual, { relaxed: false }) : actual, arg, ctx, path, false, strictRoot);
      return;
    case "$$lte": {
      const a = numericValue(actual);
      const b = numericValue(arg);
      if (a === null || b === null || a > b) fail(path, `expected <= ${show(arg)}, got ${show(actual)}`);
      return;
    }
    default:
      fail(path, `unsupported operator ${op}`);
  }
}

function isPlainDoc(v: unknown): v is Document {
  return v !== null && typeof v === "object" && !Array.isArray(v) && bsonTypeOf(v) === "" && !(v instanceof Date);
}

function show(v: unknown): string {
  try {
    return v === undefined ? "undefined" : EJSON.stringify(v as Document, { relaxed: true });
  } catch {
    return String(v);
  }
}

// ---------- entities and operations ----------

type CommandEvent = CommandStartedEvent | CommandSucceededEvent | CommandFailedEvent;

interface ClientEntity {
  client: MongoClient;
  observe: Set<string>;
  ignore: Set<string>;
  observeSensitive: boolean;
  capturing: boolean;
  /** Command events (kind: commandStartedEvent, …), in order. */
  events: { kind: string; ev: CommandEvent }[];
  /** CMAP events (kind: poolClearedEvent, connectionCheckedOutEvent, …), in order. */
  cmap: { kind: string; ev: Document }[];
}

const SENSITIVE = new Set(["hello", "ismaster", "isMaster", "saslStart", "saslContinue", "getnonce", "authenticate", "createUser", "updateUser", "copydbgetnonce", "copydbsaslstart", "copydb"]);

/** The driver's CMAP event names → the unified format's. */
const CMAP_EVENTS: Record<string, string> = {
  connectionPoolCreated: "poolCreatedEvent",
  connectionPoolReady: "poolReadyEvent",
  connectionPoolCleared: "poolClearedEvent",
  connectionPoolClosed: "poolClosedEvent",
  connectionCreated: "connectionCreatedEvent",
  connectionReady: "connectionReadyEvent",
  connectionClosed: "connectionClosedEvent",
  connectionCheckOutStarted: "connectionCheckOutStartedEvent",
  connectionCheckOutFailed: "connectionCheckOutFailedEvent",
  connectionCheckedOut: "connectionCheckedOutEvent",
  connectionCheckedIn: "connectionCheckedInEvent",
};

/** Operations whose result is a cursor's documents (an array matched element by element as roots). */
const ITERABLE_RESULTS = new Set(["find", "aggregate", "listCollections", "listCollectionObjects", "listIndexes", "listSearchIndexes", "runCursorCommand"]);

export class UnifiedRunner {
  private readonly entities = new Map<string, unknown>();
  private readonly clients = new Map<string, ClientEntity>();
  private readonly failPointsSet: { client: MongoClient; name: string }[] = [];

  constructor(private readonly uri: string, private readonly admin: MongoClient) {}

  private ctx(): MatchContext {
    return {
      sessionLsid: (name) => (this.entities.get(name) as ClientSession | undefined)?.id,
      entity: (name) => this.entities.get(name),
    };
  }

  async runTest(file: SpecFile, test: SpecTest): Promise<void> {
    try {
      await this.admin.db("admin").command({ killAllSessions: [] }).catch(() => undefined);
      for (const d of file.initialData ?? []) {
        const db = this.admin.db(String(d.databaseName));
        await db.collection(String(d.collectionName)).drop({ writeConcern: { w: "majority" } }).catch(() => undefined);
        await db.createCollection(String(d.collectionName), { writeConcern: { w: "majority" }, ...(d.createOptions ?? {}) });
        if ((d.documents as Document[]).length) {
          await db.collection(String(d.collectionName)).insertMany(d.documents as Document[], { writeConcern: { w: "majority" } });
        }
      }
      await this.createEntities(file.createEntities ?? []);
      for (const op of test.operations) await this.runOperation(op);
      for (const c of this.clients.values()) c.capturing = false;
      if (test.expectEvents) this.checkEvents(test.expectEvents);
      for (const o of test.outcome ?? []) {
        const docs = await this.admin
          .db(String(o.databaseName))
          .collection(String(o.collectionName))
          .find({}, { sort: { _id: 1 }, readConcern: { level: "local" }, promoteValues: false, promoteLongs: false })
          .toArray();
        match(docs, o.documents, this.ctx(), `outcome ${String(o.collectionName)}`, false, true);
      }
    } finally {
      for (const fp of this.failPointsSet) {
        await fp.client.db("admin").command({ configureFailPoint: fp.name, mode: "off" }).catch(() => undefined);
      }
      this.failPointsSet.length = 0;
      for (const [, v] of this.entities) {
        if (v instanceof AbstractCursor) await v.close().catch(() => undefined);
      }
      for (const [, v] of this.entities) {
        if (isSession(v)) await v.endSession().catch(() => undefined);
      }
      for (const c of this.clients.values()) await c.client.close().catch(() => undefined);
      this.entities.clear();
      this.clients.clear();
    }
  }

  private async createEntities(list: Json[]): Promise<void> {
    for (const e of list) {
      const [kind, spec] = Object.entries(e)[0] as [string, Json];
      const id = String(spec.id);
      if (kind === "client") {
        const params = new URLSearchParams();
        const base = new URL(this.uri);
        for (const [k, v] of base.searchParams) params.set(k, v);
        for (const [k, v] of Object.entries((spec.uriOptions as Json) ?? {})) {
          if (k === "appname") params.set("appName", String(v));
          else params.set(k, typeof v === "object" && v !== null ? String(numericValue(v) ?? v) : String(v));
        }
        if (spec.uriOptions?.heartbeatFrequencyMS === undefined) params.set("heartbeatFrequencyMS", "500");
        const options: MongoClientOptions = { monitorCommands: true, serverSelectionTimeoutMS: 5000 };
        if (spec.serverApi) options.serverApi = plainNumbers(spec.serverApi) as MongoClientOptions["serverApi"];
        const client = new MongoClient(`mongodb://${base.host}/?${params.toString()}`, options);
        const ent: ClientEntity = {
          client,
          observe: new Set((spec.observeEvents as string[]) ?? []),
          ignore: new Set((spec.ignoreCommandMonitoringEvents as string[]) ?? []),
          observeSensitive: spec.observeSensitiveCommands === true,
          capturing: true,
          events: [],
          cmap: [],
        };
        const record = (kind: string) => (ev: CommandEvent): void => {
          if (!ent.capturing || !ent.observe.has(kind)) return;
          if (ent.ignore.has(ev.commandName) || ev.commandName === "configureFailPoint") return;
          if (!ent.observeSensitive && (SENSITIVE.has(ev.commandName) || isRedacted(ev))) return;
          ent.events.push({ kind, ev });
        };
        client.on("commandStarted", record("commandStartedEvent"));
        client.on("commandSucceeded", record("commandSucceededEvent"));
        client.on("commandFailed", record("commandFailedEvent"));
        for (const [driverName, kind] of Object.entries(CMAP_EVENTS)) {
          if (!ent.observe.has(kind)) continue;
          client.on(driverName as "connectionCreated", (ev: unknown) => {
            if (ent.capturing) ent.cmap.push({ kind, ev: ev as Document });
          });
        }
        this.clients.set(id, ent);
        this.entities.set(id, client);
      } else if (kind === "database") {
        const client = this.entities.get(String(spec.client)) as MongoClient;
        this.entities.set(id, client.db(String(spec.databaseName), opts(spec.databaseOptions)));
      } else if (kind === "collection") {
        const db = this.entities.get(String(spec.database)) as Db;
        this.entities.set(id, db.collection(String(spec.collectionName), opts(spec.collectionOptions)));
      } else if (kind === "session") {
        const client = this.entities.get(String(spec.client)) as MongoClient;
        const so = plainNumbers(spec.sessionOptions ?? {}) as Json;
        if (so.defaultTransactionOptions) so.defaultTransactionOptions = opts(so.defaultTransactionOptions);
        this.entities.set(id, client.startSession(so));
      } else if (kind === "bucket") {
        const db = this.entities.get(String(spec.database)) as Db;
        this.entities.set(id, new GridFSBucket(db, opts(spec.bucketOptions)));
      } else {
        throw new Error(`unsupported entity kind ${kind}`);
      }
    }
  }

  private checkEvents(expected: Json[]): void {
    for (const exp of expected) {
      const type = String(exp.eventType ?? "command");
      const ent = this.clients.get(String(exp.client));
      if (!ent) throw new MatchError(`no client ${String(exp.client)}`);
      const want = exp.events as Json[];
      const actual: { kind: string; ev: Document }[] = type === "command" ? ent.events : type === "cmap" ? ent.cmap : [];
      if (type !== "command" && type !== "cmap") throw new Error(`unsupported eventType ${type}`);
      const name = (a: { kind: string; ev: Document }): string => (type === "command" ? `${a.kind}(${String(a.ev.commandName)})` : a.kind);
      if (exp.ignoreExtraEvents ? actual.length < want.length : actual.length !== want.length) {
        throw new MatchError(`${type} events: expected ${want.map((w) => `${Object.keys(w)[0]}(${String(Object.values(w)[0].commandName ?? (Object.values(w)[0].command ? Object.keys(Object.values(w)[0].command)[0] : ""))})`).join(", ")}; got ${actual.map(name).join(", ")}`);
      }
      want.forEach((w, i) => {
        const [kind, spec] = Object.entries(w)[0] as [string, Json];
        const a = actual[i];
        const p = `events[${i}]`;
        if (a.kind !== kind) throw new MatchError(`${p}: expected ${kind}, got ${name(a)}`);
        if (type === "cmap") {
          if (spec.hasServiceId === true && a.ev.serviceId == null) throw new MatchError(`${p}: expected a serviceId`);
          if (spec.interruptInUseConnections !== undefined && a.ev.interruptInUseConnections !== spec.interruptInUseConnections) {
            throw new MatchError(`${p}: expected interruptInUseConnections ${String(spec.interruptInUseConnections)}`);
          }
          return;
        }
        if (spec.commandName !== undefined && spec.commandName !== a.ev.commandName) throw new MatchError(`${p}: expected command ${String(spec.commandName)}, got ${String(a.ev.commandName)}`);
        if (spec.databaseName !== undefined && spec.databaseName !== a.ev.databaseName) throw new MatchError(`${p}: expected database ${String(spec.databaseName)}, got ${String(a.ev.databaseName)}`);
        if (spec.hasServerConnectionId === true && typeof a.ev.serverConnectionId !== "bigint") throw new MatchError(`${p}: expected a serverConnectionId, got ${String(a.ev.serverConnectionId)}`);
        if (spec.hasServerConnectionId === false && a.ev.serverConnectionId != null) throw new MatchError(`${p}: expected no serverConnectionId`);
        if (spec.hasServiceId === true && a.ev.serviceId == null) throw new MatchError(`${p}: expected a serviceId`);
        if (spec.hasServiceId === false && a.ev.serviceId != null) throw new MatchError(`${p}: expected no serviceId`);
        // Nested fields the driver adds on its own (e.g. writeConcern.wtimeout) are tolerated, as the
        // Node driver's own runner does: these tests check the store, not the driver's encoding.
        if (spec.command) match(a.ev.command, spec.command, this.ctx(), `${p}.command`, true, false, true);
        if (spec.reply) match(a.ev.reply, spec.reply, this.ctx(), `${p}.reply`, true, false, true);
      });
    }
  }

  /**
   * Run one operation and check its expectations. Inside a `withTransaction` callback
   * (`rethrow`), an error the operation expected (or ignores) is thrown on to the driver's
   * withTransaction, as the unified format requires.
   */
  private async runOperation(op: Json, rethrow = false): Promise<void> {
    let result: unknown;
    let error: unknown = null;
    try {
      result = await this.execute(op);
    } catch (e) {
      if (e instanceof MatchError) throw e;
      error = e;
    }
    if (op.expectError) {
      if (!error) throw new MatchError(`${String(op.name)}: expected an error, got ${show(result)}`);
      this.checkError(error, op.expectError as Json, String(op.name));
      if (rethrow) throw error;
      return;
    }
    if (error) {
      if (op.ignoreResultAndError) {
        if (rethrow) throw error;
        return;
      }
      throw new MatchError(`${String(op.name)} failed unexpectedly: ${errText(error)}`);
    }
    if (op.expectResult !== undefined && !op.ignoreResultAndError) {
      match(normalizeResult(result), op.expectResult, this.ctx(), String(op.name), true, false, false, ITERABLE_RESULTS.has(String(op.name)));
    }
    if (op.saveResultAsEntity) this.entities.set(String(op.saveResultAsEntity), result);
  }

  private checkError(error: unknown, exp: Json, name: string): void {
    const e = error as MongoServerError & { errorLabels?: string[] };
    const isServer = error instanceof MongoServerError || (error instanceof MongoBulkWriteError && typeof e.code === "number");
    const p = `${name} error (${errText(error)})`;
    if (exp.isClientError === true && isServer) throw new MatchError(`${p}: expected a client error`);
    if (exp.isClientError === false && !isServer) throw new MatchError(`${p}: expected a server error`);
    if (exp.isTimeoutError === true && !/timeout|timed out/i.test(String(e.name) + String(e.message))) throw new MatchError(`${p}: expected a timeout error`);
    if (exp.errorContains !== undefined && !String(e.message).toLowerCase().includes(String(exp.errorContains).toLowerCase())) {
      throw new MatchError(`${p}: expected message to contain ${String(exp.errorContains)}`);
    }
    if (exp.errorCode !== undefined && e.code !== numericValue(exp.errorCode)) throw new MatchError(`${p}: expected code ${String(numericValue(exp.errorCode))}, got ${String(e.code)}`);
    if (exp.errorCodeName !== undefined && e.codeName !== exp.errorCodeName) throw new MatchError(`${p}: expected codeName ${String(exp.errorCodeName)}, got ${String(e.codeName)}`);
    const labels = typeof (e as { hasErrorLabel?: unknown }).hasErrorLabel === "function" ? (l: string) => e.hasErrorLabel(l) : (l: string) => (e.errorLabels ?? []).includes(l);
    for (const l of (exp.errorLabelsContain as string[]) ?? []) if (!labels(l)) throw new MatchError(`${p}: expected label ${l}; has ${JSON.stringify(e.errorLabels ?? [])}`);
    for (const l of (exp.errorLabelsOmit as string[]) ?? []) if (labels(l)) throw new MatchError(`${p}: expected no label ${l}`);
    if (exp.errorResponse) match((e as { errorResponse?: Document }).errorResponse ?? {}, exp.errorResponse, this.ctx(), `${name} errorResponse`);
    if (exp.expectResult !== undefined) {
      const partial = error instanceof MongoBulkWriteError ? error.result : undefined;
      match(normalizeResult(partial), exp.expectResult, this.ctx(), `${name} partial result`);
    }
  }

  private async execute(op: Json): Promise<unknown> {
    const name = String(op.name);
    const args: Json = {};
    for (const [k, v] of Object.entries((op.arguments as Json) ?? {})) args[k] = DOCUMENT_ARGS.has(k) ? v : plainNumbers(v);
    if (args.session) args.session = this.entities.get(String(args.session));
    if (op.object === "testRunner") return this.testRunnerOp(name, args);
    const target = this.entities.get(String(op.object));
    if (!target) throw new Error(`no entity ${String(op.object)}`);
    if (isSession(target)) return this.sessionOp(target, name, args);
    if (target instanceof MongoClient) return this.clientOp(target, name, args);
    if (target instanceof Collection) return this.collectionOp(target, name, args);
    if (target instanceof Db) return this.databaseOp(target, name, args);
    if (target instanceof GridFSBucket) return this.bucketOp(target, name, args);
    if (target instanceof AbstractCursor) return this.cursorOp(target, name);
    throw new Error(`unsupported operation ${name} on ${String(op.object)}`);
  }

  private lastTwoLsids(args: Json): [Document, Document] {
    const ent = this.clients.get(String(args.client));
    if (!ent) throw new Error(`no client ${String(args.client)}`);
    const started = ent.events.filter((e) => e.kind === "commandStartedEvent");
    if (started.length < 2) throw new MatchError(`fewer than two commandStartedEvents on ${String(args.client)}`);
    const [a, b] = started.slice(-2).map((e) => (e.ev as CommandStartedEvent).command.lsid as Document | undefined);
    if (!a || !b) throw new MatchError("a command without lsid");
    return [a, b];
  }

  private async testRunnerOp(name: string, args: Json): Promise<unknown> {
    switch (name) {
      case "failPoint": {
        const fp = args.failPoint as Json;
        await this.admin.db("admin").command(fp);
        this.failPointsSet.push({ client: this.admin, name: String(fp.configureFailPoint) });
        return undefined;
      }
      case "assertSessionTransactionState": {
        const s = args.session as ClientSession & { transaction: { state: string } };
        const map: Record<string, string> = {
          none: "NO_TRANSACTION",
          starting: "STARTING_TRANSACTION",
          in_progress: "TRANSACTION_IN_PROGRESS",
          committed: "TRANSACTION_COMMITTED",
          aborted: "TRANSACTION_ABORTED",
        };
        if (s.transaction.state !== map[String(args.state)]) throw new MatchError(`session state ${s.transaction.state}, expected ${String(args.state)}`);
        return undefined;
      }
      case "assertSessionDirty":
      case "assertSessionNotDirty": {
        const s = args.session as ClientSession & { serverSession?: { isDirty?: boolean } };
        const dirty = s.serverSession?.isDirty === true;
        if (dirty !== (name === "assertSessionDirty")) throw new MatchError(`${name}: the session is ${dirty ? "" : "not "}dirty`);
        return undefined;
      }
      case "assertSameLsidOnLastTwoCommands":
      case "assertDifferentLsidOnLastTwoCommands": {
        const [a, b] = this.lastTwoLsids(args);
        const same = EJSON.stringify(a) === EJSON.stringify(b);
        if (same !== (name === "assertSameLsidOnLastTwoCommands")) throw new MatchError(`${name}: ${show(a)} vs ${show(b)}`);
        return undefined;
      }
      case "assertCollectionExists":
      case "assertCollectionNotExists": {
        const names = (await this.admin.db(String(args.databaseName)).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
        const has = names.includes(String(args.collectionName));
        if (has !== (name === "assertCollectionExists")) throw new MatchError(`${name} ${String(args.collectionName)} failed`);
        return undefined;
      }
      case "assertIndexExists":
      case "assertIndexNotExists": {
        let names: string[] = [];
        try {
          names = (await this.admin.db(String(args.databaseName)).collection(String(args.collectionName)).listIndexes().toArray()).map((i) => String(i.name));
        } catch {
          names = [];
        }
        if (names.includes(String(args.indexName)) !== (name === "assertIndexExists")) throw new MatchError(`${name} ${String(args.indexName)} failed`);
        return undefined;
      }
      case "createEntities":
        await this.createEntities(args.entities as Json[]);
        return undefined;
      default:
        throw new Error(`unsupported testRunner operation ${name}`);
    }
  }

  private async sessionOp(s: ClientSession, name: string, args: Json): Promise<unknown> {
    switch (name) {
      case "startTransaction":
        s.startTransaction(opts(args));
        return undefined;
      case "commitTransaction":
        return s.commitTransaction();
      case "abortTransaction":
        return s.abortTransaction();
      case "endSession":
        return s.endSession();
      case "withTransaction": {
        const { callback, ...o } = args;
        await s.withTransaction(async () => {
          for (const op of callback as Json[]) await this.runOperation(op, true);
        }, opts(o));
        return undefined;
      }
      default:
        throw new Error(`unsupported session operation ${name}`);
    }
  }

  private async clientOp(client: MongoClient, name: string, args: Json): Promise<unknown> {
    switch (name) {
      case "listDatabases":
        return (await client.db().admin().listDatabases(args)).databases;
      case "listDatabaseNames":
        return (await client.db().admin().listDatabases({ ...args, nameOnly: true })).databases.map((d) => d.name);
      case "listDatabaseObjects":
        return (await client.db().admin().listDatabases(args)).databases;
      case "close":
        return client.close();
      default:
        throw new Error(`unsupported client operation ${name}`);
    }
  }

  private async cursorOp(cursor: AbstractCursor, name: string): Promise<unknown> {
    switch (name) {
      case "iterateUntilDocumentOrError":
        return cursor.next();
      case "iterateOnce":
        return cursor.tryNext();
      case "close":
        return cursor.close();
      default:
        throw new Error(`unsupported cursor operation ${name}`);
    }
  }

  private async databaseOp(db: Db, name: string, args: Json): Promise<unknown> {
    const { session } = args;
    switch (name) {
      case "runCommand": {
        const o: Json = { session };
        if (args.readPreference) o.readPreference = args.readPreference.mode;
        return db.command(args.command as Json, o);
      }
      case "runCursorCommand":
      case "createCommandCursor": {
        const { command, cursorType, batchSize, maxTimeMS, comment, readPreference } = args;
        const cursor = db.runCursorCommand(command as Json, {
          session: session as ClientSession | undefined,
          ...(readPreference ? { readPreference: readPreference.mode } : {}),
          ...(cursorType === "tailable" || cursorType === "tailableAwait" ? { tailable: true, awaitData: cursorType === "tailableAwait" } : {}),
        });
        if (batchSize !== undefined) cursor.setBatchSize(Number(batchSize));
        if (maxTimeMS !== undefined) cursor.setMaxTimeMS(Number(maxTimeMS));
        if (comment !== undefined) cursor.setComment(comment);
        if (name === "runCursorCommand") return cursor.toArray();
        await cursor.hasNext();
        return cursor;
      }
      case "aggregate": {
        const { pipeline, ...rest } = args;
        return db.aggregate(pipeline as Json[], rest).toArray();
      }
      case "createCollection": {
        const { collection, ...rest } = args;
        return db.createCollection(String(collection), rest);
      }
      case "dropCollection": {
        const { collection, ...rest } = args;
        return db.dropCollection(String(collection), rest).catch((e: unknown) => {
          if (e instanceof MongoServerError && e.code === 26) return false;
          throw e;
        });
      }
      case "modifyCollection": {
        const { collection, ...rest } = args;
        return db.command({ collMod: collection, ...rest });
      }
      case "listCollections":
      case "listCollectionObjects": {
        const { filter, ...rest } = args;
        return db.listCollections(filter as Json, rest).toArray();
      }
      case "listCollectionNames": {
        const { filter, ...rest } = args;
        return (await db.listCollections(filter as Json, { ...rest, nameOnly: true }).toArray()).map((c) => c.name);
      }
      default:
        throw new Error(`unsupported database operation ${name}`);
    }
  }

  private async bucketOp(bucket: GridFSBucket, name: string, args: Json): Promise<unknown> {
    switch (name) {
      case "upload": {
        const { filename, source, ...o } = args;
        const stream = bucket.openUploadStream(String(filename), o);
        await streamPipeline(Readable.from([Buffer.from(String((source as Json).$$hexBytes), "hex")]), stream);
        return stream.id;
      }
      case "download": {
        const { id, ...o } = args;
        return Buffer.concat(await bucket.openDownloadStream(id, o).toArray());
      }
      case "downloadByName": {
        const { filename, ...o } = args;
        return Buffer.concat(await bucket.openDownloadStreamByName(String(filename), o).toArray());
      }
      case "delete":
        return bucket.delete(args.id);
      case "rename":
        return bucket.rename(args.id, String(args.newFilename));
      case "drop":
        return bucket.drop();
      default:
        throw new Error(`unsupported bucket operation ${name}`);
    }
  }

  private async collectionOp(c: Collection, name: string, args: Json): Promise<unknown> {
    const rd = (o: Json): Json => {
      const out = { ...o };
      if (out.returnDocument) out.returnDocument = String(out.returnDocument).toLowerCase();
      return out;
    };
    switch (name) {
      case "insertOne": {
        const { document, ...o } = args;
        return c.insertOne({ ...(document as Json) }, o);
      }
      case "insertMany": {
        const { documents, ...o } = args;
        return c.insertMany((documents as Json[]).map((d) => ({ ...d })), o);
      }
      case "deleteOne": {
        const { filter, ...o } = args;
        return c.deleteOne(filter as Json, o);
      }
      case "deleteMany": {
        const { filter, ...o } = args;
        return c.deleteMany(filter as Json, o);
      }
      case "updateOne": {
        const { filter, update, ...o } = args;
        return c.updateOne(filter as Json, update as Json, o);
      }
      case "updateMany": {
        const { filter, update, ...o } = args;
        return c.updateMany(filter as Json, update as Json, o);
      }
      case "replaceOne": {
        const { filter, replacement, ...o } = args;
        return c.replaceOne(filter as Json, replacement as Json, o);
      }
      case "findOneAndUpdate": {
        const { filter, update, ...o } = args;
        return c.findOneAndUpdate(filter as Json, update as Json, rd(o));
      }
      case "findOneAndReplace": {
        const { filter, replacement, ...o } = args;
        return c.findOneAndReplace(filter as Json, replacement as Json, rd(o));
      }
      case "findOneAndDelete": {
        const { filter, ...o } = args;
        return c.findOneAndDelete(filter as Json, o);
      }
      case "find": {
        const { filter, ...o } = args;
        return c.find(filter as Json, o).toArray();
      }
      case "createFindCursor": {
        const { filter, cursorType, ...o } = args;
        if (cursorType === "tailable" || cursorType === "tailableAwait") Object.assign(o, { tailable: true, awaitData: cursorType === "tailableAwait" });
        const cursor = c.find(filter as Json, o);
        await cursor.hasNext();
        return cursor;
      }
      case "findOne": {
        const { filter, ...o } = args;
        return c.findOne(filter as Json, o);
      }
      case "aggregate": {
        const { pipeline, ...o } = args;
        return c.aggregate(pipeline as Json[], o).toArray();
      }
      case "countDocuments": {
        const { filter, ...o } = args;
        return c.countDocuments(filter as Json, o);
      }
      case "estimatedDocumentCount":
        return c.estimatedDocumentCount(args);
      case "count": {
        const { filter, ...o } = args;
        return (c as unknown as { count(f: Json, o: Json): Promise<number> }).count(filter as Json, o);
      }
      case "distinct": {
        const { fieldName, filter, ...o } = args;
        return c.distinct(String(fieldName), filter as Json, o);
      }
      case "createIndex": {
        const { keys, ...o } = args;
        return c.createIndex(keys as Json, o);
      }
      case "dropIndex": {
        const { name: n, ...o } = args;
        return c.dropIndex(String(n), o);
      }
      case "dropIndexes":
        return c.dropIndexes(args);
      case "listIndexes":
        return c.listIndexes(args).toArray();
      case "listIndexNames":
        return (await c.listIndexes(args).toArray()).map((i) => i.name);
      case "rename": {
        const { to, ...o } = args;
        return c.rename(String(to), o);
      }
      case "createSearchIndex":
        return c.createSearchIndex(args.model as never);
      case "createSearchIndexes":
        return c.createSearchIndexes(args.models as never);
      case "dropSearchIndex":
        return c.dropSearchIndex(String(args.name));
      case "updateSearchIndex":
        return c.updateSearchIndex(String(args.name), args.definition as Json);
      case "listSearchIndexes": {
        const { name: n, aggregationOptions } = args;
        return (n === undefined ? c.listSearchIndexes(aggregationOptions as Json) : c.listSearchIndexes(String(n), aggregationOptions as Json)).toArray();
      }
      case "bulkWrite": {
        const { requests, ...o } = args;
        const reqs = (requests as Json[]).map((r) => {
          const [k, v] = Object.entries(r)[0] as [string, Json];
          if (k === "insertOne") return { insertOne: { document: { ...(v.document as Json) } } };
          return { [k]: v };
        });
        return c.bulkWrite(reqs as never, o);
      }
      default:
        throw new Error(`unsupported collection operation ${name}`);
    }
  }
}

/** A command event the driver redacted (a sensitive command: its command or reply is emptied). */
function isRedacted(ev: CommandEvent): boolean {
  const body = "command" in ev ? ev.command : "reply" in ev ? ev.reply : undefined;
  return body !== undefined && (body === null || (typeof body === "object" && Object.keys(body as object).length === 0));
}

/** Arguments that are documents to store or match, kept with their BSON number types. */
const DOCUMENT_ARGS = new Set(["document", "documents", "replacement", "update", "filter", "pipeline", "requests", "command", "failPoint", "callback", "model", "models", "definition", "source"]);

/** Option values as the driver expects them: Int32/Double wrappers become JS numbers. */
function plainNumbers(v: unknown): unknown {
  const t = bsonTypeOf(v);
  if (t === "Int32" || t === "Double") return (v as { value: number }).value;
  if (Array.isArray(v)) return v.map(plainNumbers);
  if (isPlainDoc(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainNumbers(x)]));
  return v;
}

function isSession(v: unknown): v is ClientSession {
  return v !== null && typeof v === "object" && "startTransaction" in v && "commitTransaction" in v;
}

function opts(o: unknown): Json {
  const out: Json = { ...(plainNumbers(o ?? {}) as Json) };
  if (out.readPreference && typeof out.readPreference === "object") out.readPreference = out.readPreference.mode;
  if (out.timeoutMS !== undefined) delete out.timeoutMS;
  return out;
}

/** Make driver results comparable: bulk results as plain objects, insertedIds maps as objects. */
function normalizeResult(r: unknown): unknown {
  if (r === null || typeof r !== "object") return r;
  const ctor = (r as object).constructor?.name;
  if (ctor === "BulkWriteResult") {
    const b = r as Json;
    return {
      insertedCount: b.insertedCount,
      matchedCount: b.matchedCount,
      modifiedCount: b.modifiedCount,
      deletedCount: b.deletedCount,
      upsertedCount: b.upsertedCount,
      upsertedIds: b.upsertedIds,
      insertedIds: b.insertedIds,
    };
  }
  return r;
}

function errText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}${(e as { code?: number }).code !== undefined ? ` (code ${String((e as { code?: number }).code)})` : ""}`;
  return String(e);
}
