/**
 * Partners witness each other's ledgers (c2sp.org/tlog-cosignature).
 *
 * As a log: after the tree grows we sign a checkpoint and ask each partner to cosign it, sending a
 * consistency proof from the last checkpoint that partner cosigned for us; the cosignatures we get
 * back are verified and stored beside the checkpoint.
 *
 * As a witness: we cosign a partner's checkpoint only if its signature is by a key the partner's
 * CA attested and it is consistent with the last checkpoint we cosigned for that partner. A
 * checkpoint of a size we cosigned before with another root, or one not consistent with what we
 * cosigned, is refused: both signed notes are kept as evidence and an alert is raised.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import type { Collection, Db } from "mongodb";
import { Binary } from "mongodb";
import { CosignRequestSchema, CosignResponseSchema, PeerApi } from "../../gen/liaison/v1/peer_pb.ts";
import type { Identity, KeyRing } from "../identity/index.ts";
import { GrpcStatus, LiaisonError, PeerRejectedError, toLiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import {
  cosignatureV1Verifier,
  ed25519NoteVerifier,
  openCheckpoint,
  readConsistencyProof,
  recordCosignature,
  witnessCheckpoint,
  type SignedCheckpoint,
} from "../ledger/index.ts";
import { decodeUntrusted, type PeerClient } from "../transport/index.ts";
import { ledgerOrigin, witnessName, type NodeLedger } from "./ledger.ts";

/** The last checkpoint we cosigned for a partner. */
interface WitnessedDoc {
  _id: string; // partner party
  size: number;
  root: Binary;
  note: string;
  cosignedAt: Date;
}

/** Every checkpoint we cosigned for others (history). */
interface CosignedDoc {
  _id: string; // "<party>/<size>"
  party: string;
  size: number;
  root: Binary;
  note: string;
  cosignedAt: Date;
}

export interface LedgerAlert {
  at: Date;
  partner: string;
  kind: "fork" | "inconsistent";
  reason: string;
  /** The signed notes that prove it: what we cosigned before, and what the partner now presents. */
  evidence: string[];
}

interface CosignatureRow {
  size: number;
  cosigner: string;
}

export class Witnessing {
  private readonly log = createLogger("witness");
  private readonly witnessed: Collection<WitnessedDoc>;
  private readonly cosigned: Collection<CosignedDoc>;
  readonly alerts: Collection<LedgerAlert>;

  constructor(
    private readonly db: Db,
    private readonly identity: Identity,
    private readonly ledger: NodeLedger,
    private readonly keyRing: () => KeyRing,
    /** Told of every cosignature asked of a partner (metrics). */
    private readonly onCosignature: (partner: string, outcome: "ok" | "failed") => void = () => undefined,
    private readonly clock: () => number = Date.now,
  ) {
    this.witnessed = db.collection<WitnessedDoc>("witness_state");
    this.cosigned = db.collection<CosignedDoc>("witness_cosigned");
    this.alerts = db.collection<LedgerAlert>("ledger_alerts");
  }

  async init(): Promise<void> {
    await this.cosigned.createIndex({ party: 1, size: 1 });
    await this.alerts.createIndex({ at: 1 });
  }

  // ---- as a witness --------------------------------------------------------------------

  /** Handle a partner's Cosign request (the partner is the TLS-authenticated caller). */
  async cosign(partner: string, requestBytes: Uint8Array): Promise<Uint8Array> {
    const request = decodeUntrusted(CosignRequestSchema, requestBytes, "the cosign request");
    const origin = ledgerOrigin(partner);
    const keys = this.keyRing().keys(partner);
    if (keys.length === 0) throw new LiaisonError("KEY_UNKNOWN", "no attested key is known for the caller");
    // Which attested key signed it: the note names it by key id; open with all of them.
    const verifiers = keys.map((k) => ed25519NoteVerifier(origin, k.publicKey));
    const { checkpoint } = openCheckpoint(request.checkpoint, origin, verifiers);
    const previous = await this.witnessed.findOne({ _id: partner });
    const previousSize = previous?.size ?? 0;
    if (Number(request.fromSize) !== previousSize) {
      throw new LiaisonError(
        "PROOF_INCONSISTENT",
        `${WRONG_FROM_SIZE_REASON}${previousSize}`,
      );
    }
    const sameSize = await this.cosigned.findOne({ party: partner, size: checkpoint.size });
    if (sameSize && !Buffer.from(sameSize.root.buffer).equals(Buffer.from(checkpoint.rootHash))) {
      await this.raise(partner, "fork", `two checkpoints of size ${checkpoint.size} with different roots`, [sameSize.note, request.checkpoint]);
      throw new LiaisonError("PROOF_INCONSISTENT", "a checkpoint of this size was cosigned before with a different root");
    }
    const verifier = verifiers.find((v) => {
      try {
        openCheckpoint(request.checkpoint, origin, [v]);
        return true;
      } catch {
        return false;
      }
    })!;
    let result;
    try {
      result = witnessCheckpoint({
        note: request.checkpoint,
        origin,
        logVerifier: verifier,
        ...(previous ? { previous: { size: previous.size, root: new Uint8Array(previous.root.buffer) } } : {}),
        proof: request.consistencyProof,
        cosignerName: witnessName(this.identity.party),
        cosignerKey: this.identity.activeSigningKey.privateKey,
        timestamp: Math.floor(this.clock() / 1000),
      });
    } catch (error) {
      const e = toLiaisonError(error);
      if (e.code === "PROOF_INCONSISTENT" && previous) {
        await this.raise(partner, "inconsistent", e.message, [previous.note, request.checkpoint]);
      }
      throw e;
    }
    const now = new Date(this.clock());
    const root = new Binary(result.checkpoint.rootHash);
    await this.witnessed.updateOne(
      { _id: partner },
      { $set: { size: result.checkpoint.size, root, note: request.checkpoint, cosignedAt: now } },
      { upsert: true },
    );
    await this.cosigned.updateOne(
      { _id: `${partner}/${result.checkpoint.size}` },
      { $setOnInsert: { party: partner, size: result.checkpoint.size, root, note: request.checkpoint, cosignedAt: now } },
      { upsert: true },
    );
    return toBinary(CosignResponseSchema, create(CosignResponseSchema, { cosignature: result.cosignature }));
  }

