/**
 * The four notice bodies as one union, and the conversions a view needs: the JSON a view
 * stores (protected parties and attachment contents left out) and the protected parties alone.
 */
import { clone, toJson, type JsonValue } from "@bufbuild/protobuf";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import {
  DrugCaseNoticeSchema,
  HumanTraffickingNoticeSchema,
  ProtectedPartySchema,
  TelecomFraudNoticeSchema,
  WantedPersonNoticeSchema,
  type DrugCaseNotice,
  type HumanTraffickingNotice,
  type NoticeUpdate,
  type PersonIdentity,
  type ProtectedParty,
  type TelecomFraudNotice,
  type WantedPersonNotice,
} from "../../gen/liaison/v1/notices_pb.ts";

export type NoticeBody =
  | { case: "wantedPerson"; value: WantedPersonNotice }
  | { case: "drugCase"; value: DrugCaseNotice }
  | { case: "humanTrafficking"; value: HumanTraffickingNotice }
  | { case: "telecomFraud"; value: TelecomFraudNotice };

export type NoticeKind = NoticeBody["case"];
export const NOTICE_KINDS: readonly NoticeKind[] = ["wantedPerson", "drugCase", "humanTrafficking", "telecomFraud"];

/** The notice a message carries as its body, if it is a notice. */
export function noticeOf(message: Message): NoticeBody | undefined {
  const b = message.body;
  switch (b.case) {
    case "wantedPerson":
    case "drugCase":
    case "humanTrafficking":
    case "telecomFraud":
      return b as NoticeBody;
    default:
      return undefined;
  }
}

/** The new state a NoticeUpdate carries. */
export function noticeOfUpdate(update: NoticeUpdate): NoticeBody | undefined {
  const n = update.notice;
  return n.case === undefined ? undefined : (n as NoticeBody);
}

/** Victims and informants of a notice: the fields stored encrypted, never logged or indexed. */
export interface ProtectedParties {
  informants: ProtectedParty[];
  victims: ProtectedParty[];
}

export function protectedPartiesOf(body: NoticeBody): ProtectedParties {
  return {
    informants: [...(body.value.summary?.informants ?? [])],
    victims: body.case === "humanTrafficking" ? [...body.value.victims] : [],
  };
}

export function protectedToJson(p: ProtectedParties): { informants: JsonValue[]; victims: JsonValue[] } {
  return {
    informants: p.informants.map((x) => toJson(ProtectedPartySchema, x)),
    victims: p.victims.map((x) => toJson(ProtectedPartySchema, x)),
  };
}

function stripPerson(p: PersonIdentity): void {
  for (const photo of p.photos) photo.content = new Uint8Array(0);
}

/**
 * The JSON the view keeps of a notice: the protobuf JSON mapping with informants, victims and
 * attachment contents removed (attachments keep their name, type and SHA-256; the bytes stay in
 * the recorded envelope).
 */
export function viewJson(body: NoticeBody): JsonValue {
  switch (body.case) {
    case "wantedPerson": {
      const v = clone(WantedPersonNoticeSchema, body.value);
      if (v.summary) v.summary.informants = [];
      if (v.person) stripPerson(v.person);
      return toJson(WantedPersonNoticeSchema, v);
    }
    case "drugCase": {
      const v = clone(DrugCaseNoticeSchema, body.value);
      if (v.summary) v.summary.informants = [];
      v.suspects.forEach(stripPerson);
      return toJson(DrugCaseNoticeSchema, v);
    }
    case "humanTrafficking": {
      const v = clone(HumanTraffickingNoticeSchema, body.value);
      if (v.summary) v.summary.informants = [];
      v.victims = [];
      v.recruiters.forEach(stripPerson);
      return toJson(HumanTraffickingNoticeSchema, v);
    }
    case "telecomFraud": {
      const v = clone(TelecomFraudNoticeSchema, body.value);
      if (v.summary) v.summary.informants = [];
      v.suspects.forEach(stripPerson);
      return toJson(TelecomFraudNoticeSchema, v);
    }
  }
}
