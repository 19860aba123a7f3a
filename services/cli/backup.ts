/**
 * `liaison backup create|verify|restore`: backups of a node (services/backup), with progress on
 * stderr. The passphrase comes from `--passphrase-file` or LIAISON_BACKUP_PASSPHRASE, never from
 * the command line (it would sit in the shell history and the process list), and is never
 * printed.
 *
 * Exit codes: 0 done (verify: the backup is sound); 1 refused or failed (verify: a problem was
 * found, the first one printed); 2 usage error.
 */
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { MongoClient } from "mongodb";
import { createBackup, restoreBackup, verifyBackup } from "../backup/index.ts";
import { LiaisonError } from "../errors/index.ts";
import { KEY_PASSPHRASE_ENV, readSecretFile } from "../identity/index.ts";
import { loadNodeConfig, type NodeConfig } from "../node/index.ts";
import { print } from "./output.ts";
import { openNodeDatabase } from "./database.ts";

export const PASSPHRASE_ENV = "LIAISON_BACKUP_PASSPHRASE";

/** The passphrase from a file (one trailing newline dropped) or the environment. */
export function readPassphrase(file: string | undefined, env: NodeJS.ProcessEnv = process.env, required = true): string | undefined {
  const value = file !== undefined ? readSecretFile(file, "--passphrase-file", "INVALID_ARGUMENT") : env[PASSPHRASE_ENV] || undefined;
  if (value === undefined && required) throw new LiaisonError("INVALID_ARGUMENT", `a passphrase is required: --passphrase-file FILE or ${PASSPHRASE_ENV}`);
  return value;
}

/** A progress bar on stderr (drawn only on a terminal). */
function progressBar(label: string) {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% {value}/{total} {step}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done: number, total: number, step = "") {
      if (!started) {
        bar.start(Math.max(total, 1), 0, { step });
        started = true;
      }
      bar.setTotal(Math.max(total, done, 1));
      bar.update(done, { step });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** The node's database for a backup (see database.ts for where it is found). */
async function connectToNodeDatabase(configFile: string, uri: string | undefined): Promise<{ client: MongoClient; close: () => Promise<void> }> {
  const opened = await openNodeDatabase({ config: configFile, ...(uri ? { uri } : {}) });
  return { client: opened.client, close: () => opened.close() };
}

export function registerBackupCommands(program: Command): void {
  const backup = program.command("backup").description("consistent backups of a node: database and identity (keys encrypted)");

  backup
    .command("create")
    .description("back up a node's database (one snapshot) and its identity folder into one file")
    .requiredOption("--config <file>", "the node's configuration (YAML)")
    .requiredOption("--out <file>", "backup file to write (refused if it exists, unless --force)")
    .option("--passphrase-file <file>", `file holding the passphrase (else ${PASSPHRASE_ENV})`)
    .option("--uri <mongodb-uri>", "the node's database, when neither the configuration nor <dataDir>/store.uri gives it")
    .option("--force", "replace an existing backup file")
    .action(async (opts: { config: string; out: string; passphraseFile?: string; uri?: string; force?: boolean }) => {
      const passphrase = readPassphrase(opts.passphraseFile)!;
      const config = loadNodeConfig(opts.config);
      const { client, close } = await connectToNodeDatabase(opts.config, opts.uri);
      const bar = progressBar("backup");
      try {
        const result = await createBackup({
          client,
          database: config.database,
          party: config.party,
          identityDir: config.identityDir,
          out: opts.out,
          passphrase,
          ...(opts.force ? { force: true } : {}),
          onProgress: (p) => bar.update(p.done, p.total, p.collection ?? p.phase),
        });
        bar.stop();
        const { manifest } = result;
        print(`wrote ${opts.out}: ${config.party}, ${manifest.parts.filter((p) => p.kind === "collection").length} collections, ledger size ${manifest.ledger.size}`);
        print(`backup id ${manifest.backupId}; check it with: liaison backup verify ${opts.out} --passphrase-file FILE`);
      } finally {
        bar.stop();
        await close();
      }
    });

  backup
    .command("verify")
    .description("check a backup: every part's SHA-256, decryption (with the passphrase) and the ledger")
    .argument("<file>", "backup file")
    .option("--passphrase-file <file>", `file holding the passphrase (else ${PASSPHRASE_ENV}); without it the keys are not checked`)
    .option("--json", "machine-readable report")
    .action(async (file: string, opts: { passphraseFile?: string; json?: boolean }) => {
      const passphrase = readPassphrase(opts.passphraseFile, process.env, false);
      const bar = progressBar("verify");
      const report = await verifyBackup(file, { ...(passphrase !== undefined ? { passphrase } : {}), onProgress: (step, done, total) => bar.update(done, total, step) });
      bar.stop();
      if (opts.json) print(JSON.stringify(report, null, 2));
      else {
        if (report.manifest) print(`backup ${report.manifest.backupId} of ${report.manifest.party}, made ${report.manifest.createdAt}, ledger size ${report.manifest.ledger.size}`);
        for (const part of report.parts) print(`${part.ok ? "ok  " : "FAIL"} ${part.name}${part.problem ? `: ${part.problem}` : ""}`);
        print(`passphrase: ${report.passphrase}`);
        if (report.ledger) {
          print(`ledger: ${report.ledger.ok ? "ok" : "FAIL"}: ${report.ledger.entries} entries, ${report.ledger.nodes} nodes, ${report.ledger.checkpoints} checkpoints, ${report.ledger.cosignatures} cosignatures`);
          for (const w of report.ledger.warnings) print(`ledger warning: ${w}`);
        }
      }
      if (!report.ok) throw new LiaisonError("INVALID_ARGUMENT", `the backup does not verify: ${report.problems[0]}`);
      if (!opts.json) print("the backup verifies");
    });

  backup
    .command("restore")
    .description("restore a backup into a fresh identity folder and database (the node stopped)")
    .argument("<file>", "backup file")
    .requiredOption("--config <file>", "configuration of the node to restore (its identityDir, dataDir, database)")
    .option("--passphrase-file <file>", `file holding the passphrase (else ${PASSPHRASE_ENV})`)
    .option("--force", "replace a non-empty identity folder, store folder or database")
    .action(async (file: string, opts: { config: string; passphraseFile?: string; force?: boolean }) => {
      const passphrase = readPassphrase(opts.passphraseFile)!;
      const config = loadNodeConfig(opts.config);
      const bar = progressBar("restore");
      try {
        const result = await restoreBackup({
          file,
          passphrase,
          target: {
            party: config.party,
            identityDir: config.identityDir,
            dataDir: config.dataDir,
            database: config.database,
            ...(config.mongodbUri ? { mongodbUri: config.mongodbUri } : {}),
          },
          ...(opts.force ? { force: true } : {}),
          onProgress: (p) => bar.update(p.done, p.total, p.collection ?? p.phase),
        });
        bar.stop();
        print(`restored ${result.manifest.party} (backup ${result.manifest.backupId}, ${result.documents} documents, ledger size ${result.manifest.ledger.size})`);
        if (result.keys.encrypted.length > 0) {
          print(`the private keys are encrypted with the party's key passphrase: start the node with it (${KEY_PASSPHRASE_ENV}_FILE)`);
        }
        if (result.keys.clear.length > 0) print(`private keys in clear: ${result.keys.clear.join(", ")} (encrypt them with liaison pki set-passphrase)`);
        print("run `liaison backup verify` on the file if not done yet, then start the node; tell partners the restored tree size");
      } finally {
        bar.stop();
      }
    });
}
