// Showing messages: their kind, title, reference, deliveries, and a structured view of any body.
import { h } from "./dom.js";
import { t, language, formatDateTime, formatNumber } from "./i18n.js";

const HEADER_KEYS = new Set(["header"]);

export function snake(camel) {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The body field of a Message in protobuf JSON: ["wantedPerson", {...}]. */
export function bodyOf(message) {
  for (const [k, v] of Object.entries(message ?? {})) if (!HEADER_KEYS.has(k)) return [k, v];
  return ["", {}];
}

export function kindLabel(kind) {
  return t(`kind.${snake(kind)}`);
}

/** The text in the officer's language when the list has it, else the first. */
export function localized(list) {
  if (!Array.isArray(list) || !list.length) return "";
  const lang = language() === "zh" ? "zh" : language();
  return (list.find((x) => (x.lang ?? "").startsWith(lang)) ?? list[0]).text ?? "";
}

export function titleOf(message) {
  const [, body] = bodyOf(message);
  return localized(body.summary?.title) || localized(body.title) || localized(body.name) || localized(body.request) || body.caseReference || body.campaignId || "";
}

export function referenceOf(message) {
  const [, body] = bodyOf(message);
  return body.summary?.reference ?? body.caseReference ?? body.campaignId ?? (body.meetingNumber ? `#${body.meetingNumber}` : "");
}

export function statusChip(status) {
  const name = (status ?? "DELIVERY_STATUS_PENDING").replace("DELIVERY_STATUS_", "").toLowerCase();
  return h(`span.chip.${name}`, {}, t(`status.${name}`));
}

export function classificationChip(value) {
  const v = value ?? "CLASSIFICATION_UNSPECIFIED";
  return h(`span.cls.${v.replace("CLASSIFICATION_", "").toLowerCase()}`, {}, t(`class.${v}`));
}

/** Per-recipient state in one line: "CN-MPS · Receipted #12". */
export function deliveryCell(record) {
  if (record.direction === "DIRECTION_RECEIVED") return h("span.chip.recorded", {}, t("status.recorded"));
  return h(
    "ul.deliveries",
    {},
    (record.deliveries ?? []).map((d) =>
      h("li", {}, h("span.party-code", {}, d.party), " ", statusChip(d.status), d.receiverLedgerIndex && d.receiverLedgerIndex !== "0" ? h("span.muted.small", {}, ` #${d.receiverLedgerIndex}`) : null),
    ),
  );
}

export function base64ToHex(b64) {
  if (!b64) return "";
  const bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/"));
  let out = "";
  for (let i = 0; i < bin.length; i++) out += bin.charCodeAt(i).toString(16).padStart(2, "0");
  return out;
}

/** Labels of body fields, in the officer's language (protobuf JSON names → label keys). */
const FIELD_LABELS = {
  summary: "f.summary", reference: "f.reference", title: "f.title", person: "form.person", names: "form.names",
  dateOfBirth: "form.dob", nationalities: "form.nationalities", sex: "form.sex", charges: "form.charges",
  warrantReference: "form.warrant", issuingAuthority: "form.authority", dangerousness: "form.danger", requestedAction: "form.action",
  issuingCountry: "form.docCountry", substances: "form.substances", quantities: "form.quantity", quantity: "form.quantity",
  value: "form.value", unit: "form.unit", borderAreas: "form.borderAreas", routes: "form.route", mode: "form.mode",
  suspects: "form.suspects", victimCount: "form.victimCount", recruiters: "form.recruiters", recruitmentMethod: "form.recruitment",
  onlineChannels: "form.channels", exploitationTypes: "form.exploitation", locations: "form.location", location: "form.location",
  country: "form.country", place: "form.place", phoneNumbers: "form.phones", accounts: "form.accounts", bank: "form.bank",
  accountNumber: "form.accountNumber", holderName: "form.holder", domains: "form.domains", cryptoAddresses: "form.crypto",
  scheme: "form.fraudScheme", estimatedLoss: "form.loss", callCentreLocations: "form.location", caseReference: "form.caseRef",
  offences: "form.offences", status: "f.status", linkedNoticeIds: "form.linked", persons: "form.persons", role: "form.personRole",
  request: "form.request", legalBasis: "form.legalBasis", deadline: "form.deadline", urgency: "form.urgency",
  assistanceKinds: "form.assistanceKinds", campaignId: "form.campaignId", periodStart: "form.periodStart", periodEnd: "form.periodEnd",
  results: "form.results", metric: "form.metric", narrative: "form.narrative", meetingNumber: "form.meetingNumber",
  date: "form.meetingDate", agreedPoints: "form.points", previousMinutesId: "form.previousMinutes", lang: "form.lang",
  fullName: "form.fullName", script: "form.script", transliteration: "form.translit",
};

function label(key) {
  if (FIELD_LABELS[key]) return t(FIELD_LABELS[key]);
  const own = t(`field.${key}`);
  return own === `field.${key}` ? humanize(key) : own;
}

function humanize(key) {
  const words = snake(key).replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function isLocalizedList(v) {
  return Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === "object" && "text" in x && Object.keys(x).every((k) => k === "lang" || k === "text"));
}

function isNameList(v) {
  return Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === "object" && "fullName" in x);
}

