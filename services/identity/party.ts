/**
 * Party identifiers and their URI form.
 *
 * A party is a ministry, named by an id such as `VN-MPS`: two upper-case letters (the country),
 * a hyphen, then 2–16 upper-case letters or digits. Certificates and attestations name it as the
 * URI `urn:liaison:party:<PARTY>`.
 */

/** The grammar of a party id. */
export const PARTY_ID_PATTERN = /^[A-Z]{2}-[A-Z0-9]{2,16}$/;

/** Prefix of the URI naming a party (certificate SAN, attestation `iss`). */
export const PARTY_URI_PREFIX = "urn:liaison:party:";

export function isPartyId(value: unknown): value is string {
  return typeof value === "string" && PARTY_ID_PATTERN.test(value);
}

/** Our own misuse: a party id we were handed by code (not by a partner) must be well formed. */
export function assertPartyId(value: unknown, what = "party"): asserts value is string {
  if (!isPartyId(value)) throw new TypeError(`${what} must match ${PARTY_ID_PATTERN.source}`);
}

/** `VN-MPS` → `urn:liaison:party:VN-MPS`. */
export function partyUri(party: string): string {
  assertPartyId(party);
  return PARTY_URI_PREFIX + party;
}
