/**
 * Message builders for the domain tests: complete, approved messages of each body, with
 * fictional people and numbers. (The demo's samples live in services/cli/samples.ts.)
 */
import { randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Classification, MessageSchema, type Message } from "../../gen/liaison/v1/message_pb.ts";
import { PartnerResponseKind } from "../../gen/liaison/v1/notices_pb.ts";
import type { MinutesCosignature } from "../../gen/liaison/v1/cooperation_pb.ts";
import { createHash } from "node:crypto";

export interface HeaderOptions {
  sender: string;
  recipients: string[];
  replyTo?: string;
  threadId?: string;
  createdAt?: Date;
  messageId?: string;
}

type Body = MessageInitShape<typeof MessageSchema>["body"];

export function message(options: HeaderOptions, body: Body): Message {
  return create(MessageSchema, {
    header: {
      messageId: options.messageId ?? randomUUID(),
      senderParty: options.sender,
      recipientParties: options.recipients,
      createdAt: timestampFromDate(options.createdAt ?? new Date()),
      threadId: options.threadId ?? options.replyTo ?? "",
      replyTo: options.replyTo ?? "",
      classification: Classification.RESTRICTED,
      handlingCodes: ["H2"],
      draftedBy: { officerId: `${options.sender.toLowerCase()}-drafter`, displayName: "Drafting officer", role: "drafter" },
      approvedBy: { officerId: `${options.sender.toLowerCase()}-approver`, displayName: "Approving officer", role: "approver" },
      languages: ["en"],
    },
    body,
  });
}

export const wantedBody = (reference: string, informant = false): Body => ({
  case: "wantedPerson",
  value: {
    summary: {
      reference,
      title: [{ lang: "en", text: "Wanted: organiser of a telecom fraud ring" }],
      ...(informant ? { informants: [{ names: [{ fullName: "Trần Thị Informant", script: "Latn", lang: "vi" }], contact: "+84 912 000 111", notes: "met at the border market" }] } : {}),
    },
    person: {
      names: [
        { fullName: "Nguyễn Văn A", script: "Latn", lang: "vi" },
        { fullName: "阮文甲", script: "Hani", lang: "zh-Hans" },
        { fullName: "Ruǎn Wénjiǎ", script: "Latn", lang: "zh-Hans", transliteration: true, scheme: "pinyin" },
      ],
      documents: [{ kind: "passport", number: "C1234567", issuingCountry: "VNM" }],
      nationalities: ["VNM"],
    },
    warrantReference: "QĐ-123/2026",
    requestedAction: "arrest-and-hand-over",
  },
});

export const fraudBody = (reference: string): Body => ({
  case: "telecomFraud",
  value: {
    summary: { reference, title: [{ lang: "en", text: "Call centre impersonating police officers" }] },
    phoneNumbers: ["+84901234567", "+85512345678"],
    cryptoAddresses: [{ network: "USDT-TRC20", address: "TXyZ9exampleAddr0000000000000000" }],
    accounts: [{ bank: "Example Bank", accountNumber: "0071-000-123456", holderName: "Đặng Văn Đức" }],
    scheme: "impersonation-of-police",
  },
});

export const traffickingBody = (reference: string): Body => ({
  case: "humanTrafficking",
  value: {
    summary: { reference, title: [{ lang: "en", text: "Victims lured by fake job offers" }] },
    victims: [
      { names: [{ fullName: "Lê Thị Quyên", script: "Latn", lang: "vi" }], nationality: "VNM", notes: "rescued 2026-03-01" },
      { names: [{ fullName: "Phạm Văn Quyết", script: "Latn", lang: "vi" }], nationality: "VNM" },
    ],
    victimCount: 2,
    recruitmentMethod: "fake job offer on a social network: easy work, high pay",
  },
});

export const updateBody = (reference: string, title: string): Body => {
  const w = wantedBody(reference) as { case: "wantedPerson"; value: { summary: { title: { lang: string; text: string }[] } } };
  w.value.summary.title = [{ lang: "en", text: title }];
  return { case: "noticeUpdate", value: { notice: w as never, changeNote: [{ lang: "en", text: "new title" }] } };
};

