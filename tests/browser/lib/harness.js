// harness.js: what the browser tests run against: a real gatehoused on a
// temporary database, a real origin (a small node HTTP server), and Debian's
// chromium driven by playwright-core, with guards that record console
// errors and any request to an address other than the admin listener.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..');
export const REPO = path.resolve(ROOT, '..', '..');
// Screenshots go next to the daemon under test (the build dir, kept by CI),
// or to SCREENSHOTS, or to tests/browser/screenshots.
export const SHOTS = process.env.SCREENSHOTS
  || (process.env.GATEHOUSED ? path.join(path.dirname(path.resolve(process.env.GATEHOUSED)), 'browser-screenshots') : path.join(ROOT, 'screenshots'));

export function gatehousedPath() {
  const p = process.env.GATEHOUSED || path.resolve(ROOT, '..', '..', 'build', 'gatehoused');
  if (!fs.existsSync(p)) throw new Error(`gatehoused not found at ${p}: build it or set GATEHOUSED`);
  return p;
}

// Starts gatehoused; resolves {proc, tmp, base, password, log()} once the
// admin listener logs its address.
export async function startDaemon() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-webui-'));
  const webui = process.env.GATEHOUSE_WEBUI || path.join(REPO, 'webui');
  const args = ['--db', path.join(tmp, 'gatehouse.db'), '--kek', path.join(tmp, 'kek'), '--admin-listen', '127.0.0.1:0',
    '--webui-dir', webui, '--workers', '1', '--access-log', path.join(tmp, 'access.log')];
  const proc = spawn(gatehousedPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => proc.exitCode === null && proc.kill('SIGKILL')); // never outlive the tests
  let out = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gatehoused did not log its admin address in 15 s:\n' + out)), 15000);
    const onData = (d) => {
      out += d.toString();
      const m = out.match(/admin API listening on (http:\/\/[^\s/]+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatehoused exited (${code}):\n${out}`));
    });
  });
  proc.removeAllListeners('exit');
  const password = fs.readFileSync(path.join(tmp, 'admin-password'), 'utf8').trim();
  return {
    proc, tmp, base, password,
    log: () => out,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            proc.kill('SIGKILL');
            r();
          }, 12000);
          proc.on('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

// A real origin: answers every request with its method, path and Host.
export async function startOrigin() {
  let hits = 0;
  const srv = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      const body = `hello from the origin: ${req.method} ${req.url} host=${req.headers.host}\n`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  srv.unref();
  return { port: srv.address().port, hits: () => hits, stop: () => new Promise((r) => srv.close(r)) };
}

// One plain HTTP request from node (not the browser). -> {status, headers, body}
export function request(port, pathName, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

// One JSON POST from node. -> {status, headers, body}
export function postJson(port, pathName, obj) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(obj);
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

// A key and a self-signed certificate made by GnuTLS's certtool.
export function makeCertificate(dir, name, days) {
  const key = path.join(dir, `${name}.key`), cert = path.join(dir, `${name}.crt`), tmpl = path.join(dir, `${name}.tmpl`);
  fs.writeFileSync(tmpl, `cn = "${name}"\ndns_name = "${name}"\nexpiration_days = ${days}\ntls_www_server\nsigning_key\nencryption_key\n`);
  execFileSync('certtool', ['--generate-privkey', '--key-type=ecdsa', '--curve=secp256r1', '--outfile', key], { stdio: 'pipe' });
  execFileSync('certtool', ['--generate-self-signed', '--load-privkey', key, '--template', tmpl, '--outfile', cert], { stdio: 'pipe' });
  return { keyPem: fs.readFileSync(key, 'utf8'), certPem: fs.readFileSync(cert, 'utf8') };
}

// chromium with a fresh profile; guards record what the tests must not see.
export async function startBrowser(adminBase) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    colorScheme: 'light',
  });
  const admin = new URL(adminBase).origin;
  const guard = { consoleErrors: [], foreign: [], allowed: [] };
  context.on('request', (req) => {
    const u = new URL(req.url());
    if (u.origin !== admin) guard.foreign.push(req.url());
  });
  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text(), url = (msg.location() || {}).url || '';
      // an API answer the test itself provoked (a 422 it checks for)
      const i = guard.allowed.findIndex((a) => text.includes(`status of ${a.status}`) && url.includes(a.path));
      if (i >= 0) {
        guard.allowed.splice(i, 1);
        return;
      }
      guard.consoleErrors.push(`${text} (${url})`);
    });
    page.on('pageerror', (err) => guard.consoleErrors.push('page error: ' + err.message));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    guard,
    // The browser logs every 4xx answer as a console error: a test that
    // provokes one on purpose says so first.
    expectHttpError(status, pathPart) {
      guard.allowed.push({ status, path: pathPart });
    },
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page, name, fullPage = true) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage });
}

// The same page at 1280x800 and at 390x844 (a phone): NAME-1280.png, NAME-390.png.
export async function shotBoth(page, name) {
  const vp = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot(page, name + '-1280', false);
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, name + '-390', false);
  await page.setViewportSize(vp);
}

// fetch() from <page> (same origin, the session cookie), with the CSRF token
// <csrf> when given. -> {status, body}
export function apiCall(page, method, p, body, csrf) {
  return page.evaluate(async ([m, u, b, c]) => {
    const headers = { 'Content-Type': 'application/json' };
    if (c) headers['X-CSRF-Token'] = c;
    const r = await fetch('/api/v1' + u, { method: m, headers, credentials: 'same-origin', body: b === null ? undefined : JSON.stringify(b) });
    return { status: r.status, body: r.status === 204 ? null : await r.json() };
  }, [method, p, body === undefined ? null : body, csrf || null]);
}

// The preamble the browser tests share. Starts gatehoused (and an origin
// when <origin>), chromium and one page on the admin URL (default timeout
// <timeout> ms), then logs in by <login>:
//   'api'  through the API (the page's own fetch) the admin's password
//          becomes <password>; await <setup>({call, csrf, daemon, origin})
//          runs in that admin session (PUT /config and the like); the session
//          ends and the admin logs in through the form (the navigation shows);
//   'form' the first login through the form, which asks for a new password
//          (<password>), up to the dashboard;
//   'none' nothing more: the test logs in itself.
// -> {daemon, origin, browser, page, call(method, path, body, csrf),
//     goto(hash, heading), stop()}. On failure what was started is stopped.
export async function openAdmin({ password, origin: withOrigin = false, setup = null, login = 'api', timeout = 15000 } = {}) {
  const env = { daemon: null, origin: null, browser: null, page: null };
  env.stop = async () => {
    if (env.browser) await env.browser.close();
    if (env.origin) await env.origin.stop();
    if (env.daemon) await env.daemon.stop();
  };
  env.call = (method, p, body, csrf) => apiCall(env.page, method, p, body, csrf);
  env.goto = async (hash, heading) => {
    await env.page.evaluate((hh) => {
      location.hash = hh;
    }, hash);
    if (heading) await env.page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };
  try {
    env.daemon = await startDaemon();
    if (withOrigin) env.origin = await startOrigin();
    env.browser = await startBrowser(env.daemon.base);
    const page = env.page = await env.browser.context.newPage();
    page.setDefaultTimeout(timeout);
    if (login === 'none') return env;
    await page.goto(env.daemon.base + '/');
    const form = async (pw) => {
      await page.getByLabel('User name', { exact: true }).fill('admin');
      await page.getByLabel('Password', { exact: true }).fill(pw);
      await page.getByRole('button', { name: 'Log in' }).click();
    };
    if (login === 'form') {
      await form(env.daemon.password);
      await page.getByLabel('Current password', { exact: true }).fill(env.daemon.password);
      await page.getByLabel('New password', { exact: true }).fill(password);
      await page.getByLabel('Repeat the new password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      return env;
    }
    let s = await env.call('POST', '/session', { username: 'admin', password: env.daemon.password });
    if (s.status !== 200) throw new Error('first session: ' + JSON.stringify(s));
    const r = await env.call('PATCH', '/users/admin', { password, current_password: env.daemon.password }, s.body.csrf_token);
    if (r.status !== 200) throw new Error('password change: ' + JSON.stringify(r));
    s = await env.call('POST', '/session', { username: 'admin', password });
    if (s.status !== 200) throw new Error('session: ' + JSON.stringify(s));
    if (setup) await setup({ call: env.call, csrf: s.body.csrf_token, daemon: env.daemon, origin: env.origin });
    await env.call('DELETE', '/session', undefined, s.body.csrf_token);
    await page.reload();
    await form(password);
    await page.locator('#nav').waitFor();
    return env;
  } catch (e) {
    await env.stop();
    throw e;
  }
}
