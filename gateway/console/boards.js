// Cases and assistance, joint campaigns, minutes: boards derived from the messages the node sent
// and received (ListMessages by kind), until the local API offers the node's own views.
import { h } from "./dom.js";
import { t, formatDateTime, formatDate, formatNumber } from "./i18n.js";
import { get, query } from "./api.js";
import { context } from "./app.js";
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

/** Assistance requests with each asked party's latest answer; overdue highlighted. */
export async function casesView() {
  const [requests, responses, shares] = await Promise.all([all("assistance_request"), all("assistance_response"), all("case_share")]);
  const latest = new Map(); // requestId → party → response (newest first in the listing)
  for (const r of responses) {
    const to = r.message?.header?.replyTo;
    if (!to) continue;
    const byParty = latest.get(to) ?? new Map();
    if (!byParty.has(senderOf(r))) byParty.set(senderOf(r), r.message.assistanceResponse);
    latest.set(to, byParty);
  }
  const now = Date.now();
  const rows = requests.map((r) => {
    const body = r.message.assistanceRequest ?? {};
    const asked = r.message.header?.recipientParties ?? [];
    const answers = latest.get(r.messageId) ?? new Map();
    const open = asked.filter((p) => !["answered", "refused"].includes(answers.get(p)?.status));
    const overdue = body.deadline && new Date(body.deadline).getTime() < now && open.length > 0;
    return h(
      "tr",
      overdue ? { class: "overdue" } : {},
      h("td", {}, h("a", { href: `#/messages/${r.messageId}` }, body.caseReference || r.messageId)),
      h("td", {}, localized(body.request)),
      h("td.nowrap", {}, senderOf(r), " → ", asked.join(", ")),
      h("td", {}, body.urgency ? t(`form.urgency.${body.urgency}`) : "—"),
      h("td.nowrap", {}, body.deadline ? formatDate(body.deadline) : "—", overdue ? h("span.chip.rejected", {}, ` ${t("boards.overdue")}`) : null),
      h("td", {}, h("ul.deliveries", {}, asked.map((p) => h("li", {}, h("span.party-code", {}, p), " ", h("span.chip.recorded", {}, answers.get(p)?.status ? t(`boards.status.${answers.get(p).status}`) : t("boards.status.none")))))),
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

/** Each campaign's objectives with the joint result per party, as bars toward the target. */
export async function campaignsView() {
  const [campaigns, reports] = await Promise.all([all("campaign"), all("campaign_report")]);
  // Latest report per (party, campaign, period) counts; the listing is newest first.
  const counted = new Map();
  for (const r of reports) {
    const b = r.message.campaignReport ?? {};
    const key = `${senderOf(r)}|${b.campaignId}|${b.periodStart}|${b.periodEnd}`;
    if (!counted.has(key)) counted.set(key, { party: senderOf(r), body: b });
  }
  const sections = campaigns.map((c) => {
    const body = c.message.campaign ?? {};
    const parties = body.parties ?? [];
    const totals = new Map(); // metric → party → sum
    for (const { party, body: b } of counted.values()) {
      if (b.campaignId !== body.campaignId) continue;
      for (const res of b.results ?? []) {
        const m = totals.get(res.metric) ?? new Map();
        m.set(party, (m.get(party) ?? 0) + Number(res.value ?? 0));
        totals.set(res.metric, m);
      }
    }
    const rows = (body.objectives ?? []).map((o) => {
      const perParty = totals.get(o.metric) ?? new Map();
      const sum = [...perParty.values()].reduce((a, b) => a + b, 0);
      const target = Number(o.target ?? 0);
      const meter = h("meter", { min: "0", max: String(target || 1), value: String(Math.min(sum, target || sum)), "aria-label": `${o.metric}: ${sum} / ${target}` });
      return h(
        "tr",
        {},
        h("td", {}, h("code", {}, o.metric), h("div.small.muted", {}, localized(o.description))),
        parties.map((p) => h("td.num", {}, formatNumber(perParty.get(p) ?? 0))),
        h("td.num", {}, h("strong", {}, formatNumber(sum))),
        h("td.num", {}, formatNumber(target)),
        h("td.progress", {}, meter, h("span.small", {}, target ? ` ${Math.round((sum / target) * 100)}%` : "")),
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

/** Minutes with their co-signature status per party. */
export async function minutesView() {
  const [minutes, cosignatures] = await Promise.all([all("minutes"), all("minutes_cosignature")]);
  const { party } = context();
  const signed = new Map(); // minutes id → Set(party)
  for (const c of cosignatures) {
    const id = c.message.minutesCosignature?.minutesMessageId;
    if (!id) continue;
    const set = signed.get(id) ?? new Set();
    set.add(senderOf(c));
    signed.set(id, set);
  }
  const rows = minutes.map((r) => {
    const b = r.message.minutes ?? {};
    const parties = b.parties ?? [];
    const have = signed.get(r.messageId) ?? new Set();
    const complete = parties.length > 0 && parties.every((p) => have.has(p));
    return h(
      "tr",
      {},
      h("td.num", {}, b.meetingNumber ? String(b.meetingNumber) : "—"),
      h("td", {}, h("a", { href: `#/messages/${r.messageId}` }, localized(b.title) || r.messageId)),
      h("td.nowrap", {}, b.date ? [b.date.year, b.date.month, b.date.day].filter(Boolean).join("-") : "—"),
      h("td", {}, h("ul.deliveries", {}, parties.map((p) => h("li", {}, h("span.party-code", {}, p), " ", have.has(p) ? h("span.chip.receipted", {}, t("boards.cosigned")) : h("span.chip.pending", {}, t("boards.awaitingCosignature")))))),
      h("td", {}, complete ? h("span.chip.receipted", {}, `✓ ${t("boards.complete")}`) : h("span.chip.pending", {}, t("boards.incomplete"))),
    );
  });
  return h(
    "section",
    {},
    h("div.page-head", {}, h("h1", {}, t("nav.minutes"))),
    h("p.lead.small", {}, t("boards.minutesNote", { party })),
    table([t("form.meetingNumber"), t("f.title"), t("form.meetingDate"), t("boards.cosignatures"), t("f.status")], rows),
  );
}
