/**
 * Addressing of tree nodes, after transparency-dev/merkle `compact/nodes.go`.
 *
 * A node ID (level, index) names the *perfect* subtree covering leaves
 * [index·2^level, (index+1)·2^level). Perfect nodes never change once the tree has grown past
 * them, so storage keeps them write-once, keyed by (level, index). The nodes on the imperfect
 * right edge of a tree of a size that is not a power of two are *ephemeral*: they are computed,
 * never stored, from the perfect nodes below them.
 *
 *   level 3                      (3,0)
 *                        /                  \
 *   level 2          (2,0)                  (2,1)
 *                  /       \              /       \
 *   level 1     (1,0)     (1,1)       (1,2)       [e]      ← [e] ephemeral in a tree of size 7
 *               /  \      /  \        /  \       /
 *   level 0  (0,0)(0,1)(0,2)(0,3)  (0,4)(0,5)(0,6)
 *
 * For size 7 the root is hash((2,0), hash((1,2), (0,6))): `rootNodeIds(7)` is
 * [(2,0), (1,2), (0,6)], the perfect subtrees that decompose [0, 7), in order from left to right.
 *
 * Pure: no I/O, no clock.
 */
import { bitLength, isTreeInt, shr, trailingZeros, xor } from "./bits.ts";
import { emptyRoot, hashChildren } from "./hasher.ts";

/** The ID of a perfect subtree: level L covers leaves [index·2^L, (index+1)·2^L). */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** A perfect node with its hash, as storage keeps it. */
export interface NodeHash extends NodeId {
  readonly hash: Uint8Array;
}

export function nodeId(level: number, index: number): NodeId {
  return { level, index };
}

/** A string key for maps ("level/index"). */
export function nodeKey(id: NodeId): string {
  return `${id.level}/${id.index}`;
}

/** The leaf range [begin, end) that a node covers. */
export function nodeCoverage(id: NodeId): { begin: number; end: number } {
  const width = 2 ** id.level;
  return { begin: id.index * width, end: (id.index + 1) * width };
}

export function assertTreeInt(name: string, x: number): void {
  if (!isTreeInt(x)) throw new TypeError(`${name} must be an integer in [0, 2^53), got ${String(x)}`);
}

/**
 * Splits [begin, end) into the sizes of its left and right compact-range parts, as in
 * transparency-dev `compact.Decompose`: bit L of `left` set means a perfect subtree of level L on
 * the left border (ascending levels), bit L of `right` one on the right border (descending).
 */
function decompose(begin: number, end: number): { left: number; right: number } {
  if (begin === 0) return { left: 0, right: end };
  const xbegin = begin - 1;
  const d = bitLength(xor(xbegin, end)) - 1;
  const width = 2 ** d;
  return { left: width - 1 - (xbegin % width), right: end % width };
}

/**
 * The perfect nodes that exactly cover leaves [begin, end), in order from left to right.
 * Requires 0 <= begin <= end < 2^53. At most 2·log2(end - begin) nodes.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  assertTreeInt("begin", begin);
  assertTreeInt("end", end);
  if (begin > end) throw new TypeError(`rangeNodes requires begin <= end, got [${begin}, ${end})`);
  const ids: NodeId[] = [];
  let { left, right } = decompose(begin, end);
  let pos = begin;
  while (left !== 0) {
    const level = trailingZeros(left);
    const width = 2 ** level;
    ids.push({ level, index: shr(pos, level) });
    pos += width;
    left -= width;
  }
  while (right !== 0) {
    const level = bitLength(right) - 1;
    const width = 2 ** level;
    ids.push({ level, index: shr(pos, level) });
    pos += width;
    right -= width;
  }
  return ids;
}

/**
 * RFC 9162 §2.1.1: the perfect nodes whose hashes determine the root of a tree of `size` leaves
 * (one per set bit of `size`, highest level first). Empty for size 0.
 */
export function rootNodeIds(size: number): NodeId[] {
  return rangeNodes(0, size);
}

/**
 * The root of a tree from the hashes of `rootNodeIds(size)`, in that order: folds them from the
 * right, `hash(h[0], hash(h[1], … hash(h[k-2], h[k-1])))`. No hashes: the empty root.
 */
export function rootFromNodeHashes(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return emptyRoot();
  let root = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) root = hashChildren(hashes[i], root);
  return root;
}
