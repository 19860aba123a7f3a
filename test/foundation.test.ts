/**
 * The first signed delivery between two real nodes on 127.0.0.1: real mTLS, real signatures,
 * the official driver against the embedded store. Then every way a partner can get it wrong.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { MessageSchema } from "../gen/liaison/v1/message_pb.ts";
import { ReceiptSchema, SignedEnvelopeSchema, SignedReceiptSchema } from "../gen/liaison/v1/envelope_pb.ts";
import { PeerApi } from "../gen/liaison/v1/peer_pb.ts";
import { fromBinary } from "@bufbuild/protobuf";
import {
  createPartyCa,
  generateSigningKey,
  issueCertificate,
  loadIdentity,
  privateKeyFromPem,
  rotateSigningKey,
  signDetached,
} from "../services/identity/index.ts";
import { PeerClient, partnerChannelCredentials } from "../services/transport/index.ts";
import type { PeerRejectedError } from "../services/errors/index.ts";
import { onboard, startCluster, wantedPersonNotice, type Cluster } from "./support/cluster.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";

let cluster: Cluster;

before(async () => {
  cluster = await startCluster([VN, CN]);
});
after(async () => {
  await cluster?.close();
});

/** A client to CN's peer API presenting the given certificate. */
function clientWith(certPem: string, keyPem: string): PeerClient {
  const cn = cluster.node(CN);
  return new PeerClient({
    address: cn.peerAddress,
    credentials: partnerChannelCredentials({
      partnerParty: CN,
      partnerCaPem: cn.identity.caCertPem,
      ownCertificatePem: certPem,
      ownPrivateKeyPem: keyPem,
    }),
    timeoutMs: 10_000,
  });
}

/** VN's own, legitimate client to CN. */
function vnClient(): PeerClient {
  const vn = cluster.node(VN);
  return clientWith(vn.identity.tlsCertPem, vn.identity.tlsKeyPem);
}

/** Sign message bytes as VN would, with a chosen key. */
async function envelopeBytes(messageBytes: Uint8Array, key = cluster.node(VN).identity.activeSigningKey): Promise<Uint8Array> {
  const jws = await signDetached(messageBytes, key.privateKey, { kid: key.kid, typ: "liaison-message+jws" });
  return toBinary(SignedEnvelopeSchema, create(SignedEnvelopeSchema, { message: messageBytes, jws }));
}

async function deliverRaw(client: PeerClient, bytes: Uint8Array): Promise<Uint8Array> {
  return client.call(PeerApi.method.deliver, bytes);
}

async function refusal(promise: Promise<unknown>): Promise<PeerRejectedError> {
  try {
    await promise;
  } catch (error) {
    return error as PeerRejectedError;
  }
  assert.fail("expected the partner to refuse");
}

async function receivedCount(): Promise<number> {
  return cluster.node(CN).db.collection("envelopes_received").countDocuments({});
}

describe("signed delivery between two nodes over mutual TLS", () => {
  it("delivers a notice and both sides hold the same envelope bytes and receipt", async () => {
    const vn = cluster.node(VN);
    const cn = cluster.node(CN);
    const message = wantedPersonNotice({ sender: VN, recipients: [CN] });
    const outcome = await vn.send(message);
    assert.equal(outcome.failures.size, 0, [...outcome.failures.values()].map((e) => e.message).join());
    const receipt = outcome.receipts.get(CN)!;
    assert.equal(receipt.messageId, message.header!.messageId);
    assert.equal(receipt.receiverParty, CN);

    const sent = await vn.db.collection("envelopes_sent").findOne({ _id: message.header!.messageId as never });
    const received = await cn.db.collection("envelopes_received").findOne({ _id: message.header!.messageId as never });
    assert.ok(sent && received);
    const sentBytes = Buffer.from(sent.envelope.buffer);
    assert.deepEqual(Buffer.from(received.envelope.buffer), sentBytes);
    assert.deepEqual(Buffer.from(receipt.envelopeSha256), createHash("sha256").update(sentBytes).digest());
    // The receipt the sender kept is byte for byte the one the receiver issued.
    assert.deepEqual(Buffer.from(sent.deliveries[CN].signedReceipt.buffer), Buffer.from(received.signedReceipt.buffer));
    assert.equal(sent.deliveries[CN].status, "receipted");
    assert.equal(sent.deliveries[CN].ledgerIndex, Number(receipt.ledgerIndex));
  });

  it("answers a replayed envelope with the earlier receipt and records nothing twice", async () => {
    const message = wantedPersonNotice({ sender: VN, recipients: [CN] });
    const bytes = await envelopeBytes(toBinary(MessageSchema, message));
    const client = vnClient();
    const first = await deliverRaw(client, bytes);
    const before = await receivedCount();
    const second = await deliverRaw(client, bytes);
    assert.deepEqual(Buffer.from(second), Buffer.from(first));
    assert.equal(await receivedCount(), before);
    client.close();
  });

  it("refuses a different envelope that reuses a message id", async () => {
    const messageId = randomUUID();
    const client = vnClient();
    await deliverRaw(client, await envelopeBytes(toBinary(MessageSchema, wantedPersonNotice({ sender: VN, recipients: [CN], messageId }))));
    const other = wantedPersonNotice({ sender: VN, recipients: [CN], messageId, title: "something else" });
    const error = await refusal(deliverRaw(client, await envelopeBytes(toBinary(MessageSchema, other))));
    assert.equal(error.peerStatus, grpc.status.ALREADY_EXISTS);
    assert.equal(error.peerCode, "MESSAGE_ID_REUSED");
    client.close();
  });
});

