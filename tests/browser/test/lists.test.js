// lists.test.js: the routes list with 120 routes: one page of 50 at a
// time with Next and Previous, a search box that asks the API (?q=) and
// keeps paging within the matches, and no console errors.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, startBrowser, shot } from '../lib/harness.js';

const PASSWORD = 'lists-test-password-7';
const N = 120;

describe('list paging and search', () => {
  let daemon, browser, page;

  // fetch() from the page, with the session cookie and CSRF token.
  const call = (method, p, body, csrf) => page.evaluate(async ([m, u, b, c]) => {
    const headers = { 'Content-Type': 'application/json' };
    if (c) headers['X-CSRF-Token'] = c;
    const r = await fetch('/api/v1' + u, { method: m, headers, credentials: 'same-origin', body: b === null ? undefined : JSON.stringify(b) });
    return { status: r.status, body: r.status === 204 ? null : await r.json() };
  }, [method, p, body === undefined ? null : body, csrf || null]);

  const rowNames = () => page.locator('main tbody th').allTextContents();

  before(async () => {
    daemon = await startDaemon();
    browser = await startBrowser(daemon.base);
    page = await browser.context.newPage();
    page.setDefaultTimeout(15000);
    await page.goto(daemon.base + '/');
    // Through the API: a password of our own, then 120 routes.
    let s = await call('POST', '/session', { username: 'admin', password: daemon.password });
    assert.equal(s.status, 200);
    const r = await call('PATCH', '/users/admin', { password: PASSWORD, current_password: daemon.password }, s.body.csrf_token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    s = await call('POST', '/session', { username: 'admin', password: PASSWORD });
    const doc = {
      listeners: [{ name: 'public', address: '127.0.0.1', port: 0 }],
      origins: [{ name: 'web', servers: [{ address: '127.0.0.1', port: 9 }] }],
      routes: Array.from({ length: N }, (_, i) => ({
        name: 'r' + String(i).padStart(3, '0'), listener: 'public', origin: 'web',
        match: { hosts: [i % 10 === 3 ? `shop${i}.example` : `site${i}.example`] },
      })),
    };
    const put = await call('PUT', '/config', doc, s.body.csrf_token);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await call('DELETE', '/session', undefined, s.body.csrf_token);
    await page.reload();
    await page.getByLabel('User name', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#nav').waitFor();
  });

  after(async () => {
    if (browser) await browser.close();
    if (daemon) await daemon.stop();
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
