/**
 * Mutual TLS for the peer API.
 *
 * Server side: the TLS layer requests a client certificate but leaves the trust decision to
 * identity's `verifyPeerCertificate`, run before any handler with the live partner list; that is how a
 * partner onboarded while the node runs is accepted without a restart, and how every refusal gets
 * a precise status instead of a bare handshake failure.
 *
 * Client side: we trust only the partner's own CA, and the server certificate must name the party
 * we meant to reach.
 */
import * as grpc from "@grpc/grpc-js";
import type { TLSSocket } from "node:tls";
import { partyFromCertificate } from "../identity/pki.ts";

class PeerServerCredentials extends grpc.ServerCredentials {
  constructor(certificatePem: string, privateKeyPem: string) {
    super(
      { requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.2" },
      { cert: [Buffer.from(certificatePem)], key: [Buffer.from(privateKeyPem)] },
    );
  }
  override _equals(other: grpc.ServerCredentials): boolean {
    return this === other;
  }
}

export function peerServerCredentials(certificatePem: string, privateKeyPem: string): grpc.ServerCredentials {
  return new PeerServerCredentials(certificatePem, privateKeyPem);
}

/**
 * The TLS connection a call arrived on. grpc-js exposes the peer certificate only for connections
 * its own TLS settings authorized, so we reach the socket through the call's HTTP/2 stream; if that
 * is ever not reachable we return undefined and the caller refuses (fail closed).
 */
export function peerTlsSocketOf(call: grpc.ServerUnaryCall<unknown, unknown>): TLSSocket | undefined {
  let layer: unknown = (call as unknown as { call?: unknown }).call;
  for (let depth = 0; layer && depth < 8; depth++) {
    const stream = (layer as { stream?: { session?: { socket?: TLSSocket } } }).stream;
    const socket = stream?.session?.socket;
    if (socket && typeof socket.getPeerCertificate === "function") return socket;
    layer = (layer as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/** The DER of the client certificate presented on this TLS connection, if any. */
export function clientCertificateOf(socket: TLSSocket | undefined): Buffer | undefined {
  const raw = socket?.getPeerCertificate(false)?.raw;
  return raw && raw.length > 0 ? raw : undefined;
}

export interface PartnerChannelOptions {
  partnerParty: string;
  partnerCaPem: string;
  ownCertificatePem: string;
  ownPrivateKeyPem: string;
}

/** Credentials to call a partner: trust only its CA; its certificate must name it. */
export function partnerChannelCredentials(options: PartnerChannelOptions): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(options.partnerCaPem),
    Buffer.from(options.ownPrivateKeyPem),
    Buffer.from(options.ownCertificatePem),
    {
      checkServerIdentity: (_host, cert) => {
        try {
          if (partyFromCertificate(cert.raw) === options.partnerParty) return undefined;
        } catch {
          // fall through: the certificate names no party, or several
        }
        return new Error(`server certificate does not name party ${options.partnerParty}`);
      },
    },
  );
}
