/**
 * The audit trail: this node's ledger entries as an auditor reads them (LocalApi.ListLedgerEntries,
 * docs/LOCAL_API.md "Ledger").
 *
 * Reads only. `ledger_entries` is written by the sequencer alone, and what the filters need —
 * the kind and `recorded_at` committed inside the entry bytes, the officers a local decision
 * names — lives inside those bytes, not in indexed fields. So the trail keeps its own derived
 * index collection, `ledger_trail`, one small document per entry:
 *
 *   ledger_trail   { _id: index, kind, at: recorded_at, max: the greatest `at` of entries 0..index,
 *                    late?: true (at < max: recorded before an earlier entry, a clock step),
 *                    officers: [officer id], leaf: hex }
 *                  indexes {kind, _id}, {officers, _id}, {max, _id}, {late, _id}
 *                  (created at local API start)
 *
 * Time ranges become index ranges exactly: `max` never decreases with the index, so the entries
 * recorded at or after `since` all lie at or after the first index whose `max` reaches `since`;
 * and those recorded before `until` lie at or before the last index whose `max` is before
 * `until`, or are `late` ones (normally none: one sequencer's clock). The `at` condition is
 * then checked on that range only.
 *
 * It is derived from the immutable entries, in index order, by whoever reads (`catchUp`: every
 * list first brings it up to the tree head; documents inserted in index order, so the highest
 * one present implies all below, and several processes may do it at once: one that finds a
 * document already written goes on from the highest), and can be dropped at any time: it is
 * rebuilt from the entries. It is never trusted for what is shown: each listed item is re-read from
 * `ledger_entries`, its leaf hash recomputed from the bytes and compared with the trail's; a
 * difference (a ledger restored under the trail) drops the trail from there and rebuilds it.
 *
 * What an item shows (the summary):
 * - envelope.sent / envelope.received: message id, body kind, sender, recipients, SHA-256 of the
 *   envelope bytes; receipt.issued / receipt.received: the receipt's message id, sender,
 *   receiving party, envelope SHA-256, the receiver's ledger index, and the body kind of the
 *   message this node holds under that id. Never the message bytes: they carry informants and
 *   victims.
 * - Local decisions (JSON): the members each kind is known to record (DECISION_MEMBERS), as
 *   recorded. None of them holds a protected value by design (ids, usernames, roles, counts,
 *   codes, fingerprints, this node's own fixed refusal texts, checkpoint notes, and a purpose
 *   that the node checked against the data before recording it). Anything else is withheld by
 *   name: a member not in the list, a value of the wrong type, a `purpose` on a refused read,
 *   and a partner's refusal text (`envelope.refused-by-partner` `reason`, the one member whose
 *   words this node did not write) when it quotes a protected party of the message it is
 *   about — or when that message cannot be found to check.
 */
