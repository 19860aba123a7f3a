/**
 * The gateway's routes: one table, from which the server registers handlers and the OpenAPI
 * document is built. Each route validates its path, query and body with zod (strict objects:
 * unknown fields refused) and calls one LocalApi method; roles are the node's business — the
 * `roles` text only documents what the node enforces.
 */
import { fromJson, toJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { decodeJwt } from "jose";
import { z } from "zod";
import {
  CampaignProgressSchema,
  DeliveryStatus,
  Direction,
  DraftSchema,
  DraftState,
  InclusionProofSchema,
  LedgerStatusSchema,
  ListAssistanceResponseSchema,
  ListCampaignsResponseSchema,
  ListDraftsResponseSchema,
  ListLedgerEntriesResponseSchema,
  ListMessagesResponseSchema,
  ListMinutesResponseSchema,
  ListOfficersResponseSchema,
  ListPartnersResponseSchema,
  LocalApi,
  LoginResponseSchema,
  MessageRecordSchema,
  MinutesArchiveSchema,
  OfficerAccountSchema,
  ProtectedField,
  ProtectedFieldsSchema,
  Role,
  SearchNoticesResponseSchema,
  type LoginResponse,
  type MessageRecord,
} from "../gen/liaison/v1/local_pb.ts";
import { MessageSchema } from "../gen/liaison/v1/message_pb.ts";
import { LiaisonError } from "../services/errors/index.ts";
import type { LocalApiConnection } from "./client.ts";

// ---------- what a handler gets and returns ----------

export interface RouteContext {
  correlationId: string;
  /** The officer's access token (Bearer header or cookie), if any. */
  accessToken: string | undefined;
  /** The refresh token from its cookie, if any. */
  refreshCookie: string | undefined;
  api: LocalApiConnection;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
  /** Raw bytes with their content type (downloads). */
  bytes?: { data: Uint8Array; contentType: string; filename: string };
  /** Session cookies to set or clear. */
  session?: { login: LoginResponse } | { clear: true };
}

export interface RouteDef {
  method: "GET" | "POST";
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Needs an officer's access token. */
  auth: boolean;
  roles: string;
  localMethod?: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  bodyOptional?: boolean;
  /** Protobuf messages accepted inside the body (for the OpenAPI components). */
  protoInputs?: DescMessage[];
  response: {
    status?: number;
    description: string;
    proto?: DescMessage;
    /** Wraps the proto reference (e.g. an array or a page object). */
    schema?: (ref: Record<string, unknown>) => Record<string, unknown>;
    json?: Record<string, unknown>;
    contentType?: string;
  };
  handle(input: { params: any; query: any; body: any }, ctx: RouteContext): Promise<RouteResult>;
}

function route<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  def: Omit<RouteDef, "handle" | "params" | "query" | "body"> & {
    params?: P;
    query?: Q;
    body?: B;
    handle(
      input: {
        params: P extends z.ZodType ? z.output<P> : undefined;
        query: Q extends z.ZodType ? z.output<Q> : undefined;
        body: B extends z.ZodType ? z.output<B> : undefined;
      },
      ctx: RouteContext,
    ): Promise<RouteResult>;
  },
): RouteDef {
  return def as RouteDef;
}

// ---------- JSON ↔ protobuf ----------

/** The protobuf JSON mapping of a response message. */
export function json<D extends DescMessage>(schema: D, message: MessageShape<D>): JsonValue {
  return toJson(schema, message);
}

/** A message record for listings: everything but the envelope bytes (fetched on their own). */
function recordSummary(record: MessageRecord): JsonValue {
  record.envelope = new Uint8Array(0);
  return toJson(MessageRecordSchema, record);
}

// ---------- schemas ----------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PARTY = /^[A-Z]{2}-[A-Z0-9]{2,16}$/;

const uuid = (what: string) => z.string().regex(UUID, `must be a ${what} id (lowercase UUID)`);
const party = z.string().regex(PARTY, "must be a party id such as VN-MPS");
const isoDate = z.iso.datetime({ offset: true, message: "must be an RFC 3339 date-time, e.g. 2026-05-01T00:00:00Z" });
const pageSize = z
  .string()
  .regex(/^[0-9]{1,3}$/, "must be a whole number from 1 to 500")
  .transform(Number)
  .refine((n) => n >= 1 && n <= 500, "must be from 1 to 500");
