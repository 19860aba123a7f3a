/**
 * The sequencer lease: one document in `ledger_leases` that names the single process allowed to
 * append for this party. Several node processes may share one database; each tries to take the
 * lease, the holder renews it, and another may take over only after it expires.
 *
 * Invariant: at most one owner has `expiresAt > now`; a takeover matches only an expired lease
 * (or its own), and the `_id` unique index makes two simultaneous first takers collide (11000).
 * Every append transaction re-checks (and writes) the lease document, so a process that lost the
 * lease cannot append, and a takeover racing a batch makes one of them abort (write conflict).
 * Processes are assumed to have clocks within a small fraction of the TTL of each other.
 */
import { type ClientSession, type Db, MongoServerError } from "mongodb";
import { ledgerCollections } from "./storage.ts";

export const SEQUENCER_LEASE_ID = "sequencer";

/**
 * Takes the lease for `owner` until now + ttlMs if it is free, expired, or already ours. Returns
 * false when another owner holds an unexpired lease.
 */
export async function acquireLease(db: Db, owner: string, ttlMs: number, now: number, id = SEQUENCER_LEASE_ID): Promise<boolean> {
  const leases = ledgerCollections(db).leases;
  try {
    const doc = await leases.findOneAndUpdate(
      { _id: id, $or: [{ owner }, { expiresAt: { $lte: new Date(now) } }] },
      { $set: { owner, expiresAt: new Date(now + ttlMs), renewedAt: new Date(now) }, $setOnInsert: { batches: 0 } },
      { upsert: true, returnDocument: "after" },
    );
    return doc?.owner === owner;
  } catch (e) {
    if (e instanceof MongoServerError && e.code === 11000) return false;
    throw e;
  }
}

/** Extends our lease to now + ttlMs. False when it is no longer ours. */
export async function renewLease(db: Db, owner: string, ttlMs: number, now: number, id = SEQUENCER_LEASE_ID): Promise<boolean> {
  const res = await ledgerCollections(db).leases.updateOne(
    { _id: id, owner },
    { $set: { expiresAt: new Date(now + ttlMs), renewedAt: new Date(now) } },
  );
  return res.matchedCount === 1;
}

/** Gives the lease up (expires it now) if it is ours. */
export async function releaseLease(db: Db, owner: string, now: number, id = SEQUENCER_LEASE_ID): Promise<void> {
  await ledgerCollections(db).leases.updateOne({ _id: id, owner }, { $set: { expiresAt: new Date(now) } });
}

/**
 * Inside a transaction: checks the lease is ours and unexpired, and writes it (so a concurrent
 * takeover conflicts with this transaction). False when the lease is not ours.
 */
export async function checkLeaseInTransaction(db: Db, session: ClientSession, owner: string, now: number, id = SEQUENCER_LEASE_ID): Promise<boolean> {
  const res = await ledgerCollections(db).leases.updateOne(
    { _id: id, owner, expiresAt: { $gt: new Date(now) } },
    { $inc: { batches: 1 } },
    { session },
  );
  return res.matchedCount === 1;
}
