// Exchange: sending and receiving signed envelopes. End-user surface first.
export { Outbox, backoffDelay, DEFAULT_BACKOFF, type OutboxEntry, type PartnerQueueStatus, type BackoffPolicy } from "./outbox.ts";
export { Sender, type SealedEnvelope, type SentEnvelopeDoc, type DeliveryState, type SenderOptions } from "./send.ts";
export { Receiver, sha256, type ReceiverOptions, type ReceivedEnvelopeDoc, type RejectionDoc } from "./receive.ts";
export { MESSAGE_ID_PATTERN, DEFAULT_FRESHNESS, type FreshnessPolicy } from "./rules.ts";
export type { VerifiedSigner, SignatureCheck, ReceiptSigner, LedgerAppend, RecordedEnvelope, OnRecorded } from "./ports.ts";
export { mayDiscloseLedgerEntry, partiesOfLedgerEntry } from "./disclosure.ts";
