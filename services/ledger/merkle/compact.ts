/**
 * The frontier of a growing tree ("compact range" [0, size) in transparency-dev terms): the
 * hashes of `rootNodeIds(size)`, one perfect node per set bit of `size`, highest level first.
 * Appending leaves to it creates new perfect nodes — exactly the ones storage must write — and
 * gives the new root, in O(1) amortised hashing per leaf. The batched sequencer keeps this
 * frontier in memory (it can be read back from storage with `rootNodeIds`).
 *
 * Pure: no I/O, no clock.
 */
import { HASH_SIZE, hashChildren } from "./hasher.ts";
import { assertTreeInt, type NodeHash, rootFromNodeHashes, rootNodeIds } from "./nodes.ts";

export interface Frontier {
  /** Number of leaves in the tree. */
  readonly size: number;
  /** Hashes of `rootNodeIds(size)`, in that order (highest level first). */
  readonly hashes: readonly Uint8Array[];
}

export interface AppendResult {
  /** The frontier after the new leaves. */
  readonly frontier: Frontier;
  /** Every perfect node created by the append (leaves included, level 0), lower levels first per leaf. */
  readonly newNodes: NodeHash[];
  /** RFC 9162 §2.1.1 root of the tree after the append. */
  readonly root: Uint8Array;
}

/** The frontier of the empty tree. */
export function emptyFrontier(): Frontier {
  return { size: 0, hashes: [] };
}

/** Checks that `hashes` has the shape of the frontier of a tree of `size` leaves. */
export function makeFrontier(size: number, hashes: readonly Uint8Array[]): Frontier {
  assertTreeInt("size", size);
  const want = rootNodeIds(size).length;
  if (hashes.length !== want) throw new TypeError(`frontier of size ${size} needs ${want} hashes, got ${hashes.length}`);
  for (const h of hashes) if (h.length !== HASH_SIZE) throw new TypeError(`frontier hash of ${h.length} bytes`);
  return { size, hashes: [...hashes] };
}

/** The root of the tree the frontier describes. */
export function frontierRoot(frontier: Frontier): Uint8Array {
  return rootFromNodeHashes(frontier.hashes);
}

/**
 * Appends leaf hashes to a frontier. Returns the new frontier, the perfect nodes that now exist
 * and did not before (to be stored write-once), and the new root. Does not modify its input.
 */
export function appendLeaves(frontier: Frontier, leafHashes: readonly Uint8Array[]): AppendResult {
  const stack = [...frontier.hashes];
  let size = frontier.size;
  const newNodes: NodeHash[] = [];
  for (const leaf of leafHashes) {
    if (leaf.length !== HASH_SIZE) throw new TypeError(`leaf hash of ${leaf.length} bytes`);
    let hash = leaf;
    let index = size;
    let level = 0;
    newNodes.push({ level, index, hash });
    // Each trailing 1 bit of the old size is a left sibling waiting on the stack.
    while (index % 2 === 1) {
      const left = stack.pop();
      if (left === undefined) throw new TypeError("frontier is shorter than its size implies");
      hash = hashChildren(left, hash);
      index = (index - 1) / 2;
      level++;
      newNodes.push({ level, index, hash });
    }
    stack.push(hash);
    size++;
  }
  const next = { size, hashes: stack };
  return { frontier: next, newNodes, root: rootFromNodeHashes(stack) };
}
