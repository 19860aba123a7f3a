/**
 * The partners' message-signing keys, as attested by their CAs, and which key was valid when.
 * `resolve` is the `kid` resolver that signature verification needs (rotation-aware).
 */
import type { KeyObject } from "node:crypto";
import { LiaisonError } from "../errors/index.ts";
import { type VerifiedAttestation, verifyAttestation } from "./attestation.ts";
import type { ResolveKey } from "./verify.ts";

/** One key of one party, merged from every attestation seen for it. */
export interface KeyRingEntry {
  party: string;
  kid: string;
  publicKey: KeyObject;
  validFrom: Date;
  retiredAt?: Date;
  /** Every attestation seen for this key, as evidence. */
  attestations: string[];
}

export class KeyRing {
  readonly #parties = new Map<string, Map<string, KeyRingEntry>>();

  /**
   * Verifies each attestation against the party's trusted CA and adds it. All or nothing: one
   * bad attestation and none is added.
   */
  async addAttestations(party: string, trustedCaPem: string, attestations: readonly string[]): Promise<VerifiedAttestation[]> {
    const verified = await Promise.all(attestations.map((jws) => verifyAttestation(jws, trustedCaPem, party)));
    for (const v of verified) this.add(v);
    return verified;
  }

  /** Adds already verified attestations (e.g. `Partner.verifiedAttestations`, `Identity.verifiedAttestations`). */
  addAll(attestations: readonly VerifiedAttestation[]): void {
    for (const a of attestations) this.add(a);
  }

  /**
   * Adds a verified attestation. Several for one key merge, and later evidence restricts:
   * the latest `validFrom` and the earliest `retiredAt` win.
   */
  add(attestation: VerifiedAttestation): void {
    let keys = this.#parties.get(attestation.party);
    if (keys === undefined) {
      keys = new Map();
      this.#parties.set(attestation.party, keys);
    }
    const existing = keys.get(attestation.kid);
    if (existing === undefined) {
      const entry: KeyRingEntry = {
        party: attestation.party,
        kid: attestation.kid,
        publicKey: attestation.publicKey,
        validFrom: attestation.validFrom,
        attestations: [attestation.jws],
      };
      if (attestation.retiredAt !== undefined) entry.retiredAt = attestation.retiredAt;
      keys.set(attestation.kid, entry);
      return;
    }
    if (attestation.validFrom > existing.validFrom) existing.validFrom = attestation.validFrom;
    if (attestation.retiredAt !== undefined && (existing.retiredAt === undefined || attestation.retiredAt < existing.retiredAt)) {
      existing.retiredAt = attestation.retiredAt;
    }
    if (!existing.attestations.includes(attestation.jws)) existing.attestations.push(attestation.jws);
  }

  /**
   * The public key `kid` of `party` if it was valid at `messageTime`
   * (valid_from ≤ messageTime < retired_at). Throws KEY_UNKNOWN or KEY_NOT_VALID_AT_TIME.
   */
  resolve(kid: string, party: string, messageTime: Date): KeyObject {
    if (!(messageTime instanceof Date) || Number.isNaN(messageTime.getTime())) throw new TypeError("messageTime must be a valid Date");
    const entry = this.#parties.get(party)?.get(kid);
    if (entry === undefined) throw new LiaisonError("KEY_UNKNOWN", `signing key is not a known key of party ${party}`);
    if (messageTime < entry.validFrom) throw new LiaisonError("KEY_NOT_VALID_AT_TIME", "signing key was not yet valid at the message time");
    if (entry.retiredAt !== undefined && messageTime >= entry.retiredAt) {
      throw new LiaisonError("KEY_NOT_VALID_AT_TIME", "signing key was retired before the message time");
    }
    return entry.publicKey;
  }

  /** A resolver for `verifyDetached`: keys of `party` valid at `messageTime`. */
  resolver(party: string, messageTime: Date): ResolveKey {
    return (header) => this.resolve(header.kid, party, messageTime);
  }

  /** The keys known for a party (oldest first by validFrom). */
  keys(party: string): KeyRingEntry[] {
    return [...(this.#parties.get(party)?.values() ?? [])].sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime());
  }

  parties(): string[] {
    return [...this.#parties.keys()].sort();
  }
}
