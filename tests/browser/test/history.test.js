// history.test.js: the dashboard's History panel (issue 14). Requests made
// before the page was opened are in its charts at once (the daemon keeps
// per-minute counts, GET /stats/history), not only after the page has
// polled for a while; requests no route took are counted per listener, in
// the listeners table and as an "unmatched on <listener>" row. Screenshots
// at 1280x800 and 390x844; no console errors, no request to another
// address.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openAdmin, request, shotBoth } from '../lib/harness.js';

const PASSWORD = 'history-test-password-5';

describe('the dashboard shows history kept by the daemon', () => {
  let env, browser, page, call, port, side;

  before(async () => {
    env = await openAdmin({ password: PASSWORD, origin: true, setup: async ({ call: api, csrf, origin }) => {
      const put = await api('PUT', '/config', {
        listeners: [{ name: 'public', address: '127.0.0.1', port: 0 }, { name: 'side', address: '127.0.0.1', port: 0 }],
        origins: [{ name: 'web', servers: [{ address: '127.0.0.1', port: origin.port }] }],
        routes: [{ name: 'app', listener: 'public', origin: 'web', match: { hosts: ['app.test'] } },
          { name: 'shop', listeners: ['public', 'side'], origin: 'web', match: { hosts: ['shop.test'] } }],
      }, csrf);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const st = (await api('GET', '/status')).body.listeners;
      port = st.find((l) => l.name === 'public').port;
      side = st.find((l) => l.name === 'side').port;
      // the traffic before any dashboard is open
      for (let i = 0; i < 7; i++) assert.equal((await request(port, `/a/${i}`, { Host: 'app.test' })).status, 200);
      for (let i = 0; i < 3; i++) assert.equal((await request(side, `/s/${i}`, { Host: 'shop.test' })).status, 200);
      for (let i = 0; i < 2; i++) assert.equal((await request(port, '/none', { Host: 'nobody.test' })).status, 404);
      assert.equal((await request(side, '/none', { Host: 'nobody.test' })).status, 404);
    } });
    ({ browser, page, call } = env);
  });

  after(async () => {
    if (env) await env.stop();
  });

  test('the charts hold the requests made before the page loaded', async () => {
    const t0 = Date.now();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const panel = page.getByRole('region', { name: 'History' });
    const legend = (chart, name) => panel.locator(`[data-chart="${chart}"] li[data-series="${name}"] .value`);
    await legend('routes', 'app').filter({ hasText: /^7 requests$/ }).waitFor({ timeout: 3000 });
    assert.equal(await legend('routes', 'shop').textContent(), '3 requests');
    assert.equal(await legend('listeners', 'public').textContent(), '9 requests');
    assert.equal(await legend('listeners', 'side').textContent(), '4 requests');
    assert.equal(await legend('classes', '2xx').textContent(), '10 requests');
    assert.equal(await legend('classes', '4xx').textContent(), '3 requests');
    assert.match(await legend('latency', 'all').textContent(), /^mean [0-9.]+ ms$/);
    // seen long before the live poll could have counted anything itself
    assert.ok(Date.now() - t0 < 3000, `history shown after ${Date.now() - t0} ms`);
    // the line is drawn, above the zero line somewhere
    const d = await panel.locator('[data-chart="routes"] path[data-series="app"]').getAttribute('d');
    const ys = [...d.matchAll(/[ML][0-9.]+ ([0-9.]+)/g)].map((m) => Number(m[1]));
    assert.ok(ys.length >= 1, d);
    assert.ok(Math.min(...ys) < Math.max(...ys) || ys.length === 1, 'a rise from zero: ' + d);
    const doc = (await call('GET', '/stats/history?minutes=60')).body;
    assert.equal(doc.routes.find((r) => r.name === 'app').total_requests, 7);
    // another range asks the daemon again
    await panel.getByLabel('Range').selectOption('1440');
    await legend('routes', 'app').filter({ hasText: /^7 requests$/ }).waitFor();
    assert.match(await panel.locator('.history-note').textContent(), /since .*when it started; 13 requests in this range/);
  });

  test('requests no route took are counted per listener', async () => {
    const row = (name) => page.locator('tbody tr').filter({ has: page.locator('th, td').filter({ hasText: new RegExp('^' + name + '$') }) });
    // the listeners table: an Unmatched column
    await row('public').first().waitFor();
    const head = (await page.locator('table').filter({ has: page.locator('caption', { hasText: 'Listeners' }) }).locator('thead th').allTextContents()).map((x) => x.trim());
    const col = head.indexOf('Unmatched');
    assert.ok(col > 0, head.join(' | '));
    const cells = async (name) => (await row(name).locator('th, td').allTextContents()).map((x) => x.trim());
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length > 0);
    assert.equal((await cells('public'))[col], '2');
    assert.equal((await cells('side'))[col], '1');
    // the routes table: one "unmatched on <listener>" row per listener
    const um = page.locator('tbody tr').filter({ hasText: /^unmatched on / });
    await um.filter({ hasText: 'unmatched on public' }).waitFor();
    assert.equal(await um.count(), 2);
    const pub = (await um.filter({ hasText: 'unmatched on public' }).locator('th, td').allTextContents()).map((x) => x.trim());
    assert.equal(pub[2], '2', pub.join(' | '));
    assert.equal(pub[4], '2', pub.join(' | ')); // 4xx
    await shotBoth(page, 'history-dashboard');
    assert.deepEqual(browser.guard.consoleErrors, [], browser.guard.consoleErrors.join('\n'));
    assert.deepEqual(browser.guard.foreign, []);
  });
});