const pageToken = z.string().max(512, "is too long").regex(/^[A-Za-z0-9_-]*$/, "is not a page token");

const ROLE_NAMES = ["drafter", "approver", "analyst", "auditor", "admin"] as const;
const ROLE_PROTO: Record<(typeof ROLE_NAMES)[number], Role> = {
  drafter: Role.DRAFTER,
  approver: Role.APPROVER,
  analyst: Role.ANALYST,
  auditor: Role.AUDITOR,
  admin: Role.ADMIN,
};

export const BODY_KINDS = MessageSchema.oneofs.find((o) => o.name === "body")!.fields.map((f) => f.name) as [string, ...string[]];

const DIRECTIONS = { sent: Direction.SENT, received: Direction.RECEIVED } as const;
const DELIVERY = { pending: DeliveryStatus.PENDING, receipted: DeliveryStatus.RECEIPTED, rejected: DeliveryStatus.REJECTED } as const;
const DRAFT_STATES = { awaiting_approval: DraftState.AWAITING_APPROVAL, approved: DraftState.APPROVED, rejected: DraftState.REJECTED } as const;

const login = z.strictObject({
  username: z.string().min(1, "is required").max(128, "is too long"),
  password: z.string().min(1, "is required").max(1024, "is too long"),
  session: z.enum(["cookie", "bearer"]).optional().describe("cookie (default): HttpOnly cookies; bearer: tokens in the response body"),
});
const refresh = z.strictObject({
  refreshToken: z.string().min(1).max(256).optional().describe("when the refresh token is not in its cookie"),
  session: z.enum(["cookie", "bearer"]).optional(),
});
const logout = z.strictObject({ refreshToken: z.string().min(1).max(256).optional() });
const changePassword = z.strictObject({
  currentPassword: z.string().min(1, "is required").max(1024),
  newPassword: z.string().min(1, "is required").max(1024),
});
const createOfficer = z.strictObject({
  username: z.string().min(1, "is required").max(128),
  displayName: z.string().min(1, "is required").max(200),
  roles: z.array(z.enum(ROLE_NAMES)).min(1, "must name at least one role").max(5),
  password: z.string().min(1, "is required").max(1024),
});
const officerParams = z.strictObject({ officerId: uuid("officer") });
const setDisabled = z.strictObject({ disabled: z.boolean() });

/** A draft: the protobuf JSON form of liaison.v1.Message, checked field by field against the schema. */
const protoMessage = z
  .record(z.string(), z.unknown())
  .transform((value, ctx) => {
    try {
      return fromJson(MessageSchema, value as JsonValue, { ignoreUnknownFields: false, recursionLimit: 32 });
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message.replace(/^\[[a-z_]+\] /, "") });
      return z.NEVER;
    }
  })
  .describe("liaison.v1.Message in the protobuf JSON mapping (see components.schemas)");
const createDraft = z.strictObject({ message: protoMessage });
const draftParams = z.strictObject({ draftId: uuid("draft") });
const listDrafts = z.strictObject({
  state: z.enum(Object.keys(DRAFT_STATES) as [keyof typeof DRAFT_STATES]).optional(),
  pageSize: pageSize.optional(),
  pageToken: pageToken.optional(),
});
const rejectDraft = z.strictObject({ reason: z.string().trim().min(1, "is required").max(2000, "must be at most 2000 characters") });
const messageParams = z.strictObject({ messageId: uuid("message") });
const listMessages = z.strictObject({
  direction: z.enum(["sent", "received"]).optional(),
  partner: party.optional(),
  kind: z.enum(BODY_KINDS).optional().describe("body kind, as in the Message oneof"),
  status: z.enum(["pending", "receipted", "rejected"]).optional().describe("delivery status of sent messages"),
  since: isoDate.optional(),
  until: isoDate.optional(),
  pageSize: pageSize.optional(),
  pageToken: pageToken.optional(),
});
/** The notice kinds SearchNotices takes (body field names). */
export const NOTICE_KINDS = ["wanted_person", "drug_case", "human_trafficking", "telecom_fraud"] as const;
const search = z.strictObject({
  q: z.string().trim().min(1, "is required").max(200, "is too long").describe("a name in any script, with or without diacritics; a document, phone or account number; a crypto address"),
  kind: z.enum(NOTICE_KINDS).optional().describe("notice kind"),
  since: isoDate.optional(),
  until: isoDate.optional(),
  limit: pageSize.optional(),
});
/** ReadProtectedFields: why, and which fields (default all). POST: the purpose stays out of URLs and access logs. */
const PROTECTED_FIELDS = { informants: ProtectedField.INFORMANTS, victims: ProtectedField.VICTIMS } as const;
const readProtected = z.strictObject({
  purpose: z
    .string()
    .trim()
    .min(1, "is required: state why the identities are needed")
    .max(500, "must be at most 500 characters")
    .describe("why the identities are needed; recorded in the node's ledger (which partners can read): name no protected party in it"),
  fields: z
    .array(z.enum(["informants", "victims"]))
    .min(1, "must name at least one field when given")
    .max(2)
    .refine((list) => new Set(list).size === list.length, "must not name a field twice")
    .optional()
    .describe("informants, victims; default both"),
});
const minutesParams = z.strictObject({ minutesId: uuid("minutes message") });
const campaignParams = z.strictObject({
  campaignId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be a campaign id such as VN-CN-DRUG-2026"),
});
/** A ledger entry kind's shape ("protected.read", "envelope.refused-by-partner"); the node refuses kinds it does not record. */
const LEDGER_KIND = /^[a-z][a-z0-9-]{0,40}(\.[a-z][a-z0-9-]{0,40}){1,3}$/;
const ledgerIndex = z
  .string()
  .regex(/^[0-9]{1,15}$/, "must be a ledger index (a whole number)")
  .transform((v) => BigInt(v));
