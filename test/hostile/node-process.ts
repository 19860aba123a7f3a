/**
 * A node as a child process, for fault injection: `tsx test/hostile/node-process.ts <config.json>`
 * starts a node from the JSON config (the shape of node.yaml) and prints one JSON line
 * `{"ready":true,"party":…,"peerPort":…,"mongoUri":…,"pid":…}` on stdout once it serves.
 * SIGTERM closes it cleanly; SIGKILL is what the tests use.
 */
import { readFileSync } from "node:fs";
import { parseNodeConfig, startNode } from "../../services/node/index.ts";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: node-process.ts <config.json>\n");
  process.exit(2);
}
const config = parseNodeConfig(JSON.parse(readFileSync(file, "utf8")));
const node = await startNode(config);
process.stdout.write(JSON.stringify({ ready: true, party: node.party, peerPort: node.peerPort, mongoUri: node.mongoUri, pid: process.pid }) + "\n");
process.on("SIGTERM", () => {
  void node.close().then(() => process.exit(0));
});
