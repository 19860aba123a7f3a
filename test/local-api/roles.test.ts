/**
 * Roles on the local API, table-driven: for every method family, an officer holding one role
 * calls a representative method; the roles the family admits get OK, every other role gets
 * PERMISSION_DENIED (before the handler runs: the refused call changes nothing).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { GrpcStatus } from "../../services/errors/index.ts";
import { LocalApi, Role } from "../../gen/liaison/v1/local_pb.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { attachLocalApi, draftMessage, officer, refused, PASSWORD, type LocalApiHarness } from "./support.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const ROLES = ["drafter", "approver", "analyst", "auditor", "admin"] as const;
type RoleName = (typeof ROLES)[number];

let cluster: Cluster;
let vn: LocalApiHarness;
const tokens = new Map<RoleName, string>();
let helperDrafter: string;
let someOfficerId: string;
let someMessageId: string;

before(async () => {
  cluster = await startCluster([VN, CN]);
  vn = await attachLocalApi(cluster.node(VN));
  for (const role of ROLES) tokens.set(role, (await officer(vn, `only.${role}`, [role])).accessToken);
  helperDrafter = (await officer(vn, "helper.drafter", ["drafter"])).accessToken;
  someOfficerId = (await officer(vn, "someone.else", ["analyst"])).officer!.officerId;
  const draft = await vn.client.call(LocalApi.method.createDraft, { message: draftMessage([CN]) }, helperDrafter);
  const sent = await vn.client.call(LocalApi.method.approveDraft, { draftId: draft.draftId }, tokens.get("approver"));
  someMessageId = sent.messageId;
});
after(async () => {
  await vn?.close();
  await cluster?.close();
});

let counter = 0;
const newDraft = async () => (await vn.client.call(LocalApi.method.createDraft, { message: draftMessage([CN], `draft ${++counter}`) }, helperDrafter)).draftId;

interface Family {
  family: string;
  allowed: readonly RoleName[];
  calls: Array<{ method: string; call: (token: string) => Promise<unknown> }>;
}

const TABLE: Family[] = [
  {
    family: "session (WhoAmI)",
    allowed: ROLES,
    calls: [{ method: "WhoAmI", call: (t) => vn.client.call(LocalApi.method.whoAmI, {}, t) }],
  },
  {
    family: "officers: manage",
    allowed: ["admin"],
    calls: [
      {
        method: "CreateOfficer",
        call: (t) => vn.client.call(LocalApi.method.createOfficer, { username: `made.${++counter}`, roles: [Role.ANALYST], password: PASSWORD }, t),
      },
      { method: "SetOfficerDisabled", call: (t) => vn.client.call(LocalApi.method.setOfficerDisabled, { officerId: someOfficerId, disabled: false }, t) },
    ],
  },
  {
    family: "officers: list",
    allowed: ["admin", "auditor"],
    calls: [{ method: "ListOfficers", call: (t) => vn.client.call(LocalApi.method.listOfficers, {}, t) }],
  },
  {
    family: "drafts: create",
    allowed: ["drafter"],
    calls: [{ method: "CreateDraft", call: (t) => vn.client.call(LocalApi.method.createDraft, { message: draftMessage([CN]) }, t) }],
  },
  {
    family: "drafts: read",
    allowed: ["drafter", "approver", "auditor"],
    calls: [
      { method: "ListDrafts", call: (t) => vn.client.call(LocalApi.method.listDrafts, {}, t) },
      { method: "GetDraft", call: async (t) => vn.client.call(LocalApi.method.getDraft, { draftId: await newDraft() }, t) },
    ],
  },
  {
    family: "drafts: decide",
    allowed: ["approver"],
    calls: [
      { method: "ApproveDraft", call: async (t) => vn.client.call(LocalApi.method.approveDraft, { draftId: await newDraft() }, t) },
      { method: "RejectDraft", call: async (t) => vn.client.call(LocalApi.method.rejectDraft, { draftId: await newDraft(), reason: "incomplete" }, t) },
    ],
  },
  {
    family: "messages: read",
    allowed: ["drafter", "approver", "analyst", "auditor"],
    calls: [
      { method: "ListMessages", call: (t) => vn.client.call(LocalApi.method.listMessages, {}, t) },
      { method: "GetMessage", call: (t) => vn.client.call(LocalApi.method.getMessage, { messageId: someMessageId }, t) },
    ],
  },
  {
    family: "partners",
    allowed: ROLES,
    calls: [{ method: "ListPartners", call: (t) => vn.client.call(LocalApi.method.listPartners, {}, t) }],
  },
];

describe("roles per method family", () => {
  for (const row of TABLE) {
    for (const role of ROLES) {
      const allowed = row.allowed.includes(role);
      for (const { method, call } of row.calls) {
        it(`${row.family}: ${method} as ${role} → ${allowed ? "OK" : "PERMISSION_DENIED"}`, async () => {
          const token = tokens.get(role)!;
          if (allowed) await call(token);
          else await refused(call(token), GrpcStatus.PERMISSION_DENIED, "FORBIDDEN", method);
        });
      }
    }
  }

  it("a refused decision changes nothing: the draft still awaits approval", async () => {
    const draftId = await newDraft();
    await refused(vn.client.call(LocalApi.method.approveDraft, { draftId }, tokens.get("analyst")), GrpcStatus.PERMISSION_DENIED);
    const draft = await vn.client.call(LocalApi.method.getDraft, { draftId }, tokens.get("auditor"));
    assert.equal(draft.state, 1);
  });

  it("every method but Login and RefreshToken needs a token", async () => {
    for (const method of LocalApi.methods) {
      if (method.name === "Login" || method.name === "RefreshToken") continue;
      await refused(vn.client.call(method as never, {} as never), GrpcStatus.UNAUTHENTICATED, "UNAUTHENTICATED");
    }
  });

  it("an officer with several roles gets the union of their rights", async () => {
    const both = (await officer(vn, "drafts.and.reads", ["drafter", "analyst"])).accessToken;
    await vn.client.call(LocalApi.method.createDraft, { message: draftMessage([CN]) }, both);
    await vn.client.call(LocalApi.method.listMessages, {}, both);
    await refused(vn.client.call(LocalApi.method.listOfficers, {}, both), GrpcStatus.PERMISSION_DENIED);
  });
});
