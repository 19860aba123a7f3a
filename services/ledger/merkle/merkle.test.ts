import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { LiaisonError } from "../../errors/index.ts";
import { bitLength, popCount, trailingZeros, xor } from "./bits.ts";
import {
  appendLeaves,
  assembleProof,
  consistencyProofNodes,
  emptyFrontier,
  emptyRoot,
  frontierRoot,
  hashChildren,
  hashLeaf,
  inclusionProofNodes,
  makeFrontier,
  type NodeId,
  nodeCoverage,
  nodeKey,
  rangeNodes,
  rootFromConsistencyProof,
  rootFromInclusionProof,
  rootFromLeafHashes,
  rootFromNodeHashes,
  rootNodeIds,
  RootMismatchError,
  verifyConsistency,
  verifyInclusion,
} from "./index.ts";

const testdata = join(dirname(fileURLToPath(import.meta.url)), "testdata");
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
const b64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "base64"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const ref = JSON.parse(readFileSync(join(testdata, "reference-tree.json"), "utf8")) as {
  leafInputsHex: string[];
  nodeHashesHex: string[][];
  rootHashesHexBySize: string[];
  knownAnswers: { desc: string; want: string; leafHex?: string; leftHex?: string; rightHex?: string }[];
};
const refLeaves = ref.leafInputsHex.map(hex);
const refNode = (id: NodeId): Uint8Array => hex(ref.nodeHashesHex[id.level][id.index]);

function walkJson(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walkJson(p));
    else if (name.endsWith(".json")) out.push(p);
  }
  return out;
}

/** RFC 9162 §2.1.1, written straight from the definition: k is the largest power of two < n. */
function naiveRoot(entries: readonly Uint8Array[]): Uint8Array {
  const sha = (...parts: Uint8Array[]): Uint8Array => {
    const h = createHash("sha256");
    for (const p of parts) h.update(p);
    return h.digest();
  };
  if (entries.length === 0) return sha();
  if (entries.length === 1) return sha(Uint8Array.of(0), entries[0]);
  let k = 1;
  while (k * 2 < entries.length) k *= 2;
  return sha(Uint8Array.of(1), naiveRoot(entries.slice(0, k)), naiveRoot(entries.slice(k)));
}

function memoryTree(entries: readonly Uint8Array[]): Map<string, Uint8Array> {
  const res = appendLeaves(emptyFrontier(), entries.map((e) => hashLeaf(e)));
  return new Map(res.newNodes.map((n) => [nodeKey(n), n.hash]));
}

function fetchAll(nodes: Map<string, Uint8Array>, ids: readonly NodeId[]): Uint8Array[] {
  return ids.map((id) => {
    const h = nodes.get(nodeKey(id));
    assert.ok(h, `node ${nodeKey(id)} is stored`);
    return h;
  });
}

function flipBit(proof: readonly Uint8Array[], which: number, bitIndex: number): Uint8Array[] {
  return proof.map((h, i) => {
    if (i !== which) return h;
    const out = Uint8Array.from(h);
    out[bitIndex >> 3] ^= 1 << (bitIndex & 7);
    return out;
  });
}

describe("RFC 9162 §2.1.1 hashing", () => {
  for (const ka of ref.knownAnswers) {
    it(`matches the known answer "${ka.desc}"`, () => {
      let got: Uint8Array;
      if (ka.leftHex !== undefined) got = hashChildren(Buffer.from(ka.leftHex, "hex"), Buffer.from(ka.rightHex ?? "", "hex"));
      else if (ka.leafHex !== undefined) got = hashLeaf(hex(ka.leafHex));
      else got = emptyRoot();
      assert.equal(toHex(got), ka.want);
    });
  }

  it("gives the reference roots for the 8 reference leaves at every size 0..8", () => {
    for (let size = 0; size <= 8; size++) {
      assert.equal(toHex(rootFromLeafHashes(refLeaves.slice(0, size).map(hashLeaf))), ref.rootHashesHexBySize[size], `size ${size}`);
      assert.equal(toHex(naiveRoot(refLeaves.slice(0, size))), ref.rootHashesHexBySize[size], `naive, size ${size}`);
    }
  });

  it("computes each reference root from only the perfect nodes that rootNodeIds names", () => {
    for (let size = 0; size <= 8; size++) {
      const root = rootFromNodeHashes(rootNodeIds(size).map(refNode));
      assert.equal(toHex(root), ref.rootHashesHexBySize[size], `size ${size}`);
    }
  });
});

