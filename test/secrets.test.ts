/**
 * After a full demo run: no key material, password, token or protected identity (informant,
 * victim) in the logs, in local API responses, in the files of the nodes' stores, or in the git
 * tree.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { PassThrough } from "node:stream";
import { toJsonString } from "@bufbuild/protobuf";
import winston from "winston";
import { Direction, ListMessagesResponseSchema, LocalApi } from "../gen/liaison/v1/local_pb.ts";
import { startDemo, type Demo } from "../services/cli/demo.ts";
import { rootLogger } from "../services/logging/index.ts";
import { LocalApiClient } from "../services/node/index.ts";

const PROTECTED_NAMES = ["Trần Thị Mai", "Phạm Thị Hoa", "Lê Văn Tín", "+84 912 000 111", "+84 903 555 777"];
const root = mkdtempSync(join(tmpdir(), "liaison-secrets-"));
const captured: string[] = [];
const sink = new PassThrough();
sink.on("data", (chunk: Buffer) => captured.push(chunk.toString()));
const transport = new winston.transports.Stream({ stream: sink, level: "silly" });
const levelBefore = rootLogger.level;
let demo: Demo | undefined;

after(async () => {
  await demo?.stop();
  rootLogger.remove(transport);
  rootLogger.level = levelBefore;
  rmSync(root, { recursive: true, force: true });
});

function findings(text: string, secrets: readonly string[]): string[] {
  const hits = secrets.filter((s) => text.includes(s));
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) hits.push("a PEM private key");
  if (/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(text)) hits.push("a JWT access token");
  return hits;
}

describe("secrets after a full demo run", () => {
  it("appear in no log line, at any level", async () => {
    rootLogger.level = "silly";
    rootLogger.add(transport);
    demo = await startDemo({ dir: join(root, "demo"), fresh: true, gateways: true });
    const passwords = Object.values(demo.credentials).flatMap((o) => Object.values(o).map((c) => c.password));
    const logs = captured.join("");
    assert.ok(logs.length > 10_000, "the run logged something to scan");
    assert.deepEqual(findings(logs, [...passwords, ...PROTECTED_NAMES]), []);
  });

  it("appear in no local API listing, for any role", async () => {
    for (const [party, node] of demo!.nodes) {
      const api = new LocalApiClient(`127.0.0.1:${node.localApi!.port}`);
      try {
        for (const role of ["drafter", "approver", "auditor"]) {
          const c = demo!.credentials[party]![role]!;
          const login = await api.call(LocalApi.method.login, { username: c.username, password: c.password });
          for (const direction of [Direction.SENT, Direction.RECEIVED]) {
            const page = await api.call(LocalApi.method.listMessages, { direction, pageSize: 200 }, login.accessToken).catch(() => undefined);
            if (!page) continue; // a role without read access
            const text = toJsonString(ListMessagesResponseSchema, page) + Buffer.from(page.messages.flatMap((m) => [...m.envelope])).toString("utf8");
            assert.deepEqual(findings(text, PROTECTED_NAMES), [], `${party} ${role} ${direction}`);
          }
        }
      } finally {
        api.close();
      }
    }
  });

  it("appear in no file of the nodes' embedded stores (sealed at rest with each node's key)", () => {
    const storeFiles = readdirSync(join(root, "demo"), { recursive: true, encoding: "utf8" })
      .map((f) => join(root, "demo", f))
      .filter((f) => f.includes(`${sep}store${sep}`) && statSync(f).isFile());
    assert.ok(storeFiles.length >= 3, `the stores' journals and snapshots were found (${storeFiles.length})`);
    const bytes = storeFiles.reduce((n, f) => n + statSync(f).size, 0);
    assert.ok(bytes > 10_000, "the stores hold data to scan");
    for (const file of storeFiles) {
      const content = readFileSync(file);
      for (const name of PROTECTED_NAMES) {
        assert.equal(content.includes(Buffer.from(name, "utf8")), false, `${name} in ${file}`);
      }
    }
  });

  it("appear nowhere in the git tree", () => {
    const tracked = execFileSync("git", ["ls-files"], { encoding: "utf8" }).split("\n").filter(Boolean);
    assert.ok(tracked.length > 50, "the tree was listed");
    assert.deepEqual(tracked.filter((f) => /(^|\/)(credentials\.json|[^/]*\.key|data\.key)$/.test(f)), [], "no key or credentials file is tracked");
    const grep = spawnSync("git", ["grep", "-l", "-E", "-e", "-----BEGIN ([A-Z]+ )?PRIVATE KEY-----", "--", "."], { encoding: "utf8" });
    assert.equal(grep.status, 1, `git grep found private key material: ${grep.stdout}`);
  });
});
