/**
 * Backup and restore of a node: a consistent snapshot of its database through the driver and its
 * identity folder (private keys encrypted under a passphrase), in one self-checking file.
 */
export { createBackup, EXCLUDED_COLLECTIONS, type BackupProgress, type CreateBackupOptions, type CreateBackupResult } from "./create.ts";
export { verifyBackup, type PartCheck, type VerifyBackupOptions, type VerifyBackupReport } from "./verify.ts";
export { restoreBackup, type RestoreOptions, type RestoreResult, type RestoreTarget } from "./restore.ts";
export { openBackup, FORMAT, MAGIC, type Manifest, type OpenedBackup, type PartInfo } from "./format.ts";
