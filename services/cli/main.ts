/**
 * `liaison` — the operator's command line: PKI, onboarding, running a node or the embedded store,
 * and the demo. Every command exits 0 on success and non-zero with a one-line reason otherwise.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import {
  exportPartnerBundle,
  formatFingerprint,
  identityFingerprint,
  importPartnerBundle,
  JWT_SECRET_ENV,
  KEY_PASSPHRASE_ENV,
  keyPassphraseFromEnvironment,
  loadIdentity,
  loadPartners,
  pkiInit,
  readSecretFile,
  rotateSigningKey,
  setKeyPassphrase,
} from "../identity/index.ts";
import { LiaisonError } from "../errors/index.ts";
import { listSuspensions, loadNodeConfig, resumePartner, startNode, suspendPartner } from "../node/index.ts";
import { startStoreFromCli } from "../store/index.ts";
import { print, printError, printJson, printTable } from "./output.ts";
import { runDemo } from "./demo.ts";
import { registerLedgerCommands } from "./ledger.ts";
import { registerBackupCommands } from "./backup.ts";
import { registerOperationsCommands } from "./operations.ts";

function collectNames(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new LiaisonError("INVALID_ARGUMENT", `--name-lang expects LANG=NAME, got "${value}"`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const KEY_PASSPHRASE_OPTION = `file holding the key passphrase (else ${KEY_PASSPHRASE_ENV}_FILE or ${KEY_PASSPHRASE_ENV})`;

/** The key passphrase: from `--passphrase-file`, else the environment, else none. */
function keyPassphrase(file: string | undefined): string | undefined {
  return file !== undefined ? readSecretFile(file, "--passphrase-file", "INVALID_ARGUMENT") : keyPassphraseFromEnvironment();
}

