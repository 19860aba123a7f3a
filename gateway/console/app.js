// The officers' console: shell, router, session. Plain ES modules, no build step, no inline
// script or style (the gateway's CSP allows 'self' only).
import { h, clear, notice } from "./dom.js";
import { LANGUAGES, initialLanguage, setLanguage, language, t, timeZone } from "./i18n.js";
import { ApiError, get, post, whenSignedOut } from "./api.js";
import { messagesView, messageView, searchView, partnersView, ledgerView, officersView } from "./views.js";
import { newDraftView, draftsView, draftView } from "./drafting.js";
import { casesView, campaignsView, minutesView } from "./boards.js";

const state = { me: null, party: "", partners: [] };
const root = document.getElementById("app");

export function hasRole(...roles) {
  return Boolean(state.me?.roles?.some((r) => roles.includes(r.replace("ROLE_", "").toLowerCase())));
}

const NAV = [
  { section: "nav.section.messages", items: [
    { href: "#/inbox", key: "nav.inbox", roles: ["drafter", "approver", "analyst", "auditor"] },
    { href: "#/outbox", key: "nav.outbox", roles: ["drafter", "approver", "analyst", "auditor"] },
    { href: "#/search", key: "nav.search", roles: ["drafter", "approver", "analyst", "auditor"] },
    { href: "#/cases", key: "nav.cases", roles: ["drafter", "approver", "analyst", "auditor"] },
    { href: "#/campaigns", key: "nav.campaigns", roles: ["drafter", "approver", "analyst", "auditor"] },
    { href: "#/minutes", key: "nav.minutes", roles: ["approver", "analyst", "auditor"] },
  ] },
  { section: "nav.section.work", items: [
    { href: "#/new", key: "nav.new", roles: ["drafter"] },
    { href: "#/approvals", key: "nav.approvals", roles: ["approver"] },
    { href: "#/drafts", key: "nav.drafts", roles: ["drafter", "approver", "auditor"] },
  ] },
  { section: "nav.section.audit", items: [
    { href: "#/partners", key: "nav.partners", roles: null },
    { href: "#/ledger", key: "nav.ledger", roles: ["auditor", "analyst"] },
    { href: "#/officers", key: "nav.officers", roles: ["admin", "auditor"] },
  ] },
];

function allowedItems() {
  return NAV.map((s) => ({ ...s, items: s.items.filter((i) => !i.roles || hasRole(...i.roles)) })).filter((s) => s.items.length);
}

function languageSwitch() {
  const sel = h(
    "select#lang",
    {
      "aria-label": t("common.language"),
      onchange: (e) => {
        setLanguage(e.target.value);
        render();
      },
    },
    LANGUAGES.map((l) => h("option", { value: l.code, lang: l.code, ...(l.code === language() ? { selected: true } : {}) }, l.label)),
  );
  return h("div.lang", {}, h("label.sr-only", { for: "lang" }, t("common.language")), sel);
}

export function partyName(party) {
  const p = state.partners.find((x) => x.party === party);
  const names = p?.displayNames ?? {};
  const lang = language() === "zh" ? "zh-Hans" : language();
  return names[lang] ?? names.en ?? party;
}

export function context() {
  return state;
}

function loginView() {
  const user = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form.login-card",
    {
      onsubmit: async (e) => {
        e.preventDefault();
        clear(status);
        try {
          const session = await post("/api/session/login", { username: user.value, password: pass.value });
          pass.value = "";
          state.me = session.officer;
          state.party = session.party ?? "";
          await start();
        } catch (err) {
          status.appendChild(errorBox(err));
        }
      },
    },
    h("div.login-brand", {}, h("span.mark", { "aria-hidden": "true" }), h("div", {}, h("h1", {}, t("app.name")), h("p.muted", {}, t("app.tagline")))),
    h("h2", {}, t("login.title")),
    h("div.field", {}, h("label", { for: "username" }, t("login.username")), Object.assign(user, { id: "username" })),
    h("div.field", {}, h("label", { for: "password" }, t("login.password")), Object.assign(pass, { id: "password" })),
    status,
    h("button.primary", { type: "submit" }, t("login.submit")),
    h("p.fineprint", {}, t("login.notice")),
  );
  clear(root).appendChild(h("div.login-page", {}, h("div.login-top", {}, languageSwitch()), form));
}

