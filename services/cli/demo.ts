/**
 * `npm start`: three ministries on one machine. Each gets its PKI (made once, kept under the demo
 * folder), its own node with its own embedded store, local API, officers' console (HTTPS gateway)
 * and metrics; the other two parties are onboarded by partner bundle + fingerprint. On the first
 * run, the ministries' work flows through the real protocol, drafted and approved by different
 * officers through the local API: notices of each type, a joint campaign against telecom fraud
 * with reports from every party, the minutes of a ministerial conference co-signed by all three,
 * a shared case with a request for assistance and its answer; then checkpoints are cosigned.
 * A second run reuses the data; `--fresh` starts over.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import { LocalApi } from "../../gen/liaison/v1/local_pb.ts";
import { startGateway, type Gateway } from "../../gateway/index.ts";
import { exportPartnerBundle, formatFingerprint, importPartnerBundle, pkiInit, sha256Fingerprint, signDetached } from "../identity/index.ts";
import { cosignMinutes, minutesMessageBytes } from "../minutes/index.ts";
import { LocalApiClient, parseNodeConfig, startNode, type LiaisonNode } from "../node/index.ts";
import { ensureAdmin, OfficerStore, type RoleName } from "../officers/index.ts";
import { print, printTable } from "./output.ts";
import {
  assistanceRequestBody,
  assistanceResponseBody,
  campaignBody,
  campaignReportBody,
  caseShareBody,
  draft,
  drugCaseNotice,
  humanTraffickingNotice,
  ministerialMinutesBody,
  telecomFraudNotice,
  wantedPersonNotice,
} from "./samples.ts";

export const DEMO_PARTIES: Record<string, Record<string, string>> = {
  "VN-MPS": { en: "Ministry of Public Security of Viet Nam", vi: "Bộ Công an Việt Nam", fr: "Ministère de la Sécurité publique du Viet Nam" },
  "CN-MPS": { en: "Ministry of Public Security of China", "zh-Hans": "中华人民共和国公安部", "zh-Latn": "Zhonghua Renmin Gongheguo Gong'anbu" },
  "KH-MOI": { en: "Ministry of Interior of Cambodia", km: "ក្រសួងមហាផ្ទៃ", fr: "Ministère de l'Intérieur du Cambodge" },
};

const OFFICERS: { key: "admin" | "drafter" | "approver" | "auditor"; roles: RoleName[]; name: string }[] = [
  { key: "admin", roles: ["admin"], name: "Node administrator" },
  { key: "drafter", roles: ["drafter", "analyst"], name: "Liaison officer" },
  { key: "approver", roles: ["approver", "analyst"], name: "Approving officer" },
  { key: "auditor", roles: ["auditor"], name: "Auditor" },
];

type Credentials = Record<string, Record<string, { username: string; password: string }>>;

export interface DemoOptions {
  dir: string;
  /** Start over: wipe the demo folder first. */
  fresh?: boolean;
  /** Start the officers' console (HTTPS gateway) for each party. */
  gateways?: boolean;
}

export interface Demo {
  root: string;
  nodes: Map<string, LiaisonNode>;
  gateways: Map<string, Gateway>;
  credentials: Credentials;
  /** True when this run created the sample data (first run). */
  seeded: boolean;
  stop(): Promise<void>;
}

