/**
 * Proof failures. A proof that does not check out is the partner's (or the storage's) doing, so
 * it is a `LiaisonError` with code PROOF_INCONSISTENT; a root mismatch keeps both roots, as
 * transparency-dev's RootMismatchError does, so the caller can log and report them.
 */
import { LiaisonError } from "../../errors/index.ts";

/** The root computed from a proof is not the root the caller expected. */
export class RootMismatchError extends LiaisonError {
  override readonly name: string = "RootMismatchError";
  /** The root the caller trusts (from a checkpoint). */
  readonly expectedRoot: Uint8Array;
  /** The root the proof implies. */
  readonly calculatedRoot: Uint8Array;

  constructor(expectedRoot: Uint8Array, calculatedRoot: Uint8Array, what = "root") {
    super(
      "PROOF_INCONSISTENT",
      `calculated ${what} ${Buffer.from(calculatedRoot).toString("hex")} does not match expected ${what} ${Buffer.from(expectedRoot).toString("hex")}`,
    );
    this.expectedRoot = expectedRoot;
    this.calculatedRoot = calculatedRoot;
  }
}

/** A proof that is malformed (wrong length, wrong sizes, bad hash size) before any hashing. */
export function malformedProof(message: string): LiaisonError {
  return new LiaisonError("PROOF_INCONSISTENT", message);
}
