/**
 * A hostile partner against a real node over real mutual TLS. The adversary (test/support/
 * adversary.ts) holds VN-MPS's identity folder — a partner gone rogue, or a thief of its keys —
 * plus certificates and keys of its own making. Every attack gets its precise gRPC status and
 * Rejection code (trailer and google.rpc.Status detail), nothing of it is stored but the
 * rejection record, and all the while KH-MOI, an honest partner, keeps delivering to CN-MPS.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { issueCertificate, rotateSigningKey } from "../../services/identity/index.ts";
import { resumePartner, suspendPartner } from "../../services/node/index.ts";
import { onboard } from "../support/cluster.ts";
import {
  AdversaryPeer,
  buildMessage,
  certificateFrom,
  describeOutcome,
  detachedJws,
  envelope,
  layoutOf,
  messageBytes,
  readPartyMaterial,
  rogueCa,
  sealedEnvelope,
  selfSignedCertificate,
  unattestedKey,
  withRawField,
  type Outcome,
  type PartyMaterial,
  type TlsMaterial,
} from "../support/adversary.ts";
import { assertRefused, CN, counts, HonestExchange, KH, limits, rejectionRecords, report, startHostileCluster, VN, type HostileCluster } from "./support.ts";

/** CN's envelope limit in this suite, far below gRPC's 4 MiB. */
const MAX_ENVELOPE_BYTES = 64 * 1024;

let cluster: HostileCluster;
let honest: HonestExchange;
let vn: PartyMaterial;
let kh: PartyMaterial;
let rogue: AdversaryPeer;

const observed = { push: (row: { attack: string; answer: string }) => report({ area: "hostile partner", tried: row.attack, answer: row.answer }) };

function peer(tls: TlsMaterial): AdversaryPeer {
  return new AdversaryPeer({ address: cluster.node(CN).peerAddress, tls, serverCaPem: cluster.node(CN).identity.caCertPem });
}

before(async () => {
  cluster = await startHostileCluster([VN, CN, KH], { [CN]: { limits: limits(undefined, { maxEnvelopeBytes: MAX_ENVELOPE_BYTES }) } });
  vn = await readPartyMaterial(cluster.folder(VN).identityDir);
  kh = await readPartyMaterial(cluster.folder(KH).identityDir);
  rogue = peer({ certPem: vn.tlsCertPem, keyPem: vn.tlsKeyPem });
  honest = new HonestExchange(cluster.node(KH), CN);
  await honest.progress(3);
});

after(async () => {
  rogue?.close();
  const result = await honest?.stop();
  await cluster?.close();
  if (result) {
    report({ area: "hostile partner", tried: "honest partner (KH-MOI) delivering to CN-MPS throughout the attacks above", answer: `${result.ok} receipts, ${result.failures.length} failures, slowest ${Math.round(result.maxLatencyMs)} ms` });
    assert.deepEqual(result.failures, [], "the honest partner was served throughout");
    assert.ok(result.ok > 20, `honest deliveries during the attacks: ${result.ok}`);
  }
});

interface Expect {
  status: grpc.status;
  code: string;
  /** The message id whose refusal must be recorded (authentically signed, step 9 on). */
  recordedAs?: string;
  /** Leave the row out of docs/RELIABILITY.md (a loop reports one row for all its cases). */
  quiet?: boolean;
}

/**
 * Deliver as the adversary and check: the precise refusal; nothing of VN's stored; a rejection
 * record exactly when the envelope was authentically signed; the honest partner still served.
 */
async function attack(name: string, deliver: () => Promise<Outcome>, expect: Expect): Promise<Outcome> {
  const db = cluster.node(CN).db;
  const before = await counts(db, VN);
  const recordsBefore = expect.recordedAs === undefined ? [] : await rejectionRecords(db, expect.recordedAs);
  const storedBefore = expect.recordedAs === undefined ? 0 : await db.collection("envelopes_received").countDocuments({ _id: expect.recordedAs as never });
  const outcome = await deliver();
  if (!expect.quiet) observed.push({ attack: name, answer: describeOutcome(outcome) });
  assertRefused(outcome, expect.status, expect.code);
  if (expect.recordedAs) assert.equal(outcome.ok ? undefined : outcome.rejection?.messageId, expect.recordedAs, "the Rejection detail names the refused message");
  const afterCounts = await counts(db, VN);
  assert.equal(afterCounts.received, before.received, "nothing of the adversary's is stored as received");
  if (expect.recordedAs !== undefined) {
    const records = (await rejectionRecords(db, expect.recordedAs)).slice(recordsBefore.length);
    assert.equal(records.length, 1, "the authentically signed refusal is recorded once");
    assert.equal(records[0]!.code, expect.code);
    assert.equal(records[0]!.peerParty, VN);
    assert.equal(await db.collection("envelopes_received").countDocuments({ _id: expect.recordedAs as never }), storedBefore);
  } else {
    assert.equal(afterCounts.rejected, before.rejected, "an unattributable refusal is logged, not recorded");
  }
  await honest.progress(1);
  return outcome;
}

