// Drafting forms for every kind an officer writes, the drafts list and the approval view that
// shows exactly what will be signed. The two-person rule is the node's: the page only hides the
// button from the drafter.
import { h, clear, field, select, notice, nextId } from "./dom.js";
import { t, language, formatDateTime } from "./i18n.js";
import { get, post, query } from "./api.js";
import { context, partyName, errorBox, hasRole } from "./app.js";
import { bodyOf, kindLabel, titleOf, referenceOf, headerGrid, renderValue } from "./render.js";

const FORM_KINDS = ["wanted_person", "drug_case", "human_trafficking", "telecom_fraud", "case_share", "assistance_request", "campaign_report", "minutes"];
const SCRIPTS = ["Latn", "Hani", "Khmr", "Thai", "Laoo", "Cyrl", "Arab"];
const UI_LANG_TAG = { en: "en", fr: "fr", vi: "vi", zh: "zh-Hans" };

// ---------- small form parts ----------

const input = (name, attrs = {}) => h("input", { name, ...attrs });
const area = (name, attrs = {}) => h("textarea", { name, rows: "3", ...attrs });
const lines = (el) => el.value.split("\n").map((s) => s.trim()).filter(Boolean);
const commas = (el) => el.value.split(",").map((s) => s.trim()).filter(Boolean);
const text = (el) => el.value.trim();
const num = (el) => (el.value === "" ? undefined : Number(el.value));
const localizedText = (el) => (text(el) ? [{ lang: UI_LANG_TAG[language()] ?? "en", text: text(el) }] : []);
const dateTs = (el) => (el.value ? new Date(`${el.value}T00:00:00Z`).toISOString() : undefined);

/** Drop empty strings, empty arrays and empty objects, so the draft carries only what was entered. */
function prune(value) {
  if (Array.isArray(value)) {
    const out = value.map(prune).filter((v) => v !== undefined);
    return out.length ? out : undefined;
  }
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (value === "" || value === undefined || value === null || (typeof value === "number" && Number.isNaN(value))) return undefined;
  return value;
}

/** Rows that can be added and removed; `make` returns { el, value() }. */
function repeat(legend, make, addLabel, initial = 1) {
  const list = h("div.rows");
  const rows = [];
  const add = () => {
    const row = make();
    const wrap = h("div.repeat-row", {}, row.el, h("button.ghost.small", { type: "button", "aria-label": `${t("common.remove")} (${legend})`, onclick: () => { rows.splice(rows.indexOf(row), 1); wrap.remove(); } }, t("common.remove")));
    rows.push(row);
    list.appendChild(wrap);
  };
  for (let i = 0; i < initial; i++) add();
  const el = h("fieldset.repeat", {}, h("legend", {}, legend), list, h("button.ghost.small", { type: "button", onclick: add }, `+ ${addLabel}`));
  return { el, values: () => rows.map((r) => r.value()) };
}

function nameRow() {
  const full = input("fullName", { "aria-label": t("form.fullName"), class: "wide" });
  const script = select("script", SCRIPTS.map((s) => [s, s]), "Latn");
  script.setAttribute("aria-label", t("form.script"));
  const lang = input("lang", { "aria-label": t("form.lang"), value: "vi", size: "6" });
  const translit = h("input", { type: "checkbox", name: "transliteration" });
  const scheme = input("scheme", { "aria-label": t("form.scheme"), size: "8", placeholder: "pinyin" });
  const el = h(
    "div.inline",
    {},
    field(t("form.fullName"), full),
    field(t("form.script"), script),
    field(t("form.lang"), lang),
    h("label.check", {}, translit, ` ${t("form.translit")}`),
    field(t("form.scheme"), scheme),
  );
  return { el, value: () => ({ fullName: text(full), script: script.value, lang: text(lang), transliteration: translit.checked || undefined, scheme: text(scheme) }) };
}

function namesBlock() {
  return repeat(t("form.names"), nameRow, t("form.addName"), 1);
}

/** A person (suspect, recruiter): names and one identity document. */
function personRow() {
  const names = namesBlock();
  const doc = input("docNumber");
  return { el: h("div", {}, names.el, field(t("form.docNumber"), doc)), value: () => ({ names: names.values(), documents: text(doc) ? [{ kind: "passport", number: text(doc) }] : [] }) };
}

