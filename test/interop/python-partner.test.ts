/**
 * Interoperability: an independent partner node written in Python from docs/PROTOCOL.md and
 * proto/ alone (test/interop/python/liaison_partner) against a real Liaison node run by its CLI.
 *
 * The operator's side is done as an operator would: `liaison pki init`, `partner import` of the
 * Python party's bundle with its fingerprint, `partner export`, `node start`, `officer add`. The
 * Python partner then onboards the node's bundle (checking its fingerprint), exchanges notices
 * both ways over mutual TLS, audits and witnesses the node's ledger, has its own ledger witnessed
 * by the node, and attacks the node; every outcome comes back as one JSON report, asserted here.
 *
 * Needs Debian's python3-grpcio, python3-protobuf and python3-cryptography for /usr/bin/python3.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const BIN = join(ROOT, "bin/liaison.mjs");
const PYTHON = process.env.LIAISON_INTEROP_PYTHON ?? "/usr/bin/python3";
const PARTNER_DIR = join(ROOT, "test/interop/python");
const APT = "apt-get install -y python3-grpcio python3-protobuf python3-cryptography";
const NODE_PARTY = "VN-MPS";
const PY_PARTY = "LA-MPS";

/**
 * Checks of PROTOCOL.md that the node does not meet (reported to the protocol's owners; see
 * test/interop/python/README.md). Each runs as a todo.
 */
const KNOWN_DEVIATIONS: Record<string, string> = {};

/** Checks of deviations the node has since fixed: they must now pass. */
const FIXED_DEVIATIONS = ["§11.4 rule 2: after", "§2 a refusal's Rejection carries the message_id"];

interface Check {
  name: string;
  ok: boolean;
  detail: unknown;
}
interface PartnerReport {
  checks: Check[];
  observations: Record<string, unknown>;
  failed: string[];
}

const env = { ...process.env, NODE_ENV: "test", PYTHONDONTWRITEBYTECODE: "1" };

async function liaison(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const e = error as { message: string; stdout?: string; stderr?: string };
    throw new Error(`liaison ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

async function python(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-m", "liaison_partner", ...args], { cwd: PARTNER_DIR, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function fingerprintFrom(text: string): string {
  const m = text.match(/([0-9A-F]{2}(?::[0-9A-F]{2}){31})/);
  if (!m) throw new Error(`no fingerprint in: ${text}`);
  return m[1];
}

async function startNode(config: string): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [BIN, "node", "start", "--config", config], { cwd: ROOT, env });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start within 30 s:\n${out}`)), 30_000);
    const poll = setInterval(() => {
      if (/peer API on /.test(out)) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    }, 50);
    child.once("exit", (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`node exited with ${code}:\n${out}`));
    });
  });
  return { child, log: () => out };
}

