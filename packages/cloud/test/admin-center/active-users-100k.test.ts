/**
 * Users › Active users with 100,000 users: the first page and a search come
 * back a page at a time. The browser's requests to the users API are
 * recorded: none asks for more than one page, none answers with more than
 * 50 users, and the search finds users by the start of their name. The
 * timings are printed (no timing is asserted here; bench/ holds the targets).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { CreatedTenant } from '@skybridge/cloud';
import { startTestCloud, type TestCloud } from '../helpers/cloud.ts';
import { adminContext, checkPage, navLink, ensureAdminCenterBuilt, launchChromium, screenshotRoot, signInFirstAdmin } from './admin-center-kit.ts';


// page.evaluate runs these functions in the browser; this module is typechecked without the DOM library
interface BrowserElement { textContent: string | null }
declare const document: { activeElement: unknown; documentElement: { scrollWidth: number; clientWidth: number }; querySelectorAll(s: string): Iterable<BrowserElement> };

const total = 100_000;

describe('Active users with 100,000 users (pglite)', () => {
  let t: TestCloud;
  let tenant: CreatedTenant;
  let browser: Browser;

  before(async () => {
    ensureAdminCenterBuilt();
    t = await startTestCloud('pglite');
    tenant = await t.createTenant('hundredk');
    const started = Date.now();
    // test data, written straight to the store: 100,000 users, one in seven synced, one in a hundred blocked
    await t.cloud.context.store.query(
      `INSERT INTO directory_objects (id, tenant_id, object_type, immutable_id, display_name, upn, mail, attributes, source, account_enabled, change_seq)
       SELECT gen_random_uuid(), $1, 'user', CASE WHEN i % 7 = 0 THEN 'imm' || i ELSE NULL END, n, u, u,
              jsonb_build_object('displayName', n, 'userPrincipalName', u, 'mail', u),
              CASE WHEN i % 7 = 0 THEN 'onprem' ELSE 'cloud' END, i % 100 <> 7, 1000 + i
         FROM (SELECT i, (ARRAY['Ada','Bela','Chidi','Dana','Emeka','Farah','Goran','Hana','Ivo','Jun','Kofi','Lena','Mateo','Nia','Omar','Priya','Quinn','Rosa','Sven','Tariq','Uma','Vera','Wen','Xavier','Yara','Zoe'])[1 + i % 26]
                         || ' ' || (ARRAY['Abara','Berg','Costa','Dvorak','Eze','Fischer','Garcia','Horvat','Ito','Jensen','Kowalski','Lopez','Moreau','Novak','Okafor','Petrov','Quispe','Rossi','Silva','Tanaka'])[1 + (i / 26) % 20]
                         || ' ' || i AS n,
                      'user' || i || '@' || $2 AS u
                 FROM generate_series(1, ${total}) AS i) AS s`,
      [tenant.tenantId, tenant.initialDomain],
    );
    console.log(`# ${total} users written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  test('the first page and a search read one page each, never the whole directory', async () => {
    const context = await adminContext(browser, t.url);
    const page = await context.newPage();
    await signInFirstAdmin(page, t.url, tenant);
    const calls: { url: string; items: number; bytes: number; ms: number }[] = [];
    const sent = new Map<string, number>();
    page.on('request', (r) => { if (r.url().includes('/api/v1/users')) sent.set(r.url(), Date.now()); });
    page.on('response', async (r) => {
      if (!r.url().includes('/api/v1/users') || r.request().method() !== 'GET') return;
      const body = await r.body();
      calls.push({ url: r.url(), items: (JSON.parse(body.toString()) as { items: unknown[] }).items.length, bytes: body.length, ms: Date.now() - (sent.get(r.url()) ?? Date.now()) });
    });

    let started = Date.now();
    await navLink(page, 'Active users').click();
    const rows = page.locator('table.data-table tbody tr');
    await rows.nth(49).waitFor();
    const firstPageMs = Date.now() - started;
    assert.equal(await rows.count(), 50, 'the first page shows 50 users');
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isEnabled(), true, 'there are more pages');

    started = Date.now();
    await page.getByLabel('Search users').fill('zoe tanaka');
    await page.waitForFunction(() => {
      const names = [...document.querySelectorAll('table.data-table tbody th')].map((e) => e.textContent ?? '');
      return names.length > 0 && names.every((n) => n.toLowerCase().startsWith('zoe tanaka'));
    });
    const searchMs = Date.now() - started;
    const names = await page.locator('table.data-table tbody th').allInnerTexts();
    assert.ok(names.length > 0 && names.length <= 50, `a page of matches (${names.length})`);
    assert.ok(names.every((n) => n.toLowerCase().startsWith('zoe tanaka')), 'every row matches the search');

    await page.getByLabel('Search users').fill('zoe');
    await page.getByLabel('Show').selectOption('synced');
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('table.data-table tbody td[data-label="Source"]')];
      const names = [...document.querySelectorAll('table.data-table tbody th')];
      return cells.length > 0 && cells.every((e) => e.textContent === 'Synced from on-premises') && names.every((n) => (n.textContent ?? '').startsWith('Zoe'));
    });
    const sources = await page.locator('table.data-table tbody td[data-label="Source"]').allInnerTexts();
    assert.ok(sources.length > 0 && sources.every((s) => s === 'Synced from on-premises'), 'the filter keeps synced users only');
    assert.ok((await page.locator('table.data-table tbody th').allInnerTexts()).every((n) => n.startsWith('Zoe')), 'search and filter together');
    await checkPage(page, join(screenshotRoot, '100k'), 'active-users-search');

    assert.ok(calls.length > 0 && calls.length <= 12, `a handful of page reads (${calls.length})`);
    for (const c of calls) {
      const limit = Number(new URL(c.url).searchParams.get('limit'));
      assert.ok(limit >= 1 && limit <= 50 && c.items <= limit, `each read asks for one page (at most 50) and gets at most that: ${c.url} → ${c.items}`);
    }
    console.log(`# ${total} users: first page shown in ${firstPageMs} ms, search answered in ${searchMs} ms; users API reads: ${calls.map((c) => `${c.items} items/${c.bytes} B/${c.ms} ms`).join(', ')}`);
    await context.close();
  });
});
