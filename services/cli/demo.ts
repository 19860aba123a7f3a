/**
 * `npm start`: three ministries on one machine. Each gets its PKI (made once, kept under the demo
 * folder), its own node with its own embedded store, and the other two onboarded by partner
 * bundle + fingerprint. Then sample notices flow through the real protocol.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { exportPartnerBundle, formatFingerprint, importPartnerBundle, pkiInit, sha256Fingerprint } from "../identity/index.ts";
import { parseNodeConfig, startNode, type LiaisonNode } from "../node/index.ts";
import { print, printTable } from "./output.ts";
import { drugCaseNotice, humanTraffickingNotice, telecomFraudNotice, wantedPersonNotice } from "./samples.ts";

export const DEMO_PARTIES: Record<string, Record<string, string>> = {
  "VN-MPS": { en: "Ministry of Public Security of Viet Nam", vi: "Bộ Công an Việt Nam", fr: "Ministère de la Sécurité publique du Viet Nam" },
  "CN-MPS": { en: "Ministry of Public Security of China", "zh-Hans": "中华人民共和国公安部", "zh-Latn": "Zhonghua Renmin Gongheguo Gong'anbu" },
  "KH-MOI": { en: "Ministry of Interior of Cambodia", km: "ក្រសួងមហាផ្ទៃ", fr: "Ministère de l'Intérieur du Cambodge" },
};

export interface DemoOptions {
  dir: string;
  keepRunning: boolean;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const root = resolve(options.dir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const parties = Object.keys(DEMO_PARTIES);
  print(`Liaison demo — data in ${root}`);

  const nodes = new Map<string, LiaisonNode>();
  for (const party of parties) {
    const identityDir = join(root, party, "identity");
    if (!existsSync(join(identityDir, "party.json"))) {
      await pkiInit({ party, displayNames: DEMO_PARTIES[party]!, dir: identityDir });
    }
    const node = await startNode(
      // The demo always runs the embedded store, whatever the environment says.
      parseNodeConfig({ party, identityDir, dataDir: join(root, party, "data"), peer: { host: "127.0.0.1", port: 0 } }, {}),
    );
    nodes.set(party, node);
  }

  // Onboarding: each party exports its bundle; each partner imports it with the fingerprint it
  // would have been read over the phone.
  for (const [party, node] of nodes) {
    const bundle = await exportPartnerBundle(node.identity.dir, { endpoint: node.peerAddress });
    const fingerprint = sha256Fingerprint(bundle.ca_certificate);
    print(`${party} CA fingerprint ${formatFingerprint(fingerprint)}`);
    for (const other of parties.filter((p) => p !== party)) {
      await importPartnerBundle(nodes.get(other)!.identity.dir, bundle, fingerprint);
    }
  }
  for (const node of nodes.values()) await node.partners.refresh(true);

  const vn = nodes.get("VN-MPS")!;
  const cn = nodes.get("CN-MPS")!;
  const kh = nodes.get("KH-MOI")!;
  const traffic = [
    { node: vn, message: wantedPersonNotice({ sender: "VN-MPS", recipients: ["CN-MPS", "KH-MOI"] }) },
    { node: cn, message: drugCaseNotice({ sender: "CN-MPS", recipients: ["VN-MPS"] }) },
    { node: kh, message: humanTraffickingNotice({ sender: "KH-MOI", recipients: ["VN-MPS", "CN-MPS"] }) },
    { node: vn, message: telecomFraudNotice({ sender: "VN-MPS", recipients: ["KH-MOI", "CN-MPS"] }) },
  ];
  const rows: string[][] = [["MESSAGE", "FROM", "BODY", "TO", "RECEIPT (ledger index)"]];
  for (const { node, message } of traffic) {
    const outcome = await node.send(message);
    const to = [...outcome.receipts.entries()].map(([p, r]) => `${p}@${r.ledgerIndex}`);
    const failed = [...outcome.failures.entries()].map(([p, e]) => `${p}: ${e.message}`);
    rows.push([message.header!.messageId.slice(0, 8), node.party, message.body.case ?? "", message.header!.recipientParties.join(","), [...to, ...failed].join(" ")]);
  }
  print();
  printTable(rows);
  print();
  printTable([["PARTY", "PEER API (mTLS)", "EMBEDDED STORE"], ...[...nodes.values()].map((n) => [n.party, n.peerAddress, n.mongoUri ?? "external"])]);

  const stop = async () => {
    for (const node of nodes.values()) await node.close();
  };
  if (!options.keepRunning) return stop();
  print();
  print("Nodes are running. Press Ctrl-C to stop.");
  await new Promise<void>((resolveStop) => {
    const handler = () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      stop().then(resolveStop, resolveStop);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
