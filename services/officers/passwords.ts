/**
 * Officer passwords: a policy, and scrypt (RFC 7914) hashes with a per-password salt, compared in
 * constant time. The parameters are stored with each hash, so they can be raised later without
 * invalidating existing passwords. A password never appears in a log line or an error message.
 *
 * Encoded form: `scrypt$<N>$<r>$<p>$<salt base64url>$<hash base64url>`.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { LiaisonError } from "../errors/index.ts";

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** 2^15 · 8 · 128 bytes = 32 MiB of memory per hash (OWASP's minimum for scrypt). */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
export const MIN_PASSWORD_LENGTH = 12;
/** Longer inputs are refused before hashing (no hashing work for megabyte "passwords"). */
export const MAX_PASSWORD_LENGTH = 1024;

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds on parameters read back from a stored hash (a corrupted record must not exhaust memory). */
const MAX_N = 2 ** 20;

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCallback(password.normalize("NFC"), salt, HASH_BYTES, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/**
 * The password policy: at least 12 characters (Unicode code points), at most 1024, not the
 * username. Throws INVALID_ARGUMENT naming the rule broken — never the password.
 */
export function checkPasswordPolicy(password: string, username: string, field = "password"): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new LiaisonError("INVALID_ARGUMENT", `${field} must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new LiaisonError("INVALID_ARGUMENT", `${field} must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (password.trim().toLowerCase() === username.trim().toLowerCase()) {
    throw new LiaisonError("INVALID_ARGUMENT", `${field} must not be the username`);
  }
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scrypt(password, salt, params);
  return ["scrypt", params.N, params.r, params.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** True when `password` matches `encoded`. A malformed record is our bug: TypeError. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") throw new TypeError("stored password hash is not in the scrypt format");
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) {
    throw new TypeError("stored password hash has out-of-range scrypt parameters");
  }
  const salt = Buffer.from(parts[4]!, "base64url");
  const expected = Buffer.from(parts[5]!, "base64url");
  if (password.length > MAX_PASSWORD_LENGTH * 2) password = password.slice(0, MAX_PASSWORD_LENGTH * 2);
  const actual = await scrypt(password, salt, { N, r, p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;
/**
 * A hash of a random password with the default parameters: verified against when the username is
 * unknown, so that an unknown user costs the same time as a wrong password.
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(24).toString("base64url"));
  return dummy;
}
