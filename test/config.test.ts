/** Node configuration errors are precise: file, key, what is wrong. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNodeConfig } from "../services/node/index.ts";
import { LiaisonError } from "../services/errors/index.ts";

const dir = mkdtempSync(join(tmpdir(), "liaison-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function configError(file: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadNodeConfig(file, env);
  } catch (error) {
    assert.ok(error instanceof LiaisonError);
    assert.equal(error.code, "CONFIG_INVALID");
    return error.message;
  }
  assert.fail("expected a configuration error");
}

const GOOD = "party: VN-MPS\nidentityDir: ./identity\ndataDir: ./data\npeer: { host: 127.0.0.1, port: 7443 }\n";

describe("node configuration", () => {
  it("loads a good file and resolves paths against its folder", () => {
    const config = loadNodeConfig(write("good.yaml", GOOD), {});
    assert.equal(config.party, "VN-MPS");
    assert.equal(config.identityDir, join(dir, "identity"));
    assert.equal(config.limits.clockSkewSeconds, 300);
  });

  it("names a missing file", () => {
    assert.match(configError(join(dir, "absent.yaml")), /cannot read configuration file .*absent\.yaml: ENOENT/);
  });

  it("names bad YAML", () => {
    assert.match(configError(write("bad.yaml", "party: [VN-MPS\n")), /bad\.yaml is not valid YAML/);
  });

  it("names an unknown key", () => {
    assert.match(configError(write("unknown.yaml", GOOD + "peeer: 1\n")), /unknown\.yaml: .*peeer/);
  });

  it("names a wrong type and its environment variable", () => {
    assert.match(configError(write("type.yaml", GOOD.replace("port: 7443", 'port: "seven"'))), /peer\.port \(or LIAISON_PEER_PORT\): .*number/i);
  });

  it("names a bad port", () => {
    assert.match(configError(write("port.yaml", GOOD.replace("port: 7443", "port: 70000"))), /peer\.port .*65535/);
  });

  it("takes every setting from the environment, over the file", () => {
    const config = loadNodeConfig(write("env.yaml", GOOD), { LIAISON_PEER_PORT: "9443", LIAISON_LIMITS_MAX_ENVELOPE_BYTES: "1000", LIAISON_MONGODB_URI: "mongodb://db/?replicaSet=rs0" });
    assert.equal(config.peer.port, 9443);
    assert.equal(config.limits.maxEnvelopeBytes, 1000);
    assert.equal(config.mongodbUri, "mongodb://db/?replicaSet=rs0");
  });

  it("refuses a non-numeric environment number with its name", () => {
    assert.match(configError(write("envbad.yaml", GOOD), { LIAISON_PEER_PORT: "x" }), /LIAISON_PEER_PORT: expected a number/);
  });
});

describe("the gateway setting", () => {
  it("needs the local API", () => {
    assert.match(configError(write("gw.yaml", GOOD + "gateway: { host: 127.0.0.1, port: 8443 }\n")), /gateway: needs local/);
  });
});
