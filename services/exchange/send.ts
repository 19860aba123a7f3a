/**
 * Sending: seal a message (sign the exact bytes), record it, deliver it to each recipient and
 * keep each recipient's verified receipt. The envelope bytes are built once and never rebuilt:
 * what was signed is what is stored, sent, hashed and receipted.
 *
 * (The durable outbox with retries and per-partner ordering builds on `deliverOnce`.)
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Collection, Db } from "mongodb";
import { Binary } from "mongodb";
import { MessageSchema, type Message } from "../../gen/liaison/v1/message_pb.ts";
import { ReceiptSchema, SignedEnvelopeSchema, SignedReceiptSchema, type Receipt } from "../../gen/liaison/v1/envelope_pb.ts";
import { PeerApi } from "../../gen/liaison/v1/peer_pb.ts";
import { LiaisonError, refusalCodeOf } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { decodeUntrusted, encode, type PeerClient } from "../transport/index.ts";
import { checkHeaderShape, checkSchema } from "./rules.ts";
import { sha256 } from "./receive.ts";
import { JWS_TYP_MESSAGE, JWS_TYP_RECEIPT } from "../identity/index.ts";
import type { LedgerAppend, OnRecorded, ReceiptSigner, SignatureCheck } from "./ports.ts";

export interface SealedEnvelope {
  messageId: string;
  recipients: string[];
  /** The exact SignedEnvelope bytes that go on the wire. */
  envelopeBytes: Uint8Array;
  envelopeSha256: Uint8Array;
}

export interface DeliveryState {
  status: "pending" | "receipted" | "rejected";
  attempts: number;
  lastError?: string;
  rejectionCode?: string;
  receivedAt?: Date;
  ledgerIndex?: number;
  signedReceipt?: Binary;
}

export interface SentEnvelopeDoc {
  _id: string;
  createdAt: Date;
  bodyKind: string;
  envelope: Binary;
  envelopeSha256: Binary;
  ledgerIndex: number;
  /** The recipients, as an indexable array (the same keys as `deliveries`). */
  recipients: string[];
  deliveries: Record<string, DeliveryState>;
}

export interface SenderOptions {
  party: string;
  db: Db;
  sign: ReceiptSigner;
  verifySignature: SignatureCheck;
  appendToLedger: LedgerAppend;
  /** Domain projections, run once the envelope is sealed and recorded. */
  onRecorded?: OnRecorded;
}

export class Sender {
  private readonly log = createLogger("exchange", { direction: "out" });
  readonly sent: Collection<SentEnvelopeDoc>;

  constructor(private readonly options: SenderOptions) {
    this.sent = options.db.collection<SentEnvelopeDoc>("envelopes_sent");
  }

  /** Indexes this context relies on; idempotent. */
  async init(): Promise<void> {
    await this.sent.createIndex({ recipients: 1, createdAt: -1 });
  }

  /**
   * Sign a message and record it as sent (ledger entry "envelope.sent"), before any delivery, so
   * a crash after this point loses nothing. The message must already be complete and approved.
   */
  async seal(message: Message): Promise<SealedEnvelope> {
    checkHeaderShape(message);
    checkSchema(message);
    if (message.header.senderParty !== this.options.party) {
      throw new TypeError(`cannot seal a message whose sender is ${message.header.senderParty}`);
    }
    const messageBytes = encode(MessageSchema, message);
    const jws = await this.options.sign(messageBytes, JWS_TYP_MESSAGE);
    const envelopeBytes = encode(SignedEnvelopeSchema, create(SignedEnvelopeSchema, { message: messageBytes, jws }));
    const envelopeSha256 = sha256(envelopeBytes);
    const ledgerIndex = await this.options.appendToLedger("envelope.sent", envelopeBytes);
    const deliveries: Record<string, DeliveryState> = {};
    for (const party of message.header.recipientParties) deliveries[party] = { status: "pending", attempts: 0 };
    await Promise.all([
      this.sent.insertOne({
        _id: message.header.messageId,
        createdAt: new Date(),
        bodyKind: message.body.case ?? "",
        envelope: new Binary(envelopeBytes),
        envelopeSha256: new Binary(envelopeSha256),
        ledgerIndex,
        recipients: [...message.header.recipientParties],
        deliveries,
      }),
      this.options.onRecorded?.({
        direction: "sent",
        messageId: message.header.messageId,
        message,
        envelopeBytes,
        ledgerIndex,
        recordedAt: new Date(),
      }),
    ]);
    return { messageId: message.header.messageId, recipients: [...message.header.recipientParties], envelopeBytes, envelopeSha256 };
  }

