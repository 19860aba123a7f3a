/**
 * Which partners may read a ledger entry's bytes through the peer API (GetEntry).
 *
 * A ledger records everything a node sent, received and decided — including messages between this
 * node and *other* partners, with protected identities inside, and officers' local decisions. A
 * partner audits the log through signed checkpoints, consistency proofs and the inclusion of its
 * own traffic; it has no need to read anyone else's. So an entry's bytes go only to the parties
 * the recorded envelope or receipt names (sender and recipients); every other entry is withheld
 * (its leaf hash and inclusion proof are still served, so its place in the tree stays provable).
 */
import { fromBinary } from "@bufbuild/protobuf";
import { LedgerEntrySchema } from "../../gen/liaison/v1/ledger_pb.ts";
import { MessageSchema } from "../../gen/liaison/v1/message_pb.ts";
import { ReceiptSchema, SignedEnvelopeSchema, SignedReceiptSchema } from "../../gen/liaison/v1/envelope_pb.ts";

/** The parties entitled to an entry's bytes; empty for entries no partner may read. */
export function partiesOfLedgerEntry(entryBytes: Uint8Array): string[] {
  try {
    const entry = fromBinary(LedgerEntrySchema, entryBytes);
    switch (entry.kind) {
      case "envelope.sent":
      case "envelope.received": {
        const header = fromBinary(MessageSchema, fromBinary(SignedEnvelopeSchema, entry.content).message).header;
        return header ? [header.senderParty, ...header.recipientParties] : [];
      }
      case "receipt.issued":
      case "receipt.received": {
        const receipt = fromBinary(ReceiptSchema, fromBinary(SignedReceiptSchema, entry.content).receipt);
        return [receipt.senderParty, receipt.receiverParty];
      }
      case "envelope.rejected": {
        const { peerParty } = JSON.parse(new TextDecoder().decode(entry.content)) as { peerParty?: unknown };
        return typeof peerParty === "string" ? [peerParty] : [];
      }
      case "envelope.refused-by-partner": {
        const { recipient } = JSON.parse(new TextDecoder().decode(entry.content)) as { recipient?: unknown };
        return typeof recipient === "string" ? [recipient] : [];
      }
      default:
        return []; // local decisions: officers, drafts, protected reads, partners, witness alerts
    }
  } catch {
    return []; // an entry this code cannot read is not disclosed
  }
}

/** True when `party` may read the bytes of this entry (see the module comment). */
export function mayDiscloseLedgerEntry(entryBytes: Uint8Array, party: string): boolean {
  return partiesOfLedgerEntry(entryBytes).includes(party);
}