describe("frontier appender", () => {
  it("creates exactly the reference perfect nodes and the reference roots, one leaf at a time", () => {
    let frontier = emptyFrontier();
    const created: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = appendLeaves(frontier, [hashLeaf(refLeaves[i])]);
      for (const n of res.newNodes) {
        assert.equal(toHex(n.hash), toHex(refNode(n)), `node ${nodeKey(n)}`);
        created.push(nodeKey(n));
      }
      assert.equal(toHex(res.root), ref.rootHashesHexBySize[i + 1]);
      assert.deepEqual(res.frontier.hashes.map(toHex), rootNodeIds(i + 1).map(refNode).map(toHex));
      frontier = res.frontier;
    }
    const all = ref.nodeHashesHex.flatMap((level, l) => level.map((_, i) => `${l}/${i}`));
    assert.deepEqual([...created].sort(), all.sort());
  });

  it("gives the same tree whether leaves arrive in one batch or in uneven batches", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.array(fc.integer({ min: 1, max: 17 }), { maxLength: 30 }), (n, cuts) => {
        const leaves = Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`e${i}`)));
        const whole = appendLeaves(emptyFrontier(), leaves);
        let f = emptyFrontier();
        let pos = 0;
        const nodes: string[] = [];
        for (const c of [...cuts, n]) {
          const res = appendLeaves(f, leaves.slice(pos, Math.min(n, pos + c)));
          nodes.push(...res.newNodes.map(nodeKey));
          f = res.frontier;
          pos = Math.min(n, pos + c);
        }
        assert.equal(toHex(frontierRoot(f)), toHex(whole.root));
        assert.deepEqual(nodes.sort(), whole.newNodes.map(nodeKey).sort());
      }),
      { numRuns: 60 },
    );
  });

  it("refuses a frontier whose shape does not match its size", () => {
    assert.throws(() => makeFrontier(3, [emptyRoot()]), TypeError);
    assert.equal(makeFrontier(3, [emptyRoot(), emptyRoot()]).size, 3);
  });
});

describe("node addressing", () => {
  it("agrees with BigInt arithmetic on 53-bit numbers", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), (a, b) => {
        const x = Number(a);
        assert.equal(bitLength(x), a.toString(2).replace(/^0+/, "").length);
        assert.equal(popCount(x), [...a.toString(2)].filter((c) => c === "1").length);
        assert.equal(xor(x, Number(b)), Number(a ^ b));
        if (a > 0n) assert.equal(trailingZeros(x), a.toString(2).length - a.toString(2).lastIndexOf("1") - 1);
      }),
    );
  });

  it("covers any range [begin, end) exactly with perfect nodes in left-to-right order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 2 ** 40 }), (begin, len) => {
        const end = Math.min(Number.MAX_SAFE_INTEGER, begin + len);
        let pos = begin;
        for (const id of rangeNodes(begin, end)) {
          const cov = nodeCoverage(id);
          assert.equal(cov.begin, pos);
          pos = cov.end;
        }
        assert.equal(pos, end);
      }),
    );
  });

  it("names one perfect node per set bit of the size for the root", () => {
    assert.deepEqual(rootNodeIds(7), [{ level: 2, index: 0 }, { level: 1, index: 2 }, { level: 0, index: 6 }]);
    assert.deepEqual(rootNodeIds(0), []);
    assert.equal(rootNodeIds(2 ** 52 + 5).length, 3);
  });
});

describe("transparency-dev inclusion vectors (RFC 9162 §2.1.3.2)", () => {
  for (const file of walkJson(join(testdata, "inclusion"))) {
    const v = JSON.parse(readFileSync(file, "utf8")) as {
      leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean;
    };
    const name = relative(testdata, file);
    it(`${v.wantErr ? "rejects" : "accepts"} ${name} (${v.desc})`, () => {
      const run = () => verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root));
      if (v.wantErr) assert.throws(run, (e: unknown) => e instanceof LiaisonError && e.code === "PROOF_INCONSISTENT");
      else run();
    });
  }

  it("generates, from node IDs, the same proofs as the happy-path vectors over the reference tree", () => {
    const nodes = memoryTree(refLeaves);
    let checked = 0;
    for (const file of walkJson(join(testdata, "inclusion"))) {
      const v = JSON.parse(readFileSync(file, "utf8")) as { leafIdx: number; treeSize: number; proof: string[] | null; wantErr: boolean; root: string };
      if (v.wantErr || v.treeSize > 8 || toHex(b64(v.root)) !== ref.rootHashesHexBySize[v.treeSize]) continue;
      const ids = inclusionProofNodes(v.leafIdx, v.treeSize);
      assert.deepEqual(assembleProof(ids, fetchAll(nodes, ids.ids)).map(toHex), (v.proof ?? []).map(b64).map(toHex), file);
      checked++;
    }
    assert.ok(checked >= 4, `checked ${checked} happy-path vectors`);
  });
});

