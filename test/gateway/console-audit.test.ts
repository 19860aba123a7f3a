/**
 * The Ledger page's audit trail in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against real gateways and real nodes: VN-MPS sends a human-trafficking notice
 * to CN-MPS; at CN-MPS an analyst reads its victims through the REST API with a purpose and a
 * drafter's attempt is refused (both recorded in the ledger); the auditor opens Ledger → Audit
 * trail, chooses "Protected reads" and sees the analyst by name with the purpose in full, the
 * refused attempt, the notice linked; filters by officer, pages, checks an envelope's inclusion
 * proof and copies a leaf hash. Analysts and drafters do not see the section. Screenshot
 * docs/screenshots/16-audit-trail.png when LIAISON_SCREENSHOTS=1 (otherwise a temporary folder).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Locator } from "playwright-core";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { draftApproveDeliver, eventually, http, makeOfficer, openSite, traffickingDraft, type Site } from "./support.ts";
import { launchChromium, newPage, shot, signIn, signOut, skipWithoutChromium as skip, type ConsolePage } from "./browser.ts";

const VN = "VN-MPS";
const CN = "CN-MPS";
const VICTIM = "Hà Thị Kim Oanh";
const INFORMANT = "Tạ Minh Hiếu";
const PURPOSE = "victim identification for repatriation — case CN-MPS/2026/0930, “safe house” lead in Lào Cai";

let cluster: Cluster;
let vn: Site;
let cn: Site;
let browser: Browser;
let noticeId = "";

describe("the audit trail in headless Chromium", { skip, timeout: 180_000 }, () => {
  before(async () => {
    cluster = await startCluster([VN, CN]);
    vn = await openSite(cluster, VN);
    cn = await openSite(cluster, CN);
    const analyst = await makeOfficer(cn, "cn.analyst", ["analyst"]);
    const drafter = await makeOfficer(cn, "cn.drafter", ["drafter"]);
    await makeOfficer(cn, "cn.auditor", ["auditor"]);
    // More entries (officer.added), so that the whole trail takes a few pages of 10.
    for (let i = 1; i <= 14; i++) await makeOfficer(cn, `cn.analyst${i}`, ["analyst"]);
    const vnDrafter = await makeOfficer(vn, "vn.drafter", ["drafter"]);
    const vnApprover = await makeOfficer(vn, "vn.approver", ["approver"]);
    noticeId = await draftApproveDeliver(
      vn,
      traffickingDraft([CN], { reference: "VN-MPS/THB/2026/0930", informant: INFORMANT, informantContact: "+84 904 222 333", victim: VICTIM }),
      vnDrafter.accessToken,
      vnApprover.accessToken,
    );
    const read = await http(cn, "POST", `/api/notices/${noticeId}/protected`, { token: analyst.accessToken, body: { purpose: PURPOSE, fields: ["victims"] } });
    assert.equal(read.status, 200, read.text);
    const refused = await http(cn, "POST", `/api/notices/${noticeId}/protected`, { token: drafter.accessToken, body: { purpose: "curiosity" } });
    assert.equal(refused.status, 403, refused.text);
    await cluster.node(CN).publishCheckpoint(); // so that the envelope's inclusion proof can be checked
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await vn?.close();
    await cn?.close();
    await cluster?.close();
  });

  it("shows the auditor who read a notice's protected parties, and why", async () => {
    const { context, page, section } = await openAuditTrail();
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: cn.gateway.url });

    await section.getByRole("button", { name: "Protected reads" }).click();
    await eventuallyRows(section, 2);
    assert.ok(await section.getByRole("checkbox", { name: "Protected read" }).isChecked());
    const granted = section.locator("tbody tr", { hasText: "Granted" });
    assert.equal(await granted.count(), 1);
    await granted.getByText("Officer cn.analyst").waitFor();
    // The purpose in full, as typed.
    assert.equal(await granted.locator("q.audit-purpose").textContent(), PURPOSE);
    await granted.getByText("0 informant(s), 1 victim(s)").waitFor();
    assert.equal(await granted.getByRole("link", { name: /message/ }).first().getAttribute("href"), `#/messages/${noticeId}`);
    const refusedRow = section.locator("tbody tr", { hasText: "Refused (role)" });
    await refusedRow.getByText("Officer cn.drafter").waitFor();
    assert.equal(await refusedRow.locator("q.audit-purpose").count(), 0, "a refused read's purpose is not recorded");
    const body = (await page.locator("body").textContent()) ?? "";
    assert.ok(!body.includes(VICTIM) && !body.includes(INFORMANT), "no protected party on the page");
    await shot(page, "16-audit-trail", false, section);

    // The leaf hash, copied.
    const index = await granted.getAttribute("data-index");
    await granted.getByRole("button", { name: `Copy the leaf hash of entry ${index}` }).click();
    await section.getByText(`Leaf hash of entry ${index} copied.`).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(await granted.locator("code.hash").getAttribute("title"), copied);
    assert.match(copied, /^[0-9a-f]{64}$/);

    // By officer: the analyst's account and the read.
    await section.getByRole("button", { name: "All kinds" }).click();
    await section.getByLabel("Officer", { exact: true }).selectOption({ label: "Officer cn.analyst (cn.analyst)" });
    await section.getByRole("button", { name: "Apply" }).click();
    await eventuallyRows(section, 2);
    assert.deepEqual(await rowData(section, "kind"), ["protected.read", "officer.added"]);

    // Received envelopes: the notice, its sender and recipient, and its envelope's inclusion proof.
    await section.getByLabel("Officer", { exact: true }).selectOption("");
    await section.getByRole("checkbox", { name: "Envelope received" }).check();
    await section.getByLabel("Entries per page").selectOption("20");
    await section.getByRole("button", { name: "Apply" }).click();
    const envelope = section.locator("tbody tr", { hasText: "Human trafficking" });
    await envelope.getByText(`${VN} → ${CN}`).waitFor();
    await envelope.getByRole("button", { name: /Check the inclusion proof of entry/ }).click();
    await section.getByText(/Entry \d+ is in the checkpoint of \d+ entries/).waitFor();
    await section.getByRole("button", { name: "Older →" }).waitFor();
    assert.ok(await section.getByRole("button", { name: "← Newer" }).isDisabled());

    // The labels follow the officer's language.
    await page.locator("#lang").selectOption("fr");
    await page.getByRole("heading", { name: "Journal d'audit" }).waitFor();
    await page.getByRole("button", { name: "Consultations protégées" }).waitFor();
    await page.locator("#lang").selectOption("en");
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  it("pages older and newer through the whole trail", async () => {
    const { context, page, section } = await openAuditTrail();
    await section.getByLabel("Entries per page").selectOption("10");
    await section.getByRole("button", { name: "Apply" }).click();
    await eventuallyRows(section, 10);
    const first = await section.locator("tbody tr").first().getAttribute("data-index");
    const indexes: number[] = [];
    for (let p = 1; p < 50; p++) {
      await section.getByText(`Page ${p}`, { exact: true }).waitFor();
      indexes.push(...(await rowData(section, "index")).map(Number));
      const older = section.getByRole("button", { name: "Older →" });
      if (await older.isDisabled()) break;
      await older.click();
    }
    assert.deepEqual(indexes, Array.from({ length: Number(first) + 1 }, (_, i) => Number(first) - i), "each entry once, newest first");
    assert.ok(indexes.length > 20, `${indexes.length} entries: three pages or more`);
    const last = indexes.length > 0 ? Math.ceil(indexes.length / 10) : 1;
    await section.getByRole("button", { name: "← Newer" }).click();
    await section.getByText(`Page ${last - 1}`, { exact: true }).waitFor();
    assert.equal(await section.locator("tbody tr").first().getAttribute("data-index"), String(indexes[(last - 2) * 10]));
    assert.deepEqual(page.problems, []);
    await context.close();
  });

  it("is not shown to analysts or drafters", async () => {
    const { context, page } = await newPage(browser, cn);
    await signIn(page, "cn.analyst");
    await page.getByRole("link", { name: "Ledger" }).click();
    await page.getByRole("heading", { name: "Recent entries" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Audit trail" }).count(), 0);
    await signOut(page);
    await signIn(page, "cn.drafter");
    assert.equal(await page.getByRole("link", { name: "Ledger" }).count(), 0);
    await page.goto(cn.gateway.url + "/#/ledger");
    await page.getByRole("heading", { name: "Recent entries" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Audit trail" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Protected reads" }).count(), 0);
    assert.deepEqual(page.problems, []);
    await context.close();
  });
});

/** A new page where the auditor has opened Ledger → Audit trail (its first page shown). */
async function openAuditTrail(): Promise<{ context: BrowserContext; page: ConsolePage; section: Locator }> {
  const { context, page } = await newPage(browser, cn);
  await signIn(page, "cn.auditor");
  await page.getByRole("link", { name: "Ledger" }).click();
  const section = page.getByRole("region", { name: "Audit trail" });
  await section.getByRole("heading", { name: "Audit trail" }).waitFor();
  await section.getByRole("table", { name: /Ledger entries, newest first — page 1/ }).waitFor();
  return { context, page, section };
}

/** Each shown row's data-index or data-kind, top to bottom. */
function rowData(section: Locator, name: "index" | "kind"): Promise<string[]> {
  return section.locator("tbody tr").evaluateAll((rows, key) => rows.map((r) => (r as HTMLElement).dataset[key] ?? ""), name);
}

async function eventuallyRows(section: Locator, n: number): Promise<void> {
  await eventually(async () => ((await section.locator("tbody tr").count()) === n ? true : undefined));
}
