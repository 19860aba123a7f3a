/**
 * Signed checkpoints of our own ledger, and the witnesses' cosignatures on them.
 *
 * SPEC (c2sp.org/tlog-checkpoint): "A log MUST not sign any checkpoint which is inconsistent with
 * any checkpoint it previously signed." Before signing, we check a consistency proof (read from
 * the stored nodes) from the last signed checkpoint to the current head. Signing does not need
 * the sequencer lease: the head only grows, and two processes signing the same size produce the
 * same checkpoint (Ed25519 is deterministic); the `_id: size` unique key keeps one.
 */
import type { KeyObject } from "node:crypto";
import { type Db, MongoServerError } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { equalHashes, verifyConsistency } from "./merkle/index.ts";
import {
  type Checkpoint,
  cosignatureV1Timestamp,
  ed25519NoteSigner,
  formatCheckpoint,
  type NoteVerifier,
  openNote,
  parseNote,
  signCheckpoint,
} from "./note/index.ts";
import { bin, bytesOf, ledgerCollections, readConsistencyProof, readTreeHead, type SignedCheckpointDoc } from "./storage.ts";

export interface SignedCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
  /** The C2SP signed note, exactly as signed. */
  readonly note: string;
  readonly signedAt: Date;
}

export interface CheckpointKey {
  /** The log's origin line, also its key name. */
  readonly origin: string;
  /** The log's Ed25519 private key. */
  readonly privateKey: KeyObject;
}

function toSigned(d: SignedCheckpointDoc): SignedCheckpoint {
  return { size: d.size, root: bytesOf(d.root), note: d.note, signedAt: d.signedAt };
}

/** The most recent signed checkpoint, or undefined before the first one. */
export async function readLatestCheckpoint(db: Db): Promise<SignedCheckpoint | undefined> {
  const doc = await ledgerCollections(db)
    .checkpoints.find({ note: { $exists: true } })
    .sort({ size: -1 })
    .limit(1)
    .next();
  return doc ? toSigned(doc as SignedCheckpointDoc) : undefined;
}

/** The signed checkpoint at exactly `size`, if one was signed. */
export async function readCheckpoint(db: Db, size: number): Promise<SignedCheckpoint | undefined> {
  const doc = await ledgerCollections(db).checkpoints.findOne({ _id: size });
  return doc && "note" in doc ? toSigned(doc as SignedCheckpointDoc) : undefined;
}

/**
 * Signs the current tree head as a checkpoint (unless it is already signed) and stores it.
 * `now` is ms since the epoch. LEDGER_CORRUPT when the head is not consistent with the last
 * signed checkpoint — then nothing is signed.
 */
export async function signTreeHead(db: Db, key: CheckpointKey, now: number): Promise<SignedCheckpoint> {
  const head = await readTreeHead(db);
  const last = await readLatestCheckpoint(db);
  if (last) {
    if (last.size > head.size) throw new LiaisonError("LEDGER_CORRUPT", `tree head ${head.size} is behind signed checkpoint ${last.size}`);
    if (last.size === head.size) {
      if (!equalHashes(last.root, head.root)) throw new LiaisonError("LEDGER_CORRUPT", `tree head root differs from the signed checkpoint at size ${head.size}`);
      return last;
    }
    if (last.size > 0) {
      try {
        verifyConsistency(last.size, head.size, await readConsistencyProof(db, last.size, head.size), last.root, head.root);
      } catch (e) {
        throw new LiaisonError("LEDGER_CORRUPT", `tree head ${head.size} is not consistent with signed checkpoint ${last.size}`, { cause: e });
      }
    }
  }
  const checkpoint: Checkpoint = { origin: key.origin, size: head.size, rootHash: head.root, extensions: [] };
  const note = signCheckpoint(checkpoint, ed25519NoteSigner(key.origin, key.privateKey));
  const doc: SignedCheckpointDoc = { _id: head.size, size: head.size, root: bin(head.root), note, signedAt: new Date(now) };
  try {
    await ledgerCollections(db).checkpoints.insertOne(doc);
  } catch (e) {
    if (!(e instanceof MongoServerError && e.code === 11000)) throw e;
    const existing = await readCheckpoint(db, head.size);
    if (!existing || !equalHashes(existing.root, head.root)) throw new LiaisonError("LEDGER_CORRUPT", `a different checkpoint was signed at size ${head.size}`);
    return existing;
  }
  return toSigned(doc);
}

/**
 * Verifies a witness's cosignature line over our signed checkpoint at `size` and stores it.
 * SIGNATURE_INVALID / KEY_UNKNOWN when the line is not a valid cosignature by `cosigner`.
 */
export async function recordCosignature(db: Db, size: number, line: string, cosigner: NoteVerifier, now: number): Promise<void> {
  const cp = await readCheckpoint(db, size);
  if (!cp) throw new LiaisonError("NOT_FOUND", `no signed checkpoint at size ${size}`);
  const text = parseNote(cp.note).text;
  if (!line.endsWith("\n")) line += "\n";
  const opened = openNote(`${text}\n${line}`, [cosigner]);
  if (opened.signatures.length !== 1) throw new LiaisonError("CHECKPOINT_INVALID", "expected exactly one cosignature line");
  const timestamp = cosignatureV1Timestamp(opened.verified[0]);
  await ledgerCollections(db).cosignatures.updateOne(
    { _id: `${size}/${cosigner.name}` },
    { $set: { size, cosigner: cosigner.name, line, timestamp, receivedAt: new Date(now) } },
    { upsert: true },
  );
}

/** Our signed checkpoint at `size` with every cosignature recorded for it appended. */
export async function readCosignedCheckpoint(db: Db, size: number): Promise<string | undefined> {
  const cp = await readCheckpoint(db, size);
  if (!cp) return undefined;
  const lines = await ledgerCollections(db).cosignatures.find({ size }).sort({ cosigner: 1 }).toArray();
  return cp.note + lines.map((l) => l.line).join("");
}

export { formatCheckpoint };
