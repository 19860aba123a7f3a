/**
 * Pure Merkle tree log core (RFC 9162 §2.1): hashing, node addressing, proofs as node IDs,
 * proof verification, and the frontier appender. No mongodb, clock or logger imports here.
 */
import { appendLeaves, emptyFrontier } from "./compact.ts";

export { HASH_SIZE, LEAF_PREFIX, NODE_PREFIX, emptyRoot, equalHashes, hashChildren, hashLeaf } from "./hasher.ts";
export { RootMismatchError } from "./errors.ts";
export {
  rootFromInclusionProof,
  rootFromConsistencyProof,
  verifyInclusion,
  verifyConsistency,
} from "./verify.ts";
export { type ProofNodes, assembleProof, consistencyProofNodes, inclusionProofNodes } from "./proof.ts";
export {
  type NodeHash,
  type NodeId,
  nodeCoverage,
  nodeId,
  nodeKey,
  rangeNodes,
  rootFromNodeHashes,
  rootNodeIds,
} from "./nodes.ts";
export { type AppendResult, type Frontier, appendLeaves, emptyFrontier, frontierRoot, makeFrontier } from "./compact.ts";
export { MAX_TREE_SIZE } from "./bits.ts";

/** RFC 9162 §2.1.1: the Merkle tree hash of the leaves with these leaf hashes. */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  return appendLeaves(emptyFrontier(), leafHashes).root;
}
