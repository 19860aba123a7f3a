/**
 * A node whose start fails late (here: its local API port is taken) closes what it had already
 * opened — the embedded store and its lock, the ledger sequencer lease, the peer listener — so the
 * same configuration starts cleanly once the cause is gone, and `liaison node start` exits instead
 * of hanging on open handles.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode } from "../services/node/index.ts";
import { makeParty, nodeConfig, type PartyFolder } from "./support/cluster.ts";

const CLI = new URL("../services/cli/main.ts", import.meta.url).pathname;

let root: string;
let folder: PartyFolder;
let blocker: Server;
let takenPort: number;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "liaison-start-failure-"));
  folder = await makeParty(root, "VN-MPS");
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
  takenPort = (blocker.address() as AddressInfo).port;
});
after(async () => {
  await new Promise((resolve) => blocker.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe("a node that fails late in its start", () => {
  it("rejects, releases the store and the lease, and the same data starts afterwards", async () => {
    const config = nodeConfig(folder, { local: { host: "127.0.0.1", port: takenPort } });
    await assert.rejects(startNode(config), /EADDRINUSE|address already in use|No address added/i);
    // The embedded store's lock and the sequencer lease are free again: a start succeeds at once.
    const node = await startNode(nodeConfig(folder, { local: { host: "127.0.0.1", port: 0 } }));
    try {
      assert.equal(node.ledger.isSequencer, true, "the failed start released the ledger lease");
    } finally {
      await node.close();
    }
  });

  it("`liaison node start` prints the error and exits non-zero instead of hanging", () => {
    const file = join(root, "node.yaml");
    writeFileSync(
      file,
      [
        "party: VN-MPS",
        `identityDir: ${folder.identityDir}`,
        `dataDir: ${folder.dataDir}`,
        "peer: { host: 127.0.0.1, port: 0 }",
        `local: { host: 127.0.0.1, port: ${takenPort} }`,
        "",
      ].join("\n"),
    );
    const run = spawnSync(process.execPath, ["--import", "tsx", CLI, "node", "start", "--config", file], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, LIAISON_LOG_LEVEL: "error" },
    });
    assert.equal(run.error, undefined, "the process ended by itself (no timeout)");
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /liaison: /);
  });
});
