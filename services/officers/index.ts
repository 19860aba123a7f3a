// Officers: local accounts, passwords, sessions (tokens), roles, and drafts under the two-person
// rule. End-user surface first.
export { ensureAdmin, OfficerStore, DEFAULT_LOCKOUT, LOGIN_REFUSED, USERNAME_PATTERN, usernameKey } from "./officers.ts";
export type { OfficerDoc, NewOfficer, LedgerWriter, LockoutPolicy, OfficerStoreOptions, EnsureAdminInput, EnsureAdminResult } from "./officers.ts";
export { TokenService, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_TYP, DEFAULT_ACCESS_TTL_SECONDS, DEFAULT_REFRESH_TTL_SECONDS } from "./tokens.ts";
export type { IssuedTokens, VerifiedAccess, TokenServiceOptions } from "./tokens.ts";
export { DraftStore, type DraftDoc, type DraftStateName, type OfficerRef, type DraftPageCursor } from "./drafts.ts";
export { ROLES, isRoleName, type RoleName } from "./roles.ts";
export { checkPasswordPolicy, hashPassword, verifyPassword, DEFAULT_SCRYPT, MIN_PASSWORD_LENGTH, type ScryptParams } from "./passwords.ts";
