// dashboard.js: live traffic (polls /stats every 2 s), the History panel
// (per minute for 24 hours, kept by the daemon: ../history.js), server
// health, listener state, certificates that failed ACME or expire soon
// (cert_attention.js) and routes that send plaintext off the host.

import { api } from '../api.js';
import { h, clear, pageHead, table, badge, fmtNum, fmtBytes, fmtDuration, fmtTime } from '../ui.js';
import { LineChart } from '../chart.js';
import { historyPanel } from '../history.js';
import { loadRefs } from './resources.js';
import { POSTURE_LABEL, POSTURE_KIND } from '../posture.js';
import { renderCertAttention } from './cert_attention.js';

const POLL_MS = 2000;

function sum(arr, f) {
  return arr.reduce((a, x) => a + (f(x) || 0), 0);
}

export async function render(main, rest, ctx) {
  const [refs, routes] = await Promise.all([loadRefs(), api('GET', '/routes')]);
  const kpi = {};
  const card = (id, label) => {
    kpi[id] = h('div', { class: 'kpi-value', id: 'kpi-' + id }, '—');
    return h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, label), kpi[id]);
  };
  const statusLine = h('p', { class: 'status-line', 'aria-live': 'off' });
  const byRoute = new LineChart({ label: 'Requests per second by route', unit: '/s', xlabel: 'last 2 minutes' });
  const byOrigin = new LineChart({ label: 'Requests per second by origin', unit: '/s', xlabel: 'last 2 minutes' });
  const routeTable = h('div');
  const serverTable = h('div');
  const listenerTable = h('div');
  const certBox = h('div');
  const plainBox = h('div');
  const pollError = h('div', { role: 'alert' });
  const hist = historyPanel(); // per minute, kept by the daemon

  // a new appliance: say where to start
  const start = routes.length ? null : h('section', { class: 'panel start', 'aria-label': 'Get started' },
    h('h2', null, 'No sites yet'),
    h('p', null, 'Publish one in a single form: host names, the servers behind them, http and https. ',
      ctx.canWrite ? h('a', { class: 'button primary', href: '#/sites/new' }, 'New site') : 'An admin can add one.'));
  main.append(
    pageHead('Dashboard'),
    start || '', // (append() would write "null")
    statusLine,
    pollError,
    h('section', { class: 'kpis', 'aria-label': 'Totals' },
      card('rps', 'Requests / s'), card('err', '5xx share'), card('conns', 'Open connections'), card('total', 'Requests (total)')),
    hist.el || '',
    h('section', { class: 'charts' }, byRoute.el, byOrigin.el),
    h('section', { class: 'panel' }, h('h2', null, 'Traffic per route'), routeTable),
    h('section', { class: 'panel' }, h('h2', null, 'Server health'), serverTable),
    h('div', { class: 'two' },
      h('section', { class: 'panel', id: 'expiring' }, h('h2', null, 'Certificates needing attention'), certBox),
      h('section', { class: 'panel', id: 'plaintext' }, h('h2', null, 'Routes sending plaintext off the host'), plainBox)),
    h('section', { class: 'panel' }, h('h2', null, 'Listeners'), listenerTable));

  renderCertAttention(certBox, refs.certs);
  renderPlain(plainBox, routes, refs);

  let prev = null, timer = null, stopped = false;
  async function tick() {
    timer = null;
    try {
      const [stats, status] = await Promise.all([api('GET', '/stats'), api('GET', '/status')]);
      if (stopped) return;
      pollError.replaceChildren();
      update(stats, status);
    } catch (err) {
      if (stopped || err.status === 401) return;
      pollError.replaceChildren(h('p', { class: 'alert error' }, 'Live data unavailable: ' + err.message));
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  }

  function update(stats, status) {
    const now = performance.now();
    const g = stats.global || {};
    const rs = stats.routes || [], os = stats.origins || [];
    const lstats = new Map((stats.listeners || []).map((l) => [l.id, l]));
    statusLine.replaceChildren(
      `Version ${status.version} · up ${fmtDuration(status.uptime_s)} · serving revision ${status.serving_revision} `,
      status.in_sync === false ? badge('applying a change', 'warn') : badge('in sync', 'ok'));
    kpi.conns.textContent = String(Math.max(0, (g.conn_accepted || 0) - (g.conn_closed || 0)));
    kpi.total.textContent = String(g.requests || 0);
    const rates = { route: {}, origin: {} };
    if (prev) {
      const dt = (now - prev.t) / 1000;
      const rate = (cur, old) => Math.max(0, ((cur || 0) - (old || 0)) / dt);
      kpi.rps.textContent = fmtNum(rate(g.requests, prev.g.requests));
      const reqs = sum(rs, (r) => r.requests) - sum(prev.rs, (r) => r.requests);
      const errs = sum(rs, (r) => r.responses && r.responses['5xx']) - sum(prev.rs, (r) => r.responses && r.responses['5xx']);
      kpi.err.textContent = reqs > 0 ? fmtNum((100 * Math.max(0, errs)) / reqs) + ' %' : '0 %';
      const old = (arr, id) => arr.find((x) => x.id === id) || {};
      for (const r of rs) rates.route[r.name || '#' + r.id] = rate(r.requests, old(prev.rs, r.id).requests);
      rates.unmatched = {};
      for (const l of stats.listeners || []) rates.unmatched[l.id] = rate(l.unmatched, (prev.ls.get(l.id) || {}).unmatched);
      for (const o of os) rates.origin[o.name || '#' + o.id] = rate(o.requests, old(prev.os, o.id).requests);
      byRoute.push(rates.route);
      byOrigin.push(rates.origin);
    }
    prev = { t: now, g, rs, os, ls: lstats };
    const posture = new Map(routes.map((r) => [r.id, refs.posture(r)]));
    // requests no route took: counted per listener, a row for each listener
    // that had any (http, https: answered 404; L4: connections closed)
    const unmatched = (stats.listeners || []).filter((l) => l.unmatched > 0).map((l) => {
      const web = ['http', 'https'].includes((refs.listenersByName.get(l.name) || {}).protocol || 'http');
      return { unmatched: true, id: l.id, listener: l.name || '#' + l.id, requests: l.unmatched, responses: web ? { '4xx': l.unmatched } : {} };
    });
    routeTable.replaceChildren(table('Traffic per route', [
      { label: 'Route', cell: (r) => (r.unmatched
        ? h('span', null, h('em', { title: 'requests no route matched (http: answered 404)' }, 'unmatched'), ' on ', r.listener)
        : h('a', { href: '#/routes/' + encodeURIComponent(r.name) }, r.name)) },
      { label: 'Req/s', class: 'num', cell: (r) => fmtNum(r.unmatched ? (rates.unmatched || {})[r.id] || 0 : rates.route[r.name] || 0) },
      { label: 'Requests', class: 'num', cell: (r) => String(r.requests || 0) },
      { label: '2xx', class: 'num', cell: (r) => String((r.responses || {})['2xx'] || 0) },
      { label: '4xx', class: 'num', cell: (r) => String((r.responses || {})['4xx'] || 0) },
      { label: '5xx', class: 'num', cell: (r) => String((r.responses || {})['5xx'] || 0) },
      { label: 'In / out', class: 'num', cell: (r) => `${fmtBytes(r.bytes_in || 0)} / ${fmtBytes(r.bytes_out || 0)}` },
      { label: 'To origin', cell: (r) => {
        const p = r.unmatched ? null : posture.get(r.id);
        return p ? badge(POSTURE_LABEL[p.level], POSTURE_KIND[p.level]) : '—';
      } },
    ], [...rs, ...unmatched], 'No traffic yet.'));
    serverTable.replaceChildren(serverHealth(stats));
    listenerTable.replaceChildren(table('Listeners', [
      { label: 'Listener', cell: (l) => l.name },
      { label: 'Address', cell: (l) => (String(l.address).includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`) },
      { label: 'State', cell: (l) => (l.state === 'error' || l.bound === false ? h('span', null, badge('error', 'bad'), ' ', l.error || '') : badge(l.state || 'bound', 'ok')) },
      { label: 'Open', class: 'num', cell: (l) => String((lstats.get(l.id) || {}).active || 0) },
      // "requests" of a listener counts connections; the answers by status
      // class count its HTTP requests, routed or not
      { label: 'Connections', class: 'num', cell: (l) => String((lstats.get(l.id) || {}).requests || 0) },
      { label: 'Requests', class: 'num', cell: (l) => String(Object.values((lstats.get(l.id) || {}).responses || {}).reduce((a, x) => a + x, 0)) },
      { label: '4xx', class: 'num', cell: (l) => String(((lstats.get(l.id) || {}).responses || {})['4xx'] || 0) },
      { label: 'Unmatched', class: 'num', cell: (l) => String((lstats.get(l.id) || {}).unmatched || 0) },
    ], status.listeners || [], 'No listeners: add one on the Listeners page.'));
  }

  tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    byRoute.destroy();
    byOrigin.destroy();
    hist.stop();
  };
}

// The "Server health" table: every configured server from stats.health
// (active check state) joined by id with its traffic counters in
// stats.servers; a daemon without stats.health shows the servers that had
// traffic, judged by their failed attempts.
function serverHealth(stats) {
  const traffic = new Map((stats.servers || []).map((s) => [s.id, s]));
  const num = (k) => (s) => String((traffic.get(s.id) || {})[k] || 0);
  if (!Array.isArray(stats.health)) {
    return table('Server health', [
      { label: 'Server', cell: (s) => s.name || '#' + s.id },
      { label: 'Origin', cell: (s) => s.origin || '—' },
      { label: 'Health', cell: (s) => passiveHealth(s) },
      { label: 'Requests', class: 'num', cell: (s) => String(s.requests || 0) },
      { label: 'Errors', class: 'num', cell: (s) => String(s.errors || 0) },
      { label: 'Active', class: 'num', cell: (s) => String(s.active || 0) },
    ], stats.servers || [], 'No server has had traffic yet.');
  }
  const now = Date.now() / 1000;
  const live = new Map((stats.balance || []).map((s) => [s.id, s]));
  const liveCols = stats.balance ? [
    { label: 'State', cell: (s) => stateControl(s, live.get(s.id)) },
    { label: 'Weight', class: 'num', cell: (s) => String((live.get(s.id) || {}).weight || '—') },
    { label: 'In flight', class: 'num', cell: (s) => String((live.get(s.id) || {}).in_flight || 0) },
    { label: 'Latency', class: 'num', cell: (s) => { const l = live.get(s.id); return l && l.latency_ewma_us ? (l.latency_ewma_us / 1000).toFixed(1) + ' ms' : '—'; } },
  ] : [];
  return table('Server health', [
    { label: 'Server', cell: (s) => s.server || (traffic.get(s.id) || {}).name || '#' + s.id },
    { label: 'Origin', cell: (s) => (s.origin ? h('a', { href: '#/origins/' + encodeURIComponent(s.origin) }, s.origin) : '—') },
    { label: 'Health', cell: (s) => checkState(s, traffic.get(s.id)) },
    { label: 'Since', cell: (s) => (s.state !== 'unchecked' && s.changed_at > 0
      ? h('span', { title: fmtTime(s.changed_at) }, fmtDuration(Math.max(0, now - s.changed_at)))
      : '—') },
    { label: 'Checks', class: 'num', cell: (s) => (s.state === 'unchecked' ? '—' : String(s.checks || 0)) },
    { label: 'Failed checks', class: 'num', cell: (s) => (s.state === 'unchecked' ? '—' : String(s.failures || 0)) },
    { label: 'Requests', class: 'num', cell: num('requests') },
    { label: 'Errors', class: 'num', cell: num('errors') },
    { label: 'Active', class: 'num', cell: num('active') },
    ...liveCols,
  ], stats.health, 'No servers: add an origin on the Origins page.');
}

// A server's configured state, changeable in place (PATCH
// /origins/{o}/servers/{id}: a revision like any change), and a badge
// while passive health has it ejected.
function stateControl(s, l) {
  if (!l) return '—';
  const sel = h('select', { 'aria-label': `State of ${l.server}`, class: 'small' },
    ['active', 'drain', 'disabled'].map((v) => h('option', { value: v }, v)));
  sel.value = l.state;
  sel.onchange = async () => {
    sel.disabled = true;
    try {
      await api('PATCH', `/origins/${encodeURIComponent(l.origin)}/servers/${l.id}`, { state: sel.value });
      l.state = sel.value;
    } catch (err) {
      sel.value = l.state;
    } finally {
      sel.disabled = false;
    }
  };
  return h('span', null, sel, l.ejected_ms > 0 ? [' ', badge('ejected', 'bad')] : null);
}

// An actively checked server's state; an unchecked one is judged by its
// traffic. A down server shows why.
function checkState(s, traffic) {
  if (s.state === 'up') return badge('up', 'ok');
  if (s.state === 'down') {
    return h('span', { class: 'health-down' }, badge('down', 'bad'),
      s.last_error ? h('span', { class: 'last-error' }, ' ' + s.last_error) : null);
  }
  const t = traffic && traffic.requests ? ' · ' + (passiveFailing(traffic) ? 'failing' : 'answering') : '';
  return h('span', { title: 'No health check on this origin' }, badge('unchecked', 'info'), t);
}

function passiveFailing(s) {
  return (s.errors || 0) * 2 > s.requests;
}

function passiveHealth(s) {
  const st = s.health || s.state;
  if (st === 'up' || st === 'healthy') return badge(st, 'ok');
  if (st === 'down' || st === 'unhealthy') return badge(st, 'bad');
  if (st) return badge(st, 'info');
  // no active checks: judge by the share of failed attempts
  if (!s.requests) return badge('no traffic', 'info');
  return passiveFailing(s) ? badge('failing', 'bad') : badge('answering', 'ok');
}

// Certificate times may be Unix seconds or ISO 8601 strings.
export function certTime(v) {
  if (typeof v === 'number') return v;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t / 1000 : NaN;
}

function renderPlain(box, routes, refs) {
  const bad = routes.map((r) => ({ r, p: refs.posture(r) })).filter((x) => x.p.level === 'plaintext');
  box.replaceChildren(table('Routes sending plaintext off the host', [
    { label: 'Route', cell: (x) => h('a', { href: '#/routes/' + encodeURIComponent(x.r.name) }, x.r.name) },
    { label: 'Origin', cell: (x) => h('a', { href: '#/origins/' + encodeURIComponent(x.r.origin) }, x.r.origin) },
    { label: 'Servers', cell: (x) => ((refs.originsByName.get(x.r.origin) || {}).servers || []).map((s) => `${s.address}:${s.port}`).join(', ') },
  ], bad, routes.length ? 'None: traffic to origins off this host is encrypted.' : 'No routes yet: no traffic goes to any origin.'));
}
