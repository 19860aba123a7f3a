/**
 * RFC 9162 section 2.1.1 hashing, with SHA-256 (node:crypto).
 *
 *   empty tree:  MTH({})        = SHA-256()
 *   leaf:        MTH({d(0)})    = SHA-256(0x00 || d(0))
 *   node:        MTH(D[n])      = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
 *
 * The two prefixes give domain separation between leaves and interior nodes (second-preimage
 * resistance). Pure: no I/O, no clock.
 *
 * Known answers (recompute with a shell):
 *   echo -n | sha256sum                          → e3b0c442…b855 (empty root)
 *   echo -n 00 | xxd -r -p | sha256sum           → 6e340b9c…a01d (leaf of the empty entry)
 */
import * as crypto from "node:crypto";

const { createHash } = crypto;
/** One-shot SHA-256 (node >= 20.12: `crypto.hash`, about twice as fast for small inputs). */
const oneShot: ((data: Uint8Array) => Uint8Array) | undefined =
  typeof crypto.hash === "function" ? (data) => crypto.hash("sha256", data, "buffer") : undefined;

/** Size in bytes of every hash in the tree. */
export const HASH_SIZE = 32;
/** RFC 9162 §2.1.1: prefix of a leaf hash input. */
export const LEAF_PREFIX = 0x00;
/** RFC 9162 §2.1.1: prefix of an interior node hash input. */
export const NODE_PREFIX = 0x01;

const LEAF_PREFIX_BYTES = new Uint8Array([LEAF_PREFIX]);
const NODE_PREFIX_BYTES = new Uint8Array([NODE_PREFIX]);

/** RFC 9162 §2.1.1: the root of the empty tree, SHA-256 of the empty string. */
export function emptyRoot(): Uint8Array {
  return createHash("sha256").digest();
}

/** RFC 9162 §2.1.1: SHA-256(0x00 || entry). */
export function hashLeaf(entry: Uint8Array): Uint8Array {
  if (oneShot) {
    const input = Buffer.allocUnsafe(entry.length + 1);
    input[0] = LEAF_PREFIX;
    input.set(entry, 1);
    return oneShot(input);
  }
  return createHash("sha256").update(LEAF_PREFIX_BYTES).update(entry).digest();
}

/** RFC 9162 §2.1.1: SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (oneShot) {
    const input = Buffer.allocUnsafe(1 + left.length + right.length);
    input[0] = NODE_PREFIX;
    input.set(left, 1);
    input.set(right, 1 + left.length);
    return oneShot(input);
  }
  return createHash("sha256").update(NODE_PREFIX_BYTES).update(left).update(right).digest();
}

/** Constant-size byte equality (hashes are public, so timing does not matter; this is for clarity). */
export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
