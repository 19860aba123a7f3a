// The audit trail on the Ledger page, for auditors only (GET /api/ledger/entries, ListLedgerEntries):
// filters, paging newest first, one row per ledger entry with a summary per kind. Every value is
// shown as a text node (a purpose is free text an analyst typed).
import { h, clear, field, select, notice } from "./dom.js";
import { t, locale, timeZone, formatNumber } from "./i18n.js";
import { get, query } from "./api.js";
import { errorBox } from "./app.js";
import { base64ToHex } from "./render.js";

/** Every kind the node records (docs/PROTOCOL.md §11.1, plus minutes.cosigned). */
export const LEDGER_KINDS = [
  "envelope.sent", "envelope.received", "receipt.issued", "receipt.received", "envelope.rejected", "envelope.refused-by-partner",
  "partner.onboarded", "officer.added", "officer.disabled", "officer.enabled", "draft.approved", "draft.rejected",
  "minutes.cosigned", "protected.read", "witness.alert",
];
const ENVELOPE_KINDS = new Set(["envelope.sent", "envelope.received"]);
const RECEIPT_KINDS = new Set(["receipt.issued", "receipt.received"]);
/** Decision members that hold an officer id, shown by display name. */
const OFFICER_MEMBERS = new Set(["officerId", "by", "approver", "drafter", "signingOfficer", "requestedBy"]);
const MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAGE_SIZES = [10, 20, 50, 100, 200, 500];

/** The filters last applied (kept while the officer moves between pages of the console). */
let saved = { kinds: [], officer: "", fromIndex: "", toIndex: "", since: "", until: "", pageSize: "50" };

function kindLabel(kind) {
  const label = t(`audit.kind.${kind}`);
  return label === `audit.kind.${kind}` ? kind : label;
}

/** A recorded time to the second, in the officer's locale and time zone. */
function recordedTime(iso) {
  const d = new Date(iso ?? "");
  if (!iso || Number.isNaN(d.getTime())) return "—";
  const text = new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "medium", timeZone: timeZone() }).format(d);
  return h("time", { datetime: d.toISOString() }, text);
}

function messageLink(id) {
  if (typeof id !== "string" || !id) return "—";
  const short = `${id.slice(0, 8)}…`;
  return MESSAGE_ID.test(id) ? h("a", { href: `#/messages/${id}`, title: id }, t("audit.message"), " ", h("code", {}, short)) : h("code", { title: id }, short);
}

const sep = () => h("span.muted", { "aria-hidden": "true" }, " · ");

function shortHash(hex, n = 12) {
  return hex ? h("code.hash", { title: hex }, `${hex.slice(0, n)}…`) : "—";
}

