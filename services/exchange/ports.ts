/**
 * What the exchange needs from identity and ledger, as function types: the node wires the real
 * implementations in. (Functions, not interfaces with one implementation each.)
 */

/** Who signed, and the window in which that key was valid. */
export interface VerifiedSigner {
  party: string;
  kid: string;
  validFrom: Date;
  retiredAt?: Date;
}

/** Verify a detached JWS over exact bytes with the expected `typ`; throws a LiaisonError. */
export type SignatureCheck = (jws: string, payload: Uint8Array, typ: string) => Promise<VerifiedSigner>;

/** Sign exact bytes with this node's active message-signing key; returns the detached JWS. */
export type ReceiptSigner = (payload: Uint8Array, typ: string) => Promise<string>;

/** Append an entry (kind + exact bytes) to this node's ledger; resolves with its durable index. */
export type LedgerAppend = (kind: string, bytes: Uint8Array) => Promise<number>;

/** A message this node recorded, sent or received: what the domain views consume. */
export interface RecordedEnvelope {
  direction: "sent" | "received";
  messageId: string;
  /** The decoded view of the signed message bytes. */
  message: import("../../gen/liaison/v1/message_pb.ts").Message;
  /** The exact SignedEnvelope bytes. */
  envelopeBytes: Uint8Array;
  /** This node's ledger index of the envelope entry. */
  ledgerIndex: number;
  recordedAt: Date;
}

/** Called once a message is durably recorded (ledger + store), before the caller is answered. */
export type OnRecorded = (record: RecordedEnvelope) => Promise<void>;
