// Cases and assistance, joint campaigns, minutes: boards from the node's own views (the local
// API's ListAssistance, ListCampaigns/GetCampaignProgress, ListMinutes), and the co-sign action.
import { h, clear, notice } from "./dom.js";
import { progressChart } from "./charts.js";
import { checkingBadge, knownFingerprints, verificationBadge, verifyMinutesBundle } from "./verification.js";
import { t, formatDateTime, formatDate, formatNumber, formatPercent } from "./i18n.js";
import { get, post, query } from "./api.js";
import { context, errorBox, hasRole, partyName } from "./app.js";
import { localized } from "./render.js";

async function all(kind) {
  const page = await get(`/api/messages${query({ kind, pageSize: 500 })}`);
  return page.messages ?? [];
}

function table(headers, rows) {
  if (!rows.length) return h("p.empty", {}, t("common.none"));
  return h("table.data", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows));
}

const senderOf = (r) => r.message?.header?.senderParty ?? "";

/** Assistance requests with each asked party's status (the node's view); overdue highlighted. */
export async function casesView() {
  const [{ requests }, shares] = await Promise.all([get(`/api/assistance${query({ limit: 500 })}`), all("case_share")]);
  const rows = (requests ?? []).map((r) => {
    const asked = r.requestedFrom ?? [];
    const byParty = r.statusByParty ?? {};
    const label = (s) => (s && s !== "pending" ? t(`boards.status.${s}`) : t("boards.status.none"));
    return h(
      "tr",
      r.overdue ? { class: "overdue" } : {},
      h("td", {}, h("a", { href: `#/messages/${r.requestId}` }, r.caseReference || r.requestId)),
      h("td", {}, localized(r.request)),
      h("td.nowrap", {}, r.requester, " → ", asked.join(", ")),
      h("td", {}, r.urgency ? t(`form.urgency.${r.urgency}`) : "—"),
      h("td.nowrap", {}, r.deadline ? formatDate(r.deadline) : "—", r.overdue ? h("span.chip.rejected", {}, ` ${t("boards.overdue")}`) : null),
      h("td", {}, h("ul.deliveries", {}, asked.map((p) => h("li", {}, h("span.party-code", {}, p), " ", h("span.chip.recorded", {}, label(byParty[p])))))),
    );
  });
  const shareRows = shares.map((r) => {
    const body = r.message.caseShare ?? {};
    return h("tr", {}, h("td", {}, h("a", { href: `#/messages/${r.messageId}` }, body.caseReference)), h("td", {}, localized(body.title)), h("td", {}, senderOf(r)), h("td", {}, body.status ? t(`form.case.${body.status}`) : "—"), h("td.nowrap", {}, formatDateTime(r.recordedAt)));
  });
  return h(
    "section",
    {},
    h("div.page-head", {}, h("h1", {}, t("nav.cases"))),
    h("h2", {}, t("kind.assistance_request")),
    table([t("form.caseRef"), t("form.request"), t("f.partner"), t("form.urgency"), t("form.deadline"), t("f.status")], rows),
    h("h2", {}, t("kind.case_share")),
    table([t("form.caseRef"), t("f.title"), t("f.sender"), t("form.caseStatus"), t("f.recordedAt")], shareRows),
  );
}

/** Each campaign's objectives with the joint result per party (the node's view): an SVG chart and the figures as a table. */
export async function campaignsView() {
  const { campaigns } = await get("/api/campaigns");
  const progress = await Promise.all((campaigns ?? []).map((c) => get(`/api/campaigns/${encodeURIComponent(c.campaign.campaignId)}`)));
  const sections = progress.map((p) => {
    const body = p.campaign?.campaign ?? {};
    const parties = body.parties ?? [];
    const described = new Map((body.objectives ?? []).map((o) => [o.metric, o.description]));
    const objectives = (p.objectives ?? []).map((o) => ({
      metric: o.metric,
      label: localized(described.get(o.metric)) || o.metric,
      target: Number(o.target ?? 0),
      achieved: Number(o.achieved ?? 0),
      byParty: Object.fromEntries(Object.entries(o.byParty ?? {}).map(([party, v]) => [party, Number(v)])),
    }));
    const rows = objectives.map((o) =>
      h(
        "tr",
        {},
        h("td", {}, h("code", {}, o.metric), h("div.small.muted", {}, o.label === o.metric ? "" : o.label)),
        parties.map((party) => h("td.num", {}, formatNumber(o.byParty[party] ?? 0))),
        h("td.num", {}, h("strong", {}, formatNumber(o.achieved))),
        h("td.num", {}, formatNumber(o.target)),
        h("td.num", {}, o.target ? formatPercent(o.achieved / o.target) : "—"),
      ),
    );
    const name = localized(body.name) || body.campaignId;
    return h(
      "div.card",
      {},
      h("h2", {}, name, " ", h("span.muted.small", {}, body.campaignId)),
      h("p.meta", {}, `${formatDate(body.startsAt)} – ${formatDate(body.endsAt)} · ${parties.join(", ")}`),
      objectives.length ? h("figure.chart-figure", {}, progressChart({ title: name, parties, partyName, objectives }), h("figcaption.small.muted", {}, t("chart.caption"))) : null,
      table([t("form.metric"), ...parties, t("boards.joint"), t("field.target"), t("boards.progress")], rows),
    );
  });
  return h("section", {}, h("div.page-head", {}, h("h1", {}, t("nav.campaigns"))), sections.length ? sections : h("p.empty", {}, t("common.none")));
}