function translated(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

function scalar(key, v) {
  if (typeof v === "boolean") return v ? t("common.yes") : t("common.no");
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v)) return formatDateTime(v);
  if (typeof v === "string" && /^CLASSIFICATION_/.test(v)) return t(`class.${v}`);
  if (typeof v === "string" && /^DANGEROUSNESS_/.test(v)) return t(`form.danger.${v}`);
  if (typeof v === "string" && /^CASE_STATUS_/.test(v)) return t(`form.case.${v}`);
  if (key === "requestedAction" && typeof v === "string") return translated(`form.action.${v}`, v);
  if (key === "kind" && typeof v === "string") return translated(`form.doc.${v}`, v);
  if (key === "urgency" && typeof v === "string") return translated(`form.urgency.${v}`, v);
  if (key === "scheme" && typeof v === "string") return translated(`form.fraud.${v}`, v);
  if (key === "exploitationTypes" && typeof v === "string") return translated(`form.exploit.${v}`, v);
  if (key === "assistanceKinds" && typeof v === "string") return translated(`form.ak.${v}`, v);
  if (key === "content" && typeof v === "string") return `${Math.floor((v.length * 3) / 4)} bytes`;
  return String(v);
}

/** A definition list of any protobuf-JSON value, names and texts as entered. */
export function renderValue(value, key = "") {
  if (value === null || value === undefined) return h("span.muted", {}, "—");
  if (isLocalizedList(value)) {
    return h("ul.plain", {}, value.map((x) => h("li", {}, h("span", { lang: x.lang || undefined }, x.text), x.lang ? h("span.lang-tag", {}, x.lang) : null)));
  }
  if (isNameList(value)) {
    return h(
      "ul.plain.names",
      {},
      value.map((n) =>
        h("li", {}, h("span.person-name", { lang: n.lang || undefined }, n.fullName), h("span.lang-tag", {}, [n.script, n.lang, n.transliteration ? `${t("form.translit")}${n.scheme ? `: ${n.scheme}` : ""}` : ""].filter(Boolean).join(" · "))),
      ),
    );
  }
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x !== "object")) return h("span", {}, value.map((x) => scalar(key, x)).join(", "));
    return h("ol.plain", {}, value.map((x) => h("li", {}, renderValue(x, key))));
  }
  if (typeof value === "object") {
    const entries = Object.entries(value);
    if ("year" in value && entries.every(([k]) => ["year", "month", "day"].includes(k))) {
      return h("span", {}, [value.year, value.month, value.day].filter(Boolean).map((n, i) => (i ? String(n).padStart(2, "0") : String(n))).join("-"));
    }
    return h("dl.kv", {}, entries.map(([k, v]) => [h("dt", {}, label(k)), h("dd", {}, renderValue(v, k))]));
  }
  return h("span", {}, scalar(key, value));
}

/** The header fields an officer checks, in a compact grid. */
export function headerGrid(header, extra = []) {
  const rows = [
    [t("f.messageId"), header?.messageId ? h("code", {}, header.messageId) : "—"],
    [t("f.sender"), header?.senderParty ?? "—"],
    [t("f.recipients"), (header?.recipientParties ?? []).join(", ")],
    [t("f.classification"), classificationChip(header?.classification)],
    [t("f.handling"), (header?.handlingCodes ?? []).join(", ") || "—"],
    [t("f.languages"), (header?.languages ?? []).join(", ") || "—"],
    [t("f.createdAt"), formatDateTime(header?.createdAt)],
    [t("f.draftedBy"), header?.draftedBy?.displayName ?? "—"],
    [t("f.approvedBy"), header?.approvedBy?.displayName ?? "—"],
    ...(header?.expiresAt ? [[t("f.expires"), formatDateTime(header.expiresAt)]] : []),
    ...extra,
  ];
  return h("dl.grid", {}, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
}