function loadOrCreateCredentials(root: string): Credentials {
  const file = join(root, "credentials.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Credentials;
  const credentials: Credentials = {};
  for (const party of Object.keys(DEMO_PARTIES)) {
    const prefix = party.toLowerCase().replace("-", ".");
    credentials[party] = Object.fromEntries(
      OFFICERS.map((o) => [o.key, { username: `${prefix}.${o.key}`, password: randomBytes(12).toString("base64url") }]),
    );
  }
  // Generated here, kept only in this file (0600, git-ignored), printed to the operator's terminal.
  writeFileSync(file, JSON.stringify(credentials, null, 2) + "\n", { mode: 0o600 });
  return credentials;
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const root = resolve(options.dir);
  if (options.fresh) rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const parties = Object.keys(DEMO_PARTIES);
  const credentials = loadOrCreateCredentials(root);

  const nodes = new Map<string, LiaisonNode>();
  const gateways = new Map<string, Gateway>();
  const stop = async () => {
    for (const g of gateways.values()) await g.close();
    for (const n of nodes.values()) await n.close();
  };
  try {
    for (const party of parties) {
      const identityDir = join(root, party, "identity");
      if (!existsSync(join(identityDir, "party.json"))) await pkiInit({ party, displayNames: DEMO_PARTIES[party]!, dir: identityDir });
      const node = await startNode(
        // The demo always runs the embedded store, whatever the environment says.
        parseNodeConfig(
          {
            party,
            identityDir,
            dataDir: join(root, party, "data"),
            peer: { host: "127.0.0.1", port: 0 },
            local: { host: "127.0.0.1", port: 0 },
            metrics: { host: "127.0.0.1", port: 0 },
            checkpointIntervalSeconds: 5,
          },
          {},
        ),
      );
      nodes.set(party, node);
      const admin = credentials[party]!.admin!;
      await ensureAdmin(node.db, { username: admin.username, password: admin.password, displayName: OFFICERS[0]!.name }, node.ledger);
      const officers = new OfficerStore({ db: node.db, ledger: node.ledger });
      const existing = new Set((await officers.list()).map((o) => o.username));
      for (const o of OFFICERS.slice(1)) {
        const c = credentials[party]![o.key]!;
        if (!existing.has(c.username)) await officers.create({ username: c.username, displayName: `${o.name} (${party})`, roles: o.roles, password: c.password }, "demo");
      }
      if (options.gateways !== false) {
        gateways.set(
          party,
          await startGateway({
            localApiAddress: `127.0.0.1:${node.localApi!.port}`,
            tlsCertPem: node.identity.tlsCertPem,
            tlsKeyPem: node.identity.tlsKeyPem,
            caCertPem: node.identity.caCertPem,
            host: "127.0.0.1",
            port: 0,
          }),
        );
      }
    }

    // Onboarding, every run (the endpoints change): each party exports its bundle; each partner
    // imports it with the fingerprint it would have read over the phone.
    for (const [party, node] of nodes) {
      const bundle = await exportPartnerBundle(node.identity.dir, { endpoint: node.peerAddress });
      const fingerprint = sha256Fingerprint(bundle.ca_certificate);
      for (const other of parties.filter((p) => p !== party)) await importPartnerBundle(nodes.get(other)!.identity.dir, bundle, fingerprint);
    }
    for (const node of nodes.values()) await node.partners.refresh(true);

    const marker = join(root, "seeded");
    const seeded = !existsSync(marker);
    if (seeded) {
      await seed(nodes, credentials);
      writeFileSync(marker, new Date().toISOString() + "\n");
    }
    for (const node of nodes.values()) await node.publishCheckpoint();
    for (const node of nodes.values()) await node.publishCheckpoint();
    return { root, nodes, gateways, credentials, seeded, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The ministries' work, drafted and approved by two different officers through the local API. */
async function seed(nodes: Map<string, LiaisonNode>, credentials: Credentials): Promise<void> {
  const sessions = new Map<string, { api: LocalApiClient; drafter: string; approver: string }>();
  for (const [party, node] of nodes) {
    const api = new LocalApiClient(`127.0.0.1:${node.localApi!.port}`);
    const login = async (key: string) => {
      const c = credentials[party]![key]!;
      return (await api.call(LocalApi.method.login, { username: c.username, password: c.password })).accessToken;
    };
    sessions.set(party, { api, drafter: await login("drafter"), approver: await login("approver") });
  }
  const send = async (party: string, message: Message): Promise<string> => {
    const s = sessions.get(party)!;
    const created = await s.api.call(LocalApi.method.createDraft, { message }, s.drafter);
    const record = await s.api.call(LocalApi.method.approveDraft, { draftId: created.draftId }, s.approver);
    return record.messageId;
  };
  const drained = async () => {
    for (const node of nodes.values()) await node.outbox.drained(120_000);
  };
  const asDraft = (m: Message) => draft(m.header!.recipientParties, m.body as never);
  const VN = "VN-MPS";
  const CN = "CN-MPS";
  const KH = "KH-MOI";
  const all = [VN, CN, KH];
  const others = (p: string) => all.filter((x) => x !== p);
  try {
    // Notices of each type.
    const wanted = await send(VN, asDraft(wantedPersonNotice({ sender: VN, recipients: [CN, KH], withInformant: true })));
    await send(CN, asDraft(drugCaseNotice({ sender: CN, recipients: [VN] })));
    await send(KH, asDraft(humanTraffickingNotice({ sender: KH, recipients: [VN, CN] })));
    await send(VN, asDraft(telecomFraudNotice({ sender: VN, recipients: [KH, CN] })));
    // A joint campaign against telecom fraud, and each party's reports.
    await send(VN, draft(others(VN), campaignBody("TF-2026", all)));
    await drained();
    const results: Record<string, Record<string, number>[]> = {
      [VN]: [{ arrests: 212, victims_rescued: 64, networks_dismantled: 5 }, { arrests: 148, victims_rescued: 31, networks_dismantled: 3 }],
      [CN]: [{ arrests: 305, victims_rescued: 12, networks_dismantled: 7 }, { arrests: 190, victims_rescued: 9, networks_dismantled: 4 }],
      [KH]: [{ arrests: 97, victims_rescued: 118, networks_dismantled: 2 }, { arrests: 76, victims_rescued: 84, networks_dismantled: 2 }],
    };
    for (const party of all) {
      for (const [i, r] of results[party]!.entries()) await send(party, draft(others(party), campaignReportBody("TF-2026", r, 3 + i)));
    }
    // Minutes of the 8th ministerial conference, hosted by CN, co-signed by all three.
    const minutesId = await send(CN, draft(others(CN), ministerialMinutesBody(all)));
    await drained();
    for (const party of all) {
      const node = nodes.get(party)!;
      const bytes = await minutesMessageBytes(node.db, minutesId);
      const cosignature = await cosignMinutes({
        minutesMessageId: minutesId,
        minutesMessageBytes: bytes,
        sign: (payload, typ) => signDetached(payload, node.identity.activeSigningKey.privateKey, { kid: node.identity.activeSigningKey.kid, typ }),
        signingOfficer: { officerId: credentials[party]!.approver!.username, displayName: `Minister, ${party}` },
        signedAt: new Date(),
      });
      await send(party, draft(others(party), { case: "minutesCosignature", value: cosignature }, minutesId));
    }
    // A shared case, a request for assistance, and its answer.
    await send(VN, draft([CN], caseShareBody("VN-MPS/C04/2026/0311", [wanted])));
    const request = await send(VN, draft([CN], assistanceRequestBody("VN-MPS/C04/2026/0311", new Date(Date.now() + 10 * 86400_000))));
    await drained();
    await send(CN, draft([VN], assistanceResponseBody(), request));
    await drained();
  } finally {
    for (const s of sessions.values()) s.api.close();
  }
}

export interface RunDemoOptions extends DemoOptions {
  keepRunning: boolean;
}

export async function runDemo(options: RunDemoOptions): Promise<void> {
  print(`Liaison demo — data in ${resolve(options.dir)}${options.fresh ? " (fresh)" : ""}; starting three parties…`);
  const demo = await startDemo(options);
  print(demo.seeded ? "Sample data sent through the protocol (first run)." : "Reusing the data of an earlier run (`npm start -- --fresh` starts over).");
  print();
  printTable([
    ["PARTY", "CONSOLE (HTTPS)", "PEER API (mTLS)", "LOCAL API", "METRICS", "CA FINGERPRINT"],
    ...[...demo.nodes.values()].map((n) => [
      n.party,
      demo.gateways.get(n.party)?.url ?? "-",
      n.peerAddress,
      `127.0.0.1:${n.localApi?.port ?? "-"}`,
      n.metricsServer ? `${n.metricsServer.url}/metrics` : "-",
      formatFingerprint(n.identity.fingerprint).slice(0, 23) + "…",
    ]),
  ]);
  print();
  print("Demo officers (generated for this machine; kept only in credentials.json under the demo folder):");
  printTable([
    ["PARTY", "ROLE", "USERNAME", "PASSWORD"],
    ...Object.entries(demo.credentials).flatMap(([party, officers]) => Object.entries(officers).map(([role, c]) => [party, role, c.username, c.password])),
  ]);
  print();
  print("The console uses each node's own certificate (its party CA is not in your browser): accept it to continue.");
  if (!options.keepRunning) return demo.stop();
  print("Nodes are running. Press Ctrl-C to stop.");
  await new Promise<void>((resolveStop) => {
    const handler = () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      print("stopping…");
      demo.stop().then(resolveStop, resolveStop);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
