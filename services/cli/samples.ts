/**
 * Sample messages for the demo (and the tests): the kinds of notices ministries of public security
 * actually exchange, with names in several scripts. Fictional people and numbers.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
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
        victims: [{ names: [{ fullName: "Victim (protected)", script: "Latn", lang: "en" }], nationality: "VNM" }],
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
