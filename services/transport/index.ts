// Transport: the peer API over gRPC with mutual TLS.
// End-user surface first.
export { PeerClient, type PeerClientOptions } from "./peer-client.ts";
export { peerServerCredentials, partnerChannelCredentials, clientCertificateOf, peerTlsSocketOf, type PartnerChannelOptions } from "./credentials.ts";
export {
  implementService,
  withCallerCorrelation,
  serviceDefinition,
  refusalMetadata,
  peerRejectionFrom,
  rejectionDetail,
  callDeadline,
  MAX_RECEIVE_MESSAGE_BYTES,
  REJECTION_CODE_TRAILER,
  type Received,
  type ServiceHandlers,
  type UnaryHandler,
  type ImplementOptions,
} from "./grpc.ts";
export { decodeUntrusted, encode } from "./codec.ts";
export { PartnerRateLimiter, type RateLimit } from "./rate-limit.ts";
