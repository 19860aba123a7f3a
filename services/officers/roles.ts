/**
 * Officer roles. An officer holds one or more; each method of the local API names the roles it
 * admits (services/node/local-api.ts, docs/LOCAL_API.md).
 */
export const ROLES = ["drafter", "approver", "analyst", "auditor", "admin"] as const;
export type RoleName = (typeof ROLES)[number];

export function isRoleName(value: string): value is RoleName {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Who may see the protected parties of a notice — informants and victims — in clear
 * (LocalApi.ReadProtectedFields), always for a stated purpose and with a ledger entry per read:
 *
 * - **analyst**: works the intelligence — identifies and locates victims for rescue and
 *   repatriation, weighs an informant's reliability. The one role that must see identities.
 * - not **auditor**: audits *that* and *why* identities were read (the `protected.read` ledger
 *   entries), which needs no identity; the one who reviews the reads is not a reader.
 * - not **drafter** or **approver**: they handle what this party sends. They see a draft in full
 *   only while it awaits approval (its drafter, and approvers for the two-person review); once
 *   decided, and in every message they read, protected parties are placeholders.
 * - not **admin**: manages accounts, never reads case traffic (separation of duties).
 *
 * A role is an authorisation, not a need to know: every read names its purpose, and the ledger
 * records it before anything is shown.
 */
export const PROTECTED_READER_ROLES: readonly RoleName[] = ["analyst"];
