/**
 * Officer accounts, local to this node, in the `officers` collection.
 *
 *  {_id: officerId (UUID), username, usernameKey (lowercased, unique), displayName, roles,
 *   passwordHash (scrypt, see passwords.ts), disabled, createdAt, createdBy, failedLogins,
 *   lockedUntil?, ledgerIndex?}
 *
 * Every officer added, disabled or re-enabled is a ledger entry (JSON, never a password). The
 * entry is appended after the account is written; an account whose entry is missing (a crash in
 * between, or an account made by `ensureAdmin` without a ledger) is recorded by
 * `recordMissingLedgerEntries`, which the local API runs at start.
 */
import { randomUUID } from "node:crypto";
import type { Collection, Db } from "mongodb";
import { MongoServerError } from "mongodb";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { checkPasswordPolicy, DEFAULT_SCRYPT, dummyHash, hashPassword, verifyPassword, type ScryptParams } from "./passwords.ts";
import { isRoleName, ROLES, type RoleName } from "./roles.ts";

export interface OfficerDoc {
  _id: string;
  username: string;
  usernameKey: string;
  displayName: string;
  roles: RoleName[];
  passwordHash: string;
  disabled: boolean;
  createdAt: Date;
  /** Officer id of the admin who created the account, or "bootstrap". */
  createdBy: string;
  failedLogins: number;
  lockedUntil?: Date;
  /** Ledger index of the "officer.added" entry, once appended. */
  ledgerIndex?: number;
}

/** What appends to this node's ledger (the node's `ledger` fits). */
export interface LedgerWriter {
  append(kind: string, bytes: Uint8Array): Promise<{ index: number }>;
}

export interface LockoutPolicy {
  /** Consecutive failed logins that lock the account. */
  maxFailures: number;
  /** How long a locked account refuses logins. */
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = Object.freeze({ maxFailures: 5, lockMs: 15 * 60_000 });

/** The one answer to every failed login: it does not say which part was wrong. */
export const LOGIN_REFUSED = "wrong username or password, or the account is locked or disabled";

/** 3-64 characters: lowercase letters, digits, '.', '_', '-'; starting with a letter or digit. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{2,63}$/;
export const MAX_DISPLAY_NAME = 200;

export interface NewOfficer {
  username: string;
  displayName?: string;
  roles: readonly string[];
  password: string;
}

export interface OfficerStoreOptions {
  db: Db;
  /** When absent, entries are left for `recordMissingLedgerEntries`. */
  ledger?: LedgerWriter;
  clock?: () => Date;
  lockout?: LockoutPolicy;
  scrypt?: ScryptParams;
}

function ledgerBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Normalise a username for lookups and validate it (INVALID_ARGUMENT with the rule broken). */
export function usernameKey(username: string, field = "username"): string {
  const key = username.normalize("NFC").trim().toLowerCase();
  if (key === "") throw new LiaisonError("INVALID_ARGUMENT", `${field} is required`);
  if (!USERNAME_PATTERN.test(key)) {
    throw new LiaisonError("INVALID_ARGUMENT", `${field} must be 3-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return key;
}

export class OfficerStore {
  private readonly log = createLogger("officers");
  readonly officers: Collection<OfficerDoc>;
  private readonly clock: () => Date;
  private readonly lockout: LockoutPolicy;
  private readonly scrypt: ScryptParams;

  constructor(private readonly options: OfficerStoreOptions) {
    this.officers = options.db.collection<OfficerDoc>("officers");
    this.clock = options.clock ?? (() => new Date());
    this.lockout = options.lockout ?? DEFAULT_LOCKOUT;
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
  }

  /** Indexes: one account per username (case-insensitive), admins by role. Idempotent. */
  async init(): Promise<void> {
    await this.officers.createIndex({ usernameKey: 1 }, { unique: true });
    await this.officers.createIndex({ roles: 1 });
  }

  /**
   * Create an account. Validates username, display name, roles and the password policy first;
   * CONFLICT when the username is taken. Appends "officer.added" {officerId, username, roles, by}.
   */
  async create(input: NewOfficer, createdBy: string): Promise<OfficerDoc> {
    const key = usernameKey(input.username);
    const displayName = (input.displayName ?? "").trim() || key;
    if ([...displayName].length > MAX_DISPLAY_NAME) {
      throw new LiaisonError("INVALID_ARGUMENT", `display_name must be at most ${MAX_DISPLAY_NAME} characters`);
    }
    if (input.roles.length === 0) throw new LiaisonError("INVALID_ARGUMENT", "roles must name at least one role");
    const roles: RoleName[] = [];
    for (const role of input.roles) {
      if (!isRoleName(role)) throw new LiaisonError("INVALID_ARGUMENT", `roles: unknown role; expected one of ${ROLES.join(", ")}`);
      if (roles.includes(role)) throw new LiaisonError("INVALID_ARGUMENT", `roles: ${role} is given twice`);
      roles.push(role);
    }
    checkPasswordPolicy(input.password, key);
    const doc: OfficerDoc = {
      _id: randomUUID(),
      username: key,
      usernameKey: key,
      displayName,
      roles,
      passwordHash: await hashPassword(input.password, this.scrypt),
      disabled: false,
      createdAt: this.clock(),
      createdBy,
      failedLogins: 0,
    };
    try {
      await this.officers.insertOne(doc);
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) {
        throw new LiaisonError("CONFLICT", `an officer named ${key} already exists`);
      }
      throw error;
    }
    await this.recordAdded(doc);
    this.log.info("officer added", { officerId: doc._id, username: key, roles, by: createdBy });
    return doc;
  }

  private async recordAdded(doc: OfficerDoc): Promise<void> {
    if (!this.options.ledger) return;
    const { index } = await this.options.ledger.append(
      "officer.added",
      ledgerBytes({ officerId: doc._id, username: doc.username, roles: doc.roles, by: doc.createdBy }),
    );
    doc.ledgerIndex = index;
    await this.officers.updateOne({ _id: doc._id }, { $set: { ledgerIndex: index } });
  }

  /** Append "officer.added" for every account that has none yet (see the file comment). */
  async recordMissingLedgerEntries(): Promise<number> {
    if (!this.options.ledger) return 0;
    const missing = await this.officers.find({ ledgerIndex: { $exists: false } }).sort({ createdAt: 1 }).toArray();
    for (const doc of missing) await this.recordAdded(doc);
    return missing.length;
  }

  async get(officerId: string): Promise<OfficerDoc | null> {
    return this.officers.findOne({ _id: officerId });
  }

  async list(): Promise<OfficerDoc[]> {
    return this.officers.find({}).sort({ usernameKey: 1 }).toArray();
  }

  /**
   * Disable or re-enable an account. Re-enabling also lifts a lockout. Refuses (BUSINESS_RULE) to
   * disable the last enabled admin, so the node cannot lose every administrator.
   * Appends "officer.disabled" or "officer.enabled" {officerId, username, by}.
   */
  async setDisabled(officerId: string, disabled: boolean, by: string): Promise<OfficerDoc> {
    const current = await this.get(officerId);
    if (!current) throw new LiaisonError("NOT_FOUND", `no officer with id ${officerId}`);
    if (disabled && current.roles.includes("admin") && !current.disabled) {
      const admins = await this.officers.countDocuments({ roles: "admin", disabled: false });
      if (admins <= 1) throw new LiaisonError("BUSINESS_RULE", "cannot disable the last enabled admin");
    }
    const update = disabled
      ? { $set: { disabled: true } }
      : { $set: { disabled: false, failedLogins: 0 }, $unset: { lockedUntil: "" as const } };
    const after = await this.officers.findOneAndUpdate({ _id: officerId }, update, { returnDocument: "after" });
    if (!after) throw new LiaisonError("NOT_FOUND", `no officer with id ${officerId}`);
    if (after.disabled !== current.disabled || !disabled) {
      await this.options.ledger?.append(
        disabled ? "officer.disabled" : "officer.enabled",
        ledgerBytes({ officerId, username: after.username, by }),
      );
    }
    this.log.info(disabled ? "officer disabled" : "officer enabled", { officerId, by });
    return after;
  }

  /**
   * Check a username and password. Resolves with the account, or throws UNAUTHENTICATED with one
   * fixed message whatever went wrong. An unknown username costs one scrypt like a known one.
   * After `maxFailures` consecutive failures the account refuses every login for `lockMs`,
   * recorded on the account (so every node process sharing the database sees it).
   */
  async authenticate(username: string, password: string): Promise<OfficerDoc> {
    const refused = () => new LiaisonError("UNAUTHENTICATED", LOGIN_REFUSED);
    const key = username.normalize("NFC").trim().toLowerCase();
    const doc = USERNAME_PATTERN.test(key) ? await this.officers.findOne({ usernameKey: key }) : null;
    if (!doc) {
      await verifyPassword(password, await dummyHash());
      throw refused();
    }
    const now = this.clock();
    const locked = doc.lockedUntil !== undefined && doc.lockedUntil > now;
    const matches = await verifyPassword(password, doc.passwordHash);
    if (matches && !locked && !doc.disabled) {
      if (doc.failedLogins !== 0 || doc.lockedUntil) {
        await this.officers.updateOne({ _id: doc._id }, { $set: { failedLogins: 0 }, $unset: { lockedUntil: "" } });
      }
      return { ...doc, failedLogins: 0 };
    }
    if (!matches && !locked) {
      const after = await this.officers.findOneAndUpdate({ _id: doc._id }, { $inc: { failedLogins: 1 } }, { returnDocument: "after" });
      if (after && after.failedLogins >= this.lockout.maxFailures) {
        const lockedUntil = new Date(now.getTime() + this.lockout.lockMs);
        await this.officers.updateOne(
          { _id: doc._id, failedLogins: { $gte: this.lockout.maxFailures } },
          { $set: { lockedUntil, failedLogins: 0 } },
        );
        this.log.warn("officer account locked after repeated failed logins", { officerId: doc._id, lockedUntil });
      }
    }
    throw refused();
  }

  /** The officer changes their own password (current one required). */
  async changePassword(officerId: string, currentPassword: string, newPassword: string): Promise<void> {
    const doc = await this.get(officerId);
    if (!doc) throw new LiaisonError("NOT_FOUND", `no officer with id ${officerId}`);
    if (!(await verifyPassword(currentPassword, doc.passwordHash))) {
      throw new LiaisonError("UNAUTHENTICATED", "current_password is wrong");
    }
    checkPasswordPolicy(newPassword, doc.username, "new_password");
    await this.officers.updateOne({ _id: officerId }, { $set: { passwordHash: await hashPassword(newPassword, this.scrypt) } });
    this.log.info("officer password changed", { officerId });
  }
}

export interface EnsureAdminInput {
  username: string;
  password: string;
  displayName?: string;
}

export interface EnsureAdminResult {
  officer: OfficerDoc;
  /** False when an enabled admin already existed (nothing was changed). */
  created: boolean;
}

/**
 * Bootstrap: make sure the node has an administrator. When no enabled admin exists, creates
 * `username` with the admin role (password policy applies). When one exists, changes nothing and
 * resolves with it. Pass the node's ledger to record "officer.added" now; without it the local API
 * records it when it starts.
 */
export async function ensureAdmin(db: Db, input: EnsureAdminInput, ledger?: LedgerWriter): Promise<EnsureAdminResult> {
  const store = new OfficerStore({ db, ...(ledger ? { ledger } : {}) });
  await store.init();
  const existing = await store.officers.findOne({ roles: "admin", disabled: false }, { sort: { createdAt: 1 } });
  if (existing) return { officer: existing, created: false };
  const officer = await store.create(
    { username: input.username, displayName: input.displayName ?? "Administrator", roles: ["admin"], password: input.password },
    "bootstrap",
  );
  return { officer, created: true };
}
