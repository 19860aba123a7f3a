/** Onboarding while nodes run: no restart needed. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode, type LiaisonNode } from "../services/node/index.ts";
import { makeParty, nodeConfig, onboard, wantedPersonNotice } from "./support/cluster.ts";

const nodes: LiaisonNode[] = [];
const root = mkdtempSync(join(tmpdir(), "liaison-onboard-"));
after(async () => {
  for (const n of nodes) await n.close();
  rmSync(root, { recursive: true, force: true });
});

describe("a partner onboarded while the node runs", () => {
  it("is refused before its bundle is imported and accepted after, without a restart", async () => {
    const vnFolder = await makeParty(root, "VN-MPS");
    const cnFolder = await makeParty(root, "CN-MPS");
    const vn = await startNode(nodeConfig(vnFolder));
    const cn = await startNode(nodeConfig(cnFolder));
    nodes.push(vn, cn);

    // VN knows CN, but CN does not know VN yet.
    await onboard(vnFolder, cnFolder, cn.peerAddress);
    await vn.partners.refresh(true);
    const before = await vn.send(wantedPersonNotice({ sender: "VN-MPS", recipients: ["CN-MPS"] }));
    const refusal = before.failures.get("CN-MPS") as { peerCode?: string } | undefined;
    assert.equal(refusal?.peerCode, "PEER_UNKNOWN");

    await onboard(cnFolder, vnFolder, vn.peerAddress); // written to CN's identity folder only
    const deadline = Date.now() + 5000;
    let delivered = false;
    while (!delivered && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const outcome = await vn.send(wantedPersonNotice({ sender: "VN-MPS", recipients: ["CN-MPS"] }));
      delivered = outcome.receipts.has("CN-MPS");
    }
    assert.ok(delivered, "CN picked up the new partner by itself");
  });
});

describe("a suspended partner", () => {
  it("is refused with PERMISSION_DENIED while suspended, and served again when resumed", async () => {
    const { suspendPartner, resumePartner } = await import("../services/node/index.ts");
    const vn = nodes[0]!;
    const cn = nodes[1]!;
    const cnDir = cn.config.identityDir;
    suspendPartner(cnDir, "VN-MPS", "test");
    await cn.partners.refresh(true);
    const refused = await vn.send(wantedPersonNotice({ sender: "VN-MPS", recipients: ["CN-MPS"] }));
    const error = refused.failures.get("CN-MPS") as { peerCode?: string; peerStatus?: number } | undefined;
    assert.equal(error?.peerCode, "PEER_SUSPENDED");
    assert.equal(error?.peerStatus, 7);
    resumePartner(cnDir, "VN-MPS");
    await cn.partners.refresh(true);
    const accepted = await vn.send(wantedPersonNotice({ sender: "VN-MPS", recipients: ["CN-MPS"] }));
    assert.ok(accepted.receipts.has("CN-MPS"));
  });
});
