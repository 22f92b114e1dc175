// acme.test.js: the web UI's automatic certificates. An account (whose
// directory does not answer, so it fails fast and visibly) is listed; a
// certificate is requested through the form; its page shows the ACME
// status, the CA problem of the last failure and "Renew now". No console
// errors, no request to another address.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openAdmin, shotBoth } from '../lib/harness.js';

const PASSWORD = 'acme-test-password-7';

describe('ACME in the browser', () => {
  let env, browser, page, call, goto;

  before(async () => {
    env = await openAdmin({ password: PASSWORD, setup: async ({ call: api, csrf }) => {
      const a = await api('POST', '/acme_accounts', { name: 'nowhere', directory: 'https://127.0.0.1:1/directory', email: 'ops@example.test', terms_agreed: true }, csrf);
      assert.equal(a.status, 201, JSON.stringify(a.body));
    } });
    ({ browser, page, call, goto } = env);
  });

  after(async () => {
    if (env) await env.stop();
  });

  test('accounts are listed; a certificate is requested; its ACME status and problem show', async () => {
    await goto('#/certificates', 'Certificates');
    await page.getByRole('link', { name: 'Automatic (ACME)' }).click();
    await page.getByRole('heading', { level: 1, name: 'Automatic certificates (ACME)' }).waitFor();
    await page.locator('tbody tr').filter({ hasText: 'nowhere' }).waitFor();
    await page.getByLabel('Certificate name').fill('site');
    await page.getByLabel('Host names').fill('app.example.test, www.example.test');
    await page.getByRole('button', { name: 'Request', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Certificate site' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'ACME' }).waitFor();
    await page.getByRole('button', { name: 'Renew now' }).waitFor();
    // The directory does not answer: the certificate fails with that
    // problem; the page shows it after a reload.
    for (let i = 0; i < 50; i++) {
      const c = await call('GET', '/certificates/site');
      if (c.body.acme && c.body.acme.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await goto('#/certificates', 'Certificates');
    await goto('#/certificates/site', 'Certificate site');
    await page.getByText('step: directory').waitFor();
    await shotBoth(page, 'acme-certificate');
    await page.getByRole('button', { name: 'Renew now' }).click();
    await page.getByText('Renewal of site started.').waitFor();
  });

  test('no console errors, no foreign requests', () => {
    assert.deepEqual(browser.guard.consoleErrors, []);
    assert.deepEqual(browser.guard.foreign, []);
  });
});
