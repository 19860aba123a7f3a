/**
 * The ledger: an append-only RFC 9162 Merkle tree log in MongoDB, C2SP checkpoints and
 * cosignatures, and the pure verification functions partners and auditors use.
 */

// ---- End-user surface ---------------------------------------------------------------------
// Writing our ledger.
export { type AppendResult, LedgerSequencer, type LedgerSequencerOptions } from "./sequencer.ts";
// Reading it, with O(log n) proofs.
export {
  type InclusionProof,
  type StoredEntry,
  type TreeHead,
  readConsistencyProof,
  readEntries,
  readEntry,
  readInclusionProof,
  readRootAt,
  readTreeHead,
} from "./storage.ts";
// Checkpoints and witnessing.
export {
  type CheckpointKey,
  type SignedCheckpoint,
  readCheckpoint,
  readCosignedCheckpoint,
  readLatestCheckpoint,
  recordCosignature,
  signTreeHead,
} from "./checkpoints.ts";
export { type WitnessInput, type WitnessResult, witnessCheckpoint } from "./witness.ts";
// Auditing (`liaison ledger verify`).
export { type LedgerProblem, type LedgerReport, type VerifyLedgerOptions, verifyLedger } from "./fsck.ts";
// Verifying what a partner sends (pure).
export {
  RootMismatchError,
  hashLeaf,
  rootFromConsistencyProof,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "./merkle/index.ts";
export {
  type Checkpoint,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedCheckpoint,
  cosignCheckpoint,
  cosignatureV1Timestamp,
  cosignatureV1Verifier,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatCheckpoint,
  formatVerifierKey,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseNoteVerifierKey,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
} from "./note/index.ts";

// ---- For other contexts' plumbing and tools (not end-user API) -----------------------------
/** @private */
export { COLLECTIONS, ensureLedgerIndexes } from "./storage.ts";
/** @private */
export { SEQUENCER_LEASE_ID, acquireLease, releaseLease, renewLease } from "./lease.ts";
/** @private */
export {
  type Frontier,
  type NodeId,
  type ProofNodes,
  appendLeaves,
  assembleProof,
  consistencyProofNodes,
  emptyFrontier,
  emptyRoot,
  hashChildren,
  inclusionProofNodes,
  rootFromLeafHashes,
  rootNodeIds,
} from "./merkle/index.ts";
