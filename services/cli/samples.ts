/**
 * Sample messages for the demo (and the tests): the kinds of notices ministries of public security
 * actually exchange, with names in several scripts. Fictional people and numbers.
 */
import { createHash, randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Classification, MessageSchema, type Message } from "../../gen/liaison/v1/message_pb.ts";

export interface SampleHeaderOptions {
  sender: string;
  recipients: string[];
  messageId?: string;
  createdAt?: Date;
  expiresAt?: Date;
  drafter?: string;
  approver?: string;
}

export interface WantedPersonOptions extends SampleHeaderOptions {
  title?: string;
  /** Bytes of an attached photo (used to make large messages). */
  padding?: number;
  /** Name an informant (a protected party) in the notice. */
  withInformant?: boolean;
}

function header(options: SampleHeaderOptions) {
  return {
    messageId: options.messageId ?? randomUUID(),
    senderParty: options.sender,
    recipientParties: options.recipients,
    createdAt: timestampFromDate(options.createdAt ?? new Date()),
    classification: Classification.RESTRICTED,
    handlingCodes: ["H2"],
    ...(options.expiresAt ? { expiresAt: timestampFromDate(options.expiresAt) } : {}),
    draftedBy: { officerId: options.drafter ?? "drafter-1", displayName: "Drafting officer", role: "drafter" },
    approvedBy: { officerId: options.approver ?? "approver-1", displayName: "Approving officer", role: "approver" },
    languages: ["en"],
  };
}

export function wantedPersonNotice(options: WantedPersonOptions): Message {
  return create(MessageSchema, {
    header: header(options),
    body: {
      case: "wantedPerson",
      value: {
        summary: {
          reference: `${options.sender}/WANTED/2026/0042`,
          // An informant is protected: never shown in listings, never logged.
          ...(options.withInformant
            ? { informants: [{ names: [{ fullName: "Lê Văn Tín", script: "Latn", lang: "vi" }], contact: "+84 903 555 777" }] }
            : {}),
          title: [
            { lang: "en", text: options.title ?? "Wanted: organiser of a telecom fraud ring" },
            { lang: "vi", text: "Truy nã: kẻ cầm đầu đường dây lừa đảo viễn thông" },
          ],
        },
        person: {
          names: [
            { fullName: "Nguyễn Văn A", script: "Latn", lang: "vi" },
            { fullName: "阮文甲", script: "Hani", lang: "zh-Hans" },
            { fullName: "Ruan Wenjia", script: "Latn", lang: "zh-Hans", transliteration: true, scheme: "pinyin" },
          ],
          dateOfBirth: { year: 1985, month: 4, day: 12 },
          nationalities: ["VNM"],
          sex: "male",
          documents: [{ kind: "passport", number: "C1234567", issuingCountry: "VNM" }],
          ...(options.padding
            ? { photos: [{ filename: "photo.bin", mediaType: "application/octet-stream", content: new Uint8Array(options.padding) }] }
            : {}),
        },
        charges: [{ lang: "en", text: "Fraud, appropriation of property (Penal Code art. 174)" }],
        warrantReference: "QĐ-123/2026",
        issuingAuthority: "Investigation Police Agency",
        dangerousness: 2,
        requestedAction: "arrest-and-hand-over",
      },
    },
  });
}

export function drugCaseNotice(options: SampleHeaderOptions): Message {
  return create(MessageSchema, {
    header: header(options),
    body: {
      case: "drugCase",
      value: {
        summary: {
          reference: `${options.sender}/DRUG/2026/0107`,
          title: [
            { lang: "en", text: "Methamphetamine route through the northern border" },
            { lang: "zh-Hans", text: "经北部边境的冰毒运输路线" },
          ],
        },
        substances: ["methamphetamine", "ketamine"],
        quantities: [{ value: 48.5, unit: "kg" }],
        routes: [{ mode: "road", waypoints: [{ country: "LAO", place: "Bokeo" }, { country: "VNM", place: "Lào Cai" }, { country: "CHN", place: "Hekou" }] }],
        seizures: [{ substance: "methamphetamine", quantity: { value: 12, unit: "kg" }, location: { country: "VNM", place: "Lào Cai" } }],
        borderAreas: ["Lào Cai – Hekou"],
      },
    },
  });
}

