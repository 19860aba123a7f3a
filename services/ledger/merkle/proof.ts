/**
 * Which nodes a proof needs, after transparency-dev/merkle `proof/proof.go`.
 *
 * Storage asks for the node IDs, fetches those perfect nodes (O(log n) reads), and hands the
 * hashes back to `assembleProof`, which computes the one ephemeral node a proof may contain
 * (the imperfect right-edge sibling) from the perfect nodes that cover it.
 *
 * Pure: no I/O, no clock.
 */
import { bitLength, shr, xor } from "./bits.ts";
import { HASH_SIZE, hashChildren } from "./hasher.ts";
import { assertTreeInt, type NodeId, nodeCoverage, rangeNodes } from "./nodes.ts";

/**
 * The perfect nodes to fetch for a proof. `ids[begin:end]` (when begin < end) are the nodes that
 * together form one ephemeral node, ordered from lower to upper levels; `assembleProof` hashes
 * them into it.
 */
export interface ProofNodes {
  readonly ids: readonly NodeId[];
  readonly begin: number;
  readonly end: number;
}

/**
 * The nodes for a proof that node (level, index) is in the tree of `size` leaves: the node
 * itself, the siblings up to the fork with the right edge, the right-edge nodes that make the
 * ephemeral sibling, then the left nodes completing [0, size).
 */
function pathNodes(index: number, level: number, size: number): ProofNodes {
  // `inner` is how many levels above (level, index) the path to it and the path to leaf
  // `size` part; the fork node there covers [begin, end).
  const inner = bitLength(xor(index, shr(size, level))) - 1;
  const forkLevel = level + inner;
  const fork = { level: forkLevel, index: shr(index, inner) };
  const { begin, end } = nodeCoverage(fork);

  const ids: NodeId[] = [{ level, index }];
  let node: NodeId = { level, index };
  while (node.level < forkLevel) {
    ids.push({ level: node.level, index: node.index % 2 === 0 ? node.index + 1 : node.index - 1 });
    node = { level: node.level + 1, index: shr(node.index, 1) };
  }
  const len1 = ids.length;
  const right = rangeNodes(end, size).reverse();
  ids.push(...right);
  const len2 = ids.length;
  const left = rangeNodes(0, begin).reverse();
  ids.push(...left);

  // ids[len1:len2] form the ephemeral node; a single node there is its own hash.
  return len1 < len2 ? { ids, begin: len1, end: len2 } : { ids, begin: 0, end: 0 };
}

function skipFirst(nodes: ProofNodes): ProofNodes {
  const ids = nodes.ids.slice(1);
  if (nodes.begin < nodes.end) return { ids, begin: nodes.begin - 1, end: nodes.end - 1 };
  return { ids, begin: 0, end: 0 };
}

/**
 * RFC 9162 §2.1.3.1: the perfect nodes needed for the inclusion proof of leaf `index` in the
 * tree of `size` leaves. Requires 0 <= index < size.
 */
export function inclusionProofNodes(index: number, size: number): ProofNodes {
  assertTreeInt("index", index);
  assertTreeInt("size", size);
  if (index >= size) throw new TypeError(`inclusion proof requires 0 <= index < size, got index ${index}, size ${size}`);
  return skipFirst(pathNodes(index, 0, size));
}

/**
 * RFC 9162 §2.1.4.1: the perfect nodes needed for the consistency proof from the tree of `size1`
 * leaves to the tree of `size2` leaves. Requires 0 <= size1 <= size2; the proof is empty when
 * size1 = 0 or size1 = size2.
 */
export function consistencyProofNodes(size1: number, size2: number): ProofNodes {
  assertTreeInt("size1", size1);
  assertTreeInt("size2", size2);
  if (size1 > size2) throw new TypeError(`consistency proof requires size1 <= size2, got ${size1} > ${size2}`);
  if (size1 === 0 || size1 === size2) return { ids: [], begin: 0, end: 0 };
  // The biggest perfect subtree that ends at size1.
  let level = 0;
  while ((size1 / 2 ** level) % 2 === 0) level++;
  const index = shr(size1 - 1, level);
  const nodes = pathNodes(index, level, size2);
  // When size1 is a power of two, its root is that node, which the verifier already holds.
  return index === 0 ? skipFirst(nodes) : nodes;
}

/**
 * Turns the hashes of `nodes.ids` (same order) into the proof: hashes `ids[begin:end]` into the
 * ephemeral node, keeps the others. Throws TypeError when the storage handed back the wrong
 * number of hashes or a hash of the wrong size.
 */
export function assembleProof(nodes: ProofNodes, hashes: readonly Uint8Array[]): Uint8Array[] {
  if (hashes.length !== nodes.ids.length) {
    throw new TypeError(`assembleProof: got ${hashes.length} hashes for ${nodes.ids.length} nodes`);
  }
  for (const h of hashes) {
    if (h.length !== HASH_SIZE) throw new TypeError(`assembleProof: node hash of ${h.length} bytes`);
  }
  const proof: Uint8Array[] = [];
  for (let i = 0; i < hashes.length; i++) {
    if (i === nodes.begin && nodes.begin < nodes.end) {
      let hash = hashes[i];
      for (i++; i < nodes.end; i++) hash = hashChildren(hashes[i], hash);
      i--;
      proof.push(hash);
    } else {
      proof.push(hashes[i]);
    }
  }
  return proof;
}
