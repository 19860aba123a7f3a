/**
 * What the console tests share: Debian's headless `chromium` driven by playwright-core, a page
 * per officer (locale, Asia/Ho_Chi_Minh time zone, console errors collected in `problems`),
 * signing in and out through the page, screenshots (docs/screenshots/ when LIAISON_SCREENSHOTS=1,
 * otherwise a temporary folder).
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { PASSWORD, type Site } from "./support.ts";

export const CHROMIUM = process.env.LIAISON_CHROMIUM ?? "/usr/bin/chromium";
/** The reason to skip the browser tests, or false when Chromium is there. */
export const skipWithoutChromium: string | false = existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;
export const SHOTS = process.env.LIAISON_SCREENSHOTS === "1" ? join(import.meta.dirname, "../../docs/screenshots") : mkdtempSync(join(tmpdir(), "liaison-shots-"));

export type ConsolePage = Page & { problems: string[] };

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A new browser context and page on the site's console; the page's console errors go to `page.problems`. */
export async function newPage(browser: Browser, site: Site, lang = "en-GB"): Promise<{ context: BrowserContext; page: ConsolePage }> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    locale: lang,
    timezoneId: "Asia/Ho_Chi_Minh",
    viewport: { width: 1366, height: 820 },
  });
  const page = (await context.newPage()) as ConsolePage;
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on("console", (m) => {
    // Before sign-in the page asks who is signed in and gets 401: expected, not a fault.
    if (m.type() === "error" && !/status of 401/.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.problems = problems;
  await page.goto(site.gateway.url + "/");
  return { context, page };
}

export async function signIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

export async function signOut(page: Page): Promise<void> {
  await page.locator("#signout").click();
  await page.locator("form.login-card").waitFor();
}

/**
 * A screenshot of the viewport at the top of the page (or scrolled to `at`), or of the whole page
 * (at most 2400 px tall).
 */
export async function shot(page: Page, name: string, fullPage = false, at?: Locator): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  if (at) await at.evaluate((el) => el.scrollIntoView());
  else await page.evaluate(() => window.scrollTo(0, 0));
  if (!fullPage) {
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
    return;
  }
  // The whole page in one tall viewport (so the sticky action bar sits at the bottom).
  const size = page.viewportSize()!;
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.min(height, 2400) });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  await page.setViewportSize(size);
}
