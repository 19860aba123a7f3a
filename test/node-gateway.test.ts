/** `liaison node start` with `local` and `gateway` set serves the officers' console over HTTPS. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode, type LiaisonNode } from "../services/node/index.ts";
import { makeParty, nodeConfig } from "./support/cluster.ts";

const root = mkdtempSync(join(tmpdir(), "liaison-node-gw-"));
let node: LiaisonNode | undefined;
after(async () => {
  await node?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("a node with a gateway", () => {
  it("serves the console and the OpenAPI document with its own certificate", async () => {
    const folder = await makeParty(root, "VN-MPS");
    node = await startNode(nodeConfig(folder, { local: { host: "127.0.0.1", port: 0 }, gateway: { host: "127.0.0.1", port: 0 } }));
    assert.ok(node.gateway, "the gateway started");
    const body = await new Promise<{ status: number; text: string; csp: string }>((resolve, reject) => {
      get(`${node!.gateway!.url}/openapi.json`, { ca: node!.identity.caCertPem, servername: "localhost" }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, csp: String(res.headers["content-security-policy"] ?? "") }));
      }).on("error", reject);
    });
    assert.equal(body.status, 200);
    assert.equal((JSON.parse(body.text) as { openapi: string }).openapi.startsWith("3."), true);
    assert.match(body.csp, /default-src 'self'/);
  });
});
