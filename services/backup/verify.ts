/**
 * `liaison backup verify`: is this backup whole, and is the ledger in it sound?
 *
 *  1. the trailer and the manifest's SHA-256 (openBackup);
 *  2. each part's SHA-256, then its decoding (gzip, BSON documents and their count, file records);
 *  3. with the passphrase: the key check (a wrong passphrase is named as such), the manifest's
 *     HMAC, and the decryption of the private keys;
 *  4. the ledger: its collections loaded into a temporary embedded store, `verifyLedger` run
 *     with the party's attested keys (checkpoint signatures) and its partners' keys
 *     (cosignatures), and the tree head compared with the one recorded at the snapshot.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { LiaisonError, toLiaisonError } from "../errors/index.ts";
import { loadPartners, readPartyFile, verifyAttestation } from "../identity/index.ts";
import { cosignatureV1Verifier, ed25519NoteVerifier, readTreeHead, verifyLedger, type LedgerReport, type NoteVerifier } from "../ledger/index.ts";
import { startEmbeddedStore } from "../store/index.ts";
import { deriveKeys, keyCheckPasses, manifestMacMatches } from "./crypto.ts";
import { openBackup, type Manifest, type OpenedBackup } from "./format.ts";
import { writeIdentityFiles } from "./identity-files.ts";
import { loadCollection, partDocuments, publicFiles, secretFiles } from "./load.ts";

/** The checkpoint origin of a party's ledger (as services/node/ledger.ts `ledgerOrigin`). */
export function ledgerOrigin(party: string): string {
  return `liaison/ledger/${party}`;
}

/** The name a partner cosigns under (as services/node/ledger.ts `witnessName`). */
export function witnessName(party: string): string {
  return `liaison/witness/${party}`;
}

const LEDGER_COLLECTIONS = ["ledger_entries", "ledger_nodes", "ledger_checkpoints", "ledger_cosignatures"];

export interface PartCheck {
  name: string;
  ok: boolean;
  problem?: string;
}

export interface VerifyBackupReport {
  ok: boolean;
  manifest?: Pick<Manifest, "backupId" | "createdAt" | "party" | "database" | "ledger">;
  parts: PartCheck[];
  passphrase: "not given" | "correct" | "wrong";
  ledger?: LedgerReport;
  /** Every problem found, one sentence each; the first names what failed first. */
  problems: string[];
}

export interface VerifyBackupOptions {
  passphrase?: string;
  /** Skip step 4. */
  skipLedger?: boolean;
  onProgress?: (step: string, done: number, total: number) => void;
}

/** The log's and the partners' note verifiers from the backup's public identity files. */
async function verifiersFrom(backup: OpenedBackup, scratch: string): Promise<{ log: { origin: string; verifiers: NoteVerifier[] }; cosigners: Map<string, NoteVerifier[]> }> {
  const dir = join(scratch, "identity");
  writeIdentityFiles(dir, publicFiles(backup), false);
  const { party } = await readPartyFile(dir);
  const caPem = readFileSync(join(dir, "ca.crt"), "utf8");
  const verifiers: NoteVerifier[] = [];
  for (const name of readdirSync(join(dir, "attestations")).filter((n) => n.endsWith(".jws"))) {
    const attested = await verifyAttestation(readFileSync(join(dir, "attestations", name), "utf8").trim(), caPem, party);
    verifiers.push(ed25519NoteVerifier(ledgerOrigin(party), attested.publicKey));
  }
  const cosigners = new Map<string, NoteVerifier[]>();
  for (const partner of await loadPartners(dir)) {
    cosigners.set(
      witnessName(partner.party),
      partner.verifiedAttestations.map((a) => cosignatureV1Verifier(witnessName(partner.party), a.publicKey)),
    );
  }
  return { log: { origin: ledgerOrigin(party), verifiers }, cosigners };
}

export async function verifyBackup(file: string, options: VerifyBackupOptions = {}): Promise<VerifyBackupReport> {
  let backup: OpenedBackup;
  try {
    backup = openBackup(file);
  } catch (error) {
    return { ok: false, parts: [], passphrase: options.passphrase ? "wrong" : "not given", problems: [toLiaisonError(error).message] };
  }
  const problems: string[] = [];
  const parts: PartCheck[] = [];
  const { manifest } = backup;
  const report = (): VerifyBackupReport => ({
    ok: problems.length === 0,
    manifest: { backupId: manifest.backupId, createdAt: manifest.createdAt, party: manifest.party, database: manifest.database, ledger: manifest.ledger },
    parts,
    passphrase,
    ...(ledger ? { ledger } : {}),
    problems,
  });
  let passphrase: VerifyBackupReport["passphrase"] = "not given";
  let ledger: LedgerReport | undefined;
  try {
    const progress = options.onProgress ?? (() => undefined);
    let keys: ReturnType<typeof deriveKeys> | undefined;
    if (options.passphrase !== undefined) {
      keys = deriveKeys(options.passphrase, manifest.kdf);
      if (!keyCheckPasses(keys, manifest.backupId, manifest.keyCheck)) {
        passphrase = "wrong";
        problems.push("wrong passphrase: the backup's key check does not open with it");
        keys = undefined;
      } else {
        passphrase = "correct";
        if (!manifestMacMatches(keys, backup.manifestBytes, backup.mac)) problems.push("part manifest: its HMAC does not match (the manifest was replaced)");
      }
    }
    manifest.parts.forEach((part, i) => {
      progress("parts", i, manifest.parts.length);
      try {
        if (part.kind === "collection") partDocuments(backup, part);
        else if (part.name === "identity/public") publicFiles(backup);
        else if (part.name === "identity/private") {
          backup.readVerifiedPart(part);
          if (keys && !secretFiles(backup, keys)) throw new LiaisonError("INVALID_ARGUMENT", `backup part ${part.name}: does not decrypt`);
        } else backup.readVerifiedPart(part);
        parts.push({ name: part.name, ok: true });
      } catch (error) {
        const message = toLiaisonError(error).message;
        parts.push({ name: part.name, ok: false, problem: message });
        problems.push(message);
      }
    });
    progress("parts", manifest.parts.length, manifest.parts.length);
    if (options.skipLedger || problems.length > 0) return report();

    const scratch = mkdtempSync(join(tmpdir(), "liaison-backup-verify-"));
    try {
      const store = await startEmbeddedStore({ dbpath: join(scratch, "store"), port: 0 });
      const client = new MongoClient(store.uri, { serverSelectionTimeoutMS: 10_000 });
      try {
        await client.connect();
        const db = client.db("verify");
        for (const part of manifest.parts.filter((p) => p.kind === "collection" && LEDGER_COLLECTIONS.includes(p.collection!))) {
          progress(`load ${part.collection}`, 0, part.documents ?? 0);
          await loadCollection(backup, part, db);
        }
        const identity = await verifiersFrom(backup, scratch);
        ledger = await verifyLedger(db, { ...identity, onProgress: (done, total) => progress("ledger", done, total) });
        if (!ledger.ok) problems.push(`ledger: ${ledger.problem?.message ?? "does not verify"}`);
        const head = await readTreeHead(db);
        const root = Buffer.from(head.root).toString("base64");
        if (head.size !== manifest.ledger.size || (manifest.ledger.size > 0 && root !== manifest.ledger.root)) {
          problems.push(`ledger: the tree head (${head.size}) is not the one recorded at the snapshot (${manifest.ledger.size})`);
        }
      } finally {
        await client.close();
        await store.close();
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    return report();
  } finally {
    backup.close();
  }
}