describe("a Python partner written from PROTOCOL.md and proto/ alone, against a real Liaison node", () => {
  let root = "";
  let node: { child: ChildProcess; log: () => string } | undefined;
  let report: PartnerReport;
  let partnerStderr = "";

  before(async () => {
    const probe = spawnSync(PYTHON, ["-c", "import grpc, google.protobuf, cryptography"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) {
      throw new Error(
        `${PYTHON} cannot import grpc, google.protobuf and cryptography (${probe.error?.message ?? probe.stderr.trim()}). ` +
          `Install Debian's packages: ${APT}`,
      );
    }
    root = mkdtempSync(join(tmpdir(), "liaison-interop-py-"));
    const vnDir = join(root, "vn-identity");
    const laDir = join(root, "la-identity");
    const [peerPort, localPort, partnerPort] = [await freePort(), await freePort(), await freePort()];
    const descriptors = join(root, "liaison.binpb");

    // Both parties make their identities; the protocol's descriptors for the Python side.
    const [, laInit] = await Promise.all([
      liaison("pki", "init", "--party", NODE_PARTY, "--name", "Ministry of Public Security of Viet Nam",
        "--name-lang", "vi=Bộ Công an Việt Nam", "--dir", vnDir),
      python(["init", "--dir", laDir, "--party", PY_PARTY,
        "--name", "en=Ministry of Public Security of the Lao PDR", "--name", "lo=ກະຊວງປ້ອງກັນຄວາມສະຫງົບ",
        "--endpoint", `127.0.0.1:${partnerPort}`, "--bundle-out", join(root, "la-bundle.json")], 60_000),
      run(join(ROOT, "node_modules/.bin/buf"), ["build", "-o", descriptors], { cwd: ROOT }),
    ]);
    assert.equal(laInit.code, 0, `partner init failed:\n${laInit.stderr}`);
    const la = JSON.parse(laInit.stdout) as { fingerprint: string };

    // The node's operator imports the Python party's bundle with the fingerprint read out of band,
    // and exports the node's own bundle.
    await liaison("partner", "import", join(root, "la-bundle.json"), "--dir", vnDir, "--fingerprint", la.fingerprint);
    const exported = await liaison("partner", "export", "--dir", vnDir, "--endpoint", `127.0.0.1:${peerPort}`,
      "--out", join(root, "vn-bundle.json"));
    const vnFingerprint = fingerprintFrom(exported);

    const config = join(root, "node.yaml");
    writeFileSync(config, [
      `party: ${NODE_PARTY}`,
      `identityDir: ${vnDir}`,
      `dataDir: ${join(root, "vn-data")}`,
      `peer: { host: 127.0.0.1, port: ${peerPort} }`,
      `local: { host: 127.0.0.1, port: ${localPort} }`,
      "checkpointIntervalSeconds: 1",
      "",
    ].join("\n"));
    node = await startNode(config);

    const officers: Record<string, { username: string; password: string }> = {};
    await Promise.all(["drafter", "approver", "auditor"].map(async (role) => {
      const password = `interop-${role}-${Math.random().toString(36).slice(2)}-pass`;
      const file = join(root, `${role}.password`);
      writeFileSync(file, password, { mode: 0o600 });
      await liaison("officer", "add", "--config", config, "--username", `vn-${role}`, "--display-name", `VN ${role}`,
        "--role", role, "--password-file", file);
      officers[role] = { username: `vn-${role}`, password };
    }));

    const cfg = join(root, "partner.json");
    writeFileSync(cfg, JSON.stringify({
      descriptors,
      identity_dir: laDir,
      listen_port: partnerPort,
      node_bundle: join(root, "vn-bundle.json"),
      node_fingerprint: vnFingerprint,
      local_address: `127.0.0.1:${localPort}`,
      officers,
      suspend_cmd: [process.execPath, BIN, "partner", "suspend", PY_PARTY, "--dir", vnDir, "--reason", "interop test"],
      resume_cmd: [process.execPath, BIN, "partner", "resume", PY_PARTY, "--dir", vnDir],
      rotation_bundle: join(root, "la-bundle-rotated.json"),
      import_cmd: [process.execPath, BIN, "partner", "import", join(root, "la-bundle-rotated.json"), "--dir", vnDir,
        "--fingerprint", la.fingerprint],
      repo_root: ROOT,
    }));
    const result = await python(["run", "--config", cfg], 180_000);
    partnerStderr = result.stderr;
    const last = result.stdout.trim().split("\n").pop() ?? "";
    try {
      report = JSON.parse(last) as PartnerReport;
    } catch {
      throw new Error(`the partner printed no report (exit ${result.code}):\n${result.stderr}\n${result.stdout}`);
    }
  });

  after(async () => {
    if (node && process.env.LIAISON_INTEROP_NODE_LOG) writeFileSync(process.env.LIAISON_INTEROP_NODE_LOG, node.log());
    if (node && node.child.exitCode === null) {
      const exited = new Promise((resolve) => node!.child.once("exit", resolve));
      node.child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (node.child.exitCode === null) node.child.kill("SIGKILL");
    }
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function expectChecks(prefixes: string[]): void {
    for (const prefix of prefixes) {
      const found = report.checks.filter((c) => c.name.startsWith(prefix));
      assert.ok(found.length > 0, `the partner ran no check named "${prefix}…"\n${partnerStderr}`);
      const known = Object.keys(KNOWN_DEVIATIONS);
      for (const c of found) if (!known.some((k) => c.name.startsWith(k))) assert.ok(c.ok, `${c.name}: ${JSON.stringify(c.detail)}`);
    }
  }

  it("reproduces the worked examples of §10 and §11.6 byte for byte", () => {
    expectChecks(["§10 message bytes", "§10 detached JWS", "§10 envelope hash", "§10 signed receipt", "§11.6 signed checkpoint",
      "§11.6 cosignature line", "§11.6 inclusion proof", "§11.6 consistency proof"]);
  });

  it("onboards both ways by bundle and fingerprint (§3–§5)", () => {
    expectChecks(["§5 import refuses", "§4–§5 the node's bundle verifies", "§3 the node's server certificate"]);
  });

  it("delivers a signed notice to the node and verifies its receipt; a replay returns the same receipt and records nothing", () => {
    expectChecks(["§6 Deliver of a signed", "§8 the node's signed receipt verifies", "§7.13/§8 replayed envelope",
      "§7.13 the replay recorded nothing", "§7.13 the node holds the message once", "§7.13 the replayed envelope is recorded once"]);
  });

  it("receives the node's notice on its own mTLS PeerApi, and the node accepts its signed receipt and refusal", () => {
    expectChecks(["§7 the node's notice reached this partner", "§2/§6 after UNAVAILABLE the node retried with identical",
      "§8 the node accepted this partner's signed receipt", "§2/§9 the node read this partner's refusal", "§2 a final refusal is not retried"]);
  });

  it("audits the node's ledger: signed checkpoint, inclusion and consistency proofs, disclosure", () => {
    expectChecks(["§11.2 the node's checkpoint opens", "§11.4 our entry is disclosed", "§11.5 inclusion proof",
      "§11.5 consistency proof", "§11.5 every inclusion proof", "§11.4 disclosure", "§7 refusals at step 8 or later (not step 9 as §11.1 says) are recorded",
      "§11.1 the node recorded our final refusal"]);
  });

  it("witnesses the node (its Cosign requests) and is witnessed by it (the node's Cosign)", () => {
    expectChecks(["§11.4 the node asked this partner to cosign", "§11.4 a later Cosign request carried a consistency proof",
      "§11.3 GetCheckpoint serves the note with this witness's", "§11.3–§11.4 the node cosigns this partner's first checkpoint",
      "§11.4 the node cosigns the next checkpoint", "§11.4 rule 2", "§11.4 rule 3"]);
  });

  it("sees every attack refused with the status and code the document gives", () => {
    expectChecks(["§7.7 tampered payload byte", "§7.13 message id reused", "§7.12 wrong recipient", "§7.14 stale message",
      "§2/§7.3 oversized envelope", "§2 request above 4 MiB", "§7.4 malformed protobuf", "§3.2 client certificate of an unknown CA",
      "§3.3 client certificate naming another party", "§3.1 no client certificate", "§7.5 JWS alg HS256", "§7.6 unattested signing key",
      "§7.9 created before", "§7.10 sender_party", "§7.15", "§7.16", "§7.2a"]);
  });

  it("rotates its signing key by a new bundle: the new key signs, the retired key signs nothing new (§4)", () => {
    expectChecks(["§4 after the new bundle", "§4/§7.9 the retired key", "§4 a message the old key signed before", "§4/§7.9 the new key"]);
  });

  it("reports what it observed where the document leaves the outcome open", (t) => {
    for (const [name, value] of Object.entries(report.observations)) t.diagnostic(`${name}: ${JSON.stringify(value)}`);
    if (process.env.LIAISON_INTEROP_REPORT) {
      writeFileSync(process.env.LIAISON_INTEROP_REPORT, JSON.stringify(report, null, 2));
      writeFileSync(`${process.env.LIAISON_INTEROP_REPORT}.stderr`, partnerStderr);
    }
    assert.ok(report.checks.length > 80, `only ${report.checks.length} checks ran`);
  });

  // Where the node does not do what PROTOCOL.md says, the check runs as a `todo`: reported, not
  // failing the suite, and passing by itself once the node (or the document) is fixed.
  for (const [prefix, why] of Object.entries(KNOWN_DEVIATIONS)) {
    it(`known deviation: ${prefix}`, { todo: why }, () => {
      const found = report.checks.filter((c) => c.name.startsWith(prefix));
      assert.ok(found.length > 0, `no check "${prefix}…" ran`);
      for (const c of found) assert.ok(c.ok, `${c.name}: ${JSON.stringify(c.detail)}`);
    });
  }

  it("meets the document where the node once deviated (Cosign retry from the witness's size; message_id in a Rejection)", () => {
    for (const prefix of FIXED_DEVIATIONS) {
      const found = report.checks.filter((c) => c.name.startsWith(prefix));
      assert.ok(found.length > 0, `no check "${prefix}…" ran`);
      for (const c of found) assert.ok(c.ok, `${c.name}: ${JSON.stringify(c.detail)}`);
    }
  });

  it("passes every other check it made", () => {
    const known = Object.keys(KNOWN_DEVIATIONS);
    const failed = report.checks.filter((c) => !c.ok && !known.some((k) => c.name.startsWith(k)));
    assert.deepEqual(failed.map((c) => c.name), [], `failed checks:\n${failed.map((c) => `${c.name}: ${JSON.stringify(c.detail)}`).join("\n")}`);
  });
});
