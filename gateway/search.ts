/**
 * Superseded: GET /api/search now calls LocalApi.SearchNotices (the node's token index). Kept
 * only for bench/gateway.ts, which still measures this client-side scan; remove with it.
 *
 * Interim search, until the local API offers one: read the newest messages through ListMessages
 * and match them here. Names match across diacritics (Nguyen Van A finds Nguyễn Văn A; đ → d) and
 * across scripts where the notice carries both forms (pinyin finds the Hanzi name); documents,
 * phone numbers (last 9 digits), bank accounts and crypto addresses match too. Protected parties
 * (victims, informants) are never searched.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Direction, LocalApi, type MessageRecord } from "../gen/liaison/v1/local_pb.ts";
import type { Message } from "../gen/liaison/v1/message_pb.ts";
import type { PersonIdentity } from "../gen/liaison/v1/notices_pb.ts";
import type { LocalizedText } from "../gen/liaison/v1/common_pb.ts";
import type { CallOptions, LocalApiConnection } from "./client.ts";

/** How many of the newest messages one search reads. */
export const SEARCH_MAX_SCANNED = 5000;
const PAGE = 500;
const MAX_RESULTS = 200;

const FOLD: Record<string, string> = { đ: "d", Đ: "d", ð: "d", ø: "o", Ø: "o", ł: "l", Ł: "l", ß: "ss", æ: "ae", Æ: "ae", œ: "oe", Œ: "oe" };

/** Lower case, Latin diacritics removed, đ → d; other scripts as written. */
export function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/(\p{Script=Latin})\p{M}+/gu, "$1")
    .replace(/[đĐðøØłŁßæÆœŒ]/g, (c) => FOLD[c] ?? c)
    .normalize("NFC")
    .toLowerCase();
}

/**
 * Words of a text; a run of Han characters also yields each character (a stored name), or only
 * its characters (a query), so any part of a Chinese name finds it.
 */
export function tokens(text: string, forQuery = false): string[] {
  const out: string[] = [];
  for (const word of fold(text).split(/[^\p{L}\p{N}\p{M}]+/u)) {
    if (!word) continue;
    const han = /\p{Script=Han}/u.test(word);
    if (!han || !forQuery) out.push(word);
    if (han) for (const ch of word) if (/\p{Script=Han}/u.test(ch)) out.push(ch);
  }
  return out;
}

function texts(list: readonly LocalizedText[] | undefined): string[] {
  return (list ?? []).map((t) => t.text);
}

function personStrings(p: PersonIdentity | undefined): string[] {
  if (!p) return [];
  return [...p.names.map((n) => n.fullName), ...p.aliases, ...p.documents.map((d) => d.number)];
}

/** What a message can be found by (never its protected parties). */
export function searchableStrings(message: Message | undefined): { words: string[]; numbers: string[] } {
  const words: string[] = [];
  const numbers: string[] = [];
  const body = message?.body;
  if (!body || body.case === undefined) return { words, numbers };
  const v = body.value as unknown as Record<string, unknown>;
  const summary = v.summary as { reference?: string; title?: LocalizedText[] } | undefined;
  if (summary) words.push(summary.reference ?? "", ...texts(summary.title));
  switch (body.case) {
    case "wantedPerson":
      words.push(...personStrings(body.value.person), body.value.warrantReference);
      break;
    case "drugCase":
      words.push(...body.value.suspects.flatMap(personStrings), ...body.value.substances);
      break;
    case "humanTrafficking":
      words.push(...body.value.recruiters.flatMap(personStrings), ...body.value.onlineChannels);
      break;
    case "telecomFraud":
      words.push(...body.value.suspects.flatMap(personStrings), ...body.value.domains);
      numbers.push(...body.value.phoneNumbers, ...body.value.accounts.map((a) => a.accountNumber));
      words.push(...body.value.cryptoAddresses.map((a) => a.address), ...body.value.accounts.map((a) => a.holderName));
      break;
    case "caseShare":
      words.push(body.value.caseReference, ...texts(body.value.title), ...body.value.persons.flatMap((p) => personStrings(p.identity)));
      break;
    case "assistanceRequest":
      words.push(body.value.caseReference, ...texts(body.value.request));
      break;
    case "minutes":
      words.push(...texts(body.value.title));
      break;
    case "campaign":
      words.push(body.value.campaignId, ...texts(body.value.name));
      break;
    case "campaignReport":
      words.push(body.value.campaignId);
      break;
    default:
      break;
  }
  return { words, numbers };
}

function digits(text: string): string {
  return text.replace(/\D/g, "");
}

/** Does a message match every word of the query (or the query as a number)? */
export function matches(message: Message | undefined, query: string): boolean {
  const { words, numbers } = searchableStrings(message);
  const have = new Set(words.flatMap((w) => tokens(w)));
  const joined = new Set(words.map((w) => fold(w).replace(/[^\p{L}\p{N}\p{M}]+/gu, "")));
  const want = tokens(query, true);
  if (want.length && want.every((t) => have.has(t) || (t.length >= 3 && [...have].some((h) => h.startsWith(t))))) return true;
  const compact = fold(query).replace(/[^\p{L}\p{N}\p{M}]+/gu, "");
  if (compact.length >= 4 && joined.has(compact)) return true;
  const d = digits(query);
  if (d.length >= 6) {
    const tail = d.slice(-9);
    if (numbers.some((n) => digits(n).endsWith(tail))) return true;
  }
  return false;
}

export interface SearchQuery {
  q: string;
  kind?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export async function searchMessages(
  api: LocalApiConnection,
  options: CallOptions,
  query: SearchQuery,
): Promise<{ results: MessageRecord[]; scanned: number; complete: boolean }> {
  const results: MessageRecord[] = [];
  let scanned = 0;
  let pageToken = "";
  for (;;) {
    const page = await api.call(
      LocalApi.method.listMessages,
      {
        direction: Direction.UNSPECIFIED,
        bodyKind: query.kind ?? "",
        ...(query.since ? { since: timestampFromDate(new Date(query.since)) } : {}),
        ...(query.until ? { until: timestampFromDate(new Date(query.until)) } : {}),
        pageSize: PAGE,
        pageToken,
      },
      options,
    );
    for (const record of page.messages) {
      scanned++;
      if (results.length < MAX_RESULTS && matches(record.message, query.q)) results.push(record);
    }
    pageToken = page.nextPageToken;
    if (!pageToken) return { results, scanned, complete: true };
    if (scanned >= SEARCH_MAX_SCANNED || results.length >= MAX_RESULTS) return { results, scanned, complete: false };
  }
}