export const responseBody = (kind: PartnerResponseKind = PartnerResponseKind.LOCATED): Body => ({
  case: "partnerResponse",
  value: { kind, details: [{ lang: "en", text: "Person located in Hekou" }] },
});

export const cancellationBody = (reasonCode = "person-arrested"): Body => ({
  case: "noticeCancellation",
  value: { reasonCode, reason: [{ lang: "en", text: "Arrested and handed over" }] },
});

export function documentAttachment(lang: string, text: string) {
  const content = new TextEncoder().encode(text);
  return { attachment: { filename: `minutes.${lang}.txt`, mediaType: "text/plain", sha256: createHash("sha256").update(content).digest(), content }, lang };
}

export const minutesBody = (parties: string[], meetingNumber = 8): Body => {
  const docs = [documentAttachment("vi", "Biên bản Hội nghị Bộ trưởng lần thứ 8"), documentAttachment("zh-Hans", "第八次部长级会议纪要")];
  return {
    case: "minutes",
    value: {
      title: [
        { lang: "en", text: `${meetingNumber}th Ministerial Conference on Crime Prevention and Control` },
        { lang: "vi", text: `Hội nghị Bộ trưởng về phòng, chống tội phạm lần thứ ${meetingNumber}` },
      ],
      meetingNumber,
      kind: "ministerial-conference",
      place: { country: "CHN", place: "Beijing" },
      date: { year: 2026, month: 9, day: 12 },
      attendees: parties.map((party) => ({ party, name: `Head of delegation ${party}`, headOfDelegation: true })),
      agreedPoints: [{ number: 1, text: [{ lang: "en", text: "Joint campaign against cross-border gambling crime" }], topic: "cross-border-gambling" }],
      parties,
      documents: docs.map((d) => d.attachment),
      documentLanguages: docs.map((d) => d.lang),
    },
  };
};

export const cosignatureBody = (value: MinutesCosignature): Body => ({ case: "minutesCosignature", value });

export const campaignBody = (campaignId: string, parties: string[]): Body => ({
  case: "campaign",
  value: {
    campaignId,
    name: [{ lang: "en", text: "Joint campaign against drug crime 2026" }],
    parties,
    startsAt: timestampFromDate(new Date("2026-01-01T00:00:00Z")),
    endsAt: timestampFromDate(new Date("2026-12-31T00:00:00Z")),
    objectives: [
      { metric: "arrests", target: 300 },
      { metric: "seizures_kg", target: 500 },
    ],
    crimeAreas: ["drugs"],
  },
});

export const reportBody = (campaignId: string, results: Record<string, number>, month = 1): Body => ({
  case: "campaignReport",
  value: {
    campaignId,
    periodStart: timestampFromDate(new Date(Date.UTC(2026, month - 1, 1))),
    periodEnd: timestampFromDate(new Date(Date.UTC(2026, month, 1))),
    results: Object.entries(results).map(([metric, value]) => ({ metric, value })),
  },
});

export const caseShareBody = (caseReference: string, linkedNoticeIds: string[] = []): Body => ({
  case: "caseShare",
  value: {
    caseReference,
    title: [{ lang: "en", text: "Methamphetamine route Bokeo – Lào Cai – Hekou" }],
    offences: [{ lang: "en", text: "Illegal trafficking of narcotics (Penal Code art. 250)" }],
    linkedNoticeIds,
    persons: [{ role: "suspect", identity: { names: [{ fullName: "Hoàng Văn B", script: "Latn", lang: "vi" }] } }],
    status: 1,
  },
});

export const assistanceRequestBody = (caseReference: string, deadline: Date): Body => ({
  case: "assistanceRequest",
  value: {
    caseReference,
    request: [{ lang: "en", text: "Locate the suspect and provide his current address" }],
    legalBasis: "Agreement on cooperation in crime prevention and control",
    deadline: timestampFromDate(deadline),
    urgency: "urgent",
    assistanceKinds: ["locate-person"],
  },
});

export const assistanceResponseBody = (status: string, refusalReason = ""): Body => ({
  case: "assistanceResponse",
  value: { status, refusalReason, answer: status === "answered" ? [{ lang: "en", text: "Located in Hekou; address attached" }] : [] },
});
