/**
 * The part of `node:crypto` that the minutes-bundle verifier reaches (services/minutes/bundle.ts
 * and what it imports), for the browser build of that same code (gateway/verifier/build.ts).
 * Nothing is computed here by hand:
 *  - SHA-256 (synchronous, as `createHash` is): node-forge's `md.sha256`;
 *  - X.509 parsing (raw DER, subject alternative names, public key): node-forge;
 *  - public keys are JWKs held in a `KeyObject` look-alike that jose recognises (it reads
 *    `Symbol.toStringTag`, `type` and `export({ format: "jwk" })`) and imports through WebCrypto,
 *    which checks every signature (RS256 attestations, EdDSA/Ed25519 envelopes).
 * Everything else of `node:crypto` that the bundled modules import exists only so that the
 * imports resolve; calling it throws (the verifier never does: test/gateway/console.test.ts
 * runs the browser build in Node against the Node verifier).
 */
import forge from "node-forge";
import { Buffer } from "buffer";

type Bytes = Uint8Array;

function unavailable(name: string): never {
  throw new Error(`node:crypto ${name} is not available in the browser verifier`);
}

const toBinaryString = (bytes: Bytes): string => forge.util.binary.raw.encode(bytes);
const fromBinaryString = (text: string): Buffer => Buffer.from(text, "binary");

interface Hash {
  update(data: Bytes | string): Hash;
  digest(): Buffer;
  digest(encoding: "hex" | "base64" | "base64url"): string;
}

/** SHA-256 only (the one hash Liaison uses). */
export function createHash(algorithm: string): Hash {
  if (algorithm.toLowerCase() !== "sha256") unavailable(`createHash("${algorithm}")`);
  const md = forge.md.sha256.create();
  const hash: Hash = {
    update(data: Bytes | string) {
      md.update(typeof data === "string" ? forge.util.encodeUtf8(data) : toBinaryString(data), "raw");
      return hash;
    },
    digest(encoding?: "hex" | "base64" | "base64url") {
      const out = fromBinaryString(md.digest().getBytes());
      return (encoding ? out.toString(encoding) : out) as never;
    },
  } as Hash;
  return hash;
}

/** Absent in the browser: ledger/merkle/hasher.ts then uses createHash. */
export const hash: undefined = undefined;

type KeyType = "ed25519" | "rsa";

/** A public key as a JWK, shaped like node:crypto's KeyObject where jose and identity/ look. */
export class KeyObject {
  readonly type = "public" as const;
  readonly asymmetricKeyType: KeyType;
  readonly #jwk: Readonly<Record<string, string>>;

  constructor(asymmetricKeyType: KeyType, jwk: Record<string, string>) {
    this.asymmetricKeyType = asymmetricKeyType;
    this.#jwk = Object.freeze({ ...jwk });
  }

  get [Symbol.toStringTag](): string {
    return "KeyObject";
  }

  export(options?: { format?: string }): Record<string, string> {
    if (options?.format !== "jwk") unavailable("KeyObject.export (only the JWK form exists here)");
    return { ...this.#jwk };
  }
}

/** Public Ed25519 JWKs only (`{ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }`). */
export function createPublicKey(input: unknown): KeyObject {
  const { key, format } = (input ?? {}) as { key?: Record<string, unknown>; format?: string };
  if (format !== "jwk" || typeof key !== "object" || key === null) unavailable("createPublicKey (only Ed25519 JWKs)");
  const { kty, crv, x } = key;
  if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string") throw new TypeError("not an Ed25519 public JWK");
  if (Buffer.from(x, "base64url").length !== 32) throw new TypeError("an Ed25519 public key is 32 bytes");
  return new KeyObject("ed25519", { kty, crv, x });
}

const SAN_KINDS: Record<number, string> = { 1: "email", 2: "DNS", 6: "URI", 7: "IP Address" };

/** Node prints a SAN value JSON-quoted when it holds a separator or an unusual character. */
const sanValue = (value: string): string => (/^[\x21-\x7e]*$/.test(value) && !/[,"\\]/.test(value) ? value : JSON.stringify(value));

/** PEM or DER X.509 certificate with an RSA key: what a party CA is (PROTOCOL.md §3). */
export class X509Certificate {
  readonly raw: Buffer;
  readonly publicKey: KeyObject;
  readonly subjectAltName: string | undefined;

  constructor(input: string | Bytes) {
    let der: string;
    if (typeof input === "string") {
      // As OpenSSL reads PEM: the first CERTIFICATE block, its END line ending the line.
      const end = /-----END CERTIFICATE-----(?:\r?\n|$)/.exec(input);
      const block = end ? forge.pem.decode(input.slice(0, end.index + end[0].length)).find((m) => m.type === "CERTIFICATE") : undefined;
      if (!block) throw new TypeError("no CERTIFICATE in the PEM text");
      der = block.body;
    } else der = toBinaryString(input);
    // Strict DER, every byte parsed (forge's types only name the older boolean argument).
    const fromDer = forge.asn1.fromDer as unknown as (der: string, options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean }) => forge.asn1.Asn1;
    const cert = forge.pki.certificateFromAsn1(fromDer(der, { strict: true, parseAllBytes: true, decodeBitStrings: true }));
    this.raw = fromBinaryString(der);
    const rsa = cert.publicKey as forge.pki.rsa.PublicKey;
    const b64url = (n: forge.jsbn.BigInteger) => Buffer.from(forge.util.hexToBytes(n.toString(16).padStart(2 * Math.ceil(n.bitLength() / 8), "0")), "binary").toString("base64url");
    this.publicKey = new KeyObject("rsa", { kty: "RSA", n: b64url(rsa.n), e: b64url(rsa.e) });
    const altNames = (cert.getExtension("subjectAltName") as { altNames?: { type: number; value?: string; ip?: string }[] } | null)?.altNames;
    this.subjectAltName = altNames?.map((n) => `${SAN_KINDS[n.type] ?? "othername"}:${sanValue((n.type === 7 ? n.ip : n.value) ?? "")}`).join(", ");
  }

  toString(): string {
    return `-----BEGIN CERTIFICATE-----\n${this.raw.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END CERTIFICATE-----\n`;
  }
}

// Imported by modules of identity/ that the verifier does not call.
export const createPrivateKey = (): never => unavailable("createPrivateKey");
export const generateKeyPair = (): never => unavailable("generateKeyPair");
export const randomBytes = (): never => unavailable("randomBytes");
export const randomUUID = (): never => unavailable("randomUUID");
