/**
 * The admin center's confirmations in Chromium: giving a role and taking it
 * back through the confirmation dialog (focus starts on Cancel, Escape
 * cancels and gives focus back, a removal moves focus to the members'
 * heading), and turning directory synchronization off only after its
 * stated outcome is confirmed. axe-core checks the pages with a dialog open.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { CreatedTenant } from '@skybridge/cloud';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { adminContext, checkPage, ensureAdminCenterBuilt, launchChromium, navLink, screenshotRoot, seriousViolations, signInFirstAdmin } from './admin-center-kit.ts';

const focused = (page: Page) => page.evaluate(() => {
  const el = (globalThis as unknown as { document: { activeElement: { textContent: string | null; tagName: string } | null } }).document.activeElement;
  return { text: el?.textContent?.trim() ?? '', tag: el?.tagName ?? '' };
});

describe('confirmations in the admin center (pglite)', () => {
  let t: TestCloud;
  let tenant: CreatedTenant;
  let apiToken: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const shots = join(screenshotRoot, 'confirmations');

  before(async () => {
    ensureAdminCenterBuilt();
    t = await startTestCloud('pglite');
    tenant = await t.createTenant('confirm');
    apiToken = await t.token(tenant);
    const res = await t.call('POST', '/api/v1/users', { token: apiToken, body: { userPrincipalName: `helena@${tenant.initialDomain}`, displayName: 'Helena Dunn' } });
    assert.equal(res.status, 201);
    browser = await launchChromium();
    context = await adminContext(browser, t.url);
    page = await context.newPage();
    await signInFirstAdmin(page, t.url, tenant);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
  });

  test('a role is given, and taken back through a dialog that starts on Cancel', async () => {
    await navLink(page, 'Roles').click();
    await page.getByRole('link', { name: 'User Administrator' }).click();
    await page.getByRole('heading', { name: 'Members of User Administrator' }).waitFor();
    await page.getByLabel('Find a user').fill('Helena');
    await page.getByRole('button', { name: 'Search users' }).click();
    await page.getByRole('button', { name: `Assign User Administrator to helena@${tenant.initialDomain}` }).click();
    await page.getByText(`helena@${tenant.initialDomain} now holds User Administrator.`).waitFor();

    const upn = `helena@${tenant.initialDomain}`;
    const remove = page.getByRole('button', { name: `Remove ${upn} from User Administrator` });
    await remove.click();
    const dialog = page.getByRole('dialog', { name: `Remove ${upn} from User Administrator?` });
    await dialog.waitFor();
    assert.deepEqual(await focused(page), { text: 'Cancel', tag: 'BUTTON' }, 'a removal opens on Cancel');
    assert.deepEqual(await seriousViolations(page), [], 'the open dialog passes axe-core');
    await page.screenshot({ path: join(shots, 'remove-role-dialog.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await focused(page)).text, 'Remove', 'Escape gives focus back to the button that opened it');
    const members = await t.call('GET', '/api/v1/roles/UserAdministrator/members', { token: apiToken });
    assert.equal(members.body.items.length, 1, 'Escape removed nothing');

    await remove.click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await page.getByText(`${upn} no longer holds User Administrator.`).waitFor();
    assert.equal((await focused(page)).text, 'Members of User Administrator', 'the removed row\'s button is gone: focus goes to the members\' heading');
    assert.equal((await t.call('GET', '/api/v1/roles/UserAdministrator/members', { token: apiToken })).body.items.length, 0);
  });

  test('directory synchronization is turned off only after its outcome is confirmed', async () => {
    assert.equal((await t.call('PATCH', '/api/v1/tenant', { token: apiToken, body: { directorySynchronizationEnabled: true } })).status, 200);
    await navLink(page, 'Directory synchronization').click();
    await page.getByRole('button', { name: 'Turn directory synchronization off' }).click();
    const dialog = page.getByRole('dialog', { name: 'Turn directory synchronization off?' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /becomes managed in the cloud and stays/);
    await checkPage(page, shots, 'sync-off-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await t.call('GET', '/api/v1/tenant', { token: apiToken })).body.directorySynchronizationEnabled, true, 'Cancel changes nothing');
    await page.getByRole('button', { name: 'Turn directory synchronization off' }).click();
    await dialog.getByRole('button', { name: 'Turn off' }).click();
    await page.getByText('Directory synchronization is off').first().waitFor();
    assert.equal((await t.call('GET', '/api/v1/tenant', { token: apiToken })).body.directorySynchronizationEnabled, false);
  });
});