describe("transparency-dev consistency vectors (RFC 9162 §2.1.4.2)", () => {
  for (const file of walkJson(join(testdata, "consistency"))) {
    const v = JSON.parse(readFileSync(file, "utf8")) as {
      size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean;
    };
    const name = relative(testdata, file);
    it(`${v.wantErr ? "rejects" : "accepts"} ${name} (${v.desc})`, () => {
      const run = () => verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
      if (v.wantErr) assert.throws(run, (e: unknown) => e instanceof LiaisonError && e.code === "PROOF_INCONSISTENT");
      else run();
    });
  }

  it("generates, from node IDs, the same proofs as the happy-path vectors over the reference tree", () => {
    const nodes = memoryTree(refLeaves);
    let checked = 0;
    for (const file of walkJson(join(testdata, "consistency"))) {
      const v = JSON.parse(readFileSync(file, "utf8")) as { size1: number; size2: number; proof: string[] | null; wantErr: boolean; root2: string };
      if (v.wantErr || v.size2 > 8 || v.size1 === 0 || toHex(b64(v.root2)) !== ref.rootHashesHexBySize[v.size2]) continue;
      const ids = consistencyProofNodes(v.size1, v.size2);
      assert.deepEqual(assembleProof(ids, fetchAll(nodes, ids.ids)).map(toHex), (v.proof ?? []).map(b64).map(toHex), file);
      checked++;
    }
    assert.ok(checked >= 4, `checked ${checked} happy-path vectors`);
  });
});

describe("Liaison attack vectors", () => {
  for (const file of walkJson(join(testdata, "attacks"))) {
    const cases = JSON.parse(readFileSync(file, "utf8")) as Array<Record<string, unknown> & { type: string; desc: string }>;
    for (const c of cases) {
      it(`rejects ${relative(testdata, file)}: ${c.desc}`, () => {
        const proof = ((c.proof as string[] | null) ?? []).map(b64);
        const run =
          c.type === "inclusion"
            ? () => verifyInclusion(c.leafIdx as number, c.treeSize as number, b64(c.leafHash as string), proof, b64(c.root as string))
            : () => verifyConsistency(c.size1 as number, c.size2 as number, proof, b64(c.root1 as string), b64(c.root2 as string));
        assert.throws(run, (e: unknown) => e instanceof LiaisonError && e.code === "PROOF_INCONSISTENT");
      });
    }
  }

  it("reports both roots when swapped roots make the proof disagree", () => {
    const [c] = JSON.parse(readFileSync(join(testdata, "attacks", "swapped-roots.json"), "utf8")) as Array<{ size1: number; size2: number; root1: string; root2: string; proof: string[] }>;
    try {
      verifyConsistency(c.size1, c.size2, c.proof.map(b64), b64(c.root1), b64(c.root2));
      assert.fail("swapped roots verified");
    } catch (e) {
      assert.ok(e instanceof RootMismatchError);
      assert.equal(toHex(e.expectedRoot), toHex(b64(c.root1)));
      assert.equal(e.calculatedRoot.length, 32);
      assert.notEqual(toHex(e.calculatedRoot), toHex(e.expectedRoot));
    }
  });
});

