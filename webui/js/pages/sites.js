// sites.js: sites first. A site is host names served from an origin over
// http, https or both. "New site" is one form: it works out which
// listeners, origin and certificate to create or reuse, shows that plan,
// and then makes everything, the certificate too (an "add" on
// /certificates/-), in one revision (one PATCH /config, a JSON Patch). A
// certificate from an ACME account is an "acme" item of that patch, its
// order held back (delay_s) and started (/renew) once the PATCH answered,
// so its challenge finds the listeners. The Sites view lists the routes that have
// host names, with their listeners, origin, TLS state (with the ACME order's
// status or the CA's problem), live request rate and errors, with search and
// paging.

import { api, seg, schemaProp, hasPath } from '../api.js';
import { h, toast, pageHead, table, badge, errorBox } from '../ui.js';
import { buildForm } from '../form.js';
import { loadRefs, routeListeners } from './resources.js';
import { statusBadge, problemText } from './acme.js';

const POLL_MS = 2000;
// The order waits this long unless the UI starts it sooner (it does, once
// the site's revision serves); a UI that dies in between still gets it.
const ACME_HOLD_S = 120;
const PAGE = 50;

// A name for the API from a host name: "*.a.test" -> "wildcard.a.test".
function baseName(host) {
  const s = String(host || 'site').toLowerCase().replace(/^\*\./, 'wildcard.').replace(/[^a-z0-9._-]+/g, '-');
  return s.replace(/^[^a-z0-9]+/, '').slice(0, 48) || 'site';
}

