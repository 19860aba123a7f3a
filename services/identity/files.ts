/**
 * Small file primitives for the identity folder: exclusive creation with the final mode (never
 * chmod after the fact, so a private key is never readable by others even for an instant) and
 * atomic replacement (temporary file + fsync + rename).
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Mode of a private key file. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of a public file (certificates, attestations, party.json). */
export const PUBLIC_FILE_MODE = 0o644;
/** Mode of every identity directory. */
export const DIRECTORY_MODE = 0o700;

/** Creates `path` with `mode`; fails (EEXIST) if it exists. */
export async function writeNewFile(path: string, data: string, mode: number): Promise<void> {
  const handle = await open(path, "wx", mode);
  try {
    await handle.writeFile(data, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` atomically: a reader sees the old content or the new, never a mix. */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
  try {
    await writeNewFile(temp, data, mode);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** fsync a directory so that a rename in it survives a crash (best effort where unsupported). */
export async function syncDirectory(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, "r");
    await handle.sync();
  } catch {
    // Some platforms refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}