/** Minutes with their co-signature status per party (the node's archive), the co-sign action and the bundle. */
export async function minutesView() {
  const { minutes } = await get("/api/minutes");
  const { party } = context();
  const canCosign = hasRole("drafter", "approver");
  const status = h("div", { "aria-live": "polite" });
  const rows = (minutes ?? []).map((m) => {
    const parties = m.parties ?? [];
    const signed = new Set(m.signedBy ?? []);
    const ours = parties.includes(party) && !signed.has(party);
    const cosign = async (e) => {
      const button = e.currentTarget;
      button.disabled = true;
      clear(status);
      try {
        const draft = await post(`/api/minutes/${m.minutesMessageId}/cosign`);
        status.appendChild(notice("info", t("minutes.cosignDrafted"), h("p", {}, h("a", { href: `#/drafts/${draft.draftId}` }, t("minutes.openDraft")))));
      } catch (err) {
        status.appendChild(errorBox(err));
        button.disabled = false;
      }
    };
    return h(
      "tr",
      {},
      h("td.num", {}, m.meetingNumber ? String(m.meetingNumber) : "—"),
      h("td", {}, h("a", { href: `#/messages/${m.minutesMessageId}` }, localized(m.title) || m.minutesMessageId), h("div.small.muted", {}, m.host)),
      h("td.nowrap", {}, formatDate(m.createdAt)),
      h("td", {}, h("ul.deliveries", {}, parties.map((p) => h("li", {}, h("span.party-code", {}, p), " ", signed.has(p) ? h("span.chip.receipted", {}, t("boards.cosigned")) : h("span.chip.pending", {}, t("boards.awaitingCosignature")))))),
      h("td.verification", { "aria-live": "polite", dataset: { minutes: m.minutesMessageId } }, checkingBadge()),
      h(
        "td.nowrap",
        {},
        ours && canCosign ? h("button.small", { type: "button", onclick: cosign }, t("minutes.cosign")) : null,
        " ",
        h("a.button.small", { href: `/api/minutes/${m.minutesMessageId}/bundle`, download: `minutes-${m.minutesMessageId}.bundle.json` }, t("minutes.bundle")),
      ),
    );
  });
  const page = h(
    "section",
    {},
    h("div.page-head", {}, h("h1", {}, t("nav.minutes"))),
    h("p.lead.small", {}, t("boards.minutesNote", { party })),
    h("p.small", {}, t("verify.note")),
    status,
    table([t("form.meetingNumber"), t("f.title"), t("f.recordedAt"), t("boards.cosignatures"), t("verify.column"), t("minutes.actions")], rows),
  );
  void verifyRows(page);
  return page;
}

/** Each row's bundle downloaded and verified in this browser, one after another; the badge shows the outcome. */
async function verifyRows(page) {
  const cells = [...page.querySelectorAll("td.verification")];
  let trust;
  try {
    trust = await knownFingerprints();
  } catch (err) {
    for (const cell of cells) clear(cell).append(...verificationBadge(undefined, undefined, err).filter(Boolean));
    return;
  }
  for (const cell of cells) {
    let result;
    let error;
    try {
      result = await verifyMinutesBundle(cell.dataset.minutes, trust.pins);
    } catch (err) {
      error = err;
    }
    clear(cell).append(...verificationBadge(result, trust, error).filter(Boolean));
  }
}