import { createHash } from "node:crypto";
import { fromBinary, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { MongoServerError, type Collection, type Db, type Filter } from "mongodb";
import { LedgerEntrySchema } from "../../gen/liaison/v1/ledger_pb.ts";
import { MessageSchema } from "../../gen/liaison/v1/message_pb.ts";
import { ReceiptSchema, SignedEnvelopeSchema, SignedReceiptSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { COLLECTIONS as LEDGER_COLLECTIONS, hashLeaf, readTreeHead } from "../ledger/index.ts";
import { quotesProtected } from "../notices/index.ts";

export const LEDGER_TRAIL = "ledger_trail";

/** Kinds whose content is a SignedEnvelope. */
const ENVELOPE_KINDS = new Set(["envelope.sent", "envelope.received"]);
/** Kinds whose content is a SignedReceipt. */
const RECEIPT_KINDS = new Set(["receipt.issued", "receipt.received"]);

type MemberType = "string" | "strings" | "boolean" | "number";

/**
 * The members each local decision kind records (docs/PROTOCOL.md §11.1; `minutes.cosigned` from
 * LocalApi.ApproveDraft), with their JSON types. The strings are ids, names of officers' accounts,
 * codes, hashes, checkpoint notes and this node's own texts — except the partner's `reason` of
 * `envelope.refused-by-partner` (see the module comment).
 */
export const DECISION_MEMBERS: Readonly<Record<string, Readonly<Record<string, MemberType>>>> = {
  "envelope.rejected": { messageId: "string", peerParty: "string", code: "string", reason: "string", envelopeSha256: "string" },
  "envelope.refused-by-partner": { messageId: "string", recipient: "string", reason: "string" },
  "partner.onboarded": { party: "string", fingerprint: "string" },
  "officer.added": { officerId: "string", username: "string", roles: "strings", by: "string" },
  "officer.disabled": { officerId: "string", username: "string", by: "string" },
  "officer.enabled": { officerId: "string", username: "string", by: "string" },
  "draft.approved": { draftId: "string", messageId: "string", approver: "string", drafter: "string" },
  "draft.rejected": { draftId: "string", by: "string" },
  "minutes.cosigned": { minutesId: "string", messageId: "string", signingOfficer: "string", requestedBy: "string" },
  "protected.read": {
    kind: "string",
    at: "string",
    party: "string",
    officerId: "string",
    roles: "strings",
    messageId: "string",
    noticeId: "string",
    sourceMessageId: "string",
    fields: "strings",
    purpose: "string",
    granted: "boolean",
    refusal: "string",
    informants: "number",
    victims: "number",
  },
  "witness.alert": { partner: "string", kind: "string", reason: "string", evidence: "strings" },
};

/** The members of a local decision that name an officer (actor or subject), per kind. */
const OFFICER_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  "officer.added": ["officerId", "by"],
  "officer.disabled": ["officerId", "by"],
  "officer.enabled": ["officerId", "by"],
  "draft.approved": ["approver", "drafter"],
  "draft.rejected": ["by"],
  "minutes.cosigned": ["signingOfficer", "requestedBy"],
  "protected.read": ["officerId"],
};

/** Every kind this node records, in the order of docs/PROTOCOL.md §11.1. */
export const LEDGER_ENTRY_KINDS: readonly string[] = [...ENVELOPE_KINDS, ...RECEIPT_KINDS, ...Object.keys(DECISION_MEMBERS)];

/** One derived index document per ledger entry. */
export interface TrailDoc {
  _id: number;
  kind: string;
  at: Date;
  /** The greatest `at` of the entries up to this one: never decreases with the index. */
  max: Date;
  /** Set when `at` < the previous entry's `max`. */
  late?: true;
  officers: string[];
  /** The entry's leaf hash (hex) when the document was derived. */
  leaf: string;
}

export interface TrailFilter {
  kinds?: readonly string[];
  /** Inclusive index bounds. */
  fromIndex?: number;
  toIndex?: number;
  /** recorded_at in [since, until). */
  since?: Date;
  until?: Date;
  officerId?: string;
}

export interface EnvelopeSummary {
  messageId: string;
  bodyKind: string;
  sender: string;
  recipients: string[];
  envelopeSha256: Uint8Array;
  receiverLedgerIndex: number;
}

export interface TrailItem {
  index: number;
  kind: string;
  recordedAt: Date;
  leafHash: Uint8Array;
  officerIds: string[];
  summary: { case: "decision"; value: JsonObject } | { case: "envelope"; value: EnvelopeSummary } | { case: undefined };
  withheld: string[];
}

export interface TrailPage {
  items: TrailItem[];
  /** More entries match below the last item. */
  more: boolean;
  /** The tree size the page was read against. */
  treeSize: number;
}

interface EntryDoc {
  _id: number;
  kind: string;
  bytes: { buffer: Uint8Array; position?: number };
  appendedAt?: Date;
}

/** Bytes of a BSON Binary as the driver returns it. */
function bytesOf(binary: EntryDoc["bytes"]): Uint8Array {
  const buffer = new Uint8Array(binary.buffer);
  return binary.position === undefined ? buffer : buffer.subarray(0, binary.position);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

interface Decoded {
  kind: string;
  content: Uint8Array;
  recordedAt: Date;
  /** False when the bytes are not a LedgerEntry (then kind is the stored label, content empty). */
  readable: boolean;
}

function decodeEntry(doc: EntryDoc, bytes: Uint8Array): Decoded {
  try {
    const entry = fromBinary(LedgerEntrySchema, bytes);
    return { kind: entry.kind, content: entry.content, recordedAt: entry.recordedAt ? timestampDate(entry.recordedAt) : (doc.appendedAt ?? new Date(0)), readable: true };
  } catch {
    return { kind: doc.kind, content: new Uint8Array(0), recordedAt: doc.appendedAt ?? new Date(0), readable: false };
  }
}

/** The JSON object of a local decision, or undefined when the content is not one. */
function jsonObjectOf(content: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(content));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function officersOf(kind: string, json: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  for (const member of OFFICER_MEMBERS[kind] ?? []) {
    const value = json?.[member];
    if (typeof value === "string" && value !== "" && !out.includes(value)) out.push(value);
  }
  return out;
}

function hasType(value: unknown, type: MemberType): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "strings":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    case "boolean":
      return typeof value === "boolean";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
  }
}

