/**
 * C2SP note formats: signed notes, checkpoints and cosignature/v1 cosignatures.
 */
export {
  type Checkpoint,
  type OpenedCheckpoint,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from "./checkpoint.ts";
export {
  COSIGNATURE_V1_SIZE,
  cosignCheckpoint,
  cosignatureV1KeyId,
  cosignatureV1Message,
  cosignatureV1Signer,
  cosignatureV1Timestamp,
  cosignatureV1Verifier,
  parseNoteVerifierKey,
} from "./cosignature.ts";
export {
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  type ParsedNote,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
  addSignatures,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  ed25519PublicKeyBytes,
  formatSignatureLine,
  formatVerifierKey,
  isValidKeyName,
  noteKeyId,
  openNote,
  parseNote,
  signNote,
} from "./signed-note.ts";
