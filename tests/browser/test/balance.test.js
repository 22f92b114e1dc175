// balance.test.js: server state and weight from the origin page (the
// server rows' State select and Weight, saved as a revision) and from
// the dashboard (the live state per server: a State select that
// PATCHes /origins/{o}/servers/{id}, in flight, latency).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openAdmin, startOrigin, request, shot } from '../lib/harness.js';

const PASSWORD = 'balance-test-password-7';

describe('server state and weights', () => {
  let env, page, call, a, b, port;

  before(async () => {
    a = await startOrigin();
    b = await startOrigin();
    env = await openAdmin({ password: PASSWORD, setup: async ({ call: api, csrf }) => {
      const put = await api('PUT', '/config', {
        listeners: [{ name: 'public', address: '127.0.0.1', port: 0 }],
        origins: [{ name: 'web', balance: 'least_conn', servers: [
          { address: '127.0.0.1', port: a.port, max_connections: 50 },
          { address: '127.0.0.1', port: b.port }] }],
        routes: [{ name: 'app', listener: 'public', origin: 'web', match: { hosts: ['app.test'] } }],
      }, csrf);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const st = await api('GET', '/status');
      port = st.body.listeners.find((l) => l.name === 'public').port;
    } });
    ({ page, call } = env);
  });

  after(async () => {
    if (env) await env.stop();
    if (a) await a.stop();
    if (b) await b.stop();
  });

  test('the origin page shows and changes a server state and weight', async () => {
    await page.evaluate(() => { location.hash = '#/origins/web'; });
    const state2 = page.getByLabel('State, row 2', { exact: true });
    await state2.waitFor();
    assert.equal(await state2.inputValue(), 'active');
    await state2.selectOption('drain');
    await page.getByLabel('Weight, row 1', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#toast').filter({ hasText: 'Saved origin web' }).waitFor();
    const o = (await call('GET', '/origins/web')).body;
    assert.deepEqual(o.servers.map((s) => [s.weight, s.state]), [[3, 'active'], [1, 'drain']]);
    // a field without a column on the page is kept
    assert.equal(o.servers[0].max_connections, 50);
    // the drained server gets no traffic
    const before = b.hits();
    for (let i = 0; i < 6; i++) assert.equal((await request(port, '/', { Host: 'app.test' })).status, 200);
    assert.equal(b.hits(), before);
    // the list shows it
    await page.evaluate(() => { location.hash = '#/origins'; });
    await page.locator('main tbody').getByText('drain').waitFor();
    await shot(page, 'balance-01-origins');
  });

  test('the dashboard shows live state and changes it in place', async () => {
    for (let i = 0; i < 4; i++) await request(port, '/', { Host: 'app.test' });
    await page.evaluate(() => { location.hash = '#/'; });
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const sel = page.getByLabel(`State of 127.0.0.1:${b.port}`, { exact: true });
    await sel.waitFor();
    assert.equal(await sel.inputValue(), 'drain');
    await page.locator('main').getByText(/\d+\.\d ms/).first().waitFor();
    const rev = (await call('GET', '/status')).body.latest_revision;
    await sel.selectOption('active');
    for (let i = 0; i < 50; i++) {
      const o = (await call('GET', '/origins/web')).body;
      if (o.servers[1].state === 'active') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const o = (await call('GET', '/origins/web')).body;
    assert.equal(o.servers[1].state, 'active');
    assert.equal((await call('GET', '/status')).body.latest_revision, rev + 1);
    await shot(page, 'balance-02-dashboard');
  });
});