/** Keep the process alive until SIGINT/SIGTERM, then run `stop`. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const handler = () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      stop().then(resolve, (error: unknown) => {
        printError(`error while stopping: ${(error as Error).message}`);
        resolve();
      });
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}

export function buildProgram(): Command {
  const program = new Command("liaison")
    .description("Liaison: cross-border law-enforcement cooperation exchange")
    .showHelpAfterError()
    .exitOverride();

  const pki = program.command("pki").description("the party's PKI: CA, node TLS certificate, message-signing keys");
  pki
    .command("init")
    .description("create the party root CA, the node TLS certificate and a signing key with its attestation")
    .requiredOption("--party <id>", "party id, e.g. VN-MPS")
    .requiredOption("--name <text>", "the party's display name in English")
    .option("--name-lang <lang=text>", "display name in another language (repeatable)", collectNames, {})
    .requiredOption("--dir <dir>", "identity folder to create")
    .option("--dns <name>", "extra DNS name for the node certificate (repeatable)", collect, [])
    .option("--ip <address>", "extra IP address for the node certificate (repeatable)", collect, [])
    .option("--passphrase-file <file>", `${KEY_PASSPHRASE_OPTION}; without one the keys are written in clear`)
    .action(async (opts: { party: string; name: string; nameLang: Record<string, string>; dir: string; dns: string[]; ip: string[]; passphraseFile?: string }) => {
      const passphrase = keyPassphrase(opts.passphraseFile);
      const result = await pkiInit({
        party: opts.party,
        displayNames: { en: opts.name, ...opts.nameLang },
        dir: opts.dir,
        dnsNames: opts.dns,
        ipAddresses: opts.ip,
        ...(passphrase !== undefined ? { passphrase } : {}),
      });
      print(`created identity of ${result.party} in ${opts.dir}`);
      print(`CA fingerprint (SHA-256): ${formatFingerprint(result.fingerprint)}`);
      print(`active signing key: ${result.activeKid}`);
      print(passphrase !== undefined ? "private keys encrypted with the key passphrase" : "private keys NOT encrypted (no key passphrase given)");
    });
  pki
    .command("rotate-signing-key")
    .description("start signing with a new key; the old key stays valid for messages it signed before now")
    .requiredOption("--dir <dir>", "identity folder")
    .option("--passphrase-file <file>", `${KEY_PASSPHRASE_OPTION}; the new key is encrypted with it`)
    .action(async (opts: { dir: string; passphraseFile?: string }) => {
      const result = await rotateSigningKey(opts.dir, { passphrase: keyPassphrase(opts.passphraseFile) ?? null });
      print(`retired ${result.previousKid} at ${result.rotatedAt.toISOString()}`);
      print(`active signing key: ${result.activeKid}`);
      print("export a new partner bundle so that partners learn the new key");
    });
  pki
    .command("fingerprint")
    .description("print the CA fingerprint partners must compare out of band")
    .requiredOption("--dir <dir>", "identity folder")
    .action(async (opts: { dir: string }) => {
      const { party, fingerprint } = await identityFingerprint(opts.dir);
      print(`${party} ${formatFingerprint(fingerprint)}`);
    });
  pki
    .command("set-passphrase")
    .description("encrypt every private key of the folder under a new key passphrase (keys in clear, or under the current one)")
    .requiredOption("--dir <dir>", "identity folder")
    .option("--passphrase-file <file>", `the current key passphrase, for keys already encrypted (else ${KEY_PASSPHRASE_ENV}_FILE or ${KEY_PASSPHRASE_ENV})`)
    .requiredOption("--new-passphrase-file <file>", "file holding the new key passphrase (at least 16 characters)")
    .action(async (opts: { dir: string; passphraseFile?: string; newPassphraseFile: string }) => {
      const newPassphrase = readSecretFile(opts.newPassphraseFile, "--new-passphrase-file", "INVALID_ARGUMENT");
      const { files } = await setKeyPassphrase(opts.dir, { passphrase: keyPassphrase(opts.passphraseFile) ?? null, newPassphrase });
      print(`encrypted ${files.join(", ")} with the new key passphrase`);
      print(`give the node the new passphrase (${KEY_PASSPHRASE_ENV}_FILE); a node without ${JWT_SECRET_ENV} sealed its officer-token key with the old one: give it that as ${JWT_SECRET_ENV}_FILE (docs/DEPLOYMENT.md §4)`);
    });

  const partner = program.command("partner").description("onboarding partners by bundle and fingerprint");
  partner
    .command("export")
    .description("write this party's partner bundle (CA, endpoint, signing-key attestations), signed by the CA")
    .requiredOption("--dir <dir>", "identity folder")
    .requiredOption("--endpoint <host:port>", "the peer API address partners will call")
    .requiredOption("--out <file>", "bundle file to write")
    .action(async (opts: { dir: string; endpoint: string; out: string }) => {
      const bundle = await exportPartnerBundle(opts.dir, { endpoint: opts.endpoint });
      writeFileSync(opts.out, JSON.stringify(bundle, null, 2) + "\n");
      const identity = await loadIdentity(opts.dir);
      print(`wrote ${opts.out}`);
      print(`give partners this fingerprint through another channel: ${formatFingerprint(identity.fingerprint)}`);
    });
  partner
    .command("import")
    .description("onboard a partner from its bundle; refuses unless the fingerprint matches")
    .argument("<bundle>", "bundle file received from the partner")
    .requiredOption("--dir <dir>", "identity folder")
    .requiredOption("--fingerprint <sha256>", "the partner's CA fingerprint, obtained out of band")
    .action(async (file: string, opts: { dir: string; fingerprint: string }) => {
      let bundle: unknown;
      try {
        bundle = JSON.parse(readFileSync(file, "utf8"));
      } catch (cause) {
        throw new LiaisonError("INVALID_ARGUMENT", `${file} is not a JSON partner bundle`, { cause });
      }
      const imported = await importPartnerBundle(opts.dir, bundle, opts.fingerprint);
      print(`onboarded ${imported.party} (${imported.endpoint}); a running node accepts it within a second`);
    });
  partner
    .command("list")
    .description("list onboarded partners")
    .requiredOption("--dir <dir>", "identity folder")
    .option("--json", "machine-readable output")
    .action(async (opts: { dir: string; json?: boolean }) => {
      const partners = await loadPartners(opts.dir);
      const suspended = new Set(listSuspensions(opts.dir).map((s) => s.party));
      if (opts.json) {
        return printJson(partners.map((p) => ({ party: p.party, endpoint: p.endpoint, fingerprint: p.fingerprint, suspended: suspended.has(p.party) })));
      }
      printTable([
        ["PARTY", "ENDPOINT", "FINGERPRINT", "STATE"],
        ...partners.map((p) => [p.party, p.endpoint, p.fingerprint, suspended.has(p.party) ? "suspended" : "active"]),
      ]);
    });

  partner
    .command("suspend")
    .description("refuse every call from a partner (a running node applies it within a second)")
    .argument("<party>", "the partner's party id")
    .requiredOption("--dir <dir>", "identity folder")
    .requiredOption("--reason <text>", "why, for the record")
    .action(async (party: string, opts: { dir: string; reason: string }) => {
      const known = (await loadPartners(opts.dir)).some((p) => p.party === party);
      if (!known) throw new LiaisonError("NOT_FOUND", `${party} is not an onboarded partner`);
      suspendPartner(opts.dir, party, opts.reason);
      print(`suspended ${party}`);
    });
  partner
    .command("resume")
    .description("lift a suspension")
    .argument("<party>", "the partner's party id")
    .requiredOption("--dir <dir>", "identity folder")
    .action(async (party: string, opts: { dir: string }) => {
      if (!resumePartner(opts.dir, party)) throw new LiaisonError("NOT_FOUND", `${party} is not suspended`);
      print(`resumed ${party}`);
    });

  program
    .command("node")
    .description("run a node")
    .command("start")
    .requiredOption("--config <file>", "node configuration (YAML)")
    .action(async (opts: { config: string }) => {
      const node = await startNode(loadNodeConfig(opts.config));
      print(`${node.party} peer API on ${node.peerAddress}`);
      if (node.gateway) print(`officers' console on ${node.gateway.url}`);
      await untilSignal(() => node.close());
    });

  program
    .command("store")
    .description("the embedded MongoDB-compatible store")
    .command("start")
    .requiredOption("--dbpath <dir>", "data folder (journal and snapshots)")
    .addOption(new Option("--port <n>", "port on 127.0.0.1").default(27017).argParser((v) => Number.parseInt(v, 10)))
    .action(async (opts: { dbpath: string; port: number }) => {
      // Sealed at rest under LIAISON_STORE_KEY_FILE (base64 of 32 random bytes); else in clear, with a warning.
      const store = await startStoreFromCli({ dbpath: opts.dbpath, port: opts.port });
      print(`embedded store listening: ${store.uri}`);
      await untilSignal(() => store.close());
    });

  registerLedgerCommands(program);
  registerBackupCommands(program);
  registerOperationsCommands(program);

  program
    .command("demo")
    .description("three parties on this machine: PKI, onboarding, sample traffic")
    .option("--dir <dir>", "where the demo keeps its data", ".liaison/demo")
    .option("--fresh", "start over: delete the demo folder first")
    .option("--exit", "stop after start-up and the sample traffic instead of running until Ctrl-C")
    .action(async (opts: { dir: string; exit?: boolean; fresh?: boolean }) => {
      await runDemo({ dir: opts.dir, keepRunning: !opts.exit, fresh: opts.fresh ?? false });
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version") return 0;
    if (typeof code === "string" && code.startsWith("commander.")) return 2;
    if (error instanceof LiaisonError) {
      printError(`liaison: ${error.code}: ${error.message}`);
      return 1;
    }
    printError(`liaison: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("bin/liaison.mjs")) {
  main(process.argv).then((code) => {
    process.exitCode = code;
    // A failed command must end even if something it started still holds a handle (a failed
    // `node start` must exit so that a supervisor restarts it).
    if (code !== 0) process.exit(code);
  });
}
