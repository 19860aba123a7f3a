/**
 * Scrape-time sources read from the party's database, so that any process of the party reports
 * the same values: the stored tree head, the latest signed checkpoint, and the largest tree size
 * each partner cosigned. One indexed read each per scrape.
 */
import type { Db } from "mongodb";
import { COLLECTIONS, readLatestCheckpoint, readTreeHead } from "../ledger/index.ts";
import type { MetricsSources } from "./metrics.ts";

/** The key name a partner cosigns our checkpoints under (services/node/ledger.ts `witnessName`). */
function witnessName(party: string): string {
  return `liaison/witness/${party}`;
}

/**
 * Ledger sources for `NodeMetrics.setSources`. `partners` lists the onboarded partners whose
 * cosignatures are reported.
 */
export function ledgerMetricsSources(db: Db, partners: () => readonly string[]): Required<Pick<MetricsSources, "ledgerSize" | "lastCheckpointAt" | "cosignedSizes">> {
  const cosignatures = db.collection<{ _id: string; size: number; cosigner: string }>(COLLECTIONS.cosignatures);
  return {
    ledgerSize: async () => (await readTreeHead(db)).size,
    lastCheckpointAt: async () => (await readLatestCheckpoint(db))?.signedAt,
    cosignedSizes: async () =>
      Promise.all(
        partners().map(async (partner) => {
          const last = await cosignatures.find({ cosigner: witnessName(partner) }).sort({ size: -1 }).limit(1).next();
          return { partner, size: last?.size ?? 0 };
        }),
      ),
  };
}
