/**
 * Calling a partner's peer API. Requests go out as the exact bytes the caller built (an envelope
 * is sent byte for byte as signed and stored); responses come back as bytes for the caller to
 * verify before decoding. A refusal becomes a PeerRejectedError carrying the partner's status,
 * reason and code as received.
 */
import * as grpc from "@grpc/grpc-js";
import { isIP } from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import { LiaisonError, ErrorLabel } from "../errors/index.ts";
import { CORRELATION_ID_HEADER, currentCorrelationId } from "../logging/index.ts";
import { MAX_RECEIVE_MESSAGE_BYTES, peerRejectionFrom } from "./grpc.ts";

export interface PeerClientOptions {
  /** "host:port" of the partner's peer API. */
  address: string;
  credentials: grpc.ChannelCredentials;
  /** Default deadline for one call. */
  timeoutMs?: number;
}

function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const at = address.lastIndexOf(":");
  return at > 0 ? address.slice(0, at) : address;
}

export class PeerClient {
  private readonly client: grpc.Client;
  private readonly timeoutMs: number;

  constructor(options: PeerClientOptions) {
    this.client = new grpc.Client(options.address, options.credentials, {
      "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES,
      "grpc.max_send_message_length": -1,
      "grpc.keepalive_time_ms": 60_000,
      // One connection per partner, reused by every call.
      "grpc.use_local_subchannel_pool": 1,
      // TLS SNI must be a host name (RFC 6066); for an IP endpoint send a fixed one. The server's
      // identity is checked by party, not by name (see credentials.ts).
      ...(isIP(hostOf(options.address)) ? { "grpc.ssl_target_name_override": "liaison-peer" } : {}),
    });
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** Unary call with raw request bytes; resolves with the raw response bytes. */
  call(method: DescMethod, request: Uint8Array, timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    const path = `/${method.parent.typeName}/${method.name}`;
    // The partner logs its side of this call under the same correlation id as ours.
    const metadata = new grpc.Metadata();
    const correlationId = currentCorrelationId();
    if (correlationId) metadata.set(CORRELATION_ID_HEADER, correlationId);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(
        path,
        (b) => b,
        (b) => b,
        Buffer.from(request.buffer, request.byteOffset, request.byteLength),
        metadata,
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          if (error) reject(peerRejectionFrom(error));
          else if (!response) reject(new LiaisonError("UNAVAILABLE", "empty response from partner", { labels: [ErrorLabel.Retryable] }));
          else resolve(new Uint8Array(response.buffer, response.byteOffset, response.byteLength));
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
