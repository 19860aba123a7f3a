/**
 * Local API test support: real nodes (test/support/cluster.ts), each with its local API on an
 * ephemeral loopback port, and a real gRPC client. A movable session clock per node lets tests
 * expire tokens and lockouts without waiting.
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { GrpcStatus, LiaisonError, type ErrorCode } from "../../services/errors/index.ts";
import { LocalApiClient, startLocalApi, type LocalApiServer } from "../../services/node/local-api.ts";
import type { LiaisonNode } from "../../services/node/index.ts";
import { ensureAdmin } from "../../services/officers/index.ts";
import { LocalApi, Role, type LoginResponse } from "../../gen/liaison/v1/local_pb.ts";
import { HeaderSchema, MessageSchema, Classification, type Message } from "../../gen/liaison/v1/message_pb.ts";
import { wantedPersonNotice } from "../support/cluster.ts";

export const ADMIN = { username: "admin", password: "correct horse battery staple" };
export const PASSWORD = "officer-password-2026!";

export class MovableClock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface LocalApiHarness {
  node: LiaisonNode;
  server: LocalApiServer;
  client: LocalApiClient;
  clock: MovableClock;
  /** The admin's session (signed in again whenever the clock moved). */
  admin: LoginResponse;
  adminToken(): Promise<string>;
  close(): Promise<void>;
}

/** Start a local API on a running node, bootstrap its admin and sign the admin in. */
export async function attachLocalApi(node: LiaisonNode, server?: LocalApiServer): Promise<LocalApiHarness> {
  const clock = new MovableClock();
  await ensureAdmin(node.db, ADMIN, node.ledger);
  const own = server === undefined;
  const api = server ?? (await startLocalApi(node, { host: "127.0.0.1", port: 0, sessionClock: clock.now }));
  const client = new LocalApiClient(`127.0.0.1:${api.port}`);
  let adminAt = clock.offsetMs;
  const harness: LocalApiHarness = {
    node,
    server: api,
    client,
    clock,
    admin: await client.call(LocalApi.method.login, ADMIN),
    async adminToken() {
      if (adminAt !== clock.offsetMs) {
        harness.admin = await client.call(LocalApi.method.login, ADMIN);
        adminAt = clock.offsetMs;
      }
      return harness.admin.accessToken;
    },
    async close() {
      client.close();
      if (own) await api.close();
    },
  };
  return harness;
}

/** The JSON object recorded in a ledger entry's bytes, whatever envelope the ledger wraps it in. */
export function jsonIn(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes).toString("latin1");
  const start = text.indexOf("{");
  for (let end = text.indexOf("}", start); start >= 0 && end >= 0; end = text.indexOf("}", end + 1)) {
    try {
      return JSON.parse(Buffer.from(bytes.subarray(start, end + 1)).toString("utf8"));
    } catch {
      // not yet the closing brace
    }
  }
  return undefined;
}

/** The decoded JSON of every ledger entry of `kind`. */
export async function ledgerJson(node: LiaisonNode, kind: string): Promise<Array<Record<string, unknown>>> {
  const entries = await node.db.collection("ledger_entries").find({ kind }).sort({ _id: 1 }).toArray();
  return entries.map((e) => jsonIn(new Uint8Array(e.bytes.buffer)) as Record<string, unknown>);
}

export const ROLE_OF = {
  drafter: Role.DRAFTER,
  approver: Role.APPROVER,
  analyst: Role.ANALYST,
  auditor: Role.AUDITOR,
  admin: Role.ADMIN,
} as const;

/** Create an officer through the API (as admin) and sign them in. */
export async function officer(h: LocalApiHarness, username: string, roles: Array<keyof typeof ROLE_OF>, password = PASSWORD): Promise<LoginResponse> {
  await h.client.call(
    LocalApi.method.createOfficer,
    { username, displayName: `Officer ${username}`, roles: roles.map((r) => ROLE_OF[r]), password },
    await h.adminToken(),
  );
  return h.client.call(LocalApi.method.login, { username, password });
}

/** Assert a call is refused with this gRPC status (and Liaison code, when given). */
export async function refused(promise: Promise<unknown>, status: GrpcStatus, code?: ErrorCode, messageIncludes?: string): Promise<LiaisonError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LiaisonError, `expected a LiaisonError, got ${String(error)}`);
    const grpcCode = (error.cause as { code?: number } | undefined)?.code;
    assert.equal(grpcCode, status, `expected gRPC ${GrpcStatus[status]}, got ${grpcCode === undefined ? "?" : GrpcStatus[grpcCode]} (${error.code}: ${error.message})`);
    if (code) assert.equal(error.code, code);
    if (messageIncludes) assert.ok(error.message.includes(messageIncludes), `message ${JSON.stringify(error.message)} should mention ${messageIncludes}`);
    return error;
  }
  assert.fail(`expected the call to be refused with ${GrpcStatus[status]}`);
}

/** A draft as an officer would write it: recipients and a body; the node fills the rest. */
export function draftMessage(recipients: string[], title = "Wanted: organiser of a telecom fraud ring"): Message {
  const full = wantedPersonNotice({ sender: "XX-DRAFT", recipients, title });
  return create(MessageSchema, {
    header: create(HeaderSchema, {
      recipientParties: recipients,
      classification: Classification.RESTRICTED,
      handlingCodes: ["H2"],
      languages: ["en", "vi"],
    }),
    body: full.body,
  });
}
