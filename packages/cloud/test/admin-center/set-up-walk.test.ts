/**
 * The administrator's set-up path in Debian's Chromium, against a real cloud,
 * a Samba test domain and the agent package the cloud hands out: sign in →
 * Users › Active users → More › Directory synchronization → verify the domain
 * → download the agent (its SHA-256 checked) and create a registration token
 * → the agent registers with that token and runs its first cycles → synced
 * users appear marked as synced → a licence is assigned to a synced user →
 * the domain's DNS records. Every page is checked with axe-core and saved as
 * screenshots at 1280 px and 375 px. The same walk is then done by keyboard only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { CreatedTenant } from '@skybridge/cloud';
import { buildAgentPackage, type AgentPackage } from '../../../../scripts/build-agent-package.ts';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { TestDnsServer } from '../helpers/dns-server.ts';
import { cliMain, runCli } from '../helpers/cli.ts';
import { agentConfig, smallDc, type AgentFiles, type TestDc } from '../../../connect/test/helpers/ad.ts';
import { activateByKeyboard, adminContext, adminPassword, signInAdmin, checkPage, ensureAdminCenterBuilt, launchChromium, navLink, screenshotRoot, signInFirstAdmin, tabTo } from './admin-center-kit.ts';

const mailDomain = 'walk.example';

/** The users table has finished loading (aria-busy is off) and shows synced users only. */
async function syncedUsersShown(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null; querySelectorAll(s: string): Iterable<{ textContent: string | null }> } }).document;
    const cells = [...doc.querySelectorAll('table.data-table tbody td[data-label="Source"]')];
    return doc.querySelector('table.data-table')?.getAttribute('aria-busy') !== 'true' && cells.length > 0 && cells.every((c) => c.textContent === 'Synced from on-premises');
  });
}
const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });

describe('the set-up walk in Chromium (pglite, Samba DC)', () => {
  let dc: TestDc;
  let dns: TestDnsServer;
  let pkg: AgentPackage;
  let t: TestCloud;
  let tenant: CreatedTenant;
  let apiToken: string;
  let browser: Browser;
  let files: AgentFiles | undefined;
  let agent: ChildProcess | undefined;
  const temp = mkdtempSync(join(tmpdir(), 'skybridge-walk-'));

  before(async () => {
    ensureAdminCenterBuilt();
    pkg = await buildAgentPackage(join(temp, 'package'));
    dns = await TestDnsServer.start();
    ({ dc } = await smallDc());
    t = await startTestCloud('pglite', { agentPackage: pkg.path, dnsServers: [dns.address], serviceDomain: 'skybridge.example' });
    tenant = await t.createTenant('walk');
    apiToken = await t.token(tenant);
    // the organisation bought ten seats of Skybridge Standard (the deployment operator records the purchase)
    assert.equal((await t.operator('PUT', `/operator/v1/tenants/${tenant.tenantId}/subscriptions/SKYBRIDGE_STANDARD`, { seats: 10 })).status, 200);
    browser = await launchChromium();
  });
  after(async () => {
    agent?.kill('SIGKILL');
    await browser?.close();
    files?.cleanup();
    await t?.close();
    await dns?.close();
    await dc?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  /** `skybridge connect run` as the installed service runs it, until its first cycle is reported to the cloud. */
  async function runAgentUntilFirstCycle(configPath: string): Promise<void> {
    agent = spawn(process.execPath, [cliMain, 'connect', 'run', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKYBRIDGE_LOG_LEVEL: 'warn' } });
    let output = '';
    agent.stdout!.on('data', (d: Buffer) => (output += d));
    agent.stderr!.on('data', (d: Buffer) => (output += d));
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const cycles = await t.call('GET', '/api/v1/sync/cycles', { token: apiToken });
      if (cycles.body.items?.some((c: { finishedDateTime: string | null }) => c.finishedDateTime)) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.fail(`the agent reported no finished cycle within 90 s:\n${output}`);
  }

  test('by mouse: sign in, prepare, register an agent, sync, license a synced user, DNS records', async () => {
    const shots = join(screenshotRoot, 'walk');
    const context = await adminContext(browser, t.url);
    const page = await context.newPage();
    await signInFirstAdmin(page, t.url, tenant);
    await checkPage(page, shots, '01-home');

    await navLink(page, 'Active users').click();
    await heading(page, 'Active users').waitFor();
    await page.getByRole('cell', { name: 'Cloud only' }).first().waitFor();
    await checkPage(page, shots, '02-active-users');

    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('menuitem', { name: 'Directory synchronization' }).click();
    await heading(page, 'Directory synchronization').waitFor();
    await page.getByRole('heading', { name: 'Prepare Active Directory' }).waitFor();
    await checkPage(page, shots, '03-directory-sync-prepare');

    // a domain: added and verified through DNS (the test DNS server holds the TXT record the page gives)
    await navLink(page, 'Domains').click();
    await page.getByLabel('Domain name').fill(mailDomain);
    await page.getByRole('button', { name: 'Add domain' }).click();
    await heading(page, mailDomain).waitFor();
    const txt = await page.getByLabel('TXT value', { exact: true }).innerText();
    assert.match(txt, /^skybridge-verification=/);
    await dns.set(mailDomain, [{ type: 'TXT', data: txt.trim() }]);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.getByText('Domain verified').waitFor();
    await checkPage(page, shots, '04-domain-verified');
    // the test DC's own domain (under .com, which the test DNS server cannot serve) is vouched for by the operator
    assert.equal((await t.operator('PUT', `/operator/v1/tenants/${tenant.tenantId}/domains/${dc.dnsDomain}`, { verified: true })).status, 200);

    // the agent: downloaded from the admin center, checked against the SHA-256 it shows; registered with the token it gives
    await navLink(page, 'Directory synchronization').click();
    await heading(page, 'Directory synchronization').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the agent package' }).click()]);
    const saved = join(temp, download.suggestedFilename());
    await download.saveAs(saved);
    const sha256 = createHash('sha256').update(readFileSync(saved)).digest('hex');
    assert.equal(sha256, pkg.sha256, 'the download is the package the cloud serves');
    assert.ok((await page.locator('main').innerText()).includes(pkg.sha256), 'the page shows the SHA-256 to compare');
    await page.getByRole('button', { name: 'Create registration token' }).click();
    const token = (await page.getByLabel('Registration token', { exact: true }).innerText()).trim();
    assert.ok(token.length >= 20, `a registration token: ${token}`);
    const command = await page.getByLabel('Register the agent with this token', { exact: true }).innerText();
    assert.ok(command.includes(token) && command.includes('skybridge connect register'), `the registration command carries the token: ${command}`);
    await checkPage(page, shots, '05-directory-sync-token');

    // the agent trusts the cloud's self-signed certificate by the pin the command carries (no CA file)
    const pin = /--pin (\S+)/.exec(command)?.[1];
    assert.ok(pin, `the command carries the cloud's certificate pin: ${command}`);
    files = agentConfig(dc, {}, { topLevel: { cloud: { url: t.url } } });
    const registered = await runCli(['connect', 'register', '--config', files.configPath, '--token', token, '--pin', pin]);
    assert.equal(registered.code, 0, registered.stderr);
    await runAgentUntilFirstCycle(files.configPath);

    await page.getByRole('button', { name: 'Refresh status' }).click();
    await page.getByRole('heading', { name: 'Recent sync cycles' }).waitFor();
    await page.getByRole('heading', { name: hostname() }).first().waitFor();
    await checkPage(page, shots, '06-directory-sync-status');

    await navLink(page, 'Active users').click();
    await page.getByLabel('Show').selectOption('synced');
    await syncedUsersShown(page);
    const sources = await page.locator('table.data-table tbody td[data-label="Source"]').allInnerTexts();
    assert.ok(sources.length >= 3 && sources.every((s) => s === 'Synced from on-premises'), `synced users, marked: ${sources.join(', ')}`);
    await checkPage(page, shots, '07-active-users-synced');

    await page.locator('table.data-table tbody th a').first().click();
    await page.getByRole('heading', { name: 'Sync details' }).waitFor();
    await page.getByText('Managed in on-premises Active Directory').waitFor();
    await page.getByRole('radio', { name: 'Skybridge Standard' }).check();
    const usage = page.getByLabel('Usage location');
    if (await usage.isVisible()) await usage.fill('FR');
    await page.getByRole('button', { name: 'Assign licence' }).click();
    await page.getByText('Licence assigned').first().waitFor();
    await page.getByRole('rowheader', { name: 'Skybridge Standard' }).waitFor();
    await checkPage(page, shots, '08-user-licensed');

    await dns.set(mailDomain, [{ type: 'TXT', data: txt.trim() }, { type: 'MX', exchange: 'mx.skybridge.example', preference: 0 }]);
    await navLink(page, 'Domains').click();
    await page.getByRole('link', { name: mailDomain }).click();
    await page.getByRole('heading', { name: 'DNS records' }).waitFor();
    await page.getByRole('button', { name: 'Check again' }).waitFor();
    await checkPage(page, shots, '09-domain-dns-records');

    for (const [name, h1] of [['Licences', 'Licences'], ['Roles', 'Roles'], ['Sign-in logs', 'Sign-in logs'], ['Audit log', 'Audit log']] as const) {
      await navLink(page, name).click();
      await heading(page, h1).waitFor();
      await page.locator('[role="status"] .spinner').first().waitFor({ state: 'detached' }).catch(() => undefined);
      await checkPage(page, shots, `10-${name.toLowerCase().replace(/[^a-z]+/g, '-')}`);
    }
    await context.close();
  });

  test('by keyboard only: the same path, every step reached with Tab and Enter', async () => {
    const context = await adminContext(browser, t.url);
    const page = await context.newPage();
    await signInAdmin(page, t.url, tenant.admin.userPrincipalName, adminPassword, 'keyboard');

    await activateByKeyboard(page, navLink(page, 'Active users'));
    await heading(page, 'Active users').waitFor();
    await activateByKeyboard(page, page.getByRole('button', { name: 'More' }));
    await page.getByRole('menuitem', { name: 'Directory synchronization' }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent), 'Directory synchronization', 'the menu opens on its first item');
    await page.keyboard.press('Enter');
    await heading(page, 'Directory synchronization').waitFor();

    await activateByKeyboard(page, page.getByRole('button', { name: 'Create registration token' }));
    await page.getByLabel('Registration token', { exact: true }).waitFor();

    await activateByKeyboard(page, navLink(page, 'Active users'));
    await heading(page, 'Active users').waitFor();
    await tabTo(page, page.getByLabel('Show'));
    await page.keyboard.press('ArrowDown');
    await page.waitForURL(/filter=synced/);
    await syncedUsersShown(page);
    // the second synced user (the mouse walk licensed the first)
    await activateByKeyboard(page, page.locator('table.data-table tbody th a').nth(1));
    await page.getByRole('heading', { name: 'Sync details' }).waitFor();
    await tabTo(page, page.getByRole('radio', { name: 'Skybridge Standard' }));
    await page.keyboard.press('Space');
    const usage = page.getByLabel('Usage location');
    if (await usage.isVisible()) {
      await tabTo(page, usage);
      await page.keyboard.type('DE');
    }
    await activateByKeyboard(page, page.getByRole('button', { name: 'Assign licence' }));
    await page.getByText('Licence assigned').first().waitFor();

    await activateByKeyboard(page, navLink(page, 'Domains'));
    await heading(page, 'Domains').waitFor();
    await activateByKeyboard(page, page.getByRole('link', { name: mailDomain }));
    await page.getByRole('heading', { name: 'DNS records' }).waitFor();
    const subscription = await t.call('GET', '/api/v1/subscriptions', { token: apiToken });
    assert.equal(subscription.body.items.find((s: { skuId: string }) => s.skuId === 'SKYBRIDGE_STANDARD').consumed, 2, 'both walks assigned a licence');
    await context.close();
  });
});
