/**
 * The local API (`liaison.v1.LocalApi`): officers' tools and the gateway act on this node through
 * it, on its own listener, authenticated by officer tokens (docs/LOCAL_API.md).
 *
 * One adapter (`implementService`) runs every method. The per-call context authenticates the
 * `authorization: Bearer <access token>` metadata and checks the method's roles (METHOD_ACCESS)
 * before any handler body runs: every handler starts by awaiting it, and a refusal is
 * UNAUTHENTICATED or PERMISSION_DENIED with the Rejection detail.
 *
 * The listener is plaintext gRPC: bind it to loopback (or a host-local interface the gateway
 * shares), never to a network partners or officers' machines reach directly.
 */
import { createHash, randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, fromJson, toBinary, type JsonValue, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Binary, type Filter } from "mongodb";
import {
  AssistanceItemSchema,
  CampaignProgressSchema,
  CampaignRecordSchema,
  DeliveryStatus,
  Direction,
  DraftSchema,
  DraftState,
  ListDraftsResponseSchema,
  ListMessagesResponseSchema,
  ListOfficersResponseSchema,
  InclusionProofSchema,
  LedgerStatusSchema,
  ListAssistanceResponseSchema,
  ListCampaignsResponseSchema,
  ListLedgerEntriesResponseSchema,
  ListMinutesResponseSchema,
  ListPartnersResponseSchema,
  LocalApi,
  LoginResponseSchema,
  MessageRecordSchema,
  MinutesArchiveSchema,
  MinutesBundleFileSchema,
  MinutesSummarySchema,
  OfficerAccountSchema,
  PartnerStatusSchema,
  ProtectedField,
  ProtectedFieldsSchema,
  Role,
  SearchNoticesResponseSchema,
  type MinutesSummary,
  type Draft,
  type ListLedgerEntriesRequest,
  type ListMessagesRequest,
  type MessageRecord,
  type OfficerAccount,
} from "../../gen/liaison/v1/local_pb.ts";
import { Classification, MessageSchema, OfficerSchema, type Message } from "../../gen/liaison/v1/message_pb.ts";
import { ProtectedPartySchema } from "../../gen/liaison/v1/notices_pb.ts";
import { CampaignSchema } from "../../gen/liaison/v1/cooperation_pb.ts";
import { SignedEnvelopeSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import { LiaisonError, ErrorLabel, GrpcStatus, isErrorCode, type ErrorCode } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { PARTY_ID_PATTERN, signDetached } from "../identity/index.ts";
import { auditEntryBytes, NOTICE_KINDS, readProtected, searchNotices, type ProtectedFieldName, type ProtectedReadAudit } from "../notices/index.ts";
import {
  cosignMinutes,
  exportMinutesBundle,
  getMinutesArchive,
  listMinutes,
  messageBytesOf,
  minutesMessageBytes,
  MINUTES,
  MINUTES_COSIGNATURES,
  type CosignatureDoc,
  type MinutesArchiveEntry,
  type MinutesDoc,
} from "../minutes/index.ts";
import { getCampaignProgress, listCampaigns, type CampaignDoc } from "../campaigns/index.ts";
import { listAssistance, type AssistanceView } from "../cases/index.ts";
import { COLLECTIONS as LEDGER_COLLECTIONS, readCosignedCheckpoint, readEntry, readInclusionProof, readLatestCheckpoint, readTreeHead } from "../ledger/index.ts";
import { implementService, rejectionDetail, serviceDefinition, withCallerCorrelation, type ServiceHandlers } from "../transport/index.ts";
import { MESSAGE_ID_PATTERN, type DeliveryState, type ReceivedEnvelopeDoc, type SentEnvelopeDoc } from "../exchange/index.ts";
import {
  DraftStore,
  OfficerStore,
  TokenService,
  type DraftDoc,
  type DraftStateName,
  type LockoutPolicy,
  type OfficerDoc,
  type OfficerRef,
  type RoleName,
  type VerifiedAccess,
} from "../officers/index.ts";
import { PROTECTED_READER_ROLES } from "../officers/roles.ts";
import { LEDGER_ENTRY_KINDS, LedgerTrail, type TrailFilter } from "./ledger-trail.ts";
import type { LiaisonNode } from "./node.ts";

export interface LocalApiServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface LocalApiOptions {
  host: string;
  port: number;
  /** Time for sessions and lockouts (tokens, refresh expiry, lockout). Tests move it. */
  sessionClock?: () => Date;
  accessTtlSeconds?: number;
  refreshTtlSeconds?: number;
  lockout?: LockoutPolicy;
}

type LocalMethod = keyof typeof LocalApi.method;

/** Who may call what. "public": no token; "officer": any signed-in officer; else one of these roles. */
export const METHOD_ACCESS: Record<LocalMethod, "public" | "officer" | readonly RoleName[]> = {
  login: "public",
  refreshToken: "public",
  logout: "officer",
  whoAmI: "officer",
  changePassword: "officer",
  createOfficer: ["admin"],
  listOfficers: ["admin", "auditor"],
  setOfficerDisabled: ["admin"],
  createDraft: ["drafter"],
  listDrafts: ["drafter", "approver", "auditor"],
  getDraft: ["drafter", "approver", "auditor"],
  approveDraft: ["approver"],
  rejectDraft: ["approver"],
  listMessages: ["drafter", "approver", "analyst", "auditor"],
  getMessage: ["drafter", "approver", "analyst", "auditor"],
  listPartners: "officer",
  searchNotices: ["analyst", "auditor", "drafter", "approver"],
  // Any officer reaches the handler, which admits PROTECTED_READER_ROLES (analyst) only: a
  // refused attempt is recorded in the ledger like a granted read.
  readProtectedFields: "officer",
  listMinutes: ["analyst", "auditor", "approver"],
  getMinutes: ["analyst", "auditor", "approver"],
  exportMinutesBundle: ["analyst", "auditor", "approver"],
  cosignMinutes: ["drafter", "approver"],
  getLedgerStatus: ["auditor"],
  getInclusionProof: ["auditor"],
  // The audit trail: auditors only. Not admins (their own acts are in it: officer.added /
  // disabled by them; and it names the cases analysts read), nor the officers it audits.
  listLedgerEntries: ["auditor"],
  listCampaigns: ["analyst", "auditor", "drafter", "approver"],
  getCampaignProgress: ["analyst", "auditor", "drafter", "approver"],
  listAssistance: ["analyst", "auditor", "drafter", "approver"],
};

/** The officer behind a call, resolved before the handler runs. */
export interface OfficerCallContext {
  officer: OfficerDoc;
  access: VerifiedAccess;
}

/** `null` for the public methods (Login, RefreshToken). */
type CallContext = Promise<OfficerCallContext | null>;

const ROLE_TO_PROTO: Record<RoleName, Role> = {
  drafter: Role.DRAFTER,
  approver: Role.APPROVER,
  analyst: Role.ANALYST,
  auditor: Role.AUDITOR,
  admin: Role.ADMIN,
};
const PROTO_TO_ROLE = new Map<number, RoleName>(Object.entries(ROLE_TO_PROTO).map(([name, value]) => [value, name as RoleName]));

const STATE_TO_PROTO: Record<DraftStateName, DraftState> = {
  awaiting_approval: DraftState.AWAITING_APPROVAL,
  approved: DraftState.APPROVED,
  rejected: DraftState.REJECTED,
};
const PROTO_TO_STATE = new Map<number, DraftStateName>(Object.entries(STATE_TO_PROTO).map(([name, value]) => [value, name as DraftStateName]));

const DELIVERY_TO_PROTO: Record<DeliveryState["status"], DeliveryStatus> = {
  pending: DeliveryStatus.PENDING,
  receipted: DeliveryStatus.RECEIPTED,
  rejected: DeliveryStatus.REJECTED,
};
const PROTO_TO_DELIVERY = new Map<number, DeliveryState["status"]>(
  Object.entries(DELIVERY_TO_PROTO).map(([name, value]) => [value, name as DeliveryState["status"]]),
);

/** Body kinds of the Message oneof, by proto name ("wanted_person") and local name ("wantedPerson"). */
const BODY_KINDS = new Map<string, string>();
for (const field of MessageSchema.oneofs.find((o) => o.name === "body")!.fields) {
  BODY_KINDS.set(field.name, field.localName);
  BODY_KINDS.set(field.localName, field.localName);
}
const BODY_PROTO_NAMES = MessageSchema.oneofs.find((o) => o.name === "body")!.fields.map((f) => f.name);

const HANDLING_CODE_PATTERN = /^[A-Z0-9][A-Z0-9-]{0,63}$/;
const LANGUAGE_TAG_PATTERN = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$/;
const BEARER_PATTERN = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+)$/;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;
const MAX_REASON_LENGTH = 2000;
const MAX_PURPOSE_LENGTH = 500;
const PROTECTED_FIELD_OF: Partial<Record<ProtectedField, ProtectedFieldName>> = {
  [ProtectedField.INFORMANTS]: "informants",
  [ProtectedField.VICTIMS]: "victims",
};
const PROTECTED_FIELD_TO_PROTO: Record<ProtectedFieldName, ProtectedField> = { informants: ProtectedField.INFORMANTS, victims: ProtectedField.VICTIMS };
/** Room left in an envelope for the header the node fills and the JWS. */
const ENVELOPE_OVERHEAD = 16 * 1024;