function unique(base, taken) {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

function parseServers(list, port) {
  return (list || []).map((a) => ({ address: a.replace(/^\[|\]$/g, ''), port }));
}

// What a site needs, worked out from the form values <v> and the current
// configuration: {steps: [text], cert: {...} | null, ops: JSON Patch}.
export function sitePlan(v, refs, routes) {
  const steps = [];
  const ops = [];
  const hosts = v.hosts || [];
  const base = baseName(hosts[0]);
  const addr = v.address || '0.0.0.0';
  const wantHttp = v.scheme !== 'https', wantHttps = v.scheme !== 'http';
  const lnames = new Set(refs.listeners.map((l) => l.name));
  const listeners = [];
  let cert = null;
  if (wantHttps) {
    if (v.cert_mode === 'existing') {
      cert = { name: v.cert_existing, existing: true };
      steps.push(`Use certificate ${v.cert_existing}`);
    } else if (String(v.cert_mode).startsWith('acme:')) {
      const name = unique(base, new Set(refs.certs.map((c) => c.name)));
      const account = v.cert_mode.slice(5);
      const challenge = v.acme_challenge || 'http-01';
      cert = { name, acme: true, account, challenge, names: hosts };
      // in the same PATCH too: its stand-in, the held order, the site
      ops.push({ op: 'add', path: '/certificates/-', value: { name,
        acme: { names: hosts, account, challenge, delay_s: ACME_HOLD_S } } });
      steps.push(`Request certificate ${name} from ACME account ${account} for ${hosts.join(', ')} (${challenge}: ` +
        (challenge === 'http-01' ? 'the CA connects to port 80 of these names' : 'the CA connects to port 443 of these names') +
        '; a self-signed stand-in serves until it is issued)');
    } else {
      const name = unique(base, new Set(refs.certs.map((c) => c.name)));
      cert = v.cert_mode === 'upload'
        ? { name, upload: true, certificate: v.cert_pem, private_key: v.key_pem }
        : { name, names: hosts };
      steps.push(v.cert_mode === 'upload' ? `Upload certificate ${name}` : `Create certificate ${name}: self-signed for ${hosts.join(', ')}`);
      // made in the same PATCH, before the listener that names it
      ops.push({ op: 'add', path: '/certificates/-', value: cert.upload
        ? { name, certificate: cert.certificate, private_key: cert.private_key }
        : { name, self_signed: { names: hosts } } });
    }
  }
  const listener = (proto, port) => {
    const found = port > 0 && refs.listeners.find((l) => (l.protocol || 'http') === proto && l.port === port && l.address === addr);
    if (found) {
      steps.push(`Use listener ${found.name} (${proto} on ${addr}:${port})` +
        (proto === 'https' ? `; the certificate is chosen by server name` : ''));
      listeners.push(found.name);
      return;
    }
    const name = unique(`${proto}-${port > 0 ? port : base}`, lnames);
    lnames.add(name);
    const l = { name, address: addr, port, protocol: proto };
    if (proto === 'https') l.default_certificate = cert.name;
    ops.push({ op: 'add', path: '/listeners/-', value: l });
    steps.push(`Create listener ${name}: ${proto} on ${addr}:${port}${port === 0 ? ' (a port the system chooses)' : ''}`);
    listeners.push(name);
  };
  if (wantHttp) listener('http', v.http_port);
  if (wantHttps) listener('https', v.https_port);
  const servers = parseServers(v.servers, v.origin_port);
  const key = (ss) => ss.map((s) => `${s.address}:${s.port}`).sort().join(' ');
  const same = refs.origins.find((o) => key(o.servers || []) === key(servers));
  let origin;
  if (same) {
    origin = same.name;
    steps.push(`Use origin ${origin} (${key(servers)})`);
  } else {
    origin = unique(base, new Set(refs.origins.map((o) => o.name)));
    ops.push({ op: 'add', path: '/origins/-', value: { name: origin, servers } });
    steps.push(`Create origin ${origin}: ${key(servers)}`);
  }
  const rname = unique(base, new Set(routes.map((r) => r.name)));
  const route = { name: rname, listeners, match: { hosts }, origin };
  if (wantHttp && wantHttps && v.redirect) route.redirect_https = true;
  ops.push({ op: 'add', path: '/routes/-', value: route });
  steps.push(`Create route ${rname}: ${hosts.join(', ')} on ${listeners.join(' and ')} to ${origin}` +
    (route.redirect_https ? ', plain http redirected to https' : ''));
  return { steps, cert, ops, route: rname };
}

// An error of the whole-document PATCH at the form field it concerns.
function siteField(path) {
  if (/\.match\.hosts/.test(path) || /^certificates\[\d+\]\.(self_signed|acme\.names)/.test(path)) return 'hosts';
  if (/^certificates\[\d+\]\.acme\.challenge/.test(path)) return 'acme_challenge';
  if (/^certificates\[\d+\]\.acme/.test(path)) return 'cert_mode';
  if (/^certificates\[\d+\]\.private_key/.test(path)) return 'key_pem';
  if (/^certificates\[\d+\]\.certificate/.test(path)) return 'cert_pem';
  if (/servers\[\d+\]\.address/.test(path)) return 'servers';
  if (/servers\[\d+\]\.port/.test(path)) return 'origin_port';
  return '';
}

const PORT = { type: 'integer', minimum: 0, maximum: 65535 };
const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^(\\*\\.)?(${LABEL}\\.)*${LABEL}\\.?$`, 'i');
const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^\[?[0-9a-f:.]*:[0-9a-f:.]*\]?$/i;

// The first of <list> that <ok> refuses, as a message; null when all pass.
const each = (ok, what) => (list) => {
  const bad = list.find((x) => !ok(x));
  return bad === undefined ? null : `"${bad}" is not ${what}`;
};

async function renderNew(main, ctx) {
  const [refs, routes, accounts] = await Promise.all([loadRefs(), api('GET', '/routes'),
    hasPath('/acme_accounts') ? api('GET', '/acme_accounts') : Promise.resolve([])]);
  const hostSch = schemaProp('Route', 'match.hosts');
  const addrSch = schemaProp('Server', 'address');
  const leafs = refs.certs.filter((c) => !c.kind || c.kind === 'leaf').map((c) => c.name);
  const tls = (v) => v.scheme !== 'http';
  const preview = h('section', { class: 'panel site-plan', 'aria-label': 'What will be created', hidden: true });
  const notice = h('div', { 'aria-live': 'polite' });
  const form = buildForm({
    label: 'New site',
    mode: 'new',
    submitLabel: 'Review',
    cancel: () => ctx.go('#/sites'),
    fields: [
      { key: 'hosts', label: 'Host names', type: 'list', required: true, placeholder: 'app.example, www.app.example',
        schema: hostSch, check: each((x) => HOST.test(x) && x.length <= 253, 'a host name'), help: 'The names clients ask for. Separate with commas or spaces.' },
      { key: 'servers', label: 'Origin addresses', type: 'list', required: true, placeholder: '127.0.0.1, 10.0.0.2',
        schema: addrSch ? { type: 'array', items: addrSch } : null, check: each((x) => IPV4.test(x) || IPV6.test(x), 'an IP address'),
        help: 'The servers that answer, by IP address.' },
      { key: 'origin_port', label: 'Origin port', type: 'number', required: true, placeholder: '8080', schema: { type: 'integer', minimum: 1, maximum: 65535 } },
      { key: 'scheme', label: 'Serve over', type: 'select', default: 'both',
        options: [{ value: 'both', label: 'HTTP and HTTPS' }, { value: 'https', label: 'HTTPS only' }, { value: 'http', label: 'HTTP only' }] },
      { key: 'redirect', label: 'Redirect http to https', type: 'checkbox', default: true, show: (v) => v.scheme === 'both' },
      { key: 'cert_mode', label: 'Certificate', type: 'select', default: 'self', show: tls,
        options: [{ value: 'self', label: 'Self-signed for these names' }, { value: 'upload', label: 'Upload one (PEM)' },
          ...(leafs.length ? [{ value: 'existing', label: 'An existing one' }] : []),
          ...accounts.map((a) => ({ value: 'acme:' + a.name, label: `Request from ACME account ${a.name}` }))] },
      { key: 'acme_challenge', label: 'ACME challenge', type: 'select', default: 'http-01',
        options: [{ value: 'http-01', label: 'http-01 (the CA connects to port 80)' }, { value: 'tls-alpn-01', label: 'tls-alpn-01 (the CA connects to port 443)' }],
        show: (v) => tls(v) && String(v.cert_mode).startsWith('acme:'),
        help: 'Wildcard names cannot be requested (they need DNS-01).' },
      { key: 'cert_existing', label: 'Existing certificate', type: 'select', empty: '(choose)', options: leafs, required: true,
        show: (v) => tls(v) && v.cert_mode === 'existing' },
      { key: 'cert_pem', label: 'Certificate chain (PEM)', type: 'textarea', file: true, accept: '.pem,.crt', required: true,
        show: (v) => tls(v) && v.cert_mode === 'upload' },
      { key: 'key_pem', label: 'Private key (PEM)', type: 'textarea', file: true, accept: '.pem,.key', required: true,
        show: (v) => tls(v) && v.cert_mode === 'upload' },
      { type: 'section', label: 'Listening on', fold: true },
      { key: 'address', label: 'Address', placeholder: '0.0.0.0', schema: schemaProp('Listener', 'address') },
      { key: 'http_port', label: 'HTTP port', type: 'number', placeholder: '80', schema: PORT, show: (v) => v.scheme !== 'https' },
      { key: 'https_port', label: 'HTTPS port', type: 'number', placeholder: '443', schema: PORT, show: tls },
    ],
    onSubmit: async (f) => {
      const v = values(f);
      plan = sitePlan(v, refs, routes);
      preview.hidden = false;
      preview.replaceChildren(
        h('h2', null, 'This will be done'),
        h('ol', { class: 'plan' }, plan.steps.map((s) => h('li', null, s))),
        h('p', { class: 'muted' }, 'Listeners, origin and route change together, as one revision.'),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => create(f) }, 'Create site')));
      preview.querySelector('button').focus();
    },
  });
  let plan = null;
  form.el.addEventListener('input', () => {
    preview.hidden = true;
    plan = null;
  });
  function values(f) {
    const v = f.current();
    if (v.http_port === undefined) v.http_port = 80;
    if (v.https_port === undefined) v.https_port = 443;
    return v;
  }
  async function create(f) {
    if (!plan) return;
    const btn = preview.querySelector('button');
    btn.disabled = true;
    notice.replaceChildren();
    try {
      const c = plan.cert;
      const res = await api('PATCH', '/config', plan.ops, { full: true });
      const rev = res.headers.get('X-Config-Revision');
      // The site serves: the ACME order may start (its challenge needs
      // the listeners just made).
      if (c && c.acme) await api('POST', '/certificates/' + seg(c.name) + '/renew');
      toast(`Created site ${plan.route}` + (rev ? ` — revision ${rev} is serving.` : '.') +
        (c && c.acme ? ` Certificate ${c.name} requested from ACME account ${c.account}.` : ''));
      ctx.go('#/sites');
    } catch (err) {
      btn.disabled = false;
      if (err.fieldErrors && err.fieldErrors.length) {
        form.showError({ message: err.message, fieldErrors: err.fieldErrors.map((e) => ({ field: siteField(e.field) || e.field, message: e.message })) });
      } else {
        notice.replaceChildren(errorBox(err));
      }
    }
  }
  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/sites' }, 'Sites'), ' / new'),
    pageHead('New site'),
    h('p', { class: 'intro' }, 'Host names, the servers behind them, and how clients reach them. Listeners, the origin and the certificate are made or reused for you.'),
    notice, form.el, preview);
  main.querySelector('input').focus();
  return null;
}

// A certificate's name, linked, with its ACME order's status and, when it
// failed, the CA's problem.
function certCell(name, certs) {
  const c = certs.get(name);
  const a = c && c.acme;
  return h('span', { class: 'site-cert' }, h('a', { href: '#/certificates/' + seg(name) }, name),
    a ? [' ', statusBadge(a.status, 'ACME ' + a.status)] : null,
    a && a.status === 'failed' && a.last_error ? h('span', { class: 'site-cert-problem' }, ' ', problemText(a.last_error)) : null);
}

function tlsState(r, byName, certs) {
  const ls = routeListeners(r).map((n) => byName.get(n) || { protocol: 'http' });
  const https = ls.filter((l) => l.protocol === 'https');
  const http = ls.some((l) => (l.protocol || 'http') === 'http');
  if (!https.length) return badge('HTTP only', 'warn');
  const names = [...new Set(https.map((l) => l.default_certificate).filter(Boolean))];
  const label = http ? (r.redirect_https ? 'HTTPS, http redirects' : 'HTTPS and HTTP') : 'HTTPS';
  return h('span', null, badge(label, http && !r.redirect_https ? 'info' : 'ok'), names.length ? ' ' : null,
    names.map((c, i) => [i ? ', ' : '', certCell(c, certs)]));
}

async function renderList(main, ctx) {
  const [refs, routes] = await Promise.all([loadRefs(), api('GET', '/routes')]);
  const sites = routes.filter((r) => r.match && r.match.hosts && r.match.hosts.length);
  const byName = refs.listenersByName;
  let certs = new Map(refs.certs.map((c) => [c.name, c]));
  const search = h('input', { type: 'search', class: 'list-search', placeholder: 'Search by host, route or origin', 'aria-label': 'Search sites', autocomplete: 'off' });
  const status = h('span', { class: 'list-status muted', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'secondary small' }, 'Previous');
  const next = h('button', { type: 'button', class: 'secondary small' }, 'Next');
  const body = h('div');
  let page = 0, rates = new Map(), last = null, stopped = false, timer = null;
  const cols = [
    { label: 'Host names', cell: (r) => r.match.hosts.join(', ') },
    { label: 'Route', cell: (r) => h('a', { href: '#/routes/' + seg(r.name) }, r.name) },
    { label: 'Listeners', cell: (r) => routeListeners(r).map((n, i) => [i ? ', ' : '', h('a', { href: '#/listeners/' + seg(n) }, n)]) },
    { label: 'Origin', cell: (r) => h('a', { href: '#/origins/' + seg(r.origin) }, r.origin) },
    { label: 'TLS', cell: (r) => tlsState(r, byName, certs) },
    { label: 'Requests / s', class: 'num', cell: (r) => (rates.get(r.id) || {}).rps || '0' },
    { label: 'Errors', class: 'num', cell: (r) => String((rates.get(r.id) || {}).errors || 0) },
  ];
  function show() {
    const q = search.value.trim().toLowerCase();
    const hit = sites.filter((r) => !q || [r.name, r.origin, ...r.match.hosts].some((x) => String(x).toLowerCase().includes(q)));
    if (page * PAGE >= hit.length) page = Math.max(0, Math.ceil(hit.length / PAGE) - 1);
    const items = hit.slice(page * PAGE, page * PAGE + PAGE);
    body.replaceChildren(table('Sites', cols, items, q ? `No site matches “${search.value.trim()}”.` : 'No sites yet.'));
    status.textContent = hit.length ? `${page * PAGE + 1}–${page * PAGE + items.length} of ${hit.length}` : '';
    prev.disabled = page === 0;
    next.disabled = (page + 1) * PAGE >= hit.length;
  }
  async function tick() {
    timer = null;
    try {
      // An ACME order in flight: follow it until it is valid or failed.
      const busy = [...certs.values()].some((c) => c.acme && (c.acme.status === 'pending' || c.acme.status === 'renewing'));
      const [stats, fresh] = await Promise.all([api('GET', '/stats'), busy ? api('GET', '/certificates') : Promise.resolve(null)]);
      if (stopped) return;
      if (fresh) certs = new Map(fresh.map((c) => [c.name, c]));
      const now = performance.now();
      const m = new Map();
      for (const s of stats.routes || []) {
        const p = last && last.rs.get(s.id);
        const rps = p ? Math.max(0, (s.requests - p.requests) / ((now - last.t) / 1000)) : 0;
        m.set(s.id, { rps: rps >= 10 ? rps.toFixed(0) : rps.toFixed(1), errors: s.errors || 0 });
      }
      last = { t: now, rs: new Map((stats.routes || []).map((s) => [s.id, s])) };
      rates = m;
      if (!document.activeElement || !body.contains(document.activeElement)) show();
    } catch (err) {
      if (err.status === 401) return;
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  }
  search.addEventListener('input', () => {
    page = 0;
    show();
  });
  prev.addEventListener('click', () => {
    page--;
    show();
  });
  next.addEventListener('click', () => {
    page++;
    show();
  });
  main.append(
    pageHead('Sites', ctx.canWrite ? h('a', { class: 'button primary', href: '#/sites/new' }, 'New site') : null),
    h('p', { class: 'intro' }, 'Host names and where they go: each one a route with its listeners, origin and TLS. Rates are live.'),
    h('div', { class: 'list-tools' }, search, ' ', status), body, h('div', { class: 'pager' }, prev, next));
  show();
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export async function render(main, rest, ctx) {
  if (rest[0] === 'new') return renderNew(main, ctx);
  return renderList(main, ctx);
}