export function humanTraffickingNotice(options: SampleHeaderOptions): Message {
  return create(MessageSchema, {
    header: { ...header(options), handlingCodes: ["H3", "VICTIM-PROTECTED"] },
    body: {
      case: "humanTrafficking",
      value: {
        summary: {
          reference: `${options.sender}/THB/2026/0019`,
          title: [
            { lang: "en", text: "Victims lured by fake job offers to a fraud compound" },
            { lang: "km", text: "ជនរងគ្រោះត្រូវបានបោកប្រាស់ដោយការផ្តល់ការងារក្លែងក្លាយ" },
          ],
        },
        victims: [
          { names: [{ fullName: "Trần Thị Mai", script: "Latn", lang: "vi" }], nationality: "VNM", contact: "+84 912 000 111" },
          { names: [{ fullName: "Phạm Thị Hoa", script: "Latn", lang: "vi" }], nationality: "VNM" },
        ],
        victimCount: 27,
        recruitmentMethod: "fake job offer on a social network: easy work, high pay",
        onlineChannels: ["closed group 'Việc nhẹ lương cao'"],
        exploitationTypes: ["forced-criminality"],
        locations: [{ country: "KHM", region: "Sihanoukville", place: "compound" }],
      },
    },
  });
}

export function telecomFraudNotice(options: SampleHeaderOptions): Message {
  return create(MessageSchema, {
    header: header(options),
    body: {
      case: "telecomFraud",
      value: {
        summary: {
          reference: `${options.sender}/FRAUD/2026/0311`,
          title: [
            { lang: "en", text: "Call centre impersonating police officers" },
            { lang: "fr", text: "Centre d'appels se faisant passer pour la police" },
          ],
        },
        phoneNumbers: ["+85512345678", "+84901234567"],
        domains: ["secure-police-check.example"],
        cryptoAddresses: [{ network: "USDT-TRC20", address: "TXYZexampleAddress0000000000000000" }],
        callCentreLocations: [{ country: "KHM", place: "Bavet" }],
        scheme: "impersonation-of-police",
        victimCount: 140,
        estimatedLoss: { value: 2_300_000, unit: "USD" },
      },
    },
  });
}

// ---- the joint work of the demo: a campaign, its reports, minutes, a case and assistance ----

type Body = MessageInitShape<typeof MessageSchema>["body"];

export function campaignBody(campaignId: string, parties: string[]): Body {
  return {
    case: "campaign",
    value: {
      campaignId,
      name: [
        { lang: "en", text: "Joint campaign against telecom and internet fraud 2026" },
        { lang: "vi", text: "Chiến dịch chung phòng, chống lừa đảo viễn thông và trên mạng 2026" },
        { lang: "zh-Hans", text: "2026年打击电信网络诈骗联合行动" },
      ],
      parties,
      startsAt: timestampFromDate(new Date("2026-03-01T00:00:00Z")),
      endsAt: timestampFromDate(new Date("2026-12-31T00:00:00Z")),
      objectives: [
        { metric: "arrests", target: 1200 },
        { metric: "victims_rescued", target: 400 },
        { metric: "networks_dismantled", target: 30 },
      ],
      crimeAreas: ["telecom-fraud", "online-gambling"],
    },
  };
}

export function campaignReportBody(campaignId: string, results: Record<string, number>, month: number): Body {
  return {
    case: "campaignReport",
    value: {
      campaignId,
      periodStart: timestampFromDate(new Date(Date.UTC(2026, month - 1, 1))),
      periodEnd: timestampFromDate(new Date(Date.UTC(2026, month, 1))),
      results: Object.entries(results).map(([metric, value]) => ({ metric, value })),
    },
  };
}

