/**
 * Server-side errors of the embedded store, shaped as MongoDB replies them: a numeric `code`, its
 * `codeName`, and `errorLabels` (e.g. TransientTransactionError) that the driver's retry logic reads.
 */

export const CODE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "InternalError",
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
  50: "MaxTimeMSExpired",
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
  244: "TransactionAborted",
  251: "NoSuchTransaction",
  256: "TransactionCommitted",
  263: "OperationNotSupportedInTransaction",
  10334: "BSONObjectTooLarge",
  11000: "DuplicateKey",
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

export function writeConflict(): StoreError {
  return new StoreError(
    112,
    "Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.",
    { labels: ["TransientTransactionError"] },
  );
}