const listLedgerEntries = z.strictObject({
  kind: z
    .string()
    .min(1, "must name at least one kind when given")
    .max(1000, "is too long")
    .transform((value, ctx) => {
      const kinds = value.split(",");
      if (kinds.length > 20) ctx.addIssue({ code: "custom", message: "names at most 20 kinds" });
      kinds.forEach((kind, i) => {
        if (!LEDGER_KIND.test(kind)) ctx.addIssue({ code: "custom", message: `item ${i + 1} is not a ledger entry kind such as protected.read` });
      });
      if (new Set(kinds).size !== kinds.length) ctx.addIssue({ code: "custom", message: "must not name a kind twice" });
      return kinds;
    })
    .optional()
    .describe("one or several entry kinds, comma-separated: protected.read, draft.approved, draft.rejected, officer.added, envelope.received, … (docs/PROTOCOL.md §11.1)"),
  fromIndex: ledgerIndex.optional().describe("lowest ledger index (inclusive)"),
  toIndex: ledgerIndex.optional().describe("highest ledger index (inclusive)"),
  since: isoDate.optional().describe("recorded at or after"),
  until: isoDate.optional().describe("recorded before"),
  officer: uuid("officer").optional().describe("only local decisions naming this officer (actor or subject)"),
  pageSize: pageSize.optional(),
  pageToken: pageToken.optional(),
});
const listAssistance = z.strictObject({
  overdue: z.enum(["true", "false"]).optional().describe("true: only requests past their deadline and not finished"),
  limit: pageSize.optional(),
});

const page = (key: string) => (ref: Record<string, unknown>) => ({
  type: "object",
  properties: { [key]: { type: "array", items: ref }, nextPageToken: { type: "string" } },
});

const sessionJson = {
  type: "object",
  properties: {
    officer: { $ref: "#/components/schemas/liaison.v1.OfficerAccount" },
    party: { type: "string", description: "this node's party, e.g. VN-MPS" },
    accessExpiresAt: { type: "string", format: "date-time" },
    refreshExpiresAt: { type: "string", format: "date-time" },
    accessToken: { type: "string", description: "only with session: bearer" },
    refreshToken: { type: "string", description: "only with session: bearer" },
  },
};

/** The node's party: the `iss` of the access token the node just issued (display only; the node verifies tokens). */
function partyOf(accessToken: string | undefined): string {
  if (!accessToken) return "";
  try {
    const iss = decodeJwt(accessToken).iss;
    return typeof iss === "string" && PARTY.test(iss) ? iss : "";
  } catch {
    return "";
  }
}

function sessionBody(result: LoginResponse, mode: "cookie" | "bearer" | undefined): Record<string, unknown> {
  const full = toJson(LoginResponseSchema, result) as Record<string, unknown>;
  const body: Record<string, unknown> = {
    officer: full.officer,
    party: result.officer?.party || partyOf(result.accessToken),
    accessExpiresAt: full.accessExpiresAt,
    refreshExpiresAt: full.refreshExpiresAt,
  };
  if (mode === "bearer") Object.assign(body, { accessToken: result.accessToken, refreshToken: result.refreshToken });
  return body;
}