  /** A sealed envelope as recorded, by message id (the outbox delivers from this). */
  async sealedById(messageId: string): Promise<SealedEnvelope | undefined> {
    const doc = await this.sent.findOne({ _id: messageId });
    if (!doc) return undefined;
    return {
      messageId,
      recipients: Object.keys(doc.deliveries),
      envelopeBytes: new Uint8Array(doc.envelope.buffer),
      envelopeSha256: new Uint8Array(doc.envelopeSha256.buffer),
    };
  }

  /**
   * One delivery attempt to one recipient. On success the receipt is verified (signed by that
   * partner, about exactly these bytes), recorded in the ledger and kept; on refusal the partner's
   * answer is recorded and rethrown as a PeerRejectedError.
   */
  async deliverOnce(sealed: SealedEnvelope, recipient: string, client: PeerClient): Promise<Receipt> {
    const key = `deliveries.${recipient}`;
    try {
      const signedReceiptBytes = await client.call(PeerApi.method.deliver, sealed.envelopeBytes);
      const receipt = await this.verifyReceipt(signedReceiptBytes, sealed, recipient);
      await Promise.all([
        this.options.appendToLedger("receipt.received", signedReceiptBytes),
        this.sent.updateOne(
          { _id: sealed.messageId },
          {
            $set: {
              [`${key}.status`]: "receipted",
              [`${key}.receivedAt`]: receipt.receivedAt ? new Date(Number(receipt.receivedAt.seconds) * 1000) : new Date(),
              [`${key}.ledgerIndex`]: Number(receipt.ledgerIndex),
              [`${key}.signedReceipt`]: new Binary(signedReceiptBytes),
            },
            $inc: { [`${key}.attempts`]: 1 },
            $unset: { [`${key}.lastError`]: "" },
          },
        ),
      ]);
      this.log.info("delivered", { messageId: sealed.messageId, recipient, ledgerIndex: Number(receipt.ledgerIndex) });
      return receipt;
    } catch (error) {
      const e = error instanceof LiaisonError ? error : new LiaisonError("INTERNAL", "delivery failed", { cause: error });
      const rejected = e.hasLabel("PeerRejected");
      await this.sent.updateOne(
        { _id: sealed.messageId },
        {
          $set: {
            [`${key}.status`]: rejected ? "rejected" : "pending",
            [`${key}.lastError`]: e.message,
            ...(rejected ? { [`${key}.rejectionCode`]: refusalCodeOf(e) } : {}),
          },
          $inc: { [`${key}.attempts`]: 1 },
        },
      );
      if (rejected) {
        await this.options.appendToLedger(
          "envelope.refused-by-partner",
          new TextEncoder().encode(JSON.stringify({ messageId: sealed.messageId, recipient, reason: e.message })),
        );
      }
      this.log.warn("delivery failed", { messageId: sealed.messageId, recipient, code: e.code, reason: e.message });
      throw e;
    }
  }

  /** A receipt is good only if the recipient signed it and it names exactly what we sent. */
  async verifyReceipt(signedReceiptBytes: Uint8Array, sealed: SealedEnvelope, recipient: string): Promise<Receipt> {
    const signed = decodeUntrusted(SignedReceiptSchema, signedReceiptBytes, "the partner's receipt");
    const signer = await this.options.verifySignature(signed.jws, signed.receipt, JWS_TYP_RECEIPT);
    if (signer.party !== recipient) throw new LiaisonError("SENDER_NOT_SIGNER", "the receipt is not signed by the recipient");
    const receipt = decodeUntrusted(ReceiptSchema, signed.receipt, "the partner's receipt");
    // The key must have been valid when the receipt says the envelope was received (PROTOCOL §8).
    const receivedAt = receipt.receivedAt ? timestampDate(receipt.receivedAt) : undefined;
    if (!receivedAt || receivedAt < signer.validFrom || (signer.retiredAt !== undefined && receivedAt >= signer.retiredAt)) {
      throw new LiaisonError("KEY_NOT_VALID_AT_TIME", "the receipt's signing key was not valid at its received_at");
    }
    if (
      receipt.messageId !== sealed.messageId ||
      receipt.receiverParty !== recipient ||
      receipt.senderParty !== this.options.party ||
      !Buffer.from(receipt.envelopeSha256).equals(Buffer.from(sealed.envelopeSha256))
    ) {
      throw new LiaisonError("SIGNATURE_INVALID", "the receipt does not describe the envelope that was sent");
    }
    return receipt;
  }
}
