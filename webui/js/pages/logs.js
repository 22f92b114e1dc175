// logs.js: the Logs page (recent requests and the daemon's own log, from
// the daemon's in-memory rings, with filters and a live tail by
// Server-Sent Events) and the "recent requests" panel of a route.

import { api, seg } from '../api.js';
import { h, pageHead, errorBox, badge } from '../ui.js';

const MAX_ROWS = 500;

function query(params) {
  const q = Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return q ? '?' + q : '';
}

function statusBadge(s) {
  return badge(String(s || '—'), s >= 500 ? 'bad' : s >= 400 ? 'warn' : 'ok');
}

function accessRow(e) {
  return h('tr', { dataset: { seq: String(e.seq) } },
    h('td', { 'data-label': 'Time' }, (e.time || '').replace('T', ' ').replace('Z', '')),
    h('td', { 'data-label': 'Client' }, e.client || ''),
    h('td', { 'data-label': 'Request', class: 'wrap' }, `${e.method || ''} ${e.host || ''}${e.path || ''}`),
    h('td', { 'data-label': 'Status' }, statusBadge(e.status)),
    h('td', { 'data-label': 'Route' }, e.route ? h('a', { href: '#/routes/' + seg(e.route) }, e.route) : 'unmatched'),
    h('td', { 'data-label': 'Time (ms)' }, String(e.total_ms === undefined ? '' : e.total_ms)));
}

function accessTable(caption) {
  const tbody = h('tbody');
  const el = h('div', { class: 'table-wrap' }, h('table', { class: 'logs' },
    h('caption', { class: 'sr-only' }, caption),
    h('thead', null, h('tr', null, ['Time', 'Client', 'Request', 'Status', 'Route', 'Time (ms)'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody));
  return { el, tbody };
}

// Newest first; keeps at most MAX_ROWS rows.
function prepend(tbody, rows) {
  for (const r of rows) tbody.insertBefore(r, tbody.firstChild);
  while (tbody.children.length > MAX_ROWS) tbody.lastChild.remove();
}

// A live tail: EventSource on /logs/access/stream with the filters. The
// daemon answers in batches and EventSource reconnects with Last-Event-ID.
function tail(params, onEntry) {
  const es = new EventSource('/api/v1/logs/access/stream' + query(Object.assign({}, params, { after: params.after })));
  es.onmessage = (ev) => {
    try {
      onEntry(JSON.parse(ev.data));
    } catch {
      // a line that is not JSON is skipped
    }
  };
  return () => es.close();
}

export async function render(main, rest, ctx) {
  const which = rest[0] === 'daemon' ? 'daemon' : 'access';
  main.append(pageHead('Logs'),
    h('nav', { class: 'tabs', 'aria-label': 'Logs' },
      h('a', { href: '#/logs', 'aria-current': which === 'access' ? 'page' : null }, 'Requests'), ' ',
      h('a', { href: '#/logs/daemon', 'aria-current': which === 'daemon' ? 'page' : null }, 'Daemon')));
  if (!ctx.canWrite) {
    main.append(h('p', { class: 'intro' }, 'Logs name clients, paths and addresses: only admins see them.'));
    return null;
  }
  return which === 'daemon' ? renderDaemon(main) : renderAccess(main);
}

async function renderAccess(main) {
  main.append(h('p', { class: 'intro' }, 'The most recent requests (the daemon keeps the last 10,000 in memory), newest first.'));
  const routes = await api('GET', '/routes').catch(() => []);
  const route = h('select', { id: 'log-route', name: 'route' }, h('option', { value: '' }, '(any)'),
    (Array.isArray(routes) ? routes : []).map((r) => h('option', { value: r.name }, r.name)));
  const status = h('select', { id: 'log-status', name: 'status' }, h('option', { value: '' }, '(any)'),
    ['2xx', '3xx', '4xx', '5xx'].map((s) => h('option', { value: s }, s)));
  const client = h('input', { id: 'log-client', name: 'client', type: 'text', placeholder: '192.0.2.1', autocomplete: 'off' });
  const q = h('input', { id: 'log-q', name: 'q', type: 'search', placeholder: 'text anywhere', autocomplete: 'off' });
  const live = h('input', { id: 'log-live', type: 'checkbox', checked: true });
  const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
  const count = h('p', { class: 'help', id: 'log-count' });
  const t = accessTable('Recent requests');
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter requests' },
    h('label', { for: 'log-route' }, 'Route'), route,
    h('label', { for: 'log-status' }, 'Status'), status,
    h('label', { for: 'log-client' }, 'Client'), client,
    h('label', { for: 'log-q' }, 'Text'), q,
    h('span', { class: 'check' }, live, h('label', { for: 'log-live' }, 'Live')),
    h('button', { type: 'submit', class: 'secondary' }, 'Apply'));
  main.append(form, notice, count, t.el);

  let stop = null;
  const params = () => ({ route: route.value, status: status.value, client: client.value.trim(), q: q.value.trim() });
  async function load() {
    if (stop) stop();
    stop = null;
    notice.replaceChildren();
    let res;
    try {
      res = await api('GET', '/logs/access' + query(Object.assign(params(), { limit: MAX_ROWS })));
    } catch (err) {
      notice.replaceChildren(errorBox(err));
      return;
    }
    t.tbody.replaceChildren(...res.entries.map(accessRow));
    count.textContent = `${res.entries.length} shown.`;
    if (live.checked) {
      stop = tail(Object.assign(params(), { after: res.last }), (e) => {
        prepend(t.tbody, [accessRow(e)]);
        count.textContent = `${t.tbody.children.length} shown; live.`;
      });
    }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  for (const el of [route, status, live]) el.addEventListener('change', load);
  await load();
  return () => {
    if (stop) stop();
  };
}

async function renderDaemon(main) {
  main.append(h('p', { class: 'intro' }, "The daemon's own log: warnings, configuration events, listeners binding."));
  const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
  const tbody = h('tbody');
  main.append(notice, h('div', { class: 'table-wrap' }, h('table', { class: 'logs' },
    h('caption', { class: 'sr-only' }, 'Daemon log'),
    h('thead', null, h('tr', null, ['Time', 'Level', 'Message'].map((x) => h('th', { scope: 'col' }, x)))),
    tbody)));
  try {
    const res = await api('GET', '/logs/daemon?limit=' + MAX_ROWS);
    tbody.replaceChildren(...res.entries.map((e) => h('tr', null,
      h('td', { 'data-label': 'Time' }, e.time.replace('T', ' ').replace('Z', '')),
      h('td', { 'data-label': 'Level' }, badge(e.level, e.level === 'warn' || e.level === 'crit' ? 'bad' : 'info')),
      h('td', { 'data-label': 'Message', class: 'wrap' }, e.message))));
  } catch (err) {
    notice.replaceChildren(errorBox(err));
  }
  return null;
}

// The "recent requests" panel of a route's page: the last 20, live.
export function routePanel(name) {
  const t = accessTable(`Recent requests of ${name}`);
  const box = h('section', { class: 'recent', 'aria-label': 'Recent requests' },
    h('h2', null, 'Recent requests'), t.el,
    h('p', null, h('a', { href: '#/logs' }, 'All requests')));
  let stop = null;
  api('GET', '/logs/access' + query({ route: name, limit: 20 })).then((res) => {
    t.tbody.replaceChildren(...res.entries.map(accessRow));
    stop = tail({ route: name, after: res.last }, (e) => prepend(t.tbody, [accessRow(e)]));
  }).catch(() => box.remove());
  return { el: box, stop: () => stop && stop() };
}
