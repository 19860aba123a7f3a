/**
 * `GET /api/trust/ca-fingerprints`: the CA fingerprints this node knows — each onboarded
 * partner's (ListPartners: the fingerprint compared out of band at onboarding) and, when the
 * gateway was given it, this party's own. The console pins each party's CA in a minutes bundle
 * to these before verifying the bundle in the browser (gateway/verifier/).
 */
import { LocalApi } from "../gen/liaison/v1/local_pb.ts";
import { normaliseFingerprint, partyFromCertificate, sha256Fingerprint, verifyCertificateIssuedBy } from "../services/identity/index.ts";
import type { RouteDef } from "./routes.ts";

export interface TrustOptions {
  /** The node's TLS certificate (names this party). */
  tlsCertPem: string;
  /** This party's CA certificate; without it the console reports this party's CA for comparison out of band. */
  caCertPem?: string;
}

/** Party → SHA-256 fingerprint (lowercase hex) of its CA, as this node knows it. */
export interface KnownFingerprints {
  party: string;
  /** This party's own CA fingerprint, when the gateway knows it. */
  ownFingerprint?: string;
  partners: Record<string, string>;
}

/** The trust route; refuses (TypeError) a `caCertPem` that did not issue the gateway's certificate. */
export function trustRoutes(options: TrustOptions): RouteDef[] {
  const party = partyFromCertificate(options.tlsCertPem);
  let ownFingerprint: string | undefined;
  if (options.caCertPem !== undefined) {
    verifyCertificateIssuedBy(options.tlsCertPem, options.caCertPem, new Date());
    if (partyFromCertificate(options.caCertPem) !== party) throw new TypeError(`caCertPem is not ${party}'s CA`);
    ownFingerprint = sha256Fingerprint(options.caCertPem);
  }
  return [
    {
      method: "GET",
      path: "/api/trust/ca-fingerprints",
      operationId: "caFingerprints",
      tag: "partners",
      auth: true,
      roles: "any officer",
      localMethod: "ListPartners",
      summary: "The CA fingerprints this node knows: its partners' (as onboarded) and its own",
      description: "What the console pins each party's CA to when it verifies a minutes bundle in the browser.",
      response: {
        description: "Fingerprints (SHA-256 of the CA certificate's DER, lowercase hex)",
        json: {
          type: "object",
          required: ["party", "partners"],
          properties: {
            party: { type: "string" },
            ownFingerprint: { type: "string", pattern: "^[0-9a-f]{64}$" },
            partners: { type: "object", additionalProperties: { type: "string", pattern: "^[0-9a-f]{64}$" } },
          },
        },
      },
      async handle(_input, ctx) {
        const { partners } = await ctx.api.call(LocalApi.method.listPartners, {}, { accessToken: ctx.accessToken, correlationId: ctx.correlationId });
        const body: KnownFingerprints = {
          party,
          ...(ownFingerprint ? { ownFingerprint } : {}),
          partners: Object.fromEntries(partners.filter((p) => p.fingerprint).map((p) => [p.party, normaliseFingerprint(p.fingerprint)])),
        };
        return { body };
      },
    },
  ];
}
