// webui.test.js: the web UI end to end, in Debian's chromium, against a
// real gatehoused and a real origin. One story, in order: first login and
// forced password change, an origin, a listener and a route made through
// the forms, traffic seen on the dashboard, certificates, field errors,
// revisions (diff, restore), export/import, users and tokens, phone width
// and keyboard use. Every page gets a screenshot in screenshots/. The last
// test fails on any console error and on any request the browser made to
// an address other than the admin listener.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { openAdmin, request, postJson, makeCertificate, shot, shotBoth, REPO } from '../lib/harness.js';

const NEW_PASSWORD = 'correct-horse-battery-9';

describe('gatehouse web UI', () => {
  let env, daemon, origin, browser, page, goto, listenerPort;
  const adminPort = () => Number(new URL(daemon.base).port);

  // the browser's own session asks the API (same origin, allowed)
  const apiGet = (p) => page.evaluate(async (u) => {
    const r = await fetch('/api/v1' + u, { credentials: 'same-origin' });
    return r.json();
  }, p);
  const toastHas = (text) => page.locator('#toast').filter({ hasText: text }).waitFor();
  const traffic = async (n, host = 'app.test') => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await request(listenerPort, `/hello/${i}`, { Host: host }));
    return out;
  };

  before(async () => {
    env = await openAdmin({ origin: true, login: 'none', timeout: 10000 });
    ({ daemon, origin, browser, page, goto } = env);
  });

  after(async () => {
    if (env) await env.stop();
  });

  test('static files: content types, cache headers, a strict CSP', async () => {
    const idx = await request(adminPort(), '/');
    assert.equal(idx.status, 200);
    assert.match(idx.headers['content-type'], /^text\/html/);
    const csp = idx.headers['content-security-policy'] || '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.equal(idx.headers['cache-control'], 'no-cache');
    assert.equal(idx.headers['x-content-type-options'], 'nosniff');
    const js = await request(adminPort(), '/js/app.js');
    assert.match(js.headers['content-type'], /^text\/javascript/);
    const css = await request(adminPort(), '/app.css');
    assert.match(css.headers['content-type'], /^text\/css/);
    const svg = await request(adminPort(), '/favicon.svg');
    assert.match(svg.headers['content-type'], /^image\/svg\+xml/);
    assert.equal((await request(adminPort(), '/../etc/passwd')).status, 404);
    assert.equal((await request(adminPort(), '/api/v1/healthz')).headers['cache-control'], 'no-store');
  });

  test('the UI files load nothing from elsewhere and have no inline script or style', () => {
    const dir = path.join(REPO, 'webui');
    const files = [];
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (/\.(html|js|css|svg)$/.test(e.name)) files.push(path.join(d, e.name));
      }
    };
    walk(dir);
    assert.ok(files.length >= 5, 'webui files found');
    // every file is installed by webui/local.mk
    const mk = fs.readFileSync(path.join(dir, 'local.mk'), 'utf8');
    for (const f of files) assert.ok(mk.includes(path.relative(REPO, f)), `${path.relative(REPO, f)} is listed in webui/local.mk`);
    for (const f of files) {
      const s = fs.readFileSync(f, 'utf8');
      const urls = (s.match(/\b(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'")]*/gi) || []).filter((u) => !u.startsWith('http://www.w3.org/'));
      assert.deepEqual(urls, [], `${f} names no other host`);
      if (f.endsWith('.html')) {
        assert.doesNotMatch(s, /<script(?![^>]*\bsrc=)[^>]*>/i, `${f}: inline script`);
        assert.doesNotMatch(s, /\sstyle=|<style/i, `${f}: inline style`);
        assert.doesNotMatch(s, /\son[a-z]+=/i, `${f}: inline handler`);
      }
      if (f.endsWith('.js')) assert.doesNotMatch(s, /innerHTML|eval\(|new Function/, `${f}: no HTML or code from strings`);
    }
  });

  test('first login asks for a new password', async () => {
    await page.goto(daemon.base + '/');
    await page.getByLabel('User name', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(daemon.password);
    await shot(page, '01-login');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Choose your own password' }).waitFor();
    assert.equal(await page.locator('#nav').isVisible(), false, 'no navigation before the password is changed');
    // going elsewhere brings the form back
    await page.evaluate(() => {
      location.hash = '#/routes';
    });
    await page.getByRole('heading', { name: 'Choose your own password' }).waitFor();
    // two different entries: refused in place, nothing sent
    await page.getByLabel('Current password', { exact: true }).fill(daemon.password);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password', { exact: true }).fill(NEW_PASSWORD + 'x');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('[data-field="repeat"] .field-error').filter({ hasText: 'does not match' }).waitFor();
    await shot(page, '02-change-password');
  });

  test('changing the password opens the dashboard; the old password stops working', async () => {
    await page.getByLabel('Repeat the new password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByText('No routes yet: no traffic goes to any origin.').waitFor(); // not "encrypted"
    const s = await apiGet('/session');
    assert.equal(s.user, 'admin');
    assert.equal(s.must_change_password, false);
    const old = await postJson(adminPort(), '/api/v1/session', { username: 'admin', password: daemon.password });
    assert.equal(old.status, 401, 'the generated password no longer logs in');
    const login = await page.evaluate(async (pw) => (await fetch('/api/v1/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: pw }),
    })).status, NEW_PASSWORD);
    assert.equal(login, 200);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  });

  test('create an origin with the form', async () => {
    await page.getByRole('link', { name: 'Origins' }).click();
    await page.getByRole('heading', { level: 1, name: 'Origins' }).waitFor();
    await page.getByRole('link', { name: 'New origin' }).click();
    await page.getByLabel('Name', { exact: true }).fill('web');
    await page.getByLabel('Address, row 1', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port, row 1', { exact: true }).fill(String(origin.port));
    await page.getByRole('button', { name: 'Create origin' }).click();
    await toastHas('Saved origin web');
    await page.getByRole('link', { name: 'web', exact: true }).waitFor();
    await shot(page, '03-origins');
    const o = await apiGet('/origins/web');
    assert.deepEqual(o.servers.map((s) => [s.address, s.port, s.weight]), [['127.0.0.1', origin.port, 1]]);
  });

  test('a bad value gets its field error next to the field', async () => {
    await goto('#/origins/new', 'New origin');
    await page.getByLabel('Name', { exact: true }).fill('bad');
    await page.getByLabel('Address, row 1', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port, row 1', { exact: true }).fill('70000');
    // the served schema's range is checked before anything is sent
    await page.getByRole('button', { name: 'Create origin' }).click();
    const err = page.locator('[data-field="servers[0].port"] .field-error');
    await err.waitFor();
    assert.match(await err.textContent(), /65535|range/);
    assert.equal(await page.getByLabel('Port, row 1', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Port, row 1', 'focus moves to the bad field');
    await shot(page, '04-field-error');
    const list = await apiGet('/origins');
    assert.deepEqual(list.map((o) => o.name), ['web'], 'nothing was created');
  });

  test('create a listener on port 0 and see its bound port', async () => {
    await goto('#/listeners', 'Listeners');
    await page.getByRole('link', { name: 'New listener' }).click();
    await page.getByLabel('Name', { exact: true }).fill('public');
    await page.getByLabel('Address', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill('0');
    await page.getByLabel('Protocol', { exact: true }).selectOption('http');
    await page.getByRole('button', { name: 'Create listener' }).click();
    await toastHas('Saved listener public');
    const st = await apiGet('/status');
    const l = st.listeners.find((x) => x.name === 'public');
    assert.ok(l && l.bound && l.port > 0, 'listener bound: ' + JSON.stringify(st.listeners));
    listenerPort = l.port;
    await page.getByText(`${listenerPort} (asked 0)`).waitFor();
    await shot(page, '05-listeners');
  });

  test('a form with three bad fields shows three errors at once, at their fields', async () => {
    await goto('#/listeners/new', 'New listener');
    await page.getByLabel('Name', { exact: true }).fill('bad name!');
    await page.getByLabel('Address', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill('70000');
    await page.locator('summary', { hasText: 'Timeouts and limits' }).click(); // folded by default
    await page.getByLabel('Header timeout (ms)', { exact: true }).fill('0');
    await page.locator('summary', { hasText: 'Timeouts and limits' }).click(); // fold it again: an error opens it
    await page.getByRole('button', { name: 'Create listener' }).click();
    const errs = page.locator('.field-error:not([hidden])');
    await errs.first().waitFor();
    assert.equal(await errs.count(), 3, 'three errors: ' + (await errs.allTextContents()).join(' | '));
    assert.match(await page.locator('[data-field="name"] .field-error').textContent(), /expected form/);
    assert.match(await page.locator('[data-field="port"] .field-error').textContent(), /between 0 and 65535/);
    assert.match(await page.locator('[data-field="timeouts.header_ms"] .field-error').textContent(), /between 1 and/);
    assert.equal(await page.getByLabel('Header timeout (ms)', { exact: true }).isVisible(), true, 'the folded section opened');
    for (const l of ['Name', 'Port', 'Header timeout (ms)']) assert.equal(await page.getByLabel(l, { exact: true }).getAttribute('aria-invalid'), 'true', l);
    assert.equal(await page.evaluate(() => document.activeElement.name), 'name', 'focus on the first bad field');
    await shotBoth(page, 'form-errors');
    // empty required selects are flagged too
    await goto('#/routes/new', 'New route');
    await page.getByLabel('Name', { exact: true }).fill('r');
    await page.getByRole('button', { name: 'Create route' }).click();
    await page.locator('[data-field="listeners"] .field-error').getByText('choose one').waitFor();
    await page.locator('[data-field="origin"] .field-error').getByText('choose one').waitFor();
    assert.deepEqual(await apiGet('/listeners').then((a) => a.map((x) => x.name)), ['public'], 'nothing was sent');
  });

  test('an https listener without a certificate is refused at the field', async () => {
    await goto('#/listeners/new', 'New listener');
    await page.getByLabel('Name', { exact: true }).fill('tls-nocert');
    await page.getByLabel('Address', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill('0');
    await page.getByLabel('Protocol', { exact: true }).selectOption('https');
    browser.expectHttpError(422, '/api/v1/listeners');
    await page.getByRole('button', { name: 'Create listener' }).click();
    const err = page.locator('[data-field="default_certificate"] .field-error');
    await err.waitFor();
    assert.match(await err.textContent(), /required on an https listener/);
    assert.equal(await page.getByLabel('Default certificate', { exact: true }).getAttribute('aria-invalid'), 'true');
    await shot(page, '05b-https-no-certificate');
    assert.deepEqual((await apiGet('/listeners')).map((x) => x.name), ['public'], 'nothing was created');
  });

  test('create a route; it shows that traffic to its origin stays on this host', async () => {
    await goto('#/routes', 'Routes');
    await page.getByRole('link', { name: 'New route' }).click();
    await page.getByLabel('Name', { exact: true }).fill('app');
    await page.getByLabel('Listeners', { exact: true }).selectOption('public');
    await page.getByLabel('Origin', { exact: true }).selectOption('web');
    await page.getByLabel('Hosts', { exact: true }).fill('app.test');
    await page.getByRole('button', { name: 'Create route' }).click();
    await toastHas('Saved route app');
    const row = page.locator('tbody tr').filter({ hasText: 'app.test' });
    await row.getByText('Clear (local)').waitFor();
    await shot(page, '06-routes');
    // the edit page says it in words
    await row.getByRole('link', { name: 'Edit app' }).click();
    await page.getByText('In the clear, but only on this host').waitFor();
    await shot(page, '07-route-edit');
  });

  test('an origin reached over TLS makes its route show as encrypted', async (t) => {
    const spec = await apiGet('/openapi.json');
    if (!spec.components.schemas.Origin.properties.tls) {
      t.skip('this gatehoused has no TLS to origins');
      return;
    }
    await goto('#/origins/new', 'New origin');
    await page.getByLabel('Name', { exact: true }).fill('secure');
    await page.getByLabel('Address, row 1', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port, row 1', { exact: true }).fill('8443');
    assert.equal(await page.getByLabel('Server name (SNI)', { exact: true }).isVisible(), false, 'TLS options appear only when TLS is on');
    await page.getByLabel('Encrypt traffic to these servers (TLS)', { exact: true }).check();
    await page.getByLabel('Server name (SNI)', { exact: true }).fill('secure.test');
    await page.getByRole('button', { name: 'Create origin' }).click();
    await toastHas('Saved origin secure');
    const o = await apiGet('/origins/secure');
    assert.equal(o.tls.enabled, true);
    assert.equal(o.tls.sni, 'secure.test');
    await goto('#/routes/new', 'New route');
    await page.getByLabel('Name', { exact: true }).fill('secure-app');
    await page.getByLabel('Listeners', { exact: true }).selectOption('public');
    await page.getByLabel('Origin', { exact: true }).selectOption('secure');
    await page.getByLabel('Hosts', { exact: true }).fill('secure.test');
    await page.getByRole('button', { name: 'Create route' }).click();
    await toastHas('Saved route secure-app');
    await page.locator('tbody tr').filter({ hasText: 'secure.test' }).getByText('Encrypted', { exact: true }).waitFor();
    await page.locator('tbody tr').filter({ hasText: 'app.test' }).getByText('Clear (local)').waitFor();
    await shot(page, '07b-routes-posture');
  });

  test('a bad route value is shown at the field it names', async () => {
    await goto('#/routes/new', 'New route');
    await page.getByLabel('Name', { exact: true }).fill('bad-route');
    await page.getByLabel('Listeners', { exact: true }).selectOption('public');
    await page.getByLabel('Origin', { exact: true }).selectOption('web');
    await page.getByLabel('Path prefix', { exact: true }).fill('no-slash');
    await page.getByRole('button', { name: 'Create route' }).click();
    const err = page.locator('[data-field="match.path_prefix"] .field-error');
    await err.waitFor();
    assert.ok((await err.textContent()).length > 3);
    assert.equal(await page.getByLabel('Path prefix', { exact: true }).getAttribute('aria-invalid'), 'true');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();
  });

  test('maintenance: one click on the route page, clients get 503, one click ends it', async (t) => {
    const spec = await apiGet('/openapi.json');
    if (!spec.components.schemas.Route.properties.maintenance) {
      t.skip('this gatehoused has no maintenance mode');
      return;
    }
    assert.equal((await request(listenerPort, '/m', { Host: 'app.test' })).status, 200);
    await goto('#/routes/app', 'Route app');
    await page.getByRole('button', { name: 'Start maintenance' }).click();
    await toastHas('maintenance started');
    await page.getByRole('button', { name: 'End maintenance' }).waitFor();
    const r = await request(listenerPort, '/m', { Host: 'app.test' });
    assert.equal(r.status, 503);
    assert.match(r.body, /maintenance/);
    assert.equal((await apiGet('/routes/app')).maintenance.enabled, true);
    await shot(page, '07c-route-maintenance');
    await page.getByRole('button', { name: 'End maintenance' }).click();
    await toastHas('maintenance ended');
    await page.getByRole('button', { name: 'Start maintenance' }).waitFor();
    assert.equal((await request(listenerPort, '/m', { Host: 'app.test' })).status, 200);
  });

  test('traffic through the route shows on the dashboard', async () => {
    const first = await traffic(20);
    for (const r of first) {
      assert.equal(r.status, 200);
      assert.match(r.body, /hello from the origin: GET \/hello\/\d+ host=app.test/);
    }
    assert.ok(origin.hits() >= 20);
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const routeRow = page.locator('section.panel').filter({ has: page.getByRole('heading', { name: 'Traffic per route' }) }).locator('tbody tr').filter({ hasText: 'app' });
    await routeRow.waitFor();
    // keep traffic going while the dashboard polls: the rate and the chart move
    const deadline = Date.now() + 15000;
    let rps = 0;
    while (Date.now() < deadline) {
      await traffic(10);
      rps = Number(await page.locator('#kpi-rps').textContent());
      if (rps > 0) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(rps > 0, 'requests per second shown');
    await page.locator('.chart .legend li').filter({ hasText: 'app' }).first().waitFor();
    const cells = await routeRow.locator('td').allTextContents();
    assert.ok(Number(cells[1]) >= 30, 'requests counted on the route row: ' + cells.join(' | '));
    await page.locator('section.panel').filter({ hasText: 'Server health' }).getByText(`127.0.0.1:${origin.port}`).waitFor();
    await page.waitForTimeout(2500); // one more sample on the chart
    await shot(page, '08-dashboard-traffic');
    await shotBoth(page, 'dashboard');
  });

  test('health checks: made in the origin form, up and down on the dashboard', async (t) => {
    const spec = await apiGet('/openapi.json');
    if (!spec.components.schemas.Origin.properties.health_check) {
      t.skip('this gatehoused has no health checks');
      return;
    }
    // a second server that fails its check on /broken with a 503
    const flaky = http.createServer((req, res) => {
      req.resume();
      res.writeHead(req.url.startsWith('/broken') ? 503 : 200, { 'Content-Type': 'text/plain', 'Content-Length': 3 });
      res.end('ok\n');
    });
    await new Promise((r) => flaky.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => flaky.close(r)));
    const flakyPort = flaky.address().port;
    const healthPanel = page.locator('section.panel').filter({ has: page.getByRole('heading', { name: 'Server health' }) });
    const healthRow = (port) => healthPanel.locator('tbody tr').filter({ hasText: `127.0.0.1:${port}` }).filter({ hasText: 'probed' });

    await goto('#/origins/new', 'New origin');
    await page.getByLabel('Name', { exact: true }).fill('probed');
    await page.getByLabel('Address, row 1', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port, row 1', { exact: true }).fill(String(origin.port));
    await page.getByRole('button', { name: 'Add server' }).click();
    await page.getByLabel('Address, row 2', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port, row 2', { exact: true }).fill(String(flakyPort));
    assert.equal(await page.getByLabel('Path', { exact: true }).isVisible(), false, 'check options appear only when the check is on');
    await page.getByLabel('Check the servers actively (HTTP)', { exact: true }).check();
    await page.getByLabel('Path', { exact: true }).fill('/healthz');
    await page.getByLabel('Check every (ms)', { exact: true }).fill('500');
    await page.getByLabel('Timeout (ms)', { exact: true }).fill('500');
    await page.getByLabel('Passes in a row to mark a server up', { exact: true }).fill('1');
    await page.getByLabel('Failures in a row to mark a server down', { exact: true }).fill('1');
    // the timeout must be shorter than the interval: said at the field
    browser.expectHttpError(422, '/api/v1/origins');
    await page.getByRole('button', { name: 'Create origin' }).click();
    const err = page.locator('[data-field="health_check.timeout_ms"] .field-error');
    await err.waitFor();
    assert.match(await err.textContent(), /shorter than interval_ms/);
    assert.equal(await page.getByLabel('Timeout (ms)', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'health_check.timeout_ms', 'focus moves to the bad field');
    await shot(page, '08b-health-check-error');
    assert.deepEqual((await apiGet('/origins')).map((o) => o.name).includes('probed'), false, 'nothing was created');
    await page.getByLabel('Timeout (ms)', { exact: true }).fill('300');
    await page.getByRole('button', { name: 'Create origin' }).click();
    await toastHas('Saved origin probed');
    const o = await apiGet('/origins/probed');
    assert.deepEqual([o.health_check.path, o.health_check.interval_ms, o.health_check.timeout_ms, o.health_check.rise, o.health_check.fall],
      ['/healthz', 500, 300, 1, 1]);
    assert.equal(o.health_check.host, undefined, 'an empty field is not sent');

    // both servers pass: up, with checks counted
    await goto('#/dashboard', 'Dashboard');
    for (const port of [origin.port, flakyPort]) {
      await healthRow(port).locator('.badge').filter({ hasText: /^up$/ }).waitFor();
    }
    const checked = async (port) => {
      return Number(await healthRow(port).locator('td[data-label="Checks"]').textContent());
    };
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && await checked(flakyPort) < 2) await page.waitForTimeout(300);
    assert.ok(await checked(flakyPort) >= 2, 'checks are counted');
    // a server of an origin without a check stays unchecked
    await healthPanel.locator('tbody tr').filter({ hasText: 'web' }).getByText('unchecked', { exact: true }).waitFor();

    // edit the check's path: the flaky server answers it with 503 and goes down
    await goto('#/origins/probed', 'Origin probed');
    assert.equal(await page.getByLabel('Check the servers actively (HTTP)', { exact: true }).isChecked(), true);
    assert.equal(await page.getByLabel('Path', { exact: true }).inputValue(), '/healthz');
    await page.getByLabel('Path', { exact: true }).fill('/broken');
    await page.getByLabel('Passing status to', { exact: true }).fill('299');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await toastHas('Saved origin probed');
    const o2 = await apiGet('/origins/probed');
    assert.deepEqual([o2.health_check.path, o2.health_check.interval_ms, o2.health_check.status_max], ['/broken', 500, 299]);
    await goto('#/dashboard', 'Dashboard');
    const down = healthRow(flakyPort);
    await down.locator('.badge').filter({ hasText: /^down$/ }).waitFor();
    await down.getByText('status 503').waitFor();
    await healthRow(origin.port).locator('.badge').filter({ hasText: /^up$/ }).waitFor();
    const failed = Number(await down.locator('td[data-label="Failed checks"]').textContent());
    assert.ok(failed >= 1, 'failed checks counted');
    await page.locator('#toast.show').waitFor({ state: 'detached' }); // the toast hid no cell
    await shot(page, '08c-dashboard-health');

    // turning the check off sends health_check: null
    await goto('#/origins/probed', 'Origin probed');
    await page.getByLabel('Check the servers actively (HTTP)', { exact: true }).uncheck();
    assert.equal(await page.getByLabel('Path', { exact: true }).isVisible(), false);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await toastHas('Saved origin probed');
    assert.equal((await apiGet('/origins/probed')).health_check, null);
    await goto('#/dashboard', 'Dashboard');
    await healthRow(flakyPort).getByText('unchecked', { exact: true }).waitFor();
  });

  test('certificates: upload a PEM certificate and key, generate a self-signed one', async (t) => {
    const spec = await apiGet('/openapi.json');
    if (!spec.paths['/api/v1/certificates']) {
      t.skip('this gatehoused has no /api/v1/certificates yet');
      return;
    }
    const c = makeCertificate(daemon.tmp, 'upload.test', 20);
    await goto('#/certificates', 'Certificates');
    await page.getByRole('link', { name: 'Upload certificate' }).click();
    await page.getByLabel('Name', { exact: true }).fill('upload-test');
    await page.getByLabel('Certificate chain (PEM)', { exact: true }).fill(c.certPem);
    await page.getByLabel('Private key (PEM)', { exact: true }).fill(c.keyPem);
    await shot(page, '09-certificate-upload');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('heading', { level: 1, name: 'Certificate upload-test' }).waitFor();
    const fp = new crypto.X509Certificate(c.certPem).fingerprint256.replace(/:/g, '').toLowerCase();
    const shown = (await page.locator('dl.details code').textContent()).replace(/[^0-9a-f]/gi, '').toLowerCase();
    assert.equal(shown, fp, 'the SHA-256 fingerprint matches certtool\'s certificate');
    await page.getByText('upload.test').first().waitFor();
    await shot(page, '10-certificate-details');
    const body = await page.locator('main').textContent();
    assert.doesNotMatch(body, /PRIVATE KEY/);

    if (spec.paths['/api/v1/certificates/self-signed']) {
      await goto('#/certificates/self-signed', 'Generate a self-signed certificate');
      await page.getByLabel('Name', { exact: true }).fill('lab');
      await page.getByLabel('Host names', { exact: true }).fill('a.test, *.a.test');
      await page.getByLabel('Valid for (days)', { exact: true }).fill('90');
      await page.getByRole('button', { name: 'Generate' }).click();
      await page.getByRole('heading', { level: 1, name: 'Certificate lab' }).waitFor();
      await page.getByText('*.a.test').first().waitFor();
    }
    await goto('#/certificates', 'Certificates');
    await page.locator('tbody tr').filter({ hasText: 'upload-test' }).getByText(/days left/).waitFor();
    await shot(page, '11-certificates');
    // expiring in 20 days: on the dashboard's list
    await goto('#/dashboard', 'Dashboard');
    await page.locator('#expiring').getByRole('link', { name: 'upload-test' }).waitFor();
  });

  test('revisions: diff between any two, restore after a confirmation', async () => {
    await goto('#/revisions', 'Revisions');
    const revs = await apiGet('/revisions');
    const beforeRoute = revs.find((r) => r.summary === 'create listeners/public');
    const firstRev = revs[revs.length - 1].revision;
    assert.ok(beforeRoute, JSON.stringify(revs));
    await page.locator('#diff-from').selectOption(String(firstRev));
    await page.locator('#diff-to').selectOption(String(revs[0].revision));
    await page.getByRole('button', { name: 'Show differences' }).click();
    await page.locator('#diff-out').getByText('/routes/app').first().waitFor();
    await page.locator('#diff-out').getByText('/listeners/public').first().waitFor();
    await shot(page, '12-revisions-diff');

    const routesBefore = (await apiGet('/routes')).length;
    await page.getByRole('button', { name: `Restore revision ${beforeRoute.revision}` }).click();
    const dlg = page.getByRole('dialog');
    await dlg.getByText('/routes/app').first().waitFor(); // what would change
    await shot(page, '13-restore-confirm', false);
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', 'focus starts on Cancel');
    // cancelling changes nothing
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await apiGet('/routes')).length, routesBefore);
    await page.getByRole('button', { name: `Restore revision ${beforeRoute.revision}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
    await toastHas(`Restored revision ${beforeRoute.revision}`);
    assert.deepEqual(await apiGet('/routes'), []);
    const r = await request(listenerPort, '/', { Host: 'app.test' });
    assert.equal(r.status, 404, 'the route is gone from the data plane');
    await page.locator('tbody tr').first().getByText(`restore`, { exact: false }).waitFor();
  });

  test('export the whole configuration and import an edited copy', async () => {
    await goto('#/config', 'Import / export');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download configuration' }).click()]);
    assert.match(dl.suggestedFilename(), /^gatehouse-config-r\d+\.json$/);
    const file = path.join(daemon.tmp, 'export.json');
    await dl.saveAs(file);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(doc.listeners.map((l) => l.name), ['public']);
    assert.deepEqual(doc.origins.map((o) => o.name), ['web']);
    assert.deepEqual(doc.routes, []);
    doc.routes.push({ name: 'app', listener: 'public', origin: 'web', match: { hosts: ['app.test'] } });
    const edited = path.join(daemon.tmp, 'edited.json');
    fs.writeFileSync(edited, JSON.stringify(doc));
    await page.locator('#import-file').setInputFiles(edited);
    await page.getByRole('button', { name: 'Check and import' }).click();
    const dlg = page.getByRole('dialog');
    await dlg.getByText('/routes/app').first().waitFor();
    await shot(page, '14-import-confirm', false);
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', 'focus starts on Cancel');
    await dlg.getByRole('button', { name: 'Import' }).click();
    await page.locator('#import-result').getByText(/Imported as revision \d+/).waitFor();
    await shot(page, '15-config');
    const r = await request(listenerPort, '/again', { Host: 'app.test' });
    assert.equal(r.status, 200);
  });

  test('edit a route: the change reaches traffic at once', async () => {
    assert.equal((await request(listenerPort, '/', { Host: 'www.app.test' })).status, 404);
    await goto('#/routes/app', 'Route app');
    await page.getByLabel('Hosts', { exact: true }).fill('app.test, www.app.test');
    await page.locator('summary', { hasText: 'Options' }).click(); // advanced options are folded
    await page.getByLabel('Connect timeout (ms)', { exact: true }).fill('2500');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await toastHas('Saved route app');
    const r = await apiGet('/routes/app');
    assert.deepEqual(r.match.hosts, ['app.test', 'www.app.test']);
    assert.equal(r.timeouts.connect_ms, 2500);
    const res = await request(listenerPort, '/edited', { Host: 'www.app.test' });
    assert.equal(res.status, 200);
    assert.match(res.body, /host=www.app.test/);
    // emptying a field removes it (merge patch null)
    await goto('#/routes/app', 'Route app');
    await page.locator('summary', { hasText: 'Options' }).click();
    await page.getByLabel('Connect timeout (ms)', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await toastHas('Saved route app');
    assert.equal((await apiGet('/routes/app')).timeouts.connect_ms, undefined);
  });

  test('deleting an origin still in use is refused with the reason shown', async () => {
    await goto('#/origins', 'Origins');
    await page.getByRole('button', { name: 'Delete web' }).click();
    const dlg = page.getByRole('dialog');
    browser.expectHttpError(409, '/api/v1/origins/web');
    await dlg.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alert').filter({ hasText: 'routes/app' }).waitFor();
    await shot(page, '15b-delete-refused');
    assert.deepEqual((await apiGet('/origins')).map((o) => o.name), ['web']);
  });

  test('users and tokens', async () => {
    await goto('#/users/new', 'New user');
    await page.getByLabel('Name', { exact: true }).fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('alice-password-1');
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Create user' }).click();
    await toastHas('Saved user alice');
    await page.locator('tbody tr').filter({ hasText: 'alice' }).getByText('viewer').waitFor();
    await shot(page, '16-users');

    await goto('#/tokens/new', 'New token');
    await page.getByLabel('Name', { exact: true }).fill('ci');
    await page.getByLabel('Role', { exact: true }).selectOption('admin');
    await page.getByRole('button', { name: 'Create token' }).click();
    const dlg = page.getByRole('dialog', { name: 'Your new token' });
    await dlg.waitFor();
    const token = await dlg.locator('input.secret').inputValue();
    assert.match(token, /^gh_/);
    await shot(page, '17-token-created', false);
    await dlg.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('heading', { level: 1, name: 'API tokens' }).waitFor();
    await shot(page, '18-tokens');
    const st = await request(adminPort(), '/api/v1/status', { Authorization: 'Bearer ' + token });
    assert.equal(st.status, 200, 'the token shown once works');
  });

  test('backup, change, refused restore, restore: everything comes back', async () => {
    await goto('#/backup', 'Backup / restore');
    await page.getByLabel('Passphrase', { exact: true }).first().fill('browser backup pass');
    await page.getByLabel('Passphrase again', { exact: true }).fill('browser backup pass');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download backup' }).click()]);
    assert.match(dl.suggestedFilename(), /^gatehouse-\d{8}T\d{6}Z-r\d+\.ghbackup$/);
    const file = path.join(daemon.tmp, 'state.ghbackup');
    await dl.saveAs(file);
    assert.equal(fs.readFileSync(file).subarray(0, 8).toString(), 'GHBACKUP');
    await shot(page, '18b-backup');
    const routes = await apiGet('/routes');
    const users = (await apiGet('/users')).map((u) => u.name);
    // change things after the backup
    const del = await page.evaluate(async () => {
      const s = await (await fetch('/api/v1/session', { credentials: 'same-origin' })).json();
      const r = await fetch('/api/v1/routes/app', { method: 'DELETE', credentials: 'same-origin', headers: { 'X-CSRF-Token': s.csrf_token } });
      return r.status;
    });
    assert.equal(del, 204);
    assert.equal((await request(listenerPort, '/', { Host: 'app.test' })).status, 404);
    // a wrong passphrase is refused and changes nothing
    await goto('#/backup', 'Backup / restore');
    await page.locator('#restore-file').setInputFiles(file);
    await page.locator('#restore-pass').fill('not the passphrase');
    browser.expectHttpError(422, '/api/v1/restore');
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
    await page.locator('#restore-result').getByText('wrong passphrase or damaged file').waitFor();
    assert.deepEqual(await apiGet('/routes'), []);
    // the right one brings the route back, live
    await page.locator('#restore-pass').fill('browser backup pass');
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
    await page.locator('#restore-result').getByText(/Restored as revision \d+/).waitFor();
    await shot(page, '18c-restored');
    assert.deepEqual(await apiGet('/routes'), routes);
    assert.deepEqual((await apiGet('/users')).map((u) => u.name), users);
    assert.equal((await request(listenerPort, '/back', { Host: 'app.test' })).status, 200);
  });

  test('phone width: the menu opens and closes from the keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await goto('#/dashboard', 'Dashboard');
    await page.waitForTimeout(2500);
    await shot(page, '19-phone-dashboard');
    assert.equal(await page.locator('#nav').isVisible(), false);
    await page.getByRole('button', { name: 'Menu' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#nav').getByRole('link', { name: 'Routes' }).waitFor();
    await shot(page, '20-phone-menu', false);
    await page.keyboard.press('Escape');
    await page.locator('#nav').waitFor({ state: 'hidden' });
    await goto('#/routes', 'Routes');
    await shot(page, '21-phone-routes');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scrolling at phone width (${overflow}px)`);
    await goto('#/origins/web', 'Origin web');
    await shot(page, '22-phone-origin-edit');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('log out, then a viewer logs in with the keyboard alone and cannot change things', async () => {
    await page.getByRole('button', { name: 'Log out' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.name), 'username', 'focus starts in the form');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    await page.keyboard.type('alice-password-1');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await goto('#/routes', 'Routes');
    assert.equal(await page.getByRole('link', { name: 'New route' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 0);
    // the skip link takes keyboard users past the navigation to the heading
    await page.locator('#skip').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.tagName + ' ' + document.activeElement.textContent), 'H1 Routes');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.closest('main') !== null), true, 'Tab goes on inside the page');
    await shot(page, '23-viewer-routes');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  });

  test('no console errors, no request to any other address', () => {
    assert.deepEqual(browser.guard.consoleErrors, [], 'console errors');
    assert.deepEqual(browser.guard.foreign, [], 'requests to other addresses');
    assert.deepEqual(browser.guard.allowed, [], 'every expected API refusal happened');
  });
});
