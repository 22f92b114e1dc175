// lists.test.js: the routes list with 120 routes: one page of 50 at a
// time with Next and Previous, a search box that asks the API (?q=) and
// keeps paging within the matches, and no console errors.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openAdmin, shot } from '../lib/harness.js';

const PASSWORD = 'lists-test-password-7';
const N = 120;

describe('list paging and search', () => {
  let env, browser, page;

  const rowNames = () => page.locator('main tbody th').allTextContents();

  before(async () => {
    // Through the API: a password of our own, then 120 routes.
    env = await openAdmin({ password: PASSWORD, setup: async ({ call, csrf }) => {
      const doc = {
        listeners: [{ name: 'public', address: '127.0.0.1', port: 0 }],
        origins: [{ name: 'web', servers: [{ address: '127.0.0.1', port: 9 }] }],
        routes: Array.from({ length: N }, (_, i) => ({
          name: 'r' + String(i).padStart(3, '0'), listener: 'public', origin: 'web',
          match: { hosts: [i % 10 === 3 ? `shop${i}.example` : `site${i}.example`] },
        })),
      };
      const put = await call('PUT', '/config', doc, csrf);
      assert.equal(put.status, 200, JSON.stringify(put.body));
    } });
    ({ browser, page } = env);
  });

  after(async () => {
    if (env) await env.stop();
  });

  test('the routes list shows one page at a time', async () => {
    await page.evaluate(() => {
      location.hash = '#/routes';
    });
    await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();
    await page.locator('.list-status').filter({ hasText: `1–50 of ${N}` }).waitFor();
    let names = await rowNames();
    assert.equal(names.length, 50);
    assert.equal(names[0], 'r000');
    assert.equal(names[49], 'r049');
    const prev = page.getByRole('button', { name: 'Previous' });
    const next = page.getByRole('button', { name: 'Next' });
    assert.equal(await prev.isDisabled(), true);
    await shot(page, 'lists-01-routes-page1');
    await next.click();
    await page.locator('.list-status').filter({ hasText: `51–100 of ${N}` }).waitFor();
    names = await rowNames();
    assert.equal(names[0], 'r050');
    await next.click();
    await page.locator('.list-status').filter({ hasText: `101–120 of ${N}` }).waitFor();
    assert.equal((await rowNames()).length, 20);
    assert.equal(await next.isDisabled(), true);
    await prev.click();
    await prev.click();
    await page.locator('.list-status').filter({ hasText: `1–50 of ${N}` }).waitFor();
    assert.equal((await rowNames())[0], 'r000');
  });

  test('search asks the API and pages within the matches', async () => {
    const box = page.getByRole('searchbox', { name: 'Search routes by name or host' });
    await box.fill('SHOP');
    await page.locator('.list-status').filter({ hasText: '1–12 of 12' }).waitFor();
    const names = await rowNames();
    assert.deepEqual(names, Array.from({ length: 12 }, (_, k) => 'r' + String(k * 10 + 3).padStart(3, '0')));
    assert.equal(await page.locator('.pager').isVisible(), false, 'one page: no pager');
    await shot(page, 'lists-02-routes-search');
    await box.fill('r11');
    await page.locator('.list-status').filter({ hasText: '1–10 of 10' }).waitFor();
    await box.fill('no-such-thing');
    await page.getByText('No routes match “no-such-thing”.').waitFor();
    await box.fill('');
    await page.locator('.list-status').filter({ hasText: `1–50 of ${N}` }).waitFor();
  });

  test('listeners and origins lists page too; no console errors', async () => {
    await page.evaluate(() => {
      location.hash = '#/origins';
    });
    await page.getByRole('heading', { level: 1, name: 'Origins' }).waitFor();
    await page.locator('main tbody th').filter({ hasText: 'web' }).waitFor();
    assert.equal(await page.locator('.pager').isVisible(), false);
    assert.deepEqual(browser.guard.consoleErrors, []);
    assert.deepEqual(browser.guard.foreign, []);
  });
});
