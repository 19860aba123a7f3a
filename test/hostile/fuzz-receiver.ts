/**
 * Property-based fuzz of the receiver pipeline (fast-check), against a real node over mTLS.
 *
 * Property: a valid envelope with random byte mutations (flip, insert, delete, truncate) is
 * either refused — with a status and a Rejection that agree — or carries exactly the original
 * signed message and JWS (then it is accepted at most once per message id, and the same bytes
 * again get the same receipt). After every case: the node still serves an honest delivery (no
 * crash, no wedged handler), and every `envelopes_received` document is in state "recorded"
 * (nothing half-written).
 *
 * Used by fuzz.test.ts (bounded) and scripts/fuzz.ts (long run).
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { fromBinary } from "@bufbuild/protobuf";
import { SignedEnvelopeSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import { MessageSchema } from "../../gen/liaison/v1/message_pb.ts";
import { AdversaryPeer, buildMessage, describeOutcome, readPartyMaterial, sealedEnvelope } from "../support/adversary.ts";
import { CN, KH, startHostileCluster, VN } from "./support.ts";

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; byte: number }
  | { kind: "delete"; at: number }
  | { kind: "truncate"; at: number };

export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Array.from(bytes);
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + (m.kind === "insert" ? 1 : 0));
    if (m.kind === "flip" && out.length > 0) out[at] = out[at]! ^ (1 << m.bit);
    else if (m.kind === "insert") out.splice(at, 0, m.byte);
    else if (m.kind === "delete" && out.length > 0) out.splice(at, 1);
    else if (m.kind === "truncate") out = out.slice(0, at);
  }
  return Uint8Array.from(out);
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

/** gRPC status of each code the receiver may answer a mutated envelope with (PROTOCOL §9). */
const STATUS_OF: Record<string, grpc.status> = {
  ENVELOPE_MALFORMED: grpc.status.INVALID_ARGUMENT,
  ENVELOPE_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  ALGORITHM_NOT_ALLOWED: grpc.status.UNAUTHENTICATED,
  KEY_UNKNOWN: grpc.status.UNAUTHENTICATED,
  SIGNATURE_INVALID: grpc.status.UNAUTHENTICATED,
  KEY_NOT_VALID_AT_TIME: grpc.status.UNAUTHENTICATED,
  SENDER_NOT_SIGNER: grpc.status.PERMISSION_DENIED,
  SENDER_NOT_PEER: grpc.status.PERMISSION_DENIED,
  NOT_A_RECIPIENT: grpc.status.PERMISSION_DENIED,
  MESSAGE_ID_REUSED: grpc.status.ALREADY_EXISTS,
  SCHEMA_INVALID: grpc.status.INVALID_ARGUMENT,
};

export interface FuzzStats {
  cases: number;
  refused: Record<string, number>;
  acceptedVariants: number;
  acceptedOriginals: number;
  honestPings: number;
  seconds: number;
  seed: number;
}

export interface FuzzOptions {
  numRuns: number;
  seed?: number;
  /** Originals to mutate; half are delivered before the run (their replays are exercised). */
  pool?: number;
  onProgress?: (done: number) => void;
}

export async function fuzzReceiver(options: FuzzOptions): Promise<FuzzStats> {
  const cluster = await startHostileCluster([VN, CN, KH]);
  const started = performance.now();
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const stats: FuzzStats = { cases: 0, refused: {}, acceptedVariants: 0, acceptedOriginals: 0, honestPings: 0, seconds: 0, seed };
  const vn = await readPartyMaterial(cluster.folder(VN).identityDir);
  const kh = await readPartyMaterial(cluster.folder(KH).identityDir);
  const cn = cluster.node(CN);
  const address = cn.peerAddress;
  const adversary = new AdversaryPeer({ address, tls: { certPem: vn.tlsCertPem, keyPem: vn.tlsKeyPem }, serverCaPem: cn.identity.caCertPem });
  const honest = new AdversaryPeer({ address, tls: { certPem: kh.tlsCertPem, keyPem: kh.tlsKeyPem }, serverCaPem: cn.identity.caCertPem });
  const received = cn.db.collection<{ _id: string; state: string; envelope: { buffer: Uint8Array } }>("envelopes_received");
  try {
    const originals = Array.from({ length: options.pool ?? 16 }, () => sealedEnvelope(buildMessage({ sender: VN, recipients: [CN] }), vn.signingKey));
    const decodedOriginals = originals.map((o) => fromBinary(SignedEnvelopeSchema, o));
    for (let i = 0; i < originals.length; i += 2) assert.ok((await adversary.deliver(originals[i]!)).ok);

    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (pick, mutations) => {
        const index = pick % originals.length;
        const original = decodedOriginals[index]!;
        const messageId = fromBinary(MessageSchema, original.message).header!.messageId;
        const bytes = mutate(originals[index]!, mutations);
        const before = await received.countDocuments({});
        const outcome = await adversary.deliver(bytes);
        stats.cases++;
        if (outcome.ok) {
          // Accepted: it must be the original signed content, recorded once under its id.
          const variant = fromBinary(SignedEnvelopeSchema, bytes);
          assert.deepEqual(Buffer.from(variant.message), Buffer.from(original.message), "accepted bytes carry the original message");
          assert.equal(variant.jws, original.jws, "accepted bytes carry the original JWS");
          assert.equal(outcome.receipt.messageId, messageId);
          const doc = await received.findOne({ _id: messageId });
          assert.ok(doc && doc.state === "recorded");
          const again = await adversary.deliver(bytes);
          assert.ok(again.ok, `replay of accepted bytes: ${describeOutcome(again)}`);
          assert.deepEqual(Buffer.from(again.signedReceipt), Buffer.from(outcome.signedReceipt), "replay gives the same receipt");
          if (Buffer.from(bytes).equals(Buffer.from(originals[index]!))) stats.acceptedOriginals++;
          else stats.acceptedVariants++;
        } else {
          const code = outcome.rejection?.code ?? `(no Rejection: ${grpc.status[outcome.status]})`;
          assert.ok(code in STATUS_OF, `refused with an unexpected code ${code} (${outcome.details})`);
          assert.equal(outcome.status, STATUS_OF[code], `${code} with status ${grpc.status[outcome.status]}`);
          assert.equal(outcome.trailerCode, code);
          assert.equal(await received.countDocuments({}), before, "a refused envelope stores nothing");
          stats.refused[code] = (stats.refused[code] ?? 0) + 1;
        }
        // Never a crash or a wedged receiver: an honest delivery is answered right after.
        const ping = await honest.deliver(sealedEnvelope(buildMessage({ sender: KH, recipients: [CN] }), kh.signingKey), 10_000);
        assert.ok(ping.ok, `honest delivery after the case: ${describeOutcome(ping)}`);
        stats.honestPings++;
        // Never half-written.
        assert.equal(await received.countDocuments({ state: { $ne: "recorded" } }), 0, "every received envelope is recorded");
        options.onProgress?.(stats.cases);
      }),
      { numRuns: options.numRuns, seed, endOnFailure: false },
    );
  } finally {
    adversary.close();
    honest.close();
    stats.seconds = (performance.now() - started) / 1000;
    await cluster.close();
  }
  return stats;
}
