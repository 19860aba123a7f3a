/**
 * An adversarial partner, built from docs/PROTOCOL.md and proto/ alone: its own gRPC client
 * (grpc-js raw, Buffer in and out), its own envelopes (the generated protobuf-es code, Ed25519
 * through node:crypto, the RFC 7638 kid through jose) and its own certificates. It never calls the
 * node's exchange, transport or identity helpers, so a bug there cannot hide a bug in the node:
 * the only node code it touches is `createPartyCa`/`issueCertificate`, for certificate material.
 *
 * It reads a party's identity folder as files (the layout of `liaison pki init`), which is what a
 * partner gone rogue — or a thief of its keys — holds.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { anyUnpack, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { calculateJwkThumbprint } from "jose";
import forge from "node-forge";
import { StatusSchema } from "../../gen/google/rpc/status_pb.ts";
import { RejectionSchema, ReceiptSchema, SignedEnvelopeSchema, SignedReceiptSchema, type Receipt } from "../../gen/liaison/v1/envelope_pb.ts";
import { Classification, MessageSchema, type Message } from "../../gen/liaison/v1/message_pb.ts";
import { createPartyCa, issueCertificate, type CertificateAuthority } from "../../services/identity/index.ts";

/** PROTOCOL.md §2: the trailer that mirrors the Rejection code. */
export const REJECTION_TRAILER = "liaison-rejection-code";
export const DELIVER_PATH = "/liaison.v1.PeerApi/Deliver";
export const GET_CHECKPOINT_PATH = "/liaison.v1.PeerApi/GetCheckpoint";

// ---------------------------------------------------------------------------------------------
// Key and certificate material

/** An Ed25519 message-signing key: its RFC 7638 kid and the private key. */
export interface RawSigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** What a party's identity folder holds (PROTOCOL §3–4), read as plain files. */
export interface PartyMaterial {
  party: string;
  caCertPem: string;
  caKey: KeyObject;
  tlsCertPem: string;
  tlsKeyPem: string;
  signingKey: RawSigningKey;
}

export async function kidOf(privateKey: KeyObject): Promise<string> {
  const jwk = createPublicJwk(privateKey);
  return calculateJwkThumbprint(jwk, "sha256");
}

function createPublicJwk(privateKey: KeyObject): { kty: string; crv: string; x: string } {
  const jwk = privateKey.export({ format: "jwk" }) as { kty: string; crv: string; x: string };
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
}

/** A fresh Ed25519 key that no CA has attested. */
export async function unattestedKey(): Promise<RawSigningKey> {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { kid: await kidOf(privateKey), privateKey };
}

/** Read a party's material from its identity folder: CA, TLS certificate and the active signing key. */
export async function readPartyMaterial(identityDir: string): Promise<PartyMaterial> {
  const read = (name: string) => readFileSync(join(identityDir, name), "utf8");
  const partyFile = JSON.parse(read("party.json")) as { party: string; activeKid: string };
  return {
    party: partyFile.party,
    caCertPem: read("ca.crt"),
    caKey: createPrivateKey(read("ca.key")),
    tlsCertPem: read("node.crt"),
    tlsKeyPem: read("node.key"),
    signingKey: await readSigningKey(identityDir, partyFile.activeKid),
  };
}

export async function readSigningKey(identityDir: string, kid: string): Promise<RawSigningKey> {
  const privateKey = createPrivateKey(readFileSync(join(identityDir, "signing", `${kid}.key`), "utf8"));
  return { kid: await kidOf(privateKey), privateKey };
}

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
}

