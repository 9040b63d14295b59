/**
 * What the admin center's browser tests share: the built app, Debian's
 * Chromium driven by playwright-core, signing the tenant's first Global
 * Administrator in through the hosted pages, axe-core on every page, and
 * screenshots at laptop and phone widths.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { CreatedTenant } from '@skybridge/cloud';


// page.evaluate runs these functions in the browser; this module is typechecked without the DOM library
interface BrowserElement { textContent: string | null }
declare const document: { activeElement: unknown; documentElement: { scrollWidth: number; clientWidth: number }; querySelectorAll(s: string): Iterable<BrowserElement> };
declare const window: unknown;
type Document = unknown;

const root = fileURLToPath(new URL('../../../../', import.meta.url));
/** Where the screenshots go (kept out of git): test-results/admin-center/<test>/<page>-<width>.png */
export const screenshotRoot = join(root, 'test-results', 'admin-center');

/** Builds the admin center when its sources changed (npm test's bootstrap does it too; this covers a single test run). */
export function ensureAdminCenterBuilt(): void {
  const res = spawnSync(process.execPath, [join(root, 'scripts/build-admin-center.ts'), '--if-stale'], { encoding: 'utf8' });
  assert.equal(res.status, 0, `the admin center did not build:\n${res.stderr}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A browser context that trusts the test cloud's certificate and lets the page read what it copies and download the agent. */
export async function adminContext(browser: Browser, cloudUrl: string): Promise<BrowserContext> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true, viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: cloudUrl });
  return context;
}

export const adminPassword = 'Adm1n-center-walk!';

/**
 * Signs an administrator in through the admin center's front door (work
 * address), then the tenant's sign-in page; when `password` is the tenant's
 * one-time password, the new password `adminPassword` is chosen on the way.
 * By mouse, or by keyboard only (Tab, typing, Enter). Ends on the admin center's home.
 */
export async function signInAdmin(page: Page, cloudUrl: string, upn: string, password: string, how: 'mouse' | 'keyboard' = 'mouse'): Promise<void> {
  await page.goto(`${cloudUrl}/admin/`);
  const address = page.getByLabel('Work address');
  const passwordField = page.getByLabel('Password', { exact: true });
  if (how === 'keyboard') {
    await tabTo(page, address);
    await page.keyboard.type(upn);
    await page.keyboard.press('Enter');
    await passwordField.waitFor();
    const username = page.getByLabel('Email or user name');
    if ((await username.inputValue()) !== upn) {
      await tabTo(page, username);
      await page.keyboard.press('Control+A');
      await page.keyboard.type(upn);
    }
    await tabTo(page, passwordField);
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
  } else {
    await address.fill(upn);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Email or user name').fill(upn);
    await passwordField.fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  const changePassword = page.getByLabel('New password', { exact: true });
  const home = page.getByRole('heading', { level: 1, name: /Welcome/ });
  await changePassword.or(home).first().waitFor();
  if (await changePassword.isVisible()) {
    if (how === 'keyboard') {
      await tabTo(page, page.getByLabel('Current password'));
      await page.keyboard.type(password);
      await page.keyboard.press('Tab');
      await page.keyboard.type(adminPassword);
      await page.keyboard.press('Tab');
      await page.keyboard.type(adminPassword);
      await page.keyboard.press('Enter');
    } else {
      await page.getByLabel('Current password').fill(password);
      await changePassword.fill(adminPassword);
      await page.getByLabel('Confirm the new password').fill(adminPassword);
      await page.getByRole('button', { name: 'Change password and sign in' }).click();
    }
  }
  await page.waitForURL(`${cloudUrl}/admin/**`);
  await home.waitFor();
}

/** The tenant's first Global Administrator signs in with the one-time password and chooses `adminPassword`. */
export const signInFirstAdmin = (page: Page, cloudUrl: string, tenant: CreatedTenant, how: 'mouse' | 'keyboard' = 'mouse') =>
  signInAdmin(page, cloudUrl, tenant.admin.userPrincipalName, tenant.admin.oneTimePassword, how);

/**
 * Presses Tab (at most `max` times) until `target` has the focus: proves the
 * control is reachable by keyboard, in tab order, without the mouse.
 */
export async function tabTo(page: Page, target: Locator, max = 150): Promise<void> {
  const handle = await target.elementHandle();
  assert.ok(handle, 'the control to reach by keyboard exists');
  for (let i = 0; i < max; i++) {
    if (await handle.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  const name = await handle.evaluate((el) => el.getAttribute('aria-label') ?? el.textContent ?? el.outerHTML.slice(0, 80));
  assert.fail(`"${name?.trim()}" was not reached with ${max} presses of Tab`);
}

/** A link of the admin center's navigation. */
export const navLink = (page: Page, name: string): Locator => page.getByRole('navigation', { name: 'Admin center' }).getByRole('link', { name, exact: true });

/** Tabs to a control and presses Enter on it. */
export async function activateByKeyboard(page: Page, target: Locator, key = 'Enter'): Promise<void> {
  await tabTo(page, target);
  await page.keyboard.press(key);
}

export interface AxeFinding { id: string; impact: string | null; help: string; nodes: string[] }

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now: the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeFinding[]> {
  // evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern
  await page.evaluate(axe.source);
  const found = await page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } };
    const r = await w.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Checks the page with axe-core and saves its screenshots at 1280 px and
 * 375 px (phone); at phone width the page must not scroll sideways.
 */
export async function checkPage(page: Page, dir: string, name: string): Promise<void> {
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${name}: axe-core found serious or critical violations`);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(100);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `${name}: at 375 px the page scrolls sideways by ${overflow} px`);
  const phoneViolations = await seriousViolations(page);
  assert.deepEqual(phoneViolations, [], `${name} at 375 px: axe-core found serious or critical violations`);
  await page.screenshot({ path: join(dir, `${name}-375.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}