/** A date input (yyyy-mm-dd, the officer's calendar day) as the instant its day starts in the officer's time zone. */
function dayStart(value, plusDays = 0) {
  if (!value) return "";
  const d = new Date(`${value}T00:00:00`);
  if (Number.isNaN(d.getTime())) return "";
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

function protectedReadSummary(d) {
  const granted = d.granted === true;
  const refusal = typeof d.refusal === "string" ? d.refusal : "";
  const why = refusal ? t(`audit.refusal.${refusal}`) : "";
  const parts = [
    granted
      ? h("span.chip.receipted", {}, t("audit.granted"))
      : h("span.chip.rejected", {}, refusal ? t("audit.refusedBecause", { why: why === `audit.refusal.${refusal}` ? refusal : why }) : t("audit.refused")),
    sep(),
    t("audit.notice"), " ", messageLink(d.noticeId || d.messageId),
  ];
  if (d.noticeId && d.messageId && d.messageId !== d.noticeId) parts.push(" ", h("span.small.muted", {}, t("audit.askedAs")), " ", messageLink(d.messageId));
  const fields = (Array.isArray(d.fields) ? d.fields : []).map((f) => {
    const label = t(`audit.field.${f}`);
    return label === `audit.field.${f}` ? f : label;
  });
  if (fields.length) parts.push(sep(), t("audit.fields"), " ", fields.join(", "));
  if (typeof d.informants === "number" || typeof d.victims === "number") {
    parts.push(sep(), t("audit.counts", { informants: formatNumber(d.informants ?? 0), victims: formatNumber(d.victims ?? 0) }));
  }
  if (typeof d.purpose === "string" && d.purpose) parts.push(sep(), t("audit.purpose"), " ", h("q.audit-purpose", {}, d.purpose));
  if (Array.isArray(d.roles) && d.roles.length) parts.push(sep(), h("span.small.muted", {}, t("audit.roles"), " ", d.roles.map(roleLabel).join(", ")));
  return parts;
}

function roleLabel(role) {
  const key = `role.ROLE_${String(role).replace(/^ROLE_/, "").toUpperCase()}`;
  const label = t(key);
  return label === key ? String(role) : label;
}

function envelopeSummary(kind, e) {
  const hex = base64ToHex(e.envelopeSha256);
  const body = e.bodyKind ? t(`kind.${e.bodyKind}`) : "";
  const parts = [
    h("span.kind", {}, e.bodyKind ? (body === `kind.${e.bodyKind}` ? e.bodyKind : body) : "—"),
    " ",
    h("span", {}, `${e.sender || "—"} → ${(e.recipients ?? []).join(", ") || "—"}`),
    sep(),
    "SHA-256 ", shortHash(hex),
    sep(),
    messageLink(e.messageId),
  ];
  if (RECEIPT_KINDS.has(kind) && e.receiverLedgerIndex && e.receiverLedgerIndex !== "0") parts.push(sep(), t("audit.receiverIndex", { index: e.receiverLedgerIndex }));
  return parts;
}

function genericSummary(d, name) {
  const parts = [];
  for (const [k, v] of Object.entries(d)) {
    if (parts.length) parts.push(sep());
    let value;
    if (OFFICER_MEMBERS.has(k) && typeof v === "string") value = name(v);
    else if (k === "messageId" || k === "minutesId") value = messageLink(v);
    else if (Array.isArray(v)) value = v.map((x) => (k === "roles" ? roleLabel(x) : String(x))).join(", ");
    else value = String(v);
    if (typeof value === "string" && value.length > 120) value = h("span", { title: value }, `${value.slice(0, 120)}…`);
    parts.push(h("span.small.muted", {}, `${k}:`), " ", value);
  }
  return parts.length ? parts : ["—"];
}

function summaryOf(entry, name) {
  const d = entry.decision;
  const e = entry.envelope;
  if (e) return envelopeSummary(entry.kind, e);
  if (d && typeof d === "object") {
    if (entry.kind === "protected.read") return protectedReadSummary(d);
    if (entry.kind === "draft.approved") {
      return [h("span", {}, `${d.drafter ? name(d.drafter) : "—"} → ${d.approver ? name(d.approver) : "—"}`), " ", h("span.small.muted", {}, t("audit.drafterApprover")), sep(), messageLink(d.messageId)];
    }
    return genericSummary(d, name);
  }
  return ["—"];
}

/**
 * The "Audit trail" section. `proofCheck(messageId, out)` is the Ledger page's inclusion-proof check,
 * shown in `out`.
 */
export async function auditTrailSection(proofCheck) {
  const officers = await get("/api/officers").then((r) => r.officers ?? [], () => []);
  const byId = new Map(officers.map((o) => [o.officerId, o]));
  const name = (id) => {
    const o = byId.get(id);
    return o ? o.displayName || o.username : `${String(id).slice(0, 8)}…`;
  };

  const boxes = LEDGER_KINDS.map((k) => h("input", { type: "checkbox", name: "kind", value: k, checked: saved.kinds.includes(k) }));
  const kindSet = h(
    "fieldset.audit-kinds",
    {},
    h("legend", {}, t("audit.kinds")),
    h(
      "div.audit-presets",
      {},
      h("button.small", { type: "button", onclick: () => preset(["protected.read"]) }, t("audit.preset.protected")),
      " ",
      h("button.small", { type: "button", onclick: () => preset([]) }, t("audit.preset.all")),
    ),
    h("div.audit-kind-list", {}, boxes.map((b, i) => h("label.check", {}, b, ` ${kindLabel(LEDGER_KINDS[i])}`))),
  );
  const officer = select("officer", [["", t("common.all")], ...officers.map((o) => [o.officerId, `${o.displayName || o.username} (${o.username})`])], saved.officer);
  const fromIndex = h("input", { type: "number", name: "fromIndex", min: "0", step: "1", inputmode: "numeric", value: saved.fromIndex });
  const toIndex = h("input", { type: "number", name: "toIndex", min: "0", step: "1", inputmode: "numeric", value: saved.toIndex });
  const since = h("input", { type: "date", name: "since", value: saved.since });
  const until = h("input", { type: "date", name: "until", value: saved.until });
  const pageSize = select("pageSize", PAGE_SIZES.map((n) => [String(n), String(n)]), saved.pageSize);
  const status = h("div.audit-status", { "aria-live": "polite" });
  const proofOut = h("div", { "aria-live": "polite" });
  const results = h("div.audit-results");

  // Paging: tokens[0] is the first page (""); each "Older" pushes the next page's token.
  let tokens = [""];
  let nextToken = "";
  let loading = 0; // only the latest request's answer is shown

  const load = async () => {
    const mine = ++loading;
    clear(status).appendChild(h("p.muted.small", {}, t("common.loading")));
    try {
      const q = {
        kind: saved.kinds.join(","),
        officer: saved.officer,
        fromIndex: saved.fromIndex,
        toIndex: saved.toIndex,
        since: dayStart(saved.since),
        until: dayStart(saved.until, 1),
        pageSize: saved.pageSize,
        pageToken: tokens[tokens.length - 1],
      };
      const page = await get(`/api/ledger/entries${query(q)}`);
      if (mine !== loading) return;
      nextToken = page.nextPageToken ?? "";
      clear(status);
      clear(proofOut);
      render(page);
    } catch (err) {
      if (mine === loading) clear(status).appendChild(errorBox(err));
    }
  };

  const preset = (kinds) => {
    for (const b of boxes) b.checked = kinds.includes(b.value);
    apply();
  };

  const apply = () => {
    saved = {
      kinds: boxes.filter((b) => b.checked).map((b) => b.value),
      officer: officer.value,
      fromIndex: fromIndex.value.trim(),
      toIndex: toIndex.value.trim(),
      since: since.value,
      until: until.value,
      pageSize: pageSize.value,
    };
    tokens = [""];
    return load();
  };

  const copy = async (hex, index) => {
    try {
      await navigator.clipboard.writeText(hex);
      clear(status).appendChild(notice("ok", t("audit.copied", { index })));
    } catch {
      clear(status).appendChild(notice("warn", t("audit.copyFailed", { index }), h("p", {}, h("code.hash", {}, hex))));
    }
  };

  const row = (entry) => {
    const hex = base64ToHex(entry.leafHash);
    const index = entry.index ?? "0";
    const messageId = entry.envelope?.messageId;
    return h(
      "tr",
      { dataset: { index, kind: entry.kind ?? "" } },
      h("td.num", {}, index),
      h("td", {}, h("span.kind", { title: entry.kind }, kindLabel(entry.kind))),
      h("td.nowrap", {}, recordedTime(entry.recordedAt)),
      h("td", {}, (entry.officerIds ?? []).length ? (entry.officerIds ?? []).map((id) => name(id)).join(", ") : "—"),
      h(
        "td.audit-summary",
        {},
        summaryOf(entry, name),
        (entry.withheld ?? []).length ? h("div.small.audit-withheld", {}, t("audit.withheld", { names: entry.withheld.join(", ") })) : null,
      ),
      h(
        "td.nowrap",
        {},
        shortHash(hex, 16),
        " ",
        hex ? h("button.small", { type: "button", "aria-label": t("audit.copyLabel", { index }), onclick: () => copy(hex, index) }, t("audit.copy")) : null,
      ),
      h(
        "td",
        {},
        ENVELOPE_KINDS.has(entry.kind) && messageId
          ? h("button.small", { type: "button", "aria-label": t("audit.proofLabel", { index }), onclick: () => proofCheck(messageId, proofOut).then(() => proofOut.scrollIntoView({ block: "nearest" })) }, t("audit.checkProof"))
          : null,
      ),
    );
  };

  const render = (page) => {
    const entries = page.entries ?? [];
    const pageNo = tokens.length;
    const pager = h(
      "nav.audit-pager",
      { "aria-label": t("audit.pages") },
      h("button.small", { type: "button", disabled: pageNo <= 1, onclick: () => { tokens.pop(); load(); } }, `← ${t("audit.newer")}`),
      " ",
      h("span.small", {}, t("audit.page", { n: pageNo })),
      " ",
      h("button.small", { type: "button", disabled: !nextToken, onclick: () => { tokens.push(nextToken); load(); } }, `${t("audit.older")} →`),
    );
    const headers = [t("f.ledgerIndex"), t("audit.kind"), t("f.recordedAt"), t("audit.officers"), t("audit.summary"), t("audit.leafHash"), t("ledger.proof")];
    clear(results).append(
      h("p.small.muted", {}, t("audit.pagingNote", { size: formatNumber(page.treeSize ?? "0") })),
      pager,
      proofOut,
      entries.length
        ? h(
            "table.data.audit-trail",
            {},
            h("caption", {}, t("audit.caption", { n: pageNo, tz: timeZone() })),
            h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
            h("tbody", {}, entries.map(row)),
          )
        : h("p.empty", {}, t("common.none")),
    );
  };

  const form = h(
    "form.filters.audit-filters",
    { "aria-label": t("audit.filters"), onsubmit: (e) => { e.preventDefault(); apply(); } },
    kindSet,
    field(t("audit.officer"), officer),
    field(t("audit.fromIndex"), fromIndex),
    field(t("audit.toIndex"), toIndex),
    field(t("f.since"), since, t("audit.zoneHint", { tz: timeZone() })),
    field(t("f.until"), until, t("audit.zoneHint", { tz: timeZone() })),
    field(t("audit.pageSize"), pageSize),
    h("div.filter-actions", {}, h("button", { type: "submit" }, t("common.filter"))),
  );
  await load();
  return h(
    "section.audit",
    { "aria-labelledby": "audit-trail-heading" },
    h("h2#audit-trail-heading", {}, t("audit.title")),
    h("p.lead", {}, t("audit.intro")),
    form,
    status,
    results,
  );
}
