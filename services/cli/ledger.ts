/**
 * `liaison ledger …`: auditing the node's ledger from the command line.
 *
 *   ledger verify       recompute everything from the stored entries; exit 0 only if all holds
 *   ledger prove        an entry's inclusion proof, checkable with docs/PROTOCOL.md §11
 *   ledger consistency  a consistency proof between two tree sizes
 *   ledger checkpoint   the latest signed checkpoint with its cosignatures
 *
 * The database: `--uri`, else the configuration's `mongodbUri` (or LIAISON_MONGODB_URI), else
 * the node's embedded store opened directly from `<dataDir>/store` — which only works while the
 * node is stopped (the store holds a lock on its folder). The embedded store runs in a worker
 * thread so that its heap (the whole database) is not traversed by this thread's collector.
 *
 * (`liaison views rebuild` is not here yet: services/views has no `rebuildViews` to call.)
 */
import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import cliProgress from "cli-progress";
import { Option, type Command } from "commander";
import type { Db } from "mongodb";
import { LedgerEntrySchema } from "../../gen/liaison/v1/ledger_pb.ts";
import { LiaisonError } from "../errors/index.ts";
import { loadIdentity, loadPartners } from "../identity/index.ts";
import {
  cosignatureV1Verifier,
  ed25519NoteVerifier,
  type NoteVerifier,
  readCheckpoint,
  readConsistencyProof,
  readCosignedCheckpoint,
  readEntry,
  readInclusionProof,
  readLatestCheckpoint,
  readRootAt,
  readTreeHead,
  type StoredEntry,
  verifyLedger,
} from "../ledger/index.ts";
import type { NodeConfig } from "../node/config.ts";
import { ledgerOrigin, witnessName } from "../node/ledger.ts";
import { print, printJson } from "./output.ts";
import { withNodeDatabase, type NodeDatabaseOptions } from "./database.ts";