const invalid = (message: string) => new LiaisonError("INVALID_ARGUMENT", message);

function requireId(value: string, field: string): string {
  if (value === "") throw invalid(`${field} is required`);
  if (!MESSAGE_ID_PATTERN.test(value)) throw invalid(`${field} must be a lowercase canonical UUID`);
  return value;
}

/** The stated purpose of a protected read: required, one line, at most MAX_PURPOSE_LENGTH characters. */
function purposeOf(value: string): string {
  const purpose = value.trim();
  if (purpose === "") throw invalid("purpose is required: state why the identities are needed");
  if ([...purpose].length > MAX_PURPOSE_LENGTH) throw invalid(`purpose must be at most ${MAX_PURPOSE_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(purpose)) throw invalid("purpose must be one line of text, without control characters");
  return purpose;
}

/** The fields asked for: empty = all; each a known field, once. */
function protectedFieldsOf(values: readonly ProtectedField[]): ProtectedFieldName[] {
  const out: ProtectedFieldName[] = [];
  values.forEach((value, i) => {
    const name = PROTECTED_FIELD_OF[value];
    if (!name) throw invalid(`fields[${i}]: ${value} is not a protected field (PROTECTED_FIELD_INFORMANTS, PROTECTED_FIELD_VICTIMS)`);
    if (out.includes(name)) throw invalid(`fields[${i}]: ${ProtectedField[value]} is named twice`);
    out.push(name);
  });
  return out;
}

/** The refusal of a protected read that was decided and recorded (never naming the data). */
function protectedRefusal(audit: ProtectedReadAudit): LiaisonError {
  switch (audit.refusal) {
    case "role":
      return new LiaisonError("FORBIDDEN", `ReadProtectedFields requires the role ${PROTECTED_READER_ROLES.join(" or ")}; this attempt is recorded in the ledger`);
    case "purpose":
      return invalid("purpose must not quote a protected party's name or contact: it is recorded in the ledger, which partners can read; this attempt is recorded");
    default:
      return new LiaisonError("BUSINESS_RULE", "this node holds only the counts of these protected parties (it had no data key when it recorded them)");
  }
}

function pageSizeOf(value: number): number {
  if (value === 0) return DEFAULT_PAGE_SIZE;
  if (value > MAX_PAGE_SIZE) throw invalid(`page_size must be at most ${MAX_PAGE_SIZE}`);
  return value;
}

function encodePageToken(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decodePageToken(token: string, filterHash: string): { t: number; i: string; d: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid("page_token is not valid");
  }
  const p = parsed as { t?: unknown; i?: unknown; d?: unknown; f?: unknown };
  if (typeof p !== "object" || p === null || typeof p.t !== "number" || !Number.isFinite(p.t) || typeof p.i !== "string" || typeof p.d !== "number") {
    throw invalid("page_token is not valid");
  }
  if (p.f !== filterHash) throw invalid("page_token belongs to a query with other filters");
  return { t: p.t, i: p.i, d: p.d };
}

/** A ListLedgerEntries page token: entries below index `b` of the tree of `n` entries. */
function decodeTrailToken(token: string, filterHash: string): { before: number; treeSize: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid("page_token is not valid");
  }
  const p = parsed as { b?: unknown; n?: unknown; f?: unknown } | null;
  if (typeof p !== "object" || p === null || !Number.isSafeInteger(p.b) || !Number.isSafeInteger(p.n) || (p.b as number) < 0 || (p.n as number) < 0) {
    throw invalid("page_token is not valid");
  }
  if (p.f !== filterHash) throw invalid("page_token belongs to a query with other filters");
  return { before: p.b as number, treeSize: p.n as number };
}

function filterHashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 16);
}

function ts(date: Date | undefined): Timestamp | undefined {
  return date ? timestampFromDate(date) : undefined;
}

function officerRef(officer: OfficerDoc, role: RoleName): OfficerRef {
  return { officerId: officer._id, username: officer.username, displayName: officer.displayName, role };
}

/** Start the local API on its own listener. */
export async function startLocalApi(node: LiaisonNode, options: LocalApiOptions): Promise<LocalApiServer> {
  const api = await LocalApiService.open(node, options);
  const server = new grpc.Server({
    "grpc.max_receive_message_length": node.config.limits.maxEnvelopeBytes + 64 * 1024,
    "grpc.max_send_message_length": -1,
  });
  server.addService(
    serviceDefinition(LocalApi),
    withCallerCorrelation(
      implementService(LocalApi, api.handlers(), {
        context: (call) => api.resolveContext(call),
        logger: createLogger("local-api", { party: node.party }),
      }),
    ),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  createLogger("local-api", { party: node.party }).info("local API listening", { address: `${options.host}:${port}` });
  await api.resumeApprovals();
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}

class LocalApiService {
  private readonly log;
  private readonly pathToMethod = new Map<string, LocalMethod>();

  private constructor(
    private readonly node: LiaisonNode,
    readonly officers: OfficerStore,
    readonly tokens: TokenService,
    readonly drafts: DraftStore,
    private readonly sessionClock: () => Date,
    private readonly trail: LedgerTrail,
  ) {
    this.log = createLogger("local-api", { party: node.party });
    for (const method of LocalApi.methods) this.pathToMethod.set(`/${LocalApi.typeName}/${method.name}`, method.localName as LocalMethod);
  }

  static async open(node: LiaisonNode, options: LocalApiOptions): Promise<LocalApiService> {
    const sessionClock = options.sessionClock ?? (() => new Date());
    const officers = new OfficerStore({
      db: node.db,
      ledger: node.ledger,
      clock: sessionClock,
      ...(options.lockout ? { lockout: options.lockout } : {}),
    });
    await officers.init();
    await officers.recordMissingLedgerEntries();
    const tokens = await TokenService.open({
      db: node.db,
      issuer: node.party,
      clock: sessionClock,
      ...(options.accessTtlSeconds ? { accessTtlSeconds: options.accessTtlSeconds } : {}),
      ...(options.refreshTtlSeconds ? { refreshTtlSeconds: options.refreshTtlSeconds } : {}),
    });
    const drafts = new DraftStore(node.db);
    await drafts.init();
    // The message listings read the exchange's collections newest first, by partner and kind.
    await node.sender.sent.createIndex({ createdAt: -1, _id: -1 });
    await node.sender.sent.createIndex({ bodyKind: 1, createdAt: -1 });
    const received = node.db.collection<ReceivedEnvelopeDoc>("envelopes_received");
    await received.createIndex({ receivedAt: -1, _id: -1 });
    await received.createIndex({ senderParty: 1, receivedAt: -1 });
    await received.createIndex({ bodyKind: 1, receivedAt: -1 });
    // The audit trail's derived index (its own collection, services/node/ledger-trail.ts); it
    // is filled from the ledger entries on the first ListLedgerEntries, then kept up by each.
    const trail = new LedgerTrail(node.db);
    await trail.ensureIndexes();
    return new LocalApiService(node, officers, tokens, drafts, sessionClock, trail);
  }

  // ---------- authentication and roles ----------

  /**
   * The per-call context: authenticate the bearer token and check the method's roles. Returns a
   * promise (the adapter's context hook is synchronous); every handler awaits it first.
   */
  resolveContext(call: grpc.ServerUnaryCall<Buffer, Buffer>): CallContext {
    const method = this.pathToMethod.get(call.getPath());
    const promise = method ? this.authorize(method, call.metadata) : Promise.reject(new TypeError(`unknown method ${call.getPath()}`));
    // Handled by the handler's await; a request that fails to decode never awaits it.
    promise.catch(() => undefined);
    return promise;
  }

  private async authorize(method: LocalMethod, metadata: grpc.Metadata): Promise<OfficerCallContext | null> {
    const access = METHOD_ACCESS[method];
    if (access === "public") return null;
    const values = metadata.get("authorization");
    if (values.length !== 1 || typeof values[0] !== "string") {
      throw new LiaisonError("UNAUTHENTICATED", "the call needs one `authorization: Bearer <access token>` metadata entry");
    }
    const match = BEARER_PATTERN.exec(values[0]);
    if (!match) throw new LiaisonError("UNAUTHENTICATED", "the authorization metadata must be `Bearer <access token>`");
    const verified = await this.tokens.verifyAccess(match[1]!);
    const officer = await this.officers.get(verified.officerId);
    if (!officer) throw new LiaisonError("UNAUTHENTICATED", "the access token names no officer of this node");
    if (officer.disabled) throw new LiaisonError("UNAUTHENTICATED", "the officer account is disabled");
    if (access !== "officer" && !officer.roles.some((role) => access.includes(role))) {
      throw new LiaisonError("FORBIDDEN", `${LocalApi.method[method].name} requires the role ${access.join(" or ")}`);
    }
    return { officer, access: verified };
  }

  // ---------- the handlers ----------

  handlers(): ServiceHandlers<typeof LocalApi, CallContext> {
    const signedIn = async (ctx: CallContext): Promise<OfficerCallContext> => {
      const resolved = await ctx;
      if (!resolved) throw new TypeError("an authenticated method resolved no officer");
      return resolved;
    };
    const now = () => new Date();
    return {
      // Sessions
      login: async ({ message }, ctx) => {
        await ctx;
        if (message.username === "") throw invalid("username is required");
        if (message.password === "") throw invalid("password is required");
        const officer = await this.officers.authenticate(message.username, message.password);
        const issued = await this.tokens.issue(officer);
        this.log.info("officer signed in", { officerId: officer._id });
        return create(LoginResponseSchema, {
          accessToken: issued.accessToken,
          accessExpiresAt: ts(issued.accessExpiresAt),
          refreshToken: issued.refreshToken,
          refreshExpiresAt: ts(issued.refreshExpiresAt),
          officer: this.account(officer),
        });
      },
      refreshToken: async ({ message }, ctx) => {
        await ctx;
        let officer: OfficerDoc | undefined;
        const issued = await this.tokens.rotate(message.refreshToken, async (officerId) => {
          const found = await this.officers.get(officerId);
          if (!found || found.disabled) throw new LiaisonError("UNAUTHENTICATED", "the officer account is disabled");
          officer = found;
          return found;
        });
        return create(LoginResponseSchema, {
          accessToken: issued.accessToken,
          accessExpiresAt: ts(issued.accessExpiresAt),
          refreshToken: issued.refreshToken,
          refreshExpiresAt: ts(issued.refreshExpiresAt),
          officer: this.account(officer!),
        });
      },
      logout: async ({ message }, ctx) => {
        const { officer, access } = await signedIn(ctx);
        await this.tokens.logout(access, message.refreshToken);
        this.log.info("officer signed out", { officerId: officer._id });
        return {} as never;
      },
      whoAmI: async (_request, ctx) => this.account((await signedIn(ctx)).officer),
      changePassword: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        if (message.currentPassword === "") throw invalid("current_password is required");
        if (message.newPassword === "") throw invalid("new_password is required");
        await this.officers.changePassword(officer._id, message.currentPassword, message.newPassword);
        await this.tokens.revokeOfficer(officer._id);
        return {} as never;
      },

      // Officers
      createOfficer: async ({ message }, ctx) => {
        const { officer: admin } = await signedIn(ctx);
        if (message.username === "") throw invalid("username is required");
        if (message.password === "") throw invalid("password is required");
        if (message.roles.length === 0) throw invalid("roles must name at least one role");
        const roles = message.roles.map((role, i) => {
          const name = PROTO_TO_ROLE.get(role);
          if (!name) throw invalid(`roles[${i}]: ${role} is not a role (ROLE_DRAFTER, ROLE_APPROVER, ROLE_ANALYST, ROLE_AUDITOR, ROLE_ADMIN)`);
          return name;
        });
        const created = await this.officers.create(
          { username: message.username, displayName: message.displayName, roles, password: message.password },
          admin._id,
        );
        return this.account(created);
      },
      listOfficers: async (_request, ctx) => {
        await signedIn(ctx);
        const all = await this.officers.list();
        return create(ListOfficersResponseSchema, { officers: all.map((o) => this.account(o)) });
      },
      setOfficerDisabled: async ({ message }, ctx) => {
        const { officer: admin } = await signedIn(ctx);
        const officerId = requireId(message.officerId, "officer_id");
        if (officerId === admin._id && message.disabled) throw new LiaisonError("BUSINESS_RULE", "an admin cannot disable their own account");
        const updated = await this.officers.setDisabled(officerId, message.disabled, admin._id);
        if (message.disabled) await this.tokens.revokeOfficer(officerId);
        return this.account(updated);
      },

      // Drafts
      createDraft: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        const draftMessage = this.validateDraftMessage(message.message);
        const doc = await this.drafts.create({
          _id: randomUUID(),
          message: new Binary(toBinary(MessageSchema, draftMessage)),
          bodyKind: draftMessage.body.case!,
          recipients: [...draftMessage.header!.recipientParties],
          draftedBy: officerRef(officer, "drafter"),
          createdAt: now(),
        });
        this.log.info("draft created", { draftId: doc._id, officerId: officer._id, bodyKind: doc.bodyKind });
        return this.draft(doc, officer);
      },
      listDrafts: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        let state: DraftStateName | undefined;
        if (message.state !== DraftState.UNSPECIFIED) {
          state = PROTO_TO_STATE.get(message.state);
          if (!state) throw invalid(`state: ${message.state} is not a DraftState`);
        }
        const pageSize = pageSizeOf(message.pageSize);
        const hash = filterHashOf({ state: state ?? "" });
        const cursor = message.pageToken ? decodePageToken(message.pageToken, hash) : undefined;
        const docs = await this.drafts.list(state, pageSize + 1, cursor ? { createdAt: new Date(cursor.t), id: cursor.i } : undefined);
        const page = docs.slice(0, pageSize);
        const last = page[page.length - 1];
        return create(ListDraftsResponseSchema, {
          drafts: page.map((d) => this.draft(d, officer)),
          nextPageToken: docs.length > pageSize && last ? encodePageToken({ t: last.createdAt.getTime(), i: last._id, d: 0, f: hash }) : "",
        });
      },
      getDraft: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        const draftId = requireId(message.draftId, "draft_id");
        const doc = await this.drafts.get(draftId);
        if (!doc) throw new LiaisonError("NOT_FOUND", `no draft with id ${draftId}`);
        return this.draft(doc, officer);
      },
      approveDraft: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        const draftId = requireId(message.draftId, "draft_id");
        const draft = await this.drafts.get(draftId);
        DraftStore.checkDecidable(draft, draftId);
        if (draft.draftedBy.officerId === officer._id) {
          throw new LiaisonError("TWO_PERSON_RULE", "the approving officer must not be the officer who drafted the message");
        }
        for (const party of draft.recipients) {
          if (!this.node.partners.get(party)) throw new LiaisonError("BUSINESS_RULE", `${party} is no longer an onboarded partner`);
        }
        const cosignature = nodeSignedCosignature(draft);
        if (cosignature) await this.checkNotCosigned(cosignature.minutesMessageId);
        const approved = await this.drafts.claimApproval(draftId, officerRef(officer, "approver"), randomUUID(), now());
        this.log.info("draft approved", { draftId, messageId: approved.messageId, approver: officer._id, drafter: approved.draftedBy.officerId });
        await this.submitApproved(approved);
        return this.messageRecord(await this.sentDoc(approved.messageId!), "sent");
      },
      rejectDraft: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        const draftId = requireId(message.draftId, "draft_id");
        const reason = message.reason.trim();
        if (reason === "") throw invalid("reason is required");
        if ([...reason].length > MAX_REASON_LENGTH) throw invalid(`reason must be at most ${MAX_REASON_LENGTH} characters`);
        const doc = await this.drafts.reject(draftId, officerRef(officer, "approver"), reason, now());
        await this.node.ledger.append("draft.rejected", jsonBytes({ draftId, by: officer._id }));
        return this.draft(doc, officer);
      },

      // Messages
      listMessages: async ({ message }, ctx) => {
        await signedIn(ctx);
        return this.listMessages(message);
      },
      getMessage: async ({ message }, ctx) => {
        await signedIn(ctx);
        const messageId = requireId(message.messageId, "message_id");
        const sent = await this.node.sender.sent.findOne({ _id: messageId });
        if (sent) return this.messageRecord(sent, "sent");
        const received = await this.receivedCollection().findOne({ _id: messageId, state: "recorded" });
        if (received) return this.messageRecord(received, "received");
        throw new LiaisonError("NOT_FOUND", `no message with id ${messageId}`);
      },

      // Partners
      listPartners: async (_request, ctx) => {
        await signedIn(ctx);
        const partners = this.node.partners.list().sort((a, b) => a.party.localeCompare(b.party));
        const statuses = await this.node.outbox.status(partners.map((p) => p.party));
        const out = [];
        for (const [i, partner] of partners.entries()) {
          const status = statuses[i]!;
          const lastReceived = await this.receivedCollection()
            .find({ senderParty: partner.party, state: "recorded" })
            .sort({ receivedAt: -1 })
            .limit(1)
            .next();
          const contacts = [status.lastContactAt, lastReceived?.receivedAt].filter((d): d is Date => d instanceof Date);
          const lastContact = contacts.length ? new Date(Math.max(...contacts.map((d) => d.getTime()))) : undefined;
          out.push(
            create(PartnerStatusSchema, {
              party: partner.party,
              displayNames: partner.displayNames,
              endpoint: partner.endpoint,
              fingerprint: partner.fingerprint,
              outboxDepth: status.depth,
              lastContact: ts(lastContact),
              oldestPending: ts(status.oldestPendingAt),
            }),
          );
        }
        return create(ListPartnersResponseSchema, { partners: out });
      },

      // Notices
      searchNotices: async ({ message }, ctx) => {
        await signedIn(ctx);
        const text = message.text.trim();
        if (text === "") throw invalid("text is required");
        if ([...text].length > 200) throw invalid("text must be at most 200 characters");
        let kind: string | undefined;
        if (message.kind !== "") {
          kind = BODY_KINDS.get(message.kind);
          if (!kind || !NOTICE_KINDS.includes(kind as never)) throw invalid(`kind: ${JSON.stringify(message.kind)} is not a notice kind; expected one of ${NOTICE_KIND_NAMES.join(", ")}`);
        }
        const since = message.since ? timestampDate(message.since) : undefined;
        const until = message.until ? timestampDate(message.until) : undefined;
        if (since && until && since >= until) throw invalid("since must be before until");
        const hits = await searchNotices(this.node.db, {
          text,
          limit: pageSizeOf(message.limit),
          ...(kind ? { kind } : {}),
          ...(since ? { from: since } : {}),
          ...(until ? { to: until } : {}),
        });
        return create(SearchNoticesResponseSchema, {
          notices: hits.map((h) => ({
            noticeId: h.noticeId,
            kind: PROTO_NAME_OF_KIND.get(h.kind) ?? h.kind,
            originator: h.originator,
            reference: h.reference,
            title: h.title.map((t) => ({ lang: t.lang, text: t.text })),
            state: h.state,
            createdAt: ts(h.createdAt),
          })),
        });
      },

      readProtectedFields: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        const messageId = requireId(message.messageId, "message_id");
        const purpose = purposeOf(message.purpose);
        const fields = protectedFieldsOf(message.fields);
        const read = await readProtected(
          { ...this.node.domain, protectedReaderRoles: PROTECTED_READER_ROLES },
          messageId,
          { officerId: officer._id, roles: officer.roles },
          { purpose, fields },
        );
        // Recorded before anything is shown: when the append fails, the call fails with it.
        const { index } = await this.node.ledger.append("protected.read", auditEntryBytes(read.audit));
        if (!read.granted) throw protectedRefusal(read.audit);
        this.log.info("protected fields shown", { messageId, noticeId: read.audit.noticeId, officerId: officer._id, fields, auditLedgerIndex: index });
        return create(ProtectedFieldsSchema, {
          noticeId: read.audit.noticeId ?? messageId,
          sourceMessageId: read.audit.sourceMessageId ?? "",
          fields: read.audit.fields.map((f) => PROTECTED_FIELD_TO_PROTO[f]),
          informants: read.informants.map((p) => fromJson(ProtectedPartySchema, p as JsonValue)),
          victims: read.victims.map((p) => fromJson(ProtectedPartySchema, p as JsonValue)),
          auditLedgerIndex: BigInt(index),
          readAt: timestampFromDate(new Date(read.audit.at)),
        });
      },

      // Minutes
      listMinutes: async (_request, ctx) => {
        await signedIn(ctx);
        const out: MinutesSummary[] = [];
        for (const doc of await listMinutes(this.node.db)) {
          const archive = await getMinutesArchive(this.node.db, doc._id);
          if (archive) out.push(minutesSummary(archive));
        }
        return create(ListMinutesResponseSchema, { minutes: out });
      },
      getMinutes: async ({ message }, ctx) => {
        await signedIn(ctx);
        const minutesId = requireId(message.minutesMessageId, "minutes_message_id");
        const archive = await getMinutesArchive(this.node.db, minutesId);
        if (!archive) throw new LiaisonError("NOT_FOUND", `no minutes with id ${minutesId}`);
        const bytes = await minutesMessageBytes(this.node.db, minutesId);
        return create(MinutesArchiveSchema, {
          summary: minutesSummary(archive),
          cosignatures: archive.minutes.parties.map((party) => {
            const c = archive.cosignatures[party]!;
            return c.status === "signed"
              ? { party, signed: true, cosignatureMessageId: c.messageId, signingOfficer: c.signingOfficer, signedAt: ts(c.signedAt), hashMatches: c.hashMatches }
              : { party, signed: false };
          }),
          message: fromBinary(MessageSchema, bytes),
        });
      },
      exportMinutesBundle: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        const minutesId = requireId(message.minutesMessageId, "minutes_message_id");
        const bundle = await exportMinutesBundle(this.node.domain, minutesId);
        this.log.info("minutes bundle exported", { minutesId, officerId: officer._id });
        return create(MinutesBundleFileSchema, { bundleJson: jsonBytes(bundle), filename: `minutes-${minutesId}.bundle.json` });
      },
      cosignMinutes: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        const minutesId = requireId(message.minutesMessageId, "minutes_message_id");
        const minutes = await this.node.db.collection<MinutesDoc>(MINUTES).findOne({ _id: minutesId });
        if (!minutes) throw new LiaisonError("NOT_FOUND", `no minutes with id ${minutesId}`);
        if (!minutes.parties.includes(this.node.party)) throw new LiaisonError("BUSINESS_RULE", `${this.node.party} is not a party of these minutes`);
        await this.checkNotCosigned(minutesId);
        const bytes = messageBytesOf(new Uint8Array(minutes.envelope.buffer));
        const original = fromBinary(MessageSchema, bytes);
        const recipients = minutes.parties.filter((p) => p !== this.node.party);
        for (const party of recipients) {
          if (!this.node.partners.get(party)) throw new LiaisonError("BUSINESS_RULE", `${party} is not an onboarded partner`);
        }
        const draftMessage = create(MessageSchema, {
          header: {
            recipientParties: recipients,
            classification: original.header?.classification ?? Classification.UNSPECIFIED,
            languages: [...(original.header?.languages ?? [])],
            replyTo: minutesId,
          },
          // The JWS, signing officer and time are filled at approval (`signedMessage`).
          body: { case: "minutesCosignature", value: { minutesMessageId: minutesId, minutesSha256: Buffer.from(minutes.messageSha256, "hex") } },
        });
        const doc = await this.drafts.create({
          _id: randomUUID(),
          message: new Binary(toBinary(MessageSchema, draftMessage)),
          bodyKind: "minutesCosignature",
          recipients,
          draftedBy: officerRef(officer, "drafter"),
          createdAt: now(),
        });
        this.log.info("minutes co-signature drafted", { draftId: doc._id, minutesId, officerId: officer._id });
        return this.draft(doc, officer);
      },

      // Ledger
      getLedgerStatus: async (_request, ctx) => {
        await signedIn(ctx);
        const db = this.node.db;
        const head = await readTreeHead(db);
        const checkpoint = await readLatestCheckpoint(db);
        const cosigners = checkpoint
          ? await db.collection(LEDGER_COLLECTIONS.cosignatures).find({ size: checkpoint.size }).sort({ cosigner: 1 }).toArray()
          : [];
        const byParty = new Map<string, { timestamp: number; receivedAt: Date }>();
        for (const c of cosigners) {
          const name = String(c.cosigner);
          const party = name.startsWith(WITNESS_PREFIX) ? name.slice(WITNESS_PREFIX.length) : name;
          byParty.set(party, { timestamp: Number(c.timestamp), receivedAt: c.receivedAt as Date });
        }
        const alerts = await this.node.witnessing.alerts.find({}).sort({ at: -1 }).limit(100).toArray();
        return create(LedgerStatusSchema, {
          treeSize: BigInt(head.size),
          rootHash: head.root,
          checkpointSize: BigInt(checkpoint?.size ?? 0),
          checkpointSignedAt: ts(checkpoint?.signedAt),
          checkpointNote: checkpoint ? ((await readCosignedCheckpoint(db, checkpoint.size)) ?? checkpoint.note) : "",
          cosigners: [...byParty].map(([party, c]) => ({ party, cosignedAt: ts(new Date(c.timestamp * 1000)), receivedAt: ts(c.receivedAt) })),
          notCosignedBy: this.node.partners
            .list()
            .map((p) => p.party)
            .filter((p) => !byParty.has(p))
            .sort(),
          alerts: alerts.map((a) => ({ at: ts(a.at), partner: a.partner, kind: a.kind, reason: a.reason, evidence: a.evidence })),
        });
      },
      getInclusionProof: async ({ message }, ctx) => {
        await signedIn(ctx);
        const messageId = requireId(message.messageId, "message_id");
        const sent = await this.node.sender.sent.findOne({ _id: messageId }, { projection: { ledgerIndex: 1 } });
        const received = sent ? null : await this.receivedCollection().findOne({ _id: messageId, state: "recorded" }, { projection: { ledgerIndex: 1 } });
        const index = sent?.ledgerIndex ?? received?.ledgerIndex;
        if (index === undefined) throw new LiaisonError("NOT_FOUND", `no message with id ${messageId} in this node's ledger`);
        const checkpoint = await readLatestCheckpoint(this.node.db);
        if (!checkpoint || index >= checkpoint.size) {
          throw new LiaisonError("NOT_FOUND", `ledger entry ${index} is not yet covered by a signed checkpoint; try again after the next one`);
        }
        const proof = await readInclusionProof(this.node.db, index, checkpoint.size);
        const entry = await readEntry(this.node.db, index);
        if (!entry) throw new TypeError(`ledger entry ${index} is missing`);
        return create(InclusionProofSchema, {
          messageId,
          ledgerIndex: BigInt(index),
          entry: entry.bytes,
          treeSize: BigInt(checkpoint.size),
          rootHash: checkpoint.root,
          proof: proof.proof,
          checkpointNote: (await readCosignedCheckpoint(this.node.db, checkpoint.size)) ?? checkpoint.note,
        });
      },
      listLedgerEntries: async ({ message }, ctx) => {
        const { officer } = await signedIn(ctx);
        return this.listLedgerEntries(message, officer);
      },

      // Campaigns and assistance
      listCampaigns: async (_request, ctx) => {
        await signedIn(ctx);
        return create(ListCampaignsResponseSchema, { campaigns: (await listCampaigns(this.node.db)).map(campaignRecord) });
      },
      getCampaignProgress: async ({ message }, ctx) => {
        await signedIn(ctx);
        const campaignId = message.campaignId;
        if (campaignId === "") throw invalid("campaign_id is required");
        if (campaignId.length > 128) throw invalid("campaign_id must be at most 128 characters");
        const progress = await getCampaignProgress(this.node.db, campaignId);
        if (!progress) throw new LiaisonError("NOT_FOUND", `no campaign with id ${JSON.stringify(campaignId)}`);
        return create(CampaignProgressSchema, {
          campaign: campaignRecord(progress.campaign),
          objectives: progress.objectives.map((o) => ({ metric: o.metric, target: o.target, achieved: o.achieved, ratio: o.ratio, byParty: o.byParty })),
          reportsCounted: Object.entries(progress.reportsCounted).map(([party, messageIds]) => ({ party, messageIds })),
        });
      },
      listAssistance: async ({ message }, ctx) => {
        await signedIn(ctx);
        const views = await listAssistance(this.node.db, { now: now(), overdueOnly: message.overdueOnly, limit: pageSizeOf(message.limit) });
        return create(ListAssistanceResponseSchema, { requests: views.map(assistanceItem) });
      },
    };
  }

  /** BUSINESS_RULE when this party already co-signed the minutes (a party co-signs once). */
  private async checkNotCosigned(minutesId: string): Promise<void> {
    const earlier = await this.node.db.collection<CosignatureDoc>(MINUTES_COSIGNATURES).findOne({ minutesId, party: this.node.party });
    if (earlier) throw new LiaisonError("BUSINESS_RULE", `${this.node.party} already co-signed these minutes (message ${earlier._id})`);
  }

  // ---------- approval and submission ----------

  /**
   * Record the approval in the ledger and seal + queue the message. Each step is recorded on the
   * draft, so a node that stopped in between finishes the job at start (`resumeApprovals`) with
   * the same message id and created time.
   */
  private async submitApproved(draft: DraftDoc): Promise<void> {
    const messageId = draft.messageId!;
    if (draft.approvalLedgerIndex === undefined) {
      const { index } = await this.node.ledger.append(
        "draft.approved",
        jsonBytes({ draftId: draft._id, messageId, approver: draft.decidedBy!.officerId, drafter: draft.draftedBy.officerId }),
      );
      const cosignature = nodeSignedCosignature(draft);
      if (cosignature) {
        await this.node.ledger.append(
          "minutes.cosigned",
          jsonBytes({ minutesId: cosignature.minutesMessageId, messageId, signingOfficer: draft.decidedBy!.officerId, requestedBy: draft.draftedBy.officerId }),
        );
      }
      await this.drafts.markApprovalRecorded(draft._id, index);
    }
    const sealed = await this.node.sender.sealedById(messageId);
    if (sealed) await this.node.outbox.enqueue(sealed);
    else await this.node.submit(await this.signedMessage(draft));
    await this.drafts.markSubmitted(draft._id, new Date());
  }

  async resumeApprovals(): Promise<void> {
    for (const draft of await this.drafts.unsubmitted()) {
      try {
        await this.submitApproved(draft);
        this.log.info("approved draft submitted after restart", { draftId: draft._id, messageId: draft.messageId });
      } catch (error) {
        this.log.error("could not submit an approved draft", { draftId: draft._id, messageId: draft.messageId, cause: error });
      }
    }
  }

  /**
   * The message to seal: `completeMessage`, and for a minutes co-signature left for the node to
   * sign, the detached JWS over the exact minutes bytes with this node's active key, the
   * approving officer as signing officer, at the message's created time (the same inputs give
   * the same Ed25519 signature when a restart resumes the submission).
   */
  private async signedMessage(draft: DraftDoc): Promise<Message> {
    const message = this.completeMessage(draft);
    const cosignature = nodeSignedCosignature(draft);
    if (!cosignature) return message;
    const key = this.node.identity.activeSigningKey;
    const value = await cosignMinutes({
      minutesMessageId: cosignature.minutesMessageId,
      minutesMessageBytes: await minutesMessageBytes(this.node.db, cosignature.minutesMessageId),
      sign: (payload, typ) => signDetached(payload, key.privateKey, { kid: key.kid, typ }),
      signingOfficer: { officerId: draft.decidedBy!.officerId, displayName: draft.decidedBy!.displayName },
      signedAt: draft.messageCreatedAt!,
    });
    message.body = { case: "minutesCosignature", value };
    return message;
  }

  /** The message as signed: the drafter's message with the header the node fills. */
  private completeMessage(draft: DraftDoc): Message {
    const message = fromBinary(MessageSchema, draft.message.buffer);
    const header = message.header!;
    header.messageId = draft.messageId!;
    header.senderParty = this.node.party;
    header.createdAt = timestampFromDate(draft.messageCreatedAt!);
    header.draftedBy = create(OfficerSchema, { officerId: draft.draftedBy.officerId, displayName: draft.draftedBy.displayName, role: "drafter" });
    header.approvedBy = create(OfficerSchema, { officerId: draft.decidedBy!.officerId, displayName: draft.decidedBy!.displayName, role: "approver" });
    return message;
  }

  /**
   * The drafter's partial message: what the drafter sets is checked here, with the field named;
   * what the node fills must be left empty.
   */
  private validateDraftMessage(message: Message | undefined): Message & { header: NonNullable<Message["header"]> } {
    if (!message) throw invalid("message is required");
    const h = message.header;
    if (!h) throw invalid("message.header is required (at least recipient_parties)");
    if (h.messageId !== "") throw invalid("message.header.message_id is set by the node at approval; leave it empty");
    if (h.senderParty !== "") throw invalid("message.header.sender_party is set by the node; leave it empty");
    if (h.createdAt) throw invalid("message.header.created_at is set by the node at approval; leave it empty");
    if (h.draftedBy || h.approvedBy) throw invalid("message.header.drafted_by and approved_by are set by the node; leave them empty");
    if (h.recipientParties.length === 0) throw invalid("message.header.recipient_parties must name at least one partner");
    const seen = new Set<string>();
    for (const [i, party] of h.recipientParties.entries()) {
      if (!PARTY_ID_PATTERN.test(party)) throw invalid(`message.header.recipient_parties[${i}] is not a party id (e.g. VN-MPS)`);
      if (seen.has(party)) throw invalid(`message.header.recipient_parties names ${party} twice`);
      seen.add(party);
      if (party === this.node.party) throw invalid("message.header.recipient_parties must not name this node's own party");
      if (!this.node.partners.get(party)) throw invalid(`message.header.recipient_parties[${i}]: ${party} is not an onboarded partner`);
    }
    if (Classification[h.classification] === undefined) throw invalid(`message.header.classification: ${h.classification} is not a Classification`);
    for (const [field, value] of [["thread_id", h.threadId], ["reply_to", h.replyTo]] as const) {
      if (value !== "" && !MESSAGE_ID_PATTERN.test(value)) throw invalid(`message.header.${field} must be a message id (lowercase canonical UUID)`);
    }
    for (const [i, code] of h.handlingCodes.entries()) {
      if (!HANDLING_CODE_PATTERN.test(code)) throw invalid(`message.header.handling_codes[${i}] must be upper-case ASCII letters, digits and '-'`);
    }
    if (h.expiresAt && timestampDate(h.expiresAt).getTime() <= Date.now()) throw invalid("message.header.expires_at is in the past");
    for (const [i, tag] of h.languages.entries()) {
      if (!LANGUAGE_TAG_PATTERN.test(tag)) throw invalid(`message.header.languages[${i}] is not a BCP 47 language tag`);
    }
    if (message.body.case === undefined) {
      throw invalid(`message.body is required: set exactly one of ${BODY_PROTO_NAMES.join(", ")}`);
    }
    const size = toBinary(MessageSchema, message).byteLength;
    if (size > this.node.config.limits.maxEnvelopeBytes - ENVELOPE_OVERHEAD) {
      throw invalid(`message is ${size} bytes; at most ${this.node.config.limits.maxEnvelopeBytes - ENVELOPE_OVERHEAD} fit in an envelope`);
    }
    return message as Message & { header: NonNullable<Message["header"]> };
  }

  // ---------- the audit trail ----------

  /** ListLedgerEntries: check the filters, read a page of the trail (services/node/ledger-trail.ts). */
  private async listLedgerEntries(request: ListLedgerEntriesRequest, officer: OfficerDoc) {
    const seen = new Set<string>();
    request.kinds.forEach((kind, i) => {
      if (!LEDGER_ENTRY_KINDS.includes(kind)) {
        throw invalid(`kinds[${i}] is not a ledger entry kind; expected one of ${LEDGER_ENTRY_KINDS.join(", ")}`);
      }
      if (seen.has(kind)) throw invalid(`kinds[${i}]: ${kind} is named twice`);
      seen.add(kind);
    });
    const index = (value: bigint | undefined, field: string): number | undefined => {
      if (value === undefined) return undefined;
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${field} is beyond any ledger index`);
      return Number(value);
    };
    const fromIndex = index(request.fromIndex, "from_index");
    const toIndex = index(request.toIndex, "to_index");
    if (fromIndex !== undefined && toIndex !== undefined && fromIndex > toIndex) throw invalid("from_index must not be above to_index");
    const since = request.since ? timestampDate(request.since) : undefined;
    const until = request.until ? timestampDate(request.until) : undefined;
    if (since && until && since >= until) throw invalid("since must be before until");
    const officerId = request.officerId === "" ? undefined : requireId(request.officerId, "officer_id");
    const pageSize = pageSizeOf(request.pageSize);
    const kinds = [...seen].sort();
    const filter: TrailFilter = {
      ...(kinds.length ? { kinds } : {}),
      ...(fromIndex !== undefined ? { fromIndex } : {}),
      ...(toIndex !== undefined ? { toIndex } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(officerId ? { officerId } : {}),
    };
    const hash = filterHashOf(["ledger", kinds, fromIndex ?? -1, toIndex ?? -1, since?.getTime() ?? 0, until?.getTime() ?? 0, officerId ?? ""]);
    const cursor = request.pageToken ? decodeTrailToken(request.pageToken, hash) : undefined;
    const page = await this.trail.list(filter, { limit: pageSize, ...(cursor ? { before: cursor.before, treeSize: cursor.treeSize } : {}) });
    const last = page.items[page.items.length - 1];
    this.log.info("ledger entries listed", { officerId: officer._id, kinds, count: page.items.length, treeSize: page.treeSize });
    return create(ListLedgerEntriesResponseSchema, {
      entries: page.items.map((item) => ({
        index: BigInt(item.index),
        kind: item.kind,
        recordedAt: timestampFromDate(item.recordedAt),
        leafHash: item.leafHash,
        officerIds: item.officerIds,
        summary:
          item.summary.case === "envelope"
            ? { case: "envelope" as const, value: { ...item.summary.value, receiverLedgerIndex: BigInt(item.summary.value.receiverLedgerIndex) } }
            : item.summary.case === "decision"
              ? { case: "decision" as const, value: item.summary.value }
              : { case: undefined },
        withheld: item.withheld,
      })),
      nextPageToken: page.more && last ? encodePageToken({ b: last.index, n: page.treeSize, f: hash }) : "",
      treeSize: BigInt(page.treeSize),
    });
  }

  // ---------- messages ----------

  private receivedCollection() {
    return this.node.db.collection<ReceivedEnvelopeDoc>("envelopes_received");
  }

  private async sentDoc(messageId: string): Promise<SentEnvelopeDoc> {
    const doc = await this.node.sender.sent.findOne({ _id: messageId });
    if (!doc) throw new TypeError(`message ${messageId} was submitted but is not recorded as sent`);
    return doc;
  }

  /**
   * Both directions, newest first, keyset-paginated on (recorded time, message id, direction):
   * each collection is read in index order from the cursor, and the two streams are merged.
   */
  private async listMessages(request: ListMessagesRequest) {
    if (Direction[request.direction] === undefined) throw invalid(`direction: ${request.direction} is not a Direction`);
    if (DeliveryStatus[request.deliveryStatus] === undefined) throw invalid(`delivery_status: ${request.deliveryStatus} is not a DeliveryStatus`);
    if (request.partner !== "" && !PARTY_ID_PATTERN.test(request.partner)) throw invalid("partner is not a party id (e.g. CN-MPS)");
    let bodyKind: string | undefined;
    if (request.bodyKind !== "") {
      bodyKind = BODY_KINDS.get(request.bodyKind);
      if (!bodyKind) throw invalid(`body_kind: ${JSON.stringify(request.bodyKind)} is not a body; expected one of ${BODY_PROTO_NAMES.join(", ")}`);
    }
    const since = request.since ? timestampDate(request.since) : undefined;
    const until = request.until ? timestampDate(request.until) : undefined;
    if (since && until && since >= until) throw invalid("since must be before until");
    const pageSize = pageSizeOf(request.pageSize);
    const status = request.deliveryStatus === DeliveryStatus.UNSPECIFIED ? undefined : PROTO_TO_DELIVERY.get(request.deliveryStatus);
    const hash = filterHashOf([request.direction, request.partner, bodyKind ?? "", request.deliveryStatus, since?.getTime() ?? 0, until?.getTime() ?? 0]);
    const cursor = request.pageToken ? decodePageToken(request.pageToken, hash) : undefined;

    const SENT = 1;
    const RECEIVED = 0;
    const range = (field: string, dir: number): Record<string, unknown> => {
      const bounds: Record<string, Date> = {};
      if (since) bounds.$gte = since;
      if (until) bounds.$lt = until;
      const filter: Record<string, unknown> = {};
      if (cursor) {
        bounds.$lte = new Date(cursor.t);
        filter.$or = [{ [field]: { $lt: new Date(cursor.t) } }, { _id: dir < cursor.d ? { $lte: cursor.i } : { $lt: cursor.i } }];
      }
      if (Object.keys(bounds).length) filter[field] = bounds;
      return filter;
    };

    type Row = { time: number; id: string; dir: number; record: () => MessageRecord };
    const rows: Row[] = [];
    if (request.direction !== Direction.RECEIVED) {
      const filter = range("createdAt", SENT);
      if (request.partner) filter[`deliveries.${request.partner}`] = { $exists: true };
      if (bodyKind) filter.bodyKind = bodyKind;
      if (status) {
        if (request.partner) filter[`deliveries.${request.partner}.status`] = status;
        else filter.$expr = { $in: [status, { $map: { input: { $objectToArray: "$deliveries" }, in: "$$this.v.status" } }] };
      }
      const docs = await this.node.sender.sent.find(filter as Filter<SentEnvelopeDoc>).sort({ createdAt: -1, _id: -1 }).limit(pageSize + 1).toArray();
      for (const doc of docs) rows.push({ time: doc.createdAt.getTime(), id: doc._id, dir: SENT, record: () => this.messageRecord(doc, "sent") });
    }
    if (request.direction !== Direction.SENT && !status) {
      const filter = range("receivedAt", RECEIVED);
      filter.state = "recorded";
      if (request.partner) filter.senderParty = request.partner;
      if (bodyKind) filter.bodyKind = bodyKind;
      const docs = await this.receivedCollection()
        .find(filter as Filter<ReceivedEnvelopeDoc>)
        .sort({ receivedAt: -1, _id: -1 })
        .limit(pageSize + 1)
        .toArray();
      for (const doc of docs) rows.push({ time: doc.receivedAt!.getTime(), id: doc._id, dir: RECEIVED, record: () => this.messageRecord(doc, "received") });
    }
    rows.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) || b.dir - a.dir);
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return create(ListMessagesResponseSchema, {
      messages: page.map((r) => r.record()),
      nextPageToken: rows.length > pageSize && last ? encodePageToken({ t: last.time, i: last.id, d: last.dir, f: hash }) : "",
    });
  }

  private messageRecord(doc: SentEnvelopeDoc | ReceivedEnvelopeDoc, direction: "sent" | "received"): MessageRecord {
    const signedBytes = new Uint8Array(doc.envelope.buffer);
    const signed = fromBinary(SignedEnvelopeSchema, signedBytes);
    const message = fromBinary(MessageSchema, signed.message);
    // Informants and victims are never shown through listings: they are replaced by placeholders,
    // and the signed bytes (which carry them) are withheld for such messages.
    const redacted = redactProtectedParties(message);
    const envelope = redacted > 0 ? new Uint8Array(0) : signedBytes;
    if (direction === "sent") {
      const sent = doc as SentEnvelopeDoc;
      return create(MessageRecordSchema, {
        messageId: sent._id,
        direction: Direction.SENT,
        message,
        envelope,
        envelopeSha256: new Uint8Array(sent.envelopeSha256.buffer),
        deliveries: Object.entries(sent.deliveries).map(([party, d]) => ({
          party,
          status: DELIVERY_TO_PROTO[d.status] ?? DeliveryStatus.UNSPECIFIED,
          attempts: d.attempts,
          lastError: d.lastError ?? "",
          rejectionCode: d.rejectionCode ?? "",
          receiptedAt: ts(d.receivedAt),
          receiverLedgerIndex: BigInt(d.ledgerIndex ?? 0),
        })),
        ledgerIndex: BigInt(sent.ledgerIndex),
        recordedAt: ts(sent.createdAt),
      });
    }
    const received = doc as ReceivedEnvelopeDoc;
    return create(MessageRecordSchema, {
      messageId: received._id,
      direction: Direction.RECEIVED,
      message,
      envelope,
      envelopeSha256: new Uint8Array(received.envelopeSha256.buffer),
      ledgerIndex: BigInt(received.ledgerIndex ?? 0),
      recordedAt: ts(received.receivedAt),
    });
  }

  // ---------- views ----------

  private account(officer: OfficerDoc): OfficerAccount {
    const locked = officer.lockedUntil && officer.lockedUntil > this.sessionClock() ? officer.lockedUntil : undefined;
    return create(OfficerAccountSchema, {
      officerId: officer._id,
      username: officer.username,
      displayName: officer.displayName,
      roles: officer.roles.map((r) => ROLE_TO_PROTO[r]),
      disabled: officer.disabled,
      createdAt: ts(officer.createdAt),
      lockedUntil: ts(locked),
      party: this.node.party,
      partyDisplayNames: this.node.identity.displayNames,
    });
  }

  private refAccount(ref: OfficerRef): OfficerAccount {
    const role = ref.role as RoleName;
    return create(OfficerAccountSchema, {
      officerId: ref.officerId,
      username: ref.username,
      displayName: ref.displayName,
      roles: ROLE_TO_PROTO[role] ? [ROLE_TO_PROTO[role]] : [],
    });
  }

  /**
   * A draft as `viewer` may see it: protected parties (informants, victims) in clear only while
   * it awaits approval, and only to its drafter and to approvers (the two-person review of what
   * leaves); to anyone else, and once decided, placeholders (ReadProtectedFields reads them).
   */
  private draft(doc: DraftDoc, viewer: OfficerDoc): Draft {
    const message = doc.state === "approved" && doc.messageId ? this.completeMessage(doc) : fromBinary(MessageSchema, doc.message.buffer);
    const reviewing = doc.state === "awaiting_approval" && (doc.draftedBy.officerId === viewer._id || viewer.roles.includes("approver"));
    if (!reviewing) redactProtectedParties(message);
    return create(DraftSchema, {
      draftId: doc._id,
      state: STATE_TO_PROTO[doc.state],
      message,
      draftedBy: this.refAccount(doc.draftedBy),
      createdAt: ts(doc.createdAt),
      decidedBy: doc.decidedBy ? this.refAccount(doc.decidedBy) : undefined,
      decidedAt: ts(doc.decidedAt),
      rejectionReason: doc.rejectionReason ?? "",
      messageId: doc.messageId ?? "",
    });
  }
}

const WITNESS_PREFIX = "liaison/witness/";
const NOTICE_KIND_NAMES = MessageSchema.oneofs
  .find((o) => o.name === "body")!
  .fields.filter((f) => NOTICE_KINDS.includes(f.localName as never))
  .map((f) => f.name);
const PROTO_NAME_OF_KIND = new Map(MessageSchema.oneofs.find((o) => o.name === "body")!.fields.map((f) => [f.localName, f.name]));

/** A minutes co-signature draft whose JWS the node makes at approval (CosignMinutes), else undefined. */
function nodeSignedCosignature(draft: DraftDoc): { minutesMessageId: string } | undefined {
  if (draft.bodyKind !== "minutesCosignature") return undefined;
  const body = fromBinary(MessageSchema, draft.message.buffer).body;
  if (body.case !== "minutesCosignature" || body.value.cosignatureJws !== "") return undefined;
  return { minutesMessageId: body.value.minutesMessageId };
}

function minutesSummary(archive: MinutesArchiveEntry): MinutesSummary {
  const m = archive.minutes;
  return create(MinutesSummarySchema, {
    minutesMessageId: m._id,
    host: m.host,
    parties: m.parties,
    direction: m.direction === "sent" ? Direction.SENT : Direction.RECEIVED,
    title: m.title.map((t) => ({ lang: t.lang, text: t.text })),
    meetingNumber: m.meetingNumber,
    kind: m.kind,
    previousMinutesId: m.previousMinutesId,
    messageSha256: m.messageSha256,
    createdAt: ts(m.createdAt),
    ledgerIndex: BigInt(m.ledgerIndex),
    signedBy: archive.signedBy,
    missing: archive.missing,
    complete: archive.complete,
  });
}

const texts = (list: readonly { lang: string; text: string }[]) => list.map((t) => ({ lang: t.lang, text: t.text }));

function campaignRecord(doc: CampaignDoc) {
  return create(CampaignRecordSchema, {
    messageId: doc.messageId,
    announcedBy: doc.announcedBy,
    createdAt: ts(doc.createdAt),
    campaign: create(CampaignSchema, {
      campaignId: doc._id,
      name: texts(doc.name),
      description: texts(doc.description),
      parties: doc.parties,
      crimeAreas: doc.crimeAreas,
      startsAt: ts(doc.startsAt),
      endsAt: ts(doc.endsAt),
      objectives: doc.objectives.map((o) => ({ metric: o.metric, target: o.target, description: texts(o.description) })),
    }),
  });
}

function assistanceItem(view: AssistanceView) {
  return create(AssistanceItemSchema, {
    requestId: view._id,
    requester: view.requester,
    requestedFrom: view.requestedFrom,
    direction: view.direction === "sent" ? Direction.SENT : Direction.RECEIVED,
    caseReference: view.caseReference,
    caseShareId: view.caseShareId,
    request: texts(view.request),
    legalBasis: view.legalBasis,
    urgency: view.urgency,
    kinds: view.kinds,
    deadline: ts(view.deadline),
    createdAt: ts(view.createdAt),
    statusByParty: view.statusByParty,
    status: view.status,
    overdue: view.overdue,
    responses: view.responses.map((r) => ({
      messageId: r._id,
      from: r.from,
      status: r.status,
      answer: texts(r.answer),
      refusalReason: r.refusalReason,
      responderReference: r.responderReference,
      createdAt: ts(r.createdAt),
    })),
  });
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

// ---------- a client, for the gateway, the CLI and tests ----------

type UnaryMethod = DescMethodUnary<DescMessage, DescMessage>;

const GRPC_TO_CODE: Partial<Record<GrpcStatus, ErrorCode>> = {
  [GrpcStatus.UNAUTHENTICATED]: "UNAUTHENTICATED",
  [GrpcStatus.PERMISSION_DENIED]: "FORBIDDEN",
  [GrpcStatus.NOT_FOUND]: "NOT_FOUND",
  [GrpcStatus.INVALID_ARGUMENT]: "INVALID_ARGUMENT",
  [GrpcStatus.ALREADY_EXISTS]: "CONFLICT",
  [GrpcStatus.FAILED_PRECONDITION]: "BUSINESS_RULE",
  [GrpcStatus.RESOURCE_EXHAUSTED]: "RATE_LIMITED",
  [GrpcStatus.UNAVAILABLE]: "UNAVAILABLE",
  [GrpcStatus.DEADLINE_EXCEEDED]: "UNAVAILABLE",
};

/**
 * A LiaisonError from a local API refusal: the node's own code (from the Rejection detail) and
 * reason, so the caller maps it with the one error table. The gRPC error is the cause.
 */
export function localApiErrorFrom(error: grpc.ServiceError): LiaisonError {
  const detail = rejectionDetail(error);
  const code: ErrorCode = detail && isErrorCode(detail.code) ? detail.code : (GRPC_TO_CODE[error.code as GrpcStatus] ?? "INTERNAL");
  const reason = detail?.reason || error.details || "the local API call failed";
  return new LiaisonError(code, reason, {
    cause: error,
    ...(error.code === GrpcStatus.UNAVAILABLE ? { labels: [ErrorLabel.Retryable] } : {}),
  });
}

/** Calls the local API: typed requests and responses, refusals as LiaisonError. */
export class LocalApiClient {
  private readonly client: grpc.Client;

  /** `address` is "host:port" of the local API (plaintext; loopback). */
  constructor(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    this.client = new grpc.Client(address, credentials, { "grpc.max_receive_message_length": -1 });
  }

  call<M extends UnaryMethod>(
    method: M,
    request: MessageInitShape<M["input"]>,
    accessToken?: string,
    timeoutMs = 30_000,
  ): Promise<MessageShape<M["output"]>> {
    const metadata = new grpc.Metadata();
    if (accessToken !== undefined) metadata.set("authorization", `Bearer ${accessToken}`);
    const bytes = toBinary(method.input, create(method.input, request as never));
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(
        `/${method.parent.typeName}/${method.name}`,
        (b) => b,
        (b) => b,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        metadata,
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          if (error) return reject(localApiErrorFrom(error));
          try {
            resolve(fromBinary(method.output, response ?? Buffer.alloc(0)) as MessageShape<M["output"]>);
          } catch (cause) {
            reject(new LiaisonError("INTERNAL", "the local API answered with an undecodable response", { cause }));
          }
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

const PROTECTED_PARTY = "liaison.v1.ProtectedParty";

/**
 * Replace every ProtectedParty (informant, victim) in a decoded message by an empty placeholder,
 * in place; returns how many were replaced. The count stays visible, the identity does not.
 */
export function redactProtectedParties(value: unknown): number {
  let count = 0;
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== "object" || node instanceof Uint8Array) return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    const record = node as Record<string, unknown>;
    for (const [key, child] of Object.entries(record)) {
      if (Array.isArray(child) && child.some((c) => (c as { $typeName?: string } | null)?.$typeName === PROTECTED_PARTY)) {
        count += child.length;
        record[key] = child.map(() => ({ $typeName: PROTECTED_PARTY, names: [], nationality: "", contact: "", notes: "[protected]" }));
      } else if ((child as { $typeName?: string } | null)?.$typeName === PROTECTED_PARTY) {
        count += 1;
        record[key] = { $typeName: PROTECTED_PARTY, names: [], nationality: "", contact: "", notes: "[protected]" };
      } else {
        walk(child);
      }
    }
  };
  walk(value);
  return count;
}
