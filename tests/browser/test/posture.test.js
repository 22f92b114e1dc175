// posture.test.js: the web UI's reading of where a route's traffic is
// encrypted (webui/js/posture.js), from the configuration alone and from
// the API's /posture answer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routePosture, isLoopback } from '../../../webui/js/posture.js';

const L = new Map([
  ['plain', { name: 'plain', protocol: 'http' }],
  ['tls', { name: 'tls', protocol: 'https' }],
  ['pt', { name: 'pt', protocol: 'tls-passthrough' }],
]);
const O = new Map([
  ['local', { name: 'local', servers: [{ address: '127.0.0.1', port: 1 }, { address: '::1', port: 2 }] }],
  ['remote', { name: 'remote', servers: [{ address: '127.0.0.1', port: 1 }, { address: '192.0.2.7', port: 80 }] }],
  ['remote-tls', { name: 'remote-tls', servers: [{ address: '192.0.2.7', port: 443 }], tls: { enabled: true } }],
]);
const route = (listener, origin) => ({ name: 'r', listener, origin });

test('loopback addresses', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['192.0.2.7', '10.0.0.1', '::', '0.0.0.0', '2001:db8::1', '']) assert.ok(!isLoopback(a), a);
});

test('plain to servers on this host is local', () => {
  const p = routePosture(route('plain', 'local'), L, O);
  assert.equal(p.level, 'local');
  assert.equal(p.client, false);
  assert.equal(p.offHost, false);
});

test('one server off the host makes it plaintext off host, even behind https', () => {
  assert.equal(routePosture(route('plain', 'remote'), L, O).level, 'plaintext');
  const p = routePosture(route('tls', 'remote'), L, O);
  assert.equal(p.level, 'plaintext');
  assert.equal(p.client, true);
});

test('TLS to the origin or passthrough is encrypted', () => {
  assert.equal(routePosture(route('plain', 'remote-tls'), L, O).level, 'encrypted');
  const p = routePosture(route('pt', 'remote'), L, O);
  assert.equal(p.level, 'encrypted');
  assert.match(p.text, /passthrough/);
});

test("the API's /posture entry wins over the configuration", () => {
  const api = { route: 'r', client_to_proxy: 'encrypted', proxy_to_origin: 'plaintext', client_encrypted: true, origin_encrypted: false, cleartext_leaves_host: true, plaintext_servers_off_host: ['192.0.2.7:80'] };
  const p = routePosture(route('plain', 'local'), L, O, api);
  assert.equal(p.level, 'plaintext');
  assert.equal(p.client, true);
  assert.match(p.text, /192\.0\.2\.7:80/);
  const v = routePosture(route('plain', 'local'), L, O, { origin_encrypted: true, origin_verified: false });
  assert.equal(v.level, 'encrypted');
  assert.match(v.text, /not verified/);
});
