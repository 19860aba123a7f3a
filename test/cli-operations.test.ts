/** Operator commands against a running node's database, as a real child process. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { startCluster, wantedPersonNotice, type Cluster } from "./support/cluster.ts";

const run = promisify(execFile);
const BIN = new URL("../bin/liaison.mjs", import.meta.url).pathname;

async function liaison(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, NODE_ENV: "test" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let cluster: Cluster;
let config: string;
before(async () => {
  cluster = await startCluster(["VN-MPS", "CN-MPS"]);
  const folder = cluster.folders.get("VN-MPS")!;
  config = join(cluster.root, "vn.yaml");
  writeFileSync(config, `party: VN-MPS\nidentityDir: ${folder.identityDir}\ndataDir: ${folder.dataDir}\npeer: { host: 127.0.0.1, port: 0 }\n`);
});
after(async () => {
  await cluster?.close();
});

describe("liaison officer", () => {
  it("adds an officer with a generated password shown once, lists, disables and resets", async () => {
    const added = await liaison("officer", "add", "--config", config, "--username", "lan.nguyen", "--display-name", "Nguyễn Thị Lan", "--role", "drafter", "analyst");
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /initial password \(shown once.*\): \S{20,}/);
    const listed = JSON.parse((await liaison("officer", "list", "--config", config, "--json")).stdout) as { username: string; roles: string[]; disabled: boolean }[];
    assert.deepEqual(listed.map((o) => [o.username, o.roles, o.disabled]), [["lan.nguyen", ["drafter", "analyst"], false]]);
    assert.equal((await liaison("officer", "disable", "lan.nguyen", "--config", config)).code, 0);
    const after = JSON.parse((await liaison("officer", "list", "--config", config, "--json")).stdout) as { disabled: boolean }[];
    assert.equal(after[0]!.disabled, true);
    const reset = await liaison("officer", "reset-password", "lan.nguyen", "--config", config);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /new password \(shown once\): \S{20,}/);
  });

  it("refuses an unknown role with a clear message", async () => {
    const out = await liaison("officer", "add", "--config", config, "--username", "x.y", "--display-name", "X", "--role", "superuser");
    assert.equal(out.code, 1);
    assert.match(out.stderr, /roles must be among/);
  });
});

describe("liaison partner status", () => {
  it("shows each partner's outbox and last contact", async () => {
    await cluster.node("VN-MPS").submit(wantedPersonNotice({ sender: "VN-MPS", recipients: ["CN-MPS"] }));
    await cluster.node("VN-MPS").outbox.drained();
    const out = await liaison("partner", "status", "--config", config, "--json");
    assert.equal(out.code, 0, out.stderr);
    const [cn] = JSON.parse(out.stdout) as { party: string; state: string; outboxDepth: number; lastContact: string | null }[];
    assert.equal(cn!.party, "CN-MPS");
    assert.equal(cn!.state, "active");
    assert.equal(cn!.outboxDepth, 0);
    assert.ok(cn!.lastContact && Date.parse(cn!.lastContact) > Date.now() - 60_000, "a recent contact");
  });
});

describe("liaison views rebuild", () => {
  it("rebuilds the views of a node from its records", async () => {
    await cluster.node("VN-MPS").send(wantedPersonNotice({ sender: "VN-MPS", recipients: ["CN-MPS"] }));
    const before = await cluster.node("VN-MPS").db.collection("view_notices").countDocuments({});
    const out = await liaison("views", "rebuild", "--config", config);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /rebuilt the views from \d+ recorded envelopes/);
    assert.equal(await cluster.node("VN-MPS").db.collection("view_notices").countDocuments({}), before);
  });
});