function nonNegativeInteger(name: string) {
  return (value: string): number => {
    if (!/^(0|[1-9][0-9]*)$/.test(value) || !Number.isSafeInteger(Number(value))) throw new LiaisonError("INVALID_ARGUMENT", `${name} must be a non-negative integer, got "${value}"`);
    return Number(value);
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");

const NOT_A_LEDGER_ENTRY = "its bytes are not a serialized liaison.v1.LedgerEntry";

/** The entry's LedgerEntry fields, or why its bytes are not one. */
function describeEntry(entry: StoredEntry): { kind: string; recordedAt: string | null; contentBase64: string } | string {
  try {
    const e = fromBinary(LedgerEntrySchema, entry.bytes);
    return { kind: e.kind, recordedAt: e.recordedAt ? timestampDate(e.recordedAt).toISOString() : null, contentBase64: b64(e.content) };
  } catch {
    return NOT_A_LEDGER_ENTRY;
  }
}

/** The kind a LedgerEntry's bytes record (what `ledger verify` checks per entry: no content copied), or undefined if they are not one. */
function recordedKind(entry: StoredEntry): string | undefined {
  try {
    return fromBinary(LedgerEntrySchema, entry.bytes).kind;
  } catch {
    return undefined;
  }
}

/** The party's attested keys as checkpoint verifiers, and its partners' as cosigner verifiers. */
async function trustAnchors(config: NodeConfig): Promise<{ origin: string; log: NoteVerifier[]; cosigners: Map<string, NoteVerifier[]> }> {
  const identity = await loadIdentity(config.identityDir);
  if (identity.party !== config.party) throw new LiaisonError("CONFIG_INVALID", `identity folder belongs to ${identity.party}, configuration says ${config.party}`);
  const origin = ledgerOrigin(config.party);
  const log = identity.verifiedAttestations.filter((a) => a.party === config.party).map((a) => ed25519NoteVerifier(origin, a.publicKey));
  const cosigners = new Map<string, NoteVerifier[]>();
  for (const partner of await loadPartners(config.identityDir)) {
    const name = witnessName(partner.party);
    cosigners.set(name, partner.verifiedAttestations.map((a) => cosignatureV1Verifier(name, a.publicKey)));
  }
  return { origin, log, cosigners };
}

/** The size a proof is against by default: the latest signed checkpoint, else the tree head. */
async function defaultSize(db: Db): Promise<number> {
  return (await readLatestCheckpoint(db))?.size ?? (await readTreeHead(db)).size;
}

export function registerLedgerCommands(program: Command): void {
  const ledger = program.command("ledger").description("audit the node's ledger: verify it, print proofs and checkpoints");
  const configOption = () => new Option("--config <file>", "node configuration (YAML)").makeOptionMandatory();
  const uriOption = () => new Option("--uri <mongodb-uri>", "read this database instead of the configured one or the node's embedded store");

  ledger
    .command("verify")
    .description("recompute every leaf, tree node and root from the stored entries; check every checkpoint signature and cosignature")
    .addOption(configOption())
    .addOption(uriOption())
    .option("--json", "print the report as JSON")
    .addOption(new Option("--page-size <n>", "entries per read").default(8192).argParser(nonNegativeInteger("--page-size")))
    .action(async (opts: NodeDatabaseOptions & { json?: boolean; pageSize: number }) => {
      await withNodeDatabase(opts, async ({ config, db, source }) => {
        const anchors = await trustAnchors(config);
        const total = (await readTreeHead(db)).size;
        const bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: "verifying |{bar}| {value}/{total} entries | {speed} entries/s | ETA {eta_formatted}", hideCursor: true, etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        );
        const started = performance.now();
        bar.start(total, 0, { speed: 0 });
        let report;
        try {
          report = await verifyLedger(db, {
            pageSize: Math.max(1, opts.pageSize),
            log: { origin: anchors.origin, verifiers: anchors.log },
            cosigners: anchors.cosigners,
            checkEntry: (entry) => {
              const kind = recordedKind(entry);
              if (kind === undefined) return NOT_A_LEDGER_ENTRY;
              if (kind !== entry.kind) return `its label says "${entry.kind}" but the entry records kind "${kind}"`;
              return undefined;
            },
            onProgress: (done) => bar.update(done, { speed: Math.round(done / Math.max(1e-3, (performance.now() - started) / 1000)) }),
          });
        } finally {
          bar.stop();
        }
        const seconds = (performance.now() - started) / 1000;
        const rate = Math.round(report.entries / Math.max(seconds, 1e-3));
        if (opts.json) {
          printJson({ ...report, origin: anchors.origin, treeSize: total, seconds: Number(seconds.toFixed(3)), entriesPerSecond: rate });
        } else {
          print(`ledger ${anchors.origin} (${source})`);
          print(`checked ${report.entries} of ${total} entries, ${report.nodes} tree nodes, ${report.checkpoints} signed checkpoints, ${report.cosignatures} cosignatures in ${seconds.toFixed(2)} s (${rate} entries/s)`);
          for (const w of report.warnings) print(`warning: ${w}`);
          if (report.ok) print("OK: every entry, tree node, checkpoint and cosignature holds");
          else print(`FIRST INCONSISTENCY${report.problem!.index !== undefined ? ` at index ${report.problem!.index}` : ""}: ${report.problem!.message}`);
        }
        if (!report.ok) throw new LiaisonError("LEDGER_CORRUPT", report.problem!.message);
      });
    });

  ledger
    .command("prove")
    .description("print the inclusion proof of one entry (RFC 9162 §2.1.3) with the entry, the root and the signed checkpoint")
    .addOption(configOption())
    .addOption(uriOption())
    .requiredOption("--index <n>", "the entry's index", nonNegativeInteger("--index"))
    .option("--size <n>", "tree size to prove against (default: the latest signed checkpoint's)", nonNegativeInteger("--size"))
    .action(async (opts: NodeDatabaseOptions & { index: number; size?: number }) => {
      await withNodeDatabase(opts, async ({ config, db }) => {
        const size = opts.size ?? (await defaultSize(db));
        const proof = await readInclusionProof(db, opts.index, size);
        const entry = await readEntry(db, opts.index);
        if (!entry) throw new LiaisonError("NOT_FOUND", `no entry ${opts.index}`);
        const root = await readRootAt(db, size);
        const checkpoint = await readCosignedCheckpoint(db, size);
        const decoded = describeEntry(entry);
        printJson({
          origin: ledgerOrigin(config.party),
          algorithm: "RFC 9162 §2.1.3.2 (docs/PROTOCOL.md §11): leafHash = SHA-256(0x00 || leafInput); proof is bottom-up",
          index: opts.index,
          treeSize: size,
          leafInputBase64: b64(entry.bytes),
          leafInputHex: hex(entry.bytes),
          entry: typeof decoded === "string" ? { error: decoded } : decoded,
          leafHash: hex(proof.leafHash),
          proof: proof.proof.map(hex),
          proofBase64: proof.proof.map(b64),
          root: hex(root),
          rootBase64: b64(root),
          checkpoint: checkpoint ?? null,
        });
      });
    });

  ledger
    .command("consistency")
    .description("print the consistency proof between two tree sizes (RFC 9162 §2.1.4) with both roots and checkpoints")
    .addOption(configOption())
    .addOption(uriOption())
    .requiredOption("--from <size>", "the older tree size", nonNegativeInteger("--from"))
    .option("--to <size>", "the newer tree size (default: the latest signed checkpoint's)", nonNegativeInteger("--to"))
    .action(async (opts: NodeDatabaseOptions & { from: number; to?: number }) => {
      await withNodeDatabase(opts, async ({ config, db }) => {
        const to = opts.to ?? (await defaultSize(db));
        const proof = await readConsistencyProof(db, opts.from, to);
        const [fromRoot, toRoot] = [await readRootAt(db, opts.from), await readRootAt(db, to)];
        printJson({
          origin: ledgerOrigin(config.party),
          algorithm: "RFC 9162 §2.1.4.2 (docs/PROTOCOL.md §11)",
          fromSize: opts.from,
          toSize: to,
          proof: proof.map(hex),
          proofBase64: proof.map(b64),
          fromRoot: hex(fromRoot),
          fromRootBase64: b64(fromRoot),
          toRoot: hex(toRoot),
          toRootBase64: b64(toRoot),
          fromCheckpoint: (await readCosignedCheckpoint(db, opts.from)) ?? null,
          toCheckpoint: (await readCosignedCheckpoint(db, to)) ?? null,
        });
      });
    });

  ledger
    .command("checkpoint")
    .description("print the latest signed checkpoint with every cosignature received for it (C2SP signed note)")
    .addOption(configOption())
    .addOption(uriOption())
    .option("--size <n>", "the checkpoint at this size instead of the latest", nonNegativeInteger("--size"))
    .option("--json", "print size, root and note as JSON")
    .action(async (opts: NodeDatabaseOptions & { size?: number; json?: boolean }) => {
      await withNodeDatabase(opts, async ({ db }) => {
        const cp = opts.size === undefined ? await readLatestCheckpoint(db) : await readCheckpoint(db, opts.size);
        if (!cp) throw new LiaisonError("NOT_FOUND", opts.size === undefined ? "no checkpoint has been signed yet" : `no checkpoint was signed at size ${opts.size}`);
        const note = (await readCosignedCheckpoint(db, cp.size))!;
        if (opts.json) printJson({ size: cp.size, root: hex(cp.root), rootBase64: b64(cp.root), signedAt: cp.signedAt.toISOString(), note });
        else process.stdout.write(note);
      });
    });
}
