/**
 * `liaison ledger verify`: recompute everything from the entries with the same pure functions,
 * and report the first inconsistency — an entry whose stored leaf hash is not SHA-256(0x00 ||
 * bytes), a gap in the indices, a stored node that differs from the recomputed one, a signed
 * checkpoint whose root is not the recomputed root at its size, or a head that disagrees.
 * Reads entries and nodes in pages; memory is O(page + log n).
 */
import type { Db } from "mongodb";
import { appendLeaves, emptyFrontier, equalHashes, type Frontier, frontierRoot, hashLeaf, nodeKey } from "./merkle/index.ts";
import { bytesOf, ledgerCollections, readTreeHead, type SignedCheckpointDoc } from "./storage.ts";

export interface LedgerReport {
  readonly ok: boolean;
  /** Entries checked. */
  readonly entries: number;
  readonly nodes: number;
  readonly checkpoints: number;
  /** The first problem found, with the entry index it concerns (when it concerns one). */
  readonly problem?: { readonly index?: number; readonly message: string };
}

export async function verifyLedger(db: Db, pageSize = 4096): Promise<LedgerReport> {
  const c = ledgerCollections(db);
  const head = await readTreeHead(db);
  const signed = (await c.checkpoints.find({ note: { $exists: true } }).sort({ size: 1 }).toArray()) as SignedCheckpointDoc[];
  let nextCheckpoint = 0;
  let frontier: Frontier = emptyFrontier();
  let nodes = 0;
  const fail = (message: string, index?: number): LedgerReport => ({
    ok: false, entries: frontier.size, nodes, checkpoints: nextCheckpoint, problem: { index, message },
  });
  const checkCheckpoints = (): LedgerReport | undefined => {
    while (nextCheckpoint < signed.length && signed[nextCheckpoint].size === frontier.size) {
      if (!equalHashes(frontierRoot(frontier), bytesOf(signed[nextCheckpoint].root))) {
        return fail(`signed checkpoint at size ${frontier.size} does not match the entries`);
      }
      nextCheckpoint++;
    }
    return undefined;
  };
  let bad = checkCheckpoints();
  if (bad) return bad;
  for (;;) {
    const page = await c.entries.find({ _id: { $gte: frontier.size } }).sort({ _id: 1 }).limit(pageSize).toArray();
    if (page.length === 0) break;
    for (const e of page) {
      if (e._id !== frontier.size || e.index !== frontier.size) return fail(`entry ${frontier.size} is missing (found ${e._id})`, frontier.size);
      const leaf = hashLeaf(bytesOf(e.bytes));
      if (!equalHashes(leaf, bytesOf(e.leafHash))) return fail(`entry ${e.index}: stored leaf hash is not the hash of its bytes`, e.index);
      const res = appendLeaves(frontier, [leaf]);
      const inner = res.newNodes.filter((n) => n.level > 0);
      const stored = inner.length > 0 ? await c.nodes.find({ _id: { $in: inner.map(nodeKey) } }).toArray() : [];
      const byKey = new Map(stored.map((d) => [d._id, bytesOf(d.hash)]));
      for (const n of inner) {
        const h = byKey.get(nodeKey(n));
        if (!h) return fail(`node ${nodeKey(n)} is missing`, e.index);
        if (!equalHashes(h, n.hash)) return fail(`node ${nodeKey(n)} differs from the entries`, e.index);
        nodes++;
      }
      frontier = res.frontier;
      bad = checkCheckpoints();
      if (bad) return bad;
    }
  }
  if (frontier.size !== head.size) return fail(`tree head says ${head.size} entries, found ${frontier.size}`);
  if (!equalHashes(frontierRoot(frontier), head.root)) return fail("tree head root does not match the entries");
  if (nextCheckpoint !== signed.length) return fail(`signed checkpoint at size ${signed[nextCheckpoint].size} is beyond the entries`);
  return { ok: true, entries: frontier.size, nodes, checkpoints: signed.length };
}
