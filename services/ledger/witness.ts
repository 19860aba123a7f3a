/**
 * Witnessing a partner's log (c2sp.org/tlog-cosignature semantics): before cosigning a new
 * checkpoint, check its log signature and a consistency proof from the last checkpoint we
 * cosigned for that origin. Pure: the caller stores the last cosigned {size, root} and reads the
 * clock.
 */
import type { KeyObject } from "node:crypto";
import { LiaisonError } from "../errors/index.ts";
import { equalHashes, verifyConsistency } from "./merkle/index.ts";
import { type Checkpoint, cosignCheckpoint, type NoteVerifier, openCheckpoint } from "./note/index.ts";

export interface WitnessInput {
  /** The partner's checkpoint note (C2SP signed note). */
  readonly note: string;
  /** The partner log's origin, as onboarded. */
  readonly origin: string;
  /** The partner log's key. */
  readonly logVerifier: NoteVerifier;
  /** The last checkpoint we cosigned for this origin, if any. */
  readonly previous?: { readonly size: number; readonly root: Uint8Array };
  /** RFC 9162 §2.1.4 proof from `previous` to the new checkpoint. */
  readonly proof: readonly Uint8Array[];
  /** Our cosigner name and key. */
  readonly cosignerName: string;
  readonly cosignerKey: KeyObject;
  /** POSIX seconds. */
  readonly timestamp: number;
}

export interface WitnessResult {
  readonly checkpoint: Checkpoint;
  /** The cosignature line to return to the partner. */
  readonly cosignature: string;
}

/**
 * Verifies and cosigns. CHECKPOINT_INVALID / SIGNATURE_INVALID / KEY_UNKNOWN for a bad note,
 * PROOF_INCONSISTENT when the new checkpoint does not extend the previous one (a fork: keep the
 * two signed notes, they prove it).
 */
export function witnessCheckpoint(input: WitnessInput): WitnessResult {
  const { checkpoint, note } = openCheckpoint(input.note, input.origin, [input.logVerifier]);
  const prev = input.previous;
  if (prev && prev.size > 0) {
    if (checkpoint.size < prev.size) throw new LiaisonError("PROOF_INCONSISTENT", `checkpoint size ${checkpoint.size} is behind the cosigned size ${prev.size}`);
    verifyConsistency(prev.size, checkpoint.size, input.proof, prev.root, checkpoint.rootHash);
  } else if (prev && prev.size === 0 && input.proof.length > 0) {
    throw new LiaisonError("PROOF_INCONSISTENT", "a proof from the empty tree must be empty");
  }
  if (prev && prev.size === checkpoint.size && !equalHashes(prev.root, checkpoint.rootHash)) {
    throw new LiaisonError("PROOF_INCONSISTENT", "same size, different root");
  }
  return { checkpoint, cosignature: cosignCheckpoint(note.text, input.cosignerName, input.cosignerKey, input.timestamp) };
}
