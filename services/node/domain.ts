/**
 * The domain views' context as a node (or an operator's command) builds it: the data key for
 * protected parties, co-signature checks with the partners' attested keys, the evidence and
 * ledger proofs that minutes bundles carry.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Db } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { storeKeyFromDataKey } from "../store/index.ts";
import { verifyDetached, type Identity, type KeyRing, type Partner } from "../identity/index.ts";
import { readEntry, readInclusionProof, readTreeHead } from "../ledger/index.ts";
import { MINUTES_COSIGNATURE_TYP } from "../minutes/index.ts";
import type { DomainContext } from "../views/index.ts";

/**
 * The node's 32-byte key for protected parties at rest (informants, victims), kept beside the
 * other keys in the identity folder (0600), created at first start.
 */
export function dataKeyOf(identityDir: string, create = true): Uint8Array | undefined {
  const file = join(identityDir, "data.key");
  if (!existsSync(file)) {
    if (!create) return undefined;
    writeFileSync(file, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  }
  const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== 32) throw new LiaisonError("CONFIG_INVALID", `${file} must hold a base64 32-byte key`);
  return key;
}

/**
 * The key of the node's embedded store at rest (every journal and snapshot record sealed with it):
 * derived from the node data key, so it lives, is backed up and is restored with the identity.
 * Undefined when the node has no data key yet and `create` is false (a store never run by a node).
 */
export function nodeStoreKey(identityDir: string, create = true): Uint8Array | undefined {
  const dataKey = dataKeyOf(identityDir, create);
  return dataKey ? storeKeyFromDataKey(dataKey) : undefined;
}

export interface NodeDomainOptions {
  db: Db;
  identity: Identity;
  dataKey?: Uint8Array;
  partner: (party: string) => Partner | undefined;
  /** Read at call time: onboarding replaces the ring. */
  keyRing: () => KeyRing;
}

export function nodeDomainContext(options: NodeDomainOptions): DomainContext {
  const { db, identity } = options;
  return {
    db,
    self: identity.party,
    ...(options.dataKey ? { dataKey: options.dataKey } : {}),
    verifyCosignature: async (jws, bytes, party, time) => {
      await verifyDetached(jws, bytes, { typ: MINUTES_COSIGNATURE_TYP, algorithms: ["EdDSA"], resolveKey: options.keyRing().resolver(party, time) });
    },
    partyEvidence: (party) => {
      if (party === identity.party) return { caCertificatePem: identity.caCertPem, attestations: identity.attestations };
      const partner = options.partner(party);
      return partner ? { caCertificatePem: partner.caCertPem, attestations: partner.attestations } : undefined;
    },
    inclusionProof: async (index) => {
      const head = await readTreeHead(db);
      if (index >= head.size) throw new LiaisonError("NOT_FOUND", `ledger entry ${index} is not integrated yet`);
      const proof = await readInclusionProof(db, index, head.size);
      const entry = await readEntry(db, index);
      if (!entry) throw new LiaisonError("NOT_FOUND", `no ledger entry ${index}`);
      return { entry: entry.bytes, index, size: head.size, rootHash: head.root, proof: proof.proof };
    },
  };
}