const call = (ctx: RouteContext) => ({ accessToken: ctx.accessToken, correlationId: ctx.correlationId });

// ---------- the table ----------

export const ROUTES: RouteDef[] = [
  // Sessions
  route({
    method: "POST", path: "/api/session/login", operationId: "login", tag: "session", auth: false, roles: "anyone",
    localMethod: "Login", summary: "Sign in with username and password",
    description: "Repeated failures lock the account (the node decides). Default: HttpOnly, Secure, SameSite=Strict cookies.",
    body: login,
    response: { description: "Signed in", json: sessionJson },
    async handle({ body }, ctx) {
      const result = await ctx.api.call(LocalApi.method.login, { username: body.username, password: body.password }, { correlationId: ctx.correlationId });
      return { body: sessionBody(result, body.session), ...(body.session === "bearer" ? {} : { session: { login: result } }) };
    },
  }),
  route({
    method: "POST", path: "/api/session/refresh", operationId: "refreshSession", tag: "session", auth: false, roles: "anyone with a refresh token",
    localMethod: "RefreshToken", summary: "New access token from the (single-use) refresh token",
    body: refresh, bodyOptional: true,
    response: { description: "Refreshed", json: sessionJson },
    async handle({ body }, ctx) {
      const token = body?.refreshToken ?? ctx.refreshCookie;
      if (!token) throw new LiaisonError("UNAUTHENTICATED", "no refresh token: sign in again");
      const result = await ctx.api.call(LocalApi.method.refreshToken, { refreshToken: token }, { correlationId: ctx.correlationId });
      const mode = body?.session ?? (body?.refreshToken ? "bearer" : "cookie");
      return { body: sessionBody(result, mode), ...(mode === "bearer" ? {} : { session: { login: result } }) };
    },
  }),
  route({
    method: "POST", path: "/api/session/logout", operationId: "logout", tag: "session", auth: true, roles: "any officer",
    localMethod: "Logout", summary: "Sign out: revokes the access and refresh tokens",
    body: logout, bodyOptional: true,
    response: { description: "Signed out", json: { type: "object" } },
    async handle({ body }, ctx) {
      await ctx.api.call(LocalApi.method.logout, { refreshToken: body?.refreshToken ?? ctx.refreshCookie ?? "" }, call(ctx));
      return { body: {}, session: { clear: true } };
    },
  }),
  route({
    method: "GET", path: "/api/session", operationId: "whoAmI", tag: "session", auth: true, roles: "any officer",
    localMethod: "WhoAmI", summary: "The signed-in officer, with this node's party and its display names",
    response: {
      description: "The officer",
      proto: OfficerAccountSchema,
      schema: (ref) => ({ allOf: [ref, { type: "object", properties: { party: { type: "string" } } }] }),
    },
    async handle(_input, ctx) {
      const officer = json(OfficerAccountSchema, await ctx.api.call(LocalApi.method.whoAmI, {}, call(ctx))) as Record<string, unknown>;
      return { body: { ...officer, party: (officer.party as string | undefined) || partyOf(ctx.accessToken) } };
    },
  }),
  route({
    method: "POST", path: "/api/session/password", operationId: "changePassword", tag: "session", auth: true, roles: "any officer",
    localMethod: "ChangePassword", summary: "Change one's own password (ends every session)",
    body: changePassword,
    response: { description: "Changed", json: { type: "object" } },
    async handle({ body }, ctx) {
      await ctx.api.call(LocalApi.method.changePassword, body, call(ctx));
      return { body: {}, session: { clear: true } };
    },
  }),

  // Officers
  route({
    method: "GET", path: "/api/officers", operationId: "listOfficers", tag: "officers", auth: true, roles: "admin, auditor",
    localMethod: "ListOfficers", summary: "Officer accounts of this node",
    response: { description: "Officers", proto: OfficerAccountSchema, schema: page("officers") },
    async handle(_input, ctx) {
      return { body: json(ListOfficersResponseSchema, await ctx.api.call(LocalApi.method.listOfficers, {}, call(ctx))) };
    },
  }),
  route({
    method: "POST", path: "/api/officers", operationId: "createOfficer", tag: "officers", auth: true, roles: "admin",
    localMethod: "CreateOfficer", summary: "Create an officer account",
    body: createOfficer,
    response: { status: 201, description: "Created", proto: OfficerAccountSchema },
    async handle({ body }, ctx) {
      const created = await ctx.api.call(
        LocalApi.method.createOfficer,
        { username: body.username, displayName: body.displayName, password: body.password, roles: body.roles.map((r) => ROLE_PROTO[r]) },
        call(ctx),
      );
      return { status: 201, body: json(OfficerAccountSchema, created) };
    },
  }),
  route({
    method: "POST", path: "/api/officers/:officerId/disabled", operationId: "setOfficerDisabled", tag: "officers", auth: true, roles: "admin",
    localMethod: "SetOfficerDisabled", summary: "Disable (ends every session) or enable (lifts a lockout) an officer",
    params: officerParams, body: setDisabled,
    response: { description: "Updated", proto: OfficerAccountSchema },
    async handle({ params, body }, ctx) {
      const updated = await ctx.api.call(LocalApi.method.setOfficerDisabled, { officerId: params.officerId, disabled: body.disabled }, call(ctx));
      return { body: json(OfficerAccountSchema, updated) };
    },
  }),

  // Drafts
  route({
    method: "GET", path: "/api/drafts", operationId: "listDrafts", tag: "drafts", auth: true, roles: "drafter, approver, auditor",
    localMethod: "ListDrafts", summary: "Drafts, newest first (the approval queue: state=awaiting_approval)",
    query: listDrafts,
    response: { description: "A page of drafts", proto: DraftSchema, schema: page("drafts") },
    async handle({ query }, ctx) {
      const result = await ctx.api.call(
        LocalApi.method.listDrafts,
        { state: query.state ? DRAFT_STATES[query.state] : DraftState.UNSPECIFIED, pageSize: query.pageSize ?? 0, pageToken: query.pageToken ?? "" },
        call(ctx),
      );
      return { body: json(ListDraftsResponseSchema, result) };
    },
  }),
  route({
    method: "POST", path: "/api/drafts", operationId: "createDraft", tag: "drafts", auth: true, roles: "drafter",
    localMethod: "CreateDraft", summary: "Draft a message (notice, case share, assistance request, campaign report, minutes, …)",
    description: "The node fills message id, sender, created time, drafted_by and approved_by; leave them empty.",
    body: createDraft, protoInputs: [MessageSchema],
    response: { status: 201, description: "The draft, awaiting approval", proto: DraftSchema },
    async handle({ body }, ctx) {
      const draft = await ctx.api.call(LocalApi.method.createDraft, { message: body.message }, call(ctx));
      return { status: 201, body: json(DraftSchema, draft) };
    },
  }),
  route({
    method: "GET", path: "/api/drafts/:draftId", operationId: "getDraft", tag: "drafts", auth: true, roles: "drafter, approver, auditor",
    localMethod: "GetDraft", summary: "One draft, as it will be signed",
    params: draftParams,
    response: { description: "The draft", proto: DraftSchema },
    async handle({ params }, ctx) {
      return { body: json(DraftSchema, await ctx.api.call(LocalApi.method.getDraft, { draftId: params.draftId }, call(ctx))) };
    },
  }),
  route({
    method: "POST", path: "/api/drafts/:draftId/approve", operationId: "approveDraft", tag: "drafts", auth: true, roles: "approver (never the drafter)",
    localMethod: "ApproveDraft", summary: "Approve, sign and send a draft",
    params: draftParams,
    response: { description: "The message as sent", proto: MessageRecordSchema },
    async handle({ params }, ctx) {
      return { body: recordSummary(await ctx.api.call(LocalApi.method.approveDraft, { draftId: params.draftId }, call(ctx))) };
    },
  }),
  route({
    method: "POST", path: "/api/drafts/:draftId/reject", operationId: "rejectDraft", tag: "drafts", auth: true, roles: "approver",
    localMethod: "RejectDraft", summary: "Send a draft back with a reason",
    params: draftParams, body: rejectDraft,
    response: { description: "The rejected draft", proto: DraftSchema },
    async handle({ params, body }, ctx) {
      return { body: json(DraftSchema, await ctx.api.call(LocalApi.method.rejectDraft, { draftId: params.draftId, reason: body.reason }, call(ctx))) };
    },
  }),

  // Messages
  route({
    method: "GET", path: "/api/messages", operationId: "listMessages", tag: "messages", auth: true, roles: "drafter, approver, analyst, auditor",
    localMethod: "ListMessages", summary: "Inbox and outbox, newest first, with delivery and receipt per recipient",
    query: listMessages,
    response: { description: "A page of messages (without envelope bytes)", proto: MessageRecordSchema, schema: page("messages") },
    async handle({ query }, ctx) {
      const result = await ctx.api.call(
        LocalApi.method.listMessages,
        {
          direction: query.direction ? DIRECTIONS[query.direction] : Direction.UNSPECIFIED,
          partner: query.partner ?? "",
          bodyKind: query.kind ?? "",
          deliveryStatus: query.status ? DELIVERY[query.status] : DeliveryStatus.UNSPECIFIED,
          ...(query.since ? { since: timestampFromDate(new Date(query.since)) } : {}),
          ...(query.until ? { until: timestampFromDate(new Date(query.until)) } : {}),
          pageSize: query.pageSize ?? 0,
          pageToken: query.pageToken ?? "",
        },
        call(ctx),
      );
      return { body: { messages: result.messages.map(recordSummary), nextPageToken: result.nextPageToken } };
    },
  }),
  route({
    method: "GET", path: "/api/messages/:messageId", operationId: "getMessage", tag: "messages", auth: true, roles: "drafter, approver, analyst, auditor",
    localMethod: "GetMessage", summary: "One message with its envelope (base64) and deliveries",
    params: messageParams,
    response: { description: "The message", proto: MessageRecordSchema },
    async handle({ params }, ctx) {
      return { body: json(MessageRecordSchema, await ctx.api.call(LocalApi.method.getMessage, { messageId: params.messageId }, call(ctx))) };
    },
  }),
  route({
    method: "GET", path: "/api/messages/:messageId/envelope", operationId: "downloadEnvelope", tag: "messages", auth: true, roles: "drafter, approver, analyst, auditor",
    localMethod: "GetMessage", summary: "Download the exact signed envelope bytes (liaison.v1.SignedEnvelope)",
    params: messageParams,
    response: { description: "The SignedEnvelope bytes", contentType: "application/octet-stream" },
    async handle({ params }, ctx) {
      const record = await ctx.api.call(LocalApi.method.getMessage, { messageId: params.messageId }, call(ctx));
      if (record.envelope.byteLength === 0) {
        throw new LiaisonError("FORBIDDEN", "the signed envelope of this message is withheld: it carries protected parties (informants or victims)");
      }
      return { bytes: { data: record.envelope, contentType: "application/octet-stream", filename: `${record.messageId}.envelope.pb` } };
    },
  }),
  route({
    method: "GET", path: "/api/search", operationId: "searchNotices", tag: "notices", auth: true, roles: "drafter, approver, analyst, auditor",
    localMethod: "SearchNotices", summary: "Find notices by person name (any script, with or without diacritics), document, phone, account or crypto address",
    description: "The node's notice index: every word of `q` must match. Protected parties (informants, victims) are never searched nor returned.",
    query: search,
    response: { description: "Matching notices, newest first", proto: SearchNoticesResponseSchema },
    async handle({ query }, ctx) {
      const result = await ctx.api.call(
        LocalApi.method.searchNotices,
        {
          text: query.q,
          kind: query.kind ?? "",
          ...(query.since ? { since: timestampFromDate(new Date(query.since)) } : {}),
          ...(query.until ? { until: timestampFromDate(new Date(query.until)) } : {}),
          limit: query.limit ?? 0,
        },
        call(ctx),
      );
      return { body: json(SearchNoticesResponseSchema, result) };
    },
  }),

  route({
    method: "POST", path: "/api/notices/:messageId/protected", operationId: "readProtectedFields", tag: "notices", auth: true,
    roles: "analyst; every other officer is refused (403), and every attempt, granted or refused, is recorded in the node's ledger",
    localMethod: "ReadProtectedFields", summary: "Read the protected parties (informants, victims) of a notice, for a stated purpose",
    description:
      "The id is the notice's message id (its current version) or one of its updates. The node appends a `protected.read` ledger entry " +
      "(officer, notice, fields, purpose, time; never the data) before it answers: when it cannot, nothing is returned. " +
      "Every other route shows these fields as placeholders. The response is never cached (Cache-Control: no-store).",
    params: messageParams, body: readProtected,
    response: { description: "The protected parties asked for, and the ledger index of the audit entry", proto: ProtectedFieldsSchema },
    async handle({ params, body }, ctx) {
      const result = await ctx.api.call(
        LocalApi.method.readProtectedFields,
        { messageId: params.messageId, purpose: body.purpose, fields: (body.fields ?? []).map((f) => PROTECTED_FIELDS[f]) },
        call(ctx),
      );
      return { body: json(ProtectedFieldsSchema, result) };
    },
  }),

  // Minutes
  route({
    method: "GET", path: "/api/minutes", operationId: "listMinutes", tag: "minutes", auth: true, roles: "approver, analyst, auditor",
    localMethod: "ListMinutes", summary: "The minutes archive: each party's co-signature and whether all parties signed (complete)",
    response: { description: "Minutes, newest first", proto: ListMinutesResponseSchema },
    async handle(_input, ctx) {
      return { body: json(ListMinutesResponseSchema, await ctx.api.call(LocalApi.method.listMinutes, {}, call(ctx))) };
    },
  }),
  route({
    method: "GET", path: "/api/minutes/:minutesId", operationId: "getMinutes", tag: "minutes", auth: true, roles: "approver, analyst, auditor",
    localMethod: "GetMinutes", summary: "One minutes with its co-signature per party and the decoded message",
    params: minutesParams,
    response: { description: "The minutes", proto: MinutesArchiveSchema },
    async handle({ params }, ctx) {
      return { body: json(MinutesArchiveSchema, await ctx.api.call(LocalApi.method.getMinutes, { minutesMessageId: params.minutesId }, call(ctx))) };
    },
  }),
  route({
    method: "GET", path: "/api/minutes/:minutesId/bundle", operationId: "exportMinutesBundle", tag: "minutes", auth: true, roles: "approver, analyst, auditor",
    localMethod: "ExportMinutesBundle", summary: "Download the minutes bundle (liaison-minutes-bundle/v1 JSON) for offline verification",
    params: minutesParams,
    response: { description: "The bundle", contentType: "application/json" },
    async handle({ params }, ctx) {
      const file = await ctx.api.call(LocalApi.method.exportMinutesBundle, { minutesMessageId: params.minutesId }, call(ctx));
      return { bytes: { data: file.bundleJson, contentType: "application/json", filename: file.filename } };
    },
  }),
  route({
    method: "POST", path: "/api/minutes/:minutesId/cosign", operationId: "cosignMinutes", tag: "minutes", auth: true, roles: "drafter, approver (another approver approves the draft)",
    localMethod: "CosignMinutes", summary: "Draft this party's co-signature of the minutes; another approver's approval signs and sends it",
    description: "The node prepares the MinutesCosignature from the minutes it holds. ApproveDraft by an approver other than the caller makes the JWS over the exact minutes bytes with the node's key (signing officer: the approver) and sends it to the other parties.",
    params: minutesParams,
    response: { status: 201, description: "The co-signature draft, awaiting approval", proto: DraftSchema },
    async handle({ params }, ctx) {
      const draft = await ctx.api.call(LocalApi.method.cosignMinutes, { minutesMessageId: params.minutesId }, call(ctx));
      return { status: 201, body: json(DraftSchema, draft) };
    },
  }),

  // Ledger
  route({
    method: "GET", path: "/api/ledger", operationId: "getLedgerStatus", tag: "ledger", auth: true, roles: "auditor",
    localMethod: "GetLedgerStatus", summary: "Tree size, the latest checkpoint with the partners who cosigned it, witnessing alerts",
    response: { description: "The ledger's status", proto: LedgerStatusSchema },
    async handle(_input, ctx) {
      return { body: json(LedgerStatusSchema, await ctx.api.call(LocalApi.method.getLedgerStatus, {}, call(ctx))) };
    },
  }),
  route({
    method: "GET", path: "/api/ledger/proof/:messageId", operationId: "getInclusionProof", tag: "ledger", auth: true, roles: "auditor",
    localMethod: "GetInclusionProof", summary: "Inclusion proof of a message's envelope entry against the latest checkpoint",
    params: messageParams,
    response: { description: "The proof", proto: InclusionProofSchema },
    async handle({ params }, ctx) {
      return { body: json(InclusionProofSchema, await ctx.api.call(LocalApi.method.getInclusionProof, { messageId: params.messageId }, call(ctx))) };
    },
  }),

  route({
    method: "GET", path: "/api/ledger/entries", operationId: "listLedgerEntries", tag: "ledger", auth: true, roles: "auditor",
    localMethod: "ListLedgerEntries", summary: "The audit trail: ledger entries newest first, by kind, index range, time and officer",
    description:
      "Each entry: index, kind, recorded time, leaf hash and a summary — for a local decision (officer.*, draft.*, protected.read, " +
      "partner.onboarded, minutes.cosigned, witness.alert, envelope.rejected, envelope.refused-by-partner) its JSON content as recorded " +
      "in `decision`, with any member not shown named in `withheld`; for an envelope or receipt only its message id, body kind, sender, " +
      "recipients and envelope SHA-256 in `envelope`. Never the message bytes. The `protected.read` entries say who read which " +
      "notice's informants or victims, when, and for what stated purpose.",
    query: listLedgerEntries,
    response: { description: "A page of ledger entries", proto: ListLedgerEntriesResponseSchema },
    async handle({ query }, ctx) {
      const result = await ctx.api.call(
        LocalApi.method.listLedgerEntries,
        {
          kinds: query.kind ?? [],
          ...(query.fromIndex !== undefined ? { fromIndex: query.fromIndex } : {}),
          ...(query.toIndex !== undefined ? { toIndex: query.toIndex } : {}),
          ...(query.since ? { since: timestampFromDate(new Date(query.since)) } : {}),
          ...(query.until ? { until: timestampFromDate(new Date(query.until)) } : {}),
          officerId: query.officer ?? "",
          pageSize: query.pageSize ?? 0,
          pageToken: query.pageToken ?? "",
        },
        call(ctx),
      );
      // Every field emitted, so that entry 0 has its `index` and empty lists are there.
      return { body: toJson(ListLedgerEntriesResponseSchema, result, { alwaysEmitImplicit: true }) };
    },
  }),

  // Campaigns and assistance
  route({
    method: "GET", path: "/api/campaigns", operationId: "listCampaigns", tag: "campaigns", auth: true, roles: "drafter, approver, analyst, auditor",
    localMethod: "ListCampaigns", summary: "Joint campaigns, newest first",
    response: { description: "Campaigns", proto: ListCampaignsResponseSchema },
    async handle(_input, ctx) {
      return { body: json(ListCampaignsResponseSchema, await ctx.api.call(LocalApi.method.listCampaigns, {}, call(ctx))) };
    },
  }),
  route({
    method: "GET", path: "/api/campaigns/:campaignId", operationId: "getCampaignProgress", tag: "campaigns", auth: true, roles: "drafter, approver, analyst, auditor",
    localMethod: "GetCampaignProgress", summary: "Progress toward each objective, jointly and per party",
    params: campaignParams,
    response: { description: "The progress", proto: CampaignProgressSchema },
    async handle({ params }, ctx) {
      return { body: json(CampaignProgressSchema, await ctx.api.call(LocalApi.method.getCampaignProgress, { campaignId: params.campaignId }, call(ctx))) };
    },
  }),
  route({
    method: "GET", path: "/api/assistance", operationId: "listAssistance", tag: "campaigns", auth: true, roles: "drafter, approver, analyst, auditor",
    localMethod: "ListAssistance", summary: "Requests for assistance with deadline, each party's status and the overdue flag",
    query: listAssistance,
    response: { description: "Requests, newest first", proto: ListAssistanceResponseSchema },
    async handle({ query }, ctx) {
      const result = await ctx.api.call(LocalApi.method.listAssistance, { overdueOnly: query.overdue === "true", limit: query.limit ?? 0 }, call(ctx));
      return { body: json(ListAssistanceResponseSchema, result) };
    },
  }),

  // Partners
  route({
    method: "GET", path: "/api/partners", operationId: "listPartners", tag: "partners", auth: true, roles: "any officer",
    localMethod: "ListPartners", summary: "Partners with last contact, outbox depth and oldest pending message",
    response: { description: "Partners", proto: ListPartnersResponseSchema },
    async handle(_input, ctx) {
      return { body: json(ListPartnersResponseSchema, await ctx.api.call(LocalApi.method.listPartners, {}, call(ctx))) };
    },
  }),
];

export { ListMessagesResponseSchema };
