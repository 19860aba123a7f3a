// Inbox and outbox, one message, search, partners, ledger, officers.
import { h, clear, field, select, notice } from "./dom.js";
import { t, formatDateTime } from "./i18n.js";
import { get, post, query } from "./api.js";
import { context, partyName, errorBox, hasRole } from "./app.js";
import { auditTrailSection } from "./audit.js";
import { bodyOf, kindLabel, titleOf, referenceOf, deliveryCell, headerGrid, renderValue, base64ToHex, classificationChip, statusChip, snake, localized as localizedText } from "./render.js";

export const KINDS = [
  "wanted_person", "drug_case", "human_trafficking", "telecom_fraud", "notice_update", "notice_cancellation", "partner_response",
  "case_share", "assistance_request", "assistance_response", "campaign", "campaign_report", "minutes", "minutes_cosignature",
];

function pageHeader(titleKey, ...actions) {
  return h("div.page-head", {}, h("h1", {}, t(titleKey)), actions.length ? h("div.actions", {}, actions) : null);
}

function messageRows(records) {
  return records.map((r) => {
    const m = r.message ?? {};
    const [kind] = bodyOf(m);
    const partner = r.direction === "DIRECTION_RECEIVED" ? m.header?.senderParty : (m.header?.recipientParties ?? []).join(", ");
    return h(
      "tr",
      {},
      h("td.nowrap", {}, formatDateTime(r.recordedAt)),
      h("td", {}, h("span.kind", {}, kindLabel(kind))),
      h("td", {}, h("a", { href: `#/messages/${r.messageId}` }, titleOf(m) || r.messageId), h("div.small.muted", {}, referenceOf(m))),
      h("td", {}, partner ?? ""),
      h("td", {}, classificationChip(m.header?.classification)),
      h("td", {}, deliveryCell(r)),
    );
  });
}