describe("a partner node refuses", () => {
  it("a client certificate from an unknown CA", async () => {
    const now = new Date();
    const rogueCa = await createPartyCa({ party: VN, displayName: "Rogue", now, bits: 2048 });
    const cert = await issueCertificate(rogueCa, { party: VN, notBefore: now, notAfter: new Date(now.getTime() + 86400_000) });
    const before = await receivedCount();
    const client = clientWith(cert.certPem, cert.keyPem!);
    const message = wantedPersonNotice({ sender: VN, recipients: [CN] });
    const error = await refusal(deliverRaw(client, await envelopeBytes(toBinary(MessageSchema, message))));
    assert.equal(error.peerStatus, grpc.status.UNAUTHENTICATED);
    assert.equal(error.peerCode, "PEER_UNKNOWN");
    assert.equal(await receivedCount(), before);
    client.close();
  });

  it("a certificate from a partner CA that names another party", async () => {
    const vnIdentity = cluster.node(VN).identity;
    const now = new Date();
    const ca = { certPem: vnIdentity.caCertPem, key: privateKeyFromPem(readFileSync(join(cluster.folders.get(VN)!.identityDir, "ca.key"), "utf8")) };
    const cert = await issueCertificate(ca, { party: "KH-MOI", notBefore: now, notAfter: new Date(now.getTime() + 86400_000) });
    const client = clientWith(cert.certPem, cert.keyPem!);
    const error = await refusal(deliverRaw(client, await envelopeBytes(toBinary(MessageSchema, wantedPersonNotice({ sender: VN, recipients: [CN] })))));
    assert.equal(error.peerStatus, grpc.status.PERMISSION_DENIED);
    assert.equal(error.peerCode, "PEER_PARTY_MISMATCH");
    client.close();
  });

  it("an expired certificate", async () => {
    const vnIdentity = cluster.node(VN).identity;
    const ca = { certPem: vnIdentity.caCertPem, key: privateKeyFromPem(readFileSync(join(cluster.folders.get(VN)!.identityDir, "ca.key"), "utf8")) };
    const cert = await issueCertificate(ca, {
      party: VN,
      notBefore: new Date(Date.now() - 10 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    const client = clientWith(cert.certPem, cert.keyPem!);
    const error = await refusal(deliverRaw(client, await envelopeBytes(toBinary(MessageSchema, wantedPersonNotice({ sender: VN, recipients: [CN] })))));
    assert.equal(error.peerStatus, grpc.status.UNAUTHENTICATED);
    assert.equal(error.peerCode, "PEER_UNKNOWN");
    client.close();
  });

  it("an envelope with one payload byte tampered", async () => {
    const messageBytes = toBinary(MessageSchema, wantedPersonNotice({ sender: VN, recipients: [CN] }));
    const good = await envelopeBytes(messageBytes);
    const envelope = fromBinary(SignedEnvelopeSchema, good);
    const tampered = new Uint8Array(envelope.message);
    const at = tampered.length - 5;
    tampered[at] = tampered[at]! ^ 0x01;
    const bytes = toBinary(SignedEnvelopeSchema, create(SignedEnvelopeSchema, { message: tampered, jws: envelope.jws }));
    const before = await receivedCount();
    const client = vnClient();
    const error = await refusal(deliverRaw(client, bytes));
    assert.equal(error.peerStatus, grpc.status.UNAUTHENTICATED);
    assert.equal(error.peerCode, "SIGNATURE_INVALID");
    assert.equal(await receivedCount(), before);
    client.close();
  });

  it("a signature by a key no CA attested", async () => {
    const key = await generateSigningKey();
    const bytes = await envelopeBytes(toBinary(MessageSchema, wantedPersonNotice({ sender: VN, recipients: [CN] })), key);
    const client = vnClient();
    const error = await refusal(deliverRaw(client, bytes));
    assert.equal(error.peerStatus, grpc.status.UNAUTHENTICATED);
    assert.equal(error.peerCode, "KEY_UNKNOWN");
    client.close();
  });

  it("a message whose recipients do not include it", async () => {
    const bytes = await envelopeBytes(toBinary(MessageSchema, wantedPersonNotice({ sender: VN, recipients: ["KH-MOI"] })));
    const client = vnClient();
    const error = await refusal(deliverRaw(client, bytes));
    assert.equal(error.peerStatus, grpc.status.PERMISSION_DENIED);
    assert.equal(error.peerCode, "NOT_A_RECIPIENT");
    const recorded = await cluster.node(CN).db.collection("envelopes_rejected").countDocuments({ code: "NOT_A_RECIPIENT" });
    assert.ok(recorded >= 1, "the refusal is recorded as rejected");
    client.close();
  });

  it("a stale message", async () => {
    const createdAt = new Date(Date.now() - 30 * 86400_000);
    const bytes = await envelopeBytes(toBinary(MessageSchema, wantedPersonNotice({ sender: VN, recipients: [CN], createdAt })));
    const client = vnClient();
    const error = await refusal(deliverRaw(client, bytes));
    assert.equal(error.peerStatus, grpc.status.FAILED_PRECONDITION);
    assert.equal(error.peerCode, "MESSAGE_STALE");
    client.close();
  });

  it("a message signed by another party than the TLS peer claims to be", async () => {
    const message = wantedPersonNotice({ sender: CN, recipients: [CN, VN] });
    const bytes = await envelopeBytes(toBinary(MessageSchema, message));
    const client = vnClient();
    const error = await refusal(deliverRaw(client, bytes));
    assert.equal(error.peerCode, "SENDER_NOT_SIGNER");
    assert.equal(error.peerStatus, grpc.status.PERMISSION_DENIED);
    client.close();
  });

  it("a 5 MiB payload, storing nothing", async () => {
    const before = await receivedCount();
    const bytes = await envelopeBytes(toBinary(MessageSchema, wantedPersonNotice({ sender: VN, recipients: [CN], padding: 5 * 1024 * 1024 })));
    const client = vnClient();
    const error = await refusal(deliverRaw(client, bytes));
    assert.equal(error.peerStatus, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(await receivedCount(), before);
    client.close();
  });

  it("malformed protobuf bytes", async () => {
    const client = vnClient();
    const error = await refusal(deliverRaw(client, Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])));
    assert.equal(error.peerStatus, grpc.status.INVALID_ARGUMENT);
    assert.equal(error.peerCode, "ENVELOPE_MALFORMED");
    client.close();
  });

  it("a new message signed by a rotated-out key, while an old message signed by it still verifies", async () => {
    const vnFolder = cluster.folders.get(VN)!;
    const oldKey = (await loadIdentity(vnFolder.identityDir)).activeSigningKey;
    const oldMessage = wantedPersonNotice({ sender: VN, recipients: [CN], createdAt: new Date() });
    const oldEnvelope = await envelopeBytes(toBinary(MessageSchema, oldMessage), oldKey);
    await new Promise((r) => setTimeout(r, 1100));
    await rotateSigningKey(vnFolder.identityDir);
    // CN learns of the rotation from VN's new bundle.
    await onboard(cluster.folders.get(CN)!, vnFolder, cluster.node(VN).peerAddress);
    await cluster.node(CN).partners.refresh(true);

    const newMessage = wantedPersonNotice({ sender: VN, recipients: [CN], createdAt: new Date(Date.now() + 1000) });
    const client = vnClient();
    const error = await refusal(deliverRaw(client, await envelopeBytes(toBinary(MessageSchema, newMessage), oldKey)));
    assert.equal(error.peerStatus, grpc.status.UNAUTHENTICATED);
    assert.equal(error.peerCode, "KEY_NOT_VALID_AT_TIME");

    const receiptBytes = await deliverRaw(client, oldEnvelope);
    const receipt = fromBinary(ReceiptSchema, fromBinary(SignedReceiptSchema, receiptBytes).receipt);
    assert.equal(receipt.messageId, oldMessage.header!.messageId);
    client.close();
  });
});