const fresh = (over: Partial<Parameters<typeof buildMessage>[0]> = {}) => buildMessage({ sender: VN, recipients: [CN], ...over });

describe("the peer API refuses, before any handler runs,", () => {
  it("a client certificate from an unknown CA", async () => {
    const ca = await rogueCa(VN);
    const p = peer(await certificateFrom(ca, VN, new Date(Date.now() - 3600_000), new Date(Date.now() + 86400_000)));
    await attack("client certificate from an unknown CA", () => p.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.UNAUTHENTICATED, code: "PEER_UNKNOWN" });
    p.close();
  });

  it("a self-signed client certificate", async () => {
    const p = peer(selfSignedCertificate(VN));
    await attack("self-signed client certificate", () => p.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.UNAUTHENTICATED, code: "PEER_UNKNOWN" });
    p.close();
  });

  it("no client certificate at all", async () => {
    const credentials = grpc.credentials.createSsl(Buffer.from(cluster.node(CN).identity.caCertPem), null, null, { checkServerIdentity: () => undefined });
    const client = new grpc.Client(cluster.node(CN).peerAddress, credentials, { "grpc.ssl_target_name_override": "localhost", "grpc.use_local_subchannel_pool": 1 });
    const bare = Object.assign(Object.create(AdversaryPeer.prototype) as AdversaryPeer, { client });
    await attack("no client certificate", () => bare.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.UNAUTHENTICATED, code: "PEER_CERTIFICATE_MISSING" });
    client.close();
  });

  it("a certificate from a known partner CA that names another party", async () => {
    const p = peer(await certificateFrom({ certPem: vn.caCertPem, key: vn.caKey }, KH, new Date(Date.now() - 3600_000), new Date(Date.now() + 86400_000)));
    await attack("known CA, certificate naming another party", () => p.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.PERMISSION_DENIED, code: "PEER_PARTY_MISMATCH" });
    p.close();
  });

  it("an expired certificate", async () => {
    const p = peer(await certificateFrom({ certPem: vn.caCertPem, key: vn.caKey }, VN, new Date(Date.now() - 10 * 86400_000), new Date(Date.now() - 86400_000)));
    await attack("expired client certificate", () => p.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.UNAUTHENTICATED, code: "PEER_UNKNOWN" });
    p.close();
  });

  it("the partner's CA certificate itself, presented with the CA key", async () => {
    const p = peer({ certPem: vn.caCertPem, keyPem: vn.caKey.export({ type: "pkcs8", format: "pem" }).toString() });
    await attack("partner's CA certificate as client certificate", () => p.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.UNAUTHENTICATED, code: "PEER_UNKNOWN" });
    p.close();
  });

  it("a certificate not yet valid", async () => {
    const p = peer(await certificateFrom({ certPem: vn.caCertPem, key: vn.caKey }, VN, new Date(Date.now() + 86400_000), new Date(Date.now() + 10 * 86400_000)));
    await attack("not-yet-valid client certificate", () => p.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.UNAUTHENTICATED, code: "PEER_UNKNOWN" });
    p.close();
  });

  it("a certificate of the partner's CA that is for server authentication only", async () => {
    const cert = await issueCertificate({ certPem: vn.caCertPem, key: vn.caKey }, {
      party: VN,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 86400_000),
      extendedKeyUsage: ["serverAuth"],
    });
    const p = peer({ certPem: cert.certPem, keyPem: cert.keyPem! });
    await attack("certificate without clientAuth", () => p.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.UNAUTHENTICATED, code: "PEER_UNKNOWN" });
    p.close();
  });

  it("a suspended partner, and serves it again once resumed", async () => {
    const cnDir = cluster.folder(CN).identityDir;
    suspendPartner(cnDir, VN, "hostile test: credentials reported stolen");
    await cluster.node(CN).partners.refresh(true);
    try {
      await attack("suspended partner", () => rogue.deliver(sealedEnvelope(fresh(), vn.signingKey)), { status: grpc.status.PERMISSION_DENIED, code: "PEER_SUSPENDED" });
    } finally {
      resumePartner(cnDir, VN);
      await cluster.node(CN).partners.refresh(true);
    }
    const outcome = await rogue.deliver(sealedEnvelope(fresh(), vn.signingKey));
    assert.ok(outcome.ok, describeOutcome(outcome));
  });
});

