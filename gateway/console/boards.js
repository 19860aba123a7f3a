// Cases and assistance, joint campaigns, minutes: boards from the node's own views (the local
// API's ListAssistance, ListCampaigns/GetCampaignProgress, ListMinutes), and the co-sign action.
import { h, clear, notice } from "./dom.js";
import { t, formatDateTime, formatDate, formatNumber } from "./i18n.js";
import { get, post, query } from "./api.js";
import { context, errorBox, hasRole } from "./app.js";
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

/** Each campaign's objectives with the joint result per party (the node's view), as bars toward the target. */
export async function campaignsView() {
  const { campaigns } = await get("/api/campaigns");
  const progress = await Promise.all((campaigns ?? []).map((c) => get(`/api/campaigns/${encodeURIComponent(c.campaign.campaignId)}`)));
  const sections = progress.map((p) => {
    const body = p.campaign?.campaign ?? {};
    const parties = body.parties ?? [];
    const described = new Map((body.objectives ?? []).map((o) => [o.metric, o.description]));
    const rows = (p.objectives ?? []).map((o) => {
      const perParty = o.byParty ?? {};
      const sum = Number(o.achieved ?? 0);
      const target = Number(o.target ?? 0);
      const meter = h("meter", { min: "0", max: String(target || 1), value: String(Math.min(sum, target || sum)), "aria-label": `${o.metric}: ${sum} / ${target}` });
      return h(
        "tr",
        {},
        h("td", {}, h("code", {}, o.metric), h("div.small.muted", {}, localized(described.get(o.metric)))),
        parties.map((party) => h("td.num", {}, formatNumber(Number(perParty[party] ?? 0)))),
        h("td.num", {}, h("strong", {}, formatNumber(sum))),
        h("td.num", {}, formatNumber(target)),
        h("td.progress", {}, meter, h("span.small", {}, target ? ` ${Math.round(Number(o.ratio ?? 0) * 100)}%` : "")),
      );
    });
    return h(
      "div.card",
      {},
      h("h2", {}, localized(body.name) || body.campaignId, " ", h("span.muted.small", {}, body.campaignId)),
      h("p.meta", {}, `${formatDate(body.startsAt)} – ${formatDate(body.endsAt)} · ${parties.join(", ")}`),
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
      h("td", {}, m.complete ? h("span.chip.receipted.badge-complete", {}, `✓ ${t("boards.complete")}`) : h("span.chip.pending", {}, t("boards.incomplete"))),
      h(
        "td.nowrap",
        {},
        ours && canCosign ? h("button.small", { type: "button", onclick: cosign }, t("minutes.cosign")) : null,
        " ",
        h("a.button.small", { href: `/api/minutes/${m.minutesMessageId}/bundle`, download: `minutes-${m.minutesMessageId}.bundle.json` }, t("minutes.bundle")),
      ),
    );
  });
  return h(
    "section",
    {},
    h("div.page-head", {}, h("h1", {}, t("nav.minutes"))),
    h("p.lead.small", {}, t("boards.minutesNote", { party })),
    status,
    table([t("form.meetingNumber"), t("f.title"), t("f.recordedAt"), t("boards.cosignatures"), t("f.status"), t("minutes.actions")], rows),
  );
}