/** A client certificate issued by `ca`, naming `party`, valid in [notBefore, notAfter]. */
export async function certificateFrom(ca: CertificateAuthority, party: string, notBefore: Date, notAfter: Date): Promise<TlsMaterial> {
  const cert = await issueCertificate(ca, { party, notBefore, notAfter, ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"] });
  return { certPem: cert.certPem, keyPem: cert.keyPem! };
}

/** A CA nobody onboarded, claiming to be `party`. */
export async function rogueCa(party: string): Promise<CertificateAuthority> {
  return createPartyCa({ party, displayName: `Rogue ${party}`, now: new Date(Date.now() - 3600_000), bits: 2048 });
}

/** A self-signed leaf certificate (no CA at all) naming `party`, for client auth. node-forge directly. */
export function selfSignedCertificate(party: string): TlsMaterial {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "0a" + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 86400_000);
  const subject = [{ name: "commonName", value: `${party} Liaison node` }, { name: "organizationName", value: party }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true, clientAuth: true },
    { name: "subjectAltName", altNames: [{ type: 6, value: `urn:liaison:party:${party}` }, { type: 7, ip: "127.0.0.1" }] },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

// ---------------------------------------------------------------------------------------------
// Messages and envelopes (PROTOCOL §6)

export interface MessageOptions {
  sender: string;
  recipients: string[];
  messageId?: string;
  createdAt?: Date;
  expiresAt?: Date;
  drafter?: string;
  approver?: string;
  title?: string;
  /** Bytes of an attachment, to make a large message. */
  padding?: number;
  /** No body at all (an unknown body is appended as raw bytes by `withUnknownBody`). */
  noBody?: boolean;
}

/** A complete, plausible wanted-person notice, built with the generated schema only. */
export function buildMessage(options: MessageOptions): Message {
  const init: MessageInitShape<typeof MessageSchema> = {
    header: {
      messageId: options.messageId ?? randomUUID(),
      senderParty: options.sender,
      recipientParties: options.recipients,
      createdAt: timestampFromDate(options.createdAt ?? new Date()),
      classification: Classification.RESTRICTED,
      handlingCodes: ["H2"],
      ...(options.expiresAt ? { expiresAt: timestampFromDate(options.expiresAt) } : {}),
      draftedBy: { officerId: options.drafter ?? "adv-drafter", displayName: "Drafter", role: "drafter" },
      approvedBy: { officerId: options.approver ?? "adv-approver", displayName: "Approver", role: "approver" },
      languages: ["en"],
    },
  };
  if (!options.noBody) {
    init.body = {
      case: "wantedPerson",
      value: {
        summary: { reference: `${options.sender}/WANTED/2026/${Math.floor(Math.random() * 1e6)}`, title: [{ lang: "en", text: options.title ?? "Wanted person" }] },
        person: {
          names: [{ fullName: "Trần Thị B", script: "Latn", lang: "vi" }],
          ...(options.padding ? { photos: [{ filename: "p.bin", mediaType: "application/octet-stream", content: new Uint8Array(options.padding) }] } : {}),
        },
        warrantReference: "QĐ-999/2026",
        requestedAction: "locate",
      },
    };
  }
  return create(MessageSchema, init);
}

export function messageBytes(message: Message): Uint8Array {
  return toBinary(MessageSchema, message);
}

/** Append a raw field (wire type 2) with `fieldNumber` to serialized message bytes. */
export function withRawField(bytes: Uint8Array, fieldNumber: number, content: Uint8Array): Uint8Array {
  const out = [...bytes, ...varint((fieldNumber << 3) | 2), ...varint(content.length), ...content];
  return Uint8Array.from(out);
}

export function varint(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");

export interface JwsOptions {
  typ?: string;
  /** Override the header's alg (the signature is Ed25519 regardless). */
  alg?: string;
  /** Override the header's kid. */
  kid?: string;
  /** Extra protected-header members. */
  extra?: Record<string, unknown>;
}

/** RFC 7515 Appendix F detached JWS over `payload`, Ed25519 via node:crypto. */
export function detachedJws(payload: Uint8Array, key: RawSigningKey, options: JwsOptions = {}): string {
  const header = { alg: options.alg ?? "EdDSA", kid: options.kid ?? key.kid, typ: options.typ ?? "liaison-message+jws", ...options.extra };
  const protectedHeader = b64url(JSON.stringify(header));
  const signature = cryptoSign(null, Buffer.from(`${protectedHeader}.${b64url(payload)}`, "ascii"), key.privateKey);
  return `${protectedHeader}..${b64url(signature)}`;
}

export function envelope(message: Uint8Array, jws: string): Uint8Array {
  return toBinary(SignedEnvelopeSchema, create(SignedEnvelopeSchema, { message, jws }));
}

/** Build, sign and wrap a message in one go. */
export function sealedEnvelope(message: Message | Uint8Array, key: RawSigningKey, options: JwsOptions = {}): Uint8Array {
  const bytes = message instanceof Uint8Array ? message : messageBytes(message);
  return envelope(bytes, detachedJws(bytes, key, options));
}

/** Where each part of an envelope lies, so a test can tamper with one class of byte. */
export interface EnvelopeLayout {
  /** [start, end) of the message bytes inside the envelope. */
  message: [number, number];
  /** [start, end) of the header (field 1) inside the message bytes, when present. */
  header: [number, number] | undefined;
  /** [start, end) of the JWS string inside the envelope. */
  jws: [number, number];
  /** [start, end) of the JWS protected-header part, inside the envelope. */
  jwsHeader: [number, number];
  /** [start, end) of the JWS signature part, inside the envelope. */
  jwsSignature: [number, number];
}

/** Layout of an envelope as built by `envelope()` (field 1 then field 2, each length-delimited). */
export function layoutOf(envelopeBytes: Uint8Array): EnvelopeLayout {
  let pos = 0;
  const readVarint = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = envelopeBytes[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  };
  const fields = new Map<number, [number, number]>();
  while (pos < envelopeBytes.length) {
    const tag = readVarint();
    const len = readVarint();
    fields.set(tag >>> 3, [pos, pos + len]);
    pos += len;
  }
  const message = fields.get(1)!;
  const jws = fields.get(2)!;
  const jwsText = Buffer.from(envelopeBytes.subarray(jws[0], jws[1])).toString("ascii");
  const firstDot = jwsText.indexOf(".");
  const lastDot = jwsText.lastIndexOf(".");
  // header field 1 of Message: tag 0x0a then a length
  let header: [number, number] | undefined;
  if (envelopeBytes[message[0]] === 0x0a) {
    pos = message[0] + 1;
    const len = readVarint();
    header = [pos - message[0], pos - message[0] + len];
  }
  return {
    message,
    header,
    jws,
    jwsHeader: [jws[0], jws[0] + firstDot],
    jwsSignature: [jws[0] + lastDot + 1, jws[1]],
  };
}

// ---------------------------------------------------------------------------------------------
// The client

export interface Refusal {
  ok: false;
  status: grpc.status;
  details: string;
  /** The `liaison-rejection-code` trailer. */
  trailerCode: string | undefined;
  /** The Rejection packed in `grpc-status-details-bin`, if any. */
  rejection: { code: string; reason: string; messageId: string } | undefined;
  /** The status code inside the google.rpc.Status detail. */
  detailStatus: number | undefined;
}

export interface Accepted {
  ok: true;
  signedReceipt: Uint8Array;
  receipt: Receipt;
}

export type Outcome = Accepted | Refusal;

export interface AdversaryOptions {
  /** host:port of the node's peer API. */
  address: string;
  /** The client certificate and key this peer presents. */
  tls: TlsMaterial;
  /** The server's CA (we do check whom we talk to; we are hostile, not careless). */
  serverCaPem?: string;
  /** Extra channel options. */
  channelOptions?: grpc.ChannelOptions;
}

/** A hostile peer: raw unary calls with the bytes it chooses. */
export class AdversaryPeer {
  readonly client: grpc.Client;

  constructor(options: AdversaryOptions) {
    const credentials = grpc.credentials.createSsl(
      options.serverCaPem ? Buffer.from(options.serverCaPem) : null,
      Buffer.from(options.tls.keyPem),
      Buffer.from(options.tls.certPem),
      { checkServerIdentity: () => undefined, ...(options.serverCaPem ? {} : { rejectUnauthorized: false }) },
    );
    this.client = new grpc.Client(options.address, credentials, {
      "grpc.ssl_target_name_override": "localhost",
      "grpc.max_send_message_length": -1,
      "grpc.max_receive_message_length": -1,
      // every adversary gets its own connection, never one shared with an honest client
      "grpc.use_local_subchannel_pool": 1,
      ...options.channelOptions,
    });
  }

  /** One raw unary call; resolves with the outcome, never rejects on a gRPC status. */
  call(path: string, request: Uint8Array, timeoutMs = 15_000): Promise<{ error: grpc.ServiceError | null; response: Buffer | undefined }> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(
        path,
        (b) => b,
        (b) => b,
        Buffer.from(request),
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, response) => resolve({ error, response }),
      );
    });
  }

  async deliver(envelopeBytes: Uint8Array, timeoutMs?: number): Promise<Outcome> {
    const { error, response } = await this.call(DELIVER_PATH, envelopeBytes, timeoutMs);
    if (error) return refusalOf(error);
    const signed = fromBinary(SignedReceiptSchema, response!);
    return { ok: true, signedReceipt: new Uint8Array(response!), receipt: fromBinary(ReceiptSchema, signed.receipt) };
  }

  close(): void {
    this.client.close();
  }
}

/** Read status, trailer and google.rpc.Status → Rejection from a gRPC error (PROTOCOL §2, §9). */
export function refusalOf(error: grpc.ServiceError): Refusal {
  const trailer = error.metadata?.get(REJECTION_TRAILER)[0];
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  let rejection: Refusal["rejection"];
  let detailStatus: number | undefined;
  if (raw instanceof Buffer) {
    const status = fromBinary(StatusSchema, raw);
    detailStatus = status.code;
    for (const any of status.details) {
      if (any.typeUrl !== "type.googleapis.com/liaison.v1.Rejection") continue;
      const r = anyUnpack(any, RejectionSchema);
      if (r) rejection = { code: r.code, reason: r.reason, messageId: r.messageId };
    }
  }
  return {
    ok: false,
    status: error.code,
    details: error.details,
    trailerCode: typeof trailer === "string" ? trailer : undefined,
    rejection,
    detailStatus,
  };
}

export function describeOutcome(outcome: Outcome): string {
  if (outcome.ok) return `OK (ledger index ${outcome.receipt.ledgerIndex})`;
  return `${grpc.status[outcome.status]}${outcome.rejection ? ` / ${outcome.rejection.code}` : ""}`;
}