function messageTable(records, directionLabelKey) {
  if (!records.length) return h("p.empty", {}, t("common.none"));
  return h(
    "table.data",
    {},
    h("thead", {}, h("tr", {}, [t("f.date"), t("f.type"), t("f.subject"), t(directionLabelKey), t("f.classification"), t("f.status")].map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, messageRows(records)),
  );
}

/** Inbox (received) or outbox (sent), filtered by partner, type, status and dates. */
export async function messagesView(direction) {
  const params = new URLSearchParams(location.search);
  const { partners } = context();
  const filters = { partner: "", kind: "", status: "", since: "", until: "", ...(messagesView.filters?.[direction] ?? {}) };
  const partner = select("partner", [["", t("common.all")], ...partners.map((p) => [p.party, `${p.party} — ${partyName(p.party)}`])], filters.partner);
  const kind = select("kind", [["", t("common.all")], ...KINDS.map((k) => [k, t(`kind.${k}`)])], filters.kind);
  const status = select("status", [["", t("common.all")], ["pending", t("status.pending")], ["receipted", t("status.receipted")], ["rejected", t("status.rejected")]], filters.status);
  const since = h("input", { type: "date", name: "since", value: filters.since });
  const until = h("input", { type: "date", name: "until", value: filters.until });
  const results = h("div.results");
  let nextToken = "";
  const load = async (append) => {
    const q = {
      direction,
      partner: partner.value,
      kind: kind.value,
      status: direction === "sent" ? status.value : "",
      since: since.value ? new Date(`${since.value}T00:00:00`).toISOString() : "",
      until: until.value ? new Date(new Date(`${until.value}T00:00:00`).getTime() + 86400000).toISOString() : "",
      pageSize: 50,
      pageToken: append ? nextToken : "",
    };
    const page = await get(`/api/messages${query(q)}`);
    nextToken = page.nextPageToken ?? "";
    if (!append) clear(results);
    const existing = results.querySelector("tbody");
    if (append && existing) existing.append(...messageRows(page.messages ?? []));
    else results.appendChild(messageTable(page.messages ?? [], direction === "sent" ? "f.recipients" : "f.sender"));
    results.querySelector(".more")?.remove();
    if (nextToken) results.appendChild(h("button.more", { type: "button", onclick: () => load(true).catch((e) => results.appendChild(errorBox(e))) }, t("common.more")));
  };
  const form = h(
    "form.filters",
    {
      onsubmit: (e) => {
        e.preventDefault();
        messagesView.filters = { ...(messagesView.filters ?? {}), [direction]: { partner: partner.value, kind: kind.value, status: status.value, since: since.value, until: until.value } };
        load(false).catch((err) => clear(results).appendChild(errorBox(err)));
      },
    },
    field(t("f.partner"), partner),
    field(t("f.type"), kind),
    direction === "sent" ? field(t("f.status"), status) : null,
    field(t("f.since"), since),
    field(t("f.until"), until),
    h("div.filter-actions", {}, h("button", { type: "submit" }, t("common.filter"))),
  );
  void params;
  await load(false);
  return h("section", {}, pageHeader(direction === "sent" ? "nav.outbox" : "nav.inbox"), form, results);
}

export async function messageView(id) {
  const r = await get(`/api/messages/${id}`);
  const m = r.message ?? {};
  const [kind, body] = bodyOf(m);
  const deliveries =
    r.direction === "DIRECTION_SENT"
      ? h(
          "table.data",
          {},
          h("caption", {}, t("f.deliveries")),
          h("thead", {}, h("tr", {}, [t("f.partner"), t("f.status"), t("f.attempts"), t("f.receiptedAt"), t("f.receiverLedgerIndex"), t("f.lastError")].map((x) => h("th", { scope: "col" }, x)))),
          h(
            "tbody",
            {},
            (r.deliveries ?? []).map((d) =>
              h("tr", {}, h("td", {}, `${d.party} — ${partyName(d.party)}`), h("td", {}, statusChip(d.status)), h("td.num", {}, String(d.attempts ?? 0)), h("td", {}, formatDateTime(d.receiptedAt)), h("td.num", {}, d.receiverLedgerIndex ?? "—"), h("td", {}, d.lastError ?? d.rejectionCode ?? "")),
            ),
          ),
        )
      : null;
  return h(
    "section",
    {},
    h("p", {}, h("a.back", { href: r.direction === "DIRECTION_SENT" ? "#/outbox" : "#/inbox" }, `← ${t("common.back")}`)),
    h("div.page-head", {}, h("h1", {}, titleOf(m) || kindLabel(kind)), h("div.actions", {}, r.envelope ? h("a.button", { href: `/api/messages/${r.messageId}/envelope`, download: `${r.messageId}.envelope.pb` }, t("common.download")) : h("span.muted.small", {}, t("common.withheld")))),
    h("p.meta", {}, h("span.kind", {}, kindLabel(kind)), " ", h("span", {}, referenceOf(m)), " · ", h("span", {}, t(r.direction === "DIRECTION_SENT" ? "dir.sent" : "dir.received"))),
    headerGrid(m.header, [
      [t("f.recordedAt"), formatDateTime(r.recordedAt)],
      [t("f.ledgerIndex"), r.ledgerIndex ?? "—"],
      [t("f.envelopeHash"), h("code.hash", {}, base64ToHex(r.envelopeSha256))],
    ]),
    deliveries,
    h("h2", {}, t("f.content")),
    h("div.body-view", {}, renderValue(body)),
  );
}

/** Notice search over the node's index: names in any script, documents, phones, accounts. */
export async function searchView() {
  const input = h("input", { type: "search", name: "q", placeholder: t("search.placeholder"), value: searchView.last ?? "" });
  const kind = select("kind", [["", t("common.all")], ...KINDS.slice(0, 4).map((k) => [k, t(`kind.${k}`)])], "");
  const out = h("div.results", { "aria-live": "polite" });
  const run = async () => {
    searchView.last = input.value;
    if (!input.value.trim()) return;
    clear(out).appendChild(h("p.muted", {}, t("common.loading")));
    try {
      const res = await get(`/api/search${query({ q: input.value, kind: kind.value })}`);
      const notices = res.notices ?? [];
      const rows = notices.map((n) =>
        h(
          "tr",
          {},
          h("td.nowrap", {}, formatDateTime(n.createdAt)),
          h("td", {}, h("span.kind", {}, kindLabel(n.kind))),
          h("td", {}, h("a", { href: `#/messages/${n.noticeId}` }, (n.title ?? []).length ? localizedText(n.title) : n.noticeId), h("div.small.muted", {}, n.reference ?? "")),
          h("td", {}, n.originator ?? ""),
          h("td", {}, h("span.chip.recorded", {}, n.state ?? "")),
        ),
      );
      clear(out).append(
        h("p.count", {}, t("search.count", { n: notices.length })),
        rows.length
          ? h("table.data", {}, h("thead", {}, h("tr", {}, [t("f.date"), t("f.type"), t("f.subject"), t("f.sender"), t("f.status")].map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows))
          : h("p.empty", {}, t("common.none")),
      );
    } catch (err) {
      clear(out).appendChild(errorBox(err));
    }
  };
  const form = h(
    "form.search",
    { role: "search", onsubmit: (e) => { e.preventDefault(); run(); } },
    field(t("search.label"), input, t("search.hint")),
    field(t("f.type"), kind),
    h("div.filter-actions", {}, h("button.primary", { type: "submit" }, t("search.submit"))),
  );
  if (searchView.last) run();
  return h("section", {}, pageHeader("nav.search"), form, out);
}

export async function partnersView() {
  const { partners } = await get("/api/partners");
  context().partners = partners ?? [];
  const rows = (partners ?? []).map((p) => {
    const stale = p.oldestPending && Date.now() - new Date(p.oldestPending).getTime() > 3600_000;
    return h(
      "tr",
      stale ? { class: "warn-row" } : {},
      h("td.nowrap", {}, h("strong", {}, p.party)),
      h("td", {}, Object.entries(p.displayNames ?? {}).map(([lang, name]) => h("div", { lang }, name))),
      h("td", {}, h("code", {}, p.endpoint ?? "")),
      h("td.nowrap", {}, h("code.hash", { title: p.fingerprint }, (p.fingerprint ?? "").slice(0, 16) + "…")),
      h("td", {}, p.lastContact ? formatDateTime(p.lastContact) : t("common.never")),
      h("td.num", {}, String(p.outboxDepth ?? 0)),
      h("td", {}, p.oldestPending ? formatDateTime(p.oldestPending) : "—"),
    );
  });
  return h(
    "section",
    {},
    pageHeader("nav.partners"),
    rows.length
      ? h(
          "table.data",
          {},
          h("thead", {}, h("tr", {}, ["partners.party", "partners.name", "partners.endpoint", "partners.fingerprint", "partners.lastContact", "partners.outboxDepth", "partners.oldestPending"].map((k) => h("th", { scope: "col" }, t(k))))),
          h("tbody", {}, rows),
        )
      : h("p.empty", {}, t("common.none")),
  );
}

/** The ledger's status for auditors (checkpoint, partners' cosignatures, alerts), and each message's entry. */
export async function ledgerView() {
  const proofOut = h("div", { "aria-live": "polite" });
  const showProof = async (id, out = proofOut) => {
    clear(out);
    try {
      const p = await get(`/api/ledger/proof/${id}`);
      out.appendChild(notice("info", t("ledger.proofShown", { index: p.ledgerIndex ?? "0", size: p.treeSize ?? "0", n: (p.proof ?? []).length }), h("pre.note", {}, (p.proof ?? []).map((x) => base64ToHex(x)).join("\n"))));
    } catch (err) {
      out.appendChild(errorBox(err));
    }
  };
  const auditor = hasRole("auditor");
  const [page, status, audit] = await Promise.all([
    get(`/api/messages${query({ pageSize: 100 })}`),
    auditor ? get("/api/ledger") : Promise.resolve(null),
    auditor ? auditTrailSection(showProof) : Promise.resolve(null),
  ]);
  const rows = (page.messages ?? []).map((r) => {
    const [kind] = bodyOf(r.message);
    return h(
      "tr",
      {},
      h("td.num", {}, r.ledgerIndex ?? "0"),
      h("td.nowrap", {}, formatDateTime(r.recordedAt)),
      h("td", {}, t(r.direction === "DIRECTION_SENT" ? "dir.sent" : "dir.received")),
      h("td", {}, h("a", { href: `#/messages/${r.messageId}` }, kindLabel(kind))),
      h("td", {}, h("code.hash", {}, base64ToHex(r.envelopeSha256).slice(0, 16) + "…")),
      h("td", {}, deliveryCell(r)),
      status ? h("td", {}, h("button.small", { type: "button", onclick: () => showProof(r.messageId) }, t("ledger.proof"))) : null,
    );
  });
  let statusCard = null;
  if (status) {
    const cosigners = status.cosigners ?? [];
    statusCard = h(
      "div.card.ledger-status",
      {},
      h("h2", {}, t("ledger.status")),
      h(
        "dl.grid",
        {},
        h("div", {}, h("dt", {}, t("ledger.treeSize")), h("dd", {}, String(status.treeSize ?? "0"))),
        h("div", {}, h("dt", {}, t("ledger.checkpoint")), h("dd", {}, status.checkpointSize ? `${status.checkpointSize} · ${formatDateTime(status.checkpointSignedAt)}` : t("common.none"))),
        h("div", {}, h("dt", {}, t("ledger.cosignedBy")), h("dd", {}, cosigners.length ? h("ul.deliveries", {}, cosigners.map((c) => h("li", {}, h("span.party-code", {}, c.party), " ", h("span.chip.receipted", {}, formatDateTime(c.cosignedAt))))) : t("common.none"))),
        h("div", {}, h("dt", {}, t("ledger.notCosignedBy")), h("dd", {}, (status.notCosignedBy ?? []).length ? status.notCosignedBy.join(", ") : "—")),
      ),
      (status.alerts ?? []).map((a) => notice("error", `${t("ledger.alert")} ${a.partner}: ${a.kind} — ${a.reason} (${formatDateTime(a.at)})`)),
      status.checkpointNote ? h("details", {}, h("summary", {}, t("ledger.note")), h("pre.note", {}, status.checkpointNote)) : null,
    );
  }
  const headers = [t("f.ledgerIndex"), t("f.recordedAt"), t("f.direction"), t("f.type"), t("f.envelopeHash"), t("ledger.receipts"), ...(status ? [t("ledger.proof")] : [])];
  return h(
    "section",
    {},
    pageHeader("nav.ledger"),
    h("p.lead", {}, t("ledger.intro")),
    statusCard,
    h("h2", {}, t("ledger.entries")),
    proofOut,
    rows.length
      ? h("table.data", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows))
      : h("p.empty", {}, t("common.none")),
    audit,
  );
}

export async function officersView() {
  const { officers } = await get("/api/officers");
  const status = h("div", { "aria-live": "polite" });
  const admin = hasRole("admin");
  const rows = (officers ?? []).map((o) =>
    h(
      "tr",
      {},
      h("td", {}, h("code", {}, o.username)),
      h("td", {}, o.displayName ?? ""),
      h("td", {}, (o.roles ?? []).map((r) => t(`role.${r}`)).join(", ")),
      h("td", {}, o.disabled ? h("span.chip.rejected", {}, t("officers.disabled")) : o.lockedUntil ? h("span.chip.pending", {}, t("officers.locked", { t: formatDateTime(o.lockedUntil) })) : h("span.chip.receipted", {}, t("officers.active"))),
      h("td", {}, formatDateTime(o.createdAt)),
      admin
        ? h("td", {}, h("button.small", {
            type: "button",
            onclick: async () => {
              try {
                await post(`/api/officers/${o.officerId}/disabled`, { disabled: !o.disabled });
                location.hash = "#/officers";
                window.dispatchEvent(new HashChangeEvent("hashchange"));
              } catch (err) {
                clear(status).appendChild(errorBox(err));
              }
            },
          }, o.disabled ? t("officers.enable") : t("officers.disable")))
        : null,
    ),
  );
  const create = admin ? createOfficerForm(status) : null;
  return h(
    "section",
    {},
    pageHeader("nav.officers"),
    status,
    h("table.data", {}, h("thead", {}, h("tr", {}, [t("officers.username"), t("officers.displayName"), t("officers.roles"), t("officers.state"), t("f.createdAt"), admin ? "" : null].filter((x) => x !== null).map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows)),
    create,
  );
}

function createOfficerForm(status) {
  const username = h("input", { name: "username", required: true, autocomplete: "off" });
  const displayName = h("input", { name: "displayName", required: true });
  const password = h("input", { name: "password", type: "password", required: true, autocomplete: "new-password", minlength: "12" });
  const roles = ["drafter", "approver", "analyst", "auditor", "admin"].map((r) => h("label.check", {}, h("input", { type: "checkbox", name: "roles", value: r }), ` ${t(`role.ROLE_${r.toUpperCase()}`)}`));
  return h(
    "form.card",
    {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await post("/api/officers", {
            username: username.value,
            displayName: displayName.value,
            password: password.value,
            roles: roles.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
          });
          password.value = "";
          clear(status).appendChild(notice("ok", t("officers.created")));
          window.dispatchEvent(new HashChangeEvent("hashchange"));
        } catch (err) {
          clear(status).appendChild(errorBox(err));
        }
      },
    },
    h("h2", {}, t("officers.new")),
    h("div.row", {}, field(t("officers.username"), username), field(t("officers.displayName"), displayName), field(t("login.password"), password)),
    h("fieldset", {}, h("legend", {}, t("officers.roles")), roles),
    h("button.primary", { type: "submit" }, t("officers.create")),
  );
}

export { snake };
