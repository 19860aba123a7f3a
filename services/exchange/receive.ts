/**
 * Receiving an envelope from a partner (PeerApi.Deliver), the checks in the protocol's order:
 * size, shape, signature, key validity at the message's time, sender = signer = TLS peer,
 * recipient, replay, freshness, schema, business rules — each with its own code. An accepted
 * envelope is recorded in the ledger and answered with a signed receipt; the same envelope
 * delivered again gets the same receipt and no second record.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Collection, Db } from "mongodb";
import { Binary, MongoServerError } from "mongodb";
import { MessageSchema, type Message } from "../../gen/liaison/v1/message_pb.ts";
import { ReceiptSchema, SignedEnvelopeSchema, SignedReceiptSchema } from "../../gen/liaison/v1/envelope_pb.ts";
import { LiaisonError, ErrorLabel, toLiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { decodeUntrusted, encode } from "../transport/index.ts";
import { JWS_TYP_MESSAGE, JWS_TYP_RECEIPT } from "../identity/index.ts";
import {
  checkFreshness,
  checkHeaderShape,
  checkRecipient,
  checkSchema,
  dateOf,
  DEFAULT_FRESHNESS,
  type FreshnessPolicy,
} from "./rules.ts";
import type { LedgerAppend, OnRecorded, ReceiptSigner, SignatureCheck } from "./ports.ts";


/** A claim older than this is taken to be from a crashed attempt and taken over. */
const STALE_CLAIM_MS = 10_000;

export interface ReceivedEnvelopeDoc {
  _id: string; // message id
  state: "recording" | "recorded";
  senderParty: string;
  envelopeSha256: Binary;
  envelope: Binary;
  bodyKind: string;
  claimedAt: Date;
  /** When the first attempt claimed it (takeovers keep it): where to look for its ledger entry. */
  firstClaimedAt: Date;
  receivedAt?: Date;
  ledgerIndex?: number;
  signedReceipt?: Binary;
}

export interface RejectionDoc {
  at: Date;
  peerParty: string;
  messageId: string;
  code: string;
  reason: string;
  envelopeSha256: Binary;
}

export interface ReceiverOptions {
  party: string;
  db: Db;
  verifySignature: SignatureCheck;
  signReceipt: ReceiptSigner;
  appendToLedger: LedgerAppend;
  maxEnvelopeBytes: number;
  freshness?: FreshnessPolicy;
  /** Business rules of the domain contexts (notices, cases, ...), run last. */
  businessRules?: (message: Message, senderParty: string) => Promise<void>;
  /** Domain projections, run once the envelope is recorded. */
  onRecorded?: OnRecorded;
  /**
   * The index of a ledger entry of `kind` with exactly `content` appended at or after `since`, if
   * any: how a takeover of a crashed attempt's claim avoids appending the same envelope twice.
   */
  findLedgerEntry?: (kind: string, content: Uint8Array, since: Date) => Promise<number | undefined>;
  clock?: () => Date;
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

export class Receiver {
  private readonly log = createLogger("exchange", { direction: "in" });
  private readonly received: Collection<ReceivedEnvelopeDoc>;
  private readonly rejections: Collection<RejectionDoc>;
  private readonly clock: () => Date;
  private readonly freshness: FreshnessPolicy;

  constructor(private readonly options: ReceiverOptions) {
    this.received = options.db.collection<ReceivedEnvelopeDoc>("envelopes_received");
    this.rejections = options.db.collection<RejectionDoc>("envelopes_rejected");
    this.clock = options.clock ?? (() => new Date());
    this.freshness = options.freshness ?? DEFAULT_FRESHNESS;
  }

  /** Indexes this context relies on; idempotent. */
  async init(): Promise<void> {
    await this.received.createIndex({ senderParty: 1, receivedAt: 1 });
    await this.rejections.createIndex({ at: 1 });
  }

