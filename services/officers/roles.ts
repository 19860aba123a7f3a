/**
 * Officer roles. An officer holds one or more; each method of the local API names the roles it
 * admits (services/node/local-api.ts, docs/LOCAL_API.md).
 */
export const ROLES = ["drafter", "approver", "analyst", "auditor", "admin"] as const;
export type RoleName = (typeof ROLES)[number];

export function isRoleName(value: string): value is RoleName {
  return (ROLES as readonly string[]).includes(value);
}