const PROTECTED_PARTY = "liaison.v1.ProtectedParty";

/** Every ProtectedParty (informant, victim) inside a decoded message. */
function protectedPartiesIn(value: unknown, out: unknown[] = []): unknown[] {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return out;
  if (Array.isArray(value)) {
    for (const item of value) protectedPartiesIn(item, out);
    return out;
  }
  if ((value as { $typeName?: string }).$typeName === PROTECTED_PARTY) {
    out.push(value);
    return out;
  }
  for (const child of Object.values(value)) protectedPartiesIn(child, out);
  return out;
}

export class LedgerTrail {
  private readonly trail: Collection<TrailDoc>;
  private readonly entries: Collection<EntryDoc>;
  private readonly log = createLogger("ledger-trail");
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: { batch?: number } = {},
  ) {
    this.trail = db.collection<TrailDoc>(LEDGER_TRAIL);
    this.entries = db.collection<EntryDoc>(LEDGER_COLLECTIONS.entries);
  }

  /**
   * The trail's own indexes (its own collection: nothing of the ledger's index set is touched,
   * so no name or key conflicts with the sequencer's). Idempotent; every process may call it.
   */
  async ensureIndexes(): Promise<void> {
    await this.trail.createIndex({ kind: 1, _id: -1 }, { name: "kind_index" });
    await this.trail.createIndex({ officers: 1, _id: -1 }, { name: "officers_index" });
    await this.trail.createIndex({ max: 1, _id: 1 }, { name: "recorded_max" });
    await this.trail.createIndex({ late: 1, _id: -1 }, { name: "recorded_late" });
  }

  /**
   * Bring the trail up to `size` entries (default and at most: the tree head). Also repairs what
   * does not need the entries' bytes to notice: documents beyond the tree head (a ledger restored
   * under the trail) and missing documents (fewer documents than the highest index says).
   */
  async catchUp(size?: number): Promise<void> {
    const head = (await readTreeHead(this.db)).size;
    const target = Math.min(size ?? head, head);
    for (let repairs = 0; ; ) {
      const next = await this.nextIndex();
      // The head is read again after `next`: it only grows, so a trail beyond it was not derived
      // from this ledger (another process may have derived up to a head newer than `head`).
      if (next > head && next > (await readTreeHead(this.db)).size) {
        if (repairs++ > 2) throw new LiaisonError("LEDGER_CORRUPT", "the ledger trail keeps running ahead of the ledger");
        this.log.warn("ledger trail ahead of the ledger; dropped beyond the tree head", { trail: next, tree: head });
        await this.trail.deleteMany({ _id: { $gte: (await readTreeHead(this.db)).size } });
        continue;
      }
      if (next > 0 && (await this.trail.estimatedDocumentCount()) < next) {
        if (repairs++ > 2) throw new LiaisonError("LEDGER_CORRUPT", "the ledger trail keeps losing documents");
        this.log.warn("ledger trail has missing documents; rebuilding it", { highest: next - 1 });
        await this.trail.deleteMany({});
        continue;
      }
      if (next >= target) return;
      // One run at a time in this process; a run that ends short of `target` is followed by another.
      this.running ??= this.derive(target).finally(() => {
        this.running = undefined;
      });
      await this.running;
    }
  }

  private async nextIndex(): Promise<number> {
    const last = await this.trail.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next();
    return last ? last._id + 1 : 0;
  }

  /** Derive trail documents for entries [next, target), in index order. */
  private async derive(target: number): Promise<void> {
    let next = await this.nextIndex();
    if (next >= target) return;
    let max = next === 0 ? undefined : (await this.trail.findOne({ _id: next - 1 }, { projection: { max: 1 } }))?.max;
    const batch = this.options.batch ?? 500;
    const cursor = this.entries
      .find({ _id: { $gte: next, $lt: target } }, { projection: { _id: 1, kind: 1, bytes: 1, appendedAt: 1 } })
      .sort({ _id: 1 })
      .batchSize(Math.min(batch, 200));
    let docs: TrailDoc[] = [];
    /** False when another process wrote some of these first: this run stops, the caller goes on from the new highest. */
    const flush = async (): Promise<boolean> => {
      if (docs.length === 0) return true;
      try {
        // Ordered: documents land in index order, so the highest one present implies all below.
        await this.trail.insertMany(docs, { ordered: true });
        return true;
      } catch (error) {
        if (error instanceof MongoServerError && error.code === 11000) return false;
        throw error;
      } finally {
        docs = [];
      }
    };
    try {
      for await (const doc of cursor) {
        if (doc._id !== next) throw new LiaisonError("LEDGER_CORRUPT", `ledger entry ${next} is missing (the next stored entry is ${doc._id})`);
        const bytes = bytesOf(doc.bytes);
        const entry = decodeEntry(doc, bytes);
        const json = RECEIPT_KINDS.has(entry.kind) || ENVELOPE_KINDS.has(entry.kind) ? undefined : jsonObjectOf(entry.content);
        const late = max !== undefined && entry.recordedAt < max;
        if (!late) max = entry.recordedAt;
        docs.push({
          _id: doc._id,
          kind: entry.kind,
          at: entry.recordedAt,
          max: max!,
          ...(late ? { late: true as const } : {}),
          officers: officersOf(entry.kind, json),
          leaf: hex(hashLeaf(bytes)),
        });
        next += 1;
        if (docs.length >= batch && !(await flush())) return;
      }
      if (!(await flush())) return;
    } finally {
      await cursor.close();
    }
    if (next < target) throw new LiaisonError("LEDGER_CORRUPT", `ledger entry ${next} is missing (the tree head says ${target} entries)`);
  }

  /**
   * A page of entries, newest (highest index) first, below `before` when given. `treeSize` bounds
   * the listing (default: the current tree head), so later pages never shift.
   */
  async list(filter: TrailFilter, page: { limit: number; before?: number; treeSize?: number }): Promise<TrailPage> {
    const head = (await readTreeHead(this.db)).size;
    const treeSize = Math.min(head, page.treeSize ?? head);
    for (let attempt = 0; ; attempt++) {
      await this.catchUp(treeSize);
      const docs = await this.query(filter, page.limit + 1, Math.min(treeSize, page.before ?? treeSize));
      const items = await this.items(docs.slice(0, page.limit));
      if (typeof items === "number") {
        if (attempt >= 1) throw new LiaisonError("LEDGER_CORRUPT", `ledger entry ${items} changed after it was recorded`);
        this.log.warn("ledger trail does not match the ledger; rebuilding from the first difference", { index: items });
        await this.trail.deleteMany({ _id: { $gte: items } });
        continue;
      }
      return { items, more: docs.length > page.limit, treeSize };
    }
  }

  /** Matching trail documents below `below`, newest first, at most `limit`. */
  private async query(filter: TrailFilter, limit: number, below: number): Promise<TrailDoc[]> {
    const time = await this.timeBounds(filter.since, filter.until);
    const hi = Math.min(below - 1, filter.toIndex ?? Number.MAX_SAFE_INTEGER, time.hi);
    const lo = Math.max(filter.fromIndex ?? 0, time.lo);
    if (hi < lo) return [];
    const base: Filter<TrailDoc> = { _id: { $gte: lo, $lte: hi } };
    if (filter.since || filter.until) base.at = { ...(filter.since ? { $gte: filter.since } : {}), ...(filter.until ? { $lt: filter.until } : {}) };
    if (filter.officerId) base.officers = filter.officerId;
    const run = (f: Filter<TrailDoc>) => this.trail.find(f).sort({ _id: -1 }).limit(limit).toArray();
    if (!filter.kinds?.length) return run(base);
    // One query per kind, each in its {kind, _id} index order, merged: no in-memory sort of a
    // whole kind, on MongoDB or the embedded store.
    const perKind = await Promise.all(filter.kinds.map((kind) => run({ ...base, kind })));
    return perKind
      .flat()
      .sort((a, b) => b._id - a._id)
      .slice(0, limit);
  }

  /** The index range holding every entry recorded in [since, until) (see the module comment). */
  private async timeBounds(since: Date | undefined, until: Date | undefined): Promise<{ lo: number; hi: number }> {
    let lo = 0;
    let hi = Number.MAX_SAFE_INTEGER;
    if (since) {
      const first = await this.trail.find({ max: { $gte: since } }, { projection: { _id: 1 } }).sort({ max: 1, _id: 1 }).limit(1).next();
      lo = first ? first._id : Number.MAX_SAFE_INTEGER;
    }
    if (until) {
      const last = await this.trail.find({ max: { $lt: until } }, { projection: { _id: 1 } }).sort({ max: -1, _id: -1 }).limit(1).next();
      const late = await this.trail.find({ late: true, at: { $lt: until } }, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next();
      hi = Math.max(last?._id ?? -1, late?._id ?? -1);
    }
    return { lo, hi };
  }

  /**
   * The items for these trail documents, read from the entries a few at a time (an envelope may
   * be megabytes: only its summary is kept); the first stale index if an entry differs.
   */
  private async items(docs: TrailDoc[]): Promise<TrailItem[] | number> {
    if (docs.length === 0) return [];
    const byIndex = new Map<number, TrailItem>();
    const receipts = new Map<number, string>();
    const trailOf = new Map(docs.map((d) => [d._id, d]));
    const cursor = this.entries.find({ _id: { $in: docs.map((d) => d._id) } }, { projection: { _id: 1, kind: 1, bytes: 1, appendedAt: 1 } }).batchSize(20);
    for await (const entryDoc of cursor) {
      const doc = trailOf.get(entryDoc._id)!;
      const bytes = bytesOf(entryDoc.bytes);
      const leaf = hashLeaf(bytes);
      if (hex(leaf) !== doc.leaf) continue; // stale: below
      const entry = decodeEntry(entryDoc, bytes);
      const item: TrailItem = { index: doc._id, kind: entry.kind, recordedAt: entry.recordedAt, leafHash: leaf, officerIds: doc.officers, ...(await this.summary(entry)) };
      if (RECEIPT_KINDS.has(entry.kind) && item.summary.case === "envelope") receipts.set(doc._id, item.summary.value.messageId);
      byIndex.set(doc._id, item);
    }
    // An entry missing, or whose leaf is not the trail's: the first such index.
    const stale = docs.filter((d) => !byIndex.has(d._id)).map((d) => d._id);
    if (stale.length > 0) return Math.min(...stale);
    // A receipt names the message by id only: its body kind is that of the message this node holds.
    const bodyKinds = await this.bodyKindsOf(new Set(receipts.values()));
    for (const [index, messageId] of receipts) {
      const summary = byIndex.get(index)!.summary;
      if (summary.case === "envelope") summary.value.bodyKind = bodyKinds.get(messageId) ?? "";
    }
    return docs.map((d) => byIndex.get(d._id)!);
  }

  /** Body kinds (proto field names) of the messages this node sent or received under these ids. */
  private async bodyKindsOf(ids: Set<string>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (ids.size === 0) return out;
    for (const name of ["envelopes_sent", "envelopes_received"]) {
      const docs = this.db.collection<{ _id: string; bodyKind?: string }>(name).find({ _id: { $in: [...ids] } }, { projection: { bodyKind: 1 } });
      for await (const doc of docs) if (doc.bodyKind) out.set(doc._id, PROTO_NAME_OF_BODY.get(doc.bodyKind) ?? doc.bodyKind);
    }
    return out;
  }

  /** The summary of one entry (a receipt's body kind is filled in by `items`). */
  private async summary(entry: Decoded): Promise<Pick<TrailItem, "summary" | "withheld">> {
    const unreadable = (): Pick<TrailItem, "summary" | "withheld"> => ({ summary: { case: undefined }, withheld: ["content"] });
    if (!entry.readable) return unreadable();
    if (ENVELOPE_KINDS.has(entry.kind)) {
      try {
        // Decoded in memory for its header and body kind only; nothing else of it leaves here.
        const message = fromBinary(MessageSchema, fromBinary(SignedEnvelopeSchema, entry.content).message);
        return {
          summary: {
            case: "envelope",
            value: {
              messageId: message.header?.messageId ?? "",
              bodyKind: message.body.case ? (PROTO_NAME_OF_BODY.get(message.body.case) ?? message.body.case) : "",
              sender: message.header?.senderParty ?? "",
              recipients: [...(message.header?.recipientParties ?? [])],
              envelopeSha256: createHash("sha256").update(entry.content).digest(),
              receiverLedgerIndex: 0,
            },
          },
          withheld: [],
        };
      } catch {
        return unreadable();
      }
    }
    if (RECEIPT_KINDS.has(entry.kind)) {
      const receipt = receiptOf(entry.content);
      if (!receipt) return unreadable();
      return {
        summary: {
          case: "envelope",
          value: {
            messageId: receipt.messageId,
            bodyKind: "",
            sender: receipt.senderParty,
            recipients: receipt.receiverParty ? [receipt.receiverParty] : [],
            envelopeSha256: receipt.envelopeSha256,
            receiverLedgerIndex: Number(receipt.ledgerIndex),
          },
        },
        withheld: [],
      };
    }
    const members = DECISION_MEMBERS[entry.kind];
    const json = jsonObjectOf(entry.content);
    if (!members || !json) return unreadable();
    const shown: JsonObject = {};
    const withheld: string[] = [];
    for (const [member, value] of Object.entries(json)) {
      const type = members[member];
      if (!type || !hasType(value, type)) withheld.push(member);
      else shown[member] = value as JsonValue;
    }
    // A purpose is recorded only on granted reads, after the node checked it against the data;
    // one on a refused read (refused *because* it quoted a protected party) is never shown.
    if (entry.kind === "protected.read" && "purpose" in shown && shown.granted !== true) {
      delete shown.purpose;
      withheld.push("purpose");
    }
    if (entry.kind === "envelope.refused-by-partner" && typeof shown.reason === "string") {
      if (await this.partnerTextIsUnsafe(String(shown.messageId ?? ""), shown.reason)) {
        delete shown.reason;
        withheld.push("reason");
      }
    }
    return { summary: { case: "decision", value: shown }, withheld };
  }

  /**
   * A partner's words about one of our messages: unsafe when they quote a protected party of
   * that message (informant, victim: name, phone, contact; services/notices `quotesProtected`),
   * or when the message is not found to check them against.
   */
  private async partnerTextIsUnsafe(messageId: string, text: string): Promise<boolean> {
    const sent = messageId === "" ? null : await this.db.collection<{ _id: string; envelope: EntryDoc["bytes"] }>("envelopes_sent").findOne({ _id: messageId }, { projection: { envelope: 1 } });
    if (!sent) return true;
    try {
      const message = fromBinary(MessageSchema, fromBinary(SignedEnvelopeSchema, bytesOf(sent.envelope)).message);
      return quotesProtected(text, protectedPartiesIn(message));
    } catch {
      return true;
    }
  }
}

function receiptOf(content: Uint8Array) {
  try {
    return fromBinary(ReceiptSchema, fromBinary(SignedReceiptSchema, content).receipt);
  } catch {
    return undefined;
  }
}

/** Body oneof: local name ("wantedPerson") → proto field name ("wanted_person"). */
const PROTO_NAME_OF_BODY = new Map<string, string>(MessageSchema.oneofs.find((o) => o.name === "body")!.fields.map((f) => [f.localName, f.name]));