  /**
   * Handle one delivery. `envelopeBytes` are the exact request bytes; `peerParty` was
   * authenticated from the TLS client certificate. Resolves with the SignedReceipt bytes.
   */
  async deliver(envelopeBytes: Uint8Array, peerParty: string): Promise<Uint8Array> {
    const envelopeSha256 = sha256(envelopeBytes);
    let messageId = "";
    let attributable = false;
    try {
      if (envelopeBytes.byteLength > this.options.maxEnvelopeBytes) {
        throw new LiaisonError("ENVELOPE_TOO_LARGE", `envelope exceeds ${this.options.maxEnvelopeBytes} bytes`);
      }
      const envelope = decodeUntrusted(SignedEnvelopeSchema, envelopeBytes, "the envelope");
      if (envelope.message.byteLength === 0 || envelope.jws === "") {
        throw new LiaisonError("ENVELOPE_MALFORMED", "the envelope must carry both message bytes and a JWS");
      }
      const signer = await this.options.verifySignature(envelope.jws, envelope.message, JWS_TYP_MESSAGE);
      // From here on the bytes are the signer's: a refusal is attributable and recorded.
      attributable = true;
      const message = decodeUntrusted(MessageSchema, envelope.message, "the signed message");
      checkHeaderShape(message);
      const header = message.header;
      messageId = header.messageId;
      const created = dateOf(header.createdAt)!;
      if (created < signer.validFrom || (signer.retiredAt !== undefined && created >= signer.retiredAt)) {
        throw new LiaisonError("KEY_NOT_VALID_AT_TIME", "the signing key was not valid at the message's created time");
      }
      if (header.senderParty !== signer.party) {
        throw new LiaisonError("SENDER_NOT_SIGNER", "header.sender_party is not the party whose key signed the message");
      }
      if (signer.party !== peerParty) {
        throw new LiaisonError("SENDER_NOT_PEER", "the message is signed by a party other than the TLS peer");
      }
      checkRecipient(message, this.options.party);
      const earlier = await this.earlierReceipt(messageId, envelopeSha256);
      if (earlier) return earlier;
      checkFreshness(message, this.clock(), this.freshness);
      checkSchema(message);
      await this.options.businessRules?.(message, signer.party);
      return await this.record(message, envelopeBytes, envelopeSha256);
    } catch (thrown) {
      const error = toLiaisonError(thrown);
      // Known only once the signed header decoded: the partner's Rejection detail names it.
      if (messageId !== "" && error.messageId === undefined) error.messageId = messageId;
      // Only a final refusal is recorded: an internal or retryable failure (storage full, lease lost)
      // is not the sender's fault, and the same envelope will come again.
      if (attributable && error.code !== "INTERNAL" && error.code !== "UNAVAILABLE" && !error.hasLabel(ErrorLabel.Retryable)) {
        await this.recordRejection(peerParty, messageId, envelopeSha256, error);
      }
      throw error;
    }
  }

  /** The receipt given for this message id before, or a refusal if the id names another envelope. */
  private async earlierReceipt(messageId: string, envelopeSha256: Uint8Array): Promise<Uint8Array | undefined> {
    const existing = await this.received.findOne({ _id: messageId });
    if (!existing) return undefined;
    if (!Buffer.from(existing.envelopeSha256.buffer).equals(Buffer.from(envelopeSha256))) {
      throw new LiaisonError("MESSAGE_ID_REUSED", "this message id was already used by a different envelope");
    }
    if (existing.state === "recorded" && existing.signedReceipt) return new Uint8Array(existing.signedReceipt.buffer);
    return undefined; // a claim in progress or abandoned: `record` decides
  }

