/**
 * The one place where untrusted protobuf bytes become messages. Every decoding failure becomes
 * ENVELOPE_MALFORMED (or SCHEMA_INVALID for a verified payload) through this code path.
 */
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { LiaisonError, type ErrorCode } from "../errors/index.ts";

/** protobuf-es recursion limit; hostile nesting beyond it is refused. */
const RECURSION_LIMIT = 64;

export function decodeUntrusted<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  what: string,
  code: ErrorCode = "ENVELOPE_MALFORMED",
): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes, { readUnknownFields: true, recursionLimit: RECURSION_LIMIT });
  } catch (cause) {
    throw new LiaisonError(code, `${what} is not a valid ${schema.typeName}`, { cause });
  }
}

export function encode<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
  return toBinary(schema, message);
}
