/**
 * Injected by esbuild wherever the bundled modules use Node's global `Buffer`, in the browser
 * verifier build: the `buffer` package, taught the one encoding it lacks and Node has,
 * "base64url" (RFC 4648 §5, unpadded), by translating to and from its "base64".
 */
import { Buffer } from "buffer";

type Encoding = Parameters<Buffer["toString"]>[0];
const from = Buffer.from.bind(Buffer) as (...args: unknown[]) => Buffer;
const toString = Buffer.prototype.toString;

Buffer.from = function (value: unknown, encoding?: unknown, length?: unknown): Buffer {
  if (encoding === "base64url" && typeof value === "string") return from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  return length === undefined ? (encoding === undefined ? from(value) : from(value, encoding)) : from(value, encoding, length);
} as typeof Buffer.from;

Buffer.prototype.toString = function (this: Buffer, encoding?: string, start?: number, end?: number): string {
  if (encoding === "base64url") return toString.call(this, "base64", start, end).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return toString.call(this, encoding as Encoding, start, end);
};

export { Buffer };