function minutesDocument(lang: string, text: string) {
  const content = new TextEncoder().encode(text);
  return { filename: `minutes.${lang}.txt`, mediaType: "text/plain", sha256: createHash("sha256").update(content).digest(), content };
}

export function ministerialMinutesBody(parties: string[]): Body {
  const documents = [
    ["vi", "Biên bản Hội nghị Bộ trưởng về phòng, chống tội phạm lần thứ 8, Bắc Kinh, tháng 9 năm 2026."],
    ["zh-Hans", "第八次打击犯罪部长级会议纪要，2026年9月，北京。"],
    ["km", "កំណត់ហេតុនៃសន្និសីទថ្នាក់រដ្ឋមន្ត្រីលើកទី៨ ស្តីពីការបង្ការ និងទប់ស្កាត់ឧក្រិដ្ឋកម្ម។"],
    ["en", "Minutes of the 8th Ministerial Conference on Crime Prevention and Control, Beijing, September 2026."],
  ] as const;
  return {
    case: "minutes",
    value: {
      title: [
        { lang: "en", text: "8th Ministerial Conference on Crime Prevention and Control" },
        { lang: "vi", text: "Hội nghị Bộ trưởng về phòng, chống tội phạm lần thứ 8" },
        { lang: "zh-Hans", text: "第八次打击犯罪部长级会议" },
      ],
      meetingNumber: 8,
      kind: "ministerial-conference",
      place: { country: "CHN", place: "Beijing" },
      date: { year: 2026, month: 9, day: 12 },
      attendees: parties.map((party) => ({ party, name: `Head of delegation, ${party}`, headOfDelegation: true })),
      agreedPoints: [
        { number: 1, text: [{ lang: "en", text: "Continue the joint campaign against telecom and internet fraud" }], topic: "telecom-fraud" },
        { number: 2, text: [{ lang: "en", text: "Exchange wanted-person notices within 24 hours" }], topic: "wanted-persons" },
        { number: 3, text: [{ lang: "en", text: "Protect victims lured abroad by fake job offers" }], topic: "human-trafficking" },
      ],
      parties,
      documents: documents.map(([lang, text]) => minutesDocument(lang, text)),
      documentLanguages: documents.map(([lang]) => lang),
    },
  };
}

export function caseShareBody(caseReference: string, linkedNoticeIds: string[]): Body {
  return {
    case: "caseShare",
    value: {
      caseReference,
      title: [{ lang: "en", text: "Methamphetamine route Bokeo – Lào Cai – Hekou" }],
      offences: [{ lang: "en", text: "Illegal trafficking of narcotics" }],
      linkedNoticeIds,
      persons: [{ role: "suspect", identity: { names: [{ fullName: "Hoàng Văn B", script: "Latn", lang: "vi" }] } }],
      status: 1,
    },
  };
}

export function assistanceRequestBody(caseReference: string, deadline: Date): Body {
  return {
    case: "assistanceRequest",
    value: {
      caseReference,
      request: [{ lang: "en", text: "Locate the suspect and provide his current address" }],
      legalBasis: "Agreement on cooperation in crime prevention and control",
      deadline: timestampFromDate(deadline),
      urgency: "urgent",
      assistanceKinds: ["locate-person"],
    },
  };
}

export function assistanceResponseBody(): Body {
  return { case: "assistanceResponse", value: { status: "answered", answer: [{ lang: "en", text: "Located in Hekou; address in the attached report" }] } };
}

/** A draft for the local API: recipients, classification and body; the node fills the rest. */
export function draft(recipients: string[], body: Body, replyTo = ""): Message {
  return create(MessageSchema, {
    header: { recipientParties: recipients, classification: Classification.RESTRICTED, handlingCodes: ["H2"], replyTo, languages: ["en"] },
    body,
  });
}
