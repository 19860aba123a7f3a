/**
 * C2SP checkpoints, byte for byte: https://c2sp.org/tlog-checkpoint (v1.0.0).
 *
 * A checkpoint is a signed note (./signed-note.ts) whose text is at least three non-empty lines,
 * each ending in "\n":
 *
 *   <origin>\n                 unique log identity, non-empty (Liaison: the party's log name)
 *   <tree size>\n              ASCII decimal, no leading zeroes ("0" for the empty tree)
 *   <base64 root hash>\n       RFC 4648 §4 base64 of the RFC 6962/9162 root at that size
 *   [<extension line>\n]*      opaque, OPTIONAL, each MUST be non-empty (NOT RECOMMENDED)
 *
 * SPEC: the log's key name in its signature line SHOULD match the origin line — Liaison's log
 * key name is the origin. SPEC: clients MUST ignore unknown signatures (cosignatures from
 * witnesses ride along on the same note).
 *
 * Pure: no I/O, no clock. A malformed checkpoint is CHECKPOINT_INVALID.
 */
import { LiaisonError } from "../../errors/index.ts";
import { HASH_SIZE } from "../merkle/index.ts";
import { decodeBase64Strict, type NoteSigner, type NoteVerifier, type OpenedNote, openNote, signNote } from "./signed-note.ts";

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** Extension lines, without their newlines. Usually empty. */
  readonly extensions: readonly string[];
}

export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: OpenedNote;
}

function invalid(message: string): LiaisonError {
  return new LiaisonError("CHECKPOINT_INVALID", `invalid checkpoint: ${message}`);
}

function badLine(s: string): boolean {
  return s.length === 0 || /[\u0000-\u001f]/.test(s);
}

/** The checkpoint body (note text). Throws TypeError on a checkpoint our own code built wrong. */
export function formatCheckpoint(cp: Checkpoint): string {
  if (badLine(cp.origin)) throw new TypeError("checkpoint origin must be a non-empty line");
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new TypeError(`checkpoint size must be a safe non-negative integer, got ${cp.size}`);
  if (cp.rootHash.length !== HASH_SIZE) throw new TypeError(`checkpoint root must be ${HASH_SIZE} bytes`);
  for (const e of cp.extensions) if (badLine(e)) throw new TypeError("checkpoint extension lines must be non-empty lines");
  const lines = [cp.origin, String(cp.size), Buffer.from(cp.rootHash).toString("base64"), ...cp.extensions];
  return lines.map((l) => `${l}\n`).join("");
}

/** Parses a checkpoint body (the note text, final newline included). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw invalid("text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw invalid("fewer than three lines");
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (badLine(origin)) throw invalid("empty origin");
  // SPEC: ASCII decimal with no leading zeroes (unless the tree is empty).
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw invalid("tree size is not a decimal without leading zeroes");
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw invalid("tree size beyond 2^53");
  const rootHash = decodeBase64Strict(rootLine);
  if (!rootHash || rootHash.length !== HASH_SIZE) throw invalid(`root hash is not base64 of ${HASH_SIZE} bytes`);
  // SPEC: extension lines, if any, MUST be non-empty.
  for (const e of extensions) if (badLine(e)) throw invalid("empty extension line");
  return { origin, size, rootHash, extensions };
}

/** Signs a checkpoint as the log: the signed note. The signer's key name should be the origin. */
export function signCheckpoint(cp: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpoint(cp), [signer]);
}

/**
 * Opens a checkpoint note: verifies the note with `verifiers` (the log's key, possibly witness
 * keys too), parses the body, and requires the origin to be `origin`. Throws CHECKPOINT_INVALID,
 * SIGNATURE_INVALID or KEY_UNKNOWN.
 */
export function openCheckpoint(note: string | Uint8Array, origin: string, verifiers: readonly NoteVerifier[]): OpenedCheckpoint {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) throw invalid(`origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(origin)}`);
  return { checkpoint, note: opened };
}
