// access.test.js: an access list with a user made through the form,
// attached to a route on the route's page; a request made by the test then
// gets 401 with WWW-Authenticate, and 200 with the user's password.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openAdmin, request, shot } from '../lib/harness.js';

const PASSWORD = 'access-test-password-7';

describe('access lists in the web UI', () => {
  let env, page, goto, call;

  before(async () => {
    env = await openAdmin({ password: PASSWORD, origin: true, setup: async ({ call, csrf, origin }) => {
      const put = await call('PUT', '/config', {
        listeners: [{ name: 'public', address: '127.0.0.1', port: 0 }],
        origins: [{ name: 'web', servers: [{ address: '127.0.0.1', port: origin.port }] }],
        routes: [{ name: 'app', listener: 'public', origin: 'web', match: { hosts: ['app.test'] } }],
      }, csrf);
      assert.equal(put.status, 200, JSON.stringify(put.body));
    } });
    ({ page, goto, call } = env);
  });

  after(async () => {
    if (env) await env.stop();
  });

  test('create an access list with a user, attach it to a route, see 401', async () => {
    await goto('#/access_lists', 'Access lists');
    await page.getByRole('link', { name: 'New access list' }).click();
    await page.getByRole('heading', { level: 1, name: 'New access list' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('staff');
    await page.getByLabel('Realm').fill('Staff only');
    await page.getByLabel('User name, row 1').fill('ann');
    await page.getByLabel('Password, row 1').fill('s3cret-pw');
    await shot(page, 'access-01-new');
    await page.getByRole('button', { name: 'Create access list' }).click();
    await page.getByRole('heading', { level: 1, name: 'Access lists' }).waitFor();
    await page.locator('main tbody').filter({ hasText: 'ann' }).waitFor();
    await shot(page, 'access-02-list');

    await goto('#/routes/app', 'Route app');
    await page.getByLabel('Access list').selectOption('staff');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();

    // the password is never shown, anywhere the UI can ask
    const got = await page.evaluate(async () => (await fetch('/api/v1/access_lists/staff')).text());
    assert.doesNotMatch(got, /s3cret-pw|argon2|password_hash/);

    const st = await page.evaluate(async () => (await fetch('/api/v1/status')).json());
    const port = st.listeners.find((l) => l.name === 'public').port;
    let res = await request(port, '/x', { Host: 'app.test' });
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Basic realm="Staff only", charset="UTF-8"');
    const auth = 'Basic ' + Buffer.from('ann:s3cret-pw').toString('base64');
    res = await request(port, '/x', { Host: 'app.test', Authorization: auth });
    assert.equal(res.status, 200);
  });

  test('test a request from the routes page: 401, then 200 with the password', async () => {
    await goto('#/routes', 'Routes');
    const panel = page.locator('section.panel').filter({ hasText: 'Test a request' });
    await panel.getByLabel('Host').fill('app.test');
    await panel.getByLabel('Path').fill('/x');
    await panel.getByRole('button', { name: 'Test request' }).click();
    await panel.locator('dd[data-key="decision"]').filter({ hasText: '401 unauthorized' }).waitFor();
    assert.match(await panel.locator('dd[data-key="access list"]').textContent(), /staff/);
    await panel.getByLabel('User').fill('ann');
    await panel.getByLabel('Password').fill('s3cret-pw');
    await panel.getByRole('button', { name: 'Test request' }).click();
    await panel.locator('dd[data-key="decision"]').filter({ hasText: '200 allowed' }).waitFor();
    assert.equal(await panel.locator('dd[data-key="route"]').textContent(), 'app');
    await shot(page, 'access-03-explain');
  });

  test('forward auth: set on the route form, shown by the request test, cleared again', async (t) => {
    const spec = (await call('GET', '/openapi.json')).body;
    if (!spec.components.schemas.Route.properties.forward_auth) {
      t.skip('this gatehoused has no forward auth');
      return;
    }
    await goto('#/routes/app', 'Route app');
    await page.locator('summary', { hasText: 'Forward auth' }).click();
    await page.getByLabel('Ask an auth service first', { exact: false }).check();
    await page.getByLabel('Auth service (origin)').selectOption('web');
    await page.getByLabel('Path', { exact: true }).fill('/verify');
    await page.getByLabel('Headers copied from its 2xx').fill('Remote-User, Remote-Groups');
    await shot(page, 'access-04-forward-auth');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();
    let r = await call('GET', '/routes/app');
    assert.deepEqual(r.body.forward_auth, { origin: 'web', path: '/verify', copy_headers: ['Remote-User', 'Remote-Groups'] });

    const panel = page.locator('section.panel').filter({ hasText: 'Test a request' });
    await panel.getByLabel('Host').fill('app.test');
    await panel.getByLabel('Path').fill('/x');
    await panel.getByLabel('User').fill('ann');
    await panel.getByLabel('Password').fill('s3cret-pw');
    await panel.getByRole('button', { name: 'Test request' }).click();
    await panel.locator('dd[data-key="decision"]').filter({ hasText: 'forward_auth' }).waitFor();
    assert.match(await panel.locator('dd[data-key="forward auth"]').textContent(), /web \/verify, copies Remote-User, Remote-Groups/);

    await goto('#/routes/app', 'Route app');
    await page.locator('summary', { hasText: 'Forward auth' }).click();
    await page.getByLabel('Ask an auth service first', { exact: false }).uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();
    r = await call('GET', '/routes/app');
    assert.equal(r.body.forward_auth, null);
  });
});
