/**
 * The gateway's own client of the node's local gRPC API (`liaison.v1.LocalApi`): protobuf-es
 * bytes over grpc-js `makeUnaryRequest`, the officer's token as `authorization` metadata and the
 * request's correlation id as `x-correlation-id`. A refusal becomes a `LiaisonError` carrying the
 * node's own code (from the `Rejection` detail), so the HTTP status comes from the one table.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { ERRORS, ErrorLabel, GrpcStatus, LiaisonError, isErrorCode, type ErrorCode } from "../services/errors/index.ts";
import { rejectionDetail } from "../services/transport/index.ts";

type UnaryMethod = DescMethodUnary<DescMessage, DescMessage>;

/** For a status the node sent without a Rejection detail: the first code of the table with that gRPC status. */
const CODE_FOR_GRPC = new Map<number, ErrorCode>();
for (const [code, entry] of Object.entries(ERRORS) as Array<[ErrorCode, { grpc: number }]>) {
  // Prefer the generic local-API codes (UNAUTHENTICATED, FORBIDDEN, …) over peer-specific ones.
  const generic: readonly string[] = ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "INVALID_ARGUMENT", "CONFLICT", "BUSINESS_RULE", "RATE_LIMITED", "UNAVAILABLE", "INTERNAL"];
  if (!CODE_FOR_GRPC.has(entry.grpc) || generic.includes(code)) CODE_FOR_GRPC.set(entry.grpc, code);
}
CODE_FOR_GRPC.set(GrpcStatus.DEADLINE_EXCEEDED, "UNAVAILABLE");

/** A LiaisonError from the node's refusal: its code and reason as sent; the gRPC error as the cause. */
export function errorFromNode(error: grpc.ServiceError): LiaisonError {
  const detail = rejectionDetail(error);
  const code: ErrorCode = detail && isErrorCode(detail.code) ? detail.code : (CODE_FOR_GRPC.get(error.code) ?? "INTERNAL");
  let reason = detail?.reason || "";
  if (!reason) {
    reason =
      code === "UNAVAILABLE"
        ? "the node's local API is not reachable; try again in a moment"
        : code === "INTERNAL"
          ? "the node could not complete the request"
          : (error.details ?? "the node refused the request");
  }
  return new LiaisonError(code, reason, {
    cause: error,
    ...(code === "UNAVAILABLE" ? { labels: [ErrorLabel.Retryable] } : {}),
  });
}

export interface CallOptions {
  accessToken?: string | undefined;
  correlationId: string;
  timeoutMs?: number;
}

export class LocalApiConnection {
  private readonly client: grpc.Client;
  /** Calls sent to the node (for operations and the tests that prove bad input never leaves the gateway). */
  calls = 0;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": 8 * 1024 * 1024,
    });
  }

  call<M extends UnaryMethod>(method: M, request: MessageInitShape<M["input"]> | MessageShape<M["input"]>, options: CallOptions): Promise<MessageShape<M["output"]>> {
    const metadata = new grpc.Metadata();
    if (options.accessToken !== undefined) metadata.set("authorization", `Bearer ${options.accessToken}`);
    metadata.set("x-correlation-id", options.correlationId);
    const bytes = toBinary(method.input, create(method.input, request as never));
    this.calls++;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(
        `/${method.parent.typeName}/${method.name}`,
        (b) => b,
        (b) => b,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        metadata,
        { deadline: Date.now() + (options.timeoutMs ?? 30_000) },
        (error, response) => {
          if (error) return reject(errorFromNode(error));
          try {
            resolve(fromBinary(method.output, response ?? Buffer.alloc(0)) as MessageShape<M["output"]>);
          } catch (cause) {
            reject(new LiaisonError("INTERNAL", "the node answered with a response the gateway cannot decode", { cause }));
          }
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