function locationFields() {
  const country = input("country", { size: "4", maxlength: "3" });
  const place = input("place");
  return { el: h("div.inline", {}, field(t("form.country"), country), field(t("form.place"), place)), value: () => ({ country: text(country).toUpperCase(), place: text(place) }) };
}

function checks(legendKey, prefix, values) {
  const boxes = values.map((v) => h("label.check", {}, h("input", { type: "checkbox", value: v }), ` ${t(`${prefix}${v}`)}`));
  return { el: h("fieldset", {}, h("legend", {}, t(legendKey)), boxes), values: () => boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value) };
}

function summaryFields() {
  const reference = input("reference", { required: true });
  const title = input("title", { required: true, class: "wide" });
  const summary = area("summary");
  return {
    el: h("div", {}, h("div.row", {}, field(t("f.reference"), reference), field(t("f.title"), title)), field(t("f.summary"), summary)),
    value: () => ({ reference: text(reference), title: localizedText(title), summary: localizedText(summary) }),
  };
}

// ---------- one builder per kind: { el, body() } in protobuf JSON ----------

const BUILDERS = {
  wanted_person() {
    const s = summaryFields();
    const names = namesBlock();
    const y = input("year", { type: "number", min: "1900", max: "2100", "aria-label": "year", size: "5" });
    const mo = input("month", { type: "number", min: "1", max: "12", "aria-label": "month", size: "3" });
    const d = input("day", { type: "number", min: "1", max: "31", "aria-label": "day", size: "3" });
    const nat = input("nationalities", { placeholder: "VNM" });
    const sex = select("sex", [["", "—"], ["male", t("form.sex.male")], ["female", t("form.sex.female")], ["unknown", t("form.sex.unknown")]], "");
    const docKind = select("docKind", [["passport", t("form.doc.passport")], ["national-id", t("form.doc.national-id")]], "passport");
    const docNumber = input("docNumber");
    const docCountry = input("docCountry", { size: "4", maxlength: "3" });
    const charges = area("charges");
    const warrant = input("warrant");
    const authority = input("authority");
    const danger = select("dangerousness", ["DANGEROUSNESS_LOW", "DANGEROUSNESS_MODERATE", "DANGEROUSNESS_HIGH", "DANGEROUSNESS_ARMED"].map((v) => [v, t(`form.danger.${v}`)]), "DANGEROUSNESS_MODERATE");
    const action = select("requestedAction", ["locate", "arrest-and-hand-over", "information"].map((v) => [v, t(`form.action.${v}`)]), "arrest-and-hand-over");
    const el = h(
      "div",
      {},
      s.el,
      h("fieldset", {}, h("legend", {}, t("form.person")), names.el,
        h("div.row", {}, h("fieldset.date", {}, h("legend", {}, t("form.dob")), y, mo, d), field(t("form.nationalities"), nat), field(t("form.sex"), sex)),
        h("div.row", {}, field(t("form.docKind"), docKind), field(t("form.docNumber"), docNumber), field(t("form.docCountry"), docCountry))),
      field(t("form.charges"), charges),
      h("div.row", {}, field(t("form.warrant"), warrant), field(t("form.authority"), authority)),
      h("div.row", {}, field(t("form.danger"), danger), field(t("form.action"), action)),
    );
    return {
      el,
      body: () => ({
        wantedPerson: {
          summary: s.value(),
          person: {
            names: names.values(),
            dateOfBirth: { year: num(y), month: num(mo), day: num(d) },
            nationalities: commas(nat).map((x) => x.toUpperCase()),
            sex: sex.value,
            documents: text(docNumber) ? [{ kind: docKind.value, number: text(docNumber), issuingCountry: text(docCountry).toUpperCase() }] : [],
          },
          charges: localizedText(charges),
          warrantReference: text(warrant),
          issuingAuthority: text(authority),
          dangerousness: danger.value,
          requestedAction: action.value,
        },
      }),
    };
  },
  drug_case() {
    const s = summaryFields();
    const substances = input("substances", { placeholder: "methamphetamine, heroin" });
    const qty = input("quantity", { type: "number", min: "0", step: "any" });
    const unit = input("unit", { value: "kg", size: "5" });
    const border = input("borderAreas");
    const routeDesc = area("route");
    const mode = select("mode", ["road", "river", "sea", "air", "post"].map((v) => [v, v]), "road");
    const suspects = repeat(t("form.suspects"), personRow, t("common.add"), 1);
    return {
      el: h("div", {}, s.el, field(t("form.substances"), substances), h("div.row", {}, field(t("form.quantity"), qty), field(t("form.unit"), unit)), field(t("form.borderAreas"), border), h("div.row", {}, field(t("form.route"), routeDesc), field(t("form.mode"), mode)), suspects.el),
      body: () => ({
        drugCase: {
          summary: s.value(),
          substances: commas(substances),
          quantities: num(qty) !== undefined ? [{ value: num(qty), unit: text(unit) }] : [],
          borderAreas: commas(border),
          routes: text(routeDesc) ? [{ mode: mode.value, description: text(routeDesc) }] : [],
          suspects: suspects.values(),
        },
      }),
    };
  },
  human_trafficking() {
    const s = summaryFields();
    const count = input("victimCount", { type: "number", min: "0" });
    const method = area("recruitment", { placeholder: "fake job offer on social network: easy work, high pay" });
    const channels = area("channels");
    const exploit = checks("form.exploitation", "form.exploit.", ["forced-labour", "forced-criminality", "sexual-exploitation"]);
    const recruiters = repeat(t("form.recruiters"), personRow, t("common.add"), 1);
    const loc = locationFields();
    return {
      el: h("div", {}, s.el, notice("info", t("form.victimsNote")), field(t("form.victimCount"), count), field(t("form.recruitment"), method), field(t("form.channels"), channels), exploit.el, recruiters.el, h("fieldset", {}, h("legend", {}, t("form.location")), loc.el)),
      body: () => ({
        humanTrafficking: {
          summary: s.value(),
          victimCount: num(count),
          recruitmentMethod: text(method),
          onlineChannels: lines(channels),
          exploitationTypes: exploit.values(),
          recruiters: recruiters.values(),
          locations: [loc.value()],
        },
      }),
    };
  },
  telecom_fraud() {
    const s = summaryFields();
    const scheme = select("scheme", ["investment", "impersonation-of-police", "romance", "online-gambling"].map((v) => [v, t(`form.fraud.${v}`)]), "investment");
    const phones = area("phones", { placeholder: "+84901234567" });
    const domains = area("domains");
    const crypto = area("crypto", { placeholder: "USDT-TRC20:T..." });
    const count = input("victimCount", { type: "number", min: "0" });
    const loss = input("loss", { type: "number", min: "0", step: "any" });
    const lossUnit = input("lossUnit", { value: "USD", size: "5", "aria-label": t("form.unit") });
    const accounts = repeat(t("form.accounts"), () => {
      const bank = input("bank");
      const number = input("accountNumber");
      const holder = input("holder");
      return { el: h("div.inline", {}, field(t("form.bank"), bank), field(t("form.accountNumber"), number), field(t("form.holder"), holder)), value: () => ({ bank: text(bank), accountNumber: text(number), holderName: text(holder) }) };
    }, t("common.add"), 1);
    const suspects = repeat(t("form.suspects"), personRow, t("common.add"), 0);
    return {
      el: h("div", {}, s.el, field(t("form.fraudScheme"), scheme), h("div.row", {}, field(t("form.phones"), phones), field(t("form.domains"), domains)), field(t("form.crypto"), crypto), accounts.el, h("div.row", {}, field(t("form.victimCount"), count), field(t("form.loss"), loss), field(t("form.unit"), lossUnit)), suspects.el),
      body: () => ({
        telecomFraud: {
          summary: s.value(),
          scheme: scheme.value,
          phoneNumbers: lines(phones),
          domains: lines(domains),
          cryptoAddresses: lines(crypto).map((l) => {
            const i = l.indexOf(":");
            return i > 0 ? { network: l.slice(0, i).trim(), address: l.slice(i + 1).trim() } : { address: l };
          }),
          accounts: accounts.values(),
          victimCount: num(count),
          estimatedLoss: num(loss) !== undefined ? { value: num(loss), unit: text(lossUnit) } : undefined,
          suspects: suspects.values(),
        },
      }),
    };
  },
  case_share() {
    const ref = input("caseReference", { required: true });
    const title = input("title", { class: "wide" });
    const offences = area("offences");
    const status = select("status", ["CASE_STATUS_OPEN", "CASE_STATUS_SUSPENDED", "CASE_STATUS_CLOSED"].map((v) => [v, t(`form.case.${v}`)]), "CASE_STATUS_OPEN");
    const summary = area("summary");
    const linked = area("linked");
    const persons = repeat(t("form.persons"), () => {
      const p = personRow();
      const role = select("role", ["suspect", "wanted", "witness", "arrested"].map((v) => [v, v]), "suspect");
      return { el: h("div", {}, p.el, field(t("form.personRole"), role)), value: () => ({ identity: p.value(), role: role.value }) };
    }, t("common.add"), 1);
    return {
      el: h("div", {}, h("div.row", {}, field(t("form.caseRef"), ref), field(t("f.title"), title)), field(t("form.offences"), offences), field(t("form.caseStatus"), status), field(t("f.summary"), summary), field(t("form.linked"), linked), persons.el),
      body: () => ({
        caseShare: { caseReference: text(ref), title: localizedText(title), offences: localizedText(offences), status: status.value, summary: localizedText(summary), linkedNoticeIds: lines(linked), persons: persons.values() },
      }),
    };
  },
  assistance_request() {
    const ref = input("caseReference", { required: true });
    const request = area("request", { required: true });
    const basis = input("legalBasis", { class: "wide" });
    const deadline = input("deadline", { type: "date" });
    const urgency = select("urgency", ["routine", "urgent", "immediate"].map((v) => [v, t(`form.urgency.${v}`)]), "routine");
    const kinds = checks("form.assistanceKinds", "form.ak.", ["information", "locate-person", "interview", "freeze-account", "evidence"]);
    return {
      el: h("div", {}, field(t("form.caseRef"), ref), field(t("form.request"), request), field(t("form.legalBasis"), basis), h("div.row", {}, field(t("form.deadline"), deadline), field(t("form.urgency"), urgency)), kinds.el),
      body: () => ({
        assistanceRequest: { caseReference: text(ref), request: localizedText(request), legalBasis: text(basis), deadline: dateTs(deadline), urgency: urgency.value, assistanceKinds: kinds.values() },
      }),
    };
  },
  campaign_report() {
    const id = input("campaignId", { required: true, placeholder: "VN-CN-DRUG-2026" });
    const start = input("periodStart", { type: "date", required: true });
    const end = input("periodEnd", { type: "date", required: true });
    const results = repeat(t("form.results"), () => {
      const metric = input("metric", { placeholder: "arrests", pattern: "[a-z][a-z0-9_]*" });
      const value = input("value", { type: "number", min: "0", step: "any" });
      return { el: h("div.inline", {}, field(t("form.metric"), metric), field(t("form.value"), value)), value: () => ({ metric: text(metric), value: num(value) }) };
    }, t("common.add"), 2);
    const narrative = area("narrative");
    return {
      el: h("div", {}, field(t("form.campaignId"), id), h("div.row", {}, field(t("form.periodStart"), start), field(t("form.periodEnd"), end)), results.el, field(t("form.narrative"), narrative)),
      body: () => ({ campaignReport: { campaignId: text(id), periodStart: dateTs(start), periodEnd: dateTs(end), results: results.values(), narrative: localizedText(narrative) } }),
    };
  },
  minutes() {
    const { partners, party } = context();
    const title = input("title", { required: true, class: "wide" });
    const number = input("meetingNumber", { type: "number", min: "1" });
    const kind = select("kind", ["ministerial-conference", "strategic-security-dialogue", "working-group"].map((v) => [v, t(`form.mk.${v}`)]), "ministerial-conference");
    const date = input("date", { type: "date" });
    const loc = locationFields();
    const cosigners = [party, ...partners.map((p) => p.party)].filter(Boolean).map((p) => h("label.check", {}, h("input", { type: "checkbox", value: p, checked: true }), ` ${p}`));
    const points = area("points", { rows: "5" });
    const previous = input("previousMinutes", { pattern: "[0-9a-f-]{36}" });
    const files = h("input", { type: "file", name: "documents", multiple: true, accept: "application/pdf" });
    return {
      el: h("div", {}, field(t("form.meetingTitle"), title), h("div.row", {}, field(t("form.meetingNumber"), number), field(t("form.meetingKind"), kind), field(t("form.meetingDate"), date)), h("fieldset", {}, h("legend", {}, t("form.location")), loc.el), h("fieldset", {}, h("legend", {}, t("form.cosigners")), cosigners), field(t("form.points"), points), field(t("form.previousMinutes"), previous), field(t("form.documents"), files)),
      body: async () => {
        const documents = [];
        for (const file of files.files ?? []) {
          const bytes = new Uint8Array(await file.arrayBuffer());
          const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
          documents.push({ filename: file.name, mediaType: file.type || "application/octet-stream", sha256: toBase64(digest), content: toBase64(bytes) });
        }
        const d = date.value ? date.value.split("-").map(Number) : [];
        return {
          minutes: {
            title: localizedText(title),
            meetingNumber: num(number),
            kind: kind.value,
            place: loc.value(),
            date: d.length ? { year: d[0], month: d[1], day: d[2] } : undefined,
            parties: cosigners.map((c) => c.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
            agreedPoints: lines(points).map((p, i) => ({ number: i + 1, text: [{ lang: UI_LANG_TAG[language()] ?? "en", text: p }] })),
            previousMinutesId: text(previous),
            documents,
          },
        };
      },
    };
  },
};

function toBase64(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function headerFields() {
  const { partners } = context();
  const recipients = partners.map((p) => h("label.check", {}, h("input", { type: "checkbox", name: "recipients", value: p.party }), ` ${p.party} — `, h("span", {}, partyName(p.party))));
  const classification = select("classification", ["CLASSIFICATION_UNCLASSIFIED", "CLASSIFICATION_RESTRICTED", "CLASSIFICATION_CONFIDENTIAL", "CLASSIFICATION_SECRET"].map((v) => [v, t(`class.${v}`)]), "CLASSIFICATION_RESTRICTED");
  const handling = ["H1", "H2", "H3", "NO-FURTHER-DISSEMINATION", "INFORMANT-PROTECTED"].map((c) => h("label.check", {}, h("input", { type: "checkbox", value: c, ...(c === "H2" ? { checked: true } : {}) }), ` ${c}`));
  const languages = input("languages", { value: [UI_LANG_TAG[language()] ?? "en"].join(", ") });
  const expires = input("expires", { type: "date" });
  const el = h(
    "fieldset.section",
    {},
    h("legend", {}, t("form.header")),
    h("fieldset", {}, h("legend", {}, t("f.recipients")), recipients.length ? recipients : h("p.muted", {}, t("common.none"))),
    h("div.row", {}, field(t("f.classification"), classification), field(t("f.languages"), languages), field(t("form.expires"), expires)),
    h("fieldset", {}, h("legend", {}, t("f.handling")), handling),
  );
  return {
    el,
    value: () => ({
      recipientParties: recipients.map((r) => r.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
      classification: classification.value,
      handlingCodes: handling.map((r) => r.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
      languages: commas(languages),
      expiresAt: expires.value ? new Date(`${expires.value}T23:59:59Z`).toISOString() : undefined,
    }),
  };
}

export async function newDraftView(kind) {
  const chosen = FORM_KINDS.includes(kind) ? kind : "wanted_person";
  const tabs = h("nav.tabs", { "aria-label": t("form.type") }, FORM_KINDS.map((k) => h("a", { href: `#/new/${k}`, ...(k === chosen ? { "aria-current": "page" } : {}) }, t(`kind.${k}`))));
  const header = headerFields();
  const body = BUILDERS[chosen]();
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form.draft",
    {
      onsubmit: async (e) => {
        e.preventDefault();
        clear(status);
        try {
          const message = prune({ header: header.value(), ...(await body.body()) });
          const draft = await post("/api/drafts", { message });
          status.appendChild(notice("ok", t("draft.saved"), h("p", {}, h("a", { href: `#/drafts/${draft.draftId}` }, titleOf(draft.message) || draft.draftId))));
          status.scrollIntoView({ block: "nearest" });
        } catch (err) {
          status.appendChild(errorBox(err));
          status.scrollIntoView({ block: "nearest" });
        }
      },
    },
    header.el,
    h("fieldset.section", {}, h("legend", {}, `${t("form.body")}: ${t(`kind.${chosen}`)}`), body.el),
    status,
    h("div.form-actions", {}, h("button.primary", { type: "submit" }, t("form.submit"))),
  );
  return h("section", {}, h("div.page-head", {}, h("h1", {}, t("nav.new"))), tabs, form);
}

export async function draftsView(state) {
  const page = await get(`/api/drafts${query({ state, pageSize: 100 })}`);
  const drafts = page.drafts ?? [];
  const title = state === "awaiting_approval" ? "nav.approvals" : "nav.drafts";
  if (!drafts.length) return h("section", {}, h("div.page-head", {}, h("h1", {}, t(title))), h("p.empty", {}, state ? t("draft.queueEmpty") : t("common.none")));
  const rows = drafts.map((d) => {
    const [kind] = bodyOf(d.message);
    return h(
      "tr",
      {},
      h("td.nowrap", {}, formatDateTime(d.createdAt)),
      h("td", {}, h("span.kind", {}, kindLabel(kind))),
      h("td", {}, h("a", { href: `#/drafts/${d.draftId}` }, titleOf(d.message) || d.draftId), h("div.small.muted", {}, referenceOf(d.message))),
      h("td", {}, (d.message?.header?.recipientParties ?? []).join(", ")),
      h("td", {}, d.draftedBy?.displayName ?? ""),
      h("td", {}, h(`span.chip.${(d.state ?? "").replace("DRAFT_STATE_", "").toLowerCase()}`, {}, t(`draft.${d.state}`))),
    );
  });
  return h(
    "section",
    {},
    h("div.page-head", {}, h("h1", {}, t(title))),
    h("table.data", {}, h("thead", {}, h("tr", {}, [t("f.createdAt"), t("f.type"), t("f.subject"), t("f.recipients"), t("f.draftedBy"), t("f.status")].map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows)),
  );
}

/** One draft: exactly what the approver will sign, and the decision. */
export async function draftView(id) {
  const d = await get(`/api/drafts/${id}`);
  const { me, party } = context();
  const [kind, body] = bodyOf(d.message);
  const status = h("div", { "aria-live": "polite" });
  const own = d.draftedBy?.officerId === me?.officerId;
  const awaiting = d.state === "DRAFT_STATE_AWAITING_APPROVAL";
  let decision = null;
  if (awaiting && hasRole("approver")) {
    if (own) decision = notice("warn", t("draft.own"));
    else {
      const reasonId = nextId("reason");
      const reason = h("textarea", { id: reasonId, rows: "2", name: "reason" });
      decision = h(
        "div.decision",
        {},
        h("p.small", {}, t("draft.nodeAdds", { party })),
        h("div.decision-actions", {},
          h("button.primary#approve", {
            type: "button",
            onclick: async (e) => {
              e.target.disabled = true;
              try {
                const sent = await post(`/api/drafts/${id}/approve`);
                clear(status).appendChild(notice("ok", t("draft.sent", { id: sent.messageId }), h("p", {}, h("a", { href: `#/messages/${sent.messageId}` }, t("common.details")))));
                decision.remove();
              } catch (err) {
                e.target.disabled = false;
                clear(status).appendChild(errorBox(err));
              }
            },
          }, t("draft.approve"))),
        h("details", {}, h("summary", {}, t("draft.reject")),
          h("div.field", {}, h("label", { for: reasonId }, t("draft.reason")), reason),
          h("button.danger", {
            type: "button",
            onclick: async () => {
              try {
                await post(`/api/drafts/${id}/reject`, { reason: reason.value });
                clear(status).appendChild(notice("ok", t("draft.returned")));
                decision.remove();
              } catch (err) {
                clear(status).appendChild(errorBox(err));
              }
            },
          }, t("draft.reject"))),
      );
    }
  }
  return h(
    "section",
    {},
    h("p", {}, h("a.back", { href: hasRole("approver") ? "#/approvals" : "#/drafts" }, `← ${t("common.back")}`)),
    h("div.page-head", {}, h("h1", {}, titleOf(d.message) || kindLabel(kind)), h("span", { class: `chip ${(d.state ?? "").replace("DRAFT_STATE_", "").toLowerCase()}` }, t(`draft.${d.state}`))),
    h("h2", {}, t("draft.willSign")),
    headerGrid({ ...d.message?.header, draftedBy: d.draftedBy }, d.decidedBy ? [[t("f.decidedBy"), `${d.decidedBy.displayName} · ${formatDateTime(d.decidedAt)}`]] : []),
    d.rejectionReason ? notice("warn", `${t("draft.rejectionReason")}: ${d.rejectionReason}`) : null,
    h("div.body-view", {}, h("h3", {}, kindLabel(kind)), renderValue(body)),
    h("details.raw", {}, h("summary", {}, t("draft.raw")), h("pre", {}, JSON.stringify(d.message, null, 2))),
    status,
    decision,
  );
}
