// sites.test.js: a new user publishes a site (issue 14). From the empty
// dashboard to "New site": two host names, HTTPS with http redirected, a
// self-signed certificate for those names, all in one form that shows its
// plan first; certificate, listeners, origin and route come in one
// revision (one PATCH /config). The test then asks the
// site over both schemes itself, sees those requests in the Logs page
// within 2 s, finds the site by search in Sites, and follows the links
// between route, origin and listener. Screenshots at 1280x800 and 390x844
// of the dashboard, Sites, the form with errors and the Logs page; no
// console errors, no request to another address.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { openAdmin, request, shotBoth } from '../lib/harness.js';

const PASSWORD = 'sites-test-password-3';

// One HTTPS request with SNI <name>, the certificate not checked (it is
// self-signed; the test checks its names). -> {status, body, names}
function httpsGet(port, name, pathName) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: pathName, servername: name, headers: { Host: name },
      rejectUnauthorized: false, agent: false }, (res) => {
      const alt = (res.socket.getPeerCertificate() || {}).subjectaltname || '';
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, names: alt }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('sites: one form for a new site', () => {
  let env, origin, browser, page, goto;

  const call = (method, p, body) => page.evaluate(async ([m, u, b]) => {
    const headers = { 'Content-Type': 'application/json' };
    if (m !== 'GET') headers['X-CSRF-Token'] = (await (await fetch('/api/v1/session')).json()).csrf_token;
    const r = await fetch('/api/v1' + u, { method: m, credentials: 'same-origin', headers,
      body: b === null ? undefined : JSON.stringify(b) });
    return { status: r.status, headers: Object.fromEntries(r.headers), body: r.status === 204 ? null : await r.json() };
  }, [method, p, body === undefined ? null : body]);

  before(async () => {
    // the first login asks for a new password, as for any new user
    env = await openAdmin({ password: PASSWORD, origin: true, login: 'form' });
    ({ origin, browser, page, goto } = env);
  });

  after(async () => {
    if (env) await env.stop();
  });

  test('the empty dashboard points to New site', async () => {
    const start = page.getByRole('region', { name: 'Get started' });
    await start.getByText('No sites yet').waitFor();
    await shotBoth(page, 'sites-01-dashboard-empty');
    await start.getByRole('link', { name: 'New site' }).click();
    await page.getByRole('heading', { level: 1, name: 'New site' }).waitFor();
  });

  test('a form with three bad fields shows three errors, and nothing is sent', async () => {
    await page.getByLabel('Host names', { exact: true }).fill('bad host!');
    await page.getByLabel('Origin addresses', { exact: true }).fill('not-an-address');
    await page.getByLabel('Origin port', { exact: true }).fill('70000');
    await page.getByRole('button', { name: 'Review' }).click();
    const errs = page.locator('.field-error:not([hidden])');
    await errs.first().waitFor();
    assert.equal(await errs.count(), 3, 'three errors: ' + (await errs.allTextContents()).join(' | '));
    for (const f of ['hosts', 'servers', 'origin_port']) {
      assert.ok((await page.locator(`[data-field="${f}"] .field-error`).textContent()).length > 3, f);
    }
    assert.equal(await page.getByRole('region', { name: 'What will be created' }).isVisible(), false);
    await shotBoth(page, 'sites-02-form-errors');
    const cfg = await call('GET', '/config');
    assert.deepEqual(cfg.body.routes, [], 'nothing was created');
  });

  test('two host names, HTTPS with http redirected, a self-signed certificate: one form, one revision', async () => {
    const before = Number(JSON.parse((await call('GET', '/config')).headers.etag));
    await page.getByLabel('Host names', { exact: true }).fill('shop.test, www.shop.test');
    await page.getByLabel('Origin addresses', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Origin port', { exact: true }).fill(String(origin.port));
    assert.equal(await page.getByLabel('Serve over', { exact: true }).inputValue(), 'both');
    assert.equal(await page.getByLabel('Redirect http to https', { exact: true }).isChecked(), true);
    assert.equal(await page.getByLabel('Certificate', { exact: true }).inputValue(), 'self');
    // ports chosen by the system: the test machine may not bind 80 and 443
    await page.getByText('Listening on').click();
    await page.getByLabel('Address', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('HTTP port', { exact: true }).fill('0');
    await page.getByLabel('HTTPS port', { exact: true }).fill('0');
    await page.getByRole('button', { name: 'Review' }).click();
    const plan = page.getByRole('region', { name: 'What will be created' });
    await plan.waitFor();
    const steps = await plan.locator('li').allTextContents();
    assert.equal(steps.length, 5, steps.join(' | '));
    assert.match(steps[0], /self-signed for shop\.test, www\.shop\.test/);
    assert.match(steps.join(' '), /Create listener http-shop\.test: http/);
    assert.match(steps.join(' '), /Create listener https-shop\.test: https/);
    assert.match(steps[4], /Create route shop\.test: shop\.test, www\.shop\.test on http-shop\.test and https-shop\.test .*redirected to https/);
    assert.deepEqual((await call('GET', '/config')).body.listeners, [], 'the plan alone changes nothing');
    await plan.getByRole('button', { name: 'Create site' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sites' }).waitFor();
    await page.locator('#toast').getByText('Created site shop.test').waitFor();
    // one revision: the certificate (an "add" on /certificates/- in the
    // same PATCH), the listeners, the origin and the route
    const after = Number(JSON.parse((await call('GET', '/config')).headers.etag));
    assert.equal(after, before + 1, 'the whole site, its certificate too, is one revision');
    const revs = (await call('GET', '/revisions')).body;
    assert.equal(revs[0].revision, after);
    assert.match(revs[0].summary, /patch the configuration \(5 operations\); certificate shop\.test \(self-signed\)/);
    const cert = (await call('GET', '/certificates/shop.test')).body;
    assert.deepEqual(cert.sans.slice().sort(), ['shop.test', 'www.shop.test']);
    const route = (await call('GET', '/routes/shop.test')).body;
    assert.deepEqual(route.listeners, ['http-shop.test', 'https-shop.test']);
    assert.equal(route.redirect_https, true);
  });

  test('the site answers over both schemes; its requests are in the log page within 2 s', async () => {
    const st = (await call('GET', '/status')).body.listeners;
    const port = (n) => st.find((l) => l.name === n).port;
    const plain = await request(port('http-shop.test'), '/cart?x=1', { Host: 'shop.test' });
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, 'https://shop.test/cart?x=1');
    for (const name of ['shop.test', 'www.shop.test']) {
      const r = await httpsGet(port('https-shop.test'), name, '/over-tls-' + name);
      assert.equal(r.status, 200, name);
      assert.match(r.body, /hello from the origin/);
      assert.match(r.names, new RegExp('DNS:' + name.replace(/\./g, '\\.')), 'the certificate names ' + name);
    }
    await goto('#/logs', 'Logs');
    await page.locator('tbody tr').filter({ hasText: '/over-tls-shop.test' }).waitFor();
    const t0 = Date.now();
    const r = await httpsGet(port('https-shop.test'), 'www.shop.test', '/live-after-open');
    assert.equal(r.status, 200);
    await page.locator('tbody tr').filter({ hasText: '/live-after-open' }).waitFor({ timeout: 2000 });
    assert.ok(Date.now() - t0 < 2000, `seen after ${Date.now() - t0} ms`);
    await page.locator('tbody tr').filter({ hasText: '/cart' }).filter({ hasText: '308' }).waitFor();
    await shotBoth(page, 'sites-03-logs');
  });

  test('find it by search in Sites; names link to the route, origin and listeners', async () => {
    const add = await call('PATCH', '/config', [{ op: 'add', path: '/routes/-', value: { name: 'other', listener: 'http-shop.test', origin: 'shop.test', match: { hosts: ['other.test'] } } }]);
    assert.equal(add.status, 200, JSON.stringify(add.body));
    await goto('#/sites', 'Sites');
    const rows = page.locator('tbody tr');
    await rows.filter({ hasText: 'other.test' }).waitFor();
    assert.equal(await rows.count(), 2);
    await page.getByRole('searchbox', { name: 'Search sites' }).fill('www.shop');
    await rows.filter({ hasText: 'other.test' }).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 1);
    const row = rows.first();
    await row.getByText('HTTPS, http redirects').waitFor();
    await row.getByRole('link', { name: 'shop.test' }).first().waitFor();
    await shotBoth(page, 'sites-04-sites');
    await row.getByRole('link', { name: 'https-shop.test' }).click();
    await page.getByRole('heading', { level: 1, name: 'Listener https-shop.test' }).waitFor();
    await page.locator('.used-by').getByRole('link', { name: 'shop.test' }).click();
    await page.getByRole('heading', { level: 1, name: 'Route shop.test' }).waitFor();
    await page.locator('.used-by').getByRole('link', { name: 'shop.test' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Origin shop.test' }).waitFor();
    const used = await page.locator('.used-by').textContent();
    assert.match(used, /shop\.test/);
    assert.match(used, /other/);
  });

  test('the dashboard, now with traffic; no console errors, no foreign requests', async () => {
    await goto('#/dashboard', 'Dashboard');
    assert.equal(await page.getByRole('region', { name: 'Get started' }).count(), 0);
    await page.locator('#kpi-total').filter({ hasText: /[1-9]/ }).waitFor();
    // each listener counts the requests it answered; a request no route
    // takes is counted on its own "unmatched" row
    const st = (await call('GET', '/status')).body.listeners;
    const httpPort = st.find((l) => l.name === 'http-shop.test').port;
    assert.equal((await request(httpPort, '/nobody', { Host: 'nobody.test' })).status, 404);
    const lrow = (n) => page.locator('tbody tr').filter({ has: page.locator('th, td').filter({ hasText: new RegExp('^' + n.replace(/\./g, '\\.') + '$') }) });
    const cells = async (n) => (await lrow(n).locator('th, td').allTextContents()).map((x) => x.trim());
    const g = (await call('GET', '/stats')).body.global;
    assert.ok(g.req_no_route >= 1, JSON.stringify(g));
    await page.locator('tbody tr').filter({ hasText: 'unmatched' }).filter({ hasText: String(g.req_no_route) }).waitFor();
    const ls = (await call('GET', '/stats')).body.listeners;
    const answered = (n) => Object.values(ls.find((l) => l.name === n).responses).reduce((a, x) => a + x, 0);
    assert.equal(answered('http-shop.test'), 2, JSON.stringify(ls)); // the redirect and the 404
    assert.equal(answered('https-shop.test'), 3, JSON.stringify(ls));
    await page.waitForTimeout(2500); // the next poll
    const http = await cells('http-shop.test');
    assert.equal(http[5], '2', 'two http requests answered: ' + http.join(' | '));
    const https = await cells('https-shop.test');
    assert.equal(https[5], '3', 'three https requests answered: ' + https.join(' | '));
    await shotBoth(page, 'sites-05-dashboard');
    assert.deepEqual(browser.guard.consoleErrors, [], browser.guard.consoleErrors.join('\n'));
    assert.deepEqual(browser.guard.foreign, []);
  });
});