describe("proofs from node IDs (property tests, sizes up to 300)", () => {
  const entriesOf = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => Buffer.from(`entry ${i}`));
  const cache = new Map<number, { entries: Uint8Array[]; nodes: Map<string, Uint8Array> }>();
  const treeOf = (n: number) => {
    let t = cache.get(n);
    if (!t) {
      const entries = entriesOf(n);
      t = { entries, nodes: memoryTree(entries) };
      cache.set(n, t);
    }
    return t;
  };
  // One big tree: perfect nodes of any smaller tree are nodes of the big tree.
  const big = treeOf(300);

  it("every inclusion proof verifies against the naive tree hash", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }))), ([size, index]) => {
        const ids = inclusionProofNodes(index, size);
        const proof = assembleProof(ids, fetchAll(big.nodes, ids.ids));
        const root = naiveRoot(big.entries.slice(0, size));
        verifyInclusion(index, size, hashLeaf(big.entries[index]), proof, root);
        assert.equal(toHex(rootFromInclusionProof(index, size, hashLeaf(big.entries[index]), proof)), toHex(root));
      }),
      { numRuns: 400 },
    );
  });

  it("any single-bit flip in an inclusion proof, its leaf hash or its root makes it fail", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }))),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        ([size, index], pick, bitIndex) => {
          const ids = inclusionProofNodes(index, size);
          const proof = assembleProof(ids, fetchAll(big.nodes, ids.ids));
          const root = naiveRoot(big.entries.slice(0, size));
          const leaf = hashLeaf(big.entries[index]);
          const where = pick % (proof.length + 2);
          const bad = (e: unknown) => e instanceof LiaisonError && e.code === "PROOF_INCONSISTENT";
          if (where < proof.length) assert.throws(() => verifyInclusion(index, size, leaf, flipBit(proof, where, bitIndex), root), bad);
          else if (where === proof.length) assert.throws(() => verifyInclusion(index, size, flipBit([leaf], 0, bitIndex)[0], proof, root), bad);
          else assert.throws(() => verifyInclusion(index, size, leaf, proof, flipBit([root], 0, bitIndex)[0]), bad);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("every consistency proof verifies against the naive tree hashes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))), ([m, n]) => {
        const ids = consistencyProofNodes(m, n);
        const proof = assembleProof(ids, fetchAll(big.nodes, ids.ids));
        const r1 = naiveRoot(big.entries.slice(0, m));
        const r2 = naiveRoot(big.entries.slice(0, n));
        verifyConsistency(m, n, proof, r1, r2);
        assert.equal(toHex(rootFromConsistencyProof(m, n, proof, r1)), toHex(r2));
      }),
      { numRuns: 400 },
    );
  });

  it("any single-bit flip in a consistency proof or either root makes it fail", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        ([m, n], pick, bitIndex) => {
          const ids = consistencyProofNodes(m, n);
          const proof = assembleProof(ids, fetchAll(big.nodes, ids.ids));
          const r1 = naiveRoot(big.entries.slice(0, m));
          const r2 = naiveRoot(big.entries.slice(0, n));
          const where = pick % (proof.length + 2);
          const bad = (e: unknown) => e instanceof LiaisonError && e.code === "PROOF_INCONSISTENT";
          if (where < proof.length) assert.throws(() => verifyConsistency(m, n, flipBit(proof, where, bitIndex), r1, r2), bad);
          else if (where === proof.length) assert.throws(() => verifyConsistency(m, n, proof, flipBit([r1], 0, bitIndex)[0], r2), bad);
          else assert.throws(() => verifyConsistency(m, n, proof, r1, flipBit([r2], 0, bitIndex)[0]), bad);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("needs O(log n) node reads per proof", () => {
    for (const size of [1000, 1_000_000, 2 ** 40 + 12345]) {
      const bound = 2 * Math.ceil(Math.log2(size)) + 1;
      assert.ok(inclusionProofNodes(size - 2, size).ids.length <= bound);
      assert.ok(consistencyProofNodes(Math.floor(size / 3), size).ids.length <= bound);
    }
  });
});

describe("preconditions", () => {
  it("treats a bad index in proof generation as our own bug (TypeError)", () => {
    assert.throws(() => inclusionProofNodes(5, 5), TypeError);
    assert.throws(() => inclusionProofNodes(-1, 5), TypeError);
    assert.throws(() => consistencyProofNodes(6, 5), TypeError);
    assert.throws(() => rangeNodes(3, 2), TypeError);
  });

  it("treats a bad index in a received proof as bad input (PROOF_INCONSISTENT)", () => {
    const bad = (e: unknown) => e instanceof LiaisonError && e.code === "PROOF_INCONSISTENT";
    assert.throws(() => rootFromInclusionProof(5, 5, emptyRoot(), []), bad);
    assert.throws(() => rootFromInclusionProof(0.5, 5, emptyRoot(), []), bad);
    assert.throws(() => rootFromConsistencyProof(0, 3, [], emptyRoot()), bad);
  });

  it("returns empty consistency node lists for equal sizes and from the empty tree", () => {
    assert.equal(consistencyProofNodes(4, 4).ids.length, 0);
    assert.equal(consistencyProofNodes(0, 4).ids.length, 0);
  });
});