describe("Deliver refuses an envelope", () => {
  it("signed by another party's key while naming the TLS peer as sender", async () => {
    const m = fresh();
    await attack("signed by another party's key (sender = TLS peer)", () => rogue.deliver(sealedEnvelope(m, kh.signingKey)), {
      status: grpc.status.PERMISSION_DENIED,
      code: "SENDER_NOT_SIGNER",
      recordedAs: m.header!.messageId,
    });
  });

  it("signed by another party's key and naming that party as sender (signer ≠ TLS peer)", async () => {
    const m = buildMessage({ sender: KH, recipients: [CN] });
    await attack("another party's message relayed by the TLS peer", () => rogue.deliver(sealedEnvelope(m, kh.signingKey)), {
      status: grpc.status.PERMISSION_DENIED,
      code: "SENDER_NOT_PEER",
      recordedAs: m.header!.messageId,
    });
  });

  it("whose sender is not the signer", async () => {
    const m = buildMessage({ sender: KH, recipients: [CN] });
    await attack("sender ≠ signer", () => rogue.deliver(sealedEnvelope(m, vn.signingKey)), {
      status: grpc.status.PERMISSION_DENIED,
      code: "SENDER_NOT_SIGNER",
      recordedAs: m.header!.messageId,
    });
  });

  it("signed by a key no CA attested", async () => {
    const key = await unattestedKey();
    await attack("unattested signing key", () => rogue.deliver(sealedEnvelope(fresh(), key)), { status: grpc.status.UNAUTHENTICATED, code: "KEY_UNKNOWN" });
  });

  it("whose JWS names another algorithm", async () => {
    await attack("JWS alg RS256", () => rogue.deliver(sealedEnvelope(fresh(), vn.signingKey, { alg: "RS256" })), {
      status: grpc.status.UNAUTHENTICATED,
      code: "ALGORITHM_NOT_ALLOWED",
    });
  });

  it("whose JWS header carries a member the profile does not allow", async () => {
    await attack("JWS header with crit", () => rogue.deliver(sealedEnvelope(fresh(), vn.signingKey, { extra: { crit: ["exp"] } })), {
      status: grpc.status.INVALID_ARGUMENT,
      code: "ENVELOPE_MALFORMED",
    });
  });

  it("whose JWS has the receipt typ", async () => {
    await attack("JWS typ of a receipt", () => rogue.deliver(sealedEnvelope(fresh(), vn.signingKey, { typ: "liaison-receipt+jws" })), {
      status: grpc.status.INVALID_ARGUMENT,
      code: "ENVELOPE_MALFORMED",
    });
  });

  it("addressed to another party", async () => {
    const m = buildMessage({ sender: VN, recipients: [KH] });
    await attack("message to a party that is not the receiver", () => rogue.deliver(sealedEnvelope(m, vn.signingKey)), {
      status: grpc.status.PERMISSION_DENIED,
      code: "NOT_A_RECIPIENT",
      recordedAs: m.header!.messageId,
    });
  });

  it("whose body is an unknown oneof member (field 99)", async () => {
    const m = fresh({ noBody: true });
    const bytes = withRawField(messageBytes(m), 99, Uint8Array.from([0x0a, 0x03, 0x41, 0x42, 0x43]));
    await attack("unknown oneof body (field 99)", () => rogue.deliver(sealedEnvelope(bytes, vn.signingKey)), {
      status: grpc.status.INVALID_ARGUMENT,
      code: "SCHEMA_INVALID",
      recordedAs: m.header!.messageId,
    });
  });

  it("with the same drafting and approving officer", async () => {
    const m = fresh({ drafter: "same-officer", approver: "same-officer" });
    await attack("two-person rule broken", () => rogue.deliver(sealedEnvelope(m, vn.signingKey)), {
      status: grpc.status.PERMISSION_DENIED,
      code: "TWO_PERSON_RULE",
      recordedAs: m.header!.messageId,
    });
  });

  it("that expired before delivery", async () => {
    const m = fresh({ expiresAt: new Date(Date.now() - 1000) });
    await attack("expired message", () => rogue.deliver(sealedEnvelope(m, vn.signingKey)), {
      status: grpc.status.FAILED_PRECONDITION,
      code: "MESSAGE_EXPIRED",
      recordedAs: m.header!.messageId,
    });
  });

  it("replayed: the same receipt again, no second record", async () => {
    const bytes = sealedEnvelope(fresh(), vn.signingKey);
    const first = await rogue.deliver(bytes);
    assert.ok(first.ok, describeOutcome(first));
    const db = cluster.node(CN).db;
    const before = await counts(db, VN);
    const entriesBefore = await db.collection("ledger_entries").countDocuments({ kind: "envelope.received" });
    for (let i = 0; i < 5; i++) {
      const again = await rogue.deliver(bytes);
      assert.ok(again.ok);
      assert.deepEqual(Buffer.from(again.signedReceipt), Buffer.from(first.signedReceipt), "byte-identical receipt");
    }
    observed.push({ attack: "replay of an accepted envelope (5×)", answer: "OK, the same receipt bytes" });
    assert.deepEqual(await counts(db, VN), before);
    // honest traffic appends too; none of those entries may be ours
    const ours = await db.collection("envelopes_received").countDocuments({ _id: first.receipt.messageId as never });
    assert.equal(ours, 1);
    assert.ok((await db.collection("ledger_entries").countDocuments({ kind: "envelope.received" })) >= entriesBefore);
  });

  it("that reuses an accepted message id with different bytes", async () => {
    const messageId = randomUUID();
    const first = await rogue.deliver(sealedEnvelope(fresh({ messageId }), vn.signingKey));
    assert.ok(first.ok);
    await attack("message id reused by a different envelope", () => rogue.deliver(sealedEnvelope(fresh({ messageId, title: "changed" }), vn.signingKey)), {
      status: grpc.status.ALREADY_EXISTS,
      code: "MESSAGE_ID_REUSED",
      recordedAs: messageId,
    });
  });

  it("with one byte tampered, at every offset class (message header, body, signature, JWS header, framing)", async () => {
    const m = fresh();
    const good = sealedEnvelope(m, vn.signingKey);
    const layout = layoutOf(good);
    const [mStart] = layout.message;
    const header = layout.header!;
    const spread = (from: number, to: number, n = 6) => Array.from({ length: n }, (_, i) => Math.floor(from + ((to - from - 1) * i) / (n - 1)));
    const classes: { name: string; offsets: number[]; tamper: (b: number) => number; expect: string[] }[] = [
      { name: "message header", offsets: spread(mStart + header[0], mStart + header[1]), tamper: (b) => b ^ 0x01, expect: ["SIGNATURE_INVALID"] },
      { name: "message body", offsets: spread(mStart + header[1], layout.message[1]), tamper: (b) => b ^ 0x01, expect: ["SIGNATURE_INVALID"] },
      // a different base64url character (not the last one, whose low bits are padding)
      { name: "JWS signature", offsets: spread(layout.jwsSignature[0], layout.jwsSignature[1] - 1), tamper: (b) => (b === 0x41 ? 0x42 : 0x41), expect: ["SIGNATURE_INVALID"] },
      { name: "JWS protected header", offsets: spread(layout.jwsHeader[0], layout.jwsHeader[1]), tamper: (b) => (b === 0x41 ? 0x42 : 0x41), expect: ["ENVELOPE_MALFORMED", "KEY_UNKNOWN", "SIGNATURE_INVALID", "ALGORITHM_NOT_ALLOWED"] },
      { name: "protobuf framing", offsets: [0, 1, layout.jws[0] - 2, layout.jws[0] - 1], tamper: (b) => b ^ 0x80, expect: ["ENVELOPE_MALFORMED"] },
    ];
    const statusOf: Record<string, grpc.status> = {
      SIGNATURE_INVALID: grpc.status.UNAUTHENTICATED,
      KEY_UNKNOWN: grpc.status.UNAUTHENTICATED,
      ALGORITHM_NOT_ALLOWED: grpc.status.UNAUTHENTICATED,
      ENVELOPE_MALFORMED: grpc.status.INVALID_ARGUMENT,
    };
    for (const c of classes) {
      const seen = new Set<string>();
      for (const at of c.offsets) {
        const bytes = Uint8Array.from(good);
        bytes[at] = c.tamper(bytes[at]!);
        const outcome = await rogue.deliver(bytes);
        assert.equal(outcome.ok, false, `${c.name} byte ${at} tampered and accepted`);
        if (outcome.ok) continue;
        const code = outcome.rejection?.code ?? "";
        assert.ok(c.expect.includes(code), `${c.name} byte ${at}: ${code}`);
        assertRefused(outcome, statusOf[code]!, code);
        seen.add(code);
      }
      observed.push({ attack: `one byte tampered: ${c.name} (${c.offsets.length} offsets)`, answer: [...seen].map((code) => `${grpc.status[statusOf[code]!]} / ${code}`).join(", ") });
    }
    assert.equal(await cluster.node(CN).db.collection("envelopes_received").countDocuments({ _id: m.header!.messageId as never }), 0);
    // and the untampered original still goes through, once
    const outcome = await rogue.deliver(good);
    assert.ok(outcome.ok, describeOutcome(outcome));
    await honest.progress(1);
  });

  it("whose signature's last base64url character is re-encoded non-canonically", async () => {
    const m = fresh();
    const good = sealedEnvelope(m, vn.signingKey);
    const layout = layoutOf(good);
    const bytes = Uint8Array.from(good);
    const last = layout.jwsSignature[1] - 1;
    // 86 characters carry 516 bits for a 512-bit signature: the last character's low 4 bits are
    // padding. Changing only them gives the same signature bytes under a lenient decoder.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const v = alphabet.indexOf(String.fromCharCode(bytes[last]!));
    bytes[last] = alphabet.charCodeAt((v & 0x30) | ((v + 1) & 0x0f));
    await attack("signature with non-canonical base64url padding bits", () => rogue.deliver(bytes), { status: grpc.status.INVALID_ARGUMENT, code: "ENVELOPE_MALFORMED" });
    assert.equal(await cluster.node(CN).db.collection("envelopes_received").countDocuments({ _id: m.header!.messageId as never }), 0);
  });

  it("truncated anywhere", async () => {
    const good = sealedEnvelope(fresh(), vn.signingKey);
    const layout = layoutOf(good);
    const cuts = [0, 1, 2, 10, layout.message[1] - 1, layout.message[1], layout.message[1] + 2, layout.jwsSignature[0], good.length - 1];
    for (const cut of cuts) {
      await attack(`truncated at ${cut} of ${good.length}`, () => rogue.deliver(good.subarray(0, cut)), { status: grpc.status.INVALID_ARGUMENT, code: "ENVELOPE_MALFORMED", quiet: true });
    }
    observed.push({ attack: `truncated envelope (${cuts.length} cut points)`, answer: "INVALID_ARGUMENT / ENVELOPE_MALFORMED" });
  });

  it("over the configured envelope limit", async () => {
    const m = fresh({ padding: MAX_ENVELOPE_BYTES + 1 });
    await attack(`oversized: ${MAX_ENVELOPE_BYTES + 1}-byte attachment over limits.maxEnvelopeBytes = ${MAX_ENVELOPE_BYTES}`, () => rogue.deliver(sealedEnvelope(m, vn.signingKey)), {
      status: grpc.status.RESOURCE_EXHAUSTED,
      code: "ENVELOPE_TOO_LARGE",
    });
  });

  it("over gRPC's 4 MiB message limit (refused by the gRPC layer, no Rejection)", async () => {
    const db = cluster.node(CN).db;
    const before = await counts(db, VN);
    const outcome = await rogue.deliver(sealedEnvelope(fresh({ padding: 5 * 1024 * 1024 }), vn.signingKey));
    observed.push({ attack: "oversized: 5 MiB, over gRPC's 4 MiB", answer: describeOutcome(outcome) });
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.equal(outcome.status, grpc.status.RESOURCE_EXHAUSTED);
    assert.deepEqual(await counts(db, VN), before);
    await honest.progress(1);
  });

  it("deeply nested, outside and inside the signed message", async () => {
    // 100,000 nested groups of an unknown field 3 in the envelope itself
    const depth = 100_000;
    const groups = Uint8Array.from([...Array<number>(depth).fill(0x1b), ...Array<number>(depth).fill(0x1c)]);
    const good = sealedEnvelope(fresh(), vn.signingKey);
    const outer = Uint8Array.from([...good, ...groups]);
    await attack("deeply nested groups (100,000) in the envelope", () => rogue.deliver(outer), { status: grpc.status.INVALID_ARGUMENT, code: "ENVELOPE_MALFORMED" });
    // 1,000 nested groups of an unknown field inside a correctly signed message
    const m = fresh();
    const inner = Uint8Array.from([...messageBytes(m), ...Array<number>(1000).fill(0xfb).flatMap((b) => [b, 0x07]), ...Array<number>(1000).fill(0xfc).flatMap((b) => [b, 0x07])]);
    await attack("deeply nested groups (1,000) inside the signed message", () => rogue.deliver(sealedEnvelope(inner, vn.signingKey)), {
      status: grpc.status.INVALID_ARGUMENT,
      code: "ENVELOPE_MALFORMED",
      recordedAs: "",
    });
  });

  it("that is not protobuf at all, or has the wrong wire types", async () => {
    const cases: [string, Uint8Array][] = [
      ["empty request", new Uint8Array(0)],
      ["random bytes", Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) & 0xff)],
      ["field 1 as a varint", Uint8Array.from([0x08, 0x96, 0x01, 0x12, 0x02, 0x2e, 0x2e])],
      ["length past the end", Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])],
      ["jws not UTF-8", Uint8Array.from([0x0a, 0x01, 0x00, 0x12, 0x02, 0xc3, 0x28])],
      ["message missing", envelope(new Uint8Array(0), "a..b")],
      ["jws missing", envelope(Uint8Array.from([1, 2, 3]), "")],
      ["jws of four parts", envelope(Uint8Array.from([1, 2, 3]), "a..b.c")],
    ];
    for (const [name, bytes] of cases) {
      await attack(`malformed protobuf: ${name}`, () => rogue.deliver(bytes), { status: grpc.status.INVALID_ARGUMENT, code: "ENVELOPE_MALFORMED", quiet: true });
    }
    observed.push({ attack: `malformed protobuf/JWS (${cases.length} shapes: ${cases.map((c) => c[0]).join(", ")})`, answer: "INVALID_ARGUMENT / ENVELOPE_MALFORMED" });
    // a correctly signed payload that is not a Message
    const notAMessage = Uint8Array.from([0x0a, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff]);
    await attack("signed payload that is not a Message", () => rogue.deliver(envelope(notAMessage, detachedJws(notAMessage, vn.signingKey))), {
      status: grpc.status.INVALID_ARGUMENT,
      code: "ENVELOPE_MALFORMED",
      recordedAs: "",
    });
  });

  it("signed by a rotated-out key for a new message (an old one still verifies)", async () => {
    const oldKey = vn.signingKey;
    const old = fresh();
    const oldEnvelope = sealedEnvelope(old, oldKey);
    await new Promise((r) => setTimeout(r, 1100));
    await rotateSigningKey(cluster.folder(VN).identityDir);
    await onboard(cluster.folder(CN), cluster.folder(VN), cluster.node(VN).peerAddress);
    await cluster.node(CN).partners.refresh(true);
    const m = fresh({ createdAt: new Date(Date.now() + 1500) });
    await attack("new message signed by a rotated-out key", () => rogue.deliver(sealedEnvelope(m, oldKey)), {
      status: grpc.status.UNAUTHENTICATED,
      code: "KEY_NOT_VALID_AT_TIME",
      recordedAs: m.header!.messageId,
    });
    const outcome = await rogue.deliver(oldEnvelope);
    assert.ok(outcome.ok, `an old message signed before the rotation: ${describeOutcome(outcome)}`);
    vn = await readPartyMaterial(cluster.folder(VN).identityDir);
    const now = await rogue.deliver(sealedEnvelope(fresh({ createdAt: new Date(Date.now() + 1500) }), vn.signingKey));
    assert.ok(now.ok, `the new key signs: ${describeOutcome(now)}`);
  });
});

