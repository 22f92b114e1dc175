// acme_site.test.js: certificates from an ACME CA in the web UI, against
// Debian's pebble on loopback (lib/pebble.js; challenges really validated
// against the daemon). The dashboard lists a certificate whose http-01
// challenge the CA rejected, with the CA's problem, and so does the Sites
// list for a site served with it. "New site" requests
// a certificate from the ACME account for the site's names: the plan says
// so, the certificate (its stand-in and held order) and the site's
// listeners, origin and route are ONE revision (one PATCH /config), the
// order starts once they serve, the Sites list follows it to "valid", and the
// site answers over https to a client that trusts only pebble's root.
// No console errors, no request to another address.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { openAdmin, shotBoth } from '../lib/harness.js';
import { startPebble, freePort } from '../lib/pebble.js';

const PASSWORD = 'acme-site-password-5';

// One HTTPS request with SNI <name>, verified against <ca> only.
function httpsGet(port, name, pathName, ca) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: pathName, servername: name, headers: { Host: name },
      ca, agent: false }, (res) => {
      const peer = res.socket.getPeerCertificate() || {};
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, issuer: (peer.issuer || {}).CN || '', names: peer.subjectaltname || '' }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('ACME certificates for sites, against pebble', () => {
  let env, origin, browser, page, goto, pebble, httpPort, httpsPort;

  const call = (method, p, body) => page.evaluate(async ([m, u, b]) => {
    const headers = { 'Content-Type': 'application/json' };
    if (m !== 'GET') headers['X-CSRF-Token'] = (await (await fetch('/api/v1/session')).json()).csrf_token;
    const r = await fetch('/api/v1' + u, { method: m, credentials: 'same-origin', headers,
      body: b === null ? undefined : JSON.stringify(b) });
    return { status: r.status, headers: Object.fromEntries(r.headers), body: r.status === 204 ? null : await r.json() };
  }, [method, p, body === undefined ? null : body]);
  const waitAcme = async (name, status, ms) => {
    let c = null;
    for (const end = Date.now() + ms; Date.now() < end;) {
      c = (await call('GET', '/certificates/' + name)).body;
      if (c.acme && c.acme.status === status) return c;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${name} never reached ${status}: ${JSON.stringify(c)}`);
  };

  before(async () => {
    httpPort = await freePort();
    httpsPort = await freePort();
    pebble = await startPebble(httpPort, httpsPort);
    env = await openAdmin({ password: PASSWORD, origin: true, login: 'form' });
    ({ origin, browser, page, goto } = env);
    const a = await call('POST', '/acme_accounts', { name: 'pebble', directory: pebble.directory, email: 'ops@example.test',
      terms_agreed: true, directory_ca: pebble.directory_ca });
    assert.equal(a.status, 201, JSON.stringify(a.body));
  });

  after(async () => {
    if (env) await env.stop();
    if (pebble) await pebble.stop();
  });

  test('a certificate whose challenge the CA rejected is on the dashboard and its site with the CA\'s problem', async () => {
    // Nothing listens on the port pebble validates http-01 at yet.
    const r = await call('POST', '/certificates/acme', { name: 'broken', names: ['broken.example.test'], account: 'pebble', challenge: 'http-01' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const c = await waitAcme('broken', 'failed', 60000);
    assert.equal(c.acme.last_error.step, 'challenge');
    assert.equal(c.acme.last_error.challenge.type, 'http-01');
    await goto('#/sites', 'Sites');
    await goto('#/dashboard', 'Dashboard');
    const panel = page.locator('#expiring');
    await panel.getByRole('heading', { name: 'Certificates needing attention' }).waitFor();
    const row = panel.locator('tbody tr').filter({ hasText: 'broken' });
    await row.getByText('ACME failed').waitFor();
    const text = await row.textContent();
    assert.match(text, /step: challenge/);
    assert.match(text, /for broken\.example\.test/);
    assert.match(text, /challenge http-01/);
    assert.match(text, /urn:ietf:params:acme:error:/);
    assert.ok(text.includes(c.acme.last_error.detail), `the CA's detail "${c.acme.last_error.detail}" in "${text}"`);
    assert.match(text, /1 failed attempt in a row/);
    await panel.scrollIntoViewIfNeeded();
    await shotBoth(page, 'acme-site-01-dashboard-failed');
    // A site served with it shows the failure and the CA's problem too.
    const add = await call('PATCH', '/config', [
      { op: 'add', path: '/listeners/-', value: { name: 'tls-broken', address: '127.0.0.1', port: 0, protocol: 'https', default_certificate: 'broken' } },
      { op: 'add', path: '/origins/-', value: { name: 'web', servers: [{ address: '127.0.0.1', port: origin.port }] } },
      { op: 'add', path: '/routes/-', value: { name: 'broken', listeners: ['tls-broken'], origin: 'web', match: { hosts: ['broken.example.test'] } } }]);
    assert.equal(add.status, 200, JSON.stringify(add.body));
    await goto('#/sites', 'Sites');
    const site = page.locator('tbody tr').filter({ hasText: 'broken.example.test' });
    await site.getByText('ACME failed').waitFor();
    assert.ok((await site.textContent()).includes(c.acme.last_error.detail));
    // Out of the way of the site below (its retry would find its listener).
    const rm = await call('PATCH', '/config', [{ op: 'remove', path: '/routes/0' }, { op: 'remove', path: '/listeners/0' }, { op: 'remove', path: '/origins/0' }]);
    assert.equal(rm.status, 200, JSON.stringify(rm.body));
    assert.equal((await call('DELETE', '/certificates/broken')).status, 204);
  });

  test('New site requests a certificate from the ACME account; the Sites list follows it to valid; https serves it', async () => {
    const before = Number(JSON.parse((await call('GET', '/config')).headers.etag));
    await goto('#/sites/new', 'New site');
    await page.getByLabel('Host names', { exact: true }).fill('shop.example.test, www.shop.example.test');
    await page.getByLabel('Origin addresses', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Origin port', { exact: true }).fill(String(origin.port));
    await page.getByLabel('Certificate', { exact: true }).selectOption({ label: 'Request from ACME account pebble' });
    assert.equal(await page.getByLabel('ACME challenge', { exact: true }).inputValue(), 'http-01');
    await page.getByText('Listening on').click();
    await page.getByLabel('Address', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('HTTP port', { exact: true }).fill(String(httpPort));
    await page.getByLabel('HTTPS port', { exact: true }).fill(String(httpsPort));
    await page.getByRole('button', { name: 'Review' }).click();
    const plan = page.getByRole('region', { name: 'What will be created' });
    await plan.waitFor();
    const steps = await plan.locator('li').allTextContents();
    assert.match(steps[0], /Request certificate shop\.example\.test from ACME account pebble for shop\.example\.test, www\.shop\.example\.test \(http-01: the CA connects to port 80/);
    await plan.getByRole('button', { name: 'Create site' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sites' }).waitFor();
    await page.locator('#toast').getByText('Certificate shop.example.test requested from ACME account pebble').waitFor();
    const row = page.locator('tbody tr').filter({ hasText: 'www.shop.example.test' });
    await row.getByText('ACME valid').waitFor({ timeout: 60000 });
    // The certificate's stand-in and held order, the listeners, origin
    // and route are one revision; the issue is the next, and the only
    // other one.
    const revs = (await call('GET', '/revisions')).body;
    const mine = revs.filter((x) => x.revision > before).sort((a, b) => a.revision - b.revision);
    const text = mine.map((x) => `${x.revision}: ${x.summary}`).join(' | ');
    assert.equal(mine.length, 2, text);
    assert.equal(mine[0].revision, before + 1, text);
    assert.match(mine[0].summary, /^patch the configuration \(5 operations\); certificate shop\.example\.test \(ACME http-01 from pebble, placeholder until issued\)$/, text);
    assert.match(mine[1].summary, /shop\.example\.test issued by ACME/, text);
    await shotBoth(page, 'acme-site-02-sites-valid');
    const c = (await call('GET', '/certificates/shop.example.test')).body;
    assert.equal(c.acme.issued, 1);
    assert.match(c.issuer, /Pebble/);
    assert.deepEqual(c.sans, ['shop.example.test', 'www.shop.example.test']);
    const ca = fs.readFileSync(pebble.root_file);
    for (const name of ['shop.example.test', 'www.shop.example.test']) {
      const r = await httpsGet(httpsPort, name, '/over-acme', ca);
      assert.equal(r.status, 200, name);
      assert.match(r.body, /hello from the origin/);
      assert.match(r.names, new RegExp('DNS:' + name.replace(/\./g, '\\.')));
    }
    // Pebble issued one certificate: the order started once, after the
    // site's listeners served.
    assert.equal((pebble.log().match(/Issued certificate serial/g) || []).length, 1, pebble.log().slice(-2000));
  });

  test('no console errors, no foreign requests', () => {
    assert.deepEqual(browser.guard.consoleErrors, []);
    assert.deepEqual(browser.guard.foreign, []);
  });
});