  private async raise(partner: string, kind: LedgerAlert["kind"], reason: string, evidence: string[]): Promise<void> {
    await this.alerts.insertOne({ at: new Date(this.clock()), partner, kind, reason, evidence });
    await this.ledger.append("witness.alert", new TextEncoder().encode(JSON.stringify({ partner, kind, reason, evidence })));
    this.log.error("ALERT: partner ledger not consistent with what we cosigned", { partner, kind, reason });
  }

  // ---- as a log ------------------------------------------------------------------------

  /** Sign a checkpoint if the ledger grew, and ask each partner to cosign it. */
  async publish(partners: readonly { party: string; client: PeerClient }[]): Promise<SignedCheckpoint | undefined> {
    const checkpoint = await this.ledger.checkpoint(this.clock());
    if (!checkpoint) return undefined;
    await Promise.all(
      partners.map(async ({ party, client }) => {
        try {
          if (await this.requestCosignature(party, client, checkpoint)) this.onCosignature(party, "ok");
        } catch (error) {
          this.onCosignature(party, "failed");
          const e = toLiaisonError(error);
          // A partner's refusal is logged under the partner's own code, not as our INTERNAL.
          const code = e instanceof PeerRejectedError ? (e.peerCode ?? GrpcStatus[e.peerStatus]) : e.code;
          this.log.warn("cosignature not obtained", { partner: party, code, reason: e.message });
        }
      }),
    );
    return checkpoint;
  }

  /**
   * Ask one partner to cosign; false when it already cosigned this size (nothing asked). We send a
   * proof from the last size we hold a cosignature of; if the witness last cosigned another size
   * (its cosignature never reached us, or our records were restored from an older backup) it says
   * which, in the normative PROOF_INCONSISTENT reason (PROTOCOL §11.4 rule 2), and we ask once
   * more from that size.
   */
  private async requestCosignature(party: string, client: PeerClient, checkpoint: SignedCheckpoint): Promise<boolean> {
    const cosigner = witnessName(party);
    const last = await this.db
      .collection<CosignatureRow>("ledger_cosignatures")
      .find({ cosigner })
      .sort({ size: -1 })
      .limit(1)
      .next();
    const fromSize = last?.size ?? 0;
    if (fromSize >= checkpoint.size) return false;
    let responseBytes: Uint8Array;
    try {
      responseBytes = await this.askToCosign(client, checkpoint, fromSize);
    } catch (error) {
      const witnessSize = error instanceof PeerRejectedError ? lastCosignedSizeIn(error) : undefined;
      if (witnessSize === undefined || witnessSize === fromSize) throw error;
      if (witnessSize >= checkpoint.size) {
        this.log.warn("the witness says it cosigned a larger tree of ours than our latest checkpoint", { partner: party, witnessSize, size: checkpoint.size });
        throw error;
      }
      responseBytes = await this.askToCosign(client, checkpoint, witnessSize);
    }
    const response = decodeUntrusted(CosignResponseSchema, responseBytes, "the cosign response");
    let recorded = false;
    for (const key of this.keyRing().keys(party)) {
      try {
        await recordCosignature(this.db, checkpoint.size, response.cosignature, cosignatureV1Verifier(cosigner, key.publicKey), this.clock());
        recorded = true;
        break;
      } catch {
        // another of the partner's keys
      }
    }
    if (!recorded) throw new LiaisonError("SIGNATURE_INVALID", "the cosignature does not verify with any attested key of the partner");
    return true;
  }

  private async askToCosign(client: PeerClient, checkpoint: SignedCheckpoint, fromSize: number): Promise<Uint8Array> {
    const proof = fromSize > 0 ? await readConsistencyProof(this.db, fromSize, checkpoint.size) : [];
    const request = create(CosignRequestSchema, { checkpoint: checkpoint.note, fromSize: BigInt(fromSize), consistencyProof: proof });
    return client.call(PeerApi.method.cosign, toBinary(CosignRequestSchema, request));
  }
}

/** The reason a witness gives when `from_size` is not the size it last cosigned (PROTOCOL §11.4 rule 2). */
export const WRONG_FROM_SIZE_REASON = "from_size must be the size this witness last cosigned for you: ";

/** N from a witness's "from_size must be … : N" refusal, if that is what it is. */
function lastCosignedSizeIn(error: PeerRejectedError): number | undefined {
  if (error.peerCode !== "PROOF_INCONSISTENT") return undefined;
  const at = error.peerReason.lastIndexOf(WRONG_FROM_SIZE_REASON);
  if (at < 0) return undefined;
  const digits = error.peerReason.slice(at + WRONG_FROM_SIZE_REASON.length).trim();
  if (!/^\d{1,15}$/.test(digits)) return undefined;
  return Number(digits);
}
