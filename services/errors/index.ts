/**
 * The one error hierarchy of Liaison.
 *
 * Every failure that crosses a boundary is a `LiaisonError` with a stable string code. The code
 * maps to exactly one gRPC status and one HTTP status, in `ERRORS` below; nobody else maps.
 * Three kinds, kept apart as in the MongoDB driver:
 *  - `LiaisonError`: bad input or a refused operation (the caller's or partner's doing);
 *  - `PeerRejectedError`: a partner said no — carries their status and reason as received;
 *  - `TypeError` (plain JS): our own misuse, a bug; surfaces as INTERNAL.
 * The `cause` is for local logs only: it is never sent to a partner or a browser.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";

export { GrpcStatus };

/** code → gRPC status → HTTP status. Reason phrases in trailing comments. */
export const ERRORS = {
  // Transport identity
  PEER_CERTIFICATE_MISSING: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 }, // Unauthorized
  PEER_UNKNOWN: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  PEER_PARTY_MISMATCH: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 }, // Forbidden
  PEER_SUSPENDED: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  // Envelope shape and size
  ENVELOPE_MALFORMED: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 }, // Bad Request
  ENVELOPE_TOO_LARGE: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413 }, // Content Too Large
  // Signature and keys
  SIGNATURE_INVALID: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  ALGORITHM_NOT_ALLOWED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  KEY_UNKNOWN: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  KEY_NOT_VALID_AT_TIME: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  ATTESTATION_INVALID: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  // Who and to whom
  SENDER_NOT_SIGNER: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  SENDER_NOT_PEER: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  NOT_A_RECIPIENT: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  // Time and replay
  MESSAGE_STALE: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422 }, // Unprocessable Content
  MESSAGE_FROM_FUTURE: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422 },
  MESSAGE_EXPIRED: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422 },
  MESSAGE_ID_REUSED: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409 }, // Conflict
  // Content
  SCHEMA_INVALID: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  BUSINESS_RULE: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422 },
  TWO_PERSON_RULE: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  // Ledger
  PROOF_INCONSISTENT: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422 },
  CHECKPOINT_INVALID: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  LEDGER_CORRUPT: { grpc: GrpcStatus.DATA_LOSS, http: 500 }, // Internal Server Error
  // Local API / officers
  UNAUTHENTICATED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  FORBIDDEN: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404 }, // Not Found
  INVALID_ARGUMENT: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  CONFLICT: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409 },
  RATE_LIMITED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429 }, // Too Many Requests
  // Onboarding / configuration
  FINGERPRINT_MISMATCH: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422 },
  CONFIG_INVALID: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 500 },
  // Ours
  PEER_CALL_TIMEOUT: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 504 }, // Gateway Timeout
  UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, http: 503 }, // Service Unavailable
  // The node's database has no room left (its disk is full): retry later. UNAVAILABLE, not
  // RESOURCE_EXHAUSTED, so that senders retry (RESOURCE_EXHAUSTED is final unless RATE_LIMITED).
  STORAGE_FULL: { grpc: GrpcStatus.UNAVAILABLE, http: 507 }, // Insufficient Storage
  INTERNAL: { grpc: GrpcStatus.INTERNAL, http: 500 },
} as const satisfies Record<string, { grpc: GrpcStatus; http: number }>;

export type ErrorCode = keyof typeof ERRORS;

/** Labels a caller may act on (the outbox retries `Retryable`, parks `PeerRejected`). */
export const ErrorLabel = Object.freeze({
  Retryable: "Retryable",
  PeerRejected: "PeerRejected",
} as const);
export type ErrorLabel = (typeof ErrorLabel)[keyof typeof ErrorLabel];

export interface LiaisonErrorOptions {
  cause?: unknown;
  labels?: readonly ErrorLabel[];
}

export class LiaisonError extends Error {
  override readonly name: string = "LiaisonError";
  readonly code: ErrorCode;
  readonly labels: Set<ErrorLabel>;
  /** The message a refusal concerns, once it is known (sent back in the peer API's Rejection detail). */
  messageId?: string;

  /** `message` is safe to show a partner or an officer: never put secrets or payload in it. */
  constructor(code: ErrorCode, message: string, options: LiaisonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.labels = new Set(options.labels ?? []);
  }

  get grpcStatus(): GrpcStatus {
    return ERRORS[this.code].grpc;
  }

  get httpStatus(): number {
    return ERRORS[this.code].http;
  }

  hasLabel(label: ErrorLabel): boolean {
    return this.labels.has(label);
  }

  addLabel(label: ErrorLabel): void {
    this.labels.add(label);
  }
}

/** A partner refused what we sent: their gRPC status and reason exactly as received. */
export class PeerRejectedError extends LiaisonError {
  override readonly name: string = "PeerRejectedError";
  readonly peerStatus: GrpcStatus;
  readonly peerReason: string;
  /** The partner's own error code (from the `Rejection` detail), when it sent one. */
  readonly peerCode: string | undefined;

  constructor(peerStatus: GrpcStatus, peerReason: string, peerCode?: string, options: LiaisonErrorOptions = {}) {
    // RESOURCE_EXHAUSTED is retryable only as a rate limit: an envelope too large stays too large.
    const retryable = RETRYABLE_GRPC.has(peerStatus) || (peerStatus === GrpcStatus.RESOURCE_EXHAUSTED && peerCode === "RATE_LIMITED");
    super(retryable ? "UNAVAILABLE" : "INTERNAL", `partner answered ${GrpcStatus[peerStatus]}: ${peerReason}`, {
      ...options,
      labels: [...(options.labels ?? []), retryable ? ErrorLabel.Retryable : ErrorLabel.PeerRejected],
    });
    this.peerStatus = peerStatus;
    this.peerReason = peerReason;
    this.peerCode = peerCode;
  }
}

/** The code to record for a failure: the partner's own refusal code when it sent one, else ours. */
export function refusalCodeOf(error: LiaisonError): string {
  return error instanceof PeerRejectedError && error.peerCode ? error.peerCode : error.code;
}

const RETRYABLE_GRPC: ReadonlySet<GrpcStatus> = new Set([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNKNOWN,
]);

/** The one predicate the outbox consults. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof LiaisonError) return error.hasLabel(ErrorLabel.Retryable);
  return false;
}

/** Turn anything thrown into a LiaisonError at a boundary; unknown errors become INTERNAL with the cause kept. */
export function toLiaisonError(error: unknown): LiaisonError {
  if (error instanceof LiaisonError) return error;
  // MongoDB's OutOfDiskSpace (14031), from the embedded store or a mongod: the disk is full.
  if (error instanceof Error && error.name.startsWith("Mongo") && (error as { code?: unknown }).code === 14031) {
    return new LiaisonError("STORAGE_FULL", "this node's storage is full; retry later", { cause: error, labels: [ErrorLabel.Retryable] });
  }
  return new LiaisonError("INTERNAL", "internal error", { cause: error });
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERRORS, value);
}
