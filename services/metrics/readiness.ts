/**
 * Readiness: a node is ready to serve when its store answers and the party's ledger sequencer
 * holds its lease (without it, nothing can be recorded, so nothing can be received or sent).
 */
import type { Db } from "mongodb";
import { COLLECTIONS, SEQUENCER_LEASE_ID } from "../ledger/index.ts";

export type Readiness = { ready: true } | { ready: false; reason: string };
export type ReadinessCheck = () => Promise<Readiness>;

/** Whether the sequencer lease is held now, by `owner` when given, else by any process of the party. */
export async function sequencerLeaseHeld(db: Db, options: { owner?: string; now?: number } = {}): Promise<boolean> {
  const lease = await db.collection<{ _id: string; owner: string; expiresAt: Date }>(COLLECTIONS.leases).findOne({ _id: SEQUENCER_LEASE_ID });
  if (!lease) return false;
  if (options.owner !== undefined && lease.owner !== options.owner) return false;
  return lease.expiresAt.getTime() > (options.now ?? Date.now());
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface NodeReadinessOptions {
  db: Db;
  /**
   * Whether the sequencer holds its lease. Default: the lease document is unexpired
   * (`sequencerLeaseHeld(db)`); a node that knows its own sequencer passes its own answer.
   */
  sequencerHoldsLease?: () => boolean | Promise<boolean>;
  /** How long each check may take (default 2000 ms). */
  timeoutMs?: number;
}

/** The readiness check of a node: store ping, then the sequencer lease. */
export function nodeReadiness(options: NodeReadinessOptions): ReadinessCheck {
  const timeoutMs = options.timeoutMs ?? 2000;
  const holds = options.sequencerHoldsLease ?? (() => sequencerLeaseHeld(options.db));
  return async () => {
    try {
      await within(timeoutMs, "the store", options.db.command({ ping: 1 }));
    } catch (error) {
      return { ready: false, reason: `store unreachable: ${(error as Error).message}` };
    }
    try {
      if (!(await within(timeoutMs, "the sequencer lease check", Promise.resolve(holds())))) {
        return { ready: false, reason: "the ledger sequencer does not hold its lease" };
      }
    } catch (error) {
      return { ready: false, reason: `sequencer lease unknown: ${(error as Error).message}` };
    }
    return { ready: true };
  };
}