  /**
   * Claim the message id, append to the ledger, sign and store the receipt.
   * Invariant: at most one `recorded` document per message id (the _id index); a claim left by a
   * crashed attempt is taken over after STALE_CLAIM_MS.
   */
  private async record(message: Message & { header: NonNullable<Message["header"]> }, envelopeBytes: Uint8Array, envelopeSha256: Uint8Array): Promise<Uint8Array> {
    const header = message.header;
    const now = this.clock();
    let claimTakenOver = false;
    const claim: ReceivedEnvelopeDoc = {
      _id: header.messageId,
      state: "recording",
      senderParty: header.senderParty,
      envelopeSha256: new Binary(envelopeSha256),
      envelope: new Binary(envelopeBytes),
      bodyKind: message.body.case ?? "",
      claimedAt: now,
      firstClaimedAt: now,
    };
    try {
      await this.received.insertOne(claim);
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
      const earlier = await this.earlierReceipt(header.messageId, envelopeSha256);
      if (earlier) return earlier;
      const takeover = await this.received.updateOne(
        { _id: header.messageId, state: "recording", claimedAt: { $lt: new Date(now.getTime() - STALE_CLAIM_MS) } },
        { $set: { claimedAt: now } },
      );
      if (takeover.modifiedCount !== 1) {
        throw new LiaisonError("UNAVAILABLE", "this message is being recorded by a concurrent delivery; retry", {
          labels: [ErrorLabel.Retryable],
        });
      }
      claimTakenOver = true;
    }
    // A crashed attempt may have appended already: its index is on the claim, or in the ledger.
    let ledgerIndex: number | undefined;
    if (claimTakenOver) {
      const abandoned = await this.received.findOne({ _id: header.messageId });
      ledgerIndex =
        abandoned?.ledgerIndex ??
        (await this.options.findLedgerEntry?.("envelope.received", envelopeBytes, abandoned?.firstClaimedAt ?? new Date(0)));
    }
    // (A crash after this append is found again by findLedgerEntry, from firstClaimedAt on.)
    ledgerIndex ??= await this.options.appendToLedger("envelope.received", envelopeBytes);
    const receipt = create(ReceiptSchema, {
      messageId: header.messageId,
      envelopeSha256,
      receiverParty: this.options.party,
      senderParty: header.senderParty,
      receivedAt: timestampFromDate(now),
      ledgerIndex: BigInt(ledgerIndex),
    });
    const receiptBytes = encode(ReceiptSchema, receipt);
    const signedReceiptBytes = encode(
      SignedReceiptSchema,
      create(SignedReceiptSchema, { receipt: receiptBytes, jws: await this.options.signReceipt(receiptBytes, JWS_TYP_RECEIPT) }),
    );
    // Independent of each other: the receipt's ledger entry and the domain views.
    await Promise.all([
      this.options.appendToLedger("receipt.issued", signedReceiptBytes),
      this.options.onRecorded?.({
        direction: "received",
        messageId: header.messageId,
        message,
        envelopeBytes,
        ledgerIndex,
        recordedAt: now,
      }),
    ]);
    await this.received.updateOne(
      { _id: header.messageId },
      { $set: { state: "recorded", receivedAt: now, ledgerIndex, signedReceipt: new Binary(signedReceiptBytes) } },
    );
    this.log.info("envelope accepted", {
      messageId: header.messageId,
      sender: header.senderParty,
      bodyKind: message.body.case,
      ledgerIndex,
      envelopeSha256: Buffer.from(envelopeSha256).toString("hex"),
    });
    return signedReceiptBytes;
  }

  private async recordRejection(peerParty: string, messageId: string, envelopeSha256: Uint8Array, error: LiaisonError): Promise<void> {
    try {
      const doc: RejectionDoc = {
        at: this.clock(),
        peerParty,
        messageId,
        code: error.code,
        reason: error.message,
        envelopeSha256: new Binary(envelopeSha256),
      };
      await this.rejections.insertOne(doc);
      await this.options.appendToLedger(
        "envelope.rejected",
        new TextEncoder().encode(
          JSON.stringify({ messageId, peerParty, code: error.code, reason: error.message, envelopeSha256: Buffer.from(envelopeSha256).toString("hex") }),
        ),
      );
    } catch (cause) {
      this.log.error("could not record a rejection", { messageId, code: error.code, cause });
    }
  }
}
