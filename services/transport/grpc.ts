/**
 * grpc-js glue for protobuf-es services: service definitions from generated descriptors, one
 * adapter around every handler (errors → status + Rejection detail), and the mTLS credentials.
 *
 * Requests are deserialized to the raw Buffer: the adapter decodes them through `codec.ts`, and a
 * handler that must keep or hash the exact bytes received (Deliver) gets them untouched.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { StatusSchema } from "../../gen/google/rpc/status_pb.ts";
import { RejectionSchema, type Rejection } from "../../gen/liaison/v1/envelope_pb.ts";
import { LiaisonError, toLiaisonError, GrpcStatus, PeerRejectedError } from "../errors/index.ts";
import { CORRELATION_ID_HEADER, createLogger, withCorrelationId, type Logger } from "../logging/index.ts";
import { decodeUntrusted } from "./codec.ts";

/** gRPC's own limit on one received message; larger requests get RESOURCE_EXHAUSTED before any handler. */
export const MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
export const REJECTION_CODE_TRAILER = "liaison-rejection-code";

/** A request as a handler sees it: the decoded view and the exact bytes it came from. */
export interface Received<Desc extends DescMessage> {
  readonly message: MessageShape<Desc>;
  readonly bytes: Uint8Array;
}

export type UnaryHandler<I extends DescMessage, O extends DescMessage, Ctx> = (
  request: Received<I>,
  context: Ctx,
) => Promise<MessageShape<O> | Uint8Array>;

type MethodsOf<S extends DescService> = S["method"];
export type ServiceHandlers<S extends DescService, Ctx> = {
  [K in keyof MethodsOf<S>]: MethodsOf<S>[K] extends DescMethod & { methodKind: "unary"; input: infer I; output: infer O }
    ? I extends DescMessage
      ? O extends DescMessage
        ? UnaryHandler<I, O, Ctx>
        : never
      : never
    : never;
};

function rawDefinition(method: DescMethod): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  };
}

/** Build the grpc-js service definition for a generated service (unary methods). */
export function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") throw new TypeError(`only unary methods are supported: ${method.name}`);
    def[method.localName] = rawDefinition(method);
  }
  return def as grpc.ServiceDefinition;
}

/** Status metadata for a refusal: status, short reason, and the typed Rejection detail. */
export function refusalMetadata(error: LiaisonError, messageId = ""): grpc.Metadata {
  const md = new grpc.Metadata();
  const rejection = create(RejectionSchema, { code: error.code, reason: error.message, messageId });
  const statusDetail = create(StatusSchema, {
    code: error.grpcStatus,
    message: error.message,
    details: [anyPack(RejectionSchema, rejection)],
  });
  md.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, statusDetail)));
  md.set(REJECTION_CODE_TRAILER, error.code);
  return md;
}

export interface ImplementOptions<Ctx> {
  /** Resolves the typed per-call context (e.g. the authenticated partner) or throws a LiaisonError. */
  context: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => Ctx | Promise<Ctx>;
  logger?: Logger;
}

/**
 * Wrap every handler of a service: resolve the context, decode the request, run, encode the
 * response; anything thrown becomes a status with a Rejection detail. The cause is logged here,
 * never sent.
 */
export function implementService<S extends DescService, Ctx>(
  service: S,
  handlers: ServiceHandlers<S, Ctx>,
  options: ImplementOptions<Ctx>,
): grpc.UntypedServiceImplementation {
  const logger = options.logger ?? createLogger("transport");
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = (handlers as Record<string, UnaryHandler<DescMessage, DescMessage, Ctx>>)[method.localName];
    if (!handler) throw new TypeError(`no handler for ${service.typeName}.${method.name}`);
    impl[method.localName] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const run = async (): Promise<Buffer> => {
        const ctx = await options.context(call);
        const bytes = new Uint8Array(call.request.buffer, call.request.byteOffset, call.request.byteLength);
        const message = decodeUntrusted(method.input, bytes, `${method.name} request`);
        const out = await handler({ message, bytes }, ctx);
        const outBytes = out instanceof Uint8Array ? out : toBinary(method.output, out as never);
        return Buffer.from(outBytes.buffer, outBytes.byteOffset, outBytes.byteLength);
      };
      run().then(
        (response) => callback(null, response),
        (thrown: unknown) => {
          const error = toLiaisonError(thrown);
          const level = error.code === "INTERNAL" ? "error" : "warn";
          logger.log(level, "request refused", {
            method: `${service.typeName}/${method.name}`,
            code: error.code,
            reason: error.message,
            peer: call.getPeer(),
            cause: error.code === "INTERNAL" ? thrown : error.cause,
          });
          callback({
            code: error.grpcStatus,
            details: `${error.code}: ${error.message}`,
            metadata: refusalMetadata(error, error.messageId),
          });
        },
      );
    };
  }
  return impl;
}

/**
 * Run every method of a service inside the correlation id its caller sent as `x-correlation-id`
 * metadata (the gateway's request id on the local API, the sender's on the peer API), so that
 * every log line of the call carries it. A malformed id is ignored, not refused.
 */
export function withCallerCorrelation(impl: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(impl)) {
    const handler = fn as (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void;
    out[name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const value = call.metadata.get(CORRELATION_ID_HEADER)[0];
      return withCorrelationId(typeof value === "string" ? value : undefined, () => handler(call, callback));
    };
  }
  return out;
}

/** The typed Rejection detail of a gRPC error, if the partner sent one. */
export function rejectionDetail(error: grpc.ServiceError): Rejection | undefined {
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  if (!(raw instanceof Buffer)) return undefined;
  try {
    const statusDetail = fromBinary(StatusSchema, raw);
    for (const detail of statusDetail.details) {
      const rejection = anyUnpack(detail, RejectionSchema);
      if (rejection) return rejection;
    }
  } catch {
    // A partner's malformed detail is ignored: the status and message still stand.
  }
  return undefined;
}

/**
 * A server-side limit on how long one call may take, whatever deadline the client asked for: a
 * partner that opens streams and never finishes them (slowloris) gets DEADLINE_EXCEEDED with a
 * Rejection, and its streams are freed.
 */
export function callDeadline(ms: number): grpc.ServerInterceptor {
  return (_method, call) => {
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        timer = setTimeout(() => {
          if (finished) return;
          finished = true;
          const error = new LiaisonError("PEER_CALL_TIMEOUT", `the call did not complete within ${ms} ms`);
          call.sendStatus({ code: error.grpcStatus, details: `${error.code}: ${error.message}`, metadata: refusalMetadata(error) });
        }, ms);
        timer.unref();
        next();
      },
      sendStatus(status, next) {
        clearTimeout(timer);
        if (finished) return;
        finished = true;
        next(status);
      },
    });
  };
}

/** Read a partner's refusal from a client-side gRPC error: status, reason and code as received. */
export function peerRejectionFrom(error: grpc.ServiceError): PeerRejectedError {
  const detail = rejectionDetail(error);
  const trailer = error.metadata?.get(REJECTION_CODE_TRAILER)[0];
  const peerCode = detail?.code || (typeof trailer === "string" ? trailer : undefined);
  const reason = detail?.reason || error.details || error.message;
  return new PeerRejectedError(error.code as GrpcStatus, reason, peerCode, { cause: error });
}

export { LiaisonError };
