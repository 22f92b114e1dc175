// logs.test.js: the Logs page. Requests made through a listener appear in
// the page within 2 s (the live tail, Server-Sent Events), the filters ask
// the API, a route's page shows its recent requests, the daemon's log is
// there, a viewer is told the logs are for admins; screenshots at 1280x800
// and 390x844; no console errors, no request to another address.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openAdmin, request, shotBoth } from '../lib/harness.js';

const PASSWORD = 'logs-test-password-7';

describe('logs in the browser', () => {
  let env, browser, page, goto, port;

  before(async () => {
    env = await openAdmin({ password: PASSWORD, origin: true, setup: async ({ call, csrf, origin }) => {
      const put = await call('PUT', '/config', {
        listeners: [{ name: 'public', address: '127.0.0.1', port: 0 }],
        origins: [{ name: 'web', servers: [{ address: '127.0.0.1', port: origin.port }] }],
        routes: [{ name: 'app', listener: 'public', origin: 'web', match: { hosts: ['app.test'] } },
          { name: 'shop', listener: 'public', origin: 'web', match: { hosts: ['shop.test'] } }],
      }, csrf);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const st = await call('GET', '/status');
      port = st.body.listeners.find((l) => l.name === 'public').port;
      await call('POST', '/users', { name: 'watcher', password: 'watcher-password-9', role: 'viewer' }, csrf);
    } });
    ({ browser, page, goto } = env);
  });

  after(async () => {
    if (env) await env.stop();
  });

  test('requests made through a listener show in the log page within 2 s', async () => {
    assert.equal((await request(port, '/early', { Host: 'app.test' })).status, 200);
    await page.getByRole('link', { name: 'Logs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Logs' }).waitFor();
    await page.locator('tbody tr').filter({ hasText: '/early' }).waitFor();
    const t0 = Date.now();
    assert.equal((await request(port, '/live-one', { Host: 'app.test' })).status, 200);
    assert.equal((await request(port, '/missing', { Host: 'nowhere.test' })).status, 404);
    await page.locator('tbody tr').filter({ hasText: '/live-one' }).waitFor({ timeout: 2000 });
    await page.locator('tbody tr').filter({ hasText: '/missing' }).filter({ hasText: 'unmatched' }).waitFor({ timeout: 2000 });
    assert.ok(Date.now() - t0 < 2000, `seen after ${Date.now() - t0} ms`);
    assert.equal(await page.locator('tbody tr').first().textContent().then((t) => t.includes('/missing')), true, 'newest first');
    await shotBoth(page, 'logs');
  });

  test('filters: status class, route, text', async () => {
    for (let i = 0; i < 3; i++) await request(port, `/shop/${i}`, { Host: 'shop.test' });
    await page.locator('#log-status').selectOption('4xx');
    await page.locator('tbody tr').filter({ hasText: '/missing' }).waitFor();
    // the rows already shown stay until the filtered answer replaces them
    await page.locator('#log-count').filter({ hasText: /^1 shown/ }).waitFor();
    assert.equal(await page.locator('tbody tr').count(), 1);
    await page.locator('#log-status').selectOption('');
    await page.locator('#log-route').selectOption('shop');
    await page.locator('tbody tr').filter({ hasText: '/shop/2' }).waitFor();
    await page.locator('#log-count').filter({ hasText: /^3 shown/ }).waitFor();
    assert.equal(await page.locator('tbody tr').count(), 3);
    await page.locator('#log-route').selectOption('');
    await page.locator('#log-q').fill('live-one');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#log-count').filter({ hasText: '1 shown' }).waitFor();
    // the live tail keeps the filter
    await request(port, '/live-one-again', { Host: 'app.test' });
    await request(port, '/other', { Host: 'app.test' });
    await page.locator('tbody tr').filter({ hasText: '/live-one-again' }).waitFor({ timeout: 2000 });
    assert.equal(await page.locator('tbody tr').filter({ hasText: '/other' }).count(), 0);
  });

  test("a route's page shows its recent requests, live", async () => {
    await goto('#/routes/app', 'Route app');
    const panel = page.getByRole('region', { name: 'Recent requests' });
    await panel.locator('tbody tr').filter({ hasText: '/early' }).waitFor();
    assert.equal(await panel.locator('tbody tr').filter({ hasText: '/shop/' }).count(), 0);
    await request(port, '/route-live', { Host: 'app.test' });
    await panel.locator('tbody tr').filter({ hasText: '/route-live' }).waitFor({ timeout: 2000 });
  });

  test("the daemon's own log", async () => {
    await goto('#/logs/daemon', 'Logs');
    await page.locator('tbody tr').filter({ hasText: 'admin API listening' }).waitFor();
  });

  test('a viewer is told the logs are for admins; no console errors, no foreign requests', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('User name', { exact: true }).fill('watcher');
    await page.getByLabel('Password', { exact: true }).fill('watcher-password-9');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#nav').waitFor();
    await goto('#/logs', 'Logs');
    await page.getByText('only admins see them').waitFor();
    const st = await page.evaluate(async () => (await fetch('/api/v1/logs/access')).status);
    assert.equal(st, 403);
    assert.deepEqual(browser.guard.consoleErrors.filter((e) => !e.includes('403')), []);
    assert.deepEqual(browser.guard.foreign, []);
  });
});
