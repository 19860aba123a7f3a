/**
 * Search support for notices: one normalised token array per notice, indexed, matched by
 * equality. Pure functions here; `searchNotices` is the one query.
 *
 * Normalisation (the same for what is stored and what is asked):
 * - Latin letters lose their diacritics (NFD, combining marks after a Latin base removed), and
 *   the letters that do not decompose are folded by hand: Vietnamese đ/Đ → d, ø → o, ł → l,
 *   ß → ss, æ → ae, œ → oe. Marks of other scripts (Khmer vowel signs, ...) are kept: they are
 *   part of the letters.
 * - Everything is lower-cased and split on anything that is not a letter or digit.
 * - A run of Han characters is stored whole and character by character; a query uses its
 *   characters, so any part of a Chinese name finds it.
 * - A value made of several parts (a name, a document number "QĐ-123/2026") also yields its
 *   parts joined ("nguyenvana", "qd1232026"), so a query typed without spaces finds it.
 * - Phone numbers are reduced to digits, and also to their last 9 digits (the national
 *   significant number in the region), so "+84 90 123 4567" and "0901234567" meet.
 * Victims and informants are never tokenised: protected data stays out of the index.
 */
import type { Db, Filter } from "mongodb";
import type { PersonIdentity } from "../../gen/liaison/v1/notices_pb.ts";
import type { LocalizedText } from "../../gen/liaison/v1/common_pb.ts";
import type { NoticeBody } from "./body.ts";
import { NOTICES, type NoticeViewDoc } from "./collections.ts";

const HAN = /\p{Script=Han}/u;
const HAN_RUN = /^\p{Script=Han}+$/u;
const PHONE_LIKE = /^\+?[\d\s().\-/]+$/;
/** Digits kept when matching phone numbers across national and international forms. */
export const PHONE_SUFFIX_DIGITS = 9;
/** The most candidates one search reads before sorting (a token shared by more is not selective). */
export const MAX_CANDIDATES = 5000;

const FOLD: Record<string, string> = { đ: "d", Đ: "d", Ð: "d", ð: "d", ø: "o", Ø: "o", ł: "l", Ł: "l", ß: "ss", æ: "ae", Æ: "ae", œ: "oe", Œ: "oe", ı: "i" };

/** Lower-case, Latin diacritics stripped, đ → d; other scripts kept as they are (NFC). */
export function foldText(text: string): string {
  return text
    .normalize("NFD")
    .replace(/(\p{Script=Latin})\p{M}+/gu, "$1")
    .replace(/[đĐÐðøØłŁßæÆœŒı]/g, (c) => FOLD[c] ?? c)
    .normalize("NFC")
    .toLowerCase();
}

/** The folded words of a text: {@link foldText}, split on anything not a letter, digit or mark. */
export function textParts(text: string): string[] {
  return foldText(text).split(/[^\p{L}\p{N}\p{M}]+/u).filter((p) => p !== "");
}

/** Tokens stored for one value: its parts, Han characters one by one, and the parts joined. */
export function valueTokens(text: string): string[] {
  const out: string[] = [];
  const ps = textParts(text);
  for (const p of ps) {
    out.push(p);
    if (HAN.test(p) && p.length > 1) for (const c of p) if (HAN.test(c)) out.push(c);
  }
  if (ps.length > 1) out.push(ps.join(""));
  return out;
}

/** Tokens stored for a phone number: all its digits, and the last {@link PHONE_SUFFIX_DIGITS}. */
export function phoneTokens(phone: string): string[] {
  const digits = phone.replace(/\D/g, "");
  if (digits === "") return [];
  const out = [digits];
  if (digits.length > PHONE_SUFFIX_DIGITS) out.push(digits.slice(-PHONE_SUFFIX_DIGITS));
  return out;
}

/**
 * What a query must match: one list per term, each list holding the term's alternatives (a
 * number may be stored whole or by its last digits). Every term must match one alternative.
 */
export function queryTerms(text: string): string[][] {
  const trimmed = text.trim();
  const digits = trimmed.replace(/\D/g, "");
  if (PHONE_LIKE.test(trimmed) && digits.length >= 7) {
    const alternatives = new Set([digits, digits.replace(/^0+/, "")]);
    if (digits.length > PHONE_SUFFIX_DIGITS) alternatives.add(digits.slice(-PHONE_SUFFIX_DIGITS));
    if (/[\s().\-/]/.test(trimmed)) alternatives.add(textParts(trimmed).join(""));
    return [[...alternatives].filter((a) => a !== "")];
  }
  const out = new Map<string, string[]>();
  for (const p of textParts(trimmed)) {
    if (HAN_RUN.test(p) && p.length > 1) for (const c of p) out.set(c, [c]);
    else out.set(p, [p]);
  }
  return [...out.values()];
}

