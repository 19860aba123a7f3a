/**
 * Server-side errors of the embedded store, shaped as MongoDB replies them: a numeric `code`, its
 * `codeName`, and `errorLabels` (e.g. TransientTransactionError) that the driver's retry logic reads.
 */

export const CODE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "InternalError",
  6: "HostUnreachable",
  7: "HostNotFound",
  8: "UnknownError",
  13: "Unauthorized",
  24: "LockTimeout",
  50: "MaxTimeMSExpired",
  56: "EmptyFieldName",
  64: "WriteConcernFailed",
  79: "UnknownReplWriteConcern",
  89: "NetworkTimeout",
  91: "ShutdownInProgress",
  96: "OperationFailed",
  100: "UnsatisfiableWriteConcern",
  117: "ConflictingOperationInProgress",
  125: "CommandFailed",
  133: "FailedToSatisfyReadPreference",
  134: "ReadConcernMajorityNotAvailableYet",
  189: "PrimarySteppedDown",
  211: "KeyNotFound",
  262: "ExceededTimeLimit",
  9001: "SocketException",
  10107: "NotWritablePrimary",
  11600: "InterruptedAtShutdown",
  11601: "Interrupted",
  11602: "InterruptedDueToReplStateChange",
  13435: "NotPrimaryNoSecondaryOk",
  13436: "NotPrimaryOrSecondary",
  40415: "Location40415",
  2: "BadValue",
  4: "NoSuchKey",
  9: "FailedToParse",
  10: "UserNotFound",
  11: "UnknownError",
  14: "TypeMismatch",
  15: "Overflow",
  20: "IllegalOperation",
  22: "InvalidBSON",
  26: "NamespaceNotFound",
  27: "IndexNotFound",
  40: "ConflictingUpdateOperators",
  43: "CursorNotFound",
  48: "NamespaceExists",
  52: "DollarPrefixedFieldName",
  59: "CommandNotFound",
  66: "ImmutableField",
  67: "CannotCreateIndex",
  72: "InvalidOptions",
  73: "InvalidNamespace",
  85: "IndexOptionsConflict",
  86: "IndexKeySpecsConflict",
  112: "WriteConflict",
  115: "CommandNotSupported",
  121: "DocumentValidationFailure",
  166: "CommandNotSupportedOnView",
  225: "TransactionTooOld",
  239: "SnapshotTooOld",
  244: "TransactionAborted",
  246: "SnapshotUnavailable",
  251: "NoSuchTransaction",
  256: "TransactionCommitted",
  263: "OperationNotSupportedInTransaction",
  267: "PreparedTransactionInProgress",
  322: "APIVersionError",
  323: "APIStrictError",
  324: "APIDeprecationError",
  359: "CannotConvertIndexToUnique",
  10334: "BSONObjectTooLarge",
  11000: "DuplicateKey",
  14031: "OutOfDiskSpace",
  17280: "KeyTooLong",
});

export function codeNameOf(code: number): string {
  return CODE_NAMES[code] ?? "Location" + String(code);
}

/** The server refused an operation; becomes `{ok: 0, errmsg, code, codeName}` (or a writeError). */
export class StoreError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly labels: string[];
  readonly extra: Record<string, unknown>;
  constructor(code: number, message: string, options: { labels?: string[]; extra?: Record<string, unknown> } = {}) {
    super(message);
    this.name = "StoreError";
    this.code = code;
    this.codeName = codeNameOf(code);
    this.labels = options.labels ?? [];
    this.extra = options.extra ?? {};
  }
}

export const badValue = (msg: string): StoreError => new StoreError(2, msg);
export const failedToParse = (msg: string): StoreError => new StoreError(9, msg);
export const typeMismatch = (msg: string): StoreError => new StoreError(14, msg);

/** The disk has no room for the journal: MongoDB's OutOfDiskSpace (14031), no labels (not retried at once). */
export const outOfDiskSpace = (msg: string): StoreError => new StoreError(14031, msg);

export function writeConflict(): StoreError {
  return new StoreError(
    112,
    "Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.",
    { labels: ["TransientTransactionError"] },
  );
}
