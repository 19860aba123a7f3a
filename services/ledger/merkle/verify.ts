/**
 * Proof verification, after transparency-dev/merkle `proof/verify.go`.
 *
 * `rootFromInclusionProof` and `rootFromConsistencyProof` compute the root a proof implies;
 * `verifyInclusion` and `verifyConsistency` only compare. Every failure is a `LiaisonError` with
 * code PROOF_INCONSISTENT (the proof comes from outside); a mismatch is a `RootMismatchError`
 * holding both roots.
 *
 * Pure: no I/O, no clock.
 */
import { bit, bitLength, isTreeInt, popCount, shr, trailingZeros, xor } from "./bits.ts";
import { malformedProof, RootMismatchError } from "./errors.ts";
import { HASH_SIZE, equalHashes, hashChildren } from "./hasher.ts";

function verifyMatch(calculated: Uint8Array, expected: Uint8Array, what?: string): void {
  if (!equalHashes(calculated, expected)) throw new RootMismatchError(expected, calculated, what);
}

function checkProofHashes(proof: readonly Uint8Array[]): void {
  for (let i = 0; i < proof.length; i++) {
    if (proof[i].length !== HASH_SIZE) throw malformedProof(`proof[${i}] has ${proof[i].length} bytes, want ${HASH_SIZE}`);
  }
}

/**
 * Splits an inclusion proof for leaf `index` in a tree of `size` at the level where the paths to
 * `index` and `size - 1` part: `inner` nodes below (left or right siblings), `border` nodes above
 * (left siblings only).
 */
function decompInclProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  return { inner, border: popCount(shr(index, inner)) };
}

function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: number): Uint8Array {
  for (let i = 0; i < proof.length; i++) {
    seed = bit(index, i) === 0 ? hashChildren(seed, proof[i]) : hashChildren(proof[i], seed);
  }
  return seed;
}

function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: number): Uint8Array {
  for (let i = 0; i < proof.length; i++) {
    if (bit(index, i) === 1) seed = hashChildren(proof[i], seed);
  }
  return seed;
}

function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  for (const h of proof) seed = hashChildren(h, seed);
  return seed;
}

/**
 * RFC 9162 §2.1.3.2: the root of the tree of `size` leaves implied by an inclusion proof of the
 * leaf with hash `leafHash` at `index`. Requires 0 <= index < size; otherwise, or when the proof
 * has the wrong length or hash sizes, throws PROOF_INCONSISTENT.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  if (!isTreeInt(index) || !isTreeInt(size)) throw malformedProof(`index ${index} and size ${size} must be integers in [0, 2^53)`);
  if (index >= size) throw malformedProof(`index is beyond size: ${index} >= ${size}`);
  if (leafHash.length !== HASH_SIZE) throw malformedProof(`leaf hash has ${leafHash.length} bytes, want ${HASH_SIZE}`);
  const { inner, border } = decompInclProof(index, size);
  if (proof.length !== inner + border) throw malformedProof(`wrong proof size ${proof.length}, want ${inner + border}`);
  checkProofHashes(proof);
  const res = chainInner(leafHash, proof.slice(0, inner), index);
  return chainBorderRight(res, proof.slice(inner));
}

/**
 * RFC 9162 §2.1.3.2: checks that `proof` proves the leaf `leafHash` at `index` is in the tree of
 * `size` leaves whose root is `root`. Requires 0 <= index < size. Throws RootMismatchError (both
 * roots) or PROOF_INCONSISTENT.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  verifyMatch(rootFromInclusionProof(index, size, leafHash, proof), root);
}

/**
 * RFC 9162 §2.1.4.2: the root of the tree of `size2` leaves implied by a consistency proof from
 * the tree of `size1` leaves with root `root1`. Checks on the way that the proof also hashes to
 * `root1` (RootMismatchError otherwise). Requires 0 < size1 <= size2: a proof from the empty
 * tree proves nothing and is refused; size1 = size2 requires an empty proof and returns root1.
 */
export function rootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): Uint8Array {
  if (!isTreeInt(size1) || !isTreeInt(size2)) throw malformedProof(`sizes ${size1} and ${size2} must be integers in [0, 2^53)`);
  if (size2 < size1) throw malformedProof(`size2 (${size2}) < size1 (${size1})`);
  if (size1 === 0) throw malformedProof("consistency proof from the empty tree is meaningless");
  if (size1 === size2) {
    if (proof.length > 0) throw malformedProof("size1 = size2, but the proof is not empty");
    return root1;
  }
  if (proof.length === 0) throw malformedProof("empty proof");
  checkProofHashes(proof);

  const { inner: forkLevel, border } = decompInclProof(size1 - 1, size2);
  // Level of the rightmost perfect subtree of the size1 tree: the proof starts there.
  const shift = trailingZeros(size1);
  const inner = forkLevel - shift;
  // The proof starts with the root of that subtree, unless size1 is a power of two (then that
  // subtree is the whole size1 tree, whose root the verifier holds).
  let seed = proof[0];
  let start = 1;
  if (size1 === 2 ** shift) {
    seed = root1;
    start = 0;
  }
  if (proof.length !== start + inner + border) {
    throw malformedProof(`wrong proof size ${proof.length}, want ${start + inner + border}`);
  }
  const rest = proof.slice(start);
  const mask = shr(size1 - 1, shift);

  let hash1 = chainInnerRight(seed, rest.slice(0, inner), mask);
  hash1 = chainBorderRight(hash1, rest.slice(inner));
  verifyMatch(hash1, root1, "first root");

  const hash2 = chainInner(seed, rest.slice(0, inner), mask);
  return chainBorderRight(hash2, rest.slice(inner));
}

/**
 * RFC 9162 §2.1.4.2: checks that `proof` proves the tree of `size2` leaves with root `root2`
 * extends the tree of `size1` leaves with root `root1`. Requires 0 < size1 <= size2. Throws
 * RootMismatchError (both roots) or PROOF_INCONSISTENT.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  verifyMatch(rootFromConsistencyProof(size1, size2, proof, root1), root2, "second root");
}