export function errorBox(err) {
  if (err instanceof ApiError) {
    return notice("error", `${t("common.error")}: ${err.message}`, h("p.small", {}, `${err.code} · ${t("common.reference")}: `, h("code", {}, err.correlationId)));
  }
  return notice("error", String(err?.message ?? err));
}

function shell() {
  const route = location.hash || "#/";
  const nav = h(
    "nav.sidebar",
    { "aria-label": "Liaison" },
    allowedItems().map((s) =>
      h("div.nav-section", {}, h("h2", {}, t(s.section)), h("ul", {}, s.items.map((i) => h("li", {}, h("a", { href: i.href, ...(route.startsWith(i.href) ? { "aria-current": "page" } : {}) }, t(i.key)))))),
    ),
  );
  const roles = (state.me?.roles ?? []).map((r) => t(`role.${r}`)).join(", ");
  const top = h(
    "header.topbar",
    {},
    h("div.brand", {}, h("span.mark", { "aria-hidden": "true" }), h("span.name", {}, t("app.name")), state.party ? h("span.party", {}, state.party) : null, h("span.tagline", {}, t("app.tagline"))),
    h(
      "div.session",
      {},
      languageSwitch(),
      h("span.who", {}, h("span.sr-only", {}, t("common.signedInAs")), h("strong", {}, state.me?.displayName || state.me?.username), h("span.roles", {}, roles)),
      h("button.ghost#signout", { type: "button", onclick: signOut }, t("common.signout")),
    ),
  );
  const main = h("main#main", { tabindex: "-1" });
  const foot = h("footer.foot", {}, t("common.timezone", { tz: timeZone() }));
  clear(root).append(h("a.skip", { href: "#main", onclick: (e) => { e.preventDefault(); main.focus(); } }, t("common.skip")), top, h("div.layout", {}, nav, main), foot);
  return main;
}

async function signOut() {
  try {
    await post("/api/session/logout");
  } catch {
    // the session may already be gone; the cookies are cleared either way
  }
  state.me = null;
  location.hash = "#/";
  loginView();
}

const ROUTES = [
  [/^#\/inbox$/, () => messagesView("received")],
  [/^#\/outbox$/, () => messagesView("sent")],
  [/^#\/messages\/([0-9a-f-]{36})$/, (m) => messageView(m[1])],
  [/^#\/search$/, () => searchView()],
  [/^#\/cases$/, () => casesView()],
  [/^#\/campaigns$/, () => campaignsView()],
  [/^#\/minutes$/, () => minutesView()],
  [/^#\/new(?:\/([a-z_]+))?$/, (m) => newDraftView(m[1])],
  [/^#\/approvals$/, () => draftsView("awaiting_approval")],
  [/^#\/drafts$/, () => draftsView(undefined)],
  [/^#\/drafts\/([0-9a-f-]{36})$/, (m) => draftView(m[1])],
  [/^#\/partners$/, () => partnersView()],
  [/^#\/ledger$/, () => ledgerView()],
  [/^#\/officers$/, () => officersView()],
];

function home() {
  const first = allowedItems()[0]?.items[0]?.href ?? "#/partners";
  return first;
}

export async function render() {
  if (!state.me) return loginView();
  if (!location.hash || location.hash === "#/") {
    location.replace(home());
    return;
  }
  const main = shell();
  const hit = ROUTES.map(([re, view]) => [re.exec(location.hash), view]).find(([m]) => m);
  main.appendChild(h("p.muted", {}, t("common.loading")));
  try {
    const content = hit ? await hit[1](hit[0]) : h("p", {}, t("common.none"));
    clear(main).appendChild(content);
  } catch (err) {
    clear(main).appendChild(errorBox(err));
  }
  const heading = main.querySelector("h1");
  if (heading) document.title = `${heading.textContent} · Liaison ${state.party}`;
}

async function start() {
  try {
    state.partners = (await get("/api/partners")).partners ?? [];
  } catch {
    state.partners = [];
  }
  await render();
}

whenSignedOut(() => {
  state.me = null;
  loginView();
});

window.addEventListener("hashchange", () => render());

(async () => {
  setLanguage(initialLanguage());
  try {
    const me = await get("/api/session");
    state.me = me;
    state.party = me.party ?? "";
    await start();
  } catch {
    loginView();
  }
})();