function texts(list: readonly LocalizedText[] | undefined): string[] {
  return (list ?? []).map((t) => t.text);
}

function personValues(person: PersonIdentity | undefined, into: string[]): void {
  if (!person) return;
  for (const name of person.names) into.push(name.fullName);
  into.push(...person.aliases);
  for (const doc of person.documents) into.push(doc.number);
}

/** Every normalised token of a notice (never its protected parties), sorted and unique. */
export function noticeSearchTokens(body: NoticeBody): string[] {
  const values: string[] = [];
  const phones: string[] = [];
  const summary = body.value.summary;
  if (summary) values.push(summary.reference, ...texts(summary.title));
  switch (body.case) {
    case "wantedPerson":
      personValues(body.value.person, values);
      values.push(body.value.warrantReference);
      break;
    case "drugCase":
      for (const s of body.value.suspects) personValues(s, values);
      values.push(...body.value.substances);
      break;
    case "humanTrafficking":
      for (const r of body.value.recruiters) personValues(r, values);
      values.push(...body.value.onlineChannels);
      break;
    case "telecomFraud":
      for (const s of body.value.suspects) personValues(s, values);
      phones.push(...body.value.phoneNumbers);
      for (const a of body.value.accounts) values.push(a.accountNumber, a.holderName);
      values.push(...body.value.domains);
      for (const c of body.value.cryptoAddresses) values.push(c.address);
      break;
  }
  const tokens = new Set<string>();
  for (const v of values) if (v) for (const t of valueTokens(v)) tokens.add(t);
  for (const p of phones) for (const t of phoneTokens(p)) tokens.add(t);
  return [...tokens].sort();
}

export interface NoticeSearch {
  /** Free text: names in any script or transliteration, document, phone, account numbers, addresses. */
  text: string;
  /** Notices created at or after this time. */
  from?: Date;
  /** Notices created before this time. */
  to?: Date;
  /** Body kind: "wantedPerson", "drugCase", "humanTrafficking", "telecomFraud". */
  kind?: string;
  /** Only notices in this state ("active", "updated", "cancelled"). */
  state?: string;
  limit: number;
}

export interface NoticeHit {
  noticeId: string;
  kind: string;
  originator: string;
  reference: string;
  title: { lang: string; text: string }[];
  state: string;
  createdAt: Date;
}

/**
 * Notices whose tokens include every token of `text`, newest first. The candidates come from
 * the `searchTokens` index by equality on the query's longest token; the other tokens and the
 * filters are checked on those candidates only (no collection scan).
 */
export async function searchNotices(db: Db, query: NoticeSearch): Promise<NoticeHit[]> {
  if (!Number.isSafeInteger(query.limit) || query.limit < 1) throw new TypeError("limit must be a positive integer");
  const terms = queryTerms(query.text);
  if (terms.length === 0) return [];
  // The longest term leads: it is the most selective in the index.
  const [lead, ...rest] = [...terms].sort((a, b) => Math.max(...b.map((t) => t.length)) - Math.max(...a.map((t) => t.length)));
  const match = (alternatives: string[]): Filter<NoticeViewDoc> =>
    alternatives.length === 1 ? { searchTokens: alternatives[0] } : { searchTokens: { $in: alternatives } };
  const filter: Filter<NoticeViewDoc> = match(lead!);
  const and: Filter<NoticeViewDoc>[] = rest.map(match);
  if (query.kind) and.push({ kind: query.kind });
  if (query.state) and.push({ state: query.state as NoticeViewDoc["state"] });
  if (query.from) and.push({ createdAt: { $gte: query.from } });
  if (query.to) and.push({ createdAt: { $lt: query.to } });
  if (and.length > 0) filter.$and = and;
  // No sort in the query: the planner then takes candidates from the token index; the few
  // matches are ordered here.
  const docs = await db
    .collection<NoticeViewDoc>(NOTICES)
    .find(filter, { projection: { kind: 1, originator: 1, reference: 1, title: 1, state: 1, createdAt: 1 }, limit: MAX_CANDIDATES })
    .toArray();
  docs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? -1 : 1));
  return docs.slice(0, query.limit).map((d) => ({
    noticeId: d._id,
    kind: d.kind,
    originator: d.originator,
    reference: d.reference,
    title: d.title,
    state: d.state,
    createdAt: d.createdAt,
  }));
}
