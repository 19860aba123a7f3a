/**
 * Generates Liaison's attack vectors over the 8-leaf reference tree of transparency-dev/merkle
 * (`../reference-tree.json`). Each file is named after the attack and holds cases in the
 * transparency-dev JSON shape (base64 byte fields) plus `type` ("inclusion" | "consistency").
 * Every case must be rejected by a verifier (`wantErr: true`).
 *
 *   npx tsx services/ledger/merkle/testdata/attacks/generate.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  assembleProof,
  consistencyProofNodes,
  hashLeaf,
  inclusionProofNodes,
  type NodeHash,
  appendLeaves,
  emptyFrontier,
  nodeKey,
} from "../../index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const ref = JSON.parse(readFileSync(join(here, "..", "reference-tree.json"), "utf8")) as { leafInputsHex: string[] };

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");

function tree(entries: Uint8Array[], size: number): { nodes: Map<string, Uint8Array>; root: Uint8Array } {
  const res = appendLeaves(emptyFrontier(), entries.slice(0, size).map((e) => hashLeaf(e)));
  return { nodes: new Map(res.newNodes.map((n: NodeHash) => [nodeKey(n), n.hash])), root: res.root };
}

function inclusion(entries: Uint8Array[], index: number, size: number): Uint8Array[] {
  const t = tree(entries, size);
  const ids = inclusionProofNodes(index, size);
  return assembleProof(ids, ids.ids.map((id) => t.nodes.get(nodeKey(id))!));
}

function consistency(entries: Uint8Array[], size1: number, size2: number): Uint8Array[] {
  const t = tree(entries, size2);
  const ids = consistencyProofNodes(size1, size2);
  return assembleProof(ids, ids.ids.map((id) => t.nodes.get(nodeKey(id))!));
}

function flip(h: Uint8Array, bitIndex: number): Uint8Array {
  const out = Uint8Array.from(h);
  out[bitIndex >> 3] ^= 1 << (bitIndex & 7);
  return out;
}

const honest = ref.leafInputsHex.map((h) => Uint8Array.from(Buffer.from(h, "hex")));
const forked = honest.map((e, i) => (i === 3 ? Uint8Array.from(Buffer.from("rewritten entry 3")) : e));

const incl = (desc: string, index: number, size: number, root: Uint8Array, leafHash: Uint8Array, proof: Uint8Array[]) => ({
  type: "inclusion", desc, leafIdx: index, treeSize: size, root: b64(root), leafHash: b64(leafHash), proof: proof.map(b64), wantErr: true,
});
const cons = (desc: string, size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: Uint8Array[]) => ({
  type: "consistency", desc, size1, size2, root1: b64(root1), root2: b64(root2), proof: proof.map(b64), wantErr: true,
});

const r5 = tree(honest, 5).root;
const r8 = tree(honest, 8).root;
const p2of8 = inclusion(honest, 2, 8);
const p5to8 = consistency(honest, 5, 8);
const p6of7 = inclusion(honest, 6, 7);

const vectors: Record<string, object[]> = {
  "truncated-proof": [
    incl("inclusion proof of leaf 2 in size 8 with its last node dropped", 2, 8, r8, hashLeaf(honest[2]), p2of8.slice(0, -1)),
    cons("consistency proof 5 -> 8 with its last node dropped", 5, 8, r5, r8, p5to8.slice(0, -1)),
  ],
  "wrong-leaf": [
    incl("proof of leaf 2 presented with the hash of leaf 3", 2, 8, r8, hashLeaf(honest[3]), p2of8),
    incl("proof of leaf 2 presented with the raw entry hashed without the 0x00 prefix", 2, 8, r8, Uint8Array.from(Buffer.from("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "hex")), p2of8),
  ],
  "swapped-roots": [cons("consistency proof 5 -> 8 with root1 and root2 swapped", 5, 8, r8, r5, p5to8)],
  "bit-flip": [
    ...p2of8.map((_, i) => incl(`inclusion proof of leaf 2 in size 8, bit 0 of proof[${i}] flipped`, 2, 8, r8, hashLeaf(honest[2]), p2of8.map((h, j) => (j === i ? flip(h, 0) : h)))),
    incl("inclusion proof of leaf 6 in size 7, last bit of the root flipped", 6, 7, flip(tree(honest, 7).root, 255), hashLeaf(honest[6]), p6of7),
    ...p5to8.map((_, i) => cons(`consistency proof 5 -> 8, bit 7 of proof[${i}] flipped`, 5, 8, r5, r8, p5to8.map((h, j) => (j === i ? flip(h, 7) : h)))),
  ],
  "forked-checkpoint": [
    cons("log signed size 5 honestly, then rewrote entry 3 and shows a size-8 tree built on the fork", 5, 8, r5, tree(forked, 8).root, consistency(forked, 5, 8)),
    cons("the forked size-8 root with the honest consistency proof", 5, 8, r5, tree(forked, 8).root, p5to8),
  ],
  "rewritten-entry": [
    incl("entry 3 rewritten after the size-8 checkpoint: proof from the rewritten tree against the signed root", 3, 8, r8, hashLeaf(forked[3]), inclusion(forked, 3, 8)),
  ],
};

for (const [name, cases] of Object.entries(vectors)) {
  writeFileSync(join(here, `${name}.json`), JSON.stringify(cases, null, 2) + "\n");
}
