// compress.test.js: a route's compression turned on from its page: a bad
// content type gets its field error next to the field, a good one is
// saved and a request made by the test comes back gzip; turned off again
// from the same form. The codings offered, gzip's level and brotli's
// quality are set there too: a level past its bound gets its field error,
// and with only gzip offered a client that prefers br gets gzip.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import http from 'node:http';
import { openAdmin, shot } from '../lib/harness.js';

// A GET whose body is kept as bytes. -> {status, headers, body: Buffer}
function getRaw(port, pathName, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, headers, agent: false }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const PASSWORD = 'compress-test-password-9';

describe('compression in the web UI', () => {
  let env, page, goto;
  const call = (method, p, body) => env.call(method, p, body);

  before(async () => {
    env = await openAdmin({ password: PASSWORD, origin: true, setup: async ({ call: c, csrf, origin }) => {
      const put = await c('PUT', '/config', {
        listeners: [{ name: 'public', address: '127.0.0.1', port: 0 }],
        origins: [{ name: 'web', servers: [{ address: '127.0.0.1', port: origin.port }] }],
        routes: [{ name: 'app', listener: 'public', origin: 'web', match: { hosts: ['app.test'] } }],
      }, csrf);
      assert.equal(put.status, 200, JSON.stringify(put.body));
    } });
    ({ page, goto } = env);
  });

  after(async () => {
    if (env) await env.stop();
  });

  test('turn compression on from the route page: field error, then gzip', async (t) => {
    const spec = await page.evaluate(async () => (await fetch('/api/v1/openapi.json')).json());
    if (!spec.components.schemas.Route.properties.compress) {
      t.skip('this gatehoused has no compression');
      return;
    }
    await goto('#/routes/app', 'Route app');
    await page.locator('summary').filter({ hasText: 'Compression' }).click();
    await page.getByLabel('Compress responses', { exact: false }).check();
    await page.getByLabel('Content types', { exact: true }).fill('text, application/json');
    await page.getByLabel('Smallest response compressed (bytes)', { exact: true }).fill('10');
    env.browser.expectHttpError(422, '/api/v1/routes');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const err = page.locator('[data-field="compress.types"] .field-error');
    await err.waitFor();
    assert.match(await err.textContent(), /media type|expected form/);
    assert.equal(await page.getByLabel('Content types', { exact: true }).getAttribute('aria-invalid'), 'true');
    await shot(page, 'compress-01-field-error');

    await page.getByLabel('Content types', { exact: true }).fill('text/*, application/json');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();
    const got = await call('GET', '/routes/app');
    assert.deepEqual(got.body.compress, { types: ['text/*', 'application/json'], min_bytes: 10, codings: [], gzip_level: 5, br_level: 3 });

    const st = await call('GET', '/status');
    const port = st.body.listeners.find((l) => l.name === 'public').port;
    const res = await getRaw(port, '/x', { Host: 'app.test', 'Accept-Encoding': 'gzip' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers.vary, 'Accept-Encoding');
    assert.match(zlib.gunzipSync(res.body).toString(), /^hello from the origin: GET \/x/);

    // the codings offered and the levels, from the same form
    await goto('#/routes/app', 'Route app');
    await page.locator('summary').filter({ hasText: 'Compression' }).click();
    await page.getByLabel('Codings offered', { exact: true }).selectOption(['gzip']);
    await page.getByLabel('gzip level (1 fastest to 9 smallest)', { exact: true }).fill('10');
    await page.getByLabel('Brotli quality (0 fastest to 11 smallest)', { exact: true }).fill('11');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const lerr = page.locator('[data-field="compress.gzip_level"] .field-error');
    await lerr.waitFor();
    assert.match(await lerr.textContent(), /9/);
    await shot(page, 'compress-02-level-error');
    await page.getByLabel('gzip level (1 fastest to 9 smallest)', { exact: true }).fill('9');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();
    const lv = await call('GET', '/routes/app');
    assert.deepEqual(lv.body.compress, { types: ['text/*', 'application/json'], min_bytes: 10, codings: ['gzip'], gzip_level: 9, br_level: 11 });
    const onlyGzip = await getRaw(port, '/x', { Host: 'app.test', 'Accept-Encoding': 'br, gzip;q=0.5' });
    assert.equal(onlyGzip.headers['content-encoding'], 'gzip');
    assert.match(zlib.gunzipSync(onlyGzip.body).toString(), /^hello from the origin: GET \/x/);
    const brOnly = await getRaw(port, '/x', { Host: 'app.test', 'Accept-Encoding': 'br' });
    assert.equal(brOnly.headers['content-encoding'], undefined);

    // and off again from the same form
    await goto('#/routes/app', 'Route app');
    await page.locator('summary').filter({ hasText: 'Compression' }).click();
    await page.getByLabel('Compress responses', { exact: false }).uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Routes' }).waitFor();
    assert.equal((await call('GET', '/routes/app')).body.compress, null);
    const plain = await getRaw(port, '/x', { Host: 'app.test', 'Accept-Encoding': 'gzip' });
    assert.equal(plain.headers['content-encoding'], undefined);
  });
});
